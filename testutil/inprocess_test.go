package testutil_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"testing"
	"testing/synctest"
	"time"

	"github.com/composiohttp/composiohttp"
	"github.com/composiohttp/composiohttp/credentials"
	"github.com/composiohttp/composiohttp/testutil"
)

// TestInProcess: the fake served without a network, inside a synctest
// bubble: a call, a proxy error, a dropped connection, a latency fault
// that the bubble's clock makes instant, and a caller that gives up.
func TestInProcess(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		s := testutil.NewUnstartedServer(testutil.WithOrgLimit(100, time.Minute))
		s.URL = "http://composio.test"
		defer s.Close()
		s.AddAccount(testutil.Account{ID: "ca_1", AuthScheme: credentials.NoAuth, Handler: echo})
		tr := s.InProcessTransport()
		tr.ConnectedAccountID = "ca_1"
		client := &http.Client{Transport: tr}

		resp, err := client.Get("https://api.example.com/hello?x=1")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || len(b) == 0 {
			t.Errorf("got %d %s", resp.StatusCode, b)
		}

		s.Inject(testutil.Fault{Status: 502, Times: 1})
		var pe *composiohttp.Error
		if _, err := client.Get("https://api.example.com/x"); !errors.As(err, &pe) || pe.StatusCode != 502 {
			t.Errorf("fault: %v", err)
		}

		s.Inject(testutil.Fault{Drop: true, Times: 1})
		if _, err := client.Get("https://api.example.com/x"); !errors.Is(err, io.ErrUnexpectedEOF) || !composiohttp.IsRetryable(err) {
			t.Errorf("drop: %v", err)
		}

		s.Inject(testutil.Fault{Latency: time.Hour, Times: 1})
		start := time.Now()
		if _, err := client.Get("https://api.example.com/x"); err != nil || time.Since(start) != time.Hour {
			t.Errorf("latency: %v after %v", err, time.Since(start))
		}

		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		s.Inject(testutil.Fault{Latency: time.Hour, Times: 1})
		req, _ := http.NewRequestWithContext(ctx, "GET", "https://api.example.com/x", nil)
		if _, err := client.Do(req); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("deadline: %v", err)
		}
		if n := len(s.Requests()); n != 5 {
			t.Errorf("%d requests recorded", n)
		}
	})
}
