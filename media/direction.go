package media

import (
	"fmt"
	"strings"
)

// Direction is an endpoint's own media direction, as written in its SDP
// (RFC 3264 section 5.1). The zero value is SendRecv.
//
// See https://www.rfc-editor.org/rfc/rfc3264#section-6.1 and section 8.4 (hold).
type Direction uint8

// Directions.
const (
	SendRecv Direction = iota // send and receive (default)
	SendOnly                  // send, ignore what arrives (we hold the remote)
	RecvOnly                  // receive, send nothing (the remote holds us)
	Inactive                  // neither
)

// ParseDirection reads an SDP direction attribute name ("sendonly", ...).
func ParseDirection(s string) (Direction, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "sendrecv", "":
		return SendRecv, nil
	case "sendonly":
		return SendOnly, nil
	case "recvonly":
		return RecvOnly, nil
	case "inactive":
		return Inactive, nil
	}
	return SendRecv, fmt.Errorf("%w: %q", ErrDirection, s)
}

// String returns the SDP attribute name.
func (d Direction) String() string {
	switch d {
	case SendRecv:
		return "sendrecv"
	case SendOnly:
		return "sendonly"
	case RecvOnly:
		return "recvonly"
	case Inactive:
		return "inactive"
	}
	return fmt.Sprintf("direction(%d)", uint8(d))
}

// Answer returns the direction to answer an offer of d with, when we are
// willing to send and receive: a remote that only sends (puts us on hold
// with music) gets recvonly, one that only receives gets sendonly.
func (d Direction) Answer() Direction {
	switch d {
	case SendOnly:
		return RecvOnly
	case RecvOnly:
		return SendOnly
	case Inactive:
		return Inactive
	}
	return SendRecv
}

// Sends reports whether RTP is sent in this direction.
func (d Direction) Sends() bool { return d == SendRecv || d == SendOnly }

// Receives reports whether received RTP is played out.
func (d Direction) Receives() bool { return d == SendRecv || d == RecvOnly }
