package gatehouse_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"testing"
	"time"

	"google.golang.org/grpc"

	gatehouse "github.com/gatehouse-dev/gatehouse/clients/go"
	gatehousev1 "github.com/gatehouse-dev/gatehouse/clients/go/gen/gatehouse/v1"
)

// fakeJwks serves one Ed25519 key as `kid` k1 and counts the fetches.
type fakeJwks struct {
	gatehousev1.VerifyServiceClient
	public  ed25519.PublicKey
	fetches int
}

func (f *fakeJwks) GetJwks(context.Context, *gatehousev1.GetJwksRequest, ...grpc.CallOption) (*gatehousev1.GetJwksResponse, error) {
	f.fetches++
	return &gatehousev1.GetJwksResponse{
		Keys:               []*gatehousev1.Jwk{{Kty: "OKP", Crv: "Ed25519", Alg: "EdDSA", Use: "sig", Kid: "k1", X: base64.RawURLEncoding.EncodeToString(f.public)}},
		CacheMaxAgeSeconds: 300,
	}, nil
}

func sign(t *testing.T, private ed25519.PrivateKey, header, claims map[string]any) string {
	t.Helper()
	h, _ := json.Marshal(header)
	c, _ := json.Marshal(claims)
	input := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(c)
	return input + "." + base64.RawURLEncoding.EncodeToString(ed25519.Sign(private, []byte(input)))
}

// Each guard of Verifier.Verify alone, on a token that passes every other check.
func TestVerifierGuardsOneByOne(t *testing.T) {
	public, private, _ := ed25519.GenerateKey(rand.Reader)
	now := time.Unix(1_800_000_000, 0)
	verifier := &gatehouse.Verifier{
		Issuer: "https://gatehouse.test", Audience: "https://api.example.com",
		Keys: gatehouse.NewKeySet(&fakeJwks{public: public}), Now: func() time.Time { return now },
	}
	header := func(edit func(map[string]any)) map[string]any {
		h := map[string]any{"alg": "EdDSA", "typ": "at+jwt", "kid": "k1"}
		if edit != nil {
			edit(h)
		}
		return h
	}
	claims := func(edit func(map[string]any)) map[string]any {
		c := map[string]any{
			"iss": "https://gatehouse.test", "sub": "did:agent:example.com:00", "aud": "https://api.example.com",
			"scope": "orders:read", "iat": now.Unix(), "nbf": now.Unix(), "exp": now.Unix() + 300, "jti": "t1",
		}
		if edit != nil {
			edit(c)
		}
		return c
	}
	if _, err := verifier.Verify(context.Background(), sign(t, private, header(nil), claims(nil)), gatehouse.VerifyOptions{}); err != nil {
		t.Fatalf("the untouched token: %v", err)
	}
	cases := []struct {
		name           string
		header, claims map[string]any
		want           gatehousev1.Reason
	}{
		{"alg HS256", header(func(h map[string]any) { h["alg"] = "HS256" }), claims(nil), gatehousev1.Reason_REASON_TOKEN_ALG_NOT_ALLOWED},
		{"alg none", header(func(h map[string]any) { h["alg"] = "none" }), claims(nil), gatehousev1.Reason_REASON_TOKEN_ALG_NOT_ALLOWED},
		{"jwk in header", header(func(h map[string]any) { h["jwk"] = map[string]string{"kty": "OKP"} }), claims(nil), gatehousev1.Reason_REASON_TOKEN_HEADER_INVALID},
		{"jku in header", header(func(h map[string]any) { h["jku"] = "https://evil.test/jwks" }), claims(nil), gatehousev1.Reason_REASON_TOKEN_HEADER_INVALID},
		{"crit in header", header(func(h map[string]any) { h["crit"] = []string{"x"} }), claims(nil), gatehousev1.Reason_REASON_TOKEN_HEADER_INVALID},
		{"typ JWT", header(func(h map[string]any) { h["typ"] = "JWT" }), claims(nil), gatehousev1.Reason_REASON_TOKEN_HEADER_INVALID},
		{"unknown kid", header(func(h map[string]any) { h["kid"] = "k2" }), claims(nil), gatehousev1.Reason_REASON_TOKEN_KID_UNKNOWN},
		{"no sub", header(nil), claims(func(c map[string]any) { delete(c, "sub") }), gatehousev1.Reason_REASON_TOKEN_CLAIMS_INVALID},
		{"act without cnf", header(nil), claims(func(c map[string]any) { c["act"] = map[string]string{"sub": "did:agent:example.com:01"} }), gatehousev1.Reason_REASON_TOKEN_CLAIMS_INVALID},
		{"aud array without us", header(nil), claims(func(c map[string]any) { c["aud"] = []string{"https://other.test"} }), gatehousev1.Reason_REASON_TOKEN_AUDIENCE_MISMATCH},
		{"nbf in the future", header(nil), claims(func(c map[string]any) { c["nbf"] = now.Unix() + 120 }), gatehousev1.Reason_REASON_TOKEN_NOT_YET_VALID},
		{"iat in the future", header(nil), claims(func(c map[string]any) { c["iat"] = now.Unix() + 120 }), gatehousev1.Reason_REASON_TOKEN_NOT_YET_VALID},
		{"expired", header(nil), claims(func(c map[string]any) { c["exp"] = now.Unix() - 60 }), gatehousev1.Reason_REASON_TOKEN_EXPIRED},
		{"cnf without proof", header(nil), claims(func(c map[string]any) { c["cnf"] = map[string]string{"jkt": "x"} }), gatehousev1.Reason_REASON_TOKEN_BOUND_TO_KEY},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := verifier.Verify(context.Background(), sign(t, private, c.header, c.claims), gatehouse.VerifyOptions{})
			assertReason(t, err, c.want)
		})
	}
	padded := sign(t, private, header(nil), claims(nil)) + "="
	_, err := verifier.Verify(context.Background(), padded, gatehouse.VerifyOptions{})
	assertReason(t, err, gatehousev1.Reason_REASON_TOKEN_MALFORMED)
}

// Unknown key ids refetch the key set at most once per MinRefresh.
func TestKeySetRefetchesUnknownKidsRateLimited(t *testing.T) {
	public, private, _ := ed25519.GenerateKey(rand.Reader)
	jwks := &fakeJwks{public: public}
	now := time.Unix(1_800_000_000, 0)
	keys := gatehouse.NewKeySet(jwks)
	keys.Now = func() time.Time { return now }
	verifier := &gatehouse.Verifier{Issuer: "i", Audience: "a", Keys: keys, Now: func() time.Time { return now }}
	unknown := sign(t, private, map[string]any{"alg": "EdDSA", "typ": "at+jwt", "kid": "nope"}, map[string]any{})
	for range 5 {
		_, err := verifier.Verify(context.Background(), unknown, gatehouse.VerifyOptions{})
		assertReason(t, err, gatehousev1.Reason_REASON_TOKEN_KID_UNKNOWN)
	}
	if jwks.fetches != 1 {
		t.Fatalf("%d fetches for 5 unknown kids within MinRefresh, want 1", jwks.fetches)
	}
	now = now.Add(keys.MinRefresh)
	_, err := verifier.Verify(context.Background(), unknown, gatehouse.VerifyOptions{})
	assertReason(t, err, gatehousev1.Reason_REASON_TOKEN_KID_UNKNOWN)
	if jwks.fetches != 2 {
		t.Fatalf("%d fetches once MinRefresh passed, want 2", jwks.fetches)
	}
}
