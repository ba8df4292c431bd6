package sip

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pion/sdp/v3"
)

func readSDP(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "sdp", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var (
	pcmu = Codec{Name: "PCMU", PayloadType: 0, ClockRate: 8000}
	pcma = Codec{Name: "PCMA", PayloadType: 8, ClockRate: 8000}
)

func TestNegotiateCorpus(t *testing.T) {
	tests := []struct {
		name    string
		file    string
		prefs   []string
		want    Media
		mlines  int // m= lines the answer must have
		wantErr error
	}{
		{name: "asterisk", file: "asterisk.sdp", prefs: []string{"PCMU", "PCMA"}, mlines: 1,
			want: Media{Addr: netip.MustParseAddrPort("192.0.2.10:18362"), Codec: pcmu, DTMFPayloadType: 101, Direction: SendRecv, PTime: 20}},
		{name: "freeswitch prefers PCMA, we prefer PCMU", file: "freeswitch.sdp", prefs: []string{"PCMU", "PCMA"}, mlines: 1,
			want: Media{Addr: netip.MustParseAddrPort("198.51.100.7:24580"), Codec: pcmu, DTMFPayloadType: 101, Direction: SendRecv, PTime: 20}},
		{name: "freeswitch with PCMA preference", file: "freeswitch.sdp", prefs: []string{"PCMA", "PCMU"}, mlines: 1,
			want: Media{Addr: netip.MustParseAddrPort("198.51.100.7:24580"), Codec: pcma, DTMFPayloadType: 101, Direction: SendRecv, PTime: 20}},
		{name: "cisco with bandwidth lines", file: "cisco.sdp", prefs: []string{"PCMU"}, mlines: 1,
			want: Media{Addr: netip.MustParseAddrPort("203.0.113.21:16384"), Codec: pcmu, DTMFPayloadType: 101, Direction: SendRecv, PTime: 20}},
		{name: "polycom session-level direction", file: "polycom.sdp", prefs: []string{"PCMA", "PCMU"}, mlines: 1,
			want: Media{Addr: netip.MustParseAddrPort("10.0.0.55:2222"), Codec: pcma, DTMFPayloadType: 127, Direction: SendRecv}},
		{name: "linphone audio and video", file: "linphone.sdp", prefs: []string{"PCMU"}, mlines: 2,
			want: Media{Addr: netip.MustParseAddrPort("192.168.1.30:7078"), Codec: pcmu, DTMFPayloadType: 100, Direction: SendRecv}},
		{name: "baresip with channel counts", file: "baresip.sdp", prefs: []string{"PCMA", "PCMU"}, mlines: 1,
			want: Media{Addr: netip.MustParseAddrPort("192.0.2.33:10154"), Codec: pcma, DTMFPayloadType: 101, Direction: SendRecv}},
		{name: "sipp without dtmf", file: "sipp.sdp", prefs: []string{"PCMU", "PCMA"}, mlines: 1,
			want: Media{Addr: netip.MustParseAddrPort("127.0.0.1:6000"), Codec: pcmu, Direction: SendRecv}},
		{name: "carrier with odd line order", file: "carrier_odd_order.sdp", prefs: []string{"PCMU", "PCMA"}, mlines: 1,
			want: Media{Addr: netip.MustParseAddrPort("192.0.2.202:31234"), Codec: pcma, DTMFPayloadType: 100, Direction: SendRecv, PTime: 20}},
		{name: "ipv6 with static types only", file: "ipv6.sdp", prefs: []string{"PCMU", "PCMA"}, mlines: 1,
			want: Media{Addr: netip.MustParseAddrPort("[2001:db8::10]:40100"), Codec: pcmu, DTMFPayloadType: 101, Direction: SendRecv}},
		{name: "hold with sendonly", file: "hold_sendonly.sdp", prefs: []string{"PCMU"}, mlines: 1,
			want: Media{Addr: netip.MustParseAddrPort("192.0.2.10:18362"), Codec: pcmu, DTMFPayloadType: 101, Direction: SendOnly, PTime: 20}},
		{name: "hold with zero address", file: "hold_zero_addr.sdp", prefs: []string{"PCMU"}, mlines: 1,
			want: Media{Addr: netip.MustParseAddrPort("0.0.0.0:5004"), Codec: pcmu, Direction: SendRecv}},
		{name: "connection at media level only", file: "media_level_c.sdp", prefs: []string{"PCMU", "PCMA"}, mlines: 1,
			want: Media{Addr: netip.MustParseAddrPort("192.0.2.61:5006"), Codec: pcma, Direction: Inactive}},
		{name: "dynamic payload type by name", file: "dynamic_pcmu.sdp", prefs: []string{"PCMU"}, mlines: 1,
			want: Media{Addr: netip.MustParseAddrPort("192.0.2.70:5008"), Codec: Codec{Name: "PCMU", PayloadType: 96, ClockRate: 8000}, DTMFPayloadType: 101, Direction: SendRecv}},
		{name: "no common codec", file: "g729_only.sdp", prefs: []string{"PCMU", "PCMA"}, wantErr: ErrNoCommonCodec},
		{name: "srtp only", file: "srtp_only.sdp", prefs: []string{"PCMU"}, wantErr: ErrSRTPRefused},
		{name: "video only", file: "video_only.sdp", prefs: []string{"PCMU"}, wantErr: ErrNoAudio},
		{name: "no connection line", file: "no_connection.sdp", prefs: []string{"PCMU"}, wantErr: ErrSDPMalformed},
		{name: "fqdn connection address", file: "fqdn_connection.sdp", prefs: []string{"PCMU"}, wantErr: ErrSDPMalformed},
		{name: "garbage", file: "garbage.sdp", prefs: []string{"PCMU"}, wantErr: ErrSDPMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := Negotiate(readSDP(t, tt.file), tt.prefs)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Negotiate error = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if n.Remote != tt.want {
				t.Errorf("Remote = %+v\nwant     %+v", n.Remote, tt.want)
			}
			ans := n.Answer(netip.MustParseAddrPort("127.0.0.1:30000"), 42, 1)
			var sd sdp.SessionDescription
			if err := sd.Unmarshal(ans); err != nil {
				t.Fatalf("answer does not parse: %v\n%s", err, ans)
			}
			if len(sd.MediaDescriptions) != tt.mlines {
				t.Fatalf("answer has %d m= lines, want %d:\n%s", len(sd.MediaDescriptions), tt.mlines, ans)
			}
			audio := sd.MediaDescriptions[0]
			if audio.MediaName.Port.Value != 30000 {
				t.Errorf("answer port = %d", audio.MediaName.Port.Value)
			}
			s := string(ans)
			wantDir := "a=" + string(tt.want.Direction.answer()) + "\r\n"
			if !strings.Contains(s, wantDir) || !strings.Contains(s, "a=ptime:20\r\n") || !strings.Contains(s, "c=IN IP4 127.0.0.1\r\n") {
				t.Errorf("answer lacks %q, ptime or c= line:\n%s", wantDir, s)
			}
			for _, m := range sd.MediaDescriptions[1:] {
				if m.MediaName.Port.Value != 0 {
					t.Errorf("extra m= line not rejected: %v", m.MediaName)
				}
			}
		})
	}
}

