#!/usr/bin/env bash
# user.sh: what the user does while a run is going, or between a run
# that was killed and the next one, against what the run and the next
# one's recovery undo.  An editor saves over a link the run made; the
# user fills a path the killed run had emptied, or adds a file to a
# directory it unfolded; another run was waiting for the lock; the vault
# is on another file system and a copy is cut short.  In every case
# nothing the user had or made is lost or hidden under a temporary name,
# the vault's MANIFEST lists what the vault holds, and the messages say
# what was kept.  (tests/fault/faultinject.c makes the faults; editor.c
# plays the editor inside one apply of libstow.)
#
# Usage: tests/fault/user.sh [CSTOW [EDITOR]]; prints "N passed, N failed".
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cstow=${1:-$root/cli/cstow}
editor=${2:-$root/tests/fault/editor}
case $cstow in /*) ;; *) cstow=$root/$cstow ;; esac
case $editor in /*) ;; *) editor=$root/$editor ;; esac

. "$here/common.sh" user
check() {	# check NAME COMMAND...: passes when the command does
	local name=$1
	shift
	if "$@"; then ok; else bad "$name"; fi
}

# run DIR [VAR=VALUE...] -- ARGS...: cstow in DIR, its home and state
# there, under the shim (harmless without CSTOW_FAULT_* variables), and
# under the command in the array wrap, when the caller has one.
run() {
	local dir=$1
	local -a vars args
	shift
	split_vars "$@"
	(cd "$dir" && ${wrap[@]+"${wrap[@]}"} env HOME="$dir/home" \
	    XDG_STATE_HOME="$dir/state" LD_PRELOAD="$tmp/faultinject.so" \
	    ${vars[@]+"${vars[@]}"} "$cstow" ${args[@]+"${args[@]}"})
}

# call_of TRACE PATTERN [AFTER]: the number of the first call the trace
# shows matching the extended regex PATTERN (after call AFTER).
call_of() {
	awk -v re="$2" -v after="${3:-0}" \
	    'NR > after && $0 ~ re { print NR; exit }' "$1"
}

# listed DIR TEXT: some file below DIR/state holds TEXT (its first line),
# and its run directory's MANIFEST lists it, so that a restore finds it.
listed() {
	local f rel rundir
	while IFS= read -r f; do
		[ "$(head -n1 "$f")" = "$2" ] || continue
		rundir=$(dirname "$f")
		while [ ! -e "$rundir/MANIFEST" ] && [ "$rundir" != "$1" ]; do
			rundir=$(dirname "$rundir")
		done
		rel=${f#"$rundir"/}
		cut -f5 "$rundir/MANIFEST" 2>/dev/null | grep -qxF "$rel" &&
		    return 0
	done < <(find "$1/state" -type f ! -name MANIFEST 2>/dev/null)
	return 1
}

# no_private DIR: no temporary name of a run (.cstow-new, .cstow-cp,
# .cstow-rm, .cstow-manifest) and no journal is left anywhere below DIR.
no_private() {
	[ -z "$(find "$1" \( -name '.cstow-new.*' -o -name '.cstow-cp.*' \
	    -o -name '.cstow-rm.*' -o -name '.cstow-manifest.*' \
	    -o -name '.cstow-journal' \) -print)" ]
}

# pkg_fresh: in $w, package p with its f, and the target's own f.
pkg_fresh() {
	rm -rf "$w" && mkdir -p "$w/stow/p" "$w/t" && echo pkg > "$w/stow/p/f" &&
	    echo ORIGINAL > "$w/t/f"
}

# killed_at FRESH PATTERN OFFSET [VAR=VALUE...]: in $w as FRESH makes
# it, "-d stow -t t --conflict=backup p" is traced, then made again from
# FRESH and killed at the first call matching PATTERN plus OFFSET: $k is
# that call (empty: none matched, and the run is not killed), $status
# the run's exit status.  The VARs go to both runs.
killed_at() {
	local fresh=$1 re=$2 off=$3
	shift 3
	"$fresh"
	rm -f "$tmp/killed.trace"
	run "$w" "$@" CSTOW_FAULT_TRACE="$tmp/killed.trace" -- -d stow -t t \
	    --conflict=backup p > /dev/null 2>&1
	k=$(call_of "$tmp/killed.trace" "$re")
	"$fresh"
	{ run "$w" "$@" CSTOW_FAULT_KILL_AT=$((k + off)) -- -d stow -t t \
	    --conflict=backup p; } > /dev/null 2>&1
	status=$?
}

# killed_then_saved PATTERN OFFSET [VAR=VALUE...]: killed_at in a fresh
# $w (pkg_fresh); then the user's editor saves "USER EDIT" over f.
killed_then_saved() {
	killed_at pkg_fresh "$@"
	echo "USER EDIT" > "$w/t/f.tmp" && mv "$w/t/f.tmp" "$w/t/f"
}

is_link_to() { [ -L "$1" ] && [ "$(readlink "$1")" = "$2" ]; }
holds() { [ -f "$1" ] && [ ! -L "$1" ] && [ "$(cat "$1")" = "$2" ]; }
has() { case $1 in *"$2"*) return 0 ;; esac; return 1; }

# 1. Killed after it backed up f and before it linked it (a file system
# that cannot exchange: the plain way); the user, finding f gone, writes
# a new one.  The next run keeps theirs (and backs it up, as asked): the
# original stays in the vault, listed in its MANIFEST.
w=$tmp/c1
pkg_fresh
run "$w" CSTOW_FAULT_NO_EXCHANGE=1 CSTOW_FAULT_TRACE="$tmp/c1.trace" -- \
    -d stow -t t --conflict=backup p > /dev/null 2>&1
k=$(call_of "$tmp/c1.trace" '^symlinkat .*/t/f$')
pkg_fresh
run "$w" CSTOW_FAULT_NO_EXCHANGE=1 CSTOW_FAULT_KILL_AT="$k" -- \
    -d stow -t t --conflict=backup p > /dev/null 2>&1
