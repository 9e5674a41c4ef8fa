package vcr_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
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
