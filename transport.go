package composiohttp

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/textproto"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/composiohttp/composiohttp/credentials"
	"github.com/composiohttp/composiohttp/internal/jsonscan"
)

// Defaults.
const (
	// DefaultBaseURL is used when Transport.BaseURL and COMPOSIO_BASE_URL
	// are empty.
	DefaultBaseURL = "https://backend.composio.dev"
	// DefaultAPIVersion is the proxy API version used when
	// Transport.APIVersion is empty. "v3" is the other accepted value.
	DefaultAPIVersion = "v3.1"
	// MaxInlineBody is the largest non-JSON body sent inline as
	// binary_body.base64 (the proxy's 4 MB limit, counted before
	// encoding). Larger bodies go through Transport.Upload.
	MaxInlineBody = 4 << 20
	// MaxRequestSize is the proxy's limit on a whole request; a JSON body
	// larger than this fails with ErrBodyTooLarge.
	MaxRequestSize = 250 << 20
	// DefaultMaxResponseSize bounds a proxy reply read into memory when
	// Transport.MaxResponseSize is 0. Binary bodies are streamed from their
	// signed URL and do not count.
	DefaultMaxResponseSize = 64 << 20
	// maxErrorBody bounds how much of a proxy error reply is read.
	maxErrorBody = 64 << 10
)

// UploadFunc stores a body too large to send inline and returns a URL the
// proxy can fetch it from (sent as binary_body.url). size is the body's
// length, or -1 if unknown. It must read body to the end or fail; the
// Transport closes the caller's body afterwards.
type UploadFunc func(ctx context.Context, body io.Reader, size int64, contentType string) (url string, err error)

// Transport is an http.RoundTripper that sends each request through
// Composio's proxy endpoint, POST {BaseURL}/api/{APIVersion}/tools/execute/proxy,
// authenticated as a connected account, and turns the proxy's reply back
// into an ordinary *http.Response.
//
// The zero value reads its configuration from the environment. A Transport
// is safe for concurrent use; do not change its fields after first use.
type Transport struct {
	// APIKey is the Composio API key. Project keys (ak_...) are sent as
	// x-api-key, user keys (uak_...) as x-user-api-key. Default:
	// $COMPOSIO_API_KEY.
	APIKey string
	// BaseURL is the Composio API origin. Default: $COMPOSIO_BASE_URL,
	// else DefaultBaseURL.
	BaseURL string
	// APIVersion is "v3.1" (default) or "v3".
	APIVersion string
	// ConnectedAccountID is the account requests act as, unless the
	// request context says otherwise (WithConnectedAccount,
	// WithConnection).
	ConnectedAccountID string
	// Connection, if set, is sent as custom_connection_data instead of a
	// connected account id (unless the context says otherwise).
	Connection *credentials.Connection
	// Header holds extra headers sent to the proxy (not to the upstream)
	// with every call, added to those of $COMPOSIO_CUSTOM_HEADERS (one
	// "Name: value" a line).
	Header http.Header
	// JSONAsBinary sends JSON bodies as binary_body instead of body, so
	// that the proxy forwards them byte for byte (it is known to drop
	// falsy JSON fields such as false, 0 and {}).
	JSONAsBinary bool
	// Upload receives bodies over MaxInlineBody. Nil: such requests fail
	// with ErrBodyTooLarge before anything is sent.
	Upload UploadFunc
	// MaxResponseSize bounds the proxy reply read into memory (binary
	// bodies excepted: they stream). 0 means DefaultMaxResponseSize. A
	// larger reply fails with an *EnvelopeError.
	MaxResponseSize int64
	// Base carries the proxy calls and the binary downloads. Nil:
	// http.DefaultTransport.
	Base http.RoundTripper

	once sync.Once
	cfg  config
	now  func() time.Time // for tests; nil means time.Now
}

// config is what the Transport derives from its fields and the
// environment, once.
type config struct {
	err      error
	proxyURL url.URL
	header   http.Header // sent to the proxy with every call
	base     http.RoundTripper
	maxResp  int64
}

func (t *Transport) config() *config {
	t.once.Do(func() { t.cfg = t.buildConfig() })
	return &t.cfg
}

