package gatehouse_test

import (
	"context"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"google.golang.org/grpc/codes"

	gatehouse "github.com/gatehouse-dev/gatehouse/clients/go"
	"github.com/gatehouse-dev/gatehouse/clients/go/internal/testenv"
)

// checkRequest is what Envoy's ext_authz filter sends for `GET https://api.example.com/orders`.
func checkRequest(env testenv.Env, headers map[string]string) *authv3.CheckRequest {
	return &authv3.CheckRequest{Attributes: &authv3.AttributeContext{
		Request: &authv3.AttributeContext_Request{Http: &authv3.AttributeContext_HttpRequest{
			Method: "GET", Scheme: "https", Host: "api.example.com", Path: "/orders?page=2", Headers: headers,
		}},
		ContextExtensions: map[string]string{"gatehouse_audience": env.Audience, "gatehouse_required_scopes": env.Scopes[0]},
	}}
}

func TestExtAuthzCheckWithGoControlPlaneTypes(t *testing.T) {
	env := testenv.Load(t)
	ctx := context.Background()
	agent := env.Agent(t)
	token, err := agent.Login(ctx, gatehouse.LoginOptions{Scopes: env.Scopes[:1], Audience: env.Audience, DPoP: true})
	if err != nil {
		t.Fatal(err)
	}
	proof, err := agent.Key.DPoPProof(gatehouse.DPoPRequest{Method: "GET", URL: resourceURL, AccessToken: token.AccessToken, Nonce: token.DPoPNonce})
	if err != nil {
		t.Fatal(err)
	}
	authz := authv3.NewAuthorizationClient(env.Dial(t, env.VerifierTLS))

	allowed, err := authz.Check(ctx, checkRequest(env, map[string]string{"authorization": "DPoP " + token.AccessToken, "dpop": proof}))
	if err != nil || codes.Code(allowed.GetStatus().GetCode()) != codes.OK || allowed.GetOkResponse() == nil {
		t.Fatalf("Check with token and proof: %v %v", allowed, err)
	}
	if !hasHeader(allowed.GetOkResponse().GetHeaders(), "x-gatehouse-agent", env.AgentDID) {
		t.Fatalf("allowed Check does not name the agent: %v", allowed.GetOkResponse().GetHeaders())
	}

	denied, err := authz.Check(ctx, checkRequest(env, map[string]string{}))
	if err != nil || codes.Code(denied.GetStatus().GetCode()) != codes.Unauthenticated || denied.GetDeniedResponse() == nil {
		t.Fatalf("Check without a token: %v %v", denied, err)
	}
}

func hasHeader(headers []*corev3.HeaderValueOption, key, value string) bool {
	for _, header := range headers {
		if header.GetHeader().GetKey() == key && header.GetHeader().GetValue() == value {
			return true
		}
	}
	return false
}
