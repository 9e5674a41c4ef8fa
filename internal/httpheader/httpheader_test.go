package httpheader

import (
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// RFC 9110's other way of saying what a token is: visible ASCII except
// the delimiters (section 5.6.2). A value: no CTL but HTAB (section 5.5).
func refName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

func refValue(s string) bool {
	return !strings.ContainsFunc(s, func(r rune) bool { return r != '\t' && (r < ' ' || r == 0x7f) })
}

// TestAgreesWithRFC checks every single byte, and a few words, against
// the RFC's other formulation.
func TestAgreesWithRFC(t *testing.T) {
	t.Parallel()
	cases := []string{"", "X-Foo", "Content-Type", "a b", "a:b", "x\r\ny", "ok\tvalue", "caf\xc3\xa9", "\x7f"}
	for c := 0; c < 256; c++ {
		cases = append(cases, string([]byte{byte(c)}), "X"+string([]byte{byte(c)})+"Y")
	}
	for _, s := range cases {
		if got, want := ValidName(s), refName(s); got != want {
			t.Errorf("ValidName(%q) = %v, the RFC says %v", s, got, want)
		}
		if got := ValidName([]byte(s)); got != ValidName(s) {
			t.Errorf("ValidName([]byte(%q)) = %v, string form disagrees", s, got)
		}
		if got, want := ValidValue(s), refValue(s); got != want {
			t.Errorf("ValidValue(%q) = %v, the RFC says %v", s, got, want)
		}
		if got := ValidValue([]byte(s)); got != ValidValue(s) {
			t.Errorf("ValidValue([]byte(%q)) = %v, string form disagrees", s, got)
		}
	}
}

func TestIsJSON(t *testing.T) {
	t.Parallel()
	for ct, want := range map[string]bool{
		"application/json":                  true,
		"Application/JSON; charset=utf-8":   true,
		" application/json ":                true,
		"application/vnd.github+json":       true,
		"application/problem+JSON;q=1":      true,
		"text/plain":                        false,
		"":                                  false,
		"+json":                             false,
		"application/jsonx":                 false,
		"application/x-www-form-urlencoded": false,
	} {
		if got := IsJSON(ct); got != want {
			t.Errorf("IsJSON(%q) = %v, want %v", ct, got, want)
		}
	}
}

func TestHopByHop(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]bool{
		"Connection": true, "Proxy-Connection": true, "Keep-Alive": true, "Proxy-Authenticate": true,
		"Proxy-Authorization": true, "Te": true, "Trailer": true, "Transfer-Encoding": true, "Upgrade": true,
		"Content-Type": false, "Authorization": false, "Host": false, "connection": false, "": false,
	} {
		if got := HopByHop(name); got != want {
			t.Errorf("HopByHop(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestConnectionListed(t *testing.T) {
	t.Parallel()
	conn := []string{"keep-alive, x-one", " X-TWO ,,", "upgrade"}
	for name, want := range map[string]bool{
		"Keep-Alive": true, "X-One": true, "X-Two": true, "Upgrade": true,
		"X-Three": false, "Connection": false, "": false,
	} {
		if got := ConnectionListed(conn, name); got != want {
			t.Errorf("ConnectionListed(%q) = %v, want %v", name, got, want)
		}
	}
	if ConnectionListed(nil, "X-One") {
		t.Error("listed with no Connection header")
	}
}
