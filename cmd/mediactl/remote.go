package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/wasmvoice/mediaserver/host/api"
	"github.com/wasmvoice/mediaserver/host/api/client"
	"github.com/wasmvoice/mediaserver/host/config"
)

// Environment variables the server commands read.
const (
	envAPI = "MEDIASERVER_API"
	envKey = "MEDIASERVER_API_KEY"
)

const (
	defaultAPI = "http://127.0.0.1:8080"
	// defaultKeyFile is where a server started in the current directory
	// writes the demo tenant's key on its first start.
	defaultKeyFile = "data/demo-api-key"
)

const globalFlagsHelp = `
Server flags (before or after the command):
  -api URL        the server's HTTP API (env MEDIASERVER_API, default http://127.0.0.1:8080)
  -key SECRET     API key (env MEDIASERVER_API_KEY)
  -key-file PATH  read the API key from PATH (default ./data/demo-api-key when it exists)
  -tenant ID      with an admin key: act for tenant ID
  -json           print the server's answer as JSON
`

// session is one invocation of a server command: the process's streams and
// environment, and the global flags parsed so far.
type session struct {
	ctx            context.Context
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	now            func() time.Time
	// opts are extra client options (tests inject their HTTP client).
	opts []client.Option

	api, key, keyFile, tenant string
	json                      bool
}

func newSession(ctx context.Context, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) *session {
	s := &session{ctx: ctx, stdin: stdin, stdout: stdout, stderr: stderr, getenv: getenv, now: time.Now}
	s.api = getenv(envAPI)
	if s.api == "" {
		s.api = defaultAPI
	}
	return s
}

// registerGlobals binds the global flags to fs with the values parsed so
// far as defaults, so they may come before or after the command name.
func (s *session) registerGlobals(fs *flag.FlagSet) {
	fs.StringVar(&s.api, "api", s.api, "the server's HTTP API base URL (env "+envAPI+")")
	fs.StringVar(&s.key, "key", s.key, "API key (env "+envKey+")")
	fs.StringVar(&s.keyFile, "key-file", s.keyFile, "read the API key from this file (default ./"+defaultKeyFile+" when it exists)")
	fs.StringVar(&s.tenant, "tenant", s.tenant, "with an admin key: the tenant to act for")
	fs.BoolVar(&s.json, "json", s.json, "print the server's answer as JSON")
}

// flagSet returns a FlagSet for a server command with the global flags
// and a -h that prints usage.
func (s *session) flagSet(name, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(s.stderr)
	fs.Usage = func() {
		fmt.Fprint(s.stderr, usage)
		fmt.Fprint(s.stderr, globalFlagsHelp)
		var own bytes.Buffer
		fs.VisitAll(func(f *flag.Flag) {
			if !isGlobalFlag(f.Name) {
				fmt.Fprintf(&own, "  -%s\t%s\n", f.Name, f.Usage)
			}
		})
		if own.Len() > 0 {
			fmt.Fprint(s.stderr, "\nCommand flags:\n")
			tw := tabwriter.NewWriter(s.stderr, 0, 4, 2, ' ', 0)
			_, _ = tw.Write(own.Bytes())
			_ = tw.Flush()
		}
	}
	s.registerGlobals(fs)
	return fs
}

func isGlobalFlag(name string) bool {
	switch name {
	case "api", "key", "key-file", "tenant", "json":
		return true
	}
	return false
}

// exitError is returned once what went wrong has been reported (or the
// help printed): the process exits with code.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit %d", e.code) }

// parse parses flags anywhere among the arguments (the flag package stops
// at the first positional one, but "plugin upload X.wasm -app A" reads
// naturally) and checks the positional count.
func (s *session) parse(fs *flag.FlagSet, args []string, minArgs, maxArgs int) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, exitError{exitOK}
			}
			return nil, exitError{exitUsage}
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			pos = append(pos, rest...)
			break
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
	switch {
	case len(pos) < minArgs:
		return nil, s.usageErr("%s: missing arguments (see -h)", fs.Name())
	case maxArgs >= 0 && len(pos) > maxArgs:
		return nil, s.usageErr("%s: too many arguments (see -h)", fs.Name())
	}
	return pos, nil
}

// usageErr prints a usage error and returns the exit for it.
func (s *session) usageErr(format string, a ...any) error {
	fmt.Fprintf(s.stderr, "mediactl: "+format+"\n", a...)
	return exitError{exitUsage}
}

// client resolves the server flags into a client: -key beats -key-file,
// which beats MEDIASERVER_API_KEY, which beats ./data/demo-api-key.
// connect parses a command's flags and positional arguments, then makes
// its API client: the start of every command that only talks to the API.
func (s *session) connect(fs *flag.FlagSet, args []string, minArgs, maxArgs int) (*client.Client, []string, error) {
	pos, err := s.parse(fs, args, minArgs, maxArgs)
	if err != nil {
		return nil, nil, err
	}
	c, err := s.client()
	return c, pos, err
}

