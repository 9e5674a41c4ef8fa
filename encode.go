package composiohttp

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"

	"github.com/composiohttp/composiohttp/credentials"
	"github.com/composiohttp/composiohttp/internal/httpheader"
	"github.com/composiohttp/composiohttp/internal/jsonscan"
	"github.com/composiohttp/composiohttp/internal/jsonw"
)

// Encoding of the request envelope. It is written by hand, straight into
// one buffer, in the field order of ProxyRequest; encoding/json would
// decode nothing here but costs an intermediate struct, reflection and a
// copy of the body.

// proxyRequest builds the POST to the proxy. Its body is the envelope,
// in memory, or streamed when it carries a binary body of known size.
// proxyRequest reads the caller's body but never closes it: the proxy
// request's body does, when it is closed (RoundTrip closes it on errors).
func (t *Transport) proxyRequest(req *http.Request, c *config, cl *call) (*http.Request, error) {
	body := req.Body
	if body == http.NoBody {
		body = nil
	}
	caller := body // closed with the envelope, even when body is found empty
	if body != nil && (cl.method == http.MethodGet || cl.method == http.MethodHead) {
		// A body of unknown length (ContentLength 0; check refused a
		// known one): allowed only if empty.
		var one [1]byte
		if n, _ := io.ReadFull(body, one[:]); n > 0 {
			return nil, fmt.Errorf("%w (%s with a body of unknown length)", ErrBodyNotAllowed, cl.method)
		}
		body = nil
	}
	ct := req.Header.Get("Content-Type")
	jsonBody := body != nil && httpheader.IsJSON(ct) && !t.JSONAsBinary
	size := 256 + len(req.URL.Path) + len(req.URL.RawQuery) + 64*len(req.Header)
	if jsonBody && req.ContentLength > 0 && req.ContentLength <= MaxRequestSize {
		size += int(req.ContentLength)
	}
	buf := make([]byte, 0, size)
	buf = append(buf, '{')
	switch {
	case cl.session != "":
		// session_proxy_execute_params.py: toolkit_slug instead of an
		// account; the rest as the plain proxy's.
		buf = append(buf, `"toolkit_slug":`...)
		buf = appendString(buf, cl.toolkit)
	case cl.conn != nil:
		buf = append(buf, `"custom_connection_data":`...)
		var err error
		if buf, err = credentials.AppendWire(buf, cl.conn); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrBadRequest, err)
		}
	default:
		buf = append(buf, `"connected_account_id":`...)
		buf = appendString(buf, cl.account)
	}
	buf = append(buf, `,"endpoint":`...)
	buf = appendEndpoint(buf, req.URL)
	buf = append(buf, `,"method":"`...)
	buf = append(buf, cl.method...)
	buf = append(buf, '"')
	buf, err := appendParameters(buf, req)
	if err != nil {
		return nil, err
	}

	// One allocation: a shallow copy of the template with the caller's
	// context. The template's URL and Header are shared when Base is the
	// default (net/http never modifies a request); any other Base gets its
	// own copies, in case it breaks the RoundTripper contract.
	preq := c.tmpl.WithContext(req.Context())
	if !c.shareTmpl || cl.session != "" {
		u := *preq.URL
		preq.URL = &u
	}
	if !c.shareTmpl {
		preq.Header = maps.Clone(c.header) // values shared: RoundTrippers must not modify a request
	}
	if cl.session != "" {
		preq.URL.Path = c.apiBase.Path + "/api/v3.1/tool_router/session/" + cl.session + "/proxy_execute"
		preq.URL.RawPath = c.apiBase.EscapedPath() + "/api/v3.1/tool_router/session/" + url.PathEscape(cl.session) + "/proxy_execute"
	}

	// The body goes last, so that a streamed binary body ends the envelope.
	switch {
	case body == nil:
	case jsonBody:
		var data []byte
		if buf, data, err = appendJSONBody(buf, body, req.ContentLength); err != nil {
			return nil, err
		}
		if data != nil { // labelled JSON but not JSON: byte for byte, as binary
			cl.bodyAsBinary = true
			if len(data) <= MaxInlineBody {
				buf = appendInlineBinary(buf, ct, data)
			} else if buf, err = t.appendBinaryBody(req.Context(), buf, bytes.NewReader(data), int64(len(data)), ct); err != nil {
				return nil, err
			}
		}
	case req.ContentLength > 0 && req.ContentLength <= MaxInlineBody:
		cl.bodyAsBinary = t.JSONAsBinary && httpheader.IsJSON(ct)
		// Known size: base64-encoded while the proxy request is written.
		const tail = `"}}`
		buf = appendBinaryHead(buf, ct)
		b64 := &b64Reader{src: body, remain: req.ContentLength}
		preq.Body = &streamBody{r: io.MultiReader(bytes.NewReader(buf), b64, strings.NewReader(tail)), caller: body}
		preq.ContentLength = int64(len(buf)+base64.StdEncoding.EncodedLen(int(req.ContentLength))) + int64(len(tail))
		return preq, nil
	default:
		cl.bodyAsBinary = t.JSONAsBinary && httpheader.IsJSON(ct)
		if buf, err = t.appendBinaryBody(req.Context(), buf, body, req.ContentLength, ct); err != nil {
			return nil, err
		}
	}
	buf = append(buf, '}')
	setMemBody(preq, buf, caller)
	return preq, nil
}

// setMemBody makes buf, an envelope in memory, the body of preq, which can
// be sent again (GetBody). The caller's body, if any, has been read whole
// into buf: it is closed now. The envelope goes as an io.NopCloser of a
// *bytes.Reader, which net/http knows to be in memory, so that it writes
// the headers and the envelope in one write instead of flushing the
// headers first (one system call fewer per call).
func setMemBody(preq *http.Request, buf []byte, caller io.Closer) {
	if caller != nil {
		caller.Close()
	}
	preq.Body = io.NopCloser(bytes.NewReader(buf))
	preq.ContentLength = int64(len(buf))
	preq.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(buf)), nil }
}

