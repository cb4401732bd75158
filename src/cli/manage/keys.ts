import { Command, Option } from "commander";
import {
  ListSigningKeysResponseSchema,
  RegistryService,
  RotateSigningKeyResponseSchema,
} from "../../../gen/gatehouse/v1/registry_pb.js";
import { SIGNING_ALGS } from "../../config/index.js";
import { printMessage } from "../output.js";
import { type ConnectionFlags, withClient, withConnectionOptions } from "./connection.js";
import { wholeNumber } from "./flags.js";

interface RotateFlags extends ConnectionFlags {
  readonly alg?: string;
}

interface ListFlags extends ConnectionFlags {
  readonly pageSize?: number;
  readonly pageToken?: string;
}

/** `gatehouse keys`: the token-signing keys. */
export function keysCommand(): Command {
  return new Command("keys")
    .description("token-signing keys, with the admin certificate: rotate, list")
    .addCommand(rotateCommand())
    .addCommand(listCommand());
}

function rotateCommand(): Command {
  const rotate = new Command("rotate")
    .description(
      "generate a new signing key: published now, signing after the publication delay; " +
        "the old key stays published until every token it signed has expired",
    )
    .addOption(
      new Option("--alg <alg>", "algorithm of the new key (default: the server's)").choices(
        SIGNING_ALGS,
      ),
    );
  return withConnectionOptions(rotate, "admin").action(async (flags: RotateFlags) => {
    const response = await withClient(RegistryService, flags, "admin", (registry) =>
      registry.rotateSigningKey({ alg: flags.alg ?? "" }),
    );
    printMessage(RotateSigningKeyResponseSchema, response);
  });
}

/**
 * The signing keys, newest first, a page at a time, with their state and schedule (proto
 * JSON: times are RFC 3339 strings). The public JWK Set is `gatehouse jwks`.
 */
function listCommand(): Command {
  const list = new Command("list")
    .description(
      "list the signing keys, a page at a time: state (pending, signing, retiring, " +
        "retired), when each was created, starts signing and leaves the JWKS",
    )
    .option("--page-size <n>", "keys per page, up to 500", wholeNumber)
    .option("--page-token <token>", "nextPageToken of the previous page");
  return withConnectionOptions(list, "admin").action(async (flags: ListFlags) => {
    const response = await withClient(RegistryService, flags, "admin", (registry) =>
      registry.listSigningKeys({ pageSize: flags.pageSize ?? 0, pageToken: flags.pageToken ?? "" }),
    );
    printMessage(ListSigningKeysResponseSchema, response);
  });
}
