import { create } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HeaderValueOption_HeaderAppendAction } from "../../gen/envoy/config/core/v3/base_pb.js";
import {
  Authorization,
  CheckRequestSchema,
  type CheckResponse,
} from "../../gen/envoy/service/auth/v3/external_auth_pb.js";
import { Reason } from "../../gen/gatehouse/v1/errors_pb.js";
import type { ClientTls } from "../../src/client/credentials.js";
import {
  createGrpcChannel,
  createGrpcClient,
  type GrpcClient,
} from "../../src/client/grpc-client.js";
import { expectReason } from "../support/errors.js";
import { useGatehouse } from "../support/fixture.js";
import { AUDIENCE, enrollAgent, grpcClients, login } from "../support/flows.js";

/** The host AUDIENCE (test/support/flows.ts) names: `https://<host>` is the default audience. */
const HOST = "api.example.com";
const UNAUTHENTICATED = 16;
const PERMISSION_DENIED = 7;

interface CheckOptions {
  readonly host?: string;
  readonly extensions?: Record<string, string>;
}

/** A CheckRequest as Envoy's ext_authz filter builds it (lower-cased header names). */
function checkRequest(headers: Record<string, string>, options: CheckOptions = {}) {
  const host = options.host ?? HOST;
  return create(CheckRequestSchema, {
    attributes: {
      source: { principal: "spiffe://cluster.local/ns/agents/sa/caller" },
      request: {
        http: { method: "GET", path: "/orders?id=1", host, headers: { ...headers, host } },
      },
      contextExtensions: options.extensions ?? {},
    },
  });
}

function headerOf(response: CheckResponse, key: string): string | undefined {
  const { case: kind, value } = response.httpResponse;
  if (kind === undefined) return undefined;
  return value.headers.find((option) => option.header?.key === key)?.header?.value;
}

/** Asserts a denial and returns its WWW-Authenticate challenge. */
function expectDenied(
  response: CheckResponse,
  httpStatus: 400 | 401 | 402 | 403 | 429,
  reason: string,
): string {
  expect(response.status?.code).toBe(httpStatus === 401 ? UNAUTHENTICATED : PERMISSION_DENIED);
  expect(response.httpResponse.case).toBe("deniedResponse");
  if (response.httpResponse.case !== "deniedResponse") throw new Error("not denied");
  const denied = response.httpResponse.value;
  expect(denied.status?.code).toBe(httpStatus);
  expect(JSON.parse(denied.body)).toEqual({ reason });
  expect(headerOf(response, "content-type")).toBe("application/json");
  return headerOf(response, "www-authenticate") ?? "";
}

const invalidToken = (reason: string) =>
  `Bearer error="invalid_token", error_description="${reason}"`;

