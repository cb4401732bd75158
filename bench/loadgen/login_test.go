package main

import (
	"crypto/ed25519"
	"encoding/base64"
	"strings"
	"testing"
)

func timestamp(seconds int64, nanos int32) []byte {
	return appendVarint(appendVarint(nil, timestampSeconds, uint64(seconds)), timestampNanos, uint64(nanos))
}

// challengeResponse is what the server answers for testBinding, with signing input `input`.
func challengeResponse(input []byte) []byte {
	body := appendBytes(nil, signatureChallengeInput, input)
	body = appendString(body, 2, "v1")
	body = appendString(body, signatureChallengeIssuer, testBinding.issuer)
	body = appendString(body, signatureChallengeCaller, testBinding.caller)
	b := appendString(nil, challengeResponseID, testBinding.challengeID)
	b = appendVarint(b, 2, challengeKindSignature)
	b = appendBytes(b, challengeResponseExpiresAt, timestamp(1767225600, 123_000_000))
	return appendBytes(b, challengeResponseSignature, body)
}

func testLoad() *loginLoad {
	return &loginLoad{audience: testBinding.audience, scopes: testBinding.scopes}
}

func TestAnswerSignsTheCheckedInput(t *testing.T) {
	public, private, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	input := challengeSigningInput(testBinding)
	submit, problem := testLoad().answer(testBinding.did, private, challengeResponse(input))
	if problem != "" {
		t.Fatal(problem)
	}
	id, _ := lastBytes(submit, submitRequestChallengeID)
	answer, _ := lastBytes(submit, submitRequestSignature)
	signature, _ := lastBytes(answer, signatureAnswerSignature)
	if string(id) != testBinding.challengeID || !ed25519.Verify(public, input, signature) {
		t.Fatalf("SubmitRequest %x: wrong challenge_id or signature", submit)
	}
}

func TestAnswerRefusesOtherInputs(t *testing.T) {
	_, private, _ := ed25519.GenerateKey(nil)
	other := testBinding
	other.audience = "https://elsewhere.example.com"
	resp := challengeResponse(challengeSigningInput(other))
	if _, p := testLoad().answer(testBinding.did, private, resp); !strings.Contains(p, "refusing to sign") {
		t.Fatalf("a challenge for another audience: %q", p)
	}
	hashcash := appendBytes(challengeResponse(challengeSigningInput(testBinding)), 13, nil)
	if _, p := testLoad().answer(testBinding.did, private, hashcash); p != "not a signature challenge" {
		t.Fatalf("a hashcash body last: %q", p)
	}
	noDeadline := appendBytes(appendString(nil, challengeResponseID, "x"), challengeResponseSignature, nil)
	if _, p := testLoad().answer(testBinding.did, private, noDeadline); !strings.Contains(p, "without") {
		t.Fatalf("no expires_at: %q", p)
	}
}

func TestTimestampRoundsLikeBufbuild(t *testing.T) {
	for nanos, want := range map[int32]int64{0: 5000, 499_999: 5000, 500_000: 5001, 999_999_999: 6000} {
		if got, err := timestampMs(timestamp(5, nanos)); err != nil || got != want {
			t.Fatalf("5 s %d ns: got %d, want %d", nanos, got, want)
		}
	}
}

func TestTokenRequestCopiesThePass(t *testing.T) {
	pass := strings.Repeat("p", 43)
	req, problem := tokenRequest(appendBytes(appendString(nil, submitResponsePass, pass), 2, timestamp(1, 0)))
	if problem != "" || string(req) != string(appendString(nil, tokenRequestPass, pass)) {
		t.Fatalf("TokenRequest %x, %q", req, problem)
	}
	if _, problem := tokenRequest(nil); problem == "" {
		t.Fatal("a SubmitResponse without a pass accepted")
	}
}

func TestTokenProblem(t *testing.T) {
	jws := func(payload string) []byte {
		token := "eyJhbGciOiJFZERTQSJ9." + base64.RawURLEncoding.EncodeToString([]byte(payload)) + ".c2ln"
		return appendString(nil, tokenResponseAccessToken, token)
	}
	did := testBinding.did
	for resp, want := range map[string]string{
		string(jws(`{"sub":"` + did + `","jti":"j"}`)):              "",
		string(jws(`{"sub":"did:agent:other:00"}`)):                 "token issued to another agent",
		string(jws(`{"sub":7}`)):                                    "token issued to another agent",
		string(jws(`not json`)):                                     "token is not a compact JWS",
		string(appendString(nil, tokenResponseAccessToken, "a.b")):  "token is not a compact JWS",
		string(appendString(nil, tokenResponseAccessToken, "a..c")): "token is not a compact JWS",
		string(appendVarint(nil, tokenResponseAccessToken+1, 1)):    "token is not a compact JWS",
	} {
		if got := tokenProblem([]byte(resp), did); got != want {
			t.Fatalf("%x: got %q, want %q", resp, got, want)
		}
	}
}
