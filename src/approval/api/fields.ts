import { invalidArgument } from "../../errors/index.js";
import type { GrantDecision } from "../../grants/lifecycle.js";
import { MAX_BODY_BYTES, objectField, stringField } from "../http/request.js";

/** Ticket ids, invite secrets: `randomId()` values. */
const RANDOM_ID = /^[A-Za-z0-9_-]{43}$/;
const BASE64URL = /^[A-Za-z0-9_-]+$/;
/** WebAuthn L3 §7.1 step 25 bounds credential ids to 1023 bytes: 1364 base64url characters. */
const MAX_CREDENTIAL_ID_CHARS = 1364;

export const ticketField = (body: Record<string, unknown>): string =>
  stringField(body, "ticket", RANDOM_ID, 43);

export const inviteField = (body: Record<string, unknown>): string =>
  stringField(body, "invite", RANDOM_ID, 43);

export function decisionField(body: Record<string, unknown>): GrantDecision {
  const decision = body.decision;
  if (decision !== "approve" && decision !== "deny") {
    throw invalidArgument("decision", 'must be "approve" or "deny"');
  }
  return decision;
}

/**
 * A `PublicKeyCredential.toJSON()` value (WebAuthn L3 §5.1, `toJSON()`), checked for the shape every
 * ceremony reads first, so a malformed one is a 400; its content is verified by the ceremony.
 */
export function credentialField<T>(body: Record<string, unknown>): T {
  const credential = objectField(body, "response");
  stringField(credential, "id", BASE64URL, MAX_CREDENTIAL_ID_CHARS);
  stringField(credential, "rawId", BASE64URL, MAX_CREDENTIAL_ID_CHARS);
  if (credential.type !== "public-key")
    throw invalidArgument("response.type", "must be public-key");
  stringField(objectField(credential, "response"), "clientDataJSON", BASE64URL, MAX_BODY_BYTES);
  return credential as T;
}
