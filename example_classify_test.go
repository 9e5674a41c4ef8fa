package composiohttp_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/composiohttp/composiohttp"
	"github.com/composiohttp/composiohttp/credentials"
	"github.com/composiohttp/composiohttp/middleware/breaker"
	"github.com/composiohttp/composiohttp/testutil"
)

// advice is what a caller does about each Code: the one switch that sorts
// every failure of a call, whatever its type.
func advice(err error) string {
	switch composiohttp.CodeOf(err) {
	case composiohttp.CodeOK:
		return "done"
	case composiohttp.CodeUnauthenticated, composiohttp.CodePermissionDenied:
		return "check COMPOSIO_API_KEY"
	case composiohttp.CodeAccountNotFound, composiohttp.CodeAccountNotActive:
		return "ask the user to connect the account again"
	case composiohttp.CodeOriginMismatch:
		return "call a URL on the account's own site"
	case composiohttp.CodeNoAuthContext:
		return "choose a connected account"
	case composiohttp.CodePayloadTooLarge:
		return "set Transport.Upload for large bodies"
	case composiohttp.CodeRateLimited, composiohttp.CodeUnavailable, composiohttp.CodeUnreachable:
		return "retry later" // composiohttp.IsRetryable(err) is true
	case composiohttp.CodeInvalidRequest:
		return "fix the request"
	case composiohttp.CodeMalformedEnvelope:
		return "report the request id to Composio"
	case composiohttp.CodeBinaryBody:
		return "send the call again for a fresh download URL"
	case composiohttp.CodeCircuitOpen:
		return "wait for the breaker (OpenError.RetryAt)"
	case composiohttp.CodeCanceled, composiohttp.CodeDeadlineExceeded:
		return "the caller gave up"
	default:
		return "log it"
	}
}

