import { generateKeyPairSync, verify } from "node:crypto";
import { create, type DescMethod, type Message, toBinary } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { Reason } from "../../../gen/gatehouse/v1/errors_pb.js";
import { GetAgentRequestSchema, RegistryService } from "../../../gen/gatehouse/v1/registry_pb.js";
import { createOperatorSigner } from "../../../src/client/operator-signer.js";
import { createManualClock } from "../../../src/clock.js";
import { GatehouseError } from "../../../src/errors/index.js";
import type { Caller } from "../../../src/identity/caller.js";
import {
  createSignedRequestAuthenticator,
  type SignedCall,
  type SignedMethod,
} from "../../../src/identity/signed-request.js";
import {
  type SignedRequestHeaders,
  signedRequestInput,
} from "../../../src/identity/signed-request-format.js";
import { operatorMayCall } from "../../../src/server/policy.js";
import { createMemoryNonceStore } from "../../../src/store/memory/nonces.js";
import type { OperatorRecord, Store } from "../../../src/store/ports.js";

const DOMAIN = "example.com";
const WINDOW_MS = 60_000;
const SEED = Buffer.alloc(32, 7);
const CONNECTION: Caller = { fingerprint: "f".repeat(64), uris: [], role: "verifier", name: "v" };

function dispatchMethod(
  name: keyof typeof RegistryService.method,
): SignedMethod & { readonly method: DescMethod } {
  const method = RegistryService.method[name];
  const fullName = `${RegistryService.typeName}/${method.name}`;
  return { fullName, input: method.input, operatorMayCall: operatorMayCall(fullName), method };
}

const GET_AGENT = dispatchMethod("getAgent");
const request = create(GetAgentRequestSchema, { did: `did:agent:${DOMAIN}:abc` });

/** An authenticator over one operator, `DOMAIN`, keyed with SEED unless `keyless`. */
function setup(status: OperatorRecord["status"] = "active", keyless = false) {
  const clock = createManualClock(1_900_000_000_000);
  const signer = createOperatorSigner({ domain: DOMAIN, privateKey: SEED, clock });
  const publicKeyHex = Buffer.from(signer.publicKey).toString("hex");
  const record: OperatorRecord = {
    domain: DOMAIN,
    displayName: "",
    status,
    createdAt: 0,
    ...(keyless ? {} : { publicKeyHex }),
  };
  const store = {
    registry: { getOperator: async (domain: string) => (domain === DOMAIN ? record : undefined) },
    nonces: createMemoryNonceStore(clock),
  } as unknown as Pick<Store, "registry" | "nonces">;
  const authenticate = createSignedRequestAuthenticator({ store, clock, windowMs: WINDOW_MS });
  const call = (
    headers: Partial<Record<string, string | string[]>>,
    method = GET_AGENT,
    message: Message = request,
    caller = CONNECTION,
  ) => {
    const context: SignedCall = {
      caller,
      header: (name) => [headers[name] ?? []].flat(),
    };
    // The authenticator answers undefined synchronously when no signature header is sent.
    return Promise.resolve(authenticate(method, message, context));
  };
  return { clock, signer, call, sign: () => signer.headers(GET_AGENT.method, request) };
}

async function reasonOf(promise: Promise<unknown>): Promise<Reason | undefined> {
  try {
    await promise;
    return undefined;
  } catch (error) {
    return error instanceof GatehouseError ? error.reason : Reason.UNSPECIFIED;
  }
}

