import * as http2 from "node:http2";
import { request as httpsRequest } from "node:https";
import { gzipSync } from "node:zlib";
import { fromBinary } from "@bufbuild/protobuf";
import { base64Decode } from "@bufbuild/protobuf/wire";
import { anyUnpack } from "@bufbuild/protobuf/wkt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ErrorDetailSchema, Reason } from "../../gen/gatehouse/v1/errors_pb.js";
import { StatusSchema } from "../../gen/google/rpc/status_pb.js";
import type { ClientTls } from "../../src/client/credentials.js";
import { startTestGatehouse, type TestGatehouse } from "../support/gatehouse.js";

/**
 * Request bytes the Connect port cannot decode, on every path: Gatehouse's own HTTP/2 unary
 * route (connect-unary.ts) and connect-node's (HTTP/1.1, a deadline, compression, GET,
 * gRPC-Web, gRPC). Each is INVALID_ARGUMENT with the typed ErrorDetail, as on the gRPC port;
 * never INTERNAL, never the request's values in the answer.
 */

const VERIFY = "/gatehouse.v1.VerifyService/Verify";
const JWKS = "/gatehouse.v1.VerifyService/GetJwks";
/** Field 536870911, wire type 7: no protobuf decoder reads this. */
const GARBAGE = Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f]);
const TRUNCATED = Buffer.from([0x0a, 0x80, 0x80, 0x04]);
const BAD_UTF8 = Buffer.from([0x0a, 0x02, 0xff, 0xfe]);
/** Shaped like a bearer token; must never come back. */
const SECRET = "eyJhbGciOiJFZERTQSJ9.c2VjcmV0LXZhbHVlLW5ldmVyLWVjaG9lZA.U0VDUkVUU0lHTkFUVVJF";

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly trailers: Record<string, string | string[] | undefined>;
  readonly body: Buffer;
}

/** One request over HTTP/1.1 (node:https never negotiates h2). */
function h1(
  tls: ClientTls,
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: Buffer } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      url,
      { method: init.method ?? "POST", headers: init.headers ?? {}, ...tls },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            trailers: res.trailers,
            body: Buffer.concat(chunks),
          }),
        );
      },
    );
    req.on("error", reject);
    req.end(init.body);
  });
}

/** One POST over HTTP/2. */
function h2(
  session: http2.ClientHttp2Session,
  path: string,
  headers: Record<string, string>,
  body: Buffer,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ":method": "POST", ":path": path, ...headers });
    let status = 0;
    let head: Answer["headers"] = {};
    let trailers: Answer["trailers"] = {};
    const chunks: Buffer[] = [];
    stream.on("response", (h) => {
      status = Number(h[":status"]);
      head = h;
    });
    stream.on("trailers", (t) => {
      trailers = t;
    });
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    stream.on("end", () =>
      resolve({ status, headers: head, trailers, body: Buffer.concat(chunks) }),
    );
    stream.on("error", reject);
    stream.end(body);
  });
}

/** A Connect error body: its code, message and the Gatehouse ErrorDetail it carries. */
function connectError(answer: Answer) {
  expect(answer.headers["content-type"]).toBe("application/json");
  const json = JSON.parse(answer.body.toString("utf8")) as {
    code: string;
    message?: string;
    details?: { type: string; value: string }[];
  };
  const detail = json.details?.find((d) => d.type === "gatehouse.v1.ErrorDetail");
  expect(detail, answer.body.toString("utf8")).toBeDefined();
  return {
    code: json.code,
    message: json.message ?? "",
    detail: fromBinary(ErrorDetailSchema, base64Decode(detail?.value ?? "")),
  };
}

/** Connect answers a request it cannot decode: 400 invalid_argument, typed. */
function expectMalformed(answer: Answer, description = "malformed request") {
  expect(answer.status, answer.body.toString("utf8")).toBe(400);
  const error = connectError(answer);
  expect(error.code).toBe("invalid_argument");
  expect(error.detail.reason).toBe(Reason.INVALID_ARGUMENT);
  expect(error.detail.description).toBe(description);
  return error;
}

