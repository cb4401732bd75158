import { randomBytes } from "node:crypto";
import * as http2 from "node:http2";
import { request as httpsRequest } from "node:https";
import type { AddressInfo } from "node:net";
import { createServer } from "node:net";
import { Writable } from "node:stream";
import { create, fromJson, type JsonValue, toJson } from "@bufbuild/protobuf";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { expect } from "vitest";
import { signChallenge } from "../../clients/typescript/src/agent/index.js";
import type { ClientTls } from "../../clients/typescript/src/index.js";
import {
  ChallengeResponseSchema,
  SubmitRequestSchema,
  SubmitResponseSchema,
  TokenResponseSchema,
} from "../../gen/gatehouse/v1/gate_pb.js";
import type { Clock } from "../../src/clock.js";
import { type ConfigOverrides, loadConfig } from "../../src/config/index.js";
import { createLogger } from "../../src/observability/logger.js";
import { type Sidecar, startSidecar } from "../../src/sidecar/index.js";
import { AUDIENCE, type Enrolled } from "./flows.js";
import {
  ISSUER,
  type StoreKind,
  startTestGatehouse,
  type TestGatehouse,
  TRUST_DOMAIN,
} from "./gatehouse.js";
import { recordLogLine, rememberSecret } from "./secrets.js";

export interface TestSidecar {
  readonly gh: TestGatehouse;
  readonly sidecar: Sidecar;
  /** `https://127.0.0.1:<port>`: also the public URL Gatehouse advertises. */
  readonly url: string;
  readonly hmacSecret: string;
  stop(): Promise<void>;
}

export interface TestSidecarOptions {
  readonly storeKind?: StoreKind;
  readonly redisUrl?: string;
  readonly overrides?: ConfigOverrides;
  /** Gatehouse's clock (e.g. a manual one, to expire tokens). */
  readonly clock?: Clock;
}

/**
 * A Gatehouse that trusts a proxy on loopback, and a sidecar in front of it reaching it over
 * gRPC with its own proxy certificate. The sidecar's port is chosen first so Gatehouse can
 * advertise the sidecar's URL in its metadata.
 */
export async function startTestSidecar(options: TestSidecarOptions = {}): Promise<TestSidecar> {
  // The port is picked before Gatehouse starts (its metadata names it), so another test file
  // may take it in between: then start again on another.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(options);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EADDRINUSE" || attempt === 5) throw error;
    }
  }
}

async function startOnce(options: TestSidecarOptions): Promise<TestSidecar> {
  const hmacSecret = randomBytes(32).toString("base64url");
  rememberSecret(hmacSecret);
  const port = await freePort();
  const url = `https://127.0.0.1:${port}`;
  const overrides: ConfigOverrides = {
    ...options.overrides,
    proxy: { enabled: true, trustedPeers: ["127.0.0.1"], hmacSecret, maxAgeSeconds: 30 },
    sidecar: { host: "127.0.0.1", port, publicUrl: url, ...options.overrides?.sidecar },
  };
  const gh = await startTestGatehouse({
    ...(options.storeKind ? { storeKind: options.storeKind } : {}),
    ...(options.redisUrl ? { redisUrl: options.redisUrl } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
    overrides,
  });
  const config = loadConfig({
    mode: "dev",
    env: {},
    overrides: {
      ...overrides,
      issuer: ISSUER,
      trustDomain: TRUST_DOMAIN,
      dataDir: gh.dataDir,
      sidecar: { ...overrides.sidecar, upstream: gh.grpcAddress },
    },
  });
  const sink = new Writable({
    write(chunk, _encoding, done) {
      recordLogLine(String(chunk));
      done();
    },
  });
  let sidecar: Sidecar;
  try {
    sidecar = await startSidecar({ config, logger: createLogger("debug", sink) });
  } catch (error) {
    await gh.dispose();
    throw error;
  }
  return {
    gh,
    sidecar,
    url: sidecar.url,
    hmacSecret,
    async stop() {
      await sidecar.stop();
      await gh.dispose();
    },
  };
}

export interface HttpAnswer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
  json(): unknown;
}

export interface HttpCall {
  readonly method?: string;
  readonly headers?: Record<string, string>;
  readonly body?: string;
  /** A client certificate; without one the call is anonymous. */
  readonly tls?: ClientTls;
  /** The local address to connect from (any of 127.0.0.0/8 on loopback): a distinct client. */
  readonly localAddress?: string;
}

