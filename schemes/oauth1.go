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
	"math"
	"mime"
	"net"
	"net/http"
	"slices"
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
// on the request; a form body over MaxFormBody is ErrBodyTooLarge). More
// than MaxSignedParams query and form parameters together are refused with
// ErrTooManyParams. Signing takes memory proportional to the body (its
// parameters encoded once, plus 12 bytes a parameter): the signature base
// string is streamed into the HMAC, never built.
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
	sp, err := requestParams(req, oauth)
	if err != nil {
		return err
	}
	mac := hmac.New(sha1.New, []byte(encode(cmp.Or(a.ConsumerSecret, v.ClientSecret))+"&"+encode(v.OAuthTokenSecret)))
	sp.writeBase(mac, req)
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
// section 3.4.1.3.1) and the oauth_* ones, at most MaxSignedParams of the
// former (ErrTooManyParams), encoded (section 3.6) and sorted (section
// 3.4.1.3.2). The form body is scanned twice, once to count, check and
// size, once to encode into a buffer of exactly that size: the memory used
// is the body's, encoded, plus 12 bytes a parameter.
func requestParams(req *http.Request, oauth [][2]string) (*sigParams, error) {
	query := []byte(req.URL.RawQuery)
	nq, size, err := scanForm(query, MaxSignedParams)
	if err != nil {
		if errors.Is(err, ErrTooManyParams) {
			return nil, err
		}
		return nil, errors.New("schemes: OAUTH1: malformed query string")
	}
	var body []byte
	nb := 0
	if req.Body != nil && req.Body != http.NoBody {
		if mt, _, _ := mime.ParseMediaType(req.Header.Get("Content-Type")); mt == "application/x-www-form-urlencoded" {
			if body, err = readBody(req); err != nil {
				return nil, err
			}
			var bsize int
			if nb, bsize, err = scanForm(body, MaxSignedParams-nq); err != nil {
				if errors.Is(err, ErrTooManyParams) {
					return nil, err
				}
				return nil, errors.New("schemes: OAUTH1: malformed form body")
			}
			size += bsize
		}
	}
	for _, p := range oauth {
		size += encodedLen(p[0]) + encodedLen(p[1])
	}
	if uint64(size) > math.MaxUint32 {
		return nil, errors.New("schemes: OAUTH1: parameters too long to sign")
	}
	sp := &sigParams{buf: make([]byte, 0, size), ps: make([]sigParam, 0, nq+nb+len(oauth))}
	sp.addForm(query)
	sp.addForm(body)
	for _, p := range oauth {
		start := len(sp.buf)
		sp.buf = appendEncoded(sp.buf, p[0])
		mid := len(sp.buf)
		sp.buf = appendEncoded(sp.buf, p[1])
		sp.ps = append(sp.ps, sigParam{uint32(start), uint32(mid), uint32(len(sp.buf))})
	}
	slices.SortFunc(sp.ps, func(x, y sigParam) int {
		return cmp.Or(bytes.Compare(sp.name(x), sp.name(y)), bytes.Compare(sp.value(x), sp.value(y)))
	})
	return sp, nil
}

// sigParams are the parameters a signature covers, each name and value
// percent-encoded (RFC 5849 section 3.6) once, back to back in buf.
type sigParams struct {
	buf []byte
	ps  []sigParam
}

// sigParam is one parameter: its name is buf[start:mid], its value
// buf[mid:end].
type sigParam struct{ start, mid, end uint32 }

func (s *sigParams) name(p sigParam) []byte  { return s.buf[p.start:p.mid] }
func (s *sigParams) value(p sigParam) []byte { return s.buf[p.mid:p.end] }

// scanForm counts the parameters of the form-encoded s ("a=1&b&&c=" has
// three; empty parts are none), stopping with ErrTooManyParams at the
// first past limit, and returns the length of their names and values
// percent-encoded. Its error is errMalformedForm for a "%" not followed by
// two hex digits within its name or value (as url.QueryUnescape).
func scanForm(s []byte, limit int) (n, size int, err error) {
	for len(s) > 0 {
		part := s
		if i := bytes.IndexByte(s, '&'); i >= 0 {
			part, s = s[:i], s[i+1:]
		} else {
			s = nil
		}
		if len(part) == 0 {
			continue
		}
		if n++; n > limit {
			return 0, 0, ErrTooManyParams
		}
		k, v, _ := bytes.Cut(part, []byte("="))
		for _, seg := range [2][]byte{k, v} {
			for i := 0; i < len(seg); i++ {
				c := seg[i]
				if c == '%' {
					if i+2 >= len(seg) || unhex(seg[i+1]) < 0 || unhex(seg[i+2]) < 0 {
						return 0, 0, errMalformedForm
					}
					c = byte(unhex(seg[i+1])<<4 | unhex(seg[i+2]))
					i += 2
				}
				size += 1 + 2*int(encodeTable[c]&1)
			}
		}
	}
	return n, size, nil
}

// addForm adds the parameters of s, which scanForm has accepted, decoding
// each name and value and encoding it into s.buf.
func (s *sigParams) addForm(form []byte) {
	for len(form) > 0 {
		part := form
		if i := bytes.IndexByte(form, '&'); i >= 0 {
			part, form = form[:i], form[i+1:]
		} else {
			form = nil
		}
		if len(part) == 0 {
			continue
		}
		k, v, _ := bytes.Cut(part, []byte("="))
		start := len(s.buf)
		s.buf = transcode(s.buf, k)
		mid := len(s.buf)
		s.buf = transcode(s.buf, v)
		s.ps = append(s.ps, sigParam{uint32(start), uint32(mid), uint32(len(s.buf))})
	}
}

