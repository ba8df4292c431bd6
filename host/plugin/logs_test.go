package plugin

import (
	"slices"
	"testing"

	"github.com/wasmvoice/mediaserver/abi"
)

func TestLineWriter(t *testing.T) {
	tests := []struct {
		name               string
		writes             []string
		maxLines, maxBytes int
		want               []string
	}{
		{name: "lines", writes: []string{"a\nb\n"}, maxLines: 10, maxBytes: 100, want: []string{"a", "b"}},
		{name: "split across writes", writes: []string{"he", "llo\nwor", "ld\n"}, maxLines: 10, maxBytes: 100, want: []string{"hello", "world"}},
		{name: "last line without newline", writes: []string{"a\npartial"}, maxLines: 10, maxBytes: 100, want: []string{"a", "partial"}},
		{name: "empty lines kept", writes: []string{"\n\n"}, maxLines: 10, maxBytes: 100, want: []string{"", ""}},
		{name: "line cap", writes: []string{"1\n2\n3\n4\n"}, maxLines: 2, maxBytes: 100, want: []string{"1", "2", "… 2 lines dropped"}},
		{name: "byte cap truncates", writes: []string{"abcdef\nxyz\n"}, maxLines: 10, maxBytes: 4, want: []string{"abcd", "… 1 lines dropped"}},
		{name: "long partial line capped", writes: []string{"abcdefgh", "ijkl"}, maxLines: 10, maxBytes: 5, want: []string{"abcde"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := &logCollector{maxLines: tc.maxLines, maxBytes: tc.maxBytes}
			w := &lineWriter{c: c, stream: StreamStdout, level: abi.LogInfo}
			for _, s := range tc.writes {
				if n, err := w.Write([]byte(s)); n != len(s) || err != nil {
					t.Fatalf("Write(%q) = %d, %v", s, n, err)
				}
			}
			w.flush()
			var got []string
			for _, l := range c.take() {
				got = append(got, l.Text)
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("lines = %q, want %q", got, tc.want)
			}
			if rest := c.take(); len(rest) != 0 {
				t.Fatalf("take did not reset: %q", rest)
			}
		})
	}
}

func TestCappedBuffer(t *testing.T) {
	tests := []struct {
		name     string
		writes   []string
		max      int
		want     string
		wantOver bool
	}{
		{name: "fits", writes: []string{"ab", "cd"}, max: 4, want: "abcd"},
		{name: "over", writes: []string{"ab", "cde"}, max: 4, want: "abcd", wantOver: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := &cappedBuffer{max: tc.max}
			for _, s := range tc.writes {
				if n, err := b.Write([]byte(s)); n != len(s) || err != nil {
					t.Fatalf("Write(%q) = %d, %v", s, n, err)
				}
			}
			if string(b.buf) != tc.want || b.over != tc.wantOver {
				t.Fatalf("buf %q over %v, want %q %v", b.buf, b.over, tc.want, tc.wantOver)
			}
		})
	}
}
