package media

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"

	"github.com/wasmvoice/mediaserver/media/codec"
	"github.com/wasmvoice/mediaserver/media/dtmf"
	"github.com/wasmvoice/mediaserver/media/jitter"
)

// EndpointConfig describes one call leg's media.
type EndpointConfig struct {
	Clock *Clock      // required: drives the endpoint
	Ports *PortPool   // required: where the socket comes from
	Codec codec.Codec // negotiated audio codec (PCMU = 0 by default)
	// TelephoneEvent is the negotiated RFC 4733 payload type (96-127); 0
	// means none: digits are then detected and sent in-band.
	TelephoneEvent uint8
	// Remote is the address from the SDP; it may be unset with Symmetric.
	Remote netip.AddrPort
	// Symmetric latches the remote to the source of the first packet
	// received (comedia, for peers behind NAT), once.
	Symmetric bool
	// OnDigit receives every detected digit, on the clock goroutine.
	OnDigit func(dtmf.Received)
	Logger  *slog.Logger
	// Now timestamps arrivals for the jitter estimate (default time.Now).
	Now func() time.Time
}

// Stats counts an endpoint's traffic.
type Stats struct {
	RxPackets   uint64 // accepted audio and event packets
	RxForeign   uint64 // from an address other than the remote: dropped
	RxMalformed uint64 // short, wrong version, unparsable: dropped
	RxUnknownPT uint64 // payload type not negotiated: dropped
	RxBadSize   uint64 // audio payload that is not one 20 ms frame: dropped
	TxPackets   uint64
	TxErrors    uint64
	Jitter      jitter.Stats
}

// Endpoint is one call leg's RTP session: a UDP socket, a reader
// goroutine feeding a jitter buffer, and a Tick (from the Clock) that
// plays a frame out to the attached sinks and sends a frame from the
// current source.
//
// All methods are safe from any goroutine.
type Endpoint struct {
	conn  *net.UDPConn
	ports *PortPool
	clock *Clock
	local netip.AddrPort
	log   *slog.Logger
	now   func() time.Time

	mu        sync.Mutex
	closed    bool
	codec     codec.Codec
	tevent    uint8
	remote    netip.AddrPort
	symmetric bool
	latched   bool
	jb        *jitter.Buffer
	rx        *dtmf.Receiver
	detector  *dtmf.Detector
	sender    dtmf.Sender
	sendDone  func()
	source    Source
	newSource bool
	sinks     []Sink
	digits    []dtmf.Received // found during this tick, reported after unlock
	onDigit   func(dtmf.Received)
	pkt       rtp.Packet

	// Tick-goroutine state.
	ssrc      uint32
	seq       uint16
	ts        uint32
	eventTS   uint32
	started   bool
	spurt     bool
	in, out   codec.PCM16
	txBuf     []byte
	sinkSnap  []Sink
	digitSnap []dtmf.Received

	rxPackets, rxForeign, rxMalformed, rxUnknownPT, rxBadSize atomic.Uint64
	txPackets, txErrors                                       atomic.Uint64

	readerDone chan struct{}
}

// NewEndpoint binds a socket from cfg.Ports, starts its reader and
// registers it with cfg.Clock.
func NewEndpoint(cfg EndpointConfig) (*Endpoint, error) {
	if cfg.Clock == nil || cfg.Ports == nil {
		return nil, fmt.Errorf("%w: clock and ports are required", ErrConfig)
	}
	if _, err := codec.ForPayloadType(cfg.Codec.PayloadType()); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	conn, err := cfg.Ports.Listen()
	if err != nil {
		return nil, err
	}
	var seed [8]byte
	_, _ = rand.Read(seed[:])
	e := &Endpoint{
		conn:       conn,
		ports:      cfg.Ports,
		clock:      cfg.Clock,
		local:      conn.LocalAddr().(*net.UDPAddr).AddrPort(),
		log:        cfg.Logger,
		now:        cfg.Now,
		remote:     cfg.Remote,
		symmetric:  cfg.Symmetric,
		jb:         jitter.New(),
		onDigit:    cfg.OnDigit,
		ssrc:       binary.BigEndian.Uint32(seed[0:4]),
		seq:        binary.BigEndian.Uint16(seed[4:6]),
		ts:         uint32(binary.BigEndian.Uint16(seed[6:8])) << 8,
		in:         make(codec.PCM16, codec.FrameSamples),
		out:        make(codec.PCM16, codec.FrameSamples),
		txBuf:      make([]byte, 12+codec.FrameSamples),
		readerDone: make(chan struct{}),
	}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	if e.now == nil {
		e.now = time.Now
	}
	e.rx = dtmf.NewReceiver(e.addDigit)
	e.setCodecLocked(cfg.Codec, cfg.TelephoneEvent)
	go e.read()
	e.clock.Register(e)
	return e, nil
}

