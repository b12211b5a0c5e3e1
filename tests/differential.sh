#!/usr/bin/env bash
# differential.sh: differential test of cstow against Debian's GNU Stow 2.3.1.
#
#   tests/differential.sh [--cases N] [--seed S] [--only K] [--jobs J]
#                         [--keep] [--show] [--ref STOW] [--replay CASEFILE]
#                         [CSTOW_BINARY]
#
# Every case builds, in a fresh mktemp -d sandbox, a stow directory
# (stow/) with 2-4 generated packages (nested directories up to depth 3,
# files, directory names shared between packages so that folding and
# unfolding happen, package-internal relative links, ignore-list files),
# or one in ten times a stow directory that is itself the one package
# "." (a dotfiles repository with .git, .gitignore, LICENSE, README.md
# and maybe a .stow-local-ignore at its top, stowed as "stow ." or "./"),
# and a target (the sandbox root, or tgt/ or t/u/ given with -t)
# holding some of: real directories, plain files colliding with package
# files, foreign symlinks (absolute, or relative to ext/ outside the stow
# dir), dangling links into the stow dir, and links owned by packages
# (made by a "setup" run of GNU stow), and sometimes a plain file where
# two packages hold the same file.  That base tree is copied twice
# (cp -a); one generated operation (-S/-D/-R and mixes: 2-3 packages,
# mostly stowed ones sharing folded or unfolded directories, unstowed
# and stowed in one run with -D, -S and -R in any order, as "-D a b -S b
# a", "-R a b" or "-S s1 -R r1 -S s2"; --adopt of the packages holding
# that clashing file; with optional --no-folding --ignore --defer
# --override --dotfiles --adopt -n -v,
# options before or after the packages, varying cwd and -d/-t forms)
# runs in copy A with `stow` and in copy B with the binary under test.
# HOME is an empty directory of the sandbox and STOW_DIR is unset.
#
# Compared: exit status (0 vs 0; 1 vs 1; any other non-zero vs
# non-zero), the complete tree_dump of the sandbox (targets and stow
# dir), and, when stow reports conflicts, the set of conflict lines
# ("WARNING! ...ing PKG would cause conflicts:" and "  * ..."; the one
# conflict GNU Stow 2.4.1 words differently, "cannot stow P over existing
# target T since neither a link nor a directory and --adopt not
# specified", is rewritten to 2.3.1's "existing target is neither a link
# nor a directory: T" after checking P).  Other stderr is not compared
# (cstow's messages differ by design).  One false conflict of GNU Stow
# is taken out first, with a "known:" line: in a run that unstows
# package P, whose directory is folded into a link, and then stows
# packages sharing that directory, GNU Stow looks through the link of
# P's it is removing and reports P's own files there as "neither a link
# nor a directory" (cstow(1) DIFFERENCES); when it had no other
# conflict, the reference runs again split in two, its unstows then its
# stows, and cstow is compared with that.  When both runs succeed (and
# did not simulate), the reverse operation (unstow what was stowed, stow
# what was unstowed) runs in both copies and is compared the same way,
# unless it would unstow into the excluded area below (a "note:" line).
# When
# both die (exit status not 0 or 1) after changing the tree, the partial
# trees are not compared (what 2.3.1 leaves half done follows its readdir
# order); a "note:" line says so.
#
# Not generated, because GNU Stow 2.4 (which cstow follows) deliberately
# differs from 2.3.1 there:
#   excluded: --dotfiles with directories (2.4 renames dot-DIR too)
#   excluded: --adopt edge cases (only plain files over package files are adopted)
#   excluded: absolute symlinks inside packages (2.4 made them conflicts)
#   excluded: unstow conflicts (2.4 reworked unstow: plain files, foreign
#             relative links, directories where an unstowed package has a
#             file, and links into another unstowed package that point to
#             a non-directory are never generated for -D/-R packages)
#   excluded: .stow/.nonstow markers and stow-dir-in-target warnings
#   excluded: -p/--compat
# Also kept out of the comparison: cstow's backup vault (XDG_STATE_HOME
# points outside the compared tree; cstow --adopt saves the package's
# previous version of an adopted file there, GNU Stow overwrites it).
#
# Self-test of the harness: `tests/differential.sh stow` compares GNU
# stow with itself and must always pass.
#
# Output: one FAIL block per failing case (case number, seed, command,
# exit statuses, conflict-set and tree differences, at most 40 diff
# lines, the command re-running it), "excluded: ..." lines, and as last
# line "N passed, N failed".  Exit status 1 if any case failed.
#   --keep      keep failing sandboxes (their "case" file can be replayed
#               and shrunk: tests/diff-minimise.sh SANDBOX/case)
#   --only K    run case K alone and describe it (--show: describe all)
#   --replay F  run the case described by case file F
#   --ref STOW  compare against another stow (default: stow in PATH)
#   --jobs J    parallel workers (default: nproc)
# Default binary: cli/cstow of this repository.

set -u
export LC_ALL=C

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
ROOT_DIR=$(cd -- "$SCRIPT_DIR/.." && pwd)
# shellcheck source=tests/treelib.sh
. "$SCRIPT_DIR/treelib.sh"

CASES=320
SEED=24101
KEEP=0
ONLY=
SHOW=0
JOBS=$(nproc 2>/dev/null || echo 2)
BIN=
REF=
REPLAY=

usage() {	# usage [STATUS]
	if [ "${1:-2}" = 0 ]; then
		sed -n '/^#   tests\/differential.sh/,/^# Default binary/p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
		exit 0
	fi
	sed -n '4,6p' "${BASH_SOURCE[0]}" | sed 's/^#//' >&2
	exit 2
}

while [ $# -gt 0 ]; do
	case $1 in
	--cases) CASES=${2:?}; shift 2 ;;
	--cases=*) CASES=${1#*=}; shift ;;
	--seed) SEED=${2:?}; shift 2 ;;
	--seed=*) SEED=${1#*=}; shift ;;
	--only) ONLY=${2:?}; shift 2 ;;
	--only=*) ONLY=${1#*=}; shift ;;
	--jobs|-j) JOBS=${2:?}; shift 2 ;;
	--jobs=*) JOBS=${1#*=}; shift ;;
	--ref) REF=${2:?}; shift 2 ;;
	--ref=*) REF=${1#*=}; shift ;;
	--replay) REPLAY=${2:?}; shift 2 ;;
	--replay=*) REPLAY=${1#*=}; shift ;;
	--keep) KEEP=1; shift ;;
	--show) SHOW=1; shift ;;
	-h|--help) usage 0 ;;
	-*) echo "differential.sh: unknown option $1" >&2; usage ;;
	*) [ -z "$BIN" ] || usage; BIN=$1; shift ;;
	esac
done
case $CASES$SEED$JOBS${ONLY:-0} in *[!0-9]*) echo "differential.sh: numeric arguments expected" >&2; exit 2 ;; esac
[ "$JOBS" -ge 1 ] || JOBS=1

