// Command mediactl is the command-line client of the media server. It runs
// and checks plugins locally ("plugin run", "plugin check"), and drives a
// server through its HTTP control API (host/api/client): calls, plugin
// versions, applications, phone numbers, API keys and bucket objects.
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
