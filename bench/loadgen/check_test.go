package main

import (
	"strings"
	"testing"
)

func checker(t *testing.T, exprs ...string) *Checker {
	t.Helper()
	c := &Checker{report: [][]int{{2}}}
	for _, e := range exprs {
		x, err := ParseExpectation(e)
		if err != nil {
			t.Fatal(err)
		}
		c.expects = append(c.expects, x)
	}
	return c
}

func TestVerifyResponse(t *testing.T) {
	c := checker(t, "1=1", "3=s:did:x:a")
	allowed := appendString(appendVarint(nil, 1, 1), 3, "did:x:a")
	if p := c.Problem(allowed); p != "" {
		t.Fatalf("allowed: %s", p)
	}
	denied := appendVarint(nil, 2, 7) // allowed absent = false, reason 7
	if p := c.Problem(denied); !strings.Contains(p, "1=1: got 0") || !strings.Contains(p, "field 2 = 7") {
		t.Fatalf("denied: %q", p)
	}
	other := appendString(appendVarint(nil, 1, 1), 3, "did:x:b")
	if c.Problem(other) == "" {
		t.Fatal("another agent accepted")
	}
	if c.Problem([]byte{0x0a, 0x05}) == "" {
		t.Fatal("truncated response accepted")
	}
}

func TestCheckResponse(t *testing.T) {
	c := checker(t, "1.1=0", "3.2.1{1=s:x-gatehouse-agent,2=s:did:x:a}")
	header := func(k, v string) []byte { return appendBytes(nil, 1, appendString(appendString(nil, 1, k), 2, v)) }
	ok := appendBytes(nil, 1, nil) // status {} = OK
	ok = appendBytes(ok, 3, append(appendBytes(nil, 2, header("x-gatehouse-scopes", "s")), appendBytes(nil, 2, header("x-gatehouse-agent", "did:x:a"))...))
	if p := c.Problem(ok); p != "" {
		t.Fatalf("ok: %s", p)
	}
	wrongPair := appendBytes(nil, 3, append(appendBytes(nil, 2, header("x-gatehouse-agent", "did:x:b")), appendBytes(nil, 2, header("other", "did:x:a"))...))
	if c.Problem(wrongPair) == "" {
		t.Fatal("key and value from different headers accepted")
	}
	denied := appendBytes(appendBytes(nil, 1, appendVarint(nil, 1, 16)), 2, nil)
	if p := c.Problem(denied); !strings.Contains(p, "1.1=0: got 16") {
		t.Fatalf("denied: %q", p)
	}
}

func TestExact(t *testing.T) {
	c := &Checker{exact: []byte{0x08, 0x01}, hasExact: true}
	if c.Problem([]byte{0x08, 0x01}) != "" || c.Problem([]byte{0x08, 0x02}) == "" || c.Problem(nil) == "" {
		t.Fatal("exact bytes check")
	}
}
