import { randomBytes } from "node:crypto";
import * as http2 from "node:http2";
import { request as httpsRequest } from "node:https";
import { join } from "node:path";
import { create, type DescMethod, fromJson, type JsonValue, toJson } from "@bufbuild/protobuf";
import { ConnectError } from "@connectrpc/connect";
import { errorFromJson } from "@connectrpc/connect/protocol-connect";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Reason } from "../../gen/gatehouse/v1/errors_pb.js";
import {
  ChallengeKind,
  ChallengeRequestSchema,
  GateService,
} from "../../gen/gatehouse/v1/gate_pb.js";
import type { ClientTls } from "../../src/client/credentials.js";
import { fromConnectError, GatehouseClientError } from "../../src/client/errors.js";
import { createGrpcClient } from "../../src/client/grpc-client.js";
import type { Clock } from "../../src/clock.js";
import {
  FORWARDED_HEADERS,
  type ForwardedFields,
  forwardedMac,
} from "../../src/identity/forwarded.js";
import { ensureDevPki } from "../../src/pki/dev-pki.js";
import { issueCertificate } from "../../src/pki/issue-certificate.js";
import type { PemPair } from "../../src/pki/pem-pair.js";
import { expectReason, rejectionOf } from "../support/errors.js";
import {
  AUDIENCE,
  type Enrolled,
  enrollAgent,
  type GateLike,
  grpcClients,
  login,
  signedChallenge,
} from "../support/flows.js";
import { startTestGatehouse, type TestGatehouse, TRUST_DOMAIN } from "../support/gatehouse.js";
import { rememberSecret } from "../support/secrets.js";

const UNAUTHENTICATED = 16;
const SECRET = randomBytes(32).toString("base64url");
rememberSecret(SECRET);

const CHALLENGE_PATH = "/gatehouse.v1.GateService/Challenge";
const TOKEN_PATH = "/gatehouse.v1.GateService/Token";
const MALFORMED_PEM = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";

/** What the test's "proxy" forwards, and how it gets it wrong. */
interface Forward {
  readonly kind?: ForwardedFields["kind"];
  readonly value: string;
  readonly secret?: string;
  /** Seconds the timestamp lies in the past (negative: in the future). */
  readonly ageSeconds?: number;
  /** The RPC path the MAC covers, when not the one called. */
  readonly signedTarget?: string;
  readonly withoutMac?: boolean;
}

/** nginx's `$ssl_client_escaped_cert`: the client certificate PEM, URL-encoded. */
const escapedCert = (tls: ClientTls): string => encodeURIComponent(tls.cert.toString());

/** The headers the proxy adds to one request to `target` at `authority`. */
function forwardedHeaders(
  forward: Forward,
  authority: string,
  target: string,
): Record<string, string> {
  const kind = forward.kind ?? "cert";
  const at = String(Math.floor(Date.now() / 1000) - (forward.ageSeconds ?? 0));
  const signed = { kind, value: forward.value, at, authority };
  const mac = forwardedMac(forward.secret ?? SECRET, {
    ...signed,
    target: forward.signedTarget ?? target,
  });
  return {
    [FORWARDED_HEADERS[kind]]: forward.value,
    [FORWARDED_HEADERS.at]: at,
    ...(forward.withoutMac ? {} : { [FORWARDED_HEADERS.mac]: mac }),
  };
}

/** A grpc-js client presenting `tls`, adding the forwarded metadata to every call. */
function grpcGate(gh: TestGatehouse, tls: ClientTls, forward?: Forward) {
  const add: grpc.Interceptor = (options, nextCall) =>
    new grpc.InterceptingCall(nextCall(options), {
      start(metadata, listener, next) {
        const path = options.method_definition.path;
        const headers = forward ? forwardedHeaders(forward, gh.grpcAddress, path) : {};
        for (const [name, value] of Object.entries(headers)) metadata.set(name, value);
        next(metadata, listener);
      },
    });
  const credentials = grpc.credentials.createSsl(tls.ca, tls.key, tls.cert);
  const channel = new grpc.Client(gh.grpcAddress, credentials, { interceptors: [add] });
  const gate = createGrpcClient(GateService, { address: gh.grpcAddress, tls, channel });
  return { gate, close: () => channel.close() };
}

