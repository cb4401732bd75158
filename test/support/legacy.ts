import { execFile } from "node:child_process";
import { createHash, createHmac, createPrivateKey, type KeyObject, sign } from "node:crypto";
import { promisify } from "node:util";
import { expect } from "vitest";
import type { ClientTls } from "../../src/client/credentials.js";
import { SOLVERS } from "./reasoning-solvers/index.js";
import { rememberSecret } from "./secrets.js";
import type { HttpAnswer } from "./sidecar.js";
import { VENV_PYTHON } from "./tools.js";

const run = promisify(execFile);

/** AOG's legacy puzzle, as its clients compute it: SHA-256(seed), then `iterations` more. */
export function aogIteratedHash(seedHex: string, iterations: number): string {
  let digest = createHash("sha256").update(Buffer.from(seedHex, "hex")).digest();
  for (let i = 0; i < iterations; i++) digest = createHash("sha256").update(digest).digest();
  return digest.toString("hex");
}

/** The headers a TLS terminator sends: the URL-encoded PEM and its base64 HMAC-SHA256. */
export function signedCertHeaders(
  tls: ClientTls,
  secret: string,
  signatureHeader = "X-Client-Cert-Sig",
): Record<string, string> {
  const value = encodeURIComponent(tls.cert.toString());
  const signature = createHmac("sha256", secret).update(value, "utf8").digest("base64");
  return { "X-Client-Cert": value, [signatureHeader]: signature };
}

/**
 * Solves a self-contained AOG question with the reference solvers: the task is the text before
 * "Answer format:"; the family is whichever solver reads it without failing.
 */
export function solveQuestion(question: string): string {
  const prompt = question.split("\n\nAnswer format:")[0] ?? "";
  const answers = Object.values(SOLVERS).flatMap((solve) => {
    try {
      const answer = solve(prompt);
      return answer === "" || answer.includes("NaN") || answer.includes("undefined")
        ? []
        : [answer];
    } catch {
      return [];
    }
  });
  if (answers.length !== 1) throw new Error(`${answers.length} solvers read the question`);
  return answers[0] ?? "";
}

/** An ES256 JWT signed with the TLS client key (AOG's `attestation`). */
export function clientKeyJwt(tls: ClientTls, claims: Record<string, unknown>): string {
  const segment = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const input = `${segment({ alg: "ES256", typ: "JWT" })}.${segment(claims)}`;
  const key = createPrivateKey(tls.key);
  const signature = sign("sha256", Buffer.from(input), { key, dsaEncoding: "ieee-p1363" });
  return `${input}.${signature.toString("base64url")}`;
}

/** `{"detail": …}` with the status, and nothing else (AOG's refusals). */
export function expectDetail(answer: HttpAnswer, status: number, detail: string): void {
  expect(answer.status, answer.text).toBe(status);
  expect(answer.json()).toEqual({ detail });
}

/** Runs a legacy Python client (test/legacy-clients/) and returns what it printed. */
export async function runLegacyClient(script: string, args: string[]): Promise<string> {
  // The suite's virtualenv, where the global setup installed requests and cryptography.
  const path = new URL(`../legacy-clients/${script}`, import.meta.url).pathname;
  const { stdout } = await run(VENV_PYTHON, [path, ...args], { timeout: 60_000 });
  return stdout;
}

/** How an Auth4Agent client posts JSON: `(path, body, headers?) => answer`. */
export type Auth4AgentPost = (
  path: string,
  body: unknown,
  headers?: Record<string, string>,
) => Promise<HttpAnswer>;

/** An Auth4Agent login with no certificate: challenge → Ed25519 proof → token (asserted 200). */
export async function auth4agentLogin(
  post: Auth4AgentPost,
  agent: { readonly did: string; readonly key: { readonly privateKey: KeyObject } },
  audience: string,
): Promise<string> {
  const issued = await post("/v1/challenge", { did: agent.did });
  expect(issued.status, issued.text).toBe(200);
  const { challenge, nonce } = issued.json() as { challenge: string; nonce: string };
  rememberSecret(challenge, nonce);
  const message = `auth4agents-challenge:${challenge}:${nonce}`;
  const signature = sign(null, Buffer.from(message), agent.key.privateKey).toString("base64");
  const proof = {
    type: "Ed25519Signature2020",
    created: new Date().toISOString(),
    proofPurpose: "authentication",
    verificationMethod: `${agent.did}#key-1`,
    challenge,
    nonce,
    signature,
  };
  const token = await post("/v1/token", { did: agent.did, scope: "orders:read", audience, proof });
  expect(token.status, token.text).toBe(200);
  const accessToken = String((token.json() as { access_token: string }).access_token);
  rememberSecret(accessToken);
  return accessToken;
}

/** A legacy route's 429: Auth4Agent's words and a Retry-After. */
export function expectAuth4AgentRateLimited(answer: HttpAnswer): void {
  expect(answer.status, answer.text).toBe(429);
  expect(answer.json()).toEqual({ error: "rate limit exceeded" });
  expect(Number(answer.headers["retry-after"])).toBeGreaterThan(0);
}
