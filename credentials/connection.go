package credentials

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"unicode/utf8"
)

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

// Schemes returns the eleven schemes above, in the order they are declared.
func Schemes() []Scheme {
	return []Scheme{OAuth2, DCROAuth, S2SOAuth2, APIKey, Basic, BasicWithJWT,
		BearerToken, OAuth1, NoAuth, ServiceAccount, GoogleServiceAccount}
}

// Known reports whether s is one of the schemes this package defines.
func (s Scheme) Known() bool {
	_, ok := required[s]
	return ok
}

// Connection is custom_connection_data: the credentials of one connection,
// sent to the proxy instead of a connected account id.
//
// Its JSON encoding (json.Marshal) and its fmt and slog forms redact
// secrets; MarshalWire and AppendWire give the real encoding. Decoding
// with json.Unmarshal is lossless (see the package documentation).
type Connection struct {
	AuthScheme  Scheme `json:"authScheme"`
	ToolkitSlug string `json:"toolkitSlug,omitempty"`
	Val         Val    `json:"val"`
}

// Clone returns a deep copy of c (nil for nil).
func (c *Connection) Clone() *Connection {
	if c == nil {
		return nil
	}
	d := *c
	d.Val = c.Val.Clone()
	return &d
}

// Val holds the fields of a connection (custom_connection_data.val). Every
// documented key has a typed field holding its string value, or the
// decimal text of a number (a GitHub application_id may arrive as 12345).
// Keys without a field, and typed keys whose value is neither a non-empty
// string nor a number, are kept in Extra, so a decode/encode round trip
// loses nothing.
//
// The zero Val is empty and ready to use. A Val is not safe for concurrent
// modification.
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
	// AuthedUser is Slack's authed_user object, kept as raw JSON (any
	// JSON value is kept as it arrived).
	AuthedUser json.RawMessage `json:"authed_user,omitempty"`
	// Extra holds every key without a typed field, and every typed key
	// whose value is not a non-empty string or a number, as raw JSON.
	Extra map[string]json.RawMessage `json:"-"`

	// numeric marks typed fields (by index in fields) that arrived as
	// JSON numbers and are written back as numbers while they hold one.
	numeric uint64
}

// Value kinds of typed fields.
const (
	kindString = iota // a JSON string
	kindNumber        // a JSON string or number, written as a number when it is one
	kindJSON          // a JSON string or object (as its JSON text), written as a string
)

// field describes one typed field of Val: its wire key, Go name, whether
// it is a secret, and how to reach it. The table replaces reflection.
type field struct {
	key    string
	name   string
	secret bool
	kind   uint8
	ptr    func(*Val) *string
}

const authedUserKey = "authed_user"