func (t *Transport) buildConfig() config {
	c := config{base: t.Base, maxResp: t.MaxResponseSize}
	if c.base == nil {
		c.base = http.DefaultTransport
	}
	if c.maxResp <= 0 {
		c.maxResp = DefaultMaxResponseSize
	}
	key := firstNonEmpty(t.APIKey, os.Getenv("COMPOSIO_API_KEY"))
	if key == "" {
		c.err = ErrNoAPIKey
		return c
	}
	base := firstNonEmpty(t.BaseURL, os.Getenv("COMPOSIO_BASE_URL"), DefaultBaseURL)
	u, err := url.Parse(strings.TrimRight(base, "/"))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		c.err = fmt.Errorf("%w: base URL is not an http(s) URL", ErrBadRequest)
		return c
	}
	version := firstNonEmpty(t.APIVersion, DefaultAPIVersion)
	if version != "v3.1" && version != "v3" {
		c.err = fmt.Errorf("%w: API version %q is not v3.1 or v3", ErrBadRequest, version)
		return c
	}
	u.Path += "/api/" + version + "/tools/execute/proxy"
	u.RawPath = ""
	c.proxyURL = *u

	c.header = make(http.Header)
	if env := os.Getenv("COMPOSIO_CUSTOM_HEADERS"); env != "" {
		if err := parseHeaderLines(env, c.header); err != nil {
			c.err = err
			return c
		}
	}
	for k, vs := range t.Header {
		k = http.CanonicalHeaderKey(k)
		c.header[k] = append(c.header[k], vs...)
	}
	// The key goes only where its kind says: a user key never travels as
	// x-api-key, whatever the custom headers say.
	delete(c.header, "X-Api-Key")
	delete(c.header, "X-User-Api-Key")
	if strings.HasPrefix(key, "uak_") {
		c.header.Set("X-User-Api-Key", key)
	} else {
		c.header.Set("X-Api-Key", key)
	}
	c.header.Set("Content-Type", "application/json")
	c.header.Set("Accept", "application/json")
	if c.header.Get("User-Agent") == "" {
		c.header.Set("User-Agent", "composiohttp")
	}
	return c
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// parseHeaderLines parses COMPOSIO_CUSTOM_HEADERS: one "Name: value" a
// line; blank lines and lines starting with # are ignored. The error names
// the line, never its value.
func parseHeaderLines(s string, h http.Header) error {
	sc := bufio.NewScanner(strings.NewReader(s))
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || text[0] == '#' {
			continue
		}
		name, value, ok := strings.Cut(text, ":")
		name = strings.TrimSpace(name)
		if !ok || !validHeaderName(name) || !validHeaderValue(value) {
			return fmt.Errorf("%w: COMPOSIO_CUSTOM_HEADERS line %d is not \"Name: value\"", ErrBadRequest, line)
		}
		h.Add(textproto.CanonicalMIMEHeaderKey(name), strings.TrimSpace(value))
	}
	return nil
}

// NewClient returns an *http.Client whose Transport is t (a zero Transport,
// configured from the environment, if t is nil).
func NewClient(t *Transport) *http.Client {
	if t == nil {
		t = &Transport{}
	}
	return &http.Client{Transport: t}
}

// RoundTrip sends req through the proxy and returns the upstream's
// response. It returns *Error when the proxy itself fails, and an error
// matching one of the sentinels (ErrUnsupportedMethod, ErrBodyTooLarge,
// ...) for a request it refuses before sending anything. It never modifies
// req and always closes req.Body.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	body := &onceCloser{rc: req.Body}
	if req.Body == http.NoBody {
		body.rc = nil
	}
	c := t.config()
	ctx := req.Context()
	method, account, conn, err := t.check(req, c)
	if err != nil {
		body.close()
		return nil, err
	}
	preq, err := t.proxyRequest(req, c, body, method, account, conn)
	if err != nil {
		body.close()
		return nil, err
	}

	info := CallInfoFromContext(ctx)
	if info != nil { // fresh for each attempt: nothing stale from a retried one
		info.ConnectedAccountID, info.Toolkit = account, ""
		info.RequestID, info.ProxyStatus, info.UpstreamStatus = "", 0, 0
		if conn != nil {
			info.Toolkit = conn.ToolkitSlug
		}
	}
	presp, err := c.base.RoundTrip(preq)
	if err != nil {
		preq.Body.Close() // Base should have; closing twice is harmless
		return nil, err
	}
	defer presp.Body.Close()
	if info != nil {
		info.ProxyStatus = presp.StatusCode
		info.RequestID = presp.Header.Get("X-Request-Id")
	}
	if presp.StatusCode != http.StatusOK {
		raw, _ := io.ReadAll(io.LimitReader(presp.Body, maxErrorBody))
		perr := parseProxyError(presp.StatusCode, presp.Header, raw, t.clock())
		if info != nil {
			info.RequestID = perr.RequestID
		}
		return nil, perr
	}
	raw, err := readBody(presp.Body, presp.ContentLength, c.maxResp)
	if errors.Is(err, ErrBodyTooLarge) {
		return nil, envErr(-1, "reply larger than MaxResponseSize")
	} else if err != nil {
		return nil, err
	}
	env, err := decodeEnvelope(raw)
	if err != nil {
		return nil, err
	}
	if info != nil {
		info.UpstreamStatus = env.status
	}
	return t.response(req, method, &env, c), nil
}

