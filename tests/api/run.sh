#!/usr/bin/env bash
# tests/api/run.sh: libstow seen from outside the tree.  Run by
# `make check-api` after `make all`, from the top of the source tree.
#
#   install     make install into a staging DESTDIR; header, libraries,
#               SONAME, libstow.pc, programs, man pages; make uninstall
#   consumer    tests/api/consumer.c built out of tree against the staged
#               install with pkg-config, dynamically and statically
#   ctypes      tests/api/ctypes_test.py drives lib/libstow.so.0
#   threads     tests/api/threads.c under -fsanitize=thread and helgrind
#   symbols     only stow_* exported, exactly the STOW_API functions
#
# Prints one line per test and "N passed, N failed"; exits 1 on any
# failure and then keeps its work directory (CSTOW_TEST_KEEP=1 always
# keeps it).

# Compiler and pkg-config flags are split into words on purpose, and the
# test functions are called through check().
# shellcheck disable=SC2086,SC2317
set -u

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root" || exit 2
CC=${CC:-cc}
MAKE=${MAKE:-make}
PKG_CONFIG=${PKG_CONFIG:-pkg-config}
PYTHON=${PYTHON:-python3}
LIBSO=lib/libstow.so.0
LIBA=lib/libstow.a
LIB_SRCS=${LIB_SRCS:-$(ls lib/*.c)}
DEPS="libbsd-overlay libpcre2-8 libmd"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/cstow-api.XXXXXX") || exit 2
stage=$tmp/stage
passed=0
failed=0

finish() {
	echo "$passed passed, $failed failed"
	if [ "$failed" -ne 0 ] || [ -n "${CSTOW_TEST_KEEP:-}" ]; then
		echo "work directory kept: $tmp"
	else
		rm -rf "$tmp"
	fi
	[ "$failed" -eq 0 ]
	exit
}
trap 'echo "interrupted"; failed=$((failed + 1)); finish' INT TERM

ok() {
	echo "ok   $1"
	passed=$((passed + 1))
}

# not_ok NAME [DETAIL-FILE-OR-TEXT...]: detail lines are indented.
not_ok() {
	local name=$1 d
	shift
	echo "FAIL $name"
	for d in "$@"; do
		if [ -f "$d" ]; then
			sed -n '1,40s/^/     | /p' "$d"
		else
			printf '%s\n' "$d" | sed 's/^/     | /'
		fi
	done
	failed=$((failed + 1))
}

# check NAME COMMAND...: one test from one command, run in a subshell;
# its output is kept in a log and shown on failure.
check() {
	local name=$1 log
	shift
	log=$tmp/log.$((passed + failed))
	if ( "$@" ) >"$log" 2>&1; then
		ok "$name"
	else
		not_ok "$name" "$log"
	fi
}

# The fixture: two packages, pkgA with a nested directory
# (share/doc/pkgA) and pkgB sharing share/ with it (so share/ unfolds),
# under a target that already holds a real bin/.
make_fixture() {
	local t=$1
	mkdir -p "$t/stow/pkgA/bin" "$t/stow/pkgA/share/doc/pkgA" \
	    "$t/stow/pkgB/bin" "$t/stow/pkgB/etc" \
	    "$t/stow/pkgB/share/man/man1" "$t/bin"
	echo a >"$t/stow/pkgA/bin/a"
	echo readme >"$t/stow/pkgA/share/doc/pkgA/README"
	echo b >"$t/stow/pkgB/bin/b"
	echo conf >"$t/stow/pkgB/etc/b.conf"
	echo man >"$t/stow/pkgB/share/man/man1/b.1"
	echo existing >"$t/bin/existing"
}

# The target, without the stow directory: type, path, link text.
show_target() {
	(cd "$1" && find . -mindepth 1 -path ./stow -prune -o \
	    -printf '%y %P %l\n' | LC_ALL=C sort)
}

# Everything under $1, with sizes and link texts.
snapshot() {
	(cd "$1" && find . -printf '%y %p %s %l\n' | LC_ALL=C sort)
}

expected_tree() {
	LC_ALL=C sort <<'TREE'
d bin 
f bin/existing 
l bin/a ../stow/pkgA/bin/a
l bin/b ../stow/pkgB/bin/b
l etc stow/pkgB/etc
d share 
l share/doc ../stow/pkgA/share/doc
l share/man ../stow/pkgB/share/man
TREE
}

expected_ops() {
	cat <<'OPS'
op: LINK bin/a => ../stow/pkgA/bin/a
op: LINK bin/b => ../stow/pkgB/bin/b
op: LINK etc => stow/pkgB/etc
op: MKDIR share
op: LINK share/doc => ../stow/pkgA/share/doc
op: LINK share/man => ../stow/pkgB/share/man
applied 6 ops
OPS
}

# ---------------------------------------------------------------- install

stage_lib=$stage/usr/lib
if "$MAKE" -C "$root" --no-print-directory install DESTDIR="$stage" \
    PREFIX=/usr >"$tmp/install.log" 2>&1; then
	ok "install: make install DESTDIR=\$tmp/stage PREFIX=/usr"
else
	not_ok "install: make install DESTDIR=\$tmp/stage PREFIX=/usr" \
	    "$tmp/install.log"
fi

check "install: /usr/include/stow.h is lib/stow.h" \
    cmp lib/stow.h "$stage/usr/include/stow.h"

check_archive() {
	[ -f "$stage_lib/libstow.a" ] || { echo "no libstow.a"; return 1; }
	cmp "$LIBA" "$stage_lib/libstow.a" &&
	nm -g --defined-only "$stage_lib/libstow.a" | grep -q ' T stow_ctx_new$'
}
check "install: /usr/lib/libstow.a" check_archive

check_symlink() {
	local l
	l=$(readlink "$stage_lib/libstow.so") || return 1
	echo "libstow.so -> $l"
	[ "$l" = libstow.so.0 ] && [ -f "$stage_lib/libstow.so.0" ] &&
	    [ -x "$stage_lib/libstow.so.0" ]
}
check "install: /usr/lib/libstow.so -> libstow.so.0" check_symlink

check_soname() {
	local so
	so=$(readelf -d "$stage_lib/libstow.so.0" | sed -n \
	    's/.*(SONAME).*\[\(.*\)\].*/\1/p')
	echo "SONAME: $so"
	[ "$so" = libstow.so.0 ]
}
check "install: libstow.so.0 has SONAME libstow.so.0" check_soname

# A .pc for PREFIX=/usr must say /usr: a consumer finds the header and
# library through it.
check_pc() {
	local pc=$stage_lib/pkgconfig/libstow.pc v
	[ -f "$pc" ] || { echo "no $pc"; return 1; }
	cat "$pc"
	v=$(sed -n 's/^#define STOW_VERSION_STRING[^"]*"\(.*\)"/\1/p' lib/stow.h)
	grep -qx 'prefix=/usr' "$pc" &&
	grep -qx 'libdir=/usr/lib' "$pc" &&
	grep -qx 'includedir=/usr/include' "$pc" &&
	grep -qx "Version: $v" "$pc"
}
check "install: /usr/lib/pkgconfig/libstow.pc says prefix=/usr" check_pc

check_programs() {
	local p
	for p in cstow cstow-entrypoint; do
		if [ ! -f "$stage/usr/bin/$p" ] || [ ! -x "$stage/usr/bin/$p" ]
		then
			echo "missing /usr/bin/$p"
			return 1
		fi
	done
	"$stage/usr/bin/cstow" --version
}
check "install: /usr/bin/cstow, /usr/bin/cstow-entrypoint" check_programs

check_man() {
	local f s n=0
	for f in man/*.[1-9]; do
		[ -e "$f" ] || continue
		s=${f##*.}
		cmp "$f" "$stage/usr/share/man/man$s/${f##*/}" || return 1
		n=$((n + 1))
	done
	echo "$n pages"
	[ "$n" -gt 0 ]
}
check "install: every man/*.[1-9] page under /usr/share/man" check_man

