package testutil_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/composiohttp/composiohttp"
	"github.com/composiohttp/composiohttp/credentials"
	"github.com/composiohttp/composiohttp/testutil"
)

// twoAccounts returns a fake with accounts ca_a and ca_b.
func twoAccounts(t *testing.T, opts ...testutil.Option) *testutil.Server {
	t.Helper()
	s := testutil.NewServer(t, opts...)
	for _, id := range []string{"ca_a", "ca_b"} {
		s.AddAccount(testutil.Account{ID: id, AuthScheme: credentials.NoAuth, Handler: echo})
	}
	return s
}

func envFor(id string) map[string]any {
	return map[string]any{"connected_account_id": id, "endpoint": "/x", "method": "GET"}
}

func TestFaults(t *testing.T) {
	t.Parallel()
	type step struct {
		account string
		status  int
		slug    string
	}
	tests := []struct {
		name   string
		faults []testutil.Fault
		steps  []step
	}{
		{
			name:   "once",
			faults: []testutil.Fault{{Status: 429, Times: 1}},
			steps:  []step{{"ca_a", 429, composiohttp.SlugRateLimitExceeded}, {"ca_a", 200, ""}, {"ca_b", 200, ""}},
		},
		{
			name:   "N times",
			faults: []testutil.Fault{{Status: 500, Times: 2}},
			steps:  []step{{"ca_a", 500, composiohttp.SlugInternalServerError}, {"ca_b", 500, composiohttp.SlugInternalServerError}, {"ca_a", 200, ""}},
		},
		{
			name:   "every call",
			faults: []testutil.Fault{{Status: 502}},
			steps:  []step{{"ca_a", 502, composiohttp.SlugBadGateway}, {"ca_a", 502, composiohttp.SlugBadGateway}, {"ca_b", 502, composiohttp.SlugBadGateway}},
		},
		{
			name:   "per account",
			faults: []testutil.Fault{{Status: 503, Account: "ca_b"}},
			steps:  []step{{"ca_a", 200, ""}, {"ca_b", 503, composiohttp.SlugServiceUnavailable}, {"ca_a", 200, ""}, {"ca_b", 503, composiohttp.SlugServiceUnavailable}},
		},
		{
			name:   "per account once, then any",
			faults: []testutil.Fault{{Status: 429, Account: "ca_b", Times: 1}, {Status: 500, Times: 1}},
			steps:  []step{{"ca_b", 429, composiohttp.SlugRateLimitExceeded}, {"ca_b", 500, composiohttp.SlugInternalServerError}, {"ca_b", 200, ""}},
		},
		{
			name:   "custom slug and unusual status",
			faults: []testutil.Fault{{Status: 403, Slug: "Forbidden_ProxyExecute", Message: "no proxy permission", Times: 1}},
			steps:  []step{{"ca_a", 403, "Forbidden_ProxyExecute"}, {"ca_a", 200, ""}},
		},
		{
			// A status of the README's error table gets the table's slug,
			// so that CodeOf sorts a fault as it sorts the real reply.
			name: "the error table's slugs",
			faults: []testutil.Fault{{Status: 400, Times: 1}, {Status: 401, Times: 1}, {Status: 413, Times: 1},
				{Status: 405, Times: 1}, {Status: 501, Times: 1}},
			steps: []step{{"ca_a", 400, composiohttp.SlugValidationError}, {"ca_a", 401, composiohttp.SlugInvalidAPIKey},
				{"ca_a", 413, composiohttp.SlugPayloadTooLarge}, {"ca_a", 405, composiohttp.SlugMethodNotAllowed},
				{"ca_a", 501, composiohttp.SlugAuthSchemeNotSupported}, {"ca_a", 200, ""}},
		},
		{
			name:   "status with no default slug",
			faults: []testutil.Fault{{Status: 409, Times: 1}},
			steps:  []step{{"ca_a", 409, "Conflict"}},
		},
		{
			name:   "upstream timeout",
			faults: []testutil.Fault{{UpstreamTimeout: true, Times: 1}},
			steps:  []step{{"ca_a", 504, composiohttp.SlugUpstreamTimeout}, {"ca_a", 200, ""}},
		},
		{
			name:   "faults skip invalid envelopes",
			faults: []testutil.Fault{{Status: 500, Times: 1}},
			steps:  []step{{"", 400, composiohttp.SlugMissingAuthContext}, {"ca_a", 500, composiohttp.SlugInternalServerError}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := twoAccounts(t)
			for _, f := range tt.faults {
				s.Inject(f)
			}
			for i, st := range tt.steps {
				env := envFor(st.account)
				if st.account == "" {
					delete(env, "connected_account_id")
				}
				r := call(t, s, env)
				if st.status == 200 {
					if r.status != 200 {
						t.Fatalf("step %d: got %d: %s", i, r.status, r.body)
					}
					continue
				}
				checkError(t, r, st.status, st.slug, "")
			}
		})
	}
}

