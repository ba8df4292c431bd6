package tenant

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/wasmvoice/mediaserver/host/store"
)

// crashChildEnv makes the test binary act as the writer that gets killed.
const crashChildEnv = "TENANT_CRASH_CHILD_DIR"

// TestMain turns the test binary into the writer that TestKillNine kills
// when crashChildEnv is set; otherwise it runs the tests.
func TestMain(m *testing.M) {
	if dir := os.Getenv(crashChildEnv); dir != "" {
		crashChild(fatalf(func(format string, a ...any) {
			fmt.Fprintf(os.Stderr, format+"\n", a...)
			os.Exit(2)
		}), dir)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

type fatalf func(format string, a ...any)

func (f fatalf) Fatal(a ...any) { f("%v", fmt.Sprint(a...)) }

// crashChild writes to a registry in dir until it is killed.
func crashChild(t interface{ Fatal(...any) }, dir string) {
	ctx := context.Background()
	blobs, err := store.NewFolder(filepath.Join(dir, "buckets"))
	if err != nil {
		t.Fatal(err)
	}
	r, err := Open(filepath.Join(dir, "registry.db"), blobs)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.CreateTenant("acme", "", Quotas{}); err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ {
		app := fmt.Sprintf("app%d", i)
		num := fmt.Sprintf("+1555%06d", i)
		v, err := r.PutPlugin(ctx, "acme", wasmOf(app))
		if err == nil {
			_, err = r.CreateApp("acme", app, "", "")
		}
		if err == nil {
			err = r.AssignPlugin("acme", app, v.SHA256)
		}
		if err == nil {
			_, err = r.AddNumber("acme", num)
		}
		if err == nil {
			err = r.SetRule("acme", num, app)
		}
		if err != nil {
			t.Fatal(err)
		}
		// Everything up to here is committed; the parent may kill us now.
		fmt.Printf("committed %d\n", i)
	}
}

// TestKillNine kills a writer with SIGKILL in the middle of its writes and
// checks the reopened registry: every write reported committed is there,
// and every route points at an application and a stored plugin.
func TestKillNine(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), crashChildEnv+"="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	committed := -1
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if n, ok := strings.CutPrefix(sc.Text(), "committed "); ok {
			committed, _ = strconv.Atoi(n)
			if committed >= 15 {
				break
			}
		}
	}
	_ = cmd.Process.Kill() // fails only if the child already died; checked below
	_ = cmd.Wait()
	if committed < 15 {
		t.Fatalf("child stopped after %d writes", committed)
	}

	blobs, err := store.NewFolder(filepath.Join(dir, "buckets"))
	if err != nil {
		t.Fatal(err)
	}
	r, err := Open(filepath.Join(dir, "registry.db"), blobs)
	if err != nil {
		t.Fatalf("reopen after kill -9: %v", err)
	}
	defer r.Close()
	ctx := context.Background()
	for i := 0; i <= committed; i++ {
		rt, ok := r.Route(fmt.Sprintf("+1555%06d", i))
		if !ok || rt.App != fmt.Sprintf("app%d", i) || rt.Plugin != shaOf(wasmOf(rt.App)) {
			t.Fatalf("committed write %d lost: Route = %+v, %v", i, rt, ok)
		}
	}
	// Whatever was in flight is either whole or absent.
	nums, err := r.ListNumbers("acme")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range nums {
		if n.App == "" {
			continue
		}
		app, err := r.GetApp("acme", n.App)
		if err != nil {
			t.Fatalf("number %s routes to %s: %v", n.Number, n.App, err)
		}
		if _, err := r.OpenPlugin(ctx, "acme", app.Plugin); err != nil {
			t.Fatalf("app %s plugin: %v", app.ID, err)
		}
	}
}
