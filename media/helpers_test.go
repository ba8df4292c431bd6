package media

import (
	"math"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wasmvoice/mediaserver/media/codec"
	"github.com/wasmvoice/mediaserver/media/dtmf"
)

// harness drives endpoints with a manual clock: each step ticks the clock
// and then waits until every peer has received what was sent, so the
// tests are deterministic without sleeps.
type harness struct {
	t     *testing.T
	clock *Clock
	ports *PortPool
	now   time.Time
	nowNS atomic.Int64 // h.now for the reader goroutines
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	ports, err := NewPortPool(loopback, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, clock: NewClock(WithShards(1)), ports: ports, now: time.Unix(1_000_000, 0)}
	h.nowNS.Store(h.now.UnixNano())
	return h
}

// endpoint returns an endpoint on the harness's clock and ports. Unless
// the test sets Confirmed itself (unconfirmed), the remote is confirmed, as
// after the ACK of a real call.
func (h *harness) endpoint(cfg EndpointConfig) *Endpoint {
	h.t.Helper()
	return h.endpointOpt(cfg, true)
}

// unconfirmedEndpoint is endpoint for an answered call whose ACK has not
// arrived.
func (h *harness) unconfirmedEndpoint(cfg EndpointConfig) *Endpoint {
	h.t.Helper()
	return h.endpointOpt(cfg, false)
}

func (h *harness) endpointOpt(cfg EndpointConfig, confirmed bool) *Endpoint {
	h.t.Helper()
	cfg.Clock = h.clock
	cfg.Ports = h.ports
	cfg.Confirmed = confirmed
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return time.Unix(0, h.nowNS.Load()) }
	}
	e, err := NewEndpoint(cfg)
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { e.Close() })
	return e
}

// waitFor polls cond; the deadline only guards against a hung test.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(200 * time.Microsecond)
	}
}

// handled is every packet an endpoint has looked at.
func handled(e *Endpoint) uint64 {
	s := e.Stats()
	return s.RxPackets + s.RxForeign + s.RxRefused + s.RxMalformed + s.RxUnknownPT + s.RxBadSize + s.RxInactive + s.RxSRTPAuth + s.RxSRTPReplay
}

// step ticks each endpoint once, in the given order (receivers first, so
// a packet never races the receiver's play-out in the same tick), then
// waits until each has handled want[i] packets in total.
func (h *harness) step(eps []*Endpoint, want []uint64) {
	h.t.Helper()
	h.now = h.now.Add(codec.FrameDuration)
	h.nowNS.Store(h.now.UnixNano())
	for _, e := range eps {
		e.Tick(h.now)
	}
	for i, e := range eps {
		waitFor(h.t, "packets", func() bool { return handled(e) >= want[i] })
	}
}

// capture is a Sink keeping everything received.
type capture struct {
	mu  sync.Mutex
	pcm codec.PCM16
}

func (c *capture) WriteFrame(received, _ codec.PCM16) {
	c.mu.Lock()
	c.pcm = append(c.pcm, received...)
	c.mu.Unlock()
}

func (c *capture) samples() codec.PCM16 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append(codec.PCM16(nil), c.pcm...)
}

// digitLog collects digits from OnDigit.
type digitLog struct {
	mu     sync.Mutex
	digits []dtmf.Received
}

func (d *digitLog) add(r dtmf.Received) {
	d.mu.Lock()
	d.digits = append(d.digits, r)
	d.mu.Unlock()
}

func (d *digitLog) String() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	var b []byte
	for _, r := range d.digits {
		b = append(b, r.Digit)
	}
	return string(b)
}

// sweep is a test prompt: a chirp from f0 to f1 Hz, so that it correlates
// with itself at one lag only.
func sweep(n int, f0, f1, amp float64) codec.PCM16 {
	out := make(codec.PCM16, n)
	var phase float64
	for i := range out {
		f := f0 + (f1-f0)*float64(i)/float64(n)
		phase += 2 * math.Pi * f / codec.SampleRate
		out[i] = int16(amp * math.Sin(phase))
	}
	return out
}

func rms(x codec.PCM16) float64 {
	var s float64
	for _, v := range x {
		s += float64(v) * float64(v)
	}
	return math.Sqrt(s / float64(max(1, len(x))))
}

// bestCorrelation returns the highest normalised cross-correlation of ref
// inside got over lags 0..maxLag samples, and that lag.
func bestCorrelation(ref, got codec.PCM16, maxLag int) (float64, int) {
	best, bestLag := -1.0, 0
	for lag := 0; lag <= maxLag && lag+len(ref) <= len(got); lag++ {
		var xy, xx, yy float64
		for i, r := range ref {
			g := float64(got[lag+i])
			xy += float64(r) * g
			xx += float64(r) * float64(r)
			yy += g * g
		}
		if xx == 0 || yy == 0 {
			continue
		}
		if c := xy / math.Sqrt(xx*yy); c > best {
			best, bestLag = c, lag
		}
	}
	return best, bestLag
}

// udpPeer is a plain UDP socket standing in for a phone.
func udpPeer(t *testing.T) (*net.UDPConn, netip.AddrPort) {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, c.LocalAddr().(*net.UDPAddr).AddrPort()
}

func tempPath(t *testing.T, name string) string {
	t.Helper()
	return t.TempDir() + string(os.PathSeparator) + name
}

type netipAddrPort = netip.AddrPort

func listenLoopback(tb testing.TB) (*net.UDPConn, netip.AddrPort) {
	tb.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		tb.Fatal(err)
	}
	return c, c.LocalAddr().(*net.UDPAddr).AddrPort()
}