// check validates what can be checked without reading the body, and picks
// the account or connection the request acts as.
func (t *Transport) check(req *http.Request, c *config) (method, account string, conn *credentials.Connection, err error) {
	if c.err != nil {
		return "", "", nil, c.err
	}
	if req.URL == nil {
		return "", "", nil, fmt.Errorf("%w: nil URL", ErrBadRequest)
	}
	method = req.Method
	switch method {
	case "":
		method = http.MethodGet
	case http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch, http.MethodHead:
	default:
		return "", "", nil, fmt.Errorf("%w: %q (the proxy takes GET, POST, PUT, DELETE, PATCH, HEAD)", ErrUnsupportedMethod, method)
	}
	account, conn = t.ConnectedAccountID, t.Connection
	if sel := selectionFrom(req.Context()); sel != nil && sel.identity != "" {
		account, conn = sel.account, sel.conn
	}
	if conn != nil {
		if err := conn.Validate(); err != nil {
			return "", "", nil, fmt.Errorf("%w: %w", ErrBadRequest, err)
		}
	} else if account == "" {
		return "", "", nil, ErrNoAuthContext
	}
	return method, account, conn, nil
}

// proxyRequest builds the POST to the proxy. Its body is the envelope,
// in memory, or streamed when it carries a binary body of known size (the
// caller's body is then closed when the proxy request's body is).
func (t *Transport) proxyRequest(req *http.Request, c *config, body *onceCloser, method, account string, conn *credentials.Connection) (*http.Request, error) {
	ct := req.Header.Get("Content-Type")
	jsonBody := body.rc != nil && isJSONType(ct) && !t.JSONAsBinary
	size := 256 + len(req.URL.Path) + len(req.URL.RawQuery) + 64*len(req.Header)
	if jsonBody && req.ContentLength > 0 && req.ContentLength <= MaxRequestSize {
		size += int(req.ContentLength)
	}
	buf := make([]byte, 0, size)
	buf = append(buf, '{')
	if conn != nil {
		buf = append(buf, `"custom_connection_data":`...)
		var err error
		if buf, err = credentials.AppendWire(buf, conn); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrBadRequest, err)
		}
	} else {
		buf = append(buf, `"connected_account_id":`...)
		buf = appendString(buf, account)
	}
	buf = append(buf, `,"endpoint":`...)
	buf = appendEndpoint(buf, req.URL)
	buf = append(buf, `,"method":"`...)
	buf = append(buf, method...)
	buf = append(buf, '"')
	buf, err := appendParameters(buf, req)
	if err != nil {
		return nil, err
	}

	preq := &http.Request{
		Method:     http.MethodPost,
		URL:        new(url.URL),
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     maps.Clone(c.header), // values shared: RoundTrippers must not modify a request
		Host:       c.proxyURL.Host,
	}
	*preq.URL = c.proxyURL

	// The body goes last, so that a streamed binary body ends the envelope.
	switch {
	case body.rc == nil:
	case jsonBody:
		if buf, err = appendJSONBody(buf, body, req.ContentLength); err != nil {
			return nil, err
		}
	case req.ContentLength > 0 && req.ContentLength <= MaxInlineBody:
		// Known size: base64-encoded while the proxy request is written.
		const tail = `"}}`
		buf = appendBinaryHead(buf, ct)
		b64 := &b64Reader{src: body.rc, remain: req.ContentLength}
		preq.Body = &streamBody{r: io.MultiReader(bytes.NewReader(buf), b64, strings.NewReader(tail)), c: body.rc}
		preq.ContentLength = int64(len(buf)+base64.StdEncoding.EncodedLen(int(req.ContentLength))) + int64(len(tail))
		body.rc = nil // preq.Body closes it now
		return preq.WithContext(req.Context()), nil
	default:
		if buf, err = t.appendBinaryBody(req.Context(), buf, body, req.ContentLength, ct); err != nil {
			return nil, err
		}
	}
	buf = append(buf, '}')
	mb := &memBody{}
	mb.Reset(buf)
	preq.Body = mb
	preq.ContentLength = int64(len(buf))
	preq.GetBody = func() (io.ReadCloser, error) {
		b := &memBody{}
		b.Reset(buf)
		return b, nil
	}
	return preq.WithContext(req.Context()), nil
}

