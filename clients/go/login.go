package gatehouse

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"time"

	gatehousev1 "github.com/gatehouse-dev/gatehouse/clients/go/gen/gatehouse/v1"
)

// Agent logs in to Gatehouse as one registered agent. Gate must be a client on a connection
// that presents the agent's client certificate (its DID as URI SAN).
type Agent struct {
	Key  AgentKey
	DID  string
	Gate gatehousev1.GateServiceClient
}

// LoginOptions are what the token should carry.
type LoginOptions struct {
	// Scopes and Audience must be within the agent's policy.
	Scopes   []string
	Audience string
	// DPoP binds the token to the agent's key (RFC 9449 §6): it is then presented as
	// `Authorization: DPoP <token>` with a fresh proof per request ([AgentKey.DPoPProof]).
	DPoP bool
}

// Token is an issued access token.
type Token struct {
	AccessToken string
	// TokenType is "Bearer", or "DPoP" for a key-bound token.
	TokenType string
	ExpiresAt time.Time
	Scopes    []string
	Audience  string
	// DPoPNonce is the server nonce for the next proof (RFC 9449 §8), when it uses nonces.
	DPoPNonce string
	// Issuer is the issuer the challenge named (the tokens' `iss`).
	Issuer string
}

// ErrSigningInputMismatch: the server asked the agent to sign bytes that do not bind what the
// agent asked for. The agent refuses to sign.
var ErrSigningInputMismatch = errors.New("gatehouse: challenge signing input does not match the request; refusing to sign")

// Login runs Challenge (signature kind) → Submit → Token. The agent signs only after
// rebuilding the signing input from what it asked for. Refusals are *Error with their Reason.
func (a *Agent) Login(ctx context.Context, options LoginOptions) (*Token, error) {
	challenge, err := a.Gate.Challenge(ctx, &gatehousev1.ChallengeRequest{
		Did:      a.DID,
		Kind:     gatehousev1.ChallengeKind_CHALLENGE_KIND_SIGNATURE,
		Scopes:   options.Scopes,
		Audience: options.Audience,
	})
	if err != nil {
		return nil, AsError(err)
	}
	body := challenge.GetSignature()
	if body == nil || challenge.GetExpiresAt() == nil {
		return nil, errors.New("gatehouse: expected a signature challenge")
	}
	rebuilt := challengeSigningInput(challengeBinding{
		issuer:      body.GetIssuer(),
		challengeID: challenge.GetChallengeId(),
		did:         a.DID,
		caller:      body.GetCaller(),
		scopes:      options.Scopes,
		audience:    options.Audience,
		expiresAtMs: challenge.GetExpiresAt().AsTime().UnixMilli(),
	})
	if !bytes.Equal(rebuilt, body.GetSigningInput()) {
		return nil, ErrSigningInputMismatch
	}
	submitted, err := a.Gate.Submit(ctx, &gatehousev1.SubmitRequest{
		ChallengeId: challenge.GetChallengeId(),
		Answer: &gatehousev1.SubmitRequest_Signature{
			Signature: &gatehousev1.SignatureAnswer{Signature: ed25519.Sign(a.Key.Private, rebuilt)},
		},
	})
	if err != nil {
		return nil, AsError(err)
	}
	request := &gatehousev1.TokenRequest{Grant: &gatehousev1.TokenRequest_PassToken{PassToken: submitted.GetPassToken()}}
	issued, err := a.token(ctx, request, options.DPoP, body.GetIssuer())
	if err != nil {
		return nil, err
	}
	return &Token{
		AccessToken: issued.GetAccessToken(),
		TokenType:   issued.GetTokenType(),
		ExpiresAt:   issued.GetExpiresAt().AsTime(),
		Scopes:      issued.GetScopes(),
		Audience:    issued.GetAudience(),
		DPoPNonce:   issued.GetDpopNonce(),
		Issuer:      body.GetIssuer(),
	}, nil
}

// token calls Token. With dpop, the request carries a proof (TokenRequest.dpop_proof: `htm`
// POST, `htu` the issuer with path /v1/tokens); when the server answers that it wants a nonce,
// the call is made once more with a proof carrying it (RFC 9449 §8). The server checks the
// proof before it redeems the pass, so the pass is still unspent then.
func (a *Agent) token(ctx context.Context, request *gatehousev1.TokenRequest, dpop bool, issuer string) (*gatehousev1.TokenResponse, error) {
	nonce := ""
	for attempt := 0; ; attempt++ {
		if dpop {
			proof, err := a.Key.DPoPProof(DPoPRequest{Method: "POST", URL: issuer + "/v1/tokens", Nonce: nonce})
			if err != nil {
				return nil, err
			}
			request.DpopProof = proof
		}
		issued, err := a.Gate.Token(ctx, request)
		if err == nil {
			return issued, nil
		}
		refused := AsError(err)
		if !dpop || attempt > 0 || refused.Reason != gatehousev1.Reason_REASON_DPOP_NONCE_REQUIRED || refused.DPoPNonce == "" {
			return nil, refused
		}
		nonce = refused.DPoPNonce
	}
}
