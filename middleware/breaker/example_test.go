package breaker_test

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/composiohttp/composiohttp/credentials"
	"github.com/composiohttp/composiohttp/middleware/breaker"
	"github.com/composiohttp/composiohttp/testutil"
)

// The proxy fails three times in a row: the breaker for api.github.com
// opens, and the fourth call fails fast without reaching the proxy.
func ExampleNew() {
	srv := testutil.NewUnstartedServer()
	srv.Start()
	defer srv.Close()
	srv.AddAccount(testutil.Account{
		ID: "ca_1", Toolkit: "github", AuthScheme: credentials.OAuth2,
		Val:     credentials.Val{AccessToken: "gho_example"},
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}),
	})
	srv.Inject(testutil.Fault{Status: http.StatusBadGateway})

	transport := srv.Transport()
	transport.ConnectedAccountID = "ca_1"
	client := &http.Client{Transport: breaker.New(transport, breaker.WithGroup(breaker.NewLocal(breaker.Settings{
		ReadyToTrip: func(c breaker.Counts) bool { return c.ConsecutiveFailures >= 3 },
		OnStateChange: func(key string, from, to breaker.State) {
			fmt.Printf("breaker %s: %s → %s\n", key, from, to)
		},
	})))}
	for range 4 {
		_, err := client.Get("https://api.github.com/user")
		var oe *breaker.OpenError
		if errors.As(err, &oe) {
			fmt.Println("refused:", errors.Is(err, breaker.ErrOpen), oe.State)
		}
	}
	fmt.Println("calls that reached the proxy:", len(srv.Requests()))
	// Output:
	// breaker api.github.com: closed → open
	// refused: true open
	// calls that reached the proxy: 3
}
