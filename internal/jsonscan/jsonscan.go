// Package jsonscan is a small strict JSON scanner (RFC 8259), shared by the
// Transport (request bodies, proxy replies) and the fake proxy.
// encoding/json's json.Valid runs at about 145 MB/s on the machines this
// was measured on, which alone would eat most of a call's budget; this
// scanner validates and finds value boundaries in one pass several times
// faster and never allocates. FuzzValid checks it against json.Valid.
//
// Values are scanned by skip (skip.go), one loop with an explicit stack,
// which handles all but the most deeply nested ones; scanValue, a
// recursive descent, takes over where skip gives up and says what is
// wrong and where. FuzzSkip checks that the two agree.
package jsonscan

import (
	"encoding/binary"
	"math/bits"
)

const maxJSONDepth = 10000 // as encoding/json

// Error is a scanning failure at byte offset Off.
type Error struct {
	Off int
	Msg string
}

func (e *Error) Error() string { return e.Msg }

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// SkipSpace returns the index of the first non-space byte at or after i.
func SkipSpace(b []byte, i int) int {
	if i < len(b) && b[i] > ' ' {
		return i
	}
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

// Valid reports whether b is exactly one JSON value with optional
// surrounding whitespace, as json.Valid does.
func Valid(b []byte) bool {
	i := SkipSpace(b, 0)
	end := skip(b, i, maxSkipDepth)
	if end < 0 {
		var err *Error
		if end, err = scanValue(b, i, 0); err != nil {
			return false
		}
	}
	return SkipSpace(b, end) == len(b)
}

// scanValue validates the value starting at b[i] and returns the index
// just past it.
func scanValue(b []byte, i, depth int) (int, *Error) {
	if i >= len(b) {
		return i, &Error{i, "unexpected end of JSON"}
	}
	switch c := b[i]; {
	case c == '"':
		return String(b, i)
	case c == '{':
		return scanObject(b, i, depth+1)
	case c == '[':
		return scanArray(b, i, depth+1)
	case c == '-' || (c >= '0' && c <= '9'):
		return scanNumber(b, i)
	case c == 't':
		return scanLiteral(b, i, "true")
	case c == 'f':
		return scanLiteral(b, i, "false")
	case c == 'n':
		return scanLiteral(b, i, "null")
	}
	return i, &Error{i, "invalid character"}
}

func scanLiteral(b []byte, i int, lit string) (int, *Error) {
	if len(b)-i < len(lit) || string(b[i:i+len(lit)]) != lit {
		return i, &Error{i, "invalid literal"}
	}
	return i + len(lit), nil
}

// plainStringByte marks the bytes a JSON string may hold as they are.
var plainStringByte = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// Byte-wise constants for String's eight-bytes-at-a-time scan.
const (
	ones        = 0x0101010101010101
	highs       = 0x8080808080808080
	twos        = 0x0202020202020202
	bangs       = 0x2121212121212121 // '!'
	backslashes = 0x5c5c5c5c5c5c5c5c // '\\'
)

// stops marks (0x80 in that byte) the lowest byte of x, eight bytes of a
// string in little-endian order, that is a quote, a backslash or a
// control character; bytes above it may be marked too (borrows only run
// upwards). x ^ twos turns '"' (0x22) into 0x20 and keeps control
// characters below 0x20, so that one test, below '!', finds both. The
// top bit of each byte is the same in x, x ^ twos and x ^ backslashes:
// one "&^ x" clears the bytes of 0x80 and above from all the tests.
func stops(x uint64) uint64 {
	return (((x ^ swar.twos) - swar.bangs) | ((x ^ swar.backslashes) - swar.ones)) &^ x & swar.highs
}

// swar holds the constants of stops as variables: read from memory as
// operands of the arithmetic, instead of a 10-byte constant load each in
// every iteration of the loops that call stops.
var swar = struct{ ones, highs, twos, bangs, backslashes uint64 }{ones, highs, twos, bangs, backslashes}

// String validates the string token starting at b[i] (a quote) and
// returns the index just past it.
func String(b []byte, i int) (int, *Error) {
	start := i
	i++ // opening quote
	for {
		// Find the next quote, backslash or control character: eight
		// bytes at a time (each test below flags exactly the lowest such
		// byte; borrows only run upwards), then byte by byte.
		for len(b)-i >= 8 {
			x := binary.LittleEndian.Uint64(b[i : i+8])
			if m := stops(x); m != 0 {
				i += bits.TrailingZeros64(m) >> 3
				goto special
			}
			i += 8
		}
		for ; i < len(b); i++ {
			if !plainStringByte[b[i]] {
				goto special
			}
		}
		return start, &Error{start, "unterminated string"}
	special:
		switch c := b[i]; {
		case c == '"':
			return i + 1, nil
		case c == '\\':
			if i+1 >= len(b) {
				return i, &Error{i, "unterminated string"}
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if len(b)-i < 6 || !isHex(b[i+2]) || !isHex(b[i+3]) || !isHex(b[i+4]) || !isHex(b[i+5]) {
					return i, &Error{i, "invalid \\u escape"}
				}
				i += 6
			default:
				return i, &Error{i, "invalid escape"}
			}
		default: // c < 0x20
			return i, &Error{i, "control character in string"}
		}
	}
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func scanNumber(b []byte, i int) (int, *Error) {
	start := i
	if b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		return start, &Error{i, "invalid number"}
	}
	if i < len(b) && b[i] == '.' {
		i++
		d := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			return start, &Error{i, "invalid number"}
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		d := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			return start, &Error{i, "invalid number"}
		}
	}
	return i, nil
}

