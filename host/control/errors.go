package control

import "errors"

// ErrNotStarted is wrapped (with api.ErrUnavailable) when a call is made
// through a calls API that has no engine: the server has not started.
var ErrNotStarted = errors.New("server not started")
