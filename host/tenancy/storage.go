package tenancy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/wasmvoice/mediaserver/host/config"
	"github.com/wasmvoice/mediaserver/host/store"
)

// Blobs is where the tenants' objects live. Media code (the prompt
// cache, the recorders) works on local files, so:
//
//   - storage type "folder": the objects are the files of a local folder
//     (data/buckets) and media reads and writes them in place;
//   - storage type "s3": the folder is a local mirror (data/s3cache); a prompt
//     is downloaded into it before it plays (and checked again at most every
//     promptRecheck), a recording is written there and uploaded when it is
//     complete, then removed locally.
//
// Every write that goes through the API or an upload passes the tenant's
// storage quota (store.Metered).
type Blobs struct {
	remote  *store.Metered // every tenant object, quota-checked
	local   *store.Folder  // where media reads and writes
	mirror  bool           // local is a cache of remote (s3)
	pending sync.Map       // local recording path → blobRef, until uploaded
	limit   func(tenant string) int64
	log     *slog.Logger

	mu      sync.Mutex
	checked map[string]time.Time // local path → when it was last compared with remote
}

type blobRef struct{ tenant, bucket, key string }

// promptRecheck is how long a downloaded prompt is trusted before its
// remote copy is looked at again (a Stat per play would add an S3 round
// trip to every PlayAudio).
const promptRecheck = 5 * time.Second

// openStorage opens the blob store the configuration names as t.blobs.
func (t *Tenancy) openStorage(ctx context.Context) error {
	data := t.cfg.DataDir
	st := t.cfg.Storage
	b := &Blobs{checked: map[string]time.Time{}, limit: t.storageLimit, log: t.log}
	var remote store.UsageStore
	var err error
	switch st.Type {
	case "s3":
		secret := st.SecretKey
		if secret == "" && st.SecretKeyEnv != "" {
			secret = os.Getenv(st.SecretKeyEnv)
		}
		if secret == "" {
			return fmt.Errorf("storage: %w: no s3 secret key (secret_key or the variable named by secret_key_env)", ErrStorage)
		}
		remote, err = store.NewS3(ctx, store.S3Config{
			Endpoint: st.Endpoint, Secure: st.Secure, Region: st.Region,
			AccessKey: st.AccessKey, SecretKey: secret,
			Bucket: st.Bucket, Prefix: st.Prefix, CreateBucket: st.CreateBucket,
			PathStyle: true, // self-hosted servers need it; AWS accepts it
		})
		if err != nil {
			return fmt.Errorf("storage: %w", err)
		}
		if b.local, err = store.NewFolder(filepath.Join(data, "s3cache")); err != nil {
			return fmt.Errorf("storage: %w", err)
		}
		b.mirror = true
	default:
		if b.local, err = store.NewFolder(filepath.Join(data, "buckets")); err != nil {
			return fmt.Errorf("storage: %w", err)
		}
		remote = b.local
	}
	b.remote = store.NewMetered(remote, t.storageLimit)
	t.blobs = b
	t.log.Debug("blob storage opened", "storage", storageType(st))
	return nil
}

// storageLimit is a tenant's storage quota in bytes (0: unlimited).
func (t *Tenancy) storageLimit(tenant string) int64 {
	if t.reg != nil {
		if q, ok := t.reg.Quotas(tenant); ok && q.MaxStorageBytes > 0 {
			return q.MaxStorageBytes
		}
	}
	return t.defaultStorageBytes()
}

// Store returns the quota-checked store of every tenant object (the API's
// buckets).
func (b *Blobs) Store() store.Store { return b.remote }

// Path returns the local file of a bucket object.
func (b *Blobs) Path(tenant, bucket, key string) (string, error) {
	return b.local.Path(tenant, bucket, key)
}

// PromptFile returns the local file of a prompt, downloading it first when
// the objects live in S3.
func (b *Blobs) PromptFile(tenant, bucket, key string) (string, error) {
	path, err := b.local.Path(tenant, bucket, key)
	if err != nil || !b.mirror {
		return path, err
	}
	b.mu.Lock()
	last, ok := b.checked[path]
	b.mu.Unlock()
	if ok && time.Since(last) < promptRecheck {
		return path, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	info, err := b.remote.Stat(ctx, tenant, bucket, key)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return "", fmt.Errorf("%w: %w", os.ErrNotExist, err)
		}
		return "", err
	}
	if fi, err := os.Stat(path); err != nil || fi.Size() != info.Size || !fi.ModTime().Equal(info.ModTime) {
		if err := b.download(ctx, tenant, bucket, key, path, info.ModTime); err != nil {
			return "", err
		}
	}
	b.mu.Lock()
	b.checked[path] = time.Now()
	b.mu.Unlock()
	return path, nil
}

