#!/usr/bin/env bash
# root.sh: cstow and cstow-entrypoint run as root over a user's files.
#
# Usage: tests/root.sh [CSTOW_BINARY]
#
# CSTOW_BINARY defaults to cli/cstow under the repository root (or to
# $CSTOW_BINARY); cstow-entrypoint is taken from beside it (or from
# $CSTOW_ENTRYPOINT_BINARY).  Needs root, unshare(1), setpriv(1),
# useradd(8) and userdel(8): the script re-executes itself in a private
# mount namespace (unshare -m), mounts a tmpfs for its scratch tree there,
# and adds two throwaway users (removed again on exit, with a trap).
#
# The attacker owns only a home directory and a dotfiles repository in
# it.  Root-owned directories of the scratch tree stand in for /etc and
# /usr/local.  Each case builds its own tree, then checks what is on
# disk afterwards: root's files unchanged (a snapshot of type, owner,
# mode, link text and content), nothing made where it must not be, the
# owners of what was made, the exit status and the message.  The cases:
#
#   1  a journal the user planted (the old journal.* files in the state
#      directory, and .cstow-journal in a target) is never carried out
#      with root's rights, nor outside its target, nor for another target
#      or a vault that is not the user's; --set-aside-journal moves it;
#   2  a MANIFEST the user wrote is not restored with root's rights, nor
#      outside its run directory; a repository's own vault (backup-dir
#      inside the stow directory, or a run shipped in a package that
#      folds ~/.local into the repository) is never restored from;
#   3  --restore does not follow a parent the user made a symlink, nor,
#      as root, a target of root's own run that the user has since made
#      a symlink;
#   4  cstow.conf targets, and a ~/.local planted as a symlink, do not let
#      the repository choose where root writes; two users are refused;
#   5  a symlinked ~/.local/state/cstow is not followed;
#   6  a root run with the user's HOME leaves nothing root-owned in the
#      home, and the user's own backups and --restore keep working;
#   7  a user cannot keep root's run waiting by flock(2) on directories,
#      nor by making the lock file first where anyone can write (a
#      sticky directory above a target root is to make), nor swap that
#      target for a symlink while root's run waits;
#   8  the vault is never put inside the repository (backup-dir there,
#      or a ~/.local folded into it);
#   9  cstow-entrypoint as root links a user's home as that user, runs
#      the command as root with its exit status, and the user can restore;
#  10  a system user without a writable home (or without HOME), and root
#      with HOME=/nonexistent, stow and unstow into a writable target and
#      make nothing in or for the home;
#  11  SIGTERM and SIGINT end a run waiting for a lock at once, changing
#      nothing; cstow-entrypoint as process 1 of a PID namespace (as in
#      a container) too, and does not start its command after it;
#  12  a target directory a user may list but not search is not taken
#      for a marked stow directory;
#  13  libstow with STOW_F_CHOWN (tests/chown_driver.c, from
#      $CSTOW_CHOWN_DRIVER): root backing up into one vault run for two
#      users' targets writes a MANIFEST owned as its run directory, and
#      gives each user their links.
#
# Checks numbered 1 to 13 above; "(setup)" checks only say that a case
# could be built.  Each case passes with the design described in
# cstow(1) and fails with the design before it (journals in the state
# directory, locks on directories, root writing with its own rights).
#
# Prints "ok N - what" or "not ok N - what" (with "  # " detail lines)
# per check, then "N passed, N failed"; exits non-zero when a check
# failed or the suite cannot run: a suite that cannot run never passes.
# CSTOW_TEST_KEEP=1 keeps the scratch tree (on disk, not on tmpfs).

set -u

here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)

# shellcheck source=tests/progs.sh
. "$here/progs.sh" root.sh "${1:-}"

if [ "${CSTOW_ROOT_INNER:-}" != 1 ]; then
	for p in setpriv useradd userdel flock timeout; do
		command -v "$p" >/dev/null 2>&1 || cannot_run "$p is not installed"
	done
fi
enter_mount_namespace CSTOW_ROOT_INNER "(it adds users and runs cstow as root)"

# In the private mount namespace from here on.

umask 022
base=$(mktemp -d "${TMPDIR:-/tmp}/cstow-root.XXXXXX") || cannot_run "mktemp failed"
base=$(cd -- "$base" && pwd -P)
chmod 755 "$base"
users=()
holders=()		# PIDs of lock holders and runs this script started

cleanup() {
	local p u
	for p in "${holders[@]}"; do
		kill -KILL "$p" 2>/dev/null
	done
	wait 2>/dev/null
	for u in "${users[@]}"; do
		userdel "$u" 2>/dev/null || echo "# could not remove user $u" >&2
	done
	if [ "${CSTOW_TEST_KEEP:-0}" = 1 ]; then
		echo "# scratch tree kept: $base"
	else
		umount "$base" 2>/dev/null
		rm -rf -- "$base"
	fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

if [ "${CSTOW_TEST_KEEP:-0}" != 1 ]; then
	mount -t tmpfs -o size=64m,mode=0755 cstow-root "$base" ||
		cannot_run "mount -t tmpfs failed"
fi

# Copies of the programs, where every user can run them, so that a
# rebuild while the suite runs does not pull them from under it.
bin=$base/bin
mkdir "$bin"
cp -- "$binary" "$bin/cstow" && cp -- "$entrypoint" "$bin/cstow-entrypoint" ||
	cannot_run "cannot copy the programs"
chmod 755 "$bin/cstow" "$bin/cstow-entrypoint"

# Two users with no home of their own (each case gives them one).
mkuser() {	# mkuser NAME
	useradd -M -U -d /nonexistent -s /bin/sh "$1" >/dev/null 2>&1 ||
		cannot_run "useradd $1 failed"
	users+=("$1")
}
suffix=$(printf '%05d' $(($$ % 100000)))
U=cstu$suffix
V=cstv$suffix
mkuser "$U"
mkuser "$V"
uid=$(id -u "$U") && gid=$(id -g "$U") && uid2=$(id -u "$V") &&
    gid2=$(id -g "$V") || cannot_run "id failed"

mkdir "$base/ready" && chown "$U" "$base/ready"	# lock holders say so here

# shellcheck source=tests/tap.sh
. "$here/tap.sh"
tap_context() { printf 'status %s\nstderr: %s\n' "$status" "$err" | head -c 2000; }

# run WHO [NAME=VALUE...] -- COMMAND...: runs COMMAND as WHO (root, or
# u and v, the two users) with a clean environment plus the NAME=VALUE
# words, from $base; stdout, stderr and status land in $out, $err and
# $status.  A run is killed after $run_timeout seconds (status 137).
out=
err=
status=
run_timeout=20
run() {
	local who=$1
	local -a envs=() pre=()
	shift
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		envs+=("$1")
		shift
	done
	shift
	case $who in
	root)	;;
	u)	pre=(setpriv --reuid="$uid" --regid="$gid" --init-groups) ;;
	v)	pre=(setpriv --reuid="$uid2" --regid="$gid2" --init-groups) ;;
	esac
	{
		(
			cd "$base" &&
			exec ${pre[@]+"${pre[@]}"} env -i \
			    PATH="$bin:/usr/bin:/bin" LC_ALL=C \
			    ${envs[@]+"${envs[@]}"} \
			    timeout -s KILL "$run_timeout" "$@"
		) </dev/null >"$base/.out" 2>"$base/.err"
	} 2>/dev/null
	status=$?
	out=$(cat -- "$base/.out")
	err=$(cat -- "$base/.err")
}

