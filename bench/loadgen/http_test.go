package main

import (
	"context"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// h2Server answers /ok with 200, the request's body echoed and an identity header; anything
// else with 401. HTTP/2 over TLS, as the sidecar serves.
func h2Server(t *testing.T) (*httptest.Server, string) {
	t.Helper()
	server := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/ok" || r.Header.Get("Authorization") != "Bearer t" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Gatehouse-Agent", "did:x:a")
		_, _ = w.Write(body)
	}))
	server.EnableHTTP2 = true
	server.StartTLS()
	t.Cleanup(server.Close)
	ca := filepath.Join(t.TempDir(), "ca.pem")
	block := &pem.Block{Type: "CERTIFICATE", Bytes: server.Certificate().Raw}
	if err := os.WriteFile(ca, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	return server, ca
}

func TestHTTPModeChecksEveryAnswer(t *testing.T) {
	server, ca := h2Server(t)
	bodyFile := filepath.Join(t.TempDir(), "body.json")
	if err := os.WriteFile(bodyFile, []byte(`{"allowed":true}`), 0o600); err != nil {
		t.Fatal(err)
	}
	spec := func(path string, expectHeader, expectBody string) *httpSpec {
		t.Helper()
		s, err := parseHTTPSpec(server.URL+path, "POST", []string{"authorization: Bearer t"},
			[]string{expectHeader}, bodyFile, 200, expectBody)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	o := &options{caFile: ca, serverName: "example.com", connections: 2}
	good := spec("/ok", "x-gatehouse-agent=did:x:a", `"allowed":true`)
	clients, err := dialHTTP(o, good)
	if err != nil {
		t.Fatal(err)
	}
	defer closeHTTP(clients)
	if len(clients) != 2 {
		t.Fatalf("%d clients, want 2", len(clients))
	}
	ctx := context.Background()
	if p := good.do(ctx, clients[0]); p != "" {
		t.Fatalf("a correct answer refused: %s", p)
	}
	cases := map[string]*httpSpec{
		"status 401":         spec("/other", "x-gatehouse-agent=did:x:a", ""),
		"header x-gatehouse": spec("/ok", "x-gatehouse-agent=did:x:b", ""),
		"body lacks":         spec("/ok", "x-gatehouse-agent=did:x:a", `"allowed":false`),
	}
	for want, s := range cases {
		if p := s.do(ctx, clients[1]); !strings.Contains(p, want) {
			t.Errorf("got %q, want it to say %q", p, want)
		}
	}
}

func TestHTTPHeadersFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "headers")
	if err := os.WriteFile(path, []byte("authorization: Bearer t\r\n\nx-a: b\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	lines, err := readHeaderLines(path)
	if err != nil || strings.Join(lines, "|") != "authorization: Bearer t|x-a: b" {
		t.Fatalf("got %q, %v", lines, err)
	}
}

func TestHTTPSpecFlags(t *testing.T) {
	for _, bad := range []struct{ url, header, expect string }{
		{"http://127.0.0.1:1/", "a: b", "n=v"},
		{"https://127.0.0.1:1/", "no colon", "n=v"},
		{"https://127.0.0.1:1/", "a: b", "no equals"},
	} {
		if _, err := parseHTTPSpec(bad.url, "GET", []string{bad.header}, []string{bad.expect}, "", 200, ""); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}
