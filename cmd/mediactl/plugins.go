package main

import (
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/wasmvoice/mediaserver/host/api"
)

const usagePluginUpload = `Usage: mediactl plugin upload PLUGIN.wasm [-app ID]

Uploads a module; the server validates and compiles it before storing it
(an invalid module is refused with the reason). Prints the version's
SHA-256. With -app, also makes it the application's current plugin: upload
to live in one command (the previous version stays in the history for
"plugin rollback").

Examples:
  mediactl plugin upload plugins/bin/ivr-go.wasm
  mediactl plugin upload plugins/bin/meetingjoin-c.wasm -app meeting
`

const usagePluginList = `Usage: mediactl plugin list

Lists the tenant's stored plugin versions and the applications running each.

Example:
  mediactl plugin list
`

const usagePluginAssign = `Usage: mediactl plugin assign -app ID SHA256

Makes a stored version the application's current plugin; new events use it
at once.

Example:
  mediactl plugin assign -app meeting 3f7a…(64 hex digits)
`

const usagePluginRollback = `Usage: mediactl plugin rollback -app ID

Makes the application's previous plugin version current again.

Example:
  mediactl plugin rollback -app meeting
`

const usagePluginDelete = `Usage: mediactl plugin delete SHA256

Deletes a stored version that no application uses.

Example:
  mediactl plugin delete 3f7a…(64 hex digits)
`

const usagePluginLogs = `Usage: mediactl plugin logs -app ID [-n N]

Prints the application's most recent plugin log lines, oldest first.

Examples:
  mediactl plugin logs -app demo-ivr
  mediactl plugin logs -app demo-ivr -n 500
`

const usagePluginStats = `Usage: mediactl plugin stats -app ID

Prints the application's plugin counters: invocations, errors by kind,
instances and the latency histogram.

Example:
  mediactl plugin stats -app demo-ivr
`

func (s *session) pluginUpload(args []string) error {
	fs := s.flagSet("plugin upload", usagePluginUpload)
	app := fs.String("app", "", "also make the version this application's current plugin")
	pos, err := s.parse(fs, args, 1, 1)
	if err != nil {
		return err
	}
	wasm, err := os.ReadFile(pos[0])
	if err != nil {
		return s.usageErr("plugin upload: %v", err)
	}
	if len(wasm) == 0 {
		return s.usageErr("plugin upload: %s is empty", pos[0])
	}
	c, err := s.client()
	if err != nil {
		return err
	}
	p, err := c.UploadPlugin(s.ctx, wasm)
	if err != nil {
		return s.failed(err)
	}
	if *app != "" {
		a, err := c.AssignPlugin(s.ctx, *app, p.Sha256)
		if err != nil {
			fmt.Fprintf(s.stderr, "mediactl: uploaded %s, but assigning it to %s failed:\n", p.Sha256, *app)
			return s.failed(err)
		}
		if s.json {
			return s.printJSON(struct {
				Plugin              api.Plugin
				SipMediaApplication api.SipMediaApplication
			}{p, a})
		}
		fmt.Fprintln(s.stdout, p.Sha256)
		fmt.Fprintf(s.stderr, "application %s now runs %s\n", a.SipMediaApplicationID, short(p.Sha256))
		return nil
	}
	if s.json {
		return s.printJSON(api.PluginResponse{Plugin: p})
	}
	fmt.Fprintln(s.stdout, p.Sha256)
	return nil
}

func (s *session) pluginList(args []string) error {
	fs := s.flagSet("plugin list", usagePluginList)
	c, _, err := s.connect(fs, args, 0, 0)
	if err != nil {
		return err
	}
	ps, err := c.ListPlugins(s.ctx)
	if err != nil {
		return s.failed(err)
	}
	if s.json {
		return s.printJSON(api.PluginList{Plugins: ps})
	}
	apps, err := c.ListApps(s.ctx)
	if err != nil {
		return s.failed(err)
	}
	usedBy := map[string][]string{}
	for _, a := range apps {
		if a.Plugin != "" {
			usedBy[a.Plugin] = append(usedBy[a.Plugin], a.SipMediaApplicationID)
		}
	}
	rows := make([][]string, 0, len(ps))
	for _, p := range ps {
		sort.Strings(usedBy[p.Sha256])
		rows = append(rows, []string{p.Sha256, strconv.FormatInt(p.Size, 10), stamp(p.CreatedTimestamp),
			orDash(strings.Join(usedBy[p.Sha256], ","))})
	}
	s.table([]string{"SHA256", "SIZE", "CREATED", "APPS"}, rows)
	return nil
}

