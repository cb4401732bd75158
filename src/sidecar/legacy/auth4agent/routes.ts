import { create } from "@bufbuild/protobuf";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { Reason } from "../../../../gen/gatehouse/v1/errors_pb.js";
import {
  ChallengeKind,
  type ChallengeResponse,
  GateService,
  type TokenResponse,
} from "../../../../gen/gatehouse/v1/gate_pb.js";
import {
  RegistryService,
  type ResolveDidResponse,
} from "../../../../gen/gatehouse/v1/registry_pb.js";
import { type VerifyResponse, VerifyService } from "../../../../gen/gatehouse/v1/verify_pb.js";
import type { Clock } from "../../../clock.js";
import { decodeJsonSegment, splitCompactJws } from "../../../crypto/jose/compact.js";
import { toGatehouseError } from "../../../errors/index.js";
import type { ClientAddressOf } from "../../client-address.js";
import { type HttpRequest, type HttpResponse, sendJson } from "../../http-io.js";
import type { OnBehalfOf, Upstream } from "../../upstream.js";
import { legacyCaller } from "../caller.js";
import { readJsonObject, requiredString } from "../json-body.js";
import { LegacyRefusal, methodNotAllowed, refusalOf } from "../refusal.js";
import { operatorRoute } from "./operators.js";
import { parseProof } from "./proof.js";

export interface Auth4AgentDeps {
  readonly upstream: Upstream;
  readonly clock: Clock;
  /** The caller's address: the TCP peer's, or a trusted terminator's `X-Forwarded-For`. */
  readonly clientAddressOf: ClientAddressOf;
  readonly maxBodyBytes: number;
  /** Where the sidecar is reached (`sidecar.public_url`): the discovery document names it. */
  readonly publicUrl: string;
}

const { challenge, token } = GateService.method;
const { verify } = VerifyService.method;
const { resolveDid } = RegistryService.method;

/** The DIDs Gatehouse registers (the ChallengeRequest.did rule). */
const DID = /^did:(agent:[a-z0-9.-]{1,253}:[0-9a-f]{32}|key:z[1-9A-HJ-NP-Za-km-z]{40,60})$/;

/** Gatehouse's refusals in Auth4Agent's words (`{"error": "…"}`). */
const WORDS: Partial<Record<Reason, readonly [number, string]>> = {
  [Reason.CHALLENGE_NOT_FOUND]: [401, "unknown challenge"],
  [Reason.CHALLENGE_EXPIRED]: [401, "challenge expired"],
  [Reason.ANSWER_INVALID]: [401, "invalid proof signature"],
  [Reason.CHALLENGE_ALREADY_USED]: [409, "challenge already used"],
  [Reason.CHALLENGE_IDENTITY_MISMATCH]: [403, "challenge was not issued to this agent"],
  [Reason.DID_MISMATCH]: [403, "the client certificate names another agent"],
  [Reason.CHALLENGE_KIND_MISMATCH]: [400, "not an Auth4Agent challenge"],
  [Reason.AGENT_NOT_FOUND]: [404, "agent not found"],
  [Reason.OPERATOR_NOT_FOUND]: [404, "operator not found"],
  [Reason.RATE_LIMITED]: [429, "rate limit exceeded"],
};

/**
 * Auth4Agent-style routes over Gatehouse's own services. `/v1/challenge` asks Challenge for a
 * CHALLENGE_KIND_DID_PROOF challenge and `/v1/token` redeems it with TokenRequest.did_proof,
 * for the caller's client certificate when it has one, else for its DID claim (Gatehouse's
 * `claimant`, which may do nothing else): the Ed25519 proof authenticates it, the challenge is
 * single-use and bound to the DID. `/v1/verify` is Verify, `/v1/agent/{did}` ResolveDid.
 * Returns false for other paths.
 */
