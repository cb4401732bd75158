import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ClientTls } from "../../src/client/credentials.js";
import { AUDIENCE, enrollAgent, SCOPES } from "./flows.js";
import { ISSUER, startTestGatehouse, type TestGatehouse } from "./gatehouse.js";

/** A running Gatehouse and the environment an SDK's own test suite reads it from. */
export interface SdkServer {
  readonly gh: TestGatehouse;
  /** GATEHOUSE_* variables: addresses, issuer, the enrolled agent, and PEM file paths. */
  readonly env: Record<string, string>;
  dispose(): Promise<void>;
}

export interface SdkServerOptions {
  /** The server asks for DPoP nonces (RFC 9449 §8): GATEHOUSE_DPOP_NONCES is `on`. */
  readonly dpopNonces: boolean;
}

/**
 * Starts a Gatehouse, enrolls one agent (policy: AUDIENCE, SCOPES) and writes the PEM files an
 * SDK test needs (CA; agent, verifier and operator certificates; the agent's Ed25519 key, mode
 * 0600) to a private temporary directory.
 */
export async function startSdkServer(options: SdkServerOptions): Promise<SdkServer> {
  const gh = await startTestGatehouse(
    options.dpopNonces
      ? {
          overrides: {
            dpop: { nonces: true, nonceSecret: "sdk-test-dpop-nonce-secret-0123456789" },
          },
        }
      : {},
  );
  const dir = await mkdtemp(join(tmpdir(), "gatehouse-sdk-"));
  try {
    const agent = await enrollAgent(gh);
    const write = async (name: string, data: string | Buffer) => {
      const path = join(dir, name);
      await writeFile(path, data, { mode: 0o600 });
      return path;
    };
    const pair = async (role: string, tls: ClientTls) => ({
      [`GATEHOUSE_${role}_CERT`]: await write(`${role.toLowerCase()}-tls.pem`, tls.cert),
      [`GATEHOUSE_${role}_CERT_KEY`]: await write(`${role.toLowerCase()}-tls-key.pem`, tls.key),
    });
    const env = {
      GATEHOUSE_ADDRESS: gh.grpcAddress,
      GATEHOUSE_ISSUER: ISSUER,
      GATEHOUSE_AUDIENCE: AUDIENCE,
      GATEHOUSE_SCOPES: SCOPES.join(" "),
      GATEHOUSE_CA: await write("ca.pem", gh.caPem),
      GATEHOUSE_AGENT_DID: agent.did,
      GATEHOUSE_AGENT_KEY: await write(
        "agent-ed25519.pem",
        agent.key.privateKey.export({ format: "pem", type: "pkcs8" }).toString(),
      ),
      GATEHOUSE_OPERATOR_DOMAIN: agent.domain,
      GATEHOUSE_DPOP_NONCES: options.dpopNonces ? "on" : "off",
      ...(await pair("AGENT", agent.agentTls)),
      ...(await pair("VERIFIER", agent.verifierTls)),
      ...(await pair("OPERATOR", agent.operatorTls)),
    };
    return {
      gh,
      env,
      async dispose() {
        await gh.dispose();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await gh.dispose();
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

/**
 * The SDK tests run in another process, so test/scan-logs.ts never learns their tokens,
 * passes and proofs; instead no server log line may hold anything shaped like a compact JWS
 * (a token, a DPoP proof, an assertion) — its header segment always starts `eyJ` (`{"`).
 */
export function compactJwsInLogs(server: SdkServer): string[] {
  return server.gh.logs.filter((line) => /eyJ[\w-]*\.[\w-]+\.[\w-]+/.test(line));
}

export interface Finished {
  readonly code: number | null;
  /** stdout and stderr, interleaved as they came. */
  readonly output: string;
}

/** Runs a test runner to its end, collecting its output (shown by the caller on failure). */
export function runToEnd(
  command: string,
  args: readonly string[],
  options: { cwd: string; env: Record<string, string>; timeoutMs: number },
): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk) => {
      output += String(chunk);
    });
    child.stderr.on("data", (chunk) => {
      output += String(chunk);
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs);
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(new Error(`could not run ${command}: ${String(error)}`));
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}
