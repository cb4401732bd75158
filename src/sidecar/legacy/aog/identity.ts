import { createHmac, X509Certificate } from "node:crypto";
import { constantTimeEqual } from "../../../crypto/constant-time.js";
import { type HttpRequest, header } from "../../http-io.js";
import type { LegacyCaller } from "../caller.js";
import { LegacyRefusal } from "../refusal.js";

/** The headers AOG-style gates read behind a TLS terminator (nginx `$ssl_client_escaped_cert`). */
export const AOG_HEADERS = {
  cert: "x-client-cert",
  signature: ["x-client-cert-sig", "x-client-cert-signature"],
} as const;

/**
 * The caller's client certificate (PEM), from `X-Client-Cert` when a TLS terminator forwarded
 * it — accepted only with `X-Client-Cert-Sig` (or `-Signature`): the standard base64 of
 * HMAC-SHA256 over the header value exactly as received, under the shared secret, compared in
 * constant time — else from the caller's own mTLS handshake with the sidecar (legacyCaller). Gatehouse then checks the
 * certificate itself (CA, validity, `clientAuth`, one role) as for any forwarded identity.
 */
export function aogCertificate(req: HttpRequest, caller: LegacyCaller, secret?: string): string {
  const forwarded = header(req.headers, AOG_HEADERS.cert);
  if (forwarded === undefined) {
    if (req.headers[AOG_HEADERS.cert] !== undefined) throw forbidden("repeated client cert header");
    if (caller.certificatePem === undefined) throw forbidden("client certificate required");
    return caller.certificatePem;
  }
  const signatures = AOG_HEADERS.signature.flatMap((name) => header(req.headers, name) ?? []);
  if (signatures.length === 0) throw forbidden("unsigned client cert header not accepted");
  if (secret === undefined) throw forbidden("client cert headers are not accepted here");
  const expected = createHmac("sha256", secret).update(forwarded, "utf8").digest();
  const valid = signatures.every((signature) => {
    const given = Buffer.from(signature, "base64");
    // Standard base64, exactly: a re-encoding of what was decoded must give the header back.
    return given.toString("base64") === signature && constantTimeEqual(given, expected);
  });
  if (!valid) throw forbidden("invalid client cert header signature");
  return forwardedPem(forwarded);
}

/** A PEM sent as it is (a literal space: URL-encoded, the space is `%20`). */
const FOLDED_PEM = "-----BEGIN CERTIFICATE-----";

/** URL-encoded PEM (nginx `$ssl_client_escaped_cert`) or PEM with its newlines folded. */
function forwardedPem(value: string): string {
  let pem: string;
  try {
    pem = value.startsWith(FOLDED_PEM) ? unfold(value) : decodeURIComponent(value);
    if (pem.match(/-----BEGIN CERTIFICATE-----/g)?.length !== 1) throw new Error("not one PEM");
    return new X509Certificate(pem).toString();
  } catch {
    throw new LegacyRefusal(400, "malformed client cert header");
  }
}

/** A PEM whose line breaks a proxy replaced by spaces or tabs (nginx `$ssl_client_cert`). */
function unfold(value: string): string {
  const body = value
    .replace("-----BEGIN CERTIFICATE-----", "")
    .replace("-----END CERTIFICATE-----", "")
    .replace(/\s+/g, "\n");
  return `-----BEGIN CERTIFICATE-----${body}-----END CERTIFICATE-----\n`;
}

function forbidden(detail: string): LegacyRefusal {
  return new LegacyRefusal(403, detail);
}
