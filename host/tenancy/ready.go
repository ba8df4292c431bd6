package tenancy

import (
	"context"
	"errors"
	"fmt"

	"github.com/wasmvoice/mediaserver/host/store"
)

// readyProbe is the object /readyz looks for: its absence (not found) is
// the answer that shows the storage reachable.
const (
	readyTenant = "readyz"
	readyBucket = "readyz"
	readyKey    = "probe"
)

// Ready reports why the tenancy cannot take calls, or nil: a current
// plugin version still loading, or the storage not answering. A version
// whose load failed does not make the server unready (its numbers answer
// 503, the other tenants' calls go on); it is named in the log.
func (t *Tenancy) Ready(ctx context.Context) error {
	var errs []error
	t.mu.Lock()
	for k := range t.current {
		v, ok := t.versions[k]
		if !ok {
			continue // failed and dropped: retried in the background
		}
		select {
		case <-v.ready:
		default:
			errs = append(errs, fmt.Errorf("plugin %s of tenant %s loading", short(k.sha), k.tenant))
		}
	}
	t.mu.Unlock()
	if b := t.Storage(); b == nil {
		errs = append(errs, errors.New("storage not open"))
	} else if _, err := b.Store().Stat(ctx, readyTenant, readyBucket, readyKey); err != nil && !errors.Is(err, store.ErrNotFound) {
		errs = append(errs, fmt.Errorf("storage: %w", err))
	}
	return errors.Join(errs...)
}

func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}
