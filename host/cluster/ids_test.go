package cluster

import (
	"strings"
	"testing"

	"github.com/google/uuid"
)

func TestTransactionIDs(t *testing.T) {
	n := New(Config{Name: "node-1"})
	seen := map[string]bool{}
	for range 1000 {
		id := n.NewTransactionID()
		u, err := uuid.Parse(id)
		if err != nil {
			t.Fatalf("%s is not a UUID: %v", id, err)
		}
		if u.Version() != 8 || u.Variant() != uuid.RFC4122 {
			t.Fatalf("%s: version %d variant %v, want 8 and RFC 4122", id, u.Version(), u.Variant())
		}
		if owner, ok := Owner(id); !ok || owner != n.ID() {
			t.Fatalf("Owner(%s) = %s, %v; want %s", id, owner, ok, n.ID())
		}
		if owner, ok := Owner(id + "/3"); !ok || owner != n.ID() {
			t.Fatalf("Owner of a connection id = %s, %v", owner, ok)
		}
		if seen[id] {
			t.Fatalf("%s made twice", id)
		}
		seen[id] = true
	}
	if NodeID("node-1") == NodeID("node-2") {
		t.Fatal("two names, one id")
	}
	for _, id := range []string{
		uuid.NewString(), // a single server's (version 4)
		"", "abc", strings.Repeat("8", 36),
		"00000000-0000-8000-c000-000000000000", // wrong variant
		"0000000g-0000-8000-8000-000000000000", // not hex
		"00000000-0000-8000-8000-00000000000G",
	} {
		if owner, ok := Owner(id); ok {
			t.Errorf("Owner(%q) = %s, want none", id, owner)
		}
	}
}

func FuzzOwner(f *testing.F) {
	f.Add(New(Config{Name: "a"}).NewTransactionID())
	f.Add("x/y")
	f.Fuzz(func(t *testing.T, id string) {
		owner, ok := Owner(id)
		if ok && len(owner) != 12 {
			t.Fatalf("Owner(%q) = %q", id, owner)
		}
	})
}
