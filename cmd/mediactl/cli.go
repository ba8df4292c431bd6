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
	"strings"
	"time"

	"github.com/wasmvoice/mediaserver/abi"
	"github.com/wasmvoice/mediaserver/host/kv"
	"github.com/wasmvoice/mediaserver/host/plugin"
)

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1 // the plugin or its response failed
	exitUsage   = 2
)

const usageTop = `mediactl: the media server's command-line client

Usage:
  mediactl [server flags] COMMAND [flags] [arguments]

Local commands (no server needed):
  plugin run       run one event through a plugin (or a webhook) and print the response
  plugin check     validate a plugin module and print its facts
  plugin new       write a plugin folder (Go, C, Rust, AssemblyScript; Chime or iotcomms model)
                   that builds and passes its test
  plugin test      run a plugin folder's golden files against its modules
  speak            speak a text into a WAV file, as a call would hear it

Calls:
  call create      place an outbound call; prints its TransactionId
  call update      send CALL_UPDATE_REQUESTED to a live call
  call hangup      end a call
  calls            list the live calls

Plugins:
  plugin upload    upload a module (with -app: and make it live); prints its SHA-256
  plugin list      list the stored versions
  plugin assign    make a version an application's current plugin
  plugin rollback  go back to an application's previous version
  plugin delete    delete a stored version
  plugin logs      print an application's recent plugin logs
  plugin stats     print an application's plugin counters

iotcomms sessions (applications with model iotcomms):
  iot place          call a device into a new session with an IVR; prints session and participant ids
  iot split          split a connection
  iot connect        connect two participants of a session
  iot conference     add a conference connection to a session; prints its id
  iot interrupt      end an IVR participant's current command
  iot hangup         hang a participant up
  iot stoprecording  stop a session's recording
  promptfile put|get|list|delete [NAME]      prompt files and finished recordings

Tenant resources:
  app list|create|delete                     applications (Chime or iotcomms model)
  number list|add|remove|route               phone numbers and their routes
  key list|create|revoke                     API keys
  object put|get|list|delete BUCKET [KEY]    bucket objects (prompts, recordings)
  kv get|put|list|delete [KEY]               the key-value store the tenant's plugins use

Admin (an admin key):
  tenant list|create                         tenants
  tenant dial-policy set|clear TENANT        what a tenant's calls may dial
` + globalFlagsHelp + `
Exit status: 0 on success, 1 when the server (or the plugin) refuses or
fails, 2 on a usage error.

Run "mediactl COMMAND -h" for a command's flags and examples, e.g.
"mediactl call create -h".
`

const usageRun = `Usage: mediactl plugin run [flags] PLUGIN.wasm [EVENT.json | -]
       mediactl plugin run [flags] -url URL [EVENT.json | -]

Runs one event through a plugin, in-process and sandboxed like the server
does: reactor (ABI v1) or WASI command modules are detected automatically.
The event is read from EVENT.json, from stdin with "-", or is a built-in
NEW_INBOUND_CALL demo event when omitted. The response is printed as indented
JSON on stdout, the plugin's logs on stderr; the response is then validated
like the server would (Chime SIP media application rules). An event with a
"callback" member is an iotcomms callback: the answer is checked by
iotcomms' rules, and -url posts it to URL/<callback>.

Exit status: 0 on a valid response, 1 when the plugin fails or its response
is invalid, 2 on a usage error.

Examples:
  mediactl plugin run plugins/bin/meetingjoin-go.wasm
  mediactl plugin run -deadline 200ms plugins/bin/ivr-go.wasm event.json
  cat event.json | mediactl plugin run plugins/bin/meetingjoin-c.wasm -
  mediactl plugin run -kv ./data/kv.db -tenant acme plugin.wasm
  mediactl plugin run -url http://127.0.0.1:8080/ event.json

Flags:
`

const usageCheck = `Usage: mediactl plugin check PLUGIN.wasm

Validates a module without running it (size, ABI marker or WASI command,
exports, every import and its signature, memory) and prints its facts.

Example:
  mediactl plugin check plugins/bin/meetingjoin-c.wasm

Flags:
`

// run is the whole program; main only wires the process to it.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return newSession(ctx, os.Getenv, stdin, stdout, stderr).dispatch(args)
}

