import { Code } from "@connectrpc/connect";
import { Reason } from "../../gen/gatehouse/v1/errors_pb.js";

/** How one reason surfaces on each transport. */
export interface CatalogEntry {
  /** gRPC / Connect status code (the numbering is shared). */
  readonly code: Code;
  /** HTTP status for the sidecar and forward-auth. */
  readonly http: number;
  /** The public message: names what failed, never a value. */
  readonly message: string;
}

const entry = (code: Code, http: number, message: string): CatalogEntry => ({
  code,
  http,
  message,
});

/**
 * The one error catalog. Every refusal Gatehouse makes is a `Reason`; this table maps each
 * once to a status code, an HTTP status and a public message. A reason missing here maps
 * to INTERNAL (see `catalogEntry`), so nothing new can leak an unmapped status.
 */
const CATALOG: Readonly<Partial<Record<Reason, CatalogEntry>>> = {
  [Reason.INVALID_ARGUMENT]: entry(Code.InvalidArgument, 400, "invalid request field"),
  [Reason.UNAUTHENTICATED]: entry(Code.Unauthenticated, 401, "caller identity required"),
  [Reason.PERMISSION_DENIED]: entry(Code.PermissionDenied, 403, "caller may not call this RPC"),
  [Reason.OPERATOR_MISMATCH]: entry(
    Code.PermissionDenied,
    403,
    "resource belongs to another operator",
  ),
  [Reason.DID_MISMATCH]: entry(Code.PermissionDenied, 403, "DID differs from caller certificate"),
  // UNAUTHENTICATED, not PERMISSION_DENIED: the proxy is trusted, but no caller identity could
  // be established from what it forwarded.
  [Reason.FORWARDED_IDENTITY_INVALID]: entry(
    Code.Unauthenticated,
    401,
    "forwarded identity invalid",
  ),

  [Reason.CHALLENGE_NOT_FOUND]: entry(Code.NotFound, 404, "challenge not found"),
  [Reason.CHALLENGE_ALREADY_USED]: entry(Code.FailedPrecondition, 409, "challenge already used"),
  [Reason.CHALLENGE_EXPIRED]: entry(Code.FailedPrecondition, 410, "challenge expired"),
  [Reason.CHALLENGE_IDENTITY_MISMATCH]: entry(
    Code.PermissionDenied,
    403,
    "challenge was issued to another caller",
  ),
  [Reason.CHALLENGE_KIND_MISMATCH]: entry(
    Code.InvalidArgument,
    400,
    "answer kind differs from challenge kind",
  ),
  [Reason.CHALLENGE_KIND_UNSUPPORTED]: entry(
    Code.InvalidArgument,
    400,
    "challenge kind not supported",
  ),
  [Reason.ANSWER_INVALID]: entry(Code.Unauthenticated, 401, "challenge answer invalid"),
  [Reason.PASS_NOT_FOUND]: entry(Code.NotFound, 404, "pass not found"),
  [Reason.PASS_ALREADY_USED]: entry(Code.FailedPrecondition, 409, "pass already used"),
  [Reason.PASS_EXPIRED]: entry(Code.FailedPrecondition, 410, "pass expired"),
  [Reason.PASS_IDENTITY_MISMATCH]: entry(
    Code.PermissionDenied,
    403,
    "pass was issued to another caller",
  ),

  [Reason.ATTESTATION_REQUIRED]: entry(
    Code.PermissionDenied,
    403,
    "autonomy attestation required by policy",
  ),
  [Reason.ATTESTATION_INVALID]: entry(Code.Unauthenticated, 401, "autonomy attestation invalid"),
  [Reason.ATTESTATION_BELOW_POLICY]: entry(
    Code.PermissionDenied,
    403,
    "autonomy attestation below policy thresholds",
  ),
  [Reason.PLATFORM_ATTESTATION_INVALID]: entry(
    Code.Unauthenticated,
    401,
    "platform attestation missing or invalid",
  ),
  [Reason.RUNTIME_IMPLAUSIBLE]: entry(Code.PermissionDenied, 403, "reported runtime implausible"),

  [Reason.AGENT_NOT_FOUND]: entry(Code.NotFound, 404, "agent not found"),
  [Reason.AGENT_SUSPENDED]: entry(Code.PermissionDenied, 403, "agent suspended"),
  [Reason.AGENT_REVOKED]: entry(Code.PermissionDenied, 403, "agent revoked"),
  [Reason.AGENT_ALREADY_EXISTS]: entry(Code.AlreadyExists, 409, "agent or key already registered"),
  [Reason.OPERATOR_NOT_FOUND]: entry(Code.NotFound, 404, "operator not found"),
  [Reason.OPERATOR_ALREADY_EXISTS]: entry(Code.AlreadyExists, 409, "operator already exists"),
  [Reason.OPERATOR_SUSPENDED]: entry(Code.PermissionDenied, 403, "operator suspended"),
  [Reason.OPERATOR_REVOKED]: entry(Code.PermissionDenied, 403, "operator revoked"),
  [Reason.AGENT_KEY_REVOKED]: entry(Code.Unauthenticated, 401, "agent key revoked"),
  [Reason.PROOF_OF_POSSESSION_INVALID]: entry(
    Code.PermissionDenied,
    403,
    "proof of possession invalid",
  ),
  [Reason.DID_KEY_MISMATCH]: entry(
    Code.InvalidArgument,
    400,
    "DID is not derived from the key and operator",
  ),
  [Reason.POLICY_VERSION_CONFLICT]: entry(Code.Aborted, 409, "policy changed concurrently"),
  [Reason.OPERATOR_UNVERIFIED]: entry(
    Code.FailedPrecondition,
    403,
    "operator domain not verified: verify it first",
  ),
  [Reason.DOMAIN_VERIFICATION_FAILED]: entry(
    Code.FailedPrecondition,
    422,
    "domain ownership could not be verified",
  ),
  [Reason.REQUEST_SIGNATURE_INVALID]: entry(Code.Unauthenticated, 401, "request signature invalid"),
  [Reason.REQUEST_EXPIRED]: entry(Code.Unauthenticated, 401, "signed request outside time window"),
  [Reason.REQUEST_REPLAYED]: entry(Code.Unauthenticated, 401, "signed request replayed"),

  [Reason.SCOPE_NOT_ALLOWED]: entry(Code.PermissionDenied, 403, "scope outside agent policy"),
  [Reason.AUDIENCE_NOT_ALLOWED]: entry(Code.PermissionDenied, 403, "audience outside agent policy"),

  [Reason.TOKEN_MALFORMED]: entry(Code.Unauthenticated, 401, "token malformed"),
  [Reason.TOKEN_ALG_NOT_ALLOWED]: entry(Code.Unauthenticated, 401, "token alg not allowed"),
  [Reason.TOKEN_KID_UNKNOWN]: entry(Code.Unauthenticated, 401, "token kid unknown"),
  [Reason.TOKEN_HEADER_INVALID]: entry(Code.Unauthenticated, 401, "token header invalid"),
  [Reason.TOKEN_BAD_SIGNATURE]: entry(Code.Unauthenticated, 401, "token signature invalid"),
  [Reason.TOKEN_ISSUER_MISMATCH]: entry(Code.Unauthenticated, 401, "token issuer mismatch"),
  [Reason.TOKEN_AUDIENCE_MISMATCH]: entry(Code.Unauthenticated, 401, "token audience mismatch"),
  [Reason.TOKEN_EXPIRED]: entry(Code.Unauthenticated, 401, "token expired"),
  [Reason.TOKEN_NOT_YET_VALID]: entry(Code.Unauthenticated, 401, "token not yet valid"),
  [Reason.TOKEN_LIFETIME_EXCEEDED]: entry(
    Code.Unauthenticated,
    401,
    "token lifetime exceeds maximum",
  ),
  [Reason.TOKEN_REVOKED]: entry(Code.Unauthenticated, 401, "token revoked"),
  [Reason.TOKEN_CLAIMS_INVALID]: entry(Code.Unauthenticated, 401, "token claims invalid"),
  [Reason.INSUFFICIENT_SCOPE]: entry(Code.PermissionDenied, 403, "insufficient scope"),
  [Reason.DPOP_INVALID]: entry(Code.Unauthenticated, 401, "DPoP proof invalid"),
  [Reason.DPOP_REPLAYED]: entry(Code.Unauthenticated, 401, "DPoP proof replayed"),
  [Reason.DPOP_NONCE_REQUIRED]: entry(
    Code.FailedPrecondition,
    401,
    "DPoP nonce required: retry with the nonce provided",
  ),
  [Reason.TOKEN_BOUND_TO_KEY]: entry(
    Code.Unauthenticated,
    401,
    "token is bound to a key: present it with a DPoP proof",
  ),
  [Reason.ASSERTION_INVALID]: entry(Code.Unauthenticated, 401, "JWT assertion invalid"),
  [Reason.ASSERTION_REPLAYED]: entry(Code.Unauthenticated, 401, "JWT assertion already used"),
  [Reason.ENVELOPE_EXCEEDED]: entry(Code.ResourceExhausted, 429, "envelope request rate exceeded"),
  [Reason.OUTSIDE_ALLOWED_TIME]: entry(
    Code.PermissionDenied,
    403,
    "outside the agent's allowed time windows",
  ),
  [Reason.TRANSACTION_LIMIT_EXCEEDED]: entry(
    Code.PermissionDenied,
    402,
    "amount exceeds the per-transaction limit",
  ),
  [Reason.BUDGET_EXCEEDED]: entry(
    Code.PermissionDenied,
    402,
    "amount exceeds the remaining budget",
  ),
  [Reason.CURRENCY_MISMATCH]: entry(Code.PermissionDenied, 402, "currency not allowed by policy"),
  [Reason.AGENT_FROZEN]: entry(Code.PermissionDenied, 403, "agent temporarily frozen"),
  [Reason.DELEGATION_NOT_ALLOWED]: entry(
    Code.PermissionDenied,
    403,
    "policy does not allow this delegation",
  ),

  [Reason.RATE_LIMITED]: entry(Code.ResourceExhausted, 429, "rate limited"),
  // Not RESOURCE_EXHAUSTED: waiting does not help, solving a hashcash challenge does.
  [Reason.PROOF_OF_WORK_REQUIRED]: entry(
    Code.FailedPrecondition,
    428,
    "proof of work required: send a solved hashcash challenge as admission",
  ),
  [Reason.PROOF_OF_WORK_INVALID]: entry(
    Code.PermissionDenied,
    403,
    "proof-of-work admission invalid",
  ),
  [Reason.UNAVAILABLE]: entry(Code.Unavailable, 503, "dependency unavailable"),
  [Reason.INTERNAL]: entry(Code.Internal, 500, "internal error"),

  [Reason.GRANT_NOT_FOUND]: entry(Code.NotFound, 404, "grant not found"),
  [Reason.GRANT_STATE_CONFLICT]: entry(
    Code.FailedPrecondition,
    409,
    "grant is not in a state that allows this",
  ),
  [Reason.GRANT_PENDING_LIMIT]: entry(
    Code.ResourceExhausted,
    429,
    "too many pending grant requests",
  ),
  [Reason.GRANT_COOLDOWN]: entry(
    Code.ResourceExhausted,
    429,
    "recent grant requests were denied: wait before asking again",
  ),
  [Reason.GRANT_REVOKED]: entry(
    Code.PermissionDenied,
    403,
    "a grant the token relies on was revoked or expired",
  ),
  [Reason.APPROVAL_INVALID]: entry(Code.PermissionDenied, 403, "passkey verification failed"),
  [Reason.APPROVAL_REPLAYED]: entry(
    Code.PermissionDenied,
    403,
    "approval challenge used or expired",
  ),
  [Reason.INVITE_INVALID]: entry(Code.PermissionDenied, 403, "invitation unknown, used or expired"),
  [Reason.APPROVER_NOT_FOUND]: entry(Code.NotFound, 404, "approver not found"),

  [Reason.HTTP_ROUTE_NOT_FOUND]: entry(Code.NotFound, 404, "no route for this path"),
  [Reason.HTTP_METHOD_NOT_ALLOWED]: entry(
    Code.Unimplemented,
    405,
    "the route does not accept this HTTP method",
  ),
  [Reason.HTTP_BODY_TOO_LARGE]: entry(Code.ResourceExhausted, 413, "request body too large"),
  [Reason.HTTP_REQUEST_TIMEOUT]: entry(Code.DeadlineExceeded, 408, "request took too long"),
  [Reason.HTTP_HEADERS_TOO_LARGE]: entry(
    Code.ResourceExhausted,
    431,
    "request header fields too large",
  ),
  [Reason.TOKEN_NOT_FOUND]: entry(Code.NotFound, 404, "token not found"),
  [Reason.AUDIT_ARCHIVED]: entry(
    Code.FailedPrecondition,
    412,
    "audit entries were pruned from the live log (archived)",
  ),
  [Reason.AUDIT_PRUNE_MISMATCH]: entry(
    Code.FailedPrecondition,
    412,
    "the live audit entry does not have the archived hash",
  ),
  // UNIMPLEMENTED, not PERMISSION_DENIED: no caller may call it here; another server serves
  // it. Over plain HTTP (sidecar, forward-auth) a 404: the route is not here, nothing failed.
  [Reason.METHOD_NOT_SERVED]: entry(
    Code.Unimplemented,
    404,
    "this server's role does not serve this method",
  ),
};

const INTERNAL_ENTRY = entry(Code.Internal, 500, "internal error");

export function catalogEntry(reason: Reason): CatalogEntry {
  return CATALOG[reason] ?? INTERNAL_ENTRY;
}

/** Every reason the catalog maps (for tests that prove coverage). */
export function catalogReasons(): Reason[] {
  return Object.keys(CATALOG).map((key) => Number(key) as Reason);
}
