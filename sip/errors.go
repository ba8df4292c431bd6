package sip

import (
	"errors"
	"fmt"
)

// Errors returned by this package; check them with errors.Is.
var (
	ErrSDPMalformed    = errors.New("malformed sdp")
	ErrSDPTooLarge     = errors.New("sdp too large")
	ErrNoAudio         = errors.New("no audio stream offered")
	ErrNoCommonCodec   = errors.New("no common codec")
	ErrNoListener      = errors.New("no listen address configured")
	ErrCallTerminated  = errors.New("call terminated")
	ErrCallCanceled    = errors.New("call canceled by the caller")
	ErrAlreadyAnswered = errors.New("call already answered")
	ErrNoAck           = errors.New("no ack for 200 ok")
	ErrBadStatus       = errors.New("status code out of range")
	ErrByeFailed       = errors.New("bye failed")
	ErrDTMFMalformed   = errors.New("malformed dtmf body")
	ErrServerClosed    = errors.New("server closed")
	ErrBadLocalAddr    = errors.New("local rtp address must be a unicast ip and a port")
	ErrBadTarget       = errors.New("bad dial target")
	ErrDialFailed      = errors.New("dial failed")
	ErrMediaAddress    = errors.New("media address refused")
	ErrSRTPPolicy      = errors.New("bad srtp policy")
	ErrCrypto          = errors.New("unusable a=crypto attribute")
	ErrSRTPRefused     = errors.New("srtp refused")
	ErrSRTPRequired    = errors.New("srtp required")
	ErrNoTLS           = errors.New("no tls certificate configured")
)

// StatusError is a final non-2xx response to an outbound INVITE.
type StatusError struct {
	Code   int
	Reason string
}

func (e *StatusError) Error() string { return fmt.Sprintf("call failed: %d %s", e.Code, e.Reason) }
