package jsonscan

import (
	"encoding/binary"
	"math/bits"
)

// maxSkipDepth is the deepest nesting skip handles itself (the bits of its
// stack); deeper values go to scanValue.
const maxSkipDepth = 64

// Byte classes for skip's dispatch on the first byte of a value.
const (
	clsBad = iota
	clsSpace
	clsString
	clsObject
	clsArray
	clsMinus
	clsDigit
	clsTrue
	clsFalse
	clsNull
)

var valueClass = func() (t [256]uint8) {
	t[' '], t['\t'], t['\n'], t['\r'] = clsSpace, clsSpace, clsSpace, clsSpace
	t['"'] = clsString
	t['{'] = clsObject
	t['['] = clsArray
	t['-'] = clsMinus
	for c := '0'; c <= '9'; c++ {
		t[c] = clsDigit
	}
	t['t'] = clsTrue
	t['f'] = clsFalse
	t['n'] = clsNull
	return t
}()

func isDigit(c byte) bool { return c-'0' < 10 }

// ws returns the index of the first non-space byte after b[i], which is
// a space.
func ws(b []byte, i uint) uint {
	for i++; i < uint(len(b)) && isSpace(b[i]); i++ {
	}
	return i
}

// expect returns the index of the byte c at b[i] or after spaces there,
// or len(b) if another byte or the end comes first.
func expect(b []byte, i uint, c byte) uint {
	if i < uint(len(b)) && b[i] != c {
		for ; i < uint(len(b)) && isSpace(b[i]); i++ {
		}
		if i < uint(len(b)) && b[i] != c {
			return uint(len(b))
		}
	}
	return i
}

// skip is the fast path of scanValue: it validates the JSON value starting
// at b[start] and returns the index just past it, or -1 if the value is
// not valid or nests deeper than limit (at most maxSkipDepth) levels
// (scanValue then says which, and where). It is one loop with an explicit
// stack and no function calls, whitespace handled only where a byte is not
// the one expected: a document of many small tokens costs about 10
// instructions a byte, against 16 for scanValue.
func skip(b []byte, start int, limit uint) int {
	// stack holds a bit per open container, the innermost lowest: 1 for
	// an object, 0 for an array.
	var stack uint64
	var depth uint
	inKey := false
	i := uint(start)
value:
	if i >= uint(len(b)) {
		return -1
	}
	switch valueClass[b[i]] {
	case clsString:
		goto str
	case clsObject:
		if depth == limit {
			return -1
		}
		stack = stack<<1 | 1
		depth++
		i++
		goto firstKey
	case clsArray:
		if depth == limit {
			return -1
		}
		stack <<= 1
		depth++
		i++
		goto firstValue
	case clsMinus:
		i++
		if i >= uint(len(b)) || !isDigit(b[i]) {
			return -1
		}
		fallthrough
	case clsDigit:
		if b[i] == '0' {
			i++
		} else {
			i++
			for i < uint(len(b)) && isDigit(b[i]) {
				i++
			}
		}
		if i >= uint(len(b)) || (b[i] != '.' && b[i]|0x20 != 'e') {
			goto after // an integer, the usual case
		}
		if b[i] == '.' {
			i++
			d := i
			for i < uint(len(b)) && isDigit(b[i]) {
				i++
			}
			if i == d {
				return -1
			}
		}
		if i < uint(len(b)) && b[i]|0x20 == 'e' {
			i++
			if i < uint(len(b)) && (b[i] == '+' || b[i] == '-') {
				i++
			}
			d := i
			for i < uint(len(b)) && isDigit(b[i]) {
				i++
			}
			if i == d {
				return -1
			}
		}
		goto after
	case clsTrue:
		if i+4 <= uint(len(b)) && string(b[i:i+4]) == "true" {
			i += 4
			goto after
		}
	case clsFalse:
		if i+5 <= uint(len(b)) && string(b[i:i+5]) == "false" {
			i += 5
			goto after
		}
	case clsNull:
		if i+4 <= uint(len(b)) && string(b[i:i+4]) == "null" {
			i += 4
			goto after
		}
	case clsSpace:
		i = ws(b, i)
		goto value
	}
	return -1

firstValue: // after '[': a value or ']'
	if i < uint(len(b)) {
		switch b[i] {
		case ']':
			i++
			goto pop
		case ' ', '\t', '\n', '\r':
			i = ws(b, i)
			goto firstValue
		}
	}
	goto value

firstKey: // after '{': a key or '}'
	if i < uint(len(b)) {
		switch b[i] {
		case '}':
			i++
			goto pop
		case ' ', '\t', '\n', '\r':
			i = ws(b, i)
			goto firstKey
		}
	}
key:
	if i = expect(b, i, '"'); i >= uint(len(b)) {
		return -1
	}
	inKey = true
str:
	// As String: the next quote, backslash or control byte, eight bytes
	// at a time, then byte by byte.
	i++
	for {
		var c byte
		for i+8 <= uint(len(b)) {
			x := binary.LittleEndian.Uint64(b[i : i+8])
			if m := stops(x); m != 0 {
				n := uint(bits.TrailingZeros64(m))
				i += n >> 3
				c = byte(x >> (n &^ 7))
				goto special
			}
			i += 8
		}
		for ; i < uint(len(b)); i++ {
			if c = b[i]; !plainStringByte[c] {
				goto special
			}
		}
		return -1
	special:
		if c == '"' {
			i++
			break
		}
		if c != '\\' || i+1 >= uint(len(b)) {
			return -1
		}
		switch b[i+1] {
		case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			i += 2
		case 'u':
			if i+6 > uint(len(b)) || !isHex(b[i+2]) || !isHex(b[i+3]) || !isHex(b[i+4]) || !isHex(b[i+5]) {
				return -1
			}
			i += 6
		default:
			return -1
		}
	}
	if !inKey {
		goto after
	}
	inKey = false
	if i = expect(b, i, ':'); i >= uint(len(b)) {
		return -1
	}
	i++
	goto value

after:
	if depth == 0 {
		return int(i)
	}
	if i >= uint(len(b)) {
		return -1
	}
	switch b[i] {
	case ',':
		i++
		if stack&1 != 0 {
			goto key
		}
		goto value
	case '}':
		if stack&1 == 0 {
			return -1
		}
	case ']':
		if stack&1 != 0 {
			return -1
		}
	case ' ', '\t', '\n', '\r':
		i = ws(b, i)
		goto after
	default:
		return -1
	}
	i++
pop:
	stack >>= 1
	depth--
	goto after
}