/** A typed JSON refusal: `{code, reason, message, field?}`. */
export function expectRefusal(answer: HttpAnswer, status: number, reason: string): void {
  expect(answer.status, answer.text).toBe(status);
  expect(answer.headers["content-type"]).toBe("application/json");
  const body = answer.json() as Record<string, unknown>;
  expect(body.reason).toBe(reason);
  expect(typeof body.code).toBe("string");
  expect(typeof body.message).toBe("string");
}

/** One HTTP/1.1 request over a fresh TLS connection. */
export function http1(caPem: string, url: string, call: HttpCall = {}): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      url,
      {
        method: call.method ?? "GET",
        headers: {
          ...(call.body === undefined ? {} : { "content-type": "application/json" }),
          ...call.headers,
        },
        ca: caPem,
        agent: false,
        ...(call.tls ? { cert: call.tls.cert, key: call.tls.key } : {}),
        ...(call.localAddress ? { localAddress: call.localAddress } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () =>
          resolve(answer(res.statusCode ?? 0, res.headers, Buffer.concat(chunks))),
        );
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(call.body);
  });
}

/** One HTTP/2 request over a session the caller keeps (ALPN h2). */
export function http2Session(
  caPem: string,
  url: string,
  tls?: ClientTls,
): http2.ClientHttp2Session {
  const session = http2.connect(url, {
    ca: caPem,
    ...(tls ? { cert: tls.cert, key: tls.key } : {}),
  });
  session.on("error", () => {});
  return session;
}

export function h2(
  session: http2.ClientHttp2Session,
  path: string,
  call: HttpCall = {},
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const stream = session.request({
      ":method": call.method ?? "GET",
      ":path": path,
      ...(call.body === undefined ? {} : { "content-type": "application/json" }),
      ...call.headers,
    });
    let status = 0;
    let headers: Record<string, string | string[] | undefined> = {};
    const chunks: Buffer[] = [];
    stream.on("response", (head) => {
      status = Number(head[":status"]);
      headers = head as typeof headers;
    });
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    stream.on("end", () => resolve(answer(status, headers, Buffer.concat(chunks))));
    stream.on("error", reject);
    stream.end(call.body);
  });
}

function answer(status: number, headers: HttpAnswer["headers"], body: Buffer): HttpAnswer {
  const text = body.toString();
  return { status, headers, text, json: () => JSON.parse(text) as unknown };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Challenge → Submit → Token over REST, with the agent's certificate. */
export async function restLogin(
  t: TestSidecar,
  agent: Enrolled,
  scopes = ["orders:read"],
): Promise<string> {
  const call = async (path: string, body: JsonValue): Promise<JsonValue> => {
    const answer = await http1(t.gh.caPem, `${t.url}${path}`, {
      method: "POST",
      body: JSON.stringify(body),
      tls: agent.agentTls,
    });
    expect(answer.status, answer.text).toBe(200);
    return answer.json() as JsonValue;
  };
  const audience = AUDIENCE;
  const challenge = fromJson(
    ChallengeResponseSchema,
    await call("/v1/challenges", {
      did: agent.did,
      kind: "CHALLENGE_KIND_SIGNATURE",
      scopes,
      audience,
    }),
  );
  if (challenge.body.case !== "signature" || !challenge.expiresAt)
    throw new Error("no signature challenge");
  const signature = signChallenge(agent.key, challenge.body.value, {
    challengeId: challenge.challengeId,
    did: agent.did,
    scopes,
    audience,
    expiresAtMs: timestampMs(challenge.expiresAt),
  });
  const submitBody = toJson(
    SubmitRequestSchema,
    create(SubmitRequestSchema, { answer: { case: "signature", value: { signature } } }),
  );
  const submit = fromJson(
    SubmitResponseSchema,
    await call(`/v1/challenges/${encodeURIComponent(challenge.challengeId)}:submit`, submitBody),
  );
  const token = fromJson(TokenResponseSchema, await call("/v1/tokens", { pass: submit.passToken }));
  rememberSecret(challenge.challengeId, submit.passToken, token.accessToken);
  return token.accessToken;
}

/** The forward-auth resource the sidecar tests protect, as a `[[sidecar.routes]]` entry (file keys). */
export const ORDERS_ROUTE = {
  host: "app.test",
  path_prefix: "/orders",
  resource: "https://app.test/orders",
  audience: AUDIENCE,
  scopes: ["orders:read"],
} as const;

/** What nginx's `auth_request` sends `/auth` for `GET https://app.test/orders/1` with `token`. */
export function ordersForwardAuth(token: string): Pick<HttpCall, "headers"> {
  return {
    headers: {
      "x-original-method": "GET",
      "x-original-uri": "/orders/1",
      "x-forwarded-host": "app.test",
      authorization: `Bearer ${token}`,
    },
  };
}
