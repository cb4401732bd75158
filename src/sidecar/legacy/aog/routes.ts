import { createHash, X509Certificate } from "node:crypto";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { Reason } from "../../../../gen/gatehouse/v1/errors_pb.js";
import {
  ChallengeKind,
  type ChallengeResponse,
  GateService,
  type SubmitRequestSchema,
} from "../../../../gen/gatehouse/v1/gate_pb.js";
import type { Clock } from "../../../clock.js";
import { toGatehouseError } from "../../../errors/index.js";
import { uriSans } from "../../../identity/caller.js";
import type { ClientAddressOf } from "../../client-address.js";
import { type HttpRequest, type HttpResponse, sendJson } from "../../http-io.js";
import type { Upstream } from "../../upstream.js";
import { legacyCaller } from "../caller.js";
import { optionalString, readJsonObject, requiredString } from "../json-body.js";
import { LegacyRefusal, methodNotAllowed, refusalOf } from "../refusal.js";
import { verifyAogAttestation } from "./attestation.js";
import { checkUnsignedAutonomy } from "./autonomy.js";
import { aogCertificate } from "./identity.js";

export interface AogDeps {
  readonly upstream: Upstream;
  readonly clock: Clock;
  /** The caller's address: the TCP peer's, or a trusted terminator's `X-Forwarded-For`. */
  readonly clientAddressOf: ClientAddressOf;
  readonly maxBodyBytes: number;
  /** What every AOG login is bound to (`sidecar.legacy_aog_audience`, `_scopes`). */
  readonly audience: string;
  readonly scopes: readonly string[];
  /** `sidecar.legacy_aog_header_secret`: unset, only mTLS names the caller. */
  readonly headerSecret?: string;
  /** `sidecar.legacy_aog_unsigned_autonomy`. */
  readonly acceptUnsignedAutonomy: boolean;
  /** `tokens.clock_skew_seconds`. */
  readonly skewSeconds: number;
}

/** How old an AOG `attestation` JWT may be: the longest a challenge stays open, with margin. */
const ATTESTATION_MAX_AGE_SECONDS = 300;

const { challenge, submit } = GateService.method;

type SubmitAnswer = NonNullable<MessageInitShape<typeof SubmitRequestSchema>["answer"]>;

/** The AOG challenge types and the Gatehouse kinds that serve them. */
const KINDS: Readonly<Record<string, ChallengeKind>> = {
  reasoning: ChallengeKind.REASONING,
  legacy: ChallengeKind.ITERATED_HASH,
};

/** Gatehouse's refusals in AOG's words: 400 input, 403 identity, 408 deadline, 409 replay, 429. */
const WORDS: Partial<Record<Reason, readonly [number, string]>> = {
  [Reason.INVALID_ARGUMENT]: [400, "invalid request"],
  [Reason.CHALLENGE_NOT_FOUND]: [400, "invalid or unknown nonce"],
  [Reason.CHALLENGE_KIND_MISMATCH]: [400, "challenge_type does not match the challenge"],
  [Reason.ANSWER_INVALID]: [400, "incorrect answer"],
  [Reason.RUNTIME_IMPLAUSIBLE]: [400, "runtime_ms implausible"],
  [Reason.CHALLENGE_IDENTITY_MISMATCH]: [403, "client identity mismatch"],
  [Reason.DID_MISMATCH]: [403, "client identity mismatch"],
  [Reason.FORWARDED_IDENTITY_INVALID]: [403, "client certificate not accepted"],
  [Reason.UNAUTHENTICATED]: [403, "client certificate not accepted"],
  [Reason.PERMISSION_DENIED]: [403, "client certificate not accepted"],
  [Reason.ATTESTATION_REQUIRED]: [403, "autonomy attestation required"],
  [Reason.ATTESTATION_INVALID]: [403, "attestation verification failed"],
  [Reason.ATTESTATION_BELOW_POLICY]: [403, "attestation verification failed"],
  [Reason.PLATFORM_ATTESTATION_INVALID]: [403, "attestation verification failed"],
  [Reason.CHALLENGE_EXPIRED]: [408, "submission past deadline"],
  [Reason.CHALLENGE_ALREADY_USED]: [409, "replay detected"],
  [Reason.RATE_LIMITED]: [429, "rate limit exceeded"],
  [Reason.PROOF_OF_WORK_REQUIRED]: [429, "rate limit exceeded"],
};

/**
 * AOG-style `GET /challenge?challenge_type=reasoning|legacy` and `POST /task`, over Gatehouse's
 * Challenge and Submit for the caller's client certificate (aogCertificate). Gatehouse keeps
 * every guarantee: the challenge is bound to the certificate, the DID, the configured scopes
 * and audience; Submit consumes it on the first attempt and checks the answer by the kind it
 * stored. Refusals are AOG's `{"detail": "…"}`. Returns false for other paths.
 */
export function createAogRoutes(deps: AogDeps) {
  return async (req: HttpRequest, res: HttpResponse, url: URL): Promise<boolean> => {
    if (url.pathname !== "/challenge" && url.pathname !== "/task") return false;
    try {
      const method = url.pathname === "/challenge" ? "GET" : "POST";
      if (req.method !== method) throw methodNotAllowed(method);
      const body = method === "GET" ? await issue(req, url, deps) : await answer(req, deps);
      sendJson(res, 200, body);
    } catch (thrown) {
      const refusal =
        thrown instanceof LegacyRefusal ? thrown : refusalOf(toGatehouseError(thrown), WORDS);
      sendJson(res, refusal.status, { detail: refusal.detail }, refusal.headers);
    }
    return true;
  };
}

