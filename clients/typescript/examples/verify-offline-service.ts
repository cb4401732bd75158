/**
 * A Node service that verifies agents' tokens offline: keys from the sidecar's `jwks_uri`
 * (cached as its Cache-Control says, reloaded for an unknown `kid`), DPoP proofs checked
 * and their `jti`s kept single-use. No call to Gatehouse per request.
 *
 *   JWKS_URI=https://127.0.0.1:7447/.well-known/jwks.json GATEHOUSE_CA=.gatehouse/pki/ca.pem \
 *   ISSUER=https://gatehouse.local AUDIENCE=https://api.example.com PORT=8080 \
 *   npx tsx clients/typescript/examples/verify-offline-service.ts
 */
import { readFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import {
  createJwksKeySet,
  createVerifier,
  httpJwksSource,
  httpRefusal,
  verifyHttpRequest,
} from "@gatehouse/client/verifier";

const env = (name: string): string => {
  const value = process.env[name];
  if (value === undefined || value === "") throw new Error(`set ${name}`);
  return value;
};

const verifier = createVerifier({
  issuer: env("ISSUER"),
  audience: env("AUDIENCE"),
  keys: createJwksKeySet({
    source: httpJwksSource(env("JWKS_URI"), { ca: await readFile(env("GATEHOUSE_CA")) }),
  }),
});

let publicUrl = "";
const server = createServer(async (req, res) => {
  const guard = { publicUrl, requiredScopes: ["orders:read"] };
  const outcome = await verifyHttpRequest(verifier, req, guard);
  if (!outcome.allowed) {
    const refusal = httpRefusal(outcome, guard);
    res.writeHead(refusal.status, refusal.headers).end(JSON.stringify(refusal.body));
    return;
  }
  res.writeHead(200, { "content-type": "application/json" });
  res.end(JSON.stringify({ hello: outcome.token.agentDid, scopes: outcome.token.scopes }));
});
server.listen(Number(process.env.PORT ?? 0), "127.0.0.1", () => {
  publicUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  console.log(`listening on ${publicUrl}`);
});
