package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/wasmvoice/mediaserver/host/api"
	"github.com/wasmvoice/mediaserver/host/api/client"
)

// The iotcomms SIP Mediaserver operations ("iot …") and its prompt files
// ("promptfile …"), over host/api/iotcomms.go.

const usageIotPlace = `Usage: mediactl iot place -dest ADDR [-from ADDR] [-app ID] [-timeout S] [-header K=V]...

Calls a device and connects it to an IVR participant of a new session of
an iotcomms application (iotcomms' /placeivrcall); the application's
callbacks (or plugin) then run the session. Prints the session's id and
the device's participant id on one line, while the device still rings.
A session's participants are SESSION/p1, SESSION/p2, …, its connections
SESSION/1, SESSION/2, …: the ids its callbacks carry.

-dest is a number, dialled through the trunks if the tenant's dial policy
allows its prefix, or a SIP URI, called directly if the policy allows its
host (else routed by its user part, as a number). -app may be left out when the tenant has
exactly one iotcomms application. -timeout bounds the ringing (seconds,
default 60, at most 300). -header adds a SIP header to the INVITE (X-…,
User-to-User or Diversion).

Examples:
  mediactl iot place -dest +15550123
  mediactl iot place -app alarm -dest sip:panel@127.0.0.1:5090 -from +15550100 -timeout 30 -header X-Site=7
  set -- $(mediactl iot place -dest +15550123); SESSION=$1 PARTICIPANT=$2
`

const usageIotSplit = `Usage: mediactl iot split CONNECTION_ID [-reply REPLY_ID]

Splits a connection (iotcomms' /splitconnection): each side gets a
callEvent (callerConnectionSplit, calleeConnectionSplit) and the
application decides what becomes of it. -reply, when given, must be the
connection's replyId (from callAnswered).

Example:
  mediactl iot split "$SESSION/1"
  mediactl iot split "$SESSION/1" -reply "$REPLY_ID"
`

const usageIotConnect = `Usage: mediactl iot connect PARTICIPANT_ID PARTICIPANT_ID2

Connects two answered participants of one session (iotcomms' /connect),
e.g. a parked caller with the agent it was transferred to.

Example:
  mediactl iot connect "$SESSION/p1" "$SESSION/p3"
`

const usageIotConference = `Usage: mediactl iot conference SESSION_ID

Adds an empty conference connection to a session (iotcomms'
/createconferenceconnection) and prints its connection id: answer a
callEvent with joinconferenceconnection and that id to bring a
participant in.

Example:
  CONF=$(mediactl iot conference "$SESSION")
`

const usageIotInterrupt = `Usage: mediactl iot interrupt PARTICIPANT_ID

Ends an IVR participant's current command, or its getIVRCommandAfter wait
(iotcomms' /interruptivrcommand): the application gets getIvrCommand at
once.

Example:
  mediactl iot interrupt "$SESSION/p2"
`

const usageIotHangup = `Usage: mediactl iot hangup PARTICIPANT_ID

Hangs a participant of a session up (iotcomms' /hangupparticipant).

Example:
  mediactl iot hangup "$SESSION/p1"
`

const usageIotStopRecording = `Usage: mediactl iot stoprecording SESSION_ID

Stops a session's recording (iotcomms' /stoprecording); the application
gets recordingReady when the file is stored ("promptfile get" fetches it).

Example:
  mediactl iot stoprecording "$SESSION"
`

const usagePromptPut = `Usage: mediactl promptfile put NAME FILE|-

Uploads FILE (stdin with "-") as prompt file NAME, which an iotcomms IVR
command plays with a phrase {"format":"file","fileName":NAME}. The server
decodes it first and refuses what it cannot play (WAV or MP3). Prints the
name and size.

Examples:
  mediactl speak "Welcome." -o welcome.wav && mediactl promptfile put welcome.wav welcome.wav
  sox in.mp3 -r 8000 -c 1 -t wav - | mediactl promptfile put menu.wav -
`

const usagePromptGet = `Usage: mediactl promptfile get NAME [-o FILE]

Downloads a prompt file or a finished recording to stdout, or to FILE with
-o (written only once the whole file arrived).

Examples:
  mediactl promptfile get welcome.wav > welcome.wav
  mediactl promptfile get -o call.wav alarm-2025-01-02.wav
`

