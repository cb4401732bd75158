package main

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestAssertionRequestIsASignedJwtBearerGrant(t *testing.T) {
	public, private, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	load := &loginLoad{issuer: testBinding.issuer, audience: testBinding.audience, scopes: testBinding.scopes}
	now := time.Unix(1767225600, 0)
	req, err := load.assertionRequest(testBinding.did, private, now)
	if err != nil {
		t.Fatal(err)
	}
	grant, err := lastBytes(req, tokenRequestAssertion)
	if err != nil {
		t.Fatal(err)
	}
	assertion, _ := lastBytes(grant, jwtBearerAssertion)
	audience, _ := lastBytes(grant, jwtBearerAudience)
	if string(audience) != testBinding.audience {
		t.Fatalf("grant audience %q", audience)
	}
	var scopes []string
	_ = eachField(grant, func(field int, v fieldValue) {
		if field == jwtBearerScopes {
			scopes = append(scopes, string(v.bytes))
		}
	})
	if strings.Join(scopes, " ") != strings.Join(testBinding.scopes, " ") {
		t.Fatalf("grant scopes %q", scopes)
	}
	parts := strings.Split(string(assertion), ".")
	if len(parts) != 3 {
		t.Fatalf("assertion %q is not a compact JWS", assertion)
	}
	signature, _ := base64.RawURLEncoding.DecodeString(parts[2])
	if !ed25519.Verify(public, []byte(parts[0]+"."+parts[1]), signature) {
		t.Fatal("assertion signature does not verify under the agent's key")
	}
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	if claims["iss"] != testBinding.did || claims["sub"] != testBinding.did || claims["aud"] != testBinding.issuer {
		t.Fatalf("claims %v", claims)
	}
	if claims["exp"].(float64)-claims["iat"].(float64) != 60 || claims["iat"].(float64) != float64(now.Unix()) {
		t.Fatalf("lifetime %v", claims)
	}
	again, _ := load.assertionRequest(testBinding.did, private, now)
	if string(again) == string(req) {
		t.Fatal("two assertions share a jti")
	}
}
