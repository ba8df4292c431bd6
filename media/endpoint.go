package media

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"

	"github.com/wasmvoice/mediaserver/media/codec"
	"github.com/wasmvoice/mediaserver/media/dtmf"
	"github.com/wasmvoice/mediaserver/media/jitter"
)

// EndpointConfig describes one call leg's media.
type EndpointConfig struct {
	Clock *Clock    // required: drives the endpoint
	Ports *PortPool // required: where the socket comes from
	// Owner is whose share of Ports the socket counts against (a tenant);
	// "" counts against no share.
	Owner string
	Codec codec.Codec // negotiated audio codec (PCMU = 0 by default)
	// PayloadType is the audio's negotiated RTP payload type: 0 means the
	// codec's static one (PCMU 0, PCMA 8); a dynamic 96-127 when the
	// offer mapped the codec there. Received and sent with it.
	PayloadType uint8
	// TelephoneEvent is the negotiated RFC 4733 payload type (96-127); 0
	// means none: digits are then detected and sent in-band.
	TelephoneEvent uint8
	// Remote is the address from the SDP; it may be unset with Symmetric.
	Remote netip.AddrPort
	// Symmetric latches the remote to the source of the first packet
	// received (comedia, for peers behind NAT); see Endpoint.
	Symmetric bool
	// Confirmed says the remote is known to be the peer: the SDP came in
	// the answer to our own offer. Otherwise nothing is sent until Confirm
	// (the ACK of our 200 OK) or until a packet arrives from the remote.
	Confirmed bool
	// Targets refuses remotes media must not go to (multicast, broadcast,
	// the server's own sockets); nil applies only the address-free rules.
	Targets *Targets
	// OnDigit receives every detected digit, in order and never
	// concurrently: an RFC 4733 digit on its shard's poller goroutine as
	// its end packet arrives, an in-band digit (or one whose end packets
	// were lost) on the clock goroutine. It must not block.
	OnDigit func(dtmf.Received)
	Logger  *slog.Logger
	// Now timestamps arrivals for the jitter estimate (default time.Now).
	Now func() time.Time
	// PacketTime is the audio sent per packet: 10 to 60 ms in steps of
	// 10 ms; 0 means 20 ms. Received packets may have any size up to 60 ms.
	PacketTime time.Duration
	// Direction is our SDP direction (default SendRecv).
	Direction Direction
	// SRTP, when set, protects the media (see SRTP and SetSRTP).
	SRTP *SRTP
}

// Stats counts an endpoint's traffic.
type Stats struct {
	RxPackets   uint64 // accepted audio and event packets
	RxForeign   uint64 // from an address other than the remote: dropped
	RxRefused   uint64 // from an address media may not go to (Targets): dropped
	RxMalformed uint64 // short, wrong version, unparsable: dropped
	RxUnknownPT uint64 // payload type not negotiated: dropped
	RxBadSize   uint64 // audio payload empty or over 60 ms: dropped
	RxInactive  uint64 // arrived while our direction does not receive: dropped
	// SRTP: did not authenticate (tampered, wrong key), or a replay.
	RxSRTPAuth   uint64
	RxSRTPReplay uint64
	TxPackets    uint64
	TxErrors     uint64
	Jitter       jitter.Stats
}

