package cluster

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// NodeID is the 12 hex digits that stand for a node in the ids it makes
// and in its NATS subject: the first 48 bits of the SHA-256 of its name.
// Two names of one cluster sharing an id is caught at start (Start asks
// whether the id answers already).
func NodeID(name string) string {
	b := nodeBytes(name)
	return hex.EncodeToString(b[:])
}

func nodeBytes(name string) [6]byte {
	sum := sha256.Sum256([]byte(name))
	return [6]byte(sum[:6])
}

// newTransactionID returns a TransactionId made by the node node: a UUID (RFC 9562 version 8, "custom") whose last 48 bits, the
// node field of the older time-based UUIDs, are the node id, and whose
// other 74 bits are random. It still reads as the UUID Chime clients
// expect, and any node tells the owner of a call from its id alone:
// no lookup, no shared table, no lock.
func newTransactionID(node [6]byte) string {
	var b [16]byte
	_, _ = rand.Read(b[:10]) // crypto/rand.Read never fails (Go 1.24+)
	copy(b[10:], node[:])
	b[6] = b[6]&0x0f | 0x80 // version 8
	b[8] = b[8]&0x3f | 0x80 // variant 10 (RFC 9562)
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:36], b[10:16])
	return string(s[:])
}

// Owner returns the id of the node that owns the call (or iotcomms
// session, connection or participant) an id names: the transaction id is
// the id up to its first '/', and its last 12 hex digits name the node
// when it is a version 8 UUID made by NewTransactionID. ok is false for
// any other id (a call of a single server, or garbage): it is then
// looked for on this node only.
func Owner(id string) (nodeID string, ok bool) {
	tx, _, _ := strings.Cut(id, "/")
	if len(tx) != 36 || tx[8] != '-' || tx[13] != '-' || tx[18] != '-' || tx[23] != '-' || tx[14] != '8' {
		return "", false
	}
	switch tx[19] {
	case '8', '9', 'a', 'b':
	default:
		return "", false
	}
	node := tx[24:]
	for i := 0; i < len(node); i++ {
		if c := node[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return "", false
		}
	}
	for _, part := range []string{tx[0:8], tx[9:13], tx[14:18], tx[19:23]} {
		if _, err := hex.DecodeString(part); err != nil {
			return "", false
		}
	}
	return node, true
}
