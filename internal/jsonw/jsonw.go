// Package jsonw writes JSON strings into byte slices without allocating,
// for the hand-written encoders of the envelope and of credentials.
package jsonw

import "unicode/utf8"

const hexDigits = "0123456789abcdef"

// Byte-wise constants for attention.
const (
	ones        = 0x0101010101010101
	twos        = 0x0202020202020202
	bangs       = 0x2121212121212121 // '!'
	backslashes = 0x5c5c5c5c5c5c5c5c // '\\'
	highs       = 0x8080808080808080
)

// load64 reads s[i:i+8] as a little-endian word (one load: the compiler
// combines the eight).
func load64(s string, i int) uint64 {
	s = s[i : i+8]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// attention is 0 if none of the eight bytes of x is a quote, a
// backslash, a control character or not ASCII. x ^ twos turns '"' into
// 0x20 and keeps control characters below 0x20, so that one test, below
// '!', finds both; a subtraction sets a top bit only for a byte below
// the subtrahend or one of 0x80 and above, which "| x" marks anyway.
func attention(x uint64) uint64 {
	return ((((x ^ twos) - bangs) | ((x ^ backslashes) - ones)) | x) & highs
}

// AppendString appends s as a JSON string, escaped as encoding/json does
// except that <, > and & are kept as they are. Invalid UTF-8 becomes
// U+FFFD.
func AppendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	dst = AppendEscaped(dst, s)
	return append(dst, '"')
}

// AppendEscaped appends s escaped as the inside of a JSON string, so that
// a string can be written in pieces.
func AppendEscaped(dst []byte, s string) []byte {
	start := 0
	for i := 0; i < len(s); {
		// Eight bytes at a time while none needs a look (the usual
		// case: names, ids, URLs).
		for len(s)-i >= 8 && attention(load64(s, i)) == 0 {
			i += 8
		}
		if i == len(s) {
			break
		}
		b := s[i]
		if b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '"', '\\':
				dst = append(dst, '\\', b)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	return append(dst, s[start:]...)
}
