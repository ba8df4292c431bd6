#!/bin/sh
# Builds the example plugins into plugins/bin (called by `make plugins`):
#   <go plugin>.wasm       ABI v1 reactor   (GOOS=wasip1 -buildmode=c-shared)
#   <go plugin>-cmd.wasm   WASI command     (GOOS=wasip1 -tags mediaserver_command)
#   <go plugin>-webhook    native webhook   (host GOOS)
#   (the iotcomms scenario plugins but the auto-attendant: reactor and webhook only)
#   <c plugin>.wasm        ABI v1 reactor   (clang -mexec-model=reactor)
#   <c plugin>-cmd.wasm    WASI command     (clang -DMEDIASERVER_COMMAND)
#   <rust plugin>.wasm     ABI v1 reactor   (rustc --crate-type cdylib)
#   <rust plugin>-cmd.wasm WASI command     (rustc --crate-type bin --cfg mediaserver_command)
#   <rust plugin>-test     native unit and golden tests (rustc --test; make test runs them)
#   <as plugin>.wasm       ABI v1 reactor   (asc assembly/index.ts --exportStart _initialize)
#   <as plugin>-cmd.wasm   WASI command     (asc assembly/command.ts --exportStart _start)
# Only outputs older than their sources (the plugin, the SDK, this script)
# are rebuilt. Needs go; clang + wasm-ld + wasi-libc + the wasm32
# compiler-rt builtins (Debian: clang lld wasi-libc libclang-rt-dev-wasm32);
# a rustc with the wasm32-wasip1 or wasm32-wasi standard library (Debian:
# rustc libstd-rust-dev-wasm32; RUSTC picks one); node and npm (the
# AssemblyScript compiler is installed from sdk/assemblyscript's lockfile).
set -eu
cd "$(dirname "$0")"
GO=${GO:-go}
CLANG=${CLANG:-clang}
BIN=bin
GO_PLUGINS="meetingjoin-go ivr-go iot-autoattendant-go"
GO_REACTOR_WEBHOOK_PLUGINS="iot-ivr-go iot-meetme-go iot-alarm-go iot-recording-go iot-monitor-go iot-transfer-go iot-conference-go"
C_PLUGINS="meetingjoin-c ivr-c iot-autoattendant-c"
RUST_PLUGINS="meetingjoin-rust ivr-rust"
AS_PLUGINS="meetingjoin-as ivr-as"

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
for p in $GO_PLUGINS $GO_REACTOR_WEBHOOK_PLUGINS; do
	src="$p ../sdk/go"
	if stale "$BIN/$p.wasm" $src; then
		echo "build $BIN/$p.wasm"
		(cd "$p" && GOWORK=off GOOS=wasip1 GOARCH=wasm "$GO" build -buildmode=c-shared -o "../$BIN/$p.wasm" .)
	fi
	case " $GO_REACTOR_WEBHOOK_PLUGINS " in
	*" $p "*) ;; # no command build
	*)
		if stale "$BIN/$p-cmd.wasm" $src; then
			echo "build $BIN/$p-cmd.wasm"
			(cd "$p" && GOWORK=off GOOS=wasip1 GOARCH=wasm "$GO" build -tags mediaserver_command -o "../$BIN/$p-cmd.wasm" .)
		fi
		;;
	esac
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

# Rust: the first rustc (RUSTC, then PATH, then Debian's) whose sysroot has
# a wasm32 WASI standard library. A rustup toolchain without the target
# (which cannot be downloaded offline) is passed over for Debian's.
RUST_TARGET=
for r in ${RUSTC:-} rustc /usr/bin/rustc; do
	command -v "$r" >/dev/null 2>&1 || continue
	root=$("$r" --print sysroot 2>/dev/null) || continue
	for t in wasm32-wasip1 wasm32-wasi; do
		if [ -d "$root/lib/rustlib/$t/lib" ]; then RUSTC_BIN=$r; RUST_TARGET=$t; break 2; fi
	done
