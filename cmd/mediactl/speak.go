package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/wasmvoice/mediaserver/host/audio"
	"github.com/wasmvoice/mediaserver/host/config"
	"github.com/wasmvoice/mediaserver/host/netguard"
	"github.com/wasmvoice/mediaserver/host/speech"
	"github.com/wasmvoice/mediaserver/media/codec"
	"github.com/wasmvoice/mediaserver/media/wav"
)

const usageSpeak = `Usage: mediactl speak [flags] TEXT -o FILE.wav

Speaks TEXT with the server's speech engine, locally (no server needed), and
writes what a call would hear: 8 kHz mono 16-bit WAV. The voice is a Polly
VoiceId (Joanna, Matthew, Brian, ...) or a flite voice (slt, rms, awb, kal);
see host/speech/voices.go for the table. With -config, the [speech] section
of that file applies (an HTTP provider is asked first, as the server does).

Examples:
  mediactl speak "Welcome to the demo." -o welcome.wav
  mediactl speak -voice Matthew "Press one for sales." -o menu.wav
  mediactl speak -ssml '<speak>One<break time="1s"/>two</speak>' -o pause.wav

Flags:
`

func (s *session) speak(args []string) error {
	fs := s.flagSet("speak", usageSpeak)
	out := fs.String("o", "", "the WAV file to write (required)")
	voice := fs.String("voice", "", "Polly VoiceId or flite voice (default Joanna)")
	lang := fs.String("lang", "", "Polly LanguageCode (default: the voice's)")
	ssml := fs.Bool("ssml", false, "TEXT is SSML (speak, break, say-as, prosody, p, s)")
	cfgPath := fs.String("config", "", "a server configuration whose [speech] section applies")
	timeout := fs.Duration("timeout", 60*time.Second, "give up after this long")
	pos, err := s.parse(fs, args, 1, 1)
	if err != nil {
		return err
	}
	if *out == "" {
		return s.usageErr("speak: -o FILE.wav is required (see -h)")
	}
	cfg := config.Default()
	if *cfgPath != "" {
		if cfg, err = config.Load(*cfgPath); err != nil {
			return err
		}
	}
	// One synthesis, nothing else waiting on it: it may take as long as
	// -timeout allows (the server's shorter limit protects its calls; the
	// first synthesis also compiles the engine, slow on a loaded machine).
	cfg.Speech.Timeout.Duration = *timeout
	egress, err := netguard.New(cfg.Egress.Allow)
	if err != nil {
		return err
	}
	cache, _ := os.UserCacheDir()
	if cache != "" {
		cache = filepath.Join(cache, "mediaserver", "wazero")
	}
	svc := audio.New(audio.Config{Speech: cfg.Speech, Egress: egress, CacheDir: cache})
	defer svc.Close(s.ctx)
	ctx, cancel := context.WithTimeout(s.ctx, *timeout)
	defer cancel()
	req := speech.Request{Text: pos[0], VoiceID: *voice, LanguageCode: *lang}
	if *ssml {
		req.TextType = "ssml"
	}
	p, err := svc.Speak(ctx, req)
	if err != nil {
		return err
	}
	w, err := wav.Create(*out, 1)
	if err != nil {
		return err
	}
	if err := w.Write(p.PCM()); err != nil {
		w.Close()
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	fmt.Fprintf(s.stderr, "%s: %.2f s of speech, %d Hz mono\n", *out, p.Duration().Seconds(), codec.SampleRate)
	return nil
}
