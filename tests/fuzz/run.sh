#!/usr/bin/env bash
# run.sh: the libFuzzer targets of tests/fuzz/, each for a bounded time.
#
#   fuzz_rc      .stowrc word splitting (stow_rc_read), stow_expand_path
#   fuzz_conf    the cstow.conf reader (stow_conf_read) and its getters
#   fuzz_ignore  ignore lists (ignore_rules_from_text, ignore_match) and
#                stow_ctx_add_pattern
#   fuzz_path    the path algebra of lib/path.c, against invariants and
#                a model of GNU Stow's join_paths()
#
# Each target is built with clang -fsanitize=fuzzer,address,undefined
# from the library sources into build/fuzz/, then run over a copy of its
# seed corpus, fixtures/fuzz/<name>/ (the repository is not modified),
# for SECONDS seconds.  A crash, a sanitizer report, a leak, a timeout
# or a broken invariant (an abort() in the target) fails the target;
# the input is kept under build/fuzz/crashes/ and the log in
# build/fuzz/<target>.log.  Reproduce with build/fuzz/<target> FILE.
#
# Usage: tests/fuzz/run.sh [SECONDS] [TARGET...]
# (default 15 seconds, every target); prints "N passed, N failed".
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
secs=${1:-15}
shift $(($# > 0 ? 1 : 0))
targets=${*:-fuzz_rc fuzz_conf fuzz_ignore fuzz_path}
cc=${FUZZ_CC:-clang}
pkg_config=${PKG_CONFIG:-pkg-config}
out=$root/build/fuzz
crashes=$out/crashes

case $secs in
''|*[!0-9]*) echo "usage: $0 [SECONDS] [TARGET...]" >&2; exit 2 ;;
esac
mkdir -p "$crashes" || exit 1
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cstow-fuzz.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

pass=0 fail=0

# The arena of lib/util.c packs allocations into 64 KiB chunks, where
# AddressSanitizer cannot see an overrun; tests/fuzz/fuzz_arena.c gives
# each allocation its own block (and red zones) instead, by wrapping
# every arena_* function lib/extern.h declares.  Should one of them lack
# its __wrap_ (a new one in the library), the wrapping is left out
# rather than mixing two allocators.
arena=("$here/fuzz_arena.c")
if ! wrap=$("$here/arena-wrap.sh" "$root" 2>&1); then
	echo "note: $wrap; building with the library's arena"
	arena=() wrap=""
fi

build() {	# build TARGET: build/fuzz/TARGET, when out of date
	local t=$1 bin=$out/$1 newer
	if [ -x "$bin" ]; then
		newer=$(find "$root/lib" "$here" -newer "$bin" \
		    \( -name '*.c' -o -name '*.h' \) | head -1)
		[ -z "$newer" ] && return 0
	fi
	# shellcheck disable=SC2046
	"$cc" -g -O1 -fno-omit-frame-pointer \
	    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	    -std=c11 -D_GNU_SOURCE -I"$root/lib" \
	    $("$pkg_config" --cflags libbsd-overlay libpcre2-8 libmd) \
	    "$root"/lib/*.c "${arena[@]}" "$here/$t.c" ${wrap:+"$wrap"} \
	    $("$pkg_config" --libs libbsd-overlay libpcre2-8 libmd) \
	    -o "$bin" > "$out/$t.build.log" 2>&1
}

# The short report of a failed run: the sanitizer's or the invariant's
# line and the first frames of the library and the target.
summary() {	# summary LOG
	grep -E 'invariant failed|ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error|SUMMARY' \
	    "$1" | head -4 | sed 's|^|    |; s|'"$root"'/||'
	grep -E '^ +#[0-9]+ .* in [A-Za-z_]+ .*/(lib|tests/fuzz)/' "$1" |
	    grep -vE 'in (__wrap_arena|fuzz_strndup|__sanitizer|fuzzer::)' |
	    head -5 | sed -E 's/^ +(#[0-9]+) 0x[0-9a-f]+ in /    \1 /;
	    s| '"$root"'/| |'
}

# Build every target first, in parallel.
pids=""
for t in $targets; do
	build "$t" &
	pids="$pids $!"
done
# shellcheck disable=SC2086
set -- $targets
for pid in $pids; do
	wait "$pid"
	echo $? > "$tmp/built-$1"
	shift
done

for t in $targets; do
	name=${t#fuzz_}
	log=$out/$t.log
	if [ "$(cat "$tmp/built-$t")" != 0 ]; then
		fail=$((fail + 1))
		echo "$t: FAILED to build (see build/fuzz/$t.build.log)"
		sed 's/^/    /' "$out/$t.build.log" | head -20
		continue
	fi
	corpus=$tmp/corpus-$name
	mkdir -p "$corpus"
	if [ -d "$root/fixtures/fuzz/$name" ]; then
		cp "$root/fixtures/fuzz/$name"/* "$corpus"/ 2>/dev/null
	fi
	rm -f "$crashes/$t"-*
	# TMPDIR: where fuzz_rc and fuzz_conf write their input file.
	(cd "$tmp" && TMPDIR=$tmp \
	    ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} \
	    UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1} \
	    "$out/$t" -max_total_time="$secs" -print_final_stats=1 \
	    -timeout=30 -rss_limit_mb=4096 \
	    -artifact_prefix="$crashes/$t-" "$corpus" > "$log" 2>&1)
	status=$?
	n=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" |
	    tail -1)
	n=${n:-0}
	kept=$(find "$crashes" -name "$t-*" | head -1)
	if [ $status -eq 0 ] && [ -z "$kept" ]; then
		pass=$((pass + 1))
		echo "$t: $n executions, ok"
		continue
	fi
	fail=$((fail + 1))
	echo "$t: $n executions, FAILED (exit $status; log build/fuzz/$t.log)"
	summary "$log"
	if [ -n "$kept" ]; then
		echo "    input: ${kept#"$root"/} ($(wc -c < "$kept") bytes):" \
		    "$(head -c 96 "$kept" | od -An -c | tr -s ' \n' ' ' |
		    sed 's/^ //')"
		echo "    reproduce: build/fuzz/$t ${kept#"$root"/}"
	fi
done

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
