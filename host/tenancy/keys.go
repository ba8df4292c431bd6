package tenancy

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/wasmvoice/mediaserver/host/tenant"
)

// Key files in the data directory. Each holds one API key secret (0600):
// the operator's admin key, and a key of the demo tenant when there is
// one, so `curl -H "Authorization: Bearer $(cat data/demo-api-key)"` works
// out of the box.
const (
	AdminKeyFile = "admin-api-key"
	DemoKeyFile  = "demo-api-key"
	// DemoAWSCredentialsFile holds the demo key in the AWS shared
	// credentials format (its id is the access key id, its secret the
	// secret access key), for AWS_SHARED_CREDENTIALS_FILE.
	DemoAWSCredentialsFile = "demo-aws-credentials"
	// MasterKeyFile holds the master key that seals API key secrets at
	// rest (base64, 0600), unless MasterKeyEnv gives it.
	MasterKeyFile = "master-key"
	// MasterKeyEnv is the environment variable that may give the master
	// key (base64 of 32 bytes) instead of MasterKeyFile.
	MasterKeyEnv = "MEDIASERVER_MASTER_KEY"
	// DemoTenant is the tenant of the built-in demo.
	DemoTenant = "demo"
)

// ensureKeys makes sure the admin key file (and, with a demo tenant, the
// demo key file) hold a live key, creating a key when the file is missing
// or its key no longer authenticates (revoked, or another registry).
func (t *Tenancy) ensureKeys() error {
	reg := t.reg
	admin := filepath.Join(t.cfg.DataDir, AdminKeyFile)
	if err := ensureKey(admin, func(sec string) bool {
		_, k, err := reg.Authenticate(sec)
		return err == nil && k.Admin
	}, func() (string, tenant.Key, error) { return reg.CreateAdminKey("operator (" + AdminKeyFile + ")") }); err != nil {
		return fmt.Errorf("admin key: %w", err)
	}
	t.adminKeyFile = admin
	if _, err := reg.GetTenant(DemoTenant); err != nil {
		if errors.Is(err, tenant.ErrNotFound) {
			return nil
		}
		return fmt.Errorf("demo key: %w", err)
	}
	demo := filepath.Join(t.cfg.DataDir, DemoKeyFile)
	// The demo key must also sign requests: a key made before this server
	// sealed secrets (or under another master key) is replaced.
	if err := ensureKey(demo, func(sec string) bool {
		tid, k, err := reg.Authenticate(sec)
		if err != nil || tid != DemoTenant {
			return false
		}
		_, _, err = reg.AuthenticateSigned(k.ID, func(got []byte) bool { return string(got) == sec })
		return err == nil
	}, func() (string, tenant.Key, error) { return reg.CreateKey(DemoTenant, "demo ("+DemoKeyFile+")") }); err != nil {
		return fmt.Errorf("demo key: %w", err)
	}
	t.demoKeyFile = demo
	sec, err := readKey(demo)
	if err != nil {
		return fmt.Errorf("demo key: %w", err)
	}
	_, k, err := reg.Authenticate(sec)
	if err != nil {
		return fmt.Errorf("demo key: %w", err)
	}
	creds := filepath.Join(t.cfg.DataDir, DemoAWSCredentialsFile)
	body := "# The demo tenant's API key for AWS clients: AWS_SHARED_CREDENTIALS_FILE=" + creds + "\n" +
		"[default]\naws_access_key_id = " + k.ID + "\naws_secret_access_key = " + sec + "\n"
	if err := writeSecretFile(creds, body); err != nil {
		return fmt.Errorf("demo AWS credentials: %w", err)
	}
	t.demoAWSFile = creds
	return nil
}

// writeSecretFile writes a 0600 file atomically unless it already holds
// body.
func writeSecretFile(path, body string) error {
	if b, err := os.ReadFile(path); err == nil && string(b) == body {
		return nil
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(body), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// masterKey returns the key that seals API key secrets: MasterKeyEnv when
// set, else the data directory's MasterKeyFile, made on first start.
func (t *Tenancy) masterKey() ([]byte, error) {
	decode := func(where, text string) ([]byte, error) {
		k, err := base64.StdEncoding.DecodeString(strings.TrimSpace(text))
		if err != nil || len(k) != tenant.MasterKeySize {
			return nil, fmt.Errorf("master key in %s: want base64 of %d bytes: %w", where, tenant.MasterKeySize, ErrMasterKey)
		}
		return k, nil
	}
	if v := os.Getenv(MasterKeyEnv); v != "" {
		return decode(MasterKeyEnv, v)
	}
	path := filepath.Join(t.cfg.DataDir, MasterKeyFile)
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		fi, err := os.Stat(path)
		if err != nil {
			return nil, fmt.Errorf("master key: %w", err)
		}
		if fi.Mode().Perm()&0o077 != 0 {
			return nil, fmt.Errorf("master key file %s is open to others (mode %o): chmod 600 it: %w", path, fi.Mode().Perm(), ErrMasterKey)
		}
		return decode(path, string(b))
	case !errors.Is(err, os.ErrNotExist):
		return nil, fmt.Errorf("master key: %w", err)
	}
	if t.cfg.Cluster.Postgres != "" {
		// Every node must seal and open with the same key: a node making
		// its own would fail the signed requests of keys made elsewhere.
		return nil, fmt.Errorf("a registry in PostgreSQL needs the cluster's master key: set %s (base64 of %d bytes, the same on every node) or put it in %s: %w",
			MasterKeyEnv, tenant.MasterKeySize, path, ErrMasterKey)
	}
	k := make([]byte, tenant.MasterKeySize)
	_, _ = rand.Read(k) // crypto/rand.Read never fails (Go 1.24+)
	if err := os.MkdirAll(t.cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("master key: %w", err)
	}
	if err := writeSecretFile(path, base64.StdEncoding.EncodeToString(k)+"\n"); err != nil {
		return nil, fmt.Errorf("master key: %w", err)
	}
	return k, nil
}

func ensureKey(path string, valid func(string) bool, create func() (string, tenant.Key, error)) error {
	if b, err := os.ReadFile(path); err == nil && valid(strings.TrimSpace(string(b))) {
		return nil
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	secret, _, err := create()
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(secret+"\n"), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// AWSCredentialsFile returns the file holding the demo tenant's key in
// the AWS shared credentials format ("" when there is no demo tenant).
func (t *Tenancy) AWSCredentialsFile() string { return t.demoAWSFile }

// KeyFiles returns the files holding the admin key and the demo tenant's
// key ("" when there is no demo tenant), for the command to print.
func (t *Tenancy) KeyFiles() (admin, demo string) { return t.adminKeyFile, t.demoKeyFile }

// readKey returns the secret stored in a key file.
func readKey(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}
