package composiohttp

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"syscall"

	"github.com/composiohttp/composiohttp/credentials"
	"github.com/composiohttp/composiohttp/internal/redact"
)

// Code sorts any failure of a call through the Transport (and through the
// middleware and schemes.Transport above or beside it) into the classes a
// caller branches on, in the spirit of connect-go's CodeOf. CodeOf computes
// it; a switch on it replaces learning the module's error types:
//
//	switch composiohttp.CodeOf(err) {
//	case composiohttp.CodeAccountNotFound, composiohttp.CodeAccountNotActive:
//		// ask the user to reconnect
//	case composiohttp.CodeRateLimited, composiohttp.CodeUnavailable, composiohttp.CodeUnreachable:
//		// try later (IsRetryable says the same)
//	}
type Code int

// The codes, with the errors each covers.
const (
	// CodeOK: no error (CodeOf(nil)).
	CodeOK Code = iota
	// CodeUnknown: an error none of the other codes covers, such as a
	// failure of Transport.Upload (ErrUpload; but a body whose length
	// differs from its ContentLength is CodeInvalidRequest, and the
	// caller's cancellation CodeCanceled) or an error of another
	// RoundTripper.
	CodeUnknown
	// CodeCanceled: the caller's context was canceled (context.Canceled).
	CodeCanceled
	// CodeDeadlineExceeded: the caller's deadline passed
	// (context.DeadlineExceeded, http.Client.Timeout), or a rate limiter
	// refused the call, sending nothing, because its wait would end after
	// the deadline (middleware/ratelimit's *ratelimit.LimitError,
	// ratelimit.ErrLimited, also from redislimit and the OrgLimiter's
	// pause): allow more time, or send the call later.
	CodeDeadlineExceeded
	// CodeInvalidRequest: the request cannot succeed as it is. Either the
	// Transport refused it before sending anything (ErrUnsupportedMethod,
	// ErrBodyNotAllowed, ErrRedirectNotAllowed, ErrBadRequest, ErrNilRequest,
	// ErrZeroTransport,
	// ErrAmbiguousAccount, ErrNoToolkit, a connection
	// failing credentials.Validate: credentials.ErrMissingField,
	// credentials.ErrUnknownScheme), or the proxy did: a 4xx with no more
	// specific code below (400 ValidationError, 404 NotFound, 405, 422
	// InvalidConnectionData, ...) or 501 AuthSchemeNotSupported.
	CodeInvalidRequest
	// CodeUnauthenticated: no API key is configured (ErrNoAPIKey), or the
	// proxy rejected it (401, slug InvalidAPIKey).
	CodeUnauthenticated
	// CodePermissionDenied: the proxy answered 403: the key may not do
	// this.
	CodePermissionDenied
	// CodeAccountNotFound: no such connected account (slug
	// ConnectedAccountNotFound), or a user selected by id (WithUser) has
	// no ACTIVE account for the toolkit (ErrNoConnectedAccount).
	CodeAccountNotFound
	// CodeAccountNotActive: the connected account exists but is not
	// ACTIVE, e.g. expired or revoked (slug ConnectedAccountNotActive).
	CodeAccountNotActive
	// CodeOriginMismatch: an absolute URL is not on the account's site
	// (slug OriginMismatch), or, in strict direct mode, not on the
	// connection's site, so its credentials were withheld and nothing
	// sent (*schemes.WithheldError, schemes.ErrCredentialsWithheld).
	CodeOriginMismatch
	// CodeNoAuthContext: the request named neither a connected account
	// nor a connection (ErrNoAuthContext, slug MissingAuthContext).
	CodeNoAuthContext
	// CodeRateLimited: the proxy answered 429 (Error.RetryAfter says how
	// long to wait). Retryable.
	CodeRateLimited
	// CodePayloadTooLarge: the request body is too large, refused before
	// sending (ErrBodyTooLarge) or by the proxy (413, slug
	// PayloadTooLarge). errors.Is(err, ErrBodyTooLarge) matches all of them.
	CodePayloadTooLarge
	// CodeUnavailable: the proxy answered but could not serve the call
	// now: 408, 500, 502 (it could not reach the upstream), 503, 504 (the
	// upstream timed out). Retryable.
	CodeUnavailable
	// CodeUnreachable: no reply at all: the proxy could not be reached or
	// the connection broke before a reply (ErrProxyUnreachable; in direct
	// mode, any connection failure to the upstream). Retryable.
	CodeUnreachable
	// CodeMalformedEnvelope: the proxy answered 200 with something that is
	// not a valid envelope (ErrMalformedEnvelope).
	CodeMalformedEnvelope
	// CodeBinaryBody: a binary response body could not be fetched whole
	// from its signed URL (ErrBinaryBody), returned by the body's Read.
	CodeBinaryBody
	// CodeCircuitOpen: a circuit breaker refused the call without sending
	// it (middleware/breaker's *breaker.OpenError, breaker.ErrOpen): calls
	// for its key (the upstream host by default, or the toolkit or
	// account) failed too often lately. OpenError.RetryAt says when a
	// call may go again. Not retryable: sending it again at once is
	// refused again, so retry ends at an open breaker.
	CodeCircuitOpen
)

