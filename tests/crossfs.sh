#!/usr/bin/env bash
# crossfs.sh: cstow and cstow-entrypoint across file systems.
#
# Usage: tests/crossfs.sh [CSTOW_BINARY]
#
# CSTOW_BINARY defaults to cli/cstow under the repository root (or to
# $CSTOW_BINARY); cstow-entrypoint is taken from beside it (or from
# $CSTOW_ENTRYPOINT_BINARY).  Needs root and unshare(1) from util-linux: the
# script re-executes itself in a private mount namespace (unshare -m) and
# mounts tmpfs file systems there, so that rename(2) between the dotfiles
# repository, the target ($HOME, on the disk-backed temporary directory) and
# the vault fails with EXDEV and cstow has to copy.  The mounts vanish with
# the namespace.  Checked:
#
#   - cstow-entrypoint links several packages from a repository on tmpfs into
#     a home on disk, and a second start changes nothing;
#   - adopting (cstow --adopt, CSTOW_CONFLICT=adopt) moves the file from the
#     home (disk) into the package (tmpfs) with its content, mode and mtime,
#     removes the original, and keeps the package's previous version in the
#     vault (disk) under @packages/ (not when identical);
#   - backing up (--conflict=backup, the entrypoint's default) a file and a
#     foreign symlink into a vault on another tmpfs, and --replace of a tree
#     into that vault (content and modes);
#   - --restore of those runs back across file systems.
#
# Prints one line per check, then "N passed, M failed"; exits non-zero when
# a check failed or the test cannot run (not root, no unshare, no mount): a
# skipped test is reported as a failure, never as a pass.
# CSTOW_TEST_KEEP=1 keeps the scratch directory.

set -u

here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
top=$(cd -- "$here/.." && pwd -P)

# shellcheck source=tests/progs.sh
. "$here/progs.sh" crossfs.sh "${1:-}"

enter_mount_namespace CSTOW_CROSSFS_INNER \
    "to mount file systems (in a private mount namespace made with unshare -m)"

# In the private mount namespace from here on.

umask 022
bin=$(mktemp -d "${TMPDIR:-/tmp}/cstow-crossfs-bin.XXXXXX") || cannot_run "mktemp failed"
base=$(mktemp -d "${TMPDIR:-/tmp}/cstow-crossfs.XXXXXX") || cannot_run "mktemp failed"
base=$(cd -- "$base" && pwd -P)
chmod 755 "$base"
repofs=$base/repo-fs		# tmpfs: the dotfiles repositories
vaultfs=$base/vault-fs		# tmpfs: vaults on another file system
mkdir -p "$repofs" "$vaultfs"

cleanup() {
	umount "$repofs" 2>/dev/null
	umount "$vaultfs" 2>/dev/null
	if [ "${CSTOW_TEST_KEEP:-0}" = 1 ]; then
		echo "# scratch directory kept: $base (its tmpfs mounts are gone)"
	else
		rm -rf -- "$base"
	fi
	rm -rf -- "$bin"
}
trap cleanup EXIT

mount -t tmpfs -o size=32m,mode=0755 cstow-crossfs-repo "$repofs" ||
	cannot_run "mount -t tmpfs failed"
mount -t tmpfs -o size=32m,mode=0755 cstow-crossfs-vault "$vaultfs" ||
	cannot_run "mount -t tmpfs failed"

ln -s "$binary" "$bin/cstow"
ln -s "$entrypoint" "$bin/cstow-entrypoint"

# shellcheck source=tests/tap.sh
. "$here/tap.sh"

# Runs COMMAND... with a clean environment plus the NAME=VALUE words given
# before "--", from directory $base; stdout, stderr and the status land in
# $out, $err and $status.
out=
err=
status=
run() {	# run [NAME=VALUE...] -- COMMAND...
	local -a envs=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		envs+=("$1")
		shift
	done
	shift
	local o=$base/.out e=$base/.err
	(
		cd "$base" &&
		exec env -i PATH="$bin:/usr/local/bin:/usr/bin:/bin" LC_ALL=C \
		    ${envs[@]+"${envs[@]}"} timeout 60 "$@"
	) </dev/null >"$o" 2>"$e"
	status=$?
	out=$(cat -- "$o")
	err=$(cat -- "$e")
}

# check_run DESCRIPTION EXPECTED-STATUS: the last run's status.
check_run() {
	if [ "$status" = "$2" ]; then
		ok "$1"
	else
		not_ok "$1" "exit status $status, expected $2" "stdout: $out" \
		    "stderr: $err"
	fi
}

dev() { stat -c %d -- "$1"; }
mode() { stat -c %a -- "$1"; }
mtime() { stat -c %y -- "$1"; }

same_dev() { [ "$(dev "$1")" = "$(dev "$2")" ]; }

# is_link_to LINK FILE: LINK is a symlink that resolves to FILE.
is_link_to() {
	[ -L "$1" ] && [ "$(readlink -f -- "$1")" = "$(readlink -f -- "$2")" ]
}

content_is() { [ -f "$1" ] && [ "$(cat -- "$1")" = "$2" ]; }

# No temporary copy ("NAME.cstow-PID") may be left behind anywhere.
no_leftovers() {
	[ -z "$(find "$@" -name '*.cstow-*' -print 2>/dev/null)" ]
}

