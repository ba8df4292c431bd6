package media

import (
	"net/netip"
	"syscall"
	"testing"
	"time"

	"github.com/wasmvoice/mediaserver/media/codec"
)

// BenchmarkEndpointTick is the per-frame cost of one leg: parse and
// jitter-buffer one packet, then tick (decode, play a prompt frame,
// encode, send to a loopback socket).
//
//	go test -run XXX -bench EndpointTick ./media/
func BenchmarkEndpointTick(b *testing.B) {
	ports, _ := NewPortPool(loopback, 0, 0)
	clock := NewClock(WithShards(1))
	sink, sinkAddr := udpPeerB(b)
	defer sink.Close()
	e, err := NewEndpoint(EndpointConfig{Clock: clock, Ports: ports, Confirmed: true, Remote: sinkAddr})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	e.SetSource(NewPlayer(NewPrompt(sweep(8000*5, 300, 3000, 8000)), 1_000_000, nil))
	pkt := rtpPacket(0, 0, 0, 42, make([]byte, 160))
	now := time.Unix(0, 0)
	var seq uint16
	b.ReportAllocs()
	for b.Loop() {
		putSeq(pkt, seq)
		seq++
		now = now.Add(codec.FrameDuration)
		e.handlePacket(pkt, sinkAddr)
		e.Tick(now)
	}
}

// BenchmarkEndpoints1000 runs 1000 endpoints (500 pairs playing prompts
// to each other over loopback) on one clock; one op is one 20 ms tick of
// all of them. "budget-%" is the share of the 20 ms period used.
//
//	go test -run XXX -bench Endpoints1000 -benchtime 50x ./media/
func BenchmarkEndpoints1000(b *testing.B) {
	ports, _ := NewPortPool(loopback, 0, 0)
	clock := NewClock(WithShards(2))
	prompt := NewPrompt(sweep(8000*2, 300, 3000, 8000))
	eps := make([]*Endpoint, 0, 1000)
	defer func() {
		for _, e := range eps {
			e.Close()
		}
	}()
	for i := 0; i < 500; i++ {
		x, err := NewEndpoint(EndpointConfig{Clock: clock, Ports: ports, Confirmed: true})
		if err != nil {
			b.Fatal(err)
		}
		y, err := NewEndpoint(EndpointConfig{Clock: clock, Ports: ports, Confirmed: true, Remote: x.LocalAddr()})
		if err != nil {
			x.Close()
			b.Fatal(err)
		}
		x.SetRemote(y.LocalAddr())
		x.SetSource(NewPlayer(prompt, 1_000_000, nil))
		y.SetSource(NewPlayer(prompt, 1_000_000, nil))
		eps = append(eps, x, y)
	}
	now := time.Now()
	b.ResetTimer()
	for b.Loop() {
		now = now.Add(codec.FrameDuration)
		clock.Tick(now)
	}
	b.StopTimer()
	perTick := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	b.ReportMetric(perTick/float64(codec.FrameDuration.Nanoseconds())*100, "budget-%")
	b.ReportMetric(perTick/1000, "ns/endpoint")
	var rx uint64
	for _, e := range eps {
		rx += e.Stats().RxPackets
	}
	b.ReportMetric(float64(rx)/float64(b.N*len(eps)), "rx/endpoint/tick")
}

func udpPeerB(b *testing.B) (interface{ Close() error }, netipAddrPort) {
	return listenLoopback(b)
}

// BenchmarkBridge is the per-call cost of a bridged call for one 20 ms
// tick: each leg parses and jitter-buffers one packet, then the bridge
// plays both out and sends one packet per leg to a loopback socket (two
// sendto system calls; the socket reads are not included). "relay" sends
// the received G.711 bytes on unchanged, "transcode" decodes and
// re-encodes the same codec, "pcmu-pcma" converts. calls/core is how
// many such calls one core could carry in real time.
//
//	go test -run XXX -bench Bridge -benchtime 20000x ./media/
func BenchmarkBridge(b *testing.B) {
	tests := []struct {
		name      string
		ca, cb    codec.Codec
		transcode bool
		record    bool
	}{
		{name: "relay", ca: codec.PCMU, cb: codec.PCMU},
		{name: "transcode", ca: codec.PCMU, cb: codec.PCMU, transcode: true},
		{name: "pcmu-pcma", ca: codec.PCMU, cb: codec.PCMA},
	}
	for _, tt := range tests {
		b.Run(tt.name, func(b *testing.B) {
			ports, _ := NewPortPool(loopback, 0, 0)
			clock := NewClock(WithShards(1))
			sinkA, addrA := listenLoopback(b)
			defer sinkA.Close()
			sinkB, addrB := listenLoopback(b)
			defer sinkB.Close()
			// TelephoneEvent set: no in-band detector, so the relay path
			// never decodes.
			legA, err := NewEndpoint(EndpointConfig{Clock: clock, Ports: ports, Confirmed: true, Remote: addrA, Codec: tt.ca, TelephoneEvent: 101})
			if err != nil {
				b.Fatal(err)
			}
			defer legA.Close()
			legB, err := NewEndpoint(EndpointConfig{Clock: clock, Ports: ports, Confirmed: true, Remote: addrB, Codec: tt.cb, TelephoneEvent: 101})
			if err != nil {
				b.Fatal(err)
			}
			defer legB.Close()
			br, err := NewBridge(legA, legB, BridgeConfig{Transcode: tt.transcode})
			if err != nil {
				b.Fatal(err)
			}
			defer br.Close()
			voice := make([]byte, 160)
			tt.ca.Encode(voice, sweep(160, 300, 3000, 8000))
			pktA := rtpPacket(tt.ca.PayloadType(), 0, 0, 42, voice)
			pktB := rtpPacket(tt.cb.PayloadType(), 0, 0, 43, voice)
			var seq uint16
			b.ReportAllocs()
			for b.Loop() {
				putSeq(pktA, seq)
				putSeq(pktB, seq)
				seq++
				legA.handlePacket(pktA, addrA)
				legB.handlePacket(pktB, addrB)
				br.Tick(time.Time{})
			}
			perCall := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			b.ReportMetric(perCall, "ns/call-tick")
			b.ReportMetric(float64(codec.FrameDuration.Nanoseconds())/perCall, "calls/core")
		})
	}
}

