import { readFile, writeFile } from "node:fs/promises";
import { type AgentKey, agentKeyFromPem } from "../../../clients/typescript/src/agent/index.js";
import { CliFailure, EXIT_USAGE } from "../output.js";

/**
 * Writes the key as PKCS#8 PEM, readable by its owner only, and never over an existing
 * file: that key may already be registered, and losing it would orphan the agent.
 */
export async function writeAgentKeyFile(path: string, key: AgentKey): Promise<void> {
  const pem = key.privateKey.export({ type: "pkcs8", format: "pem" });
  try {
    await writeFile(path, pem, { mode: 0o600, flag: "wx" });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    throw new CliFailure(`${path} already exists; choose another --out`, EXIT_USAGE);
  }
}

/** Reads an agent's Ed25519 key; errors name the file, never its content. */
export async function readAgentKeyFile(path: string): Promise<AgentKey> {
  let pem: string;
  try {
    pem = await readFile(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "unreadable";
    throw new CliFailure(`cannot read the agent key ${path} (${code})`, EXIT_USAGE);
  }
  return parseAgentKey(pem, path);
}

function parseAgentKey(pem: string, path: string): AgentKey {
  try {
    const key = agentKeyFromPem(pem);
    // A P-256 certificate key parses too; passing it off as an agent key would only fail later.
    if (key.privateKey.asymmetricKeyType === "ed25519") return key;
  } catch {
    // Reported below in the user's terms; OpenSSL's decoder message would not help them.
  }
  throw new CliFailure(`${path} is not an Ed25519 private key in PEM`, EXIT_USAGE);
}
