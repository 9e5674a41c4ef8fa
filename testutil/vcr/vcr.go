package vcr

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"

	"go.yaml.in/yaml/v4"
	"gopkg.in/dnaeon/go-vcr.v4/pkg/cassette"
	"gopkg.in/dnaeon/go-vcr.v4/pkg/recorder"

	"github.com/composiohttp/composiohttp"
	"github.com/composiohttp/composiohttp/credentials"
)

// EnvRecord is the environment variable that picks the mode of recorders
// whose mode is not set with WithMode (see ParseMode).
const EnvRecord = "COMPOSIO_RECORD"

// ReplayAPIKey is the API key Recorder.Transport uses while replaying: the
// proxy is never contacted, so any key will do, and none is needed in the
// environment.
const ReplayAPIKey = "ak_replay"

// DefaultMaxBodySize is the largest response body (a proxy reply or a
// binary_data download) a Recorder records; see WithMaxBodySize.
const DefaultMaxBodySize = 16 << 20

// Mode is a go-vcr recorder mode.
type Mode = recorder.Mode

// The modes, as go-vcr defines them.
const (
	// ModeReplayOnly answers every request from the cassette and never
	// touches the network; a missing cassette or an unmatched request is
	// an error. COMPOSIO_RECORD unset, "", "0" or "replay".
	ModeReplayOnly = recorder.ModeReplayOnly
	// ModeRecordOnly sends every request to the real service and
	// (re)writes the cassette. COMPOSIO_RECORD "1", "true" or "record".
	ModeRecordOnly = recorder.ModeRecordOnly
	// ModeRecordOnce records when the cassette does not exist yet and
	// replays it otherwise. COMPOSIO_RECORD "once".
	ModeRecordOnce = recorder.ModeRecordOnce
	// ModeReplayWithNewEpisodes replays what the cassette has and records
	// what it lacks. COMPOSIO_RECORD "new".
	ModeReplayWithNewEpisodes = recorder.ModeReplayWithNewEpisodes
	// ModePassthrough sends every request to the real service and records
	// nothing. COMPOSIO_RECORD "live" or "passthrough".
	ModePassthrough = recorder.ModePassthrough
)

// ParseMode maps a value of COMPOSIO_RECORD to a mode:
//
//	"", "0", "false", "replay"   ModeReplayOnly (the default: offline)
//	"1", "true", "record"        ModeRecordOnly (re-record everything)
//	"once"                       ModeRecordOnce
//	"new"                        ModeReplayWithNewEpisodes
//	"live", "passthrough"        ModePassthrough (real service, no cassette)
//
// Case and surrounding space are ignored; anything else is an error.
func ParseMode(s string) (Mode, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "0", "false", "replay":
		return ModeReplayOnly, nil
	case "1", "true", "record":
		return ModeRecordOnly, nil
	case "once":
		return ModeRecordOnce, nil
	case "new":
		return ModeReplayWithNewEpisodes, nil
	case "live", "passthrough":
		return ModePassthrough, nil
	}
	return ModeReplayOnly, fmt.Errorf("composiohttp: vcr: %s=%q is not one of replay, record, once, new, live", EnvRecord, s)
}

// ModeFromEnv is ParseMode of $COMPOSIO_RECORD.
func ModeFromEnv() (Mode, error) { return ParseMode(os.Getenv(EnvRecord)) }

// Option configures a Recorder.
type Option func(*config)

type config struct {
	mode         *Mode
	real         http.RoundTripper
	match        []Field
	ignoreParams []string
	matcher      cassette.MatcherFunc
	secrets      []string
	secretParams []string
	volatile     []string
	maxBody      int64
	replayable   bool
	hooks        []hook
}

type hook struct {
	f    recorder.HookFunc
	kind recorder.HookKind
}

// WithMode sets the mode. Default: ModeFromEnv ($COMPOSIO_RECORD).
func WithMode(m Mode) Option { return func(c *config) { c.mode = &m } }

