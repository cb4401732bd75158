// Command loadgen is the Gatehouse bench's closed-loop unary gRPC load generator: C calls in
// flight over N mutual-TLS connections, requests as raw protobuf bytes (no generated code),
// every response checked; a wrong answer or an RPC error is an error, never a success.
//
// Requests file: one or more bodies, each a 4-byte big-endian length then that many bytes.
// With --once each body is sent exactly once (e.g. DPoP requests, a fresh proof each) and a
// worker stops when none is left; otherwise the bodies are sent round-robin.
//
// Output (stdout): one JSON line per phase ("warmup", then "measured"). With --control, after
// the warm-up line the tool waits for a line on stdin, "measure" or "measure FILE" (a new
// requests file for the measured phase), so the caller can sample the server and prepare
// fresh requests in between without the connections going cold.
package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"
)

// rawCodec passes []byte through: requests are pre-serialized, responses checked as bytes.
type rawCodec struct{}

func (rawCodec) Marshal(v any) ([]byte, error) {
	if b, ok := v.(*[]byte); ok {
		return *b, nil
	}
	return nil, fmt.Errorf("rawCodec: cannot marshal %T", v)
}

func (rawCodec) Unmarshal(data []byte, v any) error {
	b, ok := v.(*[]byte)
	if !ok {
		return fmt.Errorf("rawCodec: cannot unmarshal into %T", v)
	}
	*b = append((*b)[:0], data...)
	return nil
}

// Name is the content-subtype: "application/grpc+proto", as any protobuf client sends.
func (rawCodec) Name() string { return "proto" }

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, " ") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

type options struct {
	addr, serverName, certFile, keyFile, caFile string
	method, requestsFile                        string
	once, control                               bool
	connections, concurrency, procs             int
	warmup, duration, drain                     time.Duration
	checker                                     Checker
}