// serverCommands are the commands that talk to a server, by group: "calls"
// is a group of one command named "".
func serverCommands() map[string]map[string]func(*session, []string) error {
	return map[string]map[string]func(*session, []string) error{
		"call":  {"create": (*session).callCreate, "update": (*session).callUpdate, "hangup": (*session).callHangup},
		"calls": {"": (*session).calls},
		"plugin": {"upload": (*session).pluginUpload, "list": (*session).pluginList, "assign": (*session).pluginAssign,
			"rollback": (*session).pluginRollback, "delete": (*session).pluginDelete, "logs": (*session).pluginLogs,
			"stats": (*session).pluginStats},
		"app":    {"list": (*session).appList, "create": (*session).appCreate, "delete": (*session).appDelete},
		"number": {"list": (*session).numberList, "add": (*session).numberAdd, "remove": (*session).numberRemove, "route": (*session).numberRoute},
		"key":    {"list": (*session).keyList, "create": (*session).keyCreate, "revoke": (*session).keyRevoke},
		"object": {"put": (*session).objectPut, "get": (*session).objectGet, "list": (*session).objectList, "delete": (*session).objectDelete},
		"iot": {"place": (*session).iotPlace, "split": (*session).iotSplit, "connect": (*session).iotConnect,
			"conference": (*session).iotConference, "interrupt": (*session).iotInterrupt, "hangup": (*session).iotHangup,
			"stoprecording": (*session).iotStopRecording},
		"promptfile": {"put": (*session).promptPut, "get": (*session).promptGet, "list": (*session).promptList, "delete": (*session).promptDelete},
		"kv":         {"get": (*session).kvGet, "put": (*session).kvPut, "list": (*session).kvList, "delete": (*session).kvDelete},
		"tenant":     {"list": (*session).tenantList, "create": (*session).tenantCreate, "dial-policy": (*session).tenantDialPolicy},
	}
}

func (s *session) dispatch(args []string) int {
	if len(args) > 0 && strings.HasPrefix(args[0], "-") && !isHelp(args[0]) {
		// Server flags before the command.
		fs := flag.NewFlagSet("mediactl", flag.ContinueOnError)
		fs.SetOutput(s.stderr)
		fs.Usage = func() { fmt.Fprint(s.stderr, usageTop) }
		s.registerGlobals(fs)
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return exitOK
			}
			return exitUsage
		}
		args = fs.Args()
	}
	if len(args) == 0 {
		fmt.Fprint(s.stderr, usageTop)
		return exitUsage
	}
	if isHelp(args[0]) {
		fmt.Fprint(s.stdout, usageTop)
		return exitOK
	}
	if args[0] == "speak" {
		return s.exit(s.speak(args[1:]))
	}
	group, ok := serverCommands()[args[0]]
	if !ok {
		fmt.Fprintf(s.stderr, "mediactl: unknown command %q\n\n%s", args[0], usageTop)
		return exitUsage
	}
	if fn, ok := group[""]; ok {
		return s.exit(fn(s, args[1:]))
	}
	if len(args) < 2 {
		fmt.Fprintf(s.stderr, "mediactl: %s: missing subcommand\n\n%s", args[0], usageTop)
		return exitUsage
	}
	if args[0] == "plugin" {
		switch args[1] {
		case "run":
			return pluginRun(s.ctx, args[2:], s.stdin, s.stdout, s.stderr)
		case "check":
			return pluginCheck(s.ctx, args[2:], s.stdout, s.stderr)
		case "new":
			return pluginNew(args[2:], s.stdout, s.stderr)
		case "test":
			return pluginTest(s.ctx, args[2:], s.stdout, s.stderr)
		}
	}
	fn, ok := group[args[1]]
	if !ok {
		fmt.Fprintf(s.stderr, "mediactl: unknown command \"%s %s\"\n\n%s", args[0], args[1], usageTop)
		return exitUsage
	}
	return s.exit(fn(s, args[2:]))
}

// exit turns a command's result into the exit code, printing an error no
// one has reported yet.
func (s *session) exit(err error) int {
	var ee exitError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ee):
		return ee.code
	}
	fmt.Fprintf(s.stderr, "mediactl: %v\n", err)
	return exitFailure
}

func isHelp(a string) bool {
	switch a {
	case "-h", "-help", "--help", "help":
		return true
	}
	return false
}

func fail(stderr io.Writer, code int, format string, args ...any) int {
	fmt.Fprintf(stderr, "mediactl: "+format+"\n", args...)
	return code
}

