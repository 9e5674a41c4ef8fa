package credentials

import (
	"encoding/json"
	"errors"
	"slices"
	"testing"
)

// complete returns a Val that satisfies scheme s, built from Required.
func complete(t *testing.T, s Scheme) Val {
	t.Helper()
	reqs, ok := Required(s)
	if !ok {
		t.Fatalf("Required(%s) unknown", s)
	}
	var v Val
	for _, keys := range reqs {
		v.Set(keys[0], "value-of-"+keys[0])
	}
	return v
}

func TestValidateEveryScheme(t *testing.T) {
	t.Parallel()
	for _, s := range Schemes() {
		t.Run(string(s), func(t *testing.T) {
			t.Parallel()
			if !s.Known() {
				t.Errorf("%s not Known", s)
			}
			c := &Connection{AuthScheme: s, Val: complete(t, s)}
			if err := c.Validate(); err != nil {
				t.Fatalf("complete connection: %v", err)
			}
			reqs, _ := Required(s)
			// Missing each requirement in turn, every alternative removed.
			for _, keys := range reqs {
				for _, blank := range []string{"delete", "empty", "blank"} {
					c := &Connection{AuthScheme: s, Val: complete(t, s)}
					for _, k := range keys {
						switch blank {
						case "delete":
							c.Val.Delete(k)
						case "empty":
							c.Val.Set(k, "")
						case "blank":
							c.Val.Set(k, "  ")
						}
					}
					err := c.Validate()
					var mf *MissingFieldError
					if !errors.As(err, &mf) || !errors.Is(err, ErrMissingField) {
						t.Fatalf("without %v (%s): err = %v", keys, blank, err)
					}
					if mf.Scheme != s || mf.Field != keys[0] || !slices.Equal(mf.Alternatives, keys[1:]) {
						t.Errorf("without %v: %+v", keys, mf)
					}
				}
				// Each alternative alone satisfies the requirement.
				for _, alt := range keys {
					c := &Connection{AuthScheme: s, Val: complete(t, s)}
					for _, k := range keys {
						c.Val.Delete(k)
					}
					c.Val.Set(alt, "x")
					if err := c.Validate(); err != nil {
						t.Errorf("with only %s of %v: %v", alt, keys, err)
					}
				}
			}
		})
	}
}

func TestValidateMessages(t *testing.T) {
	t.Parallel()
	tests := []struct {
		conn *Connection
		want string
		is   error
	}{
		{&Connection{AuthScheme: OAuth1, Val: Val{OAuthToken: "t"}},
			`credentials: OAUTH1 connection is missing "oauth_token_secret"`, ErrMissingField},
		{&Connection{AuthScheme: BearerToken},
			`credentials: BEARER_TOKEN connection is missing "token" (or "bearer_token")`, ErrMissingField},
		{&Connection{AuthScheme: APIKey},
			`credentials: API_KEY connection is missing "api_key" (or "generic_api_key") (or "bearer_token") (or "basic_encoded")`, ErrMissingField},
		{&Connection{AuthScheme: DCROAuth, Val: Val{AccessToken: "a"}},
			`credentials: DCR_OAUTH connection is missing "client_id"`, ErrMissingField},
		{&Connection{AuthScheme: "SAML"}, `credentials: unknown auth scheme "SAML"`, ErrUnknownScheme},
		{&Connection{}, `credentials: unknown auth scheme ""`, ErrUnknownScheme},
	}
	for _, tt := range tests {
		err := tt.conn.Validate()
		if err == nil || err.Error() != tt.want || !errors.Is(err, tt.is) {
			t.Errorf("got %v, want %s", err, tt.want)
		}
	}
	if err := (*Connection)(nil).Validate(); err == nil {
		t.Error("nil connection validates")
	}
}

func TestValidateSpecialCases(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		conn Connection
		ok   bool
	}{
		{"NO_AUTH needs nothing", Connection{AuthScheme: NoAuth}, true},
		{"BASIC with empty password", Connection{AuthScheme: Basic, Val: Val{Username: "key"}}, true},
		{"BASIC with basic_encoded", Connection{AuthScheme: Basic, Val: Val{BasicEncoded: "dTpw"}}, true},
		{"BASIC password only", Connection{AuthScheme: Basic, Val: Val{Password: "p"}}, false},
		{"BASIC_WITH_JWT empty password", Connection{AuthScheme: BasicWithJWT, Val: Val{Username: "u"}}, false},
		{"SERVICE_ACCOUNT numeric ids", Connection{AuthScheme: ServiceAccount, Val: Val{PrivateKey: "k",
			Extra: map[string]json.RawMessage{"application_id": json.RawMessage(`123`), "installation_id": json.RawMessage(`456`)}}}, true},
		{"null is missing", Connection{AuthScheme: OAuth2, Val: Val{Extra: map[string]json.RawMessage{"access_token": json.RawMessage(`null`)}}}, false},
	}
	for _, tt := range tests {
		if err := tt.conn.Validate(); (err == nil) != tt.ok {
			t.Errorf("%s: err = %v", tt.name, err)
		}
	}
}

func TestRequiredIsACopy(t *testing.T) {
	t.Parallel()
	r, _ := Required(ServiceAccount)
	r[0][0] = "changed"
	if again, _ := Required(ServiceAccount); again[0][0] != "application_id" {
		t.Error("Required returned shared memory")
	}
	if _, ok := Required("SAML"); ok {
		t.Error("SAML known")
	}
	if len(Schemes()) != 11 {
		t.Errorf("%d schemes", len(Schemes()))
	}
}
