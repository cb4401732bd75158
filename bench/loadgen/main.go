// Command loadgen is the Gatehouse bench's closed-loop unary gRPC load generator: C calls in
// flight over N mutual-TLS connections, requests as raw protobuf bytes (no generated code),
// every response checked; a wrong answer or an RPC error is an error, never a success.
//
// Requests file: one or more bodies, each a 4-byte big-endian length then that many bytes.
// With --once each body is sent exactly once (e.g. DPoP requests, a fresh proof each) and a
// worker stops when none is left; otherwise the bodies are sent round-robin.
//
// Login mode (--logins FILE, instead of --method, --requests, the identity and the checks):
// whole agent logins, Challenge → Submit → Token, one in flight per agent of FILE, each on
// its own connection with its own certificate (login.go); a login is one unit of the figures.
// With --grant assertion, the one-RPC grant instead: Token with a fresh RFC 7523 assertion
// per call (assertion.go).
//
// HTTP mode (--http URL, instead of --method and --requests): one HTTP/2 request repeated,
// its answer checked by status, headers and body (http.go); --cert and --key are optional.
//
// Output (stdout): one JSON line per phase ("warmup", then "measured"). With --control, after
// the warm-up line the tool waits for a line on stdin, "measure" or "measure FILE" (a new
// requests file for the measured phase), so the caller can sample the server and prepare
// fresh requests in between without the connections going cold.
package main

import (
	"bufio"
	"context"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime"
	"strings"
	"time"

	"google.golang.org/grpc"
)

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, " ") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

type options struct {
	addr, serverName, certFile, keyFile, caFile string
	method, requestsFile, loginsFile, grant     string
	http                                        *httpSpec
	once, control                               bool
	connections, concurrency, procs             int
	warmup, duration, drain                     time.Duration
	checker                                     Checker
}

func parseFlags() (*options, error) {
	o := &options{}
	var expects, reports, expectHeaders multiFlag
	var exact, prefix, httpURL, httpMethod, httpHeaders, httpBody, expectBody string
	var expectStatus int
	flag.StringVar(&o.addr, "addr", "", "server host:port (required)")
	flag.StringVar(&o.serverName, "server-name", "localhost", "TLS server name to verify")
	flag.StringVar(&o.certFile, "cert", "", "client certificate PEM (required)")
	flag.StringVar(&o.keyFile, "key", "", "client key PEM (required)")
	flag.StringVar(&o.caFile, "ca", "", "CA certificate PEM (required)")
	flag.StringVar(&o.method, "method", "", "full method, /package.Service/Method (required)")
	flag.StringVar(&o.requestsFile, "requests", "", "length-prefixed request bodies (required)")
	flag.StringVar(&o.loginsFile, "logins", "", "login mode: the agents file (JSON, see login.go); replaces the flags marked required and the checks")
	flag.StringVar(&o.grant, "grant", "login", "with --logins: login (Challenge → Submit → Token) or assertion (Token with an RFC 7523 assertion)")
	flag.BoolVar(&o.once, "once", false, "send each body once; a worker stops when none is left")
	flag.BoolVar(&o.control, "control", false, "after the warm-up, wait for 'measure [FILE]' on stdin")
	flag.IntVar(&o.connections, "connections", 4, "connections (a TLS/HTTP2 connection each; login mode: one per agent)")
	flag.IntVar(&o.concurrency, "concurrency", 64, "calls in flight (login mode: one login per agent)")
	flag.IntVar(&o.procs, "procs", 1, "GOMAXPROCS (1: one client core)")
	flag.DurationVar(&o.warmup, "warmup", 2*time.Second, "warm-up duration (0: none)")
	flag.DurationVar(&o.duration, "duration", 10*time.Second, "measured duration")
	flag.DurationVar(&o.drain, "drain", 5*time.Second, "after a phase, how long in-flight calls may take")
	flag.Var(&expects, "expect-field", "response field check, PATH=VALUE or PATH{PATH=VALUE,...} (repeatable)")
	flag.StringVar(&exact, "expect-hex", "", "the response must be exactly these bytes (hex)")
	flag.StringVar(&prefix, "expect-prefix", "", "the response must start with these bytes (hex)")
	flag.Var(&reports, "report-field", "field path whose value is added to a wrong answer's kind (repeatable)")
	flag.StringVar(&httpURL, "http", "", "HTTP mode: the https URL to request (replaces --method and --requests)")
	flag.StringVar(&httpMethod, "http-method", "GET", "HTTP mode: the request method")
	flag.StringVar(&httpHeaders, "http-headers", "", "HTTP mode: a file of request headers, one NAME: VALUE per line (a file, not flags: they may carry credentials)")
	flag.StringVar(&httpBody, "http-body", "", "HTTP mode: a file holding the request body")
	flag.IntVar(&expectStatus, "expect-status", 200, "HTTP mode: the status of a correct answer")
	flag.Var(&expectHeaders, "expect-header", "HTTP mode: a response header of a correct answer, NAME=VALUE (repeatable)")
	flag.StringVar(&expectBody, "expect-body", "", "HTTP mode: a correct answer's body contains this")
	flag.Parse()
	if o.procs < 1 || o.duration <= 0 {
		return nil, errors.New("--procs and --duration must be positive")
	}
	if o.loginsFile != "" {
		if o.addr == "" || o.once {
			return nil, errors.New("login mode: --addr is required, --once does not apply")
		}
		return o, nil
	}
	if httpURL != "" {
		if o.caFile == "" || (o.certFile == "") != (o.keyFile == "") {
			return nil, errors.New("HTTP mode: --ca is required, --cert and --key go together")
		}
		if o.connections < 1 || o.concurrency < 1 {
			return nil, errors.New("--connections and --concurrency must be positive")
		}
		headers, err := readHeaderLines(httpHeaders)
		if err != nil {
			return nil, err
		}
		o.http, err = parseHTTPSpec(httpURL, httpMethod, headers, expectHeaders, httpBody, expectStatus, expectBody)
		return o, err
	}
	if o.addr == "" || o.certFile == "" || o.keyFile == "" || o.caFile == "" || o.method == "" || o.requestsFile == "" {
		return nil, errors.New("--addr, --cert, --key, --ca, --method and --requests are required")
	}
	if o.connections < 1 || o.concurrency < 1 {
		return nil, errors.New("--connections and --concurrency must be positive")
	}
	for _, e := range expects {
		x, err := ParseExpectation(e)
		if err != nil {
			return nil, fmt.Errorf("--expect-field %w", err)
		}
		o.checker.expects = append(o.checker.expects, x)
	}
	for _, r := range reports {
		p, err := parsePath(r)
		if err != nil {
			return nil, fmt.Errorf("--report-field %w", err)
		}
		o.checker.report = append(o.checker.report, p)
	}
	var err error
	if exact != "" {
		if o.checker.exact, err = hex.DecodeString(exact); err != nil {
			return nil, fmt.Errorf("--expect-hex: %w", err)
		}
		o.checker.hasExact = true
	}
	if prefix != "" {
		if o.checker.prefix, err = hex.DecodeString(prefix); err != nil {
			return nil, fmt.Errorf("--expect-prefix: %w", err)
		}
	}
	if !o.checker.hasExact && o.checker.prefix == nil && len(o.checker.expects) == 0 {
		return nil, errors.New("give at least one of --expect-field, --expect-hex, --expect-prefix")
	}
	return o, nil
}

