package schemes_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/composiohttp/composiohttp/credentials"
	"github.com/composiohttp/composiohttp/schemes"
)

// oauthParams parses an "Authorization: OAuth ..." header.
func oauthParams(t *testing.T, h string) map[string]string {
	t.Helper()
	rest, ok := strings.CutPrefix(h, "OAuth ")
	if !ok {
		t.Fatalf("header %q is not OAuth", h)
	}
	m := map[string]string{}
	for _, p := range strings.Split(rest, ", ") {
		k, v, _ := strings.Cut(p, "=")
		uv, err := url.PathUnescape(strings.Trim(v, `"`))
		if err != nil {
			t.Fatal(err)
		}
		m[k] = uv
	}
	return m
}

func TestOAuth1Vectors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		method     string
		url        string
		body       string
		getBody    bool // request built with GetBody
		adapter    *schemes.OAuth1
		val        credentials.Val
		wantSig    string
		wantHeader string // exact, when set
	}{
		{
			// RFC 5849 section 1.2, the final request for the photo.
			name: "RFC 5849 1.2 photos", method: "GET",
			url: "http://photos.example.net/photos?file=vacation.jpg&size=original",
			adapter: &schemes.OAuth1{ConsumerSecret: "kd94hf93k423kf44", Realm: "Photos", OmitVersion: true,
				Now: func() time.Time { return time.Unix(137131202, 0) }, Nonce: func() string { return "chapoH" }},
			val:     credentials.Val{ConsumerKey: "dpf43f3p2l4k3l03", OAuthToken: "nnch734d00sl2jdk", OAuthTokenSecret: "pfkkdhi9sl3r4s00"},
			wantSig: "MdpQcU8iPSUjWoN/UDMsK2sui9I=",
			wantHeader: `OAuth realm="Photos", oauth_consumer_key="dpf43f3p2l4k3l03", oauth_nonce="chapoH", ` +
				`oauth_signature_method="HMAC-SHA1", oauth_timestamp="137131202", oauth_token="nnch734d00sl2jdk", ` +
				`oauth_signature="MdpQcU8iPSUjWoN%2FUDMsK2sui9I%3D"`,
		},
		{
			// OAuth Core 1.0 Appendix A.5 (the same resource, with
			// oauth_version=1.0), whose signature is the well-known
			// "tR3+Ty81lMeYAr/Fid0kMTYa/WM=". The consumer secret comes
			// from the connection's client_secret.
			name: "OAuth Core 1.0 A.5", method: "GET",
			url: "http://photos.example.net/photos?file=vacation.jpg&size=original",
			adapter: &schemes.OAuth1{
				Now: func() time.Time { return time.Unix(1191242096, 0) }, Nonce: func() string { return "kllo9940pd9333jh" }},
			val: credentials.Val{ConsumerKey: "dpf43f3p2l4k3l03", ClientSecret: "kd94hf93k423kf44",
				OAuthToken: "nnch734d00sl2jdk", OAuthTokenSecret: "pfkkdhi9sl3r4s00"},
			wantSig: "tR3+Ty81lMeYAr/Fid0kMTYa/WM=",
		},
		{
			// Same request on port 80 and with an upper-case host: the base
			// string URI drops the default port and lowercases (3.4.1.2).
			name: "default port and case normalised", method: "GET",
			url: "http://Photos.Example.NET:80/photos?size=original&file=vacation.jpg",
			adapter: &schemes.OAuth1{ConsumerSecret: "kd94hf93k423kf44",
				Now: func() time.Time { return time.Unix(1191242096, 0) }, Nonce: func() string { return "kllo9940pd9333jh" }},
			val:     credentials.Val{ConsumerKey: "dpf43f3p2l4k3l03", OAuthToken: "nnch734d00sl2jdk", OAuthTokenSecret: "pfkkdhi9sl3r4s00"},
			wantSig: "tR3+Ty81lMeYAr/Fid0kMTYa/WM=",
		},
		{
			// RFC 5849 section 3.1 / 3.4.1.1, with its form body. The RFC
			// prints this request's base string in full (checked in
			// TestOAuth1BaseStringRFC); the signature it prints,
			// "bYT5CMsGcbgUdFHObYMEfcx6bsw=", cannot be reproduced from the
			// secrets it names ("j49sk3j29djd", "dh893hdasih9"), so the
			// value here is HMAC-SHA1 of the RFC's own base string with
			// those secrets, computed independently.
			name: "RFC 5849 3.1 form body", method: "POST",
			url:  "http://example.com/request?b5=%3D%253D&a3=a&c%40=&a2=r%20b",
			body: "c2&a3=2+q",
			adapter: &schemes.OAuth1{ConsumerSecret: "j49sk3j29djd", Realm: "Example", OmitVersion: true,
				Now: func() time.Time { return time.Unix(137131201, 0) }, Nonce: func() string { return "7d8f3e4a" }},
			val:     credentials.Val{ConsumerKey: "9djdj82h48djs9d2", OAuthToken: "kkk9d7dh3k39sjv7", OAuthTokenSecret: "dh893hdasih9"},
			wantSig: "r6/TJjbCOr97/+UU0NsvSne7s5g=",
		},
		{
			name: "RFC 5849 3.1 form body via GetBody", method: "POST", getBody: true,
			url:  "http://example.com/request?b5=%3D%253D&a3=a&c%40=&a2=r%20b",
			body: "c2&a3=2+q",
			adapter: &schemes.OAuth1{ConsumerSecret: "j49sk3j29djd", OmitVersion: true,
				Now: func() time.Time { return time.Unix(137131201, 0) }, Nonce: func() string { return "7d8f3e4a" }},
			val:     credentials.Val{ConsumerKey: "9djdj82h48djs9d2", OAuthToken: "kkk9d7dh3k39sjv7", OAuthTokenSecret: "dh893hdasih9"},
			wantSig: "r6/TJjbCOr97/+UU0NsvSne7s5g=",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var req *http.Request
			var tb *trackedBody
			switch {
			case tt.body == "":
				req = mustRequest(t, tt.method, tt.url)
			case tt.getBody:
				req, _ = http.NewRequest(tt.method, tt.url, strings.NewReader(tt.body))
			default:
				tb = newBody(tt.body)
				req, _ = http.NewRequest(tt.method, tt.url, tb)
			}
			if tt.body != "" {
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
			c := &credentials.Connection{AuthScheme: credentials.OAuth1, Val: tt.val}
			if err := tt.adapter.Apply(context.Background(), c, req); err != nil {
				t.Fatal(err)
			}
			h := req.Header.Get("Authorization")
			if got := oauthParams(t, h)["oauth_signature"]; got != tt.wantSig {
				t.Errorf("signature = %q, want %q (header %s)", got, tt.wantSig, h)
			}
			if tt.wantHeader != "" && h != tt.wantHeader {
				t.Errorf("header\n got %s\nwant %s", h, tt.wantHeader)
			}
			if tt.body != "" {
				b, _ := io.ReadAll(req.Body)
				if string(b) != tt.body {
					t.Errorf("body after Apply = %q, want %q", b, tt.body)
				}
				if tb != nil && !tb.Closed() {
					t.Error("replaced body not closed")
				}
			}
		})
	}
}

