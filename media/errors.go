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
	// ErrOwnerShare is returned when an owner (a tenant) holds its share
	// of the port pool already.
	ErrOwnerShare = errors.New("rtp port share used up")
	// ErrBusy is returned by SendDigits while a previous string is playing.
	ErrBusy        = errors.New("digits already being sent")
	ErrSRTPProfile = errors.New("unsupported srtp profile")
	ErrSRTPKey     = errors.New("bad srtp key")
)

var (
	// ErrDirection is returned for an unknown SDP direction.
	ErrDirection = errors.New("invalid media direction")
	// ErrPayloadType is returned for a payload type the codec cannot take.
	ErrPayloadType = errors.New("invalid payload type")
	// ErrPacketTime is returned for a packet time other than 10..60 ms in
	// steps of 10 ms.
	ErrPacketTime = errors.New("invalid packet time")
	// ErrAttached is returned when an endpoint already belongs to a bridge
	// or a conference.
	ErrAttached = errors.New("endpoint already bridged or in a conference")
	// ErrNotMember is returned for an endpoint that is not in the conference.
	ErrNotMember = errors.New("endpoint not in this conference")
)

// ErrTarget is returned for an address media must not be sent to
// (multicast, broadcast, port 0, the server's own sockets).
var ErrTarget = errors.New("refused media address")
