//go:build wasip1

package mediaserver

// slabChunk is how many values a slab allocates at once.
const slabChunk = 64

// slab hands out pointers into chunks of values that are never handed out
// twice, so a handler may keep what it gets (the chunk stays alive while
// it does). In a Go Wasm guest a heap allocation costs about as much as
// decoding a small event; one allocation per 64 values is cheap. A guest
// instance runs one event at a time, so no lock is needed.
type slab[T any] struct{ free []T }

func (s *slab[T]) new() *T {
	if len(s.free) == 0 {
		s.free = make([]T, slabChunk)
	}
	p := &s.free[0]
	s.free = s.free[1:]
	return p
}
