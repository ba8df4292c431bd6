package server

import (
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
	// DemoTenant is the tenant of the built-in demo.
	DemoTenant = "demo"
)

// ensureKeys makes sure the admin key file (and, with a demo tenant, the
// demo key file) hold a live key, creating a key when the file is missing
// or its key no longer authenticates (revoked, or another registry).
func (s *Server) ensureKeys() error {
	reg := s.ten.reg
	admin := filepath.Join(s.cfg.DataDir, AdminKeyFile)
	if err := ensureKey(admin, func(sec string) bool {
		_, k, err := reg.Authenticate(sec)
		return err == nil && k.Admin
	}, func() (string, tenant.Key, error) { return reg.CreateAdminKey("operator (" + AdminKeyFile + ")") }); err != nil {
		return fmt.Errorf("server: admin key: %w", err)
	}
	s.ten.adminKeyFile = admin
	if _, err := reg.GetTenant(DemoTenant); err != nil {
		if errors.Is(err, tenant.ErrNotFound) {
			return nil
		}
		return fmt.Errorf("server: demo key: %w", err)
	}
	demo := filepath.Join(s.cfg.DataDir, DemoKeyFile)
	if err := ensureKey(demo, func(sec string) bool {
		tid, _, err := reg.Authenticate(sec)
		return err == nil && tid == DemoTenant
	}, func() (string, tenant.Key, error) { return reg.CreateKey(DemoTenant, "demo ("+DemoKeyFile+")") }); err != nil {
		return fmt.Errorf("server: demo key: %w", err)
	}
	s.ten.demoKeyFile = demo
	return nil
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

// KeyFiles returns the files holding the admin key and the demo tenant's
// key ("" when there is no demo tenant), for the command to print.
func (s *Server) KeyFiles() (admin, demo string) { return s.ten.adminKeyFile, s.ten.demoKeyFile }

// readKey returns the secret stored in a key file.
func readKey(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}
