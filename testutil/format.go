package testutil

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/composiohttp/composiohttp"
	"github.com/composiohttp/composiohttp/credentials"
	redactfmt "github.com/composiohttp/composiohttp/internal/redact"
	"github.com/composiohttp/composiohttp/internal/urlredact"
)

// A Server and a Recorded print redacted: fmt (every verb), slog and
// json.Marshal never show an API key, an account's credentials or the
// secrets of a recorded custom_connection_data.

// redactedKey is credentials.Redacted for a key that is set.
func redactedKey(k string) string {
	if k == "" {
		return ""
	}
	return credentials.Redacted
}

// String describes s: its URL, its keys redacted, and how many accounts
// it knows.
func (s *Server) String() string {
	return fmt.Sprintf("&testutil.Server{URL:%q, APIKey:%q, UserAPIKey:%q, Accounts:%d}",
		s.URL, redactedKey(s.APIKey), redactedKey(s.UserAPIKey), s.accountCount())
}

// GoString is String, for %#v.
func (s *Server) GoString() string { return s.String() }

// Format implements fmt.Formatter: every verb prints String.
func (s *Server) Format(f fmt.State, verb rune) { redactfmt.Format(f, verb, s.String(), s.GoString()) }

// LogValue implements slog.LogValuer, redacted as String.
func (s *Server) LogValue() slog.Value {
	return slog.GroupValue(slog.String("URL", s.URL), slog.String("APIKey", redactedKey(s.APIKey)),
		slog.String("UserAPIKey", redactedKey(s.UserAPIKey)), slog.Int("Accounts", s.accountCount()))
}

// MarshalJSON encodes what String shows.
func (s *Server) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		URL        string
		APIKey     string `json:",omitempty"`
		UserAPIKey string `json:",omitempty"`
		Accounts   int
	}{s.URL, redactedKey(s.APIKey), redactedKey(s.UserAPIKey), s.accountCount()})
}

func (s *Server) accountCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.accounts)
}

// shown is r as it may be printed: Body is the envelope redacted by
// credentials.RedactJSON (secrets of custom_connection_data and any other
// secret key), or a size when it is not JSON.
type shownRecord struct {
	Method, Path string
	Status       int
	RequestID    string
	Time         time.Time
	Header       http.Header
	Envelope     composiohttp.ProxyRequest `json:"-"`
	EnvelopeJSON json.RawMessage           `json:"Envelope"`
	Body         json.RawMessage
}

func (r Recorded) shown() shownRecord {
	env, _ := json.Marshal(r.Envelope)
	env, err := redactEnvelope(env)
	if err != nil {
		env = []byte("null")
	}
	return shownRecord{r.Method, r.Path, r.Status, r.RequestID, r.Time, r.Header, r.Envelope, env, r.shownBody()}
}

// shownBody is r.Body as it may be printed (see shownRecord).
func (r Recorded) shownBody() json.RawMessage {
	body, err := redactEnvelope(r.Body)
	if err != nil {
		body, _ = json.Marshal("[" + strconv.Itoa(len(r.Body)) + " bytes, not JSON, not shown]")
	}
	return body
}

// redactEnvelope returns a proxy envelope's JSON redacted as
// credentials.RedactJSON does (secret keys at any depth; the same JSON
// out), the values of parameters named as secrets: headers by
// credentials.IsSecret, query parameters by credentials.IsSecretParam,
// and the endpoint as credentials.RedactURL shows it (urlredact.URLString).
func redactEnvelope(raw []byte) ([]byte, error) {
	return redactfmt.JSON(raw, func(v any) any {
		if m, ok := v.(map[string]any); ok {
			if ep, ok := m["endpoint"].(string); ok {
				m["endpoint"] = urlredact.URLString(ep) // secret path parameters ("/app;jsessionid=…"), a query
			}
			if ps, ok := m["parameters"].([]any); ok {
				for _, p := range ps {
					pm, _ := p.(map[string]any)
					name, isString := pm["name"].(string)
					if isString {
						pm["name"] = urlredact.ParamName(name, pm["type"] == composiohttp.ParamHeader)
					}
					switch v := pm["value"].(type) {
					case string: // as composiohttp.Parameter prints
						pm["value"] = urlredact.ParamValue(name, v, pm["type"] == composiohttp.ParamHeader)
					case nil:
					default: // not a parameter's string: shown only when not secret
						if urlredact.ParamValue(name, "x", pm["type"] == composiohttp.ParamHeader) != "x" {
							pm["value"] = credentials.Redacted
						}
					}
				}
			}
		}
		return credentials.RedactValue(v)
	})
}

// String describes r with its Body redacted (see credentials.RedactJSON);
// the decoded Envelope's connection prints redacted, as
// credentials.Connection always does, and Header is already redacted.
func (r Recorded) String() string {
	s := r.shown()
	return fmt.Sprintf("testutil.Recorded{Method:%s Path:%s Status:%d RequestID:%s Time:%s Header:%v Envelope:%+v Body:%s}",
		s.Method, s.Path, s.Status, s.RequestID, s.Time.Format(time.RFC3339Nano), s.Header, s.Envelope, s.Body)
}

// GoString is String, for %#v.
func (r Recorded) GoString() string { return r.String() }

// Format implements fmt.Formatter: every verb prints String.
func (r Recorded) Format(f fmt.State, verb rune) { redactfmt.Format(f, verb, r.String(), r.GoString()) }

// LogValue implements slog.LogValuer, redacted as String.
func (r Recorded) LogValue() slog.Value {
	return slog.GroupValue(slog.String("method", r.Method), slog.String("path", r.Path),
		slog.Int("status", r.Status), slog.String("request_id", r.RequestID),
		slog.String("body", string(r.shownBody())))
}

// MarshalJSON encodes r with its Body redacted, as String.
func (r Recorded) MarshalJSON() ([]byte, error) { return json.Marshal(r.shown()) }
