package tenant

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"strings"

	bolt "go.etcd.io/bbolt"
)

// API key secrets look like
//
//	msk_<key id: 16 hex digits>_<32 random bytes, base64url without padding>
//
// The key id is public (it names the key in listings and logs and lets
// Authenticate find the record without scanning); it is also the AWS
// access key id of signed requests, whose secret access key is the whole
// secret. SHA-256(secret) is stored for Bearer checks, and the secret
// itself only sealed under the master key (seal.go), for signatures. A slow password KDF (bcrypt,
// argon2) exists to make guessing low-entropy human passwords expensive;
// 256 random bits cannot be guessed however fast the hash, so a plain
// SHA-256 is as safe here and keeps Authenticate cheap on every request.
const (
	secretPrefix = "msk_"
	keyIDBytes   = 8
	secretBytes  = 32
	keyIDLen     = 2 * keyIDBytes
	secretLen    = len(secretPrefix) + keyIDLen + 1 + 43 // 43 = base64url of 32 bytes
)

// CreateKey makes an API key for a tenant and returns its secret, which is
// shown this once and cannot be recovered.
func (r *Registry) CreateKey(tenant, name string) (secret string, k Key, err error) {
	if err := validName(name); err != nil {
		return "", Key{}, err
	}
	return r.createKey(tenant, name, false)
}

// CreateAdminKey makes an operator key (Tenant "", Admin true) that may
// manage tenants.
func (r *Registry) CreateAdminKey(name string) (secret string, k Key, err error) {
	if err := validName(name); err != nil {
		return "", Key{}, err
	}
	return r.createKey("", name, true)
}

func (r *Registry) createKey(tenant, name string, admin bool) (string, Key, error) {
	var idRaw [keyIDBytes]byte
	var secRaw [secretBytes]byte
	if _, err := io.ReadFull(r.rand, idRaw[:]); err != nil {
		return "", Key{}, fmt.Errorf("tenant: create key: %w", err)
	}
	if _, err := io.ReadFull(r.rand, secRaw[:]); err != nil {
		return "", Key{}, fmt.Errorf("tenant: create key: %w", err)
	}
	id := hex.EncodeToString(idRaw[:])
	secret := secretPrefix + id + "_" + base64.RawURLEncoding.EncodeToString(secRaw[:])
	sum := sha256.Sum256([]byte(secret))
	rec := keyRecord{
		Key:  Key{ID: id, Tenant: tenant, Name: name, Admin: admin, Created: r.now().UTC()},
		Hash: sum[:],
	}
	if r.seal != nil {
		rec.Sealed = r.seal.seal(id, []byte(secret))
	}
	err := r.update(func(tx *bolt.Tx, _ func()) error {
		if !admin {
			if _, err := tenantIn(tx, tenant); err != nil {
				return err
			}
		}
		if tx.Bucket(bucketKeys).Get([]byte(id)) != nil {
			// 64 random bits colliding means a broken random source.
			return fmt.Errorf("key id %s: %w", id, ErrExists)
		}
		return put(tx, bucketKeys, []byte(id), rec)
	})
	if err != nil {
		return "", Key{}, fmt.Errorf("tenant: create key: %w", err)
	}
	return secret, rec.Key, nil
}

