//go:build !cluster

package tenant

import "testing"

// newPostgresDB is "" without -tags cluster: every test runs on bbolt.
func newPostgresDB(testing.TB) string { return "" }