// Endpoint is one call leg's RTP session: a UDP socket, read by its clock
// shard's poller (batched with the shard's other sockets) into a jitter
// buffer, and a Tick (from the Clock) that
// plays a frame out to the attached sinks and sends a frame from the
// current source.
//
// All methods are safe from any goroutine.
type Endpoint struct {
	sock   *udpSock
	poller *poller
	ports  *PortPool
	clock  *Clock
	local  netip.AddrPort
	log    *slog.Logger
	now    func() time.Time

	mu        sync.Mutex
	closed    bool
	codec     codec.Codec
	pt        uint8 // the audio's payload type, received and sent
	tevent    uint8
	remote    netip.AddrPort // where we send: the SDP's address or the latched source
	sdp       netip.AddrPort // the SDP's address
	symmetric bool
	latch     latchState
	confirmed bool
	targets   *Targets
	foreignAt netip.AddrPort // the first foreign source, logged once
	jb        *jitter.Buffer
	rx        *dtmf.Receiver
	detector  *dtmf.Detector
	sender    dtmf.Sender
	sendDone  func()
	source    Source
	newSource bool
	sinks     []Sink
	filter    Filter
	digits    []dtmf.Received // found, not yet reported (deliverDigits)
	onDigit   func(dtmf.Received)
	pkt       rtp.Packet
	asm       assembler
	dir       Direction
	ptime     int       // samples per sent packet
	owner     any       // the Bridge or Mixer driving this endpoint
	evq       []rxEvent // telephone-events to forward to a bridged leg
	owned     atomic.Bool

	// tickMu serialises ticks: the clock, a Bridge or a Mixer may drive
	// the endpoint, and hand-overs between them can overlap by one tick.
	// SetSource's early send (sendEarly) takes it too.
	tickMu sync.Mutex
	// earlyWanted asks the tick in progress to send a new source's first
	// frame when it is done (SetSource could not take tickMu).
	earlyWanted atomic.Bool

	// digitMu serialises OnDigit calls from the poller and the tick, and
	// keeps them in the order the digits were found; digitSnap is its.
	digitMu   sync.Mutex
	digitSnap []dtmf.Received
	// inCallback is set while OnDigit runs, so that a Close from the
	// callback does not wait for the delivery in progress to end.
	inCallback atomic.Bool

	// Tick-goroutine state.
	ssrc     uint32
	seq      uint16
	ts       uint32
	eventTS  uint32
	started  bool
	spurt    bool
	in, out  codec.PCM16
	txBuf    []byte
	txq      [][]byte // this tick's packets, sent together (flushTx)
	txMem    []byte   // their bytes
	txTo     netip.AddrPort
	sinkSnap []Sink
	// early: this tick's frame already went out from sendEarly; the tick
	// only feeds the sinks, so packets and timestamps stay one per tick.
	early    bool
	rxPay    []byte // this tick's received payload (valid if rxHave)
	rxHave   bool
	rxCodec  codec.Codec
	inValid  bool // in holds rxPay decoded
	encBuf   []byte
	txAcc    []byte // encoded audio waiting for a full packet (ptime > 20 ms)
	txAccTS  uint32
	txCodec  codec.Codec
	txPT     uint8
	txMarker bool
	fwd      forwarded

	rxPackets, rxForeign, rxMalformed, rxUnknownPT, rxBadSize atomic.Uint64
	rxInactive, rxRefused                                     atomic.Uint64
	txPackets, txErrors                                       atomic.Uint64
	rxSRTPAuth, rxSRTPReplay                                  atomic.Uint64

	// SRTP: srtpRx checks received packets (under mu, on the poller),
	// srtpTx protects sent ones as they are queued (under txCryptMu:
	// SetSRTP may swap it from any goroutine); nil when the media is
	// plain RTP.
	srtpRx     *srtp.Context
	srtpWarned bool
	rxPlain    []byte
	rxHdr      rtp.Header // reused: a header per packet would escape to the heap
	txCryptMu  sync.Mutex
	srtpTx     *srtp.Context
	txCrypt    []byte
	txHdr      rtp.Header
}

// NewEndpoint binds a socket from cfg.Ports, hands it to the poller of
// one of cfg.Clock's shards (which reads it) and registers the endpoint
// with cfg.Clock (which ticks it).
func NewEndpoint(cfg EndpointConfig) (*Endpoint, error) {
	if cfg.Clock == nil || cfg.Ports == nil {
		return nil, fmt.Errorf("%w: clock and ports are required", ErrConfig)
	}
	if _, err := codec.ForPayloadType(cfg.Codec.PayloadType()); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	if err := checkPayloadTypes(cfg.Codec, cfg.PayloadType, cfg.TelephoneEvent); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	ptime, err := packetSamples(cfg.PacketTime)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	if cfg.Direction > Inactive {
		return nil, fmt.Errorf("%w: %w", ErrConfig, ErrDirection)
	}
	var srtpTx, srtpRx *srtp.Context
	if cfg.SRTP != nil {
		if srtpTx, srtpRx, err = srtpContexts(cfg.SRTP); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrConfig, err)
		}
	}
	sock, err := cfg.Ports.bind(cfg.Owner)
	if err != nil {
		return nil, err
	}
	var seed [8]byte
	_, _ = rand.Read(seed[:])
	e := &Endpoint{
		sock:      sock,
		poller:    cfg.Clock.pollerFor(),
		ports:     cfg.Ports,
		clock:     cfg.Clock,
		local:     sock.local,
		log:       cfg.Logger,
		now:       cfg.Now,
		remote:    unmapped(cfg.Remote),
		sdp:       unmapped(cfg.Remote),
		symmetric: cfg.Symmetric,
		confirmed: cfg.Confirmed,
		targets:   cfg.Targets,
		jb:        jitter.New(),
		onDigit:   cfg.OnDigit,
		ssrc:      binary.BigEndian.Uint32(seed[0:4]),
		seq:       binary.BigEndian.Uint16(seed[4:6]),
		ts:        uint32(binary.BigEndian.Uint16(seed[6:8])) << 8,
		in:        make(codec.PCM16, codec.FrameSamples),
		out:       make(codec.PCM16, codec.FrameSamples),
		txBuf:     make([]byte, 12+MaxPacketSamples),
		rxPay:     make([]byte, 0, codec.FrameSamples),
		encBuf:    make([]byte, codec.FrameSamples),
		txAcc:     make([]byte, 0, MaxPacketSamples+codec.FrameSamples),
		ptime:     ptime,
		dir:       cfg.Direction,
	}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	if e.now == nil {
		e.now = time.Now
	}
	e.rx = dtmf.NewReceiver(e.addDigit)
	e.setCodecLocked(cfg.Codec, cfg.PayloadType, cfg.TelephoneEvent)
	e.srtpTx, e.srtpRx = srtpTx, srtpRx
	if err := e.poller.add(e); err != nil {
		e.poller.remove(e)
		cfg.Ports.Release(int(e.local.Port()))
		return nil, err
	}
	e.clock.Register(e)
	return e, nil
}

