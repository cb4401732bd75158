import { describe, expect, it } from "vitest";
import { Reason } from "../../../../gen/gatehouse/v1/errors_pb.js";
import { signatureStep } from "../../../../src/verify/steps/signature.js";
import { refused, stepOutcome } from "../../outcome.js";
import { ed25519Key, state } from "./fixture.js";

describe("signature step (RFC 7515 §5.2 step 8)", () => {
  const signer = ed25519Key("k1");
  const other = ed25519Key("k1");
  const signingInput = new TextEncoder().encode("header.payload");
  const signature = signer.sign(signingInput);
  const bad = refused(Reason.TOKEN_BAD_SIGNATURE, "token signature invalid");

  it.each([
    ["a signature by another key", other.key, signingInput, signature, bad],
    ["another signing input", signer.key, new TextEncoder().encode("header.other"), signature, bad],
    ["a flipped signature bit", signer.key, signingInput, flip(signature), bad],
    ["a truncated signature", signer.key, signingInput, signature.slice(0, 63), bad],
  ])("refuses %s", async (_case, key, input, sig, expected) => {
    const s = state({ key, signingInput: input, signature: sig });
    expect(await stepOutcome(signatureStep(s))).toEqual(expected);
  });

  it("refuses without a resolved key (fails closed)", async () => {
    const s = state({ signingInput, signature });
    expect(await stepOutcome(signatureStep(s))).toEqual(
      refused(Reason.TOKEN_KID_UNKNOWN, "token kid unknown"),
    );
  });

  it("accepts the key's signature over the signing input", async () => {
    const s = state({ key: signer.key, signingInput, signature });
    expect(await stepOutcome(signatureStep(s))).toBe("allowed");
  });
});

function flip(bytes: Uint8Array): Uint8Array {
  const copy = new Uint8Array(bytes);
  copy[10] = (copy[10] ?? 0) ^ 1;
  return copy;
}
