package testutil_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/composiohttp/composiohttp/credentials"
	"github.com/composiohttp/composiohttp/testutil"
)

// logServer is a fake with one in-process account "ca" that answers 200.
func logServer(t *testing.T, opts ...testutil.Option) *testutil.Server {
	t.Helper()
	s := testutil.NewServer(t, opts...)
	s.AddAccount(testutil.Account{ID: "ca", AuthScheme: credentials.NoAuth,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})})
	return s
}

// callPad makes one proxy call for "ca" to endpoint with a JSON body of
// about pad bytes.
func callPad(t *testing.T, s *testutil.Server, endpoint string, pad int) {
	t.Helper()
	r := call(t, s, `{"connected_account_id":"ca","endpoint":"`+endpoint+`","method":"POST","body":{"pad":"`+strings.Repeat("x", pad)+`"}}`)
	if r.status != http.StatusOK {
		t.Fatalf("%s: status %d: %s", endpoint, r.status, r.body)
	}
}

func endpoints(s *testutil.Server) []string {
	var out []string
	for _, r := range s.Requests() {
		out = append(out, r.Envelope.Endpoint)
	}
	return out
}

// TestRequestLogBounds: the logs keep at most WithRequestLog's entries and
// bytes, drop the oldest first and count what they dropped.
func TestRequestLogBounds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name           string
		entries        int
		bytes          int64
		calls, pad     int
		want           []string // endpoints kept
		wantDropped    int
		wantCallsKept  int
		wantCallsDrops int
	}{
		{"count", 3, 1 << 20, 5, 10, []string{"/2", "/3", "/4"}, 2, 3, 2},
		// Each entry holds at least 16 KiB: two fit in 40 KiB, three do not.
		{"bytes", 100, 40 << 10, 5, 16 << 10, []string{"/3", "/4"}, 3, 2, 3},
		// An entry larger than the bound on its own is not kept.
		{"larger than the bound", 100, 8 << 10, 2, 16 << 10, nil, 2, 0, 2},
		{"no log", 0, 0, 3, 10, nil, 3, 0, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := logServer(t, testutil.WithRequestLog(tt.entries, tt.bytes))
			for i := range tt.calls {
				callPad(t, s, fmt.Sprintf("/%d", i), tt.pad)
			}
			if got := endpoints(s); !slices.Equal(got, tt.want) {
				t.Errorf("kept %q, want %q", got, tt.want)
			}
			d := s.Dropped()
			if d.Requests != tt.wantDropped {
				t.Errorf("Dropped().Requests = %d, want %d", d.Requests, tt.wantDropped)
			}
			if n := len(s.Calls("", "/")); n != tt.wantCallsKept || d.Calls != tt.wantCallsDrops {
				t.Errorf("calls: kept %d, dropped %d; want %d, %d", n, d.Calls, tt.wantCallsKept, tt.wantCallsDrops)
			}
		})
	}
}

// TestRequestLogBoundsOtherLogs: downloads and account listings are
// bounded alike.
func TestRequestLogBoundsOtherLogs(t *testing.T) {
	t.Parallel()
	s := logServer(t, testutil.WithRequestLog(2, 1<<20))
	for i := range 3 {
		if status, _ := api(t, s, http.MethodGet, fmt.Sprintf("/api/v3.1/connected_accounts?user_ids=u%d", i), ""); status != 200 {
			t.Fatalf("listing: %d", status)
		}
		res, err := http.Get(s.URL + fmt.Sprintf("/binary/b%d?exp=1&sig=x", i))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
	}
	var users, ids []string
	for _, l := range s.AccountListings() {
		users = append(users, l.Query.Get("user_ids"))
	}
	for _, d := range s.Downloads() {
		ids = append(ids, d.ID)
	}
	if !slices.Equal(users, []string{"u1", "u2"}) || !slices.Equal(ids, []string{"b1", "b2"}) {
		t.Errorf("kept listings %q, downloads %q", users, ids)
	}
	if d := s.Dropped(); d.AccountListings != 1 || d.Downloads != 1 {
		t.Errorf("Dropped() = %+v", d)
	}
}

// TestResetRecorded clears the logs and their drop counts, and nothing
// else: accounts and faults stay.
func TestResetRecorded(t *testing.T) {
	t.Parallel()
	s := logServer(t, testutil.WithRequestLog(1, 1<<20))
	callPad(t, s, "/a", 1)
	callPad(t, s, "/b", 1)
	api(t, s, http.MethodGet, "/api/v3.1/connected_accounts", "")
	if len(s.Requests()) != 1 || s.Dropped().Requests != 1 || len(s.Calls("", "/")) != 1 || len(s.AccountListings()) != 1 {
		t.Fatalf("before: %d requests, %+v", len(s.Requests()), s.Dropped())
	}
	s.Inject(testutil.Fault{Status: 503, Account: "ca"})
	s.ResetRecorded()
	if len(s.Requests()) != 0 || len(s.Calls("", "/")) != 0 || len(s.AccountListings()) != 0 || s.Dropped() != (testutil.LogDrops{}) {
		t.Errorf("after ResetRecorded: %d requests, %d calls, %+v", len(s.Requests()), len(s.Calls("", "/")), s.Dropped())
	}
	if r := call(t, s, `{"connected_account_id":"ca","endpoint":"/c","method":"GET"}`); r.status != 503 {
		t.Errorf("the fault did not survive ResetRecorded: %d", r.status)
	}
	s.Reset()
	if r := call(t, s, `{"connected_account_id":"ca","endpoint":"/c","method":"GET"}`); r.status != 200 {
		t.Errorf("the account did not survive Reset: %d", r.status)
	}
}
