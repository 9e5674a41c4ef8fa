package composiohttp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/composiohttp/composiohttp/credentials"
)

// retryableStatuses is the retry table of RetryableStatus, written out.
var retryableStatuses = map[int]bool{408: true, 429: true, 500: true, 502: true, 503: true, 504: true}

// The proxy's own 503 and 408 were not retryable while its
// 500 was; one table now decides for every status.
func TestTemporaryAndIsRetryableFollowTheTable(t *testing.T) {
	t.Parallel()
	for status := 100; status < 600; status++ {
		e := &Error{StatusCode: status}
		want := retryableStatuses[status]
		if got := e.Temporary(); got != want {
			t.Errorf("(&Error{StatusCode: %d}).Temporary() = %v, want %v", status, got, want)
		}
		if got := IsRetryable(e); got != want {
			t.Errorf("IsRetryable(&Error{StatusCode: %d}) = %v, want %v", status, got, want)
		}
	}
}

// ErrBodyTooLarge also matches the proxy's own "too large"
// replies, so that one errors.Is target catches both shapes.
func TestBodyTooLargeIsOneTarget(t *testing.T) {
	t.Parallel()
	cases := []struct {
		err  error
		want bool
	}{
		{&Error{StatusCode: 413}, true},
		{&Error{StatusCode: 413, Slug: "SomethingElse"}, true},
		{&Error{StatusCode: 400, Slug: "PayloadTooLarge"}, true},
		{&Error{StatusCode: 400, Slug: "ValidationError"}, false},
		{&Error{StatusCode: 400}, false},
		{&Error{StatusCode: 429}, false},
		{ErrBodyTooLarge, true},
	}
	for _, tc := range cases {
		if got := errors.Is(tc.err, ErrBodyTooLarge); got != tc.want {
			t.Errorf("errors.Is(%v, ErrBodyTooLarge) = %v, want %v", tc.err, got, tc.want)
		}
	}
	// Through http.Client and the Transport, for both shapes.
	p := &stubProxy{status: 413, reply: `{"error":{"message":"Request entity too large","slug":"PayloadTooLarge","status":413}}`}
	_, err := (&http.Client{Transport: newTestTransport(p)}).Get("https://api.github.com/x")
	if !errors.Is(err, ErrBodyTooLarge) {
		t.Errorf("proxy 413: errors.Is(%v, ErrBodyTooLarge) = false", err)
	}
	tr := newTestTransport(&stubProxy{})
	req, _ := http.NewRequest(http.MethodPost, "https://api.github.com/x", strings.NewReader(strings.Repeat("x", MaxInlineBody+1)))
	req.ContentLength = -1 // unknown length: read, then refused
	if _, err := tr.RoundTrip(req); !errors.Is(err, ErrBodyTooLarge) {
		t.Errorf("local refusal: errors.Is(%v, ErrBodyTooLarge) = false", err)
	}
}

// closedAddr returns an address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	// A port below the kernel's ephemeral range (Linux 32768-60999, macOS
	// and Windows from 49152), free when checked: the httptest servers of
	// parallel tests listen on ":0", so they are never given it, as they
	// could be given a just-closed ephemeral port.
	start := 20000 + rand.IntN(10000)
	for p := start; p < start+2000; p++ {
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
		if err != nil {
			continue
		}
		addr := l.Addr().String()
		l.Close()
		return addr
	}
	t.Fatal("no free port below the ephemeral range")
	return ""
}

// The caller's own cancellation and deadline stay what they are.
func TestCallerCancellationIsNotUnreachable(t *testing.T) {
	t.Parallel()
	addr := closedAddr(t)
	cases := []struct {
		name string
		ctx  func() (context.Context, context.CancelFunc)
		want error
	}{
		{"canceled", func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return ctx, cancel
		}, context.Canceled},
		{"deadline", func() (context.Context, context.CancelFunc) {
			return context.WithDeadline(context.Background(), time.Unix(0, 0))
		}, context.DeadlineExceeded},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			base := &http.Transport{}
			defer base.CloseIdleConnections()
			tr := &Transport{APIKey: "ak", BaseURL: "http://" + addr, ConnectedAccountID: "ca_1", Base: base}
			ctx, cancel := tc.ctx()
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "https://api.github.com/user", nil)
			_, err := (&http.Client{Transport: tr}).Do(req)
			if !errors.Is(err, tc.want) {
				t.Errorf("errors.Is(%v, %v) = false", err, tc.want)
			}
			if strings.Contains(err.Error(), "unreachable") {
				t.Errorf("the caller's own %s reads as unreachable: %v", tc.name, err)
			}
			if IsRetryable(err) {
				t.Errorf("IsRetryable(%v) = true", err)
			}
			if want := map[error]Code{context.Canceled: CodeCanceled, context.DeadlineExceeded: CodeDeadlineExceeded}[tc.want]; CodeOf(err) != want {
				t.Errorf("CodeOf(%v) = %v, want %v", err, CodeOf(err), want)
			}
		})
	}
}

