package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

var fixtureDir = filepath.Join("..", "..", "host", "plugin", "testdata")

var buildOnce = sync.OnceValue(func() error {
	if _, err := exec.LookPath("clang"); err != nil {
		if _, serr := os.Stat(filepath.Join(fixtureDir, "bin", "good.wasm")); serr == nil && os.Getenv("CI") != "true" {
			return nil
		}
		return fmt.Errorf("clang not found: install clang, lld, wasi-libc and libclang-rt-dev-wasm32 to build the C fixtures: %w", err)
	}
	out, err := exec.Command("sh", filepath.Join(fixtureDir, "build.sh")).CombinedOutput()
	if err != nil {
		return fmt.Errorf("build.sh: %v\n%s", err, out)
	}
	return nil
})

// fixture returns the path of a C test module of host/plugin.
func fixture(t *testing.T, name string) string {
	t.Helper()
	if err := buildOnce(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	return filepath.Join(fixtureDir, "bin", name+".wasm")
}

type result struct {
	code           int
	stdout, stderr string
}

func runCLI(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(stdin), &out, &errOut)
	return result{code: code, stdout: out.String(), stderr: errOut.String()}
}

func indent(t *testing.T, s string) string {
	t.Helper()
	var b bytes.Buffer
	if err := json.Indent(&b, []byte(s), "", "  "); err != nil {
		t.Fatal(err)
	}
	return b.String() + "\n"
}

func TestUsage(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout string // prefix
		wantStderr string // prefix
	}{
		{name: "no args", args: nil, wantCode: exitUsage, wantStderr: "mediactl: the media server's command-line client"},
		{name: "help", args: []string{"help"}, wantCode: exitOK, wantStdout: "mediactl: the media server's command-line client"},
		{name: "unknown", args: []string{"dance"}, wantCode: exitUsage, wantStderr: `mediactl: unknown command "dance"`},
		{name: "unknown plugin command", args: []string{"plugin", "dance"}, wantCode: exitUsage, wantStderr: `mediactl: unknown command "plugin dance"`},
		{name: "run help", args: []string{"plugin", "run", "-h"}, wantCode: exitOK, wantStderr: "Usage: mediactl plugin run"},
		{name: "check help", args: []string{"plugin", "check", "-h"}, wantCode: exitOK, wantStderr: "Usage: mediactl plugin check"},
		{name: "run without module", args: []string{"plugin", "run"}, wantCode: exitUsage, wantStderr: "mediactl: plugin run: missing PLUGIN.wasm (see -h)\n"},
		{name: "run too many", args: []string{"plugin", "run", "a.wasm", "b.json", "c"}, wantCode: exitUsage, wantStderr: "mediactl: plugin run: too many arguments (see -h)\n"},
		{name: "check without module", args: []string{"plugin", "check"}, wantCode: exitUsage, wantStderr: "mediactl: plugin check: want exactly one PLUGIN.wasm (see -h)\n"},
		{name: "bad flag", args: []string{"plugin", "run", "-nope"}, wantCode: exitUsage, wantStderr: "flag provided but not defined: -nope"},
		{name: "missing file", args: []string{"plugin", "check", "/nonexistent.wasm"}, wantCode: exitUsage, wantStderr: "mediactl: open /nonexistent.wasm: no such file or directory\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t, "", tc.args...)
			if r.code != tc.wantCode || !strings.HasPrefix(r.stdout, tc.wantStdout) || !strings.HasPrefix(r.stderr, tc.wantStderr) {
				t.Fatalf("code %d, stdout %q, stderr %q; want %d, %q…, %q…", r.code, r.stdout, r.stderr, tc.wantCode, tc.wantStdout, tc.wantStderr)
			}
		})
	}
}