// parseSecret returns the key id of a well-formed secret.
func parseSecret(secret string) (string, bool) {
	if len(secret) != secretLen || !strings.HasPrefix(secret, secretPrefix) {
		return "", false
	}
	id := secret[len(secretPrefix) : len(secretPrefix)+keyIDLen]
	if secret[len(secretPrefix)+keyIDLen] != '_' || !validKeyID(id) {
		return "", false
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(secret[len(secretPrefix)+keyIDLen+1:])
	if err != nil || len(raw) != secretBytes {
		return "", false
	}
	return id, true
}

// Authenticate checks an API key secret and returns the tenant it acts for
// ("" for an admin key) and the key. Every failure is ErrUnauthorized. The
// hash comparison is constant-time, and an unknown key id is compared
// against a dummy hash, so timing reveals neither the secret nor whether
// the key id exists.
func (r *Registry) Authenticate(secret string) (tenantID string, k Key, err error) {
	id, ok := parseSecret(secret)
	if !ok {
		return "", Key{}, ErrUnauthorized
	}
	sum := sha256.Sum256([]byte(secret))
	var rec keyRecord
	var found bool
	err = r.view(func(tx *bolt.Tx) error {
		var err error
		rec, found, err = get[keyRecord](tx, bucketKeys, []byte(id))
		return err
	})
	if err != nil {
		return "", Key{}, fmt.Errorf("tenant: authenticate: %w", err)
	}
	want := rec.Hash
	if !found || len(want) != sha256.Size {
		want = make([]byte, sha256.Size)
	}
	if subtle.ConstantTimeCompare(sum[:], want) != 1 || !found {
		return "", Key{}, ErrUnauthorized
	}
	return rec.Tenant, r.touch(rec.Key), nil
}

// touch records that a key was used, at most once per lastUsedEvery.
func (r *Registry) touch(k Key) Key {
	now := r.now().UTC()
	if now.Sub(k.LastUsed) < r.lastUsedEvery {
		return k
	}
	// Not a routing change: no generation bump, no new snapshot.
	_ = r.db.Update(func(tx *bolt.Tx) error {
		cur, ok, err := get[keyRecord](tx, bucketKeys, []byte(k.ID))
		if err != nil || !ok {
			return err
		}
		cur.LastUsed = now
		return put(tx, bucketKeys, []byte(k.ID), cur)
	})
	k.LastUsed = now
	return k
}

// AuthenticateSigned checks a signed request (AWS Signature Version 4) of
// the key whose id is keyID: verify gets the key's secret and reports
// whether the request's signature was made with it. The secret is wiped
// when verify returns; verify must not keep it.
//
// Errors: ErrUnknownKey (no such key), ErrNoSigningSecret (a key made
// without a master key: Bearer only), ErrMasterKey (the secret does not
// open: wrong or missing master key), ErrUnauthorized (verify said no).
// The key id travels in clear in every signed request, so telling an
// unknown id from a wrong signature discloses nothing secret.
func (r *Registry) AuthenticateSigned(keyID string, verify func(secret []byte) bool) (tenantID string, k Key, err error) {
	if !validKeyID(keyID) {
		return "", Key{}, ErrUnknownKey
	}
	var rec keyRecord
	var found bool
	err = r.view(func(tx *bolt.Tx) error {
		var err error
		rec, found, err = get[keyRecord](tx, bucketKeys, []byte(keyID))
		return err
	})
	switch {
	case err != nil:
		return "", Key{}, fmt.Errorf("tenant: authenticate: %w", err)
	case !found:
		return "", Key{}, ErrUnknownKey
	case len(rec.Sealed) == 0:
		return "", Key{}, fmt.Errorf("key %s: %w", keyID, ErrNoSigningSecret)
	}
	secret, err := r.seal.open(keyID, rec.Sealed)
	if err != nil {
		return "", Key{}, fmt.Errorf("tenant: authenticate: %w", err)
	}
	ok := verify(secret)
	clear(secret)
	if !ok {
		return "", Key{}, ErrUnauthorized
	}
	return rec.Tenant, r.touch(rec.Key), nil
}

func validKeyID(id string) bool {
	if len(id) != keyIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// RevokeKey deletes a key of tenant (tenant "" for admin keys). Another
// tenant's key is ErrNotFound.
func (r *Registry) RevokeKey(tenant, keyID string) error {
	err := r.update(func(tx *bolt.Tx, _ func()) error {
		rec, ok, err := get[keyRecord](tx, bucketKeys, []byte(keyID))
		if err != nil {
			return err
		}
		if !ok || rec.Tenant != tenant {
			return fmt.Errorf("key %q: %w", keyID, ErrNotFound)
		}
		return tx.Bucket(bucketKeys).Delete([]byte(keyID))
	})
	if err != nil {
		return fmt.Errorf("tenant: revoke key: %w", err)
	}
	return nil
}

// ListKeys returns the keys of tenant (tenant "" for admin keys), without
// secrets or hashes, in key id order.
func (r *Registry) ListKeys(tenant string) ([]Key, error) {
	var out []Key
	err := r.view(func(tx *bolt.Tx) error {
		return scan(tx, bucketKeys, nil, func(_ []byte, rec keyRecord) error {
			if rec.Tenant == tenant {
				out = append(out, rec.Key)
			}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("tenant: list keys: %w", err)
	}
	return out, nil
}