func TestAnswerExact(t *testing.T) {
	n, err := Negotiate(readSDP(t, "asterisk.sdp"), []string{"PCMA", "PCMU"})
	if err != nil {
		t.Fatal(err)
	}
	want := "v=0\r\n" +
		"o=- 42 7 IN IP4 127.0.0.1\r\n" +
		"s=-\r\n" +
		"c=IN IP4 127.0.0.1\r\n" +
		"t=0 0\r\n" +
		"m=audio 30000 RTP/AVP 8 101\r\n" +
		"a=rtpmap:8 PCMA/8000\r\n" +
		"a=rtpmap:101 telephone-event/8000\r\n" +
		"a=fmtp:101 0-16\r\n" +
		"a=ptime:20\r\n" +
		"a=sendrecv\r\n"
	if got := string(n.Answer(netip.MustParseAddrPort("127.0.0.1:30000"), 42, 7)); got != want {
		t.Errorf("answer:\n%s\nwant:\n%s", got, want)
	}
}

func TestAnswerDirection(t *testing.T) {
	tests := []struct {
		name  string
		offer Direction
		want  Direction
	}{
		{name: "sendrecv", offer: SendRecv, want: SendRecv},
		{name: "sendonly", offer: SendOnly, want: RecvOnly},
		{name: "recvonly", offer: RecvOnly, want: SendOnly},
		{name: "inactive", offer: Inactive, want: Inactive},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.offer.answer(); got != tt.want {
				t.Errorf("answer(%s) = %s, want %s", tt.offer, got, tt.want)
			}
		})
	}
}