func (s *session) client() (*client.Client, error) {
	secret := s.key
	switch {
	case secret != "" && s.keyFile != "":
		return nil, s.usageErr("use either -key or -key-file, not both")
	case secret == "" && s.keyFile != "":
		b, err := os.ReadFile(s.keyFile)
		if err != nil {
			return nil, s.usageErr("key file: %v", err)
		}
		secret = strings.TrimSpace(string(b))
		if secret == "" {
			return nil, s.usageErr("key file %s is empty", s.keyFile)
		}
	case secret == "":
		secret = s.getenv(envKey)
	}
	if secret == "" {
		if b, err := os.ReadFile(defaultKeyFile); err == nil {
			secret = strings.TrimSpace(string(b))
		}
	}
	if secret == "" {
		return nil, s.usageErr("no API key: pass -key or -key-file, or set %s (a server started here writes the demo key to ./%s)",
			envKey, filepath.FromSlash(defaultKeyFile))
	}
	opts := append([]client.Option{}, s.opts...)
	if s.tenant != "" {
		opts = append(opts, client.WithTenant(s.tenant))
	}
	c, err := client.New(s.api, secret, opts...)
	if err != nil {
		return nil, s.usageErr("-api %q: want an http(s) URL like %s", s.api, defaultAPI)
	}
	return c, nil
}

// failed reports a failed request in one line and returns exit code 1:
// "mediactl: NotFound: call 1234 not found".
func (s *session) failed(err error) error {
	var ae *client.Error
	switch {
	case errors.As(err, &ae):
		msg := tidy(ae.Message)
		if ae.RetryAfter > 0 {
			msg += fmt.Sprintf(" (retry after %s)", ae.RetryAfter)
		}
		fmt.Fprintf(s.stderr, "mediactl: %s: %s\n", ae.Code, msg)
	case errors.Is(err, context.Canceled):
		fmt.Fprintln(s.stderr, "mediactl: interrupted")
	default:
		// Transport errors: say which server could not be reached.
		fmt.Fprintf(s.stderr, "mediactl: server %s: %v\n", s.api, unwrapURL(err))
	}
	return exitError{exitFailure}
}

// tidy drops the text of an api sentinel the server's implementation
// wrapped first ("not found: call 42"): the code printed before it says
// the same.
func tidy(msg string) string {
	for _, e := range []error{api.ErrNotFound, api.ErrInvalid, api.ErrLimitExceeded, api.ErrUnavailable, api.ErrConflict, api.ErrForbidden} {
		if rest, ok := strings.CutPrefix(msg, e.Error()+": "); ok && rest != "" {
			return rest
		}
	}
	return msg
}

// unwrapURL drops the client's "client: METHOD /path:" and net/url's
// "Post "…":" prefixes, which repeat what the user typed.
func unwrapURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// printJSON writes v as indented JSON.
func (s *session) printJSON(v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding the answer: %w", err)
	}
	b = append(b, '\n')
	_, err = s.stdout.Write(b)
	return err
}

// table writes rows aligned under a header.
func (s *session) table(header []string, rows [][]string) {
	tw := tabwriter.NewWriter(s.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	_ = tw.Flush()
}

// keyValues parses KEY=VALUE arguments; what names the argument kind in
// errors ("argument", "-header").
func keyValues(what string, args []string) (map[string]string, error) {
	m := map[string]string{}
	for _, a := range args {
		k, v, ok := strings.Cut(a, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("%s %q: want KEY=VALUE", what, a)
		}
		if _, dup := m[k]; dup {
			return nil, fmt.Errorf("%s %q: key %q given twice", what, a, k)
		}
		m[k] = v
	}
	return m, nil
}

// listFlag collects a repeated flag's values.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func checkE164(what, n string) error {
	if n == "" {
		return fmt.Errorf("%s is required", what)
	}
	if !config.ValidE164(n) {
		return fmt.Errorf("%s %q is not an E.164 number like +15550100", what, n)
	}
	return nil
}

func checkSHA(sha string) error {
	if len(sha) != 64 || strings.Trim(sha, "0123456789abcdef") != "" {
		return fmt.Errorf("%q is not a SHA-256 (64 lowercase hex digits, as \"plugin list\" prints)", sha)
	}
	return nil
}

// age formats how long ago t was, to the second: "42s", "3m07s", "2h03m".
func age(now, t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	d := max(now.Sub(t), 0).Round(time.Second)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dd", int(d.Hours())/24)
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return orDash(sha)
}
