package speech

import (
	"encoding/xml"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Segment is a piece of an utterance: Text spoken at Rate (1 = normal), or
// a Pause of silence.
type Segment struct {
	Text  string
	Rate  float64
	Pause time.Duration
}

// MaxBreak is the longest <break> (Polly's limit).
const MaxBreak = 10 * time.Second

// Pauses after a paragraph and a sentence, and for <break strength>.
var strengths = map[string]time.Duration{
	"none": 0, "x-weak": 100 * time.Millisecond, "weak": 250 * time.Millisecond,
	"medium": 400 * time.Millisecond, "strong": 700 * time.Millisecond, "x-strong": time.Second,
}

const (
	paragraphPause = 700 * time.Millisecond
	sentencePause  = 400 * time.Millisecond
)

// ParseSSML reads the SSML subset:
//
//   - <speak> (the root; optional),
//   - <break time="500ms|2s" strength="none…x-strong"/> (default medium,
//     at most MaxBreak),
//   - <say-as interpret-as="digits|characters|spell-out|telephone">,
//   - <prosody rate="x-slow|slow|medium|fast|x-fast|N%">,
//   - <p> and <s> (a pause after each).
//
// Any other element is read as its text; markup that is not well-formed
// XML is read as plain text with the tags removed. It never fails.
func ParseSSML(s string) []Segment {
	d := xml.NewDecoder(strings.NewReader(s))
	d.Entity = xml.HTMLEntity
	p := &ssmlParser{rates: []float64{1}}
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return PlainText(stripTags(s))
		}
		switch t := tok.(type) {
		case xml.StartElement:
			p.start(t)
		case xml.EndElement:
			p.end(t.Name.Local)
		case xml.CharData:
			p.text(string(t))
		}
	}
	return p.done()
}

// PlainText is the segments of a text read as is.
func PlainText(s string) []Segment {
	s = clean(s)
	if s == "" {
		return nil
	}
	return []Segment{{Text: s, Rate: 1}}
}

var tagRE = regexp.MustCompile(`<[^<>]*>`)

// stripTags removes what looks like tags, then any stray angle bracket.
func stripTags(s string) string {
	s = tagRE.ReplaceAllString(s, " ")
	return strings.NewReplacer("<", " ", ">", " ").Replace(s)
}

// clean turns control characters into spaces and squeezes white space.
func clean(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == unicode.ReplacementChar {
			return ' '
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

type ssmlParser struct {
	segs   []Segment
	rates  []float64 // prosody stack
	sayAs  []string  // interpret-as stack ("" for other elements)
	opened []string  // element names, to pop the right stacks
}

func (p *ssmlParser) rate() float64 { return p.rates[len(p.rates)-1] }

func attr(t xml.StartElement, name string) string {
	for _, a := range t.Attr {
		if strings.EqualFold(a.Name.Local, name) {
			return strings.TrimSpace(a.Value)
		}
	}
	return ""
}

func (p *ssmlParser) start(t xml.StartElement) {
	name := strings.ToLower(t.Name.Local)
	switch name {
	case "break":
		p.pause(breakLength(attr(t, "time"), attr(t, "strength")))
		return // void: its end element (if any) is ignored
	case "prosody":
		p.rates = append(p.rates, parseRate(attr(t, "rate"), p.rate()))
	case "say-as":
		p.sayAs = append(p.sayAs, strings.ToLower(attr(t, "interpret-as")))
	}
	p.opened = append(p.opened, name)
}

func (p *ssmlParser) end(local string) {
	name := strings.ToLower(local)
	// Pop up to the matching element; a stray end tag is ignored.
	i := len(p.opened) - 1
	for i >= 0 && p.opened[i] != name {
		i--
	}
	if i < 0 {
		return
	}
	for j := len(p.opened) - 1; j >= i; j-- {
		switch p.opened[j] {
		case "prosody":
			p.rates = p.rates[:len(p.rates)-1]
		case "say-as":
			p.sayAs = p.sayAs[:len(p.sayAs)-1]
		case "p":
			p.pause(paragraphPause)
		case "s":
			p.pause(sentencePause)
		}
	}
	p.opened = p.opened[:i]
}

func (p *ssmlParser) text(s string) {
	if len(p.sayAs) > 0 {
		s = sayAs(p.sayAs[len(p.sayAs)-1], s)
	}
	s = clean(s)
	if s == "" {
		return
	}
	if n := len(p.segs); n > 0 && p.segs[n-1].Pause == 0 && p.segs[n-1].Rate == p.rate() {
		p.segs[n-1].Text += " " + s
		return
	}
	p.segs = append(p.segs, Segment{Text: s, Rate: p.rate()})
}

func (p *ssmlParser) pause(d time.Duration) {
	if d <= 0 {
		return
	}
	if n := len(p.segs); n > 0 && p.segs[n-1].Pause > 0 {
		p.segs[n-1].Pause = min(MaxBreak, p.segs[n-1].Pause+d)
		return
	}
	p.segs = append(p.segs, Segment{Pause: d})
}

func (p *ssmlParser) done() []Segment { return p.segs }

func breakLength(t, strength string) time.Duration {
	if t != "" {
		var d time.Duration
		var err error
		if strings.HasSuffix(t, "ms") {
			var n float64
			n, err = strconv.ParseFloat(strings.TrimSuffix(t, "ms"), 64)
			d = time.Duration(n * float64(time.Millisecond))
		} else if strings.HasSuffix(t, "s") {
			var n float64
			n, err = strconv.ParseFloat(strings.TrimSuffix(t, "s"), 64)
			d = time.Duration(n * float64(time.Second))
		} else {
			err = strconv.ErrSyntax
		}
		if err == nil && d >= 0 {
			return min(d, MaxBreak)
		}
	}
	if d, ok := strengths[strings.ToLower(strength)]; ok {
		return d
	}
	return strengths["medium"]
}

// parseRate reads a prosody rate relative to the enclosing one; Polly
// allows 20% to 200%.
func parseRate(s string, outer float64) float64 {
	switch strings.ToLower(s) {
	case "x-slow":
		return 0.6
	case "slow":
		return 0.8
	case "medium", "default", "":
		return outer
	case "fast":
		return 1.25
	case "x-fast":
		return 1.6
	}
	if v, err := strconv.ParseFloat(strings.TrimSuffix(s, "%"), 64); err == nil && strings.HasSuffix(s, "%") {
		return max(0.2, min(2, outer*v/100))
	}
	return outer
}

var digitNames = [...]string{"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"}

// sayAs spells s out for interpret-as; other values read s as is.
func sayAs(how, s string) string {
	switch how {
	case "digits", "characters", "spell-out", "telephone":
	default:
		return s
	}
	var words []string
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			words = append(words, digitNames[r-'0'])
		case how == "telephone" && (r == '-' || r == ' ' || r == '.' || r == '(' || r == ')'):
			if n := len(words); n > 0 && words[n-1] != "," {
				words[n-1] += ","
			}
		case how == "telephone" && r == '+':
			words = append(words, "plus")
		case how == "digits" || unicode.IsSpace(r):
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			words = append(words, string(unicode.ToUpper(r)))
		}
	}
	return strings.Join(words, " ")
}