# The only run directory below vault root $1 (fails unless exactly one).
only_run() {
	local -a runs=()
	local r
	for r in "$1"/*/; do
		[ -d "$r" ] && runs+=("${r%/}")
	done
	[ ${#runs[@]} -eq 1 ] || return 1
	printf '%s\n' "${runs[0]}"
}

count_runs() {
	local c=0 r
	for r in "$1"/*/; do
		[ -d "$r" ] && c=$((c + 1))
	done
	echo "$c"
}

# manifest_has RUN TYPE MODE VAULT-PATH ORIGINAL: a MANIFEST line with
# those fields (size and sha256 not compared).
manifest_has() {
	awk -F '\t' -v t="$2" -v m="$3" -v v="$4" -v o="$5" \
	    '$1 == t && $2 == m && $5 == v && $6 == o { found = 1 }
	     END { exit !found }' "$1/MANIFEST"
}

stamp1='2001-02-03 04:05:06.123456789'
stamp2='2002-03-04 05:06:07.987654321'

echo "# scratch: $base (home on $(stat -f -c %T "$base"), repository and vault on tmpfs)"

# ---------------------------------------------------------------------------
# The setting itself: the three places must be on different file systems.
home=$base/home-setup
mkdir -p "$home"
if same_dev "$home" "$repofs" || same_dev "$home" "$vaultfs" ||
   same_dev "$repofs" "$vaultfs"; then
	not_ok "home, repository and vault are on three file systems" \
	    "st_dev: home $(dev "$home"), repo $(dev "$repofs"), vault $(dev "$vaultfs")"
	echo "$passed passed, $failed failed"
	exit 1
fi
ok "home, repository and vault are on three file systems"

# ---------------------------------------------------------------------------
# 1. cstow-entrypoint links several packages across file systems.
home=$base/home1
repo=$repofs/dotfiles1
mkdir -p "$home/.config" "$repo/sh" "$repo/git" "$repo/nvim/dot-config/nvim" \
    "$repo/bin/dot-local/bin"
echo profile >"$repo/sh/dot-profile"
echo gitconfig >"$repo/git/dot-gitconfig"
echo 'vim.opt.number = true' >"$repo/nvim/dot-config/nvim/init.lua"
printf '#!/bin/sh\necho hello\n' >"$repo/bin/dot-local/bin/hello"
chmod 755 "$repo/bin/dot-local/bin/hello"
printf '[cstow]\n\tdotfiles = true\n' >"$repo/cstow.conf"

run HOME="$home" CSTOW_DIR="$repo" -- cstow-entrypoint sh -c 'echo "started $*"' sh x
check_run "entrypoint across file systems: exit status of the command" 0
check "entrypoint: the command ran after linking" [ "$out" = "started x" ]
check "entrypoint: summary counts 4 links, no backup" \
    grep -Eq '^cstow-entrypoint: linked 4, backed up 0, unchanged 0, [0-9.]+ ms$' <<<"$err"
check "entrypoint: ~/.profile links to the repository on tmpfs" \
    is_link_to "$home/.profile" "$repo/sh/dot-profile"
check "entrypoint: ~/.gitconfig links to the repository" \
    is_link_to "$home/.gitconfig" "$repo/git/dot-gitconfig"
check "entrypoint: ~/.config/nvim is one folded link" \
    is_link_to "$home/.config/nvim" "$repo/nvim/dot-config/nvim"
check "entrypoint: ~/.local/bin/hello runs through its link" \
    [ "$("$home/.local/bin/hello" 2>&1)" = hello ]
check "entrypoint: links are relative" \
    test "$(readlink -- "$home/.profile")" = "../repo-fs/dotfiles1/sh/dot-profile"
check "entrypoint: nothing written to the vault" \
    [ ! -e "$home/.local/state/cstow/backup" ]
run HOME="$home" CSTOW_DIR="$repo" -- cstow-entrypoint
check_run "entrypoint second start: exit status" 0
check "entrypoint second start changes nothing" \
    grep -Eq '^cstow-entrypoint: linked 0, backed up 0, unchanged 4, [0-9.]+ ms$' <<<"$err"

# ---------------------------------------------------------------------------
# 2. cstow --adopt: from the home (disk) into the package (tmpfs).
home=$base/home2
repo=$repofs/stow2
vault=$home/.local/state/cstow/backup
mkdir -p "$home" "$repo/git" "$repo/sh"
echo 'package version' >"$repo/git/.gitconfig"
chmod 644 "$repo/git/.gitconfig"
touch -d "$stamp2" "$repo/git/.gitconfig"
pkg_mtime=$(mtime "$repo/git/.gitconfig")
echo 'local version' >"$home/.gitconfig"
chmod 600 "$home/.gitconfig"
chown 65534:65534 "$home/.gitconfig"
# An extended attribute, where the home's file system holds user ones.
# (Checked only where both file systems hold user attributes.)
has_xattr=0
if command -v setfattr >/dev/null &&
    setfattr -n user.cstow -v kept "$home/.gitconfig" 2>/dev/null &&
    : > "$repo/.xattr-probe" &&
    setfattr -n user.probe -v 1 "$repo/.xattr-probe" 2>/dev/null; then
	has_xattr=1
