// Command mediactl is the command-line client of the media server. Today it
// runs and checks plugins locally; later subcommands (plugin upload/list,
// call, calls, tenants) will talk to a server's HTTP API.
package main

import (
	"context"
	"os"
	"os/signal"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
