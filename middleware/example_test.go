package middleware_test

import (
	"context"
	"fmt"
	"io"
	"net/http"

	"github.com/cenkalti/backoff/v4"

	"github.com/composiohttp/composiohttp"
	"github.com/composiohttp/composiohttp/credentials"
	"github.com/composiohttp/composiohttp/middleware"
	"github.com/composiohttp/composiohttp/middleware/cache"
	"github.com/composiohttp/composiohttp/middleware/logging"
	"github.com/composiohttp/composiohttp/middleware/otelproxy"
	"github.com/composiohttp/composiohttp/middleware/ratelimit"
	"github.com/composiohttp/composiohttp/middleware/retry"
	"github.com/composiohttp/composiohttp/testutil"
)

// The recommended order, outermost first: trace, logging, cache, retry,
// ratelimit, then the Transport. Here the fake proxy fails the first
// call with a 502, which retry sends again.
func ExampleChain() {
	srv := testutil.NewUnstartedServer()
	srv.Start()
	defer srv.Close()
	srv.AddAccount(testutil.Account{
		ID: "ca_1", Toolkit: "github", AuthScheme: credentials.OAuth2,
		Val: credentials.Val{AccessToken: "gho_example"},
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"login":"octocat"}`)
		}),
	})
	srv.Inject(testutil.Fault{Status: http.StatusBadGateway, Times: 1})

	transport := srv.Transport()
	transport.ConnectedAccountID = "ca_1"
	client := &http.Client{Transport: middleware.Chain(transport,
		otelproxy.Middleware(),
		logging.Middleware(),
		cache.Middleware(),
		// Retry at once, for the example; the default backs off
		// exponentially from 250ms.
		retry.Middleware(retry.WithBackOff(func() backoff.BackOff { return &backoff.ZeroBackOff{} })),
		// 10 calls a second per connected account, up to 20 at once
		// after a pause (see ratelimit's "Choosing a rate and a burst").
		ratelimit.Middleware(ratelimit.NewLocal(10, 20)),
	)}

	info := &composiohttp.CallInfo{}
	ctx := composiohttp.WithCallInfo(context.Background(), info)
	req, _ := http.NewRequestWithContext(ctx, "GET", "https://api.github.com/user", nil)
	resp, err := client.Do(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.StatusCode, string(body))
	fmt.Println("retries:", info.Retries, "proxy calls:", len(srv.Requests()))
	// Output:
	// 200 {"login":"octocat"}
	// retries: 1 proxy calls: 2
}
