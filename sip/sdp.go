package sip

import (
	"bytes"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/pion/sdp/v3"
)

// Direction is an SDP media direction attribute, as the peer describes its
// own side. See https://www.rfc-editor.org/rfc/rfc3264#section-6.1
type Direction string

// The four media directions.
const (
	SendRecv Direction = "sendrecv"
	SendOnly Direction = "sendonly"
	RecvOnly Direction = "recvonly"
	Inactive Direction = "inactive"
)

// answer returns the direction we answer an offered direction with.
func (d Direction) answer() Direction {
	switch d {
	case SendOnly:
		return RecvOnly
	case RecvOnly:
		return SendOnly
	case Inactive:
		return Inactive
	default:
		return SendRecv
	}
}

// Codec is an RTP payload format for audio.
type Codec struct {
	Name        string // "PCMU", "PCMA"
	PayloadType uint8  // as negotiated (the offerer's number)
	ClockRate   uint32
}

// Media is the remote side of an audio stream as described by its SDP.
type Media struct {
	// Addr is where to send RTP. Its address is unspecified (0.0.0.0 or
	// ::) when the peer put the call on hold the RFC 2543 way.
	Addr  netip.AddrPort
	Codec Codec
	// DTMFPayloadType is the telephone-event payload type; 0 means none.
	DTMFPayloadType uint8
	Direction       Direction
	// PTime is the peer's a=ptime in milliseconds, 0 when absent.
	PTime int
	// SRTP is the stream's SDES keying; its zero value means plain RTP.
	SRTP SRTP
}

// OnHold reports whether the peer stopped sending to us (sendonly,
// inactive, or a zero connection address).
func (m Media) OnHold() bool {
	return m.Direction == SendOnly || m.Direction == Inactive || !m.Addr.Addr().IsValid() || m.Addr.Addr().IsUnspecified()
}

// staticCodec returns the codec of a static payload type we support.
func staticCodec(pt uint8) (Codec, bool) {
	switch pt {
	case 0:
		return Codec{Name: "PCMU", PayloadType: 0, ClockRate: 8000}, true
	case 8:
		return Codec{Name: "PCMA", PayloadType: 8, ClockRate: 8000}, true
	}
	return Codec{}, false
}

// codecByName returns the static payload type of a codec we support.
func codecByName(name string) (Codec, bool) {
	switch strings.ToUpper(name) {
	case "PCMU":
		return staticCodec(0)
	case "PCMA":
		return staticCodec(8)
	}
	return Codec{}, false
}

// mediaLine is an m= line of the offer, kept so the answer has the same
// number of m= lines in the same order (RFC 3264 section 6).
type mediaLine struct {
	media  string
	proto  string
	format string
}

// Negotiation is the result of accepting an SDP offer.
type Negotiation struct {
	Remote Media
	// Origin is the offer's "o=" session id and version; an unchanged
	// origin in a re-INVITE is a session refresh.
	Origin string

	lines  []mediaLine
	chosen int
	// secure: the chosen m= line's transport is RTP/SAVP(F), answered
	// RTP/SAVP. crypto is our a=crypto line when Remote.SRTP is on.
	secure bool
	crypto Crypto
}

// maxSDPSize bounds what we parse; real offers are well under 4 KiB.
const maxSDPSize = 16 << 10

// ParseSDP normalises the line order of body and parses it with pion/sdp.
func ParseSDP(body []byte) (*sdp.SessionDescription, error) {
	if len(body) > maxSDPSize {
		return nil, fmt.Errorf("%w: %d bytes", ErrSDPTooLarge, len(body))
	}
	var sd sdp.SessionDescription
	if err := sd.Unmarshal(normalizeSDP(body)); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSDPMalformed, err)
	}
	return &sd, nil
}

// sessionRank and mediaRank order line types as RFC 4566 section 5 does,
// which pion/sdp enforces but real endpoints do not always follow; -1 marks
// a type not allowed there.
func sessionRank(t byte) int { return strings.IndexByte("vosiuepcbtrzka", t) }