func pluginRun(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("plugin run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usageRun)
		fs.PrintDefaults()
	}
	def := plugin.DefaultLimits()
	deadline := fs.Duration("deadline", def.Deadline, "per-event deadline")
	memory := fs.Int("memory", int(def.MemoryMaxPages)/16, "memory cap in MiB")
	tenant := fs.String("tenant", "demo", "tenant the plugin runs as (scopes the KV store)")
	kvPath := fs.String("kv", "", "KV store file (default: a temporary store, removed afterwards)")
	url := fs.String("url", "", "POST the event to this webhook instead of running a module")
	cacheDir := fs.String("cache", defaultCacheDir(), "compilation cache directory (\"\" = none)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	rest := fs.Args()
	var wasmPath string
	if *url == "" {
		if len(rest) == 0 {
			return fail(stderr, exitUsage, "plugin run: missing PLUGIN.wasm (see -h)")
		}
		wasmPath, rest = rest[0], rest[1:]
	}
	if len(rest) > 1 {
		return fail(stderr, exitUsage, "plugin run: too many arguments (see -h)")
	}
	if *deadline <= 0 || *memory <= 0 || *memory > 4096 {
		return fail(stderr, exitUsage, "plugin run: -deadline must be positive and -memory between 1 and 4096 MiB")
	}

	event, err := readEvent(rest, stdin)
	if err != nil {
		return fail(stderr, exitUsage, "%v", err)
	}
	// An event with a "callback" member is an iotcomms callback; any
	// other a Chime event.
	iot, err := abi.ParseIotRequest(event)
	if err != nil || !iot.Callback.Valid() {
		iot = nil
	}
	var ev *abi.Event
	if iot == nil {
		if ev, err = abi.ParseEvent(event); err != nil {
			return fail(stderr, exitUsage, "event: %v", err)
		}
	}

	var h plugin.Handler
	if *url != "" {
		var opts []plugin.WebhookOption
		if iot != nil {
			opts = append(opts, plugin.WithCallbackPath()) // POST <url>/<callback>
		}
		h = plugin.NewWebhook(*url, *deadline, nil, opts...)
	} else {
		wasm, err := os.ReadFile(wasmPath)
		if err != nil {
			return fail(stderr, exitUsage, "%v", err)
		}
		store, cleanup, err := openKV(*kvPath)
		if err != nil {
			return fail(stderr, exitFailure, "%v", err)
		}
		defer cleanup()
		rt, err := plugin.NewRuntime(ctx, plugin.Config{CacheDir: *cacheDir, KV: store})
		if err != nil {
			return fail(stderr, exitFailure, "%v", err)
		}
		defer rt.Close(context.Background())
		// A CLI run starts one instance once: be patient with a slow start
		// (Go guests, a busy machine) but keep the per-event deadline.
		initDeadline := max(10*time.Second, *deadline)
		lim := plugin.Limits{Deadline: *deadline, InitDeadline: initDeadline, MemoryMaxPages: uint32(*memory) * 16, PoolSize: 1}
		p, err := rt.Load(ctx, *tenant, filepath.Base(wasmPath), wasm, &lim)
		if err != nil {
			return fail(stderr, exitFailure, "%s", reason(err))
		}
		h = p
	}
	defer h.Close(context.Background())

	res, err := h.Invoke(ctx, event)
	if res != nil {
		printLogs(stderr, res.Logs)
	}
	if err != nil {
		return fail(stderr, exitFailure, "%s", reason(err))
	}
	var out bytes.Buffer
	if err := json.Indent(&out, res.Response, "", "  "); err != nil {
		return fail(stderr, exitFailure, "invalid response: %v", err)
	}
	out.WriteByte('\n')
	_, _ = stdout.Write(out.Bytes())

	if iot != nil {
		// The iotcomms answer's rules: an IVR command for getIvrCommand,
		// an action for newCall and callEvent, anything for the others.
		switch {
		case iot.Callback == abi.CallbackGetIvrCommand:
			_, err = abi.ParseIvrCommand(res.Response)
		case iot.Callback.Answered():
			_, err = abi.ParseIotAnswer(res.Response, iot.Callback)
		}
		if err != nil {
			return fail(stderr, exitFailure, "invalid answer: %v", err)
		}
		return exitOK
	}
	resp, err := abi.ParseResponse(res.Response)
	if err == nil {
		err = abi.ValidateResponse(resp, abi.DefaultLimits(), ev.CallDetails.Participants)
	}
	if err != nil {
		return fail(stderr, exitFailure, "invalid response: %s", responseReason(err))
	}
	return exitOK
}

// reason is the one-line cause of a plugin failure.
func reason(err error) string {
	var pe *plugin.Error
	if errors.As(err, &pe) && pe.Err != nil {
		err = pe.Err
	}
	line, _, _ := strings.Cut(err.Error(), "\n")
	return line
}

func responseReason(err error) string {
	var ae *abi.ActionError
	if errors.As(err, &ae) {
		if ae.Index >= 0 {
			return fmt.Sprintf("Actions[%d] %s", ae.Index, ae.Message)
		}
		return ae.Message
	}
	return err.Error()
}

func readEvent(rest []string, stdin io.Reader) ([]byte, error) {
	switch {
	case len(rest) == 0:
		return demoEvent(), nil
	case rest[0] == "-":
		b, err := io.ReadAll(stdin)
		if err != nil {
			return nil, fmt.Errorf("reading the event from stdin: %w", err)
		}
		return b, nil
	}
	return os.ReadFile(rest[0])
}

// demoEvent is a NEW_INBOUND_CALL for one inbound leg.
func demoEvent() []byte {
	return []byte(`{
  "SchemaVersion": "1.0",
  "Sequence": 1,
  "InvocationEventType": "NEW_INBOUND_CALL",
  "CallDetails": {
    "TransactionId": "demo-transaction-1",
    "TransactionAttributes": {},
    "AwsAccountId": "demo",
    "AwsRegion": "local",
    "SipRuleId": "demo-rule",
    "SipMediaApplicationId": "demo-app",
    "Participants": [{
      "CallId": "demo-call-a",
      "ParticipantTag": "LEG-A",
      "To": "+15550100",
      "From": "+15550199",
      "Direction": "Inbound",
      "StartTimeInMilliseconds": "1641998241509",
      "Status": "Connected"
    }]
  }
}
`)
}

func openKV(path string) (*kv.Store, func(), error) {
	cleanup := func() {}
	if path == "" {
		dir, err := os.MkdirTemp("", "mediactl-kv-")
		if err != nil {
			return nil, nil, err
		}
		path = filepath.Join(dir, "kv.db")
		cleanup = func() { _ = os.RemoveAll(dir) }
	}
	s, err := kv.Open(path)
	if err != nil {
		cleanup()
		return nil, nil, err
	}
	return s, func() { _ = s.Close(); cleanup() }, nil
}

func defaultCacheDir() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "mediactl", "wazero")
}