done
[ -n "$RUST_TARGET" ] || die "no rustc with a wasm32-wasip1 or wasm32-wasi standard library (apt-get install rustc libstd-rust-dev-wasm32)"
RUSTFLAGS="--edition 2021 -C opt-level=3 -C codegen-units=1 -C strip=debuginfo"
RLIB_WASM=$BIN/rust/$RUST_TARGET/libmediaserver.rlib
RLIB_NATIVE=$BIN/rust/native/libmediaserver.rlib
if stale "$RLIB_WASM" ../sdk/rust/src; then
	echo "build $RLIB_WASM ($RUSTC_BIN)"
	mkdir -p "$(dirname "$RLIB_WASM")"
	# shellcheck disable=SC2086
	"$RUSTC_BIN" $RUSTFLAGS --crate-name mediaserver --crate-type rlib --target "$RUST_TARGET" -o "$RLIB_WASM" ../sdk/rust/src/lib.rs
fi
if stale "$RLIB_NATIVE" ../sdk/rust/src; then
	echo "build $RLIB_NATIVE"
	mkdir -p "$(dirname "$RLIB_NATIVE")"
	# shellcheck disable=SC2086
	"$RUSTC_BIN" $RUSTFLAGS --crate-name mediaserver --crate-type rlib -o "$RLIB_NATIVE" ../sdk/rust/src/lib.rs
fi
if stale "$BIN/rust/sdk-test" ../sdk/rust/src; then
	echo "build $BIN/rust/sdk-test"
	# shellcheck disable=SC2086
	"$RUSTC_BIN" $RUSTFLAGS --crate-name mediaserver --test -o "$BIN/rust/sdk-test" ../sdk/rust/src/lib.rs
fi
for p in $RUST_PLUGINS; do
	crate=$(echo "$p" | tr - _)
	src="$p ../sdk/rust/src"
	wasm="-L $BIN/rust/$RUST_TARGET --extern mediaserver=$RLIB_WASM --target $RUST_TARGET"
	if stale "$BIN/$p.wasm" $src; then
		echo "build $BIN/$p.wasm"
		# shellcheck disable=SC2086
		"$RUSTC_BIN" $RUSTFLAGS $wasm --crate-name "$crate" --crate-type cdylib -o "$BIN/$p.wasm" "$p/src/lib.rs"
	fi
	if stale "$BIN/$p-cmd.wasm" $src; then
		echo "build $BIN/$p-cmd.wasm"
		# shellcheck disable=SC2086
		"$RUSTC_BIN" $RUSTFLAGS $wasm --cfg mediaserver_command --crate-name "$crate" --crate-type bin -o "$BIN/$p-cmd.wasm" "$p/src/lib.rs"
	fi
	if stale "$BIN/$p-test" $src; then
		echo "build $BIN/$p-test"
		# shellcheck disable=SC2086
		"$RUSTC_BIN" $RUSTFLAGS -L "$BIN/rust/native" --extern mediaserver="$RLIB_NATIVE" --crate-name "$crate" --test -o "$BIN/$p-test" "$p/src/lib.rs"
	fi
done

# AssemblyScript: the compiler pinned by sdk/assemblyscript/package-lock.json.
# Plugins import "@wasmvoice/mediaserver-as", found through a package
# folder in bin/ that links to the SDK (what npm install does elsewhere).
SDK_AS=../sdk/assemblyscript
ASC=$SDK_AS/node_modules/.bin/asc
if [ ! -x "$ASC" ]; then
	command -v npm >/dev/null || die "npm not found (the AssemblyScript compiler comes from the npm registry)"
	echo "npm ci in $SDK_AS"
	(cd "$SDK_AS" && npm ci --no-audit --no-fund --loglevel=error)
fi
command -v node >/dev/null || die "node not found"
mkdir -p "$BIN/as_modules/@wasmvoice"
ln -sfn ../../../$SDK_AS "$BIN/as_modules/@wasmvoice/mediaserver-as"
ASFLAGS="--path $BIN/as_modules -O3 --use abort=~lib/@wasmvoice/mediaserver-as/assembly/host/mediaserverAbort"
for p in $AS_PLUGINS; do
	src="$p $SDK_AS/assembly $SDK_AS/index.ts"
	if stale "$BIN/$p.wasm" $src; then
		echo "build $BIN/$p.wasm"
		# shellcheck disable=SC2086
		"$ASC" "$p/assembly/index.ts" $ASFLAGS --exportStart _initialize -o "$BIN/$p.wasm"
	fi
	if stale "$BIN/$p-cmd.wasm" $src; then
		echo "build $BIN/$p-cmd.wasm"
		# shellcheck disable=SC2086
		"$ASC" "$p/assembly/command.ts" $ASFLAGS --exportStart _start -o "$BIN/$p-cmd.wasm"
	fi
done
