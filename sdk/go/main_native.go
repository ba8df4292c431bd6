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
	"strings"
)

// maxEventSize bounds a webhook request body.
const maxEventSize = 1 << 20

// maxKVValueSize bounds a value PUT through the -kv-api endpoint (the
// server's store takes at most 64 KiB by default).
const maxKVValueSize = 64 << 10

// Main serves the handler as a webhook (native builds): flag -listen
// (default 127.0.0.1:0); the first line on stdout is
// "listening on http://HOST:PORT/". A Chime handler (Handle) is served at
// POST /: the event JSON in, 200 with the response JSON out. An iotcomms
// handler (HandleIot) is served as iotcomms applications are: POST
// /<callback> (/newCall, /callEvent, …) with the callback's body, 200 with
// its answer; POST / also takes a body naming its callback in "callback",
// as the ABI gives it. Both answer 400 on a malformed body, 500 on a
// handler error. Log lines go to stderr; the key-value store lives in
// memory, and flag -kv-api serves it at /kv/<key> (GET, PUT, DELETE) so a
// test or a controller can share state with the handler.
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
	kvAPI := fs.Bool("kv-api", false, "serve the key-value store at /kv/<key> (GET, PUT, DELETE)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	host := NewHost()
	host.sink = stderr
	var h http.Handler = WebhookHandler(host)
	if *kvAPI {
		mux := http.NewServeMux()
		mux.Handle("/kv/", KVHandler(host))
		mux.Handle("/", h)
		h = mux
	}
	fmt.Fprintf(stdout, "listening on http://%s/\n", ln.Addr())
	return http.Serve(ln, h)
}

// WebhookHandler serves the registered handler over HTTP through host: a
// Chime handler at POST /, an iotcomms handler at POST /<callback> (and
// POST / with the callback named in the body).
func WebhookHandler(host *Host) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		callback, ok := "", r.URL.Path == "/"
		if !ok && guest.iotHandler != nil {
			callback, ok = iotRoute(r.URL.Path)
		}
		if !ok {
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
		var out []byte
		if callback != "" {
			out, err = host.InvokeCallback(callback, body)
		} else {
			out, err = host.Invoke(body)
		}
		var jerr *JSONError
		switch {
		case errors.As(err, &jerr), errors.Is(err, ErrCallback):
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

// iotRoute returns the callback a path names: /<callback>, the webhook
// base's own path being empty. Extra leading slashes are allowed: a
// server given the base with its trailing slash may post //newCall.
func iotRoute(path string) (string, bool) {
	name := strings.TrimLeft(path, "/")
	for _, cb := range iotCallbacks {
		if name == cb {
			return cb, true
		}
	}
	return "", false
}

// KVHandler serves host's key-value store at /kv/<key>: GET returns the
// value (404 if absent), PUT stores the body (204), DELETE removes it
// (204, or 404 if absent). The key is the rest of the path, unescaped.
func KVHandler(host *Host) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key, ok := strings.CutPrefix(r.URL.Path, "/kv/")
		if !ok || key == "" {
			http.NotFound(w, r)
			return
		}
		var put []byte
		if r.Method == http.MethodPut {
			v, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxKVValueSize))
			if err != nil {
				http.Error(w, err.Error(), http.StatusRequestEntityTooLarge)
				return
			}
			put = v
		}
		host.mu.Lock()
		defer host.mu.Unlock()
		switch r.Method {
		case http.MethodGet:
			v, ok := host.kv[key]
			if !ok {
				http.NotFound(w, r)
				return
			}
			w.Header().Set("Content-Type", "application/octet-stream")
			w.Write(v)
		case http.MethodPut:
			host.kv[key] = put
			w.WriteHeader(http.StatusNoContent)
		case http.MethodDelete:
			if _, ok := host.kv[key]; !ok {
				http.NotFound(w, r)
				return
			}
			delete(host.kv, key)
			w.WriteHeader(http.StatusNoContent)
		default:
			w.Header().Set("Allow", "GET, PUT, DELETE")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		}
	})
}
