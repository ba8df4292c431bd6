package aws

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The AWS CLI v2 that .ci/run installs (Debian's awscli); another aws on
// the PATH (pip's v1) may not know chime-sdk-voice.
const awsCLI = "/usr/bin/aws"

// cli runs the AWS CLI against the server with the given credentials
// environment; only --endpoint-url and --region differ from AWS.
type cli struct {
	t   *testing.T
	s   *server
	env []string
}

func newCLI(t *testing.T, s *server) *cli {
	bin := requireTool(t, awsCLI, "awscli")
	out, err := exec.Command(bin, "--version").CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "aws-cli/2.") {
		t.Fatalf("%s --version: %q, %v; want aws-cli/2", bin, out, err)
	}
	home := t.TempDir()
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home, "AWS_CONFIG_FILE=" + filepath.Join(home, "none"),
		"AWS_SHARED_CREDENTIALS_FILE=" + s.credsFile, "AWS_PAGER=", "AWS_MAX_ATTEMPTS=1", "AWS_EC2_METADATA_DISABLED=true"}
	return &cli{t: t, s: s, env: env}
}

// run runs aws with args and returns stdout, stderr and the exit code.
func (c *cli) run(extraEnv []string, args ...string) (string, string, int) {
	c.t.Helper()
	args = append(args, "--endpoint-url", c.s.url, "--region", region, "--output", "json")
	cmd := exec.Command(awsCLI, args...)
	cmd.Env = append(slices.Clone(c.env), extraEnv...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		c.t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

// ok runs aws, fails unless it succeeds, and decodes its JSON output.
func (c *cli) ok(out any, args ...string) {
	c.t.Helper()
	stdout, stderr, code := c.run(nil, args...)
	if code != 0 {
		c.t.Fatalf("aws %s: exit %d\n%s", strings.Join(args, " "), code, stderr)
	}
	if out != nil {
		if err := json.Unmarshal([]byte(stdout), out); err != nil {
			c.t.Fatalf("aws %s: %v\n%s", strings.Join(args, " "), err, stdout)
		}
	}
}

// fails runs aws and checks it reports the exception.
func (c *cli) fails(env []string, exception string, args ...string) {
	c.t.Helper()
	_, stderr, code := c.run(env, args...)
	if code == 0 || !strings.Contains(stderr, "("+exception+")") {
		c.t.Fatalf("aws %s: exit %d, stderr %q; want the %s", strings.Join(args, " "), code, stderr, exception)
	}
}

type cliApp struct {
	SipMediaApplication struct {
		SipMediaApplicationID string `json:"SipMediaApplicationId"`
		Name, AwsRegion       string
		Endpoints             []struct{ LambdaArn string }
	}
}

type cliRule struct {
	SipRule struct {
		SipRuleID                       string `json:"SipRuleId"`
		Name, TriggerType, TriggerValue string
		Disabled                        bool
	}
}

func TestCLI(t *testing.T) {
	s := startServer(t)
	c := newCLI(t, s)

	var app cliApp
	c.ok(&app, "chime-sdk-voice", "create-sip-media-application", "--aws-region", region, "--name", "cli app",
		"--endpoints", "LambdaArn="+s.hook.srv.URL)
	appID := app.SipMediaApplication.SipMediaApplicationID
	if app.SipMediaApplication.Name != "cli app" || len(app.SipMediaApplication.Endpoints) != 1 || app.SipMediaApplication.Endpoints[0].LambdaArn != s.hook.srv.URL {
		t.Fatalf("created %+v", app)
	}

	t.Run("calls", func(t *testing.T) {
		uas := s.startUAS(t, 1)
		var call struct {
			SipMediaApplicationCall struct {
				TransactionID string `json:"TransactionId"`
			}
		}
		c.ok(&call, "chime-sdk-voice", "create-sip-media-application-call", "--sip-media-application-id", appID,
			"--from-phone-number", tenantNumber, "--to-phone-number", calleeNumber, "--arguments-map", "campaign=7")
		tx := call.SipMediaApplicationCall.TransactionID
		s.hook.waitFor(t, tx, "CALL_ANSWERED")
		c.ok(nil, "chime-sdk-voice", "update-sip-media-application-call", "--sip-media-application-id", appID,
			"--transaction-id", tx, "--arguments", "action=wait")
		if ev := s.hook.waitFor(t, tx, "CALL_UPDATE_REQUESTED"); ev.ActionData.Parameters.Arguments["action"] != "wait" {
			t.Fatalf("arguments %v", ev.ActionData.Parameters.Arguments)
		}
		id, secret := s.otherTenantKey(t)
		other := []string{"AWS_ACCESS_KEY_ID=" + id, "AWS_SECRET_ACCESS_KEY=" + secret}
		c.fails(other, "NotFoundException", "chime-sdk-voice", "update-sip-media-application-call",
			"--sip-media-application-id", appID, "--transaction-id", tx, "--arguments", "action=hangup")
		// The form the Chime developer guide shows, in the older namespace.
		c.ok(nil, "chime", "update-sip-media-application-call", "--sip-media-application-id", appID,
			"--transaction-id", tx, "--arguments", "action=hangup")
		s.hook.waitFor(t, tx, "HANGUP")
		uas.wait(t)
	})

	t.Run("applications", func(t *testing.T) {
		var list struct {
			SipMediaApplications []struct{ Name string }
		}
		// The CLI follows next-token itself; a page size of 1 makes it.
		c.ok(&list, "chime-sdk-voice", "list-sip-media-applications", "--page-size", "1")
		var names []string
		for _, a := range list.SipMediaApplications {
			names = append(names, a.Name)
		}
		slices.Sort(names)
		if want := []string{"cli app", "outbound"}; !slices.Equal(names, want) {
			t.Fatalf("listed %v, want %v", names, want)
		}
		c.ok(&app, "chime-sdk-voice", "update-sip-media-application", "--sip-media-application-id", appID, "--name", "renamed")
		c.ok(&app, "chime-sdk-voice", "get-sip-media-application", "--sip-media-application-id", appID)
		if app.SipMediaApplication.Name != "renamed" {
			t.Fatalf("after update: %+v", app)
		}
		c.ok(nil, "chime-sdk-voice", "delete-sip-media-application", "--sip-media-application-id", appID)
		c.fails(nil, "NotFoundException", "chime-sdk-voice", "get-sip-media-application", "--sip-media-application-id", appID)
	})

	t.Run("rules", func(t *testing.T) {
		var r cliRule
		c.ok(&r, "chime-sdk-voice", "create-sip-rule", "--name", "pbx", "--trigger-type", "RequestUriHostname",
			"--trigger-value", "pbx.cli.test", "--target-applications", "SipMediaApplicationId=outbound,Priority=1")
		id := r.SipRule.SipRuleID
		c.ok(&r, "chime-sdk-voice", "update-sip-rule", "--sip-rule-id", id, "--name", "pbx off", "--disabled")
		c.ok(&r, "chime-sdk-voice", "get-sip-rule", "--sip-rule-id", id)
		if !r.SipRule.Disabled || r.SipRule.Name != "pbx off" || r.SipRule.TriggerValue != "pbx.cli.test" {
			t.Fatalf("after update: %+v", r)
		}
		var list struct {
			SipRules []struct{ TriggerValue string }
		}
		c.ok(&list, "chime-sdk-voice", "list-sip-rules", "--sip-media-application", "outbound", "--max-results", "1")
		if len(list.SipRules) != 1 {
			t.Fatalf("list-sip-rules --max-results 1: %+v", list)
		}
		c.ok(nil, "chime-sdk-voice", "delete-sip-rule", "--sip-rule-id", id)
		c.fails(nil, "NotFoundException", "chime-sdk-voice", "get-sip-rule", "--sip-rule-id", id)
		c.fails(nil, "BadRequestException", "chime-sdk-voice", "create-sip-rule", "--name", "x", "--trigger-type", "RequestUriHostname",
			"--trigger-value", "not a host", "--target-applications", "SipMediaApplicationId=outbound,Priority=1")
	})

	t.Run("wrong secret", func(t *testing.T) {
		creds, err := os.ReadFile(s.credsFile)
		if err != nil {
			t.Fatal(err)
		}
		var keyID string
		for _, l := range strings.Split(string(creds), "\n") {
			if v, ok := strings.CutPrefix(l, "aws_access_key_id = "); ok {
				keyID = v
			}
		}
		c.fails([]string{"AWS_ACCESS_KEY_ID=" + keyID, "AWS_SECRET_ACCESS_KEY=wrong"}, "ForbiddenException",
			"chime-sdk-voice", "list-sip-media-applications")
	})
}
