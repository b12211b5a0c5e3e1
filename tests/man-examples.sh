#!/bin/sh
# man-examples.sh: compile every C example in the library man pages.
#
# Usage: tests/man-examples.sh [PAGE ...]
#
# Each ".Bd -literal" ... ".Ed" block of man/*.3 (or of the PAGEs given)
# that contains "main(" is an example program.  Its mdoc escapes are
# undone (\(dq -> ", \&. -> ., a leading \& dropped, \- -> -, \e -> \),
# and the result is compiled with
#
#	$CC -std=c11 -Wall -Wextra -Werror -Ilib -c
#
# When lib/libstow.a exists (make all), the object is also linked against
# it with the libraries from pkg-config, so that every function named is
# known to exist.  One line is printed per example, then
# "N passed, N failed"; the exit status is 1 when any example failed.
# CSTOW_TEST_KEEP=1 keeps the work directory.

cd "$(dirname "$0")/.." || exit 2

CC=${CC:-cc}
CFLAGS="-std=c11 -Wall -Wextra -Werror -Ilib"
LIBA=lib/libstow.a

work=$(mktemp -d "${TMPDIR:-/tmp}/man-examples.XXXXXX") || exit 2
if [ -z "$CSTOW_TEST_KEEP" ]; then
	trap 'rm -rf "$work"' EXIT
	trap 'rm -rf "$work"; exit 130' INT TERM
fi

libs=
link=0
if [ -f "$LIBA" ] && command -v pkg-config >/dev/null 2>&1 &&
    libs=$(pkg-config --libs libbsd-overlay libpcre2-8 2>/dev/null); then
	link=1
fi

if [ $# -eq 0 ]; then
	set -- man/*.3
fi

pass=0
fail=0
for page in "$@"; do
	if [ ! -f "$page" ]; then
		echo "FAIL $page: no such page"
		fail=$((fail + 1))
		continue
	fi
	base=$(basename "$page")
	# One file per example, still escaped: $work/<page>.<n>.c
	awk -v out="$work/$base" '
	/^\.Bd[ \t]+-literal/ { inblock = 1; text = ""; next }
	/^\.Ed([ \t]|$)/ {
		if (inblock && index(text, "main(") > 0) {
			n++
			f = out "." n ".c"
			printf "%s", text > f
			close(f)
		}
		inblock = 0
		next
	}
	inblock { text = text $0 "\n" }
	' "$page"
	found=0
	for src in "$work/$base".*.c; do
		[ -f "$src" ] || continue
		found=1
		n=${src%.c}
		n=${n##*.}
		name="$page example $n"
		obj=${src%.c}.o
		# \e last, so that "\e(dq" stays a backslash and "(dq".
		sed -e 's/\\(dq/"/g' -e 's/\\&\./\./g' -e 's/^\\&//' \
		    -e 's/\\-/-/g' -e 's/\\e/\\/g' "$src" >"$src.tmp" &&
		    mv "$src.tmp" "$src"
		# shellcheck disable=SC2086 # CC, CFLAGS and libs are word lists
		if ! $CC $CFLAGS -c -o "$obj" "$src" >"$src.log" 2>&1; then
			echo "FAIL $name: does not compile"
			sed 's/^/	/' "$src.log"
			fail=$((fail + 1))
			continue
		fi
		# shellcheck disable=SC2086
		if [ $link -eq 1 ] && ! $CC -o "${src%.c}" "$obj" "$LIBA" \
		    $libs >"$src.log" 2>&1; then
			echo "FAIL $name: does not link"
			sed 's/^/	/' "$src.log"
			fail=$((fail + 1))
			continue
		fi
		if [ $link -eq 1 ]; then
			echo "ok   $name (compiled and linked)"
		else
			echo "ok   $name (compiled)"
		fi
		pass=$((pass + 1))
	done
	if [ $found -eq 0 ]; then
		echo "FAIL $page: no example program"
		fail=$((fail + 1))
	fi
done

[ -n "$CSTOW_TEST_KEEP" ] && echo "work directory kept: $work"
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
