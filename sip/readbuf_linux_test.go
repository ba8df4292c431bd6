package sip

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// The UDP listeners get the configured receive buffer (the kernel caps it
// at net.core.rmem_max and reports twice the value it grants).
func TestUDPReadBuffer(t *testing.T) {
	b, err := os.ReadFile("/proc/sys/net/core/rmem_max")
	if err != nil {
		t.Skipf("no rmem_max: %v", err)
	}
	rmemMax, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		size int
		want int // at least
	}{
		{name: "default", size: 0, want: min(defaultUDPReadBuffer, rmemMax)},
		{name: "1 MiB", size: 1 << 20, want: min(1<<20, rmemMax)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := NewServer(Config{UDP: []string{"127.0.0.1:0"}, UDPReadBuffer: tt.size}, HandlerFunc(func(c *Call) {}))
			if err != nil {
				t.Fatal(err)
			}
			defer s.shutdown()
			raw, err := s.udp[0].SyscallConn()
			if err != nil {
				t.Fatal(err)
			}
			var got int
			var serr error
			if err := raw.Control(func(fd uintptr) {
				got, serr = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF)
			}); err != nil || serr != nil {
				t.Fatal(err, serr)
			}
			if got < tt.want {
				t.Fatalf("SO_RCVBUF = %d, want at least %d", got, tt.want)
			}
		})
	}
}
