package composiohttp_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/composiohttp/composiohttp"
	"github.com/composiohttp/composiohttp/credentials"
	"github.com/composiohttp/composiohttp/testutil"
)

// upstream is a tiny API standing in for GitHub: it echoes who called.
var upstream = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"path":%q,"auth":%q}`, r.URL.Path, r.Header.Get("Authorization"))
})

func startFake() *testutil.Server {
	srv := testutil.NewUnstartedServer()
	srv.Start()
	for _, id := range []string{"ca_alice", "ca_bob"} {
		srv.AddAccount(testutil.Account{ID: id, Toolkit: "github", AuthScheme: credentials.OAuth2,
			Val: credentials.Val{AccessToken: "token-of-" + id}, BaseURL: "https://api.github.com", Handler: upstream})
	}
	return srv
}

func ExampleNewClient() {
	srv := startFake() // in production: no fake, and COMPOSIO_API_KEY in the environment
	defer srv.Close()

	client := composiohttp.NewClient(&composiohttp.Transport{
		APIKey:             srv.APIKey,
		BaseURL:            srv.URL,
		ConnectedAccountID: "ca_alice",
	})
	resp, err := client.Get("https://api.github.com/user")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.Status)
	fmt.Println(string(body))
	// Output:
	// 200 OK
	// {"path":"/user","auth":"Bearer token-of-ca_alice"}
}

// A multi-tenant service picks the connected account per request.
func ExampleWithConnectedAccount() {
	srv := startFake()
	defer srv.Close()
	client := srv.Client() // a Transport with no default account

	for _, account := range []string{"ca_alice", "ca_bob"} {
		ctx := composiohttp.WithConnectedAccount(context.Background(), account)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "https://api.github.com/user", nil)
		resp, err := client.Do(req)
		if err != nil {
			fmt.Println(err)
			return
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Println(string(body))
	}
	// Output:
	// {"path":"/user","auth":"Bearer token-of-ca_alice"}
	// {"path":"/user","auth":"Bearer token-of-ca_bob"}
}

// Errors of the proxy itself are *composiohttp.Error; errors of the
// upstream API are ordinary responses.
func ExampleError() {
	srv := startFake()
	defer srv.Close()
	srv.Inject(testutil.Fault{Status: http.StatusTooManyRequests, Slug: composiohttp.SlugRateLimitExceeded, Message: "slow down", RetryAfter: "30", Times: 1})
	tr := srv.Transport()
	tr.ConnectedAccountID = "ca_alice"
	client := &http.Client{Transport: tr}

	_, err := client.Get("https://api.github.com/user")
	var perr *composiohttp.Error
	if errors.As(err, &perr) {
		fmt.Println(perr.StatusCode, perr.Slug, perr.Message, perr.RetryAfter)
	}
	fmt.Println(composiohttp.CodeOf(err), composiohttp.IsRetryable(err))

	_, err = client.Get("https://api.github.com/user")
	fmt.Println("second call:", err)
	// Output:
	// 429 RateLimitExceeded slow down 30s
	// rate_limited true
	// second call: <nil>
}

// A whole connection can travel instead of an account id: the proxy uses
// its credentials (custom_connection_data).
func ExampleWithConnection() {
	srv := startFake()
	defer srv.Close()
	srv.AddUpstream("https://api.stripe.com", upstream)
	conn := &credentials.Connection{
		AuthScheme:  credentials.BearerToken,
		ToolkitSlug: "stripe",
		Val:         credentials.Val{Token: "sk_test_123", BaseURL: "https://api.stripe.com"},
	}
	fmt.Printf("%v\n", conn) // secrets never print

	ctx := composiohttp.WithConnection(context.Background(), conn)
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "https://api.stripe.com/v1/balance", nil)
	resp, err := srv.Client().Do(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(string(body))
	// Output:
	// {"authScheme":"BEARER_TOKEN","toolkitSlug":"stripe","val":{"token":"[REDACTED]","base_url":"https://api.stripe.com"}}
	// {"path":"/v1/balance","auth":"Bearer sk_test_123"}
}