echo "USER NEW" > "$w/t/f"
out=$(run "$w" -- -d stow -t t --conflict=backup p 2>&1)
status=$?
check "1 kill before the link, the user writes f: next run exits 0 ($status: $out)" \
    [ "$status" = 0 ]
check "1 the original is in the vault, listed in its MANIFEST" listed "$w" ORIGINAL
check "1 the user's new f is in the vault, listed" listed "$w" "USER NEW"
check "1 f is linked, nothing private left" \
    eval 'is_link_to "$w/t/f" ../stow/p/f && no_private "$w"'
check "1 the recovery says it kept f ($out)" has "$out" "kept f as it is"

# 2. The plain way again, a swap among others (bin unfolded, zzz backed
# up): killed after the link bin/c1; the next run, of another package,
# first undoes the killed one's steps in the order they were made.
w=$tmp/c2
c2_fresh() {
	rm -rf "$w" && mkdir -p "$w/stow/a/bin" "$w/stow/b/bin" \
	    "$w/stow/c/bin" "$w/stow/z" "$w/t" &&
	    echo a1 > "$w/stow/a/bin/a1" && echo b1 > "$w/stow/b/bin/b1" &&
	    echo c1 > "$w/stow/c/bin/c1" && echo zz > "$w/stow/b/zzz" &&
	    echo ORIG > "$w/t/zzz" && echo z > "$w/stow/z/z1" &&
	    ln -s ../stow/a/bin "$w/t/bin"
}
c2_fresh
run "$w" CSTOW_FAULT_NO_EXCHANGE=1 CSTOW_FAULT_TRACE="$tmp/c2.trace" -- \
    -d stow -t t --conflict=backup b c > /dev/null 2>&1
k=$(call_of "$tmp/c2.trace" '^symlinkat .*/t/bin/c1$')
c2_fresh
run "$w" CSTOW_FAULT_NO_EXCHANGE=1 CSTOW_FAULT_KILL_AT=$((k + 1)) -- \
    -d stow -t t --conflict=backup b c > /dev/null 2>&1
out=$(run "$w" -- -d stow -t t z 2>&1)
status=$?
check "2 the next run exits 0 ($status: $out)" [ "$status" = 0 ]
check "2 the killed run is undone whole: bin the link it was, zzz the file ($(cd "$w/t" && ls -lA | tail -n +2))" \
    eval 'is_link_to "$w/t/bin" ../stow/a/bin && holds "$w/t/zzz" ORIG &&
    is_link_to "$w/t/z1" ../stow/z/z1 && [ "$(ls -A "$w/t")" = "$(printf "bin\nz1\nzzz")" ]'

# 3. The vault on another file system: f (200000 bytes) is copied there;
# the link of g fails, and the run, moving f back, is killed halfway
# through the copy.  The next run finds f whole, and no half copy.
w=$tmp/c3
c3_fresh() {
	rm -rf "$w" && mkdir -p "$w/stow/p" "$w/t" "$w/state" &&
	    echo pkg > "$w/stow/p/f" && echo g > "$w/stow/p/g" &&
	    head -c 200000 /dev/urandom > "$w/t/f" &&
	    sha256sum < "$w/t/f" > "$tmp/c3.sum"
}
c3_fresh
run "$w" CSTOW_FAULT_XDEV_ROOT="$w/state" CSTOW_FAULT_TRACE="$tmp/c3.trace" \
    -- -d stow -t t --conflict=backup p > /dev/null 2>&1
at=$(call_of "$tmp/c3.trace" '^symlinkat .*/t/g$')
c3_fresh
rm -f "$tmp/c3b.trace"
run "$w" CSTOW_FAULT_XDEV_ROOT="$w/state" CSTOW_FAULT_AT="$at" \
    CSTOW_FAULT_TRACE="$tmp/c3b.trace" -- -d stow -t t --conflict=backup p \
    > /dev/null 2>&1
