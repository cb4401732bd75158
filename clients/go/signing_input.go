package gatehouse

import (
	"encoding/binary"
	"encoding/hex"
	"sort"
	"strconv"
	"strings"
)

// signingInput builds Gatehouse's versioned, domain-separated signing input (documented on
// gatehouse.v1.SignatureChallenge):
//
//	"GATEHOUSE-SIG" 0x00 "v1" 0x00 <purpose> 0x00
//	then per field, in order: <name> 0x00 <uint32 big-endian byte length> <value bytes>
func signingInput(purpose string, fields ...[2]string) []byte {
	out := []byte("GATEHOUSE-SIG\x00v1\x00" + purpose + "\x00")
	for _, field := range fields {
		out = append(out, field[0]...)
		out = append(out, 0)
		out = binary.BigEndian.AppendUint32(out, uint32(len(field[1])))
		out = append(out, field[1]...)
	}
	return out
}

// challengeBinding is what a signature challenge binds; the agent rebuilds the signing input
// from what it asked for and compares before signing.
type challengeBinding struct {
	issuer, challengeID, did, caller, audience string
	scopes                                     []string
	expiresAtMs                                int64
}

func challengeSigningInput(b challengeBinding) []byte {
	scopes := append([]string(nil), b.scopes...)
	sort.Strings(scopes)
	return signingInput("challenge",
		[2]string{"issuer", b.issuer},
		[2]string{"challenge_id", b.challengeID},
		[2]string{"did", b.did},
		[2]string{"caller", b.caller},
		[2]string{"scopes", strings.Join(scopes, " ")},
		[2]string{"audience", b.audience},
		[2]string{"expires_at", strconv.FormatInt(b.expiresAtMs, 10)},
	)
}

func registrationSigningInput(did string, publicKey []byte, operatorDomain string) []byte {
	return signingInput("register-agent",
		[2]string{"did", did},
		[2]string{"public_key", hex.EncodeToString(publicKey)},
		[2]string{"operator", operatorDomain},
	)
}