# What a tree holds: each entry's path, type, owner, mode and link text,
# and each file's SHA-256 (timestamps and directory sizes left out).
snap() {
	(
		cd -- "$1" 2>/dev/null || { echo "(no $1)"; exit 0; }
		find . -printf '%p|%y|%u|%m|%l\n' | LC_ALL=C sort
		find . -type f -print0 | LC_ALL=C sort -z | xargs -0r sha256sum
	)
}

# check_same DESCRIPTION DIR BEFORE: DIR's snapshot is still BEFORE.
check_same() {
	local now
	now=$(snap "$2")
	if [ "$now" = "$3" ]; then ok "$1"; else not_ok "$1" \
	    "$2 changed: $(diff <(echo "$3") <(echo "$now") | grep '^[<>]')" \
	    "status $status" "stderr: $err"; fi
}

is_link_to() {	# is_link_to LINK FILE: LINK is a symlink resolving to FILE
	[ -L "$1" ] && [ "$(readlink -f -- "$1")" = "$(readlink -f -- "$2")" ]
}
content_is() { [ -f "$1" ] && [ ! -L "$1" ] && [ "$(cat -- "$1")" = "$2" ]; }
owner_of() { stat -c %U -- "$1" 2>/dev/null; }
# Every entry below (and including) DIR is owned by the user.
all_users() { [ -z "$(find "$1" ! -user "$U" -print 2>/dev/null)" ]; }
has() { grep -qF -- "$2" <<<"$1"; }
# Is the status a failure (not 0, not the timeout's kill)?
refused() { [ "$status" != 0 ] && [ "$status" != 137 ]; }

# new_case NAME: a fresh tree $c with the user's home $H (0755) holding
# a repository $R, and $E, a root-owned directory standing in for /etc
# with a 0600 secret and a 0644 file.  chown_home gives $H to the user
# once the case has filled it.
new_case() {
	c=$base/$1
	H=$c/home
	R=$H/dotfiles
	E=$c/etc
	mkdir -p "$c" "$H" "$R" "$E"
	echo 'root secret' >"$E/secret"
	chmod 600 "$E/secret"
	echo 'root config' >"$E/conf"
	echo "# $1"
}
chown_home() { chown -R "$U:$U" "$H"; }

# A background lock holder: hold WHO FILE-OR-DIR (bash opens it, flock(1)
# locks the open file, then bash becomes sleep, keeping it).  Waits until
# it holds the lock; its PID is in $holder.
holder=
hold() {
	local who=$1 what=$2 ready=$base/ready/$RANDOM i
	local -a pre=()
	case $who in
	u) pre=(setpriv --reuid="$uid" --regid="$gid" --init-groups) ;;
	esac
	if [ -d "$what" ]; then
		${pre[@]+"${pre[@]}"} bash -c 'exec 9<"$1" && flock 9 && : >"$2" && exec sleep 60' \
		    sh "$what" "$ready" </dev/null >/dev/null 2>&1 &
	else
		${pre[@]+"${pre[@]}"} bash -c 'exec 9>>"$1" && flock 9 && : >"$2" && exec sleep 60' \
		    sh "$what" "$ready" </dev/null >/dev/null 2>&1 &
	fi
	holder=$!
	holders+=("$holder")
	for i in $(seq 1 100); do
		[ -e "$ready" ] && break
		sleep 0.05
	done
	rm -f -- "$ready"
}
forget() {	# forget PID: a process of ours that has been waited for
	local p keep=()
	for p in "${holders[@]}"; do
		[ "$p" = "$1" ] || keep+=("$p")
	done
	holders=(${keep[@]+"${keep[@]}"})
}
release() {	# release PID: stops a holder (or run) this script started
	kill -KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	forget "$1"
}

# A run in the background, as root (bg_start [NAME=VALUE...] COMMAND...,
# from $base, with a clean environment); bg_end TICKS waits up to TICKS
# tenths of a second for it to end, then sets $status, $out and $err
# (non-zero when it has not ended); bg_stop kills it.
bg_pid=
bg_start() {
	(
		cd "$base" && exec env -i PATH="$bin:/usr/bin:/bin" LC_ALL=C "$@"
	) </dev/null >"$base/.bgout" 2>"$base/.bgerr" &
	bg_pid=$!
	holders+=("$bg_pid")
}
bg_end() {
	local i
	for ((i = 0; i < $1 * 2; i++)); do
		kill -0 "$bg_pid" 2>/dev/null || break
		sleep 0.05
	done
	kill -0 "$bg_pid" 2>/dev/null && return 1
	wait "$bg_pid"
	status=$?
	forget "$bg_pid"
	out=$(cat -- "$base/.bgout")
	err=$(cat -- "$base/.bgerr")
	return 0
}
bg_stop() {
	kill -KILL "$bg_pid" 2>/dev/null
	wait "$bg_pid" 2>/dev/null
	status=$?
	forget "$bg_pid"
	out=$(cat -- "$base/.bgout")
	err=$(cat -- "$base/.bgerr")
}
# bg_start_init [NAME=VALUE...] COMMAND...: as bg_start, but COMMAND is
# process 1 of a new PID namespace, as a container's entrypoint is; its
# PID (outside) is $bg_init, where a container's stop signal goes.
bg_init=
bg_start_init() {
	local i
	(
		cd "$base" && exec unshare --pid --kill-child env -i \
		    PATH="$bin:/usr/bin:/bin" LC_ALL=C "$@"
	) </dev/null >"$base/.bgout" 2>"$base/.bgerr" &
	bg_pid=$!
	holders+=("$bg_pid")
	bg_init=
	for i in $(seq 1 40); do
		bg_init=$(cat "/proc/$bg_pid/task/$bg_pid/children" 2>/dev/null)
		bg_init=${bg_init%% *}
		[ -n "$bg_init" ] && break
		sleep 0.05
	done
}

# The old journal format (cstow-journal 3) and the current one: one step
# line, "S KIND MODE PATH LINK DEST SWAPPED DEV INO".  Kinds: 1 mkdir,
# 2 rmdir, 3 link, 4 unlink, 5 move, 6 backup.  Undoing an unlink makes
# the link PATH -> LINK; undoing a move moves DEST back to PATH.
step() { printf 'S\t%s\t0\t%s\t%s\t%s\t\t0\t0\t0\t0\nE\n' "$1" "$2" "$3" "$4"; }

echo "# scratch: $base; users $U ($uid) and $V ($uid2)"
echo "# cstow: $binary"