// appendJSONBody reads a JSON body straight into the envelope, as "body"
// (no copy of the body, no re-encoding), and closes it.
func appendJSONBody(buf []byte, body *onceCloser, n int64) ([]byte, error) {
	const field = `,"body":`
	buf = append(buf, field...)
	start := len(buf)
	buf, err := appendBody(buf, body.rc, n, MaxRequestSize)
	body.close()
	switch {
	case err != nil:
		return nil, err
	case len(buf) == start: // empty: no body at all
		return buf[:start-len(field)], nil
	case !jsonscan.Valid(buf[start:]):
		return nil, ErrInvalidJSONBody
	}
	return buf, nil
}

// appendBinaryBody handles a non-JSON body of unknown size or over
// MaxInlineBody: what fits goes inline as base64, the rest through
// Transport.Upload as a URL. It closes the body.
func (t *Transport) appendBinaryBody(ctx context.Context, buf []byte, body *onceCloser, size int64, ct string) ([]byte, error) {
	defer body.close()
	var rest io.Reader = body.rc
	if size <= 0 { // unknown: read what may go inline
		size = -1
		data, err := readBody(io.LimitReader(body.rc, MaxInlineBody+1), -1, MaxInlineBody+1)
		if err != nil {
			return nil, err
		}
		if len(data) <= MaxInlineBody {
			if len(data) > 0 {
				buf = appendBinaryHead(buf, ct)
				buf = base64.StdEncoding.AppendEncode(buf, data)
				buf = append(buf, `"}`...)
			}
			return buf, nil
		}
		rest = io.MultiReader(bytes.NewReader(data), body.rc)
	}
	if t.Upload == nil {
		return nil, fmt.Errorf("%w: over %d bytes and no Transport.Upload", ErrBodyTooLarge, MaxInlineBody)
	}
	u, err := t.Upload(ctx, rest, size, contentTypeOr(ct))
	if err != nil {
		return nil, fmt.Errorf("composiohttp: upload of a large body failed: %w", err)
	}
	buf = append(buf, `,"binary_body":{"url":`...)
	buf = appendString(buf, u)
	buf = append(buf, `,"content_type":`...)
	buf = appendString(buf, contentTypeOr(ct))
	return append(buf, '}'), nil
}

func (t *Transport) clock() time.Time {
	if t.now != nil {
		return t.now()
	}
	return time.Now()
}

// response builds the upstream's response from a decoded envelope.
func (t *Transport) response(req *http.Request, method string, env *envelope, c *config) *http.Response {
	resp := &http.Response{
		Status:     strconv.Itoa(env.status) + " " + http.StatusText(env.status),
		StatusCode: env.status,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     env.header,
		Body:       http.NoBody,
		Request:    req,
	}
	switch {
	case method == http.MethodHead:
		resp.ContentLength = env.contentLength
	case env.binary != nil:
		resp.Body = &binaryBody{ctx: req.Context(), base: c.base, url: env.binary.URL, size: env.binary.Size}
		resp.ContentLength = env.binary.Size
	case len(env.data) > 0:
		mb := &memBody{}
		mb.Reset(env.data)
		resp.Body = mb
		resp.ContentLength = int64(len(env.data))
	}
	return resp
}

