#!/bin/sh
# demo.sh: stow the bundled dotfiles example into a temporary home and
# show what cstow made.  Usage: tests/demo.sh [CSTOW]
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
cstow=${1:-$root/cli/cstow}
case $cstow in /*) ;; *) cstow=$root/$cstow ;; esac
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cstow-demo.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

# tree_make lives in a bash library; build the example with it.
bash -c '. "$1/tests/treelib.sh" && tree_make "$1/fixtures/trees/demo.tree" "$2"' \
    sh "$root" "$tmp"
home=$tmp/home

show() {
	(cd "$home" && find . -mindepth 1 \( -path ./dotfiles -prune \) -o \
	    -print | LC_ALL=C sort | while IFS= read -r p; do
		p=${p#./}
		if [ -L "$p" ]; then
			printf '  %s -> %s\n' "$p" "$(readlink "$p")"
		elif [ -d "$p" ]; then
			printf '  %s/\n' "$p"
		else
			printf '  %s\n' "$p"
		fi
	done)
}

echo "== a home directory with a dotfiles repository in ~/dotfiles:"
show
echo
echo "== cstow -v --dotfiles -d ~/dotfiles -t ~ nvim tmux git zsh"
HOME=$home "$cstow" -v --dotfiles -d "$home/dotfiles" -t "$home" \
    nvim tmux git zsh 2>&1
echo
echo "== the home directory now (dotfiles/ not shown):"
show
echo
echo "== the same command again changes nothing (-v prints no operation):"
HOME=$home "$cstow" -v --dotfiles -d "$home/dotfiles" -t "$home" \
    nvim tmux git zsh 2>&1
echo "  (exit status $?)"
echo
echo "== a conflict is reported and nothing is touched:"
mkdir -p "$home/dotfiles/extra" && echo x > "$home/dotfiles/extra/.profile"
HOME=$home "$cstow" -d "$home/dotfiles" -t "$home" extra 2>&1 || \
    echo "  (exit status $?)"
echo
echo "== cstow -D tmux zsh, then -n -v -R git (a dry run):"
HOME=$home "$cstow" -v --dotfiles -d "$home/dotfiles" -t "$home" -D tmux zsh 2>&1
HOME=$home "$cstow" -n -v --dotfiles -d "$home/dotfiles" -t "$home" -R git 2>&1
echo
echo "== final tree:"
show
