package media

import (
	"sync/atomic"
	"time"

	"github.com/wasmvoice/mediaserver/media/codec"
)

// Prompt is decoded audio split into 20 ms frames. It is immutable and
// shared by every call that plays it.
type Prompt struct {
	frames []codec.PCM16
	// The frames G.711-encoded, made on first use per codec: a prompt is
	// encoded once, not once per call and tick.
	pcmu, pcma atomic.Pointer[[]byte]
}

// encoded returns every frame encoded with c, back to back.
func (p *Prompt) encoded(c codec.Codec) []byte {
	slot := &p.pcmu
	if c == codec.PCMA {
		slot = &p.pcma
	}
	if b := slot.Load(); b != nil {
		return *b
	}
	b := make([]byte, len(p.frames)*codec.FrameSamples)
	for i, f := range p.frames {
		c.Encode(b[i*codec.FrameSamples:(i+1)*codec.FrameSamples], f)
	}
	slot.CompareAndSwap(nil, &b)
	return *slot.Load()
}

// NewPrompt splits 8 kHz PCM into frames, padding the last with silence.
func NewPrompt(pcm codec.PCM16) *Prompt {
	n := (len(pcm) + codec.FrameSamples - 1) / codec.FrameSamples
	all := make(codec.PCM16, n*codec.FrameSamples)
	copy(all, pcm)
	p := &Prompt{frames: make([]codec.PCM16, n)}
	for i := range p.frames {
		p.frames[i] = all[i*codec.FrameSamples : (i+1)*codec.FrameSamples : (i+1)*codec.FrameSamples]
	}
	return p
}

// Frames returns the number of 20 ms frames.
func (p *Prompt) Frames() int { return len(p.frames) }

// Duration returns the prompt's length.
func (p *Prompt) Duration() time.Duration {
	return time.Duration(len(p.frames)) * codec.FrameDuration
}

// PCM returns a copy of the prompt's samples (padded to whole frames).
func (p *Prompt) PCM() codec.PCM16 {
	out := make(codec.PCM16, 0, len(p.frames)*codec.FrameSamples)
	for _, f := range p.frames {
		out = append(out, f...)
	}
	return out
}

// Size returns the memory held by the samples, in bytes.
func (p *Prompt) Size() int64 { return int64(len(p.frames)) * codec.FrameSamples * 2 }

// PlayResult tells how a Player ended.
type PlayResult struct {
	Reason Reason        // ReasonFinished or ReasonStopped
	Played time.Duration // audio sent, repeats included
}

// Player is a Source that plays a prompt Repeat times. onDone runs exactly
// once: on the clock goroutine when the prompt finished, or on the
// goroutine that calls Stop. It must not block.
type Player struct {
	prompt  *Prompt
	repeat  int
	pos     int
	round   int
	played  atomic.Int64 // frames
	stopped atomic.Bool
	ended   atomic.Bool
	onDone  func(PlayResult)
}

// NewPlayer returns a player of prompt; repeat < 1 plays it once.
func NewPlayer(prompt *Prompt, repeat int, onDone func(PlayResult)) *Player {
	return &Player{prompt: prompt, repeat: max(1, repeat), onDone: onDone}
}

// ReadFrame implements Source.
func (p *Player) ReadFrame(dst codec.PCM16) bool {
	i, ok := p.next()
	if ok {
		copy(dst, p.prompt.frames[i])
	}
	return ok
}

// readEncoded is ReadFrame for an endpoint that needs only the encoded
// frame (nothing listens to what it sends): the prompt's frame, encoded
// once for every call.
func (p *Player) readEncoded(c codec.Codec) ([]byte, bool) {
	i, ok := p.next()
	if !ok {
		return nil, false
	}
	return p.prompt.encoded(c)[i*codec.FrameSamples : (i+1)*codec.FrameSamples], true
}

// next advances to the next frame to play.
func (p *Player) next() (int, bool) {
	if p.stopped.Load() || p.ended.Load() {
		return 0, false
	}
	if p.pos >= len(p.prompt.frames) {
		p.pos = 0
		p.round++
	}
	if p.round >= p.repeat || len(p.prompt.frames) == 0 {
		p.finish(ReasonFinished)
		return 0, false
	}
	i := p.pos
	p.pos++
	p.played.Add(1)
	return i, true
}

// Stop ends playback; the endpoint sends silence from its next tick.
func (p *Player) Stop() {
	p.stopped.Store(true)
	p.finish(ReasonStopped)
}

func (p *Player) finish(r Reason) {
	if !p.ended.CompareAndSwap(false, true) {
		return
	}
	if p.onDone != nil {
		p.onDone(PlayResult{Reason: r, Played: time.Duration(p.played.Load()) * codec.FrameDuration})
	}
}

// String describes the stage.
func (p *Player) String() string { return "player" }
