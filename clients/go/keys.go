package gatehouse

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
)

// AgentKey is an agent's Ed25519 key pair (RFC 8032). The private key never leaves the agent.
type AgentKey struct {
	Private ed25519.PrivateKey
}

// GenerateAgentKey makes a fresh Ed25519 key from crypto/rand.
func GenerateAgentKey() (AgentKey, error) {
	_, private, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return AgentKey{}, fmt.Errorf("gatehouse: generate key: %w", err)
	}
	return AgentKey{Private: private}, nil
}

// ParseAgentKeyPEM reads a PKCS #8 "PRIVATE KEY" PEM block holding an Ed25519 key (the format
// `gatehouse agent keygen` writes).
func ParseAgentKeyPEM(data []byte) (AgentKey, error) {
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "PRIVATE KEY" {
		return AgentKey{}, errors.New("gatehouse: agent key: expected a PKCS #8 PRIVATE KEY PEM block")
	}
	parsed, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return AgentKey{}, fmt.Errorf("gatehouse: agent key: %w", err)
	}
	private, ok := parsed.(ed25519.PrivateKey)
	if !ok {
		return AgentKey{}, errors.New("gatehouse: agent key: not an Ed25519 key")
	}
	return AgentKey{Private: private}, nil
}

// MarshalPEM encodes the private key as a PKCS #8 PEM block. Store it with mode 0600.
func (k AgentKey) MarshalPEM() ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(k.Private)
	if err != nil {
		return nil, fmt.Errorf("gatehouse: agent key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// PublicKey is the raw 32-byte Ed25519 public key, as RegisterAgentRequest.public_key takes it.
func (k AgentKey) PublicKey() []byte {
	return []byte(k.Private.Public().(ed25519.PublicKey))
}

// DID is the agent's `did:agent:<operator-domain>:<id>`, where <id> is the lowercase hex of the
// first 16 bytes of SHA-256 over the raw public key.
func (k AgentKey) DID(operatorDomain string) string {
	digest := sha256.Sum256(k.PublicKey())
	return "did:agent:" + operatorDomain + ":" + hex.EncodeToString(digest[:16])
}

// ProofOfPossession is the signature RegisterAgentRequest.proof_of_possession requires: over
// the registration signing input binding the DID, this key and the operator domain.
func (k AgentKey) ProofOfPossession(did, operatorDomain string) []byte {
	return ed25519.Sign(k.Private, registrationSigningInput(did, k.PublicKey(), operatorDomain))
}
