package gatehouse_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	gatehouse "github.com/gatehouse-dev/gatehouse/clients/go"
	gatehousev1 "github.com/gatehouse-dev/gatehouse/clients/go/gen/gatehouse/v1"
	"github.com/gatehouse-dev/gatehouse/clients/go/internal/testenv"
)

const resourceURL = "https://api.example.com/orders"

func TestLoginBearerVerifiesOnlineAndOffline(t *testing.T) {
	env := testenv.Load(t)
	ctx := context.Background()
	token, err := env.Agent(t).Login(ctx, gatehouse.LoginOptions{Scopes: env.Scopes[:1], Audience: env.Audience})
	if err != nil {
		t.Fatal(err)
	}
	if token.TokenType != "Bearer" || token.Issuer != env.Issuer {
		t.Fatalf("token type %q issuer %q", token.TokenType, token.Issuer)
	}
	verify := gatehousev1.NewVerifyServiceClient(env.Dial(t, env.VerifierTLS))
	online, err := verify.Verify(ctx, &gatehousev1.VerifyRequest{
		Token: token.AccessToken, Audience: env.Audience, RequiredScopes: env.Scopes[:1],
	})
	if err != nil || !online.GetAllowed() || online.GetAgentDid() != env.AgentDID {
		t.Fatalf("online Verify: %v %v", online, err)
	}
	verifier := &gatehouse.Verifier{Issuer: env.Issuer, Audience: env.Audience, Keys: gatehouse.NewKeySet(verify)}
	claims, err := verifier.Verify(ctx, token.AccessToken, gatehouse.VerifyOptions{RequiredScopes: env.Scopes[:1]})
	if err != nil || claims.Subject != env.AgentDID || claims.ID != online.GetTokenId() {
		t.Fatalf("offline Verify: %+v %v", claims, err)
	}
}

func TestDPoPBoundLoginNeedsItsProof(t *testing.T) {
	env := testenv.Load(t)
	ctx := context.Background()
	agent := env.Agent(t)
	token, err := agent.Login(ctx, gatehouse.LoginOptions{Scopes: env.Scopes[:1], Audience: env.Audience, DPoP: true})
	if err != nil {
		t.Fatal(err)
	}
	if token.TokenType != "DPoP" {
		t.Fatalf("token type %q, want DPoP", token.TokenType)
	}
	proof, err := agent.Key.DPoPProof(gatehouse.DPoPRequest{Method: "GET", URL: resourceURL, AccessToken: token.AccessToken, Nonce: token.DPoPNonce})
	if err != nil {
		t.Fatal(err)
	}
	verify := gatehousev1.NewVerifyServiceClient(env.Dial(t, env.VerifierTLS))
	online, err := verify.Verify(ctx, &gatehousev1.VerifyRequest{
		Token: token.AccessToken, Audience: env.Audience, DpopProof: proof, HttpMethod: "GET", HttpUrl: resourceURL,
	})
	if err != nil || !online.GetAllowed() {
		t.Fatalf("online Verify with proof: %v %v", online, err)
	}
	bare, err := verify.Verify(ctx, &gatehousev1.VerifyRequest{Token: token.AccessToken, Audience: env.Audience})
	if err != nil || bare.GetAllowed() || bare.GetReason() != gatehousev1.Reason_REASON_TOKEN_BOUND_TO_KEY {
		t.Fatalf("online Verify without proof: %v %v", bare, err)
	}

	verifier := &gatehouse.Verifier{Issuer: env.Issuer, Audience: env.Audience, Keys: gatehouse.NewKeySet(verify)}
	claims, err := verifier.Verify(ctx, token.AccessToken, gatehouse.VerifyOptions{
		DPoP: &gatehouse.DPoPContext{Proof: proof, Method: "GET", URL: resourceURL},
	})
	if err != nil || claims.Confirmation == nil || claims.Confirmation.JKT != agent.Key.Thumbprint() {
		t.Fatalf("offline Verify with proof: %+v %v", claims, err)
	}
	_, err = verifier.Verify(ctx, token.AccessToken, gatehouse.VerifyOptions{})
	assertReason(t, err, gatehousev1.Reason_REASON_TOKEN_BOUND_TO_KEY)
	_, err = verifier.Verify(ctx, token.AccessToken, gatehouse.VerifyOptions{
		DPoP: &gatehouse.DPoPContext{Proof: proof, Method: "POST", URL: resourceURL},
	})
	assertReason(t, err, gatehousev1.Reason_REASON_DPOP_INVALID)
}

