#!/usr/bin/env bash
# scenarios.sh: run the data-driven CLI scenarios in fixtures/scenarios/.
#
# Usage:
#   tests/scenarios.sh [CSTOW_BINARY] [SCENARIO_DIR|NAME...]
#   tests/scenarios.sh --record NAME...
#
# CSTOW_BINARY defaults to cli/cstow under the repository root (or to
# $CSTOW_BINARY when that is set); a first argument that is a file is taken
# as the binary.  Scenarios default to every fixtures/scenarios/*/; a bare
# NAME means fixtures/scenarios/NAME.  A scenario is a folder holding:
#
#   cmd            one shell command line, run with `bash -c`; it calls cstow
#   tree           the starting tree of the sandbox root (optional)
#   home.tree      the starting tree of $HOME (optional; else $HOME is empty)
#   files/         copied into the sandbox root after `tree` is made
#                  (optional; for multi-line files such as cstow.conf)
#   expect.tree    the sandbox root after the command, as tree_dump prints it
#                  (scrubbed as the output is, file contents included)
#   expect.stderr  the exact standard error
#   expect.stdout  the exact standard output (optional: not compared if absent)
#   expect.status  the exit status, a number
#   NOTE           free text explaining the expectation (optional)
#
# Each scenario runs in a fresh `mktemp -d` sandbox: the command runs in
# $sandbox/root with HOME=$sandbox/home, stdin from /dev/null, a clean
# environment (no STOW_DIR) and a PATH whose first directory holds a `cstow`
# symlink to the binary under test, and a `cstow-entrypoint` symlink when
# that program sits next to the binary (or $CSTOW_ENTRYPOINT_BINARY names
# it).  In the output and in the tree dump, occurrences of the sandbox path
# are replaced by @SANDBOX@, vault run names (YYYYmmddTHHMMSS.uuuuuuZ-PID) by @RUN@,
# and the time in cstow-entrypoint's summary line (", 1.2 ms" at the end of
# a line) by ", @MS@ ms" before comparing.  A scenario also fails
# when stderr mentions "internal error" or the command died of a signal
# (status >= 128).  CSTOW_TEST_KEEP=1 keeps the sandbox of a failed scenario.
#
# --record rewrites the expect.* files of the named scenarios from the
# binary's current output.  Recorded output is a draft: check it against
# GNU Stow before committing it.

set -u
# Modes in the sandbox (and in vault MANIFESTs) must not depend on the
# caller's umask.
umask 022

here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
top=$(cd -- "$here/.." && pwd -P)
# shellcheck source=tests/treelib.sh
. "$here/treelib.sh"

