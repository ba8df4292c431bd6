package speech

import (
	"reflect"
	"testing"
	"time"
)

func TestParseSSML(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name string
		in   string
		want []Segment
	}{
		{"plain", "Hello there", []Segment{{Text: "Hello there", Rate: 1}}},
		{"speak root", "<speak>Hello <b>bold</b> there</speak>", []Segment{{Text: "Hello bold there", Rate: 1}}},
		{"break time", `<speak>one<break time="1500ms"/>two</speak>`,
			[]Segment{{Text: "one", Rate: 1}, {Pause: 1500 * ms}, {Text: "two", Rate: 1}}},
		{"break seconds capped", `<speak>a<break time="20s"/>b</speak>`,
			[]Segment{{Text: "a", Rate: 1}, {Pause: MaxBreak}, {Text: "b", Rate: 1}}},
		{"break strength", `<speak>a<break strength="x-strong"/>b<break/>c</speak>`,
			[]Segment{{Text: "a", Rate: 1}, {Pause: time.Second}, {Text: "b", Rate: 1}, {Pause: 400 * ms}, {Text: "c", Rate: 1}}},
		{"say-as digits", `<speak>code <say-as interpret-as="digits">123</say-as></speak>`,
			[]Segment{{Text: "code one two three", Rate: 1}}},
		{"say-as characters", `<say-as interpret-as="characters">ab1</say-as>`,
			[]Segment{{Text: "A B one", Rate: 1}}},
		{"say-as telephone", `<say-as interpret-as="telephone">+1 555-0100</say-as>`,
			[]Segment{{Text: "plus one, five five five, zero one zero zero", Rate: 1}}},
		{"say-as other", `<say-as interpret-as="date">2024</say-as>`, []Segment{{Text: "2024", Rate: 1}}},
		{"prosody", `<speak>a <prosody rate="slow">b <prosody rate="50%">c</prosody></prosody> d</speak>`,
			[]Segment{{Text: "a", Rate: 1}, {Text: "b", Rate: 0.8}, {Text: "c", Rate: 0.4}, {Text: "d", Rate: 1}}},
		{"p and s", `<speak><p><s>One.</s><s>Two.</s></p><p>Three</p></speak>`,
			[]Segment{{Text: "One.", Rate: 1}, {Pause: 400 * ms}, {Text: "Two.", Rate: 1}, {Pause: 1100 * ms}, {Text: "Three", Rate: 1}, {Pause: 700 * ms}}},
		{"entities", `<speak>fish &amp; chips &eacute;</speak>`, []Segment{{Text: "fish & chips é", Rate: 1}}},
		{"unknown tags read as text", `<speak><audio src="x">fallback</audio> <mark name="m"/>end</speak>`,
			[]Segment{{Text: "fallback end", Rate: 1}}},
		{"malformed", `<speak>a < b and <unclosed`, []Segment{{Text: "a b and unclosed", Rate: 1}}},
		{"stray end", `<speak>a</prosody></s>b</speak>`, []Segment{{Text: "a b", Rate: 1}}},
		{"unclosed elements", `<speak>a<prosody rate="fast">b`, []Segment{{Text: "a b", Rate: 1}}},
		{"empty", `<speak> </speak>`, nil},
		{"control chars", "a\x00b\tc", []Segment{{Text: "a b c", Rate: 1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ParseSSML(tt.in); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("ParseSSML(%q)\n got %+v\nwant %+v", tt.in, got, tt.want)
			}
		})
	}
}

func FuzzParseSSML(f *testing.F) {
	for _, s := range []string{"<speak>a<break time=\"1s\"/>b</speak>", "<p><s>x</s></p>", "<say-as interpret-as=\"telephone\">+1-2</say-as>", "<prosody rate=\"300%\">x", "<<>>&;"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var total time.Duration
		for _, sg := range ParseSSML(s) {
			if sg.Pause < 0 || sg.Pause > MaxBreak || (sg.Pause == 0 && (sg.Text == "" || sg.Rate < 0.2 || sg.Rate > 2)) {
				t.Fatalf("bad segment %+v", sg)
			}
			total += sg.Pause
		}
		_ = total
	})
}

func TestResolveVoice(t *testing.T) {
	tests := []struct {
		voice, lang   string
		flite, wantLg string
		fallback      bool
	}{
		{"", "", "slt", "en-US", false},
		{"Joanna", "", "slt", "en-US", false},
		{"matthew", "en-US", "rms", "en-US", false},
		{"Brian", "", "awb", "en-GB", false},
		{"Amy", "en-GB", "slt", "en-GB", false},
		{"kal", "", "kal", "en-US", false},
		{"Nobody", "en-GB", "slt", "en-GB", true},
		{"Nobody", "", "slt", "en-US", true},
		{"", "en-AU", "slt", "en-AU", false},
		{"Hans", "", "slt", "de-DE", true},
		{"", "fr-FR", "slt", "fr-FR", true},
		{"Matthew", "en-GB", "rms", "en-GB", true},
	}
	for _, tt := range tests {
		v := ResolveVoice(tt.voice, tt.lang)
		if v.Flite != tt.flite || v.LanguageCode != tt.wantLg || (v.Fallback != "") != tt.fallback {
			t.Errorf("ResolveVoice(%q, %q) = %+v", tt.voice, tt.lang, v)
		}
	}
}
