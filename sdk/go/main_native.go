//go:build !wasip1

package mediaserver

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
)

// maxEventSize bounds a webhook request body.
const maxEventSize = 1 << 20

// Main serves the handler as a webhook (native builds): flag -listen
// (default 127.0.0.1:0); the first line on stdout is
// "listening on http://HOST:PORT/"; POST / takes the event JSON and answers
// 200 with the response JSON, 400 on a malformed event, 500 on a handler
// error. Log lines go to stderr; the key-value store lives in memory.
func Main() {
	if err := serveWebhook(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func serveWebhook(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("plugin", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:0", "address of the webhook")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	host := NewHost()
	host.sink = stderr
	fmt.Fprintf(stdout, "listening on http://%s/\n", ln.Addr())
	return http.Serve(ln, WebhookHandler(host))
}

// WebhookHandler serves the registered handler over HTTP through host.
func WebhookHandler(host *Host) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxEventSize))
		if err != nil {
			http.Error(w, err.Error(), http.StatusRequestEntityTooLarge)
			return
		}
		out, err := host.Invoke(body)
		var jerr *JSONError
		switch {
		case errors.As(err, &jerr):
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		case err != nil:
			host.log(LevelError, err.Error())
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(out)
	})
}