describe("signed operator requests", () => {
  it("leaves a call with none of the headers to its certificate", async () => {
    const { call } = setup();
    expect(await call({})).toBeUndefined();
  });

  it("proves an operator caller on the connection's certificate fingerprint", async () => {
    const { call, sign } = setup();
    expect(await call(sign())).toEqual({
      fingerprint: CONNECTION.fingerprint,
      uris: [],
      role: "operator",
      operatorDomain: DOMAIN,
    });
  });

  it("refuses a replay, and only once the signature holds spends the nonce", async () => {
    const { call, sign } = setup();
    const headers = sign();
    const forged = { ...headers, "gatehouse-signature": sign()["gatehouse-signature"] };
    expect(await reasonOf(call(forged))).toBe(Reason.REQUEST_SIGNATURE_INVALID);
    await call(headers);
    expect(await reasonOf(call(headers))).toBe(Reason.REQUEST_REPLAYED);
  });

  it("accepts the edges of the window and refuses beyond them", async () => {
    const { call, clock, sign } = setup();
    const signedAt = clock.now();
    const headers = sign();
    clock.set(signedAt + WINDOW_MS + 1000);
    expect(await reasonOf(call(headers))).toBe(Reason.REQUEST_EXPIRED);
    clock.set(signedAt - WINDOW_MS - 1000);
    expect(await reasonOf(call(headers))).toBe(Reason.REQUEST_EXPIRED);
    clock.set(signedAt + WINDOW_MS);
    expect(await call(headers)).toBeDefined();
  });

  it.each<[string, (h: SignedRequestHeaders) => Record<string, string | string[]>]>([
    ["a missing header", ({ "gatehouse-nonce": _, ...rest }) => rest],
    ["a repeated header", (h) => ({ ...h, "gatehouse-nonce": [h["gatehouse-nonce"], "x"] })],
    ["garbage base64", (h) => ({ ...h, "gatehouse-signature": "!".repeat(86) })],
    [
      "a padded signature",
      (h) => ({ ...h, "gatehouse-signature": `${h["gatehouse-signature"]}==` }),
    ],
    ["a short nonce", (h) => ({ ...h, "gatehouse-nonce": "A".repeat(21) })],
    ["an uppercase domain", (h) => ({ ...h, "gatehouse-operator": "Example.com" })],
    [
      "a signed timestamp",
      (h) => ({ ...h, "gatehouse-timestamp": `+${h["gatehouse-timestamp"]}` }),
    ],
    ["an unknown operator", (h) => ({ ...h, "gatehouse-operator": "other.example.com" })],
  ])("refuses %s as REQUEST_SIGNATURE_INVALID", async (_, mutate) => {
    const { call, sign } = setup();
    expect(await reasonOf(call(mutate(sign())))).toBe(Reason.REQUEST_SIGNATURE_INVALID);
  });

  it("refuses another body, another method, a keyless or an inactive operator", async () => {
    const other = create(GetAgentRequestSchema, { did: `did:agent:${DOMAIN}:abd` });
    const { call, sign } = setup();
    expect(await reasonOf(call(sign(), GET_AGENT, other))).toBe(Reason.REQUEST_SIGNATURE_INVALID);
    // The same bytes (field 1, the DID) sent to another method.
    const suspend = dispatchMethod("suspendAgent");
    const sameBody = create(suspend.method.input, { did: request.did });
    expect(await reasonOf(call(sign(), suspend, sameBody))).toBe(Reason.REQUEST_SIGNATURE_INVALID);
    for (const refused of [setup("active", true), setup("suspended"), setup("revoked")]) {
      expect(await reasonOf(refused.call(refused.sign()))).toBe(Reason.REQUEST_SIGNATURE_INVALID);
    }
  });

  it("refuses a method operators may not call, before any check", async () => {
    const { call, signer } = setup();
    const rotate = dispatchMethod("rotateSigningKey");
    const headers = signer.headers(rotate.method, create(rotate.method.input));
    expect(await reasonOf(call(headers, rotate))).toBe(Reason.PERMISSION_DENIED);
  });

  it("refuses a connection without a client certificate", async () => {
    const { call, sign } = setup();
    const anonymous = { fingerprint: "", uris: [] };
    expect(await reasonOf(call(sign(), GET_AGENT, request, anonymous))).toBe(
      Reason.UNAUTHENTICATED,
    );
  });
});

describe("the operator signer", () => {
  it("signs the documented input with the operator's key", () => {
    const { privateKey, publicKey } = generateKeyPairSync("ed25519");
    const signer = createOperatorSigner({ domain: DOMAIN, privateKey });
    const headers = signer.headers(GET_AGENT.method, request);
    expect(headers["gatehouse-nonce"]).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const input = signedRequestInput({
      operator: DOMAIN,
      method: "gatehouse.v1.RegistryService/GetAgent",
      body: toBinary(GetAgentRequestSchema, request),
      timestamp: headers["gatehouse-timestamp"],
      nonce: headers["gatehouse-nonce"],
    });
    const signature = Buffer.from(headers["gatehouse-signature"], "base64url");
    expect(verify(null, input, publicKey, signature)).toBe(true);
  });

  it("refuses a key that is not an Ed25519 private key", () => {
    const { publicKey } = generateKeyPairSync("ed25519");
    expect(() => createOperatorSigner({ domain: DOMAIN, privateKey: publicKey })).toThrow();
    expect(() => createOperatorSigner({ domain: DOMAIN, privateKey: SEED.subarray(1) })).toThrow();
  });
});
