# shellcheck shell=bash
# progs.sh: the programs under test, for the shell suites that run both
# cstow and cstow-entrypoint.
#
#   . "$here/progs.sh" NAME [CSTOW_BINARY]
#
# NAME is the suite's name, for messages.  Sets $binary (CSTOW_BINARY,
# else $CSTOW_BINARY, else cli/cstow under the repository root) and
# $entrypoint ($CSTOW_ENTRYPOINT_BINARY, else cstow-entrypoint beside
# the binary), both absolute, and defines cannot_run, which ends the
# suite as one failure: a suite that cannot run never passes.

progs_suite=$1
binary=${2:-${CSTOW_BINARY:-$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)/cli/cstow}}
case $binary in
/*) ;;
*) binary=$PWD/$binary ;;
esac
entrypoint=${CSTOW_ENTRYPOINT_BINARY:-$(dirname -- "$binary")/cstow-entrypoint}
case $entrypoint in
/*) ;;
*) entrypoint=$PWD/$entrypoint ;;
esac

cannot_run() {
	echo "$progs_suite: cannot run: $*" >&2
	echo "0 passed, 1 failed"
	exit 1
}

for b in "$binary" "$entrypoint"; do
	if [ ! -x "$b" ] || [ -d "$b" ]; then
		cannot_run "no executable at $b (run make first)"
	fi
done

# enter_mount_namespace VAR WHY: unless $VAR is 1 (the suite is already
# inside), re-executes the suite ($0, with $binary) as root in a private
# mount namespace (unshare -m), with VAR=1; WHY says what the suite needs
# root for.  A suite that cannot get there cannot run.
enter_mount_namespace() {
	local var=$1 why=$2
	[ "${!var:-}" = 1 ] && return 0
	[ "$(id -u)" = 0 ] || cannot_run "needs root $why"
	command -v unshare >/dev/null 2>&1 ||
		cannot_run "unshare(1) (util-linux) is not installed"
	unshare -m --propagation private true 2>/dev/null ||
		cannot_run "unshare -m failed (no permission to make a mount namespace?)"
	case $0 in
	/*) set -- "$0" ;;
	*) set -- "$PWD/$0" ;;
	esac
	exec env "$var=1" unshare -m --propagation private "$BASH" "$1" "$binary"
}
