package ratelimit_test

import (
	"testing"
	"time"

	"github.com/composiohttp/composiohttp/middleware/ratelimit"
)

// A LimitError names its key; the empty key (a request whose context
// selects no account, limited as the Transport's own account) is said
// in words, not as key "".
func TestLimitErrorText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		key, want string
	}{
		{"account:ca_1", `ratelimit: key "account:ca_1" would wait 2s, past the context deadline`},
		{"", `ratelimit: the Transport's own account (key "") would wait 2s, past the context deadline`},
	}
	for _, tt := range tests {
		if got := (&ratelimit.LimitError{Key: tt.key, Wait: 2 * time.Second}).Error(); got != tt.want {
			t.Errorf("key %q:\n got %s\nwant %s", tt.key, got, tt.want)
		}
	}
}