const usagePromptList = `Usage: mediactl promptfile list [-prefix P]

Lists the prompt files and finished recordings, optionally only the names
starting with P.

Examples:
  mediactl promptfile list
  mediactl promptfile list -prefix alarm-
`

const usagePromptDelete = `Usage: mediactl promptfile delete NAME

Deletes a prompt file or recording.

Example:
  mediactl promptfile delete old-welcome.wav
`

// printEmpty prints the operations' answer, an empty object, with -json.
func (s *session) printEmpty() error {
	if s.json {
		return s.printJSON(struct{}{})
	}
	return nil
}

func (s *session) iotPlace(args []string) error {
	fs := s.flagSet("iot place", usageIotPlace)
	dest := fs.String("dest", "", "the device: a number or a SIP URI (required)")
	from := fs.String("from", "", "the caller id")
	app := fs.String("app", "", "the iotcomms application (default: the tenant's only one)")
	timeout := fs.Int("timeout", 0, "seconds the device may ring, 1 to 300 (default: the server's, 60)")
	var headers listFlag
	fs.Var(&headers, "header", "a SIP header K=V for the INVITE (repeatable)")
	if _, err := s.parse(fs, args, 0, 0); err != nil {
		return err
	}
	if *dest == "" {
		return s.usageErr("iot place: -dest is required (see -h)")
	}
	if *timeout < 0 || *timeout > 300 {
		return s.usageErr("iot place: -timeout %d: want 1 to 300 seconds", *timeout)
	}
	hdr, err := keyValues("-header", headers)
	if err != nil {
		return s.usageErr("iot place: %v", err)
	}
	c, err := s.client()
	if err != nil {
		return err
	}
	req := api.PlaceIvrCallRequest{DestAddr: *dest, FromAddr: *from, ApplicationID: *app, Timeout: *timeout}
	if len(hdr) > 0 {
		req.Headers = hdr
	}
	res, err := c.PlaceIvrCall(s.ctx, req)
	if err != nil {
		return s.failed(err)
	}
	if s.json {
		return s.printJSON(res)
	}
	fmt.Fprintln(s.stdout, res.SessionID, res.ParticipantID)
	return nil
}

func (s *session) iotSplit(args []string) error {
	fs := s.flagSet("iot split", usageIotSplit)
	reply := fs.String("reply", "", "the connection's replyId (from callAnswered)")
	c, pos, err := s.connect(fs, args, 1, 1)
	if err != nil {
		return err
	}
	if err := c.SplitConnection(s.ctx, pos[0], *reply); err != nil {
		return s.failed(err)
	}
	return s.printEmpty()
}

func (s *session) iotConnect(args []string) error {
	fs := s.flagSet("iot connect", usageIotConnect)
	c, pos, err := s.connect(fs, args, 2, 2)
	if err != nil {
		return err
	}
	if err := c.Connect(s.ctx, pos[0], pos[1]); err != nil {
		return s.failed(err)
	}
	return s.printEmpty()
}

func (s *session) iotConference(args []string) error {
	fs := s.flagSet("iot conference", usageIotConference)
	c, pos, err := s.connect(fs, args, 1, 1)
	if err != nil {
		return err
	}
	id, err := c.CreateConferenceConnection(s.ctx, pos[0])
	if err != nil {
		return s.failed(err)
	}
	if s.json {
		return s.printJSON(api.ConnectionResponse{ConnectionID: id})
	}
	fmt.Fprintln(s.stdout, id)
	return nil
}

// iotOneID runs an operation on one id that answers {}.
func (s *session) iotOneID(name, usage string, args []string, op func(*client.Client, string) error) error {
	fs := s.flagSet(name, usage)
	c, pos, err := s.connect(fs, args, 1, 1)
	if err != nil {
		return err
	}
	if err := op(c, pos[0]); err != nil {
		return s.failed(err)
	}
	return s.printEmpty()
}

func (s *session) iotInterrupt(args []string) error {
	return s.iotOneID("iot interrupt", usageIotInterrupt, args, func(c *client.Client, id string) error {
		return c.InterruptIvrCommand(s.ctx, id)
	})
}

