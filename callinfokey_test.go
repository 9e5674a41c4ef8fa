package composiohttp_test

import (
	"context"
	"testing"

	"github.com/composiohttp/composiohttp"
)

// infoNode is a middleware's own context node carrying a CallInfo.
type infoNode struct {
	context.Context
	info composiohttp.CallInfo
}

func (n *infoNode) Value(key any) any {
	if composiohttp.IsCallInfoKey(key) {
		return &n.info
	}
	return n.Context.Value(key)
}

func TestIsCallInfoKey(t *testing.T) {
	t.Parallel()
	n := &infoNode{Context: composiohttp.WithConnectedAccount(context.Background(), "ca_1")}
	ctx := context.WithValue(n, aboveKey{}, "above")
	if got := composiohttp.CallInfoFromContext(ctx); got != &n.info {
		t.Errorf("CallInfoFromContext = %p, want the node's %p", got, &n.info)
	}
	if id, _ := composiohttp.ConnectedAccountFromContext(ctx); id != "ca_1" {
		t.Errorf("the node hides the keys of its parent: account %q", id)
	}
	if composiohttp.CallInfoFromContext(context.Background()) != nil {
		t.Error("a CallInfo without one set")
	}
	for _, key := range []any{nil, 0, 1, struct{}{}, "callInfoKey"} {
		if composiohttp.IsCallInfoKey(key) {
			t.Errorf("IsCallInfoKey(%#v) = true", key)
		}
	}
	// The key CallInfoFromContext asks for is the one IsCallInfoKey names.
	rec := &keyRecorder{Context: context.Background()}
	composiohttp.CallInfoFromContext(rec)
	if len(rec.keys) != 1 || !composiohttp.IsCallInfoKey(rec.keys[0]) {
		t.Errorf("CallInfoFromContext asked for %#v; IsCallInfoKey does not name it", rec.keys)
	}
}

// aboveKey is the key of a context node above the middleware's own.
type aboveKey struct{}

// keyRecorder records the keys it is asked for.
type keyRecorder struct {
	context.Context
	keys []any
}

func (r *keyRecorder) Value(key any) any {
	r.keys = append(r.keys, key)
	return r.Context.Value(key)
}
