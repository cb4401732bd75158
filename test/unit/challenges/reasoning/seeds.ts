import { createHash } from "node:crypto";

/** Reproducible seeds for property tests: SHA-256 of a label and an index. */
export function testSeed(label: string, index: number): Uint8Array {
  return createHash("sha256").update(`${label}:${index}`).digest();
}

/** Difficulty 1–5 in turn, so every level is covered by every property. */
export function testDifficulty(index: number): number {
  return 1 + (index % 5);
}