first=$(call_of "$tmp/c3b.trace" '^write .*/t/\.cstow-cp\.' "$at")
k=$(call_of "$tmp/c3b.trace" '^write .*/t/\.cstow-cp\.' "${first:-0}")
check "3 the move back copies f in more than one write (at $at: $first, $k)" \
    eval '[ -n "$first" ] && [ -n "$k" ]'
c3_fresh
run "$w" CSTOW_FAULT_XDEV_ROOT="$w/state" CSTOW_FAULT_AT="$at" \
    CSTOW_FAULT_KILL_AT="${k:-0}" -- -d stow -t t --conflict=backup p \
    > /dev/null 2>&1
status=$?
check "3 killed while it copied f back (status $status)" [ "$status" = 137 ]
out=$(run "$w" CSTOW_FAULT_XDEV_ROOT="$w/state" -- -d stow -t t -D p 2>&1)
status=$?
check "3 the next run exits 0 ($status: $out)" [ "$status" = 0 ]
check "3 f is whole where it was ($(ls -l "$w/t" 2>&1 | tail -n +2))" \
    eval '[ -f "$w/t/f" ] && [ "$(sha256sum < "$w/t/f")" = "$(cat "$tmp/c3.sum")" ]'
check "3 no half copy and nothing private left ($(find "$w" -name '.cstow-*'))" \
    no_private "$w"

# 4. Two runs: B (unstow r) plans, then waits for the lock; meanwhile A
# (stow p, backing up f) is killed halfway.  B, once it has the lock,
# undoes A first (A's journal is never written over), then plans again.
w=$tmp/c4
c4_fresh() {
	rm -rf "$w" && mkdir -p "$w/stow/p" "$w/stow/r" "$w/t" &&
	    echo pkg > "$w/stow/p/f" && echo ORIGINAL > "$w/t/f" &&
	    echo r1 > "$w/stow/r/r1" && ln -s ../stow/r/r1 "$w/t/r1"
}
c4_fresh
run "$w" CSTOW_FAULT_TRACE="$tmp/c4.trace" -- -d stow -t t \
    --conflict=backup p > /dev/null 2>&1
k=$(call_of "$tmp/c4.trace" '^renameat2 .*/t/\.cstow-new\.')
c4_fresh
rm -f "$tmp/go" "$tmp/go.ready"
run "$w" CSTOW_FAULT_PAUSE="$tmp/go" -- -d stow -t t -D r > "$tmp/c4.B" 2>&1 &
bpid=$!
for _ in $(seq 1 500); do [ -e "$tmp/go.ready" ] && break; sleep 0.02; done
run "$w" CSTOW_FAULT_KILL_AT="$k" -- -d stow -t t --conflict=backup p \
    > /dev/null 2>&1
status=$?
check "4 A killed halfway (status $status), its journal there" \
    eval '[ "$status" = 137 ] && [ -e "$w/t/.cstow-journal" ]'
touch "$tmp/go"
wait "$bpid"
status=$?
check "4 B exits 0 ($status: $(cat "$tmp/c4.B"))" [ "$status" = 0 ]
check "4 B undid A first ($(cat "$tmp/c4.B"))" \
    has "$(cat "$tmp/c4.B")" "undid the run a crash interrupted"
check "4 f is the original file, r1 unstowed, nothing private left" \
    eval 'holds "$w/t/f" ORIGINAL && [ ! -e "$w/t/r1" ] && [ ! -L "$w/t/r1" ] &&
    no_private "$w"'

# 5. --adopt with no vault (GNU Stow's way): f's content overwrites the
# package's.  A run that then fails cannot give the package its earlier
# f back, and says so (exit 4), as does the recovery of a killed one.
w=$tmp/c5
adopt_fresh() {	# the package's f and the target's, and a g to link
	rm -rf "$w" && mkdir -p "$w/stow/p" "$w/t" &&
	    echo "package version" > "$w/stow/p/f" && echo g > "$w/stow/p/g" &&
	    echo "target version" > "$w/t/f"
}
novault() {	# novault [VAR=VALUE...] -- ARGS: cstow with no home, no vault
	local -a vars args
	split_vars "$@"
	(cd "$w" && env -u HOME -u XDG_STATE_HOME \
	    LD_PRELOAD="$tmp/faultinject.so" ${vars[@]+"${vars[@]}"} "$cstow" \
	    ${args[@]+"${args[@]}"})
}
adopt_fresh
novault CSTOW_FAULT_TRACE="$tmp/c5.trace" -- -d stow -t t --adopt p \
    > /dev/null 2>&1
k=$(call_of "$tmp/c5.trace" '^symlinkat .*/t/g$')
adopt_fresh
out=$(novault CSTOW_FAULT_AT="$k" -- -d stow -t t --adopt p 2>&1)
status=$?
check "5 adopt with no vault, a later step fails: exit 4, naming the package's f ($status: $out)" \
    eval '[ "$status" = 4 ] && has "$out" "the package'"'"'s earlier ../stow/p/f, overwritten"'
