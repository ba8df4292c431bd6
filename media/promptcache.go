package media

import (
	"container/list"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/wasmvoice/mediaserver/media/codec"
	"github.com/wasmvoice/mediaserver/media/wav"
)

// PromptCache decodes each prompt file once into shared frames. Entries
// are keyed by path, modification time and size, so a replaced file is
// decoded again; the cache is bounded by the bytes of decoded audio and
// evicts the least recently used entries. Safe for concurrent use;
// concurrent loads of one file decode it once.
type PromptCache struct {
	maxBytes int64
	mu       sync.Mutex
	bytes    int64
	lru      *list.List // of *cacheEntry, front = most recent
	entries  map[cacheKey]*cacheEntry
}

type cacheKey struct {
	path  string
	mtime time.Time
	size  int64
}

type cacheEntry struct {
	key    cacheKey
	ready  chan struct{}
	prompt *Prompt
	err    error
	elem   *list.Element
}

// NewPromptCache returns a cache holding at most maxBytes of decoded audio.
func NewPromptCache(maxBytes int64) *PromptCache {
	return &PromptCache{maxBytes: maxBytes, lru: list.New(), entries: make(map[cacheKey]*cacheEntry)}
}

// Load returns the prompt decoded from the file at path: WAV or mp3
// (DecodeAudio).
func (c *PromptCache) Load(path string) (*Prompt, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", path)
	}
	k := cacheKey{path: path, mtime: st.ModTime(), size: st.Size()}
	c.mu.Lock()
	if e, ok := c.entries[k]; ok {
		if e.elem != nil {
			c.lru.MoveToFront(e.elem)
		}
		c.mu.Unlock()
		<-e.ready
		return e.prompt, e.err
	}
	e := &cacheEntry{key: k, ready: make(chan struct{})}
	c.entries[k] = e
	c.mu.Unlock()

	pcm, err := readAudioFile(path, st.Size())
	if err == nil {
		e.prompt = NewPrompt(pcm)
	}
	e.err = err

	c.mu.Lock()
	if err != nil || e.prompt.Size() > c.maxBytes {
		// Errors are not cached (the file may be fixed); oversized prompts
		// are returned but not kept.
		delete(c.entries, k)
	} else {
		e.elem = c.lru.PushFront(e)
		c.bytes += e.prompt.Size()
		for c.bytes > c.maxBytes {
			old := c.lru.Back().Value.(*cacheEntry)
			c.lru.Remove(old.elem)
			delete(c.entries, old.key)
			c.bytes -= old.prompt.Size()
		}
	}
	c.mu.Unlock()
	close(e.ready)
	return e.prompt, e.err
}

// readAudioFile reads and decodes a prompt file of size bytes.
func readAudioFile(path string, size int64) (codec.PCM16, error) {
	if size > wav.MaxDataBytes+1<<20 {
		return nil, fmt.Errorf("%s: %w", path, wav.ErrTooLarge)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	pcm, err := DecodeAudio(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return pcm, nil
}

// Stats returns the number of cached prompts and their decoded size.
func (c *PromptCache) Stats() (entries int, bytes int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len(), c.bytes
}