# ===========================================================================
# 1. Planted journals.  The old design recovered every journal.* in the
#    state directory, wherever its target, vault and steps pointed; a
#    journal is now .cstow-journal in its target, recovered only when it
#    is the caller's own, for that target, with steps inside it.

plant_old_journals() {	# journal.* files in ~/.local/state/cstow
	mkdir -p "$H/.local/state/cstow"
	{
		printf 'cstow-journal 3\t%s\t\n' "$H"
		step 4 "$E/evil" "$H/payload" ""
		step 5 "$E/planted" "" "$H/userfile"
		step 5 "$H/stolen" "" "$E/secret"
		step 4 "$H/made-by-journal" "$H/payload" ""
	} >"$H/.local/state/cstow/journal.20260101T000000.000000Z-1.0"
}

new_case journal-state-dir
mkdir -p "$R/pkg"
echo pkg >"$R/pkg/.foo"
echo 'user data' >"$H/userfile"
plant_old_journals
chown_home
before=$(snap "$E")
run root HOME="$H" -- cstow -d "$R" -t "$H" pkg
check_same "1 planted journal.* (cstow as root, HOME=~): root-owned dir unchanged (no link, no file moved in or out)" \
    "$E" "$before"
check "1 planted journal.*: no root file moved into the home" [ ! -e "$H/stolen" ]
check "1 planted journal.*: the user's file stays" content_is "$H/userfile" 'user data'
check "1 planted journal.*: not carried out at all, not even as the user (no ~/made-by-journal)" \
    [ ! -L "$H/made-by-journal" ]
checkx "1 planted journal.*: the run stows (exit 0), its link the user's" \
    '[ "$status" = 0 ] && is_link_to "$H/.foo" "$R/pkg/.foo" && [ "$(owner_of "$H/.foo")" = "$U" ]'

new_case journal-state-dir-entrypoint
mkdir -p "$R/pkg"
echo pkg >"$R/pkg/.foo"
echo 'user data' >"$H/userfile"
plant_old_journals
chown_home
before=$(snap "$E")
run root HOME="$H" CSTOW_STRICT=1 -- cstow-entrypoint
check_same "1 planted journal.* (cstow-entrypoint as root): root-owned dir unchanged" \
    "$E" "$before"
checkx "1 planted journal.* (cstow-entrypoint): nothing moved, the run links (exit 0)" \
    '[ ! -e "$H/stolen" ] && content_is "$H/userfile" "user data" && [ "$status" = 0 ] && is_link_to "$H/.foo" "$R/pkg/.foo"'

# A .cstow-journal in the target naming a path outside it (absolute):
# refused, nothing done in that target, until --set-aside-journal.
new_case journal-absolute
mkdir -p "$R/pkg"
echo pkg >"$R/pkg/.foo"
{
	printf 'cstow-journal 5\t%s\t\t1\tdotfiles\n' "$H"
	step 4 "$E/evil" "$H/payload" ""
} >"$H/.cstow-journal"
chmod 600 "$H/.cstow-journal"
chown_home
before=$(snap "$E")
run root HOME="$H" -- cstow -d "$R" -t "$H" pkg
check_same "1 .cstow-journal with an absolute step (root, HOME=~): root-owned dir unchanged" \
    "$E" "$before"
checkx "1 .cstow-journal with an absolute step: refused, exit 2, nothing done in the target" \
    '[ "$status" = 2 ] && [ ! -e "$H/.foo" ] && [ ! -L "$H/.foo" ]'
checkx "1 .cstow-journal with an absolute step: the message names the journal line and --set-aside-journal" \
    'has "$err" "$H/.cstow-journal:2: a step this journal may not hold: refused" && has "$err" "--set-aside-journal"'
run root HOME="$H" -- cstow --set-aside-journal -d "$R" -t "$H" pkg
checkx "1 --set-aside-journal: exit 0, the package linked, the journal kept aside (the user's)" \
    '[ "$status" = 0 ] && is_link_to "$H/.foo" "$R/pkg/.foo" && [ ! -e "$H/.cstow-journal" ] &&
     a=$(ls -d "$H"/.cstow-journal.aside-* 2>/dev/null) && [ "$(owner_of "$a")" = "$U" ]'
check_same "1 --set-aside-journal: root-owned dir still unchanged" "$E" "$before"

# journal_case DESC MESSAGE: with $H/t/.cstow-journal (made by the
# caller, then given to the user) the user's target $H/t refuses to run;
# $H/outside and $H/t/x and $H/other/x are never made.
journal_case() {
	local desc=$1 msg=$2
	run root HOME="$H" -- cstow -d "$R" -t "$H/t" pkg
	checkx "1 $desc: refused (exit 2), nothing done" \
	    '[ "$status" = 2 ] && [ ! -L "$H/t/.foo" ] && [ ! -e "$H/outside" ] && [ ! -L "$H/outside" ] &&
	     [ ! -L "$H/other/x" ] && [ ! -e "$H/t/item" ]'
	check "1 $desc: message" has "$err" "$msg"
}
journal_setup() {
	new_case "journal-$1"
	mkdir -p "$R/pkg" "$H/t" "$H/other" "$c/vault"
	echo pkg >"$R/pkg/.foo"
	echo 'in the vault' >"$c/vault/item"
}
journal_setup dotdot
{
	printf 'cstow-journal 5\t%s\t\t1\t../dotfiles\n' "$H/t"
	step 4 "../outside" "$H/payload" ""
} >"$H/t/.cstow-journal"
chmod 600 "$H/t/.cstow-journal"
chown_home
journal_case "a journal step with '..'" \
    "$H/t/.cstow-journal:2: a step this journal may not hold: refused"

journal_setup other-target
{
	printf 'cstow-journal 5\t%s\t\t1\t../dotfiles\n' "$H/other"
	step 4 "x" "$H/payload" ""
} >"$H/t/.cstow-journal"
chmod 600 "$H/t/.cstow-journal"
chown_home
journal_case "a journal naming another target" \
    "a journal for $H/other, not for $H/t: refused"

journal_setup vault
{
	printf 'cstow-journal 5\t%s\t%s\t1\t../dotfiles\n' "$H/t" "$c/vault"
	step 6 "item" "" "item"
} >"$H/t/.cstow-journal"
chmod 600 "$H/t/.cstow-journal"
chown_home
chown "$U:$U" "$c/vault" "$c/vault/item"
chmod 777 "$c/vault"
journal_case "a journal naming a vault others can write" \
    "its vault $c/vault is not this user's own: refused"

journal_setup foreign
{
	printf 'cstow-journal 5\t%s\t\t1\t../dotfiles\n' "$H/t"
	step 4 "../outside" "$H/payload" ""
} >"$H/t/.cstow-journal"
chown_home
chown "$V:$V" "$H/t/.cstow-journal"
journal_case "a journal owned by another user" \
    "$H/t/.cstow-journal: not a journal of this user's (owned by uid $uid2"

journal_setup writable
{
	printf 'cstow-journal 5\t%s\t\t1\t../dotfiles\n' "$H/t"
	step 4 "x" "$H/payload" ""
} >"$H/t/.cstow-journal"
chmod 666 "$H/t/.cstow-journal"
chown_home
journal_case "a journal others can write" \
    "not a journal of this user's (owned by uid $uid, mode 0666)"