func (e *Endpoint) addDigit(d dtmf.Received) { e.digits = append(e.digits, d) }

// LocalAddr is the socket's address, for the SDP answer.
func (e *Endpoint) LocalAddr() netip.AddrPort { return e.local }

// latchState is how far symmetric RTP has moved the remote.
type latchState uint8

const (
	latchNone        latchState = iota // sending to the SDP's address
	latchProvisional                   // to another port of the SDP's IP, or any source when the SDP's address cannot be the peer's
	latchFinal                         // to the SDP's exact address: nothing moves it again
)

// mayLatch reports whether a packet from a source other than the remote
// may move the remote there (symmetric RTP). To keep a stream from being
// hijacked by whoever sends first:
//   - a packet from the SDP's exact address always latches, for good: the
//     SDP's port is preferred to any other;
//   - otherwise only the first source may latch, provisionally, and only
//     from the SDP's IP (a NAT may change the port), or from anywhere when
//     the SDP address cannot be the real one: unset, unspecified, or
//     private/link-local/CGNAT — a phone behind NAT;
//   - never from an address media may not go to (Targets).
//
// Caller holds e.mu.
func (e *Endpoint) mayLatch(from netip.AddrPort) bool {
	if !e.symmetric || e.latch == latchFinal {
		return false
	}
	if from == e.sdp {
		return true
	}
	if e.latch != latchNone {
		return false
	}
	sdp := e.sdp.Addr()
	if !sdp.IsValid() || sdp.IsUnspecified() || sdp == from.Addr() || behindNAT(sdp) {
		return e.targets.Check(from) == nil
	}
	return false
}

// cgnat is the shared address space of carrier-grade NAT (RFC 6598).
var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// behindNAT reports whether an SDP address is one a peer behind NAT would
// announce: private (RFC 1918, RFC 4193), link-local or CGNAT.
func behindNAT(a netip.Addr) bool {
	return a.IsPrivate() || a.IsLinkLocalUnicast() || cgnat.Contains(a)
}

// SetRemote changes the remote address (an SDP answer or a re-INVITE).
// With Symmetric the next packets latch the remote again. An address that
// Targets refuses is not used: the endpoint keeps receiving and sends
// nothing until a valid one is set or latched.
func (e *Endpoint) SetRemote(addr netip.AddrPort) {
	addr = unmapped(addr)
	if err := e.targets.CheckSDP(addr); err != nil {
		e.log.Warn("rtp: remote address refused", "remote", addr, "err", err)
		addr = netip.AddrPort{}
	}
	e.mu.Lock()
	e.remote, e.sdp = addr, addr
	e.latch = latchNone
	e.mu.Unlock()
}

// Confirm says the remote is the peer's (the ACK of our 200 OK arrived):
// the endpoint starts sending. Until then, or until a packet comes from
// the remote, it sends nothing, so a forged INVITE cannot aim a stream at
// a third party.
func (e *Endpoint) Confirm() {
	e.mu.Lock()
	was := e.confirmed
	e.confirmed = true
	pending := e.newSource && e.source != nil
	e.mu.Unlock()
	if !was && pending {
		e.earlyWanted.Store(true)
		if e.tickMu.TryLock() {
			e.sendEarly()
			e.tickMu.Unlock()
		}
	}
}

// sendsTo reports whether the endpoint may send now, and where. Caller
// holds e.mu.
func (e *Endpoint) sendsTo() (netip.AddrPort, bool) {
	return e.remote, e.dir.Sends() && e.confirmed && e.remote.IsValid()
}

