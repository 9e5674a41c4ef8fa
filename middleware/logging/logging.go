// Package logging is log/slog middleware for composiohttp: one structured
// line per call, at a level chosen by its outcome.
//
// A line (message "composiohttp request") has these attributes, when known:
//
//	method       the request method
//	url          the upstream URL, without user info or fragment, with the values of
//	             secret query parameters (token, key, secret, password,
//	             signature, auth, code, sig, ...) replaced by [REDACTED]
//	status       the upstream status
//	duration     from the call to the return of the layers below (the
//	             response's headers, not its body)
//	account      the connected account id
//	toolkit      the toolkit of the connection
//	request_id   the proxy's request id
//	retries      retries made (middleware/retry)
//	cache_hit    served from cache (middleware/cache)
//	error        the error, with URLs in it redacted the same way
//
// Secrets in URL paths, such as the token of a Discord webhook
// (/api/webhooks/{id}/{token}) or of a Telegram bot (/bot<token>/...), are
// not recognised: hide them with WithURLRedactor.
//
// plus, only when asked with WithHeaders and WithBodies, request_headers,
// response_headers, request_body and response_body, redacted: the values
// of Authorization, Proxy-Authorization, Cookie, Set-Cookie, X-Api-Key,
// X-User-Api-Key and any header whose name contains token, secret, key,
// pass or auth are replaced by [REDACTED]; the URLs in Location,
// Content-Location, Link and Refresh are redacted as the url attribute
// is (the whole URL is [REDACTED] when it does not parse); JSON bodies are
// shown with the values of such keys replaced, form bodies with such
// parameters replaced, other bodies not at all.
//
// When the line is written: as the call returns, except with WithBodies
// and a response body. Then RoundTrip returns the response at once, the
// body is logged as the caller reads it (a stream, such as server-sent
// events, reaches the caller as it arrives), and the line is written once,
// when a read reports the end of the body, when a read fails (adding
// response_body_error, redacted as error is), or when the body is closed,
// whichever comes first; a body closed before its end shows what was read
// by then, marked "+" (there may have been more), except a JSON body that
// is a whole value, shown (a decoder stops reading at its end). A response
// whose body is never closed, against net/http's rule, is never logged.
// A body that can be written to (the connection of a 101 Switching
// Protocols) is handed on untouched and unlogged, with the line at once.
// Memory: what a line may show, in buffers grown as bytes arrive, never
// beyond WithBodies' limit; a body whose content is never shown is only
// counted.
//
// Levels: 2xx and 3xx at the success level (Info unless
// WithSuccessLevel), 4xx at Warn, 5xx and errors at Error. When the
// logger's handler is enabled at none of these levels, the middleware only
// forwards the call; when it is enabled at some, a call whose line is
// filtered out costs a CallInfo and two clock readings, never the building
// of a line.
//
// Debug dump: Dump, installed as the composiohttp.Transport's Base, prints
// each proxy call's envelope and reply, redacted, with a curl command line
// that sends the call again ($COMPOSIO_API_KEY in place of the key).
package logging

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/composiohttp/composiohttp"
	"github.com/composiohttp/composiohttp/credentials"
	"github.com/composiohttp/composiohttp/internal/urlredact"
)

// Message is the message of every line.
const Message = "composiohttp request"

// Option configures New and Middleware.
type Option func(*config)

type config struct {
	logger    *slog.Logger
	success   slog.Level
	now       func() time.Time
	headers   bool
	bodies    int
	redactURL func(*url.URL) *url.URL
}

// WithLogger sets the logger. Default: slog.Default() at the time of each
// call.
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// WithSuccessLevel sets the level of 2xx and 3xx lines. Default:
// slog.LevelInfo; slog.LevelDebug keeps successful calls out of Info logs.
func WithSuccessLevel(l slog.Level) Option { return func(c *config) { c.success = l } }

// WithClock sets the clock that times calls. Default: time.Now.
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// WithHeaders logs request and response headers, redacted. Default: off.
func WithHeaders() Option { return func(c *config) { c.headers = true } }

