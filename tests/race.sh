#!/usr/bin/env bash
# race.sh: cstow racing the user and another cstow, as on a real machine:
# an editor saving files over the links an unstow removes, and a restore
# meeting an unstow of the same target.  Nothing a user made may ever be
# deleted or lost, and "all changes undone" is said only when true.
#
# Usage: tests/race.sh [CSTOW_BINARY] [ROUNDS]
#
# Each round starts the two racers together on a fresh tree (tmpfs when
# $TMPDIR is, else the disk) and checks the outcome on disk.  Prints one
# line per check, then "N passed, M failed"; exits non-zero on failure.
set -u

here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
# shellcheck source=tests/progs.sh
. "$here/progs.sh" race.sh "${1:-}"
rounds=${2:-12}
command -v python3 >/dev/null 2>&1 || cannot_run "python3 is not installed"

base=$(mktemp -d "${TMPDIR:-/tmp}/cstow-race.XXXXXX") || cannot_run "mktemp failed"
trap 'rm -rf -- "$base"' EXIT

# shellcheck source=tests/tap.sh
. "$here/tap.sh"

files=1500

# The editor: saves every file of t over its link, as editors do (write a
# new file beside it, then rename(2) it over the old name).  It is ready
# before the unstow starts, begins when told (the file "go"), after a
# delay, and goes from the last file down while the unstow goes up from
# the first: wherever they meet, the editor saves over links the unstow
# planned to remove and has not removed yet.
racer=$base/editor.py
cat >"$racer" <<'PY'
import os, sys, time
t, n, tag, delay, go = sys.argv[1], int(sys.argv[2]), sys.argv[3], \
    float(sys.argv[4]), sys.argv[5]
open(go + ".ready", "w").close()
while not os.path.exists(go):
    pass
time.sleep(delay)
for i in reversed(range(n)):
    name = os.path.join(t, "f%04d" % i)
    tmp = os.path.join(t, ".edit%04d" % i)
    with open(tmp, "w") as f:
        f.write("%s %d\n" % (tag, i))
    os.rename(tmp, name)
PY

fresh() {	# fresh DIR: package p of $files files, stowed into DIR/t
	rm -rf -- "$1" && mkdir -p "$1/stow/p" "$1/t" "$1/home" || return 1
	(cd "$1/stow/p" && for ((i = 0; i < files; i++)); do
		printf 'package %d\n' "$i" > "$(printf 'f%04d' "$i")"
	done)
	(cd "$1" && HOME="$1/home" "$binary" --no-folding -d stow -t t p)
}

# 1. cstow -D against an editor saving over the links it removes.
lost_any=0
for ((r = 1; r <= rounds; r++)); do
	w=$base/w$r
	if ! fresh "$w"; then
		not_ok "round $r: setup"
		continue
	fi
	delay=$(awk -v r="$r" 'BEGIN { printf "%.4f", (r % 4) * 0.003 }')
	python3 "$racer" "$w/t" "$files" "mine$r" "$delay" "$w/go" &
	pid=$!
	while [ ! -e "$w/go.ready" ]; do sleep 0.01; done
	: >"$w/go"
	(cd "$w" && HOME="$w/home" "$binary" --no-folding -d stow -t t -D p) \
	    >"$w/out" 2>&1
	status=$?
	wait "$pid"
	lost=0
	for ((i = 0; i < files; i++)); do
		f=$(printf '%s/t/f%04d' "$w" "$i")
		if [ -L "$f" ] || [ "$(cat -- "$f" 2>/dev/null)" != "mine$r $i" ]; then
			lost=$((lost + 1))
		fi
	done
	left=$(find "$w/t" -name '.cstow-*' | head -n 3)
	if [ "$lost" -ne 0 ]; then
		lost_any=1
		not_ok "round $r: every file the editor saved is there (cstow exit $status)" \
		    "$lost of $files files lost or not the editor's" "$(head -n 3 "$w/out")"
	elif [ -n "$left" ]; then
		not_ok "round $r: no private name left behind" "$left"
	elif [ "$status" != 0 ] && ! { [ "$status" = 3 ] &&
	    grep -q "changed during the run" "$w/out" &&
	    grep -q "all changes undone" "$w/out"; }; then
		not_ok "round $r: exit 0, or 3 naming the change" \
		    "exit $status: $(head -n 3 "$w/out")"
	else
		ok "round $r: every file the editor saved is there (cstow exit $status)"
	fi
	rm -rf -- "$w"
done

# 2. --restore and cstow -D of the same target at once.  The user's files
# went into the vault (--conflict=backup) when the package was stowed;
# the restore takes the package's links away and puts the files back,
# the unstow removes the same links.  They must not interleave: once
# both are done every file is back, and nothing is lost.
rfiles=200
for ((r = 1; r <= rounds; r++)); do
	w=$base/r$r
	rm -rf -- "$w" && mkdir -p "$w/stow/p" "$w/t" "$w/home"
	for ((i = 0; i < rfiles; i++)); do
		printf 'package %d\n' "$i" >"$(printf '%s/stow/p/f%04d' "$w" "$i")"
		printf 'user %d\n' "$i" >"$(printf '%s/t/f%04d' "$w" "$i")"
	done
	(cd "$w" && HOME="$w/home" "$binary" --no-folding -d stow -t t \
	    --conflict=backup p) >/dev/null 2>&1
	(cd "$w" && HOME="$w/home" "$binary" -d stow -t t --restore) \
	    >"$w/out1" 2>&1 &
	pid=$!
	(cd "$w" && HOME="$w/home" "$binary" --no-folding -d stow -t t -D p) \
	    >"$w/out2" 2>&1
	s2=$?
	wait "$pid"
	s1=$?
	lost=0
	for ((i = 0; i < rfiles; i++)); do
		name=$(printf 'f%04d' "$i")
		if [ "$(cat -- "$w/t/$name" 2>/dev/null)" != "user $i" ] &&
		    ! grep -qx "user $i" $(find "$w/home/.local/state" -name "$name" 2>/dev/null) /dev/null; then
			lost=$((lost + 1))
		fi
	done
	if [ "$lost" -ne 0 ]; then
		not_ok "restore and unstow at once, round $r: nothing lost" \
		    "$lost of $rfiles files lost (restore exit $s1, unstow exit $s2)" \
		    "$(head -n 3 "$w/out1")" "$(head -n 3 "$w/out2")"
	elif grep -q "all changes undone" "$w/out2" && [ "$s2" != 3 ]; then
		not_ok "restore and unstow at once, round $r: honest" \
		    "'all changes undone' with exit $s2"
	elif [ "$s1" != 0 ] || [ "$s2" != 0 ]; then
		not_ok "restore and unstow at once, round $r: both succeed, one after the other" \
		    "restore exit $s1: $(head -n 3 "$w/out1")" \
		    "unstow exit $s2: $(head -n 3 "$w/out2")"
	else
		ok "restore and unstow at once, round $r: every file is back"
	fi
	rm -rf -- "$w"
done

tap_summary
[ "$failed" -eq 0 ]
