package schemes_test

import (
	"errors"
	"net/http"
	"net/url"
	"testing"

	"github.com/composiohttp/composiohttp"
	"github.com/composiohttp/composiohttp/credentials"
	"github.com/composiohttp/composiohttp/schemes"
)

// The direct Transport refuses what it cannot send with the module's
// typed errors, so that errors.Is and composiohttp.CodeOf place them.
func TestTransportRefusalsTyped(t *testing.T) {
	t.Parallel()
	conn := &credentials.Connection{AuthScheme: credentials.BearerToken, ToolkitSlug: "github", Val: credentials.Val{Token: "ghp_x"}}
	for _, tt := range []struct {
		name string
		tr   *schemes.Transport
		req  *http.Request
		want error
		code composiohttp.Code
	}{
		{"no URL", &schemes.Transport{Connection: conn}, &http.Request{Method: "GET", Header: http.Header{}}, composiohttp.ErrBadRequest, composiohttp.CodeInvalidRequest},
		{"no Connection or Source", &schemes.Transport{}, &http.Request{Method: "GET", URL: &url.URL{Scheme: "https", Host: "api.github.com", Path: "/user"}, Header: http.Header{}}, composiohttp.ErrNoAuthContext, composiohttp.CodeNoAuthContext},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := tt.tr.RoundTrip(tt.req)
			if !errors.Is(err, tt.want) || composiohttp.CodeOf(err) != tt.code {
				t.Errorf("err = %v (code %v), want %v (code %v)", err, composiohttp.CodeOf(err), tt.want, tt.code)
			}
		})
	}
}
