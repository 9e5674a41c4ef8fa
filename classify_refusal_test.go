package composiohttp_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/composiohttp/composiohttp"
	"github.com/composiohttp/composiohttp/credentials"
	"github.com/composiohttp/composiohttp/middleware/breaker"
	"github.com/composiohttp/composiohttp/middleware/ratelimit"
	"github.com/composiohttp/composiohttp/schemes"
)

// okRT answers every call with an empty 200.
type okRT struct{}

func (okRT) RoundTrip(*http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: 200, Header: http.Header{}, Body: http.NoBody}, nil
}

// failRT answers every call with the proxy's 502.
type failRT struct{}

func (failRT) RoundTrip(*http.Request) (*http.Response, error) {
	return nil, &composiohttp.Error{StatusCode: http.StatusBadGateway}
}

// openBreaker returns the error of a call refused by an open breaker.
func openBreaker(t *testing.T) error {
	t.Helper()
	l := breaker.NewLocal(breaker.Settings{ReadyToTrip: func(c breaker.Counts) bool { return c.ConsecutiveFailures >= 1 }})
	done, err := l.Allow(context.Background(), "api.github.com")
	if err != nil {
		t.Fatal(err)
	}
	done(breaker.Failure)
	_, err = l.Allow(context.Background(), "api.github.com")
	if !errors.Is(err, breaker.ErrOpen) {
		t.Fatalf("breaker: %v, want open", err)
	}
	return err
}

// openBreakerClient returns the error an http.Client gets from a breaker
// middleware that opened after the proxy's 502: an *url.Error around the
// *breaker.OpenError.
func openBreakerClient(t *testing.T) error {
	t.Helper()
	g := breaker.NewLocal(breaker.Settings{ReadyToTrip: func(c breaker.Counts) bool { return c.ConsecutiveFailures >= 1 }})
	client := &http.Client{Transport: breaker.New(failRT{}, breaker.WithGroup(g))}
	if _, err := client.Get("https://api.github.com/user"); composiohttp.CodeOf(err) != composiohttp.CodeUnavailable {
		t.Fatalf("first call: %v", err)
	}
	_, err := client.Get("https://api.github.com/user")
	if !errors.Is(err, breaker.ErrOpen) {
		t.Fatalf("second call: %v, want the breaker open", err)
	}
	return err
}

// limited returns the error of a rate limiter whose wait would outlast
// the context's deadline: one call an hour, the second one with a minute
// left.
func limited(t *testing.T) error {
	t.Helper()
	l := ratelimit.NewLocal(rate.Every(time.Hour), 1)
	if err := l.Wait(context.Background(), "account:ca_1"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := l.Wait(ctx, "account:ca_1")
	if !errors.Is(err, ratelimit.ErrLimited) {
		t.Fatalf("limiter: %v, want ErrLimited", err)
	}
	return err
}

// limitedClient is the same refusal through the ratelimit middleware and
// an http.Client.
func limitedClient(t *testing.T) error {
	t.Helper()
	client := &http.Client{Transport: ratelimit.New(okRT{}, ratelimit.NewLocal(rate.Every(time.Hour), 1))}
	resp, err := client.Get("https://api.github.com/user")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "https://api.github.com/user", nil)
	_, err = client.Do(req)
	if !errors.Is(err, ratelimit.ErrLimited) {
		t.Fatalf("second call: %v, want ErrLimited", err)
	}
	return err
}

// withheld returns the error of strict direct mode for a URL off the
// connection's site, through an http.Client.
func withheld(t *testing.T) error {
	t.Helper()
	conn := &credentials.Connection{AuthScheme: credentials.BearerToken,
		Val: credentials.Val{Token: "tok_x", BaseURL: "https://api.example.com"}}
	client := &http.Client{Transport: &schemes.Transport{Connection: conn, Strict: true, Base: failRT{}}}
	_, err := client.Get("https://elsewhere.example.org/data")
	if !errors.Is(err, schemes.ErrCredentialsWithheld) {
		t.Fatalf("strict: %v, want ErrCredentialsWithheld", err)
	}
	return err
}

// The refusals of the middleware and of strict direct mode were all
// CodeUnknown, so one switch on CodeOf could not sort them. Each now has
// the code a caller acts on, and none is retryable (retry must not spin on
// an open breaker, or on a wait that cannot fit the deadline).
func TestCodeOfMiddlewareRefusals(t *testing.T) {
	t.Parallel()
	wrap := func(err error) error { return &url.Error{Op: "Get", URL: "https://api.github.com/user", Err: err} }
	tests := []struct {
		name string
		err  func(t *testing.T) error
		want composiohttp.Code
	}{
		{"breaker open", openBreaker, composiohttp.CodeCircuitOpen},
		{"breaker open, through an http.Client", openBreakerClient, composiohttp.CodeCircuitOpen},
		{"breaker half-open, probes in flight", func(*testing.T) error {
			return &breaker.OpenError{Key: "api.github.com", State: breaker.StateHalfOpen}
		}, composiohttp.CodeCircuitOpen},
		{"breaker open, wrapped", func(t *testing.T) error { return wrap(openBreaker(t)) }, composiohttp.CodeCircuitOpen},
		{"rate limit wait past the deadline", limited, composiohttp.CodeDeadlineExceeded},
		{"rate limit wait past the deadline, through an http.Client", limitedClient, composiohttp.CodeDeadlineExceeded},
		{"org limiter or redislimit pause past the deadline", func(*testing.T) error {
			return wrap(&ratelimit.LimitError{Key: "org", Wait: time.Minute})
		}, composiohttp.CodeDeadlineExceeded},
		{"credentials withheld (strict direct mode)", withheld, composiohttp.CodeOriginMismatch},
		{"credentials withheld, built by hand", func(*testing.T) error {
			return &schemes.WithheldError{URL: "https://elsewhere.example.org/", Site: "https://api.example.com"}
		}, composiohttp.CodeOriginMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.err(t)
			if got := composiohttp.CodeOf(err); got != tt.want {
				t.Errorf("CodeOf(%v) = %v, want %v", err, got, tt.want)
			}
			if composiohttp.IsRetryable(err) {
				t.Errorf("IsRetryable(%v) = true, want false", err)
			}
		})
	}
}
