package vcr_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"gopkg.in/dnaeon/go-vcr.v4/pkg/cassette"

	"github.com/composiohttp/composiohttp"
	"github.com/composiohttp/composiohttp/testutil"
	"github.com/composiohttp/composiohttp/testutil/vcr"
)

// record records the given requests through a fresh fake into the
// cassette name.
func record(t *testing.T, name string, reqs ...*http.Request) {
	t.Helper()
	recordThrough(t, name, func(_ *testutil.Server, tr *composiohttp.Transport) {
		for _, req := range reqs {
			resp, err := tr.RoundTrip(req)
			if err != nil {
				t.Fatalf("recording %s %s: %v", req.Method, req.URL, err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	})
}

func newReq(method, url, body string, header ...string) *http.Request {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	r, _ := http.NewRequest(method, url, rd)
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Add(header[i], header[i+1])
	}
	return r
}

// replayOne replays req against the cassette name and returns the error.
func replayOne(t *testing.T, name string, req *http.Request, opts ...vcr.Option) error {
	t.Helper()
	rec, err := vcr.New(name, append([]vcr.Option{vcr.WithMode(vcr.ModeReplayOnly), vcr.WithRealTransport(failingTransport{})}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Stop()
	tr := rec.Transport()
	tr.ConnectedAccountID = "ca_api"
	resp, err := tr.RoundTrip(req)
	if err == nil {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	return err
}

func TestUnmatchedRequestNamesTheClosestRecordedOne(t *testing.T) {
	t.Parallel()
	name := filepath.Join(t.TempDir(), "match")
	record(t, name,
		newReq("GET", "https://api.example.com/json?tag=a&tag=b", "", "Accept", "application/json"),
		newReq("POST", "https://api.example.com/echo", `{"x":1}`, "Content-Type", "application/json"),
		newReq("GET", "https://api.example.com/text", ""),
	)
	tests := []struct {
		name    string
		req     *http.Request
		closest int
		want    []string // lines of the message
	}{
		{"query value changed", newReq("GET", "https://api.example.com/json?tag=a&tag=c", "", "Accept", "application/json"), 0,
			[]string{`parameters: query tag recorded ["a" "b"], request has ["a" "c"]`}},
		{"header added", newReq("GET", "https://api.example.com/json?tag=a&tag=b", "", "Accept", "application/json", "X-Trace", "t1"), 0,
			[]string{`parameters: header X-Trace=["t1"] in the request, not recorded`}},
		{"header missing", newReq("GET", "https://api.example.com/json?tag=a&tag=b", ""), 0,
			[]string{`parameters: header Accept recorded ["application/json"], missing from the request`}},
		{"json body changed", newReq("POST", "https://api.example.com/echo", `{"x":2}`, "Content-Type", "application/json"), 1,
			[]string{`body: recorded json sha256:`, `recorded: {"x":1}`, `request:  {"x":2}`}},
		{"endpoint changed", newReq("GET", "https://api.example.com/texts", ""), 2,
			[]string{`endpoint: recorded "https://api.example.com/text", request has "https://api.example.com/texts"`}},
		{"method changed", newReq("DELETE", "https://api.example.com/text", ""), 2,
			[]string{`method: recorded "GET", request has "DELETE"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := replayOne(t, name, tt.req)
			if !errors.Is(err, cassette.ErrInteractionNotFound) {
				t.Fatalf("err = %v, want ErrInteractionNotFound", err)
			}
			var me *vcr.MismatchError
			if !errors.As(err, &me) {
				t.Fatalf("err = %T, want *vcr.MismatchError", err)
			}
			if me.Closest != tt.closest {
				t.Errorf("closest = %d, want %d\n%v", me.Closest, tt.closest, err)
			}
			msg := err.Error()
			for _, w := range append(tt.want, "closest is interaction", "COMPOSIO_RECORD=1") {
				if !strings.Contains(msg, w) {
					t.Errorf("message lacks %q:\n%s", w, msg)
				}
			}
			t.Logf("%s", msg)
		})
	}
}

func TestMatchingIsConfigurable(t *testing.T) {
	t.Parallel()
	name := filepath.Join(t.TempDir(), "config")
	record(t, name, newReq("GET", "https://api.example.com/json?tag=a", "", "X-Trace", "t1"))
	tests := []struct {
		name string
		req  *http.Request
		opts []vcr.Option
		ok   bool
	}{
		{"default: same request", newReq("GET", "https://api.example.com/json?tag=a", "", "X-Trace", "t1"), nil, true},
		{"default: other trace id", newReq("GET", "https://api.example.com/json?tag=a", "", "X-Trace", "t2"), nil, false},
		{"ignored parameter", newReq("GET", "https://api.example.com/json?tag=a", "", "X-Trace", "t2"),
			[]vcr.Option{vcr.WithIgnoreParameters("x-trace")}, true},
		{"method and endpoint only", newReq("GET", "https://api.example.com/json?tag=z", ""),
			[]vcr.Option{vcr.WithMatch(vcr.Method, vcr.Endpoint)}, true},
		{"account compared", newReq("GET", "https://api.example.com/json?tag=a", "", "X-Trace", "t1"),
			[]vcr.Option{vcr.WithMatch(vcr.Method, vcr.Endpoint, vcr.Account)}, true},
		{"custom matcher", newReq("GET", "https://api.example.com/other", ""),
			[]vcr.Option{vcr.WithMatcher(func(*http.Request, cassette.Request) bool { return true })}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := replayOne(t, name, tt.req, tt.opts...)
			if (err == nil) != tt.ok {
				t.Errorf("err = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

func TestEachInteractionAnswersOnceUnlessReplayable(t *testing.T) {
	t.Parallel()
	name := filepath.Join(t.TempDir(), "once")
	record(t, name, newReq("GET", "https://api.example.com/text", ""))
	for _, replayable := range []bool{false, true} {
		rec, err := vcr.New(name, vcr.WithMode(vcr.ModeReplayOnly), vcr.WithReplayable(replayable))
		if err != nil {
			t.Fatal(err)
		}
		tr := rec.Transport()
		tr.ConnectedAccountID = "ca_api"
		for i := range 2 {
			resp, err := tr.RoundTrip(newReq("GET", "https://api.example.com/text", ""))
			switch {
			case i == 0 || replayable:
				if err != nil {
					t.Fatalf("replayable=%v, request %d: %v", replayable, i, err)
				}
				resp.Body.Close()
			default:
				var me *vcr.MismatchError
				if !errors.As(err, &me) || !me.AlreadyReplayed || !strings.Contains(err.Error(), "already replayed") {
					t.Errorf("second request: err = %v, want an already-replayed MismatchError", err)
				}
			}
		}
		rec.Stop()
	}
}

func TestCassettesAreStableAcrossRuns(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var files [2][]byte
	for i := range files {
		name := filepath.Join(dir, "run"+string(rune('0'+i)))
		// a new fake each run: a new port, API key and signing key
		recordThrough(t, name, func(_ *testutil.Server, tr *composiohttp.Transport) { run(t, tr) })
		var err error
		if files[i], err = os.ReadFile(name + ".yaml"); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(files[0], files[1]) {
		a, b := strings.Split(string(files[0]), "\n"), strings.Split(string(files[1]), "\n")
		for i := range min(len(a), len(b)) {
			if a[i] != b[i] {
				t.Fatalf("two recordings differ at line %d:\n%s\n%s", i+1, a[i], b[i])
			}
		}
		t.Fatalf("two recordings differ in length: %d and %d lines", len(a), len(b))
	}
}

func TestBodiesOverTheLimitAreNotRecorded(t *testing.T) {
	t.Parallel()
	srv := newFake(t)
	rec, err := vcr.New(filepath.Join(t.TempDir(), "cap"), vcr.WithMode(vcr.ModeRecordOnly),
		vcr.WithRealTransport(srv.Transport().Base), vcr.WithMaxBodySize(1000))
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Stop()
	tr := srv.Transport()
	tr.Base, tr.ConnectedAccountID = rec, "ca_api"
	resp, err := tr.RoundTrip(newReq("GET", "https://api.example.com/file", ""))
	if err != nil {
		t.Fatal(err) // the reply itself is small
	}
	defer resp.Body.Close()
	_, err = io.ReadAll(resp.Body)
	var be *composiohttp.BinaryError
	if !errors.As(err, &be) || !strings.Contains(err.Error(), "WithMaxBodySize") || !strings.Contains(err.Error(), "sig=[REDACTED]") {
		t.Errorf("reading a 4096-byte download with a 1000-byte limit: %v", err)
	}
}

func TestModes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		env  string
		want vcr.Mode
		err  bool
	}{
		{"", vcr.ModeReplayOnly, false},
		{"0", vcr.ModeReplayOnly, false},
		{"replay", vcr.ModeReplayOnly, false},
		{"1", vcr.ModeRecordOnly, false},
		{" TRUE ", vcr.ModeRecordOnly, false},
		{"record", vcr.ModeRecordOnly, false},
		{"once", vcr.ModeRecordOnce, false},
		{"new", vcr.ModeReplayWithNewEpisodes, false},
		{"live", vcr.ModePassthrough, false},
		{"passthrough", vcr.ModePassthrough, false},
		{"yes please", vcr.ModeReplayOnly, true},
	}
	for _, tt := range tests {
		got, err := vcr.ParseMode(tt.env)
		if got != tt.want || (err != nil) != tt.err {
			t.Errorf("ParseMode(%q) = %v, %v; want %v, error %v", tt.env, got, err, tt.want, tt.err)
		}
	}
}

func TestMissingCassetteSaysHowToRecord(t *testing.T) {
	t.Parallel()
	_, err := vcr.New(filepath.Join(t.TempDir(), "absent"), vcr.WithMode(vcr.ModeReplayOnly))
	if !errors.Is(err, cassette.ErrCassetteNotFound) || !strings.Contains(err.Error(), "COMPOSIO_RECORD=1") {
		t.Errorf("err = %v", err)
	}
}

func TestReplayTransportNeedsNoConfiguration(t *testing.T) {
	t.Parallel()
	name := filepath.Join(t.TempDir(), "t")
	record(t, name, newReq("GET", "https://api.example.com/text", ""))
	rec, err := vcr.New(name, vcr.WithMode(vcr.ModeReplayOnly))
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Stop()
	tr := rec.Transport()
	if !rec.Replaying() || tr.APIKey != vcr.ReplayAPIKey || tr.BaseURL != composiohttp.DefaultBaseURL || tr.Base != rec {
		t.Errorf("Replaying %v, Transport %+v", rec.Replaying(), tr)
	}
	rec2, err := vcr.New(filepath.Join(t.TempDir(), "new"), vcr.WithMode(vcr.ModeRecordOnly))
	if err != nil {
		t.Fatal(err)
	}
	if tr := rec2.Transport(); rec2.Replaying() || tr.APIKey != "" || tr.BaseURL != "" {
		t.Errorf("recording: Replaying %v, APIKey %q, BaseURL %q", rec2.Replaying(), tr.APIKey, tr.BaseURL)
	}
}

func TestHandEditedCassetteReplaysWhatItSays(t *testing.T) {
	t.Parallel()
	name := filepath.Join(t.TempDir(), "edit")
	record(t, name, newReq("GET", "https://api.example.com/json?tag=a", ""), newReq("GET", "https://api.example.com/file", ""))
	file, err := os.ReadFile(name + ".yaml")
	if err != nil {
		t.Fatal(err)
	}
	// A reviewer changes a value (the length changes) and a query value.
	edited := strings.Replace(string(file), `"tags":["a"]`, `"tags":["a","edited by hand"]`, 1)
	edited = strings.Replace(edited, `"value":"a","type":"query"`, `"value":"z","type":"query"`, 1)
	if edited == string(file) {
		t.Fatal("nothing to edit in the cassette")
	}
	if err := os.WriteFile(name+".yaml", []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	rec, err := vcr.New(name, vcr.WithMode(vcr.ModeReplayOnly), vcr.WithRealTransport(failingTransport{}))
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Stop()
	tr := rec.Transport()
	tr.ConnectedAccountID = "ca_api"
	for _, tc := range []struct{ url, want string }{
		{"https://api.example.com/json?tag=z", `"tags":["a","edited by hand"]`},
		{"https://api.example.com/file", string(binaryFile)},
	} {
		resp, err := tr.RoundTrip(newReq("GET", tc.url, ""))
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || !strings.Contains(string(body), tc.want) {
			t.Errorf("%s: %v, body %q", tc.url, err, body)
		}
	}
}

func TestConcurrentRecordAndReplay(t *testing.T) {
	t.Parallel()
	name := filepath.Join(t.TempDir(), "concurrent")
	srv := newFake(t)
	rec, err := vcr.New(name, vcr.WithMode(vcr.ModeRecordOnly), vcr.WithRealTransport(srv.Transport().Base))
	if err != nil {
		t.Fatal(err)
	}
	const n = 8
	roundTrips := func(tr http.RoundTripper) []string {
		out := make([]string, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				resp, err := tr.RoundTrip(newReq("GET", fmt.Sprintf("https://api.example.com/json?tag=%d", i), ""))
				if err != nil {
					out[i] = err.Error()
					return
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				out[i] = string(b)
			})
		}
		wg.Wait()
		return out
	}
	tr := srv.Transport()
	tr.Base, tr.ConnectedAccountID = rec, "ca_api"
	recorded := roundTrips(tr)
	if err := rec.Stop(); err != nil {
		t.Fatal(err)
	}
	replay, err := vcr.New(name, vcr.WithMode(vcr.ModeReplayOnly), vcr.WithRealTransport(failingTransport{}))
	if err != nil {
		t.Fatal(err)
	}
	defer replay.Stop()
	rtr := replay.Transport()
	rtr.ConnectedAccountID = "ca_api"
	replayed := roundTrips(rtr)
	for i := range n {
		if want := fmt.Sprintf(`"tags":["%d"]`, i); !strings.Contains(recorded[i], want) || replayed[i] != recorded[i] {
			t.Errorf("request %d: recorded %q, replayed %q", i, recorded[i], replayed[i])
		}
	}
}

// TestUploadByURLIsStableAndReplays: a body over the inline limit goes
// through Transport.Upload (the fake's signed URLs: a random id, a port
// and an expiry that change every run); its cassette is the same each
// run, and replays with an upload URL minted anew.
func TestUploadByURLIsStableAndReplays(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	big := bytes.Repeat([]byte{0xAB}, composiohttp.MaxInlineBody+1)
	upload := func(tr *composiohttp.Transport) string {
		t.Helper()
		req := newReq("PUT", "https://api.example.com/echo", "", "Content-Type", "application/octet-stream")
		req.Body, req.ContentLength = io.NopCloser(bytes.NewReader(big)), int64(len(big))
		resp, err := tr.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprintf("%d %d bytes sha %x", resp.StatusCode, len(b), b[:8])
	}
	var files [2][]byte
	var recorded string
	for i := range files {
		name := filepath.Join(dir, fmt.Sprint("upload", i))
		recordThrough(t, name, func(srv *testutil.Server, tr *composiohttp.Transport) {
			tr.Upload = srv.Upload
			recorded = upload(tr)
		})
		var err error
		if files[i], err = os.ReadFile(name + ".yaml"); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(files[0], files[1]) {
		// Report the first line that differs, or where one recording ends.
		a, b := strings.Split(string(files[0]), "\n"), strings.Split(string(files[1]), "\n")
		i := 0
		for i < min(len(a), len(b)) && a[i] == b[i] {
			i++
		}
		lineOf := func(l []string) string {
			if i < len(l) {
				return l[i]
			}
			return "(end of the recording)"
		}
		t.Errorf("two recordings of the same upload differ at line %d:\n%.300s\n%.300s", i+1, lineOf(a), lineOf(b))
	}
	if bytes.Contains(files[0], []byte("sig=")) && !bytes.Contains(files[0], []byte("sig="+vcr.RedactedParam)) {
		t.Error("the upload URL's signature is in the cassette")
	}
	replay, err := vcr.New(filepath.Join(dir, "upload0"), vcr.WithMode(vcr.ModeReplayOnly), vcr.WithRealTransport(failingTransport{}))
	if err != nil {
		t.Fatal(err)
	}
	defer replay.Stop()
	rtr := replay.Transport()
	rtr.ConnectedAccountID = "ca_api"
	rtr.Upload = func(ctx context.Context, body io.Reader, size int64, ct string) (string, error) {
		_, err := io.Copy(io.Discard, body)
		return "http://127.0.0.1:9/binary/other?exp=1&sig=minted-now", err
	}
	if got := upload(rtr); got != recorded {
		t.Errorf("replayed %s, recorded %s", got, recorded)
	}
}
