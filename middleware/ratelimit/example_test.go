package ratelimit_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"golang.org/x/time/rate"

	"github.com/composiohttp/composiohttp"
	"github.com/composiohttp/composiohttp/credentials"
	"github.com/composiohttp/composiohttp/middleware/ratelimit"
	"github.com/composiohttp/composiohttp/testutil"
)

// One call a minute per connected account: a second call for the same
// account within a 1s timeout fails at once, without waiting; another
// account has its own budget.
func ExampleNew() {
	srv := testutil.NewUnstartedServer()
	srv.Start()
	defer srv.Close()
	for _, id := range []string{"ca_alice", "ca_bob"} {
		srv.AddAccount(testutil.Account{
			ID: id, Toolkit: "github", AuthScheme: credentials.OAuth2,
			Val: credentials.Val{AccessToken: "gho_example"},
			Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.WriteString(w, "ok")
			}),
		})
	}
	client := &http.Client{Transport: ratelimit.New(srv.Transport(), ratelimit.NewLocal(rate.Every(time.Minute), 1))}

	get := func(account string) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		ctx = composiohttp.WithConnectedAccount(ctx, account)
		req, _ := http.NewRequestWithContext(ctx, "GET", "https://api.github.com/", nil)
		resp, err := client.Do(req)
		if err != nil {
			fmt.Println(account, "limited:", errors.Is(err, ratelimit.ErrLimited))
			return
		}
		resp.Body.Close()
		fmt.Println(account, resp.StatusCode)
	}
	get("ca_alice")
	get("ca_alice")
	get("ca_bob")
	// Output:
	// ca_alice 200
	// ca_alice limited: true
	// ca_bob 200
}
