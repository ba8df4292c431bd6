package plugin

import (
	"bytes"
	"crypto/rand"
	"fmt"

	"github.com/wasmvoice/mediaserver/abi"
)

// logCollector gathers one event's log lines under the line and byte caps.
// Lines over the caps are counted, and one final line reports how many were
// dropped, so a log flood costs the host a bounded amount of memory.
type logCollector struct {
	maxLines, maxBytes int
	lines              []LogLine
	bytes              int
	dropped            int
}

// add records a line and returns its index, or -1 if it was dropped.
func (c *logCollector) add(level int32, stream string, text []byte) int {
	if len(c.lines) >= c.maxLines || c.bytes >= c.maxBytes {
		c.dropped++
		return -1
	}
	if room := c.maxBytes - c.bytes; len(text) > room {
		text = text[:room]
	}
	c.bytes += len(text)
	c.lines = append(c.lines, LogLine{Level: level, Stream: stream, Text: string(text)})
	return len(c.lines) - 1
}

// extend appends one more line to the record at index i, within the
// byte budget.
func (c *logCollector) extend(i int, text []byte) {
	room := c.maxBytes - c.bytes - 1
	if i < 0 || i >= len(c.lines) || room <= 0 {
		return
	}
	text = text[:min(len(text), room)]
	c.bytes += 1 + len(text)
	c.lines[i].Text += "\n" + string(text)
}

// take returns the event's lines and resets the collector.
func (c *logCollector) take() []LogLine {
	lines := c.lines
	if c.dropped > 0 {
		lines = append(lines, LogLine{Level: abi.LogWarn, Stream: StreamLog, Text: fmt.Sprintf("… %d lines dropped", c.dropped)})
	}
	c.lines, c.bytes, c.dropped = nil, 0, 0
	return lines
}

// lineWriter turns a guest's stdout or stderr into log lines. A crash
// report (a Go panic or fatal error, a Rust panic) and every line after
// it, such as its stack trace, make one record, not one per line.
type lineWriter struct {
	c       *logCollector
	inst    *instance // charged for the bytes it scans; nil in tests
	stream  string
	level   int32
	partial []byte
	crash   bool // a crash report is being gathered into record
	record  int
}

// crashStart tells whether a line starts a crash report.
func crashStart(line []byte) bool {
	return bytes.HasPrefix(line, []byte("panic: ")) || bytes.HasPrefix(line, []byte("fatal error: ")) ||
		bytes.Contains(line, []byte("' panicked at "))
}

func (w *lineWriter) emit(line []byte) {
	switch {
	case w.crash:
		w.c.extend(w.record, line)
	case crashStart(line):
		w.crash, w.record = true, w.c.add(w.level, w.stream, line)
	default:
		w.c.add(w.level, w.stream, line)
	}
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.inst.chargeIO(int64(len(p)) >> hostByteShift)
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			// Keep at most one capped partial line; the rest cannot be logged anyway.
			if room := w.c.maxBytes - len(w.partial); room > 0 {
				w.partial = append(w.partial, p[:min(room, len(p))]...)
			}
			break
		}
		line := p[:i]
		if len(w.partial) > 0 {
			if room := w.c.maxBytes - len(w.partial); room > 0 {
				w.partial = append(w.partial, line[:min(room, len(line))]...)
			}
			line = w.partial
		}
		w.emit(line)
		w.partial = w.partial[:0]
		p = p[i+1:]
	}
	return n, nil
}

// flush emits a last line without a newline and ends a crash report.
func (w *lineWriter) flush() {
	if len(w.partial) > 0 {
		w.emit(w.partial)
		w.partial = w.partial[:0]
	}
	w.crash = false
}

// cappedBuffer is a command module's stdout: the response, bounded.
type cappedBuffer struct {
	max  int
	buf  []byte
	over bool
	inst *instance // charged for the bytes written
}

func (b *cappedBuffer) Write(p []byte) (int, error) {
	b.inst.chargeIO(int64(len(p)) >> hostByteShift)
	n := len(p)
	if len(b.buf)+len(p) > b.max {
		b.over = true
		p = p[:max(0, b.max-len(b.buf))]
	}
	b.buf = append(b.buf, p...)
	return n, nil // the excess is dropped but reported through over, not as a write error
}

// randSource is an instance's random_get source: crypto/rand, a chunk at
// a time, each charged a unit a byte (generating takes nanoseconds a
// byte), so a guest asking for 48 MiB is stopped at its deadline.
type randSource struct{ inst *instance }

const randChunk = 64 << 10

func (s randSource) Read(p []byte) (int, error) {
	n := 0
	for len(p) > 0 {
		c := p[:min(len(p), randChunk)]
		s.inst.chargeIO(int64(len(c)))
		if _, err := rand.Read(c); err != nil {
			return n, err
		}
		n += len(c)
		p = p[len(c):]
	}
	return n, nil
}
