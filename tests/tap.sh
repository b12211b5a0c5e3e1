# shellcheck shell=bash
# tap.sh: TAP lines for the shell suites.
#
#   . "$here/tap.sh"
#
# Sets passed, failed and n to 0 and defines:
#   ok DESCRIPTION                  a passing check
#   not_ok DESCRIPTION WHY...       a failing one; each WHY that is not
#                                   empty is printed as "  # " lines, the
#                                   first 30 of each
#   check DESCRIPTION COMMAND...    passes when COMMAND succeeds
#   checkx DESCRIPTION EXPRESSION   passes when the shell expression is true
#   tap_summary                     the closing "N passed, N failed" line
# A failing check or checkx also prints what tap_context prints: a suite
# that keeps its last run's status and output redefines it to show them.

passed=0
failed=0
n=0

ok() {
	n=$((n + 1))
	passed=$((passed + 1))
	echo "ok $n - $1"
}

not_ok() {
	local d=$1 w
	shift
	n=$((n + 1))
	failed=$((failed + 1))
	echo "not ok $n - $d"
	for w in "$@"; do
		[ -n "$w" ] || continue
		printf '%s\n' "$w" | sed -n '1,30s/^/  # /p'
	done
}

tap_context() { :; }

check() {
	local d=$1
	shift
	if "$@"; then
		ok "$d"
	else
		not_ok "$d" "failed: $*" "$(tap_context)"
	fi
}

checkx() {
	if eval "$2"; then
		ok "$1"
	else
		not_ok "$1" "false: $2" "$(tap_context)"
	fi
}

tap_summary() { echo "$passed passed, $failed failed"; }