// TestOAuth1BaseStringRFC checks the base string of RFC 5849 section
// 3.4.1.1 by verifying the signature with it: HMAC-SHA1 over the RFC's
// printed base string equals what the adapter produced.
func TestOAuth1BaseStringRFC(t *testing.T) {
	t.Parallel()
	const base = "POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3%3D2%2520q" +
		"%26a3%3Da%26b5%3D%253D%25253D%26c%2540%3D%26c2%3D%26oauth_consumer_" +
		"key%3D9djdj82h48djs9d2%26oauth_nonce%3D7d8f3e4a%26oauth_signature_m" +
		"ethod%3DHMAC-SHA1%26oauth_timestamp%3D137131201%26oauth_token%3Dkkk" +
		"9d7dh3k39sjv7"
	req, _ := http.NewRequest("POST", "http://example.com/request?b5=%3D%253D&a3=a&c%40=&a2=r%20b", strings.NewReader("c2&a3=2+q"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	a := &schemes.OAuth1{ConsumerSecret: "j49sk3j29djd", OmitVersion: true,
		Now: func() time.Time { return time.Unix(137131201, 0) }, Nonce: func() string { return "7d8f3e4a" }}
	c := &credentials.Connection{AuthScheme: credentials.OAuth1, Val: credentials.Val{
		ConsumerKey: "9djdj82h48djs9d2", OAuthToken: "kkk9d7dh3k39sjv7", OAuthTokenSecret: "dh893hdasih9"}}
	if err := a.Apply(context.Background(), c, req); err != nil {
		t.Fatal(err)
	}
	want := hmacSHA1("j49sk3j29djd&dh893hdasih9", base)
	if got := oauthParams(t, req.Header.Get("Authorization"))["oauth_signature"]; got != want {
		t.Errorf("signature %q does not sign the RFC's base string (want %q)", got, want)
	}
}

func TestOAuth1Defaults(t *testing.T) {
	t.Parallel()
	a := &schemes.OAuth1{ConsumerSecret: "cs"}
	c := &credentials.Connection{AuthScheme: credentials.OAuth1, Val: credentials.Val{
		ConsumerKey: "ck", OAuthToken: "t", OAuthTokenSecret: "ts"}}
	seen := map[string]bool{}
	for range 3 {
		req := mustRequest(t, "GET", "https://api.twitter.com/1.1/x.json")
		if err := a.Apply(context.Background(), c, req); err != nil {
			t.Fatal(err)
		}
		p := oauthParams(t, req.Header.Get("Authorization"))
		if p["oauth_version"] != "1.0" || p["oauth_consumer_key"] != "ck" || p["oauth_token"] != "t" || len(p["oauth_nonce"]) != 32 {
			t.Errorf("params %v", p)
		}
		seen[p["oauth_nonce"]] = true
	}
	if len(seen) != 3 {
		t.Error("nonces repeat")
	}
}

func TestOAuth1PrintsNoSecret(t *testing.T) {
	t.Parallel()
	a := schemes.OAuth1{ConsumerKey: "ck", ConsumerSecret: "very-secret"}
	for _, f := range []string{"%v", "%+v", "%#v", "%s"} {
		if s := fmt.Sprintf(f, a); strings.Contains(s, "very-secret") {
			t.Errorf("%s shows the secret: %s", f, s)
		}
		if s := fmt.Sprintf(f, &a); strings.Contains(s, "very-secret") {
			t.Errorf("%s of pointer shows the secret: %s", f, s)
		}
	}
}

// countingBody counts its Close calls.
type countingBody struct {
	io.Reader
	closes atomic.Int32
}

func (b *countingBody) Close() error { b.closes.Add(1); return nil }

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }

// TestOAuth1BodyClosedOnce: through the direct Transport, the caller's
// form body is closed exactly once whether reading it fails, it is
// malformed, too large, or signed and sent.
func TestOAuth1BodyClosedOnce(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
	}))
	t.Cleanup(srv.Close)
	conn := &credentials.Connection{AuthScheme: credentials.OAuth1, ToolkitSlug: "x",
		Val: credentials.Val{ConsumerKey: "ck", OAuthToken: "t", OAuthTokenSecret: "s", BaseURL: srv.URL}}
	tr := &schemes.Transport{Connection: conn, Base: srv.Client().Transport}
	tests := []struct {
		name    string
		body    io.Reader
		wantErr error // nil: success
		errText string
	}{
		{"signed and sent", strings.NewReader("a=1&b=2"), nil, ""},
		{"read fails", failingReader{}, nil, "disk on fire"},
		{"malformed", strings.NewReader("a=%zz"), nil, "malformed form body"},
		{"too large", io.LimitReader(repeatReader('a'), schemes.MaxFormBody+1), schemes.ErrBodyTooLarge, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			body := &countingBody{Reader: tt.body}
			req, err := http.NewRequest("POST", srv.URL+"/p", body)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			resp, err := tr.RoundTrip(req)
			switch {
			case tt.errText == "" && tt.wantErr == nil:
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
			case err == nil:
				resp.Body.Close()
				t.Fatal("no error")
			case tt.wantErr != nil && !errors.Is(err, tt.wantErr), !strings.Contains(err.Error(), tt.errText):
				t.Errorf("err = %v", err)
			}
			if n := body.closes.Load(); n != 1 {
				t.Errorf("body closed %d times, want 1", n)
			}
		})
	}
}

// TestOAuth1DeclaredTooLarge: a form body whose ContentLength is over the
// limit is refused without being read.
func TestOAuth1DeclaredTooLarge(t *testing.T) {
	t.Parallel()
	body := &countingBody{Reader: failingReader{}}
	req, _ := http.NewRequest("POST", "https://api.example.com/p", body)
	req.ContentLength = schemes.MaxFormBody + 1
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	c := &credentials.Connection{AuthScheme: credentials.OAuth1, Val: credentials.Val{ConsumerKey: "ck"}}
	if err := (&schemes.OAuth1{}).Apply(context.Background(), c, req); !errors.Is(err, schemes.ErrBodyTooLarge) {
		t.Errorf("err = %v", err)
	}
	if body.closes.Load() != 0 || req.Body != body {
		t.Error("Apply closed or replaced a body it failed on; the caller closes it")
	}
}

// repeatReader reads the same byte forever.
type repeatReader byte

func (r repeatReader) Read(p []byte) (int, error) {
	if len(p) > 0 {
		p[0] = byte(r)
		for n := 1; n < len(p); n *= 2 {
			copy(p[n:], p[:n])
		}
	}
	return len(p), nil
}