// WithBodies logs up to maxBytes of the request and the response body,
// redacted (see the package documentation). A request body is read, up to
// maxBytes, from a copy that Request.GetBody makes before the call, so a
// body that cannot be replayed is not shown (nor read: the body sent is
// the caller's, untouched); one whose content is never shown is counted,
// by its ContentLength when known. A response body is not read ahead: it
// is logged as the caller reads it, intact, and the line waits for its end
// or its Close (see the package documentation). Buffers grow with the
// bytes that arrive, up to maxBytes, whatever maxBytes is.
// Default: 0, bodies are not logged.
func WithBodies(maxBytes int) Option { return func(c *config) { c.bodies = maxBytes } }

// WithURLRedactor sets a function that hides what the default redaction
// (user info, secret query parameters) leaves in a URL, typically a
// secret path segment. It receives a copy of the request URL (or of the
// URL in an error), already redacted, and returns the URL to log; it may
// modify and return its argument. Default: none.
func WithURLRedactor(f func(*url.URL) *url.URL) Option { return func(c *config) { c.redactURL = f } }

// Middleware returns a function that wraps a RoundTripper with New(next,
// opts...), for use with a middleware chain.
func Middleware(opts ...Option) func(http.RoundTripper) http.RoundTripper {
	return func(next http.RoundTripper) http.RoundTripper { return New(next, opts...) }
}

// New returns a *Transport, an http.RoundTripper that logs each call through next (nil:
// http.DefaultTransport). Nil options are skipped.
func New(next http.RoundTripper, opts ...Option) *Transport {
	if next == nil {
		next = http.DefaultTransport
	}
	c := config{now: time.Now}
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	if c.now == nil {
		c.now = time.Now
	}
	return &Transport{next: next, cfg: c}
}

// Transport is the logging http.RoundTripper that New returns. Its
// configuration is set by New's options; the zero value is not usable.
type Transport struct {
	next http.RoundTripper
	cfg  config
}

// Unwrap returns the RoundTripper the logger wraps.
func (t *Transport) Unwrap() http.RoundTripper { return t.next }

// enabled reports whether h takes a line at any level a call can end
// with, asking for the lowest first: with the usual threshold handlers,
// one call answers.
func (t *Transport) enabled(ctx context.Context, h slog.Handler) bool {
	lo, hi := t.cfg.success, slog.LevelWarn
	if lo > hi {
		lo, hi = hi, lo
	}
	return h.Enabled(ctx, lo) || h.Enabled(ctx, hi) || h.Enabled(ctx, slog.LevelError)
}

func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req == nil {
		return nil, composiohttp.ErrNilRequest
	}
	if t.next == nil { // built by hand: nothing to call
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, fmt.Errorf("logging: %w", composiohttp.ErrZeroTransport)
	}
	l := t.cfg.logger
	if l == nil {
		l = slog.Default()
	}
	ctx := req.Context()
	if !t.enabled(ctx, l.Handler()) {
		return t.next.RoundTrip(req)
	}
	info := composiohttp.CallInfoFromContext(ctx)
	if info == nil {
		info = new(composiohttp.CallInfo)
		ctx = composiohttp.WithCallInfo(ctx, info)
		req = req.WithContext(ctx)
	}
	var reqBody slog.Attr
	if t.cfg.bodies > 0 {
		reqBody = t.requestBody(req)
	}
	start := t.cfg.now()
	resp, err := t.next.RoundTrip(req)
	d := t.cfg.now().Sub(start)

	level := t.cfg.success
	switch {
	case err != nil || resp == nil || resp.StatusCode >= 500:
		level = slog.LevelError
	case resp.StatusCode >= 400:
		level = slog.LevelWarn
	}
	if !l.Handler().Enabled(ctx, level) {
		return resp, err
	}
	attrs := make([]slog.Attr, 0, 16)
	attrs = append(attrs, slog.String("method", req.Method))
	if req.URL != nil {
		attrs = append(attrs, slog.String("url", t.cfg.showURL(req.URL)))
	}
	if resp != nil {
		attrs = append(attrs, slog.Int("status", resp.StatusCode))
	}
	attrs = append(attrs, slog.Duration("duration", d))
	account := info.ConnectedAccountID
	if account == "" {
		account, _ = composiohttp.ConnectedAccountFromContext(ctx)
	}
	requestID := info.RequestID
	if requestID == "" && err != nil {
		var pe *composiohttp.Error // declared here: a call without an error allocates no target
		if errors.As(err, &pe) {
			requestID = pe.RequestID
		}
	}
	for _, kv := range [...][2]string{{"account", account}, {"toolkit", info.Toolkit}, {"request_id", requestID}} {
		if kv[1] != "" {
			attrs = append(attrs, slog.String(kv[0], kv[1]))
		}
	}
	attrs = append(attrs, slog.Int("retries", info.Retries), slog.Bool("cache_hit", info.CacheHit))
	if err != nil {
		attrs = append(attrs, slog.String("error", t.cfg.errorString(err)))
	}
	if t.cfg.headers {
		attrs = append(attrs, headerAttr("request_headers", req.Header))
		if resp != nil {
			attrs = append(attrs, headerAttr("response_headers", resp.Header))
		}
	}
	if t.cfg.bodies > 0 {
		if reqBody.Key != "" {
			attrs = append(attrs, reqBody)
		}
		if resp != nil && resp.Body != nil && resp.Body != http.NoBody {
			if _, conn := resp.Body.(io.Writer); !conn { // a 101's connection is handed on untouched
				resp.Body = t.wrapBody(resp, l, ctx, level, attrs)
				return resp, err
			}
		}
	}
	l.LogAttrs(ctx, level, Message, attrs...)
	return resp, err
}