check "5 the target's f is back" holds "$w/t/f" "target version"
adopt_fresh
{ novault CSTOW_FAULT_KILL_AT="$k" -- -d stow -t t --adopt p; } > /dev/null 2>&1
out=$(novault -- -d stow -t t -D p 2>&1)
check "5 the recovery of a killed one warns of the overwritten f ($out)" \
    has "$out" "../stow/p/f: the package's earlier version was overwritten"

# 6. Killed after the exchange that put the link in f's place, before
# f's old content went to the vault; the user's editor then saves over
# the link.  The next run keeps their save, and the old content goes to
# the vault as the run meant: nothing under a temporary name.
w=$tmp/c6
killed_then_saved '^exchange .*/t/f$' 1
out=$(run "$w" -- -d stow -t t -D p 2>&1)
status=$?
check "6 the next run exits 0 ($status: $out)" [ "$status" = 0 ]
check "6 the user's save is kept at f" holds "$w/t/f" "USER EDIT"
check "6 the original is in the vault, listed" listed "$w" ORIGINAL
check "6 nothing private left ($(ls -A "$w/t"))" no_private "$w"
check "6 the recovery says it kept f ($out)" has "$out" "kept f as it is"

# 7. An unfolding killed before its exchange; the user then makes bin a
# directory of their own.  The next run takes it for theirs, not for the
# run's new one: it stays, and is stowed into.
w=$tmp/c7
c7_fresh() {
	rm -rf "$w" && mkdir -p "$w/stow/a/bin" "$w/stow/b/bin" "$w/t" &&
	    echo a1 > "$w/stow/a/bin/a1" && echo b1 > "$w/stow/b/bin/b1" &&
	    ln -s ../stow/a/bin "$w/t/bin"
}
c7_fresh
run "$w" CSTOW_FAULT_TRACE="$tmp/c7.trace" -- -d stow -t t b > /dev/null 2>&1
k=$(call_of "$tmp/c7.trace" '^exchange .*/t/bin$')
c7_fresh
run "$w" CSTOW_FAULT_KILL_AT="$k" -- -d stow -t t b > /dev/null 2>&1
rm "$w/t/bin" && mkdir "$w/t/bin" && echo mine > "$w/t/bin/mine"
out=$(run "$w" -- -d stow -t t b 2>&1)
status=$?
check "7 the next run exits 0 ($status: $out)" [ "$status" = 0 ]
check "7 the user's bin stays, stowed into ($(cd "$w/t" && find . | sort | tr '\n' ' '))" \
    eval 'holds "$w/t/bin/mine" mine && is_link_to "$w/t/bin/b1" ../../stow/b/bin/b1 &&
    [ ! -e "$w/t/bin/a1" ] && no_private "$w"'

# 8. The same unfolding killed just after its exchange; the user adds a
# file to the unfolded bin.  The next run keeps bin as it is now (the
# run's links and the user's file), not under a temporary name.
c7_fresh
run "$w" CSTOW_FAULT_KILL_AT=$((k + 1)) -- -d stow -t t b > /dev/null 2>&1
echo mine > "$w/t/bin/mine"
out=$(run "$w" -- -d stow -t t b 2>&1)
status=$?
check "8 the next run exits 0 ($status: $out)" [ "$status" = 0 ]
check "8 bin keeps the user's file and the links ($(cd "$w/t" && find . | sort | tr '\n' ' '))" \
    eval 'holds "$w/t/bin/mine" mine && is_link_to "$w/t/bin/a1" ../../stow/a/bin/a1 &&
    is_link_to "$w/t/bin/b1" ../../stow/b/bin/b1 && no_private "$w"'
check "8 the recovery says it kept bin ($out)" has "$out" "kept bin as it is"

# 9. An editor saves over a link the run made, and the run then fails:
# the rollback keeps the save, and whatever the swap replaced is where
# the run meant it to be, never under a temporary name.
w=$tmp/c9
adopt_fresh
out=$(LD_PRELOAD="$tmp/faultinject.so" CSTOW_FAULT_NO_EXCHANGE=1 "$editor" "$w" - adopt g)
check "9 adopt, no vault, the plain way: STOW_EPARTIAL naming the overwritten f ($out)" \
    eval 'has "$out" "apply: -9:" && has "$out" "overwritten with no vault" &&
    has "$out" "kept as they are now"'
check "9 the save is kept, nothing private left" \
    eval 'holds "$w/t/f" "USER SAVED" && no_private "$w"'
adopt_fresh
out=$("$editor" "$w" - adopt g)
check "9 adopt, no vault, swapped: STOW_EPARTIAL naming the overwritten f ($out)" \
    eval 'has "$out" "apply: -9:" && has "$out" "overwritten with no vault"'
