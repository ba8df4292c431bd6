package media

import "errors"

var (
	// ErrNoPorts is returned when every port of a PortPool is in use.
	ErrNoPorts = errors.New("no free rtp port")
	// ErrPortRange is returned for an invalid port range.
	ErrPortRange = errors.New("invalid rtp port range")
	// ErrClosed is returned by a closed endpoint or clock.
	ErrClosed = errors.New("media: closed")
	// ErrConfig is returned for an incomplete endpoint configuration.
	ErrConfig = errors.New("invalid media config")
	// ErrBusy is returned by SendDigits while a previous string is playing.
	ErrBusy = errors.New("digits already being sent")
)