journal_setup hardlink
{
	printf 'cstow-journal 5\t%s\t\t1\t../dotfiles\n' "$H/t"
	step 4 "x" "$H/payload" ""
} >"$H/t/.cstow-journal"
chmod 600 "$H/t/.cstow-journal"
ln "$H/t/.cstow-journal" "$H/second-name"
chown_home
journal_case "a journal with a second name" \
    "not a journal of this user's"

# ===========================================================================
# 2. Planted or altered MANIFEST.  A restore moves only items whose vault
#    path is inside the run directory and whose original is inside the
#    target on its line, with the caller's rights; and never from a vault
#    inside the repository.

manifest_line() {	# manifest_line VAULT-PATH ORIGINAL [TARGET]
	printf 'f\t0644\t5\t-\t%s\t%s%s\n' "$1" "$2" "${3:+	$3}"
}
# plant_run RUN-DIR: a run directory holding the file "payload".
plant_run() {
	mkdir -p "$1"
	chmod 700 "$1"
	echo 'user payload' >"$1/payload"
}

new_case manifest-planted
mkdir -p "$R/pkg"
run_dir=$H/.local/state/cstow/backup/20260101T000000.000000Z-1
plant_run "$run_dir"
{
	manifest_line payload "$E/planted"
	manifest_line ../../../../../../etc/secret "$H/stolen"
} >"$run_dir/MANIFEST"
chmod 600 "$run_dir/MANIFEST"
chown_home
before=$(snap "$E")
run root HOME="$H" -- cstow -d "$R" -t "$H" --restore
check_same "2 planted MANIFEST (--restore as root, HOME=~): root-owned dir unchanged" "$E" "$before"
checkx "2 planted MANIFEST: no root file moved into the home, the payload stays in the vault" \
    '[ ! -e "$H/stolen" ] && content_is "$run_dir/payload" "user payload"'
checkx "2 planted MANIFEST: refused (exit 2) with a message naming the line" \
    '[ "$status" = 2 ] && has "$err" "$run_dir/MANIFEST:1: malformed line, or one naming a path outside its vault or its target: refused"'

# The same file, its line naming the root-owned directory as its target:
# well formed, so only the user's rights keep it out.
new_case manifest-target-field
mkdir -p "$R/pkg"
run_dir=$H/.local/state/cstow/backup/20260101T000000.000000Z-1
plant_run "$run_dir"
manifest_line payload "$E/planted" "$E" >"$run_dir/MANIFEST"
chmod 600 "$run_dir/MANIFEST"
chown_home
before=$(snap "$E")
run root HOME="$H" -- cstow -d "$R" -t "$H" --restore
check_same "2 MANIFEST line whose target is a root-owned dir (--restore as root): unchanged" "$E" "$before"
checkx "2 MANIFEST line whose target is a root-owned dir: refused, the payload stays" \
    'refused && content_is "$run_dir/payload" "user payload" && has "$err" "cannot change $E"'

# A repository shipping its own vault, whose run sorts newest.
new_case manifest-repo-vault
mkdir -p "$c/st/git" "$R/git"
echo 'package gitconfig' >"$c/st/git/.gitconfig"
echo 'real gitconfig' >"$H/.gitconfig"
echo 'repo gitconfig' >"$R/git/.gitconfig"
printf '[cstow]\n\tbackup-dir = .vault\n' >"$R/cstow.conf"
evil=$R/.vault/29991231T235959.999999Z-1
plant_run "$evil"
mkdir -p "$evil/.ssh"
echo 'ssh-ed25519 AAAA attacker' >"$evil/.ssh/authorized_keys"
manifest_line .ssh/authorized_keys "$H/.ssh/authorized_keys" >"$evil/MANIFEST"
chmod 600 "$evil/MANIFEST"
chown_home
# The user's real backup, made by the user's own run.
run u HOME="$H" -- cstow -d "$c/st" -t "$H" --conflict=backup git
real_run=$(ls -d "$H"/.local/state/cstow/backup/*/ 2>/dev/null | head -n 1)
checkx "2 (setup) the user's own backup run: exit 0, one run in the vault" \
    '[ "$status" = 0 ] && [ -n "$real_run" ] && [ -f "$real_run/MANIFEST" ]'
run u HOME="$H" -- cstow -d "$R" --restore
checkx "2 a repository's own vault (backup-dir = .vault): --restore writes no ~/.ssh/authorized_keys" \
    '[ ! -e "$H/.ssh/authorized_keys" ] && [ ! -e "$H/.ssh" ]'
checkx "2 a repository's own vault: refused (exit 2), naming the stow directory" \
    '[ "$status" = 2 ] && has "$err" "would be inside the stow directory"'
run root HOME="$H" -- cstow -d "$R" --restore
checkx "2 a repository's own vault, --restore as root (HOME=~): refused, no ~/.ssh" \
    'refused && [ ! -e "$H/.ssh" ] && has "$err" "would be inside the stow directory"'
checkx "2 a repository's own vault: the real backup is untouched" \
    '[ -f "$real_run/MANIFEST" ] && content_is "$real_run/.gitconfig" "real gitconfig"'

# The same vault shipped as a package: stowing the repository folds
# ~/.local into it (as GNU Stow users' ~/.local often is), so the default
# vault, ~/.local/state/cstow/backup, leads into the repository.
folded_vault() {	# folded_vault NAME: a repository shipping a vault, stowed
	new_case "$1"
	evil=$R/state/.local/state/cstow/backup/29991231T235959.999999Z-1
	mkdir -p "$evil/.ssh" "$R/git"
	echo 'ssh-ed25519 AAAA attacker' >"$evil/.ssh/authorized_keys"
	manifest_line .ssh/authorized_keys "$H/.ssh/authorized_keys" >"$evil/MANIFEST"
	echo 'repo gitconfig' >"$R/git/.gitconfig"
	chown_home
	run u HOME="$H" -- cstow -d "$R" -t "$H" --all
	checkx "2 (setup) stowing the repository folds ~/.local into it" \
	    '[ "$status" = 0 ] && is_link_to "$H/.local" "$R/state/.local"'
}
folded_vault manifest-folded-vault-root
run root HOME="$H" -- cstow -d "$R" --restore
checkx "2 a vault shipped in the repository, reached through the folded ~/.local: --restore as root (HOME=~) writes no ~/.ssh" \
    'refused && [ ! -e "$H/.ssh" ] && [ -f "$evil/MANIFEST" ]'
folded_vault manifest-folded-vault-user
run u HOME="$H" -- cstow -d "$R" --restore
checkx "2 ... nor the user's own --restore" \
    'refused && [ ! -e "$H/.ssh" ] && [ -f "$evil/MANIFEST" ]'

# ===========================================================================
# 3. Symlinked parents on restore: a directory above an item that the
#    user made a symlink since the backup is never followed.

restore_setup() {	# a backed-up ~/.config/app/rc, then ~/.config -> $1
	mkdir -p "$R/app/.config/app" "$H/.config/app"
	echo 'package rc' >"$R/app/.config/app/rc"
	echo 'local rc' >"$H/.config/app/rc"
	chown_home
	run u HOME="$H" -- cstow -d "$R" -t "$H" --conflict=backup app
	run_dir=$(ls -d "$H"/.local/state/cstow/backup/*/ 2>/dev/null | head -n 1)
	checkx "3 (setup) backup of ~/.config/app/rc: exit 0" \
	    '[ "$status" = 0 ] && [ -n "$run_dir" ] && content_is "$run_dir/.config/app/rc" "local rc"'
	mv "$H/.config" "$H/config.moved"
	ln -s "$1" "$H/.config"
	chown -h "$U:$U" "$H/.config"
}