// With server nonces on, Login's first Token call is refused for want of a nonce and retried
// once with it; the token response carries the nonce for the next proof, and a proof without
// it is refused. With nonces off, there is none.
func TestDPoPNoncesFollowTheServer(t *testing.T) {
	env := testenv.Load(t)
	ctx := context.Background()
	agent := env.Agent(t)
	token, err := agent.Login(ctx, gatehouse.LoginOptions{Scopes: env.Scopes[:1], Audience: env.Audience, DPoP: true})
	if err != nil {
		t.Fatal(err)
	}
	if (token.DPoPNonce != "") != env.DPoPNonces {
		t.Fatalf("nonces %v, token response nonce %q", env.DPoPNonces, token.DPoPNonce)
	}
	proof, err := agent.Key.DPoPProof(gatehouse.DPoPRequest{Method: "GET", URL: resourceURL, AccessToken: token.AccessToken})
	if err != nil {
		t.Fatal(err)
	}
	verify := gatehousev1.NewVerifyServiceClient(env.Dial(t, env.VerifierTLS))
	answer, err := verify.Verify(ctx, &gatehousev1.VerifyRequest{
		Token: token.AccessToken, Audience: env.Audience, DpopProof: proof, HttpMethod: "GET", HttpUrl: resourceURL,
	})
	if err != nil {
		t.Fatal(err)
	}
	if env.DPoPNonces && (answer.GetAllowed() || answer.GetReason() != gatehousev1.Reason_REASON_DPOP_NONCE_REQUIRED || answer.GetDpopNonce() == "") {
		t.Fatalf("a proof without the nonce: %v", answer)
	}
	if !env.DPoPNonces && !answer.GetAllowed() {
		t.Fatalf("a proof without nonce, nonces off: %v", answer)
	}
}

func TestOfflineVerifierRefusesInOrder(t *testing.T) {
	env := testenv.Load(t)
	ctx := context.Background()
	token, err := env.Agent(t).Login(ctx, gatehouse.LoginOptions{Scopes: env.Scopes[:1], Audience: env.Audience})
	if err != nil {
		t.Fatal(err)
	}
	keys := gatehouse.NewKeySet(gatehousev1.NewVerifyServiceClient(env.Dial(t, env.VerifierTLS)))
	verifier := &gatehouse.Verifier{Issuer: env.Issuer, Audience: env.Audience, Keys: keys}
	parts := strings.Split(token.AccessToken, ".")
	// Another valid base64url character in the first position: a different signature.
	flipped := []byte(parts[2])
	if flipped[0] = 'A'; parts[2][0] == 'A' {
		flipped[0] = 'B'
	}
	cases := []struct {
		name     string
		verifier *gatehouse.Verifier
		token    string
		options  gatehouse.VerifyOptions
		want     gatehousev1.Reason
	}{
		{"malformed", verifier, "not-a-token", gatehouse.VerifyOptions{}, gatehousev1.Reason_REASON_TOKEN_MALFORMED},
		{"bad signature", verifier, parts[0] + "." + parts[1] + "." + string(flipped), gatehouse.VerifyOptions{}, gatehousev1.Reason_REASON_TOKEN_BAD_SIGNATURE},
		{"other issuer", &gatehouse.Verifier{Issuer: "https://elsewhere.test", Audience: env.Audience, Keys: keys}, token.AccessToken, gatehouse.VerifyOptions{}, gatehousev1.Reason_REASON_TOKEN_ISSUER_MISMATCH},
		{"other audience", &gatehouse.Verifier{Issuer: env.Issuer, Audience: "https://other.example.com", Keys: keys}, token.AccessToken, gatehouse.VerifyOptions{}, gatehousev1.Reason_REASON_TOKEN_AUDIENCE_MISMATCH},
		{"expired", &gatehouse.Verifier{Issuer: env.Issuer, Audience: env.Audience, Keys: keys, Now: func() time.Time { return token.ExpiresAt.Add(2 * time.Minute) }}, token.AccessToken, gatehouse.VerifyOptions{}, gatehousev1.Reason_REASON_TOKEN_EXPIRED},
		{"scope", verifier, token.AccessToken, gatehouse.VerifyOptions{RequiredScopes: []string{"orders:delete"}}, gatehousev1.Reason_REASON_INSUFFICIENT_SCOPE},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := c.verifier.Verify(ctx, c.token, c.options)
			assertReason(t, err, c.want)
		})
	}
}

