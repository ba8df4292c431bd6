package connlimit

import (
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

type refusals struct {
	mu  sync.Mutex
	got []string
}

func (r *refusals) add(_ netip.AddrPort, reason string) {
	r.mu.Lock()
	r.got = append(r.got, reason)
	r.mu.Unlock()
}

func (r *refusals) list() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.got...)
}

// serve accepts on l and echoes until the connection ends.
func serve(t *testing.T, l net.Listener) {
	t.Helper()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				io.Copy(c, c)
			}()
		}
	}()
}

func dial(t *testing.T, addr, from string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// alive reports whether the server still echoes on c.
func alive(c net.Conn) bool {
	c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Write([]byte("x")); err != nil {
		return false
	}
	b := make([]byte, 1)
	_, err := io.ReadFull(c, b)
	return err == nil
}

func TestPerIPAndTotal(t *testing.T) {
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var r refusals
	l := Wrap(raw, Config{MaxConns: 4, MaxPerIP: 2, OnRefuse: r.add})
	defer l.Close()
	serve(t, l)
	addr := raw.Addr().String()
	a1, a2 := dial(t, addr, "127.0.0.1"), dial(t, addr, "127.0.0.1")
	a3 := dial(t, addr, "127.0.0.1") // over the per-IP limit
	if !alive(a1) || !alive(a2) {
		t.Fatal("connections within the limit do not work")
	}
	if alive(a3) {
		t.Fatal("a third connection from one IP was served")
	}
	// Another source still gets in, up to the total.
	b1, b2 := dial(t, addr, "127.0.0.2"), dial(t, addr, "127.0.0.2")
	c1 := dial(t, addr, "127.0.0.3") // over the total of 4
	if !alive(b1) || !alive(b2) {
		t.Fatal("another source was refused while under the limits")
	}
	if alive(c1) {
		t.Fatal("a fifth connection was served")
	}
	// A closed connection frees its slot.
	a1.Close()
	waitFor(t, func() bool { total, _ := l.Open(netip.MustParseAddr("127.0.0.1")); return total == 3 })
	if a4 := dial(t, addr, "127.0.0.1"); !alive(a4) {
		t.Fatal("the freed slot was not reused")
	}
	if got := r.list(); len(got) != 2 || got[0] != "per-ip" || got[1] != "total" {
		t.Fatalf("refusals %v", got)
	}
}

func TestIdleTimeout(t *testing.T) {
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var keep atomic.Bool
	var r refusals
	l := Wrap(raw, Config{IdleTimeout: 100 * time.Millisecond, KeepOpen: func(netip.AddrPort) bool { return keep.Load() }, OnRefuse: r.add})
	defer l.Close()
	accepted := make(chan net.Conn, 2)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	readErr := func(c net.Conn) error {
		_, err := c.Read(make([]byte, 1))
		return err
	}
	dial(t, raw.Addr().String(), "127.0.0.1")
	s := <-accepted
	if err := readErr(s); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("idle read: %v, want a deadline error", err)
	}
	s.Close()
	// A connection the server must keep (a call in progress) outlives the
	// idle timeout while KeepOpen says so.
	keep.Store(true)
	c := dial(t, raw.Addr().String(), "127.0.0.1")
	s = <-accepted
	done := make(chan error, 1)
	go func() { done <- readErr(s) }()
	time.Sleep(300 * time.Millisecond)
	c.Write([]byte("late"))
	if err := <-done; err != nil {
		t.Fatalf("a kept connection's read failed: %v", err)
	}
	s.Close()
	if got := r.list(); len(got) != 1 || got[0] != "idle" {
		t.Fatalf("refusals %v", got)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
