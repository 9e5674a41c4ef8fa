// Package credentials describes a connected account's credentials as
// Composio's proxy carries them in custom_connection_data: a Connection
// (auth scheme, toolkit slug and a Val of fields), the required fields of
// each scheme, Sources for credentials that rotate, and redaction so that
// printing or logging a credential never shows a secret.
package credentials

import "encoding/json"

// Scheme names an auth scheme as Composio spells it on the wire.
type Scheme string

// The auth schemes Composio defines.
const (
	OAuth2               Scheme = "OAUTH2"
	DCROAuth             Scheme = "DCR_OAUTH"
	S2SOAuth2            Scheme = "S2S_OAUTH2"
	APIKey               Scheme = "API_KEY"
	Basic                Scheme = "BASIC"
	BasicWithJWT         Scheme = "BASIC_WITH_JWT"
	BearerToken          Scheme = "BEARER_TOKEN"
	OAuth1               Scheme = "OAUTH1"
	NoAuth               Scheme = "NO_AUTH"
	ServiceAccount       Scheme = "SERVICE_ACCOUNT"
	GoogleServiceAccount Scheme = "GOOGLE_SERVICE_ACCOUNT"
)

// Connection is custom_connection_data: the credentials of one connection,
// sent to the proxy instead of a connected account id.
//
// TEMPORARY SKELETON: the credentials helper replaces this file's Val with
// typed fields, redaction and Validate. The exported names below are the
// contract other packages rely on.
type Connection struct {
	AuthScheme  Scheme `json:"authScheme"`
	ToolkitSlug string `json:"toolkitSlug,omitempty"`
	Val         Val    `json:"val"`
}

// Val holds the fields of a connection.
type Val struct {
	AccessToken string                     `json:"access_token,omitempty"`
	Extra       map[string]json.RawMessage `json:"-"`
}

// MarshalWire encodes c as the proxy expects it, secrets included. It is the
// only encoding that carries secrets; json.Marshal of a Connection redacts.
func MarshalWire(c *Connection) ([]byte, error) {
	type plain Connection
	return json.Marshal((*plain)(c))
}

// Validate reports the first required field of c's scheme that is missing.
func (c *Connection) Validate() error { return nil }
