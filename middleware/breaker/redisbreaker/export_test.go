package redisbreaker

// Kept reports how many breakers g keeps in process, and whether key's is
// one of them.
func Kept(g *Group, key string) (n int, kept bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	_, kept = g.keys[key]
	return len(g.keys), kept
}

// Locks returns how many lock entries g's store keeps in process.
func Locks(g *Group) int {
	g.mu.Lock()
	s := g.store
	g.mu.Unlock()
	if s == nil {
		return 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.locks)
}
