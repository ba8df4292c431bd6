package tenant

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"fmt"
)

// MasterKeySize is the length of the master key: AES-256.
const MasterKeySize = 32

// sealer seals API key secrets at rest. AWS Signature Version 4 is an
// HMAC keyed by the secret itself, so unlike a Bearer key (checked against
// a hash) a signed request can only be verified with the secret in hand.
// The secret is stored encrypted with AES-256-GCM under the server's
// master key; the key id is the additional data, so a sealed secret copied
// onto another key's record does not open.
type sealer struct{ aead cipher.AEAD }

func newSealer(master []byte) (*sealer, error) {
	if len(master) != MasterKeySize {
		return nil, fmt.Errorf("%w: master key is %d bytes, want %d", ErrInvalid, len(master), MasterKeySize)
	}
	block, err := aes.NewCipher(master)
	if err != nil {
		return nil, fmt.Errorf("%w: master key: %v", ErrInvalid, err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("%w: master key: %v", ErrInvalid, err)
	}
	return &sealer{aead: aead}, nil
}

func sealAD(keyID string) []byte { return []byte("mediaserver api key " + keyID) }

// seal returns nonce || ciphertext.
func (s *sealer) seal(keyID string, secret []byte) []byte {
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(secret)+s.aead.Overhead())
	_, _ = rand.Read(nonce) // crypto/rand.Read never fails (Go 1.24+)
	return s.aead.Seal(nonce, nonce, secret, sealAD(keyID))
}

// open reverses seal; any failure is ErrMasterKey.
func (s *sealer) open(keyID string, sealed []byte) ([]byte, error) {
	if s == nil {
		return nil, fmt.Errorf("key %s: no master key configured: %w", keyID, ErrMasterKey)
	}
	n := s.aead.NonceSize()
	if len(sealed) < n+s.aead.Overhead() {
		return nil, fmt.Errorf("key %s: sealed secret is truncated: %w", keyID, ErrMasterKey)
	}
	secret, err := s.aead.Open(nil, sealed[:n], sealed[n:], sealAD(keyID))
	if err != nil {
		return nil, fmt.Errorf("key %s: %w", keyID, ErrMasterKey)
	}
	return secret, nil
}
