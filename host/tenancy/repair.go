package tenancy

import (
	"encoding/binary"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/wasmvoice/mediaserver/media/wav"
)

// wavHeaderScan is how much of a file wavNeedsRepair looks at: enough for
// the RIFF header and the chunks a recorder writes before "data".
const wavHeaderScan = 4096

// wavNeedsRepair reports whether head (the first bytes of a file of size
// bytes) is a WAV whose header sizes disagree with the file: what a
// recorder killed between two header rewrites leaves. A file that is not
// a RIFF/WAVE or has no data chunk in head is left alone.
func wavNeedsRepair(head []byte, size int64) bool {
	if len(head) < 12 || string(head[0:4]) != "RIFF" || string(head[8:12]) != "WAVE" {
		return false
	}
	riff := int64(binary.LittleEndian.Uint32(head[4:8]))
	off := int64(12)
	for off+8 <= int64(len(head)) {
		id := string(head[off : off+4])
		n := int64(binary.LittleEndian.Uint32(head[off+4 : off+8]))
		if id == "data" {
			// A consistent file's RIFF size covers it exactly and its data
			// chunk fits in it; a crashed recorder's sizes lag the data.
			return riff+8 != size || off+8+n > size
		}
		off += 8 + n + n&1
	}
	return false
}

// repairRecordings scans the bucket store for WAV files whose header sizes
// are wrong (a crash while recording) and repairs them with wav.Repair, so
// the audio recorded before the crash is playable. It returns the files
// repaired, relative to the store's root.
func (t *Tenancy) repairRecordings(root string) []string {
	var repaired []string
	_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			t.log.Warn("recording scan", "path", p, "err", err)
			return nil
		}
		if !d.Type().IsRegular() || !strings.EqualFold(filepath.Ext(p), ".wav") {
			return nil
		}
		if !NeedsRepair(p) {
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		if err := wav.Repair(p); err != nil {
			t.log.Warn("recording could not be repaired", "path", rel, "err", err)
			return nil
		}
		t.log.Warn("repaired recording "+rel, "path", rel)
		repaired = append(repaired, filepath.ToSlash(rel))
		return nil
	})
	return repaired
}

// NeedsRepair reports whether the file at path is a WAV whose header
// sizes disagree with its data: what a recorder killed between two header
// rewrites leaves, and what Start repairs.
func NeedsRepair(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return false
	}
	head := make([]byte, wavHeaderScan)
	n, err := io.ReadFull(f, head)
	if err != nil && err != io.ErrUnexpectedEOF {
		return false
	}
	return wavNeedsRepair(head[:n], st.Size())
}
