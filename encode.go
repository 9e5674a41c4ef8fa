package composiohttp

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/composiohttp/composiohttp/internal/jsonw"
)

// Encoding of the request envelope. It is written by hand, straight into
// one buffer, in the field order of ProxyRequest; encoding/json would
// decode nothing here but costs an intermediate struct, reflection and a
// copy of the body.

func appendString(dst []byte, s string) []byte { return jsonw.AppendString(dst, s) }

// skippedHeaders are not forwarded as header parameters: hop-by-hop
// headers (RFC 9110 section 7.6.1), Host, Content-Length and
// Accept-Encoding (the proxy and net/http negotiate encodings themselves).
var skippedHeaders = map[string]bool{
	"Connection":          true,
	"Proxy-Connection":    true,
	"Keep-Alive":          true,
	"Proxy-Authenticate":  true,
	"Proxy-Authorization": true,
	"Te":                  true,
	"Trailer":             true,
	"Transfer-Encoding":   true,
	"Upgrade":             true,
	"Host":                true,
	"Content-Length":      true,
	"Accept-Encoding":     true,
}

func appendParam(dst []byte, first bool, name, value, typ string) []byte {
	if !first {
		dst = append(dst, ',')
	}
	dst = append(dst, `{"name":`...)
	dst = appendString(dst, name)
	dst = append(dst, `,"value":`...)
	dst = appendString(dst, value)
	dst = append(dst, `,"type":"`...)
	dst = append(dst, typ...)
	return append(dst, `"}`...)
}

// appendParameters appends `,"parameters":[...]` for the request's header
// and query values (nothing if there are none). Headers come first, sorted
// by name so that envelopes are deterministic; query values keep their
// order.
func appendParameters(dst []byte, req *http.Request) ([]byte, error) {
	var keysArr [24]string
	keys := keysArr[:0]
	connHdr := req.Header["Connection"]
	for k := range req.Header {
		if skippedHeaders[k] || listedIn(connHdr, k) {
			continue
		}
		keys = append(keys, k)
	}
	if len(keys) == 0 && req.URL.RawQuery == "" {
		return dst, nil
	}
	slices.Sort(keys)
	dst = append(dst, `,"parameters":[`...)
	first := true
	for _, k := range keys {
		if !validHeaderName(k) {
			return dst, fmt.Errorf("%w: invalid header field name %q", ErrBadRequest, k)
		}
		for _, v := range req.Header[k] {
			if !validHeaderValue(v) {
				return dst, fmt.Errorf("%w: invalid header field value for %q", ErrBadRequest, k)
			}
			dst = appendParam(dst, first, k, v, ParamHeader)
			first = false
		}
	}
	q := req.URL.RawQuery
	for q != "" {
		var part string
		part, q, _ = strings.Cut(q, "&")
		if part == "" {
			continue
		}
		name, value, _ := strings.Cut(part, "=")
		var err error
		if name, err = unescapeQuery(name); err != nil {
			return dst, err
		}
		if value, err = unescapeQuery(value); err != nil {
			return dst, err
		}
		dst = appendParam(dst, first, name, value, ParamQuery)
		first = false
	}
	return append(dst, ']'), nil
}

func unescapeQuery(s string) (string, error) {
	if strings.IndexByte(s, '%') < 0 && strings.IndexByte(s, '+') < 0 {
		return s, nil
	}
	u, err := url.QueryUnescape(s)
	if err != nil {
		return "", errors.Join(ErrBadRequest, errors.New("composiohttp: invalid escape in query"))
	}
	return u, nil
}

// listedIn reports whether name appears in a Connection header's list.
func listedIn(values []string, name string) bool {
	for _, v := range values {
		for f := range strings.SplitSeq(v, ",") {
			if http.CanonicalHeaderKey(strings.TrimSpace(f)) == name {
				return true
			}
		}
	}
	return false
}

// appendEndpoint appends the endpoint: scheme://host/path for an absolute
// URL, the path alone for a relative one. Userinfo, query and fragment are
// never part of it (the query travels as parameters).
func appendEndpoint(dst []byte, u *url.URL) []byte {
	if u.Host == "" {
		return appendString(dst, u.EscapedPath())
	}
	scheme := u.Scheme
	if scheme == "" {
		scheme = "https"
	}
	dst = append(dst, '"')
	dst = jsonw.AppendEscaped(dst, scheme)
	dst = append(dst, "://"...)
	dst = jsonw.AppendEscaped(dst, u.Host)
	dst = jsonw.AppendEscaped(dst, u.EscapedPath())
	return append(dst, '"')
}

// isJSONType reports whether a Content-Type value names JSON:
// application/json or any */*+json, with or without parameters.
func isJSONType(ct string) bool {
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	ct = strings.TrimSpace(ct)
	if strings.EqualFold(ct, "application/json") {
		return true
	}
	return len(ct) > 5 && strings.EqualFold(ct[len(ct)-5:], "+json") && strings.IndexByte(ct, '/') > 0
}

// b64Reader reads n bytes from src and yields their standard base64
// encoding, a chunk at a time: the body is never held whole in memory.
// A src shorter or longer than n is an error.
type b64Reader struct {
	src    io.Reader
	remain int64
	out    []byte // pending encoded bytes
	err    error
	in     [3 * 1024]byte
	buf    [4 * 1024]byte
}

var errBodyLength = fmt.Errorf("%w: request body length differs from its ContentLength", ErrBadRequest)

func (r *b64Reader) Read(p []byte) (int, error) {
	for len(r.out) == 0 {
		if r.err != nil {
			return 0, r.err
		}
		r.fill()
	}
	n := copy(p, r.out)
	r.out = r.out[n:]
	return n, nil
}

func (r *b64Reader) fill() {
	if r.remain == 0 {
		var one [1]byte
		if n, _ := io.ReadFull(r.src, one[:]); n > 0 {
			r.err = errBodyLength
		} else {
			r.err = io.EOF
		}
		return
	}
	k := int64(len(r.in)) // a multiple of 3, so chunks encode independently
	if r.remain < k {
		k = r.remain
	}
	n, err := io.ReadFull(r.src, r.in[:k])
	if err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			err = errBodyLength
		}
		r.err = err
		return
	}
	r.remain -= int64(n)
	base64.StdEncoding.Encode(r.buf[:], r.in[:n])
	r.out = r.buf[:base64.StdEncoding.EncodedLen(n)]
}
