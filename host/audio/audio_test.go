package audio

import (
	"context"
	"errors"
	"testing"

	"github.com/wasmvoice/mediaserver/host/config"
	"github.com/wasmvoice/mediaserver/host/speech"
	"github.com/wasmvoice/mediaserver/host/voicefocus"
)

// A missing engine fails the actions that need it, with the reason, and
// nothing else; Close makes every later use fail.
func TestMissingEngines(t *testing.T) {
	s := New(Config{
		Speech:     config.Speech{Flite: "/nonexistent/flite.wasm"},
		VoiceFocus: config.VoiceFocus{RNNoise: "/nonexistent/rnnoise.wasm"},
	})
	ctx := context.Background()
	if _, err := s.Speak(ctx, speech.Request{Text: "hello"}); !errors.Is(err, speech.ErrNoEngine) {
		t.Fatalf("Speak: %v", err)
	}
	if _, err := s.NewFocus(); !errors.Is(err, voicefocus.ErrNoEngine) {
		t.Fatalf("NewFocus: %v", err)
	}
	if _, err := s.URLPrompt(ctx, "http://127.0.0.1:1/x.wav"); err == nil {
		t.Fatal("URL prompt on loopback with the default egress policy")
	}
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Speech(ctx); !errors.Is(err, ErrClosed) {
		t.Fatalf("after Close: %v", err)
	}
}