func TestRetryableStatus(t *testing.T) {
	t.Parallel()
	for status := 0; status < 1000; status++ {
		if got, want := RetryableStatus(status), retryableStatuses[status]; got != want {
			t.Errorf("RetryableStatus(%d) = %v, want %v", status, got, want)
		}
	}
}

// One classifier sorts every kind of failure.
func TestCodeOf(t *testing.T) {
	t.Parallel()
	opErr := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	unreachable := &ProxyUnreachableError{Host: "proxy.test", Err: opErr}
	cases := []struct {
		name string
		err  error
		want Code
	}{
		{"nil", nil, CodeOK},
		{"other", errors.New("boom"), CodeUnknown},
		{"canceled", context.Canceled, CodeCanceled},
		{"deadline", &url.Error{Op: "Get", URL: "u", Err: context.DeadlineExceeded}, CodeDeadlineExceeded},
		{"unsupported method", fmt.Errorf("%w: %q", ErrUnsupportedMethod, "TRACE"), CodeInvalidRequest},
		{"invalid JSON", ErrInvalidJSONBody, CodeInvalidRequest},
		{"body on GET", fmt.Errorf("%w (GET with 3 bytes)", ErrBodyNotAllowed), CodeInvalidRequest},
		{"off-site redirect", fmt.Errorf("%w: POST to a.test", ErrRedirectNotAllowed), CodeInvalidRequest},
		{"bad request", fmt.Errorf("%w: nil URL", ErrBadRequest), CodeInvalidRequest},
		{"nil request", ErrNilRequest, CodeInvalidRequest},
		{"invalid connection", fmt.Errorf("%w: %w", ErrBadRequest, &credentials.MissingFieldError{Scheme: credentials.OAuth2, Field: "access_token"}), CodeInvalidRequest},
		{"unknown scheme", &credentials.UnknownSchemeError{Scheme: "SAML"}, CodeInvalidRequest},
		{"no API key", ErrNoAPIKey, CodeUnauthenticated},
		{"no auth context", ErrNoAuthContext, CodeNoAuthContext},
		{"body too large", fmt.Errorf("%w: over 4194304 bytes", ErrBodyTooLarge), CodePayloadTooLarge},
		{"malformed", &EnvelopeError{Reason: "x", Offset: -1}, CodeMalformedEnvelope},
		{"binary", &BinaryError{StatusCode: 403}, CodeBinaryBody},
		{"binary EOF", &BinaryError{Err: io.ErrUnexpectedEOF}, CodeBinaryBody},
		{"unreachable", &url.Error{Op: "Get", URL: "u", Err: unreachable}, CodeUnreachable},
		{"unreachable, dial timeout", &ProxyUnreachableError{Host: "p", Err: &net.OpError{Op: "dial", Err: os.ErrDeadlineExceeded}}, CodeUnreachable},
		{"direct mode refused", &url.Error{Op: "Get", URL: "u", Err: opErr}, CodeUnreachable},
		{"direct mode EOF", &url.Error{Op: "Get", URL: "u", Err: io.EOF}, CodeUnreachable},
		{"retry canceled after unreachable", fmt.Errorf("retry: %w while waiting to retry after: %w", context.Canceled, unreachable), CodeCanceled},
		{"retry deadline after 429", fmt.Errorf("retry: %w while waiting to retry after: %w", context.DeadlineExceeded, &Error{StatusCode: 429}), CodeDeadlineExceeded},
		{"upload failed", fmt.Errorf("composiohttp: upload of a large body failed: %w", errors.New("s3 said no")), CodeUnknown},

		// Proxy errors: the status decides retryability, the slug or the
		// status the condition.
		{"401", &Error{StatusCode: 401, Slug: SlugInvalidAPIKey}, CodeUnauthenticated},
		{"401 no slug", &Error{StatusCode: 401}, CodeUnauthenticated},
		{"403", &Error{StatusCode: 403}, CodePermissionDenied},
		{"404 account", &Error{StatusCode: 404, Slug: SlugConnectedAccountNotFound}, CodeAccountNotFound},
		{"404 path", &Error{StatusCode: 404, Slug: SlugNotFound}, CodeInvalidRequest},
		{"422 inactive", &Error{StatusCode: 422, Slug: SlugConnectedAccountNotActive}, CodeAccountNotActive},
		{"422 connection", &Error{StatusCode: 422, Slug: SlugInvalidConnectionData}, CodeInvalidRequest},
		{"400 origin", &Error{StatusCode: 400, Slug: SlugOriginMismatch}, CodeOriginMismatch},
		{"400 auth context", &Error{StatusCode: 400, Slug: SlugMissingAuthContext}, CodeNoAuthContext},
		{"400 validation", &Error{StatusCode: 400, Slug: SlugValidationError}, CodeInvalidRequest},
		{"400 too large", &Error{StatusCode: 400, Slug: SlugPayloadTooLarge}, CodePayloadTooLarge},
		{"413", &Error{StatusCode: 413}, CodePayloadTooLarge},
		{"405", &Error{StatusCode: 405, Slug: SlugMethodNotAllowed}, CodeInvalidRequest},
		{"408", &Error{StatusCode: 408}, CodeUnavailable},
		{"409", &Error{StatusCode: 409}, CodeInvalidRequest},
		{"429 flat body", &Error{StatusCode: 429}, CodeRateLimited},
		{"429 slug", &Error{StatusCode: 429, Slug: SlugRateLimitExceeded}, CodeRateLimited},
		{"500", &Error{StatusCode: 500, Slug: SlugInternalServerError}, CodeUnavailable},
		{"501", &Error{StatusCode: 501, Slug: SlugAuthSchemeNotSupported}, CodeInvalidRequest},
		{"502", &Error{StatusCode: 502, Slug: SlugBadGateway}, CodeUnavailable},
		{"503", &Error{StatusCode: 503, Slug: SlugServiceUnavailable}, CodeUnavailable},
		{"504", &Error{StatusCode: 504, Slug: SlugUpstreamTimeout}, CodeUnavailable},
		{"505", &Error{StatusCode: 505}, CodeUnknown},
		{"wrapped twice", &url.Error{Op: "Get", URL: "u", Err: fmt.Errorf("x: %w", &Error{StatusCode: 404, Slug: SlugConnectedAccountNotFound})}, CodeAccountNotFound},
		{"joined", errors.Join(errors.New("a"), &Error{StatusCode: 400, Slug: SlugOriginMismatch}), CodeOriginMismatch},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := CodeOf(tc.err)
			if got != tc.want {
				t.Errorf("CodeOf(%v) = %v, want %v", tc.err, got, tc.want)
			}
			if IsRetryable(tc.err) != got.Retryable() {
				t.Errorf("IsRetryable(%v) = %v, Code %v", tc.err, IsRetryable(tc.err), got)
			}
		})
	}
}

