// Command mediaserver runs the programmable media server: SIP and RTP on
// one side, call handlers as sandboxed WebAssembly plugins (or webhooks) on
// the other.
//
// Without -config it runs the built-in demo: loopback only, tenant "demo",
// the IVR plugin plugins/bin/ivr-go.wasm on +15550100 and its iotcomms
// counterpart on +15550160, data in ./data.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/wasmvoice/mediaserver/host/config"
	"github.com/wasmvoice/mediaserver/host/server"
)

const usage = `mediaserver: a programmable SIP media server whose call logic runs in
WebAssembly plugins: the Amazon Chime SDK "SIP media application" model and
the iotcomms SIP Mediaserver session model.

Usage:
  mediaserver [flags]

Without -config it runs the demo: SIP on 127.0.0.1:5060 (UDP and TCP) and
127.0.0.1:5061 (TLS, with a self-signed certificate made in the data
directory), the HTTP API on 127.0.0.1:8080, tenant "demo" with the IVR
plugin plugins/bin/ivr-go.wasm on +15550100 and the same IVR as an iotcomms
application (plugins/bin/iot-ivr-go.wasm) on +15550160 (build them with
"make plugins"), data in ./data. Flags override the configuration file.

Flags:
`

const examples = `
Examples:
  mediaserver                                   # the demo, from the repository root
  mediaserver -config mediaserver.toml
  mediaserver -sip-udp 0.0.0.0:5060 -rtp-ports 30000-30999 -log-level debug
  mediaserver -dev                              # reload plugins/bin/*.wasm on rebuild
  mediaserver -log-format json -log-level debug # one JSON object per line, every action

Signals: SIGTERM or SIGINT drains (new calls get 503, /readyz 503), lets
calls go on for -drain (default [shutdown] drain_time, 30s), then hangs up
the rest and exits 0; a second signal ends the drain at once. SIGHUP
reloads the TLS certificate files.

Try the demo with any SIP phone or with sipp:
  sipp -sn uac -s +15550100 127.0.0.1:5060 -m 1
`

// devPoll is how often -dev looks at the plugin files.
const devPoll = 500 * time.Millisecond

