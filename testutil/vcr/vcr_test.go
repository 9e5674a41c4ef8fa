package vcr_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/composiohttp/composiohttp"
	"github.com/composiohttp/composiohttp/credentials"
	"github.com/composiohttp/composiohttp/testutil"
	"github.com/composiohttp/composiohttp/testutil/vcr"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// binaryFile is what the upstream serves at /file: every byte value.
var binaryFile = func() []byte {
	b := make([]byte, 4096)
	for i := range b {
		b[i] = byte(i * 7)
	}
	return b
}()

// upstream is an in-process API with JSON, text, binary, error and echo
// replies.
func upstream() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Add("Link", `<https://api.example.com/json?page=2>; rel="next"`)
		w.Header().Add("Link", `<https://api.example.com/json?page=9>; rel="last"`)
		tags, _ := json.Marshal(r.URL.Query()["tag"])
		fmt.Fprintf(w, `{"ok":true,"zero":0,"no":false,"empty":{},"tags":%s}`, tags)
	})
	mux.HandleFunc("POST /echo", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", r.Header.Get("Content-Type"))
		w.WriteHeader(http.StatusCreated)
		io.Copy(w, r.Body)
	})
	mux.HandleFunc("GET /text", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "hello, \"world\"\n")
	})
	mux.HandleFunc("GET /file", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Write(binaryFile)
	})
	mux.HandleFunc("GET /missing", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `{"message":"Not Found"}`)
	})
	return mux
}

// exchange is one request of the round trip and what came back.
type exchange struct {
	name   string
	req    func() *http.Request
	status int
	header http.Header
	body   []byte
	err    string
}

func requests() []exchange {
	get := func(path string) func() *http.Request {
		return func() *http.Request {
			r, _ := http.NewRequest(http.MethodGet, "https://api.example.com"+path, nil)
			return r
		}
	}
	return []exchange{
		{name: "json with repeated query values", req: get("/json?tag=a&tag=b")},
		{name: "json body with falsy fields", req: func() *http.Request {
			r, _ := http.NewRequest(http.MethodPost, "https://api.example.com/echo", strings.NewReader(`{"a":false,"b":0,"c":{},"d":null,"e":""}`))
			r.Header.Set("Content-Type", "application/json")
			return r
		}},
		{name: "binary upload", req: func() *http.Request {
			r, _ := http.NewRequest(http.MethodPost, "https://api.example.com/echo", bytes.NewReader([]byte{0, 1, 2, 255}))
			r.Header.Set("Content-Type", "application/octet-stream")
			return r
		}},
		{name: "text", req: get("/text")},
		{name: "binary download", req: get("/file")},
		{name: "upstream 404 inside a 200", req: get("/missing")},
		{name: "head", req: func() *http.Request {
			r, _ := http.NewRequest(http.MethodHead, "https://api.example.com/json", nil)
			return r
		}},
		{name: "unknown account", req: func() *http.Request {
			r, _ := http.NewRequest(http.MethodGet, "https://api.example.com/json", nil)
			return r.WithContext(composiohttp.WithConnectedAccount(context.Background(), "ca_missing"))
		}},
	}
}

// run sends every request through tr and records what came back.
func run(t *testing.T, tr http.RoundTripper) []exchange {
	t.Helper()
	client := &http.Client{Transport: tr}
	out := requests()
	for i := range out {
		e := &out[i]
		resp, err := client.Do(e.req())
		if err != nil {
			e.err = errorSummary(err)
			continue
		}
		e.status, e.header = resp.StatusCode, resp.Header
		e.body, err = io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatalf("%s: reading the body: %v", e.name, err)
		}
	}
	return out
}

// errorSummary is what stays the same of a proxy error between recording
// and replay (the request id is normalised).
func errorSummary(err error) string {
	var pe *composiohttp.Error
	if errors.As(err, &pe) {
		return fmt.Sprintf("proxy error %d %s: %s", pe.StatusCode, pe.Slug, pe.Message)
	}
	return err.Error()
}

// failingTransport fails every request: replay must not touch the network.
type failingTransport struct{}

func (failingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		r.Body.Close()
	}
	return nil, errors.New("network used during replay")
}

