import { generateKeyPairSync } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create, type DescMethod, type Message } from "@bufbuild/protobuf";
import type { GenService, GenServiceMethods } from "@bufbuild/protobuf/codegenv2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuditService } from "../../gen/gatehouse/v1/audit_pb.js";
import { Reason } from "../../gen/gatehouse/v1/errors_pb.js";
import { GrantService } from "../../gen/gatehouse/v1/grants_pb.js";
import { RegistryService } from "../../gen/gatehouse/v1/registry_pb.js";
import { agentDid, generateAgentKey, proofOfPossession } from "../../src/client/agent-keys.js";
import {
  type ConnectProtocol,
  createConnectClient,
  createMtlsTransport,
} from "../../src/client/connect-client.js";
import type { ClientTls } from "../../src/client/credentials.js";
import { createGrpcChannel, createGrpcClient } from "../../src/client/grpc-client.js";
import {
  createOperatorSigner,
  type OperatorSigner,
  operatorSigningInterceptor,
} from "../../src/client/operator-signer.js";
import type { Clock } from "../../src/clock.js";
import { RPC_POLICY } from "../../src/server/policy.js";
import { runCli } from "../support/cli-process.js";
import { expectReason, rejectionOf } from "../support/errors.js";
import { useGatehouse } from "../support/fixture.js";
import { AUDIENCE, type Clients, grpcClients } from "../support/flows.js";
import { startTestGatehouse, type TestGatehouse } from "../support/gatehouse.js";
import { rememberSecret } from "../support/secrets.js";
import { STORE_KINDS, useRedis } from "../support/stores.js";
import { VALID_REQUESTS } from "../support/valid-requests.js";

const UNAUTHENTICATED = 16;
const PERMISSION_DENIED = 7;
/** Beyond the default 60 s window, either way. */
const OUTSIDE_WINDOW_MS = 90_000;
const MANAGEMENT_SERVICES = [RegistryService, GrantService, AuditService];
const { getAgent, listAgents, suspendAgent, reactivateAgent } = RegistryService.method;

type Headers = Readonly<Record<string, string>>;
/** Sends one call carrying exactly `headers` (none when omitted). */
type Send = (method: DescMethod, request: Message, headers?: Headers) => Promise<unknown>;
type Unary = (request: Message, options?: object) => Promise<unknown>;

/** Calls over grpc-js, presenting `tls`; one channel for every service. */
function grpcSender(gh: TestGatehouse, tls: ClientTls): { send: Send; close(): void } {
  const channel = createGrpcChannel(gh.grpcAddress, tls);
  const send: Send = (method, request, headers = {}) => {
    const service = method.parent as GenService<GenServiceMethods>;
    const options = { address: gh.grpcAddress, tls, channel, headers: () => headers };
    const client = createGrpcClient(service, options) as unknown as Record<string, Unary>;
    return client[method.localName]?.(request) ?? Promise.reject(new Error(method.name));
  };
  return { send, close: () => channel.close() };
}

/** Calls over the Connect port, presenting `tls`. */
function connectSender(gh: TestGatehouse, tls: ClientTls, protocol: ConnectProtocol): Send {
  const transport = createMtlsTransport(gh.connectUrl, tls, protocol);
  return (method, request, headers = {}) => {
    const client = createConnectClient(method.parent, transport) as Record<string, Unary>;
    return client[method.localName]?.(request, { headers }) ?? Promise.reject(new Error("none"));
  };
}

/** A signer for `domain`: with a fresh, unregistered key unless one is given. */
function newSigner(domain: string, privateKey = generateKeyPairSync("ed25519").privateKey) {
  return createOperatorSigner({ domain, privateKey });
}

const shifted = (ms: number): Clock => ({ now: () => Date.now() + ms });

const redisUrl = useRedis();

