package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/composiohttp/composiohttp/credentials"
	"github.com/composiohttp/composiohttp/testutil"
)

// TestStripFalsyFlag: -strip-falsy reproduces the real proxy's dropping of
// falsy JSON fields; without it bodies pass byte for byte.
func TestStripFalsyFlag(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		args []string
		want string
	}{
		{nil, `{"a":false,"b":1}`},
		{[]string{"-strip-falsy"}, `{"b":1}`},
	} {
		s := serverFromFlags(t, tt.args...)
		echo := testutil.NewEcho()
		s.AddAccount(testutil.Account{ID: "ca", AuthScheme: credentials.NoAuth, Handler: echo})
		req := httptest.NewRequest(http.MethodPost, "/api/v3.1/tools/execute/proxy",
			strings.NewReader(`{"connected_account_id":"ca","endpoint":"/x","method":"POST","body":{"a":false,"b":1}}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Api-Key", "ak_cmd")
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		last, ok := echo.Last()
		if w.Code != 200 || !ok || string(last.Body) != tt.want {
			t.Errorf("%v: %d, upstream got %q, want %q", tt.args, w.Code, last.Body, tt.want)
		}
	}
}

// serverFromFlags is the fake fakeproxy makes from args (with the key
// "ak_cmd"), closed when the test ends.
func serverFromFlags(t *testing.T, args ...string) *testutil.Server {
	t.Helper()
	o, err := parseFlags(args, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	o.apiKey = "ak_cmd"
	s, _, err := newServer(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}
