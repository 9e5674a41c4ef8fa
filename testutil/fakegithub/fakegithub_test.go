package fakegithub_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/composiohttp/composiohttp/testutil"
	"github.com/composiohttp/composiohttp/testutil/fakegithub"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestThroughTheFakeProxy(t *testing.T) {
	t.Parallel()
	srv := testutil.NewServer(t)
	srv.AddAccount(fakegithub.Account("ca_gh", "gho_test"))
	wrong := fakegithub.Account("ca_wrong", "gho_test")
	wrong.Handler = fakegithub.New("gho_other") // accepts another token
	srv.AddAccount(wrong)
	tests := []struct {
		name, account, method, path, body string
		status                            int
		want                              string
	}{
		{"user", "ca_gh", "GET", "/user", "", 200, `"login":"octocat"`},
		{"issues", "ca_gh", "GET", "/repos/octocat/hello-world/issues?per_page=1", "", 200, `[{"number":1,"title":"Found a bug","state":"open"}]`},
		{"create", "ca_gh", "POST", "/repos/octocat/hello-world/issues", `{"title":"New"}`, 201, `"number":3`},
		{"create without title", "ca_gh", "POST", "/repos/octocat/hello-world/issues", `{}`, 422, "Validation Failed"},
		{"zipball", "ca_gh", "GET", "/repos/octocat/hello-world/zipball", "", 200, "PK"},
		{"unknown path", "ca_gh", "GET", "/nope", "", 404, "Not Found"},
		{"bad credentials", "ca_wrong", "GET", "/user", "", 401, "Bad credentials"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := srv.Transport()
			tr.ConnectedAccountID = tt.account
			var body io.Reader
			if tt.body != "" {
				body = strings.NewReader(tt.body)
			}
			req, _ := http.NewRequest(tt.method, "https://api.github.com"+tt.path, body)
			if tt.body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			res, err := tr.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != tt.status || !strings.Contains(string(b), tt.want) {
				t.Errorf("got %d %s, want %d with %s", res.StatusCode, b, tt.status, tt.want)
			}
		})
	}
}

func TestHandlerPrintsWithoutToken(t *testing.T) {
	t.Parallel()
	h := fakegithub.New("gho_secret_value")
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
		if s := fmt.Sprintf(verb, h); strings.Contains(s, "gho_secret_value") || strings.Contains(s, fmt.Sprintf("%x", "gho_secret_value")) {
			t.Errorf("%s shows the token: %s", verb, s)
		}
	}
}

// TestHandBuiltRequest: the handler called directly with a request built
// by http.NewRequest without a body (Body nil, which a server never
// passes) answers as for an empty body, as the fake's other handlers do
// (fakeslack, testutil's proxy and Echo); creating an issue panicked.
func TestHandBuiltRequest(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		method, path string
		want         int
	}{
		{http.MethodPost, "/repos/octocat/hello-world/issues", http.StatusUnprocessableEntity},
		{http.MethodGet, "/user", http.StatusOK},
	} {
		req, _ := http.NewRequest(tt.method, "https://api.github.com"+tt.path, nil)
		req.Header.Set("Authorization", "Bearer gho_test")
		rec := httptest.NewRecorder()
		fakegithub.New("gho_test").ServeHTTP(rec, req)
		if rec.Code != tt.want {
			t.Errorf("%s %s: status %d, want %d: %s", tt.method, tt.path, rec.Code, tt.want, rec.Body)
		}
	}
}
