package config

import "testing"

// The example configuration in the repository root must stay valid.
func TestExampleFileLoads(t *testing.T) {
	c, err := Load("../../mediaserver.example.toml")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Tenants) != 1 || c.Tenants[0].Applications[0].Numbers[0] != DemoNumber {
		t.Fatalf("example tenants = %+v", c.Tenants)
	}
}
