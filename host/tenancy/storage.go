package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/wasmvoice/mediaserver/host/config"
	"github.com/wasmvoice/mediaserver/host/store"
)

// blobStore is where the tenants' objects live. Media code (the prompt
// cache, the recorders) works on local files, so:
//
//   - storage type "folder": the objects are the files of s.store
//     (data/buckets) and media reads and writes them in place;
//   - storage type "s3": s.store is a local mirror (data/s3cache); a prompt
//     is downloaded into it before it plays (and checked again at most every
//     promptRecheck), a recording is written there and uploaded when it is
//     complete, then removed locally.
//
// Every write that goes through the API or an upload passes the tenant's
// storage quota (store.Metered).
type blobStore struct {
	remote  *store.Metered // every tenant object, quota-checked
	local   *store.Folder  // == s.store
	mirror  bool           // local is a cache of remote (s3)
	pending sync.Map       // local recording path → blobRef, until uploaded

	mu      sync.Mutex
	checked map[string]time.Time // local path → when it was last compared with remote
}

type blobRef struct{ tenant, bucket, key string }

// promptRecheck is how long a downloaded prompt is trusted before its
// remote copy is looked at again (a Stat per play would add an S3 round
// trip to every PlayAudio).
const promptRecheck = 5 * time.Second

// openStorage opens the blob store the configuration names and sets
// s.store (the local folder media code uses) and s.ten.blobs.
func (s *Server) openStorage(ctx context.Context) error {
	data := s.cfg.DataDir
	st := s.cfg.Storage
	b := &blobStore{checked: map[string]time.Time{}}
	var remote store.UsageStore
	var err error
	switch st.Type {
	case "s3":
		secret := st.SecretKey
		if secret == "" && st.SecretKeyEnv != "" {
			secret = os.Getenv(st.SecretKeyEnv)
		}
		if secret == "" {
			return fmt.Errorf("server: storage: %w: no s3 secret key (secret_key or the variable named by secret_key_env)", ErrStorage)
		}
		remote, err = store.NewS3(ctx, store.S3Config{
			Endpoint: st.Endpoint, Secure: st.Secure, Region: st.Region,
			AccessKey: st.AccessKey, SecretKey: secret,
			Bucket: st.Bucket, Prefix: st.Prefix, CreateBucket: st.CreateBucket,
			PathStyle: true, // self-hosted servers need it; AWS accepts it
		})
		if err != nil {
			return fmt.Errorf("server: storage: %w", err)
		}
		if b.local, err = store.NewFolder(filepath.Join(data, "s3cache")); err != nil {
			return fmt.Errorf("server: storage: %w", err)
		}
		b.mirror = true
	default:
		if b.local, err = store.NewFolder(filepath.Join(data, "buckets")); err != nil {
			return fmt.Errorf("server: storage: %w", err)
		}
		remote = b.local
	}
	b.remote = store.NewMetered(remote, s.storageLimit)
	s.store = b.local
	s.ten.blobs = b
	s.log.Debug("blob storage opened", "storage", storageType(st))
	return nil
}

// storageLimit is a tenant's storage quota in bytes (0: unlimited).
func (s *Server) storageLimit(tenant string) int64 {
	if s.ten.reg != nil {
		if q, ok := s.ten.reg.Quotas(tenant); ok && q.MaxStorageBytes > 0 {
			return q.MaxStorageBytes
		}
	}
	return s.defaultStorageBytes()
}

// promptFile returns the local file of a prompt, downloading it first when
// the objects live in S3.
func (s *Server) promptFile(tenant, bucket, key string) (string, error) {
	b := s.ten.blobs
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

func (b *blobStore) download(ctx context.Context, tenant, bucket, key, path string, mod time.Time) error {
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

// recordingFile returns the local file a recording of bucket/key is
// written to. A tenant already at its storage quota gets ErrQuotaExceeded
// (the action fails). recordingDone must follow once the file is complete.
func (s *Server) recordingFile(tenant, bucket, key string) (string, error) {
	b := s.ten.blobs
	path, err := b.local.Path(tenant, bucket, key)
	if err != nil {
		return "", err
	}
	if limit := s.storageLimit(tenant); limit > 0 {
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

// recordingDone finishes the recording at path (the local file): in S3
// mode it is uploaded and removed locally; in folder mode the tenant's
// usage is measured again (the recorder wrote past the meter). It runs at
// most once per recording; err is the recorder's own result, returned
// unless the upload fails.
func (s *Server) recordingDone(path string, err error) error {
	b := s.ten.blobs
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
		s.log.Warn("recording upload failed", "tenant", ref.tenant, "bucket", ref.bucket, "key", ref.key, "err", perr)
		return errors.Join(err, fmt.Errorf("upload recording: %w", perr))
	}
	return err
}

// removeLocal removes an uploaded recording from the mirror, and the
// folders it leaves empty (a per-call prefix makes one per call).
func (b *blobStore) removeLocal(path string) {
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
