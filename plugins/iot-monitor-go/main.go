// Command iot-monitor-go is the iotcomms seed's call monitoring: each call
// is connected to the callee, and after the first callAnswered the server
// calls the monitor, who hears both parties while nobody hears the
// monitor. When either side hangs up the other is dropped (and the monitor
// with them).
package main

import ms "github.com/wasmvoice/mediaserver/sdk/go"

// The callee and the monitor: numbers, dialled through the server's trunks.
const (
	callee  = "+15550202"
	monitor = "+15550299"
)

func init() { ms.HandleIot(handle) }

func main() { ms.Main() }

func handle(r *ms.IotRequest) (ms.IotReply, error) {
	switch r.Callback {
	case ms.CallbackNewCall:
		return ms.CallAnswer(callee).WithMonitor(monitor), nil
	case ms.CallbackCallEvent:
		return ms.DropAnswer(), nil // one side hung up, or the callee did not answer
	}
	return nil, nil // callNotify, callAnswered, sessionCompleted
}
