#!/bin/sh
# Builds the C test fixtures in hostile/ into bin/*.wasm with clang and the
# Debian wasi-libc sysroot. Files named cmd_*.c become WASI commands, the
# others ABI v1 reactors. Only stale outputs are rebuilt.
set -eu
cd "$(dirname "$0")"
CLANG=${CLANG:-clang}
SYSROOT=${WASI_SYSROOT:-}
if [ -z "$SYSROOT" ]; then
	for d in /usr /usr/share/wasi-sysroot /opt/wasi-sdk/share/wasi-sysroot; do
		if [ -e "$d/lib/wasm32-wasi/libc.a" ]; then SYSROOT=$d; break; fi
	done
fi
SYSFLAG=""
[ -n "$SYSROOT" ] && SYSFLAG="--sysroot=$SYSROOT"
mkdir -p bin
for src in hostile/*.c; do
	name=$(basename "$src" .c)
	out=bin/$name.wasm
	if [ -f "$out" ] && [ "$out" -nt "$src" ] && [ "$out" -nt hostile/ms.h ] && [ "$out" -nt build.sh ]; then
		continue
	fi
	case $name in
	cmd_*) model="-mexec-model=command" ;;
	*) model="-mexec-model=reactor" ;;
	esac
	# -O1 keeps the hostile loops and recursions as written.
	$CLANG --target=wasm32-wasi $SYSFLAG -O1 $model -Wall -Wno-unused-parameter -Wno-infinite-recursion -o "$out.tmp" "$src"
	mv "$out.tmp" "$out"
done