async function issue(req: HttpRequest, url: URL, deps: AogDeps) {
  const caller = legacyCaller(req, deps.clientAddressOf);
  const certificatePem = aogCertificate(req, caller, deps.headerSecret);
  const type = url.searchParams.get("challenge_type") ?? "reasoning";
  const kind = KINDS[type];
  if (kind === undefined || url.searchParams.getAll("challenge_type").length > 1) {
    throw new LegacyRefusal(400, "challenge_type must be reasoning or legacy");
  }
  const request = create(challenge.input, {
    did: didOf(certificatePem),
    kind,
    scopes: [...deps.scopes],
    audience: deps.audience,
  });
  const issued = (await deps.upstream.call(challenge, request, {
    certificatePem,
    address: caller.address,
  })) as ChallengeResponse;
  const nonce = issued.challengeId;
  const deadline = issued.expiresAt ? timestampMs(issued.expiresAt) / 1000 : 0;
  const common = { nonce, challenge_type: type, deadline_ts: deadline };
  const issuedAt = deps.clock.now() / 1000;
  const { body } = issued;
  if (body.case === "reasoning") {
    // Self-contained: the task and how to write the answer, in one text.
    const question = `${body.value.prompt}\n\nAnswer format: ${body.value.answerFormat}`;
    // AOG sent a seed with every challenge; the generator's seed would give the answer away.
    const seed = createHash("sha256").update(nonce).digest("hex").slice(0, 32);
    return { ...common, question, seed, issued_at: issuedAt };
  }
  if (body.case === "iteratedHash") {
    // AOG hashes the seed once and then `iterations` more times: N - 1 for Gatehouse's N.
    const { seed, iterations } = body.value;
    return { ...common, seed, iterations: iterations - 1, issued_at: issuedAt };
  }
  throw new LegacyRefusal(503, "challenge kind not available");
}

async function answer(req: HttpRequest, deps: AogDeps) {
  const caller = legacyCaller(req, deps.clientAddressOf);
  const certificatePem = aogCertificate(req, caller, deps.headerSecret);
  const body = await readJsonObject(req, deps.maxBodyBytes);
  const nonce = requiredString(body, "nonce", 128);
  const type = requiredString(body, "challenge_type", 32);
  const runtimeMs = body.runtime_ms;
  if (typeof runtimeMs !== "number" || !Number.isInteger(runtimeMs) || runtimeMs < 0) {
    throw new LegacyRefusal(400, "runtime_ms must be a non-negative integer");
  }
  requiredString(body, "client_fingerprint", 256); // reported by AOG clients; identifies nothing
  optionalString(body, "trace_hash", 256);
  const attestation = optionalString(body, "attestation", 8192);
  const request = create(submit.input, {
    challengeId: nonce,
    answer: answerOf(body, type),
    runtimeMs: Math.min(runtimeMs, 3_600_001), // beyond the contract's bound: refused upstream
  });
  const onBehalfOf = { certificatePem, address: caller.address };
  await deps.upstream.call(submit, request, onBehalfOf).catch((thrown: unknown) => {
    const error = toGatehouseError(thrown);
    if (error.reason === Reason.INVALID_ARGUMENT && error.field === "challenge_id") {
      throw new LegacyRefusal(400, "invalid or unknown nonce");
    }
    if (error.reason === Reason.ANSWER_INVALID && type === "legacy") {
      throw new LegacyRefusal(400, "incorrect result hash");
    }
    throw error;
  });
  // Checked after Submit spent the challenge: a refusal here costs the attempt like any other.
  checkUnsignedAutonomy(body.autonomy_attestation, deps.acceptUnsignedAutonomy);
  if (attestation !== undefined && attestation !== "") {
    const now = Math.floor(deps.clock.now() / 1000);
    const context = {
      certificatePem,
      did: didOf(certificatePem),
      now,
      maxAgeSeconds: ATTESTATION_MAX_AGE_SECONDS,
      skewSeconds: deps.skewSeconds,
    };
    if (!verifyAogAttestation(attestation, context)) {
      throw new LegacyRefusal(403, "attestation verification failed");
    }
  }
  return { status: "accepted", nonce };
}

/** The answer by the type the client names; Gatehouse checks it against the stored kind. */
function answerOf(body: Record<string, unknown>, type: string): SubmitAnswer {
  if (type === "reasoning") {
    const value = optionalString(body, "answer", 1024);
    if (!value) throw new LegacyRefusal(400, "answer required for reasoning challenge");
    return { case: "reasoning", value: { answer: value } };
  }
  if (type === "legacy") {
    const digest = optionalString(body, "result_hash", 64);
    if (!digest) throw new LegacyRefusal(400, "result_hash required for legacy challenge");
    return { case: "iteratedHash", value: { digest } };
  }
  throw new LegacyRefusal(400, "challenge_type must be reasoning or legacy");
}

/** The DID the client certificate names (its `did:` URI SAN). */
function didOf(certificatePem: string): string {
  const uris = uriSans(new X509Certificate(certificatePem).subjectAltName ?? "");
  const dids = uris.filter((uri) => uri.startsWith("did:"));
  if (dids.length !== 1 || dids[0] === undefined) {
    throw new LegacyRefusal(403, "client certificate names no agent");
  }
  return dids[0];
}
