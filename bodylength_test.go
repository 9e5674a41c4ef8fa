package composiohttp

import (
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// A body whose length differs from its ContentLength is the
// caller's mistake on every path, inline as through Upload: an error
// matching ErrBadRequest, CodeInvalidRequest, not retryable, and never a
// *ProxyUnreachableError (the envelope was cut short, so the proxy cannot
// have forwarded it). On the streamed inline path the mismatch shows
// while net/http writes the envelope, so a real server is needed (HTTP/1.1
// and HTTP/2).
func TestBodyLengthMismatchInline(t *testing.T) {
	t.Parallel()
	servers := map[string]*httptest.Server{}
	for _, h2 := range []bool{false, true} {
		srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, okReply)
		}))
		name := "HTTP/1.1"
		if h2 {
			srv.EnableHTTP2 = true
			name = "HTTP/2"
		}
		srv.Config.ErrorLog = log.New(io.Discard, "", 0) // handshakes cut short by CloseIdleConnections
		srv.StartTLS()
		t.Cleanup(srv.Close)
		servers[name] = srv
	}
	cases := []struct {
		name string
		ct   string
		body string
		clen int64
	}{
		{"binary longer than ContentLength", "image/png", "abcdef", 3},
		{"binary shorter than ContentLength", "image/png", "abc", 6},
		{"binary far shorter than ContentLength", "image/png", "", 4096},
		{"JSON longer than ContentLength", "application/json", `{"a":1}{"b":2}`, 7},
		{"JSON shorter than ContentLength", "application/json", `{"a":1}`, 10},
	}
	for proto, srv := range servers {
		for _, tc := range cases {
			t.Run(proto+" "+tc.name, func(t *testing.T) {
				t.Parallel()
				base := srv.Client().Transport
				t.Cleanup(base.(*http.Transport).CloseIdleConnections)
				tr := &Transport{APIKey: "ak_test_secret", BaseURL: srv.URL, ConnectedAccountID: "ca_1", Base: base}
				cb := &countingBody{r: strings.NewReader(tc.body)}
				req, _ := http.NewRequest(http.MethodPut, "https://api.github.com/repos/o/r/contents/x", nil)
				req.Body = cb
				req.ContentLength = tc.clen
				req.Header.Set("Content-Type", tc.ct)
				resp, err := tr.RoundTrip(req)
				if err == nil {
					resp.Body.Close()
					t.Fatal("RoundTrip succeeded; want an error")
				}
				var pu *ProxyUnreachableError
				if !errors.Is(err, ErrBadRequest) || errors.As(err, &pu) {
					t.Errorf("err = %v (%T); want ErrBadRequest, not *ProxyUnreachableError", err, err)
				}
				if CodeOf(err) != CodeInvalidRequest || IsRetryable(err) {
					t.Errorf("CodeOf = %v, IsRetryable = %v; want invalid_request, not retryable", CodeOf(err), IsRetryable(err))
				}
				if resp != nil {
					t.Errorf("a response with the error: %v", resp)
				}
				if got := cb.closes.Load(); got != 1 {
					t.Errorf("request body closed %d times, want exactly 1", got)
				}
			})
		}
	}
}
