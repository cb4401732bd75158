package gatehouse

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"slices"
	"strings"
	"time"

	gatehousev1 "github.com/gatehouse-dev/gatehouse/clients/go/gen/gatehouse/v1"
)

// Claims are the verified claims of an access token (RFC 9068 §2.2).
type Claims struct {
	Issuer    string   `json:"iss"`
	Subject   string   `json:"sub"`
	Audience  audience `json:"aud"`
	Scope     string   `json:"scope"`
	Operator  string   `json:"operator"`
	IssuedAt  int64    `json:"iat"`
	NotBefore int64    `json:"nbf"`
	Expiry    int64    `json:"exp"`
	ID        string   `json:"jti"`
	// Confirmation names the key a DPoP-bound token is bound to (RFC 9449 §6.1).
	Confirmation *struct {
		JKT string `json:"jkt"`
	} `json:"cnf,omitempty"`
	// Actor is the current actor of a delegated token (RFC 8693 §4.1).
	Actor *struct {
		Subject string `json:"sub"`
	} `json:"act,omitempty"`
}

// Scopes splits the space-separated `scope` claim.
func (c *Claims) Scopes() []string { return strings.Fields(c.Scope) }

// audience reads `aud` as one string or an array of strings (RFC 7519 §4.1.3).
type audience []string