func unmapped(a netip.AddrPort) netip.AddrPort {
	if !a.IsValid() {
		return a
	}
	return netip.AddrPortFrom(a.Addr().Unmap(), a.Port())
}

// Remote returns the current remote address.
func (e *Endpoint) Remote() netip.AddrPort {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.remote
}

// SetCodec changes the negotiated codec and telephone-event payload type.
// pt is the audio's payload type (0: the codec's static one).
func (e *Endpoint) SetCodec(c codec.Codec, pt, telephoneEvent uint8) error {
	if _, err := codec.ForPayloadType(c.PayloadType()); err != nil {
		return err
	}
	if err := checkPayloadTypes(c, pt, telephoneEvent); err != nil {
		return err
	}
	e.mu.Lock()
	e.setCodecLocked(c, pt, telephoneEvent)
	e.mu.Unlock()
	return nil
}

// checkPayloadTypes accepts the codec's static payload type (given as 0
// or itself) or a dynamic one (96-127) for the audio, distinct from the
// telephone-event's.
func checkPayloadTypes(c codec.Codec, pt, tevent uint8) error {
	if pt != 0 && pt != c.PayloadType() && (pt < 96 || pt > 127) {
		return fmt.Errorf("%w: payload type %d for %s: want %d or 96-127", ErrPayloadType, pt, c, c.PayloadType())
	}
	if tevent != 0 && (tevent < 96 || tevent > 127) {
		return fmt.Errorf("%w: telephone-event payload type %d: want 96-127", ErrPayloadType, tevent)
	}
	if pt != 0 && pt == tevent {
		return fmt.Errorf("%w: audio and telephone-event share payload type %d", ErrPayloadType, pt)
	}
	return nil
}

func (e *Endpoint) setCodecLocked(c codec.Codec, pt, tevent uint8) {
	if pt == 0 {
		pt = c.PayloadType()
	}
	e.codec = c
	e.pt = pt
	e.tevent = tevent
	if tevent == 0 {
		if e.detector == nil {
			e.detector = dtmf.NewDetector(e.addDigit)
		}
	} else {
		e.detector = nil
	}
}

// packetSamples converts a packet time to samples (0 = 20 ms).
func packetSamples(d time.Duration) (int, error) {
	if d == 0 {
		return codec.FrameSamples, nil
	}
	if d < 10*time.Millisecond || d > 60*time.Millisecond || d%(10*time.Millisecond) != 0 {
		return 0, fmt.Errorf("%w: %v", ErrPacketTime, d)
	}
	return int(d / (time.Second / codec.SampleRate)), nil
}

// SetPacketTime changes the audio sent per packet (an SDP ptime); see
// EndpointConfig.PacketTime.
func (e *Endpoint) SetPacketTime(d time.Duration) error {
	n, err := packetSamples(d)
	if err != nil {
		return err
	}
	e.mu.Lock()
	e.ptime = n
	e.mu.Unlock()
	return nil
}

// SetDirection sets our media direction (RFC 3264), for hold and resume.
// When the remote holds us with sendonly, answer RecvOnly (see
// Direction.Answer): we keep playing out what it sends (music on hold)
// and send nothing. Inactive stops both ways; SendOnly (we hold the
// remote) drops whatever arrives. While not sending, the RTP timestamp
// keeps advancing and sources keep being read, so playback ends on time
// and the first packet after resuming carries the marker bit.
func (e *Endpoint) SetDirection(d Direction) error {
	if d > Inactive {
		return ErrDirection
	}
	e.mu.Lock()
	if !d.Receives() && e.dir.Receives() {
		e.jb.Reset()
		e.asm.reset()
	}
	e.dir = d
	e.mu.Unlock()
	return nil
}

// Direction returns our media direction.
func (e *Endpoint) Direction() Direction {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.dir
}

// SetSource makes src the audio to send (nil = silence). The previous
// source is dropped without notification; stop a Player before replacing it.
//
// When the endpoint is sending, the first frame of src goes out at once,
// from the caller's goroutine, instead of on the next tick (up to 20 ms
// later): that frame takes the next tick's place, which then sends
// nothing, so the stream keeps one packet per tick, +160 per packet.
// src.ReadFrame may therefore run on the caller's goroutine.
func (e *Endpoint) SetSource(src Source) {
	e.mu.Lock()
	e.source = src
	e.newSource = src != nil
	e.mu.Unlock()
	if src == nil {
		return
	}
	// A tick holding tickMu (on another goroutine, or this one when called
	// from a tick callback) sends the frame itself when it is done; only a
	// tick caught between that check and its unlock leaves it to the next
	// tick, as before.
	e.earlyWanted.Store(true)
	if e.tickMu.TryLock() {
		e.sendEarly()
		e.tickMu.Unlock()
	}
}