describe("Envoy ext_authz Check", () => {
  const env = useGatehouse({ clock: true });
  let authz: GrpcClient<(typeof Authorization)["method"]>;

  beforeAll(() => {
    authz = createGrpcClient(Authorization, {
      address: env.gh.grpcAddress,
      tls: env.agent.verifierTls,
    });
  });
  afterAll(() => {
    authz?.close();
  });

  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

  it("allows a valid token and adds the identity headers, overwriting the client's", async () => {
    const token = await login(env.clients.gate, env.agent);
    const response = await authz.check(
      checkRequest(
        { ...bearer(token), "x-gatehouse-agent": "did:agent:forged" },
        { extensions: { gatehouse_required_scopes: "orders:read" } },
      ),
    );
    expect(response.status?.code).toBe(0);
    expect(response.httpResponse.case).toBe("okResponse");
    if (response.httpResponse.case !== "okResponse") return;
    const ok = response.httpResponse.value;
    expect(ok.headersToRemove).toEqual([]);
    expect(headerOf(response, "x-gatehouse-agent")).toBe(env.agent.did);
    expect(headerOf(response, "x-gatehouse-scopes")).toBe("orders:read");
    expect(headerOf(response, "x-gatehouse-operator")).toBe(env.agent.domain);
    for (const option of ok.headers) {
      expect(option.appendAction).toBe(
        HeaderValueOption_HeaderAppendAction.OVERWRITE_IF_EXISTS_OR_ADD,
      );
    }
  });

  it("takes the audience from the route's context extension over the host", async () => {
    const token = await login(env.clients.gate, env.agent);
    const extensions = { gatehouse_audience: `https://${HOST}` };
    const viaExtension = await authz.check(
      checkRequest({ authorization: `bearer ${token}` }, { host: "gateway.internal", extensions }),
    );
    expect(viaExtension.status?.code).toBe(0);
    const wrongExtension = await authz.check(
      checkRequest(bearer(token), { extensions: { gatehouse_audience: "https://other.example" } }),
    );
    const challenge = expectDenied(wrongExtension, 401, "REASON_TOKEN_AUDIENCE_MISMATCH");
    expect(challenge).toBe(invalidToken("REASON_TOKEN_AUDIENCE_MISMATCH"));
  });

  it("no usable Authorization header → 401 with a bare Bearer challenge (RFC 6750 §3.1)", async () => {
    for (const headers of [
      {},
      { authorization: "" },
      { authorization: "Basic dXNlcjpwYXNz" },
      { authorization: "Bearer" },
      { authorization: "Bearer a b" },
    ]) {
      const response = await authz.check(checkRequest(headers));
      expect(expectDenied(response, 401, "REASON_UNAUTHENTICATED"), JSON.stringify(headers)).toBe(
        "Bearer",
      );
    }
  });

  it("bad token → 401 invalid_token naming the reason, never echoing the token", async () => {
    const token = "not-a-jwt";
    const response = await authz.check(checkRequest(bearer(token)));
    const challenge = expectDenied(response, 401, "REASON_TOKEN_MALFORMED");
    expect(challenge).toBe(invalidToken("REASON_TOKEN_MALFORMED"));
    expect(JSON.stringify(response)).not.toContain(token);
  });

  it("expired token → 401 TOKEN_EXPIRED", async () => {
    const token = await login(env.clients.gate, env.agent);
    env.clock.advance(331_000);
    try {
      const response = await authz.check(checkRequest(bearer(token)));
      expect(expectDenied(response, 401, "REASON_TOKEN_EXPIRED")).toBe(
        invalidToken("REASON_TOKEN_EXPIRED"),
      );
    } finally {
      env.clock.advance(-331_000);
    }
  });

  it("revoked token → 401 TOKEN_REVOKED; suspended agent → 401 AGENT_SUSPENDED", async () => {
    const subject = await enrollAgent(env.gh);
    const gate = grpcClients(env.gh, subject.agentTls);
    const operator = grpcClients(env.gh, subject.operatorTls);
    try {
      const revoked = await login(gate.gate, subject);
      const [, payload = ""] = revoked.split(".");
      const { jti } = JSON.parse(Buffer.from(payload, "base64url").toString()) as { jti: string };
      await operator.registry.revoke({ target: { case: "tokenId", value: jti } });
      const afterRevoke = await authz.check(checkRequest(bearer(revoked)));
      expect(expectDenied(afterRevoke, 401, "REASON_TOKEN_REVOKED")).toBe(
        invalidToken("REASON_TOKEN_REVOKED"),
      );

      const token = await login(gate.gate, subject);
      await operator.registry.suspendAgent({ did: subject.did });
      const suspended = await authz.check(checkRequest(bearer(token)));
      expect(expectDenied(suspended, 401, "REASON_AGENT_SUSPENDED")).toBe(
        invalidToken("REASON_AGENT_SUSPENDED"),
      );
    } finally {
      gate.close();
      operator.close();
    }
  });

  it("insufficient scope → 403 insufficient_scope with the scope the route needs", async () => {
    const token = await login(env.clients.gate, env.agent);
    const response = await authz.check(
      checkRequest(bearer(token), { extensions: { gatehouse_required_scopes: "orders:write" } }),
    );
    expect(expectDenied(response, 403, "REASON_INSUFFICIENT_SCOPE")).toBe(
      'Bearer error="insufficient_scope", error_description="REASON_INSUFFICIENT_SCOPE", scope="orders:write"',
    );
  });

  it("wrong audience (host) → 401 TOKEN_AUDIENCE_MISMATCH", async () => {
    const token = await login(env.clients.gate, env.agent);
    const response = await authz.check(checkRequest(bearer(token), { host: "other.example.com" }));
    expect(expectDenied(response, 401, "REASON_TOKEN_AUDIENCE_MISMATCH")).toBe(
      invalidToken("REASON_TOKEN_AUDIENCE_MISMATCH"),
    );
  });

  it("an unbound (bearer) token under the DPoP scheme stays a bearer token (RFC 9449 §7.2)", async () => {
    // Key-bound tokens and their proofs: test/integration/dpop.test.ts.
    const token = await login(env.clients.gate, env.agent);
    const response = await authz.check(
      checkRequest({ authorization: `DPoP ${token}`, dpop: "eyJhbGciOiJFZERTQSJ9.e30.AAAA" }),
    );
    expect(response.status?.code ?? 0).toBe(0);
    expect(response.httpResponse.case).toBe("okResponse");
  });

  it("route scopes that are not RFC 6749 scope tokens → INVALID_ARGUMENT (Envoy fails closed)", async () => {
    const request = checkRequest(bearer("a.b.c"), {
      extensions: { gatehouse_required_scopes: 'orders:read "x' },
    });
    await expectReason(authz.check(request), Reason.INVALID_ARGUMENT, 3);
    // Values read are remembered; a value that failed to read is not, and fails again.
    await expectReason(authz.check(request), Reason.INVALID_ARGUMENT, 3);
  });

  it("refuses callers other than the mesh (verifier) and admins", async () => {
    for (const tls of [env.agent.agentTls, env.agent.operatorTls]) {
      const client = createGrpcClient(Authorization, { address: env.gh.grpcAddress, tls });
      try {
        await expectReason(client.check(checkRequest({})), Reason.PERMISSION_DENIED, 7);
      } finally {
        client.close();
      }
    }
  });

  it("reads the stated amount: over the cap → 402, malformed → 400, rate → 429", async () => {
    const agent = await enrollAgent(env.gh);
    const operator = grpcClients(env.gh, agent.operatorTls);
    const gate = grpcClients(env.gh, agent.agentTls);
    try {
      const eur = (minorUnits: bigint) => ({ currency: "EUR", minorUnits });
      await operator.registry.updateAgentPolicy({
        did: agent.did,
        policy: {
          scopes: ["orders:read"],
          audiences: [AUDIENCE],
          envelope: {
            maxTransaction: eur(5_000n),
            budget: eur(8_000n),
            budgetPeriod: { seconds: 86_400n },
            maxRequests: 6,
            requestWindow: { seconds: 60n },
          },
        },
      });
      const token = await login(gate.gate, agent);
      const check = (amount?: string) =>
        authz.check(
          checkRequest({ ...bearer(token), ...(amount && { "gatehouse-amount": amount }) }),
        );
      expect((await check("EUR 4000")).status?.code).toBe(0);
      // No challenge: the envelope refuses what the agent does, not its credentials.
      expect(expectDenied(await check("EUR 5001"), 402, "REASON_TRANSACTION_LIMIT_EXCEEDED")).toBe(
        "",
      );
      expectDenied(await check("EUR 4001"), 402, "REASON_BUDGET_EXCEEDED");
      expectDenied(await check("USD 10"), 402, "REASON_CURRENCY_MISMATCH");
      for (const malformed of ["EUR", "eur 10", "EUR -5", "EUR 1.50", "EUR 0100", "EUR  10"]) {
        expectDenied(await check(malformed), 400, "REASON_INVALID_ARGUMENT");
      }
      let last = await check();
      for (let i = 0; i < 6 && last.status?.code === 0; i++) last = await check();
      expectDenied(last, 429, "REASON_ENVELOPE_EXCEEDED");
    } finally {
      operator.close();
      gate.close();
    }
  });

  it("WIRE: hand-encoded CheckRequest bytes, decoded by field number", async () => {
    const token = await login(env.clients.gate, env.agent);
    const allowed = await rawCheck(
      env.gh.grpcAddress,
      env.agent.verifierTls,
      wireCheckRequest(token),
    );
    expect(allowed.get(1)?.length).toBe(1); // status(1) present …
    expect(varintField(message(allowed, 1), 1)).toBe(0); // … with code(1) OK
    const ok = message(allowed, 3); // ok_response(3)
    const identity = (ok.get(2) ?? []).map((raw) => {
      const option = decode(raw as Buffer); // HeaderValueOption
      const header = message(option, 1); // header(1): key(1), value(2)
      return [text(header, 1), text(header, 2), varintField(option, 3)] as const;
    });
    const overwrite = HeaderValueOption_HeaderAppendAction.OVERWRITE_IF_EXISTS_OR_ADD;
    expect(identity).toContainEqual(["x-gatehouse-agent", env.agent.did, overwrite]);
    expect(identity).toContainEqual(["x-gatehouse-scopes", "orders:read", overwrite]);

    const denied = await rawCheck(env.gh.grpcAddress, env.agent.verifierTls, wireCheckRequest(""));
    expect(varintField(message(denied, 1), 1)).toBe(UNAUTHENTICATED);
    const deniedResponse = message(denied, 2); // denied_response(2)
    expect(varintField(message(deniedResponse, 1), 1)).toBe(401); // status(1).code(1)
    expect(JSON.parse(text(deniedResponse, 3))).toEqual({ reason: "REASON_UNAUTHENTICATED" });
  });
});

