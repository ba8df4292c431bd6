// Command gen writes the code and documentation the guest SDKs derive from
// the abi package: the Rust and AssemblyScript action parameters and
// builders, and the action reference in each SDK's README. Run it from the
// repository (go generate ./sdk/...); TestGeneratedUpToDate fails when a
// file differs from what it would write.
package main

import (
	"fmt"
	"os"
	"path/filepath"
)

//go:generate go run .

func main() {
	root, err := repoRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
	files, err := generate(root)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
	for path, content := range files {
		full := filepath.Join(root, path)
		old, _ := os.ReadFile(full)
		if string(old) == content {
			continue
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "gen:", err)
			os.Exit(1)
		}
		fmt.Println("wrote", path)
	}
}

// generate returns every generated file (path relative to root → content).
func generate(root string) (map[string]string, error) {
	m, err := loadModel(root)
	if err != nil {
		return nil, err
	}
	files := map[string]string{
		"sdk/rust/src/actions.rs":                genRust(m),
		"sdk/assemblyscript/assembly/actions.ts": genAS(m),
	}
	if err := genReadmes(root, m, files); err != nil {
		return nil, err
	}
	return files, nil
}
