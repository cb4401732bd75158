package gatehouse

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"
)

var b64 = base64.RawURLEncoding

// DPoPRequest names the one HTTP request (or RPC) a DPoP proof is for.
type DPoPRequest struct {
	// Method is the request's HTTP method (`htm`), e.g. "POST".
	Method string
	// URL is the request URL without query and fragment (`htu`, RFC 9449 §4.2).
	URL string
	// AccessToken, when set, is hashed into `ath` (RFC 9449 §4.2): the token sent with the request.
	AccessToken string
	// Nonce is the server's last DPoP nonce (RFC 9449 §8), when it asked for one.
	Nonce string
	// Now is the proof's `iat`; the current time when zero.
	Now time.Time
}

type dpopHeader struct {
	Typ string `json:"typ"`
	Alg string `json:"alg"`
	JWK okpJWK `json:"jwk"`
}

// okpJWK is an Ed25519 public key as a JWK (RFC 8037 §2); field order is RFC 7638's.
type okpJWK struct {
	Crv string `json:"crv"`
	Kty string `json:"kty"`
	X   string `json:"x"`
}

type dpopClaims struct {
	JTI   string `json:"jti"`
	HTM   string `json:"htm"`
	HTU   string `json:"htu"`
	IAT   int64  `json:"iat"`
	ATH   string `json:"ath,omitempty"`
	Nonce string `json:"nonce,omitempty"`
}

func (k AgentKey) jwk() okpJWK {
	return okpJWK{Crv: "Ed25519", Kty: "OKP", X: b64.EncodeToString(k.PublicKey())}
}

// Thumbprint is the key's RFC 7638 JWK thumbprint (SHA-256, base64url): the `cnf.jkt` a
// DPoP-bound token carries (RFC 9449 §6.1).
func (k AgentKey) Thumbprint() string {
	// RFC 7638 §3.2: the required members only, in lexicographic order, no whitespace.
	canonical, _ := json.Marshal(k.jwk())
	digest := sha256.Sum256(canonical)
	return b64.EncodeToString(digest[:])
}

// DPoPProof signs a DPoP proof (RFC 9449 §4.2) for one request with the agent's key: `typ`
// `dpop+jwt`, `alg` EdDSA, the public key as `jwk`, a fresh random `jti`. Never reuse a proof.
func (k AgentKey) DPoPProof(request DPoPRequest) (string, error) {
	jti := make([]byte, 16)
	if _, err := rand.Read(jti); err != nil {
		return "", fmt.Errorf("gatehouse: dpop jti: %w", err)
	}
	now := request.Now
	if now.IsZero() {
		now = time.Now()
	}
	claims := dpopClaims{
		JTI:   b64.EncodeToString(jti),
		HTM:   request.Method,
		HTU:   request.URL,
		IAT:   now.Unix(),
		Nonce: request.Nonce,
	}
	if request.AccessToken != "" {
		digest := sha256.Sum256([]byte(request.AccessToken))
		claims.ATH = b64.EncodeToString(digest[:])
	}
	header, err := json.Marshal(dpopHeader{Typ: "dpop+jwt", Alg: "EdDSA", JWK: k.jwk()})
	if err != nil {
		return "", err
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	signingInput := b64.EncodeToString(header) + "." + b64.EncodeToString(payload)
	signature := ed25519.Sign(k.Private, []byte(signingInput))
	return signingInput + "." + b64.EncodeToString(signature), nil
}
