import { Command, Option } from "commander";
import {
  RegistryService,
  RotateSigningKeyResponseSchema,
} from "../../../gen/gatehouse/v1/registry_pb.js";
import { VerifyService } from "../../../gen/gatehouse/v1/verify_pb.js";
import { SIGNING_ALGS } from "../../config/index.js";
import { printJson, printMessage } from "../output.js";
import { type ConnectionFlags, withClient, withConnectionOptions } from "./connection.js";

interface RotateFlags extends ConnectionFlags {
  readonly alg?: string;
}

/** `gatehouse keys`: the token-signing keys. */
export function keysCommand(): Command {
  return new Command("keys")
    .description("token-signing keys: rotate (admin certificate), list")
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
 * The published keys (kid, alg, key type) and the algorithms the issuer signs with. When a
 * key activates or retires is not part of the contract's JWK, so it is not shown here:
 * `keys rotate` prints the activation time of the key it adds.
 */
function listCommand(): Command {
  const list = new Command("list").description("list the published signing keys");
  return withConnectionOptions(list, "verifier").action(async (flags: ConnectionFlags) => {
    const [jwks, metadata] = await withClient(VerifyService, flags, "verifier", (verify) =>
      Promise.all([verify.getJwks({}), verify.getIssuerMetadata({})]),
    );
    printJson({
      keys: jwks.keys.map((key) => ({ kid: key.kid, alg: key.alg, kty: key.kty, crv: key.crv })),
      tokenSigningAlgValuesSupported: metadata.tokenSigningAlgValuesSupported,
      cacheMaxAgeSeconds: jwks.cacheMaxAgeSeconds,
    });
  });
}
