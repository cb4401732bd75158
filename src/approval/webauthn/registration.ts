import type {
  PublicKeyCredentialCreationOptionsJSON,
  RegistrationResponseJSON,
  VerifiedRegistrationResponse,
} from "@simplewebauthn/server";
import type { PasskeyRecord } from "../../store/ports.js";
import { refuseCrossOrigin } from "./client-data.js";
import { webAuthnLibrary } from "./library.js";
import { approvalInvalid } from "./refusal.js";
import type { RelyingParty } from "./relying-party.js";

/** COSE algorithms accepted for passkeys: EdDSA, ES256, RS256 (WebAuthn L3 §5.8.5). */
const ALGORITHMS = [-8, -7, -257];
/** WebAuthn L3 §7.1 step 25: longer credential ids SHOULD fail the ceremony. */
const MAX_CREDENTIAL_ID_BYTES = 1023;

/**
 * Options for `navigator.credentials.create()` (WebAuthn L3 §5.4): a discoverable credential
 * (so sign-in needs no user name), user verification required, no attestation asked for (the
 * invite, not the authenticator's make, is what authorizes the approver).
 */
export async function registrationOptions(
  rp: RelyingParty,
  user: { readonly handle: Uint8Array<ArrayBuffer>; readonly name: string },
  timeoutMs: number,
): Promise<PublicKeyCredentialCreationOptionsJSON> {
  const { generateRegistrationOptions } = await webAuthnLibrary();
  return generateRegistrationOptions({
    rpName: rp.name,
    rpID: rp.id,
    userID: user.handle,
    userName: user.name,
    userDisplayName: user.name,
    timeout: timeoutMs,
    attestationType: "none",
    authenticatorSelection: { residentKey: "required", userVerification: "required" },
    excludeCredentials: [],
    supportedAlgorithmIDs: ALGORITHMS,
  });
}

/** A passkey as registered, before it joins an approver. */
export type NewPasskey = Omit<PasskeyRecord, "createdAt">;

/**
 * Verifies a registration response (WebAuthn L3 §7.1). The library checks, in order: type
 * `webauthn.create` (step 7), the challenge (step 8), the origin (step 9), the rpIdHash
 * (step 14), UP and UV (steps 15–16), the key's algorithm (step 20) and the attestation
 * statement (steps 21–22). Here: `crossOrigin` (steps 10–11) and the id length (step 25).
 * Step 26 (credential id not yet registered) is the store's atomic `create`.
 */
export async function verifyRegistration(
  rp: RelyingParty,
  response: RegistrationResponseJSON,
  expectedChallenge: string,
): Promise<NewPasskey> {
  refuseCrossOrigin(response.response?.clientDataJSON);
  const { verifyRegistrationResponse } = await webAuthnLibrary();
  let result: VerifiedRegistrationResponse;
  try {
    result = await verifyRegistrationResponse({
      response,
      expectedChallenge,
      expectedOrigin: rp.origin,
      expectedRPID: rp.id,
      requireUserPresence: true,
      requireUserVerification: true,
      supportedAlgorithmIDs: ALGORITHMS,
    });
  } catch {
    throw approvalInvalid("registration response");
  }
  if (!result.verified) throw approvalInvalid("attestation");
  const { credential } = result.registrationInfo;
  if (Buffer.from(credential.id, "base64url").length > MAX_CREDENTIAL_ID_BYTES) {
    throw approvalInvalid("credential id length");
  }
  return {
    credentialId: credential.id,
    publicKey: Buffer.from(credential.publicKey).toString("base64url"),
    counter: credential.counter,
    ...(credential.transports && { transports: [...credential.transports] }),
  };
}