// showURL is u redacted for a line: by credentials.RedactURL, then by
// the WithURLRedactor function (urlredact.Shown, as otelproxy's spans).
func (c *config) showURL(u *url.URL) string {
	r, _ := urlredact.Shown(u, c.redactURL)
	return r.String()
}

// errorString is err's text with the URL of a *url.Error redacted
// (urlredact.ErrorText, as otelproxy's span status).
func (c *config) errorString(err error) string {
	s, _ := urlredact.ErrorText(err, c.redactURL)
	return s
}

// secretHeader reports whether a header's value must not be logged.
func secretHeader(name string) bool { return credentials.IsSecret(name) }

func headerAttr(key string, h http.Header) slog.Attr {
	attrs := make([]any, 0, len(h))
	for name, vs := range h {
		attrs = append(attrs, slog.String(name, headerValue(name, strings.Join(vs, ", "))))
	}
	return slog.Group(key, attrs...)
}

// headerValue is the value v of header name as it may be shown (in a log
// line or a Dump): credentials.Redacted for a secret header; the URLs of
// Location, Content-Location, Link and Refresh redacted (a signed URL's
// signature is a secret query parameter); any other value unchanged.
// Names match case-insensitively. It is the one rule for every place the
// package prints a header.
func headerValue(name, v string) string {
	switch {
	case secretHeader(name):
		return credentials.Redacted
	case strings.EqualFold(name, "Location"), strings.EqualFold(name, "Content-Location"):
		return redactURLString(v)
	case strings.EqualFold(name, "Link"):
		return redactLinks(v)
	case strings.EqualFold(name, "Refresh"):
		return redactRefresh(v)
	}
	return v
}

// redactURLString is a (possibly relative) URL redacted with
// credentials.RedactURL, or credentials.Redacted when it does not parse.
func redactURLString(s string) string { return urlredact.URLString(s) }

// redactLinks redacts the <URL> references of a Link header (RFC 8288).
func redactLinks(v string) string {
	var b strings.Builder
	for {
		i := strings.IndexByte(v, '<')
		j := strings.IndexByte(v[i+1:], '>')
		if i < 0 || j < 0 {
			if i >= 0 { // an unterminated reference: hide the rest
				v = v[:i+1] + credentials.Redacted
			}
			b.WriteString(v)
			return b.String()
		}
		b.WriteString(v[:i+1])
		b.WriteString(redactURLString(v[i+1 : i+1+j]))
		v = v[i+1+j:]
	}
}

