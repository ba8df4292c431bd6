package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// S3Config locates one real bucket on an S3-compatible server (AWS S3,
// MinIO, versitygw, Ceph RGW, ...).
//
// Every tenant bucket of this package maps into that one real bucket under
// the object key "<Prefix><tenant>/<bucket>/<key>". One real bucket per
// server is the simplest thing to provision and to grant access to, and
// isolation holds by construction: tenant and bucket names are validated to
// contain no '/', and keys can hold no "." / ".." / empty segment, so no
// name combination reaches outside its own "<tenant>/<bucket>/" prefix.
type S3Config struct {
	// Endpoint is host[:port] without scheme, e.g. "s3.eu-west-1.amazonaws.com"
	// or "127.0.0.1:7070".
	Endpoint string
	// Secure selects https.
	Secure bool
	// Region of the bucket; empty lets the client discover it.
	Region    string
	AccessKey string
	SecretKey string
	// Bucket is the real S3 bucket holding every tenant's objects.
	Bucket string
	// Prefix is prepended to every object key, e.g. "mediaserver/", so the
	// real bucket can be shared with other data. Empty or ending in '/'.
	Prefix string
	// CreateBucket makes the bucket at start-up if it does not exist.
	CreateBucket bool
	// PathStyle forces path-style requests (http://host/bucket/key), which
	// most self-hosted servers need; false lets the client decide.
	PathStyle bool
	// Transport overrides the HTTP transport (tests, proxies); nil = default.
	Transport http.RoundTripper
}

// S3 is a Store on an S3-compatible server. It is safe for concurrent use.
type S3 struct {
	client *minio.Client
	bucket string
	prefix string
}

var _ Store = (*S3)(nil)

// smallObject is the size up to which Put buffers the body to send it in
// one PUT with a known length; larger bodies go up as multipart uploads.
const smallObject = 8 << 20

// partSize bounds the memory a multipart Put holds per upload; with S3's
// 10 000 parts it caps an object at 160 GiB, far above any recording.
const partSize = 16 << 20

// NewS3 connects to the server and checks (or creates) the bucket.
func NewS3(ctx context.Context, cfg S3Config) (*S3, error) {
	if cfg.Endpoint == "" || cfg.Bucket == "" {
		return nil, fmt.Errorf("store: s3: %w", ErrInvalidConfig)
	}
	if cfg.Prefix != "" && (!strings.HasSuffix(cfg.Prefix, "/") || ValidateKey(strings.TrimSuffix(cfg.Prefix, "/")) != nil) {
		return nil, fmt.Errorf("store: s3: prefix %q: %w", cfg.Prefix, ErrInvalidConfig)
	}
	lookup := minio.BucketLookupAuto
	if cfg.PathStyle {
		lookup = minio.BucketLookupPath
	}
	client, err := minio.New(cfg.Endpoint, &minio.Options{
		Creds:        credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure:       cfg.Secure,
		Region:       cfg.Region,
		BucketLookup: lookup,
		Transport:    cfg.Transport,
	})
	if err != nil {
		return nil, fmt.Errorf("store: s3: %w", err)
	}
	ok, err := client.BucketExists(ctx, cfg.Bucket)
	if err != nil {
		return nil, fmt.Errorf("store: s3: bucket %s: %w", cfg.Bucket, err)
	}
	if !ok {
		if !cfg.CreateBucket {
			return nil, fmt.Errorf("store: s3: bucket %s: %w", cfg.Bucket, ErrNoBucket)
		}
		if err := client.MakeBucket(ctx, cfg.Bucket, minio.MakeBucketOptions{Region: cfg.Region}); err != nil {
			// Nodes of a cluster starting together race to make it.
			if code := minio.ToErrorResponse(err).Code; code != "BucketAlreadyOwnedByYou" {
				return nil, fmt.Errorf("store: s3: make bucket %s: %w", cfg.Bucket, err)
			}
		}
	}
	return &S3{client: client, bucket: cfg.Bucket, prefix: cfg.Prefix}, nil
}

// bucketPrefix returns "<prefix><tenant>/<bucket>/" after validation.
func (s *S3) bucketPrefix(tenant, bucket string) (string, error) {
	if err := ValidateTenant(tenant); err != nil {
		return "", err
	}
	if err := ValidateBucket(bucket); err != nil {
		return "", err
	}
	return s.prefix + tenant + "/" + bucket + "/", nil
}

func (s *S3) objectName(tenant, bucket, key string) (string, error) {
	p, err := s.bucketPrefix(tenant, bucket)
	if err != nil {
		return "", err
	}
	if err := ValidateKey(key); err != nil {
		return "", err
	}
	return p + key, nil
}

