#!/usr/bin/env bash
# diff-minimise.sh: shrink a failing case of tests/differential.sh.
#
#   tests/diff-minimise.sh [--ref STOW] CASEFILE [CSTOW_BINARY]
#
# CASEFILE is the "case" file of a sandbox kept by
# `tests/differential.sh --keep` (or --only K --keep).  Lines of the tree
# spec, setup runs, the reverse operation and words of the operation are
# dropped one at a time (after trying larger chunks) as long as the case
# still fails the same way (same phase, same "differs in" line).  The
# minimal case file is printed, followed by the failure it produces; it
# can be replayed with `tests/differential.sh --replay FILE`.

set -u
set -f
export LC_ALL=C

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
DIFF=$SCRIPT_DIR/differential.sh
REFARGS=()
if [ "${1:-}" = --ref ]; then REFARGS=(--ref "${2:?}"); shift 2; fi
CASE=${1:?usage: diff-minimise.sh [--ref STOW] CASEFILE [CSTOW_BINARY]}
shift
BINARGS=("$@")

WORK=$(mktemp -d "${TMPDIR:-/tmp}/cstow-min.XXXXXX") || exit 2
trap 'rm -rf "$WORK"' EXIT
cp "$CASE" "$WORK/cur"

# signature FILE: the failure of replaying FILE ("" if it passes)
signature() {
	"$DIFF" "${REFARGS[@]}" --replay "$1" "${BINARGS[@]}" 2>&1 |
		awk '/^FAIL /{sub(/^FAIL case [0-9]+ \(seed [0-9]+\) /, ""); ph=$1; next}
		     /^  differs in: /{print ph, $0; exit}'
}

WANT=$(signature "$WORK/cur")
if [ -z "$WANT" ]; then
	echo "diff-minimise.sh: $CASE does not fail" >&2
	exit 1
fi
echo "failure: $WANT" >&2

# header lines (cwd, tprefix, sim, op) and the spec marker always stay;
# try_drop FIRST COUNT: drop COUNT droppable lines starting at index FIRST
mapfile -t LINES <"$WORK/cur"
droppable() {	# droppable LINE: 0 if the line may be removed
	case $1 in
	'cwd '*|'tprefix '*|'sim '*|'dotpkg '*|'op '*|spec|'#'*|'d home'|'d tgt'|'d t/u') return 1 ;;
	esac
	return 0
}
try_lines() {	# try_lines I N: drop LINES[I..I+N-1] if still failing
	local i=$1 n=$2 j out=()
	for ((j = 0; j < ${#LINES[@]}; j++)); do
		if [ "$j" -ge "$i" ] && [ "$j" -lt $((i + n)) ] && droppable "${LINES[j]}"; then continue; fi
		out+=("${LINES[j]}")
	done
	[ ${#out[@]} -eq ${#LINES[@]} ] && return 1
	printf '%s\n' "${out[@]}" >"$WORK/try"
	if [ "$(signature "$WORK/try")" = "$WANT" ]; then
		LINES=("${out[@]}")
		return 0
	fi
	return 1
}
try_words() {	# try_words: drop words of the op line one at a time
	local j k words w out changed=1
	while [ $changed = 1 ]; do
		changed=0
		for ((j = 0; j < ${#LINES[@]}; j++)); do
			case ${LINES[j]} in 'op '*|'setup '*|'reverse '*) ;; *) continue ;; esac
			read -ra words <<<"${LINES[j]}"
			for ((k = 1; k < ${#words[@]}; k++)); do
				w=${words[k]}
				# keep -d/-t and their values
				case $w in -d|-t) k=$((k + 1)); continue ;; esac
				case $w in --dir=*|--target=*|--targ=*) continue ;; esac
				local save=${LINES[j]} m
				for m in 1 2; do	# the word, or it and the next
					[ $((k + m)) -le ${#words[@]} ] || continue
					out=("${words[@]:0:k}" "${words[@]:k+m}")
					LINES[j]="${out[*]}"
					printf '%s\n' "${LINES[@]}" >"$WORK/try"
					if [ "$(signature "$WORK/try")" = "$WANT" ]; then
						changed=1
						break 2
					fi
					LINES[j]=$save
				done
			done
			[ $changed = 1 ] && break
		done
	done
}

pass=0
while :; do
	pass=$((pass + 1))
	before=${#LINES[@]}
	for n in 16 8 4 2 1; do
		i=0
		while [ $i -lt ${#LINES[@]} ]; do
			try_lines $i $n || i=$((i + n))
		done
	done
	try_words
	[ ${#LINES[@]} -eq "$before" ] && break
done
printf '%s\n' "${LINES[@]}"
printf '%s\n' "${LINES[@]}" >"$WORK/min"
echo "--- replay:"
"$DIFF" "${REFARGS[@]}" --replay "$WORK/min" "${BINARGS[@]}" | grep -v '^excluded:\|^stats:\|^reference:\|^seed '
