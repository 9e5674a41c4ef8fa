package composiohttp_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/composiohttp/composiohttp"
	"github.com/composiohttp/composiohttp/internal/redactcheck"
)

// TestEchoedSecretsScrubbedOutsideTheProxyCall: the account lookup
// (GET connected_accounts) and CreateSession read Composio's error replies
// too; a reply quoting the API key or a secret header sent must not put it
// into the error, as for the proxy call.
func TestEchoedSecretsScrubbedOutsideTheProxyCall(t *testing.T) {
	t.Parallel()
	const key, hdr = "ak_ECHOED_api_key_9", "SECRET_echoed_header_9"
	body := `{"error":{"message":"invalid key ` + key + ` with ` + hdr + `","slug":"` + key + `","request_id":"` + key + `","suggested_fix":"` + hdr + `","errors":["` + key + `"]}}`
	calls := []struct {
		name string
		call func(tr *composiohttp.Transport) error
	}{
		{"account lookup", func(tr *composiohttp.Transport) error {
			ctx := composiohttp.WithToolkit(composiohttp.WithUser(context.Background(), "alice"), "github")
			req, _ := http.NewRequestWithContext(ctx, "GET", "https://api.github.com/user", nil)
			resp, err := tr.RoundTrip(req)
			if err == nil {
				resp.Body.Close()
			}
			return err
		}},
		{"CreateSession", func(tr *composiohttp.Transport) error {
			_, err := tr.CreateSession(context.Background(), "alice", nil)
			return err
		}},
	}
	for _, c := range calls {
		for _, status := range []int{401, 500} {
			t.Run(c.name+"/"+http.StatusText(status), func(t *testing.T) {
				t.Parallel()
				tr := &composiohttp.Transport{APIKey: key, BaseURL: "https://backend.example.com",
					Header: http.Header{"X-Auth-Token": {hdr}},
					Base:   echoProxy{status: status, body: body, header: http.Header{"X-Request-Id": {key}}}}
				err := c.call(tr)
				if err == nil {
					t.Fatal("no error")
				}
				if strings.Contains(err.Error(), key) || strings.Contains(err.Error(), hdr) {
					t.Errorf("error shows a secret: %v", err)
				}
				redactcheck.Check(t, err, key, hdr)
			})
		}
	}
}

// urlErrBase fails as a RoundTripper built on an http.Client does: a
// *url.Error quoting the URL it was sent to, user info and query included.
type urlErrBase struct{}

func (urlErrBase) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		r.Body.Close()
	}
	return nil, &url.Error{Op: r.Method, URL: r.URL.String() + " x-api-key=" + r.Header.Get("X-Api-Key"), Err: errors.New("connection reset")}
}

// TestProxyUnreachableHidesBaseURLSecrets: a *ProxyUnreachableError shows
// neither the API key nor BaseURL's password or secret query value when
// its cause quotes them.
func TestProxyUnreachableHidesBaseURLSecrets(t *testing.T) {
	t.Parallel()
	const key, pw, q = "ak_UNREACH_key_1", "UNREACH/pass word_1", "UNREACH_query_key_1"
	tr := &composiohttp.Transport{APIKey: key, ConnectedAccountID: "ca_1", Base: urlErrBase{},
		BaseURL: "https://gw:" + url.PathEscape(pw) + "@gateway.example.com?api_key=" + q}
	req, _ := http.NewRequest("GET", "https://api.github.com/user", nil)
	_, err := tr.RoundTrip(req)
	var pe *composiohttp.ProxyUnreachableError
	if !errors.As(err, &pe) {
		t.Fatalf("err = %v, want *ProxyUnreachableError", err)
	}
	msg := err.Error()
	for _, s := range []string{key, pw, url.QueryEscape(pw), url.PathEscape(pw), "UNREACH%2Fpass", q} {
		if strings.Contains(msg, s) {
			t.Errorf("error shows %q: %s", s, msg)
		}
	}
	if !strings.Contains(msg, "gateway.example.com") || !strings.Contains(msg, "connection reset") {
		t.Errorf("error lost its cause: %s", msg)
	}
}