var codeNames = [...]string{
	CodeOK:                "ok",
	CodeUnknown:           "unknown",
	CodeCanceled:          "canceled",
	CodeDeadlineExceeded:  "deadline_exceeded",
	CodeInvalidRequest:    "invalid_request",
	CodeUnauthenticated:   "unauthenticated",
	CodePermissionDenied:  "permission_denied",
	CodeAccountNotFound:   "account_not_found",
	CodeAccountNotActive:  "account_not_active",
	CodeOriginMismatch:    "origin_mismatch",
	CodeNoAuthContext:     "no_auth_context",
	CodeRateLimited:       "rate_limited",
	CodePayloadTooLarge:   "payload_too_large",
	CodeUnavailable:       "unavailable",
	CodeUnreachable:       "unreachable",
	CodeMalformedEnvelope: "malformed_envelope",
	CodeBinaryBody:        "binary_body",
	CodeCircuitOpen:       "circuit_open",
}

// String returns the code's name in snake case, e.g. "rate_limited".
func (c Code) String() string {
	if c >= 0 && int(c) < len(codeNames) {
		return codeNames[c]
	}
	return "code_" + strconv.Itoa(int(c))
}

// Retryable reports whether a call that failed with this code may succeed
// if sent again: true for CodeRateLimited, CodeUnavailable and
// CodeUnreachable. IsRetryable(err) is CodeOf(err).Retryable().
func (c Code) Retryable() bool {
	return c == CodeRateLimited || c == CodeUnavailable || c == CodeUnreachable
}

