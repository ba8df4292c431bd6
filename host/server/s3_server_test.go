package server

import (
	"context"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wasmvoice/mediaserver/abi"
	"github.com/wasmvoice/mediaserver/host/config"
	"github.com/wasmvoice/mediaserver/host/store"
)

const (
	s3Access = "testaccesskey"
	s3Secret = "testsecretkey-0123456789"
)

// startVersity runs versitygw (a real S3 server) on a free loopback port
// for the test's lifetime and returns its endpoint. Like host/store's
// tests it looks in PATH, $GOBIN, ~/go/bin and /tmp/s3bin; with CI=true a
// missing binary fails the test.
func startVersity(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("versitygw")
	if err != nil {
		var dirs []string
		if d := os.Getenv("GOBIN"); d != "" {
			dirs = append(dirs, d)
		}
		if h, err := os.UserHomeDir(); err == nil {
			dirs = append(dirs, filepath.Join(h, "go", "bin"))
		}
		for _, d := range append(dirs, "/tmp/s3bin") {
			if st, err := os.Stat(filepath.Join(d, "versitygw")); err == nil && st.Mode()&0o111 != 0 {
				bin = filepath.Join(d, "versitygw")
				break
			}
		}
	}
	if bin == "" {
		msg := "versitygw not found; install: go install github.com/versity/versitygw/cmd/versitygw@v1.8.0"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort(t, "tcp")))
	var out strings.Builder
	cmd := exec.Command(bin, "--access", s3Access, "--secret", s3Secret, "--port", addr, "posix", t.TempDir())
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	for start := time.Now(); ; time.Sleep(20 * time.Millisecond) {
		select {
		case err := <-exited:
			t.Fatalf("versitygw exited: %v\n%s", err, out.String())
		default:
		}
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return addr
		}
		if time.Since(start) > 30*time.Second {
			t.Fatalf("versitygw did not listen on %s", addr)
		}
	}
}

// TestS3Storage: the server runs with storage type "s3" against
// versitygw. A prompt uploaded through the API plays (the PlayAudio
// succeeds), and a recording of the caller lands in S3 (and not in the
// local mirror), where the API lists it.
func TestS3Storage(t *testing.T) {
	t.Parallel()
	requireTool(t, "sipp", "sip-tester")
	requireFile(t, sippPCAP, "install the Debian package sip-tester")
	endpoint := startVersity(t)
	frames := pcmaFrames(t)
	app := webhookApp(t, "s3app", "+15550171", func(ev *abi.Event) string {
		switch ev.InvocationEventType {
		case abi.EventNewInboundCall:
			return actions(`{"Type":"PlayAudio","Parameters":{"AudioSource":{"Type":"S3","BucketName":"prompts","Key":"hello.wav"}}}`,
				`{"Type":"RecordAudio","Parameters":{"DurationInSeconds":2,"RecordingTerminators":["#"],"RecordingDestination":{"Type":"S3","BucketName":"recordings","Prefix":"s3/"}}}`)
		case abi.EventActionSuccessful, abi.EventActionFailed:
			return actions(`{"Type":"Hangup","Parameters":{"SipResponseCode":"0"}}`)
		}
		return actions()
	})
	cfg := testConfig(t)
	cfg.Storage = config.Storage{Type: "s3", Endpoint: endpoint, Region: "us-east-1", Bucket: "mediaserver",
		Prefix: "ms/", AccessKey: s3Access, SecretKey: s3Secret, CreateBucket: true}
	ts := startTestServer(t, cfg, []config.Application{app})
	_, demoFile := ts.KeyFiles()
	key, err := readKey(demoFile)
	if err != nil {
		t.Fatal(err)
	}
	ts.putObject(t, key, "prompts", "hello.wav", readFile(t, filepath.Join(repoRoot, "plugins", "ivr-go", "buckets", "prompts", "ivr", "welcome.wav")))
	runSipp(t, ts, sippOptions{Scenario: "uac_record", Service: "+15550171",
		Files: map[string][]byte{"audio.pcap": writeRTPPCAP(frames)}})
	ts.waitIdle(t)

	var types []abi.EventType
	for _, o := range ts.Invocations(t) {
		types = append(types, o.Event.InvocationEventType)
		if o.Event.InvocationEventType == abi.EventActionFailed {
			t.Fatalf("an action failed: %+v", o.Event.ActionData)
		}
	}
	if len(types) < 2 || types[1] != abi.EventActionSuccessful {
		t.Fatalf("events %v: want the PlayAudio and RecordAudio list to succeed", types)
	}
	s3, err := store.NewS3(context.Background(), store.S3Config{Endpoint: endpoint, Region: "us-east-1",
		AccessKey: s3Access, SecretKey: s3Secret, Bucket: "mediaserver", Prefix: "ms/", PathStyle: true})
	if err != nil {
		t.Fatal(err)
	}
	recs, err := s3.List(context.Background(), "demo", "recordings", "s3/")
	if err != nil {
		t.Fatal(err)
	}
	// 2 s of 8 kHz 16-bit mono, give or take the stop: well over 20 000 bytes.
	if len(recs) != 1 || recs[0].Size < 20000 {
		t.Fatalf("recordings in S3: %+v, want one of about 2 s", recs)
	}
	var local []string
	filepath.WalkDir(filepath.Join(cfg.DataDir, "s3cache", "demo", "recordings"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			local = append(local, p)
		}
		return nil
	})
	if len(local) != 0 {
		t.Fatalf("recordings left in the local mirror after upload: %v", local)
	}
}
