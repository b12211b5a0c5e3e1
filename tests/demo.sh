#!/bin/sh
# demo.sh: the golden-image story, on a copy of the bundled fixtures in a
# temporary directory.  An image ships a home directory with a starter
# ~/.config/nvim and a ~/.gitconfig; the user's dotfiles repository is in
# ~/dotfiles.  cstow-entrypoint links it at container start, moving what
# is in the way into the vault, then becomes the container's command.
#
# Usage: tests/demo.sh [CSTOW]   (cstow-entrypoint is looked for next to
# CSTOW; `make demo` runs `sh tests/demo.sh cli/cstow`)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
cstow=${1:-$root/cli/cstow}
case $cstow in /*) ;; *) cstow=$root/$cstow ;; esac
entrypoint=$(dirname "$cstow")/cstow-entrypoint
for prog in "$cstow" "$entrypoint"; do
	if [ ! -x "$prog" ]; then
		echo "demo.sh: $prog is not built; run make all" >&2
		exit 2
	fi
done
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cstow-demo.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'rm -rf "$tmp"; exit 130' INT TERM

# The fixture is a tree spec for tree_make, which lives in a bash
# library; cstow.conf has several lines, so it is a file of its own.
bash -c '. "$1/tests/treelib.sh" && tree_make "$1/fixtures/trees/demo.tree" "$2"' \
    sh "$root" "$tmp"
cp "$root/fixtures/demo/cstow.conf" "$tmp/home/dotfiles/cstow.conf"
home=$tmp/home

# Both programs see only the temporary home: no settings from the caller,
# and no ./.stowrc from the directory make was started in.
unset XDG_STATE_HOME STOW_DIR CSTOW_DIR CSTOW_TARGET CSTOW_PACKAGES \
    CSTOW_CONFLICT CSTOW_STRICT CSTOW_QUIET
HOME=$home
export HOME
cd "$home"
vault=.local/state/cstow/backup

# Prints stdin with the temporary home shown as "~".
tidy() {
	awk -v h="$home" '{
		while ((i = index($0, h)) > 0)
			$0 = substr($0, 1, i - 1) "~" substr($0, i + length(h))
		print "  " $0
	}'
}

# Lists the home directory, without ~/dotfiles and the vault.
show() {
	find . -mindepth 1 \( -path ./dotfiles -o -path ./.local/state \) \
	    -prune -o -print | LC_ALL=C sort | while IFS= read -r p; do
		p=${p#./}
		if [ -L "$p" ]; then
			printf '  ~/%s -> %s\n' "$p" "$(readlink "$p")"
		elif [ -d "$p" ]; then
			printf '  ~/%s/\n' "$p"
		else
			printf '  ~/%s: %s\n' "$p" "$(head -n 1 "$p")"
		fi
	done
}

# Runs cstow-entrypoint with the arguments given, stdout and stderr
# merged in order, and says which PID it was started as.
entrypoint() {
	status=0
	"$entrypoint" "$@" >"$tmp/out" 2>&1 &
	pid=$!
	wait "$pid" || status=$?
	tidy <"$tmp/out"
	echo "  (cstow-entrypoint was started as PID $pid; exit status $status)"
}

echo "== The image's home directory (~/dotfiles and the vault not shown):"
show
echo
echo "== The dotfiles repository, ~/dotfiles, and its cstow.conf:"
(cd dotfiles && find . -mindepth 2 ! -type d | LC_ALL=C sort |
    sed -e 's|^\./|  |' -e 's|README.md$|& (not linked: the built-in ignore list)|')
sed -n '/^\[/,$p' dotfiles/cstow.conf | sed 's/^/  | /'
echo
echo "== Container start: cstow-entrypoint sh -c 'echo \"container command runs as PID \$\$\"'"
entrypoint sh -c 'echo "container command runs as PID $$"'
echo
echo "== The home directory now:"
show
echo
echo "== The vault (~/$vault/RUN) and its MANIFEST (SHA-256 shortened):"
run=$(cd "$vault" && echo *)
echo "  RUN = $run"
awk -F '\t' '{ printf "%s %s %3s %-12.12s  %-22s %s\n", $1, $2, $3, $4, $5, $6 }' \
    "$vault/$run/MANIFEST" | tidy
echo
echo "== Restart: the same command again changes nothing:"
entrypoint sh -c 'echo "container command runs as PID $$"'
echo
echo "== cstow -d ~/dotfiles --restore puts the image's files back:"
"$cstow" -d "$home/dotfiles" --restore 2>&1 | tidy
echo "  ~/.gitconfig: $(cat .gitconfig)"
echo "  ~/.config/nvim/: $(ls .config/nvim)"
echo
echo "== Restow via the entrypoint (no command: it exits with the linking status):"
entrypoint
echo
echo "== Final home directory:"
show
echo "  ~/.gitconfig: $(cat .gitconfig)"
echo "  vault runs: $(cd "$vault" && echo *)"