// redactRefresh redacts the URL of a Refresh header ("5; url=...").
func redactRefresh(v string) string {
	i := strings.Index(strings.ToLower(v), "url=")
	if i < 0 {
		return v
	}
	u := strings.Trim(v[i+len("url="):], ` '"`)
	return v[:i+len("url=")] + redactURLString(u)
}

// requestBody is the request_body attribute: read from a copy that
// Request.GetBody makes, before the call, into a buffer grown as the bytes
// arrive (up to the configured size and one byte more). A body whose
// content is never shown is only counted: by its ContentLength when known,
// without reading it.
func (t *Transport) requestBody(req *http.Request) slog.Attr {
	if req.Body == nil || req.Body == http.NoBody {
		return slog.Attr{}
	}
	ct := req.Header.Get("Content-Type")
	kind, _ := kindOf(ct)
	if kind == other && req.ContentLength > 0 {
		n := int(min(req.ContentLength, int64(t.cfg.bodies)))
		return slog.String("request_body", redactBody(ct, nil, n, req.ContentLength > int64(t.cfg.bodies), false))
	}
	if req.GetBody == nil {
		return slog.String("request_body", "[not replayable, not shown]")
	}
	b, err := req.GetBody()
	if err != nil {
		return slog.String("request_body", "[not shown: "+err.Error()+"]")
	}
	defer b.Close()
	if kind == other {
		limit := int64(t.cfg.bodies)
		n, _ := io.CopyN(io.Discard, b, min(limit, math.MaxInt64-1)+1)
		return slog.String("request_body", redactBody(ct, nil, int(min(n, limit)), n > limit, false))
	}
	buf, truncated, err := readUpTo(b, t.cfg.bodies)
	buf = shown(buf, t.cfg.bodies)
	return slog.String("request_body", redactBody(ct, buf, len(buf), truncated, err != nil))
}

// wrapBody returns resp's body wrapped so that what the caller reads is
// captured (up to the configured size) and the line, attrs and the
// response_body attribute, is written once: when a read reports the end
// of the body or fails, or when the body is closed, whichever comes first.
func (t *Transport) wrapBody(resp *http.Response, l *slog.Logger, ctx context.Context, level slog.Level, attrs []slog.Attr) io.ReadCloser {
	ct := resp.Header.Get("Content-Type")
	kind, _ := kindOf(ct)
	return &loggedBody{
		body: resp.Body, t: t, l: l, ctx: ctx, level: level, ct: ct,
		attrs: append(make([]slog.Attr, 0, len(attrs)+2), attrs...), // a copy: attrs stays on RoundTrip's stack
		kept:  capture{max: t.cfg.bodies, kind: kind},
	}
}

// loggedBody is a response body that logs the call's line as it ends.
// Read and Close may be called from different goroutines (a Close that
// aborts a Read).
type loggedBody struct {
	body  io.ReadCloser
	t     *Transport
	l     *slog.Logger
	ctx   context.Context
	level slog.Level
	attrs []slog.Attr
	ct    string

	mu   sync.Mutex
	done bool // the line is written or being written: kept no longer changes
	kept capture
}

func (b *loggedBody) Read(p []byte) (int, error) {
	n, err := b.body.Read(p)
	if n == 0 && err == nil {
		return n, err
	}
	b.mu.Lock()
	if b.done {
		b.mu.Unlock()
		return n, err
	}
	b.kept.add(p[:n])
	if err == nil {
		b.mu.Unlock()
		return n, err
	}
	b.done = true
	b.mu.Unlock()
	if err == io.EOF {
		b.log(false, nil)
	} else {
		b.log(true, err)
	}
	return n, err
}

func (b *loggedBody) Close() error {
	err := b.body.Close()
	b.mu.Lock()
	done := b.done
	b.done = true
	b.mu.Unlock()
	if !done {
		b.log(true, nil)
	}
	return err
}

// log writes the line; partial: the body's end was not seen; readErr: the
// read error that ended it.
func (b *loggedBody) log(partial bool, readErr error) {
	c := &b.kept
	attrs := append(b.attrs, slog.String("response_body", redactBody(b.ct, c.buf, c.n, c.over, partial)))
	if readErr != nil {
		attrs = append(attrs, slog.String("response_body_error", b.t.cfg.errorString(readErr)))
	}
	b.l.LogAttrs(b.ctx, b.level, Message, attrs...)
}

