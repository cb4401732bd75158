package gatehouse

import (
	"crypto/ed25519"
	"encoding/json"
	"strings"

	gatehousev1 "github.com/gatehouse-dev/gatehouse/clients/go/gen/gatehouse/v1"
)

// maxTokenLength bounds what is parsed at all (VerifyRequest.token allows 8 KiB).
const maxTokenLength = 8192

// compactJWS is a parsed compact JWS (RFC 7515 §7.1) whose signature is not yet checked.
type compactJWS struct {
	header       map[string]json.RawMessage
	payload      []byte
	signingInput []byte
	signature    []byte
}

// strictB64 refuses padding and non-zero trailing bits: every segment has exactly one valid
// spelling (RFC 7515 §2, RFC 4648 §3.5).
var strictB64 = b64.Strict()

// parseCompactJWS splits and decodes a compact JWS; malformed is returned as reason.
func parseCompactJWS(token string, malformed gatehousev1.Reason) (*compactJWS, *Error) {
	fail := &Error{Reason: malformed, Description: "malformed compact JWS"}
	if len(token) == 0 || len(token) > maxTokenLength {
		return nil, fail
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, fail
	}
	headerBytes, err1 := strictB64.DecodeString(parts[0])
	payload, err2 := strictB64.DecodeString(parts[1])
	signature, err3 := strictB64.DecodeString(parts[2])
	if err1 != nil || err2 != nil || err3 != nil || len(signature) != ed25519.SignatureSize {
		return nil, fail
	}
	var header map[string]json.RawMessage
	if json.Unmarshal(headerBytes, &header) != nil || header == nil {
		return nil, fail
	}
	return &compactJWS{
		header:       header,
		payload:      payload,
		signingInput: []byte(parts[0] + "." + parts[1]),
		signature:    signature,
	}, nil
}

// headerString reads a string header parameter ("" when absent or not a string).
func (j *compactJWS) headerString(name string) string {
	var value string
	if raw, ok := j.header[name]; ok {
		_ = json.Unmarshal(raw, &value)
	}
	return value
}

func (j *compactJWS) verify(key ed25519.PublicKey) bool {
	return len(key) == ed25519.PublicKeySize && ed25519.Verify(key, j.signingInput, j.signature)
}