check "9 the save is kept, the adopted f in the package, nothing private left ($(ls -A "$w/t"))" \
    eval 'holds "$w/t/f" "USER SAVED" && holds "$w/stow/p/f" "target version" &&
    no_private "$w"'
adopt_fresh
mkdir -p "$w/state"
out=$("$editor" "$w" "$w/state/vault" backup g)
check "9 backup, swapped: all else undone, f kept ($out)" \
    eval 'has "$out" "apply: -1:" && has "$out" "all changes undone, but for paths changed since" &&
    has "$out" "link f (what was there before stays in the vault)"'
check "9 the save at f, the original in the vault (listed), the package as it was, nothing private left" \
    eval 'holds "$w/t/f" "USER SAVED" && listed "$w" "target version" &&
    holds "$w/stow/p/f" "package version" && no_private "$w"'

# 10. The same, the plain way, with two backups: the one the rollback
# keeps (b, saved over) keeps its MANIFEST line when the other (a) is
# moved back.
w=$tmp/c10
rm -rf "$w" && mkdir -p "$w/stow/p" "$w/t" "$w/state"
for f in a b c; do echo "pkg $f" > "$w/stow/p/$f"; done
echo "ORIGINAL a" > "$w/t/a" && echo "ORIGINAL b" > "$w/t/b"
out=$(LD_PRELOAD="$tmp/faultinject.so" CSTOW_FAULT_NO_EXCHANGE=1 "$editor" "$w" \
    "$w/state/vault" backup c b)
check "10 b kept ($out)" has "$out" "backup b (what was backed up from there stays in the vault)"
check "10 a back, b the user's, b's original in the vault and listed" \
    eval 'holds "$w/t/a" "ORIGINAL a" && holds "$w/t/b" "USER SAVED" &&
    listed "$w" "ORIGINAL b" && ! listed "$w" "ORIGINAL a"'

# 11. A MANIFEST that cannot be written fails the run, and leaves no
# descriptor open.
w=$tmp/c11
pkg_fresh
rm -f "$tmp/c11.trace"
LD_PRELOAD="$tmp/faultinject.so" CSTOW_FAULT_TRACE="$tmp/c11.trace" "$editor" "$w" \
    "$w/vault" backup > /dev/null
k=$(call_of "$tmp/c11.trace" '^write .*/vault/MANIFEST')
pkg_fresh
out=$(LD_PRELOAD="$tmp/faultinject.so" CSTOW_FAULT_AT="$k" "$editor" "$w" "$w/vault" backup)
check "11 the MANIFEST's write fails: undone ($out)" \
    eval 'has "$out" "write: MANIFEST" && has "$out" "all changes undone" &&
    holds "$w/t/f" ORIGINAL'
check "11 no descriptor left open ($out)" \
    eval '! printf "%s\n" "$out" | grep "^open: " | grep -qF "$w"'

# 12. A name as long as a name may be (245 bytes here, and the longest
# temporary name of a run would not fit after it): replaced, backed up,
# and unfolded like any other.
w=$tmp/c12
long=$(printf 'n%.0s' $(seq 1 245))
rm -rf "$w" && mkdir -p "$w/stow/p" "$w/stow/a/$long" "$w/stow/b/$long" "$w/t"
echo pkg > "$w/stow/p/$long" && echo ORIG > "$w/t/$long"
echo a > "$w/stow/a/$long/a" && echo b > "$w/stow/b/$long/b"
out=$(run "$w" -- -d stow -t t --conflict=backup p 2>&1)
status=$?
check "12 a 245-byte name replaced: exit 0 ($status: $out)" \
    eval '[ "$status" = 0 ] && is_link_to "$w/t/$long" "../stow/p/$long" && listed "$w" ORIG'
mkdir "$w/t2"
out=$(cd "$w" && "$cstow" -d stow -t t2 a 2>&1 && "$cstow" -d stow -t t2 b 2>&1)
status=$?
check "12 a 245-byte directory unfolded: exit 0 ($status: $out)" \
    eval '[ "$status" = 0 ] && [ -d "$w/t2/$long" ] && [ ! -L "$w/t2/$long" ] &&
    [ -L "$w/t2/$long/a" ] && [ -L "$w/t2/$long/b" ]'

# 13. In a container every start has the same process ID: a run killed
# there, whose leftovers the user then changes (as in 6), must not stand
# in the way of the next starts, which have its ID again.  (A PID
# namespace: sh is PID 1 there, cstow PID 2, each time.)
w=$tmp/c13
pidns() {	# pidns DIR [VAR=VALUE...] -- ARGS: run, cstow as PID 2
	local -a wrap=(unshare -p -f --mount-proc sh -c '"$@"; exit $?' sh)
	run "$@"
}
if ! unshare -p -f --mount-proc true 2>/dev/null; then
	bad "13 cannot run: a PID namespace (unshare -p) needs root"
