package media

import (
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wasmvoice/mediaserver/media/codec"
	"github.com/wasmvoice/mediaserver/media/wav"
)

// Track selects what a Recorder writes.
type Track uint8

// Tracks (Chime's StartCallRecording Track values).
const (
	TrackIncoming Track = iota // mono: what the leg received
	TrackOutgoing              // mono: what the leg sent
	TrackBoth                  // stereo: received left, sent right
)

// RecorderConfig describes a recording.
type RecorderConfig struct {
	Path  string
	Track Track
	// MaxDuration stops the recording by itself (0 = no limit).
	MaxDuration time.Duration
	// OnDone runs once, on the recorder's writer goroutine, after the file
	// is closed. It must not block.
	OnDone func(RecordResult)
}

// RecordResult describes a finished recording.
type RecordResult struct {
	Path     string
	Reason   Reason
	Duration time.Duration
	// Dropped counts frames lost because the disk could not keep up.
	Dropped int64
	Err     error
}

// recorderQueue is how many frames may wait for the disk (2.56 s).
const recorderQueue = 128

// Recorder is a Sink that writes a leg's audio to a WAV file. The clock
// goroutine only copies each frame into a queue; a writer goroutine does
// the file I/O (with periodic fsync, see wav.Writer) so a slow disk never
// stalls the media clock. The caller decides when to stop (terminator
// digit, silence, hang-up); MaxDuration stops it by itself.
type Recorder struct {
	cfg     RecorderConfig
	w       *wav.Writer
	free    chan []int16
	work    chan []int16
	mu      sync.Mutex // guards stopped and sends on work
	stopped bool
	reason  Reason
	frames  int64
	maxFr   int64
	paused  atomic.Bool
	dropped atomic.Int64
	done    chan struct{}
	result  RecordResult
}

// NewRecorder creates the file and starts the writer goroutine.
func NewRecorder(cfg RecorderConfig) (*Recorder, error) {
	ch := 1
	if cfg.Track == TrackBoth {
		ch = 2
	}
	w, err := wav.Create(cfg.Path, ch)
	if err != nil {
		return nil, err
	}
	r := &Recorder{
		cfg:  cfg,
		w:    w,
		free: make(chan []int16, recorderQueue),
		work: make(chan []int16, recorderQueue),
		done: make(chan struct{}),
	}
	if cfg.MaxDuration > 0 {
		r.maxFr = int64(cfg.MaxDuration / codec.FrameDuration)
	}
	for i := 0; i < recorderQueue; i++ {
		r.free <- make([]int16, ch*codec.FrameSamples)
	}
	go r.writer()
	return r, nil
}

// WriteFrame implements Sink.
func (r *Recorder) WriteFrame(received, sent codec.PCM16) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopped {
		return
	}
	var buf []int16
	select {
	case buf = <-r.free:
	default:
		r.dropped.Add(1)
		return
	}
	paused := r.paused.Load()
	switch r.cfg.Track {
	case TrackIncoming:
		copy(buf, received)
	case TrackOutgoing:
		copy(buf, sent)
	default:
		for i := 0; i < codec.FrameSamples; i++ {
			buf[2*i] = received[i]
			buf[2*i+1] = sent[i]
		}
	}
	if paused {
		clear(buf)
	}
	r.work <- buf // never blocks: at most recorderQueue buffers exist
	r.frames++
	if r.maxFr > 0 && r.frames >= r.maxFr {
		r.stopLocked(ReasonDuration)
	}
}

// Pause makes the recorder write silence until Resume (Chime's
// PauseCallRecording keeps the timeline).
func (r *Recorder) Pause() { r.paused.Store(true) }

// Resume undoes Pause.
func (r *Recorder) Resume() { r.paused.Store(false) }

// Paused reports whether the recorder is writing silence.
func (r *Recorder) Paused() bool { return r.paused.Load() }

// Dropped counts frames lost so far because the disk could not keep up.
func (r *Recorder) Dropped() int64 { return r.dropped.Load() }

// Stop ends the recording with ReasonStopped; it does not wait for the
// file to be closed (use Wait). Safe from any goroutine, idempotent.
func (r *Recorder) Stop() {
	r.mu.Lock()
	r.stopLocked(ReasonStopped)
	r.mu.Unlock()
}

func (r *Recorder) stopLocked(reason Reason) {
	if r.stopped {
		return
	}
	r.stopped = true
	r.reason = reason
	close(r.work)
}

// Wait blocks until the file is closed and returns the result.
func (r *Recorder) Wait() RecordResult {
	<-r.done
	return r.result
}

func (r *Recorder) writer() {
	var werr error
	for buf := range r.work {
		if werr == nil {
			werr = r.w.Write(buf)
		}
		r.free <- buf
	}
	if err := r.w.Close(); werr == nil {
		werr = err
	}
	r.result = RecordResult{
		Path:     r.cfg.Path,
		Reason:   r.reason,
		Duration: time.Duration(r.w.Samples()) * time.Second / codec.SampleRate,
		Dropped:  r.dropped.Load(),
		Err:      werr,
	}
	if werr != nil && !errors.Is(werr, wav.ErrClosed) {
		r.result.Reason = ReasonError
	}
	close(r.done)
	if r.cfg.OnDone != nil {
		r.cfg.OnDone(r.result)
	}
}

// String describes the stage.
func (r *Recorder) String() string { return "recorder(" + r.cfg.Path + ")" }
