package vcr_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/composiohttp/composiohttp"
	"github.com/composiohttp/composiohttp/credentials"
	"github.com/composiohttp/composiohttp/testutil"
	"github.com/composiohttp/composiohttp/testutil/vcr"
)

// echo answers with everything it received, as JSON, and a presigned
// S3-style link.
func echo() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.Header.Get("Content-Type") == "application/octet-stream" {
			// Binary in, binary out: a short reply naming the size.
			w.Header().Set("Content-Type", "application/octet-stream")
			fmt.Fprintf(w, "\x00%d bytes", len(body))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Set-Cookie", "session=PLANTED_set_cookie_value; Path=/")
		json.NewEncoder(w).Encode(map[string]any{
			"method": r.Method, "path": r.URL.Path, "query": r.URL.RawQuery, "values": decodedTwice(r.URL.Query()),
			"headers": r.Header, "body": string(body),
			"download": "https://bucket.s3.amazonaws.com/k?X-Amz-Signature=PLANTEDsig3aaaa&X-Amz-Expires=60",
			// A session the server mints into a link (servlet URL
			// rewriting), never sent: a secret path parameter.
			"next": "https://echo.example.com/app;jsessionid=PLANTED_minted_session;v=2/next",
		})
	})
}

// decodedTwice is each query value decoded once more, as a server
// that decodes twice reads it.
func decodedTwice(q url.Values) map[string]string {
	out := make(map[string]string, len(q))
	for k, vs := range q {
		if d, err := url.QueryUnescape(vs[0]); err == nil {
			out[k] = d
		}
	}
	return out
}

// plantedVal fills the fields scheme requires, and a refresh token and a
// client secret, with values that name the scheme and the field.
func plantedVal(scheme credentials.Scheme) credentials.Val {
	v := credentials.Val{BaseURL: "https://echo.example.com", ConsumerKey: "ck_12345"}
	reqs, _ := credentials.Required(scheme)
	keys := []string{"refresh_token", "client_secret"}
	for _, alts := range reqs {
		keys = append(keys, alts[0])
	}
	for _, k := range keys {
		val := "PLANTED_" + string(scheme) + "_" + k
		switch k {
		case "private_key":
			val = "-----BEGIN RSA PRIVATE KEY-----\nPLANTED_" + string(scheme) + "_pem\n-----END RSA PRIVATE KEY-----\n"
		case "credentials_json":
			val = `{"type":"service_account","client_email":"sa@example.iam.gserviceaccount.com","private_key":"PLANTED_` + string(scheme) + `_gsa_key"}`
		case "application_id", "installation_id", "client_id":
			val = "12345"
		}
		v.Set(k, val)
	}
	return v
}

// applier applies credentials as the fake does, except the two
// token-exchange schemes, which get a stand-in header (their exchange
// needs a token endpoint, and their derived token is not a planted secret).
func applier(ctx context.Context, conn *credentials.Connection, r *http.Request) error {
	switch conn.AuthScheme {
	case credentials.ServiceAccount, credentials.GoogleServiceAccount:
		r.Header.Set("Authorization", "Bearer exchanged_token")
		return nil
	}
	return testutil.ApplyCredentials(ctx, conn, r)
}

