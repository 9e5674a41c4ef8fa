package composiohttp_test

import (
	"fmt"
	"net/url"
	"testing"

	"github.com/composiohttp/composiohttp"
)

// The account-selection failures of a user-id request are the root
// package's own errors: CodeOf places them, so that one switch also
// sorts "this user has no account for the toolkit" (ask them to connect
// one) and the request-side mistakes.
func TestCodeOfAccountSelection(t *testing.T) {
	t.Parallel()
	wrap := func(err error) error { return &url.Error{Op: "Get", URL: "https://api.github.com/user", Err: err} }
	tests := []struct {
		name string
		err  error
		want composiohttp.Code
	}{
		{"no account for the user", &composiohttp.NoConnectedAccountError{UserID: "u", Toolkit: "github"}, composiohttp.CodeAccountNotFound},
		{"sentinel", fmt.Errorf("x: %w", composiohttp.ErrNoConnectedAccount), composiohttp.CodeAccountNotFound},
		{"several accounts", &composiohttp.AmbiguousAccountError{UserID: "u", Toolkit: "github"}, composiohttp.CodeInvalidRequest},
		{"no toolkit for the host", &composiohttp.ToolkitError{Host: "unknown.example.org"}, composiohttp.CodeInvalidRequest},
		{"no toolkit, lookup error", &composiohttp.ToolkitError{Host: "x.example", Err: fmt.Errorf("no registered toolkit")}, composiohttp.CodeInvalidRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for _, err := range []error{tt.err, wrap(tt.err)} {
				if got := composiohttp.CodeOf(err); got != tt.want {
					t.Errorf("CodeOf(%v) = %v, want %v", err, got, tt.want)
				}
				if composiohttp.IsRetryable(err) {
					t.Errorf("IsRetryable(%v) = true", err)
				}
			}
		})
	}
}