// sendEarly sends the first frame of a source just attached, if the
// endpoint sends and the next tick's frame has not gone out early already.
// The next tick then skips its send (see transmit). Called with tickMu held.
func (e *Endpoint) sendEarly() {
	if !e.earlyWanted.Swap(false) {
		return
	}
	if e.early {
		// The next tick's frame went out already (a source replaced within
		// one tick): this one goes out when that tick is done.
		e.earlyWanted.Store(true)
		return
	}
	e.mu.Lock()
	src := e.source
	remote, sending := e.sendsTo()
	if e.closed || !e.newSource || src == nil || e.sender.Active() || !sending {
		e.mu.Unlock()
		return
	}
	e.newSource = false
	c, pt, ptime := e.codec, e.pt, e.ptime
	e.mu.Unlock()
	if !src.ReadFrame(e.out) {
		e.mu.Lock()
		if e.source == src {
			e.source = nil
		}
		e.mu.Unlock()
		return // an empty source: the next tick sends silence as usual
	}
	if c != e.txCodec || pt != e.txPT {
		e.flushAudio(remote, true)
		e.txCodec, e.txPT = c, pt
	}
	c.Encode(e.encBuf, e.out)
	e.emitAudio(remote, pt, e.encBuf, true, ptime)
	e.flushTx()
	e.spurt = false
	e.started = true
	e.ts += codec.FrameSamples
	e.early = true
}

// AddSink attaches a sink (recorder, silence detector).
//
// While a sink is attached the jitter buffer keeps every frame (see
// jitter.Buffer.SetKeepAll): a recording has no gap but for real loss.
func (e *Endpoint) AddSink(s Sink) {
	e.mu.Lock()
	e.sinks = append(e.sinks, s)
	e.jb.SetKeepAll(true)
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
	e.jb.SetKeepAll(len(e.sinks) > 0)
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
		RxPackets:    e.rxPackets.Load(),
		RxForeign:    e.rxForeign.Load(),
		RxMalformed:  e.rxMalformed.Load(),
		RxUnknownPT:  e.rxUnknownPT.Load(),
		RxBadSize:    e.rxBadSize.Load(),
		RxInactive:   e.rxInactive.Load(),
		RxRefused:    e.rxRefused.Load(),
		RxSRTPAuth:   e.rxSRTPAuth.Load(),
		RxSRTPReplay: e.rxSRTPReplay.Load(),
		TxPackets:    e.txPackets.Load(),
		TxErrors:     e.txErrors.Load(),
		Jitter:       js,
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
	err := e.poller.remove(e)
	if !e.inCallback.Load() {
		// A digit being reported by the poller is reported before Close
		// returns; from OnDigit itself, Close does not wait for it.
		e.digitMu.Lock()
		e.digitMu.Unlock()
	}
	e.ports.Release(int(e.local.Port()))
	return err
}

// deliverDigits reports the digits found so far to OnDigit, outside e.mu.
// Whoever finds a digit (poller or tick) calls it afterwards; digitMu
// keeps the calls ordered and one at a time.
func (e *Endpoint) deliverDigits() {
	e.digitMu.Lock()
	defer e.digitMu.Unlock()
	e.mu.Lock()
	e.digitSnap = append(e.digitSnap[:0], e.digits...)
	e.digits = e.digits[:0]
	e.mu.Unlock()
	if e.onDigit != nil && len(e.digitSnap) > 0 {
		e.inCallback.Store(true)
		for _, d := range e.digitSnap {
			e.onDigit(d)
		}
		e.inCallback.Store(false)
	}
	clear(e.digitSnap)
}

// reportDigits reports the digits the poller found as their end packet
// arrived (not on the next tick, up to 20 ms later).
func (e *Endpoint) reportDigits() {
	e.deliverDigits()
}

// handlePacket filters and parses one datagram. It never panics on input.
// It reports whether a digit was found, for deliverDigits.
func (e *Endpoint) handlePacket(b []byte, from netip.AddrPort) bool {
	if len(b) < 12 || b[0]>>6 != 2 {
		e.rxMalformed.Add(1)
		return false
	}
	from = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.handlePacketLocked(b, from)
}