/** Connect JSON with plain node:http2 over one session, forwarded headers added. */
function connectGate(gh: TestGatehouse, tls: ClientTls, forward?: Forward) {
  const session = connectSession(gh, tls);
  const rpc = (method: DescMethod) => async (request: Record<string, unknown>) => {
    const path = `/${method.parent.typeName}/${method.name}`;
    const headers = forward ? forwardedHeaders(forward, new URL(gh.connectUrl).host, path) : {};
    const body = toJson(method.input, create(method.input, request));
    return fromJson(method.output, await connectPost(session, path, body, headers));
  };
  const { challenge, submit, token } = GateService.method;
  const gate = { challenge: rpc(challenge), submit: rpc(submit), token: rpc(token) } as GateLike;
  return { gate, close: () => session.close() };
}

function connectSession(gh: TestGatehouse, tls: ClientTls): http2.ClientHttp2Session {
  const session = http2.connect(gh.connectUrl, { ca: tls.ca, cert: tls.cert, key: tls.key });
  session.on("error", () => {}); // surfaced by the stream of the failing request
  return session;
}

/** One Connect JSON call; a refusal is thrown as GatehouseClientError. */
async function connectPost(
  session: http2.ClientHttp2Session,
  path: string,
  body: JsonValue,
  headers: Record<string, string>,
): Promise<JsonValue> {
  const { status, text } = await new Promise<{ status: number; text: string }>(
    (resolve, reject) => {
      const stream = session.request({
        ":method": "POST",
        ":path": path,
        "content-type": "application/json",
        ...headers,
      });
      let status = 0;
      const chunks: Buffer[] = [];
      stream.on("response", (head) => {
        status = Number(head[":status"]);
      });
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("end", () => resolve({ status, text: Buffer.concat(chunks).toString() }));
      stream.on("error", reject);
      stream.end(JSON.stringify(body));
    },
  );
  const json = JSON.parse(text) as JsonValue;
  if (status !== 200)
    throw fromConnectError(errorFromJson(json, undefined, new ConnectError(text)));
  return json;
}