// recordThrough records into the cassette name what use sends with a
// Transport for account ca_api of a fresh fake (newFake), through the
// recorder, and returns the fake.
func recordThrough(t *testing.T, name string, use func(srv *testutil.Server, tr *composiohttp.Transport)) *testutil.Server {
	t.Helper()
	srv := newFake(t)
	rec, err := vcr.New(name, vcr.WithMode(vcr.ModeRecordOnly), vcr.WithRealTransport(srv.Transport().Base))
	if err != nil {
		t.Fatal(err)
	}
	tr := srv.Transport()
	tr.Base, tr.ConnectedAccountID = rec, "ca_api"
	use(srv, tr)
	if err := rec.Stop(); err != nil {
		t.Fatal(err)
	}
	return srv
}

func newFake(t testing.TB, opts ...testutil.Option) *testutil.Server {
	srv := testutil.NewServer(t, opts...)
	srv.AddAccount(testutil.Account{
		ID: "ca_api", AuthScheme: credentials.BearerToken,
		Val:     credentials.Val{Token: "upstream_token_123"},
		Handler: upstream(),
	})
	return srv
}

func TestRecordReplayRoundTripThroughTheFake(t *testing.T) {
	t.Parallel()
	name := filepath.Join(t.TempDir(), "roundtrip")

	var recorded []exchange
	srv := recordThrough(t, name, func(_ *testutil.Server, tr *composiohttp.Transport) { recorded = run(t, tr) })
	if len(srv.Downloads()) != 2 { // the binary upload echoed, and the file
		t.Fatalf("the fake served %d downloads while recording, want 2", len(srv.Downloads()))
	}
	srv.Close() // the fake is gone

	replay, err := vcr.New(name, vcr.WithMode(vcr.ModeReplayOnly), vcr.WithRealTransport(failingTransport{}))
	if err != nil {
		t.Fatal(err)
	}
	defer replay.Stop()
	rtr := &composiohttp.Transport{
		APIKey: vcr.ReplayAPIKey, BaseURL: "http://127.0.0.1:1", // nothing listens there
		ConnectedAccountID: "ca_api", Base: replay,
	}
	replayed := run(t, rtr)

	for i, want := range recorded {
		got := replayed[i]
		if got.err != want.err || got.status != want.status {
			t.Errorf("%s: replay gave %d %q, recording %d %q", want.name, got.status, got.err, want.status, want.err)
		}
		if !bytes.Equal(got.body, want.body) {
			t.Errorf("%s: replayed body differs:\n got %q\nwant %q", want.name, got.body, want.body)
		}
		if fmt.Sprint(got.header) != fmt.Sprint(want.header) {
			t.Errorf("%s: replayed headers differ:\n got %v\nwant %v", want.name, got.header, want.header)
		}
	}
	// The requests reached the upstream and their answers are the ones expected.
	byName := map[string]exchange{}
	for _, e := range recorded {
		byName[e.name] = e
	}
	for name, check := range map[string]func(e exchange) bool{
		"json with repeated query values": func(e exchange) bool {
			return string(e.body) == `{"ok":true,"zero":0,"no":false,"empty":{},"tags":["a","b"]}` && len(e.header["Link"]) >= 1
		},
		"json body with falsy fields": func(e exchange) bool { return string(e.body) == `{"a":false,"b":0,"c":{},"d":null,"e":""}` },
		"binary upload":               func(e exchange) bool { return bytes.Equal(e.body, []byte{0, 1, 2, 255}) },
		"text":                        func(e exchange) bool { return string(e.body) == "hello, \"world\"\n" },
		"binary download":             func(e exchange) bool { return bytes.Equal(e.body, binaryFile) },
		"upstream 404 inside a 200":   func(e exchange) bool { return e.status == http.StatusNotFound },
		"head":                        func(e exchange) bool { return e.status == http.StatusOK && len(e.body) == 0 },
		"unknown account":             func(e exchange) bool { return strings.Contains(e.err, "404") },
	} {
		if e := byName[name]; !check(e) {
			t.Errorf("%s: recorded %d %q %q", name, e.status, e.err, e.body)
		}
	}
}
