import { Reason } from "../../../gen/gatehouse/v1/errors_pb.js";
import { ACCESS_TOKEN_TYP } from "../../crypto/jws.js";
import type { VerifyDeps, VerifyState } from "../types.js";

/** Only asymmetric algorithms Gatehouse signs with (RFC 8725 §3.1: never trust the header). */
const ALLOWED_ALGS = new Set(["EdDSA", "ES256"]);

/**
 * Header parameters refused in an access token: a token must not name where its own key
 * comes from (`jku`, `x5u`, `jwk`, `x5c`, RFC 8725 §3.10 / RFC 7515 §4.1.2–4.1.6), and
 * Gatehouse understands no critical extensions (RFC 7515 §4.1.11: must reject).
 */
const REFUSED_PARAMS = ["jku", "x5u", "jwk", "x5c", "crit"] as const;

/**
 * Header: `typ` must be `at+jwt` (RFC 9068 §4 step 1), `alg` on the allowlist and equal to
 * the named key's alg (RFC 8725 §3.1), `kid` naming a published key.
 */
export async function headerStep(
  state: VerifyState,
  deps: { readonly keys: Pick<VerifyDeps["keys"], "lookup" | "refresh"> },
): Promise<Reason | undefined> {
  const { header } = state;
  const { alg, kid, typ } = header;
  if (typeof alg !== "string" || !ALLOWED_ALGS.has(alg)) return Reason.TOKEN_ALG_NOT_ALLOWED;
  if (REFUSED_PARAMS.some((param) => param in header)) return Reason.TOKEN_HEADER_INVALID;
  if (typ !== ACCESS_TOKEN_TYP && typ !== `application/${ACCESS_TOKEN_TYP}`) {
    return Reason.TOKEN_HEADER_INVALID;
  }
  if (typeof kid !== "string" || kid.length === 0 || kid.length > 128) {
    return Reason.TOKEN_KID_UNKNOWN;
  }
  let key = deps.keys.lookup(kid);
  if (!key) {
    await deps.keys.refresh();
    key = deps.keys.lookup(kid);
  }
  if (!key) return Reason.TOKEN_KID_UNKNOWN;
  if (key.alg !== alg) return Reason.TOKEN_ALG_NOT_ALLOWED;
  state.key = key;
  return undefined;
}
