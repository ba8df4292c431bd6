// Package wav reads WAV files into 8 kHz mono PCM16 for prompts and
// writes recordings incrementally so that a crash leaves a repairable file.
//
// The reader accepts 8/16/24/32-bit integer PCM, 32-bit float, G.711 A-law
// (format 6) and µ-law (format 7), WAVE_FORMAT_EXTENSIBLE wrapping those,
// any channel count (downmixed) and any rate from 4 to 384 kHz
// (windowed-sinc resampled to 8 kHz). It skips unknown chunks (LIST, fact,
// ...) with their pad byte and reads a data size of 0 or 0xFFFFFFFF
// (streamed files) as "until end of file".
//
// See http://soundfile.sapp.org/doc/WaveFormat/ and
// https://www.mmsp.ece.mcgill.ca/Documents/AudioFormats/WAVE/WAVE.html
package wav

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"

	"github.com/zaf/g711"

	"github.com/wasmvoice/mediaserver/media/codec"
)

// WAVE format codes.
const (
	FormatPCM        = 1
	FormatFloat      = 3
	FormatALaw       = 6
	FormatMuLaw      = 7
	FormatExtensible = 0xFFFE
)

// MaxDataBytes bounds the audio data read from one file (Chime allows 50 MB prompts).
const MaxDataBytes = 64 << 20

// Info describes a WAV file as stored.
type Info struct {
	Format        uint16
	Channels      int
	SampleRate    int
	BitsPerSample int
	// DataOffset is the file offset of the first audio byte.
	DataOffset int64
	// DataSize is the size field of the data chunk as written (0 or
	// 0xFFFFFFFF for a streamed file).
	DataSize uint32
}

// headerInfo parses the RIFF header and chunks up to the start of the data
// chunk. The reader is left at the first audio byte.
func headerInfo(r io.Reader) (Info, error) {
	var info Info
	var hdr [12]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return info, fmt.Errorf("%w: riff header: %v", ErrNotWAV, err)
	}
	if string(hdr[0:4]) != "RIFF" || string(hdr[8:12]) != "WAVE" {
		return info, ErrNotWAV
	}
	off := int64(12)
	haveFmt := false
	for {
		var ch [8]byte
		if _, err := io.ReadFull(r, ch[:]); err != nil {
			if haveFmt {
				return info, ErrNoData
			}
			return info, ErrNoFormat
		}
		off += 8
		id := string(ch[0:4])
		size := binary.LittleEndian.Uint32(ch[4:8])
		switch id {
		case "fmt ":
			if size < 16 || size > 1024 {
				return info, fmt.Errorf("%w: fmt chunk of %d bytes", ErrBadFormat, size)
			}
			b := make([]byte, size+size&1)
			if _, err := io.ReadFull(r, b); err != nil {
				return info, fmt.Errorf("%w: %v", ErrBadFormat, err)
			}
			off += int64(len(b))
			info.Format = binary.LittleEndian.Uint16(b[0:2])
			info.Channels = int(binary.LittleEndian.Uint16(b[2:4]))
			info.SampleRate = int(binary.LittleEndian.Uint32(b[4:8]))
			info.BitsPerSample = int(binary.LittleEndian.Uint16(b[14:16]))
			if info.Format == FormatExtensible {
				// cbSize(2) validBits(2) channelMask(4) subFormat GUID(16):
				// the GUID starts with the real format code.
				if size < 40 {
					return info, fmt.Errorf("%w: short extensible fmt", ErrBadFormat)
				}
				info.Format = binary.LittleEndian.Uint16(b[24:26])
			}
			haveFmt = true
		case "data":
			if !haveFmt {
				return info, ErrNoFormat
			}
			info.DataOffset = off
			info.DataSize = size
			return info, nil
		default:
			skip := int64(size) + int64(size&1)
			n, err := io.CopyN(io.Discard, r, skip)
			off += n
			if err != nil {
				if haveFmt {
					return info, ErrNoData
				}
				return info, ErrNoFormat
			}
		}
	}
}

