package schemes

import (
	"bytes"
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/composiohttp/composiohttp"
	"github.com/composiohttp/composiohttp/credentials"
)

// OAuth1 is the OAUTH1 adapter: an RFC 5849 HMAC-SHA1 signature sent in
// "Authorization: OAuth ...". The signature covers the method, the
// request URI, the query parameters and, for an
// application/x-www-form-urlencoded body, the body's parameters (the body
// is read through GetBody when the request has it, else read and put back
// on the request; a form body over MaxFormBody is ErrBodyTooLarge).
//
// The consumer key is the connection's consumer_key, else ConsumerKey. The
// consumer secret is not part of a connection (Composio's auth config
// holds it): it is ConsumerSecret, else the connection's client_secret,
// else empty. The token is oauth_token with secret oauth_token_secret.
//
// The zero value is ready to use and safe for concurrent use.
type OAuth1 struct {
	// ConsumerKey is used when the connection has no consumer_key.
	ConsumerKey string
	// ConsumerSecret is the client shared secret.
	ConsumerSecret string
	// Realm, when set, is sent as the realm parameter (not signed).
	Realm string
	// OmitVersion leaves out oauth_version="1.0", which RFC 5849 makes
	// optional. Default: sent, as most providers document it.
	OmitVersion bool
	// Now tells oauth_timestamp. Default: time.Now.
	Now func() time.Time
	// Nonce makes oauth_nonce. Default: 16 random bytes in hex.
	Nonce func() string
}

// String describes a without its consumer secret, so configuration can be
// logged.
func (a OAuth1) String() string {
	secret := ""
	if a.ConsumerSecret != "" {
		secret = credentials.Redacted
	}
	return fmt.Sprintf("schemes.OAuth1{ConsumerKey:%q ConsumerSecret:%s Realm:%q OmitVersion:%t}",
		a.ConsumerKey, secret, a.Realm, a.OmitVersion)
}

// GoString is String, for %#v.
func (a OAuth1) GoString() string { return a.String() }

// Apply signs req and sets its Authorization header.
func (a *OAuth1) Apply(_ context.Context, c *credentials.Connection, req *http.Request) error {
	v := &c.Val
	ck := cmp.Or(v.ConsumerKey, a.ConsumerKey)
	if ck == "" {
		return &MissingFieldError{Scheme: c.AuthScheme, Field: "consumer_key"}
	}
	oauth := [][2]string{
		{"oauth_consumer_key", ck},
		{"oauth_nonce", a.nonce()},
		{"oauth_signature_method", "HMAC-SHA1"},
		{"oauth_timestamp", strconv.FormatInt(nowOr(a.Now).Unix(), 10)},
	}
	if v.OAuthToken != "" {
		oauth = append(oauth, [2]string{"oauth_token", v.OAuthToken})
	}
	if !a.OmitVersion {
		oauth = append(oauth, [2]string{"oauth_version", "1.0"})
	}
	params, err := requestParams(req)
	if err != nil {
		return err
	}
	params = append(params, oauth...)
	base := signatureBase(req, params)
	mac := hmac.New(sha1.New, []byte(encode(cmp.Or(a.ConsumerSecret, v.ClientSecret))+"&"+encode(v.OAuthTokenSecret)))
	mac.Write([]byte(base))
	oauth = append(oauth, [2]string{"oauth_signature", base64.StdEncoding.EncodeToString(mac.Sum(nil))})

	var h strings.Builder
	h.WriteString("OAuth ")
	if a.Realm != "" {
		h.WriteString(`realm="` + encode(a.Realm) + `", `)
	}
	for i, p := range oauth {
		if i > 0 {
			h.WriteString(", ")
		}
		h.WriteString(encode(p[0]) + `="` + encode(p[1]) + `"`)
	}
	req.Header.Set("Authorization", h.String())
	return nil
}