else
	pkg_fresh
	rm -f "$tmp/c13.trace"
	pidns "$w" CSTOW_FAULT_TRACE="$tmp/c13.trace" -- -d stow -t t \
	    --conflict=backup p > /dev/null 2>&1
	k=$(call_of "$tmp/c13.trace" '^exchange .*/t/f$')
	pkg_fresh
	pidns "$w" CSTOW_FAULT_KILL_AT=$((k + 1)) -- -d stow -t t \
	    --conflict=backup p > /dev/null 2>&1
	echo "USER EDIT" > "$w/t/f.tmp" && mv "$w/t/f.tmp" "$w/t/f"
	out=$(pidns "$w" -- -d stow -t t --conflict=backup p 2>&1)
	status=$?
	check "13 the next start, the same PID: exit 0 ($status: $out)" \
	    eval '[ "$status" = 0 ] && is_link_to "$w/t/f" ../stow/p/f'
	run "$w" -- -d stow -t t -D p > /dev/null 2>&1
	echo ANOTHER > "$w/t/f"
	out=$(pidns "$w" -- -d stow -t t --conflict=backup p 2>&1)
	status=$?
	check "13 a later start, a file in the way: exit 0 ($status: $out)" \
	    eval '[ "$status" = 0 ] && is_link_to "$w/t/f" ../stow/p/f'
	check "13 everything the user had is in the vault, listed" \
	    eval 'listed "$w" ORIGINAL && listed "$w" "USER EDIT" &&
	    listed "$w" ANOTHER && no_private "$w"'
fi

# 14. A backup across file systems killed after the copy, the original
# gone; the user writes a new file there, and the file system gives it
# the original's inode number (ext4 hands out the lowest free one; here
# the journal is written as such a run leaves it).  Recovery must not
# take the new file for the original: the vault keeps the original.
w=$tmp/c14
rm -rf "$w" && mkdir -p "$w/stow/p" "$w/t" "$w/state/cstow/backup/run"
chmod 700 "$w/state/cstow/backup/run"
echo pkg > "$w/stow/p/f" && echo ORIGINAL > "$w/state/cstow/backup/run/f"
echo "USER NEW" > "$w/t/f"
{
	printf 'cstow-journal 5\t%s\t%s\t1.2\t../stow\n' "$(cd "$w/t" && pwd -P)" \
	    "$(cd "$w/state/cstow/backup/run" && pwd -P)"
	printf 'S\t6\t0\tf\t\tf\t\t%s\t%s\t0\t0\n' $(stat -c '%d %i' "$w/t/f")
	printf 'S\t3\t0\tf\t../stow/p/f\t\t\t0\t0\t1\t0\nE\n'
} > "$w/t/.cstow-journal"
chmod 600 "$w/t/.cstow-journal"
out=$(run "$w" -- -d stow -t t -D p 2>&1)
status=$?
check "14 the next run exits 0 ($status: $out)" [ "$status" = 0 ]
check "14 the user's f stays, the original stays in the vault, listed" \
    eval 'holds "$w/t/f" "USER NEW" && listed "$w" ORIGINAL'
check "14 a warning says where the original is ($out)" \
    has "$out" "stays in the vault at"

# 15. The vault on another file system: killed after the copy of f's
# old content was renamed into the vault, before the old f (under the
# swap's temporary name) was removed; the user then saves over the
# link.  The old content ends in the vault, listed, not under the
# temporary name.
w=$tmp/c15
killed_then_saved '^unlinkat .*/t/\.cstow-new\.' 0 CSTOW_FAULT_XDEV_ROOT="$w/state"
k15=$k
out=$(run "$w" CSTOW_FAULT_XDEV_ROOT="$w/state" -- -d stow -t t -D p 2>&1)
status=$?
check "15 the next run exits 0 ($status: $out)" [ "$status" = 0 ]
check "15 the save at f, the original in the vault (listed), nothing private left" \
    eval 'holds "$w/t/f" "USER EDIT" && listed "$w" ORIGINAL && no_private "$w"'

# 16. Killed after the old f went to the vault and before its MANIFEST
# line was written; the user then saves over the link.  The line
# recovery writes names f, where a restore puts it back, not the
# temporary name it had for a moment.
w=$tmp/c16
killed_then_saved '^write .*/MANIFEST' 0
out=$(run "$w" -- -d stow -t t -D p 2>&1)
status=$?
check "16 the next run exits 0 ($status: $out)" [ "$status" = 0 ]
check "16 the original is listed as f's ($(cat "$w"/state/cstow/backup/*/MANIFEST 2>&1))" \
    eval 'listed "$w" ORIGINAL && [ "$(cut -f6 "$w"/state/cstow/backup/*/MANIFEST)" = "$(cd "$w/t" && pwd -P)/f" ]'
rm -f "$w/t/f"
out=$(run "$w" -- -d stow -t t --restore 2>&1)
check "16 --restore puts it back at f ($out)" holds "$w/t/f" ORIGINAL