func TestFaultRetryAfterAndMessage(t *testing.T) {
	t.Parallel()
	s := twoAccounts(t)
	s.Inject(testutil.Fault{Status: 429, RetryAfter: "7", Message: "slow down", Times: 1})
	r := call(t, s, envFor("ca_a"))
	checkError(t, r, 429, composiohttp.SlugRateLimitExceeded, "")
	if r.header.Get("Retry-After") != "7" || r.err.Message != "slow down" {
		t.Errorf("Retry-After %q, message %q", r.header.Get("Retry-After"), r.err.Message)
	}
}

func TestFaultMalformed(t *testing.T) {
	t.Parallel()
	s := twoAccounts(t)
	s.Inject(testutil.Fault{Malformed: true, Times: 1})
	res, err := post(s, envFor("ca_a"))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var env map[string]any
	if err := json.NewDecoder(res.Body).Decode(&env); res.StatusCode != 200 || err == nil {
		t.Errorf("got %d, decode error %v; want 200 and a broken envelope", res.StatusCode, err)
	}
}

func TestFaultDrop(t *testing.T) {
	t.Parallel()
	s := twoAccounts(t)
	s.Inject(testutil.Fault{Drop: true, Times: 1})
	_, err := post(s, envFor("ca_a"))
	if err == nil {
		t.Fatal("dropped connection gave no error")
	}
	if r := call(t, s, envFor("ca_a")); r.status != 200 {
		t.Errorf("second call: %d", r.status)
	}
	if rec := s.Requests(); len(rec) != 2 || rec[0].Status != 0 || rec[1].Status != 200 {
		t.Errorf("recorded %+v", rec)
	}
}

func TestFaultLatency(t *testing.T) {
	t.Parallel()
	var slept []time.Duration
	var mu sync.Mutex
	s := twoAccounts(t, testutil.WithSleep(func(ctx context.Context, d time.Duration) error {
		mu.Lock()
		slept = append(slept, d)
		mu.Unlock()
		return nil
	}))
	s.Inject(testutil.Fault{Latency: 3 * time.Second, Times: 1})
	s.Inject(testutil.Fault{Latency: time.Second, Status: 500, Times: 1})
	if r := call(t, s, envFor("ca_a")); r.status != 200 {
		t.Errorf("latency-only fault: %d", r.status)
	}
	checkError(t, call(t, s, envFor("ca_a")), 500, composiohttp.SlugInternalServerError, "")
	if r := call(t, s, envFor("ca_a")); r.status != 200 {
		t.Errorf("after faults: %d", r.status)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(slept) != 2 || slept[0] != 3*time.Second || slept[1] != time.Second {
		t.Errorf("slept %v", slept)
	}
}

func TestFaultLatencyRespectsContext(t *testing.T) {
	t.Parallel()
	arrived := make(chan struct{})
	result := make(chan error, 1)
	s := twoAccounts(t, testutil.WithSleep(func(ctx context.Context, d time.Duration) error {
		close(arrived)
		<-ctx.Done() // the default sleep would wait d, or less if ctx ends
		result <- ctx.Err()
		return ctx.Err()
	}))
	s.Inject(testutil.Fault{Latency: time.Hour, Status: 500})
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.URL+proxyPath, bytes.NewReader(mustJSON(envFor("ca_a"))))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Api-Key", s.APIKey)
		res, err := rawClient(s).Do(req)
		if err == nil {
			res.Body.Close()
		}
		errc <- err
	}()
	<-arrived
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("client error %v", err)
	}
	if err := <-result; !errors.Is(err, context.Canceled) {
		t.Errorf("sleep ended with %v", err)
	}
}