func (s *session) pluginAssign(args []string) error {
	fs := s.flagSet("plugin assign", usagePluginAssign)
	app := fs.String("app", "", "the application (required)")
	pos, err := s.parse(fs, args, 1, 1)
	if err != nil {
		return err
	}
	if *app == "" {
		return s.usageErr("plugin assign: -app is required (see -h)")
	}
	if err := checkSHA(pos[0]); err != nil {
		return s.usageErr("plugin assign: %v", err)
	}
	c, err := s.client()
	if err != nil {
		return err
	}
	a, err := c.AssignPlugin(s.ctx, *app, pos[0])
	if err != nil {
		return s.failed(err)
	}
	return s.printApp(a)
}

func (s *session) pluginRollback(args []string) error {
	fs := s.flagSet("plugin rollback", usagePluginRollback)
	app := fs.String("app", "", "the application (required)")
	if _, err := s.parse(fs, args, 0, 0); err != nil {
		return err
	}
	if *app == "" {
		return s.usageErr("plugin rollback: -app is required (see -h)")
	}
	c, err := s.client()
	if err != nil {
		return err
	}
	a, err := c.Rollback(s.ctx, *app)
	if err != nil {
		return s.failed(err)
	}
	return s.printApp(a)
}

// printApp confirms a plugin change: the application and the version it
// runs now.
func (s *session) printApp(a api.SipMediaApplication) error {
	if s.json {
		return s.printJSON(api.AppResponse{SipMediaApplication: a})
	}
	fmt.Fprintf(s.stdout, "application %s now runs %s\n", a.SipMediaApplicationID, orDash(a.Plugin))
	return nil
}

func (s *session) pluginDelete(args []string) error {
	fs := s.flagSet("plugin delete", usagePluginDelete)
	pos, err := s.parse(fs, args, 1, 1)
	if err != nil {
		return err
	}
	if err := checkSHA(pos[0]); err != nil {
		return s.usageErr("plugin delete: %v", err)
	}
	c, err := s.client()
	if err != nil {
		return err
	}
	if err := c.DeletePlugin(s.ctx, pos[0]); err != nil {
		return s.failed(err)
	}
	return nil
}

func (s *session) pluginLogs(args []string) error {
	fs := s.flagSet("plugin logs", usagePluginLogs)
	app := fs.String("app", "", "the application (required)")
	n := fs.Int("n", api.DefaultLogLines, fmt.Sprintf("how many lines, 1 to %d", api.MaxLogLines))
	if _, err := s.parse(fs, args, 0, 0); err != nil {
		return err
	}
	if *app == "" {
		return s.usageErr("plugin logs: -app is required (see -h)")
	}
	if *n < 1 || *n > api.MaxLogLines {
		return s.usageErr("plugin logs: -n %d: want 1 to %d", *n, api.MaxLogLines)
	}
	c, err := s.client()
	if err != nil {
		return err
	}
	lines, err := c.Logs(s.ctx, *app, *n)
	if err != nil {
		return s.failed(err)
	}
	if s.json {
		return s.printJSON(api.LogList{Logs: lines})
	}
	for _, l := range lines {
		tag := l.Level
		if l.Stream != "" && l.Stream != "log" {
			tag = l.Stream
		}
		tx := ""
		if l.TransactionID != "" {
			tx = " " + l.TransactionID
		}
		fmt.Fprintf(s.stdout, "%s [%s]%s %s\n", stamp(l.Time), tag, tx, l.Text)
	}
	return nil
}

func (s *session) pluginStats(args []string) error {
	fs := s.flagSet("plugin stats", usagePluginStats)
	app := fs.String("app", "", "the application (required)")
	if _, err := s.parse(fs, args, 0, 0); err != nil {
		return err
	}
	if *app == "" {
		return s.usageErr("plugin stats: -app is required (see -h)")
	}
	c, err := s.client()
	if err != nil {
		return err
	}
	st, err := c.Stats(s.ctx, *app)
	if err != nil {
		return s.failed(err)
	}
	if s.json {
		return s.printJSON(api.StatsResponse{Stats: st})
	}
	var failed uint64
	kinds := make([]string, 0, len(st.Errors))
	for k, v := range st.Errors {
		failed += v
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	fmt.Fprintf(s.stdout, "invocations: %d\n", st.Invocations)
	fmt.Fprintf(s.stdout, "errors:      %d\n", failed)
	for _, k := range kinds {
		fmt.Fprintf(s.stdout, "  %s: %d\n", k, st.Errors[k])
	}
	fmt.Fprintf(s.stdout, "instances:   %d live, %d idle\n", st.LiveInstances, st.IdleInstances)
	if len(st.Latency) > 0 {
		fmt.Fprintln(s.stdout, "latency:")
		for _, b := range st.Latency {
			if b.Count == 0 {
				continue
			}
			// The server marks its overflow bucket with a huge bound.
			bound := "slower"
			if b.UpperBoundMs > 0 && b.UpperBoundMs < 1e9 {
				bound = "≤ " + strconv.FormatFloat(b.UpperBoundMs, 'g', -1, 64) + " ms"
			}
			fmt.Fprintf(s.stdout, "  %-12s %d\n", bound, b.Count)
		}
	}
	return nil
}
