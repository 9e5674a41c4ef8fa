package composiohttp

import (
	"encoding/json"

	"github.com/composiohttp/composiohttp/credentials"
)

// ProxyRequest is the JSON body of POST /api/{version}/tools/execute/proxy.
//
// The Transport encodes it by hand (see encode.go) for speed; this type is
// the documented shape, used by testutil and by anyone who wants to build
// or inspect an envelope.
type ProxyRequest struct {
	ConnectedAccountID string `json:"connected_account_id,omitempty"`
	// Endpoint is an absolute URL or a path relative to the account's
	// base URL, without the query (that travels in Parameters).
	Endpoint string `json:"endpoint"`
	// Method is one of GET, POST, PUT, DELETE, PATCH, HEAD.
	Method string `json:"method"`
	// Body is a JSON value sent byte-for-byte, or absent.
	Body json.RawMessage `json:"body,omitempty"`
	// BinaryBody carries any non-JSON body (and JSON bodies when
	// Transport.JSONAsBinary is set).
	BinaryBody *BinaryBody `json:"binary_body,omitempty"`
	// Parameters are the request's headers and query values, in order.
	Parameters []Parameter `json:"parameters,omitempty"`
	// CustomConnectionData carries a whole connection instead of an
	// account id. Note that json.Marshal of a credentials.Connection
	// redacts secrets; use credentials.MarshalWire to build a real
	// envelope.
	CustomConnectionData *credentials.Connection `json:"custom_connection_data,omitempty"`
}

// BinaryBody is a non-JSON request body: inline as base64 (at most
// MaxInlineBody bytes before encoding) or by URL.
type BinaryBody struct {
	Base64      string `json:"base64,omitempty"`
	URL         string `json:"url,omitempty"`
	ContentType string `json:"content_type,omitempty"`
}

// Parameter types.
const (
	ParamHeader = "header"
	ParamQuery  = "query"
)

// Parameter is one header or query value of the upstream request.
type Parameter struct {
	Name  string `json:"name"`
	Value string `json:"value"`
	Type  string `json:"type"` // ParamHeader or ParamQuery
}

// ProxyResponse is the proxy's HTTP 200 reply: the upstream's response.
type ProxyResponse struct {
	// Status is the upstream's HTTP status.
	Status int `json:"status"`
	// Headers are the upstream's headers, one string per name (repeated
	// values joined).
	Headers map[string]string `json:"headers,omitempty"`
	// Data is the upstream body: JSON as is, text as a JSON string.
	Data json.RawMessage `json:"data,omitempty"`
	// BinaryData points at a binary body stored behind a signed URL.
	BinaryData *BinaryData `json:"binary_data,omitempty"`
}

// BinaryData describes a binary upstream body stored at a signed URL.
type BinaryData struct {
	URL         string `json:"url"`
	ContentType string `json:"content_type,omitempty"`
	Size        int64  `json:"size"`
	ExpiresAt   string `json:"expires_at,omitempty"`
}

// ErrorResponse is the body of a proxy error (any non-200 reply).
type ErrorResponse struct {
	Error ErrorBody `json:"error"`
}

// ErrorBody is the "error" object of a proxy error.
type ErrorBody struct {
	Message      string   `json:"message"`
	Code         int      `json:"code,omitempty"`
	Slug         string   `json:"slug,omitempty"`
	Status       int      `json:"status,omitempty"`
	RequestID    string   `json:"request_id,omitempty"`
	SuggestedFix string   `json:"suggested_fix,omitempty"`
	Errors       []string `json:"errors,omitempty"`
}