func mediaRank(t byte) int { return strings.IndexByte("micbka", t) }

// normalizeSDP reorders lines within the session part and within each
// media section into RFC 4566 order (stable, so t=/r= pairs and attribute
// order survive), drops blank and unknown lines, adds a missing s= or t=,
// and ends every line with CRLF.
func normalizeSDP(body []byte) []byte {
	var session []string
	var medias [][]string
	for _, raw := range bytes.Split(body, []byte("\n")) {
		line := strings.TrimSpace(string(bytes.TrimSuffix(raw, []byte("\r"))))
		if len(line) < 2 || line[1] != '=' {
			continue
		}
		if line[0] == 'm' {
			medias = append(medias, []string{line})
			continue
		}
		if len(medias) == 0 {
			if sessionRank(line[0]) >= 0 {
				session = append(session, line)
			}
			continue
		}
		if mediaRank(line[0]) >= 0 {
			medias[len(medias)-1] = append(medias[len(medias)-1], line)
		}
	}
	hasS, hasT := false, false
	for _, l := range session {
		hasS = hasS || l[0] == 's'
		hasT = hasT || l[0] == 't'
	}
	if !hasS {
		session = append(session, "s=-")
	}
	if !hasT {
		session = append(session, "t=0 0")
	}
	stableSort(session, sessionRank)
	var out bytes.Buffer
	for _, l := range session {
		out.WriteString(l)
		out.WriteString("\r\n")
	}
	for _, m := range medias {
		stableSort(m[1:], mediaRank)
		for _, l := range m {
			out.WriteString(l)
			out.WriteString("\r\n")
		}
	}
	return out.Bytes()
}

// stableSort is an insertion sort by line type: inputs are a few dozen lines.
func stableSort(lines []string, rank func(byte) int) {
	for i := 1; i < len(lines); i++ {
		for j := i; j > 0 && rank(lines[j][0]) < rank(lines[j-1][0]); j-- {
			lines[j], lines[j-1] = lines[j-1], lines[j]
		}
	}
}

// Negotiate accepts an SDP offer: it picks the first codec of prefs (names
// such as "PCMU", "PCMA") that the first usable audio stream offers,
// telephone-event/8000 with the offerer's payload type, and the remote
// address. It returns ErrNoCommonCodec (wrapped) when nothing fits. SRTP
// is off: an RTP/SAVP offer does not fit.
func Negotiate(offer []byte, prefs []string) (*Negotiation, error) {
	return negotiate(offer, prefs, srtpSide{})
}

// NegotiateSRTP is Negotiate under an SRTP policy: an offer with a usable
// a=crypto gets SRTP (with a fresh key of ours) unless policy is
// SRTPOff; one without gets ErrSRTPRequired under SRTPMandatory.
func NegotiateSRTP(offer []byte, prefs []string, policy SRTPPolicy) (*Negotiation, error) {
	return negotiate(offer, prefs, srtpSide{policy: policy})
}

// srtpSide is what the negotiation knows of SRTP: the policy; for an
// SDP that answers our offer, the crypto lines we offered (the answer
// picks one by tag); for a re-offer, the keying in use (our key is kept
// when the suite is).
type srtpSide struct {
	policy   SRTPPolicy
	isAnswer bool
	offered  []Crypto
	keep     SRTP
}

