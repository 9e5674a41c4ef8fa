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
//	duration     from the call to the return of the layers below
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
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/composiohttp/composiohttp/internal/readahead"

	"github.com/composiohttp/composiohttp"
	"github.com/composiohttp/composiohttp/credentials"
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
// redacted (see the package documentation). A request body is read through
// Request.GetBody, so a body that cannot be replayed is not shown; a
// response body is read ahead by up to maxBytes and handed on intact.
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
	var pe *composiohttp.Error
	if requestID == "" && errors.As(err, &pe) {
		requestID = pe.RequestID
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
			attrs = append(attrs, t.responseBody(resp))
		}
	}
	l.LogAttrs(ctx, level, Message, attrs...)
	return resp, err
}

// showURL is u redacted for a line: by credentials.RedactURL, then by
// the WithURLRedactor function.
func (c *config) showURL(u *url.URL) string {
	r, _ := credentials.RedactURL(u)
	if c.redactURL != nil {
		cp := *r
		if out := c.redactURL(&cp); out != nil {
			r = out
		}
	}
	return r.String()
}

// errorString is err's text with the URL of a *url.Error redacted.
func (c *config) errorString(err error) string {
	var ue *url.Error
	if !errors.As(err, &ue) {
		return err.Error()
	}
	s := err.Error()
	if u, perr := url.Parse(ue.URL); perr == nil {
		if r := c.showURL(u); r != ue.URL {
			s = strings.ReplaceAll(s, ue.URL, r)
		}
	} else {
		s = strings.ReplaceAll(s, ue.URL, "[unparsable URL]")
	}
	return s
}

// secretHeader reports whether a header's value must not be logged.
func secretHeader(name string) bool { return credentials.IsSecret(name) }

func headerAttr(key string, h http.Header) slog.Attr {
	attrs := make([]any, 0, len(h))
	for name, vs := range h {
		v := strings.Join(vs, ", ")
		switch {
		case secretHeader(name):
			v = credentials.Redacted
		case strings.EqualFold(name, "Location"), strings.EqualFold(name, "Content-Location"):
			v = redactURLString(v)
		case strings.EqualFold(name, "Link"):
			v = redactLinks(v)
		case strings.EqualFold(name, "Refresh"):
			v = redactRefresh(v)
		}
		attrs = append(attrs, slog.String(name, v))
	}
	return slog.Group(key, attrs...)
}

// redactURLString is a (possibly relative) URL redacted with
// credentials.RedactURL, or credentials.Redacted when it does not parse.
func redactURLString(s string) string {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil {
		return credentials.Redacted
	}
	if r, changed := credentials.RedactURL(u); changed {
		return r.String()
	}
	return s
}

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

func (t *Transport) requestBody(req *http.Request) slog.Attr {
	if req.Body == nil || req.Body == http.NoBody {
		return slog.Attr{}
	}
	if req.GetBody == nil {
		return slog.String("request_body", "[not replayable, not shown]")
	}
	b, err := req.GetBody()
	if err != nil {
		return slog.String("request_body", "[not shown: "+err.Error()+"]")
	}
	defer b.Close()
	buf, truncated, _ := readUpTo(b, t.cfg.bodies)
	return slog.String("request_body", redactBody(req.Header.Get("Content-Type"), shown(buf, t.cfg.bodies), truncated))
}

// responseBody reads ahead up to the configured size and puts the bytes
// back in front of the rest of the body.
func (t *Transport) responseBody(resp *http.Response) slog.Attr {
	body := resp.Body
	buf, truncated, err := readUpTo(body, t.cfg.bodies)
	resp.Body = readahead.Rejoin(buf, err, body)
	return slog.String("response_body", redactBody(resp.Header.Get("Content-Type"), shown(buf, t.cfg.bodies), truncated))
}

// readUpTo reads up to max+1 bytes: all it read (to be handed on), and
// whether there is (or, after a read error, may be) more than max.
func readUpTo(r io.Reader, max int) ([]byte, bool, error) {
	buf := make([]byte, max+1)
	n, err := io.ReadFull(r, buf)
	switch {
	case err == nil:
		return buf, true, nil
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return buf[:n], false, nil
	}
	return buf[:n], true, err
}

// shown is the part of a body read by readUpTo that a line may show.
func shown(b []byte, max int) []byte { return b[:min(len(b), max)] }

// redactBody renders a body for a log line: JSON with secret keys' values
// replaced, form data with secret parameters replaced, anything else (or a
// truncated JSON body, which cannot be parsed) described, not shown.
func redactBody(contentType string, b []byte, truncated bool) string {
	mt, _, _ := mime.ParseMediaType(contentType)
	more := ""
	if truncated {
		more = "+"
	}
	switch {
	case len(b) == 0:
		return ""
	case mt == "application/json" || strings.HasSuffix(mt, "+json"):
		if truncated {
			return "[" + strconv.Itoa(len(b)) + more + " bytes of JSON, truncated, not shown]"
		}
		out, err := credentials.RedactJSON(b)
		if err != nil {
			return "[" + strconv.Itoa(len(b)) + " bytes of invalid JSON, not shown]"
		}
		return string(out)
	case mt == "application/x-www-form-urlencoded":
		if truncated {
			return credentials.RedactQuery(string(b)) + "…"
		}
		return credentials.RedactQuery(string(b))
	}
	if mt == "" {
		mt = "unknown type"
	}
	return "[" + strconv.Itoa(len(b)) + more + " bytes of " + mt + ", not shown]"
}
