package main

// The Gate messages of a login, encoded and read as raw protobuf (no generated code).

import "google.golang.org/protobuf/encoding/protowire"

// Field numbers, from proto/gatehouse/v1/gate.proto (and google/protobuf/timestamp.proto).
const (
	challengeRequestDID      = 1
	challengeRequestKind     = 2 // ChallengeKind
	challengeRequestScopes   = 3
	challengeRequestAudience = 4
	challengeKindSignature   = 1 // CHALLENGE_KIND_SIGNATURE

	challengeResponseID        = 1
	challengeResponseExpiresAt = 3 // Timestamp
	challengeResponseSignature = 10
	challengeResponseLastBody  = 13 // the oneof body is fields 10 to 13

	signatureChallengeInput  = 1
	signatureChallengeIssuer = 3
	signatureChallengeCaller = 4

	timestampSeconds = 1
	timestampNanos   = 2

	submitRequestChallengeID = 1
	submitRequestSignature   = 10 // SignatureAnswer
	signatureAnswerSignature = 1

	submitResponsePass       = 1
	tokenRequestPass         = 1
	tokenResponseAccessToken = 1
)

// challengeRequest: a signature challenge for did, scopes and audience.
func challengeRequest(did string, scopes []string, audience string) []byte {
	b := appendString(nil, challengeRequestDID, did)
	b = appendVarint(b, challengeRequestKind, challengeKindSignature)
	for _, s := range scopes {
		b = appendString(b, challengeRequestScopes, s)
	}
	return appendString(b, challengeRequestAudience, audience)
}

// signatureChallenge is what a login reads of a ChallengeResponse.
type signatureChallenge struct {
	id, issuer, caller string
	expiresAtMs        int64
	signingInput       []byte
}

// parseChallenge reads a ChallengeResponse; problem is "" when it is a signature challenge
// with an id and a deadline. As in proto3, the last occurrence of a field wins.
func parseChallenge(resp []byte) (c signatureChallenge, problem string) {
	var expires, body []byte
	hasExpires, bodyField := false, 0
	err := eachField(resp, func(field int, v fieldValue) {
		switch {
		case field == challengeResponseID && v.wire == wireLen:
			c.id = string(v.bytes)
		case field == challengeResponseExpiresAt && v.wire == wireLen:
			expires, hasExpires = v.bytes, true
		case field >= challengeResponseSignature && field <= challengeResponseLastBody:
			body, bodyField = v.bytes, field
		}
	})
	if err == nil && hasExpires {
		c.expiresAtMs, err = timestampMs(expires)
	}
	if err == nil && bodyField == challengeResponseSignature {
		err = eachField(body, func(field int, v fieldValue) {
			switch field {
			case signatureChallengeInput:
				c.signingInput = v.bytes
			case signatureChallengeIssuer:
				c.issuer = string(v.bytes)
			case signatureChallengeCaller:
				c.caller = string(v.bytes)
			}
		})
	}
	switch {
	case err != nil:
		return c, "undecodable ChallengeResponse: " + err.Error()
	case bodyField != challengeResponseSignature:
		return c, "not a signature challenge"
	case c.id == "" || !hasExpires:
		return c, "ChallengeResponse without a challenge_id or expires_at"
	}
	return c, ""
}

// timestampMs is a google.protobuf.Timestamp in Unix ms, rounded as @bufbuild/protobuf's
// timestampMs does it (the TypeScript client signs what that gives).
func timestampMs(ts []byte) (int64, error) {
	var seconds, nanos int64
	err := eachField(ts, func(field int, v fieldValue) {
		switch field {
		case timestampSeconds:
			seconds = int64(v.num)
		case timestampNanos:
			nanos = int64(int32(v.num))
		}
	})
	return seconds*1000 + (nanos+500_000)/1_000_000, err
}

// tokenRequest redeems the pass of a SubmitResponse, its bytes copied as they came.
func tokenRequest(resp []byte) ([]byte, string) {
	pass, err := lastBytes(resp, submitResponsePass)
	if err != nil {
		return nil, "undecodable SubmitResponse: " + err.Error()
	}
	if len(pass) == 0 {
		return nil, "SubmitResponse without a pass"
	}
	return appendBytes(nil, tokenRequestPass, pass), ""
}

// lastBytes is the last occurrence of a length-delimited field (nil when absent).
func lastBytes(msg []byte, field int) ([]byte, error) {
	var out []byte
	err := eachField(msg, func(f int, v fieldValue) {
		if f == field && v.wire == wireLen {
			out = v.bytes
		}
	})
	return out, err
}

func appendString(b []byte, n protowire.Number, s string) []byte {
	return protowire.AppendString(protowire.AppendTag(b, n, protowire.BytesType), s)
}

// appendBytes appends a bytes field or an embedded message (already encoded).
func appendBytes(b []byte, n protowire.Number, v []byte) []byte {
	return protowire.AppendBytes(protowire.AppendTag(b, n, protowire.BytesType), v)
}

func appendVarint(b []byte, n protowire.Number, v uint64) []byte {
	return protowire.AppendVarint(protowire.AppendTag(b, n, protowire.VarintType), v)
}