new_case restore-symlink-home
mkdir -p "$H/elsewhere"
restore_setup elsewhere
run root HOME="$H" -- cstow -d "$R" -t "$H" --restore
checkx "3 --restore (root, HOME=~) with ~/.config now a symlink to ~/elsewhere: nothing written there" \
    '[ -z "$(ls -A "$H/elsewhere")" ]'
checkx "3 ... refused (exit 1) with the message, the item still in the vault" \
    '[ "$status" = 1 ] && has "$err" "cannot restore $H/.config/app/rc: a directory above it is a symbolic link" &&
     content_is "$run_dir/.config/app/rc" "local rc"'

new_case restore-symlink-etc
restore_setup "$E"
before=$(snap "$E")
run root HOME="$H" -- cstow -d "$R" -t "$H" --restore
check_same "3 --restore (root, HOME=~) with ~/.config now a symlink to a root-owned dir: unchanged" "$E" "$before"
checkx "3 ... refused, the item still in the vault" \
    'refused && content_is "$run_dir/.config/app/rc" "local rc"'

# Root's own backup run, into a directory root owned then; the directory
# above it has since been handed to the user, who makes the target a
# symlink.  Root's --restore must not follow it (nor act as root there).
new_case restore-root-run
mkdir -p "$c/rstow/app" "$c/srv/app/conf" "$c/roothome"
chmod 700 "$c/roothome"
echo 'package app.conf' >"$c/rstow/app/app.conf"
echo 'root app.conf' >"$c/srv/app/conf/app.conf"
run root HOME="$c/roothome" -- cstow -d "$c/rstow" -t "$c/srv/app/conf" --conflict=backup app
checkx "3 (setup) root backs up a file of a root-owned target: exit 0" \
    '[ "$status" = 0 ] && [ -n "$(ls "$c"/roothome/.local/state/cstow/backup/*/app.conf 2>/dev/null)" ]'
chown -R "$U:$U" "$c/srv/app"
mv "$c/srv/app/conf" "$c/srv/app/conf.old"
ln -s "$E" "$c/srv/app/conf"
chown -h "$U:$U" "$c/srv/app/conf"
before=$(snap "$E")
run root HOME="$c/roothome" -- cstow -d "$c/rstow" --restore
check_same "3 root's --restore into a target the user has since made a symlink (to a root-owned dir): unchanged" \
    "$E" "$before"

# ===========================================================================
# 4. The repository chooses root's target: cstow.conf's targets, and a
#    ~/.local planted as a symlink, name where the run writes; the run is
#    the user's, and cannot write where the user cannot.

new_case conf-target-entrypoint
mkdir -p "$R/sys"
echo 'user conf' >"$R/sys/conf"
echo 'user file' >"$R/sys/newfile"
printf '[package "sys"]\n\ttarget = %s\n' "$E" >"$R/cstow.conf"
chown_home
before=$(snap "$E")
run root HOME="$H" CSTOW_STRICT=1 -- cstow-entrypoint
check_same "4 [package] target = root-owned dir (cstow-entrypoint as root): unchanged" "$E" "$before"
checkx "4 ... refused (exit 2): cannot change it, nothing changed" \
    '[ "$status" = 2 ] && has "$err" "cannot change $E"'
check "4 ... nothing root-owned left in the home" all_users "$H"

new_case conf-target-sudo-h
mkdir -p "$R/sys" "$c/roothome"
chmod 700 "$c/roothome"
echo 'user conf' >"$R/sys/conf"
echo 'user file' >"$R/sys/newfile"
printf '[cstow]\n\tconflict = backup\n[package "sys"]\n\ttarget = %s\n' "$E" >"$R/cstow.conf"
chown_home
before=$(snap "$E")
run root HOME="$c/roothome" -- cstow -d "$R" --all
check_same "4 [package] target = root-owned dir (cstow --all as root, HOME=root's): unchanged" "$E" "$before"
checkx "4 ... refused, root's home untouched" \
    'refused && [ -z "$(ls -A "$c/roothome")" ]'

new_case local-symlink
mkdir -p "$R/scripts" "$c/usrlocal"
printf '#!/bin/sh\necho hello\n' >"$R/scripts/hello"
chmod 755 "$R/scripts/hello"
printf '[cstow]\n\ttarget = ~\n[package "scripts"]\n\ttarget = ~/.local/bin\n' >"$R/cstow.conf"
ln -s "$c/usrlocal" "$H/.local"
chown_home
chown -h "$U:$U" "$H/.local"
before=$(snap "$c/usrlocal")
run root HOME="$H" CSTOW_STRICT=1 -- cstow-entrypoint
check_same "4 target = ~/.local/bin, ~/.local a symlink to a root-owned dir (entrypoint as root): unchanged" \
    "$c/usrlocal" "$before"
checkx "4 ... refused" 'refused'

new_case two-users
mkdir -p "$R/x/bin" "$c/vhome"
echo tool >"$R/x/bin/tool"
chown "$V:$V" "$c/vhome"
printf '[package "x"]\n\ttarget = %s\n' "$c/vhome" >"$R/cstow.conf"
chown_home
before=$(snap "$c/vhome")
run root HOME="$H" -- cstow -d "$R" x
check_same "4 a package target in another user's home (cstow as root, HOME=~): unchanged" "$c/vhome" "$before"
checkx "4 ... refused as a run for two users" \
    'refused && has "$err" "refusing to run as root for two users"'

# ===========================================================================
# 5. A symlinked state directory: ~/.local/state/cstow -> a root-owned
#    directory.  The vault is reached without following symlinks below
#    HOME, so nothing is made where it points.

state_setup() {
	mkdir -p "$R/git" "$H/.local/state" "$E/state"
	echo 'repo gitconfig' >"$R/git/.gitconfig"
	echo 'token=hunter2' >"$H/.gitconfig"
	ln -s "$E/state" "$H/.local/state/cstow"
	chown_home
	chown -h "$U:$U" "$H/.local/state/cstow"
}

new_case state-symlink-entrypoint
state_setup
before=$(snap "$E")
run root HOME="$H" CSTOW_STRICT=1 -- cstow-entrypoint
check_same "5 ~/.local/state/cstow a symlink to a root-owned dir (entrypoint as root, a backup needed): unchanged" \
    "$E" "$before"