// RetryableStatus is the module's one retry table, for the proxy's own
// error statuses (*Error.StatusCode) and the upstream's statuses alike:
// true for
//
//	408 Request Timeout, 429 Too Many Requests, 500 Internal Server Error,
//	502 Bad Gateway, 503 Service Unavailable, 504 Gateway Timeout
//
// and false for every other status: 501 Not Implemented and the other 5xx
// say the server cannot do this at all, and the other 4xx that the request
// is wrong. 409 Conflict is not retried: Composio's generated clients
// retry it on Composio's own API, where it means a lock timeout, but an
// upstream 409 is a conflict (an edit race, an existing resource) that
// sending the same request again does not resolve, and the proxy does not
// document a 409 of its own. Middleware retry applies this table to
// upstream responses, and IsRetryable and Error.Temporary to proxy errors;
// connection failures to the proxy (ErrProxyUnreachable) are retryable
// too. Only idempotent requests are retried (see package
// middleware/retry).
func RetryableStatus(code int) bool {
	switch code {
	case http.StatusRequestTimeout, http.StatusTooManyRequests,
		http.StatusInternalServerError, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// IsRetryable reports whether err, returned by a call through the
// Transport (or through middleware or schemes.Transport), is worth
// retrying: CodeOf(err).Retryable(). That is a proxy error whose status
// RetryableStatus accepts (408, 429, 500, 502, 503, 504), or no reply at
// all (ErrProxyUnreachable, or a connection failure: refused, reset,
// unexpected EOF, network timeout). The caller's own cancellation or
// deadline, a request refused before sending, a malformed envelope and
// every other proxy error are not.
func IsRetryable(err error) bool { return CodeOf(err).Retryable() }

// CodeOf sorts err into a Code. It looks through wrapping (fmt.Errorf's
// %w, *url.Error, errors.Join), outermost first, and returns the code of
// the first error it recognises, so that a retry that ended with the
// caller's cancellation is CodeCanceled even though the attempt before it
// had failed otherwise. Errors it cannot place are CodeUnknown; nil is
// CodeOK.
//
// An error with a method Code() Code is sorted by it: so are the
// refusals of the packages that cannot be imported here (an open circuit
// breaker, *breaker.OpenError: CodeCircuitOpen; a rate limiter's wait
// that would outlast the deadline, *ratelimit.LimitError:
// CodeDeadlineExceeded; credentials withheld by strict direct mode,
// *schemes.WithheldError: CodeOriginMismatch), and a RoundTripper of
// your own may sort its errors the same way.
func CodeOf(err error) Code {
	if err == nil {
		return CodeOK
	}
	if c := walkCode(err); c != CodeUnknown {
		return c
	}
	// Connection failures from other RoundTrippers (direct mode, the
	// binary download): not one of this package's errors.
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) {
		return CodeUnreachable
	}
	var oe *net.OpError
	if errors.As(err, &oe) {
		return CodeUnreachable
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return CodeUnreachable
	}
	return CodeUnknown
}

// walkCode visits err and what it wraps, depth first, and returns the
// code of the first error this package defines a code for.
func walkCode(err error) Code {
	if c := nodeCode(err); c != CodeUnknown {
		return c
	}
	switch u := err.(type) {
	case interface{ Unwrap() error }:
		if next := u.Unwrap(); next != nil {
			return walkCode(next)
		}
	case interface{ Unwrap() []error }:
		for _, next := range u.Unwrap() {
			if c := walkCode(next); c != CodeUnknown {
				return c
			}
		}
	}
	return CodeUnknown
}

// is reports whether err itself (not what it wraps) is target.
func is(err, target error) bool {
	if err == target {
		return true
	}
	x, ok := err.(interface{ Is(error) bool })
	return ok && x.Is(target)
}

// nodeCode is the code of err itself, not of what it wraps.
func nodeCode(err error) Code {
	switch e := err.(type) {
	case *Error:
		return e.code()
	case *ProxyUnreachableError:
		return CodeUnreachable
	case *url.Error:
		return CodeUnknown // look inside
	case interface{ Code() Code }:
		return e.Code()
	}
	switch {
	case is(err, context.Canceled):
		return CodeCanceled
	case is(err, context.DeadlineExceeded):
		return CodeDeadlineExceeded
	case is(err, ErrProxyUnreachable):
		return CodeUnreachable
	case is(err, ErrBodyTooLarge):
		return CodePayloadTooLarge
	case is(err, ErrNoAPIKey):
		return CodeUnauthenticated
	case is(err, ErrNoAuthContext):
		return CodeNoAuthContext
	case is(err, ErrNoConnectedAccount):
		return CodeAccountNotFound
	case is(err, ErrAmbiguousAccount), is(err, ErrNoToolkit):
		return CodeInvalidRequest
	case is(err, ErrMalformedEnvelope):
		return CodeMalformedEnvelope
	case is(err, ErrBinaryBody):
		return CodeBinaryBody
	case is(err, ErrUnsupportedMethod), is(err, ErrBodyNotAllowed), is(err, ErrRedirectNotAllowed), is(err, ErrInvalidJSONBody), is(err, ErrBadRequest),
		is(err, ErrNilRequest), is(err, ErrZeroTransport), is(err, credentials.ErrMissingField), is(err, credentials.ErrUnknownScheme):
		return CodeInvalidRequest
	}
	return CodeUnknown
}

// code sorts a proxy error. The status decides whether it is retryable,
// so that CodeOf(e).Retryable() == RetryableStatus(e.StatusCode) for every
// e; the slug, or else the status, names the condition.
func (e *Error) code() Code {
	switch {
	case e.StatusCode == http.StatusTooManyRequests:
		return CodeRateLimited
	case RetryableStatus(e.StatusCode):
		return CodeUnavailable
	}
	switch e.Slug {
	case SlugInvalidAPIKey:
		return CodeUnauthenticated
	case SlugConnectedAccountNotFound:
		return CodeAccountNotFound
	case SlugConnectedAccountNotActive:
		return CodeAccountNotActive
	case SlugOriginMismatch:
		return CodeOriginMismatch
	case SlugMissingAuthContext:
		return CodeNoAuthContext
	case SlugPayloadTooLarge:
		return CodePayloadTooLarge
	}
	switch {
	case e.StatusCode == http.StatusUnauthorized:
		return CodeUnauthenticated
	case e.StatusCode == http.StatusForbidden:
		return CodePermissionDenied
	case e.StatusCode == http.StatusRequestEntityTooLarge:
		return CodePayloadTooLarge
	case e.StatusCode >= 400 && e.StatusCode < 500, e.StatusCode == http.StatusNotImplemented:
		return CodeInvalidRequest
	}
	return CodeUnknown
}

// ErrProxyUnreachable is matched (errors.Is) by every
// *ProxyUnreachableError: the Transport got no reply from the proxy.
var ErrProxyUnreachable = errors.New("composiohttp: proxy unreachable")

// ProxyUnreachableError is a call that got no complete reply from the
// proxy: the connection to it could not be made (refused, DNS, TLS) or
// broke before the whole reply arrived (reset, EOF, timeout). Its text names the proxy's host, not
// the upstream's, and says whether the upstream was reached. It matches
// ErrProxyUnreachable, and errors.Is and errors.As reach its cause
// (syscall.ECONNREFUSED, *net.OpError, *tls.CertificateVerificationError,
// ...). A proxy that answered with an error status is an *Error instead.
//
// The caller's own cancellation or deadline is not wrapped: it stays
// context.Canceled or context.DeadlineExceeded (CodeCanceled,
// CodeDeadlineExceeded).
type ProxyUnreachableError struct {
	// Host is the proxy's host[:port], from Transport.BaseURL.
	Host string
	// Connected is false when the failure is known to have happened while
	// connecting (dial, DNS, proxy CONNECT, TLS certificate or record):
	// nothing was sent and the upstream was not reached. It is true
	// otherwise: the connection broke after the request may have been
	// written, so the proxy may have forwarded it upstream.
	Connected bool
	// Err is the cause, as the base RoundTripper returned it. Error()
	// shows its text without the API key, secret headers, or the user
	// info and secret query and path parameter values of BaseURL (a
	// cause such as a *url.Error quotes the URL it was sent to).
	Err error

	secrets []string
}

func (e *ProxyUnreachableError) Error() string {
	proxy := "proxy"
	if e.Host != "" {
		proxy += " " + e.Host
	}
	msg := "composiohttp: " + proxy + " unreachable, upstream not reached"
	if e.Connected {
		msg = "composiohttp: no complete reply from " + proxy + " (the upstream may have been reached)"
	}
	if c := e.cause(); c != nil {
		msg += ": " + *c
	}
	return msg
}

// cause is Err's text as Error shows it, or nil when Err is nil (a
// ProxyUnreachableError built by hand): the URLs its chain quotes
// redacted (redactURLErrors, also for an error built by hand, which knows
// no secrets), then scrubbed of the secrets the Transport sent.
func (e *ProxyUnreachableError) cause() *string {
	if e.Err == nil {
		return nil
	}
	s := credentials.Scrub(redactURLErrors(e.Err), e.secrets...)
	return &s
}

// Format prints e's Error text whatever the verb (%#v: a Go expression
// of Host and Connected only): fmt would otherwise walk e's fields and
// print the secrets Error scrubs from Err's text, or Err's own fields.
func (e ProxyUnreachableError) Format(f fmt.State, verb rune) {
	redact.Format(f, verb, e.Error(), fmt.Sprintf("&composiohttp.ProxyUnreachableError{Host:%q, Connected:%t}", e.Host, e.Connected))
}

// MarshalJSON encodes Host, Connected and Err as its text, scrubbed as in
// Error: json.Marshal would otherwise encode Err's exported fields, such
// as the URL of a *url.Error.
func (e ProxyUnreachableError) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Host      string
		Connected bool
		Err       *string
	}{e.Host, e.Connected, e.cause()})
}