func TestScrubKeepsEverySecretOutOfTheCassette(t *testing.T) {
	t.Parallel()
	const (
		apiKey     = "ak_live_PLANTED_api_key_0001"
		userKey    = "uak_PLANTED_user_key_0002"
		registered = "PLANTED_registered_value"
		accountTok = "PLANTED_account_token"
		userAuth   = "PLANTED_user_authorization"
		cookie     = "PLANTED_cookie_value"
		uploadSig  = "PLANTEDsig1aaaa"
		uploadCred = "PLANTEDcred2aaaa"
		uploadTok  = "PLANTEDtok4aaaa"
		semiTok    = "PLANTED_semicolon_token"
		semiSig    = "PLANTED_semicolon_sig"
		nameSig    = "PLANTED_name_sig"
		pathSess   = "PLANTED_path_session"
		pathSid    = "PLANTED_path_sid"
		escSig     = "PLANTED_escaped_sig"
	)
	srv := testutil.NewServer(t, testutil.WithAPIKey(apiKey), testutil.WithUserAPIKey(userKey),
		testutil.WithCredentialApplier(applier))
	srv.AddUpstream("https://echo.example.com", echo())
	srv.AddUpstream("https://uploads.example.com", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		io.WriteString(w, "uploaded bytes")
	}))
	srv.AddAccount(testutil.Account{ID: "ca_echo", AuthScheme: credentials.BearerToken,
		Val: credentials.Val{Token: accountTok}, BaseURL: "https://echo.example.com", Handler: echo()})

	name := filepath.Join(t.TempDir(), "scrub")
	signedUpload := "https://uploads.example.com/obj?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=" + uploadCred +
		"&X-Amz-Signature=" + uploadSig + "&X-Amz-Security-Token=" + uploadTok + "&sig=" + uploadSig + "&token=" + uploadTok
	opts := func(mode vcr.Mode, real http.RoundTripper) []vcr.Option {
		return []vcr.Option{vcr.WithMode(mode), vcr.WithRealTransport(real), vcr.WithSecrets(registered, accountTok)}
	}
	upload := func(ctx context.Context, body io.Reader, size int64, ct string) (string, error) {
		_, err := io.Copy(io.Discard, body)
		return signedUpload, err
	}

	// session sends every call through tr (made for the given API key).
	session := func(t *testing.T, newTransport func(key string) *composiohttp.Transport) {
		t.Helper()
		do := func(tr *composiohttp.Transport, req *http.Request) {
			t.Helper()
			resp, err := (&http.Client{Transport: tr}).Do(req)
			if err != nil {
				t.Fatalf("%s %s: %v", req.Method, req.URL, err)
			}
			if _, err := io.ReadAll(resp.Body); err != nil {
				t.Fatalf("%s %s: body: %v", req.Method, req.URL, err)
			}
			resp.Body.Close()
		}
		// Each scheme, as custom_connection_data, with the key in a body too.
		for _, scheme := range credentials.Schemes() {
			tr := newTransport(apiKey)
			tr.Connection = &credentials.Connection{AuthScheme: scheme, ToolkitSlug: "echo", Val: plantedVal(scheme)}
			req, _ := http.NewRequest(http.MethodPost, "https://echo.example.com/x?scheme="+string(scheme),
				strings.NewReader(`{"note":"`+apiKey+`","scheme":"`+string(scheme)+`"}`))
			req.Header.Set("Content-Type", "application/json")
			do(tr, req)
		}
		// The account, with Authorization and cookie parameters, a registered
		// value in the query and the body, and the user key.
		tr := newTransport(userKey)
		tr.ConnectedAccountID = "ca_echo"
		// A secret after a ";" (which some servers split parameters on)
		// in the query and in a query parameter's value, and in a name
		// (x%3Bsig%3D…=1: the parameter named "x;sig=…").
		// Secret path parameters (/y;jsessionid=…), and a secret escaped
		// inside a query value (c="z%3Bsig%3D…", echoed decoded).
		req, _ := http.NewRequest(http.MethodPost, "https://echo.example.com/y;jsessionid="+pathSess+"/w;v=1;sid="+pathSid+"?q="+registered+"&api_key="+registered+"x"+
			"&a=1;access_token="+semiTok+"&b=2;sig="+semiSig+"&x%3Bsig%3D"+nameSig+"=1&c=z%253Bsig%253D"+escSig,
			strings.NewReader(`{"v":"`+registered+`","theme":"dark"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+userAuth)
		req.Header.Set("Cookie", "session="+cookie+"; theme=dark")
		do(tr, req)
		// A body over the inline limit goes by a signed upload URL; the echo
		// of those bytes comes back as a signed binary_data URL.
		tr = newTransport(apiKey)
		tr.ConnectedAccountID, tr.Upload = "ca_echo", upload
		req, _ = http.NewRequest(http.MethodPut, "https://echo.example.com/big", bytes.NewReader(make([]byte, composiohttp.MaxInlineBody+1)))
		req.Header.Set("Content-Type", "application/octet-stream")
		do(tr, req)
	}

	rec, err := vcr.New(name, opts(vcr.ModeRecordOnly, srv.Transport().Base)...)
	if err != nil {
		t.Fatal(err)
	}
	session(t, func(key string) *composiohttp.Transport {
		tr := srv.Transport()
		tr.APIKey, tr.Base = key, rec
		return tr
	})
	if err := rec.Stop(); err != nil {
		t.Fatal(err)
	}
	file, err := os.ReadFile(name + ".yaml")
	if err != nil {
		t.Fatal(err)
	}

	planted := []string{apiKey, userKey, registered, accountTok, userAuth, cookie, uploadSig, uploadCred, uploadTok, semiTok, semiSig, nameSig,
		pathSess, pathSid, escSig,
		"PLANTEDsig3aaaa", "PLANTED_set_cookie_value", "PLANTED_minted_session"}
	for _, scheme := range credentials.Schemes() {
		v := plantedVal(scheme)
		for _, k := range []string{"refresh_token", "client_secret", "access_token", "api_key", "username", "password",
			"token", "oauth_token", "oauth_token_secret", "private_key", "credentials_json"} {
			if s, ok := v.Get(k); ok && credentials.IsSecret(k) {
				planted = append(planted, s)
			}
		}
		user, _ := v.Get("username")
		pass, _ := v.Get("password")
		if user != "" {
			planted = append(planted, base64.StdEncoding.EncodeToString([]byte(user+":"+pass)))
		}
		planted = append(planted, "PLANTED_"+string(scheme)+"_pem", "PLANTED_"+string(scheme)+"_gsa_key")
	}
	for _, p := range planted {
		q, _ := json.Marshal(p)
		for _, form := range []string{p, string(q[1 : len(q)-1])} {
			if bytes.Contains(file, []byte(form)) {
				t.Errorf("the cassette holds the secret %q", form)
			}
		}
	}
	// Everything that is left of a planted value is a planted name.
	for _, line := range strings.Split(string(file), "\n") {
		if i := strings.Index(line, "PLANTED"); i >= 0 {
			t.Errorf("a planted value is left in the cassette: %s", strings.TrimSpace(line))
		}
	}
	for _, want := range []string{vcr.Redacted, "X-Amz-Signature=" + vcr.RedactedParam, vcr.BinaryBaseURL, `"scheme":"OAUTH2"`, `"theme":"dark"`} {
		if !bytes.Contains(file, []byte(want)) {
			t.Errorf("the cassette does not hold %q", want)
		}
	}
	if t.Failed() {
		t.Logf("cassette:\n%s", file)
	}

	// The scrubbed cassette still answers the same calls, offline.
	replay, err := vcr.New(name, opts(vcr.ModeReplayOnly, failingTransport{})...)
	if err != nil {
		t.Fatal(err)
	}
	defer replay.Stop()
	session(t, func(key string) *composiohttp.Transport {
		return &composiohttp.Transport{APIKey: key, BaseURL: "http://127.0.0.1:1", Base: replay}
	})
}
