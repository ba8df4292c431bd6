package plugin

import (
	"context"
	"errors"
	"testing"
)

// FuzzCheck feeds arbitrary bytes to Check: it must never panic, and every
// refusal must be an *Error of KindInvalidModule.
func FuzzCheck(f *testing.F) {
	f.Add([]byte("\x00asm\x01\x00\x00\x00"))
	f.Add([]byte("\x00asm\x01\x00\x00\x00\x01\x04\x01\x60\x00\x00"))
	f.Add([]byte("not wasm"))
	r, err := NewRuntime(context.Background(), Config{})
	if err != nil {
		f.Fatal(err)
	}
	defer r.Close(context.Background())
	f.Fuzz(func(t *testing.T, wasm []byte) {
		info, err := r.Check(context.Background(), wasm)
		if err != nil {
			var pe *Error
			if !errors.As(err, &pe) || pe.Kind != KindInvalidModule {
				t.Fatalf("Check error %v is not KindInvalidModule", err)
			}
			return
		}
		if info.Mode != ModeReactor && info.Mode != ModeCommand {
			t.Fatalf("accepted a module with mode %q", info.Mode)
		}
	})
}

// FuzzLogWriter checks the stdout/stderr line splitter keeps the caps for any
// sequence of writes.
func FuzzLogWriter(f *testing.F) {
	f.Add([]byte("a\nb\n"), []byte("partial"), 3, 8)
	f.Add([]byte("\n\n\n\n\n"), []byte("x\ny"), 2, 1)
	f.Fuzz(func(t *testing.T, a, b []byte, maxLines, maxBytes int) {
		if maxLines <= 0 || maxBytes <= 0 || maxLines > 1000 || maxBytes > 1<<16 {
			return
		}
		c := &logCollector{maxLines: maxLines, maxBytes: maxBytes}
		w := &lineWriter{c: c, stream: StreamStdout}
		for _, p := range [][]byte{a, b} {
			if n, err := w.Write(p); n != len(p) || err != nil {
				t.Fatalf("Write = %d, %v; want %d, nil", n, err, len(p))
			}
		}
		w.flush()
		lines := c.take()
		total := 0
		kept := 0
		for _, l := range lines {
			if l.Stream == StreamStdout {
				total += len(l.Text)
				kept++
			}
		}
		if kept > maxLines || total > maxBytes {
			t.Fatalf("%d lines, %d bytes kept; caps %d, %d", kept, total, maxLines, maxBytes)
		}
	})
}

func FuzzIsJSONObject(f *testing.F) {
	f.Add([]byte(`{"a":1}`))
	f.Add([]byte(` []`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if isJSONObject(b) && len(b) < 2 {
			t.Fatalf("%q accepted", b)
		}
	})
}
