#!/usr/bin/env bash
# oom.sh: running out of memory never gives a wrong plan, nor a wrong
# account of an apply it undoes (the last part, below).  A plan with
# paths longer than the planner's stack buffers (1024 bytes) allocates
# for them as it goes; each such allocation is made to fail in turn
# (tests/fault/faultinject.c, CSTOW_FAULT_MALLOC_AT).  Every run must
# then either fail saying so (exit 2, "out of memory" or ENOMEM's
# "Cannot allocate memory") or plan exactly what the run
# without faults planned: a lookup that cannot allocate must not answer
# "nothing there".  The plan unfolds a folded directory (package a's)
# for package b, which asks whether the link it replaces is removed.
#
# Usage: tests/fault/oom.sh [CSTOW]; prints "N passed, N failed".
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cstow=${1:-$root/cli/cstow}
case $cstow in /*) ;; *) cstow=$root/$cstow ;; esac

. "$here/common.sh" oom

# P: six directories of 200-byte names, 1,205 bytes in all.
P=
for c in a b c d e f; do
	P=${P:+$P/}$(printf "%0200d" 0 | tr 0 "$c")
done
w=$tmp/w
mkdir -p "$w/stow/a/$P/x" "$w/stow/b/$P/x" "$w/t/$P" &&
    echo y1 > "$w/stow/a/$P/x/y1" && echo y2 > "$w/stow/a/$P/x/y2" &&
    echo z > "$w/stow/b/$P/x/z" &&
    ln -s "$(printf '../%.0s' 1 2 3 4 5 6 7)stow/a/$P/x" "$w/t/$P/x" ||
	{ echo "cannot make the tree"; echo "0 passed, 1 failed"; exit 1; }

# plan_in DIR MIN [VAR=VALUE...]: the plan of package b in DIR (stow,
# t), allocations of MIN bytes or more counted apart, as JSON in $tmp/out
plan_in() {
	local dir=$1 min=$2
	shift 2
	(cd "$dir" && env "$@" CSTOW_FAULT_MALLOC_MIN="$min" \
	    LD_PRELOAD="$tmp/faultinject.so" \
	    "$cstow" -n --format=json -d stow -t t b) > "$tmp/out" 2>&1
}

# sweep WHAT DIR MIN LEAST MKDIRS: plans DIR without faults (exit 0,
# MKDIRS mkdir operations, at least LEAST allocations of MIN bytes or
# more), then fails each of those allocations in turn: every run must
# fail saying so (exit 2) or plan exactly what the clean run planned.
sweep() {
	local what=$1 dir=$2 min=$3 least=$4 mkdirs=$5 want n k status

	plan_in "$dir" "$min" CSTOW_FAULT_MALLOC_COUNT="$tmp/count"
	want=$?
	cp "$tmp/out" "$tmp/want"
	n=$(cat "$tmp/count" 2>/dev/null || echo 0)
	if [ "$want" -eq 0 ] &&
	    [ "$(grep -c '"kind": "mkdir"' "$tmp/want")" -eq "$mkdirs" ]; then
		ok
	else
		bad "$what, the run without faults (status $want): $(head -c 300 "$tmp/want")"
	fi
	if [ "$n" -ge "$least" ]; then ok; else bad "$what: only $n allocations of $min bytes or more"; fi
	echo "$what: allocations of $min bytes or more: $n"
	for ((k = 1; k <= n; k++)); do
		plan_in "$dir" "$min" CSTOW_FAULT_MALLOC_AT=$k
		status=$?
		if [ "$status" -eq 2 ] &&
		    grep -Eq 'out of memory|Cannot allocate memory' "$tmp/out"; then
			ok
		elif [ "$status" -eq "$want" ] && cmp -s "$tmp/out" "$tmp/want"; then
			ok
		else
			bad "$what, allocation $k failed: status $status, a plan unlike" \
			    "the run without faults: $(head -c 300 "$tmp/out" | tr -s 'a-f' | tr '\n' ' ')"
		fi
	done
}

sweep "unfolding below long paths" "$w" 1024 5 1

# A plan that unfolds 2,000 folded directories, named with 200 bytes:
# its arena takes a new 64 KiB chunk every so often, at whatever
# allocation comes next, so failing each chunk in turn fails the
# planner's allocations at many places (joining the paths an unfolding
# compares, a walk's link prefix...).  Each run must fail saying so or
# plan what the clean run planned; none may die of a signal.
w2=$tmp/w2
long=$(printf "%0195d" 0)
names=$(seq -f "d%04g$long" 2000)
mkdir -p "$w2/stow/a" "$w2/stow/b" "$w2/t" &&
    (cd "$w2/stow/a" && mkdir $names && for d in $names; do
	: > "$d/x" || exit 1; done) &&
    (cd "$w2/stow/b" && mkdir $names && for d in $names; do
	: > "$d/y" || exit 1; done) &&
    (cd "$w2/t" && for d in $names; do
	ln -s "../stow/a/$d" "$d" || exit 1; done) ||
	{ echo "cannot make the tree"; echo "$pass passed, $((fail + 1)) failed"; exit 1; }

sweep "2,000 unfoldings" "$w2" 65536 20 2000

# An apply that fails (its third link) undoes the two links it made,
# reading each back first, which takes memory too.  Each allocation of
# 64 KiB or more is failed in turn, with that third link: "all changes
# undone" may be said only when the target is empty again, and a link
# left must be named as not undone (exit 4).
w3=$tmp/w3
mkdir -p "$w3/stow/a" && for f in x y z; do echo "$f" > "$w3/stow/a/$f"; done ||
	{ echo "cannot make the tree"; echo "$pass passed, $((fail + 1)) failed"; exit 1; }
apply_in() {	# apply_in [VAR=VALUE...]: stows a into an empty t
	rm -rf "$w3/t" && mkdir "$w3/t" &&
	    (cd "$w3" && env "$@" CSTOW_FAULT_AT=3 CSTOW_FAULT_MALLOC_MIN=65536 \
	    LD_PRELOAD="$tmp/faultinject.so" "$cstow" -d stow -t t a) \
	    > "$tmp/out" 2>&1
}
apply_in CSTOW_FAULT_MALLOC_COUNT="$tmp/count"
status=$? n=$(cat "$tmp/count" 2>/dev/null || echo 0)
if [ "$status" -eq 3 ] && grep -q 'all changes undone' "$tmp/out" &&
    [ -z "$(ls -A "$w3/t")" ]; then ok; else bad "failed apply: status $status: $(cat "$tmp/out")"; fi
for ((k = 1; k <= n; k++)); do
	apply_in CSTOW_FAULT_MALLOC_AT=$k
	status=$?
	left=$(ls -A "$w3/t" | tr '\n' ' ')
	if grep -q 'all changes undone' "$tmp/out"; then
		if [ "$status" -eq 3 ] && [ -z "$left" ]; then ok; else
			bad "allocation $k: says all changes undone, left: $left (status $status): $(cat "$tmp/out")"; fi
	elif [ -n "$left" ]; then
		if [ "$status" -eq 4 ] && grep -q 'could not undo' "$tmp/out"; then ok; else
			bad "allocation $k: left $left, status $status: $(cat "$tmp/out")"; fi
	elif [ "$status" -eq 2 ] || [ "$status" -eq 3 ]; then ok
	else bad "allocation $k: status $status: $(cat "$tmp/out")"; fi
done

# A run that fails says so, even without memory to spare: each
# allocation of a run naming a package that does not exist is failed in
# turn, and every run must exit 2 with a line on stderr.
(cd "$w3" && env CSTOW_FAULT_MALLOC_MIN=1 CSTOW_FAULT_MALLOC_COUNT="$tmp/count" \
    LD_PRELOAD="$tmp/faultinject.so" "$cstow" -d stow -t t nosuch) > /dev/null 2>&1
n=$(cat "$tmp/count" 2>/dev/null || echo 0)
if [ "$n" -ge 10 ]; then ok; else bad "failing run: only $n allocations"; fi
for ((k = 1; k <= n; k++)); do
	(cd "$w3" && env CSTOW_FAULT_MALLOC_MIN=1 CSTOW_FAULT_MALLOC_AT=$k \
	    LD_PRELOAD="$tmp/faultinject.so" "$cstow" -d stow -t t nosuch) \
	    > /dev/null 2> "$tmp/err"
	status=$?
	if [ "$status" -eq 2 ] && grep -q '^cstow' "$tmp/err"; then ok; else
		bad "failing run, allocation $k failed: status $status, stderr: $(head -c 200 "$tmp/err")"; fi
done

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
