import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { Command } from "commander";
import {
  agentDid,
  generateAgentKey,
  proofOfPossession,
} from "../../../clients/typescript/src/agent/index.js";
import { RegistryService } from "../../../gen/gatehouse/v1/registry_pb.js";
import { AgentSchema } from "../../../gen/gatehouse/v1/resources_pb.js";
import { printMessage } from "../output.js";
import { readAgentKeyFile, writeAgentKeyFile } from "./agent-key-file.js";
import {
  type ConnectionFlags,
  DEFAULT_KEYS_DIR,
  withClient,
  withConnectionOptions,
} from "./connection.js";
import { type PolicyFlags, policyFromFlags, withPolicyOptions } from "./policy-flags.js";

interface KeygenFlags {
  readonly out?: string;
  readonly domain?: string;
}

interface RegisterFlags extends ConnectionFlags, PolicyFlags {
  readonly key: string;
  readonly domain: string;
  readonly name?: string;
}

/** `agent keygen`: the key stays with the agent; only its public half is ever sent. */
export function keygenCommand(): Command {
  return new Command("keygen")
    .description("generate an agent's Ed25519 key (PKCS#8 PEM, mode 0600)")
    .option(
      "--out <file>",
      `where to write the private key (default: agent-<public key prefix>.pem in ${DEFAULT_KEYS_DIR})`,
    )
    .option("--domain <domain>", "operator domain, to print the agent's DID")
    .action(async (flags: KeygenFlags) => {
      const key = generateAgentKey();
      const out = flags.out ?? (await defaultKeyPath(key.publicKey));
      await writeAgentKeyFile(out, key);
      console.log(`wrote ${out}`);
      console.log(`public key: ${Buffer.from(key.publicKey).toString("hex")}`);
      if (flags.domain !== undefined) console.log(`did: ${agentDid(key, flags.domain)}`);
    });
}

/** In the data directory's `keys` (owner only), named by the key: never the working directory. */
async function defaultKeyPath(publicKey: Uint8Array): Promise<string> {
  await mkdir(DEFAULT_KEYS_DIR, { recursive: true, mode: 0o700 });
  return join(DEFAULT_KEYS_DIR, `agent-${Buffer.from(publicKey).toString("hex").slice(0, 16)}.pem`);
}

/** `agent register`: the operator registers the agent, proving the agent holds its key. */
export function registerCommand(): Command {
  const register = new Command("register")
    .description("register an agent under your operator domain (operator certificate)")
    .requiredOption("--key <file>", "the agent's private key, from `agent keygen`")
    .requiredOption("--domain <domain>", "your operator domain")
    .option("--name <name>", "a human-readable name");
  withPolicyOptions(register);
  return withConnectionOptions(register, "operator-<domain>").action(
    async (flags: RegisterFlags) => {
      const key = await readAgentKeyFile(flags.key);
      const did = agentDid(key, flags.domain);
      const { agent } = await withClient(
        RegistryService,
        flags,
        `operator-${flags.domain}`,
        (registry) =>
          registry.registerAgent({
            did,
            publicKey: key.publicKey,
            proofOfPossession: proofOfPossession(key, did, flags.domain),
            policy: policyFromFlags(flags),
            displayName: flags.name ?? "",
          }),
      );
      if (agent) printMessage(AgentSchema, agent);
    },
  );
}