fi
rm -f "$repo/.xattr-probe"
touch -d "$stamp1" "$home/.gitconfig"
want_mtime=$(mtime "$home/.gitconfig")
echo 'same bytes' >"$repo/sh/.profile"
echo 'same bytes' >"$home/.profile"

run HOME="$home" -- cstow -d "$repo" -t "$home" --adopt git sh
check_run "cstow --adopt across file systems: exit status" 0
check "adopt: ~/.gitconfig is now a link into the package" \
    is_link_to "$home/.gitconfig" "$repo/git/.gitconfig"
check "adopt: the package holds the adopted content" \
    content_is "$repo/git/.gitconfig" 'local version'
check "adopt: the adopted file keeps its mode (600)" \
    [ "$(mode "$repo/git/.gitconfig")" = 600 ]
check "adopt: the adopted file keeps its mtime (to the nanosecond)" \
    [ "$(mtime "$repo/git/.gitconfig")" = "$want_mtime" ]
check "adopt: the adopted file keeps its owner (as root)" \
    [ "$(stat -c %u:%g "$repo/git/.gitconfig")" = 65534:65534 ]
if [ $has_xattr = 1 ]; then
	check "adopt: the adopted file keeps its extended attributes" \
	    [ "$(getfattr --only-values -n user.cstow "$repo/git/.gitconfig" 2>/dev/null)" = kept ]
fi
check "adopt: the original file is gone from the home" \
    [ -L "$home/.gitconfig" ]
check "adopt: the package is still on the tmpfs" \
    same_dev "$repo/git/.gitconfig" "$repofs"
if run_dir=$(only_run "$vault"); then
	ok "adopt: one vault run"
	check "adopt: the package's previous version is in the vault (@packages/)" \
	    content_is "$run_dir/@packages/git/.gitconfig" 'package version'
	checkx "adopt: ... with its mode and mtime" \
	    '[ "$(mode "$run_dir/@packages/git/.gitconfig")" = 644 ] &&
	     [ "$(mtime "$run_dir/@packages/git/.gitconfig")" = "$pkg_mtime" ]'
	check "adopt: MANIFEST records it" \
	    manifest_has "$run_dir" f 0644 @packages/git/.gitconfig "$repo/git/.gitconfig"
	check "adopt: identical file adopted without a vault copy" \
	    [ ! -e "$run_dir/@packages/sh" ]
else
	not_ok "adopt: one vault run" "$(ls -la "$vault" 2>&1)"
fi
check "adopt: identical ~/.profile adopted and linked" \
    is_link_to "$home/.profile" "$repo/sh/.profile"
check "adopt: no temporary copies left behind" no_leftovers "$home" "$repo"

# ---------------------------------------------------------------------------
# 3. CSTOW_CONFLICT=adopt with the entrypoint: an executable, and a file
#    identical to the package's (no vault run at all).
home=$base/home3
repo=$repofs/dotfiles3
mkdir -p "$home/.local/bin" "$repo/bin/.local/bin" "$repo/same"
echo '#!/bin/sh' >"$repo/bin/.local/bin/tool"
printf '#!/bin/sh\necho local tool\n' >"$home/.local/bin/tool"
chmod 750 "$home/.local/bin/tool"
touch -d "$stamp1" "$home/.local/bin/tool"
want_mtime=$(mtime "$home/.local/bin/tool")
echo same >"$repo/same/.samerc"
echo same >"$home/.samerc"

run HOME="$home" CSTOW_DIR="$repo" CSTOW_PACKAGES=same CSTOW_CONFLICT=adopt -- cstow-entrypoint
check_run "CSTOW_CONFLICT=adopt, identical file: exit status" 0
check "CSTOW_CONFLICT=adopt, identical file: linked, no vault run" \
    is_link_to "$home/.samerc" "$repo/same/.samerc"
check "CSTOW_CONFLICT=adopt, identical file: no vault written" \
    [ ! -e "$home/.local/state/cstow/backup" ]

run HOME="$home" CSTOW_DIR="$repo" CSTOW_PACKAGES=bin CSTOW_CONFLICT=adopt -- cstow-entrypoint
check_run "CSTOW_CONFLICT=adopt across file systems: exit status" 0
check "CSTOW_CONFLICT=adopt: the tool is linked" \
    is_link_to "$home/.local/bin/tool" "$repo/bin/.local/bin/tool"
check "CSTOW_CONFLICT=adopt: the package holds the adopted tool" \
    content_is "$repo/bin/.local/bin/tool" "$(printf '#!/bin/sh\necho local tool')"
check "CSTOW_CONFLICT=adopt: mode 750 kept" \
    [ "$(mode "$repo/bin/.local/bin/tool")" = 750 ]
check "CSTOW_CONFLICT=adopt: mtime kept" \
    [ "$(mtime "$repo/bin/.local/bin/tool")" = "$want_mtime" ]
check "CSTOW_CONFLICT=adopt: it runs through its link" \
    [ "$("$home/.local/bin/tool" 2>&1)" = 'local tool' ]
check "CSTOW_CONFLICT=adopt: the summary names the vault" \
    grep -Eq "^cstow-entrypoint: linked 1, backed up 1 to $home/.local/state/cstow/backup/[0-9]{8}T[0-9]{6}\.[0-9]{6}Z-[0-9]+, unchanged 0, [0-9.]+ ms\$" <<<"$err"
