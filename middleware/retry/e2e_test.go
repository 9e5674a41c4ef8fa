package retry_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cenkalti/backoff/v4"

	"github.com/composiohttp/composiohttp"
	"github.com/composiohttp/composiohttp/credentials"
	"github.com/composiohttp/composiohttp/middleware/retry"
	"github.com/composiohttp/composiohttp/testutil"
)

// fake is the fake proxy with one account, ca_1, whose upstream answers
// the statuses in upstream one call after the other (200 once they run
// out), and a retrier over it that records its waits instead of sleeping.
type fake struct {
	srv      *testutil.Server
	rt       http.RoundTripper
	upstream atomic.Int64 // upstream calls
	mu       sync.Mutex
	waits    []time.Duration
	bodies   []string // upstream request bodies
}

func newFake(t *testing.T, upstream []int, opts ...retry.Option) *fake {
	t.Helper()
	f := &fake{srv: testutil.NewServer(t)}
	f.srv.AddAccount(testutil.Account{
		ID: "ca_1", Toolkit: "github", AuthScheme: credentials.OAuth2,
		Val: credentials.Val{AccessToken: "tok"},
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			n := int(f.upstream.Add(1))
			b, _ := io.ReadAll(r.Body)
			f.mu.Lock()
			f.bodies = append(f.bodies, string(b))
			f.mu.Unlock()
			status := http.StatusOK
			if n <= len(upstream) {
				status = upstream[n-1]
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			fmt.Fprintf(w, `{"call":%d}`, n)
		}),
	})
	tr := f.srv.Transport()
	tr.ConnectedAccountID = "ca_1"
	f.rt = retry.New(tr, append([]retry.Option{
		retry.WithBackOff(func() backoff.BackOff { return backoff.NewConstantBackOff(time.Second) }),
		retry.WithSleep(func(ctx context.Context, d time.Duration) error {
			f.mu.Lock()
			f.waits = append(f.waits, d)
			f.mu.Unlock()
			return ctx.Err()
		}),
	}, opts...)...)
	return f
}

func (f *fake) do(t *testing.T, method, body string, header http.Header) (*http.Response, error) {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, "https://api.github.com/repos/o/r", r)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		req.Header[k] = v
	}
	return f.rt.RoundTrip(req)
}

