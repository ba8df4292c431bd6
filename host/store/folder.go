package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Folder is a Store on the local file system: root/tenant/bucket/key.
type Folder struct {
	root string
}

var _ Store = (*Folder)(nil)

// NewFolder returns a store rooted at dir, creating it if needed.
func NewFolder(dir string) (*Folder, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	return &Folder{root: abs}, nil
}

// Root returns the folder the store lives in.
func (f *Folder) Root() string { return f.root }

// Path returns the file that holds the object, after validating every
// name. The file need not exist. Media code uses it to read prompts and
// write recordings in place.
func (f *Folder) Path(tenant, bucket, key string) (string, error) {
	if err := ValidateTenant(tenant); err != nil {
		return "", err
	}
	if err := ValidateBucket(bucket); err != nil {
		return "", err
	}
	if err := ValidateKey(key); err != nil {
		return "", err
	}
	p := filepath.Join(f.root, tenant, bucket, filepath.FromSlash(key))
	// Defence in depth: the validated key cannot climb, but check anyway.
	if !strings.HasPrefix(p, filepath.Join(f.root, tenant, bucket)+string(filepath.Separator)) {
		return "", fmt.Errorf("%w: key %q escapes its bucket", ErrInvalidName, key)
	}
	return p, nil
}

func (f *Folder) bucketDir(tenant, bucket string) (string, error) {
	if err := ValidateTenant(tenant); err != nil {
		return "", err
	}
	if err := ValidateBucket(bucket); err != nil {
		return "", err
	}
	return filepath.Join(f.root, tenant, bucket), nil
}

// Open implements Store.
func (f *Folder) Open(_ context.Context, tenant, bucket, key string) (io.ReadCloser, Info, error) {
	p, err := f.Path(tenant, bucket, key)
	if err != nil {
		return nil, Info{}, err
	}
	fh, err := os.Open(p)
	if err != nil {
		return nil, Info{}, notFound(err, bucket, key)
	}
	st, err := fh.Stat()
	if err != nil || !st.Mode().IsRegular() {
		fh.Close()
		return nil, Info{}, fmt.Errorf("%w: %s/%s", ErrNotFound, bucket, key)
	}
	return fh, Info{Bucket: bucket, Key: key, Size: st.Size(), ModTime: st.ModTime()}, nil
}

// Put implements Store: it writes a temporary file, syncs it and renames it
// over the object, so a reader sees the old or the new content, never half.
func (f *Folder) Put(_ context.Context, tenant, bucket, key string, r io.Reader) (Info, error) {
	p, err := f.Path(tenant, bucket, key)
	if err != nil {
		return Info{}, err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
		return Info{}, fmt.Errorf("store: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(p), ".tmp-*")
	if err != nil {
		return Info{}, fmt.Errorf("store: %w", err)
	}
	n, err := io.Copy(tmp, r)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), p)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return Info{}, fmt.Errorf("store: put %s/%s: %w", bucket, key, err)
	}
	st, err := os.Stat(p)
	if err != nil {
		return Info{}, fmt.Errorf("store: %w", err)
	}
	return Info{Bucket: bucket, Key: key, Size: n, ModTime: st.ModTime()}, nil
}

// Stat implements Store.
func (f *Folder) Stat(_ context.Context, tenant, bucket, key string) (Info, error) {
	p, err := f.Path(tenant, bucket, key)
	if err != nil {
		return Info{}, err
	}
	st, err := os.Stat(p)
	if err != nil {
		return Info{}, notFound(err, bucket, key)
	}
	if !st.Mode().IsRegular() {
		return Info{}, fmt.Errorf("%w: %s/%s", ErrNotFound, bucket, key)
	}
	return Info{Bucket: bucket, Key: key, Size: st.Size(), ModTime: st.ModTime()}, nil
}

// Delete implements Store.
func (f *Folder) Delete(_ context.Context, tenant, bucket, key string) error {
	p, err := f.Path(tenant, bucket, key)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil {
		return notFound(err, bucket, key)
	}
	return nil
}

// List implements Store.
func (f *Folder) List(_ context.Context, tenant, bucket, prefix string) ([]Info, error) {
	dir, err := f.bucketDir(tenant, bucket)
	if err != nil {
		return nil, err
	}
	var out []Info
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if d.IsDir() || strings.HasPrefix(d.Name(), ".tmp-") {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		key := filepath.ToSlash(rel)
		if !strings.HasPrefix(key, prefix) {
			return nil
		}
		st, err := d.Info()
		if err != nil {
			return err
		}
		out = append(out, Info{Bucket: bucket, Key: key, Size: st.Size(), ModTime: st.ModTime()})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: list %s: %w", bucket, err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

func notFound(err error, bucket, key string) error {
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%w: %s/%s", ErrNotFound, bucket, key)
	}
	return fmt.Errorf("store: %s/%s: %w", bucket, key, err)
}