func TestPluginRun(t *testing.T) {
	cache := t.TempDir()
	eventFile := filepath.Join(t.TempDir(), "event.json")
	event := strings.Replace(string(demoEvent()), `"Sequence": 1`, `"Sequence": 7`, 1)
	if err := os.WriteFile(eventFile, []byte(event), 0o600); err != nil {
		t.Fatal(err)
	}
	goodResp := func(seq, n int) string {
		return fmt.Sprintf(`{"SchemaVersion":"1.0","Actions":[],"TransactionAttributes":{"seq":"%d","len":"%d"}}`, seq, n)
	}
	tests := []struct {
		name       string
		flags      []string
		module     string
		args       []string
		stdin      string
		wantCode   int
		wantStdout string
		wantStderr string // the last line
	}{
		{name: "demo event", flags: []string{"-deadline", "60s"}, module: "good", wantCode: exitOK,
			wantStdout: goodResp(1, len(demoEvent()))},
		{name: "event file", flags: []string{"-deadline", "60s"}, module: "good", args: []string{eventFile}, wantCode: exitOK,
			wantStdout: goodResp(7, len(event))},
		{name: "stdin", flags: []string{"-deadline", "60s"}, module: "good", args: []string{"-"}, stdin: event, wantCode: exitOK,
			wantStdout: goodResp(7, len(event))},
		{name: "command module", flags: []string{"-deadline", "60s"}, module: "cmd_echo", wantCode: exitOK,
			wantStdout: fmt.Sprintf(`{"SchemaVersion":"1.0","Actions":[],"TransactionAttributes":{"len":"%d"}}`, len(demoEvent())),
			wantStderr: fmt.Sprintf("[stderr] command got %d bytes", len(demoEvent()))},
		{name: "timeout", module: "loop", wantCode: exitFailure,
			wantStderr: "mediactl: plugin timed out after 50ms"},
		{name: "trap", flags: []string{"-deadline", "60s"}, module: "unreachable", wantCode: exitFailure,
			wantStderr: "mediactl: plugin trapped: wasm error: unreachable"},
		{name: "memory", flags: []string{"-deadline", "60s", "-memory", "16"}, module: "memory", wantCode: exitFailure,
			wantStderr: "mediactl: plugin hit its memory limit of 16 MiB: wasm error: unreachable"},
		{name: "invalid action", flags: []string{"-deadline", "60s"}, module: "badaction", wantCode: exitFailure,
			wantStdout: `{"SchemaVersion":"1.0","Actions":[{"Type":"PlayAudio","Parameters":{"ParticipantTag":"LEG-A","AudioSource":{"Type":"S3","BucketName":"prompts"}}}]}`,
			wantStderr: "mediactl: invalid response: Actions[0] PlayAudio: AudioSource.Key is required"},
		{name: "invalid json", flags: []string{"-deadline", "60s"}, module: "badjson", wantCode: exitFailure,
			wantStderr: "mediactl: invalid response: not a JSON object"},
		{name: "log flood", flags: []string{"-deadline", "60s"}, module: "logflood", wantCode: exitOK,
			wantStdout: `{"SchemaVersion":"1.0","Actions":[]}`,
			wantStderr: "[warn] … 19936 lines dropped"},
		{name: "unknown import", module: "unknownimport", wantCode: exitFailure,
			wantStderr: `mediactl: invalid module: import "mediaserver"."spawn_process": no such function in "mediaserver"`},
		{name: "bad event", module: "good", args: []string{"-"}, stdin: "{", wantCode: exitUsage},
		{name: "bad memory flag", flags: []string{"-memory", "0"}, module: "good", wantCode: exitUsage,
			wantStderr: "mediactl: plugin run: -deadline must be positive and -memory between 1 and 4096 MiB"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"plugin", "run", "-cache", cache}, tc.flags...)
			args = append(append(args, fixture(t, tc.module)), tc.args...)
			r := runCLI(t, tc.stdin, args...)
			if r.code != tc.wantCode {
				t.Fatalf("exit %d, want %d; stderr:\n%s", r.code, tc.wantCode, r.stderr)
			}
			wantOut := ""
			if tc.wantStdout != "" {
				wantOut = indent(t, tc.wantStdout)
			}
			if r.stdout != wantOut {
				t.Fatalf("stdout:\n%s\nwant:\n%s", r.stdout, wantOut)
			}
			lines := strings.Split(strings.TrimRight(r.stderr, "\n"), "\n")
			if tc.wantStderr != "" && lines[len(lines)-1] != tc.wantStderr {
				t.Fatalf("stderr ends with %q, want %q", lines[len(lines)-1], tc.wantStderr)
			}
		})
	}
}

func TestPluginRunKV(t *testing.T) {
	kvPath := filepath.Join(t.TempDir(), "kv.db")
	r := runCLI(t, "", "plugin", "run", "-cache", "", "-deadline", "60s", "-kv", kvPath, "-tenant", "acme", fixture(t, "good"))
	if r.code != exitOK {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if _, err := os.Stat(kvPath); err != nil {
		t.Fatalf("the -kv file was not created: %v", err)
	}
}

func TestPluginRunWebhook(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ev struct{ InvocationEventType string }
		if err := json.NewDecoder(r.Body).Decode(&ev); err != nil || ev.InvocationEventType != "NEW_INBOUND_CALL" {
			http.Error(w, "bad event", http.StatusBadRequest)
			return
		}
		_, _ = io.WriteString(w, `{"SchemaVersion":"1.0","Actions":[{"Type":"Hangup","Parameters":{"SipResponseCode":"0"}}]}`)
	}))
	defer srv.Close()
	r := runCLI(t, "", "plugin", "run", "-deadline", "60s", "-url", srv.URL)
	want := indent(t, `{"SchemaVersion":"1.0","Actions":[{"Type":"Hangup","Parameters":{"SipResponseCode":"0"}}]}`)
	if r.code != exitOK || r.stdout != want {
		t.Fatalf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	srv.Close()
	r = runCLI(t, "", "plugin", "run", "-deadline", "60s", "-url", srv.URL)
	if r.code != exitFailure || !strings.HasPrefix(r.stderr, "mediactl: webhook failed: ") {
		t.Fatalf("closed server: exit %d, stderr %q", r.code, r.stderr)
	}
}

