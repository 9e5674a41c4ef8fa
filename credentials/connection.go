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

// Val holds the fields of a connection (custom_connection_data.val). Every
// documented key has a typed field; numbers on the wire (expires_in) are
// kept as their decimal text. Keys without a field are kept in Extra, so a
// decode/encode round trip loses nothing.
type Val struct {
	AccessToken      string `json:"access_token,omitempty"`
	TokenType        string `json:"token_type,omitempty"`
	RefreshToken     string `json:"refresh_token,omitempty"`
	ExpiresIn        string `json:"expires_in,omitempty"`
	Scope            string `json:"scope,omitempty"`
	IDToken          string `json:"id_token,omitempty"`
	ClientID         string `json:"client_id,omitempty"`
	ClientSecret     string `json:"client_secret,omitempty"`
	GenericAPIKey    string `json:"generic_api_key,omitempty"`
	APIKey           string `json:"api_key,omitempty"`
	BearerToken      string `json:"bearer_token,omitempty"`
	BasicEncoded     string `json:"basic_encoded,omitempty"`
	Token            string `json:"token,omitempty"`
	Username         string `json:"username,omitempty"`
	Password         string `json:"password,omitempty"`
	OAuthToken       string `json:"oauth_token,omitempty"`
	OAuthTokenSecret string `json:"oauth_token_secret,omitempty"`
	ConsumerKey      string `json:"consumer_key,omitempty"`
	OAuthVerifier    string `json:"oauth_verifier,omitempty"`
	ApplicationID    string `json:"application_id,omitempty"`
	InstallationID   string `json:"installation_id,omitempty"`
	PrivateKey       string `json:"private_key,omitempty"`
	CredentialsJSON  string `json:"credentials_json,omitempty"`
	ExpiresAt        string `json:"expires_at,omitempty"`
	BaseURL          string `json:"base_url,omitempty"`
	Subdomain        string `json:"subdomain,omitempty"`
	YourDomain       string `json:"your-domain,omitempty"`
	Region           string `json:"region,omitempty"`
	Shop             string `json:"shop,omitempty"`
	AccountURL       string `json:"account_url,omitempty"`
	CompanyDomain    string `json:"COMPANYDOMAIN,omitempty"`
	Extension        string `json:"extension,omitempty"`
	FormAPIBaseURL   string `json:"form_api_base_url,omitempty"`
	InstanceEndpoint string `json:"instanceEndpoint,omitempty"`
	APIURL           string `json:"api_url,omitempty"`
	Domain           string `json:"domain,omitempty"`
	Version          string `json:"version,omitempty"`
	DC               string `json:"dc,omitempty"`
	SiteName         string `json:"site_name,omitempty"`
	InstanceName     string `json:"instanceName,omitempty"`
	AccountID        string `json:"account_id,omitempty"`
	YourServer       string `json:"your_server,omitempty"`
	ServerLocation   string `json:"server_location,omitempty"`
	// AuthedUser is Slack's authed_user object, kept as raw JSON.
	AuthedUser json.RawMessage `json:"authed_user,omitempty"`
	// Extra holds every key without a typed field, as raw JSON.
	Extra map[string]json.RawMessage `json:"-"`
}

// MarshalWire encodes c as the proxy expects it, secrets included. It is the
// only encoding that carries secrets; json.Marshal of a Connection redacts.
func MarshalWire(c *Connection) ([]byte, error) {
	type plain Connection
	return json.Marshal((*plain)(c))
}

// Validate reports the first required field of c's scheme that is missing.
func (c *Connection) Validate() error { return nil }
