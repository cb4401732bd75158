package main

// Login mode (--logins FILE): full agent logins, Challenge → Submit → Token with the signature
// kind, as bench/enroll.ts login() does them. Every agent has its own connection (the caller
// identity is its client certificate) and one login in flight; a login is correct only when
// it ends with an access token issued to that agent.

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"

	"google.golang.org/grpc"
)

// loginFile is the agents file (bench/go-load.ts writeLoginAgents writes it).
type loginFile struct {
	CA string `json:"ca"`
	// The Gatehouse issuer: the audience of the assertion mode's assertions.
	Issuer   string       `json:"issuer"`
	Audience string       `json:"audience"`
	Scopes   []string     `json:"scopes"`
	Agents   []agentEntry `json:"agents"`
}

type agentEntry struct {
	DID string `json:"did"`
	// The agent's client certificate and its key (PEM), for its own connection.
	Cert string `json:"cert"`
	Key  string `json:"key"`
	// The agent's registered Ed25519 key, PKCS#8 PEM: it signs the challenges.
	SigningKey string `json:"signingKey"`
}

const (
	challengeMethod = "/gatehouse.v1.GateService/Challenge"
	submitMethod    = "/gatehouse.v1.GateService/Submit"
	tokenMethod     = "/gatehouse.v1.GateService/Token"
)

type loginAgent struct {
	did  string
	key  ed25519.PrivateKey
	conn *grpc.ClientConn
	// The same on every login: what the agent asks for.
	challengeRequest []byte
	resp             []byte // reused: each response is done with before the next call
}

// loginLoad runs a login per step, worker slot as agent slot.
type loginLoad struct {
	issuer   string
	audience string
	scopes   []string
	agents   []loginAgent
}

// openLogins reads the agents file and dials a connection per agent.
func openLogins(path, addr, serverName string) (*loginLoad, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var f loginFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(f.Agents) == 0 || len(f.Scopes) == 0 || f.Audience == "" {
		return nil, fmt.Errorf("%s: needs agents, scopes and an audience", path)
	}
	l := &loginLoad{issuer: f.Issuer, audience: f.Audience, scopes: f.Scopes}
	ctx, cancel := context.WithTimeout(context.Background(), dialTimeout)
	defer cancel()
	for _, a := range f.Agents {
		agent, err := openAgent(ctx, addr, serverName, []byte(f.CA), a)
		if err != nil {
			l.close()
			return nil, fmt.Errorf("%s: agent %s: %w", path, a.DID, err)
		}
		agent.challengeRequest = challengeRequest(a.DID, f.Scopes, f.Audience)
		l.agents = append(l.agents, agent)
	}
	return l, nil
}

func openAgent(ctx context.Context, addr, serverName string, caPEM []byte, a agentEntry) (loginAgent, error) {
	signer, err := ed25519Key([]byte(a.SigningKey))
	if err != nil {
		return loginAgent{}, err
	}
	creds, err := clientTLS([]byte(a.Cert), []byte(a.Key), caPEM, serverName)
	if err != nil {
		return loginAgent{}, err
	}
	conn, err := dial(ctx, addr, creds)
	if err != nil {
		return loginAgent{}, err
	}
	return loginAgent{did: a.DID, key: signer, conn: conn}, nil
}

func (l *loginLoad) close() {
	for _, a := range l.agents {
		_ = a.conn.Close()
	}
}

func ed25519Key(pemBytes []byte) (ed25519.PrivateKey, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return nil, errors.New("signing key: no PEM block")
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	ed, ok := key.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("signing key: %T, not Ed25519", key)
	}
	return ed, nil
}

func (l *loginLoad) step(ctx context.Context, slot, _ int) (string, bool) {
	return l.login(ctx, &l.agents[slot]), true
}

// login is one Challenge → Submit → Token; "" when it ends with a token issued to the agent,
// otherwise the error kind, named after the RPC where it went wrong.
func (l *loginLoad) login(ctx context.Context, a *loginAgent) string {
	if err := a.conn.Invoke(ctx, challengeMethod, &a.challengeRequest, &a.resp); err != nil {
		return "Challenge: " + rpcProblem(err)
	}
	submit, problem := l.answer(a.did, a.key, a.resp)
	if problem != "" {
		return "Challenge: " + problem
	}
	if err := a.conn.Invoke(ctx, submitMethod, &submit, &a.resp); err != nil {
		return "Submit: " + rpcProblem(err)
	}
	token, problem := tokenRequest(a.resp)
	if problem != "" {
		return "Submit: " + problem
	}
	if err := a.conn.Invoke(ctx, tokenMethod, &token, &a.resp); err != nil {
		return "Token: " + rpcProblem(err)
	}
	if problem := tokenProblem(a.resp, a.did); problem != "" {
		return "Token: " + problem
	}
	return ""
}

// answer rebuilds the signing input from what the agent asked for and signs it only if the
// server's is the same (src/client/agent-keys.ts signChallenge: never sign unchecked bytes);
// it returns the SubmitRequest.
func (l *loginLoad) answer(did string, key ed25519.PrivateKey, resp []byte) ([]byte, string) {
	c, problem := parseChallenge(resp)
	if problem != "" {
		return nil, problem
	}
	input := challengeSigningInput(challengeBinding{
		issuer:      c.issuer,
		challengeID: c.id,
		did:         did,
		caller:      c.caller,
		scopes:      l.scopes,
		audience:    l.audience,
		expiresAtMs: c.expiresAtMs,
	})
	if !bytes.Equal(input, c.signingInput) {
		return nil, "signing input does not match the request; refusing to sign"
	}
	signature := appendBytes(nil, signatureAnswerSignature, ed25519.Sign(key, input))
	return appendBytes(appendString(nil, submitRequestChallengeID, c.id), submitRequestSignature, signature), ""
}

// tokenProblem checks a TokenResponse as bench/scenarios/login.ts tokenProblem does: "" for
// a compact JWS whose payload's `sub` is the agent's DID. Its signature is not checked (nor
// is it there): the bench only makes sure the login ended with a token issued to this agent.
func tokenProblem(resp []byte, did string) string {
	token, err := lastBytes(resp, tokenResponseAccessToken)
	if err != nil {
		return "undecodable TokenResponse: " + err.Error()
	}
	parts := bytes.Split(token, []byte("."))
	if len(parts) != 3 || len(parts[1]) == 0 {
		return "token is not a compact JWS"
	}
	payload := make([]byte, base64.RawURLEncoding.DecodedLen(len(parts[1])))
	n, err := base64.RawURLEncoding.Decode(payload, parts[1])
	var claims struct {
		Sub any `json:"sub"`
	}
	if err != nil || json.Unmarshal(payload[:n], &claims) != nil {
		return "token is not a compact JWS"
	}
	if sub, ok := claims.Sub.(string); !ok || sub != did {
		return "token issued to another agent"
	}
	return ""
}