// appendJSONBody reads a body labelled JSON straight into the envelope,
// as "body" (no copy of the body, no re-encoding). A body that is not
// valid JSON (a chunk of a resumable upload, text labelled JSON) is not
// appended: it is returned as data, for the caller to send as
// binary_body, byte for byte.
func appendJSONBody(buf []byte, body io.Reader, n int64) (_, data []byte, _ error) {
	const field = `,"body":`
	buf = append(buf, field...)
	start := len(buf)
	buf, err := appendBody(buf, body, n, MaxRequestSize)
	switch {
	case n > 0 && errors.Is(err, io.ErrUnexpectedEOF):
		// Shorter than its ContentLength: the caller's mistake, as on the
		// streamed and Upload paths (not a connection failure).
		return nil, nil, fmt.Errorf("%w: %w", errBodyLength, io.ErrUnexpectedEOF)
	case err != nil:
		return nil, nil, err
	case len(buf) == start: // empty: no body at all
		return buf[:start-len(field)], nil, nil
	case !jsonscan.Valid(buf[start:]):
		return buf[:start-len(field)], bytes.Clone(buf[start:]), nil
	}
	return buf, nil, nil
}

// appendBinaryBody handles a non-JSON body of unknown size or over
// MaxInlineBody: what fits goes inline as base64, the rest through
// Transport.Upload as a URL.
func (t *Transport) appendBinaryBody(ctx context.Context, buf []byte, body io.Reader, size int64, ct string) ([]byte, error) {
	rest := body
	if size <= 0 { // unknown: read what may go inline
		size = -1
		data, err := readBody(io.LimitReader(body, MaxInlineBody+1), -1, MaxInlineBody+1)
		if err != nil {
			return nil, err
		}
		if len(data) <= MaxInlineBody {
			if len(data) > 0 {
				buf = appendInlineBinary(buf, ct, data)
			}
			return buf, nil
		}
		rest = io.MultiReader(bytes.NewReader(data), body)
	}
	if t.Upload == nil {
		return nil, fmt.Errorf("%w: over %d bytes and no Transport.Upload", ErrBodyTooLarge, MaxInlineBody)
	}
	u, err := t.upload(ctx, rest, size, contentTypeOr(ct))
	if err != nil {
		return nil, err
	}
	buf = append(buf, `,"binary_body":{"url":`...)
	buf = appendString(buf, u)
	buf = append(buf, `,"content_type":`...)
	buf = appendString(buf, contentTypeOr(ct))
	return append(buf, '}'), nil
}

func contentTypeOr(ct string) string {
	if ct == "" {
		return "application/octet-stream"
	}
	return ct
}

func appendBinaryHead(buf []byte, ct string) []byte {
	buf = append(buf, `,"binary_body":{"content_type":`...)
	buf = appendString(buf, contentTypeOr(ct))
	return append(buf, `,"base64":"`...)
}

// appendInlineBinary appends data as an inline binary_body, base64-encoded.
func appendInlineBinary(buf []byte, ct string, data []byte) []byte {
	buf = appendBinaryHead(buf, ct)
	buf = base64.StdEncoding.AppendEncode(buf, data)
	return append(buf, `"}`...)
}

func appendString(dst []byte, s string) []byte { return jsonw.AppendString(dst, s) }

// skippedHeader reports whether a request header is not forwarded as a
// header parameter: hop-by-hop headers, Host, Content-Length and
// Accept-Encoding (the proxy and net/http negotiate encodings
// themselves).
func skippedHeader(name string) bool {
	switch name {
	case "Host", "Content-Length", "Accept-Encoding":
		return true
	}
	return httpheader.HopByHop(name)
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
	// One walk over the map collects the fields with their values (and
	// Connection's), so that no name is looked up again.
	type field struct {
		name string
		vals []string
	}
	var fieldsArr [24]field
	fields := fieldsArr[:0]
	var connHdr []string
	for k, vs := range req.Header {
		if k == "Connection" {
			connHdr = vs
		}
		if !skippedHeader(k) {
			fields = append(fields, field{k, vs})
		}
	}
	if connHdr != nil {
		fields = slices.DeleteFunc(fields, func(f field) bool { return httpheader.ConnectionListed(connHdr, f.name) })
	}
	if len(fields) == 0 && req.URL.RawQuery == "" {
		return dst, nil
	}
	if len(fields) > 1 {
		slices.SortFunc(fields, func(a, b field) int { return strings.Compare(a.name, b.name) })
	}
	dst = append(dst, `,"parameters":[`...)
	first := true
	for _, f := range fields {
		k := f.name
		if !httpheader.ValidName(k) {
			return dst, fmt.Errorf("%w: invalid header field name %q", ErrBadRequest, k)
		}
		for _, v := range f.vals {
			if !httpheader.ValidValue(v) {
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

// A streamed proxy request's body owns the caller's body once RoundTrip
// hands the proxy request to Base: closing it closes the caller's, exactly
// once, whoever closes it first (Base, or RoundTrip after a failed call).
// An envelope held in memory has read the caller's body whole, and
// proxyRequest has closed it.

// streamBody is an envelope that streams the caller's body.
type streamBody struct {
	r      io.Reader
	caller io.Closer
	once   sync.Once
}

func (s *streamBody) Read(p []byte) (int, error) { return s.r.Read(p) }

func (s *streamBody) Close() error {
	s.once.Do(func() { s.caller.Close() })
	return nil
}
