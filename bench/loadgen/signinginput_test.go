package main

import (
	"encoding/hex"
	"testing"
)

// The vectors come from the TypeScript implementation, printed once by a throwaway tsx script:
//
//	hex(encodeSigningInput("challenge", [["issuer", "https://gatehouse.test"], ["scopes", ""],
//	    ["note", "naïve ☃ 𝄞"]]))                       // src/crypto/signing-input.ts
//	hex(challengeSigningInput({ ...the binding of TestChallengeSigningInput,
//	    scopes: ["orders:write", "orders:read"] }))    // src/challenges/signature/signing-input.ts
const (
	genericVector = "47415445484f5553452d534947007631006368616c6c656e676500697373756572000000001668747470733a2f2f67617465686f7573652e7465737473636f70657300000000006e6f7465000000000f6e61c3af766520e2988320f09d849e"

	challengeVector = "47415445484f5553452d534947007631006368616c6c656e676500697373756572000000001768747470733a2f2f67617465686f7573652e62656e63686368616c6c656e67655f6964000000002c5a6d3976596d4679596d4636635856346358563165474e76636d646c5a334a68645778305a3246796347783564696400000000456469643a6167656e743a62656e63682d6f70657261746f722e6578616d706c652e636f6d3a303132333435363738396162636465663031323334353637383961626364656663616c6c657200000000403966383664303831383834633764363539613266656161306335356164303135613362663466316232623062383232636431356436633135623066303061303873636f70657300000000186f72646572733a72656164206f72646572733a777269746561756469656e6365000000001768747470733a2f2f6170692e6578616d706c652e636f6d657870697265735f6174000000000d31373637323235363030313233"
)

// testBinding is the challenge of challengeVector; its scopes are out of order on purpose.
var testBinding = challengeBinding{
	issuer:      "https://gatehouse.bench",
	challengeID: "Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0Z2FycGx5",
	did:         "did:agent:bench-operator.example.com:0123456789abcdef0123456789abcdef",
	caller:      "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
	scopes:      []string{"orders:write", "orders:read"},
	audience:    "https://api.example.com",
	expiresAtMs: 1767225600123,
}

func TestSigningInputMatchesTypeScript(t *testing.T) {
	got := appendSigningInput(nil, "challenge",
		signingField{"issuer", "https://gatehouse.test"},
		signingField{"scopes", ""},
		signingField{"note", "naïve ☃ 𝄞"}, // lengths are UTF-8 bytes, not characters
	)
	if hex.EncodeToString(got) != genericVector {
		t.Fatalf("signing input\n got %x\nwant %s", got, genericVector)
	}
}

func TestChallengeSigningInput(t *testing.T) {
	got := challengeSigningInput(testBinding)
	if hex.EncodeToString(got) != challengeVector {
		t.Fatalf("challenge signing input\n got %x\nwant %s", got, challengeVector)
	}
}
