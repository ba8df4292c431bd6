package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"

	"github.com/wasmvoice/mediaserver/host/plugin"
)

const usageNew = `Usage: mediactl plugin new -lang go|c|rust|assemblyscript [-model chime|iotcomms] [-sdk DIR] DIR

Writes a working plugin folder DIR: the handler, build.sh (an ABI v1
reactor bin/NAME.wasm and a WASI command bin/NAME-cmd.wasm), golden files
in testdata/ and a README. It builds and passes its test at once:

  mediactl plugin new -lang rust hello && cd hello && ./build.sh && mediactl plugin test .
  mediactl plugin new -model iotcomms -lang go attendant && cd attendant && ./build.sh && mediactl plugin test .

-model chime (the default) writes a Chime SIP media application handler:
NEW_INBOUND_CALL plays prompts/welcome.wav to LEG-A and sets an attribute,
every other event gets an empty action list. -model iotcomms (Go or C)
writes a handler of iotcomms callbacks, for an application whose model is
iotcomms: the caller meets an IVR that asks for a key, says which was
pressed and hangs up, and the caller is then dropped.

The plugin refers to the SDKs of this repository (-sdk, default: the sdk/
folder found above the working directory or the mediactl binary).

Flags:
`

const usageTest = `Usage: mediactl plugin test [flags] DIR

Runs the golden files of a plugin folder (DIR/testdata/*.golden: an event
JSON, a line "----", the expected response JSON) through every module in
DIR/bin (or -wasm FILE), in-process and sandboxed as the server runs it,
and compares the responses as JSON values. Prints one line per case and
"N passed, N failed".

Exit status: 0 when every case passes, 1 otherwise, 2 on a usage error.

Examples:
  mediactl plugin test plugins/hello
  mediactl plugin test -golden sdk/conformance/ivr -wasm plugins/bin/ivr-rust.wasm plugins/ivr-rust

Flags:
`

// scaffolds are the templates by model and language, each its files
// (path → template) beside the model's common ones.
var scaffolds = map[string]struct {
	common map[string]string
	langs  map[string]map[string]string
}{
	"chime": {common: commonScaffold, langs: map[string]map[string]string{
		"go":             goScaffold,
		"c":              cScaffold,
		"rust":           rustScaffold,
		"assemblyscript": asScaffold,
	}},
	"iotcomms": {common: commonIotScaffold, langs: map[string]map[string]string{
		"go": goIotScaffold,
		"c":  cIotScaffold,
	}},
}

