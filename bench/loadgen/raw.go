package main

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
)

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

// rawLoad is one phase of --method calls: the bodies round-robin, or each once (--once),
// worker slot on connection slot mod N.
type rawLoad struct {
	o      *options
	conns  []*grpc.ClientConn
	bodies [][]byte
	next   atomic.Int64 // the next unsent body, --once
	resps  [][]byte     // a response buffer per worker, reused
}

func newRawLoad(o *options, conns []*grpc.ClientConn, bodies [][]byte) *rawLoad {
	return &rawLoad{o: o, conns: conns, bodies: bodies, resps: make([][]byte, o.concurrency)}
}

func (l *rawLoad) step(ctx context.Context, slot, i int) (string, bool) {
	var req []byte
	if l.o.once {
		k := l.next.Add(1) - 1
		if k >= int64(len(l.bodies)) {
			return "", false
		}
		req = l.bodies[k]
	} else {
		req = l.bodies[i%len(l.bodies)]
	}
	if err := l.conns[slot%len(l.conns)].Invoke(ctx, l.o.method, &req, &l.resps[slot]); err != nil {
		return rpcProblem(err), true
	}
	return l.o.checker.Problem(l.resps[slot]), true
}

// runRawPhase runs one phase of --method calls on `bodies`.
func runRawPhase(name string, o *options, conns []*grpc.ClientConn, bodies [][]byte, d time.Duration) Result {
	r := runPhase(name, o.concurrency, d, o.drain, newRawLoad(o, conns, bodies).step)
	if o.once {
		r.Bodies = len(bodies)
	}
	return r
}