func (e *Endpoint) addDigit(d dtmf.Received) { e.digits = append(e.digits, d) }

// LocalAddr is the socket's address, for the SDP answer.
func (e *Endpoint) LocalAddr() netip.AddrPort { return e.local }

// SetRemote changes the remote address (a re-INVITE). With Symmetric the
// next packet latches the remote again.
func (e *Endpoint) SetRemote(addr netip.AddrPort) {
	e.mu.Lock()
	e.remote = netip.AddrPortFrom(addr.Addr().Unmap(), addr.Port())
	e.latched = false
	e.mu.Unlock()
}

// Remote returns the current remote address.
func (e *Endpoint) Remote() netip.AddrPort {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.remote
}

// SetCodec changes the negotiated codec and telephone-event payload type.
func (e *Endpoint) SetCodec(c codec.Codec, telephoneEvent uint8) error {
	if _, err := codec.ForPayloadType(c.PayloadType()); err != nil {
		return err
	}
	e.mu.Lock()
	e.setCodecLocked(c, telephoneEvent)
	e.mu.Unlock()
	return nil
}

func (e *Endpoint) setCodecLocked(c codec.Codec, tevent uint8) {
	e.codec = c
	e.tevent = tevent
	if tevent == 0 {
		if e.detector == nil {
			e.detector = dtmf.NewDetector(e.addDigit)
		}
	} else {
		e.detector = nil
	}
}

// SetSource makes src the audio to send (nil = silence). The previous
// source is dropped without notification; stop a Player before replacing it.
func (e *Endpoint) SetSource(src Source) {
	e.mu.Lock()
	e.source = src
	e.newSource = src != nil
	e.mu.Unlock()
}

// AddSink attaches a sink (recorder, silence detector).
func (e *Endpoint) AddSink(s Sink) {
	e.mu.Lock()
	e.sinks = append(e.sinks, s)
	e.mu.Unlock()
}

// RemoveSink detaches a sink; it may see one more frame if a tick is running.
func (e *Endpoint) RemoveSink(s Sink) {
	e.mu.Lock()
	for i, x := range e.sinks {
		if x == s {
			e.sinks = append(e.sinks[:i], e.sinks[i+1:]...)
			break
		}
	}
	e.mu.Unlock()
}

// SendDigits sends digits (0-9 * # A-D, ',' = 500 ms pause) as RFC 4733
// events, or as in-band tones when no telephone-event was negotiated.
// tone 0 means 250 ms. While digits play the source is paused. onDone
// (may be nil) runs on the clock goroutine after the last digit.
func (e *Endpoint) SendDigits(digits string, tone time.Duration, onDone func()) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return ErrClosed
	}
	if e.sender.Active() {
		return ErrBusy
	}
	if err := e.sender.Start(digits, tone); err != nil {
		return err
	}
	e.sendDone = onDone
	if !e.sender.Active() && onDone != nil {
		e.sendDone = nil
		go onDone() // empty string: done at once, never under our lock
	}
	return nil
}

// Stats returns the traffic counters.
func (e *Endpoint) Stats() Stats {
	e.mu.Lock()
	js := e.jb.Stats()
	e.mu.Unlock()
	return Stats{
		RxPackets:   e.rxPackets.Load(),
		RxForeign:   e.rxForeign.Load(),
		RxMalformed: e.rxMalformed.Load(),
		RxUnknownPT: e.rxUnknownPT.Load(),
		RxBadSize:   e.rxBadSize.Load(),
		TxPackets:   e.txPackets.Load(),
		TxErrors:    e.txErrors.Load(),
		Jitter:      js,
	}
}

// Close stops the endpoint, closes its socket and returns its port.
func (e *Endpoint) Close() error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return ErrClosed
	}
	e.closed = true
	e.mu.Unlock()
	e.clock.Unregister(e)
	err := e.conn.Close()
	<-e.readerDone
	e.ports.Release(int(e.local.Port()))
	return err
}

func (e *Endpoint) read() {
	defer close(e.readerDone)
	buf := make([]byte, 1500)
	for {
		n, from, err := e.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// ICMP errors surface here on some systems: keep reading.
			e.log.Debug("rtp read", "err", err)
			continue
		}
		e.handlePacket(buf[:n], from)
	}
}

