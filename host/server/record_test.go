package server

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"io/fs"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/wasmvoice/mediaserver/abi"
	"github.com/wasmvoice/mediaserver/host/config"
	"github.com/wasmvoice/mediaserver/media"
	"github.com/wasmvoice/mediaserver/media/codec"
	"github.com/wasmvoice/mediaserver/media/wav"
)

// sippPCAP is sipp's bundled G.711 A-law stream (30 ms packets).
const sippPCAP = "/usr/share/sip-tester/g711a.pcap"

// readPCAPPayloads returns the UDP payloads of an Ethernet pcap file.
func readPCAPPayloads(t testing.TB, path string) [][]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 24 || binary.LittleEndian.Uint32(b) != 0xa1b2c3d4 || binary.LittleEndian.Uint32(b[20:]) != 1 {
		t.Fatalf("%s: not a little-endian Ethernet pcap", path)
	}
	var out [][]byte
	for off := 24; off+16 <= len(b); {
		n := int(binary.LittleEndian.Uint32(b[off+8:]))
		off += 16
		if off+n > len(b) {
			t.Fatalf("%s: truncated record", path)
		}
		pkt := b[off : off+n]
		off += n
		ihl := int(pkt[14]&0x0f) * 4
		out = append(out, pkt[14+ihl+8:])
	}
	return out
}

// pcmaFrames decodes sipp's A-law pcap into 20 ms frames of PCM.
func pcmaFrames(t testing.TB) []codec.PCM16 {
	t.Helper()
	var pcm codec.PCM16
	for _, p := range readPCAPPayloads(t, sippPCAP) {
		if len(p) < 12 || p[1]&0x7f != 8 {
			t.Fatalf("unexpected packet in %s", sippPCAP)
		}
		payload := p[12:]
		s := make(codec.PCM16, len(payload))
		codec.PCMA.Decode(s, payload)
		pcm = append(pcm, s...)
	}
	var frames []codec.PCM16
	for i := 0; i+codec.FrameSamples <= len(pcm); i += codec.FrameSamples {
		frames = append(frames, pcm[i:i+codec.FrameSamples])
	}
	return frames
}

// writeRTPPCAP writes frames as a 20 ms PCMA RTP stream in an Ethernet pcap
// for sipp's play_pcap_audio (which rewrites addresses and ports).
func writeRTPPCAP(frames []codec.PCM16) []byte { return writeRTPPCAPAs(frames, codec.PCMA, 8) }

// writeRTPPCAPAs is writeRTPPCAP in codec c with payload type pt.
func writeRTPPCAPAs(frames []codec.PCM16, c codec.Codec, pt uint8) []byte {
	var w bytes.Buffer
	hdr := make([]byte, 24)
	binary.LittleEndian.PutUint32(hdr[0:], 0xa1b2c3d4)
	binary.LittleEndian.PutUint16(hdr[4:], 2)
	binary.LittleEndian.PutUint16(hdr[6:], 4)
	binary.LittleEndian.PutUint32(hdr[16:], 65535)
	binary.LittleEndian.PutUint32(hdr[20:], 1)
	w.Write(hdr)
	for i, f := range frames {
		rtp := make([]byte, 12+codec.FrameSamples)
		rtp[0], rtp[1] = 0x80, pt
		if i == 0 {
			rtp[1] |= 0x80
		}
		binary.BigEndian.PutUint16(rtp[2:], uint16(1000+i))
		binary.BigEndian.PutUint32(rtp[4:], uint32(160*i))
		binary.BigEndian.PutUint32(rtp[8:], 0x5eed)
		c.Encode(rtp[12:], f)
		udp := make([]byte, 8)
		binary.BigEndian.PutUint16(udp[0:], 6000)
		binary.BigEndian.PutUint16(udp[2:], 6000)
		binary.BigEndian.PutUint16(udp[4:], uint16(8+len(rtp)))
		ip := []byte{0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, 17, 0, 0, 127, 0, 0, 1, 127, 0, 0, 1}
		binary.BigEndian.PutUint16(ip[2:], uint16(20+8+len(rtp)))
		var sum uint32
		for j := 0; j < 20; j += 2 {
			sum += uint32(binary.BigEndian.Uint16(ip[j:]))
		}
		for sum > 0xffff {
			sum = sum&0xffff + sum>>16
		}
		binary.BigEndian.PutUint16(ip[10:], ^uint16(sum))
		eth := []byte{0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 2, 0x08, 0x00}
		pkt := append(append(append(eth, ip...), udp...), rtp...)
		rec := make([]byte, 16)
		us := i * 20000
		binary.LittleEndian.PutUint32(rec[0:], uint32(1_700_000_000+us/1_000_000))
		binary.LittleEndian.PutUint32(rec[4:], uint32(us%1_000_000))
		binary.LittleEndian.PutUint32(rec[8:], uint32(len(pkt)))
		binary.LittleEndian.PutUint32(rec[12:], uint32(len(pkt)))
		w.Write(rec)
		w.Write(pkt)
	}
	return w.Bytes()
}

