package logging

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"

	"github.com/composiohttp/composiohttp"
	"github.com/composiohttp/composiohttp/credentials"
	"github.com/composiohttp/composiohttp/internal/readahead"
	"github.com/composiohttp/composiohttp/internal/urlredact"
)

// DefaultDumpMax is how much of an envelope or reply Dump shows.
const DefaultDumpMax = 64 << 10

// Dump returns an http.RoundTripper for composiohttp.Transport.Base that
// prints, for every call to Composio's API, the envelope sent and the
// reply, both redacted, and a curl command line that sends the same call
// again, with the API key written as $COMPOSIO_API_KEY (a user key as
// $COMPOSIO_USER_API_KEY). It is a debugging aid, off unless installed:
//
//	tr := &composiohttp.Transport{ConnectedAccountID: "ca_1", Base: logging.Dump(os.Stderr, nil)}
//
// w receives one block per call (nil: os.Stderr; writes are serialised);
// next is the RoundTripper to the proxy (nil: http.DefaultTransport).
// Requests outside /api/ (the signed URLs of binary bodies) pass through
// unprinted.
//
// Redaction: in the envelope, the values of header and query parameters
// with secret names (Authorization, X-Api-Key, token, ...), the secret
// parts of a query value or name that reads as parameters of its own
// ("1;sig=…", also escaped inside it, "1%3Bsig%3D…", as
// composiohttp.Parameter prints it), the endpoint's secret path and
// query parameters ("/app;jsessionid=…", as credentials.RedactURL shows
// them), secret keys of
// a JSON body, and the secret fields of custom_connection_data.val are
// [REDACTED]; in the reply, the values of secret keys at any depth (data,
// an error, a connected-accounts listing's state.val), secret headers, the
// secret query and path parameter values of the URLs in Location,
// Content-Location, Link and Refresh headers (a signed S3 URL's signature; the same rule as the log
// line's headers, also for the upstream headers inside the reply and the
// headers of the curl line), and the query of a signed binary_data URL. Any exact occurrence of a secret
// the call sent (the API key, a secret header, a secret parameter, a
// secret path parameter, a connection's secret; a secret sent escaped
// also as it reads decoded, by credentials.QuerySecrets) in what comes
// back is [REDACTED] too, and the
// proxy URL shows no user info or secret query or path parameter value.
// The curl line sends the redacted envelope: a call that acts as a
// connected account reproduces exactly unless it sends a secret
// parameter (header, query or path: [REDACTED] as above); one with
// custom_connection_data needs its secrets put back first. Envelopes and replies over DefaultDumpMax bytes are
// described, not shown, and give no curl line.
func Dump(w io.Writer, next http.RoundTripper) http.RoundTripper {
	if w == nil {
		w = os.Stderr
	}
	if next == nil {
		next = http.DefaultTransport
	}
	return &dumper{w: w, next: next}
}

type dumper struct {
	mu   sync.Mutex
	w    io.Writer
	next http.RoundTripper
}

// Unwrap returns the RoundTripper it wraps.
func (d *dumper) Unwrap() http.RoundTripper { return d.next }

