package gatehouse

import (
	"context"
	"crypto/ed25519"
	"sync"
	"time"

	gatehousev1 "github.com/gatehouse-dev/gatehouse/clients/go/gen/gatehouse/v1"
)

// KeySet caches the issuer's signing keys (the JWK Set, RFC 7517) for offline verification.
// It refetches when the server's cache hint (cache_max_age_seconds) has passed, and when a
// token names an unknown `kid` — at most once per MinRefresh, so a flood of tokens with made-up
// key ids cannot turn into a flood of GetJwks calls.
type KeySet struct {
	fetch func(context.Context) (*gatehousev1.GetJwksResponse, error)
	// MinRefresh is the least time between two fetches caused by unknown key ids (default 30 s).
	MinRefresh time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time

	mu        sync.Mutex
	keys      map[string]ed25519.PublicKey
	fetchedAt time.Time
	expiresAt time.Time
}

// NewKeySet reads the key set with the GetJwks RPC of client.
func NewKeySet(client gatehousev1.VerifyServiceClient) *KeySet {
	return &KeySet{
		fetch: func(ctx context.Context) (*gatehousev1.GetJwksResponse, error) {
			return client.GetJwks(ctx, &gatehousev1.GetJwksRequest{})
		},
		MinRefresh: 30 * time.Second,
	}
}

// key returns the public key for kid, fetching the set when it is stale or kid is unknown.
func (s *KeySet) key(ctx context.Context, kid string) (ed25519.PublicKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	if s.Now != nil {
		now = s.Now()
	}
	key, known := s.keys[kid]
	stale := s.keys == nil || now.After(s.expiresAt)
	mayRefresh := s.keys == nil || now.Sub(s.fetchedAt) >= s.MinRefresh
	if (stale || !known) && mayRefresh {
		if err := s.refresh(ctx, now); err != nil {
			return nil, err
		}
		key, known = s.keys[kid]
	}
	if !known {
		return nil, &Error{Reason: gatehousev1.Reason_REASON_TOKEN_KID_UNKNOWN, Description: "unknown key id"}
	}
	return key, nil
}

func (s *KeySet) refresh(ctx context.Context, now time.Time) error {
	response, err := s.fetch(ctx)
	if err != nil {
		return AsError(err)
	}
	keys := make(map[string]ed25519.PublicKey, len(response.GetKeys()))
	for _, jwk := range response.GetKeys() {
		// Ed25519 keys only (RFC 8037 §2); keys of other types are not used by this client.
		if jwk.GetKty() != "OKP" || jwk.GetCrv() != "Ed25519" || jwk.GetAlg() != "EdDSA" {
			continue
		}
		raw, err := strictB64.DecodeString(jwk.GetX())
		if err != nil || len(raw) != ed25519.PublicKeySize {
			continue
		}
		keys[jwk.GetKid()] = ed25519.PublicKey(raw)
	}
	s.keys = keys
	s.fetchedAt = now
	s.expiresAt = now.Add(time.Duration(response.GetCacheMaxAgeSeconds()) * time.Second)
	return nil
}
