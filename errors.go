package composiohttp

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Sentinel errors for requests the Transport refuses before sending
// anything. Test with errors.Is; they arrive wrapped in *url.Error when the
// call goes through an http.Client.
var (
	// ErrUnsupportedMethod: the method is not GET, POST, PUT, DELETE,
	// PATCH or HEAD, which are all the proxy accepts.
	ErrUnsupportedMethod = errors.New("composiohttp: unsupported method")
	// ErrBodyTooLarge: a body over MaxInlineBody and no Transport.Upload,
	// or a JSON body over MaxRequestSize. It is the module's one "body too
	// large" target: a proxy *Error with status 413 or slug
	// PayloadTooLarge matches it too, and so does schemes.OAuth1's refusal
	// of a form body over schemes.MaxFormBody.
	ErrBodyTooLarge = errors.New("composiohttp: request body too large")
	// ErrInvalidJSONBody is no longer returned: a body labelled JSON that
	// is not valid JSON goes as binary_body, byte for byte, and
	// CallInfo.BodySentAsBinary says so.
	//
	// Deprecated: kept so that code testing for it still compiles.
	ErrInvalidJSONBody = errors.New("composiohttp: request body declared as JSON is not valid JSON")
	// ErrBodyNotAllowed: a GET or HEAD request with a non-empty body.
	// Composio's proxy takes a body for POST, PUT, PATCH and DELETE only
	// (its reference names POST, PUT and PATCH; DELETE bodies are kept, as
	// some APIs need them), and a strict proxy rejects a GET carrying one.
	ErrBodyNotAllowed = errors.New("composiohttp: GET and HEAD requests cannot carry a body through the proxy")
	// ErrNoAPIKey: no API key configured and COMPOSIO_API_KEY unset.
	ErrNoAPIKey = errors.New("composiohttp: no API key (set Transport.APIKey or COMPOSIO_API_KEY)")
	// ErrNoAuthContext: neither a connected account id nor a connection.
	ErrNoAuthContext = errors.New("composiohttp: no connected account id or connection for the request")
	// ErrBadRequest: the request cannot be expressed as a proxy call
	// (nil URL, invalid connection, bad configuration).
	ErrBadRequest = errors.New("composiohttp: invalid request")
	// ErrNilRequest: RoundTrip was given a nil *http.Request. Every
	// RoundTripper of the module returns this same error for it
	// (retry.ErrNilRequest, ratelimit.ErrNilRequest and
	// breaker.ErrNilRequest are this error; schemes.Transport returns it).
	ErrNilRequest = errors.New("composiohttp: nil request")
	// ErrZeroTransport: RoundTrip of a middleware's Transport, or of a
	// vcr.Recorder, built by hand (&retry.Transport{}) instead of by its
	// package's New: its zero value has nothing to call. The request's
	// body is closed; nothing is sent.
	ErrZeroTransport = errors.New("composiohttp: Transport not made with its package's New (its zero value is not usable)")

	// ErrMalformedEnvelope: the proxy's 200 reply is not a valid
	// envelope. The concrete error is *EnvelopeError.
	ErrMalformedEnvelope = errors.New("composiohttp: malformed proxy response")
	// ErrBinaryBody: a binary_data body could not be fetched or did not
	// match its declared size. The concrete error is *BinaryError.
	ErrBinaryBody = errors.New("composiohttp: binary response body failed")
)

// Error is an error of the proxy itself (not of the upstream API, whose
// 4xx/5xx responses are returned as ordinary responses). RoundTrip returns
// it instead of a response; use errors.As to get it, also through
// *url.Error.
type Error struct {
	// StatusCode is the HTTP status of the proxy's reply.
	StatusCode int
	// Code is Composio's numeric error code, when given.
	Code int
	// Slug names the error, when given: one of the Slug constants (e.g.
	// SlugOriginMismatch). CodeOf sorts the error by it, or by StatusCode
	// when there is none.
	Slug string
	// Message is the human-readable message.
	Message string
	// RequestID identifies the call to Composio support.
	RequestID string
	// SuggestedFix is Composio's hint, when given.
	SuggestedFix string
	// Errors lists details, e.g. validation failures.
	Errors []string
	// RetryAfter is the wait the proxy asked for (retry-after-ms, else
	// Retry-After; see RetryAfterHeader), or 0.
	RetryAfter time.Duration
	// ShouldRetry is the proxy's x-should-retry header, when it sent
	// "true" or "false" (nil otherwise): its explicit word on retrying,
	// which middleware/retry obeys before its own rules.
	ShouldRetry *bool
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "composiohttp: proxy error %d", e.StatusCode)
	if e.Slug != "" {
		b.WriteString(" ")
		b.WriteString(e.Slug)
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if len(e.Errors) > 0 {
		fmt.Fprintf(&b, " (%s)", strings.Join(e.Errors, "; "))
	}
	if e.RequestID != "" {
		b.WriteString(" [request_id ")
		b.WriteString(e.RequestID)
		b.WriteString("]")
	}
	return b.String()
}

