package otelproxy_test

import (
	"context"
	"fmt"
	"io"
	"net/http"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/composiohttp/composiohttp"
	"github.com/composiohttp/composiohttp/credentials"
	"github.com/composiohttp/composiohttp/middleware/otelproxy"
	"github.com/composiohttp/composiohttp/testutil"
)

// A span per call, named after the route template (the host is in
// server.address), with the composio facts as attributes and the token
// in the query redacted.
func Example() {
	srv := testutil.NewUnstartedServer()
	srv.Start()
	defer srv.Close()
	srv.AddAccount(testutil.Account{
		ID: "ca_1", Toolkit: "github", AuthScheme: credentials.OAuth2,
		Val: credentials.Val{AccessToken: "gho_example"},
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, `{"name":"composiohttp"}`)
		}),
	})
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	client := &http.Client{Transport: otelproxy.New(srv.Transport(), otelproxy.WithTracerProvider(tp))}

	ctx := composiohttp.WithConnectedAccount(context.Background(), "ca_1")
	ctx = otelproxy.ContextWithRoute(ctx, "/repos/{owner}/{repo}")
	req, _ := http.NewRequestWithContext(ctx, "GET", "https://api.github.com/repos/o/r?token=t0ps3cret", nil)
	resp, err := client.Do(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close() // ends the span

	s := spans.Ended()[0]
	fmt.Println(s.Name())
	got := map[attribute.Key]string{}
	for _, kv := range s.Attributes() {
		got[kv.Key] = kv.Value.String()
	}
	for _, k := range []attribute.Key{"server.address", "url.full", otelproxy.AttrURLTemplate, otelproxy.AttrConnectedAccount, otelproxy.AttrUpstreamStatus, otelproxy.AttrCacheHit} {
		fmt.Printf("%s=%s\n", k, got[k])
	}
	// Output:
	// GET /repos/{owner}/{repo}
	// server.address=api.github.com
	// url.full=https://api.github.com/repos/o/r?token=[REDACTED]
	// url.template=/repos/{owner}/{repo}
	// composio.connected_account.id=ca_1
	// composio.upstream.status_code=200
	// composio.cache.hit=false
}