func (a *audience) UnmarshalJSON(data []byte) error {
	var one string
	if json.Unmarshal(data, &one) == nil {
		*a = audience{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(data, &many); err != nil {
		return err
	}
	*a = many
	return nil
}

// Verifier checks access tokens offline, against the issuer's key set. It does not see
// revocations, suspensions or envelopes: where those matter, ask Gatehouse (VerifyService.Verify).
type Verifier struct {
	// Issuer is the expected `iss` (GetIssuerMetadata's issuer).
	Issuer string
	// Audience is this service: the token's `aud` must contain it.
	Audience string
	// Keys is the issuer's key set (NewKeySet).
	Keys *KeySet
	// Leeway is the clock skew allowed on `exp`, `nbf` and `iat` (default 60 s).
	Leeway time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// DPoPContext is the request a DPoP-bound token arrived with (RFC 9449 §7.1).
type DPoPContext struct {
	// Proof is the `DPoP` header's value.
	Proof string
	// Method and URL are the request's (the proof's `htm` and `htu`).
	Method string
	URL    string
}

// VerifyOptions are what one request needs of its token.
type VerifyOptions struct {
	// RequiredScopes must all be granted.
	RequiredScopes []string
	// DPoP is required when the token is DPoP-bound: a bound token without a valid proof of its
	// key is refused (REASON_TOKEN_BOUND_TO_KEY, REASON_DPOP_INVALID). Proof `jti`s are not
	// remembered offline: use VerifyService.Verify where a replayed proof must be caught.
	DPoP *DPoPContext
}

func reject(reason gatehousev1.Reason, description string) *Error {
	return &Error{Reason: reason, Description: description}
}

// Verify checks a token in a fixed order, the server's (README "Verify"): parse → header →
// signature → claims → iss → aud → time → DPoP binding → scopes. A refusal is an *Error whose
// Reason names the first check that failed.
func (v *Verifier) Verify(ctx context.Context, token string, options VerifyOptions) (*Claims, error) {
	jws, fail := parseCompactJWS(token, gatehousev1.Reason_REASON_TOKEN_MALFORMED)
	if fail != nil {
		return nil, fail
	}
	// RFC 8725 §3.1: only the algorithm this issuer signs with; §3.11: explicit typing (RFC 9068 §2.1).
	if jws.headerString("alg") != "EdDSA" {
		return nil, reject(gatehousev1.Reason_REASON_TOKEN_ALG_NOT_ALLOWED, "alg must be EdDSA")
	}
	for _, name := range []string{"jku", "x5u", "jwk", "x5c", "crit"} {
		if _, present := jws.header[name]; present {
			return nil, reject(gatehousev1.Reason_REASON_TOKEN_HEADER_INVALID, "header names a key or extension: "+name)
		}
	}
	if jws.headerString("typ") != "at+jwt" {
		return nil, reject(gatehousev1.Reason_REASON_TOKEN_HEADER_INVALID, "typ must be at+jwt")
	}
	key, err := v.Keys.key(ctx, jws.headerString("kid"))
	if err != nil {
		return nil, err
	}
	if !jws.verify(key) {
		return nil, reject(gatehousev1.Reason_REASON_TOKEN_BAD_SIGNATURE, "signature does not verify")
	}
	var claims Claims
	if json.Unmarshal(jws.payload, &claims) != nil || claims.Subject == "" || claims.Expiry == 0 {
		return nil, reject(gatehousev1.Reason_REASON_TOKEN_CLAIMS_INVALID, "claims are malformed")
	}
	// A delegated token is always bound to its actor's key: with `act` but no `cnf`, anyone
	// who saw it could act as the actor.
	if claims.Actor != nil && claims.Confirmation == nil {
		return nil, reject(gatehousev1.Reason_REASON_TOKEN_CLAIMS_INVALID, "act without cnf")
	}
	if claims.Issuer != v.Issuer {
		return nil, reject(gatehousev1.Reason_REASON_TOKEN_ISSUER_MISMATCH, "iss is not the expected issuer")
	}
	if !slices.Contains(claims.Audience, v.Audience) {
		return nil, reject(gatehousev1.Reason_REASON_TOKEN_AUDIENCE_MISMATCH, "aud does not name this service")
	}
	if reason := v.checkTime(&claims); reason != gatehousev1.Reason_REASON_UNSPECIFIED {
		return nil, reject(reason, "token is outside its validity window")
	}
	if claims.Confirmation != nil {
		if err := v.checkDPoP(token, claims.Confirmation.JKT, options.DPoP); err != nil {
			return nil, err
		}
	}
	granted := claims.Scopes()
	for _, scope := range options.RequiredScopes {
		if !slices.Contains(granted, scope) {
			return nil, reject(gatehousev1.Reason_REASON_INSUFFICIENT_SCOPE, "token lacks scope "+scope)
		}
	}
	return &claims, nil
}

func (v *Verifier) clock() (time.Time, time.Duration) {
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	leeway := v.Leeway
	if leeway == 0 {
		leeway = 60 * time.Second
	}
	return now(), leeway
}

// checkTime applies RFC 7519 §4.1.4 (`exp`), §4.1.5 (`nbf`) and refuses an `iat` in the future.
func (v *Verifier) checkTime(claims *Claims) gatehousev1.Reason {
	now, leeway := v.clock()
	skew := int64(leeway / time.Second)
	unix := now.Unix()
	switch {
	case claims.Expiry <= unix-skew:
		return gatehousev1.Reason_REASON_TOKEN_EXPIRED
	case claims.NotBefore > unix+skew || claims.IssuedAt > unix+skew:
		return gatehousev1.Reason_REASON_TOKEN_NOT_YET_VALID
	}
	return gatehousev1.Reason_REASON_UNSPECIFIED
}

// checkDPoP checks the proof of a bound token (RFC 9449 §4.3, §7.1): a `dpop+jwt` signed by the
// key its `jwk` names, that key's thumbprint equal to `cnf.jkt`, for this method and URL, with
// `ath` the hash of this token, and a fresh `iat`.
func (v *Verifier) checkDPoP(token, jkt string, request *DPoPContext) error {
	if request == nil || request.Proof == "" {
		return reject(gatehousev1.Reason_REASON_TOKEN_BOUND_TO_KEY, "a DPoP-bound token needs its proof")
	}
	invalid := func(what string) error { return reject(gatehousev1.Reason_REASON_DPOP_INVALID, what) }
	proof, fail := parseCompactJWS(request.Proof, gatehousev1.Reason_REASON_DPOP_INVALID)
	if fail != nil {
		return fail
	}
	if proof.headerString("typ") != "dpop+jwt" || proof.headerString("alg") != "EdDSA" {
		return invalid("proof header must be typ dpop+jwt, alg EdDSA")
	}
	var jwk okpJWK
	if json.Unmarshal(proof.header["jwk"], &jwk) != nil || jwk.Kty != "OKP" || jwk.Crv != "Ed25519" {
		return invalid("proof jwk must be an Ed25519 key")
	}
	raw, err := strictB64.DecodeString(jwk.X)
	if err != nil || !proof.verify(raw) {
		return invalid("proof signature does not verify")
	}
	canonical, _ := json.Marshal(okpJWK{Crv: jwk.Crv, Kty: jwk.Kty, X: jwk.X})
	thumbprint := sha256.Sum256(canonical)
	if subtle.ConstantTimeCompare([]byte(b64.EncodeToString(thumbprint[:])), []byte(jkt)) != 1 {
		return invalid("proof key is not the key the token is bound to")
	}
	var claims dpopClaims
	if json.Unmarshal(proof.payload, &claims) != nil || claims.JTI == "" {
		return invalid("proof claims are malformed")
	}
	tokenHash := sha256.Sum256([]byte(token))
	if claims.HTM != request.Method || claims.HTU != stripQuery(request.URL) ||
		subtle.ConstantTimeCompare([]byte(claims.ATH), []byte(b64.EncodeToString(tokenHash[:]))) != 1 {
		return invalid("proof is not for this request and token")
	}
	now, leeway := v.clock()
	if iat := time.Unix(claims.IAT, 0); iat.Before(now.Add(-leeway)) || iat.After(now.Add(leeway)) {
		return invalid("proof iat is outside the allowed window")
	}
	return nil
}

// stripQuery drops query and fragment (RFC 9449 §4.3 point 9).
func stripQuery(url string) string {
	if i := strings.IndexAny(url, "?#"); i >= 0 {
		return url[:i]
	}
	return url
}
