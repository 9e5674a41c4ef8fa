package composiohttp

// IsCallInfoKey reports whether key is the context key under which
// WithCallInfo stores a *CallInfo. It lets a middleware keep a call's
// *CallInfo in a context node of its own, next to its other per-call
// state, with one allocation where WithCallInfo and a node of its own
// would take two: that node's Value method answers such a key with the
// *CallInfo (never anything else), and CallInfoFromContext finds it there.
func IsCallInfoKey(key any) bool {
	k, ok := key.(ctxKey)
	return ok && k == callInfoKey
}
