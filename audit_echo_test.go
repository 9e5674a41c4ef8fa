package composiohttp_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/composiohttp/composiohttp"
	"github.com/composiohttp/composiohttp/internal/redactcheck"
)

// TestEchoedSecretsScrubbedOutsideTheProxyCall: the account lookup
// (GET connected_accounts) and CreateSession read Composio's error replies
// too; a reply quoting the API key or a secret header sent must not put it
// into the error, as for the proxy call (issue 8.4).
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
