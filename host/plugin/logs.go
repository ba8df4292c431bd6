package plugin

import (
	"bytes"
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

func (c *logCollector) add(level int32, stream string, text []byte) {
	if len(c.lines) >= c.maxLines || c.bytes >= c.maxBytes {
		c.dropped++
		return
	}
	if room := c.maxBytes - c.bytes; len(text) > room {
		text = text[:room]
	}
	c.bytes += len(text)
	c.lines = append(c.lines, LogLine{Level: level, Stream: stream, Text: string(text)})
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

// lineWriter turns a guest's stdout or stderr into log lines.
type lineWriter struct {
	c       *logCollector
	stream  string
	level   int32
	partial []byte
}

func (w *lineWriter) Write(p []byte) (int, error) {
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
		w.c.add(w.level, w.stream, line)
		w.partial = w.partial[:0]
		p = p[i+1:]
	}
	return n, nil
}

// flush emits a last line without a newline.
func (w *lineWriter) flush() {
	if len(w.partial) > 0 {
		w.c.add(w.level, w.stream, w.partial)
		w.partial = w.partial[:0]
	}
}

// cappedBuffer is a command module's stdout: the response, bounded.
type cappedBuffer struct {
	max  int
	buf  []byte
	over bool
}

func (b *cappedBuffer) Write(p []byte) (int, error) {
	n := len(p)
	if len(b.buf)+len(p) > b.max {
		b.over = true
		p = p[:max(0, b.max-len(b.buf))]
	}
	b.buf = append(b.buf, p...)
	return n, nil // the excess is dropped but reported through over, not as a write error
}
