package server

// Helpers of the outbound, bridge, update and recording end-to-end tests:
// sipp as a callee behind a trunk, a scripted webhook that records the
// events it got, and a minimal RTP peer.

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"math"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/wasmvoice/mediaserver/abi"
	"github.com/wasmvoice/mediaserver/host/config"
	"github.com/wasmvoice/mediaserver/media/codec"
	"github.com/wasmvoice/mediaserver/sip"
)

// drain reads a call's events until they end.
func drain(c *sip.Call) {
	for range c.Events() {
	}
}

// uasSipp is sipp running one call of a UAS scenario (we dial it).
type uasSipp struct {
	Port int
	dir  string
	cmd  *exec.Cmd
	out  *bytes.Buffer
	done chan struct{}
	err  error
}

// startUASSipp starts sipp as the callee of one call of scenario (a file
// of testdata/sipp) on loopback UDP port (from freePort). Start the server
// first: sip.Server.Dial right after Start can fail to bind (see the
// report on sip's ListenAndServe race).
func startUASSipp(t testing.TB, scenario string, port int, extra ...string) *uasSipp {
	t.Helper()
	bin := requireTool(t, "sipp", "sip-tester")
	dir := t.TempDir()
	sf, err := filepath.Abs(filepath.Join("testdata", "sipp", scenario+".xml"))
	if err != nil {
		t.Fatal(err)
	}
	u := &uasSipp{Port: port, dir: dir, out: &bytes.Buffer{}, done: make(chan struct{})}
	args := append([]string{"-sf", sf,
		"-m", "1", "-timeout", "30s", "-timeout_error", "-nostdin", "-nd",
		"-i", "127.0.0.1", "-p", strconv.Itoa(u.Port),
		"-mi", "127.0.0.1", "-mp", strconv.Itoa(freePort(t, "udp")),
		"-trace_err", "-error_file", filepath.Join(dir, "err.log"),
		"-trace_msg", "-message_file", filepath.Join(dir, "msg.log")}, extra...)
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	u.cmd = exec.CommandContext(ctx, bin, args...)
	u.cmd.Dir = dir
	u.cmd.Stdout, u.cmd.Stderr = u.out, u.out
	if err := u.cmd.Start(); err != nil {
		cancel()
		t.Fatalf("sipp: %v", err)
	}
	go func() {
		u.err = u.cmd.Wait()
		cancel()
		close(u.done)
	}()
	t.Cleanup(func() {
		cancel()
		<-u.done
	})
	// sipp needs a moment to bind; the INVITE is retransmitted anyway.
	time.Sleep(200 * time.Millisecond)
	return u
}

// wait fails the test unless sipp ends with exit code 0 within 30 s.
func (u *uasSipp) wait(t testing.TB) {
	t.Helper()
	select {
	case <-u.done:
	case <-time.After(30 * time.Second):
		t.Fatalf("sipp (uas) did not end\n%s", u.messages())
	}
	if u.err != nil {
		errs, _ := os.ReadFile(filepath.Join(u.dir, "err.log"))
		t.Fatalf("sipp (uas): %v\nerrors:\n%s\nmessages:\n%s\noutput:\n%s", u.err, errs, u.messages(), tail(u.out.String(), 2000))
	}
}

func (u *uasSipp) messages() string {
	b, _ := os.ReadFile(filepath.Join(u.dir, "msg.log"))
	return string(b)
}

// trunkTo is a trunk carrying every +1 number to addr.
func trunkTo(addr string) config.Trunk {
	return config.Trunk{Name: "test", Address: addr, Transport: "udp", Prefixes: []string{"+1"}}
}

// script is a webhook application whose answers a test sets per event;
// it keeps every event it got.
type script struct {
	mu     sync.Mutex
	events []*abi.Event
	seen   chan *abi.Event // every event, for tests that wait for one
	answer func(ev *abi.Event) string
}

func newScript(answer func(ev *abi.Event) string) *script {
	return &script{answer: answer, seen: make(chan *abi.Event, 256)}
}

func (s *script) handle(ev *abi.Event) string {
	s.mu.Lock()
	s.events = append(s.events, ev)
	s.mu.Unlock()
	select {
	case s.seen <- ev:
	default:
	}
	if r := s.answer(ev); r != "" {
		return r
	}
	return actions()
}

// Events returns the events so far.
func (s *script) Events() []*abi.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*abi.Event(nil), s.events...)
}

// waitFor waits up to 20 s for an event of type typ (and, for action
// events, of action type act when set).
func (s *script) waitFor(t testing.TB, typ abi.EventType, act abi.ActionType) *abi.Event {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case ev := <-s.seen:
			if ev.InvocationEventType == typ && (act == "" || ev.ActionData != nil && ev.ActionData.Type == act) {
				return ev
			}
		case <-timeout:
			t.Fatalf("no %s %s event; got %s", typ, act, typesOf(s.Events()))
			return nil
		}
	}
}

