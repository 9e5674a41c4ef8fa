package credentials

import (
	"net/url"
	"strings"
	"testing"
)

func TestRedactURL(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"https://h/p", "https://h/p"},
		{"https://h/p?page=2&per_page=10", "https://h/p?page=2&per_page=10"},
		{"https://h/p?access_token=x&page=2", "https://h/p?access_token=[REDACTED]&page=2"},
		{"https://h/p?API_KEY=x", "https://h/p?API_KEY=[REDACTED]"},
		{"https://h/p?my%5Ftoken=x", "https://h/p?my%5Ftoken=[REDACTED]"},
		{"https://h/p?%zz=x&a=b", "https://h/p?%zz=[REDACTED]&a=b"},
		{"https://h/p?token&a=&&password=", "https://h/p?token&a=&&password=[REDACTED]"},
		{"https://u:p@h/p?a=b", "https://h/p?a=b"},
		{"/relative?sig=abc", "/relative?sig=[REDACTED]"},
		{"https://h/cb#access_token=x&state=s", "https://h/cb"},
		{"https://h/p?token=x#frag", "https://h/p?token=[REDACTED]"},
		// ";" separates parameters for some servers: a secret after it
		// is redacted too; the separators stay as they were.
		{"https://h/p?a=1;access_token=SECRET", "https://h/p?a=1;access_token=[REDACTED]"},
		{"https://h/p?access_token=SECRET;a=1", "https://h/p?access_token=[REDACTED]"},
		{"https://h/p?page=2;per_page=10", "https://h/p?page=2;per_page=10"},
		{"https://h/p?a=1&b=2;sig=SECRET;c=3&d=4", "https://h/p?a=1&b=2;sig=[REDACTED];c=3&d=4"},
		{"https://h/p?x;token=SECRET", "https://h/p?x;token=[REDACTED]"},
		// An escaped value that reads as parameters once decoded
		// ("1;access_token=…", to a server that splits after decoding)
		// is hidden whole when one of them is secret.
		{"https://api.example.com/x?a=1%3Baccess_token%3DSECRETVALUE", "https://api.example.com/x?a=[REDACTED]"},
		{"https://h/p?a=x%26token%3DSECRET&b=2", "https://h/p?a=[REDACTED]&b=2"},
		{"https://h/p?a=1%3baccess_token%3dSECRET", "https://h/p?a=[REDACTED]"},
		{"https://h/p?page=2&a=token%3DSECRET", "https://h/p?page=2&a=[REDACTED]"},
		{"https://h/p?a=1%3Bsig%3DSEC+RET", "https://h/p?a=[REDACTED]"},
		{"https://h/p?a=1%3Bmy%255Ftoken%3DSECRET", "https://h/p?a=[REDACTED]"},
		{"https://h/p?a=1%3Btoken%3DSECRET1;sig=SECRET2", "https://h/p?a=[REDACTED]"},
		{"https://h/p?a=1;b=x%3Btoken%3DSECRET", "https://h/p?a=[REDACTED]"},
		// A "%" that does not start an escape stands for itself, as
		// lenient decoders (PHP, Python) read it.
		{"https://h/p?a=%zz%3Btoken%3DSECRET", "https://h/p?a=[REDACTED]"},
		{"https://h/p?a=100%%3Bcode%3DSECRET", "https://h/p?a=[REDACTED]"},
		// Hidden already where "&" and ";" separate: kept as it was.
		{"https://h/p?a=%zz;token=SECRET", "https://h/p?a=%zz;token=[REDACTED]"},
		{"https://h/p?a=1%3Bx%3D2;token=SECRET", "https://h/p?a=1%3Bx%3D2;token=[REDACTED]"},
		// Escaped values without a secret inside are kept byte for byte.
		{"https://h/p?a=x%3By%3Dz&q=caf%C3%A9&s=a%20b+c", "https://h/p?a=x%3By%3Dz&q=caf%C3%A9&s=a%20b+c"},
		{"https://h/p?q=a%3Db&r=%3D%3D&t=%5BREDACTED%5D&u=%", "https://h/p?q=a%3Db&r=%3D%3D&t=%5BREDACTED%5D&u=%"},
		{"https://h/p?a=%3Dtoken", "https://h/p?a=%3Dtoken"},
		// A "%" in a decoded name is a character, not a name that fails
		// to decode (and so secret): a search for "50% off=yes" is kept.
		{"https://h/p?q=50%25+off%3Dyes&page=2", "https://h/p?q=50%25+off%3Dyes&page=2"},
		{"https://h/p?q=100%25%3D50", "https://h/p?q=100%25%3D50"},
		// A name, or a pair without "=", that decodes to parameters with
		// a secret is hidden whole: its text is the secret's.
		{"https://h/p?access_token%3DSECRET&b=2", "https://h/p?[REDACTED]&b=2"},
		{"https://h/p?x%3Btoken%3DSECRET=1", "https://h/p?[REDACTED]"},
		{"https://h/p?a=1&x%26sig%3DSECRET", "https://h/p?a=1&[REDACTED]"},
		{"https://h/p?filter%3Dopen=1&a%5Bb%5D=2", "https://h/p?filter%3Dopen=1&a%5Bb%5D=2"},
		// Escaped twice: the decoded value holds a value escaped again
		// that reads as a secret parameter (composiohttp.Parameter hides
		// it in a="b=1%3Btoken%3D…", which the fake sends on so).
		{"https://h/p?a=b%3D1%253Btoken%253DSECRET", "https://h/p?a=[REDACTED]"},
		{"https://h/p?a=1%253Btoken%253DSECRET", "https://h/p?a=[REDACTED]"},
		{"https://h/p?a=x%3D1%2526sig%253DSECRET&b=2", "https://h/p?a=[REDACTED]&b=2"},
		// Escaped more deeply than looked into (and still holding a "="):
		// hidden rather than shown unread.
		{"https://h/p?a=1%2525252525253Btoken%2525252525253DSECRET", "https://h/p?a=[REDACTED]"},
		{"https://h/p?a=x%253Dy%2526z%253D1", "https://h/p?a=x%253Dy%2526z%253D1"},
		// Path parameters (RFC 3986 ";name=value" in a segment; Java
		// servlets put the session there): a secret one's value is
		// hidden, as a query value would be.
		{"https://h/app;jsessionid=ABC123/x", "https://h/app;jsessionid=[REDACTED]/x"},
		{"https://h/app;JSESSIONID=ABC123", "https://h/app;JSESSIONID=[REDACTED]"},
		{"https://h/a;sessionid=S1/b;sid=S2?page=2", "https://h/a;sessionid=[REDACTED]/b;sid=[REDACTED]?page=2"},
		{"https://h/a;v=1;token=SECRET;w=2/b", "https://h/a;v=1;token=[REDACTED];w=2/b"},
		{"https://h/f;sig=SECRET?token=T#x", "https://h/f;sig=[REDACTED]?token=[REDACTED]"},
		{"/relative;access_token=SECRET", "/relative;access_token=[REDACTED]"},
		{"https://h/a;my%5Ftoken=SECRET", "https://h/a;my%5Ftoken=[REDACTED]"},
		{"https://h/a;x=1%3Bsig%3DSECRET/b", "https://h/a;x=[REDACTED]/b"},
		{"https://h/a;x%3Bsig%3DSECRET=1/b", "https://h/a;[REDACTED]/b"},
		{"https://h/a%20b;token=SECRET/c%2Fd", "https://h/a%20b;token=[REDACTED]/c%2Fd"},
		// Ordinary paths are kept byte for byte: ";" that is not a
		// secret parameter, escaped ";" (data, not a separator), the
		// proxy's own endpoint paths.
		{"https://h/a;b/c;d=1;e", "https://h/a;b/c;d=1;e"},
		{"https://h/matrix;lat=50;long=20/x;token", "https://h/matrix;lat=50;long=20/x;token"},
		{"https://h/files/a%3Bb%3Dc", "https://h/files/a%3Bb%3Dc"},
		{"https://h/files/a%3Btoken%3Dx/%E2%9C%93;v=%3B", "https://h/files/a%3Btoken%3Dx/%E2%9C%93;v=%3B"},
		{"https://backend.composio.dev/api/v3/tools/execute/proxy", "https://backend.composio.dev/api/v3/tools/execute/proxy"},
		{"https://backend.composio.dev/api/v3/connected_accounts/ca_1a2B-3c", "https://backend.composio.dev/api/v3/connected_accounts/ca_1a2B-3c"},
		{"https://api.github.com/repos/o/r/contents/a%20b;c.txt?ref=main", "https://api.github.com/repos/o/r/contents/a%20b;c.txt?ref=main"},
	}
	for _, tt := range tests {
		u, err := url.Parse(tt.in)
		if err != nil {
			t.Fatal(err)
		}
		got, changed := RedactURL(u)
		if got.String() != tt.want || changed != (tt.in != tt.want) {
			t.Errorf("RedactURL(%s) = %s, %v; want %s", tt.in, got, changed, tt.want)
		}
		if u.String() != tt.in {
			t.Errorf("input modified: %s", u)
		}
	}
}

