#!/usr/bin/env bash
# completion.sh: tests of the shell completions in completions/.
#
#   tests/completion.sh [CSTOW_BINARY]
#
# Drives completions/cstow.bash in `bash -c` with a made-up COMP_WORDS
# and COMP_CWORD and checks COMPREPLY: option names, option values,
# package names from a temporary stow directory (the current directory,
# $STOW_DIR, -d DIR, --dir=DIR split at '=' as bash splits it, -nd DIR,
# ~/DIR), and that dot-directories and files are not packages.  Checks
# that the option list of the completions matches cstow's long options
# (cli/cstow.c) and that --help names every one of them.  The zsh and
# fish completions are syntax-checked when zsh and fish are installed
# (skipped otherwise), and the zsh one is run for packages.
#
# Prints one line per check and, last, "N passed, N failed".

set -u
export LC_ALL=C

here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
top=$(cd -- "$here/.." && pwd -P)
bashcomp=$top/completions/cstow.bash
zshcomp=$top/completions/_cstow
fishcomp=$top/completions/cstow.fish
cstow=${1:-$top/cli/cstow}

passed=0
failed=0
skipped=0

tmp=$(mktemp -d "${TMPDIR:-/tmp}/cstow-comp.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT

# A stow directory with packages alpha, beta and bin-tools, a dot-dir
# and a file (neither is a package); another one in $tmp/home/dots.
mkdir -p "$tmp/stow/alpha" "$tmp/stow/beta" "$tmp/stow/bin-tools" \
    "$tmp/stow/.git" "$tmp/other/gamma" "$tmp/home/dots/delta" \
    "$tmp/work/sub dir"
: >"$tmp/stow/cstow.conf"

# complete DIR WORD... : runs the bash completion for the words (the
# last is the one being completed) in DIR, prints COMPREPLY sorted, one
# per line.  STOW_DIR comes from the caller's environment.
complete_words() {
	local dir=$1
	shift
	(cd "$dir" && HOME=$tmp/home bash -c '
		. "$1"
		shift
		COMP_WORDS=("$@")
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		COMP_LINE="${COMP_WORDS[*]}"
		COMP_POINT=${#COMP_LINE}
		_cstow
		printf "%s\n" "${COMPREPLY[@]}" | LC_ALL=C sort
	' completion "$bashcomp" "$@")
}

# check NAME EXPECTED ACTUAL
check() {
	if [ "$2" = "$3" ]; then
		echo "ok $1"
		passed=$((passed + 1))
	else
		echo "FAIL $1"
		echo "  # expected: $(printf '%s' "$2" | tr '\n' ' ')"
		echo "  # actual:   $(printf '%s' "$3" | tr '\n' ' ')"
		failed=$((failed + 1))
	fi
}

nl=$'\n'
unset STOW_DIR

check "option --dot completes to --dotfiles" "--dotfiles" \
    "$(complete_words "$tmp" cstow --dot)"
check "option --no- completes to --no-config --no-folding --no-wait" \
    "--no-config$nl--no-folding$nl--no-wait" "$(complete_words "$tmp" cstow --no-)"
check "option --ch completes to --check" "--check" \
    "$(complete_words "$tmp" cstow --ch)"
check "option --form completes to --format=" "--format=" \
    "$(complete_words "$tmp" cstow --form)"
check "--conflict= values (split at =)" "adopt${nl}backup${nl}fail" \
    "$(complete_words "$tmp" cstow --conflict =)"
check "--conflict=b value (split at =)" "backup" \
    "$(complete_words "$tmp" cstow --conflict = b)"
check "--format=j value (one word)" "--format=json" \
    "$(complete_words "$tmp" cstow --format=j)"
check "-t value is a directory" "sub dir" \
    "$(complete_words "$tmp/work" cstow -nt su)"
check "--dir value is a directory" "sub dir" \
    "$(complete_words "$tmp/work" cstow --dir su)"

check "packages of the current directory" \
    "alpha${nl}beta${nl}bin-tools" "$(complete_words "$tmp/stow" cstow '')"
check "packages by prefix" "beta${nl}bin-tools" \
    "$(complete_words "$tmp/stow" cstow -S b)"
check "no dot-directories or files" "" \
    "$(complete_words "$tmp/stow" cstow .)"
check "packages after options" "alpha" \
    "$(complete_words "$tmp/stow" cstow -v --dotfiles -R a)"
check "-d DIR honoured" "gamma" \
    "$(complete_words "$tmp" cstow -d other '')"
check "-dDIR honoured" "gamma" \
    "$(complete_words "$tmp" cstow -dother -n '')"
check "-nd DIR honoured" "gamma" \
    "$(complete_words "$tmp" cstow -nd other '')"
check "--dir=DIR honoured (split at =)" "gamma" \
    "$(complete_words "$tmp" cstow --dir = other -D '')"
check "--dir=DIR honoured (one word)" "gamma" \
    "$(complete_words "$tmp" cstow --dir=other '')"
check "-d ~/DIR honoured" "delta" \
    "$(complete_words "$tmp" cstow -d '~/dots' '')"
check "\$STOW_DIR honoured" "alpha${nl}beta${nl}bin-tools" \
    "$(STOW_DIR=$tmp/stow complete_words "$tmp" cstow '')"
check "-d beats \$STOW_DIR" "gamma" \
    "$(STOW_DIR=$tmp/stow complete_words "$tmp" cstow -d other '')"
check "after --, words are packages" "alpha" \
    "$(complete_words "$tmp/stow" cstow -- a)"
check "--package-target= offers PKG=" "--package-target=alpha=" \
    "$(complete_words "$tmp/stow" cstow --package-target=al)"

# The option list against cstow's long options and its --help.
# (not the long forms of one-letter options, "--d", which GNU Stow has
# too and neither program documents)
longopts=$(sed -n 's/^	{ "\([a-z][a-z-][a-z-]*\)",.*/--\1/p' "$top/cli/cstow.c" | sort)
compopts=$(. "$bashcomp" && printf '%s\n' $_cstow_options | sed 's/=$//' |
    grep '^--' | sort -u)
check "completions offer every long option of cli/cstow.c" "$longopts" \
    "$compopts"
if [ -x "$cstow" ]; then
	missing=
	for o in $longopts; do
		"$cstow" --help | grep -q -- "$o\\b" || missing="$missing $o"
	done
	check "--help names every long option" "" "$missing"
else
	echo "skip --help names every long option (no $cstow)"
	skipped=$((skipped + 1))
fi

if command -v zsh >/dev/null 2>&1; then
	check "zsh completion parses" "" "$(zsh -n "$zshcomp" 2>&1)"
	# Run _cstow_packages with the words of a command line.
	out=$(cd "$tmp" && HOME=$tmp/home zsh -f -c '
		source "$1"
		words=(cstow -d other "")
		CURRENT=4
		_cstow_stow_dir
	' zsh "$zshcomp" 2>&1)
	check "zsh: -d DIR honoured" "other" "$out"
	out=$(cd "$tmp" && HOME=$tmp/home zsh -f -c '
		source "$1"
		words=(cstow --dir=~/dots "")
		CURRENT=3
		_cstow_stow_dir
	' zsh "$zshcomp" 2>&1)
	check "zsh: --dir=~/DIR honoured" "$tmp/home/dots" "$out"
	out=$(cd "$tmp/stow" && HOME=$tmp/home zsh -f -c '
		source "$1"
		words=(cstow "")
		CURRENT=2
		_cstow_package_names
	' zsh "$zshcomp" 2>&1)
	check "zsh: packages of the current directory" \
	    "alpha${nl}beta${nl}bin-tools" "$out"
else
	echo "skip zsh completion (zsh not installed)"
	skipped=$((skipped + 1))
fi

if command -v fish >/dev/null 2>&1; then
	check "fish completion parses" "" "$(fish --no-execute "$fishcomp" 2>&1)"
	out=$(cd "$tmp" && HOME=$tmp/home fish --no-config -c "
		source '$fishcomp'
		complete -C 'cstow -d other '
	" 2>&1 | cut -f1 | sort)
	check "fish: -d DIR honoured" "gamma" "$out"
	out=$(cd "$tmp/stow" && HOME=$tmp/home fish --no-config -c "
		source '$fishcomp'
		complete -C 'cstow b'
	" 2>&1 | cut -f1 | sort)
	check "fish: packages by prefix" "beta${nl}bin-tools" "$out"
	out=$(cd "$tmp/stow" && HOME=$tmp/home fish --no-config -c "
		source '$fishcomp'
		complete -C 'cstow --dot'
	" 2>&1 | cut -f1 | sort)
	check "fish: --dot completes to --dotfiles" "--dotfiles" "$out"
else
	echo "skip fish completion (fish not installed)"
	skipped=$((skipped + 1))
fi

echo "$passed passed, $failed failed, $skipped skipped"
# A skipped check is not a pass: make check installs zsh and fish.
[ "$failed" -eq 0 ] && [ "$skipped" -eq 0 ]