check "CSTOW_CONFLICT=adopt: no temporary copies left behind" \
    no_leftovers "$home" "$repo"

# ---------------------------------------------------------------------------
# 4. Backups into a vault on another file system (XDG_STATE_HOME on tmpfs),
#    then --restore back.
home=$base/home4
repo=$repofs/stow4
state=$vaultfs/state4
vault=$state/cstow/backup
mkdir -p "$home/.config/app" "$repo/a/.config/app"
echo 'package rc' >"$repo/a/.config/app/rc"
echo 'package vimrc' >"$repo/a/.vimrc"
echo 'package zshrc' >"$repo/a/.zshrc"
echo 'local rc' >"$home/.config/app/rc"
chmod 640 "$home/.config/app/rc"
touch -d "$stamp1" "$home/.config/app/rc"
want_mtime=$(mtime "$home/.config/app/rc")
ln -s /dev/null "$home/.vimrc"

run HOME="$home" XDG_STATE_HOME="$state" -- cstow -d "$repo" -t "$home" --conflict=backup a
check_run "backup into a vault on another file system: exit status" 0
check "backup: ~/.config/app/rc is linked" \
    is_link_to "$home/.config/app/rc" "$repo/a/.config/app/rc"
check "backup: ~/.vimrc (a foreign symlink) is replaced by a link" \
    is_link_to "$home/.vimrc" "$repo/a/.vimrc"
if run_dir=$(only_run "$vault"); then
	ok "backup: one vault run"
	check "backup: the vault is on the other tmpfs" same_dev "$run_dir" "$vaultfs"
	check "backup: the file is in the vault with its content" \
	    content_is "$run_dir/.config/app/rc" 'local rc'
	check "backup: ... its mode (640)" [ "$(mode "$run_dir/.config/app/rc")" = 640 ]
	check "backup: ... and its mtime" [ "$(mtime "$run_dir/.config/app/rc")" = "$want_mtime" ]
	checkx "backup: the foreign symlink is in the vault as a link" \
	    '[ -L "$run_dir/.vimrc" ] && [ "$(readlink -- "$run_dir/.vimrc")" = /dev/null ]'
	check "backup: MANIFEST lists the file" \
	    manifest_has "$run_dir" f 0640 .config/app/rc "$home/.config/app/rc"
	check "backup: MANIFEST lists the link" \
	    manifest_has "$run_dir" l 0777 .vimrc "$home/.vimrc"
else
	not_ok "backup: one vault run" "$(ls -la "$vault" 2>&1)"
fi
check "backup: no temporary copies left behind" no_leftovers "$home" "$vaultfs"

run HOME="$home" XDG_STATE_HOME="$state" -- cstow -d "$repo" -t "$home" --restore
check_run "restore from a vault on another file system: exit status" 0
check "restore: the file is back" content_is "$home/.config/app/rc" 'local rc'
check "restore: ... not a link" [ ! -L "$home/.config/app/rc" ]
check "restore: ... with its mode (640)" [ "$(mode "$home/.config/app/rc")" = 640 ]
check "restore: ... and its mtime" [ "$(mtime "$home/.config/app/rc")" = "$want_mtime" ]
checkx "restore: the foreign symlink is back" \
    '[ -L "$home/.vimrc" ] && [ "$(readlink -- "$home/.vimrc")" = /dev/null ]'
check "restore: the link of the file that was not backed up stays" \
    is_link_to "$home/.zshrc" "$repo/a/.zshrc"
checkx "restore: the run's MANIFEST is marked restored" \
    '[ -f "${run_dir:-/nonexistent}/MANIFEST.restored" ] &&
     [ ! -e "${run_dir:-/nonexistent}/MANIFEST" ]'
check "restore: no temporary copies left behind" no_leftovers "$home" "$vaultfs"

# ---------------------------------------------------------------------------
# 5. The entrypoint's default policy (backup) with the vault on another file
#    system (backup-dir in cstow.conf), then cstow --restore.
home=$base/home5
repo=$repofs/dotfiles5
mkdir -p "$home" "$repo/sh"
echo 'package profile' >"$repo/sh/.profile"
echo 'image profile' >"$home/.profile"
chmod 604 "$home/.profile"
touch -d "$stamp1" "$home/.profile"
want_mtime=$(mtime "$home/.profile")
printf '[cstow]\n\tbackup-dir = %s/vault5\n' "$vaultfs" >"$repo/cstow.conf"

run HOME="$home" CSTOW_DIR="$repo" -- cstow-entrypoint true
check_run "entrypoint backup across file systems: exit status" 0
check "entrypoint backup: ~/.profile linked" is_link_to "$home/.profile" "$repo/sh/.profile"
if run_dir=$(only_run "$vaultfs/vault5"); then
	ok "entrypoint backup: one vault run on the other tmpfs"
	checkx "entrypoint backup: the image's file is in the vault, mode and mtime kept" \
	    'content_is "$run_dir/.profile" "image profile" &&
	     [ "$(mode "$run_dir/.profile")" = 604 ] &&
	     [ "$(mtime "$run_dir/.profile")" = "$want_mtime" ]'
	check "entrypoint backup: the summary names that run" \
	    grep -Fq "backed up 1 to $run_dir, unchanged 0, " <<<"$err"