# --------------------------------------------------------------- consumer

pcenv() {
	PKG_CONFIG_PATH=$stage_lib/pkgconfig PKG_CONFIG_SYSROOT_DIR=$stage \
	    "$PKG_CONFIG" "$@"
}
cflags=$(pcenv --cflags libstow 2>&1)
libs=$(pcenv --libs libstow 2>&1)
slibs=$(pcenv --static --libs libstow 2>&1)
echo "     | pkg-config --cflags --libs: $cflags $libs"
echo "     | pkg-config --static --libs: $slibs"
mkdir -p "$tmp/consumer"

# Out of tree: a copy of consumer.c in a directory of its own, so
# neither lib/ nor the tree's stow.h can be picked up by accident.
cp tests/api/consumer.c "$tmp/consumer/"
build_dynamic() {
	cd "$tmp/consumer" &&
	"$CC" -Wall -Wextra -Werror -o consumer-dyn consumer.c $cflags $libs &&
	readelf -d consumer-dyn | grep -q 'NEEDED.*\[libstow\.so\.0\]'
}
check "consumer: dynamic build with pkg-config --cflags --libs libstow" \
    build_dynamic

# Static libstow, dynamic libc: -lstow from pkg-config --static turned
# into -Wl,-Bstatic -lstow -Wl,-Bdynamic.
build_static() {
	local l s=""
	for l in $slibs; do
		[ "$l" = -lstow ] && l="-Wl,-Bstatic -lstow -Wl,-Bdynamic"
		s="$s $l"
	done
	cd "$tmp/consumer" &&
	"$CC" -Wall -Wextra -Werror -o consumer-static consumer.c $cflags $s &&
	! readelf -d consumer-static | grep -q 'NEEDED.*libstow' &&
	nm consumer-static | grep -q ' T stow_plan_apply$'
}
check "consumer: static libstow (-Wl,-Bstatic -lstow) with pkg-config --static --libs" \
    build_static

