#!/usr/bin/env bash
# run.sh: fault injection at every step.  One cstow run that unfolds,
# adopts, replaces, unstows and restows is first made without faults to
# count its mutating system calls; then, for every k, the k-th of them
# is made to fail (tests/fault/faultinject.c, LD_PRELOAD).  Each time
# the run must exit 3 (failed, every change undone) and leave the
# target and the stow directory byte-identical to before: types, modes,
# link texts and file contents.  A traced run also shows that no path
# the run replaces goes missing at any moment.
#
# Usage: tests/fault/run.sh [CSTOW]; prints "N passed, N failed".
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cstow=${1:-$root/cli/cstow}
case $cstow in /*) ;; *) cstow=$root/$cstow ;; esac
. "$root/tests/treelib.sh"

. "$here/common.sh" fault

# Everything that matters about a tree, one line per entry.
snapshot() {	# snapshot DIR [SUB...]: its SUBs (default: stow and t)
	local dir=$1
	shift
	[ $# -gt 0 ] || set -- stow t
	(cd "$dir" && find "$@" | LC_ALL=C sort | while IFS= read -r p; do
		if [ -L "$p" ]; then
			printf 'l %s -> %s\n' "$p" "$(readlink "$p")"
		elif [ -d "$p" ]; then
			printf 'd %s %s\n' "$(stat -c %a "$p")" "$p"
		else
			printf 'f %s %s %s\n' "$(stat -c %a "$p")" \
			    "$(sha256sum < "$p" | cut -c1-16)" "$p"
		fi
	done)
}

fresh() {	# fresh DIR: the scenario's starting tree
	rm -rf "$1" && mkdir -p "$1" && tree_make "$here/scenario.tree" "$1"
}

run() {	# run DIR [VAR=VALUE...] [-- OPTION...]: the run under test
	local dir=$1
	local -a vars args
	shift
	split_vars "$@"
	set -- ${args[@]+"${args[@]}"}
	(cd "$dir" && env ${vars[@]+"${vars[@]}"} HOME="$dir/home" \
	    XDG_STATE_HOME="$dir/state" LD_PRELOAD="$tmp/faultinject.so" \
	    "$cstow" -d stow -t t --adopt --replace=.config/nvim "$@" \
	    -D old -R keep -S b c nvim)
}

# 1. Without faults: count the injection points; the run must succeed.
fresh "$tmp/w"
before=$(snapshot "$tmp/w")
run "$tmp/w" CSTOW_FAULT_COUNT="$tmp/count" > "$tmp/out" 2>&1
status=$?
n=$(cat "$tmp/count" 2>/dev/null || echo 0)
if [ $status -eq 0 ] && [ -L "$tmp/w/t/bin/a1" ] && [ -L "$tmp/w/t/bin/b1" ] &&
    [ "$(cat "$tmp/w/stow/c/etc/crc")" = "target version" ] &&
    [ -L "$tmp/w/t/.config/nvim" ] && [ ! -e "$tmp/w/t/share" ] &&
    [ ! -L "$tmp/w/t/doc2" ]; then
	ok
else
	bad "clean run (status $status): $(cat "$tmp/out")"
fi
if [ "$n" -ge 10 ]; then ok; else bad "only $n injection points"; fi
echo "injection points: $n"

# 2. No path goes missing: the entries replaced in place (bin unfolded,
# .config/nvim replaced, etc/crc adopted) are never removed or renamed
# away outright; each is swapped with its successor built beside it.
fresh "$tmp/w"
run "$tmp/w" CSTOW_FAULT_TRACE="$tmp/trace" > "$tmp/out" 2>&1
# The shim writes absolute names; the checks read them from the target.
sed -i "s|$(cd "$tmp/w/t" && pwd -P)/||g" "$tmp/trace"
for p in bin .config/nvim etc/crc; do
	if grep -Eq "^(unlinkat|renameat2?) $p( |\$)" "$tmp/trace"; then
		bad "$p was removed or renamed away outright:"
		grep -E " $p( |\$)" "$tmp/trace" | sed 's/^/  /'
	elif d=$(dirname "$p")/ && [ "$d" = ./ ] && d=; \
	    ! grep -Eq "^exchange $d\.cstow-new\.[0-9]+\.[0-9a-f]+\.[0-9]+ $p\$" \
	    "$tmp/trace"; then
		bad "$p was not swapped in: $(grep -F "$p" "$tmp/trace" | head -5)"
	else
		ok
	fi
done

# 3. Every k: the run fails, exits 3, and nothing changed: not in the
# target, not in the stow directory, and no journal, vault directory or
# lock file is left behind (the state directory stays as it was, absent).
# fail_case LABEL VAR=VALUE...: the run made with the shim set by the
# VARs fails; FC_RUN names the run, FC_BEFORE is the snapshot of
# "stow t state" before.
FC_RUN=run
fail_case() {
	local label=$1 status after
	shift
	fresh "$tmp/w"
	$FC_RUN "$tmp/w" "$@" > "$tmp/out" 2>&1
	status=$?
	after=$(snapshot "$tmp/w" stow t state 2>/dev/null)
	if [ $status -ne 3 ] && ! { [ $status -eq 2 ] &&
	    grep -q "nothing was changed" "$tmp/out"; }; then
		bad "$label: exit $status, want 3: $(head -3 "$tmp/out")"
	elif [ "$after" != "$FC_BEFORE" ]; then
		bad "$label: the tree changed:"
		diff <(echo "$FC_BEFORE") <(echo "$after") | head -10
	elif [ $status -eq 3 ] && ! grep -q "all changes undone" "$tmp/out"; then
		bad "$label: no 'all changes undone' in: $(cat "$tmp/out")"
	elif grep -q '\.cstow-\(new\|rm\)' "$tmp/out"; then
		bad "$label: the message names a temporary name: $(cat "$tmp/out")"
	else
		ok
	fi
}
fresh "$tmp/w"
FC_BEFORE=$(snapshot "$tmp/w" stow t state 2>/dev/null)
for k in $(seq 1 "$n"); do
	fail_case "k=$k" CSTOW_FAULT_AT="$k"
done

# 4. Every k: the run is killed (SIGKILL) at its k-th mutating call; the
# next run undoes what the journal says was half done, then does its
# work, and ends with the tree the clean run made.  No file is lost:
# every file of the start is in the target, the stow dir or the vault.
fresh "$tmp/w"
run "$tmp/w" > /dev/null 2>&1
clean=$(snapshot "$tmp/w")
files_of() {	# files_of DIR: the content hashes of every file below DIR
	find "$1" -type f ! -name MANIFEST -exec sha256sum {} + 2>/dev/null |
	    cut -c1-64 | sort -u
}
fresh "$tmp/w"
start_files=$(files_of "$tmp/w")
# kill_case LABEL VAR=VALUE...: the run made with the shim set by the
# VARs dies; the next one must converge with nothing lost.  Which run,
# on which tree, is the section's: KC_FRESH and KC_RUN name its
# functions, KC_SUBS the directories its snapshots take, KC_CLEAN the
# clean run's snapshot and KC_FILES the start's file contents.
KC_FRESH=fresh KC_RUN=run KC_SUBS="stow t"
KC_CLEAN=$clean KC_FILES=$start_files
kill_case() {
	local label=$1 killed status after lost
	shift
	$KC_FRESH "$tmp/w"
	$KC_RUN "$tmp/w" "$@" > "$tmp/out" 2>&1
	killed=$?
	$KC_RUN "$tmp/w" > "$tmp/out2" 2>&1
	status=$?
	# shellcheck disable=SC2086
	after=$(snapshot "$tmp/w" $KC_SUBS)
	lost=$(comm -23 <(echo "$KC_FILES") <(files_of "$tmp/w"))
	if [ $killed -ne 137 ]; then
		bad "$label: the run was not killed (exit $killed)"
	elif [ $status -ne 0 ]; then
		bad "$label: the next run exited $status: $(head -3 "$tmp/out2")"
	elif [ "$after" != "$KC_CLEAN" ]; then
		bad "$label: the next run did not converge:"
		diff <(echo "$KC_CLEAN") <(echo "$after") | head -10
	elif [ -n "$lost" ]; then
		bad "$label: file contents lost: $lost"
	elif ! manifests_hold "$tmp/w"; then
		bad "$label: a MANIFEST names an item its vault does not hold"
	else
		ok
	fi
}
# manifests_hold DIR: every item a MANIFEST below DIR/state names (not
# restored) is in its run directory: none names an item that recovery
# moved back.
manifests_hold() {
	local m run v
	while IFS= read -r m; do
		run=$(dirname "$m")
		while IFS= read -r v; do
			[ -e "$run/$v" ] || [ -L "$run/$v" ] || return 1
		done < <(awk -F '\t' '$1 != "p" { print $5 }' "$m")
	done < <(find "$1/state" -name MANIFEST 2>/dev/null)
	return 0
}
for k in $(seq 1 "$n"); do
	kill_case "kill k=$k" CSTOW_FAULT_KILL_AT="$k"
done
echo "kill points: $n"

# 5. Every k: the k-th call fails and the run is killed while it undoes
# what it made (at the 1st, 2nd and 3rd call of the rollback, where
# there are that many): the journal has marked each step undone, and
# the next run neither undoes a step twice nor misses one.
rollback_kills=0
for k in $(seq 1 "$n"); do
	fresh "$tmp/w"
	run "$tmp/w" CSTOW_FAULT_AT="$k" CSTOW_FAULT_COUNT="$tmp/count" \
	    > /dev/null 2>&1
	total=$(cat "$tmp/count" 2>/dev/null || echo "$k")
	for j in 1 2 3; do
		[ $((k + j)) -le "$total" ] || break
		kill_case "fail k=$k, kill k+$j" CSTOW_FAULT_AT="$k" \
		    CSTOW_FAULT_KILL_AT=$((k + j))
		rollback_kills=$((rollback_kills + 1))
	done
done
echo "kills during rollback: $rollback_kills"

# 6. A file system that cannot exchange two names: each swap falls back
# to removing and then creating (the journal told that the half-built
# swap was undone).  The run succeeds with the clean result, and a kill
# at any call converges as before.
# variant_run LABEL VAR=VALUE...: the clean run, on a file system the
# VARs make different, must end as the clean run does; $vn is how many
# calls it made.
variant_run() {
	local label=$1 status
	shift
	fresh "$tmp/w"
	run "$tmp/w" "$@" CSTOW_FAULT_COUNT="$tmp/count" > "$tmp/out" 2>&1
	status=$?
	vn=$(cat "$tmp/count" 2>/dev/null || echo 0)
	if [ $status -ne 0 ]; then
		bad "$label: exit $status: $(head -3 "$tmp/out")"
		return 1
	elif [ "$(snapshot "$tmp/w")" != "$clean" ]; then
		bad "$label: not the clean result:"
		diff <(echo "$clean") <(snapshot "$tmp/w") | head -10
		return 1
	fi
	return 0
}
variant_run "no exchange" CSTOW_FAULT_NO_EXCHANGE=1 && ok
noex=$vn
for k in $(seq 1 "$noex"); do
	kill_case "no exchange, kill k=$k" CSTOW_FAULT_NO_EXCHANGE=1 \
	    CSTOW_FAULT_KILL_AT="$k"
done
echo "kill points without exchange: $noex"

# 7. A directory replaced by a directory (--no-folding --replace): the
# old and the new entry are both directories, so only the new one's
# identity tells recovery whether the exchange was made.  Killed at
# every call, the next run must converge with nothing lost.
dd_fresh() {
	rm -rf "$1" && mkdir -p "$1/stow/p/d" "$1/t/d/sub" &&
	    echo new > "$1/stow/p/d/x" && echo keep > "$1/t/d/keep" &&
	    echo deep > "$1/t/d/sub/deep"
}
dd_run() {
	local dir=$1
	shift
	(cd "$dir" && env "$@" HOME="$dir/home" XDG_STATE_HOME="$dir/state" \
	    LD_PRELOAD="$tmp/faultinject.so" "$cstow" -d stow -t t \
	    --no-folding --replace=d p)
}
dd_fresh "$tmp/w"
KC_FILES=$(files_of "$tmp/w")
dd_run "$tmp/w" CSTOW_FAULT_COUNT="$tmp/count" > /dev/null 2>&1
dd_n=$(cat "$tmp/count" 2>/dev/null || echo 0)
KC_FRESH=dd_fresh KC_RUN=dd_run KC_CLEAN=$(snapshot "$tmp/w")
for k in $(seq 1 "$dd_n"); do
	kill_case "dir over dir, kill k=$k" CSTOW_FAULT_KILL_AT="$k"
done
echo "kill points, directory replaced by a directory: $dd_n"

# 8. Two targets, so two plans: when the second one's apply fails, the
# first, applied in full, is reverted (stow_plan_revert()).  Killed at
# each call of that revert, the next run must converge with nothing
# lost, as after a kill anywhere else.
two_fresh() {
	fresh "$1" && mkdir -p "$1/stow/late" "$1/t2" &&
	    echo late > "$1/stow/late/l1"
}
two_run() {
	local dir=$1
	shift
	(cd "$dir" && env "$@" HOME="$dir/home" XDG_STATE_HOME="$dir/state" \
	    LD_PRELOAD="$tmp/faultinject.so" "$cstow" -d stow -t t --adopt \
	    --package-target=late=t2 --replace=.config/nvim -S b c nvim late)
}
two_fresh "$tmp/w"
two_before=$(snapshot "$tmp/w" stow t t2)
KC_FILES=$(files_of "$tmp/w")
two_run "$tmp/w" CSTOW_FAULT_COUNT="$tmp/count" > "$tmp/out" 2>&1
status=$?
two_n=$(cat "$tmp/count" 2>/dev/null || echo 0)
KC_FRESH=two_fresh KC_RUN=two_run KC_SUBS="stow t t2"
KC_CLEAN=$(snapshot "$tmp/w" stow t t2)
if [ $status -ne 0 ] || [ ! -L "$tmp/w/t2/l1" ]; then
	bad "two targets, clean run (status $status): $(cat "$tmp/out")"
else
	ok
fi
# The last call is the second plan's only one: failing it reverts the
# whole first plan, and every call after it is one of that revert.
two_fresh "$tmp/w"
two_run "$tmp/w" CSTOW_FAULT_AT="$two_n" CSTOW_FAULT_COUNT="$tmp/count" \
    > "$tmp/out" 2>&1
status=$?
two_total=$(cat "$tmp/count" 2>/dev/null || echo "$two_n")
if [ $status -ne 3 ] ||
    [ "$(snapshot "$tmp/w" stow t t2)" != "$two_before" ]; then
	bad "two targets, the second fails: exit $status (want 3), or the tree changed: $(head -3 "$tmp/out")"
elif [ $((two_total - two_n)) -lt 5 ]; then
	bad "two targets: the revert made only $((two_total - two_n)) calls"
else
	ok
fi
for k in $(seq $((two_n + 1)) "$two_total"); do
	kill_case "two targets, kill k=$k in the revert" \
	    CSTOW_FAULT_AT="$two_n" CSTOW_FAULT_KILL_AT="$k"
done
echo "kill points in the revert of a first target: $((two_total - two_n))"
# Killed anywhere in the clean run of two targets, between them too (the
# first applied, its journal gone, the second not begun), the next run
# converges: each target is undone or finished on its own.
for k in $(seq 1 "$two_n"); do
	kill_case "two targets, kill k=$k" CSTOW_FAULT_KILL_AT="$k"
done
echo "kill points with two targets: $two_n"

# 9. A file system that cannot rename a directory (overlayfs, for a
# directory of a lower layer: EXDEV): the tree replaced is moved into the
# vault by copying, and the unfolded directory swaps in the plain way.
# The run succeeds with the clean result; every call of the copy and of
# the removal that follows it (files made, written, synced) is made to
# fail in turn, and the run undoes everything; killed at each call, the
# next run converges, with nothing lost.
if variant_run exdev CSTOW_FAULT_EXDEV=1; then
	if [ "$(cat "$tmp/w/state/cstow/backup"/*/.config/nvim/init.vim \
	    2>/dev/null)" != "image starter" ]; then
		bad "exdev: the replaced tree is not in the vault"
	else
		ok
	fi
