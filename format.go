package composiohttp

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/composiohttp/composiohttp/credentials"
	"github.com/composiohttp/composiohttp/internal/redact"
	"github.com/composiohttp/composiohttp/internal/urlredact"
)

// String describes t without its secrets: the API key and every value of
// Header are credentials.Redacted when set, the Connection is redacted as
// credentials.Connection prints itself, and BaseURL loses its user info.
// Only fields that are set are shown.
//
// The methods that print a Transport redacted (String, GoString, Format,
// LogValue, MarshalJSON) are on *Transport: print the pointer. A
// Transport must not be copied anyway (go vet reports copies).
func (t *Transport) String() string {
	if t == nil {
		return "(*composiohttp.Transport)(nil)"
	}
	var b strings.Builder
	b.WriteString("&composiohttp.Transport{")
	sep := ""
	field := func(name, value string) {
		b.WriteString(sep)
		b.WriteString(name)
		b.WriteByte(':')
		b.WriteString(value)
		sep = ", "
	}
	for _, f := range t.fields() {
		switch v := f.value.(type) {
		case string:
			field(f.name, strconv.Quote(v))
		case map[string][]string:
			var hb strings.Builder
			hb.WriteByte('{')
			for i, k := range slices.Sorted(maps.Keys(v)) {
				if i > 0 {
					hb.WriteString(", ")
				}
				fmt.Fprintf(&hb, "%q:%q", k, v[k])
			}
			hb.WriteByte('}')
			field(f.name, hb.String())
		default:
			field(f.name, fmt.Sprint(v))
		}
	}
	b.WriteByte('}')
	return b.String()
}

// GoString is String, for %#v.
func (t *Transport) GoString() string { return t.String() }

// Format implements fmt.Formatter: every verb prints String (%x its hex),
// so no verb reaches the fields.
func (t *Transport) Format(f fmt.State, verb rune) { redact.Format(f, verb, t.String(), t.GoString()) }

// LogValue implements slog.LogValuer: a group of the fields that are
// set, redacted as in String.
func (t *Transport) LogValue() slog.Value {
	if t == nil {
		return slog.Value{}
	}
	fs := t.fields()
	attrs := make([]slog.Attr, 0, len(fs))
	for _, f := range fs {
		attrs = append(attrs, slog.Any(f.name, f.value))
	}
	return slog.GroupValue(attrs...)
}

// MarshalJSON encodes the fields that are set, redacted as in String.
func (t *Transport) MarshalJSON() ([]byte, error) {
	if t == nil {
		return []byte("null"), nil
	}
	fs := t.fields()
	m := make(map[string]any, len(fs))
	for _, f := range fs {
		m[f.name] = f.value
	}
	return json.Marshal(m)
}

type shownField struct {
	name  string
	value any // string, map[string][]string, *credentials.Connection, bool, int64 or a type name
}

// fields returns t's fields that are set, redacted.
func (t *Transport) fields() []shownField {
	var fs []shownField
	str := func(name, v string) {
		if v != "" {
			fs = append(fs, shownField{name, v})
		}
	}
	if t.APIKey != "" {
		str("APIKey", credentials.Redacted)
	}
	if t.BaseURL != "" {
		str("BaseURL", redactedURL(t.BaseURL))
	}
	str("APIVersion", t.APIVersion)
	str("ConnectedAccountID", t.ConnectedAccountID)
	if t.Connection != nil {
		fs = append(fs, shownField{"Connection", t.Connection})
	}
	if len(t.Header) > 0 {
		h := make(map[string][]string, len(t.Header))
		for k, vs := range t.Header {
			r := make([]string, len(vs))
			for i := range r {
				r[i] = credentials.Redacted
			}
			h[k] = r
		}
		fs = append(fs, shownField{"Header", h})
	}
	if t.JSONAsBinary {
		fs = append(fs, shownField{"JSONAsBinary", true})
	}
	if t.Upload != nil {
		str("Upload", "func")
	}
	if t.MaxResponseSize != 0 {
		fs = append(fs, shownField{"MaxResponseSize", t.MaxResponseSize})
	}
	if t.Base != nil {
		str("Base", fmt.Sprintf("%T", t.Base))
	}
	return fs
}

