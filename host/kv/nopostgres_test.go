//go:build !cluster

package kv

import "testing"

// postgresDB is "" without -tags cluster: every test runs on bbolt.
func postgresDB(testing.TB, string) string { return "" }