var fields = [...]field{
	{"access_token", "AccessToken", true, kindString, func(v *Val) *string { return &v.AccessToken }},
	{"token_type", "TokenType", false, kindString, func(v *Val) *string { return &v.TokenType }},
	{"refresh_token", "RefreshToken", true, kindString, func(v *Val) *string { return &v.RefreshToken }},
	{"expires_in", "ExpiresIn", false, kindNumber, func(v *Val) *string { return &v.ExpiresIn }},
	{"scope", "Scope", false, kindString, func(v *Val) *string { return &v.Scope }},
	{"id_token", "IDToken", true, kindString, func(v *Val) *string { return &v.IDToken }},
	{"client_id", "ClientID", false, kindString, func(v *Val) *string { return &v.ClientID }},
	{"client_secret", "ClientSecret", true, kindString, func(v *Val) *string { return &v.ClientSecret }},
	{"generic_api_key", "GenericAPIKey", true, kindString, func(v *Val) *string { return &v.GenericAPIKey }},
	{"api_key", "APIKey", true, kindString, func(v *Val) *string { return &v.APIKey }},
	{"bearer_token", "BearerToken", true, kindString, func(v *Val) *string { return &v.BearerToken }},
	{"basic_encoded", "BasicEncoded", true, kindString, func(v *Val) *string { return &v.BasicEncoded }},
	{"token", "Token", true, kindString, func(v *Val) *string { return &v.Token }},
	{"username", "Username", true, kindString, func(v *Val) *string { return &v.Username }},
	{"password", "Password", true, kindString, func(v *Val) *string { return &v.Password }},
	{"oauth_token", "OAuthToken", true, kindString, func(v *Val) *string { return &v.OAuthToken }},
	{"oauth_token_secret", "OAuthTokenSecret", true, kindString, func(v *Val) *string { return &v.OAuthTokenSecret }},
	{"consumer_key", "ConsumerKey", false, kindString, func(v *Val) *string { return &v.ConsumerKey }},
	{"oauth_verifier", "OAuthVerifier", true, kindString, func(v *Val) *string { return &v.OAuthVerifier }},
	{"application_id", "ApplicationID", false, kindString, func(v *Val) *string { return &v.ApplicationID }},
	{"installation_id", "InstallationID", false, kindString, func(v *Val) *string { return &v.InstallationID }},
	{"private_key", "PrivateKey", true, kindString, func(v *Val) *string { return &v.PrivateKey }},
	{"credentials_json", "CredentialsJSON", true, kindJSON, func(v *Val) *string { return &v.CredentialsJSON }},
	{"expires_at", "ExpiresAt", false, kindNumber, func(v *Val) *string { return &v.ExpiresAt }},
	{"base_url", "BaseURL", false, kindString, func(v *Val) *string { return &v.BaseURL }},
	{"subdomain", "Subdomain", false, kindString, func(v *Val) *string { return &v.Subdomain }},
	{"your-domain", "YourDomain", false, kindString, func(v *Val) *string { return &v.YourDomain }},
	{"region", "Region", false, kindString, func(v *Val) *string { return &v.Region }},
	{"shop", "Shop", false, kindString, func(v *Val) *string { return &v.Shop }},
	{"account_url", "AccountURL", false, kindString, func(v *Val) *string { return &v.AccountURL }},
	{"COMPANYDOMAIN", "CompanyDomain", false, kindString, func(v *Val) *string { return &v.CompanyDomain }},
	{"extension", "Extension", false, kindString, func(v *Val) *string { return &v.Extension }},
	{"form_api_base_url", "FormAPIBaseURL", false, kindString, func(v *Val) *string { return &v.FormAPIBaseURL }},
	{"instanceEndpoint", "InstanceEndpoint", false, kindString, func(v *Val) *string { return &v.InstanceEndpoint }},
	{"api_url", "APIURL", false, kindString, func(v *Val) *string { return &v.APIURL }},
	{"domain", "Domain", false, kindString, func(v *Val) *string { return &v.Domain }},
	{"version", "Version", false, kindString, func(v *Val) *string { return &v.Version }},
	{"dc", "DC", false, kindString, func(v *Val) *string { return &v.DC }},
	{"site_name", "SiteName", false, kindString, func(v *Val) *string { return &v.SiteName }},
	{"instanceName", "InstanceName", false, kindString, func(v *Val) *string { return &v.InstanceName }},
	{"account_id", "AccountID", false, kindString, func(v *Val) *string { return &v.AccountID }},
	{"your_server", "YourServer", false, kindString, func(v *Val) *string { return &v.YourServer }},
	{"server_location", "ServerLocation", false, kindString, func(v *Val) *string { return &v.ServerLocation }},
}

// numeric has one bit per typed field.
var _ [64 - len(fields)]struct{}

// fieldIndex maps a wire key to its index in fields.
var fieldIndex = func() map[string]int {
	m := make(map[string]int, len(fields))
	for i, f := range fields {
		m[f.key] = i
	}
	return m
}()

// typedSet reports whether key is a typed key whose typed field is set, in
// which case the typed field wins over an Extra entry of the same key.
func (v *Val) typedSet(key string) bool {
	if key == authedUserKey {
		return len(v.AuthedUser) > 0
	}
	i, ok := fieldIndex[key]
	return ok && *fields[i].ptr(v) != ""
}