export function createAuth4AgentRoutes(deps: Auth4AgentDeps) {
  const routes: Readonly<Record<string, readonly [string, Handler]>> = {
    "/v1/challenge": ["POST", issueChallenge],
    "/v1/token": ["POST", issueToken],
    "/v1/verify": ["POST", verifyToken],
    "/.well-known/auth4agent": ["GET", discovery],
    "/health": ["GET", async () => ({ status: "ok" })],
  };
  /** The handler of a path, with the method it answers; the operator routes check their own. */
  const find = (path: string): Handler | undefined => {
    const operator = operatorRoute(path);
    if (operator !== undefined) return operator;
    const [method, handle] = path.startsWith("/v1/agent/") ? ["GET", agent] : (routes[path] ?? []);
    if (method === undefined || handle === undefined) return undefined;
    return (req, url, deps) => {
      if (req.method !== method) throw methodNotAllowed(method);
      return handle(req, url, deps);
    };
  };
  return async (req: HttpRequest, res: HttpResponse, url: URL): Promise<boolean> => {
    const handle = find(url.pathname);
    if (handle === undefined) return false;
    try {
      sendJson(res, 200, await handle(req, url, deps));
    } catch (thrown) {
      const refusal =
        thrown instanceof LegacyRefusal ? thrown : refusalOf(toGatehouseError(thrown), WORDS);
      sendJson(res, refusal.status, { error: refusal.detail }, refusal.headers);
    }
    return true;
  };
}

export type Handler = (req: HttpRequest, url: URL, deps: Auth4AgentDeps) => Promise<unknown>;

/**
 * The caller: its verified client certificate when it has one, else the DID it claims; with
 * the address it connected from, under which Gatehouse counts its limits.
 */
function callerOf(req: HttpRequest, did: string, deps: Auth4AgentDeps): OnBehalfOf {
  const { address, certificatePem } = legacyCaller(req, deps.clientAddressOf);
  return certificatePem === undefined ? { didClaim: did, address } : { certificatePem, address };
}

function didFrom(body: Record<string, unknown>): string {
  const did = requiredString(body, "did", 256);
  if (!DID.test(did)) throw new LegacyRefusal(400, "did is not a did:agent or did:key DID");
  return did;
}

async function issueChallenge(req: HttpRequest, _url: URL, deps: Auth4AgentDeps) {
  const did = didFrom(await readJsonObject(req, deps.maxBodyBytes));
  const request = create(challenge.input, { did, kind: ChallengeKind.DID_PROOF });
  const issued = (await deps.upstream.call(
    challenge,
    request,
    callerOf(req, did, deps),
  )) as ChallengeResponse;
  if (issued.body.case !== "didProof" || !issued.expiresAt) {
    throw new LegacyRefusal(503, "challenge not available");
  }
  return {
    challenge: issued.challengeId,
    nonce: issued.body.value.nonce,
    expires_at: new Date(timestampMs(issued.expiresAt)).toISOString(),
  };
}

async function issueToken(req: HttpRequest, _url: URL, deps: Auth4AgentDeps) {
  const body = await readJsonObject(req, deps.maxBodyBytes);
  const did = didFrom(body);
  const proof = parseProof(body.proof, did);
  const ttl = body.ttl ?? 0;
  if (typeof ttl !== "number" || !Number.isInteger(ttl) || ttl < 0 || ttl > 86_400) {
    throw new LegacyRefusal(400, "ttl must be a whole number of seconds, at most 86400");
  }
  const request = create(token.input, {
    grant: {
      case: "didProof",
      value: {
        challengeId: proof.challenge,
        signature: proof.signature,
        scopes: scopesOf(body.scope),
        audience: requiredString(body, "audience", 256),
        ttlSeconds: ttl,
      },
    },
  });
  const issued = (await deps.upstream.call(
    token,
    request,
    callerOf(req, did, deps),
  )) as TokenResponse;
  const expiresAt = issued.expiresAt ? timestampMs(issued.expiresAt) : deps.clock.now();
  return {
    access_token: issued.accessToken,
    token_type: issued.tokenType,
    expires_in: Math.max(0, Math.floor((expiresAt - deps.clock.now()) / 1000)),
  };
}