func TestEndToEnd(t *testing.T) {
	t.Parallel()
	s := time.Second
	tests := []struct {
		name         string
		faults       []testutil.Fault
		upstream     []int
		method, body string
		header       http.Header
		wantProxy    int // proxy calls
		wantStatus   int // 0: want a *composiohttp.Error with wantErr
		wantErr      int
		wantWaits    []time.Duration
	}{
		{name: "proxy 429 Retry-After retried once", faults: []testutil.Fault{{Status: 429, RetryAfter: "2", Times: 1, Account: "ca_1"}},
			method: "GET", wantProxy: 2, wantStatus: 200, wantWaits: []time.Duration{2 * s}},
		{name: "proxy 500 three times then success", faults: []testutil.Fault{{Status: 500, Times: 3}},
			method: "GET", wantProxy: 4, wantStatus: 200, wantWaits: []time.Duration{s, s, s}},
		{name: "proxy 502 always: last error returned", faults: []testutil.Fault{{Status: 502}},
			method: "GET", wantProxy: 4, wantErr: 502, wantWaits: []time.Duration{s, s, s}},
		{name: "proxy 504 upstream timeout retried", faults: []testutil.Fault{{UpstreamTimeout: true, Times: 1}},
			method: "DELETE", wantProxy: 2, wantStatus: 200, wantWaits: []time.Duration{s}},
		{name: "proxy 400 not retried", faults: []testutil.Fault{{Status: 400, Times: 1}}, method: "GET", wantProxy: 1, wantErr: 400},
		{name: "proxy 401 not retried", faults: []testutil.Fault{{Status: 401, Times: 1}}, method: "GET", wantProxy: 1, wantErr: 401},
		{name: "proxy 404 not retried", faults: []testutil.Fault{{Status: 404, Times: 1}}, method: "GET", wantProxy: 1, wantErr: 404},
		{name: "proxy 422 not retried", faults: []testutil.Fault{{Status: 422, Times: 1}}, method: "GET", wantProxy: 1, wantErr: 422},
		{name: "POST not retried", faults: []testutil.Fault{{Status: 500, Times: 1}}, method: "POST", body: `{"a":1}`, wantProxy: 1, wantErr: 500},
		{name: "POST with Idempotency-Key retried", faults: []testutil.Fault{{Status: 500, Times: 1}}, method: "POST", body: `{"a":false}`,
			header: http.Header{"Idempotency-Key": {"k-1"}}, wantProxy: 2, wantStatus: 200, wantWaits: []time.Duration{s}},
		{name: "dropped connection retried", faults: []testutil.Fault{{Drop: true, Times: 1}}, method: "PUT", body: `{"b":2}`,
			wantProxy: 2, wantStatus: 200, wantWaits: []time.Duration{s}},
		{name: "upstream 503 in a 200 envelope retried", upstream: []int{503, 503}, method: "GET", wantProxy: 3, wantStatus: 200,
			wantWaits: []time.Duration{s, s}},
		// One table (composiohttp.RetryableStatus) for proxy and upstream.
		{name: "upstream 500 in a 200 envelope retried", upstream: []int{500}, method: "GET", wantProxy: 2, wantStatus: 200,
			wantWaits: []time.Duration{s}},
		{name: "proxy 503 retried", faults: []testutil.Fault{{Status: 503, Times: 1}}, method: "GET", wantProxy: 2, wantStatus: 200,
			wantWaits: []time.Duration{s}},
		{name: "upstream 409 in a 200 envelope not retried", upstream: []int{409}, method: "GET", wantProxy: 1, wantStatus: 409},
		{name: "upstream 501 in a 200 envelope not retried", upstream: []int{501}, method: "GET", wantProxy: 1, wantStatus: 501},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t, tc.upstream)
			for _, ft := range tc.faults {
				f.srv.Inject(ft)
			}
			resp, err := f.do(t, tc.method, tc.body, tc.header)
			if got := len(f.srv.Requests()); got != tc.wantProxy {
				t.Errorf("proxy calls = %d, want %d", got, tc.wantProxy)
			}
			f.mu.Lock()
			waits, bodies := f.waits, f.bodies
			f.mu.Unlock()
			if fmt.Sprint(waits) != fmt.Sprint(tc.wantWaits) {
				t.Errorf("waits = %v, want %v", waits, tc.wantWaits)
			}
			for i, b := range bodies {
				if b != tc.body {
					t.Errorf("upstream call %d body = %q, want %q", i+1, b, tc.body)
				}
			}
			if tc.wantStatus == 0 {
				var pe *composiohttp.Error
				if !errors.As(err, &pe) || pe.StatusCode != tc.wantErr {
					t.Fatalf("err = %v, want a proxy error %d", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != tc.wantStatus {
				t.Errorf("status = %d, want %d", resp.StatusCode, tc.wantStatus)
			}
			b, _ := io.ReadAll(resp.Body)
			if want := fmt.Sprintf(`{"call":%d}`, f.upstream.Load()); string(b) != want {
				t.Errorf("body = %s, want the last upstream reply %s", b, want)
			}
		})
	}
}

func TestEndToEndCallInfoAndDeadline(t *testing.T) {
	t.Parallel()
	f := newFake(t, nil)
	f.srv.Inject(testutil.Fault{Status: 429, RetryAfter: "1", Times: 1})
	info := &composiohttp.CallInfo{}
	req, _ := http.NewRequestWithContext(composiohttp.WithCallInfo(context.Background(), info), "GET", "https://api.github.com/x", nil)
	resp, err := f.rt.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if info.Retries != 1 || info.ConnectedAccountID != "ca_1" {
		t.Errorf("CallInfo = %+v, want 1 retry for ca_1", info)
	}

	// A Retry-After beyond the deadline: the proxy error, at once.
	f.srv.Inject(testutil.Fault{Status: 429, RetryAfter: "30", Times: 1})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ = http.NewRequestWithContext(ctx, "GET", "https://api.github.com/x", nil)
	_, err = f.rt.RoundTrip(req)
	var pe *composiohttp.Error
	if !errors.As(err, &pe) || pe.StatusCode != 429 || pe.RetryAfter != 30*time.Second {
		t.Fatalf("err = %v, want the 429 with Retry-After 30s", err)
	}
	if len(f.srv.Requests()) != 3 {
		t.Errorf("%d proxy calls, want 3", len(f.srv.Requests()))
	}
}
