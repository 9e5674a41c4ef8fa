package redactcheck_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/composiohttp/composiohttp"
	"github.com/composiohttp/composiohttp/credentials"
	"github.com/composiohttp/composiohttp/internal/redactcheck"
	"github.com/composiohttp/composiohttp/middleware"
	"github.com/composiohttp/composiohttp/middleware/breaker"
	"github.com/composiohttp/composiohttp/middleware/breaker/redisbreaker"
	"github.com/composiohttp/composiohttp/middleware/cache"
	"github.com/composiohttp/composiohttp/middleware/cache/rediscache"
	"github.com/composiohttp/composiohttp/middleware/logging"
	"github.com/composiohttp/composiohttp/middleware/otelproxy"
	"github.com/composiohttp/composiohttp/middleware/ratelimit"
	"github.com/composiohttp/composiohttp/middleware/ratelimit/redislimit"
	"github.com/composiohttp/composiohttp/middleware/retry"
	"github.com/composiohttp/composiohttp/middleware/retry/redisbudget"
	"github.com/composiohttp/composiohttp/middleware/sdktoken"
	"github.com/composiohttp/composiohttp/schemes"
	"github.com/composiohttp/composiohttp/testutil"
	"github.com/composiohttp/composiohttp/testutil/fakegithub"
	"github.com/composiohttp/composiohttp/testutil/fakeslack"
	"github.com/composiohttp/composiohttp/testutil/vcr"
	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// sample is one value to print, and the secrets it holds.
type sample struct {
	name    string
	v       any
	secrets []string
}

// wire marks a sample whose json.Marshal is the wire format (documented
// on the type), which carries the values: only fmt and slog are checked.
type wire struct{ v any }

// entry registers an exported type: samples holding secrets of every
// kind the type can hold, or, for a type that holds no secret, the
// reason why.
type entry struct {
	samples  func(t *testing.T) []sample
	noSecret string
}

// Secrets planted in the samples.
const (
	apiKey     = "ak_SECRET_apikey_1"
	userAPIKey = "uak_SECRET_userkey_1"
	hdrSecret  = "SECRET_custom_header_1"
	accessTok  = "SECRET_access_token_1"
	refreshTok = "SECRET_refresh_token_1"
	clientSec  = "SECRET_client_secret_1"
	password   = "SECRET_password_1"
	redisPass  = "SECRET_redis_password_1"
	newTok     = "SECRET_refreshed_token_1"
	ghTok      = "SECRET_installation_token_1"
	googTok    = "SECRET_google_token_1"
	consumerS  = "SECRET_consumer_secret_1"
)

var connSecrets = []string{accessTok, refreshTok, clientSec, password}

func conn() *credentials.Connection {
	return &credentials.Connection{AuthScheme: credentials.OAuth2, ToolkitSlug: "github", Val: credentials.Val{
		AccessToken: accessTok, RefreshToken: refreshTok, ClientID: "client-id", ClientSecret: clientSec,
		Password: password, BaseURL: "https://api.github.com",
	}}
}

var connJSON = func() string {
	b, err := credentials.MarshalWire(conn())
	if err != nil {
		panic(err)
	}
	return string(b)
}()

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// stub answers every request 200 with an empty JSON object.
type stub struct{}

func (stub) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		r.Body.Close()
	}
	return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(strings.NewReader(`{"status":200,"data":{}}`)), Request: r}, nil
}

// proxyTransport is a Transport holding every kind of secret, used once
// so that its derived configuration exists.
func proxyTransport(t *testing.T) *composiohttp.Transport {
	tr := &composiohttp.Transport{
		APIKey: apiKey, BaseURL: "https://backend.example.com", ConnectedAccountID: "ca_1",
		Connection: conn(), Header: http.Header{"X-Custom-Auth": {hdrSecret}}, Base: stub{},
	}
	req, _ := http.NewRequest("GET", "https://api.github.com/user", nil)
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return tr
}

var transportSecrets = append([]string{apiKey, hdrSecret}, connSecrets...)

