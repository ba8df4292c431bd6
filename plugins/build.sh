#!/bin/sh
# Builds the example plugins into plugins/bin (called by `make plugins`):
#   <go plugin>.wasm       ABI v1 reactor   (GOOS=wasip1 -buildmode=c-shared)
#   <go plugin>-cmd.wasm   WASI command     (GOOS=wasip1 -tags mediaserver_command)
#   <go plugin>-webhook    native webhook   (host GOOS)
#   <c plugin>.wasm        ABI v1 reactor   (clang -mexec-model=reactor)
#   <c plugin>-cmd.wasm    WASI command     (clang -DMEDIASERVER_COMMAND)
# Only outputs older than their sources (the plugin, the SDK, this script)
# are rebuilt. Needs go, and clang + wasm-ld + wasi-libc + the wasm32
# compiler-rt builtins (Debian: clang lld wasi-libc libclang-rt-dev-wasm32).
set -eu
cd "$(dirname "$0")"
GO=${GO:-go}
CLANG=${CLANG:-clang}
BIN=bin
GO_PLUGINS="meetingjoin-go ivr-go"
C_PLUGINS="meetingjoin-c"

die() { echo "plugins/build.sh: $*" >&2; exit 1; }
command -v "$GO" >/dev/null || die "$GO not found"
command -v "$CLANG" >/dev/null || die "$CLANG not found (apt-get install clang lld wasi-libc libclang-rt-dev-wasm32)"
command -v wasm-ld >/dev/null || command -v wasm-ld-14 >/dev/null || die "wasm-ld not found (apt-get install lld)"

SYSROOT=${WASI_SYSROOT:-}
if [ -z "$SYSROOT" ]; then
	for d in /usr /usr/share/wasi-sysroot /opt/wasi-sdk/share/wasi-sysroot; do
		if [ -e "$d/lib/wasm32-wasi/libc.a" ] || [ -e "$d/lib/wasm32-wasip1/libc.a" ]; then SYSROOT=$d; break; fi
	done
fi
[ -n "$SYSROOT" ] || die "wasi-libc not found (apt-get install wasi-libc, or set WASI_SYSROOT)"

# stale OUT DIR...: OUT is missing or older than a file in DIR... or this script.
stale() {
	out=$1
	shift
	[ -e "$out" ] || return 0
	[ build.sh -nt "$out" ] && return 0
	[ -n "$(find "$@" -type f -newer "$out" -print -quit)" ]
}

mkdir -p "$BIN"
for p in $GO_PLUGINS; do
	src="$p ../sdk/go"
	if stale "$BIN/$p.wasm" $src; then
		echo "build $BIN/$p.wasm"
		(cd "$p" && GOWORK=off GOOS=wasip1 GOARCH=wasm "$GO" build -buildmode=c-shared -o "../$BIN/$p.wasm" .)
	fi
	if stale "$BIN/$p-cmd.wasm" $src; then
		echo "build $BIN/$p-cmd.wasm"
		(cd "$p" && GOWORK=off GOOS=wasip1 GOARCH=wasm "$GO" build -tags mediaserver_command -o "../$BIN/$p-cmd.wasm" .)
	fi
	if stale "$BIN/$p-webhook" $src; then
		echo "build $BIN/$p-webhook"
		(cd "$p" && GOWORK=off "$GO" build -o "../$BIN/$p-webhook" .)
	fi
done

CFLAGS="--target=wasm32-wasi --sysroot=$SYSROOT -O3 -msimd128 -mbulk-memory -Wall -Wextra -Werror -I../sdk/c -Wl,--strip-debug"
for p in $C_PLUGINS; do
	src="$p ../sdk/c"
	if stale "$BIN/$p.wasm" $src; then
		echo "build $BIN/$p.wasm"
		# shellcheck disable=SC2086
		$CLANG $CFLAGS -mexec-model=reactor -o "$BIN/$p.wasm" "$p"/*.c
	fi
	if stale "$BIN/$p-cmd.wasm" $src; then
		echo "build $BIN/$p-cmd.wasm"
		# shellcheck disable=SC2086
		$CLANG $CFLAGS -DMEDIASERVER_COMMAND -o "$BIN/$p-cmd.wasm" "$p"/*.c
	fi
done
