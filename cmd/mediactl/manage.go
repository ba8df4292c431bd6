package main

import (
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/wasmvoice/mediaserver/host/api"
	"github.com/wasmvoice/mediaserver/host/tenant"
)

const usageAppList = `Usage: mediactl app list

Lists the tenant's applications: their programming model (chime or
iotcomms), and the plugin or webhook each runs.

Example:
  mediactl app list
`

const usageAppCreate = `Usage: mediactl app create [-name NAME] [-webhook URL] [-model chime|iotcomms] [ID]

Creates an application; without ID the server generates one. Prints the id.
Events go to the webhook until a plugin is assigned ("plugin upload -app").
-model picks the programming model: chime (the default: Chime SIP media
application events and actions) or iotcomms (iotcomms SIP Mediaserver
callbacks; a webhook is the base URL its /newCall, /callEvent, … are
POSTed to).

Examples:
  mediactl app create -name "Front desk" front-desk
  mediactl app create -name Legacy -webhook https://example.com/chime-handler
  mediactl app create -model iotcomms -name Alarms -webhook https://example.com/iot alarm
`

const usageAppDelete = `Usage: mediactl app delete ID

Deletes an application (no phone number may route to it).

Example:
  mediactl app delete front-desk
`

const usageNumberList = `Usage: mediactl number list

Lists the tenant's phone numbers and the application each routes to.

Example:
  mediactl number list
`

const usageNumberAdd = `Usage: mediactl number add +E164

Adds a phone number to the tenant.

Example:
  mediactl number add +15550100
`

const usageNumberRemove = `Usage: mediactl number remove +E164

Releases a phone number.

Example:
  mediactl number remove +15550100
`

const usageNumberRoute = `Usage: mediactl number route +E164 APP

Routes calls to the number to application APP (Chime's SIP rule); an empty
APP ('') removes the route.

Examples:
  mediactl number route +15550100 front-desk
  mediactl number route +15550100 ''
`

const usageKeyList = `Usage: mediactl key list

Lists API keys (never their secrets). An admin key without -tenant lists
the admin keys.

Example:
  mediactl key list
`

const usageKeyCreate = `Usage: mediactl key create [NAME]

Creates an API key and prints its secret, which is shown this once.

Example:
  mediactl key create ci > ci-api-key
`

const usageKeyRevoke = `Usage: mediactl key revoke KEY_ID

Revokes an API key at once.

Example:
  mediactl key revoke 0c9f4e21
`

const usageObjectPut = `Usage: mediactl object put BUCKET KEY [FILE | -]

Stores FILE (stdin when omitted or "-") as KEY in the tenant's bucket, e.g.
a prompt that PlayAudio's AudioSource {"Type":"S3","BucketName":BUCKET,
"Key":KEY} plays.

Examples:
  mediactl object put prompts welcome.wav ./welcome.wav
  sox in.mp3 -r 8000 -c 1 -t wav - | mediactl object put prompts menu.wav
`

const usageObjectGet = `Usage: mediactl object get BUCKET KEY [FILE | -]

Writes the object to FILE (stdout when omitted or "-").

Example:
  mediactl object get recordings 2025/01/02/call-1.wav call-1.wav
`

const usageObjectList = `Usage: mediactl object list BUCKET [PREFIX]

Lists the objects of a bucket, optionally only keys starting with PREFIX.

Examples:
  mediactl object list prompts
  mediactl object list recordings 2025/01/
`

const usageObjectDelete = `Usage: mediactl object delete BUCKET KEY

Deletes an object.

Example:
  mediactl object delete prompts old-welcome.wav
`

func (s *session) appList(args []string) error {
	fs := s.flagSet("app list", usageAppList)
	c, _, err := s.connect(fs, args, 0, 0)
	if err != nil {
		return err
	}
	apps, err := c.ListApps(s.ctx)
	if err != nil {
		return s.failed(err)
	}
	if s.json {
		return s.printJSON(api.AppList{SipMediaApplications: apps})
	}
	rows := make([][]string, 0, len(apps))
	for _, a := range apps {
		rows = append(rows, []string{a.SipMediaApplicationID, orDash(a.Name), orDash(a.Model), short(a.Plugin), orDash(a.Webhook)})
	}
	s.table([]string{"ID", "NAME", "MODEL", "PLUGIN", "WEBHOOK"}, rows)
	return nil
}