// tokenServer answers every token request with access_token tok.
func tokenServer(t *testing.T, tok string) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"access_token":"`+tok+`","token":"`+tok+`","token_type":"Bearer","expires_in":3600,"expires_at":"2999-01-01T00:00:00Z"}`)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func rsaPEM(t *testing.T) string {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}))
}

// apply runs a's Apply once so that its cache holds a token.
func apply(t *testing.T, a schemes.Adapter, c *credentials.Connection) {
	req, _ := http.NewRequest("GET", "https://example.com/", nil)
	if err := a.Apply(context.Background(), c, req); err != nil {
		t.Fatal(err)
	}
}

func redisClient(t *testing.T) *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", Password: redisPass})
	t.Cleanup(func() { c.Close() })
	return c
}

func noSecret(reason string) entry { return entry{noSecret: reason} }

// registry lists every exported type of the module by package path
// relative to the module root ("." for the root package).
var registry = map[string]entry{
	// Root package.
	"./Transport": {samples: func(t *testing.T) []sample {
		tr := proxyTransport(t)
		return []sample{
			{"*Transport", tr, transportSecrets},
			{"*http.Client holding it", &http.Client{Transport: tr}, transportSecrets},
			{"a struct holding it", struct{ T *composiohttp.Transport }{tr}, transportSecrets},
			{"user key", &composiohttp.Transport{APIKey: userAPIKey}, []string{userAPIKey}},
		}
	}},
	"./CallInfo": noSecret("request id, statuses, counts, durations"),
	"./Error": {samples: func(t *testing.T) []sample {
		// A proxy error quoting everything the call sent.
		echo := roundTripFunc(func(r *http.Request) (*http.Response, error) {
			r.Body.Close()
			body := `{"error":{"message":"bad key ` + apiKey + ` header ` + hdrSecret + `","errors":["` + accessTok + `","` + password +
				`"],"request_id":"` + refreshTok + `","suggested_fix":"` + clientSec + `","status":401}}`
			return &http.Response{StatusCode: 401, Header: http.Header{"Content-Type": {"application/json"}},
				Body: io.NopCloser(strings.NewReader(body)), Request: r}, nil
		})
		tr := &composiohttp.Transport{APIKey: apiKey, BaseURL: "https://backend.example.com", Connection: conn(),
			Header: http.Header{"X-Custom-Auth": {hdrSecret}}, Base: echo}
		req, _ := http.NewRequest("GET", "https://api.github.com/user", nil)
		_, err := tr.RoundTrip(req)
		var perr *composiohttp.Error
		if !errors.As(err, &perr) {
			t.Fatalf("err = %v, want *Error", err)
		}
		return []sample{{"*Error", perr, transportSecrets}, {"Error", *perr, transportSecrets}, {"error", err, transportSecrets}}
	}},
	"./EnvelopeError": noSecret("a reason and an offset, never reply bytes"),
	"./BinaryError": {samples: func(*testing.T) []sample {
		// A Base's error for the download quotes the signed URL.
		const sig = "SECRET_binary_signature"
		e := &composiohttp.BinaryError{Err: &url.Error{Op: "Get", URL: "https://s3.example.com/o?X-Amz-Signature=" + sig, Err: io.ErrUnexpectedEOF}}
		// Some servers split the query on ";" too.
		semi := &composiohttp.BinaryError{Err: &url.Error{Op: "Get", URL: "https://s3.example.com/o?a=1;X-Amz-Signature=" + sig, Err: io.ErrUnexpectedEOF}}
		return []sample{{"*BinaryError", e, []string{sig}}, {"error", error(e), []string{sig}},
			{"*BinaryError, secret after a semicolon", semi, []string{sig}}}
	}},
	"./ProxyRequest": {samples: func(*testing.T) []sample {
		// A path parameter with a secret (Java servlets' session).
		path := composiohttp.ProxyRequest{Endpoint: "https://api.github.com/app;jsessionid=" + ghTok + "/user;sid=" + accessTok, Method: "GET"}
		return []sample{{"ProxyRequest", composiohttp.ProxyRequest{Endpoint: "https://api.github.com/user", Method: "GET",
			CustomConnectionData: conn()}, connSecrets},
			{"ProxyRequest, secret path parameters", wire{path}, []string{ghTok, accessTok}}}
	}},
	"./ProxyUnreachableError": {samples: func(t *testing.T) []sample {
		// A Base that quotes what it was sent in its error: the BaseURL's
		// password and secret query value, the API key, a secret header.
		quoting := roundTripFunc(func(r *http.Request) (*http.Response, error) {
			r.Body.Close()
			return nil, &url.Error{Op: "Post", URL: r.URL.String(), Err: errors.New("reset; sent key " + r.Header.Get("X-Api-Key") + " and " + r.Header.Get("X-Custom-Auth"))}
		})
		tr := &composiohttp.Transport{APIKey: apiKey, BaseURL: "https://u:" + password + "@backend.example.com/?token=" + refreshTok,
			Connection: conn(), Header: http.Header{"X-Custom-Auth": {hdrSecret}}, Base: quoting}
		req, _ := http.NewRequest("GET", "https://api.github.com/user", nil)
		_, err := tr.RoundTrip(req)
		var pe *composiohttp.ProxyUnreachableError
		if !errors.As(err, &pe) {
			t.Fatalf("err = %v, want a *ProxyUnreachableError", err)
		}
		secrets := []string{apiKey, password, refreshTok, hdrSecret}
		// Built by hand, it knows no secrets the Transport sent: the URL
		// its cause quotes is still shown redacted, as BinaryError's.
		hand := &composiohttp.ProxyUnreachableError{Host: "backend.example.com",
			Err: &url.Error{Op: "Post", URL: "https://u:" + password + "@backend.example.com/?token=" + refreshTok, Err: io.ErrUnexpectedEOF}}
		// Some servers split the query on ";" too.
		handSemi := &composiohttp.ProxyUnreachableError{Host: "backend.example.com",
			Err: &url.Error{Op: "Post", URL: "https://backend.example.com/?a=1;token=" + refreshTok, Err: io.ErrUnexpectedEOF}}
		// The Transport prints its BaseURL redacted (credentials.RedactURL),
		// and so does its error quoting it.
		semi := &composiohttp.Transport{APIKey: apiKey, BaseURL: "https://backend.example.com/?a=1;token=" + refreshTok,
			Connection: conn(), Base: quoting}
		_, semiErr := semi.RoundTrip(req)
		if !errors.As(semiErr, new(*composiohttp.ProxyUnreachableError)) {
			t.Fatalf("err = %v, want a *ProxyUnreachableError", semiErr)
		}
		return []sample{{"*ProxyUnreachableError", pe, secrets}, {"error", err, secrets},
			{"built by hand", hand, []string{password, refreshTok}}, {"built by hand, value", *hand, []string{password, refreshTok}},
			{"built by hand, secret after a semicolon", handSemi, []string{refreshTok}},
			{"*Transport, BaseURL secret after a semicolon", semi, []string{apiKey, refreshTok}},
			{"error, BaseURL secret after a semicolon", semiErr, []string{apiKey, refreshTok}}}
	}},
	"./DownloadError": noSecret("the refused download URL's host and a reason; its path and signed query are not kept, and the AllowDownload veto it wraps prints with the URL's secrets scrubbed (TestDownloadPolicy/hook quoting the URL)"),
	"./UploadError": {samples: func(*testing.T) []sample {
		// The UploadFunc's own error quotes the presigned URL its PUT
		// failed on, as net/http's client does.
		const sig = "SECRET_upload_signature"
		e := &composiohttp.UploadError{Size: 1 << 30, Read: 1 << 20, Reason: "Transport.Upload returned an error",
			Err: fmt.Errorf("storing the body: %w", &url.Error{Op: "Put", URL: "https://bucket.s3.amazonaws.com/o?X-Amz-Signature=" + sig, Err: io.ErrUnexpectedEOF})}
		bare := &composiohttp.UploadError{Size: -1, Reason: "Transport.Upload returned an error",
			Err: &url.Error{Op: "Put", URL: "https://bucket.s3.amazonaws.com/o?X-Amz-Signature=" + sig, Err: io.ErrUnexpectedEOF}}
		semi := &composiohttp.UploadError{Size: -1, Reason: "Transport.Upload returned an error",
			Err: &url.Error{Op: "Put", URL: "https://bucket.s3.amazonaws.com/o?a=1;X-Amz-Signature=" + sig, Err: io.ErrUnexpectedEOF}}
		return []sample{{"*UploadError", e, []string{sig}}, {"error", error(e), []string{sig}}, {"*UploadError, bare *url.Error", bare, []string{sig}},
			{"*UploadError, secret after a semicolon", semi, []string{sig}}}
	}},
	"./BinaryBody": noSecret("a request body (upstream data, not a credential) or its URL"),
	"./Parameter": {samples: func(*testing.T) []sample {
		hdr := composiohttp.Parameter{Name: "Authorization", Value: "Bearer " + accessTok, Type: composiohttp.ParamHeader}
		q := composiohttp.Parameter{Name: "api_key", Value: apiKey, Type: composiohttp.ParamQuery}
		// A value that carries a secret parameter after ";", which a
		// server splitting on ";" would read as one of its own.
		semi := composiohttp.Parameter{Name: "a", Value: "1;access_token=" + accessTok, Type: composiohttp.ParamQuery}
		// A name that reads as parameters of its own (the query
		// ?x%3Bsig%3D…=1, decoded), which the fake sends on escaped.
		named := composiohttp.Parameter{Name: "x;sig=" + ghTok, Value: "1", Type: composiohttp.ParamQuery}
		// A value escaped inside (sent on escaped twice, which RedactURL
		// hides): y%3Bsig%3D….
		escaped := composiohttp.Parameter{Name: "c", Value: "y%3Bsig%3D" + refreshTok, Type: composiohttp.ParamQuery}
		env := composiohttp.ProxyRequest{Endpoint: "https://api.github.com/user", Method: "GET",
			Parameters: []composiohttp.Parameter{hdr, q, semi, named}}
		secrets := []string{accessTok, apiKey, ghTok}
		return []sample{{"header", wire{hdr}, secrets}, {"query", wire{q}, secrets},
			{"query, secret after a semicolon", wire{semi}, secrets}, {"query, secret in the name", wire{named}, secrets},
			{"query, secret escaped inside the value", wire{escaped}, []string{refreshTok}},
			{"*Parameter", wire{&hdr}, secrets}, {"ProxyRequest", wire{env}, secrets}}
	}},
	"./ProxyResponse": noSecret("the upstream's reply"),
	"./BinaryData":    noSecret("where the upstream's reply is stored"),
	"./ErrorResponse": noSecret("the proxy's error reply; see Error"),
	"./ErrorBody":     noSecret("the proxy's error reply; see Error"),

	// Root package: choosing the account.
	"./ConnectedAccount":        noSecret("a connected account's ids, toolkit, status and times as the listing gives them; no credential"),
	"./NoConnectedAccountError": noSecret("a user id and a toolkit slug"),
	"./AmbiguousAccountError":   noSecret("a user id, a toolkit slug and account ids, aliases, word ids"),
	"./ToolkitError":            noSecret("a host and the toolkit lookup's error"),
	"./ResolveOptions":          noSecret("durations, a bound and a chooser func"),
	"./SessionOptions":          noSecret("account and auth config ids per toolkit"),

	// credentials.
	"credentials/Connection": {samples: func(*testing.T) []sample {
		c := conn()
		return []sample{{"Connection", *c, connSecrets}, {"*Connection", c, connSecrets}}
	}},
	"credentials/Val": {samples: func(*testing.T) []sample {
		c := conn()
		all, allSecrets := everySecretVal()
		return []sample{{"Val", c.Val, connSecrets}, {"*Val", &c.Val, connSecrets},
			{"every secret field", all, allSecrets}, {"*Val every secret field", &all, allSecrets},
			{"Connection every secret field", &credentials.Connection{AuthScheme: credentials.Basic, Val: all}, allSecrets}}
	}},
	"credentials/Scheme":             noSecret("a scheme name"),
	"credentials/MissingFieldError":  noSecret("names a field, never its value"),
	"credentials/UnknownSchemeError": noSecret("names a scheme"),
	"credentials/Source": {samples: func(t *testing.T) []sample {
		ctx := context.Background()
		path := filepath.Join(t.TempDir(), "conn.json")
		if err := os.WriteFile(path, []byte(connJSON), 0o600); err != nil {
			t.Fatal(err)
		}
		file := credentials.FileSource(path)
		env := credentials.EnvSource("REDACTCHECK_CONN")
		caching := credentials.CachingSource(file)
		static := credentials.StaticSource(conn())
		for _, s := range []credentials.Source{file, env, caching, static} {
			if _, err := s.Connection(ctx); err != nil {
				t.Fatal(err)
			}
		}
		return []sample{
			{"FileSource", file, connSecrets}, {"EnvSource", env, connSecrets},
			{"CachingSource", caching, connSecrets}, {"StaticSource", static, connSecrets},
			{"schemes.Transport with Source", schemes.Transport{Source: caching}, connSecrets},
		}
	}},

	// schemes.
	"schemes/Transport": {samples: func(t *testing.T) []sample {
		tr := schemes.Transport{Connection: conn()}
		return []sample{{"Transport", tr, connSecrets}, {"*Transport", &tr, connSecrets}}
	}},
	"schemes/OAuth2": {samples: func(t *testing.T) []sample {
		srv := tokenServer(t, newTok)
		a := &schemes.OAuth2{TokenURL: srv.URL, HTTPClient: srv.Client()}
		c := conn()
		c.Val.ExpiresAt = "2000-01-01T00:00:00Z"
		apply(t, a, c)
		return []sample{{"*OAuth2 after a refresh", a, []string{newTok}}}
	}},
	"schemes/GitHubApp": {samples: func(t *testing.T) []sample {
		srv := tokenServer(t, ghTok)
		a := &schemes.GitHubApp{BaseURL: srv.URL, HTTPClient: srv.Client()}
		apply(t, a, &credentials.Connection{AuthScheme: credentials.ServiceAccount, ToolkitSlug: "github",
			Val: credentials.Val{ApplicationID: "1", InstallationID: "2", PrivateKey: rsaPEM(t)}})
		return []sample{{"*GitHubApp after an exchange", a, []string{ghTok}}}
	}},
	"schemes/GoogleServiceAccount": {samples: func(t *testing.T) []sample {
		srv := tokenServer(t, googTok)
		a := &schemes.GoogleServiceAccount{TokenURL: srv.URL, HTTPClient: srv.Client()}
		key, _ := json.Marshal(map[string]string{"type": "service_account", "client_email": "sa@example.iam.gserviceaccount.com",
			"private_key": rsaPEM(t), "private_key_id": "kid", "token_uri": srv.URL})
		apply(t, a, &credentials.Connection{AuthScheme: credentials.GoogleServiceAccount, Val: credentials.Val{CredentialsJSON: string(key)}})
		return []sample{{"*GoogleServiceAccount after an exchange", a, []string{googTok}}}
	}},
	"schemes/OAuth1": {samples: func(*testing.T) []sample {
		a := schemes.OAuth1{ConsumerKey: "ck", ConsumerSecret: consumerS}
		return []sample{{"OAuth1", a, []string{consumerS}}, {"*OAuth1", &a, []string{consumerS}}}
	}},
	"schemes/TokenError": {samples: func(t *testing.T) []sample {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(400)
			io.WriteString(w, `{"error":"invalid_grant","error_description":"refresh token `+refreshTok+` revoked"}`)
		}))
		t.Cleanup(srv.Close)
		c := conn()
		c.Val.ExpiresAt = "2000-01-01T00:00:00Z"
		req, _ := http.NewRequest("GET", "https://example.com/", nil)
		err := (&schemes.OAuth2{TokenURL: srv.URL, HTTPClient: srv.Client()}).Apply(context.Background(), c, req)
		if err == nil {
			t.Fatal("refresh did not fail")
		}
		return []sample{{"TokenError", err, connSecrets}}
	}},
	"schemes/Registry": {samples: func(t *testing.T) []sample {
		srv := tokenServer(t, newTok)
		a := &schemes.OAuth2{TokenURL: srv.URL, HTTPClient: srv.Client()}
		c := conn()
		c.Val.ExpiresAt = "2000-01-01T00:00:00Z"
		apply(t, a, c)
		reg := schemes.NewRegistry()
		reg.Register(credentials.OAuth2, a)
		reg.Register(credentials.OAuth1, &schemes.OAuth1{ConsumerSecret: consumerS})
		return []sample{{"*Registry", reg, []string{newTok, consumerS}}}
	}},
	"schemes/NoAuth":              noSecret("no fields"),
	"schemes/Bearer":              noSecret("no fields"),
	"schemes/Basic":               noSecret("no fields"),
	"schemes/BasicWithJWT":        noSecret("no fields"),
	"schemes/APIKey":              noSecret("a toolkit registry"),
	"schemes/Placement":           noSecret("where a key goes, not the key"),
	"schemes/FieldPlacement":      noSecret("where a field goes, not its value"),
	"schemes/Toolkit":             noSecret("toolkit metadata: URLs and placements"),
	"schemes/ToolkitRegistry":     noSecret("toolkit metadata"),
	"schemes/WithheldError":       noSecret("redacted URLs (credentials.RedactURL) and a toolkit slug"),
	"schemes/UnknownToolkitError": noSecret("a toolkit slug"),
	"schemes/HostToolkitError":    noSecret("a host and toolkit slugs"),
	"schemes/UnknownSchemeError":  noSecret("a scheme name"),
	"schemes/MissingFieldError":   noSecret("names a field, never its value"),

	// middleware: each wraps a Transport holding secrets.
	"middleware/Middleware": {samples: func(t *testing.T) []sample {
		tr := proxyTransport(t)
		return []sample{
			{"logging", logging.New(tr), transportSecrets},
			{"otelproxy", otelproxy.New(tr), transportSecrets},
			{"cache", cache.New(tr), transportSecrets},
			{"retry", retry.New(tr), transportSecrets},
			{"breaker", breaker.New(tr), transportSecrets},
			{"ratelimit", ratelimit.New(tr, ratelimit.NewLocal(1, 1)), transportSecrets},
			{"Chain", middleware.Chain(tr, logging.Middleware(), retry.Middleware()), transportSecrets},
		}
	}},
	// New returns each middleware's concrete *Transport.
	"middleware/logging/Transport": {samples: func(t *testing.T) []sample {
		return []sample{{"*Transport", logging.New(proxyTransport(t)), transportSecrets}}
	}},
	"middleware/otelproxy/Transport": {samples: func(t *testing.T) []sample {
		return []sample{{"*Transport", otelproxy.New(proxyTransport(t)), transportSecrets}}
	}},
	"middleware/cache/Transport": {samples: func(t *testing.T) []sample {
		return []sample{{"*Transport", cache.New(proxyTransport(t)), transportSecrets}}
	}},
	"middleware/retry/Transport": {samples: func(t *testing.T) []sample {
		return []sample{{"*Transport", retry.New(proxyTransport(t)), transportSecrets}}
	}},
	"middleware/breaker/Transport": {samples: func(t *testing.T) []sample {
		return []sample{{"*Transport", breaker.New(proxyTransport(t)), transportSecrets}}
	}},
	"middleware/ratelimit/Transport": {samples: func(t *testing.T) []sample {
		return []sample{{"*Transport", ratelimit.New(proxyTransport(t), ratelimit.NewLocal(1, 1)), transportSecrets}}
	}},
	"middleware/breaker/Counts":   noSecret("gobreaker's counters"),
	"middleware/breaker/State":    noSecret("gobreaker's state number"),
	"middleware/breaker/Settings": noSecret("thresholds and durations"),
	"middleware/breaker/Local":    noSecret("breakers per key (a host or an account id)"),
	"middleware/breaker/redisbreaker/Group": {samples: func(t *testing.T) []sample {
		g := &redisbreaker.Group{Client: redisClient(t)}
		return []sample{{"*Group", g, []string{redisPass}}}
	}},
	"middleware/breaker/OpenError":        noSecret("a breaker key (a host or an account id) and a time"),
	"middleware/ratelimit/LimitError":     noSecret("an account id and a wait"),
	"middleware/ratelimit/Local":          noSecret("rates and per-key buckets"),
	"middleware/ratelimit/LocalStats":     noSecret("counts of keys"),
	"middleware/otelproxy/Metrics":        noSecret("OTel instruments"),
	"middleware/retry/Budget":             noSecret("counts of calls and retries"),
	"middleware/retry/BudgetError":        noSecret("wraps the last attempt's error, which is checked on its own"),
	"middleware/ratelimit/OrgLimiter":     noSecret("counts and times of the organisation's window"),
	"middleware/ratelimit/OrgObservation": noSecret("counts and durations from rate-limit headers"),
	"middleware/ratelimit/OrgState":       noSecret("counts and times of the organisation's window"),
	"middleware/retry/Event":              noSecret("attempt counts, statuses and errors of the layers below"),
	"middleware/cache/MemoryStore":        noSecret("cached upstream responses under hashed keys"),
	"middleware/cache/rediscache/Store": {samples: func(t *testing.T) []sample {
		s := rediscache.New(redisClient(t))
		return []sample{{"*Store", s, []string{redisPass}}, {"Store", *s, []string{redisPass}}}
	}},
	"middleware/ratelimit/redislimit/Limiter": {samples: func(t *testing.T) []sample {
		l := redislimit.New(redisClient(t), redislimitLimit)
		return []sample{{"*Limiter", l, []string{redisPass}}}
	}},
	"middleware/retry/redisbudget/Store": {samples: func(t *testing.T) []sample {
		return []sample{{"*Store", &redisbudget.Store{Client: redisClient(t)}, []string{redisPass}}}
	}},
	"middleware/ratelimit/redislimit/OrgStore": {samples: func(t *testing.T) []sample {
		return []sample{{"*OrgStore", &redislimit.OrgStore{Client: redisClient(t)}, []string{redisPass}}}
	}},
	"middleware/ratelimit/redislimit/ReplyError": noSecret("an operation name and a script's reply: a wait in milliseconds and a reason word"),

	// testutil.
	"testutil/Server": {samples: func(t *testing.T) []sample {
		srv := testutil.NewServer(t, testutil.WithAPIKey(apiKey), testutil.WithUserAPIKey(userAPIKey))
		srv.AddAccount(testutil.Account{ID: "ca_1", Toolkit: "github", AuthScheme: credentials.OAuth2, Val: conn().Val,
			Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "{}") })})
		tr := srv.Transport()
		tr.ConnectedAccountID = "ca_1"
		req, _ := http.NewRequest("GET", "https://api.github.com/user", nil)
		if resp, err := tr.RoundTrip(req); err == nil {
			resp.Body.Close()
		}
		secrets := append([]string{apiKey, userAPIKey}, connSecrets...)
		return []sample{{"*Server", srv, secrets}, {"Requests()", srv.Requests(), secrets}}
	}},
	"testutil/Account": {samples: func(*testing.T) []sample {
		a := testutil.Account{ID: "ca_1", AuthScheme: credentials.OAuth2, Val: conn().Val}
		return []sample{{"Account", a, connSecrets}, {"*Account", &a, connSecrets}}
	}},
	"testutil/Recorded": {samples: func(*testing.T) []sample {
		r := testutil.Recorded{Envelope: composiohttp.ProxyRequest{CustomConnectionData: conn(),
			Parameters: []composiohttp.Parameter{{Name: "X-Api-Token", Value: hdrSecret, Type: composiohttp.ParamHeader},
				{Name: "a", Value: "1;access_token=" + accessTok, Type: composiohttp.ParamQuery},
				{Name: "x;sig=" + ghTok, Value: "1", Type: composiohttp.ParamQuery}}},
			Body: []byte(`{"custom_connection_data":` + connJSON + `,"parameters":[{"name":"X-Api-Token","value":"` + hdrSecret + `","type":"header"},` +
				`{"name":"a","value":"1;access_token=` + accessTok + `","type":"query"},{"name":"x;sig=` + ghTok + `","value":"1","type":"query"}]}`)}
		secrets := append([]string{hdrSecret, accessTok, ghTok}, connSecrets...)
		// An endpoint with a secret path parameter, in the envelope and
		// in the body it came from.
		p := testutil.Recorded{Envelope: composiohttp.ProxyRequest{Endpoint: "https://api.github.com/app;jsessionid=" + refreshTok + "/user"},
			Body: []byte(`{"endpoint":"https://api.github.com/app;jsessionid=` + refreshTok + `/user","method":"GET"}`)}
		return []sample{{"Recorded", r, secrets}, {"*Recorded", &r, secrets},
			{"Recorded, secret path parameter", p, []string{refreshTok}}}
	}},
	"testutil/Fault":             noSecret("a scripted proxy error"),
	"testutil/LogDrops":          noSecret("four counts of dropped log entries"),
	"testutil/fakegithub/Issue":  noSecret("a fake GitHub issue"),
	"testutil/fakeslack/Channel": noSecret("a fake Slack channel"),
	"testutil/fakeslack/Message": noSecret("a fake Slack message"),
	"testutil/fakeslack/Workspace": {samples: func(*testing.T) []sample {
		w := fakeslack.New("Acme", accessTok)
		return []sample{{"*Workspace", w, []string{accessTok}}}
	}},
	"middleware/sdktoken/Transport": {samples: func(t *testing.T) []sample {
		return []sample{{"*Transport", sdktoken.New(proxyTransport(t)), transportSecrets}}
	}},
	"testutil/fakegithub/Handler": {samples: func(*testing.T) []sample {
		h := fakegithub.New(accessTok)
		return []sample{{"*Handler", h, []string{accessTok}}}
	}},
	"testutil/Route": noSecret("a canned upstream reply a test registered (testutil.Server.On)"),
	"testutil/UpstreamCall": {samples: func(t *testing.T) []sample {
		srv := testutil.NewServer(t)
		srv.AddAccount(testutil.Account{ID: "ca_1", Toolkit: "github", AuthScheme: credentials.OAuth2, Val: conn().Val,
			Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "{}") })})
		srv.AddAccount(testutil.Account{ID: "ca_2", Toolkit: "gmail", AuthScheme: credentials.APIKey,
			Val: credentials.Val{GenericAPIKey: hdrSecret}, Handler: testutil.NewEcho()})
		tr := srv.Transport()
		// The third: a query value that reads as parameters of its own,
		// which the fake sends on escaped (a=1%3Baccess_token%3D...).
		for _, call := range [][2]string{{"ca_1", "https://api.github.com/user"}, {"ca_2", "https://gmail.googleapis.com/x"},
			{"ca_2", "https://gmail.googleapis.com/x?a=1;access_token=" + accessTok},
			// The fourth: such a value escaped once more in the parameter
			// (a="b=1%3Bsig%3D..."), which Parameter prints hidden and the
			// fake sends on escaped twice (a=b%3D1%253Bsig%253D...).
			{"ca_2", "https://gmail.googleapis.com/x?a=b%3D1%253Bsig%253D" + ghTok},
			// The fifth: a secret path parameter.
			{"ca_2", "https://gmail.googleapis.com/app;jsessionid=" + refreshTok + "/x"}} {
			tr.ConnectedAccountID = call[0]
			req, _ := http.NewRequest("GET", call[1], nil)
			if resp, err := tr.RoundTrip(req); err == nil {
				resp.Body.Close()
			}
		}
		calls := srv.Calls("", "/")
		if len(calls) != 5 {
			t.Fatalf("%d upstream calls recorded", len(calls))
		}
		secrets := append([]string{hdrSecret, accessTok, ghTok}, connSecrets...)
		return []sample{{"UpstreamCall", calls[0], secrets}, {"*UpstreamCall", &calls[1], secrets}, {"Calls()", calls, secrets},
			{"UpstreamCall, secret in a query value", calls[2], secrets}, {"UpstreamCall, secret in a value escaped twice", calls[3], secrets},
			{"UpstreamCall, secret path parameter", calls[4], []string{refreshTok}}}
	}},
	"testutil/Echo": {samples: func(*testing.T) []sample {
		e := testutil.NewEcho()
		req := httptest.NewRequest("GET", "https://api.example.com/x?api_key="+hdrSecret, nil)
		req.Header.Set("Authorization", "Bearer "+accessTok)
		req.Header.Set("Cookie", "s="+refreshTok)
		req.Header.Set("X-Api-Key", apiKey)
		e.ServeHTTP(httptest.NewRecorder(), req)
		// A query value that reads as parameters of its own, escaped as
		// the fake forwards it.
		e.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "https://api.example.com/x?a=1%3Bsig%3D"+ghTok, nil))
		secrets := []string{hdrSecret, accessTok, refreshTok, apiKey, ghTok}
		last, _ := e.Last()
		return []sample{{"*Echo", e, secrets}, {"Requests()", e.Requests(), secrets}, {"EchoRequest", last, secrets}}
	}},
	"testutil/EchoRequest":    noSecret("sampled with testutil/Echo: headers and query redacted when recorded"),
	"testutil/AccountListing": noSecret("a listing's path, query (filters, never the API key: that is a header) and status"),
	"testutil/SessionInfo":    noSecret("a session's id, user id and pinned account and auth config ids"),
	"testutil/vcr/Recorder": {samples: func(t *testing.T) []sample {
		dir := t.TempDir()
		r, err := vcr.New(filepath.Join(dir, "cassette"), vcr.WithMode(vcr.ModeRecordOnly),
			vcr.WithSecrets(apiKey, accessTok), vcr.WithRealTransport(proxyTransport(t)))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { r.Stop() })
		return []sample{{"*Recorder", r, transportSecrets}}
	}},
	"testutil/vcr/MismatchError": noSecret("descriptions scrubbed as the cassette is"),
	"testutil/vcr/Mode":          noSecret("go-vcr's mode number"),

	// internal.
	"internal/jsonscan/Error":    noSecret("a reason and an offset, never the input"),
	"internal/benchcpu/Named":    noSecret("a benchmark name and its RoundTripper"),
	"internal/redistest/Server":  noSecret("a private redis-server (no password) for tests"),
	"internal/redistest/Failure": noSecret("a name and a way to break a test's redis-server"),
	"testutil/Download":          noSecret("a blob id and redacted headers"),
}