// mediaEndpoints returns the RTP endpoints of the answered legs.
func (ts *testServer) mediaEndpoints() []*media.Endpoint { return ts.legs.Endpoints() }

// TestSippRecordAudio: sipp streams known audio (sipp's A-law sample,
// re-framed to 20 ms) while the handler records the caller for about 3 s,
// with RecordAudio or with StartCallRecording; a stranger meanwhile sends
// garbage and foreign RTP to the call's port. The WAV in the bucket store
// must hold the streamed audio, frame for frame, and nothing of the
// stranger's.
func TestSippRecordAudio(t *testing.T) {
	t.Parallel()
	requireTool(t, "sipp", "sip-tester")
	requireFile(t, sippPCAP, "install the Debian package sip-tester")
	frames := pcmaFrames(t)
	hangup := `{"Type":"Hangup","Parameters":{"SipResponseCode":"0"}}`
	tests := []struct {
		name string
		// first is the response to NEW_INBOUND_CALL; a successful action
		// list is answered with a Hangup.
		first func(callID string) string
		// maxSeconds bounds the recording's length (the minimum is 2.6 s).
		maxSeconds float64
	}{
		{name: "RecordAudio", first: func(string) string {
			return actions(`{"Type":"RecordAudio","Parameters":{"DurationInSeconds":3,"RecordingTerminators":["#"],` +
				`"RecordingDestination":{"Type":"S3","BucketName":"recordings","Prefix":"calls"}}}`)
		}, maxSeconds: 3.4},
		{name: "StartCallRecording", first: func(callID string) string {
			return actions(`{"Type":"StartCallRecording","Parameters":{"CallId":"`+callID+`","Track":"INCOMING",`+
				`"Destination":{"Type":"S3","Location":"recordings/callrec"}}}`,
				`{"Type":"Pause","Parameters":{"DurationInMilliseconds":3000}}`)
		}, maxSeconds: 3.8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := webhookApp(t, "recorder", "+15550120", func(ev *abi.Event) string {
				switch ev.InvocationEventType {
				case abi.EventNewInboundCall:
					return tt.first(ev.CallDetails.Participants[0].CallID)
				case abi.EventActionSuccessful:
					return actions(hangup)
				}
				return actions()
			})
			ts := startTestServer(t, nil, []config.Application{app})
			strangerDone := make(chan media.Stats, 1)
			go stranger(ts, strangerDone)
			runSipp(t, ts, sippOptions{Scenario: "uac_record", Service: "+15550120",
				Files: map[string][]byte{"audio.pcap": writeRTPPCAP(frames)}})
			ts.waitIdle(t)
			st := <-strangerDone
			if st.RxForeign < 50 || st.RxMalformed == 0 {
				t.Fatalf("endpoint stats %+v: the stranger's packets were not seen as foreign/malformed", st)
			}
			var wavs []string
			root := filepath.Join(ts.Config.DataDir, "buckets", "demo", "recordings")
			filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
				if err == nil && !d.IsDir() && filepath.Ext(p) == ".wav" {
					wavs = append(wavs, p)
				}
				return nil
			})
			if len(wavs) != 1 {
				t.Fatalf("recordings in the bucket store: %v, want one", wavs)
			}
			rec, info, err := wav.ReadFile(wavs[0])
			if err != nil {
				t.Fatalf("recording %s: %v", wavs[0], err)
			}
			if info.Channels != 1 || info.SampleRate != 8000 {
				t.Fatalf("recording format %+v, want mono 8 kHz", info)
			}
			// About 3 s, give or take the scheduling of the stop.
			if n := len(rec); n < 2600*8 || float64(n) > tt.maxSeconds*8000 {
				t.Fatalf("recording has %d samples, want 20800..%.0f (about 3 s)", n, tt.maxSeconds*8000)
			}
			checkRecordedFrames(t, rec, frames)
		})
	}
}

