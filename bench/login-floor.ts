/**
 * The login floor (`BENCH_ONLY=login`, run right after the login): the least work any Node
 * gRPC gate does for the bench's login, served to the same Go load generator, agents and
 * client certificates, in as many processes as Gatehouse runs (bench/server.ts starts it
 * instead of Gatehouse when its options carry `floor`). Per login it keeps only what the
 * login cannot do without:
 *   - three unary RPCs over the same transport (grpc-js, HTTP/2, mutual TLS, one connection
 *     per agent), the messages decoded and encoded with the generated protobuf-es code;
 *   - Challenge: a random id, the signing input bound to the caller's certificate
 *     (src/challenges/signature/signing-input.ts);
 *   - Submit: the challenge taken once from a Map, the agent's Ed25519 signature verified;
 *   - Token: the pass taken once from a Map, an access token signed with Ed25519; or, the
 *     one-RPC grant, an RFC 7523 assertion verified (Ed25519, issuer, expiry, `jti` once).
 * No store, no audit, no rate limits, no policy, no validation beyond what the three steps
 * read: what it costs is the bound the transport and the two signatures put on any login
 * here, so the bench can show how much of the targets (1,000 logins/s, 2,500 assertion
 * grants/s) the machine leaves.
 *
 * With `redisUrl`, the store floor: the same, with the one-time state where replicas must
 * share it (the issue's targets are on Redis), and the least store work that allows:
 *   - Challenge: SET NX PX of the challenge, RPUSH of one audit line, in one round trip;
 *   - Submit: GETDEL of the challenge (taken once, atomically), then SET PX of the pass and
 *     RPUSH of an audit line;
 *   - Token: GETDEL of the pass (or, for an assertion, SET NX PX of its `jti`), then RPUSH of
 *     an audit line.
 * Eight commands per login on the same client and auto-pipelining as Gatehouse's
 * (src/store/redis/connect.ts). The audit lines are neither chained nor signed, and there are
 * no rate limits: still a floor, below what a gate that keeps the issue's rules can do.
 * Never a server to deploy: it trusts its Maps and keeps no limits.
 *
 * With `rules` as well, the rules floor (bench/login-floor-rules.ts): the store floor plus the
 * store work of the rules Gatehouse keeps (limits, registry and revocation reads, chained
 * and signed audit), done with Gatehouse's own store adapters.
 */
import {
  createPublicKey,
  generateKeyPairSync,
  hash,
  type KeyObject,
  sign,
  verify,
} from "node:crypto";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import * as grpc from "@grpc/grpc-js";
import {
  ChallengeRequestSchema,
  ChallengeResponseSchema,
  SubmitRequestSchema,
  SubmitResponseSchema,
  TokenRequestSchema,
  TokenResponseSchema,
} from "../gen/gatehouse/v1/gate_pb.js";
import { challengeSigningInput } from "../src/challenges/signature/signing-input.js";
import { encodeBase64url } from "../src/crypto/jose/base64url.js";
import { randomId } from "../src/crypto/random.js";
import { SIGNING_INPUT_FORMAT } from "../src/crypto/signing-input.js";
import type { DevPki } from "../src/pki/dev-pki.js";
import { connectionOf } from "../src/server/grpc-internals.js";
import { connectRedis } from "../src/store/redis/connect.js";
import { rulesState } from "./login-floor-rules.js";
import { BENCH_ISSUER } from "./protocol.js";

/** The agents the floor knows: DID and Ed25519 public key (raw, base64url). */
export interface FloorOptions {
  readonly agents: readonly { readonly did: string; readonly publicKey: string }[];
  /** Keep the one-time state and the audit lines in this Redis (the store floor). */
  readonly redisUrl?: string | undefined;
  /** With `redisUrl`: the rules floor (bench/login-floor-rules.ts). */
  readonly rules?: boolean | undefined;
}

export interface FloorServer {
  readonly grpcPort: number;
  stop(): Promise<void>;
}

const CHALLENGE_TTL_MS = 60_000;
const TOKEN_TTL_SECONDS = 300;

/** What a token is issued for: the agent, its scopes (space-separated) and audience. */
export interface Grant {
  readonly did: string;
  readonly scope: string;
  readonly audience: string;
}