// ---- Protobuf wire format by hand (protobuf.dev/programming-guides/encoding) ----

const varint = (value: number | bigint): number[] => {
  const bytes: number[] = [];
  let rest = BigInt.asUintN(64, BigInt(value));
  do {
    const low = Number(rest & 0x7fn);
    rest >>= 7n;
    bytes.push(rest > 0n ? low | 0x80 : low);
  } while (rest > 0n);
  return bytes;
};
const LEN = 2;
const VARINT = 0;
const bytesField = (field: number, body: Buffer | string): Buffer => {
  const payload = Buffer.from(body);
  return Buffer.concat([
    Buffer.from([...varint((field << 3) | LEN), ...varint(payload.length)]),
    payload,
  ]);
};
const varintField = (fields: Fields, field: number): number => Number(fields.get(field)?.[0] ?? 0);
const msg = (...parts: Buffer[]) => Buffer.concat(parts);
const mapEntry = (field: number, key: string, value: string) =>
  bytesField(field, msg(bytesField(1, key), bytesField(2, value)));

/**
 * A CheckRequest as Envoy sends it, field numbers straight from Envoy's protos, including
 * fields Gatehouse's subset leaves out (request id, size, protocol, time, destination, TLS
 * session) to prove they are skipped.
 */
function wireCheckRequest(token: string): Buffer {
  const http = msg(
    bytesField(1, "req-1"), // id
    bytesField(2, "GET"), // method
    ...(token ? [mapEntry(3, "authorization", `Bearer ${token}`)] : []), // headers
    mapEntry(3, "x-forwarded-proto", "https"),
    bytesField(4, "/orders"), // path
    bytesField(5, HOST), // host
    bytesField(6, "https"), // scheme
    Buffer.from([...varint((9 << 3) | VARINT), ...varint(-1)]), // size: -1 (unknown)
    bytesField(10, "HTTP/2"), // protocol
  );
  const request = msg(
    bytesField(1, Buffer.from([...varint((1 << 3) | VARINT), ...varint(1_700_000_000)])), // time
    bytesField(2, http),
  );
  const attributes = msg(
    bytesField(1, bytesField(4, "spiffe://cluster.local/ns/a/sa/b")), // source.principal
    bytesField(2, bytesField(2, "orders")), // destination.service
    bytesField(4, request),
    mapEntry(10, "gatehouse_required_scopes", "orders:read"), // context_extensions
    bytesField(12, bytesField(1, HOST)), // tls_session.sni
  );
  return bytesField(1, attributes); // CheckRequest.attributes
}