checkx "5 ... refused (exit 2), ~/.gitconfig kept, the message names the symlink" \
    '[ "$status" = 2 ] && content_is "$H/.gitconfig" "token=hunter2" && has "$err" "is a symbolic link or no directory"'

new_case state-symlink-cstow
state_setup
before=$(snap "$E")
run root HOME="$H" -- cstow -d "$R" -t "$H" --conflict=backup git
check_same "5 ~/.local/state/cstow a symlink (cstow --conflict=backup as root): unchanged" "$E" "$before"
checkx "5 ... refused (exit 2), ~/.gitconfig kept" \
    '[ "$status" = 2 ] && content_is "$H/.gitconfig" "token=hunter2"'
rm -f "$H/.gitconfig"
run root HOME="$H" -- cstow -d "$R" -t "$H" git
checkx "5 ... a run with nothing to back up still links (exit 0), and writes nothing there" \
    '[ "$status" = 0 ] && is_link_to "$H/.gitconfig" "$R/git/.gitconfig" && [ "$before" = "$(snap "$E")" ]'

# ===========================================================================
# 6. Vault ownership: a root run with the user's HOME (sudo keeping HOME)
#    leaves nothing of root's in the home, and the user's own backups and
#    restores keep working afterwards.

new_case vault-owner
mkdir -p "$c/rstow/tool/bin" "$c/usrlocal/bin" "$R/git"
echo 'package tool' >"$c/rstow/tool/bin/tool"
echo 'root tool' >"$c/usrlocal/bin/tool"
echo 'repo gitconfig' >"$R/git/.gitconfig"
echo 'user gitconfig' >"$H/.gitconfig"
chown_home
before=$(snap "$c/usrlocal")
run root HOME="$H" -- cstow -d "$c/rstow" -t "$c/usrlocal" --conflict=backup tool
check "6 root run with HOME=~ into a root-owned target: nothing root-owned made in the home" \
    all_users "$H"
check_same "6 ... the root-owned target is unchanged" "$c/usrlocal" "$before"
run u HOME="$H" -- cstow -d "$R" -t "$H" --conflict=backup git
checkx "6 the user's own backup run afterwards: exit 0, ~/.gitconfig linked" \
    '[ "$status" = 0 ] && is_link_to "$H/.gitconfig" "$R/git/.gitconfig"'
run u HOME="$H" -- cstow -d "$R" -t "$H" --restore
checkx "6 the user's own --restore afterwards: exit 0, ~/.gitconfig back" \
    '[ "$status" = 0 ] && content_is "$H/.gitconfig" "user gitconfig"'
checkx "6 the vault: the user's, 0700" \
    'v=$H/.local/state/cstow/backup && [ "$(stat -c %U:%a "$v")" = "$U:700" ] && all_users "$H/.local"'

# ===========================================================================
# 7. Lock holding: a user who can open the target and stow directories
#    flock(2)s them; root's run does not wait for that.

new_case lock-dirs
mkdir -p "$c/rstow/tool/bin" "$c/usrlocal"
echo 'package tool' >"$c/rstow/tool/bin/tool"
hold u "$c/usrlocal"
h1=$holder
hold u "$c/rstow"
h2=$holder
hold u "$c"
h3=$holder
run_timeout=5
run root HOME="$c" -- cstow -d "$c/rstow" -t "$c/usrlocal" tool
run_timeout=20
checkx "7 a user holding flock on root's target and stow directories: root's run does not wait (exit 0)" \
    '[ "$status" = 0 ] && is_link_to "$c/usrlocal/bin" "$c/rstow/tool/bin"'
checkx "7 ... and leaves no lock file behind, root's link root's" \
    '[ ! -e "$c/usrlocal/.cstow-lock" ] && [ "$(owner_of "$c/usrlocal/bin")" = root ]'
run u -- bash -c ': >"$1/.cstow-lock"' sh "$c/usrlocal"
check "7 ... the user cannot make the lock file in root's target" [ ! -e "$c/usrlocal/.cstow-lock" ]
release "$h1"; release "$h2"; release "$h3"

new_case lock-entrypoint
mkdir -p "$R/pkg"
echo pkg >"$R/pkg/.foo"
chown_home
hold u "$H"
h1=$holder
hold u "$R"
h2=$holder
run_timeout=5
run root HOME="$H" CSTOW_STRICT=1 -- cstow-entrypoint sh -c 'echo started'
run_timeout=20
checkx "7 the user holding flock on ~ and ~/dotfiles: the entrypoint as root does not wait" \
    '[ "$status" = 0 ] && [ "$out" = started ] && is_link_to "$H/.foo" "$R/pkg/.foo"'
release "$h1"; release "$h2"

# Root's run whose target does not exist yet locks the directory it will
# make it in.  Below a directory anyone can write (a sticky /tmp), another
# user can make that lock file first, hold it, and meanwhile put a
# symlink where the target is to be made.
new_case lock-sticky
mkdir -p "$c/rstow/tool/bin" "$c/tmp"
chmod 1777 "$c/tmp"
echo 'package tool' >"$c/rstow/tool/bin/tool"
run u -- bash -c 'umask 0 && : >>"$1/.cstow-lock"' sh "$c/tmp"
hold u "$c/tmp/.cstow-lock"
h1=$holder
hold u "$c/tmp"			# the old design's lock: the directory
h2=$holder
before=$(snap "$E")
bg_start HOME="$c" cstow -d "$c/rstow" --package-target=tool="$c/tmp/x" tool
if bg_end 20; then ended=1; else ended=0; status=running; err=$(cat -- "$base/.bgerr"); fi
checkx "7 a lock file another user made in a sticky dir (above root's missing target): root's run does not wait for it" \
    '[ $ended = 1 ]'
run u -- ln -s "$E" "$c/tmp/x"
release "$h1"; release "$h2"
[ $ended = 1 ] || bg_end 50 || bg_stop
check_same "4 ... nor, while it waits, follow the symlink the user puts where its target is to be made: root-owned dir unchanged" \
    "$E" "$before"

# ===========================================================================
# 8. The vault inside the repository: refused, whether backup-dir puts it
#    there or a ~/.local folded into the repository leads there.

new_case vault-backup-dir
mkdir -p "$R/git"
echo 'repo gitconfig' >"$R/git/.gitconfig"
echo 'token=ghp_SECRET123' >"$H/.gitconfig"
printf '[cstow]\n\tbackup-dir = backup\n\tconflict = backup\n' >"$R/cstow.conf"
chown_home
run root HOME="$H" CSTOW_STRICT=1 -- cstow-entrypoint
checkx "8 backup-dir = backup (entrypoint as root): no vault in the repository, the token in no file of it" \
    '[ ! -e "$R/backup" ] && ! grep -rqs ghp_SECRET123 "$R"'
checkx "8 ... refused (exit 2), ~/.gitconfig kept, the message says why" \
    '[ "$status" = 2 ] && content_is "$H/.gitconfig" "token=ghp_SECRET123" && has "$err" "would be inside the stow directory"'
