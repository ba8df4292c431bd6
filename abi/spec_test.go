package abi

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestSpecWorkedExample keeps SPEC.md section 15 honest: its event parses,
// its response is valid for that event, and the byte counts it quotes are
// those of the compact encodings.
func TestSpecWorkedExample(t *testing.T) {
	b, err := os.ReadFile("SPEC.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(b), "## 15. Worked example")
	if !ok {
		t.Fatal("SPEC.md has no section 15")
	}
	blocks := regexp.MustCompile("(?s)```json\n(.*?)```").FindAllStringSubmatch(section, -1)
	if len(blocks) != 2 {
		t.Fatalf("section 15 has %d json blocks, want 2", len(blocks))
	}
	e, err := ParseEvent([]byte(blocks[0][1]))
	if err != nil {
		t.Fatal(err)
	}
	r, err := ParseResponse([]byte(blocks[1][1]))
	if err != nil {
		t.Fatal(err)
	}
	if err := ValidateResponse(r, DefaultLimits(), e.CallDetails.Participants); err != nil {
		t.Fatal(err)
	}
	eventBytes, err := e.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	respBytes, err := r.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		want string
	}{
		{name: "handle_event argument", want: "handle_event(" + itoa(len(eventBytes)) + ")"},
		{name: "response_write length", want: "response_write(resp, " + itoa(len(respBytes)) + ")"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(section, tt.want) {
				t.Fatalf("section 15 does not contain %q", tt.want)
			}
		})
	}
}

func itoa(n int) string { return NewInt(n).String() }
