package retry_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/cenkalti/backoff/v4"

	"github.com/composiohttp/composiohttp"
	"github.com/composiohttp/composiohttp/credentials"
	"github.com/composiohttp/composiohttp/middleware/retry"
	"github.com/composiohttp/composiohttp/testutil"
)

// The fake proxy answers 502 twice; the third attempt succeeds.
func ExampleNew() {
	srv := testutil.NewUnstartedServer()
	srv.Start()
	defer srv.Close()
	srv.AddAccount(testutil.Account{
		ID: "ca_1", Toolkit: "github", AuthScheme: credentials.OAuth2,
		Val: credentials.Val{AccessToken: "gho_example"},
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "hello")
		}),
	})
	srv.Inject(testutil.Fault{Status: http.StatusBadGateway, Times: 2})

	transport := srv.Transport()
	transport.ConnectedAccountID = "ca_1"
	client := &http.Client{Transport: retry.New(transport,
		retry.WithMaxAttempts(5),
		retry.WithMaxElapsedTime(30*time.Second),
		// No wait, for the example.
		retry.WithBackOff(func() backoff.BackOff { return &backoff.ZeroBackOff{} }),
		retry.WithOnRetry(func(e retry.Event) {
			var pe *composiohttp.Error
			if errors.As(e.Err, &pe) {
				fmt.Printf("attempt %d: proxy error %d, retrying in %v\n", e.Attempt, pe.StatusCode, e.Wait)
			}
		}),
	)}

	resp, err := client.Get("https://api.github.com/greeting")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.StatusCode, string(body))
	// Output:
	// attempt 1: proxy error 502, retrying in 0s
	// attempt 2: proxy error 502, retrying in 0s
	// 200 hello
}
