package dtmf

import (
	"encoding/binary"
	"fmt"
)

// Event is one RFC 4733 telephone-event payload.
//
// See https://www.rfc-editor.org/rfc/rfc4733#section-2.3
type Event struct {
	Code     uint8  // 0-15 for DTMF; other codes are valid on the wire
	End      bool   // the E bit
	Volume   uint8  // 0..63, -dBm0
	Duration uint16 // in timestamp units (1/8000 s)
}

// EventSize is the size of an encoded Event.
const EventSize = 4

// Unmarshal decodes the first 4 bytes of b. Extra bytes (redundant events,
// padding) are ignored.
func (e *Event) Unmarshal(b []byte) error {
	if len(b) < EventSize {
		return fmt.Errorf("%w: %d bytes", ErrShortPacket, len(b))
	}
	e.Code = b[0]
	e.End = b[1]&0x80 != 0
	e.Volume = b[1] & 0x3F
	e.Duration = binary.BigEndian.Uint16(b[2:4])
	return nil
}

// MarshalTo encodes the event into b (at least EventSize bytes) and returns
// the number of bytes written.
func (e Event) MarshalTo(b []byte) (int, error) {
	if len(b) < EventSize {
		return 0, fmt.Errorf("%w: buffer of %d bytes", ErrShortPacket, len(b))
	}
	b[0] = e.Code
	b[1] = e.Volume & 0x3F
	if e.End {
		b[1] |= 0x80
	}
	binary.BigEndian.PutUint16(b[2:4], e.Duration)
	return EventSize, nil
}
