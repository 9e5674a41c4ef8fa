package retry_test

import (
	"errors"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/composiohttp/composiohttp"
	"github.com/composiohttp/composiohttp/credentials"
	"github.com/composiohttp/composiohttp/middleware/retry"
	"github.com/composiohttp/composiohttp/testutil"
)

// TestBudgetStopsRetryStorm: with every call failing (the upstream or the
// proxy answering 503), a shared budget keeps retries ≤ 10% of calls
// across 4 tenants pushing at once; the failure it returns is marked.
// Without a budget, every call is tried 4 times.
func TestBudgetStopsRetryStorm(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		proxy503    bool
		budget      bool
		wantMaxRate float64 // retries / calls
		wantMinRate float64
		minRetries  int // Budget.MinRetries
	}{
		// No floor: the share alone, ≤ 10%.
		{"upstream 503, budget", false, true, 0.10, 0.05, -1},
		{"proxy 503, budget", true, true, 0.10, 0.05, -1},
		// The zero Budget: ≤ 10%, plus at most the floor of 10 retries
		// a window while the window holds fewer than 100 calls (the
		// start of the storm).
		{"upstream 503, zero budget", false, true, 0.10 + float64(retry.DefaultBudgetMinRetries)/1000, 0.05, 0},
		{"upstream 503, no budget", false, false, 3, 3, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				s := testutil.NewUnstartedServer()
				s.URL = "http://composio.test"
				defer s.Close()
				for _, id := range []string{"ca_a", "ca_b", "ca_c", "ca_d"} {
					s.AddAccount(testutil.Account{ID: id, AuthScheme: credentials.NoAuth,
						Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) })})
				}
				if tt.proxy503 {
					s.Inject(testutil.Fault{Status: 503})
				}
				var opts []retry.Option
				var exhausted atomic.Int32
				if tt.budget {
					opts = append(opts, retry.WithBudget(&retry.Budget{MinRetries: tt.minRetries}), retry.WithOnBudgetExhausted(func(retry.Event) { exhausted.Add(1) }))
				}
				rt := retry.New(s.InProcessTransport(), opts...) // one retrier for every tenant
				const perTenant = 250
				var wg sync.WaitGroup
				var marked atomic.Int32
				for _, id := range []string{"ca_a", "ca_b", "ca_c", "ca_d"} {
					wg.Go(func() {
						ctx := composiohttp.WithConnectedAccount(t.Context(), id)
						for range perTenant {
							req, _ := http.NewRequestWithContext(ctx, "GET", "https://api.example.com/x", nil)
							resp, err := rt.RoundTrip(req)
							if resp != nil {
								io.Copy(io.Discard, resp.Body)
								resp.Body.Close()
							}
							var pe *composiohttp.Error
							if errors.Is(err, retry.ErrBudgetExhausted) && errors.As(err, &pe) && pe.StatusCode == 503 {
								marked.Add(1)
							}
							time.Sleep(10 * time.Millisecond)
						}
					})
				}
				wg.Wait()
				calls := 4 * perTenant
				retries := len(s.Requests()) - calls
				rate := float64(retries) / float64(calls)
				if rate > tt.wantMaxRate || rate < tt.wantMinRate {
					t.Errorf("%d retries for %d calls (%.3f), want between %.2f and %.2f", retries, calls, rate, tt.wantMinRate, tt.wantMaxRate)
				}
				if tt.budget && exhausted.Load() == 0 {
					t.Error("the budget never ran out")
				}
				if tt.proxy503 && tt.budget && marked.Load() == 0 {
					t.Error("no failure marked ErrBudgetExhausted")
				}
			})
		})
	}
}

// TestBudgetDefaults: the zero Budget lets a quiet service retry
// (DefaultBudgetMinRetries in the window), and under load caps retries at
// 10% of the calls, the floor not added on top; a negative MinRetries
// allows no floor.
func TestBudgetDefaults(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	count := func(b *retry.Budget) (n int) {
		for b.Retry() {
			n++
		}
		return n
	}
	for _, tt := range []struct {
		name  string
		min   int
		calls int
		want  int
	}{
		{"quiet, default floor", 0, 1, retry.DefaultBudgetMinRetries},
		{"busy, the share", 0, 1000, 100},
		{"quiet, no floor", -1, 1, 0},
		{"quiet, floor 3", 3, 5, 3},
	} {
		b := &retry.Budget{MinRetries: tt.min, Now: clock}
		for range tt.calls {
			b.Call()
		}
		if got := count(b); got != tt.want {
			t.Errorf("%s: %d retries after %d calls, want %d", tt.name, got, tt.calls, tt.want)
		}
	}
}

// TestBudgetWindow: the budget is a share of the calls of the last
// Window; MinRetries are allowed whatever the traffic.
func TestBudgetWindow(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	b := &retry.Budget{Ratio: 0.5, MinRetries: 1, Window: 10 * time.Second, Now: func() time.Time { return now }}
	if !b.Retry() || b.Retry() {
		t.Fatal("MinRetries: want exactly one retry with no calls")
	}
	for range 4 {
		b.Call()
	}
	got := 0
	for b.Retry() {
		got++
	}
	if got != 1 { // max(0.5 × 4, 1) − the 1 taken
		t.Errorf("%d retries, want 1", got)
	}
	now = now.Add(5 * time.Second)
	if b.Retry() {
		t.Error("retry allowed while the window still holds the spent budget")
	}
	now = now.Add(6 * time.Second) // the first calls and retries left the window
	if c, r := b.Totals(); c != 0 || r != 0 {
		t.Errorf("totals %d %d after the window", c, r)
	}
	if !b.Retry() {
		t.Error("MinRetries not renewed")
	}
}
