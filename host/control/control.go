// Package control is the media server's control plane: the api.Calls
// implementation over the call engine and the tenants' applications
// (calls.go), and the host/api handler mounted over the registry, the
// calls, the plugins and the tenants' buckets (Handler).
package control

import (
	"log/slog"
	"net/http"
	"os"
	"path/filepath"

	"github.com/wasmvoice/mediaserver/host/api"
	"github.com/wasmvoice/mediaserver/host/store"
	"github.com/wasmvoice/mediaserver/host/tenant"
)

// Config is what the control API is made of.
type Config struct {
	Registry tenant.Registrar
	Calls    api.Calls
	Plugins  api.Plugins
	// Store holds the tenants' buckets, quota-checked.
	Store store.Store
	// KV is the tenants' key-value store, served under /kv.
	KV api.KV
	// DataDir holds the uploads folder (DataDir/uploads).
	DataDir        string
	MaxModuleBytes int64
	// URLCheck refuses URLs the egress policy does not allow (webhooks).
	URLCheck func(string) error
	Region   string
	Regions  []string // SigV4 regions accepted besides Region
	Logger   *slog.Logger
}

// Handler returns host/api's handler over cfg. Uploads arrive in
// DataDir/uploads; what a crash left there is dropped first.
func Handler(cfg Config) http.Handler {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	uploads := filepath.Join(cfg.DataDir, "uploads")
	if err := os.RemoveAll(uploads); err != nil {
		log.Warn("cleaning the upload directory", "dir", uploads, "err", err)
	}
	return api.New(cfg.Registry, cfg.Calls, cfg.Plugins,
		api.WithLogger(log.With("component", "api")),
		api.WithStore(cfg.Store),
		api.WithKV(cfg.KV),
		api.WithMaxModuleBytes(cfg.MaxModuleBytes),
		api.WithURLCheck(cfg.URLCheck),
		api.WithRegion(cfg.Region),
		api.WithSigV4Regions(cfg.Regions...),
		api.WithUploadDir(uploads),
	)
}
