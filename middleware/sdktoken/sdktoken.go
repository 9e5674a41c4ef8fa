// Package sdktoken removes a placeholder credential from requests, for
// third-party SDKs that insist on a token (slack-go, stripe-go, ...) when
// the real credential is added by Composio's proxy.
//
// Such an SDK is given the placeholder (Placeholder, "composio") as its
// token, and puts it where it would put a real one: slack-go in a
// "token=composio" form field of most Web API calls, other SDKs in
// "Authorization: Bearer composio" or in a query parameter. Left there, the
// placeholder travels through the proxy to the upstream next to the real
// credential the proxy adds, and the upstream may read it first (Slack
// answers invalid_auth). What the proxy does with a caller's Authorization
// header or token field is not documented by Composio, so the placeholder
// is removed before the request leaves the client:
//
//	client := &http.Client{Transport: sdktoken.New(&composiohttp.Transport{ConnectedAccountID: "ca_slack"})}
//	api := slack.New(sdktoken.Placeholder, slack.OptionHTTPClient(client))
//
// Only the placeholder is removed, never another value, so a request that
// carries a real token is left alone:
//
//   - header values equal to the placeholder, or to "Bearer", "Token" or
//     "Basic" credentials made of it (Basic as user name with an empty
//     password, as stripe-go sends an API key), in any header;
//   - query parameters named token (see WithFields) whose value is the
//     placeholder;
//   - the same fields of an application/x-www-form-urlencoded body of at
//     most composiohttp.MaxInlineBody bytes (a larger body passes
//     unchanged). The other fields keep their order and encoding.
//
// Multipart bodies are not rewritten (slack-go's legacy files.upload sends
// its token in one; its current upload calls do not).
//
// The Transport follows the RoundTripper contract: it never modifies the
// caller's request (it sends a clone when it removes anything), closes the
// caller's body on every path, and is safe for concurrent use. Place it
// anywhere in a middleware chain; around the composiohttp.Transport is
// simplest.
package sdktoken

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/composiohttp/composiohttp/internal/readahead"

	"github.com/composiohttp/composiohttp"
)

// Placeholder is the token to give an SDK that insists on one. Default of
// WithPlaceholder.
const Placeholder = "composio"

// Option configures a Transport.
type Option func(*Transport)

// WithPlaceholder sets the placeholder value removed from requests; an
// empty value is ignored. Default: Placeholder.
func WithPlaceholder(p string) Option {
	return func(t *Transport) {
		if p != "" {
			t.placeholder = p
		}
	}
}

// WithFields sets the names of the query and form fields that may carry
// the placeholder. Default: "token" (slack-go's).
func WithFields(names ...string) Option {
	return func(t *Transport) { t.fields = slices.Clone(names) }
}

// Transport removes the placeholder credential from requests, then sends
// them with the RoundTripper it wraps. Make one with New.
type Transport struct {
	next        http.RoundTripper
	placeholder string
	fields      []string
	headerForms []string // header values that carry the placeholder, lower-cased
}

// New returns a Transport that removes the placeholder from each request
// before next sends it (nil next: http.DefaultTransport).
func New(next http.RoundTripper, opts ...Option) *Transport {
	if next == nil {
		next = http.DefaultTransport
	}
	t := &Transport{next: next, placeholder: Placeholder, fields: []string{"token"}}
	for _, o := range opts {
		if o != nil {
			o(t)
		}
	}
	p := t.placeholder
	basic := base64.StdEncoding.EncodeToString([]byte(p + ":"))
	t.headerForms = []string{strings.ToLower(p), "bearer " + strings.ToLower(p), "token " + strings.ToLower(p), "basic " + strings.ToLower(basic)}
	return t
}

// Middleware returns New as a middleware, for middleware.Chain.
func Middleware(opts ...Option) func(http.RoundTripper) http.RoundTripper {
	return func(next http.RoundTripper) http.RoundTripper { return New(next, opts...) }
}

// Unwrap returns the RoundTripper t wraps.
func (t *Transport) Unwrap() http.RoundTripper { return t.next }

// String describes t.
func (t *Transport) String() string { return fmt.Sprintf("sdktoken.Transport{fields:%q}", t.fields) }

// RoundTrip sends req without the placeholder.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req == nil {
		return nil, fmt.Errorf("sdktoken: %w", composiohttp.ErrNilRequest)
	}
	if t.next == nil { // built by hand: nothing to call
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, fmt.Errorf("sdktoken: %w", composiohttp.ErrZeroTransport)
	}
	var out *http.Request
	clone := func() *http.Request {
		if out == nil {
			out = req.Clone(req.Context())
		}
		return out
	}
	for k, vs := range req.Header {
		if slices.ContainsFunc(vs, t.isPlaceholderHeader) {
			kept := slices.DeleteFunc(slices.Clone(vs), t.isPlaceholderHeader)
			if len(kept) == 0 {
				clone().Header.Del(k)
			} else {
				clone().Header[k] = kept
			}
		}
	}
	if q, changed := t.strip(req.URL.RawQuery); changed {
		clone().URL.RawQuery = q
	}
	if req.Body != nil && req.Body != http.NoBody && isForm(req.Header.Get("Content-Type")) {
		b, err := io.ReadAll(io.LimitReader(req.Body, composiohttp.MaxInlineBody+1))
		if err != nil {
			req.Body.Close()
			return nil, fmt.Errorf("sdktoken: reading the request body: %w", err)
		}
		o := clone() // the body was read: what is sent is a new one
		if len(b) > composiohttp.MaxInlineBody {
			o.Body = readahead.Rejoin(b, nil, req.Body) // the rest to come
		} else {
			req.Body.Close()
			if s, changed := t.strip(string(b)); changed {
				b = []byte(s)
				o.ContentLength = int64(len(b))
				o.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
			}
			o.Body = io.NopCloser(bytes.NewReader(b))
		}
	}
	if out == nil {
		return t.next.RoundTrip(req)
	}
	return t.next.RoundTrip(out)
}

func (t *Transport) isPlaceholderHeader(v string) bool {
	return slices.Contains(t.headerForms, strings.ToLower(strings.TrimSpace(v)))
}

func isForm(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && mt == "application/x-www-form-urlencoded"
}

// strip removes the fields t.fields whose value is the placeholder from
// q, a query string or form body, keeping every other pair as written.
func (t *Transport) strip(q string) (string, bool) {
	if q == "" || !strings.Contains(q, "=") {
		return q, false
	}
	pairs := strings.Split(q, "&")
	kept := pairs[:0:0]
	for _, pair := range pairs {
		k, v, _ := strings.Cut(pair, "=")
		key, err1 := url.QueryUnescape(k)
		val, err2 := url.QueryUnescape(v)
		if err1 == nil && err2 == nil && val == t.placeholder && slices.Contains(t.fields, key) {
			continue
		}
		kept = append(kept, pair)
	}
	if len(kept) == len(pairs) {
		return q, false
	}
	return strings.Join(kept, "&"), true
}
