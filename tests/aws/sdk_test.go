package aws

import (
	"errors"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/chime"
	"github.com/aws/aws-sdk-go-v2/service/chimesdkvoice"
	"github.com/aws/aws-sdk-go-v2/service/chimesdkvoice/types"
)

// sdkConfig loads the AWS configuration the way an application does, with
// the server's credentials file as AWS_SHARED_CREDENTIALS_FILE.
func sdkConfig(t *testing.T, s *server) aws.Config {
	t.Helper()
	for _, v := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"} {
		t.Setenv(v, "")
	}
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", s.credsFile)
	t.Setenv("AWS_CONFIG_FILE", "/dev/null")
	cfg, err := config.LoadDefaultConfig(t.Context(), config.WithRegion(region), config.WithRetryMaxAttempts(1))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// The only change from talking to AWS: the endpoint.
func voiceClient(cfg aws.Config, s *server) *chimesdkvoice.Client {
	return chimesdkvoice.NewFromConfig(cfg, func(o *chimesdkvoice.Options) { o.BaseEndpoint = aws.String(s.url) })
}

func TestSDK(t *testing.T) {
	s := startServer(t)
	cfg := sdkConfig(t, s)
	voice := voiceClient(cfg, s)
	legacy := chime.NewFromConfig(cfg, func(o *chime.Options) { o.BaseEndpoint = aws.String(s.url) })
	ctx := t.Context()

	// An application whose endpoint is the test's webhook.
	created, err := voice.CreateSipMediaApplication(ctx, &chimesdkvoice.CreateSipMediaApplicationInput{
		AwsRegion: aws.String(region), Name: aws.String("sdk app"),
		Endpoints: []types.SipMediaApplicationEndpoint{{LambdaArn: aws.String(s.hook.srv.URL)}},
	})
	if err != nil {
		t.Fatalf("CreateSipMediaApplication: %v", err)
	}
	app := created.SipMediaApplication
	if aws.ToString(app.Name) != "sdk app" || aws.ToString(app.AwsRegion) != region || len(app.Endpoints) != 1 ||
		aws.ToString(app.Endpoints[0].LambdaArn) != s.hook.srv.URL || app.CreatedTimestamp == nil {
		t.Fatalf("created %+v", app)
	}
	appID := aws.ToString(app.SipMediaApplicationId)

	t.Run("calls", func(t *testing.T) {
		uas := s.startUAS(t, 2)
		call, err := voice.CreateSipMediaApplicationCall(ctx, &chimesdkvoice.CreateSipMediaApplicationCallInput{
			SipMediaApplicationId: aws.String(appID), FromPhoneNumber: aws.String(tenantNumber), ToPhoneNumber: aws.String(calleeNumber),
			ArgumentsMap: map[string]string{"campaign": "42"},
		})
		if err != nil {
			t.Fatalf("CreateSipMediaApplicationCall: %v", err)
		}
		tx := aws.ToString(call.SipMediaApplicationCall.TransactionId)
		s.hook.waitFor(t, tx, "CALL_ANSWERED")
		if _, err := voice.UpdateSipMediaApplicationCall(ctx, &chimesdkvoice.UpdateSipMediaApplicationCallInput{
			SipMediaApplicationId: aws.String(appID), TransactionId: aws.String(tx), Arguments: map[string]string{"action": "wait"},
		}); err != nil {
			t.Fatalf("UpdateSipMediaApplicationCall: %v", err)
		}
		if ev := s.hook.waitFor(t, tx, "CALL_UPDATE_REQUESTED"); ev.ActionData.Parameters.Arguments["action"] != "wait" {
			t.Fatalf("CALL_UPDATE_REQUESTED arguments %v", ev.ActionData.Parameters.Arguments)
		}

		// Another tenant's key sees neither the application nor the call.
		id, secret := s.otherTenantKey(t)
		other := cfg.Copy()
		other.Credentials = credentials.NewStaticCredentialsProvider(id, secret, "")
		otherVoice := voiceClient(other, s)
		var nf *types.NotFoundException
		_, err = otherVoice.UpdateSipMediaApplicationCall(ctx, &chimesdkvoice.UpdateSipMediaApplicationCallInput{
			SipMediaApplicationId: aws.String(appID), TransactionId: aws.String(tx), Arguments: map[string]string{"action": "hangup"},
		})
		if !errors.As(err, &nf) || nf.Code != types.ErrorCodeNotFound {
			t.Fatalf("another tenant's UpdateSipMediaApplicationCall: %v, want a NotFoundException", err)
		}
		if _, err := otherVoice.GetSipMediaApplication(ctx, &chimesdkvoice.GetSipMediaApplicationInput{SipMediaApplicationId: aws.String(appID)}); !errors.As(err, &nf) {
			t.Fatalf("another tenant's GetSipMediaApplication: %v, want a NotFoundException", err)
		}

		// The older chime namespace hangs up through the handler, the Chime way.
		if _, err := legacy.UpdateSipMediaApplicationCall(ctx, &chime.UpdateSipMediaApplicationCallInput{
			SipMediaApplicationId: aws.String(appID), TransactionId: aws.String(tx), Arguments: map[string]string{"action": "hangup"},
		}); err != nil {
			t.Fatalf("chime UpdateSipMediaApplicationCall: %v", err)
		}
		s.hook.waitFor(t, tx, "HANGUP")

		// A second call, hung up by this server's DELETE /calls/{tx},
		// signed by the SDK's signer.
		call, err = voice.CreateSipMediaApplicationCall(ctx, &chimesdkvoice.CreateSipMediaApplicationCallInput{
			SipMediaApplicationId: aws.String(appID), FromPhoneNumber: aws.String(tenantNumber), ToPhoneNumber: aws.String(calleeNumber),
		})
		if err != nil {
			t.Fatalf("second CreateSipMediaApplicationCall: %v", err)
		}
		tx2 := aws.ToString(call.SipMediaApplicationCall.TransactionId)
		s.hook.waitFor(t, tx2, "CALL_ANSWERED")
		req, _ := http.NewRequestWithContext(ctx, "DELETE", s.url+"/calls/"+tx2, nil)
		creds, err := cfg.Credentials.Retrieve(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := v4.NewSigner().SignHTTP(ctx, creds, req, emptySHA256, "chime", region, time.Now()); err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted {
			t.Fatalf("signed DELETE /calls/%s: %d, want 202", tx2, resp.StatusCode)
		}
		s.hook.waitFor(t, tx2, "HANGUP")
		uas.wait(t)
	})

	t.Run("applications", func(t *testing.T) {
		for _, name := range []string{"second", "third"} {
			if _, err := voice.CreateSipMediaApplication(ctx, &chimesdkvoice.CreateSipMediaApplicationInput{
				AwsRegion: aws.String(region), Name: aws.String(name),
				Endpoints: []types.SipMediaApplicationEndpoint{{LambdaArn: aws.String(s.hook.srv.URL + "/" + name)}},
			}); err != nil {
				t.Fatal(err)
			}
		}
		var names []string
		pages := chimesdkvoice.NewListSipMediaApplicationsPaginator(voice, &chimesdkvoice.ListSipMediaApplicationsInput{MaxResults: aws.Int32(1)})
		n := 0
		for pages.HasMorePages() {
			p, err := pages.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(p.SipMediaApplications) > 1 {
				t.Fatalf("a page of %d with MaxResults 1", len(p.SipMediaApplications))
			}
			for _, a := range p.SipMediaApplications {
				names = append(names, aws.ToString(a.Name))
			}
			n++
		}
		slices.Sort(names)
		// "outbound" comes from the configuration, named after its id.
		if want := []string{"outbound", "sdk app", "second", "third"}; !slices.Equal(names, want) || n < 4 {
			t.Fatalf("listed %v in %d pages, want %v one per page", names, n, want)
		}
		up, err := voice.UpdateSipMediaApplication(ctx, &chimesdkvoice.UpdateSipMediaApplicationInput{
			SipMediaApplicationId: aws.String(appID), Name: aws.String("renamed"),
		})
		if err != nil || aws.ToString(up.SipMediaApplication.Name) != "renamed" || aws.ToString(up.SipMediaApplication.Endpoints[0].LambdaArn) != s.hook.srv.URL {
			t.Fatalf("UpdateSipMediaApplication: %+v, %v", up, err)
		}
		got, err := voice.GetSipMediaApplication(ctx, &chimesdkvoice.GetSipMediaApplicationInput{SipMediaApplicationId: aws.String(appID)})
		if err != nil || aws.ToString(got.SipMediaApplication.Name) != "renamed" {
			t.Fatalf("GetSipMediaApplication: %+v, %v", got, err)
		}
		if _, err := voice.UpdateSipMediaApplication(ctx, &chimesdkvoice.UpdateSipMediaApplicationInput{
			SipMediaApplicationId: aws.String(appID),
			Endpoints:             []types.SipMediaApplicationEndpoint{{LambdaArn: aws.String("arn:aws:lambda:us-east-1:123456789012:function:handler")}},
		}); !errors.As(err, new(*types.BadRequestException)) {
			t.Fatalf("an ARN without a plugin version: %v, want a BadRequestException", err)
		}
		if _, err := voice.DeleteSipMediaApplication(ctx, &chimesdkvoice.DeleteSipMediaApplicationInput{SipMediaApplicationId: aws.String(appID)}); err != nil {
			t.Fatalf("DeleteSipMediaApplication: %v", err)
		}
		var nf *types.NotFoundException
		if _, err := voice.GetSipMediaApplication(ctx, &chimesdkvoice.GetSipMediaApplicationInput{SipMediaApplicationId: aws.String(appID)}); !errors.As(err, &nf) {
			t.Fatalf("GetSipMediaApplication after delete: %v, want a NotFoundException", err)
		}
	})

	t.Run("rules", func(t *testing.T) {
		var ids []string
		for _, host := range []string{"pbx1.demo.test", "pbx2.demo.test"} {
			r, err := voice.CreateSipRule(ctx, &chimesdkvoice.CreateSipRuleInput{
				Name: aws.String(host), TriggerType: types.SipRuleTriggerTypeRequestUriHostname, TriggerValue: aws.String(host),
				TargetApplications: []types.SipRuleTargetApplication{{SipMediaApplicationId: aws.String("outbound"), Priority: aws.Int32(1), AwsRegion: aws.String(region)}},
			})
			if err != nil {
				t.Fatalf("CreateSipRule: %v", err)
			}
			ids = append(ids, aws.ToString(r.SipRule.SipRuleId))
		}
		var c *types.ConflictException
		if _, err := voice.CreateSipRule(ctx, &chimesdkvoice.CreateSipRuleInput{
			Name: aws.String("again"), TriggerType: types.SipRuleTriggerTypeToPhoneNumber, TriggerValue: aws.String(tenantNumber),
			TargetApplications: []types.SipRuleTargetApplication{{SipMediaApplicationId: aws.String("outbound"), Priority: aws.Int32(1)}},
		}); !errors.As(err, &c) {
			t.Fatalf("a second rule for a number: %v, want a ConflictException", err)
		}
		var listed []string
		pages := chimesdkvoice.NewListSipRulesPaginator(voice, &chimesdkvoice.ListSipRulesInput{
			SipMediaApplicationId: aws.String("outbound"), MaxResults: aws.Int32(1)})
		for pages.HasMorePages() {
			p, err := pages.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range p.SipRules {
				listed = append(listed, aws.ToString(r.TriggerValue))
			}
		}
		slices.Sort(listed)
		if want := []string{tenantNumber, "pbx1.demo.test", "pbx2.demo.test"}; !slices.Equal(listed, want) {
			t.Fatalf("ListSipRules: %v, want %v", listed, want)
		}
		up, err := voice.UpdateSipRule(ctx, &chimesdkvoice.UpdateSipRuleInput{SipRuleId: aws.String(ids[0]), Name: aws.String("off"), Disabled: aws.Bool(true)})
		if err != nil || !aws.ToBool(up.SipRule.Disabled) || aws.ToString(up.SipRule.Name) != "off" {
			t.Fatalf("UpdateSipRule: %+v, %v", up, err)
		}
		got, err := voice.GetSipRule(ctx, &chimesdkvoice.GetSipRuleInput{SipRuleId: aws.String(ids[0])})
		if err != nil || !aws.ToBool(got.SipRule.Disabled) || got.SipRule.TriggerType != types.SipRuleTriggerTypeRequestUriHostname {
			t.Fatalf("GetSipRule: %+v, %v", got, err)
		}
		if _, err := voice.DeleteSipRule(ctx, &chimesdkvoice.DeleteSipRuleInput{SipRuleId: aws.String(ids[0])}); err != nil {
			t.Fatalf("DeleteSipRule: %v", err)
		}
		var nf *types.NotFoundException
		if _, err := voice.GetSipRule(ctx, &chimesdkvoice.GetSipRuleInput{SipRuleId: aws.String(ids[0])}); !errors.As(err, &nf) {
			t.Fatalf("GetSipRule after delete: %v, want a NotFoundException", err)
		}
	})

	t.Run("wrong secret", func(t *testing.T) {
		creds, err := cfg.Credentials.Retrieve(ctx)
		if err != nil {
			t.Fatal(err)
		}
		bad := cfg.Copy()
		bad.Credentials = credentials.NewStaticCredentialsProvider(creds.AccessKeyID, creds.SecretAccessKey+"x", "")
		var fe *types.ForbiddenException
		_, err = voiceClient(bad, s).ListSipMediaApplications(ctx, &chimesdkvoice.ListSipMediaApplicationsInput{})
		if !errors.As(err, &fe) || fe.Code != types.ErrorCodeForbidden {
			t.Fatalf("wrong secret: %v, want a ForbiddenException", err)
		}
		bad.Credentials = credentials.NewStaticCredentialsProvider("00000000000000ff", creds.SecretAccessKey, "")
		if _, err = voiceClient(bad, s).ListSipMediaApplications(ctx, &chimesdkvoice.ListSipMediaApplicationsInput{}); !errors.As(err, &fe) {
			t.Fatalf("unknown access key: %v, want a ForbiddenException", err)
		}
	})
}
