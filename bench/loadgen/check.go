package main

// Response checks on raw protobuf bytes, without generated code:
//
//	PATH=VALUE        the field at PATH (dot-separated field numbers through embedded
//	                  messages) equals VALUE; proto3 semantics: the last occurrence wins and
//	                  an absent field is its default (0, "", empty bytes)
//	PATH{C1,C2,...}   some occurrence of the (repeated) message at PATH satisfies every
//	                  Ci, each a PATH=VALUE relative to that message
//
// VALUE: a decimal integer (varint field), s:TEXT (string), x:HEX (bytes).
// Examples: "1=1" (Verify allowed, Health SERVING), "3=s:did:web:..." (Verify agent_did),
// "1.1=0" (CheckResponse status.code OK), "3.2.1{1=s:x-gatehouse-agent,2=s:did:...}"
// (an ok_response header with that key and value).

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

type wireType int

const (
	wireVarint wireType = 0
	wireI64    wireType = 1
	wireLen    wireType = 2
	wireI32    wireType = 5
)

// fieldValue is one occurrence of a field: the varint (or fixed) value, or the bytes.
type fieldValue struct {
	wire  wireType
	num   uint64
	bytes []byte
}

// eachField calls fn for every top-level field of msg, in wire order.
func eachField(msg []byte, fn func(field int, v fieldValue)) error {
	for len(msg) > 0 {
		tag, n := binary.Uvarint(msg)
		if n <= 0 {
			return errors.New("bad tag")
		}
		msg = msg[n:]
		field, wt := int(tag>>3), wireType(tag&7)
		switch wt {
		case wireVarint:
			v, n := binary.Uvarint(msg)
			if n <= 0 {
				return errors.New("bad varint")
			}
			msg = msg[n:]
			fn(field, fieldValue{wire: wt, num: v})
		case wireI64:
			if len(msg) < 8 {
				return errors.New("truncated fixed64")
			}
			fn(field, fieldValue{wire: wt, num: binary.LittleEndian.Uint64(msg)})
			msg = msg[8:]
		case wireI32:
			if len(msg) < 4 {
				return errors.New("truncated fixed32")
			}
			fn(field, fieldValue{wire: wt, num: uint64(binary.LittleEndian.Uint32(msg))})
			msg = msg[4:]
		case wireLen:
			l, n := binary.Uvarint(msg)
			if n <= 0 || uint64(len(msg)-n) < l {
				return errors.New("truncated length-delimited field")
			}
			fn(field, fieldValue{wire: wt, bytes: msg[n : n+int(l)]})
			msg = msg[n+int(l):]
		default:
			return fmt.Errorf("unsupported wire type %d", wt)
		}
	}
	return nil
}

// occurrences returns every occurrence of the field at path (through every occurrence of
// the embedded messages on the way), in wire order.
func occurrences(msg []byte, path []int) ([]fieldValue, error) {
	var out []fieldValue
	var walkErr error
	err := eachField(msg, func(field int, v fieldValue) {
		if field != path[0] || walkErr != nil {
			return
		}
		if len(path) == 1 {
			out = append(out, v)
			return
		}
		if v.wire != wireLen {
			walkErr = fmt.Errorf("field %d is not a message", field)
			return
		}
		inner, err := occurrences(v.bytes, path[1:])
		if err != nil {
			walkErr = err
			return
		}
		out = append(out, inner...)
	})
	if err != nil {
		return nil, err
	}
	return out, walkErr
}

type valueCheck struct {
	path  []int
	text  string // as given, for messages
	isNum bool
	num   uint64
	want  []byte
}

type elementCheck struct {
	path []int
	text string
	subs []valueCheck
}

// Expectation is one command-line check.
type Expectation struct {
	value   *valueCheck
	element *elementCheck
}

func parsePath(s string) ([]int, error) {
	if s == "" {
		return nil, errors.New("empty field path")
	}
	parts := strings.Split(s, ".")
	path := make([]int, len(parts))
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("bad field number %q", p)
		}
		path[i] = n
	}
	return path, nil
}

func parseValueCheck(s string) (valueCheck, error) {
	eq := strings.IndexByte(s, '=')
	if eq < 0 {
		return valueCheck{}, fmt.Errorf("%q: want PATH=VALUE", s)
	}
	path, err := parsePath(s[:eq])
	if err != nil {
		return valueCheck{}, fmt.Errorf("%q: %w", s, err)
	}
	c := valueCheck{path: path, text: s}
	raw := s[eq+1:]
	switch {
	case strings.HasPrefix(raw, "s:"):
		c.want = []byte(raw[2:])
	case strings.HasPrefix(raw, "x:"):
		if c.want, err = hex.DecodeString(raw[2:]); err != nil {
			return valueCheck{}, fmt.Errorf("%q: %w", s, err)
		}
	default:
		if c.num, err = strconv.ParseUint(raw, 10, 64); err != nil {
			return valueCheck{}, fmt.Errorf("%q: value must be an integer, s:TEXT or x:HEX", s)
		}
		c.isNum = true
	}
	return c, nil
}

