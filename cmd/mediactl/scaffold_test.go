package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// needTool skips (fails with CI=true) when a tool the scaffold's build
// needs is missing.
func needTool(t *testing.T, path, hint string) {
	t.Helper()
	if _, err := exec.LookPath(path); err != nil {
		if _, serr := os.Stat(path); serr != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s not found (CI=true): %s", path, hint)
			}
			t.Skipf("%s not found: %s", path, hint)
		}
	}
}

// TestPluginNewBuildsAndPasses writes a plugin in every language, runs its
// build.sh and its golden files: a new plugin must work at once. A broken
// expectation must then fail "plugin test".
func TestPluginNewBuildsAndPasses(t *testing.T) {
	sdk, err := filepath.Abs(filepath.Join("..", "..", "sdk"))
	if err != nil {
		t.Fatal(err)
	}
	cache := t.TempDir()
	if dir, err := os.UserCacheDir(); err == nil {
		cache = filepath.Join(dir, "mediaserver-test", "wazero")
	}
	tools := map[string][2]string{
		"go":             {"go", "install Go"},
		"c":              {"clang", "apt-get install clang lld wasi-libc libclang-rt-dev-wasm32"},
		"rust":           {"rustc", "apt-get install rustc libstd-rust-dev-wasm32"},
		"assemblyscript": {filepath.Join(sdk, "assemblyscript", "node_modules", ".bin", "asc"), "npm ci in sdk/assemblyscript"},
	}
	for _, lang := range []string{"go", "c", "rust", "assemblyscript"} {
		t.Run(lang, func(t *testing.T) {
			needTool(t, tools[lang][0], tools[lang][1])
			dir := filepath.Join(t.TempDir(), "hello-"+lang)
			r := runCLI(t, "", "plugin", "new", "-lang", lang, "-sdk", sdk, dir)
			if r.code != exitOK {
				t.Fatalf("plugin new: exit %d, %s", r.code, r.stderr)
			}
			build := exec.Command("sh", filepath.Join(dir, "build.sh"))
			build.Env = append(os.Environ(), "GOFLAGS=")
			if out, err := build.CombinedOutput(); err != nil {
				t.Fatalf("build.sh: %v\n%s", err, out)
			}
			r = runCLI(t, "", "plugin", "test", "-cache", cache, dir)
			if r.code != exitOK || !strings.HasSuffix(r.stdout, "4 passed, 0 failed\n") {
				t.Fatalf("plugin test: exit %d\n%s%s", r.code, r.stdout, r.stderr)
			}
			// A wrong expectation fails.
			golden := filepath.Join(dir, "testdata", "hangup.golden")
			b, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(golden, []byte(strings.Replace(string(b), `"Actions":[]`, `"Actions":null`, 1)), 0o644); err != nil {
				t.Fatal(err)
			}
			r = runCLI(t, "", "plugin", "test", "-cache", cache, dir)
			if r.code != exitFailure || !strings.HasSuffix(r.stdout, "2 passed, 2 failed\n") {
				t.Fatalf("plugin test with a wrong golden file: exit %d\n%s", r.code, r.stdout)
			}
		})
	}
}