else
	not_ok "entrypoint backup: one vault run on the other tmpfs" "$(ls -la "$vaultfs/vault5" 2>&1)"
fi
run HOME="$home" CSTOW_DIR="$repo" -- cstow-entrypoint true
check "entrypoint backup: a second start writes no second run" \
    [ "$(count_runs "$vaultfs/vault5")" = 1 ]
run HOME="$home" -- cstow -d "$repo" -t "$home" --restore
check_run "cstow --restore of the entrypoint's run: exit status" 0
checkx "cstow --restore: the image's file is back, mode and mtime kept" \
    'content_is "$home/.profile" "image profile" && [ ! -L "$home/.profile" ] &&
     [ "$(mode "$home/.profile")" = 604 ] &&
     [ "$(mtime "$home/.profile")" = "$want_mtime" ]'

# ---------------------------------------------------------------------------
# 6. --replace of a tree into a vault on another file system, and back.
home=$base/home6
repo=$repofs/stow6
state=$vaultfs/state6
vault=$state/cstow/backup
mkdir -p "$home/.config/nvim/lua" "$home/.config/other" "$repo/nvim/.config/nvim"
echo 'new config' >"$repo/nvim/.config/nvim/init.lua"
echo 'old config' >"$home/.config/nvim/init.vim"
echo 'return {}' >"$home/.config/nvim/lua/plugins.lua"
echo 'other' >"$home/.config/other/rc"
chmod 750 "$home/.config/nvim"
chmod 700 "$home/.config/nvim/lua"
chmod 600 "$home/.config/nvim/lua/plugins.lua"
touch -d "$stamp1" "$home/.config/nvim/init.vim"
want_mtime=$(mtime "$home/.config/nvim/init.vim")

run HOME="$home" XDG_STATE_HOME="$state" -- cstow -d "$repo" -t "$home" --replace=.config/nvim nvim
check_run "--replace of a tree into a vault on another file system: exit status" 0
check "replace: ~/.config/nvim is one folded link" \
    is_link_to "$home/.config/nvim" "$repo/nvim/.config/nvim"
check "replace: ~/.config/other is untouched" content_is "$home/.config/other/rc" other
run_dir=$(only_run "$vault") || run_dir=
if [ -n "$run_dir" ] && [ -d "$run_dir/.config/nvim" ]; then
	ok "replace: the tree is in the vault"
	checkx "replace: vault copy has the content" \
	    'content_is "$run_dir/.config/nvim/init.vim" "old config" &&
	     content_is "$run_dir/.config/nvim/lua/plugins.lua" "return {}"'
	checkx "replace: vault copy keeps the modes (750, 700, 600)" \
	    '[ "$(mode "$run_dir/.config/nvim")" = 750 ] &&
	     [ "$(mode "$run_dir/.config/nvim/lua")" = 700 ] &&
	     [ "$(mode "$run_dir/.config/nvim/lua/plugins.lua")" = 600 ]'
	check "replace: vault copy keeps the mtime" \
	    [ "$(mtime "$run_dir/.config/nvim/init.vim")" = "$want_mtime" ]
	checkx "replace: MANIFEST lists the tree" \
	    'manifest_has "$run_dir" d 0750 .config/nvim "$home/.config/nvim" &&
	     manifest_has "$run_dir" f 0600 .config/nvim/lua/plugins.lua \
	         "$home/.config/nvim/lua/plugins.lua"'
else
	not_ok "replace: the tree is in the vault" "$(find "$vault" 2>&1 | head -n 20)"
fi
if [ ! -L "$home/.config/nvim" ]; then
	# The replace failed: it must not have half-done anything.
	checkx "replace failed: nothing half-done (the tree is still in place)" \
	    'content_is "$home/.config/nvim/init.vim" "old config" &&
	     content_is "$home/.config/nvim/lua/plugins.lua" "return {}"'
fi
check "replace: no temporary copies left behind" no_leftovers "$home" "$vaultfs"

if [ -n "$run_dir" ] && [ -f "$run_dir/MANIFEST" ] && [ -L "$home/.config/nvim" ]; then
	run HOME="$home" XDG_STATE_HOME="$state" -- cstow -d "$repo" -t "$home" --restore
	check_run "restore of a tree from another file system: exit status" 0
	checkx "restore: the tree is back, not a link" \
	    '[ -d "$home/.config/nvim" ] && [ ! -L "$home/.config/nvim" ] &&
	     content_is "$home/.config/nvim/init.vim" "old config" &&
	     content_is "$home/.config/nvim/lua/plugins.lua" "return {}"'
	checkx "restore: the tree keeps its modes and mtime" \
	    '[ "$(mode "$home/.config/nvim")" = 750 ] &&
	     [ "$(mode "$home/.config/nvim/lua")" = 700 ] &&
	     [ "$(mode "$home/.config/nvim/lua/plugins.lua")" = 600 ] &&
	     [ "$(mtime "$home/.config/nvim/init.vim")" = "$want_mtime" ]'
else
	not_ok "restore of a tree from another file system" \
	    "not attempted: the replace did not leave a run to restore"
fi

