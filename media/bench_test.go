package media

import (
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
	e, err := NewEndpoint(EndpointConfig{Clock: clock, Ports: ports, Remote: sinkAddr})
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
		x, err := NewEndpoint(EndpointConfig{Clock: clock, Ports: ports})
		if err != nil {
			b.Fatal(err)
		}
		y, err := NewEndpoint(EndpointConfig{Clock: clock, Ports: ports, Remote: x.LocalAddr()})
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