// Open implements Store. The object is stat'ed first so a missing object is
// ErrNotFound here rather than on the first Read.
func (s *S3) Open(ctx context.Context, tenant, bucket, key string) (io.ReadCloser, Info, error) {
	name, err := s.objectName(tenant, bucket, key)
	if err != nil {
		return nil, Info{}, err
	}
	obj, err := s.client.GetObject(ctx, s.bucket, name, minio.GetObjectOptions{})
	if err != nil {
		return nil, Info{}, s3Error(err, bucket, key)
	}
	st, err := obj.Stat()
	if err != nil {
		obj.Close()
		return nil, Info{}, s3Error(err, bucket, key)
	}
	return obj, Info{Bucket: bucket, Key: key, Size: st.Size, ModTime: st.LastModified}, nil
}

// Put implements Store. S3 replaces an object atomically, so readers see
// the old or the new content, as with the folder store.
func (s *S3) Put(ctx context.Context, tenant, bucket, key string, r io.Reader) (Info, error) {
	name, err := s.objectName(tenant, bucket, key)
	if err != nil {
		return Info{}, err
	}
	// Small bodies (prompts, plugins) are buffered to send one PUT with a
	// known length; the client would otherwise start a multipart upload.
	var head bytes.Buffer
	n, err := io.CopyN(&head, r, smallObject+1)
	if err != nil && !errors.Is(err, io.EOF) {
		return Info{}, fmt.Errorf("store: put %s/%s: %w", bucket, key, err)
	}
	body, size := io.Reader(&head), n
	if n > smallObject {
		body, size = io.MultiReader(&head, r), -1
	}
	up, err := s.client.PutObject(ctx, s.bucket, name, body, size, minio.PutObjectOptions{
		PartSize:    partSize,
		ContentType: "application/octet-stream",
	})
	if err != nil {
		return Info{}, fmt.Errorf("store: put %s/%s: %w", bucket, key, err)
	}
	info := Info{Bucket: bucket, Key: key, Size: up.Size, ModTime: up.LastModified}
	if info.ModTime.IsZero() {
		// PUT responses carry no Last-Modified; ask once so Info is whole.
		return s.Stat(ctx, tenant, bucket, key)
	}
	return info, nil
}

// Stat implements Store.
func (s *S3) Stat(ctx context.Context, tenant, bucket, key string) (Info, error) {
	name, err := s.objectName(tenant, bucket, key)
	if err != nil {
		return Info{}, err
	}
	st, err := s.client.StatObject(ctx, s.bucket, name, minio.StatObjectOptions{})
	if err != nil {
		return Info{}, s3Error(err, bucket, key)
	}
	return Info{Bucket: bucket, Key: key, Size: st.Size, ModTime: st.LastModified}, nil
}

// Delete implements Store. S3 deletes are idempotent, so the object is
// stat'ed first to report ErrNotFound like the folder store does.
func (s *S3) Delete(ctx context.Context, tenant, bucket, key string) error {
	name, err := s.objectName(tenant, bucket, key)
	if err != nil {
		return err
	}
	if _, err := s.client.StatObject(ctx, s.bucket, name, minio.StatObjectOptions{}); err != nil {
		return s3Error(err, bucket, key)
	}
	if err := s.client.RemoveObject(ctx, s.bucket, name, minio.RemoveObjectOptions{}); err != nil {
		return s3Error(err, bucket, key)
	}
	return nil
}

// List implements Store.
func (s *S3) List(ctx context.Context, tenant, bucket, prefix string) ([]Info, error) {
	p, err := s.bucketPrefix(tenant, bucket)
	if err != nil {
		return nil, err
	}
	var out []Info
	for obj := range s.client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: p + prefix, Recursive: true}) {
		if obj.Err != nil {
			return nil, fmt.Errorf("store: list %s: %w", bucket, obj.Err)
		}
		key := strings.TrimPrefix(obj.Key, p)
		if ValidateKey(key) != nil {
			continue // written by something else (a directory marker, "a//b")
		}
		out = append(out, Info{Bucket: bucket, Key: key, Size: obj.Size, ModTime: obj.LastModified})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

// Usage implements Usager: one listing of the tenant's prefix.
func (s *S3) Usage(ctx context.Context, tenant string) (int64, error) {
	if err := ValidateTenant(tenant); err != nil {
		return 0, err
	}
	var total int64
	for obj := range s.client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: s.prefix + tenant + "/", Recursive: true}) {
		if obj.Err != nil {
			return 0, fmt.Errorf("store: usage %s: %w", tenant, obj.Err)
		}
		total += obj.Size
	}
	return total, nil
}

func s3Error(err error, bucket, key string) error {
	resp := minio.ToErrorResponse(err)
	if resp.StatusCode == http.StatusNotFound || resp.Code == "NoSuchKey" {
		return fmt.Errorf("%w: %s/%s", ErrNotFound, bucket, key)
	}
	return fmt.Errorf("store: %s/%s: %w", bucket, key, err)
}
