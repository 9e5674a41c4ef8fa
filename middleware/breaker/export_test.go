package breaker

// Kept reports whether l keeps a breaker for key (State cannot tell a kept
// closed breaker from one never made or evicted).
func (l *Local) Kept(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	_, ok := l.keys[key]
	return ok
}
