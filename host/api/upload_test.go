package api

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"
)

// TestUploadStreamedToDisk: a module arriving slowly is written to the
// upload directory as it comes, not gathered in memory; past the size cap
// the upload is refused and its file removed.
func TestUploadStreamedToDisk(t *testing.T) {
	dir := t.TempDir()
	e := newEnv(t, WithUploadDir(dir), WithMaxModuleBytes(4<<20))
	body, feed := io.Pipe()
	req := httptest.NewRequest("POST", "/plugins", body)
	req.Header.Set("Authorization", "Bearer "+e.secretA)
	req.Header.Set("Content-Type", "application/wasm")
	w := httptest.NewRecorder()
	done := make(chan struct{})
	go func() {
		defer close(done)
		e.h.ServeHTTP(w, req)
	}()
	if _, err := feed.Write(append([]byte("\x00asm\x01\x00\x00\x00"), make([]byte, 1<<20)...)); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if files, _ := os.ReadDir(dir); len(files) == 1 {
			if fi, err := files[0].Info(); err == nil && fi.Size() >= 1<<20 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("the first MiB of an unfinished upload is not in the upload directory")
		}
		time.Sleep(10 * time.Millisecond)
	}
	go func() {
		_, _ = feed.Write(make([]byte, 4<<20))
		_ = feed.Close()
	}()
	<-done
	wantError(t, w, http.StatusRequestEntityTooLarge, CodeResourceLimitExceeded, "module of more than 4194304 bytes is over the limit of 4194304 bytes")
	if files, _ := os.ReadDir(dir); len(files) != 0 {
		t.Fatalf("upload directory keeps %d files after the upload", len(files))
	}
}

// blockingPlugins is a Plugins whose Check waits for a release.
type blockingPlugins struct {
	fakePlugins
	entered, release chan struct{}
}

func (b blockingPlugins) Check(ctx context.Context, tenantID string, wasm []byte) (PluginInfo, error) {
	b.entered <- struct{}{}
	<-b.release
	return b.fakePlugins.Check(ctx, tenantID, wasm)
}

// TestUploadSlots: uploads are checked a bounded number at a time (each
// holds its module in memory); one that finds no slot in time gets 503
// with a Retry-After.
func TestUploadSlots(t *testing.T) {
	e := newEnv(t)
	bp := blockingPlugins{entered: make(chan struct{}, 1), release: make(chan struct{})}
	h := New(e.reg, e.calls, bp, WithUploadDir(t.TempDir()), WithUploadSlots(1), withUploadWait(50*time.Millisecond))
	up := func(body string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("POST", "/plugins", bytes.NewReader([]byte("\x00asm\x01\x00\x00\x00"+body)))
		req.Header.Set("Authorization", "Bearer "+e.secretA)
		req.Header.Set("Content-Type", "application/wasm")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w
	}
	first := make(chan *httptest.ResponseRecorder)
	go func() { first <- up("first") }()
	<-bp.entered
	w := up("second")
	wantError(t, w, http.StatusServiceUnavailable, CodeServiceUnavailable, "the server is checking 1 other plugin uploads; retry in a few seconds")
	if got := w.Header().Get("Retry-After"); got != "5" {
		t.Fatalf("Retry-After %q, want 5", got)
	}
	close(bp.release)
	if w := <-first; w.Code != http.StatusCreated {
		t.Fatalf("first upload: %d %s", w.Code, w.Body)
	}
	go func() { <-bp.entered }()
	if w := up("third"); w.Code != http.StatusCreated {
		t.Fatalf("upload once the slot is free: %d %s", w.Code, w.Body)
	}
}
