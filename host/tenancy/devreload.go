package tenancy

import (
	"context"
	"os"
	"time"
)

// watchedFile is one plugin file dev mode follows.
type watchedFile struct {
	tenant, app, path string
	mod               time.Time
	size              int64
}

// devFiles lists the configured plugin files with their state now. It
// runs before Start returns, so a change made right after is seen.
func (t *Tenancy) devFiles() []*watchedFile {
	var files []*watchedFile
	for _, ct := range t.cfg.Tenants {
		for _, a := range ct.Applications {
			if a.Plugin == "" {
				continue
			}
			w := &watchedFile{tenant: ct.ID, app: a.ID, path: a.Plugin}
			if fi, err := os.Stat(a.Plugin); err == nil {
				w.mod, w.size = fi.ModTime(), fi.Size()
			}
			files = append(files, w)
		}
	}
	return files
}

// devReload polls the plugin files and, when one's modification time or
// size changes, checks, uploads and assigns it (dev mode: rebuild the
// plugin, call again). Polling needs no new dependency and a stat every
// 500 ms per file costs nothing.
func (t *Tenancy) devReload(ctx context.Context, every time.Duration, files []*watchedFile) {
	if len(files) == 0 {
		return
	}
	t.log.Info("dev mode: watching plugin files", "files", len(files), "every", every)
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		for _, w := range files {
			fi, err := os.Stat(w.path)
			if err != nil || (fi.ModTime().Equal(w.mod) && fi.Size() == w.size) {
				continue
			}
			w.mod, w.size = fi.ModTime(), fi.Size()
			sha, err := t.reloadPlugin(ctx, w.tenant, w.app, w.path)
			if err != nil {
				t.log.Warn("dev mode: plugin not reloaded", "tenant", w.tenant, "app", w.app, "file", w.path, "err", err)
				continue
			}
			t.log.Info("dev mode: plugin reloaded; new calls use it", "tenant", w.tenant, "app", w.app, "file", w.path, "plugin", sha)
		}
	}
}

// reloadPlugin checks, stores and assigns the module in file as the
// current version of the tenant's application.
func (t *Tenancy) reloadPlugin(ctx context.Context, tenantID, app, file string) (string, error) {
	wasm, err := os.ReadFile(file)
	if err != nil {
		return "", err
	}
	if _, err := (pluginsAPI{t}).Check(ctx, tenantID, wasm); err != nil {
		return "", err
	}
	v, err := t.reg.PutPlugin(ctx, tenantID, wasm)
	if err != nil {
		return "", err
	}
	if err := t.reg.AssignPlugin(tenantID, app, v.SHA256); err != nil {
		return "", err
	}
	return v.SHA256, nil
}
