#!/usr/bin/env bash
# oom.sh: running out of memory never gives a wrong plan.  A plan with
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

plan() {	# plan [VAR=VALUE...]: the plan, as JSON, in $tmp/out
	(cd "$w" && env "$@" CSTOW_FAULT_MALLOC_MIN=1024 \
	    LD_PRELOAD="$tmp/faultinject.so" \
	    "$cstow" -n --format=json -d stow -t t b) > "$tmp/out" 2>&1
}

plan CSTOW_FAULT_MALLOC_COUNT="$tmp/count"
want=$?
cp "$tmp/out" "$tmp/want"
n=$(cat "$tmp/count" 2>/dev/null || echo 0)
if [ "$want" -eq 0 ] && grep -q '"kind": "mkdir"' "$tmp/want"; then
	ok
else
	bad "the run without faults (status $want): $(head -c 300 "$tmp/want")"
fi
if [ "$n" -ge 5 ]; then ok; else bad "only $n allocations of 1024 bytes or more"; fi
echo "allocations of 1024 bytes or more: $n"

for ((k = 1; k <= n; k++)); do
	plan CSTOW_FAULT_MALLOC_AT=$k
	status=$?
	if [ "$status" -eq 2 ] &&
	    grep -Eq 'out of memory|Cannot allocate memory' "$tmp/out"; then
		ok
	elif [ "$status" -eq "$want" ] && cmp -s "$tmp/out" "$tmp/want"; then
		ok
	else
		bad "allocation $k failed: status $status, a plan unlike the" \
		    "run without faults: $(head -c 300 "$tmp/out" | tr -s 'a-f' | tr '\n' ' ')"
	fi
done

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

plan2() {	# plan2 [VAR=VALUE...]: the plan, as JSON, in $tmp/out
	(cd "$w2" && env "$@" CSTOW_FAULT_MALLOC_MIN=65536 \
	    LD_PRELOAD="$tmp/faultinject.so" \
	    "$cstow" -n --format=json -d stow -t t b) > "$tmp/out" 2>&1
}

plan2 CSTOW_FAULT_MALLOC_COUNT="$tmp/count2"
want=$?
cp "$tmp/out" "$tmp/want"
n=$(cat "$tmp/count2" 2>/dev/null || echo 0)
if [ "$want" -eq 0 ] && [ "$(grep -c '"kind": "mkdir"' "$tmp/want")" -eq 2000 ]; then
	ok
else
	bad "the unfolding run without faults (status $want): $(head -c 300 "$tmp/want")"
fi
if [ "$n" -ge 20 ]; then ok; else bad "only $n allocations of 64 KiB or more"; fi
echo "allocations of 64 KiB or more, unfolding: $n"

for ((k = 1; k <= n; k++)); do
	plan2 CSTOW_FAULT_MALLOC_AT=$k
	status=$?
	if [ "$status" -eq 2 ] &&
	    grep -Eq 'out of memory|Cannot allocate memory' "$tmp/out"; then
		ok
	elif [ "$status" -eq "$want" ] && cmp -s "$tmp/out" "$tmp/want"; then
		ok
	else
		bad "unfolding, allocation $k failed: status $status: $(head -c 300 "$tmp/out" | tr '\n' ' ')"
	fi
done

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