// transcode appends the form-encoded seg (valid, per scanForm) decoded
// and then percent-encoded by RFC 5849 section 3.6 to dst.
func transcode(dst, seg []byte) []byte {
	for i := 0; i < len(seg); i++ {
		c := seg[i]
		switch c {
		case '+':
			c = ' '
		case '%':
			c = byte(unhex(seg[i+1])<<4 | unhex(seg[i+2]))
			i += 2
		}
		dst = appendEncodedByte(dst, c)
	}
	return dst
}

// writeBase writes the signature base string of RFC 5849 section 3.4.1
// to w (the HMAC), without building it: method, base string URI and the
// sorted parameters, each encoded once more, through a buffer of at most
// 4 KiB.
func (s *sigParams) writeBase(w io.Writer, req *http.Request) {
	bw := &baseWriter{w: w, buf: make([]byte, 0, min(4096, 256+len(s.buf)))}
	bw.writeString(encode(strings.ToUpper(req.Method)))
	bw.writeString("&")
	bw.writeString(encode(baseURI(req)))
	bw.writeString("&")
	for i, p := range s.ps {
		if i > 0 {
			bw.writeString("%26") // "&"
		}
		bw.reencode(s.name(p))
		bw.writeString("%3D") // "="
		bw.reencode(s.value(p))
	}
	bw.flush()
}

// baseWriter buffers the writes of writeBase.
type baseWriter struct {
	w   io.Writer
	buf []byte
}

func (b *baseWriter) flush() {
	b.w.Write(b.buf)
	b.buf = b.buf[:0]
}

func (b *baseWriter) writeString(s string) {
	if len(b.buf)+len(s) > cap(b.buf) {
		b.flush()
		if len(s) > cap(b.buf) {
			io.WriteString(b.w, s)
			return
		}
	}
	b.buf = append(b.buf, s...)
}

// reencode writes the percent-encoding of p, which is already
// percent-encoded (unreserved bytes and "%XX"): only "%" changes, to "%25".
func (b *baseWriter) reencode(p []byte) {
	for _, c := range p {
		if len(b.buf)+3 > cap(b.buf) {
			b.flush()
		}
		if c == '%' {
			b.buf = append(b.buf, "%25"...)
		} else {
			b.buf = append(b.buf, c)
		}
	}
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
			b, err := readLimited(rc, req.ContentLength)
			rc.Close()
			if err == nil || errors.Is(err, ErrBodyTooLarge) {
				return b, err
			}
		}
	}
	b, err := readLimited(req.Body, req.ContentLength)
	if err != nil {
		return nil, err
	}
	req.Body.Close()
	req.Body = io.NopCloser(bytes.NewReader(b))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	req.ContentLength = int64(len(b))
	return b, nil
}

// readLimited reads r to its end, at most MaxFormBody bytes, into one
// buffer of size+bytes.MinRead when size (a declared length) is known.
func readLimited(r io.Reader, size int64) ([]byte, error) {
	var buf bytes.Buffer
	if size > 0 && size <= MaxFormBody {
		buf.Grow(int(size) + bytes.MinRead)
	}
	if _, err := buf.ReadFrom(io.LimitReader(r, MaxFormBody+1)); err != nil {
		return nil, fmt.Errorf("schemes: OAUTH1: reading form body: %w", err)
	}
	if buf.Len() > MaxFormBody {
		return nil, errFormTooLarge
	}
	return buf.Bytes(), nil
}

// errMalformedForm is scanForm's error for a bad "%" escape.
var errMalformedForm = errors.New("schemes: OAUTH1: malformed form encoding")

// unhex is the value of the hex digit c, or -1.
func unhex(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c - 'a' + 10)
	case 'A' <= c && c <= 'F':
		return int(c - 'A' + 10)
	}
	return -1
}

// encodeTable marks (bit 0) the bytes RFC 5849 section 3.6 percent-encodes:
// all but ALPHA, DIGIT, "-", ".", "_" and "~".
var encodeTable = func() (t [256]byte) {
	for c := range 256 {
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~') {
			t[c] = 1
		}
	}
	return t
}()

// appendEncodedByte appends c percent-encoded (RFC 5849 section 3.6) to dst.
func appendEncodedByte(dst []byte, c byte) []byte {
	const hexd = "0123456789ABCDEF"
	if encodeTable[c] == 0 {
		return append(dst, c)
	}
	return append(dst, '%', hexd[c>>4], hexd[c&15])
}

// appendEncoded appends s percent-encoded (RFC 5849 section 3.6) to dst.
func appendEncoded(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		dst = appendEncodedByte(dst, s[i])
	}
	return dst
}

// encodedLen is the length of s percent-encoded.
func encodedLen(s string) int {
	n := len(s)
	for i := 0; i < len(s); i++ {
		n += 2 * int(encodeTable[s[i]])
	}
	return n
}

// encode is the percent-encoding of RFC 5849 section 3.6: everything but
// ALPHA, DIGIT, "-", ".", "_" and "~" as %XX with uppercase hex.
func encode(s string) string {
	if encodedLen(s) == len(s) {
		return s
	}
	return string(appendEncoded(make([]byte, 0, encodedLen(s)), s))
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

// MaxSignedParams is the most parameters OAuth1 signs: those of the query
// string and of an application/x-www-form-urlencoded body together (its
// own oauth_* parameters not counted). A request with more is refused with
// an error matching ErrTooManyParams before any of them is decoded, so a
// hostile body ("a&a&a&...", 5 million parameters in 10 MiB) costs a scan
// of its first parameters, not gigabytes of allocation.
const MaxSignedParams = 10_000

// ErrTooManyParams is matched (errors.Is) by OAuth1's refusal of a request
// with more than MaxSignedParams query and form-body parameters.
var ErrTooManyParams = errors.New("schemes: OAUTH1: more than MaxSignedParams (10000) query and form parameters to sign")