scen_root=$top/fixtures/scenarios
record=0
if [ "${1:-}" = --record ]; then
	record=1
	shift
	if [ $# -eq 0 ]; then
		echo "usage: $0 --record NAME..." >&2
		exit 2
	fi
fi

binary=${CSTOW_BINARY:-$top/cli/cstow}
if [ $record -eq 0 ] && [ $# -gt 0 ] && [ -f "$1" ]; then
	binary=$1
	shift
fi

case $binary in
/*) ;;
*) binary=$PWD/$binary ;;
esac
if [ ! -x "$binary" ] || [ -d "$binary" ]; then
	echo "scenarios.sh: no executable cstow binary at $binary (run make first)" >&2
	exit 2
fi
# cstow-entrypoint: $CSTOW_ENTRYPOINT_BINARY, else the one beside cstow.
entrypoint=${CSTOW_ENTRYPOINT_BINARY:-$(dirname -- "$binary")/cstow-entrypoint}
case $entrypoint in
/*) ;;
*) entrypoint=$PWD/$entrypoint ;;
esac
if [ ! -x "$entrypoint" ] || [ -d "$entrypoint" ]; then
	entrypoint=
fi

scenarios=()
if [ $# -eq 0 ]; then
	for d in "$scen_root"/*/; do
		[ -f "$d/cmd" ] && scenarios+=("${d%/}")
	done
else
	for a in "$@"; do
		if [ -d "$a" ]; then
			scenarios+=("$(cd -- "$a" && pwd -P)")
		elif [ -d "$scen_root/$a" ]; then
			scenarios+=("$scen_root/$a")
		else
			echo "scenarios.sh: no such scenario: $a" >&2
			exit 2
		fi
	done
fi
if [ ${#scenarios[@]} -eq 0 ]; then
	echo "scenarios.sh: no scenarios found under $scen_root" >&2
	exit 2
fi

# Print FILE with every occurrence of the sandbox path replaced by @SANDBOX@,
# vault run names (a UTC time and a process id) by @RUN@, and the time
# cstow-entrypoint's summary line ends with by @MS@.
scrub() {	# scrub FILE SANDBOX...
	local file=$1 s esc
	shift
	local -a args=()
	for s in "$@"; do
		esc=$(printf '%s' "$s" | sed 's/[][\.*^$|/]/\\&/g')
		args+=(-e "s|$esc|@SANDBOX@|g")
	done
	args+=(-e 's|[0-9]\{8\}T[0-9]\{6\}\.[0-9]\{6\}Z-[0-9][0-9]*|@RUN@|g')
	args+=(-e 's|, [0-9][0-9.]* ms$|, @MS@ ms|')
	sed "${args[@]}" -- "$file"
}

# tree_dump ROOT, except that a file's content is scrubbed (see scrub)
# before it is cut to 200 bytes, so that a file naming the sandbox (a vault
# MANIFEST) dumps the same whatever the length of the sandbox path.
scrub_tree_dump() {	# scrub_tree_dump ROOT SANDBOX...
	local root=$1 p rel
	shift
	(cd "$root" && find . -mindepth 1 -print | LC_ALL=C sort) |
	while IFS= read -r p; do
		rel=${p#./}
		if [ -L "$root/$rel" ]; then
			printf 'l %s -> %s\n' "$rel" "$(readlink -- "$root/$rel")"
		elif [ -d "$root/$rel" ]; then
			printf 'd %s\n' "$rel"
		elif [ -s "$root/$rel" ]; then
			printf 'f %s %s\n' "$rel" \
			    "$(scrub "$root/$rel" "$@" | head -c 200)"
		else
			printf 'f %s\n' "$rel"
		fi
	done | scrub - "$@"
}

# Pass through only the variables that sanitizer and valgrind runs need.
passenv=()
for v in ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS MSAN_OPTIONS; do
	if [ -n "${!v+set}" ]; then
		passenv+=("$v=${!v}")
	fi
done

passed=0
failed=0

run_one() {	# run_one SCENARIO_DIR; returns 0 on pass
	local dir=$1 name sandbox real status expected why=()
	name=$(basename -- "$dir")
	sandbox=$(mktemp -d "${TMPDIR:-/tmp}/cstow-scen.XXXXXX") || return 1
	real=$(cd -- "$sandbox" && pwd -P)
	mkdir -p "$sandbox/root" "$sandbox/home" "$sandbox/bin" "$sandbox/out"
	ln -s "$binary" "$sandbox/bin/cstow"
	if [ -n "$entrypoint" ]; then
		ln -s "$entrypoint" "$sandbox/bin/cstow-entrypoint"
	fi

	if [ -f "$dir/tree" ] && ! tree_make "$dir/tree" "$sandbox/root"; then
		why+=("bad tree spec")
	fi
	if [ -f "$dir/home.tree" ] && ! tree_make "$dir/home.tree" "$sandbox/home"; then
		why+=("bad home.tree spec")
	fi
	if [ -d "$dir/files" ] && ! cp -R -- "$dir/files/." "$sandbox/root/"; then
		why+=("cannot copy files/")
	fi

	(
		cd "$sandbox/root" &&
		exec env -i \
			PATH="$sandbox/bin:/usr/local/bin:/usr/bin:/bin" \
			HOME="$sandbox/home" \
			LC_ALL=C \
			${passenv[@]+"${passenv[@]}"} \
			timeout 60 bash -c "$(cat -- "$dir/cmd")"
	) </dev/null >"$sandbox/out/stdout.raw" 2>"$sandbox/out/stderr.raw"
	status=$?

	scrub "$sandbox/out/stdout.raw" "$real" "$sandbox" >"$sandbox/out/stdout"
	scrub "$sandbox/out/stderr.raw" "$real" "$sandbox" >"$sandbox/out/stderr"
	scrub_tree_dump "$sandbox/root" "$real" "$sandbox" >"$sandbox/out/tree"

	if [ $record -eq 1 ]; then
		echo "$status" >"$dir/expect.status"
		cp -- "$sandbox/out/stderr" "$dir/expect.stderr"
		cp -- "$sandbox/out/tree" "$dir/expect.tree"
		if [ -f "$dir/expect.stdout" ] || [ -s "$sandbox/out/stdout" ]; then
			cp -- "$sandbox/out/stdout" "$dir/expect.stdout"
		fi
		echo "recorded $name (status $status)"
		rm -rf -- "$sandbox"
		return 0
	fi

	for f in expect.status expect.stderr expect.tree; do
		[ -f "$dir/$f" ] || why+=("missing $f")
	done
	if [ -f "$dir/expect.status" ]; then
		expected=$(tr -d ' \t\n' <"$dir/expect.status")
		if [ "$status" != "$expected" ]; then
			why+=("exit status $status, expected $expected")
		fi
	fi
	if [ "$status" -ge 124 ]; then
		case $status in
		124) why+=("timed out") ;;
		*) why+=("killed or crashed (status $status)") ;;
		esac
	fi
	if grep -qi 'internal error' "$sandbox/out/stderr"; then
		why+=("stderr mentions an internal error")
	fi

	local diffs=$sandbox/out/diffs
	: >"$diffs"
	if [ -f "$dir/expect.stdout" ] &&
	   ! diff -u --label expect.stdout --label stdout \
		"$dir/expect.stdout" "$sandbox/out/stdout" >>"$diffs"; then
		why+=("stdout differs")
	fi
	if [ -f "$dir/expect.stderr" ] &&
	   ! diff -u --label expect.stderr --label stderr \
		"$dir/expect.stderr" "$sandbox/out/stderr" >>"$diffs"; then
		why+=("stderr differs")
	fi
	if [ -f "$dir/expect.tree" ] &&
	   ! diff -u --label expect.tree --label tree \
		"$dir/expect.tree" "$sandbox/out/tree" >>"$diffs"; then
		why+=("tree differs")
	fi

	if [ ${#why[@]} -eq 0 ]; then
		echo "ok $name"
		rm -rf -- "$sandbox"
		return 0
	fi

	echo "FAIL $name"
	local w
	for w in "${why[@]}"; do
		echo "  # $w"
	done
	sed 's/^/  /' "$diffs"
	if [ "${CSTOW_TEST_KEEP:-0}" = 1 ]; then
		echo "  # sandbox kept: $sandbox"
	else
		rm -rf -- "$sandbox"
	fi
	return 1
}

for dir in "${scenarios[@]}"; do
	if run_one "$dir"; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
	fi
done

[ $record -eq 1 ] && exit 0
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