run u HOME="$H" -- cstow -d "$R" -t "$H" --all
checkx "8 ... a later --all stows no 'backup' package" \
    '[ -z "$(find "$H" -lname "*dotfiles/backup*")" ]'

# The same with a path that leaves a directory not made yet by '..'.
new_case vault-backup-dir-dotdot
mkdir -p "$R/git"
echo 'repo gitconfig' >"$R/git/.gitconfig"
echo 'token=ghp_SECRET123' >"$H/.gitconfig"
printf '[cstow]\n\tbackup-dir = ~/nothere/../dotfiles/backup\n\tconflict = backup\n' >"$R/cstow.conf"
chown_home
run root HOME="$H" CSTOW_STRICT=1 -- cstow-entrypoint
checkx "8 backup-dir = ~/nothere/../dotfiles/backup (entrypoint as root): no vault in the repository, the token in no file of it" \
    '[ ! -e "$R/backup" ] && ! grep -rqs ghp_SECRET123 "$R"'
checkx "8 ... refused, ~/.gitconfig kept, nothing made in the home" \
    'refused && content_is "$H/.gitconfig" "token=ghp_SECRET123" && [ ! -e "$H/nothere" ]'

new_case vault-folded-local
mkdir -p "$R/local/.local/share/app" "$R/git"
echo data >"$R/local/.local/share/app/data"
echo 'repo gitconfig' >"$R/git/.gitconfig"
# What "stow local" leaves behind (GNU Stow, or cstow: one folded link).
ln -s dotfiles/local/.local "$H/.local"
echo 'token=ghp_SECRET123' >"$H/.gitconfig"
chown_home
chown -h "$U:$U" "$H/.local"
run u HOME="$H" -- cstow -d "$R" -t "$H" --conflict=backup git
checkx "8 ~/.local folded into the repository, a backup run: the token in no file of the repository" \
    '! grep -rqs ghp_SECRET123 "$R" && [ ! -e "$R/local/.local/state" ]'
checkx "8 ... refused (exit 2), ~/.gitconfig kept" \
    '[ "$status" = 2 ] && content_is "$H/.gitconfig" "token=ghp_SECRET123"'
run root HOME="$H" CSTOW_STRICT=1 -- cstow-entrypoint
checkx "8 ... the entrypoint as root: the same, nothing in the repository" \
    'refused && ! grep -rqs ghp_SECRET123 "$R" && [ ! -e "$R/local/.local/state" ] &&
     content_is "$H/.gitconfig" "token=ghp_SECRET123"'
rm -f "$H/.gitconfig"
run u HOME="$H" -- cstow -d "$R" -t "$H" git
checkx "8 ... a run with nothing to back up leaves no journal or lock in the repository" \
    '[ "$status" = 0 ] && [ -z "$(find "$R" -name ".cstow-*" -o -name "journal.*")" ] && [ ! -e "$R/local/.local/state" ]'

# ===========================================================================
# 9. cstow-entrypoint started as root with HOME=/home/USER on a small
#    dotfiles repository: everything it makes is the user's, the command
#    runs as root with its exit status, and the user can restore.

new_case entrypoint-home
mkdir -p "$R/nvim/.config/nvim" "$R/git" "$R/scripts" "$H/.config/nvim"
cat >"$R/cstow.conf" <<'CONF'
[cstow]
	target = ~
	conflict = backup
[package "nvim"]
	replace = .config/nvim
[package "scripts"]
	target = ~/.local/bin
CONF
echo 'repo init.lua' >"$R/nvim/.config/nvim/init.lua"
echo 'repo gitconfig' >"$R/git/.gitconfig"
printf '#!/bin/sh\necho hello\n' >"$R/scripts/hello"
chmod 755 "$R/scripts/hello"
echo 'image init.lua' >"$H/.config/nvim/init.lua"
echo 'image gitconfig' >"$H/.gitconfig"
chown_home
run root HOME="$H" -- cstow-entrypoint sh -c 'id -u; exit 7'
checkx "9 entrypoint as root: the command runs as root (id -u prints 0), its exit status (7) passes through" \
    '[ "$status" = 7 ] && [ "$out" = 0 ]'
checkx "9 ... ~/.gitconfig, ~/.config/nvim and ~/.local/bin/hello are links into the repository" \
    'is_link_to "$H/.gitconfig" "$R/git/.gitconfig" && is_link_to "$H/.config/nvim" "$R/nvim/.config/nvim" &&
     is_link_to "$H/.local/bin/hello" "$R/scripts/hello"'
check "9 ... everything in the home is the user's (links, ~/.local/bin, the vault, its files)" all_users "$H"
checkx "9 ... the directories made for the vault (~/.local/state, cstow, backup) are 0700" \
    '[ "$(stat -c %a "$H/.local/state" "$H/.local/state/cstow" "$H/.local/state/cstow/backup" | sort -u)" = 700 ]'