fi
xn=$vn
if [ "$xn" -gt "$n" ]; then ok; else bad "exdev: only $xn calls (without: $n)"; fi
for k in $(seq 1 "$xn"); do
	fail_case "exdev, k=$k" CSTOW_FAULT_EXDEV=1 CSTOW_FAULT_AT="$k"
done
KC_FRESH=fresh KC_RUN=run KC_SUBS="stow t" KC_CLEAN=$clean
KC_FILES=$start_files
for k in $(seq 1 "$xn"); do
	kill_case "exdev, kill k=$k" CSTOW_FAULT_EXDEV=1 CSTOW_FAULT_KILL_AT="$k"
done
echo "calls with directories moved by copying: $xn"

# 10. Each operation is counted once, however it is made: where names
# cannot be exchanged, each swap is made the plain way, and the run's
# summary (JSON "linked") says what the run with exchanges says.
fresh "$tmp/w"
run "$tmp/w" -- --format=json > "$tmp/json1" 2>/dev/null
fresh "$tmp/w"
run "$tmp/w" CSTOW_FAULT_NO_EXCHANGE=1 -- --format=json > "$tmp/json2" \
    2>/dev/null
l1=$(grep -o '"linked": *[0-9]*' "$tmp/json1")
l2=$(grep -o '"linked": *[0-9]*' "$tmp/json2")
if [ -n "$l1" ] && [ "$l1" = "$l2" ]; then
	ok
