package composiohttp_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/composiohttp/composiohttp"
	"github.com/composiohttp/composiohttp/credentials"
)

// wrapper is a middleware that exposes what it wraps.
type wrapper struct{ next http.RoundTripper }

func (w wrapper) RoundTrip(req *http.Request) (*http.Response, error) { return w.next.RoundTrip(req) }
func (w wrapper) Unwrap() http.RoundTripper                           { return w.next }

// loop unwraps to itself.
type loop struct{}

func (loop) RoundTrip(*http.Request) (*http.Response, error) { return nil, http.ErrNotSupported }
func (l loop) Unwrap() http.RoundTripper                     { return l }

func TestTransportIdentity(t *testing.T) {
	t.Parallel()
	conn := &credentials.Connection{AuthScheme: credentials.BearerToken, ToolkitSlug: "stripe", Val: credentials.Val{Token: "sk_secret"}}
	bg := context.Background()
	tests := []struct {
		name string
		rt   http.RoundTripper
		want string // "" or the Identity of this context
		ctx  context.Context
	}{
		{name: "account", rt: &composiohttp.Transport{ConnectedAccountID: "ca_1"}, ctx: composiohttp.WithConnectedAccount(bg, "ca_1")},
		{name: "account, wrapped twice", rt: wrapper{wrapper{&composiohttp.Transport{ConnectedAccountID: "ca_2"}}}, ctx: composiohttp.WithConnectedAccount(bg, "ca_2")},
		{name: "connection wins over account", rt: &composiohttp.Transport{Connection: conn, ConnectedAccountID: "ca_1"}, ctx: composiohttp.WithConnection(bg, conn)},
		{name: "session", rt: &composiohttp.Transport{SessionID: "s 1", UserID: "u"}, ctx: composiohttp.WithSession(bg, "s 1")},
		{name: "user", rt: &composiohttp.Transport{UserID: "alice"}, ctx: composiohttp.WithUser(bg, "alice")},
		{name: "nobody", rt: &composiohttp.Transport{}},
		{name: "nil Transport", rt: (*composiohttp.Transport)(nil)},
		{name: "not a Transport", rt: http.DefaultTransport},
		{name: "nil", rt: nil},
		{name: "Unwrap loop", rt: loop{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			want := ""
			if tc.ctx != nil {
				want = composiohttp.Identity(tc.ctx)
				if want == "" {
					t.Fatal("the context selects nobody")
				}
			}
			if got := composiohttp.TransportIdentity(tc.rt); got != want {
				t.Errorf("TransportIdentity = %q, want %q", got, want)
			}
		})
	}
}

// A middleware that keys by tenant uses the wrapped Transport's identity
// for requests whose context selects no account.
func ExampleTransportIdentity() {
	tr := &composiohttp.Transport{ConnectedAccountID: "ca_alice"}
	own := composiohttp.TransportIdentity(tr) // once, when the middleware is built

	key := func(req *http.Request) string {
		if id := composiohttp.Identity(req.Context()); id != "" {
			return id
		}
		return own
	}
	req, _ := http.NewRequest("GET", "https://api.github.com/user", nil)
	fmt.Println(key(req))
	req = req.WithContext(composiohttp.WithConnectedAccount(req.Context(), "ca_bob"))
	fmt.Println(key(req))
	// Output:
	// account:ca_alice
	// account:ca_bob
}
