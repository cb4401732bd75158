import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { verifyEd25519 } from "../../src/crypto/ed25519.js";

/**
 * Published Ed25519 edge cases, run through the one verify function (README.md names the
 * source of each file). `expected` is the verdict under Gatehouse's strict rules.
 */
const load = <T>(name: string) =>
  JSON.parse(readFileSync(new URL(`./${name}`, import.meta.url), "utf8")) as T;

interface SpeccheckCase {
  readonly case: number;
  readonly message: string;
  readonly publicKey: string;
  readonly signature: string;
  readonly publicKeyIs: string;
  readonly rIs: string;
  readonly sIs: string;
  readonly expected: "valid" | "invalid";
}

interface WycheproofTest {
  readonly tcId: number;
  readonly flags: readonly string[];
  readonly msg: string;
  readonly sig: string;
  readonly result: "valid" | "invalid";
  readonly expected: "valid" | "invalid";
}

const hex = (value: string) => Buffer.from(value, "hex");

describe("Taming the many EdDSAs (ed25519-speccheck cases 0-11)", () => {
  const { cases } = load<{ cases: SpeccheckCase[] }>("ed25519-speccheck.json");

  it("holds the paper's twelve cases", () => {
    expect(cases.map((c) => c.case)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  });

  for (const c of cases) {
    it(`case ${c.case} (A ${c.publicKeyIs}, R ${c.rIs}, ${c.sIs}) is ${c.expected}`, () => {
      const ok = verifyEd25519(hex(c.publicKey), hex(c.message), hex(c.signature));
      expect(ok).toBe(c.expected === "valid");
    });
  }
});

describe("Wycheproof ed25519_test.json", () => {
  const { groups } = load<{
    groups: { publicKey: string; tests: WycheproofTest[] }[];
  }>("wycheproof-ed25519.json");
  const tests = groups.flatMap((group) => group.tests.map((test) => ({ ...test, group })));

  it("covers every flag of the file", () => {
    const flags = new Set(tests.flatMap((test) => test.flags));
    expect([...flags].sort()).toEqual(
      [
        "CompressedSignature",
        "InvalidEncoding",
        "InvalidKtv",
        "InvalidSignature",
        "Ktv",
        "SignatureMalleability",
        "SignatureWithGarbage",
        "TinkOverflow",
        "TruncatedSignature",
        "Valid",
      ].sort(),
    );
  });

  for (const { tcId, flags, msg, sig, expected, group } of tests) {
    it(`tcId ${tcId} (${flags.join(", ")}) is ${expected}`, () => {
      expect(verifyEd25519(hex(group.publicKey), hex(msg), hex(sig))).toBe(expected === "valid");
    });
  }
});