// WithRealTransport sets the RoundTripper that reaches the real service
// when recording or passing through, e.g. a fake proxy's client transport.
// Default: http.DefaultTransport.
func WithRealTransport(rt http.RoundTripper) Option { return func(c *config) { c.real = rt } }

// WithMatch sets the fields a request must share with a recorded one to be
// answered by it. Default: Method, Endpoint, Parameters, Body.
func WithMatch(fields ...Field) Option {
	return func(c *config) { c.match = append([]Field(nil), fields...) }
}

// WithIgnoreParameters leaves the named parameters (headers and query
// values; header names case-insensitive) out of the Parameters
// comparison, e.g. a request id a middleware adds. Default: none.
func WithIgnoreParameters(names ...string) Option {
	return func(c *config) { c.ignoreParams = append(c.ignoreParams, names...) }
}

// WithMatcher replaces the field matcher with a go-vcr matcher. An
// unmatched request's error then still names the closest recorded request
// by the fields of WithMatch. Default: the field matcher.
func WithMatcher(m cassette.MatcherFunc) Option { return func(c *config) { c.matcher = m } }

// WithSecrets registers values that must never reach the cassette: each
// is replaced by "[REDACTED]" wherever it appears (also JSON-escaped),
// in requests and replies. Use it for credentials an upstream may echo,
// such as a connected account's token. Register the same values (or the
// stand-ins a replaying test uses) when replaying, so that requests holding
// them still match. Default: none beyond those the Recorder finds itself
// (see the package documentation).
func WithSecrets(values ...string) Option {
	return func(c *config) { c.secrets = append(c.secrets, values...) }
}

// WithSecretParams adds query or header parameter names whose values are
// scrubbed, beyond credentials.IsSecretParam's (token, key, secret,
// signature, sig, auth, cookie, ...). Default: none.
func WithSecretParams(names ...string) Option {
	return func(c *config) { c.secretParams = append(c.secretParams, names...) }
}

// WithVolatileHeaders adds response header names whose values change from
// run to run and are replaced by a fixed value in the cassette, in the
// proxy's replies and in the upstream headers inside them. Default:
// DefaultVolatileHeaders.
func WithVolatileHeaders(names ...string) Option {
	return func(c *config) { c.volatile = append(c.volatile, names...) }
}

// WithMaxBodySize bounds each response body recorded (proxy replies and
// binary downloads); a larger one fails the request while recording with
// an error naming the limit, rather than filling the cassette. Default:
// DefaultMaxBodySize.
func WithMaxBodySize(n int64) Option { return func(c *config) { c.maxBody = n } }

// WithReplayable lets one recorded interaction answer any number of
// matching requests. Default: false (each answers once, in order).
func WithReplayable(v bool) Option { return func(c *config) { c.replayable = v } }

// WithHook adds a go-vcr hook. BeforeSaveHook hooks run after the
// Recorder's own scrubbing, so they see (and may edit) what is written.
func WithHook(f recorder.HookFunc, kind recorder.HookKind) Option {
	return func(c *config) { c.hooks = append(c.hooks, hook{f, kind}) }
}

// Recorder records the exchanges of a composiohttp.Transport with the
// proxy (envelopes, replies and binary downloads) to a cassette, and
// replays them offline. Use it as the Transport's Base (see Transport). It
// is an http.RoundTripper, safe for concurrent use.
type Recorder struct {
	name  string
	file  string
	mode  Mode
	rec   *recorder.Recorder
	cfg   config
	scrub *scrubber

	loadOnce sync.Once
	loaded   *cassette.Cassette
}

