package store

import (
	"fmt"
	"strings"
)

// MaxKeyLen is S3's limit on an object key, in bytes.
const MaxKeyLen = 1024

// ValidateBucket checks a bucket name against S3's naming rules: 3–63
// characters of lowercase letters, digits, '.' and '-', starting and ending
// with a letter or digit, no "..".
// See https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
func ValidateBucket(b string) error {
	if len(b) < 3 || len(b) > 63 {
		return fmt.Errorf("%w: bucket %q must be 3 to 63 characters", ErrInvalidName, b)
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		ok := (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-'
		if !ok {
			return fmt.Errorf("%w: bucket %q may hold only a-z, 0-9, '.' and '-'", ErrInvalidName, b)
		}
	}
	if !alnum(b[0]) || !alnum(b[len(b)-1]) || strings.Contains(b, "..") {
		return fmt.Errorf("%w: bucket %q must start and end with a letter or digit and not contain \"..\"", ErrInvalidName, b)
	}
	return nil
}

// ValidateKey checks that an object key maps to a file inside its bucket:
// no empty, "." or ".." segment, no leading '/', no backslash, no control
// characters, at most MaxKeyLen bytes.
func ValidateKey(k string) error {
	if k == "" {
		return fmt.Errorf("%w: empty key", ErrInvalidName)
	}
	if len(k) > MaxKeyLen {
		return fmt.Errorf("%w: key longer than %d bytes", ErrInvalidName, MaxKeyLen)
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 0x20 || k[i] == 0x7f || k[i] == '\\' {
			return fmt.Errorf("%w: key %q holds a control character or backslash", ErrInvalidName, k)
		}
	}
	for _, seg := range strings.Split(k, "/") {
		switch seg {
		case "":
			return fmt.Errorf("%w: key %q has an empty path segment", ErrInvalidName, k)
		case ".", "..":
			return fmt.Errorf("%w: key %q has a %q segment", ErrInvalidName, k, seg)
		}
		if strings.HasPrefix(seg, ".tmp-") {
			return fmt.Errorf("%w: key %q uses the reserved prefix .tmp-", ErrInvalidName, k)
		}
	}
	return nil
}

// ValidateTenant checks a tenant id: 1–64 characters of a-z, 0-9, '-' and '_'.
func ValidateTenant(t string) error {
	if len(t) == 0 || len(t) > 64 {
		return fmt.Errorf("%w: tenant %q must be 1 to 64 characters", ErrInvalidName, t)
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		if !alnum(c) && c != '-' && c != '_' {
			return fmt.Errorf("%w: tenant %q may hold only a-z, 0-9, '-' and '_'", ErrInvalidName, t)
		}
	}
	return nil
}

func alnum(c byte) bool { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') }