func (s *session) appCreate(args []string) error {
	fs := s.flagSet("app create", usageAppCreate)
	name := fs.String("name", "", "a display name")
	webhook := fs.String("webhook", "", "an https URL that receives the events while no plugin is assigned")
	model := fs.String("model", "", "chime (default) or iotcomms")
	pos, err := s.parse(fs, args, 0, 1)
	if err != nil {
		return err
	}
	switch *model {
	case "", tenant.ModelChime, tenant.ModelIotcomms:
	default:
		return s.usageErr("app create: -model %q: want chime or iotcomms", *model)
	}
	req := api.CreateAppRequest{Name: *name, Webhook: *webhook, Model: *model}
	if len(pos) == 1 {
		req.SipMediaApplicationID = pos[0]
	}
	c, err := s.client()
	if err != nil {
		return err
	}
	a, err := c.CreateApp(s.ctx, req)
	if err != nil {
		return s.failed(err)
	}
	if s.json {
		return s.printJSON(api.AppResponse{SipMediaApplication: a})
	}
	fmt.Fprintln(s.stdout, a.SipMediaApplicationID)
	return nil
}

func (s *session) appDelete(args []string) error {
	fs := s.flagSet("app delete", usageAppDelete)
	c, pos, err := s.connect(fs, args, 1, 1)
	if err != nil {
		return err
	}
	if err := c.DeleteApp(s.ctx, pos[0]); err != nil {
		return s.failed(err)
	}
	return nil
}

func (s *session) numberList(args []string) error {
	fs := s.flagSet("number list", usageNumberList)
	c, _, err := s.connect(fs, args, 0, 0)
	if err != nil {
		return err
	}
	ns, err := c.ListNumbers(s.ctx)
	if err != nil {
		return s.failed(err)
	}
	if s.json {
		return s.printJSON(api.NumberList{PhoneNumbers: ns})
	}
	rows := make([][]string, 0, len(ns))
	for _, n := range ns {
		rows = append(rows, []string{n.E164PhoneNumber, orDash(n.SipMediaApplicationID), stamp(n.CreatedTimestamp)})
	}
	s.table([]string{"NUMBER", "APP", "CREATED"}, rows)
	return nil
}

func (s *session) numberAdd(args []string) error {
	fs := s.flagSet("number add", usageNumberAdd)
	pos, err := s.parse(fs, args, 1, 1)
	if err != nil {
		return err
	}
	if err := checkE164("number", pos[0]); err != nil {
		return s.usageErr("number add: %v", err)
	}
	c, err := s.client()
	if err != nil {
		return err
	}
	n, err := c.AddNumber(s.ctx, pos[0])
	if err != nil {
		return s.failed(err)
	}
	if s.json {
		return s.printJSON(api.NumberResponse{PhoneNumber: n})
	}
	return nil
}

func (s *session) numberRemove(args []string) error {
	fs := s.flagSet("number remove", usageNumberRemove)
	pos, err := s.parse(fs, args, 1, 1)
	if err != nil {
		return err
	}
	if err := checkE164("number", pos[0]); err != nil {
		return s.usageErr("number remove: %v", err)
	}
	c, err := s.client()
	if err != nil {
		return err
	}
	if err := c.RemoveNumber(s.ctx, pos[0]); err != nil {
		return s.failed(err)
	}
	return nil
}

func (s *session) numberRoute(args []string) error {
	fs := s.flagSet("number route", usageNumberRoute)
	pos, err := s.parse(fs, args, 2, 2)
	if err != nil {
		return err
	}
	if err := checkE164("number", pos[0]); err != nil {
		return s.usageErr("number route: %v", err)
	}
	c, err := s.client()
	if err != nil {
		return err
	}
	n, err := c.SetRule(s.ctx, pos[0], pos[1])
	if err != nil {
		return s.failed(err)
	}
	if s.json {
		return s.printJSON(api.NumberResponse{PhoneNumber: n})
	}
	return nil
}

