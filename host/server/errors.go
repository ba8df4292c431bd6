package server

import "errors"

var (
	// ErrStarted is returned by a second Start.
	ErrStarted = errors.New("server already started")
	// ErrNotStarted is returned when a method needs a started server.
	ErrNotStarted = errors.New("server not started")
)