// endedError is Base's error for a call to Composio whose context ended
// (proxyUnreachable): errors.Is and errors.As see err's chain (the
// context's error, a *url.Error), but every way of printing it shows
// err's text with the URLs it quotes redacted and the secrets the call
// sent scrubbed, as ProxyUnreachableError does.
type endedError struct {
	err     error
	secrets []string
}

func (e *endedError) Error() string {
	return credentials.Scrub(redactURLErrors(e.err), e.secrets...)
}

func (e *endedError) Unwrap() error { return e.err }

// Format prints Error whatever the verb: fmt would otherwise walk the
// fields, secrets included.
func (e *endedError) Format(f fmt.State, verb rune) {
	redact.Format(f, verb, e.Error(), fmt.Sprintf("&composiohttp.endedError{%q}", e.Error()))
}

// MarshalJSON encodes Error's text: json.Marshal would otherwise encode
// nothing, or err's exported fields (a *url.Error's URL) for a wrapper.
func (e *endedError) MarshalJSON() ([]byte, error) { return json.Marshal(e.Error()) }

// Is makes errors.Is(err, ErrProxyUnreachable) true.
func (e *ProxyUnreachableError) Is(target error) bool { return target == ErrProxyUnreachable }

// Unwrap returns the cause.
func (e *ProxyUnreachableError) Unwrap() error { return e.Err }