/** A challenge until it is answered: its grant and the input the agent signs. */
export interface Pending extends Grant {
  readonly input: Uint8Array;
}

export async function startLoginFloor(pki: DevPki, options: FloorOptions): Promise<FloorServer> {
  const keys = new Map<string, KeyObject>(
    options.agents.map(({ did, publicKey }) => [
      did,
      createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: publicKey }, format: "jwk" }),
    ]),
  );
  const tokenKey = generateKeyPairSync("ed25519").privateKey;
  const state = !options.redisUrl
    ? mapState()
    : options.rules
      ? await rulesState(options.redisUrl)
      : redisState(options.redisUrl);
  /** Who is calling, read once per connection (as Gatehouse does, src/identity/peer-identity.ts). */
  const peers = new WeakMap<object, FloorPeer>();
  const peerOf = (call: grpc.ServerUnaryCall<Buffer, Buffer>): FloorPeer | undefined => {
    const connection = connectionOf(call);
    let peer = connection && peers.get(connection);
    if (peer === undefined) {
      const certificate = call.getAuthContext().sslPeerCertificate;
      if (!certificate) return undefined;
      peer = {
        caller: hash("sha256", certificate.raw, "hex"),
        address: call.getPeer().replace(/:\d+$/, ""),
      };
      if (connection) peers.set(connection, peer);
    }
    return peer;
  };
  const server = new grpc.Server({ "grpc.enable_channelz": 0 });
  const raw = (name: string): grpc.MethodDefinition<Buffer, Buffer> => ({
    path: `/gatehouse.v1.GateService/${name}`,
    requestStream: false,
    responseStream: false,
    requestSerialize: (value) => value,
    requestDeserialize: (value) => value,
    responseSerialize: (value) => value,
    responseDeserialize: (value) => value,
  });
  type Handler = (
    request: Buffer,
    call: grpc.ServerUnaryCall<Buffer, Buffer>,
  ) => Promise<Uint8Array> | Uint8Array;
  const unary =
    (handler: Handler): grpc.handleUnaryCall<Buffer, Buffer> =>
    async (call, callback) => {
      try {
        const bytes = await handler(call.request, call);
        callback(null, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      } catch {
        // No detail: an error's text could echo the request (a JSON.parse of a claims segment).
        callback({ code: grpc.status.PERMISSION_DENIED, details: "refused by the floor" });
      }
    };
  server.addService(
    { challenge: raw("Challenge"), submit: raw("Submit"), token: raw("Token") },
    {
      challenge: unary(async (bytes, call) => {
        const request = fromBinary(ChallengeRequestSchema, bytes);
        const peer = peerOf(call);
        if (!peer || !keys.has(request.did)) throw new Error("unknown caller or agent");
        const { caller } = peer;
        const challengeId = randomId();
        const expiresAt = Date.now() + CHALLENGE_TTL_MS;
        const input = challengeSigningInput({
          issuer: BENCH_ISSUER,
          challengeId,
          did: request.did,
          caller,
          scopes: request.scopes,
          audience: request.audience,
          expiresAt,
        });
        const scope = [...request.scopes].sort().join(" ");
        await state.putChallenge(
          challengeId,
          { did: request.did, input, scope, audience: request.audience },
          CHALLENGE_TTL_MS,
          peer,
        );
        return toBinary(
          ChallengeResponseSchema,
          create(ChallengeResponseSchema, {
            challengeId,
            kind: request.kind,
            expiresAt: timestampFromMs(expiresAt),
            body: {
              case: "signature",
              value: {
                signingInput: input,
                format: SIGNING_INPUT_FORMAT,
                issuer: BENCH_ISSUER,
                caller,
              },
            },
          }),
        );
      }),
      submit: unary(async (bytes, call) => {
        const request = fromBinary(SubmitRequestSchema, bytes);
        const peer = peerOf(call);
        if (!peer) throw new Error("unknown caller");
        const pending = await state.takeChallenge(request.challengeId, peer);
        const key = pending && keys.get(pending.did);
        if (!pending || !key || request.answer.case !== "signature") throw new Error("refused");
        if (!verify(null, pending.input, key, request.answer.value.signature)) {
          throw new Error("bad signature");
        }
        const pass = randomId();
        await state.putPass(pass, pending, CHALLENGE_TTL_MS, peer);
        return toBinary(
          SubmitResponseSchema,
          create(SubmitResponseSchema, {
            passToken: pass,
            expiresAt: timestampFromMs(Date.now() + CHALLENGE_TTL_MS),
          }),
        );
      }),
      token: unary(async (bytes, call) => {
        const request = fromBinary(TokenRequestSchema, bytes);
        const peer = peerOf(call);
        if (!peer) throw new Error("unknown caller");
        let grant: Grant | undefined;
        if (request.grant.case === "passToken") {
          grant = await state.takePass(request.grant.value);
        } else if (request.grant.case === "assertion") {
          const { assertion, scopes, audience } = request.grant.value;
          const claims = assertionClaims(assertion, keys);
          if (claims && (await state.firstJti(claims.jti, claims.exp * 1000 - Date.now()))) {
            grant = { did: claims.iss, scope: scopes.join(" "), audience };
          }
        }
        if (!grant) throw new Error("refused");
        const token = accessToken(grant, tokenKey);
        await state.issued(grant, token.jti, token.expMs, peer);
        return token.response;
      }),
    },
  );
  const credentials = grpc.ServerCredentials.createSsl(
    Buffer.from(pki.ca.certPem),
    [{ private_key: Buffer.from(pki.server.keyPem), cert_chain: Buffer.from(pki.server.certPem) }],
    true,
  );
  const grpcPort = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", credentials, (error, port) =>
      error ? reject(error) : resolve(port),
    ),
  );
  return {
    grpcPort,
    stop: async () => {
      await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
      await state.close();
    },
  };
}

