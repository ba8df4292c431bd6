package media

// rxBatch is the number of datagrams one recvmmsg reads; rxRounds bounds
// the batches read from one socket per wake-up, so a flood on one socket
// does not starve the others of its shard (the socket stays ready and is
// read again on the next round). See sock_linux.go.
const (
	rxBatch  = 8
	rxRounds = 4
)
