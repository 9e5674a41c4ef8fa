package otelproxy

import (
	"net/http"
	"testing"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// The middleware knows otelhttp's client Labeler key (else otelhttp adds a
// Labeler and a context node of its own to every call: correct, but two
// allocations more).
func TestClientLabelerKeyKnown(t *testing.T) {
	if clientLabelerKey == nil {
		t.Error("otelhttp's client Labeler key was not found")
	}
}

// TestLabelerLookedUpOnceAbove: what the reuse of the Labeler holding
// network.peer.address relies on (see call.labeler). otelhttp looks the
// client Labeler up once, before the layers below run; the call's node
// answers with a Labeler holding network.peer.address; a lookup from
// below is noted, and such a Labeler is not put back for reuse.
func TestLabelerLookedUpOnceAbove(t *testing.T) {
	t.Parallel()
	for _, lookBelow := range []bool{false, true} {
		var c *call
		var lookups int32
		var got []attribute.KeyValue
		next := roundTripFunc(func(r *http.Request) (*http.Response, error) {
			c, _ = r.Context().Value(callKey{}).(*call)
			if c == nil {
				t.Fatal("no call node below")
			}
			lookups = c.looks.Load() &^ lookedBelow
			if lookBelow {
				l, _ := otelhttp.ClientLabelerFromContext(r.Context())
				got = l.Get()
			}
			return &http.Response{StatusCode: 200, Header: http.Header{}, Body: http.NoBody, Request: r}, nil
		})
		tp := sdktrace.NewTracerProvider()
		rt := New(next, WithTracerProvider(tp), WithProxyAddress("proxy.test"))
		req, _ := http.NewRequest(http.MethodGet, "https://api.github.com/user", nil)
		resp, err := rt.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if !c.usePool || lookups != 1 {
			t.Errorf("before the layers below: pooled %v, %d lookups; want pooled, 1 lookup (otelhttp's)", c.usePool, lookups)
		}
		if lookBelow {
			if len(got) != 1 || got[0] != AttrNetworkPeerAddr.String("proxy.test") {
				t.Errorf("Labeler below holds %v, want network.peer.address=proxy.test", got)
			}
			if c.looks.Load()&^lookedBelow != 3 || c.pooled.Load() == nil {
				t.Error("a Labeler looked up from below was released for reuse")
			}
		} else if c.pooled.Load() != nil {
			t.Error("a Labeler only otelhttp saw was not released for reuse")
		}
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
