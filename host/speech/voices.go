package speech

import "strings"

// Polly's voices and languages mapped to the embedded engine's voices.
//
// The embedded flite build has four English voices: slt (US English,
// female), rms (US English, male), awb (Scottish English, male) and kal (US
// English, male, 8 kHz diphone: the most robotic, used only when asked for
// by name). Every Polly voice is mapped by its language and gender:
//
//	Polly voices (by language)                                    flite voice
//	en-US female: Joanna (default), Salli, Kendra, Kimberly, Ivy,   slt
//	              Ruth, Danielle
//	en-US male:   Matthew, Joey, Justin, Kevin, Stephen, Gregory,   rms
//	              Patrick
//	en-GB female: Amy, Emma                                         slt
//	en-GB male:   Brian, Arthur                                     awb
//	en-GB-WLS:    Geraint                                           awb
//	en-AU/en-NZ/en-ZA/en-IE/en-IN female: Nicole, Olivia, Aria,     slt
//	              Ayanda, Niamh, Aditi, Raveena, Kajal
//	en-AU/en-IE/en-IN male: Russell, ...                            rms
//	a flite voice name (slt, rms, awb, kal)                          itself
//
// A LanguageCode selects the language's default voice when VoiceId is
// empty; an unknown VoiceId falls back to the language's default (the
// Service logs it). Languages other than English have no embedded voice:
// they fall back to the en-US default (logged); an HTTP provider, when
// configured, gets the request first.

// Voice is a request's voice after resolution.
type Voice struct {
	// PollyID is the Polly VoiceId asked for (or the default, Joanna).
	PollyID string
	// LanguageCode is the asked (or implied) language, e.g. en-US.
	LanguageCode string
	// Flite is the embedded voice that speaks it.
	Flite string
	// Fallback says why the voice asked for was replaced; empty when not.
	Fallback string
}

// DefaultVoiceID and DefaultLanguage are Chime's defaults.
const (
	DefaultVoiceID  = "Joanna"
	DefaultLanguage = "en-US"
)

type pollyVoice struct {
	lang   string
	female bool
}

// pollyVoices are Polly's voices by id (case-insensitive lookups).
var pollyVoices = map[string]pollyVoice{
	"joanna": {"en-US", true}, "salli": {"en-US", true}, "kendra": {"en-US", true},
	"kimberly": {"en-US", true}, "ivy": {"en-US", true}, "ruth": {"en-US", true},
	"danielle": {"en-US", true},
	"matthew":  {"en-US", false}, "joey": {"en-US", false}, "justin": {"en-US", false},
	"kevin": {"en-US", false}, "stephen": {"en-US", false}, "gregory": {"en-US", false},
	"patrick": {"en-US", false},
	"amy":     {"en-GB", true}, "emma": {"en-GB", true},
	"brian": {"en-GB", false}, "arthur": {"en-GB", false},
	"geraint": {"en-GB-WLS", false},
	"nicole":  {"en-AU", true}, "olivia": {"en-AU", true}, "russell": {"en-AU", false},
	"aria": {"en-NZ", true}, "ayanda": {"en-ZA", true}, "niamh": {"en-IE", true},
	"aditi": {"en-IN", true}, "raveena": {"en-IN", true}, "kajal": {"en-IN", true},
	// A few voices of other languages, so that their language is known.
	"lupe": {"es-US", true}, "miguel": {"es-US", false}, "penelope": {"es-US", true},
	"lucia": {"es-ES", true}, "conchita": {"es-ES", true}, "enrique": {"es-ES", false},
	"celine": {"fr-FR", true}, "lea": {"fr-FR", true}, "mathieu": {"fr-FR", false},
	"marlene": {"de-DE", true}, "vicki": {"de-DE", true}, "hans": {"de-DE", false},
	"carla": {"it-IT", true}, "bianca": {"it-IT", true}, "giorgio": {"it-IT", false},
	"camila": {"pt-BR", true}, "vitoria": {"pt-BR", true}, "ricardo": {"pt-BR", false},
	"mizuki": {"ja-JP", true}, "takumi": {"ja-JP", false}, "zhiyu": {"cmn-CN", true},
	"seoyeon": {"ko-KR", true}, "astrid": {"sv-SE", true}, "liv": {"nb-NO", true},
}

// fliteVoices are the embedded engine's voices.
var fliteVoices = map[string]bool{"slt": true, "rms": true, "awb": true, "kal": true}

// fliteFor picks the embedded voice of a language and gender.
func fliteFor(lang string, female bool) string {
	if female {
		return "slt"
	}
	switch lang {
	case "en-GB", "en-GB-WLS":
		return "awb"
	}
	return "rms"
}

func isEnglish(lang string) bool { return strings.HasPrefix(strings.ToLower(lang), "en") }

// ResolveVoice maps Polly's VoiceId and LanguageCode to a voice; see the
// table above.
func ResolveVoice(voiceID, languageCode string) Voice {
	v := Voice{PollyID: voiceID, LanguageCode: languageCode}
	if fliteVoices[strings.ToLower(voiceID)] {
		v.Flite = strings.ToLower(voiceID)
		if v.LanguageCode == "" {
			v.LanguageCode = DefaultLanguage
		}
		return v
	}
	pv, known := pollyVoices[strings.ToLower(voiceID)]
	switch {
	case voiceID == "" && languageCode == "":
		v.PollyID, v.LanguageCode = DefaultVoiceID, DefaultLanguage
		pv = pollyVoices["joanna"]
	case voiceID == "":
		pv = pollyVoice{lang: languageCode, female: true}
	case !known:
		lang := languageCode
		if lang == "" {
			lang = DefaultLanguage
		}
		v.Fallback = "unknown VoiceId " + voiceID + ": the default voice of " + lang
		pv = pollyVoice{lang: lang, female: true}
	case languageCode != "" && !strings.EqualFold(languageCode, pv.lang):
		// Polly refuses a voice of another language; we keep the voice
		// (its gender) and say so.
		v.Fallback = "VoiceId " + voiceID + " speaks " + pv.lang + ", not " + languageCode
	}
	if v.LanguageCode == "" {
		v.LanguageCode = pv.lang
	}
	if !isEnglish(v.LanguageCode) {
		v.Fallback = "no embedded voice for " + v.LanguageCode + ": the en-US default voice"
		v.Flite = "slt"
		return v
	}
	v.Flite = fliteFor(pv.lang, pv.female)
	return v
}