// ParseExpectation parses one --expect-field argument.
func ParseExpectation(s string) (Expectation, error) {
	open := strings.IndexByte(s, '{')
	if open < 0 {
		c, err := parseValueCheck(s)
		return Expectation{value: &c}, err
	}
	if !strings.HasSuffix(s, "}") {
		return Expectation{}, fmt.Errorf("%q: missing }", s)
	}
	path, err := parsePath(s[:open])
	if err != nil {
		return Expectation{}, fmt.Errorf("%q: %w", s, err)
	}
	e := &elementCheck{path: path, text: s}
	for _, part := range strings.Split(s[open+1:len(s)-1], ",") {
		c, err := parseValueCheck(part)
		if err != nil {
			return Expectation{}, err
		}
		e.subs = append(e.subs, c)
	}
	return Expectation{element: e}, nil
}

// problem is "" when the value check holds on msg.
func (c *valueCheck) problem(msg []byte) (string, error) {
	all, err := occurrences(msg, c.path)
	if err != nil {
		return "", err
	}
	if c.isNum {
		var got uint64
		if len(all) > 0 {
			last := all[len(all)-1]
			if last.wire == wireLen {
				return fmt.Sprintf("%s: field is length-delimited", c.text), nil
			}
			got = last.num
		}
		if got != c.num {
			return fmt.Sprintf("%s: got %d", c.text, got), nil
		}
		return "", nil
	}
	var got []byte
	if len(all) > 0 {
		last := all[len(all)-1]
		if last.wire != wireLen {
			return fmt.Sprintf("%s: field is not length-delimited", c.text), nil
		}
		got = last.bytes
	}
	if !bytes.Equal(got, c.want) {
		return fmt.Sprintf("%s: got %q", c.text, truncate(got, 64)), nil
	}
	return "", nil
}

func (e Expectation) problem(msg []byte) (string, error) {
	if e.value != nil {
		return e.value.problem(msg)
	}
	all, err := occurrences(msg, e.element.path)
	if err != nil {
		return "", err
	}
	for _, occ := range all {
		if occ.wire != wireLen {
			continue
		}
		ok := true
		for i := range e.element.subs {
			p, err := e.element.subs[i].problem(occ.bytes)
			if err != nil || p != "" {
				ok = false
				break
			}
		}
		if ok {
			return "", nil
		}
	}
	return fmt.Sprintf("%s: no such element among %d", e.element.text, len(all)), nil
}

func truncate(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}

// Checker holds every check on a response; the response is correct when all hold.
type Checker struct {
	exact, prefix []byte
	hasExact      bool
	expects       []Expectation
	// Fields whose values are added to a wrong answer's kind (e.g. Verify's reason, 2).
	report [][]int
}

// Problem is "" for a correct response, otherwise what is wrong with it (a short, stable
// error kind: no per-call details beyond the checked values).
func (c *Checker) Problem(resp []byte) string {
	if c.hasExact && !bytes.Equal(resp, c.exact) {
		return c.withReport(resp, fmt.Sprintf("not the expected bytes (got %x)", truncate(resp, 32)))
	}
	if c.prefix != nil && !bytes.HasPrefix(resp, c.prefix) {
		return c.withReport(resp, fmt.Sprintf("not the expected prefix (got %x)", truncate(resp, 32)))
	}
	for _, e := range c.expects {
		p, err := e.problem(resp)
		if err != nil {
			return "wrong answer: undecodable response: " + err.Error()
		}
		if p != "" {
			return c.withReport(resp, p)
		}
	}
	return ""
}

func (c *Checker) withReport(resp []byte, problem string) string {
	s := "wrong answer: " + problem
	for _, path := range c.report {
		all, err := occurrences(resp, path)
		if err != nil || len(all) == 0 {
			s += fmt.Sprintf("; field %s absent", pathString(path))
			continue
		}
		last := all[len(all)-1]
		if last.wire == wireLen {
			s += fmt.Sprintf("; field %s = %q", pathString(path), truncate(last.bytes, 64))
		} else {
			s += fmt.Sprintf("; field %s = %d", pathString(path), last.num)
		}
	}
	return s
}

func pathString(path []int) string {
	parts := make([]string, len(path))
	for i, n := range path {
		parts[i] = strconv.Itoa(n)
	}
	return strings.Join(parts, ".")
}