func (info Info) validate() error {
	if info.Channels < 1 || info.Channels > 16 {
		return fmt.Errorf("%w: %d channels", ErrUnsupported, info.Channels)
	}
	// Below 4 kHz is not audio we can use, and a tiny rate would let a small
	// file expand into gigabytes when upsampled.
	if info.SampleRate < 4000 || info.SampleRate > 384000 {
		return fmt.Errorf("%w: sample rate %d", ErrUnsupported, info.SampleRate)
	}
	switch info.Format {
	case FormatPCM:
		switch info.BitsPerSample {
		case 8, 16, 24, 32:
			return nil
		}
	case FormatFloat:
		if info.BitsPerSample == 32 {
			return nil
		}
	case FormatALaw, FormatMuLaw:
		if info.BitsPerSample == 8 {
			return nil
		}
	default:
		return fmt.Errorf("%w: format code %d", ErrUnsupported, info.Format)
	}
	return fmt.Errorf("%w: format %d with %d bits per sample", ErrUnsupported, info.Format, info.BitsPerSample)
}

// Decode reads a whole WAV stream and returns its audio as 8 kHz mono.
func Decode(r io.Reader) (codec.PCM16, Info, error) {
	info, err := headerInfo(r)
	if err != nil {
		return nil, info, err
	}
	if err := info.validate(); err != nil {
		return nil, info, err
	}
	limit := int64(MaxDataBytes)
	if info.DataSize != 0 && info.DataSize != 0xFFFFFFFF {
		limit = min(limit, int64(info.DataSize))
	}
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, info, fmt.Errorf("wav data: %w", err)
	}
	if int64(len(data)) > MaxDataBytes {
		return nil, info, ErrTooLarge
	}
	if int64(len(data)) > limit {
		data = data[:limit]
	}
	// A cut-off file keeps its whole frames.
	block := info.Channels * info.BitsPerSample / 8
	data = data[:len(data)-len(data)%block]
	mono := toMono(data, info)
	if info.SampleRate == codec.SampleRate {
		return toPCM16(mono), info, nil
	}
	return toPCM16(Resample(mono, info.SampleRate, codec.SampleRate)), info, nil
}

// ReadFile decodes a WAV file into 8 kHz mono.
func ReadFile(path string) (codec.PCM16, Info, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, Info{}, err
	}
	defer f.Close()
	pcm, info, err := Decode(bufio.NewReaderSize(f, 64<<10))
	if err != nil {
		return nil, info, fmt.Errorf("%s: %w", path, err)
	}
	return pcm, info, nil
}

// sample returns one sample scaled to the 16-bit range.
func sample(b []byte, info Info) float64 {
	switch info.Format {
	case FormatALaw:
		return float64(g711.DecodeAlawFrame(b[0]))
	case FormatMuLaw:
		return float64(g711.DecodeUlawFrame(b[0]))
	case FormatFloat:
		f := float64(math.Float32frombits(binary.LittleEndian.Uint32(b)))
		if math.IsNaN(f) {
			return 0
		}
		return f * 32767
	}
	switch info.BitsPerSample {
	case 8:
		return float64(int(b[0])-128) * 256
	case 16:
		return float64(int16(binary.LittleEndian.Uint16(b)))
	case 24:
		v := int32(uint32(b[0])<<8|uint32(b[1])<<16|uint32(b[2])<<24) >> 8
		return float64(v) / 256
	default:
		return float64(int32(binary.LittleEndian.Uint32(b))) / 65536
	}
}

func toMono(data []byte, info Info) []float64 {
	bps := info.BitsPerSample / 8
	block := bps * info.Channels
	out := make([]float64, len(data)/block)
	for i := range out {
		var sum float64
		for c := 0; c < info.Channels; c++ {
			o := i*block + c*bps
			sum += sample(data[o:o+bps], info)
		}
		out[i] = sum / float64(info.Channels)
	}
	return out
}

func toPCM16(x []float64) codec.PCM16 {
	out := make(codec.PCM16, len(x))
	for i, v := range x {
		out[i] = int16(max(-32767, min(32767, math.Round(v))))
	}
	return out
}