// Get returns the value of key, by its wire name, from the typed fields or
// Extra: a JSON string's text, a number's or boolean's literal text. It
// reports false when the key is absent or its value is null, an object or
// an array. An empty string that is present on the wire gives ("", true).
func (v *Val) Get(key string) (string, bool) {
	if i, ok := fieldIndex[key]; ok {
		if s := *fields[i].ptr(v); s != "" {
			return s, true
		}
	}
	raw, ok := v.Extra[key]
	if key == authedUserKey && len(v.AuthedUser) > 0 {
		raw, ok = v.AuthedUser, true
	}
	if !ok || len(raw) == 0 {
		return "", false
	}
	switch raw[0] {
	case '"':
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return "", false
		}
		return s, true
	case '{', '[', 'n':
		return "", false
	}
	return string(raw), true
}

// Set sets key, by its wire name, to the string value: the typed field
// when key has one, else Extra. Setting a typed key to "" records it as
// present and empty (written as "key": ""); use Delete to remove a key.
// authed_user is set to a JSON string.
func (v *Val) Set(key, value string) {
	if i, ok := fieldIndex[key]; ok {
		*fields[i].ptr(v) = value
		v.numeric &^= 1 << i
		if value != "" {
			delete(v.Extra, key)
			return
		}
	}
	raw, _ := json.Marshal(value) // a string always encodes
	if key == authedUserKey {
		v.AuthedUser = raw
		delete(v.Extra, key)
		return
	}
	if v.Extra == nil {
		v.Extra = make(map[string]json.RawMessage)
	}
	v.Extra[key] = raw
}

// Delete removes key from the typed fields and from Extra.
func (v *Val) Delete(key string) {
	if i, ok := fieldIndex[key]; ok {
		*fields[i].ptr(v) = ""
		v.numeric &^= 1 << i
	}
	if key == authedUserKey {
		v.AuthedUser = nil
	}
	delete(v.Extra, key)
}

// Clone returns a deep copy of v.
func (v Val) Clone() Val {
	v.AuthedUser = slices.Clone(v.AuthedUser)
	if v.Extra != nil {
		extra := make(map[string]json.RawMessage, len(v.Extra))
		for k, raw := range v.Extra {
			extra[k] = slices.Clone(raw)
		}
		v.Extra = extra
	}
	return v
}

// UnmarshalJSON decodes a JSON object into v, replacing its contents. Every
// key is kept: in its typed field when its value fits, else in Extra (see
// the package documentation). A JSON null leaves v unchanged.
func (v *Val) UnmarshalJSON(data []byte) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		return fmt.Errorf("credentials: val: %w", sanitize(err))
	}
	if m == nil {
		return nil // null
	}
	*v = Val{}
	for key, raw := range m {
		if len(raw) > 0 && (raw[0] == '{' || raw[0] == '[') {
			raw = compact(raw)
		}
		if key == authedUserKey {
			v.AuthedUser = raw
			continue
		}
		i, ok := fieldIndex[key]
		if ok && v.setTyped(i, raw) {
			continue
		}
		if v.Extra == nil {
			v.Extra = make(map[string]json.RawMessage)
		}
		v.Extra[key] = raw
	}
	return nil
}

// setTyped stores raw in typed field i if the value fits there.
func (v *Val) setTyped(i int, raw json.RawMessage) bool {
	f := &fields[i]
	var s string
	switch {
	case raw[0] == '"':
		if err := json.Unmarshal(raw, &s); err != nil {
			return false
		}
	case f.kind != kindJSON && (raw[0] == '-' || raw[0] >= '0' && raw[0] <= '9'):
		s = string(raw)
		if f.kind == kindString {
			v.numeric |= 1 << i
		}
	case f.kind == kindJSON && raw[0] == '{':
		s = string(raw)
		if !utf8.ValidString(s) {
			// As the wire string will carry it: each bad byte as U+FFFD.
			_ = json.Unmarshal(appendString(nil, s), &s)
		}
	}
	if s == "" {
		return false
	}
	*f.ptr(v) = s
	return true
}

// compact returns raw without insignificant whitespace.
func compact(raw []byte) []byte {
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return raw
	}
	return b.Bytes()
}

// sanitize drops the parts of JSON errors that could quote input: a syntax
// error keeps only its offset.
func sanitize(err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("invalid JSON at offset %d", se.Offset)
	}
	return err
}