else
	bad "counts: with exchange $l1, without $l2"
fi

# 11. A restore that fails at any of its calls (the items before it
# back, the rest still in the vault) is resumed by the next --restore,
# which counts what is back already as done and ends with the tree as
# it was before the run.
restore_run() {	# restore_run DIR [VAR=VALUE...]
	local dir=$1
	shift
	(cd "$dir" && env "$@" HOME="$dir/home" XDG_STATE_HOME="$dir/state" \
	    LD_PRELOAD="$tmp/faultinject.so" "$cstow" -d stow -t t --restore)
}
fresh "$tmp/w"
orig_t=$(snapshot "$tmp/w" t)
run "$tmp/w" > /dev/null 2>&1
restore_run "$tmp/w" CSTOW_FAULT_COUNT="$tmp/count" > "$tmp/out" 2>&1
status=$?
rn=$(cat "$tmp/count" 2>/dev/null || echo 0)
restored_t=$(snapshot "$tmp/w" t)
if [ $status -ne 0 ] || [ "$rn" -lt 3 ]; then
	bad "restore: exit $status, $rn calls: $(head -3 "$tmp/out")"
else
	ok
fi
for k in $(seq 1 "$rn"); do
	fresh "$tmp/w"
	run "$tmp/w" > /dev/null 2>&1
	restore_run "$tmp/w" CSTOW_FAULT_AT="$k" > "$tmp/out" 2>&1
	restore_run "$tmp/w" > "$tmp/out2" 2>&1
	status=$?
	if [ $status -ne 0 ]; then
		bad "restore failed at k=$k, then: exit $status: $(head -3 "$tmp/out2")"
	elif [ "$(snapshot "$tmp/w" t)" != "$restored_t" ]; then
		bad "restore failed at k=$k, then: not the restored tree:"
		diff <(echo "$restored_t") <(snapshot "$tmp/w" t) | head -10
	else
		ok
	fi
