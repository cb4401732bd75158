import { createPrivateKey, randomUUID, sign } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { decodeJwt } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  Authorization,
  CheckRequestSchema,
} from "../../gen/envoy/service/auth/v3/external_auth_pb.js";
import { Reason } from "../../gen/gatehouse/v1/errors_pb.js";
import type { TokenExchangeGrant } from "../../gen/gatehouse/v1/gate_pb.js";
import { CapabilityAction } from "../../gen/gatehouse/v1/resources_pb.js";
import { dpopProof } from "../../src/client/agent-keys.js";
import { createGrpcClient, type GrpcClient } from "../../src/client/grpc-client.js";
import { ed25519Thumbprint } from "../../src/crypto/jose/thumbprint.js";
import { decideGrant } from "../support/approval-flow.js";
import { expectReason } from "../support/errors.js";
import { useGatehouse } from "../support/fixture.js";
import {
  AUDIENCE,
  type Clients,
  type Enrolled,
  enrollAgent,
  grpcClients,
  login,
  SCOPES,
} from "../support/flows.js";
import { ISSUER } from "../support/gatehouse.js";
import { rememberSecret } from "../support/secrets.js";
import { STORE_KINDS, useRedis } from "../support/stores.js";

const TOKEN_URL = `${ISSUER}/v1/tokens`;
const HOST = "api.example.com";
const RESOURCE_URL = `https://${HOST}/orders`;
const TRANSACT = { action: CapabilityAction.TRANSACT, resource: "payments/eur" };
const TRANSACT_SCOPE = "transact:payments/eur";
const UNAUTHENTICATED = 16;

type ExchangeValue = Partial<Omit<TokenExchangeGrant, "$typeName">> & { subjectToken: string };

/**
 * RFC 8693 delegation across tenants (issue 11 items 2 and 3): a delegated token keeps its
 * principal as `sub`, names the actor in `act`, is bound to the actor's key, never carries
 * the actor's grants, and stops working when any agent of its chain is stopped.
 */
