package media

import (
	"errors"
	"net"
	"net/netip"
	"testing"
)

var loopback = netip.MustParseAddr("127.0.0.1")

func TestNewPortPoolErrors(t *testing.T) {
	tests := []struct {
		name     string
		min, max int
		wantErr  error
	}{
		{name: "ok", min: 20000, max: 20100},
		{name: "kernel chooses", min: 0, max: 0},
		{name: "reversed", min: 30000, max: 20000, wantErr: ErrPortRange},
		{name: "privileged", min: 80, max: 2000, wantErr: ErrPortRange},
		{name: "too high", min: 60000, max: 65535, wantErr: ErrPortRange},
		{name: "no even port", min: 20001, max: 20001, wantErr: ErrPortRange},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewPortPool(loopback, tt.min, tt.max)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

// freeRange finds four consecutive ports that are free right now.
func freeRange(t *testing.T) int {
	t.Helper()
	for i := 0; i < 20; i++ {
		c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		base := c.LocalAddr().(*net.UDPAddr).Port &^ 1
		c.Close()
		if base < 1024 || base+5 > 65534 {
			continue
		}
		ok := true
		for p := base; p < base+6; p += 2 {
			c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: p})
			if err != nil {
				ok = false
				break
			}
			c.Close()
		}
		if ok {
			return base
		}
	}
	t.Fatal("no free port range")
	return 0
}

func TestPortPoolAllocation(t *testing.T) {
	base := freeRange(t)
	p, err := NewPortPool(loopback, base, base+5)
	if err != nil {
		t.Fatal(err)
	}
	var conns []*net.UDPConn
	for i := 0; i < 3; i++ {
		c, err := p.Listen()
		if err != nil {
			t.Fatalf("listen %d: %v", i, err)
		}
		port := c.LocalAddr().(*net.UDPAddr).Port
		if port%2 != 0 || port < base || port > base+5 {
			t.Fatalf("port %d outside even range %d-%d", port, base, base+5)
		}
		conns = append(conns, c)
	}
	if _, err := p.Listen(); !errors.Is(err, ErrNoPorts) {
		t.Fatalf("exhausted err = %v", err)
	}
	if p.InUse() != 3 {
		t.Fatalf("in use %d", p.InUse())
	}
	port := conns[1].LocalAddr().(*net.UDPAddr).Port
	conns[1].Close()
	p.Release(port)
	c, err := p.Listen()
	if err != nil {
		t.Fatal(err)
	}
	if got := c.LocalAddr().(*net.UDPAddr).Port; got != port {
		t.Fatalf("reused %d, want %d", got, port)
	}
	conns[1] = c
	for _, c := range conns {
		c.Close()
	}
}

// One owner holds at most its share of the pool; the others still get
// ports, and a released port goes back to its owner's share.
func TestPortPoolOwnerShare(t *testing.T) {
	p, err := NewPortPool(loopback, 41000, 41018) // 10 ports
	if err != nil {
		t.Fatal(err)
	}
	p.SetOwnerShare(0.5)
	var conns []*net.UDPConn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range 5 {
		c, err := p.ListenFor("greedy")
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	if _, err := p.ListenFor("greedy"); !errors.Is(err, ErrOwnerShare) {
		t.Fatalf("a sixth port for one owner: %v, want ErrOwnerShare", err)
	}
	c, err := p.ListenFor("other")
	if err != nil {
		t.Fatalf("another owner refused: %v", err)
	}
	conns = append(conns, c)
	first := conns[0]
	first.Close()
	p.Release(first.LocalAddr().(*net.UDPAddr).Port)
	if n := p.InUseBy("greedy"); n != 4 {
		t.Fatalf("greedy holds %d after a release, want 4", n)
	}
	c, err = p.ListenFor("greedy")
	if err != nil {
		t.Fatalf("after a release: %v", err)
	}
	conns = append(conns, c)
}