func (e *Endpoint) handlePacketLocked(b []byte, from netip.AddrPort) (digit bool) {
	if e.closed {
		return false
	}
	latching := from != e.remote || e.symmetric && e.latch == latchNone
	if latching && !e.mayLatch(from) {
		if from != e.remote {
			e.dropForeign(from)
			return false
		}
		latching = false // the SDP's own address without symmetric RTP
	}
	if e.srtpRx != nil {
		// Before anything else looks at the packet: one that does not
		// authenticate neither latches nor confirms the remote.
		var ok bool
		if b, ok = e.unprotect(b); !ok {
			return false
		}
	}
	if err := e.pkt.Unmarshal(b); err != nil {
		e.rxMalformed.Add(1)
		return false
	}
	p := &e.pkt
	if latching {
		// Latch only on a packet of a negotiated payload type, so neither
		// garbage nor a stray stream moves the remote.
		if p.PayloadType != e.pt && (e.tevent == 0 || p.PayloadType != e.tevent) {
			e.rxUnknownPT.Add(1)
			return false
		}
		if from != e.remote {
			e.log.Info("rtp: remote latched", "sdp", e.sdp, "from", from)
		}
		e.remote = from
		e.latch = latchProvisional
		if from == e.sdp {
			e.latch = latchFinal
		}
	}
	// A packet from where we send proves the peer is there.
	e.confirmed = true
	switch {
	case p.PayloadType == e.pt:
		if !e.dir.Receives() {
			e.rxInactive.Add(1)
			return false
		}
		if len(p.Payload) == 0 || len(p.Payload) > MaxPacketSamples {
			e.rxBadSize.Add(1)
			return false
		}
		e.asm.push(e.jb, e.codec.SilenceByte(), p.SSRC, p.SequenceNumber, p.Timestamp, p.Payload, e.now())
	case e.tevent != 0 && p.PayloadType == e.tevent:
		if !e.dir.Receives() {
			e.rxInactive.Add(1)
			return false
		}
		var ev dtmf.Event
		if err := ev.Unmarshal(p.Payload); err != nil {
			e.rxMalformed.Add(1)
			return false
		}
		n := len(e.digits)
		e.rx.Push(p.SSRC, p.Timestamp, ev)
		e.rx.Flush()
		digit = len(e.digits) > n
		if e.owner != nil && len(e.evq) < maxForward {
			e.evq = append(e.evq, rxEvent{ssrc: p.SSRC, ts: p.Timestamp, ev: ev})
		}
	default:
		e.rxUnknownPT.Add(1)
		return false
	}
	e.rxPackets.Add(1)
	return digit
}

// dropForeign counts a packet from a source that is neither the remote nor
// may latch, and logs the first one of the endpoint at WARN with both
// addresses: a softphone that sends from another address than its SDP
// announces loses its audio and digits, and the operator must see why.
// Caller holds e.mu.
func (e *Endpoint) dropForeign(from netip.AddrPort) {
	if e.targets.Check(from) != nil {
		e.rxRefused.Add(1)
	} else {
		e.rxForeign.Add(1)
	}
	if e.foreignAt.IsValid() {
		return
	}
	e.foreignAt = from
	e.log.Warn("rtp: dropping packets from an address other than the peer's", "from", from, "remote", e.remote, "sdp", e.sdp,
		"symmetric", e.symmetric)
}

// Tick runs one 20 ms step: receive side into the sinks, send side from
// the source. Called by the Clock; an endpoint in a Bridge or Mixer is
// driven by it instead and ignores Tick.
func (e *Endpoint) Tick(time.Time) {
	e.tickMu.Lock()
	defer e.tickMu.Unlock()
	if e.owned.Load() {
		return
	}
	if e.receive(nil) {
		e.transmit(nil, nil)
	}
}

// inPCM returns this tick's received audio, decoding it on first use:
// a relayed leg with nothing attached never decodes. Tick goroutine only.
func (e *Endpoint) inPCM() codec.PCM16 {
	if !e.inValid {
		if e.rxHave {
			e.rxCodec.Decode(e.in, e.rxPay)
		} else {
			clear(e.in)
		}
		e.inValid = true
	}
	return e.in
}

// receive is the first half of a tick: jitter-buffer play-out, RFC 4733
// time-outs and in-band detection. With f it also hands this tick's frame
// (and telephone-events to forward) to a bridge or mixer. It reports
// false when the endpoint is closed. Called with tickMu held.
func (e *Endpoint) receive(f *frame) bool {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return false
	}
	e.asm.due(e.jb)
	payload, st := e.jb.Pop()
	e.rxHave = payload != nil
	if e.rxHave {
		// Copied: the buffer's memory changes with the next Push, which the
		// poller may do as soon as we unlock.
		e.rxPay = append(e.rxPay[:0], payload...)
	}
	e.rxCodec = e.codec
	e.inValid = false
	e.applyFilter()
	e.rx.Tick()
	if e.detector != nil && st != jitter.Empty {
		e.detector.Process(e.inPCM())
	}
	if f != nil {
		f.events = append(f.events[:0], e.evq...)
		e.evq = e.evq[:0]
	}
	e.mu.Unlock()
	if f != nil {
		f.codec = e.rxCodec
		f.have = e.rxHave
		if e.rxHave {
			copy(f.payload[:], e.rxPay)
		}
		f.decoded = e.inValid
		if e.inValid {
			copy(f.pcm[:], e.in)
		}
	}
	return true
}