// TestPionNeedsNormalising documents why normalizeSDP exists: pion/sdp
// alone refuses the carrier's line order.
func TestPionNeedsNormalising(t *testing.T) {
	var sd sdp.SessionDescription
	if err := sd.Unmarshal(readSDP(t, "carrier_odd_order.sdp")); err == nil {
		t.Fatal("pion/sdp accepted the odd order; normalizeSDP may no longer be needed")
	}
	if _, err := ParseSDP(readSDP(t, "carrier_odd_order.sdp")); err != nil {
		t.Fatalf("ParseSDP: %v", err)
	}
}

func TestOfferSDP(t *testing.T) {
	got := string(offerSDP(localSDP{sessionID: 5, version: 1, addr: netip.MustParseAddrPort("[::1]:4000")}, []string{"PCMU", "PCMA", "G729"}, SRTPOff, nil))
	want := "v=0\r\n" +
		"o=- 5 1 IN IP6 ::1\r\n" +
		"s=-\r\n" +
		"c=IN IP6 ::1\r\n" +
		"t=0 0\r\n" +
		"m=audio 4000 RTP/AVP 0 8 101\r\n" +
		"a=rtpmap:0 PCMU/8000\r\n" +
		"a=rtpmap:8 PCMA/8000\r\n" +
		"a=rtpmap:101 telephone-event/8000\r\n" +
		"a=fmtp:101 0-16\r\n" +
		"a=ptime:20\r\n" +
		"a=sendrecv\r\n"
	if got != want {
		t.Errorf("offer:\n%s\nwant:\n%s", got, want)
	}
}

func FuzzNegotiate(f *testing.F) {
	entries, err := os.ReadDir(filepath.Join("testdata", "sdp"))
	if err != nil {
		f.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join("testdata", "sdp", e.Name()))
		if err != nil {
			f.Fatal(err)
		}
		for p := range 3 {
			f.Add(b, uint8(p))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte, p uint8) {
		policy := SRTPPolicy(p % 3)
		n, err := NegotiateSRTP(data, []string{"PCMU", "PCMA"}, policy)
		if err != nil {
			if !errors.Is(err, ErrSDPMalformed) && !errors.Is(err, ErrNoCommonCodec) && !errors.Is(err, ErrNoAudio) && !errors.Is(err, ErrSDPTooLarge) &&
				!errors.Is(err, ErrSRTPRefused) && !errors.Is(err, ErrSRTPRequired) {
				t.Fatalf("unexpected error class: %v", err)
			}
			return
		}
		if policy == SRTPMandatory && !n.Remote.SRTP.On() {
			t.Fatalf("srtp mandatory, but the negotiation is plain rtp")
		}
		if policy == SRTPOff && n.Remote.SRTP.On() {
			t.Fatalf("srtp off, but the negotiation is srtp")
		}
		ans := n.Answer(netip.MustParseAddrPort("127.0.0.1:30000"), 1, 1)
		back, err := NegotiateSRTP(append([]byte(nil), ans...), []string{n.Remote.Codec.Name}, policy)
		if err != nil {
			t.Fatalf("our answer does not negotiate: %v\n%s", err, ans)
		}
		if back.Remote.SRTP.On() != n.Remote.SRTP.On() || back.Remote.SRTP.Remote != n.Remote.SRTP.Local {
			t.Fatalf("our answer does not carry our key: %+v vs %+v\n%s", back.Remote.SRTP, n.Remote.SRTP, ans)
		}
	})
}
