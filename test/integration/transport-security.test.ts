import { request as httpsRequest } from "node:https";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Reason } from "../../gen/gatehouse/v1/errors_pb.js";
import { RegistryService } from "../../gen/gatehouse/v1/registry_pb.js";
import { VerifyService } from "../../gen/gatehouse/v1/verify_pb.js";
import { createConnectClient, createMtlsTransport } from "../../src/client/connect-client.js";
import { createGrpcClient } from "../../src/client/grpc-client.js";
import { expectReason } from "../support/errors.js";
import { type Enrolled, enrollAgent, grpcClients } from "../support/flows.js";
import { startTestGatehouse, type TestGatehouse } from "../support/gatehouse.js";

const PERMISSION_DENIED = 7;
const UNAUTHENTICATED = 16;

function rawGrpc(address: string, credentials: grpc.ChannelCredentials, path: string) {
  const client = new grpc.Client(address, credentials);
  return new Promise<Buffer>((resolve, reject) => {
    client.makeUnaryRequest(
      path,
      (b: Buffer) => b,
      (b: Buffer) => b,
      Buffer.alloc(0),
      new grpc.Metadata(),
      { deadline: Date.now() + 5_000 },
      (error, response) => {
        client.close();
        if (error) reject(error);
        else resolve(response ?? Buffer.alloc(0));
      },
    );
  });
}