// For every proxy error, the code's retryability is the retry table's.
func TestCodeOfProxyErrorAgreesWithTheTable(t *testing.T) {
	t.Parallel()
	slugs := []string{"", SlugValidationError, SlugPayloadTooLarge, SlugMissingAuthContext, SlugOriginMismatch,
		SlugBinaryBodyFetchFailed, SlugInvalidAPIKey, SlugConnectedAccountNotFound, SlugNotFound, SlugMethodNotAllowed,
		SlugConnectedAccountNotActive, SlugInvalidConnectionData, SlugRateLimitExceeded, SlugInternalServerError,
		SlugAuthSchemeNotSupported, SlugBadGateway, SlugServiceUnavailable, SlugUpstreamTimeout}
	for status := 100; status < 600; status++ {
		for _, slug := range slugs {
			e := &Error{StatusCode: status, Slug: slug}
			if CodeOf(e).Retryable() != RetryableStatus(status) || e.Temporary() != RetryableStatus(status) {
				t.Fatalf("status %d slug %q: CodeOf %v, Temporary %v, RetryableStatus %v", status, slug, CodeOf(e), e.Temporary(), RetryableStatus(status))
			}
		}
	}
}

func TestCodeString(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for c := CodeOK; c <= CodeCircuitOpen; c++ {
		s := c.String()
		if s == "" || strings.HasPrefix(s, "code_") || seen[s] {
			t.Errorf("Code(%d).String() = %q", int(c), s)
		}
		seen[s] = true
	}
	if got := Code(99).String(); got != "code_99" {
		t.Errorf("Code(99).String() = %q", got)
	}
	if got := Code(-1).String(); got != "code_-1" {
		t.Errorf("Code(-1).String() = %q", got)
	}
}