func parseFlags() (*options, error) {
	o := &options{}
	var expects, reports multiFlag
	var exact, prefix string
	flag.StringVar(&o.addr, "addr", "", "server host:port (required)")
	flag.StringVar(&o.serverName, "server-name", "localhost", "TLS server name to verify")
	flag.StringVar(&o.certFile, "cert", "", "client certificate PEM (required)")
	flag.StringVar(&o.keyFile, "key", "", "client key PEM (required)")
	flag.StringVar(&o.caFile, "ca", "", "CA certificate PEM (required)")
	flag.StringVar(&o.method, "method", "", "full method, /package.Service/Method (required)")
	flag.StringVar(&o.requestsFile, "requests", "", "length-prefixed request bodies (required)")
	flag.BoolVar(&o.once, "once", false, "send each body once; a worker stops when none is left")
	flag.BoolVar(&o.control, "control", false, "after the warm-up, wait for 'measure [FILE]' on stdin")
	flag.IntVar(&o.connections, "connections", 4, "connections (a TLS/HTTP2 connection each)")
	flag.IntVar(&o.concurrency, "concurrency", 64, "calls in flight")
	flag.IntVar(&o.procs, "procs", 1, "GOMAXPROCS (1: one client core)")
	flag.DurationVar(&o.warmup, "warmup", 2*time.Second, "warm-up duration (0: none)")
	flag.DurationVar(&o.duration, "duration", 10*time.Second, "measured duration")
	flag.DurationVar(&o.drain, "drain", 5*time.Second, "after a phase, how long in-flight calls may take")
	flag.Var(&expects, "expect-field", "response field check, PATH=VALUE or PATH{PATH=VALUE,...} (repeatable)")
	flag.StringVar(&exact, "expect-hex", "", "the response must be exactly these bytes (hex)")
	flag.StringVar(&prefix, "expect-prefix", "", "the response must start with these bytes (hex)")
	flag.Var(&reports, "report-field", "field path whose value is added to a wrong answer's kind (repeatable)")
	flag.Parse()
	if o.addr == "" || o.certFile == "" || o.keyFile == "" || o.caFile == "" || o.method == "" || o.requestsFile == "" {
		return nil, errors.New("--addr, --cert, --key, --ca, --method and --requests are required")
	}
	if o.connections < 1 || o.concurrency < 1 || o.procs < 1 || o.duration <= 0 {
		return nil, errors.New("--connections, --concurrency, --procs and --duration must be positive")
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

// readBodies reads a requests file: 4-byte big-endian length, body; repeated.
func readBodies(path string) ([][]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var bodies [][]byte
	for len(data) > 0 {
		if len(data) < 4 {
			return nil, fmt.Errorf("%s: truncated length prefix", path)
		}
		n := binary.BigEndian.Uint32(data)
		if uint64(len(data)-4) < uint64(n) {
			return nil, fmt.Errorf("%s: truncated body", path)
		}
		bodies = append(bodies, data[4:4+n])
		data = data[4+n:]
	}
	if len(bodies) == 0 {
		return nil, fmt.Errorf("%s: no request bodies", path)
	}
	return bodies, nil
}

func dial(o *options) ([]*grpc.ClientConn, error) {
	cert, err := tls.LoadX509KeyPair(o.certFile, o.keyFile)
	if err != nil {
		return nil, err
	}
	caPem, err := os.ReadFile(o.caFile)
	if err != nil {
		return nil, err
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(caPem) {
		return nil, fmt.Errorf("%s: no CA certificate", o.caFile)
	}
	creds := credentials.NewTLS(&tls.Config{
		Certificates: []tls.Certificate{cert},
		RootCAs:      roots,
		ServerName:   o.serverName,
		MinVersion:   tls.VersionTLS12,
	})
	conns := make([]*grpc.ClientConn, 0, o.connections)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for range o.connections {
		// Each ClientConn is a connection of its own.
		conn, err := grpc.NewClient(o.addr,
			grpc.WithTransportCredentials(creds),
			grpc.WithDefaultCallOptions(grpc.ForceCodec(rawCodec{})),
		)
		if err != nil {
			return nil, err
		}
		conns = append(conns, conn)
		conn.Connect()
		for state := conn.GetState(); state != connectivity.Ready; state = conn.GetState() {
			if !conn.WaitForStateChange(ctx, state) {
				return nil, fmt.Errorf("connection to %s not ready: %s", o.addr, state)
			}
		}
	}
	return conns, nil
}

// Result is one phase, as printed.
type Result struct {
	Phase      string         `json:"phase"`
	Sent       int64          `json:"sent"`
	Correct    int64          `json:"correct"`
	Errors     int64          `json:"errors"`
	ErrorKinds map[string]int `json:"errorKinds"`
	// From the first call to the last answer.
	ElapsedMs float64 `json:"elapsedMs"`
	// Correct answers per second.
	Rps float64 `json:"rps"`
	// Latency of the correct answers; percentile = the value at rank ceil(p/100 × count).
	P50Ms  float64 `json:"p50Ms"`
	P90Ms  float64 `json:"p90Ms"`
	P99Ms  float64 `json:"p99Ms"`
	P999Ms float64 `json:"p999Ms"`
	MaxMs  float64 `json:"maxMs"`
	MeanMs float64 `json:"meanMs"`
	// User + system CPU of this process over the phase, µs and percent of one core.
	ClientCpuMicros int64   `json:"clientCpuMicros"`
	ClientCpu       float64 `json:"clientCpu"`
	// Bodies available (--once) and whether workers stopped early for lack of one.
	Bodies    int  `json:"bodies"`
	Exhausted bool `json:"exhausted"`
	Procs     int  `json:"procs"`
}

type worker struct {
	sent, correct int64
	latencies     []int64 // ns
	errorKinds    map[string]int
	lastAnswer    time.Time
	exhausted     bool
}

func cpuMicros() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano()/1000 + ru.Stime.Nano()/1000
}

func runPhase(name string, o *options, conns []*grpc.ClientConn, bodies [][]byte, d time.Duration) Result {
	workers := make([]worker, o.concurrency)
	var next atomic.Int64
	ctx, cancel := context.WithTimeout(context.Background(), d+o.drain)
	defer cancel()
	runtime.GC()
	cpuBefore := cpuMicros()
	start := time.Now()
	stopAt := start.Add(d)
	var wg sync.WaitGroup
	for slot := range workers {
		wg.Add(1)
		go func(w *worker, conn *grpc.ClientConn) {
			defer wg.Done()
			w.errorKinds = map[string]int{}
			w.latencies = make([]int64, 0, 4096)
			var resp []byte
			for i := slot; ; i += o.concurrency {
				var req []byte
				if o.once {
					k := next.Add(1) - 1
					if k >= int64(len(bodies)) {
						w.exhausted = true
						return
					}
					req = bodies[k]
				} else {
					req = bodies[i%len(bodies)]
				}
				began := time.Now()
				w.sent++
				err := conn.Invoke(ctx, o.method, &req, &resp)
				now := time.Now()
				w.lastAnswer = now
				if err != nil {
					st := status.Convert(err)
					w.errorKinds[fmt.Sprintf("%s: %s", st.Code(), st.Message())]++
				} else if p := o.checker.Problem(resp); p != "" {
					w.errorKinds[p]++
				} else {
					w.correct++
					w.latencies = append(w.latencies, now.Sub(began).Nanoseconds())
				}
				if !now.Before(stopAt) {
					return
				}
			}
		}(&workers[slot], conns[slot%len(conns)])
	}
	wg.Wait()
	cpu := cpuMicros() - cpuBefore
	r := Result{Phase: name, ErrorKinds: map[string]int{}, Procs: runtime.GOMAXPROCS(0)}
	if o.once {
		r.Bodies = len(bodies)
	}
	end := start
	var all []int64
	for i := range workers {
		w := &workers[i]
		r.Sent += w.sent
		r.Correct += w.correct
		for k, n := range w.errorKinds {
			r.ErrorKinds[k] += n
		}
		if w.lastAnswer.After(end) {
			end = w.lastAnswer
		}
		r.Exhausted = r.Exhausted || w.exhausted
		all = append(all, w.latencies...)
	}
	r.Errors = r.Sent - r.Correct
	elapsed := end.Sub(start)
	r.ElapsedMs = float64(elapsed.Nanoseconds()) / 1e6
	if elapsed > 0 {
		r.Rps = round(float64(r.Correct)/elapsed.Seconds(), 0)
		r.ClientCpu = round(float64(cpu)/float64(elapsed.Microseconds())*100, 0)
	}
	r.ClientCpuMicros = cpu
	slices.Sort(all)
	pct := func(p float64) float64 {
		if len(all) == 0 {
			return 0
		}
		rank := max(1, int(math.Ceil(p/100*float64(len(all)))))
		return round(float64(all[rank-1])/1e6, 3)
	}
	r.P50Ms, r.P90Ms, r.P99Ms, r.P999Ms, r.MaxMs = pct(50), pct(90), pct(99), pct(99.9), pct(100)
	if len(all) > 0 {
		var sum int64
		for _, v := range all {
			sum += v
		}
		r.MeanMs = round(float64(sum)/float64(len(all))/1e6, 3)
	}
	return r
}

func round(v float64, digits int) float64 {
	f := math.Pow(10, float64(digits))
	return math.Round(v*f) / f
}

func emit(r Result) {
	b, err := json.Marshal(r)
	if err != nil {
		panic(err)
	}
	fmt.Println(string(b))
}

func run() error {
	o, err := parseFlags()
	if err != nil {
		return err
	}
	runtime.GOMAXPROCS(o.procs)
	bodies, err := readBodies(o.requestsFile)
	if err != nil {
		return err
	}
	conns, err := dial(o)
	if err != nil {
		return err
	}
	defer func() {
		for _, c := range conns {
			_ = c.Close()
		}
	}()
	if o.warmup > 0 || o.control {
		warm := runPhase("warmup", o, conns, bodies, o.warmup)
		if o.control {
			emit(warm)
		} else {
			fmt.Fprintf(os.Stderr, "warm-up: %d sent, %d correct, %.0f req/s\n", warm.Sent, warm.Correct, warm.Rps)
		}
	}
	if o.control {
		line, err := bufio.NewReader(os.Stdin).ReadString('\n')
		if err != nil {
			return fmt.Errorf("control: %w", err)
		}
		fields := strings.Fields(line)
		switch {
		case len(fields) == 1 && fields[0] == "measure":
		case len(fields) == 2 && fields[0] == "measure":
			if bodies, err = readBodies(fields[1]); err != nil {
				return err
			}
		default:
			return fmt.Errorf("control: want 'measure [FILE]', got %q", strings.TrimSpace(line))
		}
	}
	emit(runPhase("measured", o, conns, bodies, o.duration))
	return nil
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(2)
	}
}
