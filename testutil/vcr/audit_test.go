package vcr_test

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/composiohttp/composiohttp"
	"github.com/composiohttp/composiohttp/testutil/vcr"
)

// TestMismatchAndCassetteHideBodySecrets: a JSON body's secret keys
// (password, client_secret, refresh_token) show neither in the cassette
// nor in the mismatch error's previews, for the recorded request or the
// live one.
func TestMismatchAndCassetteHideBodySecrets(t *testing.T) {
	t.Parallel()
	name := filepath.Join(t.TempDir(), "bodysecrets")
	record(t, name, newReq("POST", "https://api.example.com/echo?access_token=REC_query_token_1",
		`{"user":"a","password":"REC_body_password_1","nested":{"client_secret":"REC_body_client_secret_1"}}`,
		"Content-Type", "application/json", "Cookie", "sid=REC_cookie_value_123456", "Authorization", "Bearer REC_bearer_1"))
	raw, err := os.ReadFile(name + ".yaml")
	if err != nil {
		t.Fatal(err)
	}
	live := []string{"LIVE_body_password_1", "LIVE_refresh_token_1", "LIVE_query_token_1", "LIVE_cookie_value_123456", "LIVE_bearer_1"}
	recorded := []string{"REC_body_password_1", "REC_body_client_secret_1", "REC_query_token_1", "REC_cookie_value_123456", "REC_bearer_1"}
	for _, s := range recorded {
		if strings.Contains(string(raw), s) {
			t.Errorf("cassette shows %q", s)
		}
	}
	err = replayOne(t, name, newReq("POST", "https://api.example.com/echo?access_token=LIVE_query_token_1",
		`{"user":"b","password":"LIVE_body_password_1","refresh_token":"LIVE_refresh_token_1"}`,
		"Content-Type", "application/json", "Cookie", "sid=LIVE_cookie_value_123456", "Authorization", "Bearer LIVE_bearer_1"))
	if err == nil {
		t.Fatal("no mismatch")
	}
	for _, s := range append(live, recorded...) {
		if strings.Contains(err.Error(), s) {
			t.Errorf("mismatch error shows %q:\n%v", s, err)
		}
	}
}

// listingStub answers Composio's connected-accounts listing as the real
// service may (credentials in state.val, data and params), and any other
// call with an empty proxy reply.
type listingStub struct{}

func (listingStub) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		io.Copy(io.Discard, r.Body)
		r.Body.Close()
	}
	body := `{"status":200,"data":{},"headers":{}}`
	if strings.HasSuffix(r.URL.Path, "/connected_accounts") {
		body = `{"items":[{"id":"ca_1","user_id":"alice","toolkit":{"slug":"github"},"status":"ACTIVE",` +
			`"state":{"authScheme":"OAUTH2","val":{"status":"ACTIVE","access_token":"LISTED_access_token_1","refresh_token":"LISTED_refresh_token_1"}},` +
			`"data":{"access_token":"LISTED_access_token_1"},"params":{"client_secret":"LISTED_client_secret_1"}}],"next_cursor":null}`
	}
	return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(strings.NewReader(body)), ContentLength: -1, Request: r}, nil
}

// TestCassetteHidesListedCredentials: recording a call made for a user
// (WithUser: the account is looked up in the connected-accounts listing)
// writes none of the credentials the listing carries to the cassette.
func TestCassetteHidesListedCredentials(t *testing.T) {
	t.Parallel()
	name := filepath.Join(t.TempDir(), "listing")
	rec, err := vcr.New(name, vcr.WithMode(vcr.ModeRecordOnly), vcr.WithRealTransport(listingStub{}))
	if err != nil {
		t.Fatal(err)
	}
	tr := rec.Transport()
	tr.APIKey, tr.BaseURL = "ak_listing_test_1", "https://backend.example.com"
	ctx := composiohttp.WithToolkit(composiohttp.WithUser(context.Background(), "alice"), "github")
	req, _ := http.NewRequestWithContext(ctx, "GET", "https://api.github.com/user", nil)
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if err := rec.Stop(); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(name + ".yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), "connected_accounts") {
		t.Fatalf("no listing recorded:\n%s", raw)
	}
	for _, s := range []string{"LISTED_access_token_1", "LISTED_refresh_token_1", "LISTED_client_secret_1"} {
		if strings.Contains(string(raw), s) {
			t.Errorf("cassette shows %q", s)
		}
	}
}
