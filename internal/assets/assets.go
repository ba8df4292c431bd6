// Package assets finds the Wasm engines that third_party/fetch.sh fetches
// at build time (flite.wasm, rnnoise.wasm): the server loads them from
// disk and never downloads anything at run time.
package assets

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// ErrMissing is returned when an asset is nowhere to be found.
var ErrMissing = errors.New("wasm asset not found (run `make assets`)")

// Dir is where fetch.sh puts the files, relative to the repository.
const Dir = "third_party/wasm"

// Path returns the path of the asset name: in $MEDIASERVER_ASSETS when set,
// else in Dir under the working directory or one of its parents (so the
// server run from the repository and the tests of any package find it),
// else under the executable's folder or its parents (bin/mediactl run from
// elsewhere).
func Path(name string) (string, error) {
	if d := os.Getenv("MEDIASERVER_ASSETS"); d != "" {
		p := filepath.Join(d, name)
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("%w: %s: %w", ErrMissing, name, err)
		}
		return p, nil
	}
	var starts []string
	if wd, err := os.Getwd(); err == nil {
		starts = append(starts, wd)
	}
	if exe, err := os.Executable(); err == nil {
		starts = append(starts, filepath.Dir(exe))
	}
	for _, dir := range starts {
		for {
			p := filepath.Join(dir, Dir, name)
			if _, err := os.Stat(p); err == nil {
				return p, nil
			}
			up := filepath.Dir(dir)
			if up == dir {
				break
			}
			dir = up
		}
	}
	return "", fmt.Errorf("%w: %s", ErrMissing, name)
}
