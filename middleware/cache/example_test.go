package cache_test

import (
	"context"
	"fmt"
	"io"
	"net/http"

	"github.com/composiohttp/composiohttp"
	"github.com/composiohttp/composiohttp/credentials"
	"github.com/composiohttp/composiohttp/middleware/cache"
	"github.com/composiohttp/composiohttp/testutil"
)

// A response fresh for a minute is served from the cache the second time,
// without a proxy call; another connected account gets its own.
func Example() {
	srv := testutil.NewUnstartedServer()
	srv.Start()
	defer srv.Close()
	for _, id := range []string{"ca_alice", "ca_bob"} {
		srv.AddAccount(testutil.Account{
			ID: id, Toolkit: "github", AuthScheme: credentials.OAuth2,
			Val: credentials.Val{AccessToken: "gho_" + id},
			Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Cache-Control", "max-age=60")
				fmt.Fprintf(w, "profile for %s", r.Header.Get("Authorization")[len("Bearer gho_"):])
			}),
		})
	}
	client := &http.Client{Transport: cache.New(srv.Transport())}

	for _, id := range []string{"ca_alice", "ca_alice", "ca_bob"} {
		info := &composiohttp.CallInfo{}
		ctx := composiohttp.WithCallInfo(composiohttp.WithConnectedAccount(context.Background(), id), info)
		req, _ := http.NewRequestWithContext(ctx, "GET", "https://api.github.com/user", nil)
		resp, err := client.Do(req)
		if err != nil {
			fmt.Println(err)
			return
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Printf("%s: %q hit=%v\n", id, body, info.CacheHit)
	}
	fmt.Println("proxy calls:", len(srv.Requests()))
	// Output:
	// ca_alice: "profile for ca_alice" hit=false
	// ca_alice: "profile for ca_alice" hit=true
	// ca_bob: "profile for ca_bob" hit=false
	// proxy calls: 2
}