// transmit is the second half of a tick: pick what to send (digits, the
// source, forwarded events, the bridged leg's frame or the conference
// mix), send it, feed the sinks and run the callbacks. peer and mix are
// nil for a standalone endpoint. Called with tickMu held.
func (e *Endpoint) transmit(peer *frame, mix codec.PCM16) {
	if e.early {
		e.transmitSkipped(peer)
		return
	}
	e.mu.Lock()
	step := e.sender.Tick()
	var sendDone func()
	if step.Finished {
		sendDone, e.sendDone = e.sendDone, nil
	}
	src := e.source
	remote, sending := e.sendsTo()
	marker := e.newSource || !e.started
	if !e.confirmed && src != nil && e.newSource {
		// Not sending yet (no ACK, no packet from the peer): the new
		// source waits for Confirm instead of playing to nobody.
		src = nil
		marker = !e.started
	} else {
		e.newSource = false
	}
	c, pt := e.codec, e.pt
	tevent := e.tevent
	ptime := e.ptime
	e.sinkSnap = append(e.sinkSnap[:0], e.sinks...)
	digits := len(e.digits) > 0
	e.mu.Unlock()

	if c != e.txCodec || pt != e.txPT || !sending {
		e.flushAudio(remote, sending)
		e.txCodec, e.txPT = c, pt
	}
	// Outside the lock: sources, sinks and callbacks may call back into
	// the endpoint.
	var events []rxEvent
	if peer != nil {
		events = peer.events
	} else {
		e.fwd.active = false // unbridged in the middle of a digit
	}
	fwdStart := e.fwd.update(events, e.ts)
	var relay []byte // an encoded frame to send as is
	audio := true
	switch step.Kind {
	case dtmf.StepEvent:
		if tevent != 0 {
			audio = false
			clear(e.out)
			if step.Start {
				e.eventTS = e.ts
			}
			if sending {
				e.flushAudio(remote, true)
				e.sendEvent(remote, tevent, step)
			}
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
		played := false
		if src != nil {
			if es, ok := src.(encodedSource); ok && len(e.sinkSnap) == 0 && sending && (c == codec.PCMU || c == codec.PCMA) {
				relay, played = es.readEncoded(c)
			} else {
				played = src.ReadFrame(e.out)
			}
			if !played {
				e.mu.Lock()
				if e.source == src {
					e.source = nil
				}
				e.mu.Unlock()
			}
		}
		switch {
		case played:
		case tevent != 0 && (len(events) > 0 || e.fwd.active):
			// The bridged leg is sending a digit: pass its telephone-events
			// on instead of audio.
			audio = false
			clear(e.out)
			if sending {
				e.flushAudio(remote, true)
				for i := range events {
					e.forwardEvent(remote, tevent, &events[i])
				}
			}
			e.spurt = true
		case e.fwd.active:
			// No telephone-event on this leg: play the digit as a tone.
			dtmf.Generate(e.out, e.fwd.digit, e.fwd.offset, dtmf.DefaultToneAmplitude)
			e.fwd.offset += codec.FrameSamples
			marker = marker || fwdStart
		case peer != nil && peer.codec == c && !peer.transcode:
			// Same codec: relay the bytes, decode only if a sink wants PCM.
			if peer.have {
				relay = peer.payload[:]
			} else {
				relay = e.encBuf
				for i := range relay {
					relay[i] = c.SilenceByte()
				}
			}
			if len(e.sinkSnap) > 0 {
				copy(e.out, peer.PCM())
			}
		case peer != nil:
			copy(e.out, peer.PCM())
		case mix != nil:
			copy(e.out, mix)
		default:
			clear(e.out)
		}
	}
	if audio {
		if sending {
			if relay == nil {
				c.Encode(e.encBuf, e.out)
				relay = e.encBuf
			}
			e.emitAudio(remote, pt, relay, marker || e.spurt, ptime)
			e.spurt = false
		} else {
			e.spurt = true // resume (after hold) with a marker
		}
	}
	e.flushTx()
	e.started = true
	e.ts += codec.FrameSamples
	if len(e.sinkSnap) > 0 {
		in := e.inPCM()
		for _, s := range e.sinkSnap {
			s.WriteFrame(in, e.out)
		}
		clear(e.sinkSnap)
	}
	if digits {
		e.deliverDigits()
	}
	if sendDone != nil {
		sendDone()
	}
	// A source attached during this tick goes out now, not next tick.
	if e.earlyWanted.Load() {
		e.sendEarly()
	}
}

// transmitSkipped is transmit for a tick whose frame sendEarly already
// sent: no packet, no timestamp step, no digit-sender step; the sinks get
// that frame (still in e.out) and the forwarded-event state advances.
func (e *Endpoint) transmitSkipped(peer *frame) {
	e.early = false
	e.mu.Lock()
	e.sinkSnap = append(e.sinkSnap[:0], e.sinks...)
	digits := len(e.digits) > 0
	e.mu.Unlock()
	if peer != nil {
		e.fwd.update(peer.events, e.ts)
	} else {
		e.fwd.active = false
	}
	if len(e.sinkSnap) > 0 {
		in := e.inPCM()
		for _, s := range e.sinkSnap {
			s.WriteFrame(in, e.out)
		}
		clear(e.sinkSnap)
	}
	if digits {
		e.deliverDigits()
	}
	if e.earlyWanted.Load() {
		e.sendEarly()
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

// emitAudio sends one encoded 20 ms frame, or gathers frames until a
// packet of ptime samples is full (the timestamp is the first sample's).
func (e *Endpoint) emitAudio(remote netip.AddrPort, pt uint8, payload []byte, marker bool, ptime int) {
	if ptime == codec.FrameSamples && len(e.txAcc) == 0 {
		e.header(pt, marker, e.ts)
		n := copy(e.txBuf[12:], payload)
		e.write(e.txBuf[:12+n], remote)
		return
	}
	if len(e.txAcc) == 0 {
		e.txAccTS = e.ts
		e.txMarker = false
	}
	e.txMarker = e.txMarker || marker
	e.txAcc = append(e.txAcc, payload...)
	for len(e.txAcc) >= ptime {
		e.header(pt, e.txMarker, e.txAccTS)
		n := copy(e.txBuf[12:], e.txAcc[:ptime])
		e.write(e.txBuf[:12+n], remote)
		e.txMarker = false
		e.txAccTS += uint32(ptime)
		e.txAcc = append(e.txAcc[:0], e.txAcc[ptime:]...)
	}
}

// flushAudio sends gathered audio as a shorter packet (before an event,
// a codec change) or drops it (not sending).
func (e *Endpoint) flushAudio(remote netip.AddrPort, send bool) {
	if len(e.txAcc) == 0 {
		return
	}
	if send {
		e.header(e.txPT, e.txMarker, e.txAccTS)
		n := copy(e.txBuf[12:], e.txAcc)
		e.write(e.txBuf[:12+n], remote)
	}
	e.txAcc = e.txAcc[:0]
}

func (e *Endpoint) sendEvent(remote netip.AddrPort, pt uint8, step dtmf.Step) {
	if !remote.IsValid() {
		return
	}
	e.header(pt, step.Start, e.eventTS)
	n, _ := step.Event.MarshalTo(e.txBuf[12:])
	e.write(e.txBuf[:12+n], remote)
}

// write queues one packet; flushTx sends the tick's packets together.
func (e *Endpoint) write(b []byte, to netip.AddrPort) {
	e.txCryptMu.Lock()
	if e.srtpTx != nil {
		out, err := e.srtpTx.EncryptRTP(e.txCrypt[:0], b, &e.txHdr)
		if err != nil {
			e.txCryptMu.Unlock()
			e.txErrors.Add(1)
			return
		}
		e.txCrypt, b = out[:0], out
	}
	e.txCryptMu.Unlock()
	if len(e.txq) > 0 && to != e.txTo {
		e.flushTx()
	}
	e.txTo = to
	off := len(e.txMem)
	e.txMem = append(e.txMem, b...)
	e.txq = append(e.txq, e.txMem[off:len(e.txMem):len(e.txMem)])
}

// flushTx sends the queued packets: sendto for one, sendmmsg for more.
// Called with tickMu held.
func (e *Endpoint) flushTx() {
	if len(e.txq) == 0 {
		return
	}
	n, _ := e.sock.send(e.txq, e.txTo)
	e.txPackets.Add(uint64(n))
	if n < len(e.txq) {
		e.txErrors.Add(uint64(len(e.txq) - n))
	}
	clear(e.txq)
	e.txq = e.txq[:0]
	e.txMem = e.txMem[:0]
}

// String describes the endpoint for logs.
func (e *Endpoint) String() string {
	return fmt.Sprintf("rtp %s->%s", e.local, e.Remote())
}