func TestPluginCheck(t *testing.T) {
	cache := t.TempDir()
	tests := []struct {
		name     string
		module   string
		wantCode int
		want     []string // lines of stdout, or the stderr line on failure
	}{
		{name: "reactor", module: "good", wantCode: exitOK,
			want: []string{"mode:    reactor", "abi:     v1", "  handle_event(i32) -> i32", "  mediaserver.event_read(i32, i32) -> i32"}},
		{name: "command", module: "cmd_echo", wantCode: exitOK,
			want: []string{"mode:    command", "abi:     none (WASI command: event on stdin, response on stdout)", "  _start()"}},
		{name: "unknown import", module: "unknownimport", wantCode: exitFailure,
			want: []string{`mediactl: invalid module: import "mediaserver"."spawn_process": no such function in "mediaserver"`}},
		{name: "bad signature", module: "badsig", wantCode: exitFailure,
			want: []string{`mediactl: invalid module: import "mediaserver"."log": signature (i32) -> i32, want (i32, i32, i32)`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t, "", "plugin", "check", "-cache", cache, fixture(t, tc.module))
			if r.code != tc.wantCode {
				t.Fatalf("exit %d, want %d; stderr %q", r.code, tc.wantCode, r.stderr)
			}
			out := r.stdout
			if tc.wantCode != exitOK {
				out = r.stderr
			}
			lines := strings.Split(out, "\n")
			for _, w := range tc.want {
				found := false
				for _, l := range lines {
					found = found || l == w
				}
				if !found {
					t.Errorf("output lacks line %q:\n%s", w, out)
				}
			}
		})
	}
}

// TestExamplePlugins runs the example plugins of plugins/ when they are
// built: their answer to the demo event must be a valid response.
func TestExamplePlugins(t *testing.T) {
	// A cache that outlives the test: compiling a Go guest under -race takes
	// many seconds, and the cache is keyed by the module's hash.
	cache := t.TempDir()
	if dir, err := os.UserCacheDir(); err == nil {
		cache = filepath.Join(dir, "mediaserver-test", "wazero")
	}
	for _, name := range []string{"meetingjoin-c", "meetingjoin-go", "ivr-go", "meetingjoin-c-cmd", "meetingjoin-rust", "ivr-rust", "meetingjoin-as", "ivr-as", "ivr-c", "ivr-rust-cmd", "ivr-as-cmd"} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join("..", "..", "plugins", "bin", name+".wasm")
			if _, err := os.Stat(path); err != nil {
				if os.Getenv("CI") == "true" {
					t.Fatalf("%s not built (CI=true): %v", path, err)
				}
				t.Skipf("%s not built (run plugins/build.sh): %v", path, err)
			}
			// Generous deadline: -race slows the Go guest's first event.
			r := runCLI(t, "", "plugin", "run", "-cache", cache, "-deadline", "60s", path)
			if r.code != exitOK || !json.Valid([]byte(r.stdout)) {
				t.Fatalf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
			}
		})
	}
}

// An iotcomms callback runs through an iotcomms plugin and is checked by
// iotcomms' rules; with -url it goes to URL/<callback>.
func TestPluginRunIotcomms(t *testing.T) {
	cache := t.TempDir()
	if dir, err := os.UserCacheDir(); err == nil {
		cache = filepath.Join(dir, "mediaserver-test", "wazero")
	}
	path := filepath.Join("..", "..", "plugins", "bin", "iot-ivr-go.wasm")
	if _, err := os.Stat(path); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s not built (CI=true): %v", path, err)
		}
		t.Skipf("%s not built (run plugins/build.sh): %v", path, err)
	}
	ivr := `{"callback":"getIvrCommand","sessionId":"s1","participantId":"s1/p2","dtmfParams":{"dtmfMatch":"2","reason":"maxDigits"}}`
	r := runCLI(t, ivr, "plugin", "run", "-cache", cache, "-deadline", "60s", path, "-")
	if want := indent(t, `{"phrases":[{"format":"file","fileName":"support.wav"}],"hangup":true}`); r.code != exitOK || r.stdout != want {
		t.Fatalf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	var path2 string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path2 = r.URL.Path
		_, _ = io.WriteString(w, `{"action":"park"}`)
	}))
	defer srv.Close()
	r = runCLI(t, `{"callback":"callEvent","sessionId":"s1","event":"calledPartyDrop"}`, "plugin", "run", "-deadline", "60s", "-url", srv.URL+"/app", "-")
	if r.code != exitFailure || path2 != "/app/callEvent" || !strings.Contains(r.stderr, `unknown action "park"`) {
		t.Fatalf("exit %d, path %q, stderr %q", r.code, path2, r.stderr)
	}
}