// CloseIdleConnections closes the idle connections of Base, if it can.
func (t *Transport) CloseIdleConnections() {
	type closeIdler interface{ CloseIdleConnections() }
	if ci, ok := t.config().base.(closeIdler); ok {
		ci.CloseIdleConnections()
	}
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

// readBody reads r whole: n bytes when n > 0, else up to max. More than
// max is ErrBodyTooLarge.
func readBody(r io.Reader, n, max int64) ([]byte, error) {
	return appendBody(nil, r, n, max)
}

// appendBody appends all of r to dst: n bytes when n > 0 (fewer or more
// is an error), else up to max. More than max is ErrBodyTooLarge.
func appendBody(dst []byte, r io.Reader, n, max int64) ([]byte, error) {
	if n > max {
		return dst, fmt.Errorf("%w: %d bytes, limit %d", ErrBodyTooLarge, n, max)
	}
	start := len(dst)
	if n > 0 {
		dst = slices.Grow(dst, int(n))[:start+int(n)]
		if _, err := io.ReadFull(r, dst[start:]); err != nil {
			return dst[:start], fmt.Errorf("composiohttp: reading body: %w", err)
		}
		var one [1]byte
		if m, _ := r.Read(one[:]); m > 0 {
			return dst[:start], errBodyLength
		}
		return dst, nil
	}
	for {
		if len(dst) == cap(dst) {
			dst = append(dst, 0)[:len(dst)]
		}
		m, err := r.Read(dst[len(dst):cap(dst)])
		dst = dst[:len(dst)+m]
		if int64(len(dst)-start) > max {
			return dst[:start], fmt.Errorf("%w: over %d bytes", ErrBodyTooLarge, max)
		}
		if err == io.EOF {
			return dst, nil
		}
		if err != nil {
			return dst[:start], fmt.Errorf("composiohttp: reading body: %w", err)
		}
	}
}

// onceCloser closes the caller's body at most once.
type onceCloser struct {
	rc   io.ReadCloser
	done bool
}

func (o *onceCloser) close() {
	if o.rc != nil && !o.done {
		o.done = true
		o.rc.Close()
	}
}

// streamBody is a proxy request body that streams the caller's body; it
// closes the caller's body exactly once.
type streamBody struct {
	r    io.Reader
	c    io.Closer
	once sync.Once
}

func (s *streamBody) Read(p []byte) (int, error) { return s.r.Read(p) }

func (s *streamBody) Close() error {
	s.once.Do(func() { s.c.Close() })
	return nil
}

// parseProxyError builds an *Error from a proxy error reply, tolerating
// replies that are not in Composio's shape.
func parseProxyError(status int, h http.Header, body []byte, now time.Time) *Error {
	e := &Error{StatusCode: status, RequestID: h.Get("X-Request-Id")}
	var outer map[string]json.RawMessage
	if json.Unmarshal(body, &outer) == nil {
		obj := outer
		var inner map[string]json.RawMessage
		if json.Unmarshal(outer["error"], &inner) == nil {
			obj = inner
		}
		str := func(k string) string {
			var s string
			json.Unmarshal(obj[k], &s)
			return s
		}
		e.Message = str("message")
		if e.Message == "" { // {"error": "text"}
			json.Unmarshal(outer["error"], &e.Message)
		}
		e.Slug = firstNonEmpty(str("slug"), str("name"))
		e.SuggestedFix = str("suggested_fix")
		if id := str("request_id"); id != "" {
			e.RequestID = id
		}
		for _, k := range []string{"code", "error_code"} {
			var n json.Number
			if json.Unmarshal(obj[k], &n) == nil {
				if v, err := n.Int64(); err == nil {
					e.Code = int(v)
					break
				}
			}
			if v, err := strconv.Atoi(str(k)); err == nil {
				e.Code = v
				break
			}
		}
		var details []json.RawMessage
		if json.Unmarshal(obj["errors"], &details) == nil {
			for _, d := range details {
				var s string
				if json.Unmarshal(d, &s) != nil {
					s = string(d)
				}
				e.Errors = append(e.Errors, s)
			}
		}
	}
	if e.Message == "" {
		e.Message = http.StatusText(status)
	}
	e.RetryAfter = ParseRetryAfter(h.Get("Retry-After"), now)
	return e
}

// ParseRetryAfter reads a Retry-After header value, delay seconds or an
// HTTP date (relative to now), capped at 24 hours. An empty, invalid or
// past value is 0. The proxy's own Retry-After is already in
// Error.RetryAfter; this is for upstream responses and middleware.
func ParseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	const maxWait = 24 * time.Hour
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		return time.Duration(min(secs, int64(maxWait/time.Second))) * time.Second
	}
	if at, err := http.ParseTime(v); err == nil && at.After(now) {
		return min(at.Sub(now), maxWait)
	}
	return 0
}
