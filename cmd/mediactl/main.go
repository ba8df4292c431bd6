// Command mediactl is the command-line client of the media server. It runs
// and checks plugins locally ("plugin run", "plugin check"), and drives a
// server through its HTTP control API (host/api/client): calls, plugin
// versions, applications, phone numbers, API keys, bucket objects, the
// iotcomms operations and prompt files, the tenants' key-value store, and
// (with an admin key) tenants and their dial policies.
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
