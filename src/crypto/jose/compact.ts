import { decodeBase64url } from "./base64url.js";

/** A compact JWS (RFC 7515 §7.1) split and decoded; the signature is not checked yet. */
export interface CompactJws {
  readonly header: Record<string, unknown>;
  readonly payload: Record<string, unknown>;
  /** ASCII(BASE64URL(header) ‖ "." ‖ BASE64URL(payload)): what the signature covers (§5.2). */
  readonly signingInput: Buffer;
  readonly signature: Buffer;
}

/**
 * RFC 7515 §7.1 compact serialization: exactly three non-empty segments separated by `.`.
 * Their encoding is checked by whoever decodes them (decodeBase64url).
 */
export function splitCompactJws(token: string): readonly [string, string, string] | undefined {
  const first = token.indexOf(".");
  const second = token.indexOf(".", first + 1);
  if (first <= 0 || second <= first + 1 || second === token.length - 1) return undefined;
  if (token.indexOf(".", second + 1) !== -1) return undefined;
  return [token.slice(0, first), token.slice(first + 1, second), token.slice(second + 1)];
}

/**
 * Decodes one segment that must be a JSON object: the header or a JWT payload (RFC 7519 §7.2
 * steps 2–10). Undefined for non-canonical base64url (RFC 7515 §2), bad JSON, or any JSON value
 * that is not an object (arrays and null included). Never throws.
 */
export function decodeJsonSegment(segment: string): Record<string, unknown> | undefined {
  const bytes = decodeBase64url(segment);
  if (!bytes) return undefined;
  try {
    const value: unknown = JSON.parse(bytes.toString("utf8"));
    if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
    return value as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/**
 * The one compact-JWS parser: three segments, each canonical base64url, header and payload
 * JSON objects. Undefined for anything else; nothing about the token is trusted yet.
 */
export function parseCompactJws(token: string): CompactJws | undefined {
  const segments = splitCompactJws(token);
  if (!segments) return undefined;
  const [headerPart, payloadPart, signaturePart] = segments;
  const header = decodeJsonSegment(headerPart);
  const payload = header && decodeJsonSegment(payloadPart);
  const signature = payload && decodeBase64url(signaturePart);
  if (!header || !payload || !signature) return undefined;
  return {
    header,
    payload,
    signingInput: Buffer.from(`${headerPart}.${payloadPart}`, "ascii"),
    signature,
  };
}
