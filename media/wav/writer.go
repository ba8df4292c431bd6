package wav

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"os"

	"github.com/wasmvoice/mediaserver/media/codec"
)

// headerSize is the size of the canonical header the Writer emits.
const headerSize = 44

// unknownSize marks the RIFF and data sizes until they are known.
const unknownSize = 0xFFFFFFFF

// Writer writes a 16-bit 8 kHz WAV file incrementally. The header is
// written first with unknown sizes; Sync (called automatically every
// SyncEvery bytes) flushes, rewrites the sizes and fsyncs, so a crash
// loses at most the audio since the last sync and leaves a valid file.
// Close fixes the sizes for good.
//
// A Writer is not safe for concurrent use. It does blocking file I/O:
// keep it off the media clock goroutine.
type Writer struct {
	f         *os.File
	bw        *bufio.Writer
	channels  int
	data      int64
	sinceSync int64
	syncEvery int64
	buf       []byte
	inter     codec.PCM16
	closed    bool
}

// DefaultSyncEvery is one second of stereo audio.
const DefaultSyncEvery = 2 * 2 * codec.SampleRate

// Create creates (truncates) path and writes a header for channels (1 or 2).
func Create(path string, channels int) (*Writer, error) {
	if channels != 1 && channels != 2 {
		return nil, fmt.Errorf("%w: %d", ErrChannels, channels)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, err
	}
	// The header goes to the file at once, and audio at least every
	// 4 KiB (about 250 ms mono): a process killed right after the start
	// leaves a valid, repairable WAV, never an empty file, and loses at
	// most the last quarter second.
	if _, err := f.Write(header(channels, unknownSize)); err != nil {
		f.Close()
		return nil, err
	}
	w := &Writer{
		f:         f,
		bw:        bufio.NewWriterSize(f, bufferSize),
		channels:  channels,
		syncEvery: DefaultSyncEvery,
		buf:       make([]byte, 0, 2*2*codec.FrameSamples),
	}
	return w, nil
}

// SetSyncEvery sets how many data bytes are written between automatic
// syncs; 0 disables them.
func (w *Writer) SetSyncEvery(n int64) { w.syncEvery = n }

// bufferSize is how much audio waits in memory before a write(2).
const bufferSize = 4 << 10

func header(channels int, dataSize uint32) []byte {
	h := make([]byte, headerSize)
	copy(h[0:], "RIFF")
	riff := uint32(unknownSize)
	if dataSize != unknownSize {
		riff = dataSize + headerSize - 8
	}
	binary.LittleEndian.PutUint32(h[4:], riff)
	copy(h[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(h[16:], 16)
	binary.LittleEndian.PutUint16(h[20:], FormatPCM)
	binary.LittleEndian.PutUint16(h[22:], uint16(channels))
	binary.LittleEndian.PutUint32(h[24:], codec.SampleRate)
	binary.LittleEndian.PutUint32(h[28:], uint32(codec.SampleRate*2*channels))
	binary.LittleEndian.PutUint16(h[32:], uint16(2*channels))
	binary.LittleEndian.PutUint16(h[34:], 16)
	copy(h[36:], "data")
	binary.LittleEndian.PutUint32(h[40:], dataSize)
	return h
}

// Write appends samples (interleaved left, right for stereo).
func (w *Writer) Write(samples codec.PCM16) error {
	if w.closed {
		return ErrClosed
	}
	if w.data+int64(2*len(samples)) > 0xFFFFFFFF-headerSize {
		return ErrTooLarge
	}
	w.buf = w.buf[:0]
	for _, s := range samples {
		w.buf = binary.LittleEndian.AppendUint16(w.buf, uint16(s))
	}
	if _, err := w.bw.Write(w.buf); err != nil {
		return err
	}
	w.data += int64(len(w.buf))
	w.sinceSync += int64(len(w.buf))
	if w.syncEvery > 0 && w.sinceSync >= w.syncEvery {
		return w.Sync()
	}
	return nil
}

// WriteStereo appends one frame of each channel, interleaved.
func (w *Writer) WriteStereo(left, right codec.PCM16) error {
	if w.channels != 2 {
		return fmt.Errorf("%w: stereo write to a mono file", ErrChannels)
	}
	n := min(len(left), len(right))
	w.inter = w.inter[:0]
	for i := 0; i < n; i++ {
		w.inter = append(w.inter, left[i], right[i])
	}
	return w.Write(w.inter)
}

// Samples returns the number of sample frames written (per channel).
func (w *Writer) Samples() int64 { return w.data / int64(2*w.channels) }

// Sync flushes buffered audio, writes the current sizes into the header
// and fsyncs the file.
func (w *Writer) Sync() error {
	if w.closed {
		return ErrClosed
	}
	w.sinceSync = 0
	if err := w.bw.Flush(); err != nil {
		return err
	}
	if err := writeSizes(w.f, headerSize, uint32(w.data)); err != nil {
		return err
	}
	return w.f.Sync()
}

func writeSizes(f io.WriterAt, dataOffset int64, dataSize uint32) error {
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], uint32(dataOffset-8)+dataSize)
	if _, err := f.WriteAt(b[:], 4); err != nil {
		return err
	}
	binary.LittleEndian.PutUint32(b[:], dataSize)
	_, err := f.WriteAt(b[:], dataOffset-4)
	return err
}

// Close syncs the final sizes and closes the file.
func (w *Writer) Close() error {
	if w.closed {
		return ErrClosed
	}
	err := w.Sync()
	w.closed = true
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	return err
}

// Repair fixes the RIFF and data sizes of a WAV file whose writer did not
// finish (a crash, a full disk): the data chunk is taken to run to the end
// of the file, trimmed to whole sample frames.
func Repair(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	info, err := headerInfo(bufio.NewReader(f))
	if err != nil {
		return fmt.Errorf("repair %s: %w", path, err)
	}
	if err := info.validate(); err != nil {
		return fmt.Errorf("repair %s: %w", path, err)
	}
	st, err := f.Stat()
	if err != nil {
		return err
	}
	block := int64(info.Channels * info.BitsPerSample / 8)
	size := st.Size() - info.DataOffset
	size -= size % block
	if size > 0xFFFFFFFF-info.DataOffset {
		return fmt.Errorf("repair %s: %w", path, ErrTooLarge)
	}
	if err := f.Truncate(info.DataOffset + size); err != nil {
		return err
	}
	if err := writeSizes(f, info.DataOffset, uint32(size)); err != nil {
		return err
	}
	return f.Sync()
}
