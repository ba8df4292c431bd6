package media

import "github.com/wasmvoice/mediaserver/media/codec"

// Filter transforms a leg's received audio in place, one 20 ms frame at a
// time (VoiceFocus noise suppression, media/denoise). It is the first
// stage after the jitter buffer, so in-band digit detection, the sinks
// (recorders, silence detection), a bridged peer and a conference room
// all get the filtered audio. FilterFrame runs on the clock goroutine
// under the endpoint's lock: it must be quick and must not call back
// into the endpoint. It is called only for frames that carry audio.
type Filter interface {
	FilterFrame(pcm codec.PCM16)
}

// SetFilter sets the receive filter; nil removes it. A filtered frame is
// re-encoded, so a bridge that relays G.711 unchanged relays the filtered
// audio.
func (e *Endpoint) SetFilter(f Filter) {
	e.mu.Lock()
	e.filter = f
	e.mu.Unlock()
}

// applyFilter runs the filter on this tick's payload: decode, filter,
// encode back. Called by receive with e.mu held.
func (e *Endpoint) applyFilter() {
	if e.filter == nil || !e.rxHave || len(e.rxPay) != codec.FrameSamples {
		return
	}
	e.rxCodec.Decode(e.in, e.rxPay)
	e.filter.FilterFrame(e.in)
	e.rxCodec.Encode(e.rxPay, e.in)
	e.inValid = true
}