// redactedURL is s without user info and secret query and path parameter
// values (credentials.RedactURL), or credentials.Redacted when it does
// not parse.
func redactedURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return credentials.Redacted
	}
	r, _ := credentials.RedactURL(u)
	return r.String()
}

// shown is p as it may be printed: the value of a header whose name is
// secret (credentials.IsSecret: Authorization, X-Api-Key, Cookie, ...) or
// of a query parameter that is (credentials.IsSecretParam: token, key,
// sig, ...) is credentials.Redacted when set; a query value that reads as
// parameters of its own ("1;access_token=…") shows its secret ones hidden
// (urlredact.ParamValue), and so does a query name that does
// (urlredact.ParamName).
func (p Parameter) shown() Parameter {
	// One rule with the fake's recorded envelopes (testutil).
	p.Value = urlredact.ParamValue(p.Name, p.Value, p.Type == ParamHeader)
	p.Name = urlredact.ParamName(p.Name, p.Type == ParamHeader)
	return p
}

// String describes p with a secret value redacted (see Format).
func (p Parameter) String() string {
	s := p.shown()
	return "{Name:" + s.Name + " Value:" + s.Value + " Type:" + s.Type + "}"
}

// GoString is p in Go syntax, a secret value redacted.
func (p Parameter) GoString() string {
	s := p.shown()
	return fmt.Sprintf("composiohttp.Parameter{Name:%q, Value:%q, Type:%q}", s.Name, s.Value, s.Type)
}

// Format implements fmt.Formatter: every verb prints String (GoString
// for %#v), so the value of a secret header or query parameter (an
// Authorization header the caller set, an api_key) never shows.
// json.Marshal gives the wire form, value included.
func (p Parameter) Format(f fmt.State, verb rune) { redact.Format(f, verb, p.String(), p.GoString()) }

// LogValue implements slog.LogValuer, redacted as String.
func (p Parameter) LogValue() slog.Value {
	s := p.shown()
	return slog.GroupValue(slog.String("name", s.Name), slog.String("value", s.Value), slog.String("type", s.Type))
}

// String describes r for humans: its parameters redacted as
// Parameter.String, its connection as credentials.Connection prints
// itself, a JSON body with its secret keys redacted (credentials.RedactJSON).
// json.Marshal gives the wire form (but see CustomConnectionData).
func (r ProxyRequest) String() string {
	body := ""
	if len(r.Body) > 0 {
		if b, err := credentials.RedactJSON(r.Body); err == nil {
			body = string(b)
		} else {
			body = "[" + strconv.Itoa(len(r.Body)) + " bytes, not JSON]"
		}
	}
	bb := "<nil>"
	if r.BinaryBody != nil {
		bb = fmt.Sprintf("{URL:%s ContentType:%s Base64:%d bytes}", redactedURL(r.BinaryBody.URL), r.BinaryBody.ContentType, len(r.BinaryBody.Base64))
	}
	cc := "<nil>"
	if r.CustomConnectionData != nil {
		cc = r.CustomConnectionData.String()
	}
	return fmt.Sprintf("{ConnectedAccountID:%s Endpoint:%s Method:%s Body:%s BinaryBody:%s Parameters:%v CustomConnectionData:%s}",
		r.ConnectedAccountID, redactedURL(r.Endpoint), r.Method, body, bb, r.Parameters, cc)
}

// Format implements fmt.Formatter: every verb prints String.
func (r ProxyRequest) Format(f fmt.State, verb rune) {
	redact.Format(f, verb, r.String(), "composiohttp.ProxyRequest"+r.String())
}

// LogValue implements slog.LogValuer: String, as one string.
func (r ProxyRequest) LogValue() slog.Value { return slog.StringValue(r.String()) }
