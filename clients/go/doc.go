// Package gatehouse is a small Go client for Gatehouse, the access gate for autonomous agents.
//
// The generated gRPC stubs live in the sub-package gen/gatehouse/v1 (package gatehousev1); this
// package adds what the proto alone does not spell out:
//
//   - [Agent]: an agent's Ed25519 key and DID, and the whole login by signature challenge
//     (Challenge → Submit → Token), optionally DPoP-bound (RFC 9449).
//   - [TokenSource] and [Transport]: a token cache with early refresh, and an http.RoundTripper
//     that sends each request with the token and, for a DPoP-bound token, a fresh proof.
//   - [AgentKey.DPoPProof]: a DPoP proof JWT for one request (RFC 9449 §4.2), with `ath` when a token
//     goes with it.
//   - [Verifier]: offline verification of access tokens against the issuer's JWK Set
//     (RFC 7517, RFC 9068), fetched with GetJwks and refreshed on an unknown `kid`.
//   - [Error]: the typed reason (gatehousev1.Reason) a refused RPC carries in its
//     gatehouse.v1.ErrorDetail.
//
// Gatehouse serves Envoy's ext_authz Check with Envoy's own proto package; Go programs call it
// with go-control-plane's types (github.com/envoyproxy/go-control-plane/envoy/service/auth/v3).
// The stubs here never register the Envoy files themselves, so both link into one binary.
package gatehouse
