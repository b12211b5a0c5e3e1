#!/usr/bin/env bash
# asan-arena.sh: cstow and cstow-entrypoint under AddressSanitizer and
# UBSan with every arena string an allocation of its own
# (tests/fuzz/fuzz_arena.c), so that a string the planner uses after
# releasing it (its scratch arena is released per entry) is a use after
# free ASan stops on.  Runs the CLI scenarios, then stows, re-runs,
# restows and unstows a 2,000-file package.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
out=$root/build/asan-arena
mkdir -p "$out"
wrap=$("$root/tests/fuzz/arena-wrap.sh" "$root")
cflags="-std=c11 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer
    -fsanitize=address,undefined -fno-sanitize-recover=all
    $(pkg-config --cflags libbsd-overlay libpcre2-8 libmd) -I$root/lib"
libs="$(pkg-config --libs libbsd-overlay libpcre2-8 libmd) -lpthread"
run_srcs="$root/cli/bootstrap.c $root/cli/display.c $root/cli/lock.c
    $root/cli/runas.c $root/cli/state.c $root/cli/check.c $root/cli/json.c"
# shellcheck disable=SC2086
cc $cflags -o "$out/cstow" "$root"/lib/*.c "$root"/cli/cstow.c $run_srcs \
    "$root/tests/fuzz/fuzz_arena.c" "$wrap" $libs
# shellcheck disable=SC2086
cc $cflags -o "$out/cstow-entrypoint" "$root"/lib/*.c \
    "$root"/cli/entrypoint.c $run_srcs "$root/tests/fuzz/fuzz_arena.c" \
    "$wrap" $libs

"$root/tests/scenarios.sh" "$out/cstow"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/stow/pkg" "$tmp/t" "$tmp/home"
(cd "$tmp/stow/pkg" && for d in $(seq -f 'd%02g' 0 19); do
	mkdir "$d" "../../t/$d" && (cd "$d" && touch $(seq -f 'f%03g' 0 99))
done)
pass=0 fail=0
round() {	# round FLAG LINKS: a run, and the links it leaves
	if HOME=$tmp/home "$out/cstow" -d "$tmp/stow" -t "$tmp/t" "$1" pkg &&
	    [ "$(find "$tmp/t" -type l | wc -l)" = "$2" ]; then
		pass=$((pass + 1))
	else
		echo "FAIL cstow $1: $(find "$tmp/t" -type l | wc -l) links, want $2"
		fail=$((fail + 1))
	fi
}
round -S 2000
round -S 2000
round -R 2000
round -D 0
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