func (b *Blobs) download(ctx context.Context, tenant, bucket, key, path string, mod time.Time) error {
	rc, _, err := b.remote.Open(ctx, tenant, bucket, key)
	if err != nil {
		return err
	}
	defer rc.Close()
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := io.Copy(tmp, rc); err != nil {
		tmp.Close()
		return fmt.Errorf("download %s/%s: %w", bucket, key, err)
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	// The remote time on the local copy is what the next check compares.
	if err := os.Chtimes(tmp.Name(), mod, mod); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// RecordingFile returns the local file a recording of bucket/key is
// written to. A tenant already at its storage quota gets ErrQuotaExceeded
// (the action fails). RecordingDone must follow once the file is complete.
func (b *Blobs) RecordingFile(tenant, bucket, key string) (string, error) {
	path, err := b.local.Path(tenant, bucket, key)
	if err != nil {
		return "", err
	}
	if limit := b.limit(tenant); limit > 0 {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		used, err := b.remote.Usage(ctx, tenant)
		cancel()
		if err != nil {
			return "", err
		}
		if used >= limit {
			return "", fmt.Errorf("record %s/%s: %d of %d bytes used: %w", bucket, key, used, limit, store.ErrQuotaExceeded)
		}
	}
	b.pending.Store(path, blobRef{tenant, bucket, key})
	return path, nil
}

// RecordingDone finishes the recording at path (the local file): in S3
// mode it is uploaded and removed locally; in folder mode the tenant's
// usage is measured again (the recorder wrote past the meter). It runs at
// most once per recording; err is the recorder's own result, returned
// unless the upload fails.
func (b *Blobs) RecordingDone(path string, err error) error {
	v, ok := b.pending.LoadAndDelete(path)
	if !ok {
		return err
	}
	ref := v.(blobRef)
	if !b.mirror {
		b.remote.Forget(ref.tenant)
		return err
	}
	f, oerr := os.Open(path)
	if oerr != nil {
		return errors.Join(err, oerr)
	}
	defer b.removeLocal(path)
	defer f.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if _, perr := b.remote.Put(ctx, ref.tenant, ref.bucket, ref.key, f); perr != nil {
		b.log.Warn("recording upload failed", "tenant", ref.tenant, "bucket", ref.bucket, "key", ref.key, "err", perr)
		return errors.Join(err, fmt.Errorf("upload recording: %w", perr))
	}
	return err
}

// removeLocal removes an uploaded recording from the mirror, and the
// folders it leaves empty (a per-call prefix makes one per call).
func (b *Blobs) removeLocal(path string) {
	_ = os.Remove(path)
	root := filepath.Clean(b.local.Root())
	for dir := filepath.Dir(path); len(dir) > len(root) && strings.HasPrefix(dir, root); dir = filepath.Dir(dir) {
		if os.Remove(dir) != nil {
			return // not empty
		}
	}
}

// storageType names the configured storage for logs.
func storageType(c config.Storage) string {
	if c.Type == "s3" {
		return "s3://" + c.Endpoint + "/" + c.Bucket + "/" + c.Prefix
	}
	return "folder"
}

// seedPrompts copies dir/<bucket>/<key...> into the tenant's bucket store,
// keeping objects that already exist there (a tenant may have replaced
// them). Files directly in dir have no bucket and are skipped.
func (t *Tenancy) seedPrompts(ctx context.Context, tenant, dir string) error {
	var skipped []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			// A symlink to a file is that file (one prompt shared by two
			// examples); directories behind symlinks are not followed.
			if d.Type()&fs.ModeSymlink == 0 {
				return nil
			}
			if fi, err := os.Stat(p); err != nil || !fi.Mode().IsRegular() {
				return nil
			}
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		bucket, key, ok := strings.Cut(filepath.ToSlash(rel), "/")
		if !ok {
			skipped = append(skipped, rel)
			return nil
		}
		if _, err := t.blobs.remote.Stat(ctx, tenant, bucket, key); err == nil {
			return nil
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		if _, err := t.blobs.remote.Put(ctx, tenant, bucket, key, f); err != nil {
			return err
		}
		t.log.Debug("prompt seeded", "tenant", tenant, "bucket", bucket, "key", key)
		return nil
	})
	if len(skipped) > 0 {
		t.log.Warn("prompt files outside a bucket folder were skipped (want <prompts>/<bucket>/<key>)",
			"tenant", tenant, "dir", dir, "files", skipped)
	}
	if err != nil {
		return fmt.Errorf("seed prompts from %s: %w", dir, err)
	}
	return nil
}
