package testutil_test

import (
	"io"
	"net/http"
	"testing"
	"testing/synctest"
	"time"

	"github.com/composiohttp/composiohttp/middleware"
	"github.com/composiohttp/composiohttp/middleware/ratelimit"
	"github.com/composiohttp/composiohttp/middleware/retry"
	"github.com/composiohttp/composiohttp/testutil"
	"github.com/composiohttp/composiohttp/testutil/fakegithub"
)

// The package doc's "Tests that never wait", as written there: a chain
// meets a 429 with Retry-After: 1 and takes its second of the bubble's
// time, with no clock injected anywhere.
func TestDocChainInSynctestBubble(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		org := &ratelimit.OrgLimiter{}
		srv := testutil.NewUnstartedServer()
		srv.URL = "http://composio.test" // names the signed binary URLs only
		defer srv.Close()
		srv.AddAccount(fakegithub.Account("ca_1", "gho_test"))
		srv.Inject(testutil.Fault{Status: 429, RetryAfter: "1", Times: 1})
		tr := srv.InProcessTransport()
		tr.ConnectedAccountID = "ca_1"
		tr.Base = org.Transport(tr.Base) // an OrgLimiter wraps the fake's Base, not nil (the network)
		client := &http.Client{Transport: middleware.Chain(tr, retry.Middleware(), ratelimit.Middleware(ratelimit.NewLocal(10, 20)))}

		start := time.Now()
		resp, err := client.Get("https://api.github.com/user")
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("status %d", resp.StatusCode)
		}
		if d := time.Since(start); d < time.Second {
			t.Errorf("took %v of the bubble's time: the Retry-After was not waited", d)
		}
		if n := len(srv.Requests()); n != 2 {
			t.Errorf("%d proxy calls, want 2 (the 429, then the retry)", n)
		}
	})
}
