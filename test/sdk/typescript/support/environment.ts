import type { Client } from "@connectrpc/connect";
import {
  createConnectClient,
  createMtlsTransport,
  GateService,
  VerifyService,
} from "../../../../clients/typescript/src/index.js";
import { AUDIENCE, type Enrolled, enrollAgent } from "../../../support/flows.js";
import {
  startTestSidecar,
  type TestSidecar,
  type TestSidecarOptions,
} from "../../../support/sidecar.js";
import { type ProtectedApi, startProtectedApi } from "./protected-api.js";

/** The forward-auth route of the protected API: any host, `/orders`, scope orders:read. */
export const API_ROUTES = [
  {
    host: "*",
    path_prefix: "/orders",
    resource: "https://api.example.com/orders",
    audience: AUDIENCE,
    scopes: ["orders:read"],
  },
];

/** A Gatehouse, its sidecar, an enrolled agent, SDK clients and an API behind forward-auth. */
export interface SdkEnvironment {
  readonly t: TestSidecar;
  readonly agent: Enrolled;
  /** GateService over Connect with the agent's certificate. */
  readonly gate: Client<typeof GateService>;
  /** VerifyService over Connect with a verifier certificate. */
  readonly verify: Client<typeof VerifyService>;
  readonly api: ProtectedApi;
  /** The token endpoint DPoP proofs name (the sidecar is the public URL). */
  readonly tokenEndpoint: string;
  /** The sidecar's JWKS (`jwks_uri`). */
  readonly jwksUri: string;
  close(): Promise<void>;
}

export async function startSdkEnvironment(
  options: TestSidecarOptions = {},
): Promise<SdkEnvironment> {
  const t = await startTestSidecar({
    ...options,
    overrides: { ...options.overrides, sidecar: { routes: API_ROUTES } as never },
  });
  const agent = await enrollAgent(t.gh);
  const gate = createConnectClient(
    GateService,
    createMtlsTransport(t.gh.connectUrl, agent.agentTls),
  );
  const verify = createConnectClient(
    VerifyService,
    createMtlsTransport(t.gh.connectUrl, agent.verifierTls),
  );
  const api = await startProtectedApi(t.url, t.gh.caPem);
  return {
    t,
    agent,
    gate,
    verify,
    api,
    tokenEndpoint: `${t.url}/v1/tokens`,
    jwksUri: `${t.url}/.well-known/jwks.json`,
    async close() {
      await api.close();
      await t.stop();
    },
  };
}
