#!/usr/bin/env bash
# badinput.sh: bad input gets a clear error and an untouched disk.
#
# Usage: tests/badinput.sh [CSTOW_BINARY]
#
# CSTOW_BINARY defaults to cli/cstow under the repository root (or to
# $CSTOW_BINARY); cstow-entrypoint is taken from beside it (or from
# $CSTOW_ENTRYPOINT_BINARY).
#
# Each case builds a fresh sandbox (mktemp -d) holding a stow directory, a
# target and HOME, so that ~/.stowrc, ~/.stow-global-ignore and the state
# directory (~/.local/state/cstow: journals and the vault) are inside it.
# The command runs from the sandbox with a clean environment (env -i: no
# STOW_DIR, XDG_*, CSTOW_* unless the case sets them), and the case checks
#
#   - the exact exit status, as man/cstow.1 and man/cstow-entrypoint.1
#     document it (EXIT STATUS);
#   - that standard error names the input at fault (the package, the path,
#     the regex, file:line for .stowrc, ignore files and cstow.conf);
#   - that nothing died of a signal or printed "internal error";
#   - that the disk is as it was: a snapshot of the whole sandbox (every
#     entry, its path as bytes, type, mode, owner, size, mtime and ctime to
#     the nanosecond, inode number, link text and the SHA-256 of a file's
#     bytes) is taken before and after, and must be identical.  Nothing is
#     left out of it, HOME and the state directory included.
#
# Two kinds of case make a looser comparison, each for a stated reason:
#
#   - A failure that can only be found by trying (a read-only target, a
#     file system that fills up during --adopt, a path too long for the
#     kernel met while applying, a file met by mkdir -p) must be undone:
#     exit 3 (2 for mkdir -p, which comes before applying), and every
#     entry must come back with the same type, mode, owner, size, mtime,
#     link text and bytes.  The attempt itself touches directories (an
#     entry made and removed again changes its directory's mtime, ctime
#     and size) and a file moved across file systems and back has a new
#     inode and ctime, so those fields are not compared.
#   - Odd but valid names (blanks, newlines, invalid UTF-8, a leading
#     '-') must work: the stow exits 0 with the right links, and -D then
#     gives back the same tree, compared in the same way (the directories
#     the links were made in and removed from have new timestamps).
#
# The mount cases (a read-only target, a full file system) need root and
# unshare(1): the script then re-executes itself in a private mount
# namespace (unshare -m), as tests/crossfs.sh does, and mounts tmpfs file
# systems inside the sandboxes.  The unreadable-directory cases run cstow
# as the user nobody (setpriv), since root reads through permission bits;
# they too need root.  Without root these cases are reported as "skip
# NAME: why" and counted apart; a skip is never a pass.
#
# Prints "ok NAME", "FAIL NAME: why" (with details on "  # " lines) or
# "skip NAME: why" per case, then "N passed, N failed" (", N skipped"
# added when some were skipped); exits non-zero when a case failed.  The
# sandbox of a failed case is kept and named; CSTOW_TEST_KEEP=1 keeps
# every sandbox (tmpfs mounts vanish with the namespace).

set -u

here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
top=$(cd -- "$here/.." && pwd -P)

# shellcheck source=tests/progs.sh
. "$here/progs.sh" badinput.sh "${1:-}"
command -v python3 >/dev/null 2>&1 ||
	cannot_run "python3 is needed to snapshot the sandboxes"

# Root: into a private mount namespace, where tmpfs can be mounted.
mount_why=
if [ "${CSTOW_BADINPUT_INNER:-}" != 1 ]; then
	if [ "$(id -u)" != 0 ]; then
		mount_why="needs root to mount tmpfs file systems"
	elif ! command -v unshare >/dev/null 2>&1; then
		mount_why="unshare(1) (util-linux) is not installed"
	elif ! unshare -m --propagation private true 2>/dev/null; then
		mount_why="unshare -m failed (no permission to make a mount namespace?)"
	else
		CSTOW_BADINPUT_INNER=1 exec unshare -m --propagation private \
		    "$BASH" "$here/badinput.sh" "$binary"
		cannot_run "could not execute unshare"
	fi
fi
nobody_why=
if [ "$(id -u)" != 0 ]; then
	nobody_why="needs root to run cstow as the user nobody"
elif ! command -v setpriv >/dev/null 2>&1; then
	nobody_why="setpriv(1) (util-linux) is not installed"
fi

umask 022
work=$(mktemp -d "${TMPDIR:-/tmp}/cstow-badinput.XXXXXX") ||
	cannot_run "mktemp failed"
chmod 755 "$work"
bin=$work/bin
mkdir "$bin"
# Copies, so that a rebuild while the suite runs does not pull the
# programs from under it.
cp -- "$binary" "$bin/cstow" && cp -- "$entrypoint" "$bin/cstow-entrypoint" ||
	cannot_run "cannot copy the programs"

sb=			# the current case's sandbox
mounts=()		# tmpfs mounted in it
cleanup() {
	local m
	for m in "${mounts[@]}"; do
		umount "$m" 2>/dev/null
	done
	rm -rf -- "$work"
}
trap cleanup EXIT

# The snapshot: one line per entry below the sandbox, sorted.  Paths are
# bytes (written with Python's ascii() of bytes, so that a newline or an
# invalid byte in a name is visible and unambiguous), and the walk uses
# directory descriptors, so a tree deeper than PATH_MAX is read whole.
cat >"$work/snap.py" <<'EOF'
import hashlib, os, stat, sys

top = os.fsencode(sys.argv[1])
loose = sys.argv[2] == "loose"

def entry(rel, name, dirfd):
    st = os.lstat(name, dir_fd=dirfd)
    m = st.st_mode
    kind = ("l" if stat.S_ISLNK(m) else "d" if stat.S_ISDIR(m) else
            "f" if stat.S_ISREG(m) else "o")
    f = [ascii(rel), kind, "%04o" % stat.S_IMODE(m),
         "%d:%d" % (st.st_uid, st.st_gid)]
    if not (loose and kind == "d"):
        f += ["size=%d" % st.st_size, "mtime=%d" % st.st_mtime_ns]
    if not loose:
        f += ["ctime=%d" % st.st_ctime_ns, "ino=%d" % st.st_ino]
    if kind == "l":
        f.append("-> " + ascii(os.readlink(name, dir_fd=dirfd)))
    elif kind == "f":
        h = hashlib.sha256()
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW, dir_fd=dirfd)
        with os.fdopen(fd, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 16), b""):
                h.update(chunk)
        f.append("sha256=" + h.hexdigest())
    return " ".join(f)

def fail(e):
    raise e

