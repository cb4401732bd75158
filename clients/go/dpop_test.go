package gatehouse_test

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	gatehouse "github.com/gatehouse-dev/gatehouse/clients/go"
)

// RFC 8037 Appendix A.1 (the private key) and A.3 (its public key's RFC 7638 thumbprint).
func rfc8037Key(t *testing.T) gatehouse.AgentKey {
	seed, err := base64.RawURLEncoding.DecodeString("nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A")
	if err != nil {
		t.Fatal(err)
	}
	return gatehouse.AgentKey{Private: ed25519.NewKeyFromSeed(seed)}
}

func TestThumbprintMatchesRFC8037(t *testing.T) {
	if got := rfc8037Key(t).Thumbprint(); got != "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k" {
		t.Fatalf("thumbprint %s", got)
	}
}

func TestDPoPProofShape(t *testing.T) {
	key := rfc8037Key(t)
	now := time.Unix(1_700_000_000, 0)
	proof, err := key.DPoPProof(gatehouse.DPoPRequest{Method: "GET", URL: "https://api.example.com/orders", AccessToken: "token", Nonce: "n1", Now: now})
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(proof, ".")
	if len(parts) != 3 {
		t.Fatalf("not a compact JWS: %s", proof)
	}
	var header struct {
		Typ, Alg string
		JWK      map[string]string
	}
	var claims map[string]any
	decode(t, parts[0], &header)
	decode(t, parts[1], &claims)
	if header.Typ != "dpop+jwt" || header.Alg != "EdDSA" || header.JWK["x"] != "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo" {
		t.Fatalf("header %+v", header)
	}
	// RFC 9449 §4.2: ath = base64url(SHA-256("token")).
	if claims["htm"] != "GET" || claims["htu"] != "https://api.example.com/orders" || claims["nonce"] != "n1" ||
		claims["iat"] != float64(now.Unix()) || claims["ath"] != "PEaenWxYddN6Q_NT1PiOYfz4EsZu7jRXRlpAsNpBU-A" || claims["jti"] == "" {
		t.Fatalf("claims %v", claims)
	}
	signature, _ := base64.RawURLEncoding.DecodeString(parts[2])
	if !ed25519.Verify(key.Private.Public().(ed25519.PublicKey), []byte(parts[0]+"."+parts[1]), signature) {
		t.Fatal("signature does not verify")
	}
}

func TestDIDDerivation(t *testing.T) {
	did := rfc8037Key(t).DID("example.com")
	if !strings.HasPrefix(did, "did:agent:example.com:") || len(did) != len("did:agent:example.com:")+32 {
		t.Fatalf("did %s", did)
	}
}

func decode(t *testing.T, segment string, into any) {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(segment)
	if err != nil || json.Unmarshal(raw, into) != nil {
		t.Fatalf("segment %s: %v", segment, err)
	}
}