func TestRefusalsCarryTheirReason(t *testing.T) {
	env := testenv.Load(t)
	_, err := env.Agent(t).Login(context.Background(), gatehouse.LoginOptions{Scopes: []string{"payroll:write"}, Audience: env.Audience})
	typed := assertReason(t, err, gatehousev1.Reason_REASON_SCOPE_NOT_ALLOWED)
	if typed.Code != codes.PermissionDenied {
		t.Fatalf("code %v", typed.Code)
	}
}

func TestRegisterAgentWithProofOfPossession(t *testing.T) {
	env := testenv.Load(t)
	registry := gatehousev1.NewRegistryServiceClient(env.Dial(t, env.OperatorTLS))
	key, err := gatehouse.GenerateAgentKey()
	if err != nil {
		t.Fatal(err)
	}
	did := key.DID(env.OperatorDomain)
	request := &gatehousev1.RegisterAgentRequest{
		Did:               did,
		PublicKey:         key.PublicKey(),
		ProofOfPossession: key.ProofOfPossession(did, "someone-else.example.com"),
		Policy:            &gatehousev1.Policy{Scopes: env.Scopes, Audiences: []string{env.Audience}},
		DisplayName:       "go sdk agent",
	}
	_, err = registry.RegisterAgent(context.Background(), request)
	if gatehouse.AsError(err) == nil || gatehouse.AsError(err).Reason == gatehousev1.Reason_REASON_UNSPECIFIED {
		t.Fatalf("a proof for another operator was accepted: %v", err)
	}
	request.ProofOfPossession = key.ProofOfPossession(did, env.OperatorDomain)
	if _, err := registry.RegisterAgent(context.Background(), request); err != nil {
		t.Fatal(err)
	}
}

func assertReason(t *testing.T, err error, want gatehousev1.Reason) *gatehouse.Error {
	t.Helper()
	var typed *gatehouse.Error
	if !errors.As(err, &typed) || typed.Reason != want {
		t.Fatalf("got %v, want %s", err, want)
	}
	return typed
}

func TestTokenSourceRefreshesBeforeExpiry(t *testing.T) {
	env := testenv.Load(t)
	now := time.Now()
	source := &gatehouse.TokenSource{
		Agent:         env.Agent(t),
		Options:       gatehouse.LoginOptions{Scopes: env.Scopes[:1], Audience: env.Audience},
		RefreshMargin: 30 * time.Second,
		Now:           func() time.Time { return now },
	}
	first, err := source.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	now = first.ExpiresAt.Add(-31 * time.Second)
	if again, err := source.Token(context.Background()); err != nil || again != first {
		t.Fatalf("outside the margin: %v %v", again, err)
	}
	now = first.ExpiresAt.Add(-29 * time.Second)
	second, err := source.Token(context.Background())
	if err != nil || second == first || second.AccessToken == first.AccessToken {
		t.Fatalf("within the margin: %v %v", second, err)
	}
}