func (s *session) keyList(args []string) error {
	fs := s.flagSet("key list", usageKeyList)
	c, _, err := s.connect(fs, args, 0, 0)
	if err != nil {
		return err
	}
	keys, err := c.ListKeys(s.ctx)
	if err != nil {
		return s.failed(err)
	}
	if s.json {
		return s.printJSON(api.KeyList{Keys: keys})
	}
	rows := make([][]string, 0, len(keys))
	for _, k := range keys {
		owner := orDash(k.TenantID)
		if k.Admin {
			owner = "(admin)"
		}
		rows = append(rows, []string{k.KeyID, orDash(k.Name), owner, stamp(k.CreatedTimestamp), stamp(k.LastUsed)})
	}
	s.table([]string{"ID", "NAME", "TENANT", "CREATED", "LAST USED"}, rows)
	return nil
}

func (s *session) keyCreate(args []string) error {
	fs := s.flagSet("key create", usageKeyCreate)
	pos, err := s.parse(fs, args, 0, 1)
	if err != nil {
		return err
	}
	name := ""
	if len(pos) == 1 {
		name = pos[0]
	}
	c, err := s.client()
	if err != nil {
		return err
	}
	k, err := c.CreateKey(s.ctx, name)
	if err != nil {
		return s.failed(err)
	}
	if s.json {
		return s.printJSON(k)
	}
	// The secret alone on stdout, so it can be redirected into a file.
	fmt.Fprintln(s.stdout, k.Secret)
	fmt.Fprintf(s.stderr, "created key %s; its secret is shown this once\n", k.Key.KeyID)
	return nil
}

func (s *session) keyRevoke(args []string) error {
	fs := s.flagSet("key revoke", usageKeyRevoke)
	c, pos, err := s.connect(fs, args, 1, 1)
	if err != nil {
		return err
	}
	if err := c.RevokeKey(s.ctx, pos[0]); err != nil {
		return s.failed(err)
	}
	return nil
}

func (s *session) objectPut(args []string) error {
	fs := s.flagSet("object put", usageObjectPut)
	pos, err := s.parse(fs, args, 2, 3)
	if err != nil {
		return err
	}
	var body io.Reader = s.stdin
	if len(pos) == 3 && pos[2] != "-" {
		f, err := os.Open(pos[2])
		if err != nil {
			return s.usageErr("object put: %v", err)
		}
		defer f.Close()
		body = f
	}
	c, err := s.client()
	if err != nil {
		return err
	}
	o, err := c.PutObject(s.ctx, pos[0], pos[1], body)
	if err != nil {
		return s.failed(err)
	}
	if s.json {
		return s.printJSON(api.ObjectResponse{Object: o})
	}
	fmt.Fprintf(s.stdout, "%s/%s %d bytes\n", o.Bucket, o.Key, o.Size)
	return nil
}

func (s *session) objectGet(args []string) error {
	fs := s.flagSet("object get", usageObjectGet)
	c, pos, err := s.connect(fs, args, 2, 3)
	if err != nil {
		return err
	}
	if len(pos) < 3 || pos[2] == "-" {
		if err := c.GetObject(s.ctx, pos[0], pos[1], s.stdout); err != nil {
			return s.failed(err)
		}
		return nil
	}
	return s.download("object get", pos[2], func(w io.Writer) error {
		return c.GetObject(s.ctx, pos[0], pos[1], w)
	})
}

func (s *session) objectList(args []string) error {
	fs := s.flagSet("object list", usageObjectList)
	pos, err := s.parse(fs, args, 1, 2)
	if err != nil {
		return err
	}
	prefix := ""
	if len(pos) == 2 {
		prefix = pos[1]
	}
	c, err := s.client()
	if err != nil {
		return err
	}
	objs, err := c.ListObjects(s.ctx, pos[0], prefix)
	if err != nil {
		return s.failed(err)
	}
	if s.json {
		return s.printJSON(api.ObjectList{Objects: objs})
	}
	rows := make([][]string, 0, len(objs))
	for _, o := range objs {
		rows = append(rows, []string{o.Key, strconv.FormatInt(o.Size, 10), stamp(o.LastModified)})
	}
	s.table([]string{"KEY", "SIZE", "MODIFIED"}, rows)
	return nil
}

func (s *session) objectDelete(args []string) error {
	fs := s.flagSet("object delete", usageObjectDelete)
	c, pos, err := s.connect(fs, args, 2, 2)
	if err != nil {
		return err
	}
	if err := c.DeleteObject(s.ctx, pos[0], pos[1]); err != nil {
		return s.failed(err)
	}
	return nil
}
