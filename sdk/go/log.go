package mediaserver

import "fmt"

// Logf logs a formatted line (see Log). It pulls fmt into the plugin; Log
// alone keeps the module smaller.
func Logf(level Level, format string, args ...any) { Log(level, fmt.Sprintf(format, args...)) }