describe.each(STORE_KINDS)("signed operator requests (%s store)", (storeKind) => {
  const env = useGatehouse({ storeKind, redisUrl });
  const domain = `signed-${storeKind}-${process.pid}.example.com`;
  const operatorKey = generateKeyPairSync("ed25519").privateKey;
  let signer: OperatorSigner;
  /** The fixture's verifier certificate: not an operator's. */
  let viaVerifier: { send: Send; close(): void };
  let admin: Clients;
  let ownDid: string;

  /** One signed call of `method` with `init`, as operator `signer`. */
  const signed = (method: DescMethod, init: Record<string, unknown>, by = signer) => {
    const request = create(method.input, init);
    const headers = by.headers(method, request);
    // The final log scan proves no signature or nonce reached a log line.
    rememberSecret(headers["gatehouse-signature"], headers["gatehouse-nonce"]);
    return { request, headers };
  };

  beforeAll(async () => {
    signer = newSigner(domain, operatorKey);
    admin = grpcClients(env.gh, env.agent.adminTls);
    await admin.registry.createOperator({
      domain,
      displayName: "signing operator",
      publicKey: signer.publicKey,
      attestDomain: true,
    });
    viaVerifier = grpcSender(env.gh, env.agent.verifierTls);
    // Registration itself goes through a signed request.
    const registry = createGrpcClient(RegistryService, {
      address: env.gh.grpcAddress,
      tls: env.agent.verifierTls,
      headers: signer.headers,
    });
    try {
      const key = generateAgentKey();
      ownDid = agentDid(key, domain);
      const { agent } = await registry.registerAgent({
        did: ownDid,
        publicKey: key.publicKey,
        proofOfPossession: proofOfPossession(key, ownDid, domain),
        policy: { scopes: ["orders:read"], audiences: [AUDIENCE] },
      });
      expect(agent?.operatorDomain).toBe(domain);
    } finally {
      registry.close();
    }
  });
  afterAll(() => {
    viaVerifier?.close();
    admin?.close();
  });

  it("acts as the operator over grpc-js, where the certificate alone may not", async () => {
    const registry = createGrpcClient(RegistryService, {
      address: env.gh.grpcAddress,
      tls: env.agent.verifierTls,
      headers: signer.headers,
    });
    try {
      expect((await registry.suspendAgent({ did: ownDid, reason: "signed" })).agent?.did).toBe(
        ownDid,
      );
      expect((await registry.reactivateAgent({ did: ownDid })).agent?.did).toBe(ownDid);
    } finally {
      registry.close();
    }
    await expectReason(
      viaVerifier.send(suspendAgent, create(suspendAgent.input, { did: ownDid })),
      Reason.PERMISSION_DENIED,
      PERMISSION_DENIED,
    );
  });

  it.each<ConnectProtocol>(["connect-json", "connect-binary"])(
    "acts as the operator over Connect (%s)",
    async (protocol) => {
      const interceptors = [operatorSigningInterceptor(signer)];
      const transport = createMtlsTransport(
        env.gh.connectUrl,
        env.agent.verifierTls,
        protocol,
        interceptors,
      );
      const registry = createConnectClient(RegistryService, transport);
      const page = await registry.listAgents({});
      expect(page.agents.map((agent) => agent.did)).toEqual([ownDid]);
      expect((await registry.getAgent({ did: ownDid })).agent?.operatorDomain).toBe(domain);
    },
  );

  it("a replayed request → REQUEST_REPLAYED, on the same or the other transport", async () => {
    const { request, headers } = signed(getAgent, { did: ownDid });
    await viaVerifier.send(getAgent, request, headers);
    await expectReason(
      viaVerifier.send(getAgent, request, headers),
      Reason.REQUEST_REPLAYED,
      UNAUTHENTICATED,
    );
    const json = connectSender(env.gh, env.agent.verifierTls, "connect-json");
    await expectReason(json(getAgent, request, headers), Reason.REQUEST_REPLAYED);
  });

  it.each([
    ["too old", -OUTSIDE_WINDOW_MS],
    ["in the future", OUTSIDE_WINDOW_MS],
  ])("a timestamp %s → REQUEST_EXPIRED", async (_, offsetMs) => {
    const clock = shifted(offsetMs);
    const skewed = createOperatorSigner({ domain, privateKey: operatorKey, clock });
    const { request, headers } = signed(listAgents, {}, skewed);
    await expectReason(
      viaVerifier.send(listAgents, request, headers),
      Reason.REQUEST_EXPIRED,
      UNAUTHENTICATED,
    );
  });

  describe("→ REQUEST_SIGNATURE_INVALID", () => {
    const invalid = (promise: Promise<unknown>) =>
      expectReason(promise, Reason.REQUEST_SIGNATURE_INVALID, UNAUTHENTICATED);

    it("signed with another key", async () => {
      const { request, headers } = signed(getAgent, { did: ownDid }, newSigner(domain));
      await invalid(viaVerifier.send(getAgent, request, headers));
    });

    it("a tampered body: one request signed, another sent", async () => {
      const { headers } = signed(getAgent, { did: ownDid });
      const other = create(getAgent.input, { did: env.agent.did });
      await invalid(viaVerifier.send(getAgent, other, headers));
    });

    it("the method swapped (same body bytes)", async () => {
      const { headers } = signed(getAgent, { did: ownDid });
      await invalid(
        viaVerifier.send(suspendAgent, create(suspendAgent.input, { did: ownDid }), headers),
      );
    });

    it("one header missing, and garbage base64", async () => {
      const { request, headers } = signed(getAgent, { did: ownDid });
      const { "gatehouse-nonce": _, ...withoutNonce } = headers;
      await invalid(viaVerifier.send(getAgent, request, withoutNonce));
      const garbage = { ...headers, "gatehouse-signature": "%%not*base64%%" };
      await invalid(viaVerifier.send(getAgent, request, garbage));
      // Neither spent the nonce: the genuine request still passes.
      await viaVerifier.send(getAgent, request, headers);
    });

    it("an operator without a key", async () => {
      const keyless = newSigner(env.agent.domain);
      const { request, headers } = signed(getAgent, { did: env.agent.did }, keyless);
      await invalid(viaVerifier.send(getAgent, request, headers));
    });
  });

  it("signed as one operator acting on another's agent → OPERATOR_MISMATCH", async () => {
    const { request, headers } = signed(suspendAgent, { did: env.agent.did });
    await expectReason(
      viaVerifier.send(suspendAgent, request, headers),
      Reason.OPERATOR_MISMATCH,
      PERMISSION_DENIED,
    );
  });

  if (storeKind === "memory") {
    it("the CLI signs every call with --operator-key and --operator-domain", async () => {
      const dir = await mkdtemp(join(tmpdir(), "gatehouse-signed-cli-"));
      try {
        const file = (name: string, content: string | Buffer) =>
          writeFile(join(dir, name), content, { mode: 0o600 }).then(() => join(dir, name));
        const tls = env.agent.verifierTls;
        const pem = operatorKey.export({ format: "pem", type: "pkcs8" }).toString();
        rememberSecret(pem);
        const connection = [
          ["--server", env.gh.grpcAddress],
          ["--cert", await file("verifier.pem", tls.cert)],
          ["--cert-key", await file("verifier-key.pem", tls.key)],
          ["--ca", await file("ca.pem", tls.ca)],
        ].flat();
        const signing = ["--operator-key", await file("operator.pem", pem)];
        const get = ["agent", "get", "--did", ownDid, ...connection, ...signing];
        const result = await runCli([...get, "--operator-domain", domain]);
        expect(result.stderr).toBe("");
        expect(result.code).toBe(0);
        expect(result.stdout).toContain(ownDid);
        const unpaired = await runCli(get);
        expect(unpaired.code).toBe(2);
        expect(unpaired.stderr).toContain("--operator-domain");
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  }

  if (storeKind === "redis") {
    it("a request accepted by one instance is replayed to another → REQUEST_REPLAYED", async () => {
      const second = await startTestGatehouse({
        storeKind,
        redisUrl: redisUrl(),
        dataDir: env.gh.dataDir,
      });
      const onSecond = grpcSender(second, env.agent.verifierTls);
      try {
        const { request, headers } = signed(reactivateAgent, { did: ownDid });
        await viaVerifier.send(reactivateAgent, request, headers);
        await expectReason(
          onSecond.send(reactivateAgent, request, headers),
          Reason.REQUEST_REPLAYED,
        );
      } finally {
        onSecond.close();
        await second.stop();
      }
    });
  }

  describe("every management RPC", () => {
    let noRole: { send: Send; close(): void };
    let asAgent: { send: Send; close(): void };

    beforeAll(async () => {
      // A SPIFFE ID from another trust domain: a trusted certificate that names no role.
      const tls = await env.gh.clientTls({ role: "agent", did: "spiffe://other.domain/x/y" });
      noRole = grpcSender(env.gh, tls);
      asAgent = grpcSender(env.gh, env.agent.agentTls);
    });
    afterAll(() => {
      noRole?.close();
      asAgent?.close();
    });

    /**
     * Every operator RPC that names a resource, aimed at another operator's (the valid
     * requests name `example.com` and its agents; this operator owns another domain), over
     * the operator's own certificate → refused before anything is read or changed. Grants are
     * and approvers are looked up by opaque id: another operator's and a missing one answer alike.
     */
    const FOREIGN: Readonly<Record<string, [Record<string, unknown>, Reason]>> = {
      RegisterAgent: [{}, Reason.OPERATOR_MISMATCH],
      GetAgent: [{}, Reason.OPERATOR_MISMATCH],
      UpdateAgentPolicy: [{}, Reason.OPERATOR_MISMATCH],
      SuspendAgent: [{}, Reason.OPERATOR_MISMATCH],
      ReactivateAgent: [{}, Reason.OPERATOR_MISMATCH],
      RotateAgentKey: [{}, Reason.OPERATOR_MISMATCH],
      DeleteAgent: [{}, Reason.OPERATOR_MISMATCH],
      Revoke: [
        { target: { case: "agentDid", value: VALID_REQUESTS.GetAgent?.did } },
        Reason.OPERATOR_MISMATCH,
      ],
      GetOperator: [{}, Reason.OPERATOR_MISMATCH],
      VerifyOperatorDomain: [{}, Reason.OPERATOR_MISMATCH],
      SetOperatorKey: [{ publicKey: generateAgentKey().publicKey }, Reason.OPERATOR_MISMATCH],
      ListAgents: [{ operatorDomain: "example.com" }, Reason.OPERATOR_MISMATCH],
      ListGrants: [{ operatorDomain: "example.com" }, Reason.OPERATOR_MISMATCH],
      ListApprovers: [{ operatorDomain: "example.com" }, Reason.OPERATOR_MISMATCH],
      ListAuditEvents: [{ operatorDomain: "example.com" }, Reason.OPERATOR_MISMATCH],
      GetGrant: [{}, Reason.GRANT_NOT_FOUND],
      RevokeGrant: [{}, Reason.GRANT_NOT_FOUND],
      RemoveApprover: [{}, Reason.APPROVER_NOT_FOUND],
    };

    it("refuses the wrong operator on every RPC that names a resource", async () => {
      const asOperator = grpcSender(env.gh, env.agent.operatorTls);
      try {
        const methods = MANAGEMENT_SERVICES.flatMap((service) => service.methods);
        for (const method of methods) {
          const fullName = `${method.parent.typeName}/${method.name}`;
          const foreign = FOREIGN[method.name];
          if (!foreign) continue;
          expect(RPC_POLICY[fullName]?.roles, fullName).toContain("operator");
          const [overrides, reason] = foreign;
          const request = create(method.input, { ...VALID_REQUESTS[method.name], ...overrides });
          const error = await rejectionOf(asOperator.send(method, request));
          expect(Reason[error.reason], fullName).toBe(Reason[reason]);
        }
        // The other operator RPCs name nothing of another operator (ResolveDid is public: a
        // DID document holds public keys only; GetAuditKeys returns the server's audit
        // public keys). A new operator RPC must be placed here.
        const unnamed = methods
          .filter((m) => RPC_POLICY[`${m.parent.typeName}/${m.name}`]?.roles.includes("operator"))
          .map((m) => m.name)
          .filter((name) => !(name in FOREIGN));
        expect(unnamed).toEqual(["ResolveDid", "CreateApproverInvite", "GetAuditKeys"]);
      } finally {
        asOperator.close();
      }
    });

    for (const method of MANAGEMENT_SERVICES.flatMap((service) => service.methods)) {
      const fullName = `${method.parent.typeName}/${method.name}`;
      const roles = RPC_POLICY[fullName]?.roles ?? [];

      it(fullName, async () => {
        const valid = VALID_REQUESTS[method.name];
        expect(valid, `a valid ${method.name} request`).toBeDefined();
        const request = create(method.input, valid);
        await expectReason(noRole.send(method, request), Reason.UNAUTHENTICATED, UNAUTHENTICATED);
        if (!roles.includes("agent")) {
          await expectReason(asAgent.send(method, request), Reason.PERMISSION_DENIED);
        }
        const { headers } = signed(method, valid ?? {});
        if (roles.includes("operator")) {
          // The first call spends the nonce whatever the RPC answers.
          await viaVerifier.send(method, request, headers).catch(() => undefined);
          await expectReason(viaVerifier.send(method, request, headers), Reason.REQUEST_REPLAYED);
        } else {
          // Not for operators: refused before any check, so nothing is spent either time.
          for (let i = 0; i < 2; i++) {
            await expectReason(
              viaVerifier.send(method, request, headers),
              Reason.PERMISSION_DENIED,
            );
          }
        }
      });
    }
  });
});
