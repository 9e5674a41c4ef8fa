package testutil_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/composiohttp/composiohttp"
	"github.com/composiohttp/composiohttp/testutil"
)

// A handler of the package called directly, as a test may, with a request
// built by http.NewRequest without a body (Body nil, which a server never
// passes) panicked reading it: the fake's proxy, session and listing
// endpoints, an upstream route, and Echo. It now reads no body.
func TestHandlersTakeNilBody(t *testing.T) {
	t.Parallel()
	srv := testutil.NewServer(t)
	srv.AddAccount(testutil.Account{ID: "ca_1", Toolkit: "github", Handler: testutil.NewEcho()})
	tests := []struct {
		name   string
		h      http.Handler
		method string
		path   string
		want   int
	}{
		{"proxy", srv, http.MethodPost, "/api/v3.1/tools/execute/proxy", http.StatusBadRequest},
		{"v3 proxy", srv, http.MethodPost, "/api/v3/tools/execute/proxy", http.StatusBadRequest},
		{"create session", srv, http.MethodPost, "/api/v3.1/tool_router/session", http.StatusBadRequest},
		{"session proxy", srv, http.MethodPost, "/api/v3.1/tool_router/session/trs_1/proxy_execute", http.StatusNotFound},
		{"listing", srv, http.MethodGet, "/api/v3.1/connected_accounts?user_ids=u1", http.StatusOK},
		{"Echo GET", testutil.NewEcho(), http.MethodGet, "/x", http.StatusOK},
		{"Echo POST", testutil.NewEcho(), http.MethodPost, "/x", http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req, _ := http.NewRequest(tt.method, srv.URL+tt.path, nil)
			req.Header.Set("X-Api-Key", srv.APIKey)
			rec := httptest.NewRecorder()
			tt.h.ServeHTTP(rec, req)
			if rec.Code != tt.want {
				t.Errorf("status %d, want %d: %s", rec.Code, tt.want, rec.Body)
			}
		})
	}
}

// InProcess's RoundTrip panicked on a nil request; every RoundTripper of
// the module returns composiohttp.ErrNilRequest for it.
func TestInProcessNilRequest(t *testing.T) {
	t.Parallel()
	srv := testutil.NewServer(t)
	resp, err := srv.InProcess().RoundTrip(nil)
	if !errors.Is(err, composiohttp.ErrNilRequest) || resp != nil {
		t.Errorf("RoundTrip(nil) = %v, %v; want ErrNilRequest", resp, err)
	}
}