# 17. A run that fails rolls back, and is killed in the rollback after
# moving f's old content back from the vault, before exchanging it back;
# the user then saves over the link.  The old content goes back to the
# vault, listed, not left under the temporary name.
w=$tmp/c17
c17_fresh() { pkg_fresh && echo g > "$w/stow/p/g"; }
c17_fresh
run "$w" CSTOW_FAULT_TRACE="$tmp/c17.trace" -- -d stow -t t \
    --conflict=backup p > /dev/null 2>&1
kg=$(call_of "$tmp/c17.trace" '^symlinkat .*/t/g$')
c17_fresh
rm -f "$tmp/c17b.trace"
run "$w" CSTOW_FAULT_AT="$kg" CSTOW_FAULT_TRACE="$tmp/c17b.trace" -- \
    -d stow -t t --conflict=backup p > /dev/null 2>&1
kx=$(call_of "$tmp/c17b.trace" '^exchange .*/t/f$' "$kg")
c17_fresh
run "$w" CSTOW_FAULT_AT="$kg" CSTOW_FAULT_KILL_AT="${kx:-0}" -- \
    -d stow -t t --conflict=backup p > /dev/null 2>&1
status=$?
check "17 killed in the rollback, before the exchange back (at $kx: $status)" \
    [ "$status" = 137 ]
echo "USER EDIT" > "$w/t/f.tmp" && mv "$w/t/f.tmp" "$w/t/f"
out=$(run "$w" -- -d stow -t t -D p 2>&1)
status=$?
check "17 the next run exits 0 ($status: $out)" [ "$status" = 0 ]
check "17 the save at f, the original in the vault (listed), nothing private left" \
    eval 'holds "$w/t/f" "USER EDIT" && listed "$w" ORIGINAL && no_private "$w"'

# 18. --adopt of a file whose bytes the package's already has: a run
# that fails, or is killed and recovered, leaves the package its file.
w=$tmp/c18
c18_fresh() {
	rm -rf "$w" && mkdir -p "$w/stow/p" "$w/t" && echo same > "$w/stow/p/f" &&
	    echo g > "$w/stow/p/g" && echo same > "$w/t/f"
}
c18_fresh
run "$w" CSTOW_FAULT_TRACE="$tmp/c18.trace" -- -d stow -t t --adopt p \
    > /dev/null 2>&1
k=$(call_of "$tmp/c18.trace" '^symlinkat .*/t/g$')
c18_fresh
out=$(run "$w" CSTOW_FAULT_AT="$k" -- -d stow -t t --adopt p 2>&1)
status=$?
check "18 a later step fails: exit 3, all undone ($status: $out)" \
    eval '[ "$status" = 3 ] && has "$out" "all changes undone"'
check "18 ... and the package keeps its f, the target its own" \
    eval 'holds "$w/stow/p/f" same && holds "$w/t/f" same'
c18_fresh
{ run "$w" CSTOW_FAULT_KILL_AT="$k" -- -d stow -t t --adopt p; } > /dev/null 2>&1
out=$(run "$w" -- -d stow -t t -D p 2>&1)
check "18 killed and recovered: the package keeps its f ($out)" \
    eval 'holds "$w/stow/p/f" same && holds "$w/t/f" same && no_private "$w"'

# 19. cstow -D p waits at the lock; an editor saves over the link f
# meanwhile.  The run moves f aside to check it, finds the save, and is
# killed before it puts it back; the user then writes f again.  The
# next runs go on (the first save is named in a warning), never stuck.
w=$tmp/c19
c19_fresh() {
	rm -rf "$w" "$tmp/go19" "$tmp/go19.ready" && mkdir -p "$w/stow/p" "$w/t" &&
	    echo pkg > "$w/stow/p/f" && ln -s ../stow/p/f "$w/t/f"
}
c19_edit() {	# the editor's save once the run waits, then the run goes on
	for _ in $(seq 1 500); do [ -e "$tmp/go19.ready" ] && break; sleep 0.02; done
	echo "USER SAVE 1" > "$w/t/f.tmp" && mv "$w/t/f.tmp" "$w/t/f"
	touch "$tmp/go19"
}
c19_fresh
run "$w" CSTOW_FAULT_PAUSE="$tmp/go19" CSTOW_FAULT_TRACE="$tmp/c19.trace" -- \
    -d stow -t t -D p > /dev/null 2>&1 &
c19_edit
wait $!
k=$(call_of "$tmp/c19.trace" '^renameat2 .*/t/\.cstow-rm\..* .*/t/f$')
c19_fresh
{ run "$w" CSTOW_FAULT_PAUSE="$tmp/go19" CSTOW_FAULT_KILL_AT="${k:-0}" -- \
    -d stow -t t -D p & } 2> /dev/null > /dev/null
c19_edit
wait $! 2> /dev/null
status=$?
check "19 killed before the first save went back (at $k: $status)" \
    eval '[ "$status" = 137 ] && [ ! -e "$w/t/f" ]'