var levelNames = [...]string{"debug", "info", "warn", "error"}

func printLogs(w io.Writer, logs []plugin.LogLine) {
	for _, l := range logs {
		tag := l.Stream
		if l.Stream == plugin.StreamLog && l.Level >= 0 && int(l.Level) < len(levelNames) {
			tag = levelNames[l.Level]
		}
		fmt.Fprintf(w, "[%s] %s\n", tag, l.Text)
	}
}

func pluginCheck(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("plugin check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usageCheck)
		fs.PrintDefaults()
	}
	cacheDir := fs.String("cache", defaultCacheDir(), "compilation cache directory (\"\" = none)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() != 1 {
		return fail(stderr, exitUsage, "plugin check: want exactly one PLUGIN.wasm (see -h)")
	}
	wasm, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		return fail(stderr, exitUsage, "%v", err)
	}
	rt, err := plugin.NewRuntime(ctx, plugin.Config{CacheDir: *cacheDir})
	if err != nil {
		return fail(stderr, exitFailure, "%v", err)
	}
	defer rt.Close(context.Background())
	info, err := rt.Check(ctx, wasm)
	if err != nil {
		return fail(stderr, exitFailure, "%s", reason(err))
	}
	printInfo(stdout, fs.Arg(0), info, rt.Defaults())
	return exitOK
}

func printInfo(w io.Writer, path string, info *plugin.ModuleInfo, lim plugin.Limits) {
	abiVersion := "none (WASI command: event on stdin, response on stdout)"
	if info.ABIVersion > 0 {
		abiVersion = fmt.Sprintf("v%d", info.ABIVersion)
	}
	maxMem := fmt.Sprintf("none declared (host cap %d pages, %d MiB)", lim.MemoryMaxPages, lim.MemoryMaxPages/16)
	if info.MemoryMaxDeclared {
		maxMem = fmt.Sprintf("%d pages", info.MemoryMaxPages)
	}
	fmt.Fprintf(w, "file:    %s\n", path)
	fmt.Fprintf(w, "mode:    %s\n", info.Mode)
	fmt.Fprintf(w, "abi:     %s\n", abiVersion)
	fmt.Fprintf(w, "size:    %d bytes\n", info.Size)
	fmt.Fprintf(w, "sha256:  %s\n", info.SHA256)
	fmt.Fprintf(w, "memory:  min %d pages (%d KiB), max %s\n", info.MemoryMinPages, info.MemoryMinPages*64, maxMem)
	fmt.Fprintf(w, "exports:\n")
	for _, e := range info.Exports {
		fmt.Fprintf(w, "  %s\n", e)
	}
	fmt.Fprintf(w, "imports:\n")
	for _, i := range info.Imports {
		fmt.Fprintf(w, "  %s\n", i)
	}
}