lines = []
parent = os.open(os.path.dirname(top) or b".", os.O_RDONLY | os.O_DIRECTORY)
lines.append(entry(b".", os.path.basename(top), parent))
os.close(parent)
for dirpath, dirs, files, dirfd in os.fwalk(top, onerror=fail):
    rel = dirpath[len(top) + 1:]
    for name in dirs + files:
        lines.append(entry(rel + b"/" + name if rel else name, name, dirfd))
lines.sort()
sys.stdout.write("\n".join(lines) + "\n")
EOF

snapshot() {	# snapshot strict|loose: the sandbox, on stdout
	python3 "$work/snap.py" "$sb" "$1"
}

passed=0
failed=0
skipped=0

ok() {
	passed=$((passed + 1))
	echo "ok $1"
}

not_ok() {	# not_ok NAME WHY [DETAIL...]
	local name=$1 why=$2 d
	shift 2
	failed=$((failed + 1))
	echo "FAIL $name: $why"
	for d in "$@"; do
		printf '%s\n' "$d" | head -n 40 | sed 's/^/  # /'
	done
	if [ -n "$sb" ]; then
		echo "  # sandbox kept: $sb"
		sb_keep=1
	fi
}

skip() {	# skip NAME WHY
	skipped=$((skipped + 1))
	echo "skip $1: $2"
}

# A fresh sandbox, the current directory of every command:
#
#   stow/a/bin/x, stow/a/share/doc/a.txt   package a
#   stow/b/.b1                             package b
#   stow/plainfile                         a file, not a package
#   t/keep                                 the target, with a file
#   afile                                  a file, to name as a directory
#   home/                                  HOME, empty: no .stowrc, no
#                                          state directory
sb_keep=0
fresh() {	# fresh: a new sandbox for the next case
	end_sandbox
	sb=$(mktemp -d "${TMPDIR:-/tmp}/cstow-badinput-case.XXXXXX") ||
		cannot_run "mktemp failed"
	chmod 755 "$sb"
	mkdir -p "$sb/stow/a/bin" "$sb/stow/a/share/doc" "$sb/stow/b" \
	    "$sb/t" "$sb/home"
	echo x >"$sb/stow/a/bin/x"
	echo doc >"$sb/stow/a/share/doc/a.txt"
	echo b1 >"$sb/stow/b/.b1"
	echo plain >"$sb/stow/plainfile"
	echo keep >"$sb/t/keep"
	echo afile >"$sb/afile"
}

# mkdeep DIR K: DIR/d/d/..., K thousand directories deep (mkdir -p and
# cd by a thousand at a time: no path given to the kernel is too long).
mkdeep() {
	local chain i
	chain=$(printf 'd/%.0s' {1..1000})
	(cd -- "$1" || exit 1
	 for ((i = 0; i < $2; i++)); do
		mkdir -p "$chain" && cd -P "$chain" 2>/dev/null || exit 1
	 done)
}

end_sandbox() {
	local m
	for m in "${mounts[@]}"; do
		umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
	done
	mounts=()
	if [ -n "$sb" ] && [ "$sb_keep" = 0 ] &&
	    [ "${CSTOW_TEST_KEEP:-0}" != 1 ]; then
		rm -rf -- "$sb"
	fi
	sb=
	sb_keep=0
}

mount_tmpfs() {	# mount_tmpfs DIR SIZE: a tmpfs on DIR, in the sandbox
	mkdir -p "$1" && mount -t tmpfs -o "size=$2,mode=0755" cstow-badinput "$1" ||
		return 1
	mounts=("$1" "${mounts[@]}")
}