// handlePacket filters and parses one datagram. It never panics on input.
func (e *Endpoint) handlePacket(b []byte, from netip.AddrPort) {
	if len(b) < 12 || b[0]>>6 != 2 {
		e.rxMalformed.Add(1)
		return
	}
	from = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return
	}
	switch {
	case e.symmetric && !e.latched:
		e.remote = from
		e.latched = true
	case from != e.remote:
		e.rxForeign.Add(1)
		return
	}
	if err := e.pkt.Unmarshal(b); err != nil {
		e.rxMalformed.Add(1)
		return
	}
	p := &e.pkt
	switch {
	case p.PayloadType == e.codec.PayloadType():
		if len(p.Payload) != codec.FrameSamples {
			e.rxBadSize.Add(1)
			return
		}
		e.jb.Push(p.SSRC, p.SequenceNumber, p.Timestamp, p.Payload, e.now())
	case e.tevent != 0 && p.PayloadType == e.tevent:
		var ev dtmf.Event
		if err := ev.Unmarshal(p.Payload); err != nil {
			e.rxMalformed.Add(1)
			return
		}
		e.rx.Push(p.SSRC, p.Timestamp, ev)
	default:
		e.rxUnknownPT.Add(1)
		return
	}
	e.rxPackets.Add(1)
}

// Tick runs one 20 ms step: receive side into the sinks, send side from
// the source. Called by the Clock.
func (e *Endpoint) Tick(time.Time) {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return
	}
	payload, st := e.jb.Pop()
	if payload != nil {
		e.codec.Decode(e.in, payload)
	} else {
		clear(e.in)
	}
	e.rx.Tick()
	if e.detector != nil && st != jitter.Empty {
		e.detector.Process(e.in)
	}
	step := e.sender.Tick()
	var sendDone func()
	if step.Finished {
		sendDone, e.sendDone = e.sendDone, nil
	}
	src := e.source
	marker := e.newSource || !e.started
	e.newSource = false
	remote := e.remote
	c := e.codec
	tevent := e.tevent
	e.sinkSnap = append(e.sinkSnap[:0], e.sinks...)
	e.digitSnap = append(e.digitSnap[:0], e.digits...)
	e.digits = e.digits[:0]
	e.mu.Unlock()

	// Outside the lock: sources, sinks and callbacks may call back into
	// the endpoint.
	audio := true
	switch step.Kind {
	case dtmf.StepEvent:
		if tevent != 0 {
			audio = false
			clear(e.out)
			if step.Start {
				e.eventTS = e.ts
			}
			e.sendEvent(remote, tevent, step)
			e.spurt = true // the audio after the events starts a new talk spurt
		} else if step.Retransmit {
			clear(e.out)
		} else {
			dtmf.Generate(e.out, step.Digit, step.ToneOffset, dtmf.DefaultToneAmplitude)
			marker = marker || step.Start
		}
	case dtmf.StepSilence:
		clear(e.out)
	default:
		if src == nil || !src.ReadFrame(e.out) {
			clear(e.out)
			if src != nil {
				e.mu.Lock()
				if e.source == src {
					e.source = nil
				}
				e.mu.Unlock()
			}
		}
	}
	if audio {
		e.sendAudio(remote, c, e.out, marker || e.spurt)
		e.spurt = false
	}
	e.started = true
	e.ts += codec.FrameSamples
	for _, s := range e.sinkSnap {
		s.WriteFrame(e.in, e.out)
	}
	clear(e.sinkSnap)
	if e.onDigit != nil {
		for _, d := range e.digitSnap {
			e.onDigit(d)
		}
	}
	if sendDone != nil {
		sendDone()
	}
}

func (e *Endpoint) header(pt uint8, marker bool, ts uint32) {
	b := e.txBuf
	b[0] = 0x80
	b[1] = pt & 0x7F
	if marker {
		b[1] |= 0x80
	}
	binary.BigEndian.PutUint16(b[2:], e.seq)
	binary.BigEndian.PutUint32(b[4:], ts)
	binary.BigEndian.PutUint32(b[8:], e.ssrc)
	e.seq++
}

func (e *Endpoint) sendAudio(remote netip.AddrPort, c codec.Codec, frame codec.PCM16, marker bool) {
	if !remote.IsValid() {
		return
	}
	e.header(c.PayloadType(), marker, e.ts)
	n := c.Encode(e.txBuf[12:], frame)
	e.write(e.txBuf[:12+n], remote)
}

func (e *Endpoint) sendEvent(remote netip.AddrPort, pt uint8, step dtmf.Step) {
	if !remote.IsValid() {
		return
	}
	e.header(pt, step.Start, e.eventTS)
	n, _ := step.Event.MarshalTo(e.txBuf[12:])
	e.write(e.txBuf[:12+n], remote)
}

func (e *Endpoint) write(b []byte, to netip.AddrPort) {
	if _, err := e.conn.WriteToUDPAddrPort(b, to); err != nil {
		e.txErrors.Add(1)
		return
	}
	e.txPackets.Add(1)
}

// String describes the endpoint for logs.
func (e *Endpoint) String() string {
	return fmt.Sprintf("rtp %s->%s", e.local, e.Remote())
}
