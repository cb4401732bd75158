package main

// The signing input an agent's challenge signature covers, as src/crypto/signing-input.ts
// (encodeSigningInput) and src/challenges/signature/signing-input.ts build it and as the
// proto docs on gatehouse.v1.SignatureChallenge describe it:
//
//	"GATEHOUSE-SIG" 0x00 "v1" 0x00 <purpose> 0x00
//	then per field, in order: <name> 0x00 <uint32 big-endian byte length> <value bytes>

import (
	"encoding/binary"
	"slices"
	"strconv"
	"strings"
)

type signingField struct{ name, value string }

func appendSigningInput(b []byte, purpose string, fields ...signingField) []byte {
	b = append(b, "GATEHOUSE-SIG\x00v1\x00"...)
	b = append(append(b, purpose...), 0)
	for _, f := range fields {
		b = append(append(b, f.name...), 0)
		b = binary.BigEndian.AppendUint32(b, uint32(len(f.value)))
		b = append(b, f.value...)
	}
	return b
}

// challengeBinding is what a signature challenge binds: the agent's own request (did,
// scopes, audience), and what only the server knows (issuer, caller, id, deadline).
type challengeBinding struct {
	issuer, challengeID, did, caller, audience string
	scopes                                     []string
	expiresAtMs                                int64
}

// challengeSigningInput: the scopes sorted and space-separated, the deadline in Unix ms.
// Scopes are ASCII (the proto's pattern), so Go's byte order is JavaScript's sort order.
func challengeSigningInput(c challengeBinding) []byte {
	scopes := slices.Sorted(slices.Values(c.scopes))
	return appendSigningInput(nil, "challenge",
		signingField{"issuer", c.issuer},
		signingField{"challenge_id", c.challengeID},
		signingField{"did", c.did},
		signingField{"caller", c.caller},
		signingField{"scopes", strings.Join(scopes, " ")},
		signingField{"audience", c.audience},
		signingField{"expires_at", strconv.FormatInt(c.expiresAtMs, 10)},
	)
}
