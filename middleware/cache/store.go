package cache

import (
	"container/list"
	"context"
	"sync"
)

// Store holds cached responses, serialized by httpcache. Implementations
// must be safe for concurrent use. An error from any method makes the
// middleware treat the call as a miss (Get) or skip storing (Set, Delete):
// a broken store degrades to no caching, never to a failed request.
//
// Keys are opaque, fixed-length digests that never contain a URL or a
// secret. Set may keep value; callers never modify it afterwards.
type Store interface {
	// Get returns the value stored under key; ok is false when there is
	// none.
	Get(ctx context.Context, key string) (value []byte, ok bool, err error)
	// Set stores value under key.
	Set(ctx context.Context, key string, value []byte) error
	// Delete removes key; deleting a missing key is not an error.
	Delete(ctx context.Context, key string) error
}

// DefaultMaxBytes is the size limit of the in-memory store used when no
// store is given, and of NewMemoryStore(0).
const DefaultMaxBytes = 32 << 20

// MemoryStore is a Store bounded by the total size of its keys and values,
// evicting the least recently used entries first. Its methods never fail.
type MemoryStore struct {
	max int64

	mu    sync.Mutex
	size  int64
	lru   *list.List // of *memEntry, most recently used first
	items map[string]*list.Element
}

type memEntry struct {
	key   string
	value []byte
}

// NewMemoryStore returns an empty MemoryStore holding at most maxBytes of
// keys and values (DefaultMaxBytes if maxBytes <= 0). A value larger than
// the limit is not stored.
func NewMemoryStore(maxBytes int64) *MemoryStore {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBytes
	}
	return &MemoryStore{max: maxBytes, lru: list.New(), items: make(map[string]*list.Element)}
}

// Get implements Store.
func (s *MemoryStore) Get(_ context.Context, key string) ([]byte, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	el, ok := s.items[key]
	if !ok {
		return nil, false, nil
	}
	s.lru.MoveToFront(el)
	return el.Value.(*memEntry).value, true, nil
}

// Set implements Store.
func (s *MemoryStore) Set(_ context.Context, key string, value []byte) error {
	n := int64(len(key) + len(value))
	s.mu.Lock()
	defer s.mu.Unlock()
	s.remove(key)
	if n > s.max {
		return nil
	}
	s.items[key] = s.lru.PushFront(&memEntry{key: key, value: value})
	s.size += n
	for s.size > s.max {
		s.remove(s.lru.Back().Value.(*memEntry).key)
	}
	return nil
}

// Delete implements Store.
func (s *MemoryStore) Delete(_ context.Context, key string) error {
	s.mu.Lock()
	s.remove(key)
	s.mu.Unlock()
	return nil
}

// Len returns the number of entries.
func (s *MemoryStore) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.items)
}

// Size returns the bytes held (keys plus values).
func (s *MemoryStore) Size() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.size
}

func (s *MemoryStore) remove(key string) {
	el, ok := s.items[key]
	if !ok {
		return
	}
	e := s.lru.Remove(el).(*memEntry)
	delete(s.items, key)
	s.size -= int64(len(e.key) + len(e.value))
}
