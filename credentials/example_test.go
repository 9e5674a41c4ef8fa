package credentials_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/composiohttp/composiohttp/credentials"
)

// Printing, logging or json.Marshal of a connection never shows a secret;
// MarshalWire gives what the proxy receives.
func Example_redaction() {
	conn := &credentials.Connection{
		AuthScheme:  credentials.OAuth2,
		ToolkitSlug: "github",
		Val:         credentials.Val{AccessToken: "gho_secret", TokenType: "Bearer"},
	}
	fmt.Printf("%v\n", conn)
	fmt.Printf("%#v\n", conn.Val)

	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	}))
	logger.Info("calling", "conn", conn)

	wire, _ := credentials.MarshalWire(conn)
	fmt.Println(string(wire))
	// Output:
	// {"authScheme":"OAUTH2","toolkitSlug":"github","val":{"access_token":"[REDACTED]","token_type":"Bearer"}}
	// credentials.Val{AccessToken:"[REDACTED]", TokenType:"Bearer"}
	// level=INFO msg=calling conn.authScheme=OAUTH2 conn.toolkitSlug=github conn.val.access_token=[REDACTED] conn.val.token_type=Bearer
	// {"authScheme":"OAUTH2","toolkitSlug":"github","val":{"access_token":"gho_secret","token_type":"Bearer"}}
}

// Decoding keeps every key, typed or not, so the wire encoding carries
// what was given.
func ExampleMarshalWire() {
	var conn credentials.Connection
	in := `{"authScheme":"OAUTH2","toolkitSlug":"slack","val":{"access_token":"xoxb-1","expires_in":"43200","team":{"id":"T1"},"scope":["chat:write"]}}`
	if err := json.Unmarshal([]byte(in), &conn); err != nil {
		panic(err)
	}
	team, _ := json.Marshal(conn.Val.Extra["team"])
	fmt.Println(conn.Val.AccessToken, conn.Val.ExpiresIn, string(team))

	wire, _ := credentials.MarshalWire(&conn)
	fmt.Println(string(wire))
	// Output:
	// xoxb-1 43200 {"id":"T1"}
	// {"authScheme":"OAUTH2","toolkitSlug":"slack","val":{"access_token":"xoxb-1","expires_in":43200,"scope":["chat:write"],"team":{"id":"T1"}}}
}

func ExampleVal_Get() {
	var v credentials.Val
	_ = json.Unmarshal([]byte(`{"subdomain":"acme","account_id":12345,"custom":"x"}`), &v)
	for _, key := range []string{"subdomain", "account_id", "custom", "absent"} {
		s, ok := v.Get(key)
		fmt.Printf("%s=%q %v\n", key, s, ok)
	}
	// Output:
	// subdomain="acme" true
	// account_id="12345" true
	// custom="x" true
	// absent="" false
}

func ExampleConnection_Validate() {
	conn := &credentials.Connection{
		AuthScheme: credentials.OAuth1,
		Val:        credentials.Val{OAuthToken: "t"},
	}
	err := conn.Validate()
	fmt.Println(err)

	var missing *credentials.MissingFieldError
	if errors.As(err, &missing) {
		fmt.Println(missing.Scheme, missing.Field, errors.Is(err, credentials.ErrMissingField))
	}
	// Output:
	// credentials: OAUTH1 connection is missing "oauth_token_secret"
	// OAUTH1 oauth_token_secret true
}

func ExampleRequired() {
	for _, s := range []credentials.Scheme{credentials.DCROAuth, credentials.BearerToken, credentials.NoAuth} {
		reqs, _ := credentials.Required(s)
		fmt.Println(s, reqs)
	}
	// Output:
	// DCR_OAUTH [[access_token] [client_id]]
	// BEARER_TOKEN [[token bearer_token]]
	// NO_AUTH []
}

// CachingSource asks the underlying source again only when the cached
// connection is about to expire.
func ExampleCachingSource() {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	refreshes := 0
	src := credentials.SourceFunc(func(ctx context.Context) (*credentials.Connection, error) {
		refreshes++
		return &credentials.Connection{
			AuthScheme: credentials.OAuth2,
			Val: credentials.Val{
				AccessToken: fmt.Sprint("token-", refreshes),
				ExpiresAt:   clock().Add(time.Hour).Format(time.RFC3339),
			},
		}, nil
	})
	cached := credentials.CachingSource(src, credentials.WithClock(clock))

	for _, step := range []time.Duration{0, 30 * time.Minute, 30 * time.Minute} {
		now = now.Add(step)
		conn, _ := cached.Connection(context.Background())
		fmt.Println(now.Format(time.Kitchen), conn.Val.AccessToken)
	}
	// Output:
	// 12:00AM token-1
	// 12:30AM token-1
	// 1:00AM token-2
}
