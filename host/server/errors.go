package server

import "errors"

var (
	// ErrStarted is returned by a second Start.
	ErrStarted = errors.New("server already started")
	// ErrNotStarted is returned when a method needs a started server.
	ErrNotStarted = errors.New("server not started")
	// ErrNotAnswered is returned by media methods of a leg that has no
	// media yet (the engine answers before any media action).
	ErrNotAnswered = errors.New("leg not answered")
	// ErrUnsupportedSource is wrapped (with engine.ErrAudioSource) for an
	// AudioSource whose Type is not "S3".
	ErrUnsupportedSource = errors.New("unsupported audio source type")
)
