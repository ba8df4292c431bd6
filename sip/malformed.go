package sip

import (
	"bytes"
	"net"
	"strconv"
	"strings"

	"github.com/emiago/sipgo/sip"
)

// readFilter sees every UDP datagram before sipgo parses it. sipgo drops
// an unparsable datagram silently, so the sender retransmits it for 32 s;
// here a request we cannot parse but can still address gets a stateless
// 400 Bad Request. TCP is a byte stream without message boundaries at this
// point: sipgo closes a TCP connection that sends garbage.
func (s *Server) readFilter(props sip.TransportReadProps, data []byte) ([]byte, error) {
	if props.Transport != "UDP" || len(bytes.Trim(data, "\r\n")) == 0 {
		return data, nil
	}
	if len(data) > maxUDPMessage {
		if res := badRequest(data, 513, "Message Too Large", "message too large"); res != nil {
			s.writeRaw(props, res)
		}
		s.log.Info("sip: datagram too large", "from", props.RemoteAddr.String(), "bytes", len(data))
		return nil, nil
	}
	if _, err := s.parser.ParseSIP(data); err == nil {
		return data, nil
	} else if res := badRequest(data, 400, "Bad Request", err.Error()); res != nil {
		s.log.Info("sip: malformed request", "from", props.RemoteAddr.String(), "error", err)
		s.writeRaw(props, res)
	} else {
		s.log.Info("sip: garbage datagram dropped", "from", props.RemoteAddr.String(), "error", err)
	}
	return nil, nil
}

// maxUDPMessage bounds a datagram we accept: real INVITEs stay under 4 KiB.
const maxUDPMessage = 16 << 10

// writeRaw answers from the listener that received the datagram.
func (s *Server) writeRaw(props sip.TransportReadProps, res []byte) {
	ua, ok := props.RemoteAddr.(*net.UDPAddr)
	if !ok {
		return
	}
	for _, c := range s.udp {
		if c.LocalAddr().String() == props.LocalAddr.String() {
			if _, err := c.WriteToUDP(res, ua); err != nil {
				s.log.Warn("sip: write raw response", "to", ua.String(), "error", err)
			}
			return
		}
	}
}

// badRequest builds a response from the raw lines of a request that
// failed to parse, or returns nil when the data is not a request we can
// answer (no request line, an ACK, or no Via/Call-ID/CSeq to copy).
func badRequest(data []byte, code int, reason, why string) []byte {
	lines := strings.Split(string(data), "\n")
	first := strings.Fields(strings.TrimSpace(lines[0]))
	if len(first) != 3 || first[2] != "SIP/2.0" || strings.EqualFold(first[0], "ACK") || strings.HasPrefix(first[0], "SIP/") {
		return nil
	}
	var b strings.Builder
	b.WriteString("SIP/2.0 " + strconv.Itoa(code) + " " + reason + "\r\n")
	var via, cid, cseq bool
	for _, l := range lines[1:] {
		l = strings.TrimRight(l, "\r")
		if l == "" {
			break
		}
		name, _, ok := strings.Cut(l, ":")
		if !ok || len(l) > 2048 {
			continue
		}
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "via", "v":
			via = true
		case "call-id", "i":
			cid = true
		case "cseq":
			cseq = true
		case "from", "f", "to", "t":
		default:
			continue
		}
		b.WriteString(l)
		b.WriteString("\r\n")
	}
	if !via || !cid || !cseq {
		return nil
	}
	b.WriteString("Warning: 399 mediaserver \"" + sanitize(why) + "\"\r\n")
	b.WriteString("Content-Length: 0\r\n\r\n")
	return []byte(b.String())
}
