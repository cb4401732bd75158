package gatehouse_test

import (
	"os"
	"strings"
	"testing"

	"google.golang.org/grpc"

	gatehouse "github.com/gatehouse-dev/gatehouse/clients/go"
	gatehousev1 "github.com/gatehouse-dev/gatehouse/clients/go/gen/gatehouse/v1"
)

// testEnv is the running Gatehouse and the identities test/sdk/go.test.ts set up for these tests.
type testEnv struct {
	address, ca, issuer, audience      string
	scopes                             []string
	agentDID, agentKey                 string
	agentTLS, verifierTLS, operatorTLS gatehouse.TLSFiles
	operatorDomain                     string
}

// loadEnv fails (never skips) without a server: these tests run against a real Gatehouse.
func loadEnv(t *testing.T) testEnv {
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
	return testEnv{
		address:        get("GATEHOUSE_ADDRESS"),
		ca:             ca,
		issuer:         get("GATEHOUSE_ISSUER"),
		audience:       get("GATEHOUSE_AUDIENCE"),
		scopes:         strings.Fields(get("GATEHOUSE_SCOPES")),
		agentDID:       get("GATEHOUSE_AGENT_DID"),
		agentKey:       get("GATEHOUSE_AGENT_KEY"),
		agentTLS:       pair("GATEHOUSE_AGENT"),
		verifierTLS:    pair("GATEHOUSE_VERIFIER"),
		operatorTLS:    pair("GATEHOUSE_OPERATOR"),
		operatorDomain: get("GATEHOUSE_OPERATOR_DOMAIN"),
	}
}

func (e testEnv) dial(t *testing.T, files gatehouse.TLSFiles) *grpc.ClientConn {
	t.Helper()
	conn, err := gatehouse.Dial(e.address, files)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

func (e testEnv) agent(t *testing.T) *gatehouse.Agent {
	t.Helper()
	pem, err := os.ReadFile(e.agentKey)
	if err != nil {
		t.Fatal(err)
	}
	key, err := gatehouse.ParseAgentKeyPEM(pem)
	if err != nil {
		t.Fatal(err)
	}
	return &gatehouse.Agent{Key: key, DID: e.agentDID, Gate: gatehousev1.NewGateServiceClient(e.dial(t, e.agentTLS))}
}
