package jsonw

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestAppendStringMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"", "plain", `q"b\s`, "\n\r\t\x00\x1f\x7f", "é€😀", "\u2028\u2029", "<&>", "bad\xffutf8", strings.Repeat("x", 300)} {
		var got string
		if err := json.Unmarshal(AppendString(nil, s), &got); err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		want := strings.ToValidUTF8(s, "\uFFFD")
		if got != want {
			t.Errorf("round trip of %q = %q", s, got)
		}
	}
}

func FuzzAppendString(f *testing.F) {
	f.Add("a\"b\\c\n\u2028\xff")
	f.Fuzz(func(t *testing.T, s string) {
		b := AppendString(nil, s)
		var got string
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatalf("invalid JSON %q for %q: %v", b, s, err)
		}
		if utf8.ValidString(s) && got != s {
			t.Fatalf("%q round-tripped to %q", s, got)
		}
	})
}

// appendEscapedBytewise is AppendEscaped without its eight-bytes-at-a-time
// skip, the reference for TestAppendEscapedEveryPosition.
func appendEscapedBytewise(dst []byte, s string) []byte {
	for len(s) > 0 {
		r, size := utf8.DecodeRuneInString(s)
		s = s[size:]
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, `\ufffd`...)
		case r == '"' || r == '\\':
			dst = append(dst, '\\', byte(r))
		case r == '\n':
			dst = append(dst, `\n`...)
		case r == '\r':
			dst = append(dst, `\r`...)
		case r == '\t':
			dst = append(dst, `\t`...)
		case r < 0x20:
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[r>>4], hexDigits[r&0xf])
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			dst = utf8.AppendRune(dst, r)
		}
	}
	return dst
}

// TestAppendEscapedEveryPosition puts each kind of byte AppendEscaped
// treats apart at every offset of strings longer than one eight-byte
// word, so that both the word-at-a-time skip and the byte loop meet it.
func TestAppendEscapedEveryPosition(t *testing.T) {
	t.Parallel()
	specials := []string{`"`, `\`, "\n", "\r", "\t", "\x00", "\x1f", " ", "!", "#", "[", "]", "\x7f", "\x80", "\xff", "é", "\u2028", "\u2029", "\U0001F600", "\uFFFD", "\xe2\x80"}
	for _, sp := range specials {
		for n := 0; n <= 24; n++ {
			s := strings.Repeat("a", n) + sp + strings.Repeat("b", 24-n)
			if got, want := string(AppendEscaped(nil, s)), string(appendEscapedBytewise(nil, s)); got != want {
				t.Errorf("AppendEscaped(%q) = %q, want %q", s, got, want)
			}
		}
	}
}