func negotiate(offer []byte, prefs []string, side srtpSide) (*Negotiation, error) {
	sd, err := ParseSDP(offer)
	if err != nil {
		return nil, err
	}
	n := &Negotiation{chosen: -1, Origin: fmt.Sprintf("%s %d %d", sd.Origin.Username, sd.Origin.SessionID, sd.Origin.SessionVersion)}
	var lastErr error = ErrNoAudio
	for i, md := range sd.MediaDescriptions {
		format := ""
		if len(md.MediaName.Formats) > 0 {
			format = md.MediaName.Formats[0]
		}
		n.lines = append(n.lines, mediaLine{media: md.MediaName.Media, proto: strings.Join(md.MediaName.Protos, "/"), format: format})
		if n.chosen >= 0 || md.MediaName.Media != "audio" || md.MediaName.Port.Value == 0 {
			continue
		}
		m, err := negotiateMedia(sd, md, prefs)
		if err != nil {
			lastErr = err
			continue
		}
		secure, crypto, err := side.choose(md)
		if err != nil {
			lastErr = err
			continue
		}
		if crypto != nil {
			m.SRTP = SRTP{Suite: crypto.Suite, Local: crypto.Key, Remote: crypto.Key}
			if side.isAnswer {
				m.SRTP.Local = side.offeredKey(*crypto)
				n.crypto = Crypto{Tag: crypto.Tag, Suite: crypto.Suite, Key: m.SRTP.Local}
			} else {
				n.crypto = Crypto{Tag: crypto.Tag, Suite: crypto.Suite, Key: side.localKey(crypto.Suite)}
				m.SRTP.Local = n.crypto.Key
			}
		}
		n.Remote = m
		n.secure = secure
		n.chosen = i
	}
	if n.chosen < 0 {
		return nil, lastErr
	}
	return n, nil
}

// choose applies the SRTP policy to a media section: whether its
// transport is SRTP, and the peer's crypto line to use (nil: plain RTP).
func (side srtpSide) choose(md *sdp.MediaDescription) (secure bool, c *Crypto, err error) {
	secure = secureProto(strings.Join(md.MediaName.Protos, "/"))
	if side.policy == SRTPOff {
		if secure {
			return false, nil, fmt.Errorf("%w: srtp is off here", ErrSRTPRefused)
		}
		return false, nil, nil
	}
	usable, all := cryptosOf(md)
	if side.isAnswer {
		// An answer may only pick one of the lines we offered.
		kept := usable[:0]
		for _, u := range usable {
			for _, o := range side.offered {
				if u.Tag == o.Tag && u.Suite == o.Suite {
					kept = append(kept, u)
					break
				}
			}
		}
		usable = kept
	}
	switch {
	case len(usable) > 0:
		return secure, &usable[0], nil
	case secure || side.policy == SRTPMandatory:
		return secure, nil, fmt.Errorf("%w: %d a=crypto line(s), none usable (%s or %s, inline key, no MKI)",
			ErrSRTPRequired, all, SuiteAES128SHA1_80, SuiteAES128SHA1_32)
	}
	return false, nil, nil
}

// offeredKey is our key of the offered line the answer c picked.
func (side srtpSide) offeredKey(c Crypto) [SRTPKeyLen]byte {
	for _, o := range side.offered {
		if o.Tag == c.Tag && o.Suite == c.Suite {
			return o.Key
		}
	}
	return [SRTPKeyLen]byte{}
}

// localKey is our key for an answer in suite: the one in use when the
// suite did not change (a re-offer), else a fresh one.
func (side srtpSide) localKey(suite string) [SRTPKeyLen]byte {
	if side.keep.Suite == suite {
		return side.keep.Local
	}
	return newCrypto(0, suite).Key
}