run_dir=$(ls -d "$H"/.local/state/cstow/backup/*/ 2>/dev/null | head -n 1)
run_dir=${run_dir%/}
checkx "9 ... the vault run (0700) holds the image's ~/.gitconfig and ~/.config/nvim" \
    '[ -n "$run_dir" ] && [ "$(stat -c %a "$run_dir")" = 700 ] &&
     content_is "$run_dir/.gitconfig" "image gitconfig" && content_is "$run_dir/.config/nvim/init.lua" "image init.lua"'
checkx "9 ... the summary names the run" \
    'has "$err" "cstow-entrypoint: linked 3, backed up 2 to $run_dir, unchanged 0,"'
run u HOME="$H" -- cstow -d "$R" --restore
checkx "9 the user's own cstow --restore afterwards: exit 0, both back" \
    '[ "$status" = 0 ] && content_is "$H/.gitconfig" "image gitconfig" &&
     [ ! -L "$H/.config/nvim" ] && content_is "$H/.config/nvim/init.lua" "image init.lua"'
check "9 ... still all the user's" all_users "$H"

# ===========================================================================
# 10. A system user whose home is not writable, or who has no HOME, and
#     root with HOME=/nonexistent, stow and unstow a package into a
#     writable target as GNU Stow would, making nothing in or for the home.

sys_setup() {	# $c/st (stow dir, with package pkg) and $c/tg, owned by $1
	mkdir -p "$c/st/pkg/bin" "$c/tg" "$c/syshome"
	echo tool >"$c/st/pkg/bin/tool"
	chown -R "$1" "$c/st" "$c/tg"
}
sys_stow_unstow() {	# sys_stow_unstow WHO DESC [NAME=VALUE...]
	local who=$1 desc=$2
	shift 2
	run "$who" "$@" -- cstow -d "$c/st" -t "$c/tg" pkg
	checkx "10 $desc: stow, exit 0" \
	    '[ "$status" = 0 ] && is_link_to "$c/tg/bin" "$c/st/pkg/bin" && [ -z "$err" ]'
	run "$who" "$@" -- cstow -d "$c/st" -t "$c/tg" -D pkg
	checkx "10 $desc: unstow, exit 0" \
	    '[ "$status" = 0 ] && [ -z "$(ls -A "$c/tg")" ] && [ -z "$err" ]'
}

new_case sys-home-readonly
sys_setup "$U"
sys_stow_unstow u "a user whose HOME is root's (0755)" HOME="$c/syshome"
check "10 ... nothing made in that HOME" [ -z "$(ls -A "$c/syshome")" ]
run u HOME="$c/syshome" CSTOW_DIR="$c/st" CSTOW_TARGET="$c/tg" -- cstow-entrypoint true
checkx "10 ... cstow-entrypoint too: exit 0, linked, nothing in HOME" \
    '[ "$status" = 0 ] && is_link_to "$c/tg/bin" "$c/st/pkg/bin" && [ -z "$(ls -A "$c/syshome")" ] &&
     ! has "$err" "failed"'

new_case sys-no-home
sys_setup "$U"
sys_stow_unstow u "a user with HOME unset"
check "10 ... nothing made in the user's passwd home (/nonexistent), or in the working directory" \
    test ! -e /nonexistent -a ! -e "$base/.local"

new_case root-nonexistent-home
sys_setup root
sys_stow_unstow root "root with HOME=/nonexistent (a path that does not exist)" HOME="$c/nonexistent"
check "10 ... the home is not made" [ ! -e "$c/nonexistent" ]

# ===========================================================================
# 11. SIGTERM to a run waiting for a lock ends it at once, with a message
#     and a failure status, changing nothing.

# sigterm_case SIGNAL DESC [--init] COMMAND...: starts COMMAND as root in
# the background (with --init as process 1 of a PID namespace, as in a
# container), waits for it to wait (its message, or 1 s), sends SIGNAL,
# and gives it 2 s to end.
sigterm_case() {
	local sig=$1 desc=$2 i target
	shift 2
	if [ "$1" = --init ]; then
		shift
		bg_start_init "$@"
		target=${bg_init:-$bg_pid}
	else
		bg_start "$@"
		target=$bg_pid
	fi
	for i in $(seq 1 20); do
		grep -q waiting "$base/.bgerr" 2>/dev/null && break
		sleep 0.05
	done
	kill -"$sig" "$target" 2>/dev/null
	if bg_end 20; then ended=1; else ended=0; bg_stop; fi
	checkx "11 $desc: SIG$sig ends the wait at once (within 2 s)" '[ $ended = 1 ]'
	checkx "11 $desc: exit non-zero, with the message" \
	    '[ $ended = 1 ] && [ "$status" != 0 ] && has "$err" "interrupted while waiting for the lock"'
}

new_case sigterm
mkdir -p "$c/rstow/tool/bin" "$c/usrlocal"
echo 'package tool' >"$c/rstow/tool/bin/tool"
# Another run holds the target: its lock file, and (for the old design)
# the directory itself.
hold root "$c/usrlocal/.cstow-lock"
h1=$holder
hold root "$c/usrlocal"
h2=$holder
before=$(snap "$c/usrlocal")
sigterm_case TERM "cstow as root" HOME="$c" cstow -d "$c/rstow" -t "$c/usrlocal" tool
check_same "11 ... nothing changed in the target" "$c/usrlocal" "$before"
sigterm_case INT "cstow as root" HOME="$c" cstow -d "$c/rstow" -t "$c/usrlocal" tool
check_same "11 ... nothing changed in the target" "$c/usrlocal" "$before"
release "$h1"; release "$h2"

new_case sigterm-entrypoint
mkdir -p "$R/pkg"
echo pkg >"$R/pkg/.foo"
chown_home
hold u "$H/.cstow-lock"
h1=$holder
hold u "$H"
h2=$holder
sigterm_case TERM "cstow-entrypoint as root, process 1 (HOME=~, the user's run holds ~)" \
    --init HOME="$H" CSTOW_STRICT=1 cstow-entrypoint
checkx "11 ... nothing linked" '[ ! -L "$H/.foo" ]'
# With a command (and no CSTOW_STRICT): a SIGTERM to process 1 while it
# links is the container being stopped, so the command is not started.
bg_start_init HOME="$H" cstow-entrypoint sh -c 'echo started; exit 0'
for i in $(seq 1 20); do
	grep -q waiting "$base/.bgerr" 2>/dev/null && break
	sleep 0.05
done
kill -TERM "${bg_init:-$bg_pid}" 2>/dev/null
if bg_end 20; then ended=1; else ended=0; bg_stop; fi
checkx "11 cstow-entrypoint (process 1) with a command, SIGTERM while it waits: ends at once, the command not started, exit non-zero" \
    '[ $ended = 1 ] && [ "$status" != 0 ] && ! has "$out" started'
release "$h1"; release "$h2"

# 12. A target directory the user may list but not search (r--): a
# .stow there, which stat(2) cannot see, does not make it a marked stow
# directory, as GNU Stow's -e does not, whatever was listed before it.
new_case marker-unsearchable
mkdir -p "$R/p/d2" "$H/t/d2"
echo a >"$R/p/a" && echo b >"$R/p/b" && echo x >"$R/p/d2/x"
: >"$H/t/d2/.stow"
chown_home
chmod 0444 "$H/t/d2"
run u HOME="$H" -- cstow -n -v -d "$R" -t "$H/t" p
checkx "12 an r-- target directory holding .stow is not skipped as marked" \
    'has "$err" "LINK: d2/x" && ! has "$err" "skipping marked"'
chmod 0755 "$H/t/d2"

# 13. A root process using libstow with STOW_F_CHOWN for two users'
# targets, one vault run directory for both: both applies go through
# (the second once refused the MANIFEST the first wrote, and said its
# file was left in the vault), the MANIFEST lists both backups and is
# owned as its run directory, and each user gets their own link.
new_case chown-two-users
driver=${CSTOW_CHOWN_DRIVER:-$here/chown_driver}
mkdir -p "$c/stow/p" "$c/t1" "$c/t2"
echo pkg >"$c/stow/p/f" && echo one >"$c/t1/f" && echo two >"$c/t2/f"
chown -R "$U:$U" "$c/t1" && chown -R "$V:$V" "$c/t2"
cp -- "$driver" "$bin/chown_driver" 2>/dev/null
run root -- "$bin/chown_driver" "$c/stow" "$c/vault" p "$c/t1" "$c/t2"
checkx "13 STOW_F_CHOWN, two users, one vault run: both applies go through" \
    '[ "$status" = 0 ] && has "$out" "$c/t1: 0 ok" && has "$out" "$c/t2: 0 ok"'
checkx "13 ... the MANIFEST lists both, owned as its run directory" \
    '[ "$(grep -c "^f" "$c/vault/MANIFEST" 2>/dev/null)" = 2 ] &&
    [ "$(stat -c %u "$c/vault/MANIFEST")" = "$(stat -c %u "$c/vault")" ]'
checkx "13 ... each user owns the link made in their target" \
    '[ "$(owner_of "$c/t1/f")" = "$U" ] && [ "$(owner_of "$c/t2/f")" = "$V" ] &&
    [ -L "$c/t1/f" ] && [ -L "$c/t2/f" ]'

tap_summary
[ "$failed" -eq 0 ]
