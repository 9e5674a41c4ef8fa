package composiohttp

import (
	"context"
	"io"
	"net/http"

	"github.com/composiohttp/composiohttp/credentials"
)

// Defaults.
const (
	// DefaultBaseURL is used when Transport.BaseURL and COMPOSIO_BASE_URL
	// are empty.
	DefaultBaseURL = "https://backend.composio.dev"
	// DefaultAPIVersion is the proxy API version used when
	// Transport.APIVersion is empty. "v3" is the other accepted value.
	DefaultAPIVersion = "v3.1"
	// MaxInlineBody is the largest non-JSON body sent inline as
	// binary_body.base64 (the proxy's 4 MB limit, counted before
	// encoding). Larger bodies go through Transport.Upload.
	MaxInlineBody = 4 << 20
)

// UploadFunc stores a body too large to send inline and returns a URL the
// proxy can fetch it from (sent as binary_body.url). size is the body's
// length, or -1 if unknown. It must read body to the end or fail; the
// Transport closes the caller's body afterwards.
type UploadFunc func(ctx context.Context, body io.Reader, size int64, contentType string) (url string, err error)

// Transport is an http.RoundTripper that sends each request through
// Composio's proxy endpoint, POST {BaseURL}/api/{APIVersion}/tools/execute/proxy,
// authenticated as a connected account, and turns the proxy's reply back
// into an ordinary *http.Response.
//
// The zero value reads its configuration from the environment. A Transport
// is safe for concurrent use; do not change its fields after first use.
type Transport struct {
	// APIKey is the Composio API key. Project keys (ak_...) are sent as
	// x-api-key, user keys (uak_...) as x-user-api-key. Default:
	// $COMPOSIO_API_KEY.
	APIKey string
	// BaseURL is the Composio API origin. Default: $COMPOSIO_BASE_URL,
	// else DefaultBaseURL.
	BaseURL string
	// APIVersion is "v3.1" (default) or "v3".
	APIVersion string
	// ConnectedAccountID is the account requests act as, unless the
	// request context says otherwise (WithConnectedAccount,
	// WithConnection).
	ConnectedAccountID string
	// Connection, if set, is sent as custom_connection_data instead of a
	// connected account id (unless the context says otherwise).
	Connection *credentials.Connection
	// Header holds extra headers sent to the proxy (not to the upstream)
	// with every call, added to those of $COMPOSIO_CUSTOM_HEADERS (one
	// "Name: value" a line).
	Header http.Header
	// JSONAsBinary sends JSON bodies as binary_body instead of body, so
	// that the proxy forwards them byte for byte (it is known to drop
	// falsy JSON fields such as false, 0 and {}).
	JSONAsBinary bool
	// Upload receives bodies over MaxInlineBody. Nil: such requests fail
	// with ErrBodyTooLarge before anything is sent.
	Upload UploadFunc
	// Base carries the proxy calls and the binary downloads. Nil:
	// http.DefaultTransport.
	Base http.RoundTripper
}

// NewClient returns an *http.Client whose Transport is t (a zero Transport,
// configured from the environment, if t is nil).
func NewClient(t *Transport) *http.Client {
	if t == nil {
		t = &Transport{}
	}
	return &http.Client{Transport: t}
}
