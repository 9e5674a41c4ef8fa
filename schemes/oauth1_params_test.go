package schemes_test

import (
	"cmp"
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/composiohttp/composiohttp/credentials"
	"github.com/composiohttp/composiohttp/schemes"
)

// oauth1Conn is the connection of the OAuth1 parameter tests.
var oauth1Conn = &credentials.Connection{AuthScheme: credentials.OAuth1, Val: credentials.Val{
	ConsumerKey: "ck", OAuthToken: "tok", OAuthTokenSecret: "ts"}}

// fixedOAuth1 signs with a fixed clock and nonce, so signatures repeat.
func fixedOAuth1() *schemes.OAuth1 {
	return &schemes.OAuth1{ConsumerSecret: "cs",
		Now: func() time.Time { return time.Unix(1700000000, 0) }, Nonce: func() string { return "n0nce" }}
}

// formRequest is a POST of body as a form to rawURL.
func formRequest(tb testing.TB, rawURL, body string) *http.Request {
	tb.Helper()
	req, err := http.NewRequest("POST", rawURL, strings.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req
}

// params is n parameters "a" joined by "&" (the hostile 10 MiB body is
// params(5_000_000)).
func params(n int) string {
	return strings.Repeat("a&", n)[:max(0, 2*n-1)]
}

// TestOAuth1TooManyParams: more than MaxSignedParams query and form
// parameters are refused with ErrTooManyParams; exactly
// MaxSignedParams are signed.
func TestOAuth1TooManyParams(t *testing.T) {
	t.Parallel()
	const limit = schemes.MaxSignedParams
	tests := []struct {
		name, query, body string
		wantErr           bool
	}{
		{"body at the limit", "", params(limit), false},
		{"body over the limit", "", params(limit + 1), true},
		{"query at the limit", params(limit), "", false},
		{"query over the limit", params(limit + 1), "", true},
		{"query and body at the limit", params(limit / 2), params(limit - limit/2), false},
		{"query and body over the limit", params(limit / 2), params(limit - limit/2 + 1), true},
		{"empty parts are not parameters", params(limit), strings.Repeat("&", 1000), false},
		{"hostile 10 MiB body", "", params(5_000_000), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req := formRequest(t, "https://api.example.com/p?"+tt.query, tt.body)
			err := fixedOAuth1().Apply(context.Background(), oauth1Conn, req)
			switch {
			case !tt.wantErr && err != nil:
				t.Fatalf("err = %v", err)
			case tt.wantErr && !errors.Is(err, schemes.ErrTooManyParams):
				t.Fatalf("err = %v, want ErrTooManyParams", err)
			case tt.wantErr:
				if req.Header.Get("Authorization") != "" {
					t.Error("Authorization set on a refused request")
				}
			default:
				if !strings.HasPrefix(req.Header.Get("Authorization"), "OAuth ") {
					t.Errorf("Authorization %q", req.Header.Get("Authorization"))
				}
			}
			if tt.body != "" { // the body is still the caller's, whole
				b, _ := io.ReadAll(req.Body)
				if string(b) != tt.body {
					t.Errorf("body after Apply: %d bytes, want %d", len(b), len(tt.body))
				}
			}
		})
	}
}

// referenceSignature is RFC 5849's HMAC-SHA1 signature of a form request,
// computed the plain way (decode, encode, sort, join, encode): the
// streaming signer must give the same.
// It is false when the query or body is not valid form encoding.
func referenceSignature(method string, u *url.URL, body string, oauth [][2]string, key string) (string, bool) {
	var ps [][2]string
	for _, s := range []string{u.RawQuery, body} {
		for part := range strings.SplitSeq(s, "&") {
			if part == "" {
				continue
			}
			k, v, _ := strings.Cut(part, "=")
			dk, err1 := url.QueryUnescape(k)
			dv, err2 := url.QueryUnescape(v)
			if err1 != nil || err2 != nil {
				return "", false
			}
			ps = append(ps, [2]string{rfc3986(dk), rfc3986(dv)})
		}
	}
	for _, p := range oauth {
		ps = append(ps, [2]string{rfc3986(p[0]), rfc3986(p[1])})
	}
	slices.SortFunc(ps, func(a, b [2]string) int { return cmp.Or(strings.Compare(a[0], b[0]), strings.Compare(a[1], b[1])) })
	var norm []string
	for _, p := range ps {
		norm = append(norm, p[0]+"="+p[1])
	}
	uri := strings.ToLower(u.Scheme) + "://" + strings.ToLower(u.Host) + u.EscapedPath()
	return hmacSHA1(key, method+"&"+rfc3986(uri)+"&"+rfc3986(strings.Join(norm, "&"))), true
}

// testOAuth1Params are the oauth_* parameters fixedOAuth1 sends for
// oauth1Conn.
var testOAuth1Params = [][2]string{{"oauth_consumer_key", "ck"}, {"oauth_nonce", "n0nce"}, {"oauth_signature_method", "HMAC-SHA1"},
	{"oauth_timestamp", "1700000000"}, {"oauth_token", "tok"}, {"oauth_version", "1.0"}}