// dialRaw opens the --connections connections, all with the --cert identity.
func dialRaw(o *options) ([]*grpc.ClientConn, error) {
	files := make([][]byte, 3)
	for i, path := range []string{o.certFile, o.keyFile, o.caFile} {
		var err error
		if files[i], err = os.ReadFile(path); err != nil {
			return nil, err
		}
	}
	creds, err := clientTLS(files[0], files[1], files[2], o.serverName)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), dialTimeout)
	defer cancel()
	conns := make([]*grpc.ClientConn, 0, o.connections)
	for range o.connections {
		conn, err := dial(ctx, o.addr, creds)
		if err != nil {
			closeAll(conns)
			return nil, err
		}
		conns = append(conns, conn)
	}
	return conns, nil
}

func closeAll(conns []*grpc.ClientConn) {
	for _, c := range conns {
		_ = c.Close()
	}
}

// phases runs the warm-up and the measured phase of a mode: phase runs one of them, given
// the requests file of the control line (raw mode only; "" when there is none).
func phases(o *options, phase func(name, requestsFile string, d time.Duration) (Result, error)) error {
	if o.warmup > 0 || o.control {
		warm, err := phase("warmup", "", o.warmup)
		if err != nil {
			return err
		}
		if o.control {
			emit(warm)
		} else {
			fmt.Fprintf(os.Stderr, "warm-up: %d sent, %d correct, %.0f req/s\n", warm.Sent, warm.Correct, warm.Rps)
		}
	}
	requestsFile := ""
	if o.control {
		line, err := bufio.NewReader(os.Stdin).ReadString('\n')
		if err != nil {
			return fmt.Errorf("control: %w", err)
		}
		fields := strings.Fields(line)
		switch {
		case len(fields) == 1 && fields[0] == "measure":
		case len(fields) == 2 && fields[0] == "measure":
			requestsFile = fields[1]
		default:
			return fmt.Errorf("control: want 'measure [FILE]', got %q", strings.TrimSpace(line))
		}
	}
	measured, err := phase("measured", requestsFile, o.duration)
	if err != nil {
		return err
	}
	emit(measured)
	return nil
}

func runRaw(o *options) error {
	bodies, err := readBodies(o.requestsFile)
	if err != nil {
		return err
	}
	conns, err := dialRaw(o)
	if err != nil {
		return err
	}
	defer closeAll(conns)
	return phases(o, func(name, requestsFile string, d time.Duration) (Result, error) {
		if requestsFile != "" {
			if bodies, err = readBodies(requestsFile); err != nil {
				return Result{}, err
			}
		}
		return runRawPhase(name, o, conns, bodies, d), nil
	})
}

func runLogins(o *options) error {
	logins, err := openLogins(o.loginsFile, o.addr, o.serverName)
	if err != nil {
		return err
	}
	defer logins.close()
	if o.grant != "login" && o.grant != "assertion" {
		return fmt.Errorf("--grant %q: login or assertion", o.grant)
	}
	if o.grant == "assertion" && logins.issuer == "" {
		return errors.New("--grant assertion: the agents file names no issuer")
	}
	return phases(o, func(name, requestsFile string, d time.Duration) (Result, error) {
		if requestsFile != "" {
			return Result{}, errors.New("login mode: 'measure' takes no file")
		}
		step := logins.step
		if o.grant == "assertion" {
			step = logins.assertionStep
		}
		return runPhase(name, len(logins.agents), d, o.drain, step), nil
	})
}

func run() error {
	o, err := parseFlags()
	if err != nil {
		return err
	}
	runtime.GOMAXPROCS(o.procs)
	if o.loginsFile != "" {
		return runLogins(o)
	}
	if o.http != nil {
		return runHTTP(o, o.http)
	}
	return runRaw(o)
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(2)
	}
}