func (s *session) iotHangup(args []string) error {
	return s.iotOneID("iot hangup", usageIotHangup, args, func(c *client.Client, id string) error {
		return c.HangupParticipant(s.ctx, id)
	})
}

func (s *session) iotStopRecording(args []string) error {
	return s.iotOneID("iot stoprecording", usageIotStopRecording, args, func(c *client.Client, id string) error {
		return c.StopRecording(s.ctx, id)
	})
}

// badKey reports a key the client refused to send as a usage error.
func (s *session) badKey(cmd string, err error) error {
	if errors.Is(err, client.ErrBadKey) {
		return s.usageErr("%s: %v", cmd, unwrapClient(err))
	}
	return s.failed(err)
}

// unwrapClient drops the client's "client: " prefix.
func unwrapClient(err error) string {
	msg, _ := strings.CutPrefix(err.Error(), "client: ")
	return msg
}

func (s *session) promptPut(args []string) error {
	fs := s.flagSet("promptfile put", usagePromptPut)
	pos, err := s.parse(fs, args, 2, 2)
	if err != nil {
		return err
	}
	var body io.Reader = s.stdin
	if pos[1] != "-" {
		f, err := os.Open(pos[1])
		if err != nil {
			return s.usageErr("promptfile put: %v", err)
		}
		defer f.Close()
		body = f
	}
	c, err := s.client()
	if err != nil {
		return err
	}
	pf, err := c.PutPromptFile(s.ctx, pos[0], body)
	if err != nil {
		return s.badKey("promptfile put", err)
	}
	if s.json {
		return s.printJSON(pf)
	}
	fmt.Fprintf(s.stdout, "%s %d bytes\n", pf.FileName, pf.Size)
	return nil
}

func (s *session) promptGet(args []string) error {
	fs := s.flagSet("promptfile get", usagePromptGet)
	out := fs.String("o", "", "write to this file instead of stdout")
	c, pos, err := s.connect(fs, args, 1, 1)
	if err != nil {
		return err
	}
	if *out == "" || *out == "-" {
		if err := c.GetPromptFile(s.ctx, pos[0], s.stdout); err != nil {
			return s.badKey("promptfile get", err)
		}
		return nil
	}
	return s.download("promptfile get", *out, func(w io.Writer) error {
		return c.GetPromptFile(s.ctx, pos[0], w)
	})
}

// download writes what get writes to path, through a file beside it that
// is renamed once complete: a failed download never leaves a truncated
// file under the name asked for.
func (s *session) download(cmd, path string, get func(io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".mediactl-*")
	if err != nil {
		return s.usageErr("%s: %v", cmd, err)
	}
	defer os.Remove(tmp.Name())
	err = get(tmp)
	if cerr := tmp.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return s.badKey(cmd, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		fmt.Fprintf(s.stderr, "mediactl: %s: %v\n", cmd, err)
		return exitError{exitFailure}
	}
	return nil
}

func (s *session) promptList(args []string) error {
	fs := s.flagSet("promptfile list", usagePromptList)
	prefix := fs.String("prefix", "", "only names starting with this")
	c, _, err := s.connect(fs, args, 0, 0)
	if err != nil {
		return err
	}
	files, err := c.ListPromptFiles(s.ctx, *prefix)
	if err != nil {
		return s.failed(err)
	}
	if s.json {
		return s.printJSON(api.PromptFileList{PromptFiles: files})
	}
	rows := make([][]string, 0, len(files))
	for _, f := range files {
		rows = append(rows, []string{f.FileName, strconv.FormatInt(f.Size, 10), stamp(f.LastModified)})
	}
	s.table([]string{"NAME", "SIZE", "MODIFIED"}, rows)
	return nil
}

func (s *session) promptDelete(args []string) error {
	fs := s.flagSet("promptfile delete", usagePromptDelete)
	c, pos, err := s.connect(fs, args, 1, 1)
	if err != nil {
		return err
	}
	if err := c.DeletePromptFile(s.ctx, pos[0]); err != nil {
		return s.badKey("promptfile delete", err)
	}
	return nil
}