echo "USER SAVE 2" > "$w/t/f"
out=$(run "$w" -- -d stow -t t -D p 2>&1)
status=$?
check "19 the next run exits 0, naming the first save ($status: $out)" \
    eval '[ "$status" = 0 ] && has "$out" "what was saved there before it is now .cstow-rm."'
check "19 both saves are there, and no journal" \
    eval 'holds "$w/t/f" "USER SAVE 2" && [ ! -e "$w/t/.cstow-journal" ] &&
    [ "$(cat "$w"/t/.cstow-rm.* 2>/dev/null)" = "USER SAVE 1" ]'

# 20. A backup across file systems whose original cannot be removed
# once copied: the run is undone, and the vault keeps no copy of it.
# (The call that removes the original is case 15's kill point.)
w=$tmp/c20
pkg_fresh
out=$(run "$w" CSTOW_FAULT_XDEV_ROOT="$w/state" CSTOW_FAULT_AT="$k15" -- \
    -d stow -t t --conflict=backup p 2>&1)
status=$?
check "20 the removal fails: exit 3, all undone ($status: $out)" \
    eval '[ "$status" = 3 ] && holds "$w/t/f" ORIGINAL'
check "20 no copy left in the vault ($(find "$w/state" -type f 2>/dev/null))" \
    eval '[ -z "$(find "$w/state" -type f 2>/dev/null)" ] && no_private "$w"'

# 21. Case 10's rollback killed while it rewrites the MANIFEST without
# a's lines (at its last write into the vault): the MANIFEST is the old
# one or the new one, never a part of one, so b's original, which the
# rollback keeps, stays listed; the next run finishes the rollback.
w=$tmp/c21
c21_fresh() {
	rm -rf "$w" && mkdir -p "$w/stow/p" "$w/t" "$w/state" &&
	    for f in a b c; do echo "pkg $f" > "$w/stow/p/$f"; done &&
	    echo "ORIGINAL a" > "$w/t/a" && echo "ORIGINAL b" > "$w/t/b"
}
c21_fresh
rm -f "$tmp/c21.trace"
LD_PRELOAD="$tmp/faultinject.so" CSTOW_FAULT_NO_EXCHANGE=1 \
    CSTOW_FAULT_TRACE="$tmp/c21.trace" "$editor" "$w" "$w/state/vault" \
    backup c b > /dev/null
k=$(awk '/^write .*\/state\/vault\// { n = NR } END { print n }' "$tmp/c21.trace")
c21_fresh
{ (LD_PRELOAD="$tmp/faultinject.so" CSTOW_FAULT_NO_EXCHANGE=1 \
    CSTOW_FAULT_KILL_AT="${k:-0}" exec "$editor" "$w" "$w/state/vault" \
    backup c b) > /dev/null 2>&1; } 2> /dev/null
status=$?
check "21 killed at the rollback's last write into the vault (at $k: $status)" \
    [ "$status" = 137 ]
check "21 b's original is still listed in the MANIFEST ($(cat "$w"/state/vault/MANIFEST 2>&1 | cut -f1,5))" \
    listed "$w" "ORIGINAL b"
out=$(run "$w" -- -d stow -t t -D p 2>&1)
status=$?
check "21 the next run exits 0 or 4 ($status: $out)" \
    eval '[ "$status" = 0 ] || [ "$status" = 4 ]'
check "21 a back, b the user's, b's original listed, nothing private left ($(find "$w" -name ".cstow-*"; cat "$w"/state/vault/MANIFEST | cut -f1,5))" \
    eval 'holds "$w/t/a" "ORIGINAL a" && holds "$w/t/b" "USER SAVED" &&
    listed "$w" "ORIGINAL b" && no_private "$w"'

# 22. Killed as the backup of d/f went into the vault, after the vault's
# directory d was made for it: the next run's recovery puts f back and
# leaves no empty directory in the vault.
w=$tmp/c22
c22_fresh() {
	rm -rf "$w" && mkdir -p "$w/stow/p/d" "$w/t/d" &&
	    echo pkg > "$w/stow/p/d/f" && echo ORIGINAL > "$w/t/d/f"
}
killed_at c22_fresh '^renameat2 .*/state/cstow/backup/[^/]*/d/f$' 0
check "22 killed as the backup went into the vault (at $k: $status)" \
    [ "$status" = 137 ]
out=$(run "$w" -- -d stow -t t -D p 2>&1)
status=$?
check "22 the next run exits 0 ($status: $out)" [ "$status" = 0 ]
check "22 f back, no empty directory in the vault ($(find "$w/state/cstow/backup" -mindepth 1 -type d -empty 2>/dev/null))" \
    eval 'holds "$w/t/d/f" ORIGINAL && no_private "$w" &&
    [ -z "$(find "$w/state/cstow/backup" -mindepth 1 -type d -empty 2>/dev/null)" ]'

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