/** Resolves with the HTTP status, or rejects when TLS refuses the connection. */
function connectJsonStatus(url: string, tls: { ca: string; cert?: Buffer; key?: Buffer }) {
  return new Promise<number>((resolve, reject) => {
    const req = httpsRequest(
      `${url}/gatehouse.v1.VerifyService/GetJwks`,
      {
        method: "POST",
        headers: { "content-type": "application/json" },
        ca: tls.ca,
        ...(tls.cert ? { cert: tls.cert, key: tls.key } : {}),
      },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on("error", reject);
    req.end("{}");
  });
}

describe("transport security: mutual TLS and the per-RPC policy", () => {
  let gh: TestGatehouse;
  let agent: Enrolled;
  beforeAll(async () => {
    gh = await startTestGatehouse();
    agent = await enrollAgent(gh);
  });
  afterAll(async () => {
    await gh?.dispose();
  });

  it("refuses a gRPC client without a certificate", async () => {
    const credentials = grpc.credentials.createSsl(Buffer.from(gh.caPem));
    const error = await rawGrpc(gh.grpcAddress, credentials, "/grpc.health.v1.Health/Check").then(
      () => undefined,
      (e: grpc.ServiceError) => e,
    );
    expect(error?.code).toBe(grpc.status.UNAVAILABLE);
  });

  it("refuses a gRPC client whose certificate comes from another CA", async () => {
    const foreign = await gh.foreignTls({ role: "admin", name: "mallory" });
    const credentials = grpc.credentials.createSsl(foreign.ca, foreign.key, foreign.cert);
    const error = await rawGrpc(gh.grpcAddress, credentials, "/grpc.health.v1.Health/Check").then(
      () => undefined,
      (e: grpc.ServiceError) => e,
    );
    expect(error?.code).toBe(grpc.status.UNAVAILABLE);
  });

  it("refuses a Connect client without a certificate, or from another CA", async () => {
    await expect(connectJsonStatus(gh.connectUrl, { ca: gh.caPem })).rejects.toThrow();
    const foreign = await gh.foreignTls({ role: "admin", name: "mallory" });
    await expect(
      connectJsonStatus(gh.connectUrl, { ca: gh.caPem, cert: foreign.cert, key: foreign.key }),
    ).rejects.toThrow();
    // Control: the same request with a trusted certificate is served.
    expect(
      await connectJsonStatus(gh.connectUrl, {
        ca: gh.caPem,
        cert: agent.verifierTls.cert,
        key: agent.verifierTls.key,
      }),
    ).toBe(200);
  });

  it("serves health checking and reflection over mTLS", async () => {
    const { ca, key, cert } = agent.verifierTls;
    const credentials = grpc.credentials.createSsl(ca, key, cert);
    const health = await rawGrpc(gh.grpcAddress, credentials, "/grpc.health.v1.Health/Check");
    expect([...health]).toEqual([0x08, 0x01]); // status: SERVING

    // grpc.reflection.v1 ServerReflectionInfo with `list_services: ""` (field 7).
    const client = new grpc.Client(gh.grpcAddress, credentials);
    const stream = client.makeBidiStreamRequest(
      "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
      (b: Buffer) => b,
      (b: Buffer) => b,
    );
    const listing = await new Promise<string>((resolve, reject) => {
      stream.once("data", (b: Buffer) => resolve(b.toString("latin1")));
      stream.once("error", reject);
      stream.write(Buffer.from([0x3a, 0x00]));
    });
    stream.end();
    client.close();
    for (const service of ["GateService", "VerifyService", "RegistryService"]) {
      expect(listing).toContain(`gatehouse.v1.${service}`);
    }
  });

  it("an agent certificate calling an operator-only RPC → PERMISSION_DENIED (gRPC and Connect)", async () => {
    const agentClients = grpcClients(gh, agent.agentTls);
    const connect = createConnectClient(
      RegistryService,
      createMtlsTransport(gh.connectUrl, agent.agentTls, "connect-json"),
    );
    const request = {
      did: agent.did,
      publicKey: agent.key.publicKey,
      proofOfPossession: new Uint8Array(64),
      policy: {},
    };
    try {
      await expectReason(
        agentClients.registry.registerAgent(request),
        Reason.PERMISSION_DENIED,
        PERMISSION_DENIED,
      );
      await expectReason(
        connect.registerAgent(request),
        Reason.PERMISSION_DENIED,
        PERMISSION_DENIED,
      );
      await expectReason(
        agentClients.registry.createOperator({ domain: "evil.example" }),
        Reason.PERMISSION_DENIED,
      );
      await expectReason(
        agentClients.verify.verify({ token: "a.b.c", audience: "x" }),
        Reason.PERMISSION_DENIED,
      );
    } finally {
      agentClients.close();
    }
  });

  it("a verifier or operator may not use the agent-facing gate", async () => {
    const verifier = grpcClients(gh, agent.verifierTls);
    try {
      await expectReason(
        verifier.gate.token({ grant: { case: "passToken", value: "A".repeat(43) } }),
        Reason.PERMISSION_DENIED,
      );
    } finally {
      verifier.close();
    }
  });

  it("a trusted certificate that names no role → UNAUTHENTICATED", async () => {
    // A SPIFFE ID from another trust domain is not a Gatehouse role.
    const tls = await gh.clientTls({ role: "agent", did: "spiffe://other.domain/admin/x" });
    const client = createGrpcClient(VerifyService, { address: gh.grpcAddress, tls });
    try {
      await expectReason(client.getJwks({}), Reason.UNAUTHENTICATED, UNAUTHENTICATED);
    } finally {
      client.close();
    }
  });

  it("an operator may not act on another operator's agents", async () => {
    const other = await enrollAgent(gh);
    const operator = grpcClients(gh, agent.operatorTls);
    try {
      await expectReason(
        operator.registry.suspendAgent({ did: other.did }),
        Reason.OPERATOR_MISMATCH,
        PERMISSION_DENIED,
      );
      await expectReason(operator.registry.getAgent({ did: other.did }), Reason.OPERATOR_MISMATCH);
      await expectReason(
        operator.registry.revoke({ target: { case: "agentDid", value: other.did } }),
        Reason.OPERATOR_MISMATCH,
      );
      await expectReason(
        operator.registry.listAgents({ operatorDomain: other.domain }),
        Reason.OPERATOR_MISMATCH,
      );
    } finally {
      operator.close();
    }
  });
});