// TestPluginNewIotcomms writes an iotcomms plugin in Go and in C, builds
// it and runs its golden files; a wrong expected answer must then fail.
func TestPluginNewIotcomms(t *testing.T) {
	sdk, err := filepath.Abs(filepath.Join("..", "..", "sdk"))
	if err != nil {
		t.Fatal(err)
	}
	cache := t.TempDir()
	if dir, err := os.UserCacheDir(); err == nil {
		cache = filepath.Join(dir, "mediaserver-test", "wazero")
	}
	tools := map[string][2]string{
		"go": {"go", "install Go"},
		"c":  {"clang", "apt-get install clang lld wasi-libc libclang-rt-dev-wasm32"},
	}
	for _, lang := range []string{"go", "c"} {
		t.Run(lang, func(t *testing.T) {
			needTool(t, tools[lang][0], tools[lang][1])
			dir := filepath.Join(t.TempDir(), "attendant-"+lang)
			r := runCLI(t, "", "plugin", "new", "-model", "iotcomms", "-lang", lang, "-sdk", sdk, dir)
			if r.code != exitOK {
				t.Fatalf("plugin new: exit %d, %s", r.code, r.stderr)
			}
			build := exec.Command("sh", filepath.Join(dir, "build.sh"))
			build.Env = append(os.Environ(), "GOFLAGS=")
			if out, err := build.CombinedOutput(); err != nil {
				t.Fatalf("build.sh: %v\n%s", err, out)
			}
			r = runCLI(t, "", "plugin", "test", "-cache", cache, dir)
			if r.code != exitOK || !strings.HasSuffix(r.stdout, "12 passed, 0 failed\n") {
				t.Fatalf("plugin test: exit %d\n%s%s", r.code, r.stdout, r.stderr)
			}
			if lang == "go" {
				// The folder's own test runs the golden files natively.
				test := exec.Command("go", "test", "./...")
				test.Dir, test.Env = dir, append(os.Environ(), "GOFLAGS=", "GOWORK=off")
				if out, err := test.CombinedOutput(); err != nil {
					t.Fatalf("go test: %v\n%s", err, out)
				}
			}
			// A wrong expectation fails.
			golden := filepath.Join(dir, "testdata", "session_completed.golden")
			b, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(golden, []byte(strings.Replace(string(b), "----\n{}", `----\n{"action":"drop"}`, 1)), 0o644); err != nil {
				t.Fatal(err)
			}
			r = runCLI(t, "", "plugin", "test", "-cache", cache, dir)
			if r.code != exitFailure || !strings.HasSuffix(r.stdout, "10 passed, 2 failed\n") {
				t.Fatalf("plugin test with a wrong golden file: exit %d\n%s", r.code, r.stdout)
			}
		})
	}
}

func TestPluginNewUsage(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "taken")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		args       []string
		wantStderr string
	}{
		{name: "no lang", args: []string{"plugin", "new", filepath.Join(dir, "x")}, wantStderr: "mediactl: plugin new: -lang must be go, c, rust or assemblyscript (see -h)\n"},
		{name: "bad lang", args: []string{"plugin", "new", "-lang", "cobol", filepath.Join(dir, "x")}, wantStderr: "mediactl: plugin new: -lang must be go, c, rust or assemblyscript (see -h)\n"},
		{name: "bad model", args: []string{"plugin", "new", "-model", "lambda", "-lang", "go", filepath.Join(dir, "x")}, wantStderr: "mediactl: plugin new: -model must be chime or iotcomms (see -h)\n"},
		{name: "iotcomms in Rust", args: []string{"plugin", "new", "-model", "iotcomms", "-lang", "rust", filepath.Join(dir, "x")}, wantStderr: "mediactl: plugin new: -model iotcomms: -lang must be go or c (the Rust SDK has no iotcomms support yet)\n"},
		{name: "iotcomms without lang", args: []string{"plugin", "new", "-model", "iotcomms", filepath.Join(dir, "x")}, wantStderr: "mediactl: plugin new: -lang must be go, c, rust or assemblyscript (see -h)\n"},
		{name: "bad name", args: []string{"plugin", "new", "-lang", "c", filepath.Join(dir, "Hello World")}, wantStderr: `mediactl: plugin new: "Hello World": a name is lowercase letters, digits and '-', starting with a letter` + "\n"},
		{name: "exists", args: []string{"plugin", "new", "-lang", "c", dir}, wantStderr: "mediactl: plugin new: " + dir + " already exists\n"},
		{name: "test without golden files", args: []string{"plugin", "test", dir}, wantStderr: "mediactl: plugin test: no golden files in " + filepath.Join(dir, "testdata") + "\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t, "", tc.args...)
			if r.code != exitUsage || r.stderr != tc.wantStderr {
				t.Fatalf("exit %d, stderr %q; want %d, %q", r.code, r.stderr, exitUsage, tc.wantStderr)
			}
		})
	}
}