// options are the command-line flags.
type options struct {
	config   string
	data     string
	sipUDP   string
	sipTCP   string
	sipTLS   string
	api      string
	drain    time.Duration
	logFmt   string
	rtpPorts string
	logLevel string
	dev      bool
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is main without the process: it returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("mediaserver", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	fs.StringVar(&o.config, "config", "", "configuration `file` (TOML); default: the built-in demo")
	fs.StringVar(&o.data, "data", "", "data `dir`ectory (KV store, buckets, plugin cache); overrides data_dir")
	fs.StringVar(&o.sipUDP, "sip-udp", "", "SIP UDP listen `addresses`, comma-separated IP:port (port 0 picks one); \"none\" disables UDP")
	fs.StringVar(&o.sipTCP, "sip-tcp", "", "SIP TCP listen `addresses`, comma-separated IP:port; \"none\" disables TCP")
	fs.StringVar(&o.sipTLS, "sip-tls", "", "SIP TLS listen `addresses`, comma-separated IP:port; \"none\" disables TLS")
	fs.DurationVar(&o.drain, "drain", -1, "on SIGTERM, how long calls in progress may go on before they are hung up (`duration`; default [shutdown] drain_time)")
	fs.StringVar(&o.logFmt, "log-format", "text", "log `format`: text (key=value) or json (one object per line)")
	fs.StringVar(&o.api, "api", "", "HTTP API listen `address` IP:port; \"none\" disables it")
	fs.StringVar(&o.rtpPorts, "rtp-ports", "", "RTP port `range` MIN-MAX (even ports are used)")
	fs.StringVar(&o.logLevel, "log-level", "info", "log `level`: debug, info, warn, error")
	fs.BoolVar(&o.dev, "dev", false, "dev mode: watch each configured application's plugin file and upload and assign it when it changes")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usage)
		fs.PrintDefaults()
		fmt.Fprint(fs.Output(), examples)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "mediaserver: unexpected argument %q (see -h)\n", fs.Arg(0))
		return 2
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(o.logLevel)); err != nil {
		fmt.Fprintf(stderr, "mediaserver: -log-level %q: want debug, info, warn or error\n", o.logLevel)
		return 2
	}
	if o.logFmt != "text" && o.logFmt != "json" {
		fmt.Fprintf(stderr, "mediaserver: -log-format %q: want text or json\n", o.logFmt)
		return 2
	}
	cfg, err := loadConfig(o)
	if err != nil {
		fmt.Fprintf(stderr, "mediaserver: %v\n", err)
		return 2
	}
	if o.config == "" {
		// The demo is useless without its plugin: say how to build it.
		for _, t := range cfg.Tenants {
			for _, a := range t.Applications {
				if a.Plugin == "" {
					continue
				}
				if _, err := os.Stat(a.Plugin); err != nil {
					fmt.Fprintf(stderr, "mediaserver: demo plugin %s not found: run `make plugins` (from the repository root) first\n", a.Plugin)
					return 1
				}
			}
		}
	}
	var handler slog.Handler = slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level})
	if o.logFmt == "json" {
		handler = slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: level})
	}
	log := slog.New(handler)
	sopts := []server.Option{server.WithLogger(log)}
	if o.dev {
		sopts = append(sopts, server.WithDevReload(devPoll))
	}
	srv, err := server.New(cfg, sopts...)
	if err != nil {
		fmt.Fprintf(stderr, "mediaserver: %v\n", err)
		return 2
	}
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigs)
	ctx, cancelStart := context.WithCancel(context.Background())
	defer cancelStart()
	started := make(chan error, 1)
	go func() { started <- srv.Start(ctx) }()
	for waiting := true; waiting; {
		select {
		case err := <-started:
			if err != nil && ctx.Err() != nil {
				fmt.Fprintln(stdout, "mediaserver: stopped before it was ready")
				return 0
			}
			if err != nil {
				fmt.Fprintf(stderr, "mediaserver: %v\n", err)
				return 1
			}
			waiting = false
		case sig := <-sigs:
			if sig != syscall.SIGHUP {
				cancelStart() // a stop while starting: Start gives up and cleans up
			}
		}
	}
	printBanner(stdout, cfg, srv)
	for sig := range sigs {
		if sig == syscall.SIGHUP {
			log.Info("SIGHUP: reloading the TLS certificate files")
			srv.ReloadTLS()
			continue
		}
		break
	}
	drain := cfg.Shutdown.DrainTime.Duration
	if o.drain >= 0 {
		drain = o.drain
	}
	fmt.Fprintf(stdout, "mediaserver: shutting down: new calls refused, calls in progress may go on for %s (signal again to end them now)\n", drain)
	sctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		for sig := range sigs {
			if sig != syscall.SIGHUP {
				fmt.Fprintln(stdout, "mediaserver: second signal: ending the calls now")
				cancel()
				return
			}
		}
	}()
	if err := srv.Shutdown(sctx, drain); err != nil {
		fmt.Fprintf(stderr, "mediaserver: shutdown: %v\n", err)
		return 1
	}
	fmt.Fprintln(stdout, "mediaserver: stopped")
	return 0
}

