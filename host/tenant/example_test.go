package tenant_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/wasmvoice/mediaserver/host/store"
	"github.com/wasmvoice/mediaserver/host/tenant"
)

// The life of a tenant as the HTTP API drives it: create, issue a key,
// authenticate, register an application with a number, upload a plugin,
// assign it, and route a call.
func Example() {
	dir, _ := os.MkdirTemp("", "registry-example")
	defer os.RemoveAll(dir)
	blobs, _ := store.NewFolder(filepath.Join(dir, "buckets"))
	reg, err := tenant.Open(filepath.Join(dir, "registry.db"), blobs)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer reg.Close()
	ctx := context.Background()

	reg.CreateTenant("acme", "Acme Inc.", tenant.Quotas{MaxConcurrentCalls: 10})
	secret, _, _ := reg.CreateKey("acme", "deploy")
	who, _, _ := reg.Authenticate(secret)
	fmt.Println("authenticated as", who)

	reg.CreateApp(who, "ivr", "Main IVR", "")
	reg.AddNumber(who, "+15550100")
	reg.SetRule(who, "+15550100", "ivr")
	v, _ := reg.PutPlugin(ctx, who, []byte("\x00asm\x01\x00\x00\x00"))
	reg.AssignPlugin(who, "ivr", v.SHA256)

	rt, ok := reg.Route("+15550100")
	fmt.Println(ok, rt.Tenant, rt.App, rt.Plugin[:12], rt.Quotas.MaxConcurrentCalls)
	// Output:
	// authenticated as acme
	// true acme ivr 93a44bbb96c7 10
}
