package codec

import "errors"

// ErrUnknownCodec is returned for a codec name or payload type that is not G.711.
var ErrUnknownCodec = errors.New("unknown codec")
