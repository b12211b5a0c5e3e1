# common.sh: what the fault suites share, sourced with the suite's name
# ($1) once $here is set: the scratch directory $tmp (removed at exit),
# the shim built there ($tmp/faultinject.so), and the counters that end
# in "N passed, N failed".
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cstow-$1.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cc -shared -fPIC -O2 -o "$tmp/faultinject.so" "$here/faultinject.c" -ldl ||
	{ echo "cannot build the shim"; echo "0 passed, 1 failed"; exit 1; }

pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }

# split_vars [VAR=VALUE...] [-- ARG...]: the words before "--" into the
# array vars, those after it into the array args (the caller's own,
# declared local there).
split_vars() {
	vars=() args=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		vars+=("$1")
		shift
	done
	[ $# -gt 0 ] && shift
	args=("$@")
}