// CodeOf sorts every kind of failure: here the fake proxy of package
// testutil plays each one, with injected faults.
func ExampleCodeOf() {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	srv := testutil.NewUnstartedServer(testutil.WithClock(func() time.Time { return now }))
	srv.Start()
	defer srv.Close()
	files := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		w.Write([]byte("\x89PNG..."))
	})
	for _, a := range []testutil.Account{
		{ID: "ca_alice", Status: "ACTIVE"},
		{ID: "ca_expired", Status: "EXPIRED"},
	} {
		a.Toolkit, a.AuthScheme, a.Val = "github", credentials.OAuth2, credentials.Val{AccessToken: "gho_test"}
		a.BaseURL, a.Handler = "https://api.github.com", files
		srv.AddAccount(a)
	}

	get := func(account, url string, edit func(*composiohttp.Transport, *http.Request)) error {
		tr := srv.Transport()
		tr.ConnectedAccountID = account
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		if edit != nil {
			edit(tr, req)
		}
		resp, err := (&http.Client{Transport: tr}).Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		_, err = io.ReadAll(resp.Body) // a binary body fails here, if at all
		return err
	}
	const user = "https://api.github.com/user"
	canceled, cancel := context.WithCancel(context.Background())
	cancel()

	cases := []struct {
		name string
		err  func() error
	}{
		{"success", func() error { return get("ca_alice", user, nil) }},
		{"bad API key", func() error {
			return get("ca_alice", user, func(tr *composiohttp.Transport, _ *http.Request) { tr.APIKey = "ak_wrong" })
		}},
		{"unknown account", func() error { return get("ca_nobody", user, nil) }},
		{"inactive account", func() error { return get("ca_expired", user, nil) }},
		{"user has no account", func() error {
			return get("", user, func(_ *composiohttp.Transport, r *http.Request) {
				*r = *r.WithContext(composiohttp.WithToolkit(composiohttp.WithUser(r.Context(), "dave"), "github"))
			})
		}},
		{"origin mismatch", func() error { return get("ca_alice", "https://evil.example/steal", nil) }},
		{"no auth context", func() error { return get("", user, nil) }},
		{"payload too large", func() error {
			return get("ca_alice", user, func(_ *composiohttp.Transport, r *http.Request) {
				r.Method = http.MethodPut
				r.Body = io.NopCloser(strings.NewReader(strings.Repeat("x", composiohttp.MaxInlineBody+1)))
			})
		}},
		{"rate limited", func() error {
			srv.Inject(testutil.Fault{Status: http.StatusTooManyRequests, RetryAfter: "30", Times: 1})
			return get("ca_alice", user, nil)
		}},
		{"proxy unavailable", func() error {
			srv.Inject(testutil.Fault{Status: http.StatusServiceUnavailable, Times: 1})
			return get("ca_alice", user, nil)
		}},
		{"proxy unreachable", func() error {
			srv.Inject(testutil.Fault{Drop: true, Times: 1})
			return get("ca_alice", user, nil)
		}},
		{"malformed envelope", func() error {
			srv.Inject(testutil.Fault{Malformed: true, Times: 1})
			return get("ca_alice", user, nil)
		}},
		{"bad request", func() error {
			return get("ca_alice", user, func(_ *composiohttp.Transport, r *http.Request) { r.Method = "CONNECT" })
		}},
		{"expired binary URL", func() error {
			tr := srv.Transport()
			tr.ConnectedAccountID = "ca_alice"
			resp, err := (&http.Client{Transport: tr}).Get("https://api.github.com/avatar.png")
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			now = now.Add(24 * time.Hour) // the signed URL expires before the body is read
			_, err = io.ReadAll(resp.Body)
			return err
		}},
		{"circuit open", func() error {
			tr := srv.Transport()
			tr.ConnectedAccountID = "ca_alice"
			g := breaker.NewLocal(breaker.Settings{ReadyToTrip: func(c breaker.Counts) bool { return c.ConsecutiveFailures >= 1 }})
			client := &http.Client{Transport: breaker.New(tr, breaker.WithGroup(g))}
			srv.Inject(testutil.Fault{Status: http.StatusBadGateway, Times: 1})
			if _, err := client.Get(user); err == nil {
				return errors.New("the 502 did not fail")
			}
			_, err := client.Get(user) // the breaker opened at the 502
			return err
		}},
		{"canceled", func() error {
			return get("ca_alice", user, func(_ *composiohttp.Transport, r *http.Request) { *r = *r.WithContext(canceled) })
		}},
	}
	for _, c := range cases {
		err := c.err()
		var perr *composiohttp.Error
		status := ""
		if errors.As(err, &perr) {
			status = fmt.Sprint(perr.StatusCode, " ", perr.Slug)
		}
		fmt.Printf("%-19s %-19s retry=%-5v %-29s %s\n", c.name, composiohttp.CodeOf(err), composiohttp.IsRetryable(err), status, advice(err))
	}
	// Output:
	// success             ok                  retry=false                               done
	// bad API key         unauthenticated     retry=false 401 InvalidAPIKey             check COMPOSIO_API_KEY
	// unknown account     account_not_found   retry=false 404 ConnectedAccountNotFound  ask the user to connect the account again
	// inactive account    account_not_active  retry=false 422 ConnectedAccountNotActive ask the user to connect the account again
	// user has no account account_not_found   retry=false                               ask the user to connect the account again
	// origin mismatch     origin_mismatch     retry=false 400 OriginMismatch            call a URL on the account's own site
	// no auth context     no_auth_context     retry=false                               choose a connected account
	// payload too large   payload_too_large   retry=false                               set Transport.Upload for large bodies
	// rate limited        rate_limited        retry=true  429 RateLimitExceeded         retry later
	// proxy unavailable   unavailable         retry=true  503 ServiceUnavailable        retry later
	// proxy unreachable   unreachable         retry=true                                retry later
	// malformed envelope  malformed_envelope  retry=false                               report the request id to Composio
	// bad request         invalid_request     retry=false                               fix the request
	// expired binary URL  binary_body         retry=false                               send the call again for a fresh download URL
	// circuit open        circuit_open        retry=false                               wait for the breaker (OpenError.RetryAt)
	// canceled            canceled            retry=false                               the caller gave up
}