// New opens the cassette name (a path without the ".yaml" suffix, e.g.
// "testdata/issues") in the configured mode. In ModeReplayOnly a missing
// cassette is an error that says how to record it.
func New(name string, opts ...Option) (*Recorder, error) {
	cfg := config{maxBody: DefaultMaxBodySize, real: http.DefaultTransport}
	for _, o := range opts {
		o(&cfg)
	}
	mode := ModeReplayOnly
	if cfg.mode != nil {
		mode = *cfg.mode
	} else {
		m, err := ModeFromEnv()
		if err != nil {
			return nil, err
		}
		mode = m
	}
	if len(cfg.match) == 0 {
		cfg.match = DefaultMatch()
	}
	r := &Recorder{name: name, file: name + ".yaml", mode: mode, cfg: cfg}
	r.scrub = newScrubber(&r.cfg)
	matcher := cfg.matcher
	if matcher == nil {
		matcher = r.fieldMatcher
	}
	real := cfg.real
	if mode != ModePassthrough {
		real = &capTransport{next: real, max: cfg.maxBody}
	}
	vopts := []recorder.Option{
		recorder.WithMode(mode),
		recorder.WithRealTransport(real),
		recorder.WithSkipRequestLatency(true),
		recorder.WithMatcher(matcher),
		recorder.WithReplayableInteractions(cfg.replayable),
		recorder.WithHook(r.scrub.collect, recorder.AfterCaptureHook),
		recorder.WithHook(r.scrub.beforeSave, recorder.BeforeSaveHook),
		recorder.WithMarshalFunc(marshalCassette),
	}
	for _, h := range cfg.hooks {
		vopts = append(vopts, recorder.WithHook(h.f, h.kind))
	}
	rec, err := recorder.New(name, vopts...)
	if errors.Is(err, cassette.ErrCassetteNotFound) {
		return nil, fmt.Errorf("composiohttp: vcr: cassette %s does not exist; record it with %s=1 and COMPOSIO_API_KEY set: %w", r.file, EnvRecord, err)
	}
	if err != nil {
		return nil, fmt.Errorf("composiohttp: vcr: cassette %s: %w", r.file, err)
	}
	r.rec = rec
	return r, nil
}

// Start is New for a test: it fails the test if the cassette cannot be
// opened, and stops the recorder (saving the cassette when recording) when
// the test ends, failing it if saving fails.
func Start(tb testing.TB, name string, opts ...Option) *Recorder {
	tb.Helper()
	r, err := New(name, opts...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := r.Stop(); err != nil {
			tb.Errorf("composiohttp: vcr: saving %s: %v", r.file, err)
		}
	})
	return r
}

// Mode returns the recorder's mode.
func (r *Recorder) Mode() Mode { return r.mode }

// File returns the cassette's file name.
func (r *Recorder) File() string { return r.file }

// Replaying reports whether requests are answered from the cassette
// without touching the network: ModeReplayOnly, or ModeRecordOnce with an
// existing cassette.
func (r *Recorder) Replaying() bool {
	return r.mode == ModeReplayOnly || (r.mode == ModeRecordOnce && !r.rec.IsNewCassette())
}

// Transport returns a composiohttp.Transport whose Base is r. While
// replaying it uses ReplayAPIKey and composiohttp.DefaultBaseURL, so that
// no Composio configuration is needed; otherwise APIKey and BaseURL are
// left empty: $COMPOSIO_API_KEY and $COMPOSIO_BASE_URL apply. Set
// ConnectedAccountID (or Connection) on the result.
func (r *Recorder) Transport() *composiohttp.Transport {
	t := &composiohttp.Transport{Base: r}
	if r.Replaying() || (r.mode == ModeReplayWithNewEpisodes && os.Getenv("COMPOSIO_API_KEY") == "") {
		t.APIKey, t.BaseURL = ReplayAPIKey, composiohttp.DefaultBaseURL
	}
	return t
}

// Stop ends recording and, in the recording modes, scrubs and writes the
// cassette. Call it once, when the requests are done.
func (r *Recorder) Stop() error {
	if r.rec == nil { // built by hand: nothing to stop
		return nil
	}
	return r.rec.Stop()
}

