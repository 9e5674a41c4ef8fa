package credentials

import (
	"encoding/json"
	"slices"
	"testing"
)

func TestScrub(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, in string
		secrets  []string
		want     string
	}{
		{"none", "bad key", []string{"ak_123456"}, "bad key"},
		{"exact", "bad key ak_123456.", []string{"ak_123456"}, "bad key [REDACTED]."},
		{"every occurrence", "ak_123456/ak_123456", []string{"ak_123456"}, "[REDACTED]/[REDACTED]"},
		{"longer first", "token abcdef123", []string{"abcd", "abcdef123"}, "token [REDACTED]"},
		{"too short", "id 123 and abc", []string{"123", "abc"}, "id 123 and abc"},
		{"empty secret", "text", []string{""}, "text"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Scrub(tt.in, tt.secrets...); got != tt.want {
				t.Errorf("Scrub(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestSecretValues(t *testing.T) {
	t.Parallel()
	v := Val{AccessToken: "tok1", ClientID: "public", Username: "u", Password: "p",
		AuthedUser:      json.RawMessage(`{"id":"U1","token_type":"user","access_token":"xoxp-1"}`),
		Extra:           map[string]json.RawMessage{"session_token": json.RawMessage(`"sess1"`), "team": json.RawMessage(`{"name":"acme","bot_token":"xoxb-1"}`)},
		CredentialsJSON: `{"client_email":"sa@x","private_key":"-----BEGIN KEY-----"}`}
	got := v.SecretValues()
	for _, want := range []string{"tok1", "dTpw", "xoxp-1", "sess1", "xoxb-1", "-----BEGIN KEY-----", v.CredentialsJSON, "p"} {
		if !slices.Contains(got, want) {
			t.Errorf("SecretValues() = %q, lacks %q", got, want)
		}
	}
	for _, not := range []string{"public", "U1", "user", "acme", "sa@x"} {
		if slices.Contains(got, not) {
			t.Errorf("SecretValues() = %q, holds non-secret %q", got, not)
		}
	}
}
