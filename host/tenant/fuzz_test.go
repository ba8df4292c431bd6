package tenant

import (
	"errors"
	"strings"
	"testing"
)

// FuzzAuthenticate feeds arbitrary secrets: Authenticate must never panic
// and never accept anything but the one real secret.
func FuzzAuthenticate(f *testing.F) {
	e := newEnv(f)
	if _, err := e.reg.CreateTenant("acme", "", Quotas{}); err != nil {
		f.Fatal(err)
	}
	secret, key, err := e.reg.CreateKey("acme", "k")
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{
		"", "msk_", "msk__", secret[:len(secret)-1], "msk_" + key.ID + "_",
		"msk_" + key.ID + "_" + strings.Repeat("A", 43),
		"msk_" + key.ID + "_" + strings.Repeat("=", 43),
		strings.Repeat("\xff", secretLen),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tid, k, err := e.reg.Authenticate(s)
		if s == secret {
			if err != nil || tid != "acme" {
				t.Fatalf("real secret refused: %v", err)
			}
			return
		}
		if !errors.Is(err, ErrUnauthorized) || tid != "" || k != (Key{}) {
			t.Fatalf("Authenticate(%q) = %q, %+v, %v; want ErrUnauthorized", s, tid, k, err)
		}
	})
}

func FuzzParseSecret(f *testing.F) {
	f.Add("msk_0123456789abcdef_" + strings.Repeat("A", 43))
	f.Add("msk_0123456789abcdef_" + strings.Repeat("A", 42) + "=")
	f.Fuzz(func(t *testing.T, s string) {
		id, ok := parseSecret(s)
		if !ok {
			return
		}
		if len(s) != secretLen || !strings.HasPrefix(s, "msk_"+id+"_") || len(id) != keyIDLen {
			t.Fatalf("parseSecret(%q) accepted id %q", s, id)
		}
	})
}
