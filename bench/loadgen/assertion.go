package main

// Assertion mode (--logins FILE --grant assertion): the one-RPC grant, Token with a fresh
// RFC 7523 assertion (a JWT the agent signs with its Ed25519 key, as the TypeScript client's
// jwtBearerAssertion builds it), one in flight per agent of FILE on its own connection; a
// grant is correct only when it ends with an access token issued to that agent.

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"time"
)

const (
	tokenRequestAssertion = 2 // JwtBearerGrant
	jwtBearerAssertion    = 1
	jwtBearerScopes       = 2
	jwtBearerAudience     = 3
	// The assertion's lifetime, as bench/scenarios/gate-pairs.ts asks for it.
	assertionLifetime = 60 * time.Second
)

// assertionHeader is the protected header of every assertion, base64url.
var assertionHeader = base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"EdDSA","typ":"JWT"}`))

// assertionStep is one grant for the slot's agent.
func (l *loginLoad) assertionStep(ctx context.Context, slot, _ int) (string, bool) {
	a := &l.agents[slot]
	request, err := l.assertionRequest(a.did, a.key, time.Now())
	if err != nil {
		return "assertion: " + err.Error(), true
	}
	if err := a.conn.Invoke(ctx, tokenMethod, &request, &a.resp); err != nil {
		return "Token: " + rpcProblem(err), true
	}
	if problem := tokenProblem(a.resp, a.did); problem != "" {
		return "Token: " + problem, true
	}
	return "", true
}

// assertionRequest is a TokenRequest with a fresh assertion: issuer and subject the agent,
// audience the Gatehouse issuer, a random jti.
func (l *loginLoad) assertionRequest(did string, key ed25519.PrivateKey, now time.Time) ([]byte, error) {
	jti := make([]byte, 32)
	if _, err := rand.Read(jti); err != nil {
		return nil, err
	}
	payload, err := json.Marshal(map[string]any{
		"iss": did,
		"sub": did,
		"aud": l.issuer,
		"iat": now.Unix(),
		"exp": now.Add(assertionLifetime).Unix(),
		"jti": base64.RawURLEncoding.EncodeToString(jti),
	})
	if err != nil {
		return nil, err
	}
	signingInput := assertionHeader + "." + base64.RawURLEncoding.EncodeToString(payload)
	signature := base64.RawURLEncoding.EncodeToString(ed25519.Sign(key, []byte(signingInput)))
	grant := appendString(nil, jwtBearerAssertion, signingInput+"."+signature)
	for _, scope := range l.scopes {
		grant = appendString(grant, jwtBearerScopes, scope)
	}
	grant = appendString(grant, jwtBearerAudience, l.audience)
	return appendBytes(nil, tokenRequestAssertion, grant), nil
}