func typesOf(evs []*abi.Event) string {
	var b bytes.Buffer
	for i, ev := range evs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(string(ev.InvocationEventType))
	}
	return b.String()
}

// hangupCode returns Parameters.SipResponseCode of a HANGUP event.
func hangupCode(t testing.TB, ev *abi.Event) string {
	t.Helper()
	if ev.ActionData == nil {
		t.Fatalf("HANGUP without ActionData")
	}
	var p struct{ SipResponseCode string }
	if err := json.Unmarshal(ev.ActionData.Parameters, &p); err != nil {
		t.Fatalf("HANGUP parameters %s: %v", ev.ActionData.Parameters, err)
	}
	return p.SipResponseCode
}

// tone returns d of a sine at freq Hz, amplitude amp.
func tone(freq float64, d time.Duration, amp float64) codec.PCM16 {
	n := int(d.Seconds() * codec.SampleRate)
	out := make(codec.PCM16, n)
	for i := range out {
		out[i] = int16(amp * math.Sin(2*math.Pi*freq*float64(i)/codec.SampleRate))
	}
	return out
}

// tonePower is the share (0..1) of x's energy at freq Hz, measured per
// 20 ms block (so phase jumps from loss concealment do not matter) and
// summed over the blocks. freq should be a multiple of 50 Hz (a DFT bin).
func tonePower(x codec.PCM16, freq float64) float64 {
	const n = codec.FrameSamples
	w := 2 * math.Pi * freq / codec.SampleRate
	c := 2 * math.Cos(w)
	var inTone, total float64
	for b := 0; b+n <= len(x); b += n {
		var s1, s2, e float64
		for _, v := range x[b : b+n] {
			f := float64(v)
			s0 := f + c*s1 - s2
			s2, s1 = s1, s0
			e += f * f
		}
		inTone += (s1*s1 + s2*s2 - c*s1*s2) * 2 / n
		total += e
	}
	if total == 0 {
		return 0
	}
	return inTone / total
}

// rtpPeer is a loopback RTP socket that sends a PCM signal in 20 ms
// packets and collects what it receives.
type rtpPeer struct {
	conn *net.UDPConn
	cd   codec.Codec

	mu       sync.Mutex
	received []rtpPacket
	remote   netip.AddrPort
	stop     chan struct{}
	wg       sync.WaitGroup
}

type rtpPacket struct {
	at      time.Time
	ts      uint32
	pt      uint8
	marker  bool
	payload []byte
}

func newRTPPeer(t testing.TB, cd codec.Codec) *rtpPeer {
	t.Helper()
	c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.1:0")))
	if err != nil {
		t.Fatal(err)
	}
	p := &rtpPeer{conn: c, cd: cd, stop: make(chan struct{})}
	p.wg.Add(1)
	go p.read()
	t.Cleanup(p.close)
	return p
}

func (p *rtpPeer) Addr() netip.AddrPort { return p.conn.LocalAddr().(*net.UDPAddr).AddrPort() }

func (p *rtpPeer) read() {
	defer p.wg.Done()
	buf := make([]byte, 1500)
	for {
		n, err := p.conn.Read(buf)
		if err != nil {
			return
		}
		if n < 12 {
			continue
		}
		p.mu.Lock()
		p.received = append(p.received, rtpPacket{at: time.Now(), ts: binary.BigEndian.Uint32(buf[4:8]), pt: buf[1] & 0x7f, marker: buf[1]&0x80 != 0,
			payload: append([]byte(nil), buf[12:n]...)})
		p.mu.Unlock()
	}
}

// send streams pcm (looped) to remote every 20 ms until close.
func (p *rtpPeer) send(remote netip.AddrPort, pcm codec.PCM16) {
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		ssrc, seq, ts := rand.Uint32(), uint16(rand.Uint32()), rand.Uint32()
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		pkt := make([]byte, 12+codec.FrameSamples)
		off := 0
		for {
			select {
			case <-p.stop:
				return
			case <-tick.C:
			}
			pkt[0], pkt[1] = 0x80, p.cd.PayloadType()
			binary.BigEndian.PutUint16(pkt[2:], seq)
			binary.BigEndian.PutUint32(pkt[4:], ts)
			binary.BigEndian.PutUint32(pkt[8:], ssrc)
			frame := make(codec.PCM16, codec.FrameSamples)
			for i := range frame {
				if len(pcm) > 0 {
					frame[i] = pcm[off%len(pcm)]
					off++
				}
			}
			p.cd.Encode(pkt[12:], frame)
			seq++
			ts += codec.FrameSamples
			_, _ = p.conn.WriteToUDPAddrPort(pkt, remote)
		}
	}()
}

// Received returns the packets received so far.
func (p *rtpPeer) Received() []rtpPacket {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]rtpPacket(nil), p.received...)
}

func (p *rtpPeer) close() {
	select {
	case <-p.stop:
		return
	default:
	}
	close(p.stop)
	p.conn.Close()
	p.wg.Wait()
}