SEEDARG= BINARG=
[ "$SEED" != 24101 ] && SEEDARG=" --seed $SEED"
[ -n "$BIN" ] && BINARG=" $BIN"
REF=${REF:-stow}
REF=$(command -v -- "$REF") || { echo "differential.sh: reference stow not found" >&2; exit 2; }
case $REF in /*) ;; *) REF=$PWD/$REF ;; esac
if [ -z "$BIN" ]; then
	BIN=$ROOT_DIR/cli/cstow
elif [ "${BIN#*/}" = "$BIN" ]; then
	BIN=$(command -v -- "$BIN") || { echo "differential.sh: $1 not found" >&2; exit 2; }
elif [ "${BIN#/}" = "$BIN" ]; then
	BIN=$PWD/$BIN
fi
if [ ! -x "$BIN" ] || [ -d "$BIN" ]; then
	echo "differential.sh: $BIN is not an executable (run make first)" >&2
	exit 2
fi

EXCLUDED=(
	"--dotfiles with directories (stow 2.4 renames dot-DIR directories, 2.3.1 does not)"
	"--adopt edge cases (only plain files over package files are adopted)"
	"absolute symlinks inside packages (stow 2.4 made them conflicts)"
	"unstow conflicts (stow 2.4 reworked unstow; never generated for -D/-R packages)"
	".stow/.nonstow markers and stow-dir-in-target warnings (2.4 prints warnings)"
	"-p/--compat"
	"cstow's backup vault: XDG_STATE_HOME is outside the compared tree (cstow --adopt keeps the package's old file there)"
	"runs where GNU Stow itself dies (its internal errors 'stow_contents()/unstow_contents() called with ...', or rmdir of a directory it wrongly folded: cstow plans the right result instead; counted as 'skipped' per case)"
	"stow links that stand at a path other than their package path (2.3.1 unfolds the package's own path and loses what the link showed; cstow unfolds what the link pointed to)"
)

# ---------------------------------------------------------------------------
# deterministic pseudo-random numbers: 31-bit LCG, per-case state
rng_init() {	# rng_init CASE
	RS=$(( (SEED * 2654435761 + $1 * 97531 + 4099) & 0x7fffffff ))
	local i
	for i in 1 2 3 4 5; do rnd 2; done
}
rnd() {		# rnd N: R = 0..N-1
	RS=$(( (RS * 1103515245 + 12345) & 0x7fffffff ))
	R=$(( (RS >> 12) % $1 ))
}
chance() {	# chance PERCENT
	rnd 100
	(( R < $1 ))
}
pick() {	# pick WORD...: P = one of the words
	rnd $#
	shift "$R"
	P=$1
}

# ---------------------------------------------------------------------------
# case generation
PKG_POOL=(alpha beta gamma delta)
TAG_POOL=(a b c d)
TOP_DIRS=(bin lib share etc doc)
SUB_DIRS=(x y man1)

spec() { SPEC+=("$*"); }

# add_ent PKG PATH KIND: remember a package entry (KIND f, d, lf, ld)
add_ent() {
	KIND["$1/$2"]=$3
	ENTS+=("$1/$2")
	case $3 in
	d) ALLDIRS+=("$2") ;;
	*) ALLFILES+=("$2") ;;
	esac
}

gen_file() {	# gen_file PKG TAG REL NAME
	local path=${3:+$3/}$4
	spec "f stow/$1/$path $1:$path"
	add_ent "$1" "$path" f
}

