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

// NewLocal(10, 20), the documented chain's limiter: an idle account may
// make 20 calls at once (a fan-out of 20 does not queue), the 21st
// waits a tenth of a second, and after a quiet second 10 more go at
// once. Over one minute: at most 20 + 10×60 = 620 calls.
func ExampleNewLocal() {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	lim := ratelimit.NewLocal(10, 20)
	lim.Now = func() time.Time { return now } // a fixed clock, for the example

	n := 0
	for {
		ok, wait := lim.Allow("ca_1")
		if !ok {
			fmt.Printf("%d calls at once, then a wait of %v\n", n, wait)
			break
		}
		n++
	}
	now = now.Add(time.Second)
	n = 0
	for ok, _ := lim.Allow("ca_1"); ok; ok, _ = lim.Allow("ca_1") {
		n++
	}
	fmt.Printf("after 1s: %d calls at once\n", n)
	// Output:
	// 20 calls at once, then a wait of 100ms
	// after 1s: 10 calls at once
}

// Beyond MaxKeys, only idle keys are evicted. A key paused by a 429 (or
// with tokens still to earn back) is kept even if that takes the Local
// over its bound, which Stats reports, e.g. for a metric.
func ExampleLocal_Stats() {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	lim := &ratelimit.Local{Limit: 1, Burst: 1, MaxKeys: 2}
	lim.Now = func() time.Time { return now } // a fixed clock, for the example

	lim.Pause(context.Background(), "account:ca_1", time.Minute) // a 429 said: wait a minute
	lim.Allow("account:ca_2")
	lim.Allow("account:ca_3") // both others busy: kept, over the bound
	fmt.Printf("%+v\n", lim.Stats())

	now = now.Add(time.Second) // ca_2 and ca_3 have earned their token back: idle
	lim.Allow("account:ca_4")  // evicts ca_2 and ca_3, never ca_1
	_, wait := lim.Allow("account:ca_1")
	fmt.Printf("%+v\nca_1 still waits %v\n", lim.Stats(), wait)
	// Output:
	// {Keys:3 MaxKeys:2 PeakKeys:3 Evictions:0 Overflows:1}
	// {Keys:2 MaxKeys:2 PeakKeys:3 Evictions:2 Overflows:1}
	// ca_1 still waits 59s
}
