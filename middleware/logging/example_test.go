package logging_test

import (
	"context"
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