// bodyKind is how a body's content type is shown.
type bodyKind uint8

const (
	other    bodyKind = iota // described, never shown: only counted
	jsonBody                 // shown whole, redacted; described when over the limit
	formBody                 // shown up to the limit, redacted
)

// kindOf is how a body of contentType is shown, and its media type.
func kindOf(contentType string) (bodyKind, string) {
	mt, _, _ := mime.ParseMediaType(contentType)
	switch {
	case mt == "application/json" || strings.HasSuffix(mt, "+json"):
		return jsonBody, mt
	case mt == "application/x-www-form-urlencoded":
		return formBody, mt
	}
	return other, mt
}

// capture keeps what a line may show of a body read through it: the first
// max bytes of a body shown (nothing of a JSON body once it is over max,
// as it will not be shown), in a buffer grown as bytes arrive, never
// beyond max; and counts them.
type capture struct {
	max  int
	kind bodyKind
	buf  []byte
	n    int  // bytes seen, up to max
	over bool // more than max bytes seen
}

func (c *capture) add(p []byte) {
	if c.over {
		return
	}
	if room := c.max - c.n; len(p) > room {
		p, c.over = p[:room], true
	}
	c.n += len(p)
	switch {
	case c.kind == other:
	case c.kind == jsonBody && c.over:
		c.buf = nil
	default:
		c.buf = append(grow(c.buf, len(p), c.max), p...)
	}
}

// grow returns b with room for k more bytes, growing its capacity by at
// least doubling (from 512) but never beyond limit, which len(b)+k must
// not exceed.
func grow(b []byte, k, limit int) []byte {
	if cap(b)-len(b) >= k {
		return b
	}
	nb := make([]byte, len(b), min(limit, max(2*cap(b), len(b)+k, 512)))
	copy(nb, b)
	return nb
}

// readUpTo reads up to max+1 bytes, into a buffer grown as they arrive:
// all it read (to be handed on), and whether there is (or, after a read
// error, may be) more than max.
func readUpTo(r io.Reader, max int) ([]byte, bool, error) {
	limit := max + 1
	if limit < max { // max is math.MaxInt
		limit = max
	}
	var buf []byte
	for len(buf) < limit {
		buf = grow(buf, 1, limit)
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		switch {
		case err == nil:
		case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
			return buf, false, nil
		default:
			return buf, true, err
		}
	}
	return buf, true, nil
}

// shown is the part of a body read by readUpTo that a line may show.
func shown(b []byte, max int) []byte { return b[:min(len(b), max)] }

// redactBody renders a body for a log line: JSON with secret keys' values
// replaced, form data with secret parameters replaced, anything else (or a
// JSON body over the limit, which cannot be parsed) described, not shown.
// b is the content kept (nil for a body never shown), n the bytes seen (up
// to the limit); over: more than the limit arrived; partial: the body's
// end was not seen (closed early, or a read failed), so that there may be
// more. A JSON body closed early is shown if what arrived is a whole JSON
// value (a decoder stops reading at its end).
func redactBody(contentType string, b []byte, n int, over, partial bool) string {
	more := ""
	if over || partial {
		more = "+"
	}
	if n == 0 && more == "" {
		return ""
	}
	kind, mt := kindOf(contentType)
	switch kind {
	case jsonBody:
		if over {
			return "[" + strconv.Itoa(n) + more + " bytes of JSON, truncated, not shown]"
		}
		out, err := credentials.RedactJSON(b)
		switch {
		case err == nil:
			return string(out)
		case partial:
			return "[" + strconv.Itoa(n) + more + " bytes of JSON, truncated, not shown]"
		}
		return "[" + strconv.Itoa(n) + " bytes of invalid JSON, not shown]"
	case formBody:
		if more != "" {
			return credentials.RedactQuery(string(b)) + "…"
		}
		return credentials.RedactQuery(string(b))
	}
	if mt == "" {
		mt = "unknown type"
	}
	return "[" + strconv.Itoa(n) + more + " bytes of " + mt + ", not shown]"
}
