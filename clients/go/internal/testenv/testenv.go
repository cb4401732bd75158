// Package testenv reads the running Gatehouse and the identities test/sdk/go.test.ts set up for
// this module's tests (GATEHOUSE_* variables).
package testenv

import (
	"os"
	"strings"
	"testing"

	"google.golang.org/grpc"

	gatehouse "github.com/gatehouse-dev/gatehouse/clients/go"
	gatehousev1 "github.com/gatehouse-dev/gatehouse/clients/go/gen/gatehouse/v1"
)

// Env is one running Gatehouse with an enrolled agent, and client certificates for it.
type Env struct {
	Address, Issuer, Audience          string
	Scopes                             []string
	AgentDID, AgentKey                 string
	AgentTLS, VerifierTLS, OperatorTLS gatehouse.TLSFiles
	OperatorDomain                     string
	// DPoPNonces: the server asks for DPoP nonces (RFC 9449 §8); the suite runs both ways.
	DPoPNonces bool
}

// Load fails the test (never skips it) when the variables are missing: these tests run
// against a real Gatehouse.
func Load(t testing.TB) Env {
	t.Helper()
	get := func(name string) string {
		value := os.Getenv(name)
		if value == "" {
			t.Fatalf("%s is not set: run these tests with `npx vitest run test/sdk/go.test.ts`, "+
				"which starts a Gatehouse and enrolls the agent they log in as", name)
		}
		return value
	}
	ca := get("GATEHOUSE_CA")
	pair := func(role string) gatehouse.TLSFiles {
		return gatehouse.TLSFiles{CA: ca, Cert: get(role + "_CERT"), Key: get(role + "_CERT_KEY")}
	}
	return Env{
		Address:        get("GATEHOUSE_ADDRESS"),
		Issuer:         get("GATEHOUSE_ISSUER"),
		Audience:       get("GATEHOUSE_AUDIENCE"),
		Scopes:         strings.Fields(get("GATEHOUSE_SCOPES")),
		AgentDID:       get("GATEHOUSE_AGENT_DID"),
		AgentKey:       get("GATEHOUSE_AGENT_KEY"),
		AgentTLS:       pair("GATEHOUSE_AGENT"),
		VerifierTLS:    pair("GATEHOUSE_VERIFIER"),
		OperatorTLS:    pair("GATEHOUSE_OPERATOR"),
		OperatorDomain: get("GATEHOUSE_OPERATOR_DOMAIN"),
		DPoPNonces:     get("GATEHOUSE_DPOP_NONCES") == "on",
	}
}

// Dial connects with files' identity; the connection closes when the test ends.
func (e Env) Dial(t testing.TB, files gatehouse.TLSFiles) *grpc.ClientConn {
	t.Helper()
	conn, err := gatehouse.Dial(e.Address, files)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

// Agent is the enrolled agent, logged in over its own certificate.
func (e Env) Agent(t testing.TB) *gatehouse.Agent {
	t.Helper()
	pem, err := os.ReadFile(e.AgentKey)
	if err != nil {
		t.Fatal(err)
	}
	key, err := gatehouse.ParseAgentKeyPEM(pem)
	if err != nil {
		t.Fatal(err)
	}
	return &gatehouse.Agent{Key: key, DID: e.AgentDID, Gate: gatehousev1.NewGateServiceClient(e.Dial(t, e.AgentTLS))}
}