func negotiateMedia(sd *sdp.SessionDescription, md *sdp.MediaDescription, prefs []string) (Media, error) {
	proto := strings.Join(md.MediaName.Protos, "/")
	if proto != "RTP/AVP" && proto != "RTP/AVPF" && !secureProto(proto) {
		return Media{}, fmt.Errorf("%w: transport %q", ErrNoCommonCodec, proto)
	}
	ci := md.ConnectionInformation
	if ci == nil {
		ci = sd.ConnectionInformation
	}
	if ci == nil || ci.Address == nil {
		return Media{}, fmt.Errorf("%w: no connection address", ErrSDPMalformed)
	}
	ip, err := netip.ParseAddr(ci.Address.Address)
	if err != nil {
		return Media{}, fmt.Errorf("%w: connection address %q", ErrSDPMalformed, ci.Address.Address)
	}
	port := md.MediaName.Port.Value
	if port <= 0 || port > 65535 {
		return Media{}, fmt.Errorf("%w: port %d", ErrSDPMalformed, port)
	}
	m := Media{Addr: netip.AddrPortFrom(ip.Unmap(), uint16(port)), Direction: SendRecv}

	names := map[uint8]string{} // payload type -> "NAME/rate"
	for _, a := range md.Attributes {
		switch a.Key {
		case "rtpmap":
			ptStr, enc, ok := strings.Cut(a.Value, " ")
			pt, err := strconv.ParseUint(ptStr, 10, 7)
			if ok && err == nil {
				names[uint8(pt)] = strings.TrimSpace(enc)
			}
		case "ptime":
			if v, err := strconv.Atoi(strings.TrimSpace(a.Value)); err == nil && v > 0 && v <= 1000 {
				m.PTime = v
			}
		}
	}
	m.Direction = direction(md.Attributes, direction(sd.Attributes, SendRecv))

	var offered []uint8
	for _, f := range md.MediaName.Formats {
		pt, err := strconv.ParseUint(f, 10, 7)
		if err != nil {
			continue
		}
		offered = append(offered, uint8(pt))
		if strings.EqualFold(rateless(names[uint8(pt)]), "telephone-event") && rateOf(names[uint8(pt)]) == "8000" && m.DTMFPayloadType == 0 {
			m.DTMFPayloadType = uint8(pt)
		}
	}
	for _, pref := range prefs {
		want, ok := codecByName(pref)
		if !ok {
			continue
		}
		for _, pt := range offered {
			enc, mapped := names[pt]
			match := false
			if mapped {
				match = strings.EqualFold(rateless(enc), want.Name) && rateOf(enc) == "8000"
			} else {
				match = pt == want.PayloadType
			}
			if match {
				m.Codec = Codec{Name: want.Name, PayloadType: pt, ClockRate: 8000}
				return m, nil
			}
		}
	}
	return Media{}, fmt.Errorf("%w: offered %v", ErrNoCommonCodec, md.MediaName.Formats)
}

func rateless(enc string) string { name, _, _ := strings.Cut(enc, "/"); return name }

func rateOf(enc string) string {
	_, rest, _ := strings.Cut(enc, "/")
	rate, _, _ := strings.Cut(rest, "/")
	return rate
}

func direction(attrs []sdp.Attribute, def Direction) Direction {
	for _, a := range attrs {
		switch d := Direction(a.Key); d {
		case SendRecv, SendOnly, RecvOnly, Inactive:
			return d
		}
	}
	return def
}

// localSDP is what we describe of ourselves; version grows only when the
// description changes (RFC 3264 section 8).
type localSDP struct {
	sessionID uint64
	version   uint64
	addr      netip.AddrPort
}

// Answer builds the SDP answer for n: the chosen codec, telephone-event if
// offered, ptime 20, the answering direction, and the other m= lines
// rejected with port 0.
func (n *Negotiation) Answer(local netip.AddrPort, sessionID, version uint64) []byte {
	return n.answer(localSDP{sessionID: sessionID, version: version, addr: local}, n.Remote.Direction.answer())
}

func (n *Negotiation) answer(l localSDP, dir Direction) []byte {
	sd := baseSession(l)
	for i, ml := range n.lines {
		if i != n.chosen {
			sd.MediaDescriptions = append(sd.MediaDescriptions, &sdp.MediaDescription{MediaName: sdp.MediaName{
				Media: ml.media, Port: sdp.RangedPort{Value: 0}, Protos: strings.Split(ml.proto, "/"), Formats: []string{ml.format},
			}})
			continue
		}
		var cryptos []Crypto
		if n.Remote.SRTP.On() {
			cryptos = []Crypto{n.crypto}
		}
		sd.MediaDescriptions = append(sd.MediaDescriptions, audioMedia(l.addr.Port(), []Codec{n.Remote.Codec}, n.Remote.DTMFPayloadType, dir, n.secure, cryptos))
	}
	return marshal(sd)
}

