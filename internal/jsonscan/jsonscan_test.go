package jsonscan

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

func FuzzValid(f *testing.F) {
	for _, s := range []string{`{}`, `[1,2.5e-3,"a\u00e9\n",true,false,null]`, `{"a":{"b":[]}}`, `-0`, `01`, `1.`, `"\x`, `{"a" 1}`, ` [ ] `, `"\ud800"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := Valid(b), json.Valid(b); got != want {
			t.Fatalf("Valid(%q) = %v, json.Valid = %v", b, got, want)
		}
	})
}

func TestMembers(t *testing.T) {
	t.Parallel()
	var keys []string
	doc := ` {"a" : 1, "b\"c":[{"x":null}], "d":"s"} x`
	end, err := Members([]byte(doc), 1, func(key []byte, vs, ve int) *Error {
		keys = append(keys, string(key))
		return nil
	})
	if err != nil || end != strings.LastIndex(doc, "}")+1 || len(keys) != 3 || keys[1] != `"b\"c"` {
		t.Fatalf("end %d, err %v, keys %q", end, err, keys)
	}
	stop := &Error{Off: 7, Msg: "stop"}
	if _, err := Members([]byte(`{"a":1}`), 0, func([]byte, int, int) *Error { return stop }); err != stop {
		t.Fatalf("err = %v, want the callback's error", err)
	}
	for _, bad := range []string{`{"a" 1}`, `{"a":1,}`, `{a:1}`, `{"a":1`, `[]`} {
		if _, err := Members([]byte(bad), 0, nil); err == nil {
			t.Errorf("Members(%s) accepted", bad)
		}
	}
}

func BenchmarkValid(b *testing.B) {
	doc := []byte(`{"items":[{"id":1,"title":"issue number 1","open":true,"labels":["bug","p1"]},{"id":2,"title":"issue \"two\"","open":false,"labels":[]}],"total":2.5e1}`)
	b.SetBytes(int64(len(doc)))
	for b.Loop() {
		if !Valid(doc) {
			b.Fatal("invalid")
		}
	}
}

// kibDoc is about 1 KiB of JSON made of many small tokens, as an API's
// list reply (the loopback benchmarks' payload).
func kibDoc() []byte {
	var b strings.Builder
	b.WriteString(`{"items":[`)
	for i := 0; b.Len() < 1000; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"id":%d,"title":"issue number %d","open":true}`, i, i)
	}
	b.WriteString(`]}`)
	return []byte(b.String())
}

func BenchmarkValidKiB(b *testing.B) {
	doc := kibDoc()
	b.SetBytes(int64(len(doc)))
	for b.Loop() {
		if !Valid(doc) {
			b.Fatal("invalid")
		}
	}
}

func BenchmarkJSONValidKiB(b *testing.B) {
	doc := kibDoc()
	b.SetBytes(int64(len(doc)))
	for b.Loop() {
		if !json.Valid(doc) {
			b.Fatal("invalid")
		}
	}
}

// TestStringEveryPosition puts each kind of byte String treats apart at
// every offset of strings longer than one eight-byte word, so that both
// the word-at-a-time scan and the byte-by-byte tail meet it, and compares
// Valid with json.Valid.
func TestStringEveryPosition(t *testing.T) {
	t.Parallel()
	specials := []string{`"`, `\"`, `\\`, `\n`, `\u00e9`, `\x`, `\u12`, "\x00", "\x1f", "\x20", "\x7f", "\x80", "\xff", "é", `\`}
	for _, sp := range specials {
		for n := 0; n <= 24; n++ {
			for _, tail := range []string{`"`, `"]`, ``, `x"`} {
				s := `"` + strings.Repeat("a", n) + sp + strings.Repeat("b", 24-n) + tail
				for _, doc := range []string{s, "[" + s + "]", `{"k":` + s + `}`} {
					if got, want := Valid([]byte(doc)), json.Valid([]byte(doc)); got != want {
						t.Errorf("Valid(%q) = %v, json.Valid = %v", doc, got, want)
					}
				}
			}
		}
	}
}

// maxDepth is the deepest nesting of brackets in b outside strings.
func maxDepth(b []byte) int {
	depth, deepest, inString := 0, 0, false
	for i := 0; i < len(b); i++ {
		switch c := b[i]; {
		case inString && c == '\\':
			i++
		case c == '"':
			inString = !inString
		case inString:
		case c == '{' || c == '[':
			depth++
			deepest = max(deepest, depth)
		case c == '}' || c == ']':
			depth--
		}
	}
	return deepest
}

// checkSkip: skip, the fast path, agrees with scanValue: the same end for
// a value it accepts, and a value it refuses is invalid or nests deeper
// than maxSkipDepth.
func checkSkip(t *testing.T, b []byte) {
	t.Helper()
	i := SkipSpace(b, 0)
	got := skip(b, i, maxSkipDepth)
	want, err := scanValue(b, i, 0)
	switch {
	case got >= 0 && (err != nil || got != want):
		t.Fatalf("skip(%q) = %d, scanValue = %d, %v", b, got, want, err)
	case got < 0 && err == nil && maxDepth(b[i:want]) <= maxSkipDepth:
		t.Fatalf("skip(%q) refused a valid value (scanValue: end %d)", b, want)
	}
}

func FuzzSkip(f *testing.F) {
	for _, s := range []string{`{}`, `[1,2.5e-3,"a\u00e9\n",true,false,null]`, `{"a":{"b":[]}}`, `-0`, `01`, `1.`, `"\x`,
		`{"a" 1}`, ` [ ] `, `"\ud800"`, " {\t\"a\" :\n[ 1 , {} ] , \"b\":\"\" } ", `[1}`, `{"a":1]`, `{"a",1}`, `{,}`, `[,]`, `[1,]`,
		`-`, `-a`, `1e`, `1e+`, `1E-5`, `0.5`, `tru`, `nul`, `fals`, `"abcdefghijklmnop\"q"`, strings.Repeat("[", 64) + strings.Repeat("]", 64),
		strings.Repeat("[", 65) + strings.Repeat("]", 65)} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		checkSkip(t, b)
		if got, want := Valid(b), json.Valid(b); got != want {
			t.Fatalf("Valid(%q) = %v, json.Valid = %v", b, got, want)
		}
	})
}

// TestSkipDepth: skip handles nesting up to maxSkipDepth itself and
// leaves deeper values to scanValue, which Valid and Members fall back to.
func TestSkipDepth(t *testing.T) {
	t.Parallel()
	for _, n := range []int{1, 63, 64, 65, 200, maxJSONDepth, maxJSONDepth + 1} {
		for _, open := range []string{"[", `{"k":`} {
			closer := "]"
			if open != "[" {
				closer = "}"
			}
			doc := []byte(strings.Repeat(open, n) + "1" + strings.Repeat(closer, n))
			if got := skip(doc, 0, maxSkipDepth) >= 0; got != (n <= maxSkipDepth) {
				t.Errorf("skip of %d x %q: accepted %v", n, open, got)
			}
			if got, want := Valid(doc), json.Valid(doc); got != want {
				t.Errorf("Valid of %d x %q = %v, json.Valid = %v", n, open, got, want)
			}
			obj := append(append([]byte(`{"a":`), doc...), '}')
			_, err := Members(obj, 0, nil)
			if got, want := err == nil, json.Valid(obj); got != want {
				t.Errorf("Members of %d x %q: ok %v, json.Valid = %v", n, open, got, want)
			}
		}
	}
}