// stranger waits until the call's RTP flows (the endpoint has latched to
// sipp), then sends garbage and well-formed RTP from a foreign port, and
// reports the endpoint's counters.
func stranger(ts *testServer, done chan<- media.Stats) {
	var ep *media.Endpoint
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if eps := ts.mediaEndpoints(); len(eps) == 1 && eps[0].Stats().RxPackets > 10 {
			ep = eps[0]
			break
		}
	}
	if ep == nil {
		done <- media.Stats{}
		return
	}
	c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(ep.LocalAddr()))
	if err != nil {
		done <- media.Stats{}
		return
	}
	defer c.Close()
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 30; i++ {
		junk := make([]byte, rng.IntN(300))
		for j := range junk {
			junk[j] = byte(rng.Uint32())
		}
		c.Write(junk)
		c.Write([]byte{0x80, 0x08, 0, 1}) // a truncated RTP header
	}
	loud := make([]byte, 12+160)
	loud[0], loud[1] = 0x80, 8
	for i := 0; i < 50; i++ {
		binary.BigEndian.PutUint16(loud[2:], uint16(i))
		binary.BigEndian.PutUint32(loud[4:], uint32(160*i))
		binary.BigEndian.PutUint32(loud[8:], 0xbad)
		for j := 12; j < len(loud); j++ {
			loud[j] = byte(rng.Uint32())
		}
		c.Write(loud)
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond)
	done <- ep.Stats()
}

// checkRecordedFrames checks that every audible 20 ms frame of rec is one
// of the source frames, in stream order, and that most of the stream
// that fits in the recording is there.
func checkRecordedFrames(t *testing.T, rec codec.PCM16, src []codec.PCM16) {
	t.Helper()
	hash := func(f codec.PCM16) [32]byte {
		var b bytes.Buffer
		binary.Write(&b, binary.LittleEndian, f)
		return sha256.Sum256(b.Bytes())
	}
	// A frame may occur more than once in the source (the sample loops):
	// each content maps to every position, and a recorded frame matches
	// the first position after the previous match.
	index := map[[32]byte][]int{}
	for i, f := range src {
		if media.FrameDBFS(f) > -60 {
			index[hash(f)] = append(index[hash(f)], i)
		}
	}
	matched, unmatched, concealed, last, first := 0, 0, 0, -1, -1
	for off := 0; off+codec.FrameSamples <= len(rec); off += codec.FrameSamples {
		f := rec[off : off+codec.FrameSamples]
		if media.FrameDBFS(f) <= -60 {
			continue
		}
		positions, ok := index[hash(f)]
		if !ok {
			unmatched++
			continue
		}
		i := -1
		for _, p := range positions {
			if p > last {
				i = p
				break
			}
		}
		if i < 0 && slices.Contains(positions, last) {
			concealed++ // the jitter buffer repeated the last frame for a late one
			continue
		}
		if i < 0 {
			t.Fatalf("recorded frame %d is source frame %v, none after source frame %d: out of order", off/160, positions, last)
		}
		if first < 0 {
			first = off / codec.FrameSamples
		}
		last = i
		matched++
	}
	audible := len(rec)/codec.FrameSamples - max(first, 0)
	t.Logf("recording: %d frames, first audio at frame %d, %d matched, %d repeated, %d unmatched", len(rec)/160, first, matched, concealed, unmatched)
	if unmatched > 2 || concealed > 5 {
		t.Fatalf("%d audible recorded frames are not in the source stream, %d repeated: foreign audio or corruption", unmatched, concealed)
	}
	if first < 0 || matched < audible*8/10 {
		t.Fatalf("only %d of %d frames after the stream started match the source", matched, audible)
	}
}