# ---------------------------------------------------------------------------
# 7. Restore refuses, across file systems too, when something foreign stands
#    where an item goes back: nothing changes.
home=$base/home7
repo=$repofs/stow7
state=$vaultfs/state7
vault=$state/cstow/backup
mkdir -p "$home" "$repo/a"
echo 'package a' >"$repo/a/fa"
echo 'package b' >"$repo/a/fb"
echo 'local a' >"$home/fa"
echo 'local b' >"$home/fb"
run HOME="$home" XDG_STATE_HOME="$state" -- cstow -d "$repo" -t "$home" --conflict=backup a
check_run "restore refusal: the backup run" 0
rm -f "$home/fb" && echo foreign >"$home/fb"
run HOME="$home" XDG_STATE_HOME="$state" -- cstow -d "$repo" -t "$home" --restore
check_run "restore refusal: exit status 1" 1
check "restore refusal: the message names the path" \
    grep -Fq "cannot restore $home/fb" <<<"$err"
check "restore refusal: fa is not restored (still a link)" \
    is_link_to "$home/fa" "$repo/a/fa"
check "restore refusal: the foreign file is untouched" content_is "$home/fb" foreign
if run_dir=$(only_run "$vault"); then
	checkx "restore refusal: the vault is untouched" \
	    '[ -f "$run_dir/MANIFEST" ] && content_is "$run_dir/fa" "local a" &&
	     content_is "$run_dir/fb" "local b"'
else
	not_ok "restore refusal: the vault is untouched" "$(ls -la "$vault" 2>&1)"
fi

# ---------------------------------------------------------------------------
# 8. overlayfs, as a container's home is (Docker's overlay2, podman's
#    default store): an image layer (the lower directory) holds the home
#    with a preinstalled ~/.config/nvim and ~/.gitconfig, and the dotfiles
#    repository.  Without redirect_dir (the kernel's default) a directory of
#    the lower layer cannot be renamed (EXDEV): it is moved into the vault
#    by copying.  cstow-entrypoint must link every package, keep the image's
#    files in the vault with a MANIFEST, change nothing on a second start,
#    and cstow --restore must put them back.  Then the same with
#    redirect_dir=on.
ovl_story() {	# ovl_story TAG MOUNT-OPTIONS
	local tag=$1 opts=$2 o=$base/ovl-$1 h r run_dir
	mkdir -p "$o/lower/home/dev/.config/nvim/lua" "$o/upper" "$o/work" \
	    "$o/merged" "$o/lower/home/dev/dotfiles/nvim/.config/nvim" \
	    "$o/lower/home/dev/dotfiles/git" \
	    "$o/lower/home/dev/dotfiles/scripts"
	echo 'image config' >"$o/lower/home/dev/.config/nvim/init.vim"
	echo 'image plugin' >"$o/lower/home/dev/.config/nvim/lua/p.lua"
	echo '[user] image' >"$o/lower/home/dev/.gitconfig"
	echo 'personal' >"$o/lower/home/dev/dotfiles/nvim/.config/nvim/init.lua"
	echo '[user] me' >"$o/lower/home/dev/dotfiles/git/.gitconfig"
	echo 'echo hi' >"$o/lower/home/dev/dotfiles/scripts/hello"
	printf '[cstow]\n\ttarget = ~\n[package "scripts"]\n\ttarget = ~/.local/bin\n[package "nvim"]\n\treplace = .config/nvim\n' \
	    >"$o/lower/home/dev/dotfiles/cstow.conf"
	if ! mount -t overlay "cstow-ovl-$tag" -o \
	    "lowerdir=$o/lower,upperdir=$o/upper,workdir=$o/work$opts" \
	    "$o/merged"; then
		not_ok "overlay ($tag): mount" "mount -t overlay failed"
		return
	fi
	h=$o/merged/home/dev
	r=$h/dotfiles
	run HOME="$h" CSTOW_DIR="$r" -- cstow-entrypoint true
	check_run "overlay ($tag): the entrypoint's exit status" 0
	checkx "overlay ($tag): every package is linked" \
	    'is_link_to "$h/.config/nvim" "$r/nvim/.config/nvim" &&
	     is_link_to "$h/.gitconfig" "$r/git/.gitconfig" &&
	     is_link_to "$h/.local/bin/hello" "$r/scripts/hello"'
	if run_dir=$(only_run "$h/.local/state/cstow/backup"); then
		checkx "overlay ($tag): the image's files are in the vault, with a MANIFEST" \
		    'content_is "$run_dir/.config/nvim/init.vim" "image config" &&
		     content_is "$run_dir/.config/nvim/lua/p.lua" "image plugin" &&
		     content_is "$run_dir/.gitconfig" "[user] image" &&
		     manifest_has "$run_dir" d 0755 .config/nvim "$h/.config/nvim" &&
		     manifest_has "$run_dir" f 0644 .gitconfig "$h/.gitconfig"'
	else
		not_ok "overlay ($tag): the image's files are in the vault" \
		    "$(find "$h/.local/state" 2>&1 | head -n 20)"
	fi
	check "overlay ($tag): no temporary names left" no_leftovers "$h"
	run HOME="$h" CSTOW_DIR="$r" -- cstow-entrypoint true
	checkx "overlay ($tag): a second start links and moves nothing" \
	    '[ "$status" = 0 ] && grep -q "linked 0, backed up 0" <<<"$err" &&
	     [ "$(count_runs "$h/.local/state/cstow/backup")" = 1 ]'
	run HOME="$h" -- cstow -d "$r" -t "$h" --restore
	check_run "overlay ($tag): --restore" 0
	checkx "overlay ($tag): --restore puts the image's files back" \
	    'content_is "$h/.config/nvim/init.vim" "image config" &&
	     content_is "$h/.config/nvim/lua/p.lua" "image plugin" &&
	     content_is "$h/.gitconfig" "[user] image" &&
	     [ ! -L "$h/.config/nvim" ] && [ ! -L "$h/.gitconfig" ]'
	umount "$o/merged"
}
ovl_story plain ""
if [ -e /sys/module/overlay/parameters/redirect_dir ]; then
	ovl_story redirect ",redirect_dir=on"
