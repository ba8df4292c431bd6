// Command iot-alarm-go is the iotcomms seed's alarm call: the application
// has the server call an alarm device with /placeivrcall; when the device
// answers it meets an IVR, whose command connects it to the alarm-receiving
// centre (ARC). If the ARC does not answer, a backup ARC is called; when
// either side hangs up the other is dropped. A device that calls in (an
// inbound newCall) takes the same path.
package main

import (
	"strconv"

	ms "github.com/wasmvoice/mediaserver/sdk/go"
)

// The alarm-receiving centres: numbers, dialled through the server's
// trunks.
const (
	arc       = "+15550911"
	backupARC = "+15550912"
)

// Session state (ms.Session keys).
const keyBackup = "backup" // the backup ARC was called

func init() { ms.HandleIot(handle) }

func main() { ms.Main() }

func handle(r *ms.IotRequest) (ms.IotReply, error) {
	s := ms.Session(r.SessionID)
	switch r.Callback {
	case ms.CallbackNewCall:
		if r.Direction == "outbound" {
			// /placeivrcall's device: the server connects it to an IVR
			// when it answers (this answer is not used).
			ms.Log(ms.LevelInfo, "alarm call to "+r.To)
			return nil, nil
		}
		return ms.IvrAnswer(), nil // a device calling in
	case ms.CallbackGetIvrCommand:
		// The device is connected to the IVR: connect it to the ARC
		// instead (the IVR leaves).
		return ms.IvrCall(arc), nil
	case ms.CallbackCallEvent:
		if r.Event != ms.EventCallFailed {
			return ms.DropAnswer(), nil // the device or the ARC hung up
		}
		done, err := s.Get(keyBackup)
		if err != nil || done != "" {
			ms.Log(ms.LevelWarn, "no alarm-receiving centre answered: SIP "+strconv.Itoa(r.Code))
			return ms.DropAnswer(), err
		}
		ms.Log(ms.LevelWarn, "the alarm-receiving centre did not answer (SIP "+strconv.Itoa(r.Code)+"): calling the backup")
		return ms.CallAnswer(backupARC), s.Set(keyBackup, "1")
	case ms.CallbackSessionCompleted:
		return nil, s.Delete(keyBackup)
	}
	return nil, nil // callNotify, callAnswered
}
