package server

import (
	"errors"
	"fmt"
	"sync"

	"github.com/wasmvoice/mediaserver/host/engine"
	"github.com/wasmvoice/mediaserver/media"
)

// mediaLeg is a leg of this server: the inbound leg and dialLeg (which
// embeds it).
type mediaLeg interface {
	endpoint() (*media.Endpoint, error)
}

// legEndpoint returns the RTP endpoint of one of this server's legs.
func legEndpoint(l engine.Leg) (*media.Endpoint, error) {
	ml, ok := l.(mediaLeg)
	if !ok {
		return nil, fmt.Errorf("%w: %T", ErrNoMedia, l)
	}
	return ml.endpoint()
}

var _ engine.Bridger = (*leg)(nil)

// Bridge connects this leg's media with other's (CallAndBridge) through a
// media.Bridge: G.711 bytes relayed when both legs use the same codec,
// PCMU and PCMA transcoded otherwise, RFC 4733 digits passed on. The
// engine plays the ringback tone itself, before it bridges.
func (l *leg) Bridge(other engine.Leg) (func(), error) {
	a, err := l.endpoint()
	if err != nil {
		return nil, fmt.Errorf("bridge: %w", err)
	}
	b, err := legEndpoint(other)
	if err != nil {
		return nil, fmt.Errorf("bridge: %w", err)
	}
	br, err := media.NewBridge(a, b, media.BridgeConfig{})
	if err != nil {
		return nil, fmt.Errorf("bridge: %w", err)
	}
	l.log.Info("legs bridged", "a", l.ID(), "b", other.ID())
	var once sync.Once
	return func() {
		once.Do(func() {
			if err := br.Close(); err != nil && !errors.Is(err, media.ErrClosed) {
				l.log.Warn("unbridge", "err", err)
			}
		})
	}, nil
}