else
	not_ok "overlay (redirect): the kernel has no redirect_dir" ""
fi

# ---------------------------------------------------------------------------
# 9. A tree moved into a vault on another file system must never lose what
#    it cannot put back.  A mount point inside it (a tmpfs, or a bind mount
#    of a directory elsewhere) is never crossed: the move is refused before
#    anything is copied or removed, the run exits 3 with every change
#    undone, the tree (and what is mounted in it, and what is behind a bind
#    mount) is untouched, and the vault holds no copy.
mp_case() {	# mp_case TAG: what is mounted at .config/nvim/data
	local tag=$1 home=$base/home9-$1 repo=$repofs/stow9-$1
	local state=$vaultfs/state9-$1 host=$base/host9-$1
	mkdir -p "$home/.config/nvim/data" "$repo/nvim/.config/nvim" "$host"
	echo 'old config' >"$home/.config/nvim/init.vim"
	echo 'new config' >"$repo/nvim/.config/nvim/init.lua"
	if [ "$tag" = tmpfs ]; then
		mount -t tmpfs -o size=1m "cstow-mp9" "$home/.config/nvim/data" ||
			{ not_ok "mount point ($tag): mount" ""; return; }
	else
		echo 'host file' >"$host/h1"
		mount --bind "$host" "$home/.config/nvim/data" ||
			{ not_ok "mount point ($tag): mount" ""; return; }
	fi
	echo 'in the mount' >"$home/.config/nvim/data/d1"
	run HOME="$home" XDG_STATE_HOME="$state" -- cstow -d "$repo" -t "$home" \
	    --replace=.config/nvim nvim
	check_run "mount point ($tag): the run fails and is undone (exit 3)" 3
	checkx "mount point ($tag): the message names the mount point and says all was undone" \
	    'grep -q "data" <<<"$err" && grep -q "mount point" <<<"$err" &&
	     grep -q "all changes undone" <<<"$err"'
	checkx "mount point ($tag): the tree and what is mounted in it are untouched" \
	    'content_is "$home/.config/nvim/init.vim" "old config" &&
	     content_is "$home/.config/nvim/data/d1" "in the mount" &&
	     [ ! -L "$home/.config/nvim" ]'
	if [ "$tag" = bind ]; then
		check "mount point ($tag): the host directory behind it keeps its files" \
		    content_is "$host/h1" "host file"
	fi
	checkx "mount point ($tag): the vault holds no copy" \
	    '[ -z "$(find "$state" -type f 2>/dev/null)" ]'
	umount "$home/.config/nvim/data"
}
mp_case tmpfs
mp_case bind

# ---------------------------------------------------------------------------
# 10. A tree that cannot be removed whole (a read-only directory in it, run
#    as its owner, who cannot delete in it) is found so before it is copied:
#    the run exits 3 with every change undone, nothing is removed from the
#    tree, and the vault holds no copy.
xuser=cstow-xfs-$$
if useradd --no-create-home --shell /usr/sbin/nologin "$xuser" 2>/dev/null; then
	trap 'cleanup; userdel "$xuser" 2>/dev/null' EXIT
	home=$base/home10
	repo=$repofs/stow10
	state=$vaultfs/state10
	mkdir -p "$home/.config/nvim/ro" "$repo/nvim/.config/nvim" "$state"
	echo 'old config' >"$home/.config/nvim/init.vim"
	echo 'kept' >"$home/.config/nvim/ro/k1"
	echo 'new config' >"$repo/nvim/.config/nvim/init.lua"
	chown -R "$xuser" "$home" "$repo" "$state"
	chmod 555 "$home/.config/nvim/ro"
	run HOME="$home" XDG_STATE_HOME="$state" -- setpriv \
	    --reuid="$xuser" --regid="$(id -g "$xuser")" --clear-groups \
	    "$binary" -d "$repo" -t "$home" --replace=.config/nvim nvim
	check_run "read-only directory in a tree: the run fails and is undone (exit 3)" 3
	checkx "read-only directory in a tree: the message names it, and all was undone" \
	    'grep -q "nvim/ro" <<<"$err" && grep -q "all changes undone" <<<"$err"'
	checkx "read-only directory in a tree: nothing was removed from it" \
	    'content_is "$home/.config/nvim/init.vim" "old config" &&
	     content_is "$home/.config/nvim/ro/k1" "kept"'
	checkx "read-only directory in a tree: the vault holds no copy" \
	    '[ -z "$(find "$state" -type f 2>/dev/null)" ]'