func scanObject(b []byte, i, depth int) (int, *Error) {
	return members(b, i, depth, false, nil)
}

func scanArray(b []byte, i, depth int) (int, *Error) {
	if depth > maxJSONDepth {
		return i, &Error{i, "nesting too deep"}
	}
	i = SkipSpace(b, i+1)
	if i < len(b) && b[i] == ']' {
		return i + 1, nil
	}
	for {
		var err *Error
		if i, err = scanValue(b, i, depth); err != nil {
			return i, err
		}
		i = SkipSpace(b, i)
		if i >= len(b) {
			return i, &Error{i, "unexpected end of JSON"}
		}
		switch b[i] {
		case ',':
			i = SkipSpace(b, i+1)
		case ']':
			return i + 1, nil
		default:
			return i, &Error{i, "expected ',' or ']'"}
		}
	}
}

// Members validates the object at b[i] and calls fn for each member with
// the key token (quotes included, escapes not decoded) and the value's
// bounds; an error fn returns stops the scan. It returns the index just
// past the object.
func Members(b []byte, i int, fn func(key []byte, vs, ve int) *Error) (int, *Error) {
	return members(b, i, 1, true, fn)
}

// members is Members for an object at a nesting depth (1 for a document's
// outermost value); fn may be nil. fast: values go through skip first
// (scanValue's fast path), for an object not itself reached through the
// slow path, which would otherwise try skip again at every level.
func members(b []byte, i, depth int, fast bool, fn func(key []byte, vs, ve int) *Error) (int, *Error) {
	if i >= len(b) || b[i] != '{' {
		return i, &Error{i, "expected object"}
	}
	if depth > maxJSONDepth {
		return i, &Error{i, "nesting too deep"}
	}
	i = SkipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return i + 1, nil
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return i, &Error{i, "expected object key"}
		}
		ks := i
		ke, err := String(b, i)
		if err != nil {
			return i, err
		}
		i = SkipSpace(b, ke)
		if i >= len(b) || b[i] != ':' {
			return i, &Error{i, "expected ':'"}
		}
		vs := SkipSpace(b, i+1)
		ve := -1
		if fast {
			ve = skip(b, vs, uint(min(maxSkipDepth, maxJSONDepth-depth)))
		}
		if ve < 0 {
			if ve, err = scanValue(b, vs, depth); err != nil {
				return ve, err
			}
		}
		if fn != nil {
			if err := fn(b[ks:ke], vs, ve); err != nil {
				return vs, err
			}
		}
		i = SkipSpace(b, ve)
		if i >= len(b) {
			return i, &Error{i, "unexpected end of JSON"}
		}
		switch b[i] {
		case ',':
			i = SkipSpace(b, i+1)
		case '}':
			return i + 1, nil
		default:
			return i, &Error{i, "expected ',' or '}'"}
		}
	}
}