func (a *OAuth1) nonce() string {
	if a.Nonce != nil {
		return a.Nonce()
	}
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// requestParams collects the query and form-body parameters (RFC 5849
// section 3.4.1.3.1), decoded.
func requestParams(req *http.Request) ([][2]string, error) {
	params, err := parseForm(req.URL.RawQuery)
	if err != nil {
		return nil, errors.New("schemes: OAUTH1: malformed query string")
	}
	if req.Body == nil || req.Body == http.NoBody {
		return params, nil
	}
	mt, _, _ := mime.ParseMediaType(req.Header.Get("Content-Type"))
	if mt != "application/x-www-form-urlencoded" {
		return params, nil
	}
	body, err := readBody(req)
	if err != nil {
		return nil, err
	}
	bp, err := parseForm(string(body))
	if err != nil {
		return nil, errors.New("schemes: OAUTH1: malformed form body")
	}
	return append(params, bp...), nil
}

// readBody returns req's body, leaving req able to send it again: through
// GetBody when set, else by reading Body and replacing it with a copy
// (closing the original, as Adapter requires). On error req.Body is left
// in place and open: its owner closes it. Bodies over MaxFormBody are
// ErrBodyTooLarge.
func readBody(req *http.Request) ([]byte, error) {
	if req.ContentLength > MaxFormBody {
		return nil, errFormTooLarge
	}
	if req.GetBody != nil {
		if rc, err := req.GetBody(); err == nil {
			b, err := readLimited(rc)
			rc.Close()
			if err == nil || errors.Is(err, ErrBodyTooLarge) {
				return b, err
			}
		}
	}
	b, err := readLimited(req.Body)
	if err != nil {
		return nil, err
	}
	req.Body.Close()
	req.Body = io.NopCloser(bytes.NewReader(b))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	req.ContentLength = int64(len(b))
	return b, nil
}

// readLimited reads r to its end, at most MaxFormBody bytes.
func readLimited(r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxFormBody+1))
	if err != nil {
		return nil, fmt.Errorf("schemes: OAUTH1: reading form body: %w", err)
	}
	if len(b) > MaxFormBody {
		return nil, errFormTooLarge
	}
	return b, nil
}

func parseForm(s string) ([][2]string, error) {
	var out [][2]string
	for _, part := range strings.Split(s, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		dk, err := url.QueryUnescape(k)
		if err != nil {
			return nil, err
		}
		dv, err := url.QueryUnescape(v)
		if err != nil {
			return nil, err
		}
		out = append(out, [2]string{dk, dv})
	}
	return out, nil
}

// signatureBase builds the signature base string of RFC 5849 section
// 3.4.1 from req and its decoded parameters.
func signatureBase(req *http.Request, params [][2]string) string {
	enc := make([][2]string, len(params))
	for i, p := range params {
		enc[i] = [2]string{encode(p[0]), encode(p[1])}
	}
	sort.Slice(enc, func(i, j int) bool {
		if enc[i][0] != enc[j][0] {
			return enc[i][0] < enc[j][0]
		}
		return enc[i][1] < enc[j][1]
	})
	var norm strings.Builder
	for i, p := range enc {
		if i > 0 {
			norm.WriteByte('&')
		}
		norm.WriteString(p[0] + "=" + p[1])
	}
	return encode(strings.ToUpper(req.Method)) + "&" + encode(baseURI(req)) + "&" + encode(norm.String())
}

// baseURI is the base string URI of RFC 5849 section 3.4.1.2.
func baseURI(req *http.Request) string {
	scheme := strings.ToLower(req.URL.Scheme)
	if scheme == "" {
		scheme = "https"
	}
	host := strings.ToLower(cmp.Or(req.Host, req.URL.Host))
	if h, port, err := net.SplitHostPort(host); err == nil &&
		(scheme == "http" && port == "80" || scheme == "https" && port == "443") {
		host = h
		if strings.Contains(h, ":") {
			host = "[" + h + "]"
		}
	}
	path := req.URL.EscapedPath()
	if path == "" {
		path = "/"
	}
	return scheme + "://" + host + path
}

// encode is the percent-encoding of RFC 5849 section 3.6: everything but
// ALPHA, DIGIT, "-", ".", "_" and "~" as %XX with uppercase hex.
func encode(s string) string {
	const hexd = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexd[c>>4])
		b.WriteByte(hexd[c&15])
	}
	return b.String()
}

// MaxFormBody is the largest application/x-www-form-urlencoded body, in
// bytes, OAuth1 reads to sign its parameters: 10 MiB.
const MaxFormBody = 10 << 20

// ErrBodyTooLarge is composiohttp.ErrBodyTooLarge, the one "request body
// too large" error of the module: OAuth1 returns an error matching it
// (errors.Is) for a form body longer than MaxFormBody.
var ErrBodyTooLarge = composiohttp.ErrBodyTooLarge

// errFormTooLarge is OAuth1's refusal of a form body over MaxFormBody.
var errFormTooLarge = fmt.Errorf("schemes: OAUTH1: form body over MaxFormBody (10 MiB): %w", ErrBodyTooLarge)