func pluginNew(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("plugin new", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usageNew)
		fs.PrintDefaults()
	}
	lang := fs.String("lang", "", "go, c, rust or assemblyscript (required; iotcomms: go or c)")
	model := fs.String("model", "chime", "the application's programming model: chime or iotcomms")
	sdk := fs.String("sdk", "", "the repository's sdk/ folder (default: found above the working directory or the binary)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	sc, ok := scaffolds[*model]
	if !ok {
		return fail(stderr, exitUsage, "plugin new: -model must be chime or iotcomms (see -h)")
	}
	if _, ok := scaffolds["chime"].langs[*lang]; !ok {
		return fail(stderr, exitUsage, "plugin new: -lang must be go, c, rust or assemblyscript (see -h)")
	}
	files, ok := sc.langs[*lang]
	if !ok {
		sdkName := map[string]string{"rust": "Rust", "assemblyscript": "AssemblyScript"}[*lang]
		return fail(stderr, exitUsage, "plugin new: -model %s: -lang must be go or c (the %s SDK has no iotcomms support yet)", *model, sdkName)
	}
	if fs.NArg() != 1 {
		return fail(stderr, exitUsage, "plugin new: want exactly one DIR (see -h)")
	}
	dir, err := filepath.Abs(fs.Arg(0))
	if err != nil {
		return fail(stderr, exitUsage, "plugin new: %v", err)
	}
	name := filepath.Base(dir)
	if !validPluginName(name) {
		return fail(stderr, exitUsage, "plugin new: %q: a name is lowercase letters, digits and '-', starting with a letter", name)
	}
	if _, err := os.Stat(dir); err == nil {
		return fail(stderr, exitUsage, "plugin new: %s already exists", dir)
	}
	sdkDir := *sdk
	if sdkDir == "" {
		if sdkDir, err = findSDK(); err != nil {
			return fail(stderr, exitUsage, "plugin new: %v (pass -sdk DIR)", err)
		}
	}
	if sdkDir, err = filepath.Abs(sdkDir); err != nil {
		return fail(stderr, exitUsage, "plugin new: %v", err)
	}
	if _, err := os.Stat(filepath.Join(sdkDir, "go", "go.mod")); err != nil {
		return fail(stderr, exitUsage, "plugin new: %s is not the SDK folder (no go/go.mod)", sdkDir)
	}
	rel, err := filepath.Rel(dir, sdkDir)
	if err != nil {
		rel = sdkDir
	}
	repl := strings.NewReplacer("{{NAME}}", name, "{{CRATE}}", strings.ReplaceAll(name, "-", "_"), "{{SDK}}", filepath.ToSlash(rel))
	all := withFiles(sc.common, files)
	paths := make([]string, 0, len(all))
	for p := range all {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		full := filepath.Join(dir, repl.Replace(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return fail(stderr, exitFailure, "plugin new: %v", err)
		}
		mode := os.FileMode(0o644)
		if strings.HasSuffix(p, ".sh") {
			mode = 0o755
		}
		if err := os.WriteFile(full, []byte(repl.Replace(all[p])), mode); err != nil {
			return fail(stderr, exitFailure, "plugin new: %v", err)
		}
		fmt.Fprintln(stdout, filepath.Join(fs.Arg(0), repl.Replace(p)))
	}
	fmt.Fprintf(stderr, "next: cd %s && ./build.sh && mediactl plugin test .\n", fs.Arg(0))
	return exitOK
}

func validPluginName(s string) bool {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// findSDK looks for sdk/go/go.mod above the working directory, then above
// the mediactl binary (bin/mediactl in the repository).
func findSDK() (string, error) {
	var starts []string
	if wd, err := os.Getwd(); err == nil {
		starts = append(starts, wd)
	}
	if exe, err := os.Executable(); err == nil {
		starts = append(starts, filepath.Dir(exe))
	}
	for _, d := range starts {
		for {
			if _, err := os.Stat(filepath.Join(d, "sdk", "go", "go.mod")); err == nil {
				return filepath.Join(d, "sdk"), nil
			}
			parent := filepath.Dir(d)
			if parent == d {
				break
			}
			d = parent
		}
	}
	return "", errors.New("no sdk/go/go.mod above the working directory or the binary")
}

func pluginTest(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("plugin test", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usageTest)
		fs.PrintDefaults()
	}
	golden := fs.String("golden", "", "directory of the golden files (default DIR/testdata)")
	wasmFile := fs.String("wasm", "", "the module to test (default every DIR/bin/*.wasm)")
	deadline := fs.Duration("deadline", 0, "per-event deadline (default: generous, a test is not a benchmark)")
	cacheDir := fs.String("cache", defaultCacheDir(), "compilation cache directory (\"\" = none)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() != 1 {
		return fail(stderr, exitUsage, "plugin test: want exactly one DIR (see -h)")
	}
	dir := fs.Arg(0)
	if *golden == "" {
		*golden = filepath.Join(dir, "testdata")
	}
	cases, err := filepath.Glob(filepath.Join(*golden, "*.golden"))
	if err != nil || len(cases) == 0 {
		return fail(stderr, exitUsage, "plugin test: no golden files in %s", *golden)
	}
	modules := []string{*wasmFile}
	if *wasmFile == "" {
		modules, _ = filepath.Glob(filepath.Join(dir, "bin", "*.wasm"))
		if len(modules) == 0 {
			return fail(stderr, exitUsage, "plugin test: no modules in %s (run its build.sh)", filepath.Join(dir, "bin"))
		}
	}
	lim := plugin.DefaultLimits()
	lim.Deadline, lim.InitDeadline, lim.PoolSize = max(*deadline, 30e9), max(*deadline, 60e9), 1
	rt, err := plugin.NewRuntime(ctx, plugin.Config{CacheDir: *cacheDir})
	if err != nil {
		return fail(stderr, exitFailure, "%v", err)
	}
	defer rt.Close(context.Background())
	passed, failed := 0, 0
	for _, m := range modules {
		wasm, err := os.ReadFile(m)
		if err != nil {
			return fail(stderr, exitUsage, "%v", err)
		}
		l := lim
		p, err := rt.Load(ctx, "test", filepath.Base(m), wasm, &l)
		if err != nil {
			fmt.Fprintf(stdout, "FAIL %s: %s\n", m, reason(err))
			failed += len(cases)
			continue
		}
		for _, c := range cases {
			name := filepath.Base(m) + " " + strings.TrimSuffix(filepath.Base(c), ".golden")
			if msg := runGolden(ctx, p, c); msg != "" {
				fmt.Fprintf(stdout, "FAIL %s: %s\n", name, msg)
				failed++
				continue
			}
			fmt.Fprintf(stdout, "ok   %s\n", name)
			passed++
		}
		p.Close(context.Background())
	}
	fmt.Fprintf(stdout, "%d passed, %d failed\n", passed, failed)
	if failed > 0 {
		return exitFailure
	}
	return exitOK
}

// runGolden runs one golden file; "" when the response is as expected.
func runGolden(ctx context.Context, h plugin.Handler, path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	event, want, ok := strings.Cut(string(b), "\n----\n")
	if !ok {
		return "no ---- separator line"
	}
	res, err := h.Invoke(ctx, []byte(strings.TrimSpace(event)))
	if err != nil {
		return reason(err)
	}
	var g, w any
	if err := json.Unmarshal(res.Response, &g); err != nil {
		return "response is not JSON: " + err.Error()
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		return "expected response is not JSON: " + err.Error()
	}
	if !reflect.DeepEqual(g, w) {
		var compact bytes.Buffer
		_ = json.Compact(&compact, []byte(want))
		return fmt.Sprintf("\n  got:  %s\n  want: %s", res.Response, compact.String())
	}
	return ""
}