// cryptos is our crypto line of the negotiated stream (none for RTP): what
// an offerless re-INVITE offers again, and what its answer must pick.
func (n *Negotiation) cryptos() []Crypto {
	if n == nil || !n.Remote.SRTP.On() {
		return nil
	}
	return []Crypto{n.crypto}
}

// offerSDP builds our offer (an outbound INVITE, the 200 to an offerless
// INVITE): every codec of prefs and telephone-event 101; under an SRTP
// policy the crypto lines, as RTP/SAVP when SRTP is mandatory.
func offerSDP(l localSDP, prefs []string, policy SRTPPolicy, cryptos []Crypto) []byte {
	var codecs []Codec
	for _, p := range prefs {
		if c, ok := codecByName(p); ok {
			codecs = append(codecs, c)
		}
	}
	if policy == SRTPOff {
		cryptos = nil
	}
	sd := baseSession(l)
	sd.MediaDescriptions = append(sd.MediaDescriptions, audioMedia(l.addr.Port(), codecs, offerDTMFPayloadType, SendRecv, policy == SRTPMandatory, cryptos))
	return marshal(sd)
}

// offerDTMFPayloadType is the telephone-event payload type in our offers,
// the value most endpoints use.
const offerDTMFPayloadType = 101

func baseSession(l localSDP) *sdp.SessionDescription {
	addrType := "IP4"
	if l.addr.Addr().Is6() {
		addrType = "IP6"
	}
	addr := l.addr.Addr().String()
	return &sdp.SessionDescription{
		Origin: sdp.Origin{Username: "-", SessionID: l.sessionID, SessionVersion: l.version,
			NetworkType: "IN", AddressType: addrType, UnicastAddress: addr},
		SessionName:           "-",
		ConnectionInformation: &sdp.ConnectionInformation{NetworkType: "IN", AddressType: addrType, Address: &sdp.Address{Address: addr}},
		TimeDescriptions:      []sdp.TimeDescription{{}},
	}
}

func audioMedia(port uint16, codecs []Codec, dtmfPT uint8, dir Direction, secure bool, cryptos []Crypto) *sdp.MediaDescription {
	proto := "AVP"
	if secure {
		proto = "SAVP"
	}
	md := &sdp.MediaDescription{MediaName: sdp.MediaName{Media: "audio", Port: sdp.RangedPort{Value: int(port)}, Protos: []string{"RTP", proto}}}
	for _, c := range codecs {
		md.MediaName.Formats = append(md.MediaName.Formats, strconv.Itoa(int(c.PayloadType)))
		md.Attributes = append(md.Attributes, sdp.Attribute{Key: "rtpmap", Value: fmt.Sprintf("%d %s/%d", c.PayloadType, c.Name, c.ClockRate)})
	}
	if dtmfPT != 0 {
		md.MediaName.Formats = append(md.MediaName.Formats, strconv.Itoa(int(dtmfPT)))
		md.Attributes = append(md.Attributes,
			sdp.Attribute{Key: "rtpmap", Value: fmt.Sprintf("%d telephone-event/8000", dtmfPT)},
			sdp.Attribute{Key: "fmtp", Value: fmt.Sprintf("%d 0-16", dtmfPT)})
	}
	md.Attributes = append(md.Attributes, sdp.Attribute{Key: "ptime", Value: "20"}, sdp.Attribute{Key: string(dir)})
	for _, c := range cryptos {
		md.Attributes = append(md.Attributes, sdp.Attribute{Key: "crypto", Value: c.String()})
	}
	return md
}

func marshal(sd *sdp.SessionDescription) []byte {
	b, err := sd.Marshal()
	if err != nil {
		// Marshal fails only on values we never build.
		return nil
	}
	return b
}
