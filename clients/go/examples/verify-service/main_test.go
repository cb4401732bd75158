package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	gatehouse "github.com/gatehouse-dev/gatehouse/clients/go"
	gatehousev1 "github.com/gatehouse-dev/gatehouse/clients/go/gen/gatehouse/v1"
	"github.com/gatehouse-dev/gatehouse/clients/go/internal/testenv"
)

// The example's middleware in front of a handler, called by the enrolled agent with a
// DPoP-bound token: allowed with its proof, refused without one and without the scope.
func TestRequireTokenAgainstARealGatehouse(t *testing.T) {
	env := testenv.Load(t)
	ctx := context.Background()
	agent := env.Agent(t)
	token, err := agent.Login(ctx, gatehouse.LoginOptions{Scopes: env.Scopes[:1], Audience: env.Audience, DPoP: true})
	if err != nil {
		t.Fatal(err)
	}
	verifier := &gatehouse.Verifier{
		Issuer:   env.Issuer,
		Audience: env.Audience,
		Keys:     gatehouse.NewKeySet(gatehousev1.NewVerifyServiceClient(env.Dial(t, env.VerifierTLS))),
	}
	hello := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, r.Context().Value(claimsKey{}).(*gatehouse.Claims).Subject)
	})
	serve := func(scopes []string, proof string) *httptest.ResponseRecorder {
		request := httptest.NewRequest("GET", "/orders", nil)
		request.Header.Set("Authorization", "DPoP "+token.AccessToken)
		if proof != "" {
			request.Header.Set("DPoP", proof)
		}
		recorder := httptest.NewRecorder()
		requireToken(verifier, env.Audience, scopes, hello).ServeHTTP(recorder, request)
		return recorder
	}
	proof := func() string {
		p, err := agent.Key.DPoPProof(gatehouse.DPoPRequest{Method: "GET", URL: env.Audience + "/orders", AccessToken: token.AccessToken, Nonce: token.DPoPNonce})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}

	if got := serve(env.Scopes[:1], proof()); got.Code != http.StatusOK || got.Body.String() != env.AgentDID {
		t.Fatalf("with proof: %d %q", got.Code, got.Body.String())
	}
	if got := serve(env.Scopes[:1], ""); got.Code != http.StatusUnauthorized || !strings.Contains(got.Body.String(), "REASON_TOKEN_BOUND_TO_KEY") {
		t.Fatalf("without proof: %d %q", got.Code, got.Body.String())
	}
	if got := serve([]string{"orders:delete"}, proof()); got.Code != http.StatusForbidden {
		t.Fatalf("without the scope: %d %q", got.Code, got.Body.String())
	}
}

// An agent's http.Client (gatehouse.Transport) calling the example service over a real socket:
// each request carries the token and a fresh proof for its URL.
func TestAgentTransportCallsTheService(t *testing.T) {
	env := testenv.Load(t)
	verifier := &gatehouse.Verifier{
		Issuer:   env.Issuer,
		Audience: env.Audience,
		Keys:     gatehouse.NewKeySet(gatehousev1.NewVerifyServiceClient(env.Dial(t, env.VerifierTLS))),
	}
	mux := http.NewServeMux()
	service := httptest.NewServer(mux)
	defer service.Close()
	hello := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, r.Context().Value(claimsKey{}).(*gatehouse.Claims).Subject)
	})
	mux.Handle("GET /orders", requireToken(verifier, service.URL, env.Scopes[:1], hello))

	source := &gatehouse.TokenSource{
		Agent:   env.Agent(t),
		Options: gatehouse.LoginOptions{Scopes: env.Scopes[:1], Audience: env.Audience, DPoP: true},
	}
	client := &http.Client{Transport: &gatehouse.Transport{Source: source}}
	for range 2 { // the second request reuses the token with a new proof
		response, err := client.Get(service.URL + "/orders?page=1")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(response.Body)
		_ = response.Body.Close()
		if response.StatusCode != http.StatusOK || string(body) != env.AgentDID {
			t.Fatalf("%d %q", response.StatusCode, body)
		}
	}
}
