package composiohttp

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"testing/iotest"
)

// A dial failure read `Get "https://api.github.com/user": dial
// tcp 127.0.0.1:36171: connect: connection refused`, the upstream's URL
// next to the proxy's address. It now names the proxy and says the
// upstream was not reached, and keeps its cause.
func TestProxyUnreachableNamesTheProxy(t *testing.T) {
	t.Parallel()
	addr := closedAddr(t)
	base := &http.Transport{}
	defer base.CloseIdleConnections()
	tr := &Transport{APIKey: "ak_test_secret", BaseURL: "http://" + addr, ConnectedAccountID: "ca_1", Base: base}
	_, err := (&http.Client{Transport: tr}).Get("https://api.github.com/user")
	if err == nil {
		t.Fatal("no error")
	}
	msg := err.Error()
	for _, want := range []string{"proxy " + addr, "upstream not reached", "connection refused"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not contain %q", msg, want)
		}
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("cause lost: %v", err)
	}
	var oe *net.OpError
	if !errors.As(err, &oe) {
		t.Errorf("*net.OpError lost: %v", err)
	}
	if !IsRetryable(err) || CodeOf(err) != CodeUnreachable || !errors.Is(err, ErrProxyUnreachable) {
		t.Errorf("IsRetryable %v, CodeOf %v, errors.Is(ErrProxyUnreachable) %v; want true, unreachable, true",
			IsRetryable(err), CodeOf(err), errors.Is(err, ErrProxyUnreachable))
	}
	var pu *ProxyUnreachableError
	if !errors.As(err, &pu) || pu.Connected || pu.Host != addr {
		t.Errorf("err = %#v, want a *ProxyUnreachableError for %s, not connected", err, addr)
	}
	if strings.Contains(msg, "ak_test_secret") {
		t.Error("API key in the error")
	}
}

// A connection that breaks after the request was written: the proxy may
// have forwarded it, so the error must not claim the upstream was not
// reached.
func TestProxyConnectionBrokenAfterSending(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			conn.Close()
		}
	}))
	defer srv.Close()
	base := &http.Transport{}
	defer base.CloseIdleConnections()
	tr := &Transport{APIKey: "ak_test_secret", BaseURL: srv.URL, ConnectedAccountID: "ca_1", Base: base}
	_, err := (&http.Client{Transport: tr}).Get("https://api.github.com/user")
	if err == nil {
		t.Fatal("no error")
	}
	msg := err.Error()
	host := strings.TrimPrefix(srv.URL, "http://")
	if !strings.Contains(msg, "proxy "+host) || !strings.Contains(msg, "may have been reached") {
		t.Errorf("error %q does not name the proxy and say the upstream may have been reached", msg)
	}
	if strings.Contains(msg, "not reached") {
		t.Errorf("error %q claims the upstream was not reached", msg)
	}
}

// The Transport answers a nil request with ErrNilRequest, as
// the middleware do, instead of panicking.
func TestNilRequest(t *testing.T) {
	t.Parallel()
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("RoundTrip(nil) panicked: %v", r)
		}
	}()
	_, err := newTestTransport(&stubProxy{}).RoundTrip(nil)
	if !errors.Is(err, ErrNilRequest) || CodeOf(err) != CodeInvalidRequest {
		t.Fatalf("RoundTrip(nil) = %v", err)
	}
}

// A proxy whose TLS certificate is not trusted: no connection was made,
// the upstream was not reached, and the certificate error stays reachable.
func TestProxyUnreachableTLS(t *testing.T) {
	t.Parallel()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		t.Error("the proxy was reached despite an untrusted certificate")
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the handshake failure is expected
	defer srv.Close()
	base := &http.Transport{}
	defer base.CloseIdleConnections()
	tr := &Transport{APIKey: "ak", BaseURL: srv.URL, ConnectedAccountID: "ca_1", Base: base}
	req, _ := http.NewRequest(http.MethodGet, "https://api.github.com/user", nil)
	_, err := tr.RoundTrip(req)
	var pu *ProxyUnreachableError
	if !errors.As(err, &pu) || pu.Connected || pu.Host != strings.TrimPrefix(srv.URL, "https://") {
		t.Fatalf("err = %#v, want a *ProxyUnreachableError, not connected, naming %s", err, srv.URL)
	}
	var cert *tls.CertificateVerificationError
	if !errors.As(err, &cert) || !errors.Is(err, ErrProxyUnreachable) || CodeOf(err) != CodeUnreachable {
		t.Errorf("err = %v: cause, sentinel or code lost", err)
	}
}

// A 200 reply whose body breaks off: no complete reply from the proxy,
// named as such, retryable, the cause kept.
func TestProxyReplyBrokenOff(t *testing.T) {
	t.Parallel()
	base := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		r.Body.Close()
		body := io.MultiReader(strings.NewReader(`{"status":200,"data":{"a":`), iotest.ErrReader(io.ErrUnexpectedEOF))
		return &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(body), ContentLength: -1}, nil
	})
	tr := &Transport{APIKey: "ak", BaseURL: "https://proxy.test", ConnectedAccountID: "ca_1", Base: base}
	req, _ := http.NewRequest(http.MethodGet, "https://api.github.com/user", nil)
	_, err := tr.RoundTrip(req)
	var pu *ProxyUnreachableError
	if !errors.As(err, &pu) || !pu.Connected || !strings.Contains(err.Error(), "proxy proxy.test") {
		t.Fatalf("err = %v, want a *ProxyUnreachableError naming proxy.test, connected", err)
	}
	if !errors.Is(err, io.ErrUnexpectedEOF) || !IsRetryable(err) || CodeOf(err) != CodeUnreachable {
		t.Errorf("err = %v: cause lost or not retryable", err)
	}
}

// A ProxyUnreachableError built by hand (no Err, no Host) panicked in
// Error, and so under every fmt verb; it now says what it knows.
func TestProxyUnreachableErrorBuiltByHand(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		err  *ProxyUnreachableError
		want string
	}{
		{"zero", &ProxyUnreachableError{}, "composiohttp: proxy unreachable, upstream not reached"},
		{"connected", &ProxyUnreachableError{Connected: true}, "composiohttp: no complete reply from proxy (the upstream may have been reached)"},
		{"host", &ProxyUnreachableError{Host: "backend.composio.dev"}, "composiohttp: proxy backend.composio.dev unreachable, upstream not reached"},
		{"cause", &ProxyUnreachableError{Host: "h", Connected: true, Err: io.ErrUnexpectedEOF},
			"composiohttp: no complete reply from proxy h (the upstream may have been reached): unexpected EOF"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := tc.err.Error(); got != tc.want {
				t.Errorf("Error() = %q, want %q", got, tc.want)
			}
			if got := fmt.Sprintf("%v", *tc.err); got != tc.want {
				t.Errorf("%%v = %q, want %q", got, tc.want)
			}
			if !errors.Is(tc.err, ErrProxyUnreachable) || errors.Unwrap(tc.err) != tc.err.Err {
				t.Errorf("errors.Is/Unwrap of %#v", tc.err)
			}
		})
	}
}
