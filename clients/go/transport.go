package gatehouse

import (
	"context"
	"net/http"
	"sync"
	"time"
)

// TokenSource logs in once and hands out the token until RefreshMargin before it expires (at
// most half its lifetime), then logs in again. Concurrent callers share one login.
type TokenSource struct {
	Agent   *Agent
	Options LoginOptions
	// RefreshMargin is how long before expiry a new token is fetched (default 30 s).
	RefreshMargin time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time

	mu        sync.Mutex
	token     *Token
	refreshAt time.Time
}

// Token returns the cached token, or logs in for a new one.
func (s *TokenSource) Token(ctx context.Context) (*Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	if s.token != nil && now().Before(s.refreshAt) {
		return s.token, nil
	}
	token, err := s.Agent.Login(ctx, s.Options)
	if err != nil {
		return nil, err
	}
	margin := s.RefreshMargin
	if margin == 0 {
		margin = 30 * time.Second
	}
	if half := token.ExpiresAt.Sub(now()) / 2; half < margin {
		margin = half
	}
	s.token, s.refreshAt = token, token.ExpiresAt.Add(-margin)
	return token, nil
}

// Transport is an http.RoundTripper that sends each request with the agent's token:
// `Authorization: Bearer <token>`, or for a DPoP-bound token `Authorization: DPoP <token>` and
// a fresh proof for the request's method and URL in the `DPoP` header (RFC 9449 §7.1).
type Transport struct {
	Source *TokenSource
	// Base sends the request; http.DefaultTransport when nil.
	Base http.RoundTripper
}

// RoundTrip implements http.RoundTripper. It does not modify the caller's request.
func (t *Transport) RoundTrip(request *http.Request) (*http.Response, error) {
	token, err := t.Source.Token(request.Context())
	if err != nil {
		return nil, err
	}
	out := request.Clone(request.Context())
	out.Header.Set("Authorization", token.TokenType+" "+token.AccessToken)
	if token.TokenType == "DPoP" {
		htu := *request.URL
		htu.RawQuery, htu.Fragment = "", "" // RFC 9449 §4.2: htu without query and fragment
		proof, err := t.Source.Agent.Key.DPoPProof(DPoPRequest{
			Method: request.Method, URL: htu.String(), AccessToken: token.AccessToken, Nonce: token.DPoPNonce,
		})
		if err != nil {
			return nil, err
		}
		out.Header.Set("DPoP", proof)
	}
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	return base.RoundTrip(out)
}