/** The caller of an RPC: its certificate's SHA-256 (hex) and its IP address. */
export interface FloorPeer {
  readonly caller: string;
  readonly address: string;
}

/** Where the floor keeps its one-time state and audit lines. */
export interface FloorState {
  /** Stores the challenge and audits its issue. */
  putChallenge(id: string, pending: Pending, ttlMs: number, peer: FloorPeer): Promise<void>;
  /** The challenge, taken once. */
  takeChallenge(id: string, peer: FloorPeer): Promise<Pending | undefined>;
  /** Stores the pass and audits its issue. */
  putPass(id: string, grant: Grant, ttlMs: number, peer: FloorPeer): Promise<void>;
  /** The pass, taken once. */
  takePass(id: string): Promise<Grant | undefined>;
  /** True the first time this `jti` is seen within `ttlMs`. */
  firstJti(jti: string, ttlMs: number): Promise<boolean>;
  /** Audits the token `jti`, issued for `grant` until `expMs`. */
  issued(grant: Grant, jti: string, expMs: number, peer: FloorPeer): Promise<void>;
  close(): Promise<void>;
}

/** Maps in this process: the floor without a store. Nothing expires (a floor lives for seconds). */
function mapState(): FloorState {
  const challenges = new Map<string, Pending>();
  const passes = new Map<string, Grant>();
  const seenJtis = new Set<string>();
  const take = <T>(map: Map<string, T>, id: string) => {
    const value = map.get(id);
    map.delete(id);
    return Promise.resolve(value);
  };
  return {
    putChallenge: async (id, pending) => void challenges.set(id, pending),
    takeChallenge: (id) => take(challenges, id),
    putPass: async (id, grant) => void passes.set(id, grant),
    takePass: (id) => take(passes, id),
    firstJti: async (jti) => !seenJtis.has(jti) && Boolean(seenJtis.add(jti)),
    issued: async () => {},
    close: async () => {},
  };
}

/** The store floor's keys (apart from Gatehouse's `gh:` ones, though it runs alone). */
const FLOOR_KEYS = "floor:";
const FLOOR_AUDIT = `${FLOOR_KEYS}audit`;