// loadConfig reads the configuration (or the demo defaults) and applies
// the flags.
func loadConfig(o options) (*config.Config, error) {
	cfg := config.Default()
	if o.config != "" {
		c, err := config.Load(o.config)
		if err != nil {
			return nil, err
		}
		cfg = c
	}
	if o.data != "" {
		cfg.DataDir = o.data
	}
	if o.sipUDP != "" {
		cfg.SIP.UDP = addrList(o.sipUDP)
	}
	if o.sipTCP != "" {
		cfg.SIP.TCP = addrList(o.sipTCP)
	}
	if o.sipTLS != "" {
		cfg.SIP.TLS = addrList(o.sipTLS)
	}
	if o.api != "" {
		cfg.API.Listen = o.api
		if o.api == "none" {
			cfg.API.Listen = ""
		}
	}
	if o.rtpPorts != "" {
		lo, hi, ok := strings.Cut(o.rtpPorts, "-")
		min, err1 := strconv.Atoi(strings.TrimSpace(lo))
		max, err2 := strconv.Atoi(strings.TrimSpace(hi))
		if !ok || err1 != nil || err2 != nil {
			return nil, fmt.Errorf("-rtp-ports %q: want MIN-MAX, like 20000-29998", o.rtpPorts)
		}
		cfg.RTP.PortMin, cfg.RTP.PortMax = min, max
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return cfg, nil
}

func addrList(s string) []string {
	if s == "none" {
		return nil
	}
	var out []string
	for _, a := range strings.Split(s, ",") {
		if a = strings.TrimSpace(a); a != "" {
			out = append(out, a)
		}
	}
	return out
}

// tlsSRTP is the SRTP policy of the TLS listeners.
func tlsSRTP(cfg *config.Config) string {
	if cfg.SIP.TLSSRTP != "" {
		return cfg.SIP.TLSSRTP
	}
	if cfg.SIP.SRTP != "" {
		return cfg.SIP.SRTP
	}
	return "off"
}

// printBanner says what the server listens on, in a few readable lines.
func printBanner(w io.Writer, cfg *config.Config, srv *server.Server) {
	fmt.Fprintln(w, "mediaserver: ready")
	udp, tcp, tlsAddr := srv.SIPAddr("udp"), srv.SIPAddr("tcp"), srv.SIPAddr("tls")
	if udp.IsValid() {
		fmt.Fprintf(w, "  SIP UDP   %s\n", udp)
	}
	if tcp.IsValid() {
		fmt.Fprintf(w, "  SIP TCP   %s\n", tcp)
	}
	if tlsAddr.IsValid() {
		fmt.Fprintf(w, "  SIP TLS   %s (certificate %s; SRTP %s)\n", tlsAddr, srv.TLSCertFile(), tlsSRTP(cfg))
	}
	if a := srv.APIAddr(); a != "" {
		fmt.Fprintf(w, "  HTTP API  http://%s (control API; GET /metrics with the admin key)\n", a)
	}
	fmt.Fprintf(w, "  RTP       %s ports %d-%d\n", cfg.RTP.IP, cfg.RTP.PortMin, cfg.RTP.PortMax)
	fmt.Fprintf(w, "  data      %s\n", cfg.DataDir)
	admin, demo := srv.KeyFiles()
	if admin != "" {
		fmt.Fprintf(w, "  admin key %s (operator: tenants, /metrics)\n", admin)
	}
	if a := srv.APIAddr(); demo != "" && a != "" {
		// Where the keys are, never the keys: banners end up in logs.
		fmt.Fprintf(w, "  demo key  %s (Bearer), %s (AWS CLI and SDKs)\n", demo, srv.AWSCredentialsFile())
		fmt.Fprintf(w, "  try       curl -H \"Authorization: Bearer $(cat %s)\" http://%s/calls\n", demo, a)
		fmt.Fprintf(w, "            AWS_SHARED_CREDENTIALS_FILE=%s aws chime-sdk-voice list-sip-media-applications --endpoint-url http://%s --region us-east-1\n",
			srv.AWSCredentialsFile(), a)
	}
	sipHost := udp
	if !sipHost.IsValid() {
		sipHost = tcp
	}
	for _, t := range cfg.Tenants {
		for _, a := range t.Applications {
			handler := "plugin " + a.Plugin
			if a.Webhook != "" {
				handler = "webhook " + a.Webhook
			}
			if a.Model == "iotcomms" {
				handler = "iotcomms " + handler
			}
			for _, n := range a.Numbers {
				fmt.Fprintf(w, "  number    %s -> tenant %s, app %s, %s (call sip:%s@%s)\n", n, t.ID, a.ID, handler, n, sipHost)
			}
		}
	}
}
