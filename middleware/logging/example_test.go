package logging_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"

	"github.com/composiohttp/composiohttp"
	"github.com/composiohttp/composiohttp/credentials"
	"github.com/composiohttp/composiohttp/middleware/logging"
	"github.com/composiohttp/composiohttp/testutil"
)

// One line per call; secrets in the query are redacted.
func Example() {
	srv := testutil.NewUnstartedServer()
	srv.Start()
	defer srv.Close()
	srv.AddAccount(testutil.Account{
		ID: "ca_1", Toolkit: "github", AuthScheme: credentials.OAuth2,
		Val: credentials.Val{AccessToken: "gho_example"},
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.NotFound(w, r)
		}),
	})
	// Drop the attributes that change from run to run, for the example.
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			switch a.Key {
			case slog.TimeKey, "duration", "request_id":
				return slog.Attr{}
			}
			return a
		},
	}))
	client := &http.Client{Transport: logging.New(srv.Transport(), logging.WithLogger(logger))}

	ctx := composiohttp.WithConnectedAccount(context.Background(), "ca_1")
	req, _ := http.NewRequestWithContext(ctx, "GET", "https://api.github.com/nothing?api_key=s3cret", nil)
	resp, err := client.Do(req)
	if err != nil {
		return
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	// Output:
	// level=WARN msg="composiohttp request" method=GET url="https://api.github.com/nothing?api_key=[REDACTED]" status=404 account=ca_1 retries=0 cache_hit=false
}

// With WithBodies, the response comes back at once and its line is
// written when the caller has read the body (or closed it), with the body
// redacted.
func ExampleWithBodies() {
	srv := testutil.NewUnstartedServer()
	srv.Start()
	defer srv.Close()
	srv.AddAccount(testutil.Account{
		ID: "ca_1", Toolkit: "github", AuthScheme: credentials.OAuth2,
		Val: credentials.Val{AccessToken: "gho_example"},
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"login":"octo","token":"s3cret"}`)
		}),
	})
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			switch a.Key {
			case slog.TimeKey, "duration", "request_id":
				return slog.Attr{}
			}
			return a
		},
	}))
	client := &http.Client{Transport: logging.New(srv.Transport(), logging.WithLogger(logger), logging.WithBodies(64<<10))}

	ctx := composiohttp.WithConnectedAccount(context.Background(), "ca_1")
	req, _ := http.NewRequestWithContext(ctx, "GET", "https://api.github.com/user", nil)
	resp, err := client.Do(req)
	if err != nil {
		return
	}
	fmt.Println("status", resp.StatusCode) // before the line
	io.Copy(io.Discard, resp.Body)         // the line, at the end of the body
	resp.Body.Close()
	// Output:
	// status 200
	// level=INFO msg="composiohttp request" method=GET url=https://api.github.com/user status=200 account=ca_1 retries=0 cache_hit=false response_body="{\"login\":\"octo\",\"token\":\"[REDACTED]\"}"
}