# run [NAME=VALUE...] COMMAND...: from the sandbox, with a clean
# environment plus the NAME=VALUE words; sets status, out and err.
status=
out=
err=
run() {
	local -a envs=()
	while [ $# -gt 0 ] && [[ $1 =~ ^[A-Za-z_][A-Za-z0-9_]*= ]]; do
		envs+=("$1")
		shift
	done
	(
		cd "$sb" &&
		exec env -i PATH="$bin:/usr/local/bin:/usr/bin:/bin" \
		    HOME="$sb/home" LC_ALL=C ${envs[@]+"${envs[@]}"} \
		    timeout 60 "$@"
	) </dev/null >"$work/out" 2>"$work/err"
	status=$?
	out=$(cat -- "$work/out")
	err=$(cat -- "$work/err")
}

# What is wrong with the last run, given the expected status and the
# strings stderr must hold; empty when nothing.
why=
judge() {	# judge STATUS NEEDLE...
	local want=$1 n
	shift
	why=
	if [ "$status" = 124 ] || [ "$status" -gt 128 ]; then
		why="died (status $status: a signal or the timeout)"
	elif [ "$status" != "$want" ]; then
		why="exit status $status, expected $want"
	fi
	for n in "$@"; do
		if [[ $err != *"$n"* ]]; then
			why="${why:+$why; }stderr does not name $(printf '%q' "$n")"
		fi
	done
	if [[ $err == *"internal error"* ]]; then
		why="${why:+$why; }stderr says internal error"
	fi
}

# case_run NAME STATUS NEEDLE... -- [NAME=VALUE...] COMMAND...
#   The command exits STATUS, stderr holds every NEEDLE, and the sandbox
#   is byte-identical to before, timestamps, inodes and all.
# case_undone: the same, for a failure found by trying: the looser
#   comparison described at the top.
case_run() { _case strict "$@"; }
case_undone() { _case loose "$@"; }

_case() {
	local mode=$1 name=$2 want=$3 before after
	local -a needles=()
	shift 3
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		needles+=("$1")
		shift
	done
	shift
	if ! before=$(snapshot "$mode"); then
		not_ok "$name" "cannot snapshot the sandbox"
		return
	fi
	run "$@"
	after=$(snapshot "$mode")
	judge "$want" ${needles[@]+"${needles[@]}"}
	if [ "$before" != "$after" ]; then
		why="${why:+$why; }the disk changed"
	fi
	if [ -z "$why" ]; then
		ok "$name"
	else
		not_ok "$name" "$why" "command: $*" "stderr: $err" \
		    "$(diff <(echo "$before") <(echo "$after"))"
	fi
}

# link_is PATH TEXT: PATH (in the sandbox) is a symlink whose text is
# exactly TEXT.
link_is() {
	[ -L "$sb/$1" ] && [ "$(readlink -- "$sb/$1"; echo .)" = "$2
." ]
}

# ===========================================================================
# Package names.  Each command names the valid package a as well: it must
# not be stowed either.

fresh
case_run pkg-name-dotdot 2 "invalid package name '..'" -- \
    cstow -d stow -t t a ..
fresh
case_run pkg-name-dot-slash-dot 2 "Slashes are not permitted in package names: ./." -- \
    cstow -d stow -t t a ./.
fresh
case_run pkg-name-dotdot-slash 2 "invalid package name '../'" -- \
    cstow -d stow -t t a ../
fresh
case_run pkg-name-dotdot-unstow 2 "invalid package name '..'" -- \
    cstow -d stow -t t -D ..
fresh
case_run pkg-name-dotdot-restow 2 "invalid package name '..'" -- \
    cstow -d stow -t t -R a ..
fresh
case_run pkg-name-absolute 2 "Slashes are not permitted in package names: /abs" -- \
    cstow -d stow -t t a /abs
fresh
case_run pkg-name-absolute-existing 2 \
    "Slashes are not permitted in package names: $sb/stow/a" -- \
    cstow -d stow -t t "$sb/stow/a"
fresh
case_run pkg-name-slash 2 "Slashes are not permitted in package names: a/b" -- \
    cstow -d stow -t t a a/b
fresh
case_run pkg-name-slash-existing 2 "Slashes are not permitted in package names: a/bin" -- \
    cstow -d stow -t t a/bin
fresh
case_run pkg-name-empty 2 "invalid package name ''" -- \
    cstow -d stow -t t a ''
fresh
case_run pkg-name-newline 2 "invalid package name 'a\\nb'" -- \
    cstow -d stow -t t a $'a\nb'
# Even when a directory of that name exists in the stow directory.
fresh
mkdir "$sb/stow/"$'a\nb'
echo nl >"$sb/stow/"$'a\nb/f'
case_run pkg-name-newline-existing 2 "invalid package name 'a\\nb'" -- \
    cstow -d stow -t t a $'a\nb'
fresh
case_run entry-pkg-name-dotdot 2 "invalid package name '..'" -- \
    CSTOW_DIR="$sb/stow" CSTOW_TARGET="$sb/t" CSTOW_PACKAGES="a .." \
    CSTOW_STRICT=1 cstow-entrypoint true

# ===========================================================================
# A missing package (exit 2, "any other error").

fresh
case_run pkg-missing 2 "does not contain package nope" -- \
    cstow -d stow -t t a nope
fresh
case_run pkg-missing-unstow 2 "does not contain package nope" -- \
    cstow -d stow -t t -D nope -S a
fresh
case_run pkg-missing-is-a-file 2 "does not contain package plainfile" -- \
    cstow -d stow -t t a plainfile
fresh
case_run pkg-missing-simulate 2 "does not contain package nope" -- \
    cstow -n -d stow -t t a nope
# A package's target that does not exist yet is made before stowing into
# it, but only when the run goes ahead: not for a missing package, and a
# simulation finds the missing package too.
fresh
case_run pkg-missing-package-target 2 "does not contain package nope" -- \
    cstow -d stow -t t "--package-target=nope=$sb/new" a nope
fresh
case_run pkg-missing-package-target-simulate 2 "does not contain package nope" -- \
    cstow -n -d stow -t t "--package-target=nope=$sb/new" a nope
fresh
printf '[cstow]\n\ttarget = ../new/dir\n' >"$sb/stow/cstow.conf"
case_run pkg-missing-conf-target 2 "does not contain package nope" -- \
    cstow -d stow a nope
fresh
case_run entry-pkg-missing 2 "does not contain package nope" -- \
    CSTOW_DIR="$sb/stow" CSTOW_TARGET="$sb/t" CSTOW_PACKAGES="a nope" \
    CSTOW_STRICT=1 cstow-entrypoint true
fresh
case_run entry-pkg-missing-new-target 2 "does not contain package nope" -- \
    CSTOW_DIR="$sb/stow" CSTOW_TARGET="$sb/new" CSTOW_PACKAGES="a nope" \
    CSTOW_STRICT=1 cstow-entrypoint true
# Lenient (no CSTOW_STRICT): the command runs and its status is the exit
# status; nothing is linked.
fresh
case_run entry-pkg-missing-lenient 0 "does not contain package nope" \
    "linking failed; starting true anyway" -- \
    CSTOW_DIR="$sb/stow" CSTOW_TARGET="$sb/t" CSTOW_PACKAGES="a nope" \
    cstow-entrypoint true

# ===========================================================================
# The stow directory is the target (exit 2).

fresh
case_run same-dir 2 "stow directory stow and target stow are the same directory" -- \
    cstow -d stow -t stow a
fresh
case_run same-dir-dot-slash 2 "target ./stow/ are the same directory" -- \
    cstow -d stow -t ./stow/ a
fresh
case_run same-dir-absolute 2 "target $sb/stow are the same directory" -- \
    cstow -d stow -t "$sb/stow" a
fresh
ln -s stow "$sb/alias"
case_run same-dir-symlink-alias 2 "target alias are the same directory" -- \
    cstow -d stow -t alias a
fresh
case_run same-dir-dot 2 "stow directory . and target . are the same directory" -- \
    cstow -d . -t . a
fresh
case_run same-dir-package-target 2 "are the same directory" -- \
    cstow -d stow -t t "--package-target=a=$sb/stow" a
# A relative target in cstow.conf is relative to the stow directory.
fresh
printf '[package "a"]\n\ttarget = .\n' >"$sb/stow/cstow.conf"
case_run same-dir-conf-target 2 "are the same directory" -- \
    cstow -d stow -t t a
fresh
case_run entry-same-dir 2 "are the same directory" -- \
    CSTOW_DIR="$sb/stow" CSTOW_TARGET="$sb/stow" CSTOW_PACKAGES=a \
    CSTOW_STRICT=1 cstow-entrypoint true

# ===========================================================================
# A target (or stow directory) that is a file.  -t and -d are checked as
# the command line is read (exit 1); a package's own target when its plan
# is opened (exit 2, "any other error").

fresh
case_run target-is-file 1 "--target value 'afile' is not a valid directory" -- \
    cstow -d stow -t afile a
fresh
case_run dir-is-file 1 "--dir value 'afile' is not a valid directory" -- \
    cstow -d afile -t t a
fresh
case_run target-is-file-package-target 2 "target directory $sb/afile is not a directory" -- \
    cstow -d stow -t t "--package-target=a=$sb/afile" a
fresh
case_run target-below-file 2 "afile/sub" -- \
    cstow -d stow -t t "--package-target=a=$sb/afile/sub" a
# Made with mkdir -p, which finds afile in the way only after making new/
# (the kernel resolves new/.. once new exists): found by trying, so new/
# must go again, but its parent's timestamps have changed.
fresh
case_undone target-through-file 2 "new/../afile/sub: Not a directory" -- \
    cstow -d stow -t t "--package-target=a=$sb/new/../afile/sub" a
fresh
case_run entry-target-is-file 2 "$sb/afile" -- \
    CSTOW_DIR="$sb/stow" CSTOW_TARGET="$sb/afile" CSTOW_PACKAGES=a \
    CSTOW_STRICT=1 cstow-entrypoint true

# ===========================================================================
# An unreadable package subdirectory, an unreadable ignore file: cstow runs
# as nobody (root reads through permission bits), in a sandbox that nobody
# owns.  A folded package is never read below its top, so the target has a
# real sub/ (or --no-folding is given) to make cstow read a/sub.

as_nobody=(setpriv --reuid=65534 --regid=65534 --clear-groups)
nobody_sandbox() {
	fresh
	mkdir -p "$sb/stow/a/sub/inner"
	echo z >"$sb/stow/a/sub/inner/z"
	chown -R 65534:65534 "$sb"
}
if [ -n "$nobody_why" ]; then
	for c in unreadable-subdir unreadable-subdir-no-folding \
	    unreadable-subdir-unstow unreadable-local-ignore \
	    search-only-target-dir; do
		skip "$c" "$nobody_why"
	done
else
	nobody_sandbox
	mkdir "$sb/t/sub" && chown 65534:65534 "$sb/t/sub"
	chmod 000 "$sb/stow/a/sub"
	case_run unreadable-subdir 2 "$sb/stow/a/sub: Permission denied" -- \
	    "${as_nobody[@]}" cstow -d stow -t t a

	nobody_sandbox
	chmod 000 "$sb/stow/a/sub"
	case_run unreadable-subdir-no-folding 2 "$sb/stow/a/sub: Permission denied" -- \
	    "${as_nobody[@]}" cstow -d stow -t t --no-folding a

	nobody_sandbox
	mkdir "$sb/t/sub" && chown 65534:65534 "$sb/t/sub"
	run "${as_nobody[@]}" cstow -d stow -t t a
	if [ "$status" != 0 ] || ! link_is t/sub/inner ../../stow/a/sub/inner; then
		not_ok unreadable-subdir-unstow "setup: stowing a failed" "$err"
	else
		chmod 000 "$sb/stow/a/sub"
		case_run unreadable-subdir-unstow 2 "$sb/stow/a/sub: Permission denied" -- \
		    "${as_nobody[@]}" cstow -d stow -t t -D a
	fi

	nobody_sandbox
	printf 'README\n' >"$sb/stow/a/.stow-local-ignore"
	chown 65534:65534 "$sb/stow/a/.stow-local-ignore"
	chmod 000 "$sb/stow/a/.stow-local-ignore"
	case_run unreadable-local-ignore 2 \
	    "$sb/stow/a/.stow-local-ignore: Permission denied" -- \
	    "${as_nobody[@]}" cstow -d stow -t t a

	# A target directory that can be searched and written, not read:
	# the planner cannot list it, so it reads each entry, and a re-run
	# reads each link, through a descriptor opened as a path.
	nobody_sandbox
	mkdir -p "$sb/stow/a/sub/more" && echo y >"$sb/stow/a/sub/y" &&
	    echo w >"$sb/stow/a/sub/more/w"
	chown -R 65534:65534 "$sb/stow"
	mkdir -p "$sb/t/sub/more" && chown -R 65534:65534 "$sb/t/sub" &&
	    chmod 0311 "$sb/t/sub" "$sb/t/sub/more"
	run "${as_nobody[@]}" cstow -d stow -t t a
	s1=$status e1=$err
	run "${as_nobody[@]}" cstow -d stow -t t a
	if [ "$s1" != 0 ] || [ "$status" != 0 ]; then
		not_ok search-only-target-dir "exit $s1, then $status (0 and 0 expected)" \
		    "$e1" "$err"
	elif ! link_is t/sub/inner ../../stow/a/sub/inner ||
	    ! link_is t/sub/y ../../stow/a/sub/y ||
	    ! link_is t/sub/more/w ../../../stow/a/sub/more/w; then
		not_ok search-only-target-dir "links missing or wrong"
	else
		ok search-only-target-dir
	fi
fi

# ===========================================================================
# A read-only target file system.  A run that would change it is refused
# before it changes anything (exit 2): it cannot even take the target's
# lock.  A read-only file system mounted inside a writable target is
# found only by trying: the run fails with exit 3 and undoes what it
# did.

if [ -n "$mount_why" ]; then
	for c in ro-target-stow ro-target-unstow ro-target-is-home \
	    entry-ro-target ro-subdir-stow; do
		skip "$c" "$mount_why"
	done
else
	fresh
	rm -rf "$sb/t"
	if mount_tmpfs "$sb/t" 1m && echo keep >"$sb/t/keep" &&
	    mount -o remount,ro "$sb/t"; then
		case_run ro-target-stow 2 \
		    "cannot change $sb/t: Read-only file system" \
		    "nothing was changed" -- cstow -d stow -t t a b
	else
		not_ok ro-target-stow "cannot mount a read-only tmpfs"
	fi

	fresh
	rm -rf "$sb/t"
	if mount_tmpfs "$sb/t" 1m; then
		run cstow -d stow -t t a b
		if [ "$status" != 0 ]; then
			not_ok ro-target-unstow "setup: stowing failed" "$err"
		elif ! mount -o remount,ro "$sb/t"; then
			not_ok ro-target-unstow "cannot remount read-only"
		else
			case_run ro-target-unstow 2 \
			    "Read-only file system" "nothing was changed" -- \
			    cstow -d stow -t t -D a b
		fi
	else
		not_ok ro-target-unstow "cannot mount a tmpfs"
	fi

	# HOME is the target and is read-only.
	fresh
	rm -rf "$sb/home"
	if mount_tmpfs "$sb/home" 1m && mount -o remount,ro "$sb/home"; then
		case_run ro-target-is-home 2 \
		    "cannot change $sb/home: Read-only file system" -- \
		    cstow -d stow -t home a
	else
		not_ok ro-target-is-home "cannot mount a read-only tmpfs"
	fi

	fresh
	rm -rf "$sb/t"
	if mount_tmpfs "$sb/t" 1m && mount -o remount,ro "$sb/t"; then
		case_run entry-ro-target 2 "Read-only file system" -- \
		    CSTOW_DIR="$sb/stow" CSTOW_TARGET="$sb/t" CSTOW_STRICT=1 \
		    cstow-entrypoint true
	else
		not_ok entry-ro-target "cannot mount a read-only tmpfs"
	fi

	# The target is writable, a directory in it is not: found by trying.
	fresh
	if mkdir -p "$sb/t/bin" && mount_tmpfs "$sb/t/bin" 1m &&
	    mount -o remount,ro "$sb/t/bin"; then
		case_undone ro-subdir-stow 3 "Read-only file system" \
		    "all changes undone" -- cstow -d stow -t t a b
	else
		not_ok ro-subdir-stow "cannot mount a read-only tmpfs"
	fi
fi

# ===========================================================================
# A full file system during --adopt: the package is on a small tmpfs that
# is full, the target on another tmpfs, so the adopted file must be copied
# (rename(2) fails with EXDEV) and the copy runs out of space.  Both sides,
# and HOME where the vault is, must be as they were.

if [ -n "$mount_why" ]; then
	skip full-fs-adopt "$mount_why"
	skip entry-full-fs-adopt "$mount_why"
else
	full_fs_sandbox() {
		fresh
		if ! mount_tmpfs "$sb/pfs" 256k || ! mount_tmpfs "$sb/tfs" 1m; then
			return 1
		fi
		mkdir -p "$sb/pfs/stow/p/etc"
		echo 'package version' >"$sb/pfs/stow/p/etc/conf"
		echo other >"$sb/pfs/stow/p/etc/other"
		mkdir "$sb/tfs/etc"
		head -c 100000 /dev/urandom >"$sb/tfs/etc/conf"
		chmod 640 "$sb/tfs/etc/conf"
		touch -d '2001-02-03 04:05:06.123456789' "$sb/tfs/etc/conf"
		dd if=/dev/zero of="$sb/pfs/fill" bs=4k 2>/dev/null
		[ "$(df --output=avail -k "$sb/pfs" | tail -n 1 | tr -d ' ')" = 0 ]
	}
	if full_fs_sandbox; then
		case_undone full-fs-adopt 3 "No space left on device" "etc/conf" \
		    "all changes undone" -- cstow -d pfs/stow -t tfs --adopt p
	else
		not_ok full-fs-adopt "cannot set up the full tmpfs"
	fi
	if full_fs_sandbox; then
		case_undone entry-full-fs-adopt 3 "No space left on device" -- \
		    CSTOW_DIR="$sb/pfs/stow" CSTOW_TARGET="$sb/tfs" \
		    CSTOW_CONFLICT=adopt CSTOW_STRICT=1 cstow-entrypoint true
	else
		not_ok entry-full-fs-adopt "cannot set up the full tmpfs"
	fi
fi

# ===========================================================================
# Odd but valid names: blanks, a newline, invalid UTF-8, a leading '-',
# glob and backslash characters.  Stowing works and makes the right links;
# -D gives back the tree it started from; -n changes nothing at all.

odd_names=("a b" $'new\nline' $'\xff\xfe' -rf --help " lead" "trail " \
    $'tab\there' '*' '\back')
odd_sandbox() {
	fresh
	# The state directory exists beforehand, so that the journal
	# directory a successful run makes is not a difference.
	mkdir -p "$sb/home/.local/state/cstow" \
	    "$sb/stow/odd/dir with space/-x" "$sb/t/dir with space"
	for n in "${odd_names[@]}"; do
		printf '%s\n' "$n" >"$sb/stow/odd/$n"
	done
	echo deep >"$sb/stow/odd/dir with space/-x/"$'\xff'
}
odd_sandbox
case_run odd-names-simulate 0 "in simulation mode" -- \
    cstow -n -v -d stow -t t odd
odd_sandbox
start=$(snapshot loose)
run cstow -d stow -t t odd
judge 0
for n in "${odd_names[@]}"; do
	link_is "t/$n" "../stow/odd/$n" ||
		why="${why:+$why; }t/$(printf '%q' "$n") is not the right link"
done
link_is "t/dir with space/-x" "../../stow/odd/dir with space/-x" ||
	why="${why:+$why; }t/dir with space/-x is not the right link"
if [ -z "$why" ]; then ok odd-names-stow; else
	not_ok odd-names-stow "$why" "stderr: $err" \
	    "$(cd "$sb" && find t -printf '%y %p -> %l\n' | cat -A)"
fi
run cstow -d stow -t t -D odd
judge 0
now=$(snapshot loose)
[ "$start" = "$now" ] || why="${why:+$why; }-D did not give back the tree"
if [ -z "$why" ]; then ok odd-names-unstow; else
	not_ok odd-names-unstow "$why" "stderr: $err" \
	    "$(diff <(echo "$start") <(echo "$now"))"
fi

# Odd package names: a leading '-' (after --), invalid UTF-8, a blank.
fresh
mkdir -p "$sb/home/.local/state/cstow" "$sb/stow/-pkg" \
    "$sb/stow/"$'\xffpkg' "$sb/stow/my pkg"
echo 1 >"$sb/stow/-pkg/f1"
echo 2 >"$sb/stow/"$'\xffpkg/f2'
echo 3 >"$sb/stow/my pkg/f3"
start=$(snapshot loose)
run cstow -d stow -t t -- -pkg $'\xffpkg' "my pkg"
judge 0
link_is t/f1 ../stow/-pkg/f1 && link_is t/f2 ../stow/$'\xffpkg'/f2 &&
    link_is t/f3 "../stow/my pkg/f3" || why="${why:+$why; }wrong links"
if [ -z "$why" ]; then ok odd-package-names-stow; else
	not_ok odd-package-names-stow "$why" "stderr: $err"
fi
run cstow -d stow -t t -D -- -pkg $'\xffpkg' "my pkg"
judge 0
now=$(snapshot loose)
[ "$start" = "$now" ] || why="${why:+$why; }-D did not give back the tree"
if [ -z "$why" ]; then ok odd-package-names-unstow; else
	not_ok odd-package-names-unstow "$why" "stderr: $err" \
	    "$(diff <(echo "$start") <(echo "$now"))"
fi
# Without --, "-pkg" is a bundle of options: -p, then the unknown -k.
fresh
mkdir "$sb/stow/-pkg"
case_run odd-package-name-dash-unquoted 1 "Unknown option: k" -- \
    cstow -d stow -t t -pkg

# ===========================================================================
# A package deeper than PATH_MAX (120 levels of 40 bytes: 4920 bytes).
# Folded, it is one link.  With --no-folding every level must be made in
# the target and the last link's path is too long for the kernel: the run
# must either do it all or fail with a message naming the path and the
# reason, and leave nothing behind.

seg=dddddddddddddddddddddddddddddddddddddddd
deep_sandbox() {
	fresh
	mkdir -p "$sb/home/.local/state/cstow"
	(
		cd "$sb/stow" && mkdir deep && cd deep &&
		for i in $(seq 1 120); do
			mkdir "$seg" && cd "$seg" || exit 1
		done &&
		echo leaf >leaf
	)
}
if deep_sandbox; then
	start=$(snapshot loose)
	run cstow -d stow -t t deep
	judge 0
	link_is "t/$seg" "../stow/deep/$seg" ||
		why="${why:+$why; }t/$seg is not the link"
	if [ -z "$why" ]; then ok deep-fold-stow; else
		not_ok deep-fold-stow "$why" "stderr: $err"
	fi
	run cstow -d stow -t t -D deep
	judge 0
	[ "$start" = "$(snapshot loose)" ] ||
		why="${why:+$why; }-D did not give back the tree"
	if [ -z "$why" ]; then ok deep-fold-unstow; else
		not_ok deep-fold-unstow "$why" "stderr: $err"
	fi
else
	not_ok deep-fold "cannot build the deep package"
fi

# deep_case NAME ARGS...: cstow ARGS on the deep package, with
# --no-folding.  Exit 0 with every level made (or, with -n, planned);
# else exit 2 (planning failed: nothing may change at all) or 3 (applying
# failed and was undone), with a message naming the path and the reason.
deep_case() {
	local name=$1 before after before_loose after_loose
	shift
	deep_sandbox || { not_ok "$name" "cannot build the deep package"; return; }
	before=$(snapshot strict)
	before_loose=$(snapshot loose)
	run cstow -d stow -t t --no-folding "$@" deep
	after=$(snapshot strict)
	after_loose=$(snapshot loose)
	why=
	if [ "$status" = 0 ] && [ "$1" = -n ]; then
		[ "$before" = "$after" ] || why="the disk changed"
	elif [ "$status" = 0 ]; then
		(cd "$sb/t" && for i in $(seq 1 120); do
			[ -d "$seg" ] && [ ! -L "$seg" ] && cd "$seg" || exit 1
		done && [ -L leaf ] && [ "$(cat leaf)" = leaf ]) ||
			why="exit 0 but the deep tree is not right"
	else
		judge "$([ "$status" = 3 ] && echo 3 || echo 2)" \
		    "/$seg/$seg/" "File name too long"
		if [ "$status" = 3 ]; then
			before=$before_loose
			after=$after_loose
		fi
		[ "$before" = "$after" ] || why="${why:+$why; }the disk changed"
	fi
	if [ -z "$why" ]; then ok "$name"; else
		not_ok "$name" "$why" \
		    "stderr ($(wc -c <<<"$err") bytes; its end): $(tail -c 160 <<<"$err")" \
		    "$(diff <(echo "$before") <(echo "$after") | cut -c1-200)"
	fi
}
deep_case deep-no-folding-simulate -n
deep_case deep-no-folding

# ===========================================================================
# A symlink loop in the target (a -> b, b -> a; self -> self) where the
# package wants a directory or a file: a conflict (exit 1), nothing done.

loop_sandbox() {
	fresh
	mkdir -p "$sb/stow/p/a" "$sb/stow/q" "$sb/stow/r/self"
	echo f >"$sb/stow/p/a/f"
	echo g >"$sb/stow/q/b"
	echo s >"$sb/stow/r/self/s"
	ln -s b "$sb/t/a"
	ln -s a "$sb/t/b"
	ln -s self "$sb/t/self"
}
loop_sandbox
case_run loop-where-dir 1 "existing target is not owned by stow: a" -- \
    cstow -d stow -t t p
loop_sandbox
case_run loop-where-file 1 "existing target is not owned by stow: b" -- \
    cstow -d stow -t t q
loop_sandbox
case_run loop-self 1 "existing target is not owned by stow: self" -- \
    cstow -d stow -t t r
loop_sandbox
case_run loop-adopt 1 "existing target is not owned by stow: b" -- \
    cstow -d stow -t t --adopt q
loop_sandbox
case_run loop-simulate 1 "existing target is not owned by stow: a" -- \
    cstow -n -d stow -t t p
# Unstowing leaves a link it does not own alone: nothing to do.
loop_sandbox
case_run loop-unstow 0 -- cstow -d stow -t t -D p q r
loop_sandbox
case_run loop-unstow-compat 0 -- cstow -d stow -t t -p -D p q r
loop_sandbox
case_run loop-as-target 1 "--target value 't/a' is not a valid directory" -- \
    cstow -d stow -t t/a p
loop_sandbox
case_run loop-below-target 1 "--target value 't/self/x' is not a valid directory" -- \
    cstow -d stow -t t/self/x p

# ===========================================================================
# Invalid regular expressions: on the command line and in a resource file
# (exit 1, naming the option and the regex), in an ignore file (exit 2,
# naming file:line), in cstow.conf (exit 1, naming file:line).

fresh
case_run regex-ignore 1 "--ignore: invalid regex '('" -- \
    cstow -d stow -t t '--ignore=(' a
fresh
case_run regex-defer 1 "--defer: invalid regex '('" -- \
    cstow -d stow -t t '--defer=(' a
fresh
case_run regex-override 1 "--override: invalid regex '['" -- \
    cstow -d stow -t t '--override=[' a
fresh
case_run regex-ignore-package-target 1 "--ignore: invalid regex '('" -- \
    cstow -d stow -t t "--package-target=a=$sb/new" '--ignore=(' a
fresh
printf -- "--ignore='+x'\n" >"$sb/home/.stowrc"
case_run regex-stowrc 1 "invalid regex '+x'" -- cstow -d stow -t t a
fresh
printf 'README\n(\n' >"$sb/stow/b/.stow-local-ignore"
case_run regex-local-ignore 2 "$sb/stow/b/.stow-local-ignore:2: invalid regex" -- \
    cstow -d stow -t t a b
fresh
printf 'README\n(\n' >"$sb/stow/b/.stow-local-ignore"
case_run regex-local-ignore-unstow 2 "$sb/stow/b/.stow-local-ignore:2: invalid regex" -- \
    cstow -d stow -t t -D b
fresh
printf '# patterns\n\n[x\n' >"$sb/home/.stow-global-ignore"
case_run regex-global-ignore 2 "$sb/home/.stow-global-ignore:3: invalid regex" -- \
    cstow -d stow -t t a
fresh
printf '[cstow]\n\tignore = ok\n\tignore = (\n' >"$sb/stow/cstow.conf"
case_run regex-conf 1 "stow/cstow.conf:3: invalid regex" -- \
    cstow -d stow -t t a
fresh
printf '[package "a"]\n\n\tignore = *x\n' >"$sb/stow/cstow.conf"
case_run regex-conf-package 1 "stow/cstow.conf:3: invalid regex" -- \
    cstow -d stow -t t a

# A regex that backtracks past PCRE2's match limit on a name ("(a|aa)+$"
# over a long run of "a" that does not end it): an error naming the file,
# the line and the regex (exit 2, nothing changed), never "no match".
# In the check and the entrypoint too.
aaab=$(printf 'a%.0s' {1..60})b
fresh
touch "$sb/stow/b/$aaab"
printf '# slow\n(a|aa)+$\n' >"$sb/stow/b/.stow-local-ignore"
case_run regex-local-ignore-limit 2 \
    "$sb/stow/b/.stow-local-ignore:2: regex '(a|aa)+\$' gave up on '/$aaab'" \
    "match limit" -- cstow -d stow -t t a b
fresh
touch "$sb/stow/b/$aaab"
printf '(a|aa)+$\n' >"$sb/home/.stow-global-ignore"
case_run regex-global-ignore-limit 2 \
    "$sb/home/.stow-global-ignore:1: regex '(a|aa)+\$' gave up on" -- \
    cstow -d stow -t t b
fresh
touch "$sb/stow/b/$aaab"
printf '(a|aa)+$\n' >"$sb/stow/b/.stow-local-ignore"
case_run regex-local-ignore-limit-check 2 \
    ".stow-local-ignore:1: regex '(a|aa)+\$' gave up on" -- \
    cstow -d stow -t t --check b
# A target nested deeper than a path can name, as a hostile home can be
# (30,000 directories): --check names the directory it does not walk,
# and its walk does not run out of stack (the default 8 MiB).
fresh
deep=$(mktemp -d "${TMPDIR:-/tmp}/cstow-badinput-deep.XXXXXX") ||
	cannot_run "mktemp failed"
"$binary" -d "$sb/stow" -t "$deep" a >/dev/null 2>&1 &&
    mkdeep "$deep" 30 || cannot_run "cannot make the deep target"
case_run check-deep-target 0 "$deep/d/d/d/d" "File name too long" -- \
    bash -c 'ulimit -S -s 8192 && exec cstow "$@"' cstow -d stow -t "$deep" \
    --check a
rm -rf -- "$deep"
fresh
touch "$sb/stow/b/$aaab"
case_run regex-ignore-limit 2 "ignore regex '(a|aa)+\$' gave up on '$aaab'" \
    "match limit" -- cstow -d stow -t t '--ignore=(a|aa)+$' b
fresh
touch "$sb/stow/b/$aaab"
ln -s ../stow/a/bin/x "$sb/t/$aaab"
case_run regex-defer-limit 2 "defer regex '(a|aa)+\$' gave up on '$aaab'" -- \
    cstow -d stow -t t '--defer=(a|aa)+$' b

# ===========================================================================
# Malformed .stowrc files, in HOME and in the current directory (exit 1,
# naming file:line).

rc_case() {	# rc_case NAME FILE CONTENT NEEDLE...: FILE holds CONTENT
	local name=$1 file=$2 content=$3
	shift 3
	fresh
	printf '%s' "$content" >"$sb/$file"
	case_run "$name" 1 "${@//@SB@/$sb}" -- cstow -d stow -t t a
}
rc_case rc-home-unterminated-quote home/.stowrc $'--verbose\n--target="oops\n' \
    "@SB@/home/.stowrc:2: unbalanced quote"
rc_case rc-local-unterminated-quote .stowrc $'-v\n--dir \'x\n' \
    ".stowrc:2: unbalanced quote"
rc_case rc-home-unknown-option home/.stowrc $'# comment\n\n--frobnicate\n' \
    "@SB@/home/.stowrc:3: Unknown option: frobnicate"
rc_case rc-local-unknown-option .stowrc $'# comment\n\n--frobnicate\n' \
    ".stowrc:3: Unknown option: frobnicate"
rc_case rc-local-bad-short-option .stowrc $'-X\n' \
    ".stowrc:1: Unknown option: X"
rc_case rc-missing-argument .stowrc $'-v\n--target\n' \
    ".stowrc:2: Option target requires an argument"
rc_case rc-bad-conflict home/.stowrc $'\n--conflict=maybe\n' \
    "@SB@/home/.stowrc:2: --conflict must be fail, adopt or backup, not 'maybe'"
rc_case rc-bad-verbose .stowrc $'-v\n--verbose=lots\n' \
    ".stowrc:2: Value \"lots\" invalid for option verbose (number expected)"
rc_case rc-two-modes .stowrc $'-v\n--check --badlinks\n' \
    ".stowrc:2: --check and --badlinks cannot be used together"
rc_case rc-undefined-variable .stowrc $'-v\n--dir=$CSTOW_NO_SUCH_VAR/x\n' \
    ".stowrc:2: --dir option references undefined environment variable \$CSTOW_NO_SUCH_VAR; aborting!"
rc_case rc-home-undefined-variable home/.stowrc $'-v\n\n--target ${CSTOW_NO_SUCH_VAR}\n' \
    "@SB@/home/.stowrc:3: --target option references undefined environment variable \$CSTOW_NO_SUCH_VAR; aborting!"

# ===========================================================================
# Malformed cstow.conf (exit 1, naming file:line; -d stow names it
# stow/cstow.conf).

conf_case() {	# conf_case NAME CONTENT NEEDLE...
	local name=$1 content=$2
	shift 2
	fresh
	printf '%s' "$content" >"$sb/stow/cstow.conf"
	case_run "$name" 1 "$@" -- cstow -d stow -t t a
}
conf_case conf-syntax-error $'[cstow]\n\ttarget = t\n[package "a"\n' \
    "stow/cstow.conf:3: syntax error"
conf_case conf-unknown-key $'[cstow]\n\ttagret = t\n' \
    "stow/cstow.conf:2: unknown key 'tagret' in [cstow]"
conf_case conf-key-not-in-section $'[cstow]\n\treplace = x\n' \
    "stow/cstow.conf:2: unknown key 'replace' in [cstow]"
conf_case conf-bad-bool $'[package "a"]\n\tfolding = sometimes\n' \
    "stow/cstow.conf:2: invalid boolean 'sometimes' for 'folding'"
conf_case conf-unterminated-quote $'[cstow]\n\ttarget = "t\n' \
    "stow/cstow.conf:2: unterminated quote"
conf_case conf-bad-conflict $'[cstow]\n\tconflict = maybe\n' \
    "stow/cstow.conf:2: invalid conflict 'maybe'"
conf_case conf-key-before-section $'target = t\n' \
    "stow/cstow.conf:1: key 'target' before any section"
conf_case conf-undefined-variable $'[cstow]\n\ttarget = $CSTOW_NO_SUCH_VAR\n' \
    "stow/cstow.conf:2: undefined environment variable \$CSTOW_NO_SUCH_VAR"
conf_case conf-replace-dotdot $'[package "a"]\n\treplace = ../x\n' \
    "stow/cstow.conf:2: replace path '../x' contains '..'"
conf_case conf-replace-dot $'[package "a"]\n\treplace = .\n' \
    "stow/cstow.conf:2: replace path '.' names no file"
# (A backslash in a message is shown doubled, as in a name.)
conf_case conf-bad-escape $'[cstow]\n\ttarget = a\\q\n' \
    "stow/cstow.conf:2: invalid escape '\\\\q'"
conf_case conf-unknown-section $'[bogus]\n' \
    "stow/cstow.conf:1: unknown section 'bogus'"
conf_case conf-bad-package-name $'[package ".."]\n\tskip\n' \
    "stow/cstow.conf:1: invalid package name '..'"
conf_case conf-empty-value $'[cstow]\n\ttarget =\n' \
    "stow/cstow.conf:2: empty value for 'target'"
fresh
printf '[cstow]\n\tdotfiles = true\n\tconflict = sometimes\n' >"$sb/other.conf"
case_run conf-via-config 1 "other.conf:3: invalid conflict 'sometimes'" -- \
    cstow -d stow -t t --config=other.conf a
fresh
case_run conf-config-missing 2 "none.conf" -- \
    cstow -d stow -t t --config=none.conf a
fresh
printf '[cstow]\n\tdotfiles = maybe\n' >"$sb/stow/cstow.conf"
case_run entry-conf-strict 1 "$sb/stow/cstow.conf:2: invalid boolean 'maybe'" -- \
    CSTOW_DIR="$sb/stow" CSTOW_TARGET="$sb/t" CSTOW_STRICT=1 \
    cstow-entrypoint true
fresh
printf '[cstow]\n\tdotfiles = maybe\n' >"$sb/stow/cstow.conf"
case_run entry-conf-lenient 0 "$sb/stow/cstow.conf:2: invalid boolean 'maybe'" \
    "linking failed; starting true anyway" -- \
    CSTOW_DIR="$sb/stow" CSTOW_TARGET="$sb/t" cstow-entrypoint true

# ===========================================================================
# Contradictory and wrong options (exit 1: the command line was wrong),
# and the errors the manual gives exit 2.

fresh_case() {	# fresh_case NAME STATUS NEEDLE... -- COMMAND...: in a fresh sandbox
	local name=$1
	shift
	fresh
	case_run "$name" "${@//@SB@/$sb}"
}
fresh_case opt-check-badlinks 1 "--check and --badlinks cannot be used together" -- \
    cstow -d stow -t t --check --badlinks
fresh_case opt-aliens-list 1 "--aliens and --list cannot be used together" -- \
    cstow -d stow -t t --aliens --list
fresh_case opt-restore-check 1 "--restore and --check cannot be used together" -- \
    cstow -d stow -t t --restore --check
fresh_case opt-badlinks-package 1 "--badlinks takes no packages" -- \
    cstow -d stow -t t --badlinks a
fresh_case opt-list-all 1 "--list takes no packages" -- \
    cstow -d stow -t t --list --all
fresh_case opt-json-restore 1 "--format=json does not apply to --restore" -- \
    cstow -d stow -t t --format=json --restore
fresh_case opt-config-and-no-config 1 "--config and --no-config cannot be used together" -- \
    cstow -d stow -t t --config=other.conf --no-config a
fresh_case opt-bad-conflict 1 "--conflict must be fail, adopt or backup, not 'maybe'" -- \
    cstow -d stow -t t --conflict=maybe a
fresh_case opt-bad-format 1 "--format must be text or json, not 'xml'" -- \
    cstow -d stow -t t --format=xml a
fresh_case opt-bad-verbose 1 "Value \"lots\" invalid for option verbose (number expected)" -- \
    cstow -d stow -t t --verbose=lots a
fresh_case opt-package-target-no-dir 1 "--package-target takes PKG=DIR, not 'a='" -- \
    cstow -d stow -t t --package-target=a= a
fresh_case opt-replace-dotdot 1 "--replace path '../x' contains '..'" -- \
    cstow -d stow -t t --replace=../x a
fresh_case opt-replace-absolute 1 "--replace path '/etc' is absolute" -- \
    cstow -d stow -t t --replace=/etc a
fresh_case opt-replace-empty 1 "--replace path '' names no file" -- \
    cstow -d stow -t t --replace= a
fresh_case opt-replace-dot 1 "--replace path './' names no file" -- \
    cstow -d stow -t t --replace=./ a
fresh_case opt-unknown 1 "Unknown option: frobnicate" -- \
    cstow -d stow -t t --frobnicate a
fresh_case opt-missing-argument 1 "Option t requires an argument" -- \
    cstow -d stow a -t
fresh_case opt-no-packages 1 "No packages to stow or unstow" -- \
    cstow -d stow -t t
fresh_case opt-no-packages-only-actions 1 "No packages to stow or unstow" -- \
    cstow -d stow -t t -D -S -R
fresh_case opt-replace-not-in-package 2 "no package holds .nothing to replace" -- \
    cstow -d stow -t t --replace=.nothing a
fresh_case opt-restore-nothing 2 "no backup run to restore in @SB@/home/.local/state/cstow/backup" -- \
    cstow -d stow -t t --restore
fresh_case opt-restore-unknown-run 2 "no-such-run" -- \
    cstow -d stow -t t --restore=no-such-run
# Another run holds the lock of the target (flock(1) on its lock file,
# which is there before: the run under test changes nothing at all).
fresh
: >"$sb/t/.cstow-lock"
case_run opt-no-wait-target-locked 2 "another run holds the lock on $sb/t; not waiting (--no-wait)" -- \
    flock t/.cstow-lock cstow --no-wait -d stow -t t a

# ===========================================================================
# cstow-entrypoint's own inputs.

fresh_case entry-no-dotfiles 0 "no dotfiles directory at @SB@/home/dotfiles; nothing to link" -- \
    cstow-entrypoint true
fresh_case entry-dotfiles-is-file 0 "no dotfiles directory at @SB@/afile; nothing to link" -- \
    CSTOW_DIR=@SB@/afile cstow-entrypoint true
fresh_case entry-no-dotfiles-strict 0 "no dotfiles directory at @SB@/none" -- \
    CSTOW_DIR=@SB@/none CSTOW_STRICT=1 cstow-entrypoint
fresh_case entry-bad-conflict 1 "CSTOW_CONFLICT must be fail, adopt or backup, not 'maybe'" -- \
    CSTOW_DIR=@SB@/stow CSTOW_TARGET=@SB@/t CSTOW_CONFLICT=maybe \
    CSTOW_STRICT=1 cstow-entrypoint true
fresh_case entry-command-not-found 127 "cstow-no-such-command" -- \
    CSTOW_DIR=@SB@/none cstow-entrypoint cstow-no-such-command

end_sandbox

if [ "$skipped" -gt 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
