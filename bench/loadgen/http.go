package main

// HTTP mode (--http URL): the same closed loop over HTTP/2 with TLS, for the HTTP sidecar's
// routes, so they are measured with the same generator as the gRPC runs they are compared
// with. One request, repeated: --http-method, --http-headers (a file, one NAME: VALUE per
// line), --http-body (a file). Each worker uses connection slot mod N (an http.Transport of its own, HTTP/2 only,
// so one multiplexed connection each, like a grpc.ClientConn). A response counts as correct
// only when it came over HTTP/2 with --expect-status, every --expect-header NAME=VALUE and,
// when given, a body containing --expect-body.

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

// httpSpec is the one request of an HTTP run and what a correct answer looks like.
type httpSpec struct {
	url          string
	method       string
	header       http.Header
	body         []byte
	status       int
	expectHeader [][2]string
	bodyContains []byte
}

// parseHTTPSpec builds the request and its checks from the flags' values.
func parseHTTPSpec(rawURL, method string, headers, expectHeaders []string, bodyFile string, status int, bodyContains string) (*httpSpec, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("--http %q: an https URL is required", rawURL)
	}
	if method == "" {
		return nil, errors.New("--http-method is required")
	}
	if status < 100 || status > 599 {
		return nil, fmt.Errorf("--expect-status %d: an HTTP status is required", status)
	}
	s := &httpSpec{url: rawURL, method: method, header: http.Header{}, status: status, bodyContains: []byte(bodyContains)}
	for _, h := range headers {
		name, value, ok := strings.Cut(h, ":")
		if !ok || strings.TrimSpace(name) == "" {
			return nil, fmt.Errorf("request header %q: NAME: VALUE", h)
		}
		s.header.Add(strings.TrimSpace(name), strings.TrimSpace(value))
	}
	for _, h := range expectHeaders {
		name, value, ok := strings.Cut(h, "=")
		if !ok || name == "" {
			return nil, fmt.Errorf("--expect-header %q: NAME=VALUE", h)
		}
		s.expectHeader = append(s.expectHeader, [2]string{name, value})
	}
	if bodyFile != "" {
		if s.body, err = os.ReadFile(bodyFile); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// readHeaderLines reads --http-headers: one NAME: VALUE per non-empty line ("" reads none).
func readHeaderLines(path string) ([]string, error) {
	if path == "" {
		return nil, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var lines []string
	for _, line := range strings.Split(string(data), "\n") {
		if line = strings.TrimRight(line, "\r"); line != "" {
			lines = append(lines, line)
		}
	}
	return lines, nil
}

// problem is what is wrong with one answer ("" when it is correct).
func (s *httpSpec) problem(resp *http.Response, body []byte) string {
	if resp.ProtoMajor != 2 {
		return fmt.Sprintf("answered over %s, not HTTP/2", resp.Proto)
	}
	if resp.StatusCode != s.status {
		return fmt.Sprintf("status %d", resp.StatusCode)
	}
	for _, h := range s.expectHeader {
		if got := resp.Header.Get(h[0]); got != h[1] {
			return fmt.Sprintf("header %s: got %q", h[0], got)
		}
	}
	if len(s.bodyContains) > 0 && !bytes.Contains(body, s.bodyContains) {
		return fmt.Sprintf("body lacks %q", s.bodyContains)
	}
	return ""
}

// do sends the request once on client and checks the answer.
func (s *httpSpec) do(ctx context.Context, client *http.Client) string {
	req, err := http.NewRequestWithContext(ctx, s.method, s.url, bytes.NewReader(s.body))
	if err != nil {
		return err.Error()
	}
	req.Header = s.header.Clone()
	resp, err := client.Do(req)
	if err != nil {
		var failed *url.Error
		if errors.As(err, &failed) {
			err = failed.Err // without the URL: one error kind per cause
		}
		return "http: " + err.Error()
	}
	body, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		return "reading the body: " + err.Error()
	}
	return s.problem(resp, body)
}

// dialHTTP makes the --connections clients (HTTP/2 only, a connection each) and sends one
// checked request on each, so no phase pays for a handshake. The client certificate is
// optional (a forward-auth caller has none); the CA is required.
func dialHTTP(o *options, s *httpSpec) ([]*http.Client, error) {
	caPEM, err := os.ReadFile(o.caFile)
	if err != nil {
		return nil, err
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(caPEM) {
		return nil, errors.New("no CA certificate")
	}
	config := &tls.Config{RootCAs: roots, ServerName: o.serverName, MinVersion: tls.VersionTLS12}
	if o.certFile != "" {
		cert, err := tls.LoadX509KeyPair(o.certFile, o.keyFile)
		if err != nil {
			return nil, err
		}
		config.Certificates = []tls.Certificate{cert}
	}
	ctx, cancel := context.WithTimeout(context.Background(), dialTimeout)
	defer cancel()
	clients := make([]*http.Client, 0, o.connections)
	for range o.connections {
		protocols := new(http.Protocols)
		protocols.SetHTTP2(true)
		transport := &http.Transport{
			TLSClientConfig:    config.Clone(),
			Protocols:          protocols,
			DisableCompression: true,
			IdleConnTimeout:    time.Minute,
		}
		client := &http.Client{Transport: transport}
		if problem := s.do(ctx, client); problem != "" {
			transport.CloseIdleConnections()
			closeHTTP(clients)
			return nil, fmt.Errorf("first request on connection %d: %s", len(clients)+1, problem)
		}
		clients = append(clients, client)
	}
	return clients, nil
}

func closeHTTP(clients []*http.Client) {
	for _, c := range clients {
		c.CloseIdleConnections()
	}
}

func runHTTP(o *options, s *httpSpec) error {
	clients, err := dialHTTP(o, s)
	if err != nil {
		return err
	}
	defer closeHTTP(clients)
	return phases(o, func(name, requestsFile string, d time.Duration) (Result, error) {
		if requestsFile != "" {
			return Result{}, errors.New("HTTP mode: 'measure' takes no file")
		}
		return runPhase(name, o.concurrency, d, o.drain, func(ctx context.Context, slot, _ int) (string, bool) {
			return s.do(ctx, clients[slot%len(clients)]), true
		}), nil
	})
}