// proxyUnreachable wraps a failure of the base RoundTripper to call the
// proxy of c, unless the caller's own context ended (then it is Base's
// error, shown scrubbed: endedError), or the caller's body
// was not as long as its ContentLength: the streamed envelope then ended
// short of its closing bytes, so the proxy cannot have forwarded it, and
// the error is the caller's (errBodyLength, ErrBadRequest), as on every
// other path, not a retryable failure to reach the proxy.
func proxyUnreachable(ctx context.Context, c *config, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		if err == cerr || err == context.Canceled || err == context.DeadlineExceeded {
			return err
		}
		// Base's error as it is for errors.Is/As, but shown scrubbed:
		// its text may quote the URL or headers the call sent.
		return &endedError{err: err, secrets: c.sentSecrets()}
	}
	if errors.Is(err, errBodyLength) {
		return errBodyLength
	}
	return &ProxyUnreachableError{Host: c.proxyURL.Host, Connected: !failedToConnect(err), Err: err, secrets: c.sentSecrets()}
}

// sentSecrets returns what a call to Composio sends that must not be
// shown: the values of secret headers (the API key, a custom
// X-Auth-Token), and BaseURL's password and secret query and path
// parameter values, in every form a URL may quote them.
func (c *config) sentSecrets() []string {
	return append(c.headerSecrets(), urlSecrets(&c.proxyURL)...)
}

// headerSecrets returns the values of the secret headers (credentials.IsSecret
// names) every call to Composio sends: the API key, a custom X-Auth-Token.
// The slice is the caller's.
func (c *config) headerSecrets() []string {
	var out []string
	for name, vs := range c.header {
		if credentials.IsSecret(name) {
			out = append(out, vs...)
		}
	}
	return out
}

// failedToConnect reports whether err is known to have happened before a
// connection to the proxy was made, so that nothing was sent.
func failedToConnect(err error) bool {
	var oe *net.OpError
	if errors.As(err, &oe) && (oe.Op == "dial" || oe.Op == "proxyconnect") {
		return true
	}
	var dns *net.DNSError
	var cert *tls.CertificateVerificationError
	var rec tls.RecordHeaderError
	return errors.As(err, &dns) || errors.As(err, &cert) || errors.As(err, &rec)
}
