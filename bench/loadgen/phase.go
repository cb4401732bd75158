package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"
	"syscall"
	"time"

	"google.golang.org/grpc/status"
)

// Result is one phase, as printed.
type Result struct {
	Phase      string         `json:"phase"`
	Sent       int64          `json:"sent"`
	Correct    int64          `json:"correct"`
	Errors     int64          `json:"errors"`
	ErrorKinds map[string]int `json:"errorKinds"`
	// From the first call to the last answer.
	ElapsedMs float64 `json:"elapsedMs"`
	// Correct answers (logins, in login mode) per second.
	Rps float64 `json:"rps"`
	// Latency of the correct answers (of a whole login, in login mode); percentile = the
	// value at rank ceil(p/100 × count).
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

// step does one unit of a worker's closed loop, one call or a whole login, and returns what
// was wrong with its outcome ("" when it was correct). i is slot, slot+workers, ...: the
// worker's share of one sequence. ok is false when the worker has nothing left to send
// (--once ran out of bodies): nothing was sent then.
type step func(ctx context.Context, slot, i int) (problem string, ok bool)

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

// runPhase runs `workers` closed loops of `do` for d; a unit still running after d+drain is
// cancelled (and counts as an error).
func runPhase(name string, workers int, d, drain time.Duration, do step) Result {
	ws := make([]worker, workers)
	ctx, cancel := context.WithTimeout(context.Background(), d+drain)
	defer cancel()
	runtime.GC()
	cpuBefore := cpuMicros()
	start := time.Now()
	stopAt := start.Add(d)
	var wg sync.WaitGroup
	for slot := range ws {
		wg.Add(1)
		go func(w *worker) {
			defer wg.Done()
			w.errorKinds = map[string]int{}
			w.latencies = make([]int64, 0, 4096)
			for i := slot; ; i += workers {
				began := time.Now()
				problem, ok := do(ctx, slot, i)
				if !ok {
					w.exhausted = true
					return
				}
				now := time.Now()
				w.sent++
				w.lastAnswer = now
				if problem != "" {
					w.errorKinds[problem]++
				} else {
					w.correct++
					w.latencies = append(w.latencies, now.Sub(began).Nanoseconds())
				}
				if !now.Before(stopAt) {
					return
				}
			}
		}(&ws[slot])
	}
	wg.Wait()
	return summarize(name, ws, start, cpuMicros()-cpuBefore)
}

func summarize(name string, ws []worker, start time.Time, cpu int64) Result {
	r := Result{Phase: name, ErrorKinds: map[string]int{}, Procs: runtime.GOMAXPROCS(0)}
	end := start
	var all []int64
	for i := range ws {
		w := &ws[i]
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

// rpcProblem is the error kind of a failed call: its gRPC code and message.
func rpcProblem(err error) string {
	st := status.Convert(err)
	return fmt.Sprintf("%s: %s", st.Code(), st.Message())
}
