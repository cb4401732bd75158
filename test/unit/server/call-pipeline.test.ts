import { create, type Message } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { Reason } from "../../../gen/gatehouse/v1/errors_pb.js";
import { ChallengeKind, GateService } from "../../../gen/gatehouse/v1/gate_pb.js";
import { GatehouseError } from "../../../src/errors/index.js";
import type { Caller } from "../../../src/identity/caller.js";
import { createLogger } from "../../../src/observability/logger.js";
import {
  authorizeStep,
  forwardedIdentityStep,
  peerIdentityStep,
  rateLimitStep,
  servedStep,
  signedRequestStep,
  type TransportCall,
  validateStep,
} from "../../../src/server/call-steps.js";
import { CALL_STEPS, createDispatch } from "../../../src/server/dispatch.js";
import { bindService } from "../../../src/services/types.js";

const AGENT: Caller = Object.freeze({
  fingerprint: "a".repeat(64),
  uris: ["did:agent:example.com:521aa71849e5ad9e31643096e6a7a48b"],
  role: "agent",
  did: "did:agent:example.com:521aa71849e5ad9e31643096e6a7a48b",
});

describe("the call pipeline", () => {
  it("runs its steps in this order", () => {
    expect(CALL_STEPS).toEqual([
      servedStep,
      peerIdentityStep,
      forwardedIdentityStep,
      signedRequestStep,
      authorizeStep,
      rateLimitStep,
      validateStep,
    ]);
  });

  /** One Challenge call through a dispatcher whose every step records that it ran. */
  async function challenge(request: Message, caller: Caller, limit: () => Promise<void>) {
    const seen: string[] = [];
    const handlers = Object.fromEntries(
      Object.keys(GateService.method).map((name) => [
        name,
        async () => {
          seen.push("handle");
          return {};
        },
      ]),
    );
    const [method] = createDispatch({
      bindings: [bindService(GateService, handlers as never)],
      logger: createLogger("silent"),
      peers: () => {
        seen.push("peer identity");
        return { caller, address: "192.0.2.1" };
      },
      resolveCaller: (call) => {
        seen.push("forwarded identity");
        return call.peerCaller;
      },
      authenticate: () => {
        seen.push("signed request");
        return undefined;
      },
      rateLimits: {
        challenge: async () => {
          seen.push("rate limit");
          await limit();
        },
        submit: async () => {},
      },
    }).filter((m) => m.method.name === "Challenge");
    const transport: TransportCall = {
      connection: undefined,
      peerCertificate: () => undefined,
      peerAddress: () => "192.0.2.1",
      authority: "gatehouse.test",
      header: () => [],
      signal: new AbortController().signal,
    };
    const outcome = await method?.invoke(request, transport).then(
      () => Reason.UNSPECIFIED,
      (error: unknown) => (error instanceof GatehouseError ? error.reason : undefined),
    );
    return { seen, outcome };
  }

  const valid = create(GateService.method.challenge.input, {
    did: AGENT.did ?? "",
    kind: ChallengeKind.SIGNATURE,
    scopes: ["orders:read"],
    audience: "https://api.example.com",
  });

  it("identifies, authorizes and rate-limits a call before validating and handling it", async () => {
    const { seen, outcome } = await challenge(valid, AGENT, async () => {});
    expect(outcome).toBe(Reason.UNSPECIFIED);
    expect(seen).toEqual([
      "peer identity",
      "forwarded identity",
      "signed request",
      "rate limit",
      "handle",
    ]);
  });

  it("counts an invalid request against the rate limit, then refuses it unhandled", async () => {
    const invalid = create(GateService.method.challenge.input, {});
    const { seen, outcome } = await challenge(invalid, AGENT, async () => {});
    expect(outcome).toBe(Reason.INVALID_ARGUMENT);
    expect(seen).toContain("rate limit");
    expect(seen).not.toContain("handle");
  });

  it("refuses an unauthorized caller before its call counts or is handled", async () => {
    const verifier: Caller = { fingerprint: "b".repeat(64), uris: [], role: "verifier" };
    const { seen, outcome } = await challenge(valid, verifier, async () => {});
    expect(outcome).toBe(Reason.PERMISSION_DENIED);
    expect(seen).not.toContain("rate limit");
    expect(seen).not.toContain("handle");
  });

  it("stops at a refusing rate limit", async () => {
    const refuse = async () => {
      throw new GatehouseError(Reason.RATE_LIMITED, { retryAfterMs: 1000 });
    };
    const { seen, outcome } = await challenge(valid, AGENT, refuse);
    expect(outcome).toBe(Reason.RATE_LIMITED);
    expect(seen).not.toContain("handle");
  });
});