// rfc3986 is RFC 5849 section 3.6's percent-encoding.
func rfc3986(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || strings.IndexByte("-._~", c) >= 0 {
			b.WriteByte(c)
		} else {
			b.WriteString("%" + strings.ToUpper(string("0123456789abcdef"[c>>4])+string("0123456789abcdef"[c&15])))
		}
	}
	return b.String()
}

// TestOAuth1SignatureReference: signatures over forms that exercise
// decoding, encoding and sort order equal the plain computation's.
func TestOAuth1SignatureReference(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ name, query, body string }{
		{"empty", "", ""},
		{"plus and percent-2B", "a=1+2&b=1%2B2", "c=%20&d=+"},
		{"sort by encoded form: dot after slash", "k=.", "k=%2F"},
		{"tilde and brace", "x=~&x=%7D&x=}", ""},
		{"duplicate keys sorted by value", "a=2&a=10&a=1", "a=&a"},
		{"empty key and value", "=v&=&k=", "="},
		{"equals in value", "a=b=c", "d==e"},
		{"utf-8 and controls", "n=%C3%A9t%C3%A9", "m=%00%0A%FF&%E2%9C%93=ok"},
		{"oauth-like names", "oauth_nonce=x", "oauth_token=y&z=%25"},
		{"empty parts", "&&a=1&&", "&b=2&"},
		{"long value", "", "v=" + strings.Repeat("%2F!~", 5000)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rawURL := "https://API.example.com/a%20path/x?" + tt.query
			req := formRequest(t, rawURL, tt.body)
			if err := fixedOAuth1().Apply(context.Background(), oauth1Conn, req); err != nil {
				t.Fatal(err)
			}
			want, ok := referenceSignature("POST", req.URL, tt.body, testOAuth1Params, "cs&ts")
			if !ok {
				t.Fatal("bad test input")
			}
			if got := oauthParams(t, req.Header.Get("Authorization"))["oauth_signature"]; got != want {
				t.Errorf("signature %q, want %q", got, want)
			}
		})
	}
}

// FuzzOAuth1Signature: for any query and form body, OAuth1 signs as the
// plain computation does, or refuses what url.QueryUnescape refuses.
func FuzzOAuth1Signature(f *testing.F) {
	for _, s := range [][2]string{{"", ""}, {"a=1+2", "b=%2B&c"}, {"k=.", "k=%2F"}, {"=&&%41=%7e", "a%=b"}, {"x=%zz", ""}, {"%", "%4"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, query, body string) {
		if strings.Count(query+"&"+body, "&") >= schemes.MaxSignedParams {
			t.Skip()
		}
		req := formRequest(t, "https://api.example.com/p", body)
		req.URL.RawQuery = query
		err := fixedOAuth1().Apply(context.Background(), oauth1Conn, req)
		want, ok := referenceSignature("POST", req.URL, body, testOAuth1Params, "cs&ts")
		switch {
		case !ok && err == nil:
			t.Fatalf("query %q body %q: signed, want refused as malformed", query, body)
		case !ok:
			if !strings.Contains(err.Error(), "malformed") {
				t.Fatalf("err = %v", err)
			}
		case err != nil:
			t.Fatalf("query %q body %q: %v", query, body, err)
		default:
			if got := oauthParams(t, req.Header.Get("Authorization"))["oauth_signature"]; got != want {
				t.Fatalf("query %q body %q: signature %q, want %q", query, body, got, want)
			}
		}
	})
}

// BenchmarkOAuth1Form is the cost of signing a form body:
// B/op over the body's length is alloc/body-byte. "small" is an ordinary
// form; "limit-empty" and "limit-10MiB" carry MaxSignedParams parameters
// (empty ones, and ~1 KiB ones percent-encoded, 10 MiB in all);
// "hostile-5M" is 10 MiB of empty parameters, over the limit (refused).
func BenchmarkOAuth1Form(b *testing.B) {
	long := strings.Repeat("%2F!", 256) // 1 KiB: "/" and "!", percent-encoded
	bigParams := make([]string, schemes.MaxSignedParams)
	for i := range bigParams {
		bigParams[i] = "k=" + long
	}
	for _, bb := range []struct{ name, body string }{
		{"small", "status=Hello%20Ladies%20%2B%20Gentlemen&include_entities=true&lang=en"},
		{"limit-empty", params(schemes.MaxSignedParams)},
		{"limit-10MiB", strings.Join(bigParams, "&")},
		{"hostile-5M", params(5_000_000)},
	} {
		b.Run(bb.name, func(b *testing.B) {
			a := fixedOAuth1()
			ctx := context.Background()
			var ms0, ms1 runtime.MemStats
			runtime.ReadMemStats(&ms0)
			b.ReportAllocs()
			for b.Loop() {
				req := formRequest(b, "https://api.example.com/1.1/statuses/update.json", bb.body)
				req.GetBody = nil // read and put back: the costlier path
				err := a.Apply(ctx, oauth1Conn, req)
				if err != nil && !errors.Is(err, schemes.ErrTooManyParams) {
					b.Fatal(err)
				}
			}
			runtime.ReadMemStats(&ms1)
			b.ReportMetric(float64(ms1.TotalAlloc-ms0.TotalAlloc)/float64(b.N)/float64(len(bb.body)), "alloc/body-byte")
			b.SetBytes(int64(len(bb.body)))
		})
	}
}
