package redactcheck_test

import (
	"errors"
	"go/ast"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/composiohttp/composiohttp"
	"github.com/composiohttp/composiohttp/middleware/breaker"
	"github.com/composiohttp/composiohttp/middleware/cache"
	"github.com/composiohttp/composiohttp/middleware/logging"
	"github.com/composiohttp/composiohttp/middleware/otelproxy"
	"github.com/composiohttp/composiohttp/middleware/ratelimit"
	"github.com/composiohttp/composiohttp/middleware/retry"
	"github.com/composiohttp/composiohttp/middleware/sdktoken"
	"github.com/composiohttp/composiohttp/schemes"
	"github.com/composiohttp/composiohttp/testutil/vcr"
)

// zeroRT is the zero value of an exported http.RoundTripper type, or why
// it is not probed.
type zeroRT struct {
	rt   http.RoundTripper
	want error // what its RoundTrip returns (errors.Is)
	why  string
}

// zeroRoundTrippers holds every exported http.RoundTripper type of the
// module (a type with a RoundTrip method), keyed as registry is. Their
// zero values are documented as not usable, but a caller may build one by
// hand (&retry.Transport{}): its RoundTrip must then refuse the call with
// an error and close the request's body, not panic.
var zeroRoundTrippers = map[string]zeroRT{
	"./Transport":                    {why: "its zero value reads COMPOSIO_API_KEY and COMPOSIO_BASE_URL and calls Composio (its own tests cover it)"},
	"schemes/Transport":              {rt: &schemes.Transport{}, want: composiohttp.ErrNoAuthContext},
	"middleware/breaker/Transport":   {rt: &breaker.Transport{}, want: composiohttp.ErrZeroTransport},
	"middleware/cache/Transport":     {rt: &cache.Transport{}, want: composiohttp.ErrZeroTransport},
	"middleware/logging/Transport":   {rt: &logging.Transport{}, want: composiohttp.ErrZeroTransport},
	"middleware/otelproxy/Transport": {rt: &otelproxy.Transport{}, want: composiohttp.ErrZeroTransport},
	"middleware/ratelimit/Transport": {rt: &ratelimit.Transport{}, want: ratelimit.ErrNoLimiter},
	"middleware/retry/Transport":     {rt: &retry.Transport{}, want: composiohttp.ErrZeroTransport},
	"middleware/sdktoken/Transport":  {rt: &sdktoken.Transport{}, want: composiohttp.ErrZeroTransport},
	"testutil/vcr/Recorder":          {rt: &vcr.Recorder{}, want: composiohttp.ErrZeroTransport},
}

// roundTripperTypes returns "dir/Name" for every exported type of the
// module with a RoundTrip method.
func roundTripperTypes(t *testing.T) []string {
	return typesWithMethod(t, "RoundTrip", func(ft *ast.FuncType) bool { return ft.Params.NumFields() == 1 })
}

// TestEveryRoundTripperHasZero fails when an exported RoundTripper type is
// added without an entry in zeroRoundTrippers, or an entry names a type
// that is gone.
func TestEveryRoundTripperHasZero(t *testing.T) {
	t.Parallel()
	checkListed(t, roundTripperTypes(t), zeroRoundTrippers, "zeroRoundTrippers", "add its zero value, or why it is not probed")
}

// closeCounter is a request body that counts its Close calls.
type closeCounter struct {
	io.Reader
	closed atomic.Int32
}

func (c *closeCounter) Close() error { c.closed.Add(1); return nil }

// TestZeroRoundTrippersRefuse: the zero value of every exported
// RoundTripper refuses a call with an error, closes the request's body
// and does not panic.
func TestZeroRoundTrippersRefuse(t *testing.T) {
	t.Parallel()
	for name, z := range zeroRoundTrippers {
		if z.rt == nil {
			if z.why == "" {
				t.Errorf("%s: an entry needs a zero value or a reason", name)
			}
			continue
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			body := &closeCounter{Reader: strings.NewReader(`{"a":1}`)}
			req, _ := http.NewRequest(http.MethodPost, "https://api.github.com/repos/o/r/issues", body)
			defer func() {
				if r := recover(); r != nil {
					t.Fatalf("RoundTrip of a zero %T panicked: %v", z.rt, r)
				}
			}()
			resp, err := z.rt.RoundTrip(req)
			if resp != nil {
				resp.Body.Close()
			}
			if !errors.Is(err, z.want) || resp != nil {
				t.Errorf("RoundTrip of a zero %T = %v, %v; want %v", z.rt, resp, err, z.want)
			}
			if n := body.closed.Load(); n != 1 {
				t.Errorf("RoundTrip of a zero %T closed the request body %d times, want once", z.rt, n)
			}
		})
	}
}
