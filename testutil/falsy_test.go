package testutil_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/composiohttp/composiohttp/credentials"
	"github.com/composiohttp/composiohttp/testutil"
)

// TestStripFalsyJSON: with WithStripFalsyJSON the fake drops falsy JSON
// members as the real proxy does (Composio issue #3324), and
// Transport.JSONAsBinary protects a request from it.
func TestStripFalsyJSON(t *testing.T) {
	t.Parallel()
	const sent = `{"name":"ad group","enabled":false,"bid":0,"note":"","labels":[],"targeting":{"geo":["FR"],"exclude":{}}}`
	const stripped = `{"name":"ad group","targeting":{"geo":["FR"]}}`
	tests := []struct {
		name         string
		strip, asBin bool
		want         string
	}{
		{"default fake", false, false, sent},
		{"strip falsy", true, false, stripped},
		{"strip falsy, JSONAsBinary", true, true, sent},
		{"default fake, JSONAsBinary", false, true, sent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var opts []testutil.Option
			if tt.strip {
				opts = append(opts, testutil.WithStripFalsyJSON())
			}
			s := testutil.NewServer(t, opts...)
			echo := testutil.NewEcho()
			s.AddAccount(testutil.Account{ID: "ca", AuthScheme: credentials.NoAuth, Handler: echo})
			tr := s.Transport()
			tr.ConnectedAccountID = "ca"
			tr.JSONAsBinary = tt.asBin
			res, err := (&http.Client{Transport: tr}).Post("https://api.example.com/adgroups", "application/json", strings.NewReader(sent))
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(res.Body)
			res.Body.Close()
			last, ok := echo.Last()
			if !ok {
				t.Fatal("the upstream got no request")
			}
			if string(last.Body) != tt.want {
				t.Errorf("upstream got %s, want %s", last.Body, tt.want)
			}
			if string(got) != tt.want {
				t.Errorf("echoed back %s, want %s", got, tt.want)
			}
			if ct := last.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("upstream Content-Type %q", ct)
			}
		})
	}
}