// Temporary reports RetryableStatus(e.StatusCode): true for 408, 429,
// 500, 502, 503 and 504, as IsRetryable(e). It is kept, with Timeout, so
// that *Error satisfies net.Error for code that sorts errors by that
// interface.
//
// Deprecated: net.Error's Temporary is deprecated (it was never well
// defined); use IsRetryable or CodeOf.
func (e *Error) Temporary() bool { return RetryableStatus(e.StatusCode) }

// Timeout reports whether the proxy gave up waiting for the upstream (504).
func (e *Error) Timeout() bool { return e.StatusCode == http.StatusGatewayTimeout }

// Is makes errors.Is(e, ErrBodyTooLarge) true when the proxy refused the
// request as too large (status 413, or slug PayloadTooLarge), so that one
// target covers the local refusal and the proxy's.
func (e *Error) Is(target error) bool {
	return target == ErrBodyTooLarge &&
		(e.StatusCode == http.StatusRequestEntityTooLarge || e.Slug == SlugPayloadTooLarge)
}

// EnvelopeError is a proxy 200 reply that is not a valid envelope. It
// matches ErrMalformedEnvelope with errors.Is.
type EnvelopeError struct {
	// Reason says what is wrong, without quoting the body.
	Reason string
	// Offset is the byte offset in the body where decoding failed, or -1.
	Offset int64
}

func (e *EnvelopeError) Error() string {
	if e.Offset >= 0 {
		return fmt.Sprintf("composiohttp: malformed proxy response at byte %d: %s", e.Offset, e.Reason)
	}
	return "composiohttp: malformed proxy response: " + e.Reason
}

// Is makes errors.Is(err, ErrMalformedEnvelope) true.
func (e *EnvelopeError) Is(target error) bool { return target == ErrMalformedEnvelope }

// BinaryError is a failure reading a binary_data body: the signed URL
// refused (e.g. expired), or the body was shorter or longer than declared.
// It matches ErrBinaryBody with errors.Is.
type BinaryError struct {
	// StatusCode is the signed URL's HTTP status, 0 if it answered 200.
	StatusCode int
	// Expected and Got are the declared and the actual size, when the
	// sizes disagree.
	Expected, Got int64
	// Err is the underlying error, if any.
	Err error
}

func (e *BinaryError) Error() string {
	switch {
	case e.StatusCode != 0:
		return fmt.Sprintf("composiohttp: binary response body: signed URL answered %d (expired?)", e.StatusCode)
	case e.Err != nil:
		// A Base's error may quote the signed URL (a *url.Error): its
		// signature is not shown.
		return "composiohttp: binary response body: " + redactURLErrors(e.Err)
	default:
		return fmt.Sprintf("composiohttp: binary response body: size mismatch: declared %d bytes, got %d", e.Expected, e.Got)
	}
}

// MarshalJSON encodes e's fields with Err as its text, redacted as in
// Error: json.Marshal would otherwise encode Err's exported fields, such
// as the signed URL of a *url.Error.
func (e BinaryError) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		StatusCode    int
		Expected, Got int64
		Err           *string
	}{e.StatusCode, e.Expected, e.Got, redactedCause(e.Err)})
}

// Is makes errors.Is(err, ErrBinaryBody) true.
func (e *BinaryError) Is(target error) bool { return target == ErrBinaryBody }

// Unwrap returns the underlying error.
func (e *BinaryError) Unwrap() error { return e.Err }

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
		e.Slug = cmp.Or(str("slug"), str("name"))
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
	e.RetryAfter = RetryAfterHeader(h, now)
	if retry, ok := ShouldRetryHeader(h); ok {
		e.ShouldRetry = &retry
	}
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
