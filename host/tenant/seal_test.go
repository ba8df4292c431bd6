package tenant

import (
	"bytes"
	"errors"
	"testing"

	bolt "go.etcd.io/bbolt"
)

func TestAuthenticateSigned(t *testing.T) {
	master := bytes.Repeat([]byte{7}, MasterKeySize)
	e := newEnv(t)
	e.opts = []Option{WithMasterKey(master)}
	check(t, e.reg.Close())
	e.open(t)
	must[Tenant](t)(e.reg.CreateTenant("acme", "", Quotas{}))
	secret, k := func() (string, Key) {
		s, k, err := e.reg.CreateKey("acme", "signing")
		check(t, err)
		return s, k
	}()
	is := func(want string) func([]byte) bool {
		return func(got []byte) bool { return string(got) == want }
	}

	tid, got, err := e.reg.AuthenticateSigned(k.ID, is(secret))
	if err != nil || tid != "acme" || got.ID != k.ID {
		t.Fatalf("AuthenticateSigned = %q, %+v, %v", tid, got, err)
	}
	var raw []byte
	check(t, e.reg.(*Registry).db.View(func(tx *bolt.Tx) error {
		raw = append(raw, tx.Bucket(bucketKeys).Get([]byte(k.ID))...)
		return nil
	}))
	if bytes.Contains(raw, []byte(secret)) || bytes.Contains(raw, []byte(secret[len(secret)-20:])) {
		t.Fatalf("the stored record holds the secret in plain text: %s", raw)
	}

	tests := []struct {
		name    string
		keyID   string
		verify  func([]byte) bool
		wantErr error
	}{
		{"wrong secret", k.ID, is(secret + "x"), ErrUnauthorized},
		{"unknown key", "00000000000000ff", is(secret), ErrUnknownKey},
		{"malformed key id", "AKIDEXAMPLE", is(secret), ErrUnknownKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := e.reg.AuthenticateSigned(tt.keyID, tt.verify); !errors.Is(err, tt.wantErr) {
				t.Fatalf("got %v, want %v", err, tt.wantErr)
			}
		})
	}

	t.Run("sealed secret moved to another key", func(t *testing.T) {
		_, k2, err := e.reg.CreateKey("acme", "other")
		check(t, err)
		check(t, e.reg.(*Registry).db.Update(func(tx *bolt.Tx) error {
			a, _, _ := get[keyRecord](tx, bucketKeys, []byte(k.ID))
			b, _, _ := get[keyRecord](tx, bucketKeys, []byte(k2.ID))
			b.Sealed = a.Sealed
			return put(tx, bucketKeys, []byte(k2.ID), b)
		}))
		if _, _, err := e.reg.AuthenticateSigned(k2.ID, is(secret)); !errors.Is(err, ErrMasterKey) {
			t.Fatalf("got %v, want ErrMasterKey", err)
		}
	})
	t.Run("wrong master key", func(t *testing.T) {
		check(t, e.reg.Close())
		e.opts = []Option{WithMasterKey(bytes.Repeat([]byte{8}, MasterKeySize))}
		e.open(t)
		if _, _, err := e.reg.AuthenticateSigned(k.ID, is(secret)); !errors.Is(err, ErrMasterKey) {
			t.Fatalf("got %v, want ErrMasterKey", err)
		}
		if tid, _, err := e.reg.Authenticate(secret); err != nil || tid != "acme" {
			t.Fatalf("Bearer check with another master key: %q, %v", tid, err)
		}
	})
	t.Run("key made without a master key", func(t *testing.T) {
		check(t, e.reg.Close())
		e.opts = nil
		e.open(t)
		s, k3, err := e.reg.CreateKey("acme", "bearer only")
		check(t, err)
		if _, _, err := e.reg.AuthenticateSigned(k3.ID, is(s)); !errors.Is(err, ErrNoSigningSecret) {
			t.Fatalf("got %v, want ErrNoSigningSecret", err)
		}
		if _, _, err := e.reg.AuthenticateSigned(k.ID, is(secret)); !errors.Is(err, ErrMasterKey) {
			t.Fatalf("sealed key without a master key: %v, want ErrMasterKey", err)
		}
	})
	t.Run("master key of the wrong size", func(t *testing.T) {
		if _, err := Open(e.dir+"/other.db", e.blobs, WithMasterKey(master[:16])); !errors.Is(err, ErrInvalid) {
			t.Fatalf("Open = %v, want ErrInvalid", err)
		}
	})
}