/** A gRPC status (grpc-status, grpc-status-details-bin) as a code and an ErrorDetail. */
function grpcStatus(fields: Record<string, string | string[] | undefined>) {
  const details = String(fields["grpc-status-details-bin"] ?? "");
  const status = fromBinary(StatusSchema, Buffer.from(details, "base64"));
  const detail = status.details[0] && anyUnpack(status.details[0], ErrorDetailSchema);
  return { code: Number(fields["grpc-status"]), detail };
}

/** The gRPC-Web trailer: the body's last envelope (flag 0x80), HTTP/1-style header lines. */
function grpcWebTrailer(body: Buffer): Record<string, string> {
  expect(body[0]).toBe(0x80);
  const length = body.readUInt32BE(1);
  const text = body.subarray(5, 5 + length).toString("utf8");
  const fields: Record<string, string> = {};
  for (const line of text.split("\r\n")) {
    const colon = line.indexOf(":");
    if (colon > 0) fields[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return fields;
}

const envelope = (message: Buffer) => {
  const head = Buffer.alloc(5);
  head.writeUInt32BE(message.length, 1);
  return Buffer.concat([head, message]);
};

describe("Connect port: requests that cannot be decoded", () => {
  let gh: TestGatehouse;
  let tls: ClientTls;
  let session: http2.ClientHttp2Session;

  beforeAll(async () => {
    gh = await startTestGatehouse();
    tls = await gh.clientTls({ role: "verifier", name: "connect-malformed" });
    session = http2.connect(gh.connectUrl, { ca: tls.ca, cert: tls.cert, key: tls.key });
    session.on("error", () => {});
  });
  afterAll(async () => {
    session?.close();
    await gh?.dispose();
  });

  const proto = { "content-type": "application/proto" };

  it("HTTP/2 unary POST (Gatehouse's own route): 400 invalid_argument, typed", async () => {
    expectMalformed(await h2(session, VERIFY, proto, GARBAGE));
  });

  it.each([
    ["garbage", GARBAGE],
    ["a truncated field", TRUNCATED],
    ["invalid UTF-8 in a string", BAD_UTF8],
  ])("HTTP/1.1 POST of %s: 400 invalid_argument, typed", async (_, body) => {
    expectMalformed(await h1(tls, `${gh.connectUrl}${VERIFY}`, { headers: proto, body }));
  });

  it("HTTP/2 POST with connect-timeout-ms: 400 invalid_argument, typed", async () => {
    const headers = { ...proto, "connect-timeout-ms": "5000" };
    expectMalformed(await h2(session, VERIFY, headers, GARBAGE));
  });

  it("HTTP/2 POST of gzip-compressed garbage: 400 invalid_argument, typed", async () => {
    const headers = { ...proto, "content-encoding": "gzip" };
    expectMalformed(await h2(session, VERIFY, headers, gzipSync(GARBAGE)));
  });

  it("GET with a message that is not protobuf: 400 invalid_argument, typed", async () => {
    const query = "connect=v1&encoding=proto&base64=1&message=_____w8";
    expectMalformed(await h1(tls, `${gh.connectUrl}${JWKS}?${query}`, { method: "GET" }));
  });

  it("GET with a message that is not base64: 400 invalid_argument, typed", async () => {
    const query = "connect=v1&encoding=json&base64=1&message=!!!";
    expectMalformed(await h1(tls, `${gh.connectUrl}${JWKS}?${query}`, { method: "GET" }));
  });

  it("gRPC-Web garbage: grpc-status 3 with the ErrorDetail", async () => {
    const answer = await h1(tls, `${gh.connectUrl}${VERIFY}`, {
      headers: { "content-type": "application/grpc-web+proto" },
      body: envelope(GARBAGE),
    });
    expect(answer.status).toBe(200);
    const { code, detail } = grpcStatus(grpcWebTrailer(answer.body));
    expect(code).toBe(3);
    expect(detail?.reason).toBe(Reason.INVALID_ARGUMENT);
    expect(detail?.description).toBe("malformed request");
  });

  it("gRPC on the Connect port, garbage: grpc-status 3 with the ErrorDetail", async () => {
    const answer = await h2(
      session,
      VERIFY,
      { "content-type": "application/grpc", te: "trailers" },
      envelope(GARBAGE),
    );
    const { code, detail } = grpcStatus({ ...answer.headers, ...answer.trailers });
    expect(code).toBe(3);
    expect(detail?.reason).toBe(Reason.INVALID_ARGUMENT);
  });

  it("an answer the method gives on connect-node's path passes as it is", async () => {
    const body = Buffer.from(JSON.stringify({ token: "x", audience: "https://a.example" }));
    const answer = await h1(tls, `${gh.connectUrl}${VERIFY}`, {
      headers: { "content-type": "application/json" },
      body,
    });
    // Verify answers a bad token with a decision, not an error: the method ran, its answer
    // passes as it is.
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body.toString("utf8"))).toEqual({ reason: "REASON_TOKEN_MALFORMED" });
  });

  describe("JSON that does not fit the schema names the field, never the value", () => {
    const wrongType = JSON.stringify({
      token: "x",
      audience: "https://a.example",
      amount: { currency: "EUR", minorUnits: SECRET },
    });
    const tokenInArray = JSON.stringify({ token: [SECRET], audience: "https://a.example" });
    const notJson = `{"token": ${SECRET}}`;
    const json = { "content-type": "application/json" };

    const paths: [string, (body: string) => Promise<Answer>][] = [
      ["HTTP/2 (Gatehouse's route)", (body) => h2(session, VERIFY, json, Buffer.from(body))],
      [
        "HTTP/1.1 (connect-node)",
        (body) => h1(tls, `${gh.connectUrl}${VERIFY}`, { headers: json, body: Buffer.from(body) }),
      ],
      [
        "HTTP/2 gzip (connect-node)",
        (body) =>
          h2(session, VERIFY, { ...json, "content-encoding": "gzip" }, gzipSync(Buffer.from(body))),
      ],
    ];

    it.each(paths)("%s: a token in an int64 field", async (_, send) => {
      const answer = await send(wrongType);
      const error = expectMalformed(
        answer,
        "request is not valid JSON for VerifyRequest (expected int64)",
      );
      expect(error.detail.field).toBe("amount.minor_units");
      expect(answer.body.toString("utf8")).not.toContain(SECRET.slice(0, 16));
    });

    it.each(paths)("%s: a token in a list where a string goes", async (_, send) => {
      const answer = await send(tokenInArray);
      const error = expectMalformed(
        answer,
        "request is not valid JSON for VerifyRequest (expected string)",
      );
      expect(error.detail.field).toBe("token");
      expect(answer.body.toString("utf8")).not.toContain(SECRET.slice(0, 16));
    });

    it.each(paths)("%s: a token outside quotes (not JSON)", async (_, send) => {
      const answer = await send(notJson);
      expectMalformed(answer, "request is not valid JSON for VerifyRequest");
      expect(answer.body.toString("utf8")).not.toContain(SECRET.slice(0, 16));
    });

    it("GET with JSON that does not fit: no value echoed", async () => {
      const query = new URLSearchParams({
        connect: "v1",
        encoding: "json",
        message: JSON.stringify({ did: [SECRET] }),
      });
      const path = "/gatehouse.v1.RegistryService/GetAgent";
      const answer = await h1(tls, `${gh.connectUrl}${path}?${query}`, { method: "GET" });
      const error = expectMalformed(
        answer,
        "request is not valid JSON for GetAgentRequest (expected string)",
      );
      expect(error.detail.field).toBe("did");
      expect(answer.body.toString("utf8")).not.toContain(SECRET.slice(0, 16));
    });
  });
});
