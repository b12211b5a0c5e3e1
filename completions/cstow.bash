# bash completion for cstow(1)                             -*- shell-script -*-
#
# Completes options, option values, and package names: the top-level
# directories of the stow directory in effect -- the -d/--dir given on
# the command line, else $STOW_DIR, else the current directory -- whose
# names do not begin with a dot.  Needs only bash 4; works with or
# without the bash-completion package.
#
# Install as $(PREFIX)/share/bash-completion/completions/cstow, or
# source it from ~/.bashrc.

# Every option; those ending in '=' take a value in the same word.
_cstow_options='-d --dir= -t --target= -S --stow -D --delete -R --restow
	--ignore= --defer= --override= --adopt --no-folding --dotfiles
	-p --compat --all --package-target= --conflict= --replace=
	--backup-dir= --restore --restore= --config= --no-config --no-wait
	--set-aside-journal
	--check --badlinks --aliens --list --format=
	-n --no --simulate -v --verbose --verbose= -V --version -h --help'

# A word of the command line as the shell will pass it, roughly: quotes
# and backslashes removed, a leading ~ expanded.
_cstow_unquote()
{
	local w=$1
	w=${w#[\'\"]}
	w=${w%[\'\"]}
	w=${w//\\/}
	case $w in
	'~') w=$HOME ;;
	'~/'*) w=$HOME/${w#'~/'} ;;
	esac
	printf '%s' "$w"
}

# The stow directory in effect for the words before the cursor.
_cstow_stow_dir()
{
	local i j w c dir=
	for ((i = 1; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		case $w in
		--)
			break ;;
		--dir|--di)
			# "--dir=DIR" arrives as "--dir" "=" "DIR" when '='
			# breaks words, as it does by default.
			if [[ ${COMP_WORDS[i+1]} == = ]]; then
				((i++))
			fi
			if ((i + 1 < COMP_CWORD)); then
				dir=${COMP_WORDS[i+1]}
			fi
			((i++)) ;;
		--dir=*)
			dir=${w#--dir=} ;;
		--*)
			;;
		-?*)
			# A bundle such as -nvd DIR or -dDIR.
			for ((j = 1; j < ${#w}; j++)); do
				c=${w:j:1}
				[[ $c == [dt] ]] || continue
				if ((j + 1 < ${#w})); then
					[[ $c == d ]] && dir=${w:j+1}
				else
					[[ $c == d ]] && ((i + 1 < COMP_CWORD)) &&
					    dir=${COMP_WORDS[i+1]}
					((i++))
				fi
				break
			done ;;
		esac
	done
	if [[ -n $dir ]]; then
		_cstow_unquote "$dir"
	elif [[ -n ${STOW_DIR-} ]]; then
		printf '%s' "$STOW_DIR"
	else
		printf '.'
	fi
}

# Adds to COMPREPLY the packages starting with $2, each prefixed by $1
# and followed by $3.
_cstow_add_packages()
{
	local pfx=$1 cur=$2 sfx=$3 dir d n
	dir=$(_cstow_stow_dir)
	for d in "$dir"/*/; do
		[[ -d $d ]] || continue
		n=${d%/}
		n=${n##*/}
		[[ $n == .* ]] && continue
		[[ $n == "$cur"* ]] && COMPREPLY+=("$pfx$n$sfx")
	done
}

# Adds to COMPREPLY the words of list $3 starting with $2, prefixed by $1.
_cstow_add_words()
{
	local pfx=$1 cur=$2 w
	for w in $3; do
		[[ $w == "$cur"* ]] && COMPREPLY+=("$pfx$w")
	done
}

# Adds files (-f) or directories (-d) starting with $3, prefixed by $2.
_cstow_add_files()
{
	local kind=$1 pfx=$2 cur=$3 f
	compopt -o filenames 2>/dev/null
	while IFS= read -r f; do
		COMPREPLY+=("$pfx$f")
	done < <(compgen "-$kind" -- "$cur")
}

# Completes the value of option $1 in word $3, after prefix $2.
_cstow_value()
{
	local opt=$1 pfx=$2 cur=$3
	case $opt in
	-d|--dir|-t|--target|--backup-dir)
		_cstow_add_files d "$pfx" "$cur" ;;
	--config)
		_cstow_add_files f "$pfx" "$cur" ;;
	--conflict)
		_cstow_add_words "$pfx" "$cur" 'fail adopt backup' ;;
	--format)
		_cstow_add_words "$pfx" "$cur" 'text json' ;;
	--verbose)
		_cstow_add_words "$pfx" "$cur" '0 1 2 3 4 5' ;;
	--package-target)
		if [[ $cur == *=* ]]; then
			_cstow_add_files d "$pfx${cur%%=*}=" "${cur#*=}"
		else
			_cstow_add_packages "$pfx" "$cur" =
			compopt -o nospace 2>/dev/null
		fi ;;
	*)
		return 1 ;;
	esac
	return 0
}

_cstow()
{
	local cur prev i
	COMPREPLY=()
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=
	((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD-1]}

	# After "--" every word is a package.
	for ((i = 1; i < COMP_CWORD; i++)); do
		if [[ ${COMP_WORDS[i]} == -- ]]; then
			_cstow_add_packages '' "$cur" ''
			return 0
		fi
	done

	# A value: "--opt=VAL" as one word, or split at '=' by bash, or
	# the word after an option that takes one.
	if [[ $cur == --*=* ]]; then
		_cstow_value "${cur%%=*}" "${cur%%=*}=" "${cur#*=}"
		return 0
	fi
	if [[ $cur == = ]]; then
		_cstow_value "$prev" '' ''
		return 0
	fi
	if [[ $prev == = ]] && ((COMP_CWORD > 1)); then
		_cstow_value "${COMP_WORDS[COMP_CWORD-2]}" '' "$cur"
		return 0
	fi
	case $prev in
	-d|--dir|-t|--target|--backup-dir|--config|--conflict|--format|\
	--package-target)
		_cstow_value "$prev" '' "$cur"
		return 0 ;;
	-[!-]*[dt])
		_cstow_value "-${prev: -1}" '' "$cur"
		return 0 ;;
	esac

	if [[ $cur == -* ]]; then
		_cstow_add_words '' "$cur" "$_cstow_options"
		if [[ ${#COMPREPLY[@]} -eq 1 && ${COMPREPLY[0]} == *= ]]; then
			compopt -o nospace 2>/dev/null
		fi
		return 0
	fi
	_cstow_add_packages '' "$cur" ''
	return 0
}

complete -F _cstow cstow
