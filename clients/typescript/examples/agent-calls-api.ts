/**
 * An agent calling an API protected by the Gatehouse sidecar (forward-auth): it logs in once
 * (signature challenge over mTLS), binds its token to its key (DPoP) and calls the API with a
 * fresh proof per request.
 *
 *   GATEHOUSE_URL=https://127.0.0.1:7444 GATEHOUSE_CA=.gatehouse/pki/ca.pem \
 *   AGENT_CERT=.gatehouse/pki/agent-<id>.pem AGENT_CERT_KEY=.gatehouse/pki/agent-<id>-key.pem \
 *   AGENT_KEY=agent-key.pem AGENT_DOMAIN=example.com \
 *   TOKEN_ENDPOINT=https://gatehouse.local/v1/tokens AUDIENCE=https://api.example.com \
 *   API_URL=http://127.0.0.1:8080/orders/42 npx tsx clients/typescript/examples/agent-calls-api.ts
 *
 * TOKEN_ENDPOINT is what DPoP proofs for the token request name: Gatehouse's public URL (the
 * sidecar's `public_url` when set, else the issuer) with the path `/v1/tokens`.
 */

import {
  createConnectClient,
  createMtlsTransport,
  GateService,
  readClientTls,
} from "@gatehouse/client";
import { agentDid, createAgent, fileKeyStore } from "@gatehouse/client/agent";

const env = (name: string): string => {
  const value = process.env[name];
  if (value === undefined || value === "") throw new Error(`set ${name}`);
  return value;
};

const key = await fileKeyStore(env("AGENT_KEY")).load();
if (!key) throw new Error("no agent key: run `gatehouse agent keygen` first");
const did = agentDid(key, env("AGENT_DOMAIN"));
const tls = await readClientTls({
  cert: env("AGENT_CERT"),
  key: env("AGENT_CERT_KEY"),
  ca: env("GATEHOUSE_CA"),
});
const gate = createConnectClient(GateService, createMtlsTransport(env("GATEHOUSE_URL"), tls));

const agent = createAgent({
  key,
  did,
  gate,
  scopes: (process.env.SCOPES ?? "orders:read").split(" "),
  audience: env("AUDIENCE"),
  tokenEndpoint: env("TOKEN_ENDPOINT"),
});

for (let i = 0; i < 2; i++) {
  const response = await agent.fetch(env("API_URL"));
  console.log(response.status, await response.text());
}
