package engine

import (
	"fmt"
	"strings"
	"time"

	"github.com/wasmvoice/mediaserver/abi"
)

// Call recording: StartCallRecording, StopCallRecording,
// PauseCallRecording, ResumeCallRecording. A recording runs in the
// background, so each action succeeds at once.

// defaultRecordingPrefix is the key prefix Chime uses when Location names
// only a bucket.
const defaultRecordingPrefix = "Amazon-Chime-SMA-Call-Recordings"

// callRecordingKey splits Location ("bucket" or "bucket/prefix") and builds
// Chime's key: {prefix}/{yyyy}/{mm}/{dd}/{yyyy-mm-dd-hh-mm-ss-mmm}_{transactionId}_{callId}.wav,
// t in UTC.
// See https://docs.aws.amazon.com/chime-sdk/latest/dg/start-call-recording.html
func callRecordingKey(location, txID, callID string, t time.Time) (bucket, key string) {
	bucket, prefix, _ := strings.Cut(location, "/")
	prefix = strings.Trim(prefix, "/")
	if prefix == "" {
		prefix = defaultRecordingPrefix
	}
	t = t.UTC()
	stamp := strings.Replace(t.Format("2006-01-02-15-04-05.000"), ".", "-", 1)
	return bucket, prefix + "/" + t.Format("2006/01/02") + "/" + stamp + "_" + txID + "_" + callID + ".wav"
}

// validLocation accepts "bucket" or "bucket/prefix" without empty, "." or
// ".." segments (but a trailing "/"), backslashes or control characters:
// the bucket store checks names too, this only gives the plugin a clear
// error.
func validLocation(loc string) bool {
	if strings.ContainsFunc(loc, func(r rune) bool { return r < 0x20 || r == 0x7f || r == '\\' }) {
		return false
	}
	segs := strings.Split(strings.TrimSuffix(loc, "/"), "/")
	for _, s := range segs {
		if s == "" || s == "." || s == ".." {
			return false
		}
	}
	return true
}

func startCallRecording(c *Call, a abi.Action, params any) (runner, outcome) {
	p := params.(*abi.StartCallRecordingParameters)
	switch {
	case p.CallID == "":
		return nil, missing(a.Type, "CallId")
	case p.Track != abi.TrackBoth && p.Track != abi.TrackIncoming && p.Track != abi.TrackOutgoing:
		return nil, invalid(a.Type, "Track", "must be BOTH, INCOMING or OUTGOING")
	case p.Destination.Type != "S3":
		return nil, invalid(a.Type, "Destination.Type", "must be S3")
	case !validLocation(p.Destination.Location):
		return nil, invalid(a.Type, "Destination.Location", "must be a bucket name and an optional prefix")
	}
	l := c.target
	if l.recUsed {
		return nil, failed(abi.InvalidActionParameter, fmt.Sprintf("%s: call leg %s has already been recorded", a.Type, l.tag))
	}
	rec, ok := l.leg.(CallRecorder)
	if !ok {
		return nil, failed(abi.SystemException, fmt.Sprintf("%s: call recording is not supported by this leg", a.Type))
	}
	bucket, key := callRecordingKey(p.Destination.Location, c.txID, l.id(), c.e.cfg.Clock.Now())
	h, err := rec.StartCallRecording(CallRecordingRequest{BucketName: bucket, Key: key, Track: p.Track}, func(err error) {
		c.post(func() { c.log.Warn("call recording broke off", "participant", l.tag, "key", key, "err", err) })
	})
	if err != nil {
		return nil, failed(abi.SystemException, fmt.Sprintf("%s: %v", a.Type, err))
	}
	l.recUsed = true
	l.rec = h
	return nil, outcome{callRecording: &abi.CallRecordingDestination{Type: "S3", Location: bucket + "/" + key}}
}

// recordingOf returns the target leg's recording in progress, or the
// failure of an action that needs one.
func recordingOf(c *Call, t abi.ActionType, callID string) (*participant, outcome) {
	if callID == "" {
		return nil, missing(t, "CallId")
	}
	l := c.target
	if l.rec == nil {
		return nil, failed(abi.InvalidActionParameter, fmt.Sprintf("%s: no call recording in progress on call leg %s", t, l.tag))
	}
	return l, outcome{}
}

func stopCallRecording(c *Call, a abi.Action, params any) (runner, outcome) {
	l, out := recordingOf(c, a.Type, params.(*abi.StopCallRecordingParameters).CallID)
	if l == nil {
		return nil, out
	}
	rec := l.rec
	l.rec = nil
	if err := rec.Stop(); err != nil {
		return nil, failed(abi.SystemException, fmt.Sprintf("%s: %v", a.Type, err))
	}
	return nil, outcome{}
}

func pauseCallRecording(c *Call, a abi.Action, params any) (runner, outcome) {
	l, out := recordingOf(c, a.Type, params.(*abi.PauseCallRecordingParameters).CallID)
	if l == nil {
		return nil, out
	}
	if err := l.rec.Pause(); err != nil {
		return nil, failed(abi.SystemException, fmt.Sprintf("%s: %v", a.Type, err))
	}
	return nil, outcome{}
}

func resumeCallRecording(c *Call, a abi.Action, params any) (runner, outcome) {
	l, out := recordingOf(c, a.Type, params.(*abi.ResumeCallRecordingParameters).CallID)
	if l == nil {
		return nil, out
	}
	if err := l.rec.Resume(); err != nil {
		return nil, failed(abi.SystemException, fmt.Sprintf("%s: %v", a.Type, err))
	}
	return nil, outcome{}
}
