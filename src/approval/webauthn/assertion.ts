import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialRequestOptionsJSON,
  VerifiedAuthenticationResponse,
} from "@simplewebauthn/server";
import { constantTimeEqual } from "../../crypto/constant-time.js";
import type { ApproverRecord, ApproverStore, PasskeyRecord } from "../../store/ports.js";
import { refuseCrossOrigin } from "./client-data.js";
import { webAuthnLibrary } from "./library.js";
import { approvalInvalid } from "./refusal.js";
import type { RelyingParty } from "./relying-party.js";

/**
 * Options for `navigator.credentials.get()` (WebAuthn L3 §5.5). `allowCredentials` empty asks
 * for a discoverable credential (sign-in); a list restricts the ceremony to those passkeys
 * (a decision by the signed-in approver). User verification is always required.
 */
export async function assertionOptions(
  rp: RelyingParty,
  options: {
    readonly challenge?: Uint8Array<ArrayBuffer>;
    readonly allowCredentials: readonly PasskeyRecord[];
    readonly timeoutMs: number;
  },
): Promise<PublicKeyCredentialRequestOptionsJSON> {
  const { generateAuthenticationOptions } = await webAuthnLibrary();
  return generateAuthenticationOptions({
    rpID: rp.id,
    ...(options.challenge && { challenge: options.challenge }),
    allowCredentials: options.allowCredentials.map((passkey) => ({
      id: passkey.credentialId,
      ...(passkey.transports && { transports: [...passkey.transports] }),
    })),
    userVerification: "required",
    timeout: options.timeoutMs,
  });
}

export interface VerifiedAssertion {
  readonly credentialId: string;
}

/**
 * Verifies an assertion by one of `approver`'s passkeys (WebAuthn L3 §7.2), then records the
 * new signature counter. In order:
 * - steps 5–6: the credential is one of the approver's, and a user handle, when present,
 *   is the approver's (required when the user was not identified before: `requireUserHandle`);
 * - steps 13–14: not a cross-origin ceremony;
 * - the library: type `webauthn.get` (step 10), the challenge (step 11), the origin (step 12),
 *   the rpIdHash (step 15), UP and UV (steps 16–17), the signature (step 21), and a counter
 *   that must grow when either side is non-zero (step 22);
 * - the counter is stored by compare-and-set, so of two assertions racing with one counter
 *   value (a cloned authenticator) only one wins.
 */
export async function verifyAssertion(
  approvers: ApproverStore,
  rp: RelyingParty,
  options: {
    readonly approver: ApproverRecord;
    readonly response: AuthenticationResponseJSON;
    readonly expectedChallenge: string;
    readonly requireUserHandle: boolean;
  },
): Promise<VerifiedAssertion> {
  const { approver, response } = options;
  const passkey = approver.passkeys.find((p) => p.credentialId === response.id);
  if (!passkey) throw approvalInvalid("credential");
  const userHandle = response.response?.userHandle;
  if (userHandle === undefined ? options.requireUserHandle : !sameHandle(userHandle, approver)) {
    throw approvalInvalid("user handle");
  }
  refuseCrossOrigin(response.response?.clientDataJSON);
  const { verifyAuthenticationResponse } = await webAuthnLibrary();
  let result: VerifiedAuthenticationResponse;
  try {
    result = await verifyAuthenticationResponse({
      response,
      expectedChallenge: options.expectedChallenge,
      expectedOrigin: rp.origin,
      expectedRPID: rp.id,
      requireUserVerification: true,
      credential: {
        id: passkey.credentialId,
        publicKey: Buffer.from(passkey.publicKey, "base64url"),
        counter: passkey.counter,
      },
    });
  } catch {
    throw approvalInvalid("assertion");
  }
  if (!result.verified) throw approvalInvalid("signature");
  const { newCounter } = result.authenticationInfo;
  const stored = await approvers.updateCounter(
    approver.id,
    passkey.credentialId,
    passkey.counter,
    newCounter,
  );
  if (!stored) throw approvalInvalid("signature counter");
  return { credentialId: passkey.credentialId };
}

function sameHandle(userHandle: unknown, approver: ApproverRecord): boolean {
  return typeof userHandle === "string" && constantTimeEqual(userHandle, approver.userHandle);
}