// MarshalWire encodes c as the proxy expects it, secrets included. It is the
// only encoding, with AppendWire, that carries secrets; json.Marshal of a
// Connection redacts.
func MarshalWire(c *Connection) ([]byte, error) {
	return AppendWire(make([]byte, 0, 256), c)
}

// AppendWire appends the wire encoding of c (as MarshalWire) to dst and
// returns the extended buffer. It allocates nothing when dst has room and
// c.Val.Extra has at most 16 keys. It fails for a nil c and for raw JSON
// in AuthedUser or Extra that is not valid JSON.
func AppendWire(dst []byte, c *Connection) ([]byte, error) {
	if c == nil {
		return dst, errors.New("credentials: nil Connection")
	}
	return c.appendJSON(dst, false)
}

// appendJSON appends c's JSON, with secrets replaced when redact is set.
func (c *Connection) appendJSON(dst []byte, redact bool) ([]byte, error) {
	dst = append(dst, `{"authScheme":`...)
	dst = appendString(dst, string(c.AuthScheme))
	if c.ToolkitSlug != "" {
		dst = append(dst, `,"toolkitSlug":`...)
		dst = appendString(dst, c.ToolkitSlug)
	}
	dst = append(dst, `,"val":`...)
	dst, err := c.Val.appendJSON(dst, redact)
	if err != nil {
		return dst, err
	}
	return append(dst, '}'), nil
}

// appendJSON appends v as a JSON object: typed fields in table order, then
// authed_user, then Extra sorted by key.
func (v *Val) appendJSON(dst []byte, redact bool) ([]byte, error) {
	dst = append(dst, '{')
	first := true
	key := func(k string) {
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = appendString(dst, k)
		dst = append(dst, ':')
	}
	for i := range fields {
		f := &fields[i]
		s := *f.ptr(v)
		if s == "" {
			continue
		}
		key(f.key)
		switch {
		case redact && f.secret:
			dst = appendString(dst, Redacted)
		case (f.kind == kindNumber || v.numeric&(1<<i) != 0) && isNumber(s):
			dst = append(dst, s...)
		default:
			dst = appendString(dst, s)
		}
	}
	if len(v.AuthedUser) > 0 {
		key(authedUserKey)
		var err error
		if dst, err = appendRaw(dst, authedUserKey, v.AuthedUser, redact); err != nil {
			return dst, err
		}
	}
	if len(v.Extra) > 0 {
		var buf [16]string
		keys := buf[:0]
		for k := range v.Extra {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			if v.typedSet(k) {
				continue
			}
			key(k)
			var err error
			if dst, err = appendRaw(dst, k, v.Extra[k], redact); err != nil {
				return dst, err
			}
		}
	}
	return append(dst, '}'), nil
}

// appendRaw appends the raw JSON value of key, redacted (see redactRaw)
// when redact is set.
func appendRaw(dst []byte, key string, raw json.RawMessage, redact bool) ([]byte, error) {
	if !json.Valid(raw) {
		return dst, fmt.Errorf("credentials: val key %q holds invalid JSON", key)
	}
	if redact {
		return append(dst, redactRaw(key, raw)...), nil
	}
	return append(dst, raw...), nil
}

// MarshalJSON encodes c with its secrets redacted; use MarshalWire for the
// real encoding.
func (c Connection) MarshalJSON() ([]byte, error) {
	return c.appendJSON(nil, true)
}

// MarshalJSON encodes v with its secrets redacted; use MarshalWire for the
// real encoding.
func (v Val) MarshalJSON() ([]byte, error) {
	return v.appendJSON(nil, true)
}

// String returns the redacted JSON of c.
func (c Connection) String() string {
	b, err := c.appendJSON(nil, true)
	if err != nil {
		return "credentials.Connection{invalid}"
	}
	return string(b)
}

// String returns the redacted JSON of v.
func (v Val) String() string {
	b, err := v.appendJSON(nil, true)
	if err != nil {
		return "credentials.Val{invalid}"
	}
	return string(b)
}

// sortedExtra returns the keys of v.Extra in order.
func (v *Val) sortedExtra() []string {
	return slices.Sorted(maps.Keys(v.Extra))
}
