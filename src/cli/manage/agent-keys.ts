import { Command } from "commander";
import { rotationSignatures } from "../../../clients/typescript/src/agent/index.js";
import {
  RegistryService,
  ResolveDidResponseSchema,
} from "../../../gen/gatehouse/v1/registry_pb.js";
import { AgentSchema } from "../../../gen/gatehouse/v1/resources_pb.js";
import { CliFailure, EXIT_USAGE, printMessage } from "../output.js";
import { readAgentKeyFile } from "./agent-key-file.js";
import { type ConnectionFlags, withClient, withConnectionOptions } from "./connection.js";

interface DidFlags extends ConnectionFlags {
  readonly did: string;
}

interface RotateFlags extends DidFlags {
  readonly key: string;
  readonly newKey: string;
}

const DEFAULT_CERT = "admin";

/**
 * `agent rotate-key`: both keys sign the rotation (the agent consents with its current key,
 * proves it holds the new one); only public keys and signatures leave this process.
 */
export function rotateKeyCommand(): Command {
  const rotate = new Command("rotate-key")
    .description("replace a did:agent agent's key (operator or admin certificate)")
    .requiredOption("--did <did>", "the agent's DID (did:agent:<domain>:<id>)")
    .requiredOption("--key <file>", "the agent's current private key")
    .requiredOption("--new-key <file>", "the new private key, from `agent keygen`");
  return withConnectionOptions(rotate, DEFAULT_CERT).action(async (flags: RotateFlags) => {
    const domain = operatorDomainOf(flags.did);
    const [current, next] = await Promise.all([
      readAgentKeyFile(flags.key),
      readAgentKeyFile(flags.newKey),
    ]);
    const signatures = rotationSignatures(current, next, flags.did, domain);
    const { agent } = await withClient(RegistryService, flags, DEFAULT_CERT, (registry) =>
      registry.rotateAgentKey({ did: flags.did, newPublicKey: next.publicKey, ...signatures }),
    );
    if (agent) printMessage(AgentSchema, agent);
  });
}

/** `agent resolve`: the DID document, every key the agent ever had, and whether it is deactivated. */
export function resolveCommand(): Command {
  const resolve = new Command("resolve")
    .description("print an agent's DID document (any client certificate)")
    .requiredOption("--did <did>", "the agent's DID");
  return withConnectionOptions(resolve, DEFAULT_CERT).action(async (flags: DidFlags) => {
    const response = await withClient(RegistryService, flags, DEFAULT_CERT, (registry) =>
      registry.resolveDid({ did: flags.did }),
    );
    printMessage(ResolveDidResponseSchema, response);
  });
}

/**
 * The operator domain inside a did:agent DID, which the rotation signs. A did:key DID is its
 * key: such an agent cannot rotate (it registers a new DID instead).
 */
function operatorDomainOf(did: string): string {
  const match = /^did:agent:([a-z0-9.-]{1,253}):[0-9a-f]{32}$/.exec(did);
  if (!match?.[1]) {
    throw new CliFailure(
      "--did must be a did:agent DID (a did:key DID is its key and cannot rotate)",
      EXIT_USAGE,
    );
  }
  return match[1];
}
