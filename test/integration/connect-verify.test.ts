import { describe, expect, it } from "vitest";
import { Reason } from "../../gen/gatehouse/v1/errors_pb.js";
import { VerifyService } from "../../gen/gatehouse/v1/verify_pb.js";
import {
  type ConnectProtocol,
  createConnectClient,
  createMtlsTransport,
} from "../../src/client/connect-client.js";
import { useGatehouse } from "../support/fixture.js";
import { AUDIENCE, login } from "../support/flows.js";

/**
 * Verify over Connect's plain unary POST is served by Gatehouse's own route (src/server/
 * connect-unary.ts), not connect-node: the same answers as gRPC, the same refusals with the
 * same typed detail, and what it does not take (a deadline, compression) still works through
 * connect-node.
 */
describe("Verify over Connect (the hot route)", () => {
  const env = useGatehouse();

  const client = (protocol: ConnectProtocol, tls = env.agent.verifierTls) =>
    createConnectClient(VerifyService, createMtlsTransport(env.gh.connectUrl, tls, protocol));

  for (const protocol of ["connect-json", "connect-binary"] as const) {
    it(`answers as gRPC does (${protocol})`, async () => {
      const token = await login(env.clients.gate, env.agent);
      const request = { token, audience: AUDIENCE, requiredScopes: ["orders:read"] };
      const overGrpc = await env.verifier.verify.verify(request);
      const overConnect = await client(protocol).verify(request);
      expect(overConnect.allowed).toBe(true);
      expect(overConnect).toEqual(overGrpc);
      const denied = await client(protocol).verify({ ...request, audience: "https://x.example" });
      expect(Reason[denied.reason]).toBe(Reason[Reason.TOKEN_AUDIENCE_MISMATCH]);
      // With a deadline (connect-timeout-ms), connect-node serves it: the same answer.
      const withDeadline = await client(protocol).verify(request, { timeoutMs: 5_000 });
      expect(withDeadline).toEqual(overConnect);
    });

    it(`refuses a caller the table does not allow, with the typed reason (${protocol})`, async () => {
      const error = await client(protocol, env.agent.agentTls)
        .verify({ token: "x", audience: AUDIENCE })
        .then(
          () => undefined,
          (caught: unknown) => caught as { reason?: Reason },
        );
      expect(Reason[error?.reason ?? Reason.UNSPECIFIED]).toBe(Reason[Reason.PERMISSION_DENIED]);
    });
  }

  it("answers malformed JSON invalid_argument, as connect-node does", async () => {
    const { connect } = await import("node:http2");
    const tls = env.agent.verifierTls;
    const session = connect(env.gh.connectUrl, { ca: tls.ca, cert: tls.cert, key: tls.key });
    try {
      const stream = session.request({
        ":method": "POST",
        ":path": "/gatehouse.v1.VerifyService/Verify",
        "content-type": "application/json",
      });
      const chunks: Buffer[] = [];
      let status = 0;
      stream.on("response", (headers) => {
        status = Number(headers[":status"]);
      });
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.end("{not json");
      await new Promise((resolve) => stream.once("close", resolve));
      expect(status).toBe(400);
      expect(JSON.parse(Buffer.concat(chunks).toString()).code).toBe("invalid_argument");
    } finally {
      session.close();
    }
  });
});
