package tenant

import (
	"fmt"
	"testing"
)

// BenchmarkRoute measures the call-path lookup (snapshot only).
// go test -run XXX -bench Route -benchtime 100000x ./host/tenant/
func BenchmarkRoute(b *testing.B) {
	r := newEnv(b).reg
	if _, err := r.CreateTenant("acme", "", Quotas{}); err != nil {
		b.Fatal(err)
	}
	if _, err := r.CreateApp("acme", "ivr", "", "http://127.0.0.1:9/"); err != nil {
		b.Fatal(err)
	}
	for i := range 100 {
		n := fmt.Sprintf("+1555%04d", i)
		if _, err := r.AddNumber("acme", n); err != nil {
			b.Fatal(err)
		}
		if err := r.SetRule("acme", n, "ivr"); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, ok := r.Route("+15550042"); !ok {
				b.Fatal("no route")
			}
		}
	})
}

// BenchmarkAuthenticate measures an API key check (one bbolt read).
// go test -run XXX -bench Authenticate -benchtime 10000x ./host/tenant/
func BenchmarkAuthenticate(b *testing.B) {
	r := newEnv(b).reg
	if _, err := r.CreateTenant("acme", "", Quotas{}); err != nil {
		b.Fatal(err)
	}
	secret, _, err := r.CreateKey("acme", "k")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := r.Authenticate(secret); err != nil {
			b.Fatal(err)
		}
	}
}
