//go:build !wasip1

package mediaserver

// slab allocates one value at a time natively, where handlers may run
// concurrently (see slab_wasip1.go for the Wasm guest's).
type slab[T any] struct{}

func (*slab[T]) new() *T { return new(T) }
