package main

import (
	"io"
	"os"
	"strconv"

	"github.com/wasmvoice/mediaserver/host/api"
)

// The tenant's key-value store ("kv …"), the one its plugins use.

const usageKVGet = `Usage: mediactl kv get KEY

Writes the value of KEY in the tenant's key-value store (the one its
plugins read and write with kv_get and kv_set) to stdout, as it is, with
no newline added.

Examples:
  mediactl kv get "iot/$SESSION/dest"
  mediactl kv get counters/calls > calls.txt
`

const usageKVPut = `Usage: mediactl kv put KEY VALUE
       mediactl kv put KEY -file FILE|-

Sets KEY to VALUE, or to the contents of FILE (stdin with "-"), e.g. to
seed what a plugin reads. A VALUE starting with '-' goes after "--".

Examples:
  mediactl kv put config/greeting "Welcome to Acme."
  mediactl kv put config/menu.json -file menu.json
  date +%s | mediactl kv put config/deployed -file -
  mediactl kv put config/offset -- -5
`

const usageKVList = `Usage: mediactl kv list [-prefix P]

Lists the keys (and their values' sizes) of the tenant's key-value store,
optionally only those starting with P, following the server's pages.

Examples:
  mediactl kv list
  mediactl kv list -prefix "iot/$SESSION/"
`

const usageKVDelete = `Usage: mediactl kv delete KEY

Deletes KEY.

Example:
  mediactl kv delete config/greeting
`

func (s *session) kvGet(args []string) error {
	fs := s.flagSet("kv get", usageKVGet)
	c, pos, err := s.connect(fs, args, 1, 1)
	if err != nil {
		return err
	}
	val, err := c.GetKV(s.ctx, pos[0])
	if err != nil {
		return s.badKey("kv get", err)
	}
	_, err = s.stdout.Write(val)
	return err
}

func (s *session) kvPut(args []string) error {
	fs := s.flagSet("kv put", usageKVPut)
	file := fs.String("file", "", "read the value from this file (\"-\": stdin)")
	pos, err := s.parse(fs, args, 1, 2)
	if err != nil {
		return err
	}
	var val []byte
	switch {
	case len(pos) == 2 && *file != "":
		return s.usageErr("kv put: give either VALUE or -file, not both")
	case len(pos) == 2:
		val = []byte(pos[1])
	case *file == "":
		return s.usageErr("kv put: missing VALUE or -file (see -h)")
	case *file == "-":
		if val, err = io.ReadAll(s.stdin); err != nil {
			return s.usageErr("kv put: reading stdin: %v", err)
		}
	default:
		if val, err = os.ReadFile(*file); err != nil {
			return s.usageErr("kv put: %v", err)
		}
	}
	c, err := s.client()
	if err != nil {
		return err
	}
	if err := c.PutKV(s.ctx, pos[0], val); err != nil {
		return s.badKey("kv put", err)
	}
	return nil
}

func (s *session) kvList(args []string) error {
	fs := s.flagSet("kv list", usageKVList)
	prefix := fs.String("prefix", "", "only keys starting with this")
	c, _, err := s.connect(fs, args, 0, 0)
	if err != nil {
		return err
	}
	entries, err := c.ListKV(s.ctx, *prefix)
	if err != nil {
		return s.failed(err)
	}
	if s.json {
		return s.printJSON(api.KVList{Entries: entries})
	}
	rows := make([][]string, 0, len(entries))
	for _, e := range entries {
		rows = append(rows, []string{e.Key, strconv.Itoa(e.Size)})
	}
	s.table([]string{"KEY", "SIZE"}, rows)
	return nil
}

func (s *session) kvDelete(args []string) error {
	fs := s.flagSet("kv delete", usageKVDelete)
	c, pos, err := s.connect(fs, args, 1, 1)
	if err != nil {
		return err
	}
	if err := c.DeleteKV(s.ctx, pos[0]); err != nil {
		return s.badKey("kv delete", err)
	}
	return nil
}