// CloseIdleConnections closes the idle connections of the RoundTripper it
// wraps, if it has the method.
func (d *dumper) CloseIdleConnections() {
	if c, ok := d.next.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

func (d *dumper) RoundTrip(req *http.Request) (*http.Response, error) {
	if req == nil || req.URL == nil || !strings.HasPrefix(req.URL.Path, "/api/") {
		return d.next.RoundTrip(req)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "### composiohttp dump: %s %s\n", req.Method, redactURLString(req.URL.String()))
	var envelope []byte
	secrets := sentSecrets(req.Header)
	if req.Body != nil && req.Body != http.NoBody {
		raw, truncated, err := readUpTo(req.Body, DefaultDumpMax)
		r := req.Clone(req.Context())
		r.Body = readahead.Rejoin(raw, err, req.Body)
		req = r
		switch {
		case err != nil:
			b.WriteString("# envelope: unreadable\n")
		case truncated:
			fmt.Fprintf(&b, "# envelope: over %d bytes, not shown\n", DefaultDumpMax)
		default:
			secrets = append(secrets, envelopeSecrets(raw)...)
			envelope = redactEnvelope(raw)
			b.WriteString("# envelope (redacted):\n")
			b.Write(indent(envelope))
			b.WriteString("\n")
		}
	}
	resp, err := d.next.RoundTrip(req)
	switch {
	case err != nil:
		fmt.Fprintf(&b, "# no reply: %s\n", redactURLString(err.Error()))
	default:
		raw, truncated, rerr := readUpTo(resp.Body, DefaultDumpMax)
		resp.Body = readahead.Rejoin(raw, rerr, resp.Body)
		fmt.Fprintf(&b, "# reply: %s\n", resp.Status)
		names := make([]string, 0, len(resp.Header))
		for k := range resp.Header {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			fmt.Fprintf(&b, "# %s: %s\n", k, headerValue(k, strings.Join(resp.Header[k], ", ")))
		}
		switch {
		case rerr != nil:
			b.WriteString("# reply body: unreadable\n")
		case truncated:
			fmt.Fprintf(&b, "# reply body: over %d bytes, not shown\n", DefaultDumpMax)
		default:
			b.Write(indent(redactReply(raw)))
			b.WriteString("\n")
		}
	}
	if envelope != nil {
		b.WriteString("# reproduce:\n")
		b.WriteString(curlLine(req, envelope))
		b.WriteString("\n")
	}
	out := credentials.Scrub(b.String(), secrets...)
	d.mu.Lock()
	io.WriteString(d.w, out)
	d.mu.Unlock()
	return resp, err
}

// curlLine writes a curl command that sends req's headers (the key as an
// environment variable) and body.
func curlLine(req *http.Request, body []byte) string {
	var b strings.Builder
	b.WriteString("curl -sS -X ")
	b.WriteString(req.Method)
	b.WriteString(" ")
	b.WriteString(shellQuote(redactURLString(req.URL.String())))
	names := make([]string, 0, len(req.Header))
	for k := range req.Header {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		switch http.CanonicalHeaderKey(k) {
		case "Content-Length", "Accept-Encoding", "Host", "User-Agent":
			continue
		case "X-Api-Key":
			b.WriteString(` -H "x-api-key: $COMPOSIO_API_KEY"`)
			continue
		case "X-User-Api-Key":
			b.WriteString(` -H "x-user-api-key: $COMPOSIO_USER_API_KEY"`)
			continue
		}
		for _, v := range req.Header[k] {
			b.WriteString(" -H ")
			b.WriteString(shellQuote(k + ": " + headerValue(k, v)))
		}
	}
	b.WriteString(" --data-binary ")
	b.WriteString(shellQuote(string(body)))
	return b.String()
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func indent(b []byte) []byte {
	var out bytes.Buffer
	if json.Indent(&out, b, "", "  ") != nil {
		return b
	}
	return out.Bytes()
}

// decodeJSON decodes b keeping numbers exact.
func decodeJSON(b []byte) (any, bool) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if d.Decode(&v) != nil {
		return nil, false
	}
	return v, true
}

// redactEnvelope redacts a proxy request envelope (see Dump); what is not
// JSON is described instead.
func redactEnvelope(raw []byte) []byte {
	v, ok := decodeJSON(raw)
	m, isMap := v.(map[string]any)
	if !ok || !isMap {
		return []byte(fmt.Sprintf("%q", fmt.Sprintf("[%d bytes, not a JSON object]", len(raw))))
	}
	if ps, ok := m["parameters"].([]any); ok {
		for _, p := range ps {
			if pm, ok := p.(map[string]any); ok {
				name, _ := pm["name"].(string)
				if pm["type"] == composiohttp.ParamQuery {
					pm["name"] = urlredact.ParamName(name, false)
				}
				switch v, isString := pm["value"].(string); {
				case credentials.IsSecretParam(name):
					pm["value"] = credentials.Redacted
				case isString && pm["type"] == composiohttp.ParamQuery:
					// A value that reads as parameters of its own
					// ("1;access_token=…"), as composiohttp.Parameter
					// prints it.
					pm["value"] = urlredact.ParamValue(name, v, false)
				}
			}
		}
	}
	if ep, ok := m["endpoint"].(string); ok {
		m["endpoint"] = urlredact.URLString(ep) // path parameters ("/app;jsessionid=…"), a query
	}
	if body, ok := m["body"]; ok {
		m["body"] = credentials.RedactValue(body)
	}
	if ccd, ok := m["custom_connection_data"].(map[string]any); ok {
		if val, ok := ccd["val"]; ok {
			ccd["val"] = credentials.RedactValue(val)
		}
	}
	if bb, ok := m["binary_body"].(map[string]any); ok {
		if u, ok := bb["url"].(string); ok {
			bb["url"] = redactURLString(u)
		}
	}
	out, err := json.Marshal(m)
	if err != nil {
		return []byte(`"[not shown]"`)
	}
	return out
}

// sentSecrets returns the values of the secret headers sent to Composio
// (the API key, a custom X-Auth-Token), for Scrub.
func sentSecrets(h http.Header) []string {
	var out []string
	for k, vs := range h {
		if secretHeader(k) {
			out = append(out, vs...)
		}
	}
	return out
}

// envelopeSecrets returns the secret values an envelope sends: those of
// secret header and query parameters and of custom_connection_data.val
// (credentials.Val.SecretValues), for Scrub.
func envelopeSecrets(raw []byte) []string {
	var env struct {
		Endpoint   string `json:"endpoint"`
		Parameters []struct {
			Name  string `json:"name"`
			Value string `json:"value"`
			Type  string `json:"type"`
		} `json:"parameters"`
		CCD *struct {
			Val credentials.Val `json:"val"`
		} `json:"custom_connection_data"`
	}
	if json.Unmarshal(raw, &env) != nil {
		return nil
	}
	out := urlredact.URLSecrets(env.Endpoint)
	for _, p := range env.Parameters {
		if p.Type == composiohttp.ParamQuery {
			out = append(out, valueSecrets(p.Name)...) // a name that reads as parameters
		}
		if credentials.IsSecretParam(p.Name) {
			out = append(out, p.Value)
		} else if p.Type == composiohttp.ParamQuery {
			out = append(out, valueSecrets(p.Value)...)
		}
	}
	if env.CCD != nil {
		out = append(out, env.CCD.Val.SecretValues()...)
	}
	return out
}

// valueSecrets returns the secrets of a query parameter's value (or name)
// that reads as parameters of its own, as urlredact.ParamValue hides
// them (credentials.RedactQuery: "1;sig=…", also escaped inside the
// value, "y%3Bsig%3D…"), raw and decoded as an upstream may echo them
// (credentials.QuerySecrets).
func valueSecrets(v string) []string { return credentials.QuerySecrets(v) }

// redactHeaderJSON redacts the JSON value v of upstream header name in a
// reply envelope by headerValue: a string, and each element of a list
// (the Transport refuses both lists and objects as malformed, but Dump
// prints the reply first). An object is credentials.Redacted; a number,
// boolean or null is kept unless the header is secret.
func redactHeaderJSON(name string, v any) any {
	switch x := v.(type) {
	case string:
		return headerValue(name, x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = redactHeaderJSON(name, e)
		}
		return out
	case map[string]any:
		return credentials.Redacted
	}
	if secretHeader(name) {
		return credentials.Redacted
	}
	return v
}

// redactReply redacts a proxy reply: an envelope's data, headers (headerValue)
// and signed URL, or an error reply's secret keys; and, in any other
// reply of Composio's API (a connected-accounts listing carries each
// account's credentials in state.val), the secret keys at any depth.
func redactReply(raw []byte) []byte {
	if len(raw) == 0 {
		return nil
	}
	v, ok := decodeJSON(raw)
	if !ok {
		return []byte(fmt.Sprintf("%q", fmt.Sprintf("[%d bytes, not JSON, not shown]", len(raw))))
	}
	if m, ok := v.(map[string]any); ok {
		if h, ok := m["headers"].(map[string]any); ok {
			for k, v := range h {
				h[k] = redactHeaderJSON(k, v)
			}
		}
		if d, ok := m["data"]; ok {
			m["data"] = credentials.RedactValue(d)
		}
		if bd, ok := m["binary_data"].(map[string]any); ok {
			if u, ok := bd["url"].(string); ok {
				bd["url"] = redactURLString(u)
			}
		}
		v = m
	}
	v = credentials.RedactValue(v)
	out, err := json.Marshal(v)
	if err != nil {
		return []byte(`"[not shown]"`)
	}
	return out
}