/** Redis: each put and its audit line go out together (auto-pipelined), a take is a GETDEL. */
function redisState(url: string): FloorState {
  const redis = connectRedis(url);
  const line = (type: string, did: string) => JSON.stringify({ type, did, time: Date.now() });
  const put = async (kind: string, id: string, value: string, ttlMs: number, did: string) => {
    const [stored] = await Promise.all([
      redis.set(`${FLOOR_KEYS}${kind}:${id}`, value, "PX", ttlMs, "NX"),
      redis.rpush(FLOOR_AUDIT, line(kind, did)),
    ]);
    if (stored !== "OK") throw new Error(`${kind} id taken`);
  };
  const take = async (kind: string, id: string) => {
    const json = await redis.getdel(`${FLOOR_KEYS}${kind}:${id}`);
    return json === null ? undefined : JSON.parse(json);
  };
  return {
    putChallenge: (id, pending, ttlMs) =>
      put(
        "challenge",
        id,
        JSON.stringify({ ...pending, input: Buffer.from(pending.input).toString("base64") }),
        ttlMs,
        pending.did,
      ),
    takeChallenge: async (id) => {
      const stored = await take("challenge", id);
      return stored && { ...stored, input: Buffer.from(stored.input, "base64") };
    },
    putPass: (id, grant, ttlMs) =>
      put(
        "pass",
        id,
        JSON.stringify({ did: grant.did, scope: grant.scope, audience: grant.audience }),
        ttlMs,
        grant.did,
      ),
    takePass: (id) => take("pass", id),
    firstJti: async (jti, ttlMs) =>
      (await redis.set(`${FLOOR_KEYS}jti:${jti}`, "1", "PX", Math.max(1, ttlMs), "NX")) === "OK",
    issued: async (grant) => void (await redis.rpush(FLOOR_AUDIT, line("token", grant.did))),
    close: () => redis.quit().then(() => {}),
  };
}

/** The claims the floor reads from an assertion. */
interface AssertionClaims {
  readonly iss: string;
  readonly jti: string;
  readonly exp: number;
}

/**
 * The claims of an RFC 7523 assertion (compact JWS, EdDSA) signed by its issuer agent's key,
 * for this issuer, unexpired; undefined otherwise. Its `jti` is the caller's to check.
 */
function assertionClaims(
  assertion: string,
  keys: ReadonlyMap<string, KeyObject>,
): AssertionClaims | undefined {
  const [header, payload, signature] = assertion.split(".");
  if (header === undefined || payload === undefined || signature === undefined) return undefined;
  const claims = JSON.parse(Buffer.from(payload, "base64url").toString());
  const key = keys.get(claims.iss);
  const signed = Buffer.from(`${header}.${payload}`);
  if (!key || !verify(null, signed, key, Buffer.from(signature, "base64url"))) return undefined;
  const fresh = claims.aud === BENCH_ISSUER && claims.exp * 1000 > Date.now();
  return fresh && claims.sub === claims.iss ? claims : undefined;
}

/** A TokenResponse with an access token for `grant`, signed with Ed25519; its `jti` and expiry. */
function accessToken(
  grant: Grant,
  key: KeyObject,
): { response: Uint8Array; jti: string; expMs: number } {
  const now = Math.floor(Date.now() / 1000);
  const jti = randomId();
  const header = encodeJson({ alg: "EdDSA", typ: "at+jwt", kid: "floor" });
  const payload = encodeJson({
    iss: BENCH_ISSUER,
    sub: grant.did,
    aud: grant.audience,
    scope: grant.scope,
    iat: now,
    nbf: now,
    exp: now + TOKEN_TTL_SECONDS,
    jti,
  });
  const signingInput = `${header}.${payload}`;
  const signature = encodeBase64url(sign(null, Buffer.from(signingInput), key));
  const expMs = (now + TOKEN_TTL_SECONDS) * 1000;
  const response = toBinary(
    TokenResponseSchema,
    create(TokenResponseSchema, {
      accessToken: `${signingInput}.${signature}`,
      tokenType: "Bearer",
      expiresAt: timestampFromMs(expMs),
      scopes: grant.scope.split(" "),
      audience: grant.audience,
    }),
  );
  return { response, jti, expMs };
}

function encodeJson(value: unknown): string {
  return encodeBase64url(Buffer.from(JSON.stringify(value)));
}
