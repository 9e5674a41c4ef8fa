package composiohttp

import "testing"

// TestResolveFlightKeyUnambiguous: two (user, toolkit) pairs never share
// a lookup, whatever bytes they hold (a NUL in a user id must
// not reach another user's account).
func TestResolveFlightKeyUnambiguous(t *testing.T) {
	t.Parallel()
	for _, tt := range [][2]resolveKey{
		{{"alice\x00github", ""}, {"alice", "github"}},
		{{"a\x00b", "c"}, {"a", "b\x00c"}},
	} {
		if tt[0].flightKey() == tt[1].flightKey() {
			t.Errorf("%q and %q share flight key %q", tt[0], tt[1], tt[0].flightKey())
		}
	}
}