done
echo "restore calls: $rn"

# 12. A run killed after it made a directory, into which the user then
# put a file: the next run cannot undo the mkdir without losing that
# file, so it keeps the directory (saying so), finishes the work and
# exits 0; the runs after it find nothing left to undo.
md_fresh() {
	rm -rf "$1" && mkdir -p "$1/stow/p/d" "$1/t" &&
	    echo x > "$1/stow/p/d/x"
}
md_run() {
	local dir=$1
	shift
	(cd "$dir" && env "$@" HOME="$dir/home" XDG_STATE_HOME="$dir/state" \
	    LD_PRELOAD="$tmp/faultinject.so" "$cstow" -d stow -t t \
	    --no-folding p)
}
md_fresh "$tmp/w"
md_run "$tmp/w" CSTOW_FAULT_COUNT="$tmp/count" > /dev/null 2>&1
mdn=$(cat "$tmp/count" 2>/dev/null || echo 0)
kept=0
for k in $(seq 1 "$mdn"); do
	md_fresh "$tmp/w"
	md_run "$tmp/w" CSTOW_FAULT_KILL_AT="$k" > /dev/null 2>&1
	[ -d "$tmp/w/t/d" ] || continue
	echo mine > "$tmp/w/t/d/user"
	md_run "$tmp/w" > "$tmp/out" 2>&1
	status=$?
	md_run "$tmp/w" > "$tmp/out2" 2>&1
	if [ $status -ne 0 ] || [ "$(cat "$tmp/w/t/d/user" 2>/dev/null)" != mine ] ||
	    [ ! -L "$tmp/w/t/d/x" ]; then
		bad "mkdir, kill k=$k, a file put in: exit $status: $(head -3 "$tmp/out")"
	elif grep -q "undid" "$tmp/out" && ! grep -q "kept" "$tmp/out"; then
		bad "mkdir, kill k=$k: the directory was kept without a word"
	elif [ -s "$tmp/out2" ] || [ -e "$tmp/w/t/.cstow-journal" ]; then
		bad "mkdir, kill k=$k: the run after it: $(head -3 "$tmp/out2")"
	else
		ok
		kept=$((kept + 1))
	fi
done
if [ "$kept" -gt 0 ]; then ok; else bad "mkdir: no kill point left the directory"; fi
echo "kill points after which a file was put in a directory the run made: $kept"

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
