package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/wasmvoice/mediaserver/abi"
	"github.com/wasmvoice/mediaserver/host/plugin"
)

// loggerKey carries the call's logger to the Invoker, so plugin log lines
// are logged with the call's transaction id.
type loggerKey struct{}

func withLogger(ctx context.Context, l *slog.Logger) context.Context {
	return context.WithValue(ctx, loggerKey{}, l)
}

func loggerFrom(ctx context.Context, fallback *slog.Logger) *slog.Logger {
	if l, ok := ctx.Value(loggerKey{}).(*slog.Logger); ok {
		return l
	}
	return fallback
}

// PluginInvoker adapts a host/plugin Handler (Wasm or webhook) to Invoker.
// The plugin's log lines go to the call's logger (fallback outside a call)
// with the plugin's level. A response the runtime refuses as invalid or too
// large becomes ErrInvalidResponse, so the plugin gets
// INVALID_LAMBDA_RESPONSE instead of a retry.
func PluginInvoker(h plugin.Handler, fallback *slog.Logger) Invoker {
	if fallback == nil {
		fallback = slog.New(slog.DiscardHandler)
	}
	return InvokerFunc(func(ctx context.Context, event []byte) ([]byte, error) {
		res, err := h.Invoke(ctx, event)
		if res != nil && len(res.Logs) > 0 {
			log := loggerFrom(ctx, fallback)
			for _, l := range res.Logs {
				log.Log(ctx, slogLevel(l.Level), l.Text, "source", "plugin", "stream", l.Stream)
			}
		}
		if err != nil {
			if errors.Is(err, plugin.ErrInvalidResponse) || errors.Is(err, plugin.ErrResponseTooLarge) {
				return nil, fmt.Errorf("%w: %w", ErrInvalidResponse, err)
			}
			return nil, err
		}
		return res.Response, nil
	})
}

func slogLevel(l int32) slog.Level {
	switch {
	case l <= abi.LogDebug:
		return slog.LevelDebug
	case l == abi.LogInfo:
		return slog.LevelInfo
	case l == abi.LogWarn:
		return slog.LevelWarn
	}
	return slog.LevelError
}