// notImportable are packages whose exported types no other package can
// use, or that are programs' own helpers, with the reason.
var notImportable = map[string]string{
	"examples/recorded": "an example's own summary of a repository (no credentials)",
}

// exportedTypes returns "dir/Name" for every exported type of every
// non-main package of the module (dir relative to the module root, "."
// for the root), except interfaces and function types, which hold no
// data themselves.
func exportedTypes(t *testing.T) []string {
	var out []string
	walkModule(t, func(dir string, f *ast.File) {
		for _, decl := range f.Decls {
			g, ok := decl.(*ast.GenDecl)
			if !ok || g.Tok != token.TYPE {
				continue
			}
			for _, s := range g.Specs {
				ts := s.(*ast.TypeSpec)
				if !ts.Name.IsExported() {
					continue
				}
				if holdsNoData(ts) {
					if _, ok := registry[dir+"/"+ts.Name.Name]; !ok {
						continue
					}
				}
				out = append(out, dir+"/"+ts.Name.Name)
			}
		}
	})
	slices.Sort(out)
	return out
}

// walkModule calls fn with every non-test file of every non-main package
// of the module outside testdata and notImportable, and its directory
// relative to the module root ("." for the root).
func walkModule(t *testing.T, fn func(dir string, f *ast.File)) {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatal("module root not found:", err)
	}
	fset := token.NewFileSet()
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if n := d.Name(); path != root && (n == "testdata" || strings.HasPrefix(n, ".") || strings.HasPrefix(n, "_")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		if f.Name.Name == "main" {
			return nil
		}
		dir, _ := filepath.Rel(root, filepath.Dir(path))
		dir = filepath.ToSlash(dir)
		if _, ok := notImportable[dir]; ok {
			return nil
		}
		fn(dir, f)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// holdsNoData reports the declarations that need no entry: interfaces and
// function types (their implementations are what holds data), and named
// numbers and booleans.
func holdsNoData(ts *ast.TypeSpec) bool {
	switch t := ts.Type.(type) {
	case *ast.InterfaceType, *ast.FuncType:
		return true
	case *ast.Ident:
		switch t.Name {
		case "bool", "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64",
			"uintptr", "float32", "float64", "byte", "rune":
			return true
		}
	}
	return false
}

// TestEveryExportedTypeRegistered fails when an exported type is added
// without a registry entry, or an entry names a type that is gone.
func TestEveryExportedTypeRegistered(t *testing.T) {
	t.Parallel()
	checkListed(t, exportedTypes(t), registry, "registry",
		fmt.Sprintf("add samples holding every kind of secret it can hold (printed redacted under %v, slog and json.Marshal), or noSecret(reason)", redactcheck.Verbs))
}

// checkListed fails t for every type of found that listed (internal/redactcheck's
// map called name) lacks, saying what to add, and every entry of listed
// that names no type of found.
func checkListed[V any](t *testing.T, found []string, listed map[string]V, name, add string) {
	t.Helper()
	for _, typ := range found {
		if _, ok := listed[typ]; !ok {
			t.Errorf("exported type %s is not in internal/redactcheck's %s: %s", typ, name, add)
		}
	}
	for typ := range listed {
		if !slices.Contains(found, typ) {
			t.Errorf("%s entry %s names no such exported type: remove it", name, typ)
		}
	}
}

// TestNoSecretShown prints every sample every way and looks for its
// secrets.
func TestNoSecretShown(t *testing.T) {
	t.Setenv("REDACTCHECK_CONN", connJSON)
	for name, e := range registry {
		if e.samples == nil {
			if e.noSecret == "" {
				t.Errorf("%s: an entry needs samples or a reason", name)
			}
			continue
		}
		t.Run(name, func(t *testing.T) {
			for _, s := range e.samples(t) {
				t.Run(s.name, func(t *testing.T) {
					v, skip := s.v, []string(nil)
					if w, ok := v.(wire); ok {
						v, skip = w.v, []string{"json.Marshal"}
					}
					redactcheck.CheckExcept(t, v, skip, s.secrets...)
				})
			}
		})
	}
}

var redislimitLimit = redis_rate.PerSecond(1)

// everySecretVal returns a Val with every secret key of every scheme set
// (the typed fields credentials.IsSecret names, Slack's authed_user, a
// secret Extra key), and the values it holds.
func everySecretVal() (credentials.Val, []string) {
	var v credentials.Val
	var secrets []string
	for _, k := range []string{"access_token", "refresh_token", "id_token", "client_secret", "generic_api_key", "api_key",
		"bearer_token", "basic_encoded", "token", "username", "password", "oauth_token", "oauth_token_secret",
		"oauth_verifier", "private_key", "x_custom_secret"} {
		val := "SECRET_every_" + k
		v.Set(k, val)
		secrets = append(secrets, val)
	}
	v.Set("credentials_json", `{"type":"service_account","private_key":"SECRET_every_gsa_key"}`)
	v.AuthedUser = json.RawMessage(`{"id":"U1","access_token":"SECRET_every_authed_user"}`)
	return v, append(secrets, "SECRET_every_gsa_key", "SECRET_every_authed_user")
}
