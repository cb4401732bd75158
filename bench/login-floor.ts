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
 * Never a server to deploy: it trusts its Maps and keeps no limits.
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
import { BENCH_ISSUER } from "./protocol.js";

/** The agents the floor knows: DID and Ed25519 public key (raw, base64url). */
export interface FloorOptions {
  readonly agents: readonly { readonly did: string; readonly publicKey: string }[];
}

export interface FloorServer {
  readonly grpcPort: number;
  stop(): Promise<void>;
}

const CHALLENGE_TTL_MS = 60_000;
const TOKEN_TTL_SECONDS = 300;

/** What a token is issued for: the agent, its scopes (space-separated) and audience. */
interface Grant {
  readonly did: string;
  readonly scope: string;
  readonly audience: string;
}

/** A challenge until it is answered: its grant and the input the agent signs. */
interface Pending extends Grant {
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
  const challenges = new Map<string, Pending>();
  const passes = new Map<string, Grant>();
  const seenJtis = new Set<string>();
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
  type Handler = (request: Buffer, call: grpc.ServerUnaryCall<Buffer, Buffer>) => Uint8Array;
  const unary =
    (handler: Handler): grpc.handleUnaryCall<Buffer, Buffer> =>
    (call, callback) => {
      try {
        const bytes = handler(call.request, call);
        callback(null, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      } catch (error) {
        callback({ code: grpc.status.PERMISSION_DENIED, details: String(error) });
      }
    };
  server.addService(
    { challenge: raw("Challenge"), submit: raw("Submit"), token: raw("Token") },
    {
      challenge: unary((bytes, call) => {
        const request = fromBinary(ChallengeRequestSchema, bytes);
        const peer = call.getAuthContext().sslPeerCertificate;
        if (!peer || !keys.has(request.did)) throw new Error("unknown caller or agent");
        const caller = hash("sha256", peer.raw, "hex");
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
        challenges.set(challengeId, { did: request.did, input, scope, audience: request.audience });
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
      submit: unary((bytes) => {
        const request = fromBinary(SubmitRequestSchema, bytes);
        const pending = challenges.get(request.challengeId);
        challenges.delete(request.challengeId);
        const key = pending && keys.get(pending.did);
        if (!pending || !key || request.answer.case !== "signature") throw new Error("refused");
        if (!verify(null, pending.input, key, request.answer.value.signature)) {
          throw new Error("bad signature");
        }
        const pass = randomId();
        passes.set(pass, pending);
        return toBinary(
          SubmitResponseSchema,
          create(SubmitResponseSchema, {
            passToken: pass,
            expiresAt: timestampFromMs(Date.now() + CHALLENGE_TTL_MS),
          }),
        );
      }),
      token: unary((bytes) => {
        const request = fromBinary(TokenRequestSchema, bytes);
        let grant: Grant | undefined;
        if (request.grant.case === "passToken") {
          grant = passes.get(request.grant.value);
          passes.delete(request.grant.value);
        } else if (request.grant.case === "assertion") {
          const { assertion, scopes, audience } = request.grant.value;
          const did = assertionSubject(assertion, keys, seenJtis);
          if (did) grant = { did, scope: scopes.join(" "), audience };
        }
        if (!grant) throw new Error("refused");
        return accessToken(grant, tokenKey);
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
    stop: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
  };
}

/**
 * The DID of an RFC 7523 assertion (compact JWS, EdDSA) signed by that agent's key, for this
 * issuer, unexpired, its `jti` not seen before; undefined otherwise. The `jti`s are kept for
 * the run (a floor lives for seconds).
 */
function assertionSubject(
  assertion: string,
  keys: ReadonlyMap<string, KeyObject>,
  seenJtis: Set<string>,
): string | undefined {
  const [header, payload, signature] = assertion.split(".");
  if (header === undefined || payload === undefined || signature === undefined) return undefined;
  const claims = JSON.parse(Buffer.from(payload, "base64url").toString());
  const key = keys.get(claims.iss);
  const signed = Buffer.from(`${header}.${payload}`);
  if (!key || !verify(null, signed, key, Buffer.from(signature, "base64url"))) return undefined;
  const fresh = claims.aud === BENCH_ISSUER && claims.exp * 1000 > Date.now();
  if (!fresh || claims.sub !== claims.iss || seenJtis.has(claims.jti)) return undefined;
  seenJtis.add(claims.jti);
  return claims.iss;
}

/** A TokenResponse with an access token for `grant`, signed with Ed25519. */
function accessToken(grant: Grant, key: KeyObject): Uint8Array {
  const now = Math.floor(Date.now() / 1000);
  const header = encodeJson({ alg: "EdDSA", typ: "at+jwt", kid: "floor" });
  const payload = encodeJson({
    iss: BENCH_ISSUER,
    sub: grant.did,
    aud: grant.audience,
    scope: grant.scope,
    iat: now,
    nbf: now,
    exp: now + TOKEN_TTL_SECONDS,
    jti: randomId(),
  });
  const signingInput = `${header}.${payload}`;
  const signature = encodeBase64url(sign(null, Buffer.from(signingInput), key));
  return toBinary(
    TokenResponseSchema,
    create(TokenResponseSchema, {
      accessToken: `${signingInput}.${signature}`,
      tokenType: "Bearer",
      expiresAt: timestampFromMs((now + TOKEN_TTL_SECONDS) * 1000),
      scopes: grant.scope.split(" "),
      audience: grant.audience,
    }),
  );
}

function encodeJson(value: unknown): string {
  return encodeBase64url(Buffer.from(JSON.stringify(value)));
}