# Fully static, as libstow(3) shows it.
build_full() {
	cd "$tmp/consumer" &&
	"$CC" -static -Wall -Wextra -Werror -o consumer-full consumer.c \
	    $cflags $slibs &&
	! readelf -d consumer-full 2>/dev/null | grep -q NEEDED
}
check "consumer: fully static (-static) with pkg-config --static --libs" \
    build_full

uses_stage() {
	local got
	built consumer-dyn || return 1
	got=$(LD_LIBRARY_PATH=$stage_lib ldd "$tmp/consumer/consumer-dyn" |
	    awk '$1 == "libstow.so.0" { print $3 }')
	echo "libstow.so.0 => $got"
	[ "$got" = "$stage_lib/libstow.so.0" ]
}
# A consumer that was not built fails its tests without running them.
built() {
	[ -x "$tmp/consumer/$1" ] || { echo "not run: $1 was not built"; \
	    return 1; }
}
check "consumer(dyn): loads libstow.so.0 from the stage" uses_stage

# run_stow BINARY: stow pkgA pkgB on a fresh fixture; exact tree and
# output, and a second run changes nothing.
run_stow() {
	local bin=$1 t=$tmp/stow-${1##*-}
	built "$bin" || return 1
	make_fixture "$t"
	LD_LIBRARY_PATH=$stage_lib "$tmp/consumer/$bin" "$t/stow" "$t" \
	    pkgA pkgB >"$t.out" 2>&1 || { cat "$t.out"; return 1; }
	diff -u <(expected_ops) "$t.out" || return 1
	diff -u <(expected_tree) <(show_target "$t") || return 1
	[ "$(cat "$t/share/doc/pkgA/README")" = readme ] || return 1
	LD_LIBRARY_PATH=$stage_lib "$tmp/consumer/$bin" "$t/stow" "$t" \
	    pkgA pkgB >"$t.out2" 2>&1 || { cat "$t.out2"; return 1; }
	diff -u <(echo "applied 0 ops") "$t.out2" &&
	diff -u <(expected_tree) <(show_target "$t")
}

# run_conflict BINARY: bin/a is a plain file in the target: the
# conflict is printed, the exit status is 1, and nothing changes.
run_conflict() {
	local bin=$1 t=$tmp/conflict-${1##*-} rc=0
	built "$bin" || return 1
	make_fixture "$t"
	echo mine >"$t/bin/a"
	snapshot "$t" >"$t.before"
	LD_LIBRARY_PATH=$stage_lib "$tmp/consumer/$bin" "$t/stow" "$t" \
	    pkgA pkgB >"$t.out" 2>&1 || rc=$?
	cat "$t.out"
	[ "$rc" -eq 1 ] || { echo "exit status $rc, want 1"; return 1; }
	grep -qx 'conflict: cannot stow stow/pkgA/bin/a over existing target bin/a since neither a link nor a directory and --adopt not specified' \
	    "$t.out" || return 1
	! grep -q '^applied' "$t.out" &&
	diff -u "$t.before" <(snapshot "$t")
}

for bin in consumer-dyn consumer-static consumer-full; do
	check "${bin/-/(}): stow pkgA pkgB: exact links, then idempotent" \
	    run_stow "$bin"
	check "${bin/-/(}): a file in the way: conflict printed, exit 1, nothing changed" \
	    run_conflict "$bin"
done

# -------------------------------------------------------------- uninstall

check_uninstall() {
	"$MAKE" -C "$root" --no-print-directory uninstall DESTDIR="$stage" \
	    PREFIX=/usr || return 1
	local left
	left=$(cd "$stage" && find . ! -type d | LC_ALL=C sort)
	if [ -n "$left" ]; then
		echo "left behind:"
		echo "$left"
		return 1
	fi
	echo "left: $(cd "$stage" && find . -mindepth 1 -type d | wc -l)" \
	    "empty directories"
}
check "uninstall: removes every file it installed (only directories left)" \
    check_uninstall

# ----------------------------------------------------------------- ctypes

if command -v "$PYTHON" >/dev/null 2>&1; then
	if "$PYTHON" tests/api/ctypes_test.py "$root/$LIBSO" \
	    >"$tmp/ctypes.log" 2>&1; then
		ok "ctypes: $(tail -n 1 "$tmp/ctypes.log")"
	else
		not_ok "ctypes: tests/api/ctypes_test.py $LIBSO" \
		    "$tmp/ctypes.log"
	fi
else
	not_ok "ctypes: $PYTHON not found; install python3 to run tests/api/ctypes_test.py"
fi

# ---------------------------------------------------------------- threads

depcflags=$("$PKG_CONFIG" --cflags $DEPS)
deplibs=$("$PKG_CONFIG" --libs $DEPS)
check "threads: build with -fsanitize=thread (library sources included)" \
    "$CC" -std=c11 -D_GNU_SOURCE -O1 -g -fsanitize=thread -Ilib \
    $depcflags -o "$tmp/threads-tsan" $LIB_SRCS tests/api/threads.c \
    $deplibs -lpthread

run_tsan() {
	TSAN_OPTIONS="halt_on_error=1 exitcode=66" "$tmp/threads-tsan" 20
}
if [ -x "$tmp/threads-tsan" ]; then
	check "threads: 8 contexts at once under ThreadSanitizer" run_tsan
else
	not_ok "threads: 8 contexts at once under ThreadSanitizer" "not built"
fi

check "threads: normal build against lib/libstow.a" \
    "$CC" -std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Werror -Ilib \
    -o "$tmp/threads" tests/api/threads.c "$LIBA" $deplibs -lpthread

run_helgrind() {
	command -v valgrind >/dev/null || { echo "valgrind not found"; return 1; }
	valgrind -q --tool=helgrind --error-exitcode=99 "$tmp/threads" 3
}
if [ -x "$tmp/threads" ]; then
	check "threads: 8 contexts at once under valgrind --tool=helgrind" \
	    run_helgrind
else
	not_ok "threads: 8 contexts at once under valgrind --tool=helgrind" \
	    "not built"
fi

# ---------------------------------------------------------------- symbols

nm -D --defined-only "$LIBSO" | awk '{ print $3 }' | LC_ALL=C sort \
    >"$tmp/exported"
bad=$(grep -v '^stow_' "$tmp/exported")
if [ -s "$tmp/exported" ] && [ -z "$bad" ]; then
	ok "symbols: $LIBSO exports only stow_* ($(wc -l <"$tmp/exported") names)"
else
	not_ok "symbols: $LIBSO exports only stow_*" "not stow_*:" "$bad"
fi
{ tr '\n' ' ' <"$tmp/exported"; echo; } | fold -s -w 72 |
    sed 's/ *$//; s/^/     | /'

# Every STOW_API function in the header is exported, and nothing else.
sed -n 's/^STOW_API[^(]*[[:space:]*]\(stow_[a-z0-9_]*\)(.*/\1/p' lib/stow.h |
    LC_ALL=C sort >"$tmp/declared"
check "symbols: exported names are exactly the STOW_API functions of stow.h" \
    diff -u "$tmp/declared" "$tmp/exported"

finish