/** `scope`: space-separated (OAuth style) or a list; at least one. */
function scopesOf(value: unknown): string[] {
  const scopes =
    typeof value === "string" ? value.split(" ").filter((scope) => scope !== "") : value;
  if (
    !Array.isArray(scopes) ||
    scopes.length === 0 ||
    scopes.length > 64 ||
    !scopes.every((scope) => typeof scope === "string")
  ) {
    throw new LegacyRefusal(400, "scope is required");
  }
  return scopes as string[];
}

/**
 * `POST /v1/verify {token}` → `{valid, revoked, claims, verified_at}`. The legacy request names
 * no audience, so the token's own `aud` is the one Verify checks (nothing of the token is
 * trusted before Verify's signature check); a DPoP-bound token verifies only with its proof,
 * which this route cannot carry, so it is never `valid` here. Claims only when valid.
 */
async function verifyToken(req: HttpRequest, _url: URL, deps: Auth4AgentDeps) {
  const body = await readJsonObject(req, deps.maxBodyBytes);
  const value = requiredString(body, "token", 8192);
  const payload = payloadOf(value);
  const audience = typeof payload?.aud === "string" ? payload.aud : "";
  const verifiedAt = new Date(deps.clock.now()).toISOString();
  if (payload === undefined || audience === "") {
    return { valid: false, revoked: false, claims: {}, verified_at: verifiedAt };
  }
  const request = create(verify.input, { token: value, audience });
  const decision = (await deps.upstream.call(verify, request, "sidecar")) as VerifyResponse;
  const revoked = REVOKED.has(decision.reason);
  return {
    valid: decision.allowed,
    revoked,
    claims: decision.allowed ? payload : {},
    verified_at: verifiedAt,
  };
}

/** The reasons that mean "revoked": the token, its agent, its key or its operator. */
const REVOKED: ReadonlySet<Reason> = new Set([
  Reason.TOKEN_REVOKED,
  Reason.AGENT_REVOKED,
  Reason.AGENT_KEY_REVOKED,
  Reason.OPERATOR_REVOKED,
]);

function payloadOf(value: string): Record<string, unknown> | undefined {
  const segments = splitCompactJws(value);
  return segments === undefined ? undefined : decodeJsonSegment(segments[1]);
}

/** `GET /v1/agent/{did}`: the agent's DID document and status (public keys only). */
async function agent(_req: HttpRequest, url: URL, deps: Auth4AgentDeps) {
  let did: string;
  try {
    did = decodeURIComponent(url.pathname.slice("/v1/agent/".length));
  } catch {
    throw new LegacyRefusal(400, "did is not a did:agent or did:key DID");
  }
  if (!DID.test(did)) throw new LegacyRefusal(400, "did is not a did:agent or did:key DID");
  const request = create(resolveDid.input, { did });
  const resolved = (await deps.upstream.call(resolveDid, request, "sidecar")) as ResolveDidResponse;
  return {
    did,
    status: resolved.deactivated ? "deactivated" : "active",
    document: resolved.document ?? {},
  };
}

/** `GET /.well-known/auth4agent`: where each route is, and what proofs they take. */
async function discovery(_req: HttpRequest, _url: URL, deps: Auth4AgentDeps) {
  const base = deps.publicUrl.replace(/\/$/, "");
  return {
    challenge_endpoint: `${base}/v1/challenge`,
    token_endpoint: `${base}/v1/token`,
    verify_endpoint: `${base}/v1/verify`,
    agent_endpoint: `${base}/v1/agent/{did}`,
    jwks_uri: `${base}/.well-known/jwks.json`,
    proof_types_supported: ["Ed25519Signature2020"],
    did_methods_supported: ["did:agent", "did:key"],
  };
}