// TestRedactURLNoSecretNoAlloc: a URL without secrets costs no
// allocation, escaped values included unless one may hold a "=" once
// decoded (only those are decoded).
func TestRedactURLNoSecretNoAlloc(t *testing.T) { // not parallel: AllocsPerRun
	for _, raw := range []string{
		"https://api.github.com/repos/a/b?page=2&per_page=100",
		"https://api.github.com/search/issues?q=is%3Aopen+label%3Abug%20x&page=2",
		"https://api.github.com/repos/a/b/contents/x%3By%20z?ref=main",
	} {
		u, _ := url.Parse(raw)
		if n := testing.AllocsPerRun(100, func() { RedactURL(u) }); n != 0 {
			t.Errorf("%v allocations for %s", n, raw)
		}
	}
}

// TestRedactQuery: the values of secret parameters are redacted whether
// the parameters are separated by "&" or by ";" (which some servers split
// on too); a value is hidden as far as any server reads it (up to the
// next "&" for a secret name before any ";"), everything else is kept
// byte for byte, separators included.
func TestRedactQuery(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"", ""},
		{"a=1&b=2", "a=1&b=2"},
		{"a=1;b=2", "a=1;b=2"},
		{"a=1&access_token=SECRET", "a=1&access_token=[REDACTED]"},
		{"a=1;access_token=SECRET", "a=1;access_token=[REDACTED]"},
		{"a=1;access_token=SECRET&b=2", "a=1;access_token=[REDACTED]&b=2"},
		{"a=1;access_token=SECRET;b=2", "a=1;access_token=[REDACTED];b=2"},
		// A server splitting on "&" only reads token's value as "abc;def=x".
		{"token=abc;def=x&b=2", "token=[REDACTED]&b=2"},
		{"client_secret=SECRET;", "client_secret=[REDACTED]"},
		{";;sig=SECRET;;", ";;sig=[REDACTED];;"},
		{"a=1&", "a=1&"},
		{"a;b", "a;b"},
		{"password=SECRET1;api_key=SECRET2", "password=[REDACTED]"},
		{"q=x;code=SECRET", "q=x;code=[REDACTED]"},
		// An escaped value whose decoded text reads as parameters with a
		// secret is hidden whole; other escaped values are kept.
		{"a=1%3Baccess_token%3DSECRET", "a=[REDACTED]"},
		{"a=x%26token%3DSECRET&b=2", "a=[REDACTED]&b=2"},
		{"a=x%26TOKEN%3dSECRET;b=2&c=3", "a=[REDACTED]&c=3"},
		{"b=2;a=1%3Bsig%3DSECRET", "b=[REDACTED]"},
		{"q=a%20b%3D&x=1", "q=a%20b%3D&x=1"},
		{"a=%3D%3D;b=%26", "a=%3D%3D;b=%26"},
	}
	for _, tt := range tests {
		if got := RedactQuery(tt.in); got != tt.want {
			t.Errorf("RedactQuery(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// FuzzRedactQuery: RedactURL's shortcut (hasSecretParam false: the URL
// is returned as is) never skips a redaction RedactQuery would make;
// redacting twice changes nothing more; every "&" is kept.
func FuzzRedactQuery(f *testing.F) {
	for _, s := range []string{
		"a=1;access_token=SECRET&b=2", "a=1%3Baccess_token%3DSECRET", "a=x%26TOKEN%3dSECRET;b=2&c=3",
		"a=%zz%3Btoken%3Dx", "a=%zz;token=x", "q=a%20b%3D&x=1", "token=%5BREDACTED%5D", "a=100%%3Bcode%3Dx",
		"access_token%3Dx&b=2", "x%3Btoken%3Dx=1", "a=b%3D1%253Btoken%253Dx", "a=1%2525252525253Btoken%2525252525253Dx",
		"q=50%25+off%3Dyes", "a=x%253Dy%2526z%253D1",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		r := RedactQuery(q)
		if !hasSecretParam(q) && r != q {
			t.Errorf("hasSecretParam(%q) = false, but RedactQuery = %q", q, r)
		}
		if rr := RedactQuery(r); rr != r {
			t.Errorf("RedactQuery(%q) = %q, again %q", q, r, rr)
		}
		if strings.Count(r, "&") != strings.Count(q, "&") {
			t.Errorf("RedactQuery(%q) = %q: separators changed", q, r)
		}
	})
}

// TestRedactURLPathAsShown: the path parameters looked into are those
// u.String() shows, also for a URL built by hand whose RawPath does not
// match its Path (String then shows Path escaped, ";" as is).
func TestRedactURLPathAsShown(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		u    url.URL
		want string
	}{
		{url.URL{Scheme: "https", Host: "h", Path: "/a;token=SECRET"}, "https://h/a;token=[REDACTED]"},
		{url.URL{Scheme: "https", Host: "h", Path: "/a;token=SECRET", RawPath: "/other"}, "https://h/a;token=[REDACTED]"},
		{url.URL{Scheme: "https", Host: "h", Path: "/a;token=SECRET", RawPath: "/a%3Btoken=SECRET"}, "https://h/a%3Btoken=SECRET"},
		{url.URL{Scheme: "https", Host: "h", Path: "/a b;sid=SECRET"}, "https://h/a%20b;sid=[REDACTED]"},
		{url.URL{Scheme: "https", Host: "h", Path: "/a;b c"}, "https://h/a;b%20c"},
		// An opaque URL shows Opaque as its path ("//host/path" is how
		// net/url sends a path exactly as written).
		{url.URL{Scheme: "https", Opaque: "//h/app;jsessionid=SECRET/x", RawQuery: "a=1"}, "https://h/app;jsessionid=[REDACTED]/x?a=1"},
		{url.URL{Scheme: "https", Opaque: "//h/app;v=2/x"}, "https://h/app;v=2/x"},
		{url.URL{Scheme: "http", Opaque: "app;sid=SECRET"}, "http:app;sid=[REDACTED]"},
		{url.URL{Scheme: "sip", Opaque: "alice@atlanta.com;transport=tcp"}, "sip:alice@atlanta.com;transport=tcp"},
	} {
		in := tt.u.String()
		got, _ := RedactURL(&tt.u)
		if got.String() != tt.want {
			t.Errorf("RedactURL(%s) = %s, want %s", in, got, tt.want)
		}
	}
}

// TestRedactPath pins the path rule on escaped paths.
func TestRedactPath(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ in, want string }{
		{"", ""},
		{"/", "/"},
		{"/a;b;c=1/;", "/a;b;c=1/;"},
		{";jsessionid=X", ";jsessionid=[REDACTED]"},
		{"/a;token=X;;sig=Y/", "/a;token=[REDACTED];;sig=[REDACTED]/"},
		{"/a;x=1&token=X/b", "/a;x=1&token=[REDACTED]/b"},
		{"/a;token=[REDACTED]", "/a;token=[REDACTED]"},
	} {
		if got := RedactPath(tt.in); got != tt.want {
			t.Errorf("RedactPath(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// FuzzRedactPath: RedactURL's and RedactPath's shortcut
// (hasSecretPathParam false) never skips a redaction reading every path
// parameter (redactPathParams) would make; redacting twice changes
// nothing more; every "/" and ";" is kept.
func FuzzRedactPath(f *testing.F) {
	for _, s := range []string{"/app;jsessionid=X/y", "/a;x=1%3Bsig%3DS", "/a%3Btoken=x", "/a;b;c=1", "/a;x%3Btoken%3Dx=1/b;sid=1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		r := RedactPath(p)
		if full := redactPathParams(p); !hasSecretPathParam(p) && full != p {
			t.Errorf("hasSecretPathParam(%q) = false, but the parameters read redacted are %q", p, full)
		}
		if rr := RedactPath(r); rr != r {
			t.Errorf("RedactPath(%q) = %q, again %q", p, r, rr)
		}
		if strings.Count(r, "/") != strings.Count(p, "/") || strings.Count(r, ";") < strings.Count(p, ";") {
			t.Errorf("RedactPath(%q) = %q: separators changed", p, r)
		}
	})
}

// TestQuerySecrets: what RedactQuery hides, raw and decoded, for Scrub.
func TestQuerySecrets(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		in   string
		want []string
	}{
		{"a=1&b=2;c=3", nil},
		{"token=[REDACTED]", nil},
		{"a=1&access_token=SECRET1", []string{"SECRET1"}},
		{"a=1;sig=SECRET1;b=2&token=SECRET2", []string{"SECRET1", "SECRET2"}},
		{"a=1%3Bsig%3DSECRET1", []string{"1%3Bsig%3DSECRET1", "1;sig=SECRET1", "SECRET1"}},
		{"b=1%253Btoken%253DSECRET1", []string{"1%253Btoken%253DSECRET1", "1%3Btoken%3DSECRET1", "1;token=SECRET1", "SECRET1"}},
		{"x%3Bsig%3DSECRET1=1", []string{"x%3Bsig%3DSECRET1=1", "x;sig=SECRET1=1", "SECRET1=1"}},
		{"my%5Ftoken=SEC%2FRET", []string{"SEC%2FRET", "SEC/RET"}},
	} {
		if got := QuerySecrets(tt.in); strings.Join(got, "|") != strings.Join(tt.want, "|") {
			t.Errorf("QuerySecrets(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got := PathSecrets("/app;jsessionid=SESSION1/x;v=1;sig=a%2Fb"); strings.Join(got, "|") != "SESSION1|a%2Fb|a/b" {
		t.Errorf("PathSecrets = %q", got)
	}
}