// RoundTrip answers req from the cassette or the real service, per the
// mode. An unmatched request fails with a *MismatchError naming the
// closest recorded request. It never modifies req and always closes its
// body.
func (r *Recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	if r.rec == nil { // built by hand, not by New: no cassette
		if req != nil && req.Body != nil {
			req.Body.Close()
		}
		return nil, fmt.Errorf("composiohttp: vcr: %w", composiohttp.ErrZeroTransport)
	}
	var body []byte
	if req.Body != nil && req.Body != http.NoBody {
		b, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("composiohttp: vcr: reading the request body: %w", err)
		}
		body = b
	}
	if r.mode == ModePassthrough {
		return r.rec.RoundTrip(cloneWithBody(req, req.Context(), body))
	}
	live := r.scrub.callOf(req.Method, req.URL, req.Header, body, true)
	creq := cloneWithBody(req, context.WithValue(req.Context(), callKey{}, live), body)
	resp, err := r.rec.RoundTrip(creq)
	if errors.Is(err, cassette.ErrInteractionNotFound) {
		return nil, r.mismatch(live)
	}
	if err != nil {
		return nil, err
	}
	// The body is the recorded string, in memory: its real length wins
	// over the recorded Content-Length, so that a hand-edited cassette
	// replays what it says.
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(b))
	resp.Header = resp.Header.Clone()
	if resp.ContentLength >= 0 || resp.Header.Get("Content-Length") != "" {
		resp.ContentLength = int64(len(b))
		if resp.Header.Get("Content-Length") != "" {
			resp.Header.Set("Content-Length", strconv.Itoa(len(b)))
		}
	}
	resp.Request = req
	return resp, nil
}

type callKey struct{}

// cloneWithBody returns a copy of req with ctx and an in-memory body.
func cloneWithBody(req *http.Request, ctx context.Context, body []byte) *http.Request {
	c := req.Clone(ctx)
	if body == nil {
		c.Body, c.GetBody, c.ContentLength = http.NoBody, nil, 0
		if req.Body == nil {
			c.Body = nil
		}
		return c
	}
	c.ContentLength = int64(len(body))
	c.Body = io.NopCloser(bytes.NewReader(body))
	c.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	return c
}

// fieldMatcher is the default go-vcr matcher: the configured fields of the
// scrubbed request and of the recorded one are equal.
func (r *Recorder) fieldMatcher(req *http.Request, rec cassette.Request) bool {
	live, ok := req.Context().Value(callKey{}).(*call)
	if !ok {
		var body []byte
		if req.Body != nil {
			body, _ = io.ReadAll(req.Body)
			req.Body = io.NopCloser(bytes.NewReader(body))
		}
		live = r.scrub.callOf(req.Method, req.URL, req.Header, body, true)
	}
	return len(r.diff(r.recordedCall(rec), live)) == 0
}

// capTransport fails responses whose body is over max bytes, so that the
// recorder never holds or writes one.
type capTransport struct {
	next http.RoundTripper
	max  int64
}

func (c *capTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := c.next.RoundTrip(req)
	if err != nil || c.max <= 0 {
		return resp, err
	}
	if resp.ContentLength > c.max {
		resp.Body.Close()
		return nil, c.tooLarge(req, resp.ContentLength)
	}
	resp.Body = &capBody{rc: resp.Body, left: c.max, err: c.tooLarge(req, -1)}
	return resp, nil
}

func (c *capTransport) tooLarge(req *http.Request, n int64) error {
	size := "more than the limit"
	if n >= 0 {
		size = fmt.Sprintf("%d bytes", n)
	}
	return fmt.Errorf("composiohttp: vcr: the response to %s %s is %s; the recorder keeps at most %d bytes (WithMaxBodySize)",
		req.Method, redactedURL(req.URL), size, c.max)
}

// redactedURL is u without user info and secret query and path parameter
// values (credentials.RedactURL).
func redactedURL(u *url.URL) string {
	ru, _ := credentials.RedactURL(u)
	return ru.String()
}

// marshalCassette writes cassettes as YAML.
func marshalCassette(v any) ([]byte, error) { return yaml.Marshal(v) }

type capBody struct {
	rc   io.ReadCloser
	left int64
	err  error
}

func (b *capBody) Read(p []byte) (int, error) {
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	if b.left < 0 {
		return 0, b.err
	}
	return n, err
}

func (b *capBody) Close() error { return b.rc.Close() }
