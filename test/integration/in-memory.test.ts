import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { Reason } from "../../gen/gatehouse/v1/errors_pb.js";
import { ChallengeKind, GateService } from "../../gen/gatehouse/v1/gate_pb.js";
import {
  VerifyRequestSchema,
  VerifyResponseSchema,
  VerifyService,
} from "../../gen/gatehouse/v1/verify_pb.js";
import { GatehouseError } from "../../src/errors/index.js";
import { expectReason } from "../support/errors.js";
import { useGatehouse } from "../support/fixture.js";
import { AUDIENCE, login } from "../support/flows.js";

/** The reason an in-memory call was refused with. */
async function reasonOf(call: Promise<unknown>): Promise<string> {
  const error = await call.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof GatehouseError)) throw new Error(`expected a GatehouseError: ${error}`);
  return Reason[error.reason];
}

describe("the in-memory transport over the composed services", () => {
  const env = useGatehouse();
  const transport = () => env.gh.app.composed.inMemory();

  it("logs an agent in and verifies its token, as over the network", async () => {
    const memory = transport();
    const gate = memory.connect({ certificate: env.agent.agentTls.cert }).client(GateService);
    const verifier = memory.connect({ certificate: env.agent.verifierTls.cert });

    const token = await login(gate, env.agent);
    const request = { token, audience: AUDIENCE, requiredScopes: ["orders:read"] };
    const inMemory = await verifier.call(VerifyService.method.verify, request);
    const network = await env.verifier.verify.verify(request);

    expect(inMemory.allowed).toBe(true);
    expect(inMemory.agentDid).toBe(env.agent.did);
    expect(network.allowed).toBe(true);
    expect(network.agentDid).toBe(inMemory.agentDid);
  });

  it("refuses a caller the policy table does not allow, with the network's reason", async () => {
    const agent = transport().connect({ certificate: env.agent.agentTls.cert });
    const request = { token: "x", audience: AUDIENCE, requiredScopes: [] };

    expect(await reasonOf(agent.call(VerifyService.method.verify, request))).toBe(
      Reason[Reason.PERMISSION_DENIED],
    );
    await expectReason(env.clients.verify.verify(request), Reason.PERMISSION_DENIED);
  });

  it("gives a certificate from a CA the server does not trust no role", async () => {
    const foreign = await env.gh.foreignTls({ role: "verifier", name: "in-memory" });
    const peer = transport().connect({ certificate: foreign.cert });
    const request = { token: "x", audience: AUDIENCE, requiredScopes: [] };

    expect(await reasonOf(peer.call(VerifyService.method.verify, request))).toBe(
      Reason[Reason.UNAUTHENTICATED],
    );
  });

  it("refuses a peer without a certificate", async () => {
    const anonymous = transport().connect();

    expect(await reasonOf(anonymous.call(VerifyService.method.getJwks, {}))).toBe(
      Reason[Reason.UNAUTHENTICATED],
    );
  });

  it("validates requests and decodes bytes as the network transports do", async () => {
    const agent = transport().connect({ certificate: env.agent.agentTls.cert });
    const invalid = { did: "not-a-did", kind: ChallengeKind.SIGNATURE, scopes: [], audience: "" };

    expect(await reasonOf(agent.call(GateService.method.challenge, invalid))).toBe(
      Reason[Reason.INVALID_ARGUMENT],
    );
    await expectReason(env.clients.gate.challenge(invalid), Reason.INVALID_ARGUMENT);
    const verifier = transport().connect({ certificate: env.agent.verifierTls.cert });
    const path = `/${VerifyService.typeName}/${VerifyService.method.verify.name}`;
    expect(await reasonOf(verifier.callBinary(path, Uint8Array.of(0xff, 0xff, 0xff)))).toBe(
      Reason[Reason.INVALID_ARGUMENT],
    );
    const bytes = toBinary(
      VerifyRequestSchema,
      create(VerifyRequestSchema, { token: "x", audience: AUDIENCE }),
    );
    const answer = fromBinary(VerifyResponseSchema, await verifier.callBinary(path, bytes));
    expect(answer.allowed).toBe(false);
    expect(answer.reason).not.toBe(Reason.UNSPECIFIED);
  });
});
