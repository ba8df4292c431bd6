package engine

import (
	"context"
	"log/slog"
)

// loggerKey carries the call's logger to the Invoker, so what the plugin
// logs can be logged with the call's transaction id.
type loggerKey struct{}

func withLogger(ctx context.Context, l *slog.Logger) context.Context {
	return context.WithValue(ctx, loggerKey{}, l)
}

// CallLogger returns the logger of the call an Invoker runs for (its
// transaction id, tenant and caller), or fallback outside a call.
func CallLogger(ctx context.Context, fallback *slog.Logger) *slog.Logger {
	if l, ok := ctx.Value(loggerKey{}).(*slog.Logger); ok {
		return l
	}
	return fallback
}