gen_dir() {	# gen_dir PKG TAG REL DEPTH  (REL is a package-relative dir)
	local pkg=$1 tag=$2 rel=$3 depth=$4 i n nsub name sub files=() subs=()
	spec "d stow/$pkg/$rel"
	add_ent "$pkg" "$rel" d
	if chance 4; then return; fi		# empty directory
	nsub=0
	if [ "$depth" -lt 3 ]; then
		rnd 100
		if [ $R -lt 15 ]; then nsub=2; elif [ $R -lt 55 ]; then nsub=1; fi
	fi
	rnd 3; n=$R
	[ $nsub -eq 0 ] && n=$((n + 1))
	for ((i = 0; i < n; i++)); do
		rnd 100
		if [ $R -lt 14 ]; then name=common
		elif [ $R -lt 20 ]; then name=f
		elif [ $R -lt 26 ] && [ "$DOTF" = 1 ]; then name=dot-$tag$((++CNT))
		else name=$tag$((++CNT))
		fi
		case " ${files[*]} " in *" $name "*) continue ;; esac
		files+=("$name")
		gen_file "$pkg" "$tag" "$rel" "$name"
	done
	if chance 3; then gen_file "$pkg" "$tag" "$rel" "$tag$((++CNT))~"; fi
	for ((i = 0; i < nsub; i++)); do
		pick "${SUB_DIRS[@]}"; sub=$P
		case " ${subs[*]} " in *" $sub "*) continue ;; esac
		subs+=("$sub")
		gen_dir "$pkg" "$tag" "$rel/$sub" $((depth + 1))
	done
	# package-internal relative links (to a sibling file or directory)
	if [ ${#files[@]} -gt 0 ] && chance 8; then
		pick "${files[@]}"
		spec "l stow/$pkg/$rel/ln$tag -> $P"
		add_ent "$pkg" "$rel/ln$tag" lf
	fi
	if [ ${#subs[@]} -gt 0 ] && chance 8; then
		pick "${subs[@]}"
		spec "l stow/$pkg/$rel/cur -> $P"
		add_ent "$pkg" "$rel/cur" ld
	fi
}

gen_pkg() {	# gen_pkg PKG TAG
	local pkg=$1 tag=$2 n i used=" "
	spec "d stow/$pkg"
	rnd 3; n=$((R + 1))
	for ((i = 0; i < n; i++)); do
		pick "${TOP_DIRS[@]}"
		case $used in *" $P "*) continue ;; esac
		used+="$P "
		gen_dir "$pkg" "$tag" "$P" 1
	done
	if chance 35; then
		rnd 100
		if [ $R -lt 25 ]; then P=common
		elif [ $R -lt 40 ] && [ "$DOTF" = 1 ]; then P=dot-${tag}rc
		elif [ $R -lt 46 ] && [ "${used/ doc /}" = "$used" ]; then P=doc	# file here, dir elsewhere
		else P=${tag}rc
		fi
		gen_file "$pkg" "$tag" "" "$P"
	fi
	if chance 8; then gen_file "$pkg" "$tag" "" README.md; fi
	if [ "$pkg" = . ]; then		# what a repository holds besides
		chance 60 && spec "f stow/.git/HEAD ref: refs/heads/main"
		chance 30 && spec "f stow/.gitignore *.swp"
		chance 30 && spec "f stow/LICENSE MIT"
	fi
	if chance 6; then
		pick "${tag}2" '^/doc' x common 'f'
		spec "f stow/$pkg/.stow-local-ignore $P"
	fi
}

# up PATH: "../" for every directory level between PATH's parent and the
# sandbox root
up() {
	local p=$TPRE$1 s=
	p=${p%/*}
	[ "$p" = "$TPRE$1" ] && { UP=; return; }
	while :; do
		s+=../
		[ "${p%/*}" = "$p" ] && break
		p=${p%/*}
	done
	UP=$s
}

# ob_add PATH KIND: reserve an obstacle path (KIND d or n); 1 if taken
ob_add() {
	local p=$1 a
	[ -n "${OBS[$p]+x}" ] && return 1
	a=$p
	while [ "${a%/*}" != "$a" ]; do
		a=${a%/*}
		if [ -n "${OBS[$a]+x}" ] && [ "${OBS[$a]}" != d ]; then return 1; fi
	done
	OBS[$p]=$2
	a=$p
	while [ "${a%/*}" != "$a" ]; do
		a=${a%/*}
		OBS[$a]=d
	done
	return 0
}

# shared_clash: a plain file where two packages hold the same file (for
# --adopt of both: the first adopts it, the second conflicts with it)
shared_clash() {
	local e rel shared=()
	declare -A seen=()
	for e in "${ENTS[@]}"; do
		[ "${KIND[$e]}" = f ] || continue
		rel=${e#*/}
		[ -n "${seen[$rel]+x}" ] && shared+=("$rel")
		seen[$rel]=1
	done
	[ ${#shared[@]} -gt 0 ] || return 0
	pick "${shared[@]}"
	rel=$P
	ob_add "$rel" n || return 0
	spec "f $TPRE$rel clash"
	SHARED=1 SHARED_PKGS=()
	for e in "${ENTS[@]}"; do
		[ "${e#*/}" = "$rel" ] && SHARED_PKGS+=("${e%%/*}")
	done
	return 0
}

gen_obstacles() {
	local n i p name e
	SHARED=0
	chance 20 && shared_clash
	rnd 100
	if [ $R -lt 20 ]; then n=0; else rnd 5; n=$((R + 1)); fi
	for ((i = 0; i < n; i++)); do
		rnd 100
		if [ $R -lt 25 ]; then			# real directory
			pick "${ALLDIRS[@]}"; p=$P
			chance 4 && [ ${#ALLFILES[@]} -gt 0 ] && { pick "${ALLFILES[@]}"; p=$P; }
			ob_add "$p" d || continue
			spec "d $TPRE$p"
			if chance 50; then
				ob_add "$p/own$i" n && spec "f $TPRE$p/own$i mine"
			fi
		elif [ $R -lt 45 ]; then		# plain file over a package entry
			if chance 90 && [ ${#ALLFILES[@]} -gt 0 ]; then pick "${ALLFILES[@]}"; else pick "${ALLDIRS[@]}"; fi
			p=$P
			ob_add "$p" n || continue
			spec "f $TPRE$p clash"
		elif [ $R -lt 67 ]; then		# foreign symlink
			if chance 70; then pick "${ALLFILES[@]}" "${ALLDIRS[@]}"; p=$P
			else pick "${ALLDIRS[@]}"; p=$P/for$i
			fi
			ob_add "$p" n || continue
			# (never a one-component absolute path such as /etc:
			# 2.3.1's foldable() then depends on readdir order)
			if chance 45; then
				pick /dev/null /usr/share "/nonexistent/e$i"
				spec "l $TPRE$p -> $P"
			else
				up "$p"; pick e1 e2 edir nowhere
				spec "l $TPRE$p -> ${UP}ext/$P"
				FOREIGN[$p]=1
			fi
		elif [ $R -lt 90 ]; then		# dangling link into the stow dir
			if chance 50; then pick "${ALLFILES[@]}" "${ALLDIRS[@]}"; p=$P
			else pick "${ALLDIRS[@]}"; p=$P/old$i
			fi
			ob_add "$p" n || continue
			up "$p"; pick "${PKGS[@]}" oldpkg
			spec "l $TPRE$p -> ${UP}stow/$P/$p-gone"
		else					# a package's link, made by hand
			pick "${ENTS[@]}"; e=$P; p=${e#*/}
			# mostly at its own path, sometimes elsewhere (misplaced)
			if chance 30; then pick "${ALLFILES[@]}" "${ALLDIRS[@]}"; p=$P; fi
			ob_add "$p" n || continue
			up "$p"
			spec "l $TPRE$p -> ${UP}stow/${e#./}"
		fi
	done
}

# adjusted target path of a package entry (dot-X -> .X when --dotfiles)
tpath() {
	if [ "$1" = 1 ]; then
		TP=/$2
		TP=${TP//\/dot-/\/.}
		TP=${TP#/}
	else
		TP=$2
	fi
}

# normpath PATH: lexically normalise (like Stow's join_paths) -> NP
normpath() {
	local part out=() IFS=/
	for part in $1; do
		case $part in
		''|.) ;;
		..)	if [ ${#out[@]} -gt 0 ] && [ "${out[-1]}" != .. ]; then
				unset 'out[-1]'
			else
				out+=(..)
			fi ;;
		*) out+=("$part") ;;
		esac
	done
	NP="${out[*]}"
}

# unstow_safe ROOT PKG DOTFILES: 0 if unstowing PKG (together with the
# packages in UNSET) stays out of the excluded "unstow conflicts" area:
# no plain file, foreign relative link or directory where PKG has a file,
# and no link into another unstowed package pointing to a non-directory
# (2.3.1 reports a conflict there once that link is scheduled for
# removal, 2.4 ignores it)
unstow_safe() {
	local root=$1 pkg=$2 dotf=$3 e rel k anc ok t dest other
	for e in "${ENTS[@]}"; do
		[ "${e%%/*}" = "$pkg" ] || continue
		rel=${e#*/}
		k=${KIND[$e]}
		tpath "$dotf" "$rel"
		# visited only if every ancestor is a real directory in the target
		ok=1
		anc=$TP
		while [ "${anc%/*}" != "$anc" ]; do
			anc=${anc%/*}
			t=$root/$TPRE$anc
			if [ -L "$t" ] || [ ! -d "$t" ]; then ok=0; break; fi
		done
		[ $ok = 1 ] || continue
		t=$root/$TPRE$TP
		if [ -L "$t" ]; then
			[ -n "${FOREIGN[$TP]+x}" ] && return 1
			if [ -e "$t" ] && [ ! -d "$t" ]; then
				dest=$(readlink -- "$t")
				case $dest in /*) continue ;; esac
				anc=.
				case $TPRE$TP in */*) anc=$TPRE$TP; anc=${anc%/*} ;; esac
				normpath "$anc/$dest"
				case $NP in
				stow/*/*)
					other=${NP#stow/}; other=${other%%/*}
					if [ "$other" != "$pkg" ] && [[ " ${UNSET[*]} " == *" $other "* ]]; then
						return 1
					fi ;;
				esac
			fi
		elif [ -d "$t" ]; then
			case $k in d|ld) ;; *) return 1 ;; esac
		elif [ -e "$t" ]; then
			return 1
		fi
	done
	return 0
}

# adopt_safe ROOT: --adopt only where plain files lie over package files
adopt_safe() {
	local root=$1 e rel pkg t
	for e in "${ENTS[@]}"; do
		pkg=${e%%/*}
		case " ${STOWSET[*]} " in *" $pkg "*) ;; *) continue ;; esac
		rel=${e#*/}
		t=$root/$TPRE$rel
		if [ -f "$t" ] && [ ! -L "$t" ] && [ "${KIND[$e]}" != f ]; then return 1; fi
	done
	return 0
}

# choose N distinct packages (preferring stowed ones when PREF=1) -> CH
choose_pkgs() {	# choose_pkgs N PREF EXCLUDE...
	local n=$1 pref=$2 i tries=0
	shift 2
	local excl=" $* "
	CH=()
	while [ ${#CH[@]} -lt "$n" ] && [ $tries -lt 20 ]; do
		tries=$((tries + 1))
		if [ "$pref" = 1 ] && [ ${#SETUP[@]} -gt 0 ] && chance 75; then
			pick "${SETUP[@]}"
		else
			pick "${PKGS[@]}"
		fi
		case "$excl ${CH[*]} " in *" $P "*) continue ;; esac
		CH+=("$P")
	done
}

gen_op() {
	local k t flag
	OPTS=() ROPTS=() PKGARGS=() UNSET=() STOWSET=() SIM=0 ADOPT=0 MIXED=0
	rnd 3; k=$((R + 1))
	rnd 100; t=$R
	# "." is the only package: stow, unstow or restow it
	[ "$DOTPKG" = 1 ] && { rnd 64; t=$R; k=1; }
	if [ "$SHARED" = 1 ] && chance 50; then	# --adopt where they clash
		STOWSET=("${SHARED_PKGS[@]}")
		chance 50 && STOWSET=("${STOWSET[1]}" "${STOWSET[0]}" "${STOWSET[@]:2}")
		PKGARGS=("${STOWSET[@]}")
		ADOPT=1
	elif [ $t -lt 82 ] && [ $t -ge 62 ]; then	# mixed -D/-S/-R
		gen_mixed_op
	elif [ $t -lt 30 ]; then			# stow
		choose_pkgs $k 0
		STOWSET=("${CH[@]}")
		if chance 50; then pick -S --stow; PKGARGS=("$P"); fi
		PKGARGS+=("${CH[@]}")
	elif [ $t -lt 50 ]; then		# unstow
		choose_pkgs $k 1
		UNSET=("${CH[@]}")
		pick -D -D --delete; PKGARGS=("$P" "${CH[@]}")
	elif [ $t -lt 62 ]; then		# restow
		choose_pkgs $k 1
		UNSET=("${CH[@]}"); STOWSET=("${CH[@]}")
		pick -R -R --restow; PKGARGS=("$P" "${CH[@]}")
		# "./" is "."
		[ "$DOTPKG" = 1 ] && chance 30 && PKGARGS=("$P" ./)
	elif [ $t -lt 86 ]; then		# -D a -S b
		choose_pkgs 1 1; UNSET=("${CH[@]}")
		rnd 2; choose_pkgs $((R + 1)) 0 "${UNSET[@]}"; STOWSET=("${CH[@]}")
		PKGARGS=(-D "${UNSET[@]}" -S "${STOWSET[@]}")
	elif [ $t -lt 91 ]; then		# -S b -D a  (order reversed)
		choose_pkgs 1 1; UNSET=("${CH[@]}")
		choose_pkgs 1 0 "${UNSET[@]}"; STOWSET=("${CH[@]}")
		if chance 50; then PKGARGS=("${STOWSET[@]}" -D "${UNSET[@]}")
		else PKGARGS=(-S "${STOWSET[@]}" -D "${UNSET[@]}"); fi
	elif [ $t -lt 98 ]; then		# -R a -S b
		choose_pkgs 1 1; UNSET=("${CH[@]}"); STOWSET=("${CH[@]}")
		choose_pkgs 1 0 "${UNSET[@]}"
		STOWSET+=("${CH[@]}")
		PKGARGS=(-R "${UNSET[@]}" -S "${CH[@]}")
	else					# a package that does not exist
		choose_pkgs 1 0
		pick -S -D; flag=$P
		if [ "$flag" = -D ]; then UNSET=("${CH[@]}"); else STOWSET=("${CH[@]}"); fi
		PKGARGS=("$flag" "${CH[@]}" nopkg)
	fi
	# options
	if chance 20; then pick --no-folding --no-folding --no-f; OPTS+=("$P"); ROPTS+=("$P"); fi
	if [ "$DOTF" = 1 ] && chance 80; then OPTS+=(--dotfiles); ROPTS+=(--dotfiles); fi
	if chance 12; then
		pick a1 '.*2' doc 'x/.*' common rc '[ab][0-9]' f
		OPTS+=("--ignore=$P"); ROPTS+=("--ignore=$P")
		if chance 30; then pick b3 man1 'y'; OPTS+=(--ignore "$P"); ROPTS+=(--ignore "$P"); fi
	fi
	if chance 10; then pick bin lib 'share/' '.*' 'etc/x' doc; OPTS+=("--defer=$P"); ROPTS+=("--defer=$P"); fi
	if chance 10; then pick bin 'lib/.*' '.*' share doc 'etc'; OPTS+=("--override=$P"); ROPTS+=("--override=$P"); fi
	if chance 10; then SIM=1; pick -n --simulate --no --sim; OPTS+=("$P"); fi
	if chance 15; then pick -v -v -vv --verbose=2 --verbose; OPTS+=("$P"); ROPTS+=("$P"); fi
	# --adopt: more often with several packages, which may hold the
	# same file, and for "."
	local adopt=6
	[ ${#STOWSET[@]} -gt 1 ] && adopt=20
	[ ${#STOWSET[@]} -gt 1 ] && [ "$SHARED" = 1 ] && adopt=50
	[ "$DOTPKG" = 1 ] && adopt=25
	if [ ${#UNSET[@]} -eq 0 ] && [ "$DOTF" = 0 ] &&
	    { [ $ADOPT = 1 ] || chance $adopt; }; then
		ADOPT=1; OPTS+=(--adopt)
	else
		ADOPT=0
	fi
}

# gen_mixed_op: 2-3 packages (mostly stowed ones, which share folded or
# unfolded directories) unstowed and stowed in one run, with -D, -S and
# -R mixed in any order: "-D a b -S b a", "-R a b", "-D a -R b -S a",
# "-S s1 -R r1 -S s2".  Sets PKGARGS, UNSET and STOWSET.
gen_mixed_op() {
	local items=() p i j x last=
	MIXED=1
	rnd 2; choose_pkgs $((R + 2)) 1
	for p in "${CH[@]}"; do
		rnd 4
		case $R in
		0) items+=("-D $p"); UNSET+=("$p") ;;
		1) items+=("-R $p"); UNSET+=("$p"); STOWSET+=("$p") ;;
		2) items+=("-D $p" "-S $p"); UNSET+=("$p"); STOWSET+=("$p") ;;
		*) items+=("-S $p"); STOWSET+=("$p") ;;
		esac
	done
	# shuffle; an unstow and a stow of one package may come in either
	# order, both mean "unstow, then stow"
	for ((i = ${#items[@]} - 1; i > 0; i--)); do
		rnd $((i + 1)); j=$R
		x=${items[i]}; items[i]=${items[j]}; items[j]=$x
	done
	for x in "${items[@]}"; do
		[ "${x% *}" != "$last" ] && PKGARGS+=("${x% *}")
		last=${x% *}
		PKGARGS+=("${x#* }")
	done
}

# arguments selecting stow dir, target and cwd
gen_dirargs() {
	rnd 100
	TPRE= ; CWDREL=.
	if [ $R -lt 15 ]; then DIRARGS=(-d stow)
	elif [ $R -lt 25 ]; then DIRARGS=("--dir=@ROOT@/stow")
	elif [ $R -lt 40 ]; then CWDREL=stow; DIRARGS=()
	elif [ $R -lt 47 ]; then CWDREL=stow; DIRARGS=(-t ..)
	elif [ $R -lt 55 ]; then CWDREL=home; DIRARGS=(-d ../stow -t ..)
	elif [ $R -lt 67 ]; then TPRE=tgt/; DIRARGS=(-d stow -t tgt)
	elif [ $R -lt 77 ]; then TPRE=tgt/; CWDREL=stow; DIRARGS=("--target=@ROOT@/tgt")
	elif [ $R -lt 85 ]; then TPRE=tgt/; DIRARGS=(-t tgt -d "@ROOT@/stow")
	elif [ $R -lt 93 ]; then TPRE=t/u/; DIRARGS=(-d ./stow --target=t/u)
	else TPRE=t/u/; CWDREL=stow; DIRARGS=(--targ=../t/u)
	fi
}

# run_tool ROOT TOOL OUTPREFIX ARG...: run in copy ROOT; sets RC
run_tool() {
	local root=$1 tool=$2 pfx=$3
	shift 3
	local args=("$@")
	args=("${args[@]//@ROOT@/$root}")
	(
		unset STOW_DIR XDG_CONFIG_HOME
		export HOME=$root/home
		# cstow's backup vault (--adopt keeps the package's old
		# version there) lives outside the compared tree
		export XDG_STATE_HOME=$root.state
		cd "$root/$CWDREL" || exit 99
		exec timeout 30 "$tool" "${args[@]}"
	) >"$pfx.out" 2>"$pfx.err"
	RC=$?
}

# conflict_set ERRFILE: the sorted set of conflict lines.  GNU Stow 2.4.1
# words one conflict differently from 2.3.1; it is rewritten to the 2.3.1
# wording, after checking that its package path is the one 2.3.1 implies
# (STOWREL/PACKAGE/TARGET, or with dot-X for .X under --dotfiles):
#   2.4.1: cannot stow P over existing target T since neither a link nor
#          a directory and --adopt not specified
#   2.3.1: existing target is neither a link nor a directory: T
conflict_set() {
	local sp=stow
	case $TPRE in ?*/?*/) sp=../../stow ;; ?*/) sp=../stow ;; esac
	awk -v sp="$sp" '
	/^WARNING! (un)?stowing .* would cause conflicts:$/ {
		pkg = $3; print; next }
	/^  \* cannot stow .* over existing target .* since neither a link nor a directory and --adopt not specified$/ {
		rest = substr($0, 17)
		i = index(rest, " over existing target ")
		p = substr(rest, 1, i - 1)
		t = substr(rest, i + 22)
		sub(/ since neither a link nor a directory and --adopt not specified$/, "", t)
		u = "/" t; gsub(/\/\./, "/dot-", u); u = substr(u, 2)
		pp = pkg == "." ? sp : sp "/" pkg	# "." is the stow dir
		if (p == pp "/" t || p == pp "/" u) {
			print "  * existing target is neither a link nor a directory: " t
			next
		}
	}
	/^  \* / { print }' "$1" | sort -u
}

# reference_died PHASE: did GNU Stow die on one of its own known bugs?
reference_died() {
	grep -Eq "(stow_contents|unstow_contents)\(\) called with|Could not remove directory" \
	    "$SB/$1.A.err"
}

# misplaced_links: does the tree before hold a stow link to a package
# directory at a path other than the one that directory is stowed at,
# or, in a run that unstows, one to a package file in another directory
# than the file's (a directory holding only it folds into a misplaced
# directory link)?  ARG...: the run's command line.
# (Dangling stow links under other names are ordinary test content.)
misplaced_links() {
	local t=$SB/A line path text dest rel
	split_op "$@"
	while IFS= read -r line; do
		path=${line#l }; path=${path%% -> *}; text=${line#* -> }
		# only links in the target, not inside packages
		case $path in stow/*) continue ;; esac
		case $path in "$TPRE"*) ;; *) continue ;; esac
		case $text in /*) continue ;; esac
		dest=$(realpath -m -s --relative-to="$t" "$t/$(dirname "$path")/$text")
		case $dest in stow/*/*) ;; *) continue ;; esac
		[ -e "$t/$dest" ] || continue
		rel=${dest#stow/}
		[ "$DOTPKG" = 1 ] || rel=${rel#*/}	# "." is the stow dir
		if [ -d "$t/$dest" ]; then
			[ "$TPRE$rel" = "$path" ] || return 0
		elif [ ${#SPLIT_UN[@]} -gt 0 ] &&
		    [ "$(dirname -- "$TPRE$rel")" != "$(dirname -- "$path")" ]; then
			return 0
		fi
	done < <(grep '^l ' "$SB/before.tree")
	return 1
}

# reverse_safe: does the reverse run, on the tree the operation left
# in copy A, stay out of the excluded unstow-conflict area (unstow_safe)?
reverse_safe() {
	local UNSET pkg dotf=0
	split_op "${REVARGS[@]}"
	UNSET=("${SPLIT_UN[@]}")
	case " ${SPLIT_OPTS[*]} " in *" --dotfiles "*) dotf=1 ;; esac
	for pkg in "${UNSET[@]}"; do
		unstow_safe "$SB/A" "$pkg" $dotf || return 1
	done
	return 0
}

# split_op ARG...: the options (SPLIT_OPTS), and the packages unstowed
# (SPLIT_UN) and stowed (SPLIT_ST), each in command-line order, of a
# stow command line
split_op() {
	local act=-S a want=
	SPLIT_OPTS=() SPLIT_UN=() SPLIT_ST=()
	for a in "$@"; do
		if [ -n "$want" ]; then SPLIT_OPTS+=("$a"); want=; continue; fi
		case $a in
		-D|--delete) act=-D ;;
		-S|--stow) act=-S ;;
		-R|--restow) act=-R ;;
		-d|-t|--ignore|--defer|--override) SPLIT_OPTS+=("$a"); want=1 ;;
		-*) SPLIT_OPTS+=("$a") ;;
		*)	[ $act != -S ] && SPLIT_UN+=("$a")
			[ $act != -D ] && SPLIT_ST+=("$a") ;;
		esac
	done
}

# false_conflicts PHASE X ARG...: GNU Stow's false conflict in a run that
# unstows package P, whose directory D is folded into a link, and then
# stows packages sharing D: the stow of one makes D its link, the stow
# of P takes that back to unfold D, and GNU Stow then forgets that P's
# own link at D is being removed, looks through it and reports P's own
# files under D as "existing target is neither a link nor a directory".
# cstow plans the right tree.  X is the copy (A: the reference; B: the
# tested binary, when that is GNU Stow itself).  Writes PHASE.X.false
# (the run's stderr without those lines) and returns 0 when there were
# some.
false_conflicts() {
	local phase=$1 x=$2 pkg t anc line text dest n=0 hdr=
	shift 2
	split_op "$@"
	: >"$SB/$phase.$x.false"
	while IFS= read -r line; do
		case $line in
		'WARNING! '*'stowing '*' would cause conflicts:')
			# printed with its first conflict that stays
			hdr=$line pkg=${line#WARNING! stowing }
			pkg=${pkg% would cause*}
			[ "$pkg" = "$line" ] && pkg=	# unstowing
			continue ;;
		'  * existing target is neither a link nor a directory: '*|\
		'  * cannot stow '*' since neither a link nor a directory and --adopt not specified')
			t=${line#*existing target }
			t=${t#is neither a link nor a directory: }
			t=${t% since neither a link nor a directory*}
			if [ -n "$pkg" ] && [[ " ${SPLIT_UN[*]} " == *" $pkg "* ]]; then
				anc=$t
				while [ "${anc%/*}" != "$anc" ]; do
					anc=${anc%/*}
					text=$(sed -n "s|^l $TPRE$anc -> ||p" "$SB/before.tree")
					[ -n "$text" ] || continue
					dest=$TPRE$anc
					case $dest in */*) dest=${dest%/*}/$text ;; *) dest=$text ;; esac
					normpath "$dest"
					case "$NP/" in
					"stow/$pkg/"*|"stow/${pkg#.}"*)	# "." is the stow dir
						n=$((n + 1)); continue 3 ;;
					esac
				done
			fi ;;
		esac
		case $line in '  * '*) ;; *) hdr= ;; esac
		printf '%s\n' ${hdr:+"$hdr"} "$line" >>"$SB/$phase.$x.false"
		hdr=
	done <"$SB/$phase.$x.err"
	[ $n -gt 0 ] || return 1
	[ "$x" = A ] && echo "known: case $K $phase: GNU Stow reported $n false conflict(s) over a folded link it removes; compared without them" >>"$LOG"
	return 0
}

# after_false_conflicts PHASE X TOOL: the outcome of TOOL's run in copy
# X without its false conflicts (false_conflicts()): when it had no
# others, TOOL runs again in copy X split in two, its unstows then its
# stows, which is what the run means; sets RC to that outcome.
after_false_conflicts() {
	local phase=$1 x=$2 tool=$3
	conflict_set "$SB/$phase.$x.false" >"$SB/$phase.$x.conf"
	RC=1
	grep -q '^  \* ' "$SB/$phase.A.conf" && return
	RC=0
	[ "$SIM" = 1 ] && return
	local opts=("${SPLIT_OPTS[@]}")
	if [ ${#SPLIT_UN[@]} -gt 0 ]; then
		run_tool "$SB/$x" "$tool" "$SB/$phase.$x.split1" "${opts[@]}" -D "${SPLIT_UN[@]}"
		[ $RC = 0 ] || return
	fi
	if [ ${#SPLIT_ST[@]} -gt 0 ]; then
		run_tool "$SB/$x" "$tool" "$SB/$phase.$x.split2" "${opts[@]}" -S "${SPLIT_ST[@]}"
	fi
}

# compare PHASE ARG...: run both tools on A and B, compare; 0 if equal
compare() {
	local phase=$1 ok=1 why="" rca rcb
	shift
	if [ "$phase" = op ]; then tree_dump "$SB/base" >"$SB/before.tree"
	else tree_dump "$SB/A" >"$SB/before.tree"; fi
	run_tool "$SB/A" "$REF" "$SB/$phase.A" "$@"; rca=$RC
	run_tool "$SB/B" "$BIN" "$SB/$phase.B" "$@"; rcb=$RC
	LAST_RCA=$rca
	echo $rca >"$SB/$phase.A.rc"
	echo $rcb >"$SB/$phase.B.rc"
	if [ $rca != 0 ] && [ $rca != 1 ] && [ $rcb = 0 ] &&
	    reference_died "$phase"; then
		echo "skipped: case $K $phase: GNU Stow died on its own bug ($(head -1 "$SB/$phase.A.err")); cstow exit 0" >>"$LOG"
		SKIPPED_CASE=1
		return 0
	fi
	if misplaced_links "$@"; then
		echo "skipped: case $K $phase: a stow link stands at a path other than its package path" >>"$LOG"
		SKIPPED_CASE=1
		return 0
	fi
	conflict_set "$SB/$phase.A.err" >"$SB/$phase.A.conf"
	conflict_set "$SB/$phase.B.err" >"$SB/$phase.B.conf"
	if [ $rca = 1 ] && false_conflicts "$phase" A "$@"; then
		after_false_conflicts "$phase" A "$REF"
		rca=$RC LAST_RCA=$RC
	fi
	# (only when the binary tested is GNU Stow itself)
	if [ $rcb = 1 ] && false_conflicts "$phase" B "$@"; then
		after_false_conflicts "$phase" B "$BIN"
		rcb=$RC
	fi
	echo $rca >"$SB/$phase.A.rc"
	echo $rcb >"$SB/$phase.B.rc"
	if [ $rca = 0 ] && [ $rcb != 0 ]; then ok=0; why="exit status"
	elif [ $rca = 1 ] && [ $rcb != 1 ]; then ok=0; why="exit status"
	elif [ $rca != 0 ] && [ $rcb = 0 ]; then ok=0; why="exit status"
	fi
	if [ -s "$SB/$phase.A.conf" ] && ! cmp -s "$SB/$phase.A.conf" "$SB/$phase.B.conf"; then
		ok=0; why="${why:+$why, }conflict set"
	fi
	tree_dump "$SB/A" >"$SB/$phase.A.tree"
	tree_dump "$SB/B" >"$SB/$phase.B.tree"
	if ! cmp -s "$SB/$phase.A.tree" "$SB/$phase.B.tree"; then
		if [ $rca != 0 ] && [ $rca != 1 ] && [ $rcb != 0 ] && [ $rcb != 1 ] &&
		   ! cmp -s "$SB/$phase.A.tree" "$SB/before.tree"; then
			# both died while applying: what 2.3.1 left half done
			# depends on its readdir order, so only report it
			echo "note: case $K $phase: both failed while applying (stow $rca, cstow $rcb); partial trees differ, not compared" >>"$LOG"
		else
			ok=0; why="${why:+$why, }tree"
		fi
	fi
	if [ $ok = 0 ]; then
		{
			echo "FAIL case $K (seed $SEED) $phase: cd ROOT/$CWDREL && stow $*"
			echo "  differs in: $why; exit stow=$rca cstow=$rcb"
			if [ -s "$SB/$phase.A.conf" ] || [ -s "$SB/$phase.B.conf" ]; then
				diff "$SB/$phase.A.conf" "$SB/$phase.B.conf" | sed -n 's/^[<>]/  conflicts &/p' | head -20
			fi
			if grep -q . "$SB/$phase.B.err" && [ $rcb != 0 ] && [ $rcb != 1 ]; then
				sed 's/^/  cstow stderr: /' "$SB/$phase.B.err" | head -5
			fi
			diff -U1 --label "stow (A)" --label "cstow (B)" "$SB/$phase.A.tree" "$SB/$phase.B.tree" |
				head -40 | sed 's/^/  /'
		} >>"$LOG"
		return 1
	fi
	return 0
}

describe() {
	{
		echo "== case $K (seed $SEED)"
		echo "spec (relative to the sandbox root; target prefix '${TPRE:-.}'):"
		sed 's/^/  /' "$SB/spec"
		if [ ${#SETUPS[@]} -eq 0 ]; then echo "setup: (none)"; fi
		local x
		for x in "${SETUPS[@]}"; do echo "setup: cd ROOT && stow $x"; done
		echo "op:      cd ROOT/$CWDREL && stow ${OPARGS[*]}"
		[ ${#REVARGS[@]} -gt 0 ] && echo "reverse: cd ROOT/$CWDREL && stow ${REVARGS[*]}"
		for x in op reverse; do
			[ -e "$SB/$x.A.err" ] || continue
			echo "$x: exit stow=$(<"$SB/$x.A.rc") cstow=$(<"$SB/$x.B.rc")"
			sed "s/^/  $x stow stderr: /" "$SB/$x.A.err" | head -8
			sed "s/^/  $x cstow stderr: /" "$SB/$x.B.err" | head -8
		done
	} >>"$LOG"
}

# gen_case K: generate case K (spec, setup, operation) into sandbox SB
gen_case() {
	local i pkg tries safe dotf_op rd rs
	rng_init "$K"
	SPEC=() ENTS=() ALLDIRS=() ALLFILES=() SETUP=() SETUPS=() REVARGS=()
	declare -gA KIND=() OBS=() FOREIGN=()
	CNT=0
	DOTF=0; chance 8 && DOTF=1
	rnd 3; local np=$((R + 2))
	PKGS=("${PKG_POOL[@]:0:$np}")
	# the stow directory as the one package "." (a dotfiles repository
	# linked with "cd ~/dotfiles && stow .")
	DOTPKG=0
	if chance 10; then DOTPKG=1; np=1; PKGS=(.); fi
	gen_dirargs
	spec "d home"
	spec "d ext/edir"
	spec "f ext/e1 external one"
	spec "f ext/e2 external two"
	[ -n "$TPRE" ] && spec "d ${TPRE%/}"
	for ((i = 0; i < np; i++)); do
		gen_pkg "${PKGS[i]}" "${TAG_POOL[i]}"
	done
	gen_obstacles
	printf '%s\n' "${SPEC[@]}" >"$SB/spec"
	mkdir "$SB/base"
	tree_make "$SB/spec" "$SB/base" || return 1

	# setup: GNU stow some packages into the base tree (one by one when
	# they conflict); SETUPS records the runs that succeeded
	for pkg in "${PKGS[@]}"; do chance 50 && SETUP+=("$pkg"); done
	if [ ${#SETUP[@]} -gt 0 ]; then
		local sopts=(-d stow -t "${TPRE:-.}")
		chance 25 && sopts+=(--no-folding)
		[ "$DOTF" = 1 ] && chance 50 && sopts+=(--dotfiles)
		local cwdsave=$CWDREL ok=()
		CWDREL=.
		run_tool "$SB/base" "$REF" "$SB/setup" "${sopts[@]}" "${SETUP[@]}"
		if [ $RC = 0 ]; then
			SETUPS=("${sopts[*]} ${SETUP[*]}")
		else
			for pkg in "${SETUP[@]}"; do
				run_tool "$SB/base" "$REF" "$SB/setup" "${sopts[@]}" "$pkg"
				[ $RC = 0 ] && { ok+=("$pkg"); SETUPS+=("${sopts[*]} $pkg"); }
			done
			SETUP=("${ok[@]}")
		fi
		rm -f "$SB"/setup.*
		CWDREL=$cwdsave
	fi

	# operation; never unstow into the excluded "unstow conflicts" area
	for tries in 1 2 3 4 5 6 7 8; do
		gen_op
		safe=1 dotf_op=0
		case " ${OPTS[*]} " in *" --dotfiles "*) dotf_op=1 ;; esac
		for pkg in "${UNSET[@]}"; do
			unstow_safe "$SB/base" "$pkg" $dotf_op || { safe=0; break; }
		done
		if [ $ADOPT = 1 ] && ! adopt_safe "$SB/base"; then safe=0; fi
		[ $safe = 1 ] && break
	done
	FALLBACK=0
	if [ $safe = 0 ]; then		# fall back to a plain stow
		FALLBACK=1
		OPTS=() ROPTS=() UNSET=() SIM=0 ADOPT=0 MIXED=0
		STOWSET=("${PKGS[0]}")
		PKGARGS=("${PKGS[0]}")
	fi
	# options before or after the packages
	if chance 30; then OPARGS=("${DIRARGS[@]}" "${PKGARGS[@]}" "${OPTS[@]}")
	else OPARGS=("${DIRARGS[@]}" "${OPTS[@]}" "${PKGARGS[@]}"); fi
	# reverse operation: unstow what was stowed, stow what was unstowed
	rd=() rs=()
	for pkg in "${STOWSET[@]}"; do [ "$pkg" != nopkg ] && rd+=("$pkg"); done
	for pkg in "${UNSET[@]}"; do
		case " ${STOWSET[*]} " in *" $pkg "*) ;; *) rs+=("$pkg") ;; esac
	done
	REVARGS=()
	if [ ${#rd[@]} -gt 0 ] || [ ${#rs[@]} -gt 0 ]; then
		REVARGS=("${DIRARGS[@]}" "${ROPTS[@]}")
		[ ${#rd[@]} -gt 0 ] && REVARGS+=(-D "${rd[@]}")
		[ ${#rs[@]} -gt 0 ] && REVARGS+=(-S "${rs[@]}")
	fi
	write_casefile
}

# case file: what --replay (and tests/diff-minimise.sh) reads back;
# arguments are separated by single spaces (none contains a space)
write_casefile() {
	{
		echo "# cstow differential case $K (seed $SEED)"
		echo "cwd $CWDREL"
		echo "tprefix ${TPRE:-.}"
		echo "sim $SIM"
		echo "dotpkg $DOTPKG"
		local x
		for x in "${SETUPS[@]}"; do echo "setup $x"; done
		echo "op ${OPARGS[*]}"
		[ ${#REVARGS[@]} -gt 0 ] && echo "reverse ${REVARGS[*]}"
		echo "spec"
		cat "$SB/spec"
	} >"$SB/case"
}

# read_casefile FILE: set up SB/spec, SB/base, CWDREL, OPARGS... from FILE
read_casefile() {
	local kw rest inspec=0
	SETUPS=() OPARGS=() REVARGS=() SIM=0 CWDREL=. TPRE="" FALLBACK=0 DOTPKG=0
	: >"$SB/spec"
	while IFS= read -r line || [ -n "$line" ]; do
		if [ $inspec = 1 ]; then printf '%s\n' "$line" >>"$SB/spec"; continue; fi
		case $line in ''|'#'*) continue ;; esac
		kw=${line%% *}; rest=${line#"$kw"}; rest=${rest# }
		case $kw in
		cwd) CWDREL=$rest ;;
		tprefix) TPRE=$rest; [ "$TPRE" = . ] && TPRE= ;;
		sim) SIM=$rest ;;
		dotpkg) DOTPKG=$rest ;;
		setup) SETUPS+=("$rest") ;;
		op) read -ra OPARGS <<<"$rest" ;;
		reverse) read -ra REVARGS <<<"$rest" ;;
		spec) inspec=1 ;;
		*) echo "bad case file line: $line" >&2; return 1 ;;
		esac
	done <"$1"
	mkdir "$SB/base"
	tree_make "$SB/spec" "$SB/base" || return 1
	local x args cwdsave=$CWDREL
	CWDREL=.
	for x in "${SETUPS[@]}"; do
		read -ra args <<<"$x"
		run_tool "$SB/base" "$REF" "$SB/setup" "${args[@]}"
	done
	rm -f "$SB"/setup.*
	CWDREL=$cwdsave
	cp "$1" "$SB/case"
}

run_case() {	# run_case K LOGFILE [CASEFILE]
	K=$1 LOG=$2
	set -f		# regexes in arguments must not glob
	SB=$(mktemp -d "${TMPDIR:-/tmp}/cstow-diff.XXXXXX") || return 2
	if [ -n "${3:-}" ]; then
		read_casefile "$3" || { echo "case $K: cannot replay $3" >>"$LOG"; return 1; }
	else
		gen_case || { echo "case $K: generation failed" >>"$LOG"; return 1; }
	fi
	cp -a "$SB/base" "$SB/A"
	cp -a "$SB/base" "$SB/B"
	local result=0 rev=- oprc
	SKIPPED_CASE=0
	compare op "${OPARGS[@]}" || result=1
	oprc=$LAST_RCA
	# A skipped operation leaves the two trees apart: no reverse then.
	if [ $result = 0 ] && [ "$SKIPPED_CASE" = 0 ] && [ $oprc = 0 ] &&
	    [ "$SIM" = 0 ] && [ ${#REVARGS[@]} -gt 0 ]; then
		if reverse_safe; then
			compare reverse "${REVARGS[@]}" || result=1
			rev=$LAST_RCA
		else
			echo "note: case $K: no reverse run: it would unstow into the excluded unstow-conflict area" >>"$LOG"
		fi
	fi
	local nstow=0 madopt=0
	[ -n "${STOWSET[*]+x}" ] && nstow=${#STOWSET[@]}
	[ "${ADOPT:-0}" = 1 ] && [ "$nstow" -gt 1 ] && madopt=1
	echo "$oprc $rev $SIM $FALLBACK ${DOTPKG:-0} ${MIXED:-0} $madopt" >"$RUN/stat.$K"
	if [ "$SHOW" = 1 ]; then describe
	elif [ $result = 1 ] && [ -z "${3:-}" ]; then
		echo "  re-run: tests/differential.sh --only $K${SEEDARG}${BINARG}" >>"$LOG"
	fi
	if [ $result = 1 ] && [ "$KEEP" = 1 ]; then
		echo "  kept: $SB (case file: $SB/case)" >>"$LOG"
	else
		rm -rf "$SB"
	fi
	# A skipped case is not a pass: it is counted apart.
	[ $result = 0 ] && [ "$SKIPPED_CASE" = 1 ] && return 3
	return $result
}

# ---------------------------------------------------------------------------
START=$(date +%s)
RUN=$(mktemp -d "${TMPDIR:-/tmp}/cstow-diffrun.XXXXXX") || exit 2
trap 'rm -rf "$RUN"' EXIT

if [ -n "$REPLAY" ]; then
	FIRST=0 LAST=0 JOBS=1
	case $REPLAY in /*) ;; *) REPLAY=$PWD/$REPLAY ;; esac
elif [ -n "$ONLY" ]; then
	FIRST=$ONLY LAST=$ONLY SHOW=1 JOBS=1
else
	FIRST=1 LAST=$CASES
fi

worker() {	# worker W: cases FIRST+W, FIRST+W+JOBS, ...
	local k
	for ((k = FIRST + $1; k <= LAST; k += JOBS)); do
		: >"$RUN/log.$k"
		( run_case "$k" "$RUN/log.$k" ${REPLAY:+"$REPLAY"} )
		case $? in
		0)	echo pass >"$RUN/res.$k" ;;
		3)	echo skip >"$RUN/res.$k" ;;
		*)	echo fail >"$RUN/res.$k" ;;
		esac
	done
}

pids=()
for ((w = 0; w < JOBS; w++)); do
	worker "$w" &
	pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done

PASSED=0 FAILED=0 SKIPPED=0
for ((k = FIRST; k <= LAST; k++)); do
	[ -s "$RUN/log.$k" ] && cat "$RUN/log.$k"
	case $(cat "$RUN/res.$k" 2>/dev/null) in
	pass)	PASSED=$((PASSED + 1)) ;;
	skip)	SKIPPED=$((SKIPPED + 1)) ;;
	*)	FAILED=$((FAILED + 1)) ;;
	esac
done
# outcome statistics (stow's exit status of the operation and the reverse)
cat "$RUN"/stat.* 2>/dev/null | awk '
	{ op[$1 == 0 ? "0" : $1 == 1 ? "1" : "other"]++
	  if ($2 != "-") rev[$2 == 0 ? "0" : $2 == 1 ? "1" : "other"]++
	  sim += $3; fb += ($4 == 1); dot += $5; mixed += $6; madopt += $7 }
	END { printf "stats: operation exit 0/1/other: %d/%d/%d (simulated %d, fallback plain stow %d); reverse run %d, exit 0/1/other: %d/%d/%d\n",
		op["0"], op["1"], op["other"], sim, fb, rev["0"] + rev["1"] + rev["other"], rev["0"], rev["1"], rev["other"]
	      printf "stats: package \".\" %d, mixed -D/-S/-R runs %d, --adopt of several packages %d\n", dot, mixed, madopt }'
for e in "${EXCLUDED[@]}"; do echo "excluded: $e"; done
echo "reference: $REF ($("$REF" --version 2>&1 | head -1)); tested: $BIN"
echo "seed $SEED, cases $FIRST..$LAST, $(( $(date +%s) - START ))s"
echo "$PASSED passed, $FAILED failed, $SKIPPED skipped"
# Skipped cases are GNU Stow's own failures; too many would mean the
# comparison says little, so the run must still compare at least 300.
[ "$FAILED" = 0 ] && [ $((PASSED)) -ge $(( (LAST - FIRST + 1) * 9 / 10 )) ]
