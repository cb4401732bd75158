import { createPublicKey } from "node:crypto";
import { readFile } from "node:fs/promises";
import { Command, Option } from "commander";
import type { GrpcClient } from "../../../clients/typescript/src/index.js";
import { RegistryService } from "../../../gen/gatehouse/v1/registry_pb.js";
import {
  DomainVerificationMethod,
  type Operator,
  OperatorSchema,
} from "../../../gen/gatehouse/v1/resources_pb.js";
import { CliFailure, EXIT_USAGE, printMessage } from "../output.js";
import { type ConnectionFlags, withClient, withConnectionOptions } from "./connection.js";

type Registry = GrpcClient<(typeof RegistryService)["method"]>;

interface DomainFlags extends ConnectionFlags {
  readonly domain: string;
}

interface CreateFlags extends DomainFlags {
  readonly name?: string;
  readonly attestDomain?: boolean;
}

interface SetKeyFlags extends DomainFlags {
  readonly publicKey: string;
}

interface VerifyFlags extends DomainFlags {
  readonly method: keyof typeof METHODS;
}

const METHODS = {
  dns: DomainVerificationMethod.DNS_TXT,
  https: DomainVerificationMethod.HTTPS_WELL_KNOWN,
} as const;

/** `gatehouse operator`: operators own the agents of one domain. */
export function operatorCommand(): Command {
  return new Command("operator")
    .description("manage operators")
    .addCommand(createCommand())
    .addCommand(getCommand())
    .addCommand(verifyDomainCommand())
    .addCommand(setKeyCommand());
}

function createCommand(): Command {
  const create = new Command("create")
    .description("register an operator for a domain (admin certificate)")
    .requiredOption("--domain <domain>", "the operator's domain, e.g. example.com")
    .option("--name <name>", "a human-readable name")
    .option(
      "--attest-domain",
      "vouch that the operator owns the domain: verified at once, never expires " +
        "(otherwise it proves ownership with `operator verify-domain`)",
    );
  return withConnectionOptions(create, "admin").action(async (flags: CreateFlags) => {
    const { operator } = await withClient(RegistryService, flags, "admin", (registry) =>
      registry.createOperator({
        domain: flags.domain,
        displayName: flags.name ?? "",
        attestDomain: flags.attestDomain ?? false,
      }),
    );
    if (operator) printMessage(OperatorSchema, operator);
  });
}

function getCommand(): Command {
  const get = new Command("get").description(
    "show an operator, its verification token and where to publish it",
  );
  return ownCommand(get, (registry, { domain }: DomainFlags) => registry.getOperator({ domain }));
}

function verifyDomainCommand(): Command {
  const verify = new Command("verify-domain")
    .description("check the domain ownership proof now (DNS TXT record or HTTPS well-known file)")
    .addOption(
      new Option("--method <method>", "where the token is published")
        .choices(Object.keys(METHODS))
        .makeOptionMandatory(),
    );
  return ownCommand(verify, (registry, flags: VerifyFlags) =>
    registry.verifyOperatorDomain({ domain: flags.domain, method: METHODS[flags.method] }),
  );
}

function setKeyCommand(): Command {
  const setKey = new Command("set-key")
    .description("set or replace the operator's Ed25519 request-signing key")
    .requiredOption(
      "--public-key <pem>",
      "the Ed25519 key in PEM: its public half, or the private key (only the public half is sent)",
    );
  return ownCommand(setKey, async (registry, flags: SetKeyFlags) =>
    registry.setOperatorKey({
      domain: flags.domain,
      publicKey: await readEd25519PublicKey(flags.publicKey),
    }),
  );
}

/** The raw 32-byte key (RFC 8037 §2 `x`) from a PEM file; errors name the file, never its content. */
async function readEd25519PublicKey(path: string): Promise<Uint8Array> {
  let pem: string;
  try {
    pem = await readFile(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "unreadable";
    throw new CliFailure(`cannot read the key ${path} (${code})`, EXIT_USAGE);
  }
  try {
    const key = createPublicKey(pem);
    const { x } = key.export({ format: "jwk" });
    if (key.asymmetricKeyType === "ed25519" && x) return Buffer.from(x, "base64url");
  } catch {
    // Reported below in the user's terms; OpenSSL's decoder message would not help them.
  }
  throw new CliFailure(`${path} is not an Ed25519 key in PEM`, EXIT_USAGE);
}

/**
 * Completes a command on one operator, named by `--domain`, that prints the operator as it
 * then stands. It presents the operator's own certificate (`certs issue --role operator`)
 * unless --cert names another, an admin's for instance.
 */
function ownCommand<F extends DomainFlags>(
  command: Command,
  act: (registry: Registry, flags: F) => Promise<{ operator?: Operator | undefined }>,
): Command {
  command
    .description(`${command.description()} (operator or admin certificate)`)
    .requiredOption("--domain <domain>", "the operator's domain");
  return withConnectionOptions(command, "operator-<domain>").action(async (flags: F) => {
    const { operator } = await withClient(
      RegistryService,
      flags,
      `operator-${flags.domain}`,
      (registry) => act(registry, flags),
    );
    if (operator) printMessage(OperatorSchema, operator);
  });
}