/** Field number → values: Buffers for length-delimited fields, bigints for varints. */
type Fields = Map<number, (Buffer | bigint)[]>;

function decode(bytes: Buffer): Fields {
  const fields: Fields = new Map();
  let offset = 0;
  const readVarint = (): bigint => {
    let value = 0n;
    for (let shift = 0n; ; shift += 7n) {
      const byte = bytes[offset++];
      if (byte === undefined) throw new Error("truncated varint");
      value |= BigInt(byte & 0x7f) << shift;
      if (byte < 0x80) return value;
    }
  };
  while (offset < bytes.length) {
    const tag = Number(readVarint());
    const field = tag >> 3;
    const wireType = tag & 7;
    let value: Buffer | bigint;
    if (wireType === VARINT) value = readVarint();
    else if (wireType === LEN) {
      const length = Number(readVarint());
      value = bytes.subarray(offset, offset + length);
      offset += length;
    } else throw new Error(`unexpected wire type ${wireType}`);
    fields.set(field, [...(fields.get(field) ?? []), value]);
  }
  return fields;
}

const message = (fields: Fields, field: number): Fields =>
  decode((fields.get(field)?.[0] as Buffer | undefined) ?? Buffer.alloc(0));
const text = (fields: Fields, field: number): string =>
  ((fields.get(field)?.[0] as Buffer | undefined) ?? Buffer.alloc(0)).toString("utf8");

/** Sends raw bytes to Check over grpc-js, with no generated code on either side. */
async function rawCheck(address: string, tls: ClientTls, body: Buffer): Promise<Fields> {
  const channel = createGrpcChannel(address, tls);
  try {
    const bytes = await new Promise<Buffer>((resolve, reject) =>
      channel.makeUnaryRequest(
        "/envoy.service.auth.v3.Authorization/Check",
        (b: Buffer) => b,
        (b: Buffer) => b,
        body,
        new grpc.Metadata(),
        (error, response) => (error || !response ? reject(error) : resolve(response)),
      ),
    );
    return decode(bytes);
  } finally {
    channel.close();
  }
}