// BenchmarkBridgeNoSend isolates the media work of a bridged call from
// the system calls: the legs have no remote, so nothing is sent.
//
//	go test -run XXX -bench BridgeNoSend -benchtime 20000x ./media/
func BenchmarkBridgeNoSend(b *testing.B) {
	for _, transcode := range []bool{false, true} {
		name := "relay"
		if transcode {
			name = "transcode"
		}
		b.Run(name, func(b *testing.B) {
			ports, _ := NewPortPool(loopback, 0, 0)
			clock := NewClock(WithShards(1))
			remote := netip.MustParseAddrPort("127.0.0.1:9")
			legA, _ := NewEndpoint(EndpointConfig{Clock: clock, Ports: ports, Confirmed: true, Remote: remote, TelephoneEvent: 101})
			defer legA.Close()
			legB, _ := NewEndpoint(EndpointConfig{Clock: clock, Ports: ports, Confirmed: true, Remote: remote, TelephoneEvent: 101})
			defer legB.Close()
			br, err := NewBridge(legA, legB, BridgeConfig{Transcode: transcode})
			if err != nil {
				b.Fatal(err)
			}
			defer br.Close()
			// Direction inactive on the send side only would also drop
			// input; instead clear the remotes after the address check.
			voice := make([]byte, 160)
			codec.PCMU.Encode(voice, sweep(160, 300, 3000, 8000))
			pkt := rtpPacket(0, 0, 0, 42, voice)
			var seq uint16
			b.ReportAllocs()
			for b.Loop() {
				putSeq(pkt, seq)
				seq++
				legA.handlePacket(pkt, remote)
				legB.handlePacket(pkt, remote)
				legA.SetRemote(netip.AddrPort{})
				legB.SetRemote(netip.AddrPort{})
				br.Tick(time.Time{})
				legA.SetRemote(remote)
				legB.SetRemote(remote)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/call-tick")
		})
	}
}

// BenchmarkBridgedCalls runs 200 bridged calls end to end over loopback:
// per op, a "phone" socket sends one packet to each of the 400 legs, the
// legs' reader goroutines receive them, and one clock tick relays them
// (sending 400 packets back to the phones, which nobody reads). It
// reports the process CPU time (user+system, all goroutines, from
// getrusage) per call per 20 ms tick, phone-side sends included, so it
// is an upper bound; calls/core = 20 ms / that.
//
//	go test -run XXX -bench BridgedCalls -benchtime 100x ./media/
func BenchmarkBridgedCalls(b *testing.B) {
	const calls = 200
	ports, _ := NewPortPool(loopback, 0, 0)
	clock := NewClock(WithShards(1))
	phone, phoneAddr := listenLoopback(b)
	defer phone.Close()
	var legs []*Endpoint
	defer func() {
		for _, e := range legs {
			e.Close()
		}
	}()
	for i := 0; i < 2*calls; i++ {
		e, err := NewEndpoint(EndpointConfig{Clock: clock, Ports: ports, Confirmed: true, Remote: phoneAddr, TelephoneEvent: 101})
		if err != nil {
			b.Fatal(err)
		}
		legs = append(legs, e)
	}
	for i := 0; i < calls; i++ {
		br, err := NewBridge(legs[2*i], legs[2*i+1], BridgeConfig{})
		if err != nil {
			b.Fatal(err)
		}
		defer br.Close()
	}
	voice := make([]byte, 160)
	codec.PCMU.Encode(voice, sweep(160, 300, 3000, 8000))
	pkt := rtpPacket(0, 0, 0, 42, voice)
	var seq uint16
	now := time.Now()
	var before, after syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &before)
	b.ResetTimer()
	for b.Loop() {
		putSeq(pkt, seq)
		seq++
		for _, e := range legs {
			phone.WriteToUDPAddrPort(pkt, e.LocalAddr())
		}
		for _, e := range legs {
			for e.rxPackets.Load() < uint64(seq) {
				time.Sleep(50 * time.Microsecond) // sleep, not spin: spinning would count as CPU
			}
		}
		now = now.Add(codec.FrameDuration)
		clock.Tick(now)
	}
	b.StopTimer()
	syscall.Getrusage(syscall.RUSAGE_SELF, &after)
	cpu := time.Duration(after.Utime.Nano()+after.Stime.Nano()-before.Utime.Nano()-before.Stime.Nano()) / time.Duration(b.N*calls)
	b.ReportMetric(float64(cpu.Nanoseconds()), "cpu-ns/call-tick")
	b.ReportMetric(float64(codec.FrameDuration)/float64(cpu), "calls/core")
}