describe.each(STORE_KINDS)("Delegation across operators (%s store)", (storeKind) => {
  const redisUrl = useRedis();
  const env = useGatehouse({ storeKind, redisUrl, clock: true });
  const open: Clients[] = [];
  let authz: GrpcClient<(typeof Authorization)["method"]>;

  /** Operator X: x1 delegates; x2 and x3 are agents of the same operator. */
  let x1: Enrolled;
  let x2: Enrolled;
  let x3: Enrolled;
  /** Operator V: v1 holds a grant a human approved; v2 is named by x1 by exact DID. */
  let v1: Enrolled;
  let v2: Enrolled;

  const now = () => Math.floor(env.clock.now() / 1000);
  const clientsOf = (tls: Enrolled["agentTls"]) => {
    const made = grpcClients(env.gh, tls);
    open.push(made);
    return made;
  };
  const setDelegates = (who: Enrolled, delegates: string[], scopes = SCOPES) =>
    clientsOf(who.operatorTls).registry.updateAgentPolicy({
      did: who.did,
      policy: { scopes, audiences: [AUDIENCE], delegates },
    });

  beforeAll(async () => {
    x1 = await enrollAgent(env.gh);
    x2 = await enrollAgent(env.gh, {}, x1);
    x3 = await enrollAgent(env.gh, {}, x1);
    v1 = await enrollAgent(env.gh);
    v2 = await enrollAgent(env.gh, {}, v1);
    // x1 names its own operator by wildcard, V's by a wildcard (which must name no one) and
    // v2 by its exact DID.
    await setDelegates(x1, [`did:agent:${x1.domain}:*`, `did:agent:${v1.domain}:*`, v2.did]);
    // v2 may hand on to its own operator's agents and to x3 by exact DID.
    await setDelegates(v2, [`did:agent:${v1.domain}:*`, x3.did]);
    // v1 holds a grant a human approved: `transact:payments/eur`.
    const { grant } = await clientsOf(v1.agentTls).grants.requestGrant({
      audience: AUDIENCE,
      capabilities: [TRANSACT],
      reason: "pay the supplier",
    });
    await decideGrant(env.gh, v1, grant?.id ?? "", "approve");
    authz = createGrpcClient(Authorization, {
      address: env.gh.grpcAddress,
      tls: x1.verifierTls,
    });
  });
  afterAll(() => {
    for (const clients of open) clients.close();
    authz?.close();
  });

  const tokenProof = (who: Enrolled) => {
    const proof = dpopProof(who.key, { htm: "POST", htu: TOKEN_URL, iat: now() });
    rememberSecret(proof);
    return proof;
  };
  const resourceProof = (who: Enrolled, accessToken: string) => {
    const proof = dpopProof(who.key, { htm: "GET", htu: RESOURCE_URL, iat: now(), accessToken });
    rememberSecret(proof);
    return proof;
  };

  /** Token exchange by `caller`, with a DPoP proof by `prover` when given. */
  async function exchange(caller: Enrolled, value: ExchangeValue, prover?: Enrolled) {
    const response = await clientsOf(caller.agentTls).gate.token({
      grant: { case: "exchange", value: { scopes: ["orders:read"], ...value } },
      ...(prover && { dpopProof: tokenProof(prover) }),
    });
    rememberSecret(response.accessToken);
    return response;
  }

  /** Verify as a resource server would, with a proof by `prover` (none: bearer use). */
  const verify = (token: string, prover?: Enrolled, requiredScopes = ["orders:read"]) =>
    clientsOf(x1.verifierTls).verify.verify({
      token,
      audience: AUDIENCE,
      requiredScopes,
      httpMethod: "GET",
      httpUrl: RESOURCE_URL,
      ...(prover && { dpopProof: resourceProof(prover, token) }),
    });

  /** ext_authz Check under the DPoP scheme with a proof by `prover`. */
  const check = (token: string, prover: Enrolled) =>
    authz.check(
      create(CheckRequestSchema, {
        attributes: {
          request: {
            http: {
              method: "GET",
              path: "/orders",
              host: HOST,
              headers: {
                host: HOST,
                authorization: `DPoP ${token}`,
                dpop: resourceProof(prover, token),
              },
            },
          },
          contextExtensions: {
            gatehouse_audience: AUDIENCE,
            gatehouse_required_scopes: "orders:read",
          },
        },
      }),
    );

  const expectDecision = async (
    pending: Promise<{ allowed: boolean; reason: Reason }>,
    reason: Reason | "allowed",
  ) => {
    const decision = await pending;
    expect(decision.allowed ? "allowed" : Reason[decision.reason]).toBe(
      reason === "allowed" ? "allowed" : Reason[reason],
    );
  };

  const thumbprint = (who: Enrolled) => ed25519Thumbprint(who.key.publicKey);

  it("delegates the RFC 8693 way: sub stays the principal, act names the actor, bound to its key", async () => {
    const subjectToken = await login(clientsOf(x1.agentTls).gate, x1, SCOPES);
    const response = await exchange(x1, { subjectToken, delegateDid: v2.did });
    expect(response.tokenType).toBe("DPoP");
    const claims = decodeJwt(response.accessToken);
    expect(claims.sub).toBe(x1.did);
    expect(claims.operator).toBe(x1.domain);
    expect(claims.act).toEqual({ sub: v2.did });
    expect(claims.cnf).toEqual({ jkt: thumbprint(v2) });
    expect(claims.scope).toBe("orders:read");
    expect(claims.grants).toBeUndefined();

    // Only the actor, proving its key, can use it: not the principal that holds it.
    const allowed = await verify(response.accessToken, v2);
    expect(allowed.allowed).toBe(true);
    expect(allowed.agentDid).toBe(x1.did);
    expect(allowed.actorDid).toBe(v2.did);
    expect(allowed.cacheTtlSeconds).toBe(0);
    await expectDecision(verify(response.accessToken, x1), Reason.DPOP_INVALID);
    await expectDecision(verify(response.accessToken), Reason.TOKEN_BOUND_TO_KEY);
    const checked = await check(response.accessToken, v2);
    expect(checked.status?.code ?? 0).toBe(0);
    const headers = checked.httpResponse.case === "okResponse" ? checked.httpResponse.value : null;
    const actor = headers?.headers.find((h) => h.header?.key === "x-gatehouse-actor");
    expect(actor?.header?.value).toBe(v2.did);
  });

  it("refuses every cross-operator attempt on a plain exchange", async () => {
    const v1Token = await login(clientsOf(v1.agentTls).gate, v1, ["orders:read", TRANSACT_SCOPE]);
    expect(decodeJwt(v1Token).grants).toHaveLength(1);
    // Another operator's agent's token, even a leaked one, is exchanged only by its holder.
    await expectReason(exchange(x1, { subjectToken: v1Token }), Reason.DID_MISMATCH);
    await expectReason(
      exchange(x1, { subjectToken: v1Token, delegateDid: x1.did }),
      Reason.DID_MISMATCH,
    );
    await expectReason(
      exchange(x1, { subjectToken: v1Token, delegateDid: x2.did }),
      Reason.DID_MISMATCH,
    );
    // x1 cannot reach V's grant through its own token.
    const x1Token = await login(clientsOf(x1.agentTls).gate, x1, SCOPES);
    await expectReason(
      exchange(x1, { subjectToken: x1Token, scopes: [TRANSACT_SCOPE] }),
      Reason.SCOPE_NOT_ALLOWED,
    );
  });

  it("refuses cross-operator delegation unless the delegate is named by exact DID", async () => {
    const subjectToken = await login(clientsOf(x1.agentTls).gate, x1, SCOPES);
    // The issue's attack: x1's policy names `did:agent:<V>:*`; v1 holds an approved grant.
    await expectReason(
      exchange(x1, { subjectToken, delegateDid: v1.did }),
      Reason.DELEGATION_NOT_ALLOWED,
    );
    await expectReason(
      exchange(x1, { subjectToken, delegateDid: v1.did, scopes: [TRANSACT_SCOPE] }),
      Reason.SCOPE_NOT_ALLOWED,
    );
    // A same-operator delegate by wildcard is allowed, and carries x1's authority only.
    const same = await exchange(x1, { subjectToken, delegateDid: x2.did });
    const claims = decodeJwt(same.accessToken);
    expect([claims.sub, claims.act, claims.cnf]).toEqual([
      x1.did,
      { sub: x2.did },
      { jkt: thumbprint(x2) },
    ]);
    await expectDecision(verify(same.accessToken, x2), "allowed");
    // Delegation never grows what the delegator holds, whoever the delegate is.
    await expectReason(
      exchange(x1, { subjectToken, delegateDid: v2.did, scopes: [TRANSACT_SCOPE] }),
      Reason.SCOPE_NOT_ALLOWED,
    );
  });

  it("a grant is spent only by its agent or an actor that agent named", async () => {
    const v1Token = await login(clientsOf(v1.agentTls).gate, v1, ["orders:read", TRANSACT_SCOPE]);
    const grants = decodeJwt(v1Token).grants;
    // v1's policy names no one: its token with the grant goes nowhere.
    await expectReason(
      exchange(v1, { subjectToken: v1Token, delegateDid: x1.did, scopes: [TRANSACT_SCOPE] }),
      Reason.DELEGATION_NOT_ALLOWED,
    );
    // Named by exact DID, x1 acts for v1: sub stays v1, the grant stays v1's.
    await setDelegates(v1, [x1.did]);
    try {
      const handed = await exchange(v1, {
        subjectToken: v1Token,
        delegateDid: x1.did,
        scopes: [TRANSACT_SCOPE],
      });
      const claims = decodeJwt(handed.accessToken);
      expect([claims.sub, claims.act, claims.grants]).toEqual([v1.did, { sub: x1.did }, grants]);
      await expectDecision(verify(handed.accessToken, x1, [TRANSACT_SCOPE]), "allowed");
      await expectDecision(verify(handed.accessToken, v1, [TRANSACT_SCOPE]), Reason.DPOP_INVALID);
    } finally {
      await setDelegates(v1, []);
    }
    // Tokens x1 gets for itself never carry v1's grant.
    const x1Token = await login(clientsOf(x1.agentTls).gate, x1, SCOPES);
    expect(decodeJwt(x1Token).grants).toBeUndefined();
  });

  it("re-delegates a delegated token only with the actor's proof and both policies' consent", async () => {
    const subjectToken = await login(clientsOf(x1.agentTls).gate, x1, SCOPES);
    const delegated = (await exchange(x1, { subjectToken, delegateDid: v2.did, scopes: SCOPES }))
      .accessToken;
    // The principal has the token but cannot use it, not even to exchange it back.
    await expectReason(exchange(x1, { subjectToken: delegated }, x1), Reason.DPOP_INVALID);
    await expectReason(exchange(x1, { subjectToken: delegated }), Reason.TOKEN_BOUND_TO_KEY);
    // The actor needs its own proof: the token is bound to its key.
    await expectReason(exchange(v2, { subjectToken: delegated }), Reason.TOKEN_BOUND_TO_KEY);
    await expectReason(exchange(v2, { subjectToken: delegated }, x1), Reason.DPOP_INVALID);

    // Narrowing by the actor keeps the principal, the chain and the binding.
    const narrowed = await exchange(v2, { subjectToken: delegated }, v2);
    const narrowedClaims = decodeJwt(narrowed.accessToken);
    expect([narrowedClaims.sub, narrowedClaims.act, narrowedClaims.cnf]).toEqual([
      x1.did,
      { sub: v2.did },
      { jkt: thumbprint(v2) },
    ]);

    // v2's policy names v1 (its own operator), but the principal x1 does not: refused.
    await expectReason(
      exchange(v2, { subjectToken: delegated, delegateDid: v1.did }, v2),
      Reason.DELEGATION_NOT_ALLOWED,
    );
    // x1 names x2 (its own operator), but v2 does not: refused.
    await expectReason(
      exchange(v2, { subjectToken: delegated, delegateDid: x2.did }, v2),
      Reason.DELEGATION_NOT_ALLOWED,
    );
    // Back to the principal: refused (it is already in the chain).
    await expectReason(
      exchange(v2, { subjectToken: delegated, delegateDid: x1.did }, v2),
      Reason.DELEGATION_NOT_ALLOWED,
    );
    // Both name x3: allowed, x3 outermost, bound to x3's key.
    const onward = await exchange(v2, { subjectToken: delegated, delegateDid: x3.did }, v2);
    const claims = decodeJwt(onward.accessToken);
    expect([claims.sub, claims.act, claims.cnf]).toEqual([
      x1.did,
      { sub: x3.did, act: { sub: v2.did } },
      { jkt: thumbprint(x3) },
    ]);
    await expectDecision(verify(onward.accessToken, x3), "allowed");
    await expectDecision(verify(onward.accessToken, v2), Reason.DPOP_INVALID);
  });

  /** A fresh actor in its own operator, named by x1, and a token x1 delegated to it. */
  async function delegatedToFreshActor() {
    const actor = await enrollAgent(env.gh);
    await setDelegates(x1, [actor.did]);
    const subjectToken = await login(clientsOf(x1.agentTls).gate, x1, SCOPES);
    const { accessToken } = await exchange(x1, { subjectToken, delegateDid: actor.did });
    // Allowed, and every look-up of the chain is now cached (Verify and Check).
    await expectDecision(verify(accessToken, actor), "allowed");
    expect((await check(accessToken, actor)).status?.code ?? 0).toBe(0);
    return { actor, token: accessToken };
  }

  async function expectStopped(token: string, actor: Enrolled, reason: Reason) {
    await expectDecision(verify(token, actor), reason);
    const checked = await check(token, actor);
    expect(checked.status?.code).toBe(UNAUTHENTICATED);
    expect(checked.status?.message).toBe(`REASON_${Reason[reason]}`);
  }

  const admin = () => clientsOf(x1.adminTls).registry;

  it("stops a delegated token when its actor is suspended, and again once reactivated", async () => {
    const { actor, token } = await delegatedToFreshActor();
    const operator = clientsOf(actor.operatorTls).registry;
    await operator.suspendAgent({ did: actor.did });
    await expectStopped(token, actor, Reason.AGENT_SUSPENDED);
    await operator.reactivateAgent({ did: actor.did });
    await expectDecision(verify(token, actor), "allowed");
  });

  it("stops a delegated token when its actor is revoked", async () => {
    const { actor, token } = await delegatedToFreshActor();
    await clientsOf(actor.operatorTls).registry.revoke({
      target: { case: "agentDid", value: actor.did },
    });
    await expectStopped(token, actor, Reason.AGENT_REVOKED);
  });

  it("stops a delegated token when its actor's key is revoked", async () => {
    const { actor, token } = await delegatedToFreshActor();
    await clientsOf(actor.operatorTls).registry.revoke({
      target: { case: "agentKeyThumbprint", value: thumbprint(actor) },
    });
    await expectStopped(token, actor, Reason.AGENT_KEY_REVOKED);
  });

  it("stops a delegated token when its actor's operator is revoked", async () => {
    const { actor, token } = await delegatedToFreshActor();
    await admin().revoke({ target: { case: "operatorDomain", value: actor.domain } });
    await expectStopped(token, actor, Reason.OPERATOR_REVOKED);
  });

  it("stops a delegated token when its actor's operator is suspended", async () => {
    const { actor, token } = await delegatedToFreshActor();
    // No RPC suspends an operator: the store does, and the bus tells every replica.
    const { store } = env.gh.app;
    await store.registry.setOperatorStatus(actor.domain, "suspended");
    await store.events.publish({ kind: "operator", domain: actor.domain });
    await expectStopped(token, actor, Reason.OPERATOR_SUSPENDED);
  });

  it("refuses a delegated token without a key binding (the pre-fix shape)", async () => {
    // Signed with the server's own key: genuine, but `act` without `cnf` is a bearer token
    // anyone who saw it could use as its actor.
    const [record] = await env.gh.app.store.signingKeys.list();
    if (!record) throw new Error("no signing key");
    const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
    const input = `${encode({ alg: "EdDSA", typ: "at+jwt", kid: record.kid })}.${encode({
      iss: ISSUER,
      sub: x2.did,
      aud: AUDIENCE,
      scope: "orders:read",
      operator: x2.domain,
      iat: now(),
      nbf: now(),
      exp: now() + 60,
      jti: randomUUID(),
      act: { sub: x1.did },
    })}`;
    const signature = sign(null, Buffer.from(input), createPrivateKey(record.privateKeyPem));
    const token = `${input}.${signature.toString("base64url")}`;
    rememberSecret(token);
    await expectDecision(verify(token), Reason.TOKEN_CLAIMS_INVALID);
  });
});