func TestFaultsConcurrent(t *testing.T) {
	t.Parallel()
	s := twoAccounts(t)
	s.Inject(testutil.Fault{Status: 500, Times: 10})
	var failed, ok atomic.Int32
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			res, err := post(s, envFor("ca_a"))
			if err != nil {
				t.Error(err)
				return
			}
			res.Body.Close()
			switch res.StatusCode {
			case 500:
				failed.Add(1)
			case 200:
				ok.Add(1)
			}
		})
	}
	wg.Wait()
	if failed.Load() != 10 || ok.Load() != 22 {
		t.Errorf("failed %d, ok %d", failed.Load(), ok.Load())
	}
	if n := len(s.Requests()); n != 32 {
		t.Errorf("recorded %d", n)
	}
}

func TestRecording(t *testing.T) {
	t.Parallel()
	clock := newClock()
	s := github(t, echo, testutil.WithClock(clock.Now))
	call(t, s, get("/user"))
	call(t, s, `{"connected_account_id":"ca_github","endpoint":"/x","method":"POST","body":{"a":false},"parameters":[{"name":"q","value":"1","type":"query"}]}`,
		func(r *http.Request) {
			r.URL.Path = "/api/v3/tools/execute/proxy"
			r.Header.Set("X-Request-Id", "mine")
		})
	call(t, s, `{"bad":1}`, func(r *http.Request) { r.Header.Set("Authorization", "Bearer x") })
	call(t, s, get("/y"), func(r *http.Request) { r.Header.Set("X-Api-Key", "ak_wrong") }) // not recorded
	call(t, s, get("/z"), func(r *http.Request) { r.Method = http.MethodPut })

	rec := s.Requests()
	if len(rec) != 4 {
		t.Fatalf("recorded %d", len(rec))
	}
	want := []struct {
		path, endpoint string
		status         int
	}{
		{proxyPath, "/user", 200},
		{"/api/v3/tools/execute/proxy", "/x", 200},
		{proxyPath, "", 400},
		{proxyPath, "", 405}, // a 405's body is not read
	}
	for i, w := range want {
		r := rec[i]
		if r.Path != w.path || r.Envelope.Endpoint != w.endpoint || r.Status != w.status {
			t.Errorf("record %d: %s %q %d", i, r.Path, r.Envelope.Endpoint, r.Status)
		}
		if r.Header.Get("X-Api-Key") != "[REDACTED]" || !r.Time.Equal(clock.Now()) || r.RequestID == "" {
			t.Errorf("record %d: key %q time %v id %q", i, r.Header.Get("X-Api-Key"), r.Time, r.RequestID)
		}
	}
	if rec[1].RequestID != "mine" || string(rec[1].Envelope.Body) != `{"a":false}` ||
		len(rec[1].Envelope.Parameters) != 1 || rec[1].Envelope.Parameters[0].Name != "q" {
		t.Errorf("record 1: %+v", rec[1])
	}
	if rec[2].Header.Get("Authorization") != "[REDACTED]" || string(rec[2].Body) != `{"bad":1}` {
		t.Errorf("record 2: %+v", rec[2])
	}
	if rec[3].Method != http.MethodPut || rec[3].Body != nil {
		t.Errorf("record 3: %+v", rec[3])
	}
	rec[0].Header.Set("X-Api-Key", "changed")
	rec[0].Body[0] = 'X'
	if again := s.Requests(); again[0].Header.Get("X-Api-Key") != "[REDACTED]" || again[0].Body[0] != '{' {
		t.Error("Requests does not return copies")
	}
	s.Reset()
	if len(s.Requests()) != 0 || len(s.Downloads()) != 0 {
		t.Error("Reset kept records")
	}
	if r := call(t, s, get("/user")); r.status != 200 {
		t.Errorf("Reset dropped accounts: %d", r.status)
	}
}

func TestRequestID(t *testing.T) {
	t.Parallel()
	s := github(t, echo)
	r1, r2 := call(t, s, get("/a")), call(t, s, get("/b"))
	id1, id2 := r1.header.Get("X-Request-Id"), r2.header.Get("X-Request-Id")
	if id1 == "" || id1 == id2 {
		t.Errorf("request ids %q %q", id1, id2)
	}
	r := call(t, s, `{}`, func(r *http.Request) { r.Header.Set("X-Request-Id", "abc") })
	if r.header.Get("X-Request-Id") != "abc" || r.err.RequestID != "abc" {
		t.Errorf("caller's request id not echoed: %q %q", r.header.Get("X-Request-Id"), r.err.RequestID)
	}
}

func post(s *testutil.Server, env any) (*http.Response, error) {
	req, _ := http.NewRequest(http.MethodPost, s.URL+proxyPath, bytes.NewReader(mustJSON(env)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Api-Key", s.APIKey)
	return rawClient(s).Do(req)
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