else
	not_ok "read-only directory in a tree" "useradd failed"
fi

# ---------------------------------------------------------------------------
# 11. The vault's file system is full: the backup fails, the run exits 3
#    and says all changes were undone, which is true: the file is in
#    place, and no journal and no directory the run made (in the state
#    directory, on the full file system) is left behind.
home=$base/home11
repo=$repofs/stow11
fullfs=$base/full11
mkdir -p "$home" "$repo/big" "$fullfs"
if mount -t tmpfs -o size=64k,mode=0755 cstow-full11 "$fullfs"; then
	head -c 300000 /dev/urandom >"$home/blob"
	cp "$home/blob" "$base/blob11.orig"
	echo 'package blob' >"$repo/big/blob"
	run HOME="$home" XDG_STATE_HOME="$fullfs/state" -- cstow -d "$repo" \
	    -t "$home" --conflict=backup big
	check_run "full vault file system: the run fails and is undone (exit 3)" 3
	checkx "full vault file system: it says all changes were undone" \
	    'grep -q "all changes undone" <<<"$err"'
	checkx "full vault file system: the file is in place, whole" \
	    'cmp -s "$home/blob" "$base/blob11.orig" && [ ! -L "$home/blob" ]'
	checkx "full vault file system: no journal, lock or made directory left" \
	    '[ -z "$(ls -A "$fullfs")" ] && [ ! -e "$home/.cstow-journal" ] &&
	     [ ! -e "$home/.cstow-lock" ] && [ -z "$(ls -A "$home" | grep -v "^blob$")" ]'
	umount "$fullfs"
else
	not_ok "full vault file system: mount" "mount -t tmpfs failed"
fi

# The target's own file system is full, so the journal of a run that
# removes something cannot be written there: exit 3, and nothing left
# behind, no journal, no lock file, no state directory.  (A run that
# only makes links needs no journal.)
home=$base/full11b
repo=$repofs/stow11b
mkdir -p "$home" "$repo/p"
echo 'package' >"$repo/p/pf"
if mount -t tmpfs -o size=64k,mode=0755 cstow-full11b "$home"; then
	run HOME="$home" -- cstow -d "$repo" -t "$home" p
	head -c 1000000 /dev/zero >"$home/filler" 2>/dev/null
	run HOME="$home" -- cstow -d "$repo" -t "$home" -D p
	check_run "full target file system: the run fails and is undone (exit 3)" 3
	checkx "full target file system: it says all changes were undone" \
	    'grep -q "all changes undone" <<<"$err"'
	checkx "full target file system: nothing left behind (journal, lock, state)" \
	    '[ "$(ls -A "$home" | tr "\n" " ")" = "filler pf " ] &&
	     is_link_to "$home/pf" "$repo/p/pf"'
	umount "$home"
else
	not_ok "full target file system: mount" "mount -t tmpfs failed"
fi

# ---------------------------------------------------------------------------
# 12. A killed run's journal that cannot be undone (the link it made is on
#    a file system since made read-only) stops runs into its own target
#    only, with a message naming the journal and the way out; runs into
#    other targets go on; --set-aside-journal keeps it aside and goes on.
home=$base/home12
t=$home/t
mkdir -p "$t/ro" "$home/u" "$home/stow/p/ro" "$home/stow/q"
echo x >"$home/stow/p/ro/x"
echo q >"$home/stow/q/qf"
ln -s ../../stow/p/ro/x "$t/ro/x"
if mount --bind "$t/ro" "$t/ro" && mount -o remount,ro,bind "$t/ro"; then
	printf 'cstow-journal 5\t%s\t\t1\t../stow\nS\t3\t0\tro/x\t../../stow/p/ro/x\t\t\t0\t0\t0\t0\nE\n' \
	    "$t" >"$t/.cstow-journal"
	chmod 600 "$t/.cstow-journal"
	run HOME="$home" -- cstow -d "$home/stow" -t "$t" q
	check_run "broken journal: a run into its target stops (exit 4)" 4
	checkx "broken journal: the message names the journal and the way out" \
	    'grep -Fq "$t/.cstow-journal" <<<"$err" &&
	     grep -q -- "--set-aside-journal" <<<"$err"'
	checkx "broken journal: that run changed nothing" \
	    '[ ! -e "$t/qf" ] && [ -f "$t/.cstow-journal" ]'
	run HOME="$home" -- cstow -d "$home/stow" -t "$home/u" q
	check_run "broken journal: a run into another target goes on" 0
	check "broken journal: ... and links" is_link_to "$home/u/qf" "$home/stow/q/qf"
	run HOME="$home" -- cstow -d "$home/stow" -t "$t" --set-aside-journal q
	check_run "broken journal: --set-aside-journal goes on" 0
	checkx "broken journal: the journal is kept aside, and the run linked" \
	    '[ ! -e "$t/.cstow-journal" ] &&
	     ls "$t"/.cstow-journal.aside-* >/dev/null 2>&1 &&
	     is_link_to "$t/qf" "$home/stow/q/qf"'
	umount "$t/ro"
else
	not_ok "broken journal: read-only bind mount" "mount failed"
fi

tap_summary
[ "$failed" -eq 0 ]
