import { execFile } from "node:child_process";
import { createHash, createHmac, createPrivateKey, sign } from "node:crypto";
import { promisify } from "node:util";
import { expect } from "vitest";
import type { ClientTls } from "../../src/client/credentials.js";
import { SOLVERS } from "./reasoning-solvers/index.js";
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