/** Connect JSON over HTTP/1.1 (node:https): the authority is the Host header. */
function connectHttp1Status(
  gh: TestGatehouse,
  tls: ClientTls,
  path: string,
  body: JsonValue,
  forward: Forward,
) {
  const headers = forwardedHeaders(forward, new URL(gh.connectUrl).host, path);
  return new Promise<number>((resolve, reject) => {
    const req = httpsRequest(
      `${gh.connectUrl}${path}`,
      {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        ca: tls.ca,
        cert: tls.cert,
        key: tls.key,
      },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on("error", reject);
    req.end(JSON.stringify(body));
  });
}

const proxyOverrides = (trustedPeers: string[]) => ({
  overrides: { proxy: { enabled: true, trustedPeers, hmacSecret: SECRET, maxAgeSeconds: 30 } },
});

const proxyTlsOf = (gh: TestGatehouse) => gh.clientTls({ role: "proxy", name: "edge" });

const challengeOf = (agent: Enrolled) => ({
  did: agent.did,
  kind: ChallengeKind.SIGNATURE,
  scopes: ["orders:read"],
  audience: AUDIENCE,
});

type Transport = "grpc" | "connect";
const TRANSPORTS: Transport[] = ["grpc", "connect"];

/** Runs `use` with a gate over `transport`, presenting `tls` and adding `forward`. */
async function withGate<T>(
  gh: TestGatehouse,
  transport: Transport,
  tls: ClientTls,
  forward: Forward | undefined,
  use: (gate: GateLike) => Promise<T>,
): Promise<T> {
  const { gate, close } =
    transport === "connect" ? connectGate(gh, tls, forward) : grpcGate(gh, tls, forward);
  try {
    return await use(gate);
  } finally {
    close();
  }
}

describe("identity forwarded by a trusted proxy", () => {
  let gh: TestGatehouse;
  let agent: Enrolled;
  let proxyTls: ClientTls;
  let foreignCert: string;
  beforeAll(async () => {
    gh = await startTestGatehouse(proxyOverrides(["127.0.0.1"]));
    agent = await enrollAgent(gh);
    proxyTls = await proxyTlsOf(gh);
    foreignCert = escapedCert(await gh.foreignTls({ role: "agent", did: agent.did }));
  });
  afterAll(async () => {
    await gh?.dispose();
  });

  it.each(TRANSPORTS)("an agent logs in through the proxy (%s)", async (transport) => {
    const forward = { value: escapedCert(agent.agentTls) };
    const token = await withGate(gh, transport, proxyTls, forward, (gate) => login(gate, agent));
    const verifier = grpcClients(gh, agent.verifierTls);
    try {
      const decision = await verifier.verify.verify({ token, audience: AUDIENCE });
      expect(decision.allowed).toBe(true);
    } finally {
      verifier.close();
    }
  });

  it("binds the challenge to the forwarded certificate, not to the proxy", async () => {
    const forward = { value: escapedCert(agent.agentTls) };
    const { challengeId, signature } = await withGate(gh, "grpc", proxyTls, forward, (gate) =>
      signedChallenge(gate, agent),
    );
    const submit = { challengeId, answer: { case: "signature", value: { signature } } } as const;
    // The proxy's own certificate names no role: it cannot act for anyone by itself.
    await withGate(gh, "grpc", proxyTls, undefined, (gate) =>
      expectReason(gate.submit(submit), Reason.UNAUTHENTICATED, UNAUTHENTICATED),
    );
    // Another certificate of the same DID is another caller.
    const sibling = { value: escapedCert(await gh.clientTls({ role: "agent", did: agent.did })) };
    await withGate(gh, "connect", proxyTls, sibling, (gate) =>
      expectReason(gate.submit(submit), Reason.CHALLENGE_IDENTITY_MISMATCH),
    );
  });

  it("accepts a forwarded certificate over HTTP/1.1, bound to the Host header", async () => {
    const forward = { value: escapedCert(agent.agentTls) };
    const body = toJson(ChallengeRequestSchema, create(ChallengeRequestSchema, challengeOf(agent)));
    expect(await connectHttp1Status(gh, proxyTls, CHALLENGE_PATH, body, forward)).toBe(200);
  });

  it("resolves each request of one HTTP/2 session on its own (Connect)", async () => {
    const session = connectSession(gh, proxyTls);
    try {
      const body = toJson(
        ChallengeRequestSchema,
        create(ChallengeRequestSchema, challengeOf(agent)),
      );
      const forward = { value: escapedCert(agent.agentTls) };
      const headers = forwardedHeaders(forward, new URL(gh.connectUrl).host, CHALLENGE_PATH);
      await connectPost(session, CHALLENGE_PATH, body, headers);
      // Same session, nothing forwarded: the proxy again, not the agent it forwarded before.
      await expectReason(connectPost(session, CHALLENGE_PATH, body, {}), Reason.UNAUTHENTICATED);
    } finally {
      session.close();
    }
  });

  const refusals: [string, (cert: string) => Forward][] = [
    ["a wrong secret", (value) => ({ value, secret: randomBytes(32).toString("base64url") })],
    ["a stale timestamp", (value) => ({ value, ageSeconds: 31 })],
    // `at` is whole seconds: 31 s ahead is as little as 30.0 s by the time the server reads
    // its clock, on the window's edge (it flaked); 32 s ahead is past it whatever the rounding.
    ["a future timestamp", (value) => ({ value, ageSeconds: -32 })],
    ["another request target", (value) => ({ value, signedTarget: TOKEN_PATH })],
    ["a missing MAC", (value) => ({ value, withoutMac: true })],
    ["a malformed certificate", () => ({ value: encodeURIComponent(MALFORMED_PEM) })],
    ["a certificate from another CA", () => ({ value: foreignCert })],
  ];
  for (const transport of TRANSPORTS) {
    it.each(refusals)(`refuses %s (${transport})`, async (_, make) => {
      const forward = make(escapedCert(agent.agentTls));
      await withGate(gh, transport, proxyTls, forward, (gate) =>
        expectReason(
          gate.challenge(challengeOf(agent)),
          Reason.FORWARDED_IDENTITY_INVALID,
          UNAUTHENTICATED,
        ),
      );
    });
  }

  it.each(TRANSPORTS)(
    "a fingerprint-only forward is accepted but names no role (%s)",
    async (transport) => {
      const forward = { kind: "fingerprint", value: "ab".repeat(32) } as const;
      await withGate(gh, transport, proxyTls, forward, (gate) =>
        expectReason(gate.challenge(challengeOf(agent)), Reason.UNAUTHENTICATED),
      );
    },
  );

  it.each(TRANSPORTS)(
    "a trusted address without the proxy certificate is not a proxy (%s)",
    async (transport) => {
      // The agent forwards another agent's certificate: ignored, so its own DID still matches.
      const other = await enrollAgent(gh);
      const forward = { value: escapedCert(other.agentTls) };
      await withGate(gh, transport, agent.agentTls, forward, async (gate) => {
        const challenge = await gate.challenge(challengeOf(agent));
        expect(challenge.challengeId).not.toBe("");
      });
    },
  );

  it("never logs the secret", () => {
    expect(gh.logs.length).toBeGreaterThan(0);
    expect(gh.logs.join("\n")).not.toContain(SECRET);
  });
});

describe("forwarded and direct certificates pass the same checks", () => {
  let gh: TestGatehouse;
  let agent: Enrolled;
  let proxyTls: ClientTls;
  /** Certificates of the agent's DID that mTLS refuses, each with its key. */
  const refusedTls: Record<string, ClientTls> = {};

  beforeAll(async () => {
    gh = await startTestGatehouse(proxyOverrides(["127.0.0.1"]));
    agent = await enrollAgent(gh);
    proxyTls = await proxyTlsOf(gh);
    // The server's own CA (the dev PKI it generated), to issue what it must still refuse.
    const { ca } = await ensureDevPki(join(gh.dataDir, "pki"), { trustDomain: TRUST_DOMAIN });
    const agentCert = (usage: "client" | "server", clock?: Clock) =>
      issueCertificate({
        ca,
        commonName: "agent",
        usage,
        uris: [agent.did],
        validityDays: 1,
        ...(clock ? { clock } : {}),
      });
    const toTls = (pair: PemPair): ClientTls => ({
      cert: Buffer.from(pair.certPem),
      key: Buffer.from(pair.keyPem),
      ca: Buffer.from(ca.certPem),
    });
    refusedTls["a serverAuth-only certificate"] = toTls(await agentCert("server"));
    const threeDaysAgo = { now: () => Date.now() - 3 * 86_400_000 };
    refusedTls["an expired certificate"] = toTls(await agentCert("client", threeDaysAgo));
    refusedTls["the CA's own certificate"] = toTls(ca);
  });
  afterAll(async () => {
    await gh?.dispose();
  });

  const cases = () => Object.entries(refusedTls);

  it.each(TRANSPORTS)("refuses each forwarded, FORWARDED_IDENTITY_INVALID (%s)", async (t) => {
    for (const [what, tls] of cases()) {
      const forward = { value: escapedCert(tls) };
      await withGate(gh, t, proxyTls, forward, async (gate) => {
        const error = await rejectionOf(gate.challenge(challengeOf(agent)));
        expect(Reason[error.reason], what).toBe(Reason[Reason.FORWARDED_IDENTITY_INVALID]);
        expect(error.code, what).toBe(UNAUTHENTICATED);
      });
    }
  });

  it.each(TRANSPORTS)("refuses each presented directly over mTLS (%s)", async (t) => {
    for (const [what, tls] of cases()) {
      await withGate(gh, t, tls, undefined, async (gate) => {
        // The TLS handshake refuses it (the connection fails), or it names no caller.
        const failure = await gate.challenge(challengeOf(agent)).then(
          () => undefined,
          (error: unknown) => error,
        );
        expect(failure, what).toBeDefined();
        if (failure instanceof GatehouseClientError && failure.reason !== Reason.UNSPECIFIED) {
          expect(Reason[failure.reason], what).toBe(Reason[Reason.UNAUTHENTICATED]);
        }
      });
    }
  });

  it("accepts the agent's own client certificate both ways", async () => {
    const forward = { value: escapedCert(agent.agentTls) };
    for (const t of TRANSPORTS) {
      await withGate(gh, t, proxyTls, forward, (gate) => gate.challenge(challengeOf(agent)));
      await withGate(gh, t, agent.agentTls, undefined, (gate) =>
        gate.challenge(challengeOf(agent)),
      );
    }
  });
});

describe("forwarded headers that are not trusted are ignored", () => {
  const servers: [string, Parameters<typeof startTestGatehouse>[0]][] = [
    ["from a peer outside trustedPeers", proxyOverrides(["10.0.0.0/8", "::2"])],
    ["with the feature off", {}],
  ];
  describe.each(servers)("%s", (_, options) => {
    let gh: TestGatehouse;
    let agent: Enrolled;
    let proxyTls: ClientTls;
    beforeAll(async () => {
      gh = await startTestGatehouse(options);
      agent = await enrollAgent(gh);
      proxyTls = await proxyTlsOf(gh);
    });
    afterAll(async () => {
      await gh?.dispose();
    });

    it.each(TRANSPORTS)("the proxy stays its own, roleless self (%s)", async (transport) => {
      const forward = { value: escapedCert(agent.agentTls) };
      await withGate(gh, transport, proxyTls, forward, (gate) =>
        expectReason(gate.challenge(challengeOf(agent)), Reason.UNAUTHENTICATED),
      );
    });

    it.each(TRANSPORTS)("an agent stays itself, even with a bad MAC (%s)", async (transport) => {
      const forward = { value: escapedCert(agent.agentTls), secret: "x".repeat(32) };
      const token = await withGate(gh, transport, agent.agentTls, forward, (gate) =>
        login(gate, agent),
      );
      expect(token).toMatch(/^ey/);
    });
  });
});
