#!/usr/bin/env bash
# bench.sh: time cstow against GNU Stow, cp -as and a syscall floor.
#
#   tests/bench.sh [CSTOW]          (default cli/cstow)
#   BENCH_QUICK=1 tests/bench.sh    1k and 20k only, one run each (smoke test)
#   BENCH_BUDGET=SECONDS            time budget of each GNU Stow run (60)
#   BENCH_REGEX_STOW=PROGRAM        the GNU Stow of the ignore-regex rows
#                                   (default: the stow on PATH, as elsewhere)
#
# A benchmark, not a test: it never fails because something is slow.  It
# exits non-zero only when it cannot run at all (no cstow, no C compiler),
# or when cstow and GNU Stow leave different trees from the benchmark's
# own (the differential check of its last section).
# Progress goes to stderr; a Markdown report goes to stdout.
#
# Trees are built on tmpfs (/dev/shm) when it is writable, else in
# $TMPDIR; the "stow 20k into existing dirs" workload is repeated in
# $TMPDIR (disk-backed, where each symlink costs far more), and so is the
# demo's first start (cstow-entrypoint, with its journal and vault on the
# disk and their syncs).  Every cell is
# the median wall time of several runs, measured by tests/bench_timer.c
# (fork+exec+wait, no shell in between).  The floor column is
# tests/bench_floor.c: a program that issues only the system calls the
# result needs.  Targets are reset, untimed, before every run.

set -u
set -o pipefail

die() { echo "bench: $*" >&2; exit 2; }
say() { echo "bench: $*" >&2; }

CSTOW_ARG=${1:-cli/cstow}
[ -x "$CSTOW_ARG" ] || die "$CSTOW_ARG: not executable (run make all)"
CSTOW=$(cd "$(dirname "$CSTOW_ARG")" && pwd)/$(basename "$CSTOW_ARG")
HERE=$(cd "$(dirname "$0")" && pwd)
CC=${CC:-cc}
BUDGET=${BENCH_BUDGET:-60}

# Runs per cell: 9 at 1k files, 5 at 20k (where the targets are read)
# and at 100k (which the growth target reads: 3 runs left its median
# swinging by a fifth between whole runs).
if [ "${BENCH_QUICK:-0}" = 1 ]; then
	SIZES="1000 20000"; RUNS=1; RUNS_MID=1; RUNS_SMALL=1
else
	SIZES="1000 20000 100000"; RUNS=5; RUNS_MID=5; RUNS_SMALL=9
fi
runs_for() {
	if [ "$1" -le 1000 ]; then echo "$RUNS_SMALL"
	elif [ "$1" -le 20000 ]; then echo "$RUNS_MID"
	else echo "$RUNS"; fi
}

STOW=$(command -v stow || true)
STRACE=$(command -v strace || true)
GTIME=/usr/bin/time; [ -x "$GTIME" ] || GTIME=

# --- temporary directories -------------------------------------------------

DISKBASE=${TMPDIR:-/tmp}
if [ -d /dev/shm ] && [ -w /dev/shm ]; then FASTBASE=/dev/shm; else FASTBASE=$DISKBASE; fi
W=$(mktemp -d "$FASTBASE/cstow-bench.XXXXXX") || die "cannot make a directory in $FASTBASE"
D=
if [ "$FASTBASE" != "$DISKBASE" ]; then
	D=$(mktemp -d "$DISKBASE/cstow-bench.XXXXXX") || die "cannot make a directory in $DISKBASE"
fi
cleanup() { rm -rf "$W" ${D:+"$D"}; }
trap cleanup EXIT
trap 'exit 130' INT TERM
FSTYPE=$(stat -f -c %T "$W")
DISKFSTYPE=$(stat -f -c %T "${D:-$W}")

$CC -O2 -o "$W/floor" "$HERE/bench_floor.c" || die "cannot compile bench_floor.c"
ENTRY_ARG=$(dirname "$CSTOW_ARG")/cstow-entrypoint
$CC -O2 -o "$W/timer" "$HERE/bench_timer.c" || die "cannot compile bench_timer.c"
FLOOR=$W/floor
TIMER=$W/timer
# Time a snapshot: a rebuild during the run must not mix two binaries.
cp "$CSTOW" "$W/cstow" || die "cannot copy $CSTOW"
CSTOW=$W/cstow
ENTRY=
if [ -x "$ENTRY_ARG" ]; then
	cp "$ENTRY_ARG" "$W/cstow-entrypoint" || die "cannot copy $ENTRY_ARG"
	ENTRY=$W/cstow-entrypoint
fi
CHKSTOW=$(command -v chkstow || true)
REGEX_STOW=${BENCH_REGEX_STOW:-$STOW}

# No ~/.stowrc, ./.stowrc or STOW_DIR may change what the tools do.
export HOME=$W/emptyhome
mkdir -p "$HOME"
unset STOW_DIR
cd "$W" || die "cd $W"
mkdir -p "$W/logs"

# --- trees -----------------------------------------------------------------

# gen_pkg ROOT N: ROOT/stow/pkg/dNNNN/fNNN, N files in 100-file directories;
# ROOT/dirs lists the directory names.
gen_pkg() {
	local root=$1 n=$2
	mkdir -p "$root/stow/pkg" "$root/t"
	seq -f 'd%04g' 0 $((n / 100 - 1)) > "$root/dirs"
	(cd "$root/stow/pkg" && xargs mkdir < "$root/dirs" &&
	 awk '{ for (i = 0; i < 100; i++) printf "%s/f%03d\n", $1, i }' \
	     "$root/dirs" | xargs touch)
}

# reset_dirs ROOT: an unstowed target whose directories all exist.
reset_dirs() {
	rm -rf "$1/t" && mkdir "$1/t" && (cd "$1/t" && xargs mkdir < "$1/dirs")
}
reset_empty() { rm -rf "$1/t" && mkdir "$1/t"; }
# reset_stowed ROOT: the package stowed into existing directories.
reset_stowed() { reset_dirs "$1" && "$FLOOR" link "$1/stow/pkg" "$1/t"; }
reset_disk() { reset_dirs "$1" && sync; }
keep() { :; }

gen_dotfiles() {	# gen_dotfiles ROOT: 5 packages, 500 files
	local s=$1/stow f
	mkdir -p "$s"/nvim/dot-config/nvim/{lua/config,lua/plugins,lua/util,after/ftplugin,snippets}
	f=$s/nvim/dot-config/nvim
	touch "$f"/init.lua "$f"/lua/config/{options,keymaps,autocmds,lazy}.lua \
	    "$f"/lua/plugins/p{001..120}.lua "$f"/lua/util/u{01..30}.lua \
	    "$f"/after/ftplugin/ft{01..60}.lua "$f"/snippets/s{01..35}.json
	mkdir -p "$s"/tmux/dot-config/tmux/{themes,plugins/tpm/bin,plugins/tpm/scripts}
	f=$s/tmux/dot-config/tmux
	touch "$s"/tmux/dot-tmux.conf "$f"/tmux.conf "$f"/themes/t{01..08}.conf \
	    "$f"/plugins/tpm/tpm "$f"/plugins/tpm/bin/b{01..10} \
	    "$f"/plugins/tpm/scripts/s{01..20}.sh
	mkdir -p "$s"/git/dot-config/git/hooks
	touch "$s"/git/dot-gitconfig "$s"/git/dot-gitignore_global \
	    "$s"/git/dot-config/git/{ignore,attributes,config.work} \
	    "$s"/git/dot-config/git/hooks/h{01..10}
	mkdir -p "$s"/zsh/dot-zsh/{functions,completions}
	touch "$s"/zsh/dot-{zshrc,zshenv,zprofile} "$s"/zsh/dot-zsh/aliases.zsh \
	    "$s"/zsh/dot-zsh/functions/fn{01..60} \
	    "$s"/zsh/dot-zsh/completions/_c{01..30}
	mkdir -p "$s"/scripts/dot-local/bin
	touch "$s"/scripts/dot-local/bin/s{001..100}
}
# reset_home ROOT: a home with existing .config and .local directories.
reset_home() {
	rm -rf "$1/t" &&
	mkdir -p "$1/t/.config/other-app" "$1/t/.local/share/app" \
	    "$1/t/.local/state" &&
	touch "$1/t/.config/other-app/settings.ini" "$1/t/.local/share/app/data"
}
DOTPKGS="nvim tmux git zsh scripts"

# gen_deep ROOT: the 20k tree of a freshly copied target (issue 20's):
# ROOT/stow/pkg/share/dNN/eNNN/fNN, 50 one-byte files in each of 400
# directories, and ROOT/t0, an empty target holding every directory,
# which reset_copy copies (cp -a) before each run.
gen_deep() {
	local root=$1
	mkdir -p "$root/stow/pkg" "$root/t0"
	awk 'BEGIN { for (d = 0; d < 20; d++) for (e = 0; e < 20; e++)
	    printf "share/d%02d/e%03d\n", d, e }' > "$root/dirs"
	(cd "$root/stow/pkg" && xargs mkdir -p < "$root/dirs" &&
	 awk '{ for (i = 0; i < 50; i++) printf "%s/f%02d\n", $1, i }' \
	     "$root/dirs" | xargs awk 'BEGIN { for (i = 1; i < ARGC; i++)
	     { printf "x" > ARGV[i]; close(ARGV[i]) } }')
	(cd "$root/t0" && xargs mkdir -p < "$root/dirs")
}
reset_copy() { rm -rf "$1/t" && cp -a "$1/t0" "$1/t"; }

# gen_real ROOT: the shape of unpacked distribution packages, as in
# /usr/local/stow: 21 packages of about 1,050 files in 110 directories
# each (9.6 files per directory), sharing usr/bin, usr/lib/<triplet>,
# usr/share/doc, usr/share/man/manN, usr/share/locale/LL/LC_MESSAGES and
# usr/include, each with its own directories below them.  ROOT/pkgs
# lists the packages.
gen_real() {
	local root=$1
	mkdir -p "$root/stow" "$root/t"
	seq -f 'p%02g' 1 21 > "$root/pkgs"
	awk -v root="$root/stow" '
	function f(path) { print root "/" path > FILES }
	function d(path) { print root "/" path > DIRS }
	BEGIN { FILES = "'"$root"'/files.list"; DIRS = "'"$root"'/dirs.list" }
	{
		p = $1; u = p "/usr"
		d(u "/bin"); for (i = 0; i < 3; i++) f(u "/bin/" p "-" i)
		l = u "/lib/x86_64-linux-gnu"
		d(l); f(l "/lib" p ".so.1"); f(l "/lib" p ".so.1.0.0")
		for (m = 0; m < 30; m++) {
			d(l "/" p "/m" m)
			for (i = 0; i < 14; i++) f(l "/" p "/m" m "/mod" i ".so")
		}
		d(u "/share/doc/" p)
		f(u "/share/doc/" p "/copyright"); f(u "/share/doc/" p "/changelog.gz")
		f(u "/share/doc/" p "/README"); f(u "/share/doc/" p "/NEWS.gz")
		d(u "/share/man/man1"); d(u "/share/man/man5")
		for (i = 0; i < 3; i++) f(u "/share/man/man1/" p "-" i ".1.gz")
		f(u "/share/man/man5/" p ".conf.5.gz")
		for (m = 0; m < 40; m++) {
			d(u "/share/" p "/d" m)
			for (i = 0; i < 14; i++) f(u "/share/" p "/d" m "/data" i)
		}
		split("de es fr it ja ko nl pl pt ru", lang, " ")
		for (k = 1; k <= 10; k++) {
			d(u "/share/locale/" lang[k] "/LC_MESSAGES")
			f(u "/share/locale/" lang[k] "/LC_MESSAGES/" p ".mo")
		}
		for (m = 0; m < 5; m++) {
			d(u "/include/" p "/i" m)
			for (i = 0; i < 10; i++) f(u "/include/" p "/i" m "/h" i ".h")
		}
	}' "$root/pkgs"
	xargs mkdir -p < "$root/dirs.list" && xargs touch < "$root/files.list"
	REAL_PKGS=$(tr '\n' ' ' < "$root/pkgs")
}
# reset_real_stowed ROOT: every package stowed, without folding.
reset_real_stowed() {
	local p args=()
	for p in $REAL_PKGS; do args+=("$1/stow/$p"); done
	rm -rf "$1/t" && mkdir "$1/t" && "$FLOOR" tree "$1/t" "${args[@]}"
}

nlinks() { find "$1" -type l | wc -l; }

# --- measuring -------------------------------------------------------------

NOTES=()
note() { NOTES+=("$*"); }

median() {
	[ $# -gt 0 ] || return 0
	printf '%s\n' "$@" | sort -g |
	    awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2];
	        else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

# tool NAME BUDGET CHECK CMD...: add a tool to the row about to be measured.
# BUDGET is seconds (empty: none); CHECK is a command string printing "ok"
# or a complaint, run after the tool's first run.
TOOLS=(); T_BUDGET=(); T_CHECK=(); T_CMD=()
tool() {
	TOOLS+=("$1"); T_BUDGET+=("$2"); T_CHECK+=("$3")
	shift 3
	T_CMD+=("$(printf '%q ' "$@")")
}

# measure ROW RUNS RESET: run every tool RUNS times, round-robin (run 1 of
# each, then run 2 of each, ...) so that drift in the machine's state,
# which is large on the disk, spreads evenly.  RESET (a command string,
# untimed) runs before every run.  Sets CELLS[tool] to the median time in
# ms, "over budget" or "error"; a tool that fails or runs over budget is
# not run again (a partial median would mislead).
declare -A CELLS
measure() {
	local rname=$1 runs=$2 reset=$3 i k name out st res log
	local -A times=()
	CELLS=()
	for ((i = 0; i < runs; i++)); do
		for k in "${!TOOLS[@]}"; do
			name=${TOOLS[k]}
			[ -z "${CELLS[$name]:-}" ] || continue
			log=$W/logs/$(echo "$rname $name" | tr -c 'A-Za-z0-9\n' _).log
			if ! eval "$reset"; then
				CELLS[$name]=error; note "$name, $rname: reset failed"; continue
			fi
			out=$(eval "\"\$TIMER\" ${T_BUDGET[k]:+-b ${T_BUDGET[k]}} -l \"\$log\" ${T_CMD[k]}")
			st=${out#* }
			case $st in
			ok)	times[$name]+=" ${out%% *}" ;;
			timeout) CELLS[$name]="over budget"
				note "$name, $rname: over the ${T_BUDGET[k]} s budget (run $((i + 1)))"
				continue ;;
			*)	CELLS[$name]=error
				note "$name, $rname: $st: $(head -n 2 "$log" | tr '\n' ' ')"
				continue ;;
			esac
			if [ "$i" = 0 ] && [ -n "${T_CHECK[k]}" ]; then
				res=$(eval "${T_CHECK[k]}")
				[ "$res" = ok ] || note "$name, $rname: wrong result: $res"
			fi
		done
	done
	SPREAD=
	for name in "${TOOLS[@]}"; do
		[ -z "${CELLS[$name]:-}" ] || continue
		# shellcheck disable=SC2086
		CELLS[$name]=$(median ${times[$name]})
		# shellcheck disable=SC2086
		SPREAD+="${SPREAD:+, }$name $(printf '%s\n' ${times[$name]} | sort -g |
		    awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%.0f–%.0f", lo, hi }')"
	done
	TOOLS=(); T_BUDGET=(); T_CHECK=(); T_CMD=()
}
cell() { echo "${CELLS[$1]:-n/a}"; }

# expect_links DIR N: the check that DIR holds exactly N symlinks.
expect_links() {
	local got
	got=$(nlinks "$1")
	if [ "$got" = "$2" ]; then echo ok; else echo "$got links in the target, want $2"; fi
}

fmt_ms() { case $1 in ''|*[!0-9.]*) echo "$1" ;; *) printf '%.1f' "$1" ;; esac; }
is_num() { case $1 in ''|*[!0-9.]*) return 1 ;; *) return 0 ;; esac; }
ratio() {	# ratio A B [DIGITS]: A/B to DIGITS (1) decimals, or "—"
	if is_num "$1" && is_num "$2"; then
		awk -v a="$1" -v b="$2" -v d="${3:-1}" 'BEGIN { printf "%.*f", d, a / b }'
	else echo "—"; fi
}

ROWS=()
declare -A MED	# MED[tool,key] = median ms, for the summary lines
# row KEY LABEL FILES CSTOW STOW CP FLOOR
row() {
	local key=$1 label=$2 files=$3 c=$4 s=$5 p=$6 f=$7 sc
	MED[cstow,$key]=$c; MED[stow,$key]=$s
	if [ "$s" = "over budget" ] && is_num "$c"; then
		sc=">$(awk -v a="$BUDGET" -v b="$c" 'BEGIN { printf "%.1f", a * 1000 / b }')"
	else
		sc=$(ratio "$s" "$c")
	fi
	# (Two decimals against the floor: its targets are 1.2× and 1.3×.)
	ROWS+=("| $label | $files | $(fmt_ms "$c") | $(fmt_ms "$s") | $(fmt_ms "$p") | $(fmt_ms "$f") | $(ratio "$c" "$f" 2) | $sc |")
}

human() {	# 1000 -> 1k
	if [ "$1" -ge 1000 ] && [ $(($1 % 1000)) = 0 ]; then echo "$(($1 / 1000))k"; else echo "$1"; fi
}

# stow_row KEY LABEL ROOT N RESET EXPECT_STOW EXPECT_CP FLOOR-ARGS
stow_row() {
	local key=$1 label=$2 r=$3 n=$4 reset=$5 es=$6 ep=$7 fargs=$8 runs
	runs=$(runs_for "$n")
	say "$label, $(human "$n") files ($runs runs)"
	tool cstow "" "expect_links $r/t $es" "$CSTOW" -d "$r/stow" -t "$r/t" pkg
	[ -z "$STOW" ] || tool stow "$BUDGET" "expect_links $r/t $es" \
	    "$STOW" -d "$r/stow" -t "$r/t" pkg
	tool cp "" "expect_links $r/t $ep" cp -as "$r/stow/pkg/." "$r/t/"
	# shellcheck disable=SC2086
	tool floor "" "expect_links $r/t $es" "$FLOOR" $fargs
	measure "$label $(human "$n")" "$runs" "$reset $r"
	row "$key" "$label" "$(human "$n")" "$(cell cstow)" "$(cell stow)" \
	    "$(cell cp)" "$(cell floor)"
}

# op_row KEY LABEL ROOT N RESET EXPECT FLOOR-ARGS CSTOW/STOW-FLAGS...
op_row() {
	local key=$1 label=$2 r=$3 n=$4 reset=$5 e=$6 fargs=$7 runs
	shift 7
	runs=$(runs_for "$n")
	say "$label, $(human "$n") files ($runs runs)"
	tool cstow "" "expect_links $r/t $e" "$CSTOW" -d "$r/stow" -t "$r/t" "$@" pkg
	[ -z "$STOW" ] || tool stow "$BUDGET" "expect_links $r/t $e" \
	    "$STOW" -d "$r/stow" -t "$r/t" "$@" pkg
	# shellcheck disable=SC2086
	tool floor "" "expect_links $r/t $e" "$FLOOR" $fargs
	# WITH_NOOP=1: cstow's no-op and the no-op floor too, in the same
	# round-robin, so that they meet the same trees as the row's runs.
	if [ -n "${WITH_NOOP:-}" ]; then
		tool noop "" "expect_links $r/t $e" \
		    "$CSTOW" -d "$r/stow" -t "$r/t" pkg
		tool noopfloor "" "expect_links $r/t $e" \
		    "$FLOOR" noop "$r/stow/pkg" "$r/t"
	fi
	measure "$label $(human "$n")" "$runs" "$reset $r"
	MED[noop,$key]=$(cell noop)
	MED[noopfloor,$key]=$(cell noopfloor)
	MED[floor,$key]=$(cell floor)
	row "$key" "$label" "$(human "$n")" "$(cell cstow)" "$(cell stow)" "—" \
	    "$(cell floor)"
}

# --- machine ---------------------------------------------------------------

T_START=$(date +%s)
echo "# cstow benchmark"
echo
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
echo "- machine: $(nproc) CPUs ($(uname -sr)), $(awk '/MemTotal/ { printf "%.0f GiB RAM", $2 / 1048576 }' /proc/meminfo)"
echo "- temp dir: \`$FASTBASE\` ($FSTYPE); disk-backed temp dir: \`$DISKBASE\` ($DISKFSTYPE)"
echo "- cstow: \`$CSTOW_ARG\` ($("$CSTOW" --version 2>&1 | head -n 1)); GNU stow: $([ -n "$STOW" ] && "$STOW" --version 2>&1 | head -n 1 || echo "not installed")"
echo "- load average at start: $LOAD0 (other work on the machine inflates and scatters the times)"
echo "- user: $(id -un) (uid $(id -u)); each cell: the median wall time, in ms, process start included, of $RUNS_MID run(s) at 20k files ($RUNS_SMALL for 1k files and dotfiles, $RUNS at 100k files), tools run round-robin; GNU stow budget ${BUDGET} s per run$([ "${BENCH_QUICK:-0}" = 1 ] && echo "; BENCH_QUICK=1")"
echo

# --- workloads -------------------------------------------------------------

say "generating trees in $W"
for n in $SIZES; do gen_pkg "$W/n$n" "$n"; done
N20=20000

for n in $SIZES; do
	stow_row "exist,$n" "stow into existing dirs" "$W/n$n" "$n" reset_dirs \
	    "$n" "$n" "link $W/n$n/stow/pkg $W/n$n/t"
done
for n in $SIZES; do
	stow_row "empty,$n" "stow into empty target" "$W/n$n" "$n" reset_empty \
	    "$((n / 100))" "$n" "fold $W/n$n/t $W/n$n/stow/pkg"
done

# Issue 20's tree: deeper, 50 files per directory, a target copied
# fresh (cp -a) before each run.
r=$W/deep
gen_deep "$r"
say "stow into existing dirs, deep tree, fresh copy, 20k files ($(runs_for $N20) runs)"
tool cstow "" "expect_links $r/t $N20" "$CSTOW" -d "$r/stow" -t "$r/t" pkg
[ -z "$STOW" ] || tool stow "$BUDGET" "expect_links $r/t $N20" \
    "$STOW" -d "$r/stow" -t "$r/t" pkg
tool cp "" "expect_links $r/t $N20" cp -as "$r/stow/pkg/." "$r/t/"
tool floor "" "expect_links $r/t $N20" "$FLOOR" link "$r/stow/pkg" "$r/t"
measure "deep 20k" "$(runs_for $N20)" "reset_copy $r"
row deep "stow into existing dirs: deep tree (share/dNN/eNNN, 50 per dir), fresh \`cp -a\` copy" \
    "20k" "$(cell cstow)" "$(cell stow)" "$(cell cp)" "$(cell floor)"

r=$W/n$N20
reset_stowed "$r"
op_row noop "no-op re-run (all stowed)" "$r" $N20 keep $N20 \
    "noop $r/stow/pkg $r/t" -S
op_row unstow "unstow (-D)" "$r" $N20 reset_stowed 0 "unlink $r/t" -D
# A restow of a stowed package leaves it as it was: like the no-op, each
# run starts from the tree the last left (a tree remade before each run
# has the last one's 20k inodes freed in the background meanwhile).
# GNU Stow's restow makes every link again, though, which the no-op row
# never meets: cstow's no-op runs in this row too, on the same trees.
# The row's floor also lists each target directory it walks: the unstow
# half of a restow must, to clean up the dangling links it owns there.
reset_stowed "$r"
WITH_NOOP=1 op_row restow "restow (-R) of stowed" "$r" $N20 keep $N20 \
    "restow $r/stow/pkg $r/t" -R

# check_row KEY LABEL ROOT N EXPECT CSTOW-ARGS FLOOR-ARGS: cstow --check
# against cstow's no-op, both on the same stowed trees in one
# round-robin, with GNU Stow's chkstow -b (which walks the target for
# dangling links) in the stow column, and the check and no-op floors.
# CSTOW-ARGS and FLOOR-ARGS are word-split.
check_row() {
	local key=$1 label=$2 r=$3 n=$4 e=$5 cargs=$6 fargs=$7 runs
	runs=$(runs_for "$n")
	say "$label, $(human "$n") files ($runs runs)"
	# shellcheck disable=SC2086
	tool cstow "" "expect_links $r/t $e" "$CSTOW" -d "$r/stow" -t "$r/t" \
	    --check $cargs
	[ -z "$CHKSTOW" ] || tool stow "$BUDGET" "expect_links $r/t $e" \
	    "$CHKSTOW" -b -t "$r/t"
	# shellcheck disable=SC2086
	tool floor "" "expect_links $r/t $e" "$FLOOR" check $fargs
	# shellcheck disable=SC2086
	tool noop "" "expect_links $r/t $e" "$CSTOW" -d "$r/stow" -t "$r/t" \
	    $cargs
	# shellcheck disable=SC2086
	tool noopfloor "" "expect_links $r/t $e" "$FLOOR" noop $fargs
	measure "$label $(human "$n")" "$runs" keep
	MED[noop,$key]=$(cell noop)
	MED[noopfloor,$key]=$(cell noopfloor)
	MED[floor,$key]=$(cell floor)
	row "$key" "$label" "$(human "$n")" "$(cell cstow)" "$(cell stow)" "—" \
	    "$(cell floor)"
}
r=$W/n$N20
reset_stowed "$r"
check_row check "--check (all stowed; chkstow -b in the stow column)" "$r" \
    $N20 $N20 pkg "$r/stow/pkg $r/t"

# dotfiles: 5 packages, --dotfiles, a home with .config and .local
r=$W/dot
gen_dotfiles "$r"
ndot=$(find "$r/stow" -type f | wc -l)
reset_home "$r" && "$FLOOR" fold -d "$r/t" "$r"/stow/{nvim,tmux,git,zsh,scripts}
edot=$(nlinks "$r/t")
# shellcheck disable=SC2086
(cd "$r/stow" && find $DOTPKGS -mindepth 1 | sort) > "$r/want.paths"
dot_check() {	# every package entry reachable in the home under its .name
	local got
	got=$(nlinks "$r/t")
	[ "$got" = "$edot" ] || { echo "$got links in the home, want $edot"; return; }
	local miss=0 p
	while IFS= read -r p; do
		p=${p#*/}; p=${p//dot-/.}
		[ -e "$r/t/$p" ] || miss=$((miss + 1))
	done < "$r/want.paths"
	if [ "$miss" = 0 ]; then echo ok; else echo "$miss package entries missing from the home"; fi
}
say "dotfiles, $ndot files ($RUNS_SMALL runs)"
# shellcheck disable=SC2086
tool cstow "" dot_check "$CSTOW" -d "$r/stow" -t "$r/t" --dotfiles $DOTPKGS
# shellcheck disable=SC2086
[ -z "$STOW" ] || tool stow "$BUDGET" dot_check \
    "$STOW" -d "$r/stow" -t "$r/t" --dotfiles $DOTPKGS
# cp -as copies the dot-X names as they are: a cost reference only.
tool cp "" "" cp -as "$r"/stow/nvim/. "$r"/stow/tmux/. "$r"/stow/git/. \
    "$r"/stow/zsh/. "$r"/stow/scripts/. "$r/t/"
tool floor "" dot_check "$FLOOR" fold -d "$r/t" "$r"/stow/{nvim,tmux,git,zsh,scripts}
measure dotfiles "$RUNS_SMALL" "reset_home $r"
row dotfiles "dotfiles: 5 packages, --dotfiles" "$ndot" "$(cell cstow)" \
    "$(cell stow)" "$(cell cp)" "$(cell floor)"

# The shape of unpacked distribution packages, stowed without folding
# as into /usr/local: every directory is made, and each holds about ten
# files, so what a tool pays per directory counts.
r=$W/real
gen_real "$r"
nreal=$(wc -l < "$r/files.list")
nrealent=$(find "$r/stow" -mindepth 2 | wc -l)
real_args=()
for p in $REAL_PKGS; do real_args+=("$r/stow/$p"); done
say "real-tree shape: stow --no-folding into an empty target, $nreal files ($RUNS_MID runs)"
# shellcheck disable=SC2086
tool cstow "" "expect_links $r/t $nreal" "$CSTOW" -d "$r/stow" -t "$r/t" \
    --no-folding $REAL_PKGS
# shellcheck disable=SC2086
[ -z "$STOW" ] || tool stow "$BUDGET" "expect_links $r/t $nreal" \
    "$STOW" -d "$r/stow" -t "$r/t" --no-folding $REAL_PKGS
tool cp "" "expect_links $r/t $nreal" cp -as "${real_args[@]/%//.}" "$r/t/"
tool floor "" "expect_links $r/t $nreal" "$FLOOR" tree "$r/t" "${real_args[@]}"
measure "real stow" "$RUNS_MID" "reset_empty $r"
row realstow "real-tree shape: stow --no-folding into an empty target" \
    "$(human "$nreal")" "$(cell cstow)" "$(cell stow)" "$(cell cp)" \
    "$(cell floor)"
reset_real_stowed "$r"
say "real-tree shape: no-op re-run ($RUNS_MID runs)"
# shellcheck disable=SC2086
tool cstow "" "expect_links $r/t $nreal" "$CSTOW" -d "$r/stow" -t "$r/t" \
    --no-folding $REAL_PKGS
# shellcheck disable=SC2086
[ -z "$STOW" ] || tool stow "$BUDGET" "expect_links $r/t $nreal" \
    "$STOW" -d "$r/stow" -t "$r/t" --no-folding $REAL_PKGS
tool floor "" "expect_links $r/t $nreal" "$FLOOR" noop "${real_args[@]}" "$r/t"
measure "real noop" "$RUNS_MID" keep
row realnoop "real-tree shape: no-op re-run (all stowed)" "$(human "$nreal")" \
    "$(cell cstow)" "$(cell stow)" "—" "$(cell floor)"
say "real-tree shape: unstow ($RUNS_MID runs)"
# shellcheck disable=SC2086
tool cstow "" "expect_links $r/t 0" "$CSTOW" -d "$r/stow" -t "$r/t" \
    --no-folding -D $REAL_PKGS
# shellcheck disable=SC2086
[ -z "$STOW" ] || tool stow "$BUDGET" "expect_links $r/t 0" \
    "$STOW" -d "$r/stow" -t "$r/t" --no-folding -D $REAL_PKGS
tool floor "" "expect_links $r/t 0" "$FLOOR" unlink "$r/t"
measure "real unstow" "$RUNS_MID" "reset_real_stowed $r"
row realunstow "real-tree shape: unstow (-D)" "$(human "$nreal")" \
    "$(cell cstow)" "$(cell stow)" "—" "$(cell floor)"
reset_real_stowed "$r"
check_row realcheck "real-tree shape: --check (all stowed)" "$r" "$nreal" \
    "$nreal" "--no-folding $REAL_PKGS" "${real_args[*]} $r/t"

# The same 20k workload on the disk-backed temp dir.
if [ -n "$D" ]; then
	gen_pkg "$D/n$N20" $N20
	stow_row "disk" "stow into existing dirs, on $DISKFSTYPE (\`$DISKBASE\`)" \
	    "$D/n$N20" $N20 reset_disk $N20 $N20 "link $D/n$N20/stow/pkg $D/n$N20/t"
	note "on $DISKFSTYPE, min–max ms of the $(runs_for $N20) runs (the disk is noisy): $SPREAD"
	rm -rf "$D/n$N20"
else
	note "no separate disk-backed temp dir (/dev/shm not writable): the table is already on \`$DISKBASE\`"
fi

# --- ignore regexes that backtrack ------------------------------------------

# gen_regex ROOT LO HI: a package of 2,000 files named by a run of LO..HI
# "a", a "b" and a tail of letters unique to each, whose
# .stow-local-ignore holds "(a|aa)+$": over a run of "a" that does not
# end the name, a backtracking engine tries every way of splitting the
# run, which takes 1.6 times as many steps for each "a" more.
gen_regex() {
	local root=$1 lo=$2 hi=$3
	rm -rf "$root" && mkdir -p "$root/stow/pkg" "$root/t" &&
	printf '(a|aa)+$\n' > "$root/stow/pkg/.stow-local-ignore" &&
	(cd "$root/stow/pkg" && awk -v lo="$lo" -v hi="$hi" 'BEGIN {
	    for (i = 0; i < 2000; i++) {
		n = lo + i % (hi - lo + 1); s = ""
		for (k = 0; k < n; k++) s = s "a"
		t = ""; j = i
		do { t = t substr("bcdefghijk", j % 10 + 1, 1)
		    j = int(j / 10) } while (j > 0)
		print s "b" t } }' | xargs touch)
}
# regex_row LABEL ROOT: cstow and GNU Stow, RUNS_MID runs each into an
# empty target, whatever their exit status (cstow stops, on purpose,
# when a regex gives up).
REGEX_ROWS=()
regex_row() {
	local label=$1 r=$2 i tool out
	local -A t=() sts=()
	say "$label ($RUNS_MID runs)"
	for ((i = 0; i < RUNS_MID; i++)); do
		for tool in cstow stow; do
			[ "$tool" = cstow ] || [ -n "$REGEX_STOW" ] || continue
			reset_empty "$r"
			if [ "$tool" = cstow ]; then
				out=$("$TIMER" -l "$W/logs/regex.log" "$CSTOW" \
				    -d "$r/stow" -t "$r/t" pkg)
			else
				out=$("$TIMER" -b "$BUDGET" -l "$W/logs/regex.log" \
				    "$REGEX_STOW" -d "$r/stow" -t "$r/t" pkg)
			fi
			t[$tool]+=" ${out%% *}"
			sts[$tool]="${out#* }, $(nlinks "$r/t") links"
		done
	done
	# shellcheck disable=SC2086
	REGEX_ROWS+=("| $label | $(fmt_ms "$(median ${t[cstow]})") (${sts[cstow]}) | $(fmt_ms "$(median ${t[stow]:-})") (${sts[stow]:-n/a}) | $(ratio "$(median ${t[cstow]})" "$(median ${t[stow]:-})" 2) |")
}
r=$W/regex
gen_regex "$r" 30 49
: > "$W/logs/regex.log"
regex_row "\`(a|aa)+\$\`, runs of 30–49 a (each past PCRE2's default limit)" "$r"
grep -h "gave up" "$W/logs/regex.log" | head -n 1 > "$W/regex.msg"
gen_regex "$r" 12 19
regex_row "\`(a|aa)+\$\`, runs of 12–19 a (within cstow's limit)" "$r"
rm -rf "$r"

# --- first start on a real disk ----------------------------------------------

# The demo's first start (cstow-entrypoint linking the bundled dotfiles
# into a home with files in the way, journal and vault in that home): on
# the disk-backed temp dir, where its syncs wait for the disk, and on
# tmpfs, alternately, each from a fresh copy (on the disk, after sync).
FIRST_LINE=
if [ -n "$ENTRY" ]; then
	# shellcheck source=tests/treelib.sh
	. "$HERE/treelib.sh"
	first_runs=21
	[ "${BENCH_QUICK:-0}" = 1 ] && first_runs=3
	say "first start of the demo, on $DISKFSTYPE and on $FSTYPE ($first_runs runs each)"
	for base in "${D:-$W}" "$W"; do
		tree_make "$HERE/../fixtures/trees/demo.tree" "$base/demo0" &&
		cp "$HERE/../fixtures/demo/cstow.conf" "$base/demo0/home/dotfiles/"
	done
	first_run() {	# first_run BASE: one timed first start, from a copy
		rm -rf "$1/demo" && cp -a "$1/demo0" "$1/demo" &&
		{ [ "$1" = "$W" ] || sync; } &&
		"$TIMER" -l "$W/logs/first.log" env -i HOME="$1/demo/home" \
		    PATH="$PATH" "$ENTRY" true
	}
	fd=(); fm=()
	for ((i = 0; i < first_runs; i++)); do
		out=$(first_run "${D:-$W}"); fd+=("${out%% *}")
		out=$(first_run "$W"); fm+=("${out%% *}")
	done
	spread() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END {
	    printf "%.1f–%.1f ms, quartiles %.1f–%.1f", a[1], a[NR],
	    a[int((NR + 3) / 4)], a[int((3 * NR + 3) / 4)] }'; }
	nsync=n/a
	if [ -n "$STRACE" ]; then
		rm -rf "$W/demo" && cp -a "$W/demo0" "$W/demo"
		env -i HOME="$W/demo/home" PATH="$PATH" "$STRACE" -f -c \
		    -o "$W/strace.first" \
		    -e trace=fsync,fdatasync,sync,syncfs,sync_file_range,msync \
		    "$ENTRY" true >/dev/null 2>&1
		nsync=$(awk '$NF == "total" { print $4 }' "$W/strace.first")
		nsync="$nsync ($(awk '/^-+ / { sep++; next }
		    sep == 1 && NF >= 4 { printf "%s%s %s", (n++ ? ", " : ""),
		    $NF, $4 }' "$W/strace.first"))"
	fi
	FIRST_LINE="First start of the demo (cstow-entrypoint links 7 dotfiles and moves 2 files into the vault; its journal and vault are in the same file system), median of $first_runs runs each, alternately: on $DISKFSTYPE (\`${D:-$W}\`) $(fmt_ms "$(median "${fd[@]}")") ms ($(spread "${fd[@]}")); on $FSTYPE $(fmt_ms "$(median "${fm[@]}")") ms ($(spread "${fm[@]}")); $(ratio "$(median "${fd[@]}")" "$(median "${fm[@]}")")× on the disk.  Sync calls per run (strace -f): $nsync."
	rm -rf "${D:-$W}/demo" "${D:-$W}/demo0" "$W/demo" "$W/demo0"
fi

# --- the table -------------------------------------------------------------

echo "| workload | files | cstow ms | stow ms | cp -as ms | floor ms | cstow/floor | stow/cstow |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
printf '%s\n' "${ROWS[@]}"
echo
# restow_line: the restow against the no-op, cstow's and the floors'.
restow_line() {
	local c=${MED[cstow,restow]:-} n=${MED[noop,restow]:-}
	local f=${MED[floor,restow]:-} nf=${MED[noopfloor,restow]:-}
	is_num "$c" && is_num "$n" && is_num "$f" && is_num "$nf" || return 0
	echo "Restow against the no-op on the same trees (all four in the restow row's round-robin, after GNU Stow's restow made every link again): cstow -R $(fmt_ms "$c") ms, cstow no-op $(fmt_ms "$n") ms ($(ratio "$c" "$n" 2)×, $(awk -v a="$c" -v b="$n" 'BEGIN { printf "%+.1f", a - b }') ms); restow floor $(fmt_ms "$f") ms, no-op floor $(fmt_ms "$nf") ms ($(ratio "$f" "$nf" 2)×, $(awk -v a="$f" -v b="$nf" 'BEGIN { printf "%+.1f", a - b }') ms).  Beyond the no-op, a restow that changes nothing must still list each target directory it walks: GNU Stow's unstow half cleans up the dangling links it owns there."
	echo
}
restow_line
# check_line KEY LABEL: --check against the no-op, cstow's and the floors'.
check_line() {
	local c=${MED[cstow,$1]:-} n=${MED[noop,$1]:-}
	local f=${MED[floor,$1]:-} nf=${MED[noopfloor,$1]:-}
	is_num "$c" && is_num "$n" && is_num "$f" && is_num "$nf" || return 0
	echo "- $2: cstow --check $(fmt_ms "$c") ms, cstow no-op $(fmt_ms "$n") ms ($(ratio "$c" "$n" 2)×); check floor $(fmt_ms "$f") ms, no-op floor $(fmt_ms "$nf") ms ($(ratio "$f" "$nf" 2)×)."
}
echo "--check against the no-op on the same trees (both in the check row's round-robin, with the check and no-op floors).  Beyond the no-op, a check lists every directory of the target, for the links no package entry leads to:"
echo
check_line check "20k files in 200 directories"
check_line realcheck "real-tree shape"
echo
if [ "${#REGEX_ROWS[@]}" -gt 0 ]; then
	echo "| ignore regex, 2,000 names, stow into an empty target | cstow ms | GNU Stow ms ($([ -n "$REGEX_STOW" ] && "$REGEX_STOW" --version 2>&1 | head -n 1 || echo "not installed")) | cstow/stow |"
	echo "|---|---:|---:|---:|"
	printf '%s\n' "${REGEX_ROWS[@]}"
	echo
	[ ! -s "$W/regex.msg" ] ||
	    { echo "cstow's message when the regex gives up: \`$(sed "s|$W|…|g" "$W/regex.msg")\`"; echo; }
fi
[ -z "$FIRST_LINE" ] || { echo "$FIRST_LINE"; echo; }
echo "floor: \`link\` (one symlinkat per file) for stow into existing dirs; \`fold\` (symlinkat per top-level entry, descending only into existing dirs) for empty target and dotfiles; \`noop\` (readlinkat per file) for the no-op (the result needs no change); \`restow\` (the no-op's calls, and one listing of each target directory walked) for restow; \`unlink\` (readlinkat and unlinkat per link: an unstow reads a link to know it owns it) for unstow; \`check\` (the no-op's calls, then a listing of every target directory) for --check; \`tree\` (mkdirat per directory, symlinkat per file) for a stow without folding.  \`plan\` (the paired rounds' plan-first floor): \`tree\`'s calls, made only after every source and existing target directory was listed and every step kept in memory.  The real-tree rows pass every package to each tool at once.  cp -as makes absolute links; into an empty target it creates every directory and file link (no folding); for dotfiles it keeps the dot-X names."
echo

# --- system calls, memory, growth ------------------------------------------

# syscalls FILE: "TOTAL top1 N1, top2 N2, top3 N3, top4 N4" from strace -c output
syscalls() {
	local total top
	total=$(awk '$NF == "total" { print $4 }' "$1")
	top=$(awk '/^-+ / { sep++; next } sep == 1 && NF >= 5 { print $4, $NF }' "$1" |
	    sort -rn | head -n 5 | awk '{ printf "%s%s %s", (NR > 1 ? ", " : ""), $2, $1 }')
	echo "$total|$top"
}

echo "## System calls per package entry (strace -c -f), 20k files"
echo
r=$W/n$N20
nent=$(find "$r/stow/pkg" -mindepth 1 | wc -l)
if [ -z "$STRACE" ]; then
	echo "n/a: strace is not installed (apt-get install strace)"
else
	echo "Package entries: $nent (files and directories)."
	echo
	echo "| workload | tool | syscalls | per entry | most frequent |"
	echo "|---|---|---:|---:|---|"
	for wl in stow noop; do
		for tool in cstow stow; do
			bin=$CSTOW; [ "$tool" = stow ] && bin=$STOW
			[ -n "$bin" ] || { echo "| $wl | $tool | n/a | n/a | |"; continue; }
			if [ "$wl" = stow ]; then reset_dirs "$r"; label="stow into existing dirs"
			else reset_stowed "$r"; label="no-op re-run"; fi
			say "strace: $tool $label"
			out=$("$TIMER" -b $((BUDGET * 3)) -l "$W/logs/strace.log" \
			    "$STRACE" -c -f -o "$W/strace.$tool.$wl" "$bin" -d "$r/stow" -t "$r/t" pkg)
			if [ "${out#* }" != ok ]; then
				echo "| $label | $tool | n/a (${out#* }) | | |"; continue
			fi
			IFS='|' read -r total top <<< "$(syscalls "$W/strace.$tool.$wl")"
			echo "| $label | $tool | $total | $(ratio "$total" "$nent") | $top |"
		done
	done
	# sc_row LABEL TOOL ENTRIES RESET CMD...: one more row, after RESET.
	sc_row() {
		local label=$1 tool=$2 nent=$3 reset=$4 total top
		shift 4
		eval "$reset" || { echo "| $label | $tool | n/a | | |"; return; }
		"$STRACE" -c -f -o "$W/strace.row" "$@" >/dev/null 2>&1 ||
		    { echo "| $label | $tool | n/a | | |"; return; }
		IFS='|' read -r total top <<< "$(syscalls "$W/strace.row")"
		echo "| $label | $tool | $total | $(ratio "$total" "$nent") | $top |"
	}
	sc_row "unstow (-D)" cstow "$nent" "reset_stowed $r" \
	    "$CSTOW" -d "$r/stow" -t "$r/t" -D pkg
	sc_row "restow (-R) of stowed" cstow "$nent" "reset_stowed $r" \
	    "$CSTOW" -d "$r/stow" -t "$r/t" -R pkg
	sc_row "--check (all stowed)" cstow "$nent" "reset_stowed $r" \
	    "$CSTOW" -d "$r/stow" -t "$r/t" --check pkg
	sc_row "--check (all stowed)" "check floor" "$nent" "reset_stowed $r" \
	    "$FLOOR" check "$r/stow/pkg" "$r/t"
	r=$W/deep
	ndeep=$(find "$r/stow/pkg" -mindepth 1 | wc -l)
	sc_row "stow into existing dirs, deep tree ($ndeep entries)" cstow \
	    "$ndeep" "reset_copy $r" "$CSTOW" -d "$r/stow" -t "$r/t" pkg
	sc_row "stow into existing dirs, deep tree ($ndeep entries)" floor \
	    "$ndeep" "reset_copy $r" "$FLOOR" link "$r/stow/pkg" "$r/t"
	r=$W/real
	for tool in cstow stow floor; do
		case $tool in
		cstow) set -- "$CSTOW" -d "$r/stow" -t "$r/t" --no-folding ;;
		stow) [ -n "$STOW" ] || continue
			set -- "$STOW" -d "$r/stow" -t "$r/t" --no-folding ;;
		floor) set -- "$FLOOR" ;;
		esac
		# shellcheck disable=SC2086
		if [ $tool = floor ]; then
			sc_row "real-tree shape ($nrealent entries): stow" floor \
			    "$nrealent" "reset_empty $r" "$@" tree "$r/t" "${real_args[@]}"
			sc_row "real-tree shape: no-op" floor "$nrealent" \
			    "reset_real_stowed $r" "$@" noop "${real_args[@]}" "$r/t"
			sc_row "real-tree shape: unstow" floor "$nrealent" \
			    "reset_real_stowed $r" "$@" unlink "$r/t"
			sc_row "real-tree shape: --check" "check floor" "$nrealent" \
			    "reset_real_stowed $r" "$@" check "${real_args[@]}" "$r/t"
			continue
		fi
		sc_row "real-tree shape ($nrealent entries): stow" $tool \
		    "$nrealent" "reset_empty $r" "$@" $REAL_PKGS
		sc_row "real-tree shape: no-op" $tool "$nrealent" \
		    "reset_real_stowed $r" "$@" $REAL_PKGS
		sc_row "real-tree shape: unstow" $tool "$nrealent" \
		    "reset_real_stowed $r" "$@" -D $REAL_PKGS
		[ $tool = cstow ] && sc_row "real-tree shape: --check" cstow \
		    "$nrealent" "reset_real_stowed $r" "$@" --check $REAL_PKGS
	done
fi
echo

# --- issue 20: where the time goes on a freshly copied tree ------------------

echo "## Stow into existing dirs: cstow against the floor, CPU and memory"
echo
RUNS_RU=$((RUNS_MID * 3))
echo "Median of $RUNS_RU runs each, alternately, from a fresh target each run (\`timer -r\`: the child's rusage; CPU times are counted in scheduler ticks, so only their sum over many runs means much).  \`cstow -n\` lists, checks and plans everything and changes nothing: what a stow that decides before it changes pays beyond the floor's walk and links.  cstow's journal is in \`\$HOME\` on $FSTYPE, as in every row above, except in the row that puts it on $DISKFSTYPE (\`XDG_STATE_HOME\` in \`${D:-$W}\`), as a user's is: there its syncs wait for the disk."
echo
echo "| tree | tool | wall ms | user ms | sys ms | minor faults | voluntary switches |"
echo "|---|---|---:|---:|---:|---:|---:|"
# ru_row TREE RESET ROOT: cstow, cstow with the journal on the disk,
# cstow -n (the plan alone), floor.
ru_row() {
	local tree=$1 reset=$2 r=$3 i k out
	local -A w=() u=() sy=() f=() v=()
	mkdir -p "${D:-$W}/state"
	for ((i = 0; i < RUNS_RU; i++)); do
		for k in cstow cstow-disk cstow-n floor; do
			eval "$reset $r"
			case $k in
			cstow) out=$("$TIMER" -r "$CSTOW" -d "$r/stow" -t "$r/t" pkg) ;;
			cstow-n) out=$("$TIMER" -r "$CSTOW" -n -d "$r/stow" -t "$r/t" pkg) ;;
			cstow-disk) out=$("$TIMER" -r env XDG_STATE_HOME="${D:-$W}/state" \
			    "$CSTOW" -d "$r/stow" -t "$r/t" pkg) ;;
			floor) out=$("$TIMER" -r "$FLOOR" link "$r/stow/pkg" "$r/t") ;;
			esac
			# shellcheck disable=SC2086
			set -- $out
			w[$k]+=" $1"; u[$k]+=" $3"; sy[$k]+=" $4"; f[$k]+=" $5"; v[$k]+=" $6"
		done
	done
	for k in cstow cstow-disk cstow-n floor; do
		# shellcheck disable=SC2086
		echo "| $tree | $k$([ $k = cstow-disk ] && echo " (journal on $DISKFSTYPE)")$([ $k = cstow-n ] && echo " (plan only)") | $(fmt_ms "$(median ${w[$k]})") | $(fmt_ms "$(median ${u[$k]})") | $(fmt_ms "$(median ${sy[$k]})") | $(median ${f[$k]}) | $(median ${v[$k]}) |"
	done
}
ru_row "flat: d0000–d0199, 100 per dir" reset_dirs "$W/n$N20"
ru_row "deep: share/dNN/eNNN, 50 per dir" reset_copy "$W/deep"
echo
# --- paired rounds: the ratios the targets are set in ------------------------

# Five-run medians taken apart move by up to ±15% between two runs of
# this benchmark on a shared machine, whose load drifts over minutes.
# Here each round runs every command of a row once, one after another,
# in an order that rotates each round, and a ratio is taken within the
# round, where both sides met the same machine; a row gives the median
# of the rounds' ratios and their quartiles.

# paired ROUNDS RESET CHECK NAME CMD [NAME CMD]...: PT[NAME] = the times
# (ms), round by round.  RESET (a command string, untimed) runs before
# each command, CHECK (one printing "ok" or a complaint) after each
# command's first run; CMD is a command string (q).  Returns 1, with a
# note, when a command fails or leaves the wrong tree.
declare -A PT
paired() {
	local rounds=$1 reset=$2 check=$3 i j k n out res
	local -a names=() cmds=()
	shift 3
	while [ $# -ge 2 ]; do names+=("$1"); cmds+=("$2"); shift 2; done
	n=${#names[@]}
	PT=()
	for ((i = 0; i < rounds; i++)); do
		for ((j = 0; j < n; j++)); do
			k=$(((i + j) % n))
			eval "$reset" || { note "paired rounds: reset failed"; return 1; }
			out=$(eval "\"\$TIMER\" -l \"\$W/logs/paired.log\" ${cmds[k]}")
			if [ "${out#* }" != ok ]; then
				note "paired rounds, ${names[k]}: ${out#* }: $(head -n 2 "$W/logs/paired.log" | tr '\n' ' ')"
				return 1
			fi
			PT[${names[k]}]+=" ${out%% *}"
			[ "$i" -gt 0 ] || [ "$(eval "$check")" = ok ] || {
				note "paired rounds, ${names[k]}: wrong result: $(eval "$check")"
				return 1; }
		done
	done
}
# pratio A B: A's time over B's, round by round: "median× (quartiles)".
pratio() {
	# shellcheck disable=SC2086
	paste <(printf '%s\n' ${PT[$1]}) <(printf '%s\n' ${PT[$2]}) |
	    awk '{ print $1 / $2 }' | sort -g | awk '{ a[NR] = $1 } END {
	    printf "%.2f× (%.2f–%.2f)", a[int((NR + 1) / 2)],
	    a[int((NR + 3) / 4)], a[int((3 * NR + 3) / 4)] }'
}
q() { printf '%q ' "$@"; }
PAIRED_ROUNDS=21
[ "${BENCH_QUICK:-0}" = 1 ] && PAIRED_ROUNDS=3
echo "## Paired rounds: stow against the floors, --check against the no-op"
echo
echo "$PAIRED_ROUNDS rounds; in each, every command of the row runs once (in an order that rotates by round, after its reset), and each ratio is taken within the round: the median of the rounds' ratios, with their quartiles.  The plan-first floor (\`floor plan\`) is the least a stow that decides before it changes must do: it lists each source and existing target directory, keeps every step in memory with a path set for conflicts, and only then makes the directories and links; no journal, no ignore lists, no folding."
echo
echo "| workload | cstow/floor | plan-first floor/floor | cstow/plan-first floor |"
echo "|---|---:|---:|---:|"
# stow_pair LABEL RESET CHECK CSTOW-CMD FLOOR-CMD PLAN-CMD
stow_pair() {
	say "paired rounds: $1 ($PAIRED_ROUNDS rounds)"
	if paired "$PAIRED_ROUNDS" "$2" "$3" cstow "$4" floor "$5" plan "$6"; then
		echo "| $1 | $(pratio cstow floor) | $(pratio plan floor) | $(pratio cstow plan) |"
	else
		echo "| $1 | error (see the notes) | | |"
	fi
}
r=$W/deep
stow_pair "deep tree (share/dNN/eNNN), fresh \`cp -a\` copy" "reset_copy $r" \
    "expect_links $r/t $N20" \
    "$(q "$CSTOW" -d "$r/stow" -t "$r/t" pkg)" \
    "$(q "$FLOOR" link "$r/stow/pkg" "$r/t")" \
    "$(q "$FLOOR" plan "$r/t" "$r/stow/pkg")"
r=$W/real
# shellcheck disable=SC2086
stow_pair "real-tree shape, --no-folding into an empty target" "reset_empty $r" \
    "expect_links $r/t $nreal" \
    "$(q "$CSTOW" -d "$r/stow" -t "$r/t" --no-folding $REAL_PKGS)" \
    "$(q "$FLOOR" tree "$r/t" "${real_args[@]}")" \
    "$(q "$FLOOR" plan "$r/t" "${real_args[@]}")"
r=$W/n$N20
stow_pair "20k files into existing dirs" "reset_dirs $r" \
    "expect_links $r/t $N20" \
    "$(q "$CSTOW" -d "$r/stow" -t "$r/t" pkg)" \
    "$(q "$FLOOR" link "$r/stow/pkg" "$r/t")" \
    "$(q "$FLOOR" plan "$r/t" "$r/stow/pkg")"
echo
echo "| workload (all stowed) | cstow --check / cstow no-op | check floor / no-op floor |"
echo "|---|---:|---:|"
# check_pair LABEL LINKS CHECK-CMD NOOP-CMD CHECK-FLOOR-CMD NOOP-FLOOR-CMD:
# on a target of LINKS links, all stowed.
check_pair() {
	say "paired rounds: --check, $1 ($PAIRED_ROUNDS rounds)"
	if paired "$PAIRED_ROUNDS" : "expect_links $r/t $2" check "$3" \
	    noop "$4" fcheck "$5" fnoop "$6"; then
		echo "| $1 | $(pratio check noop) | $(pratio fcheck fnoop) |"
	else
		echo "| $1 | error (see the notes) | |"
	fi
}
reset_stowed "$r"
check_pair "20k files in 200 directories" $N20 \
    "$(q "$CSTOW" -d "$r/stow" -t "$r/t" --check pkg)" \
    "$(q "$CSTOW" -d "$r/stow" -t "$r/t" pkg)" \
    "$(q "$FLOOR" check "$r/stow/pkg" "$r/t")" \
    "$(q "$FLOOR" noop "$r/stow/pkg" "$r/t")"
r=$W/real
reset_real_stowed "$r"
# shellcheck disable=SC2086
check_pair "real-tree shape" "$nreal" \
    "$(q "$CSTOW" -d "$r/stow" -t "$r/t" --check --no-folding $REAL_PKGS)" \
    "$(q "$CSTOW" -d "$r/stow" -t "$r/t" --no-folding $REAL_PKGS)" \
    "$(q "$FLOOR" check "${real_args[@]}" "$r/t")" \
    "$(q "$FLOOR" noop "${real_args[@]}" "$r/t")"
echo
echo "## Memory and growth"
echo
nbig=${SIZES##* }
if [ -n "$GTIME" ]; then
	reset_dirs "$W/n$nbig"
	"$GTIME" -v -o "$W/time.out" "$CSTOW" -d "$W/n$nbig/stow" -t "$W/n$nbig/t" pkg \
	    >/dev/null 2>&1
	rss=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$W/time.out")
	echo "- cstow peak RSS, stow $(human "$nbig") files into existing dirs: ${rss:-n/a} KiB ($(awk -v k="${rss:-0}" -v n="$nbig" 'BEGIN { printf "%.0f", k * 1024 / n }') bytes per file)"
else
	echo "- cstow peak RSS: n/a (/usr/bin/time is missing: apt-get install time)"
fi
if [ "$nbig" = 100000 ]; then
	for k in exist empty; do
		[ $k = exist ] && lbl="stow into existing dirs" || lbl="stow into empty target"
		c20=${MED[cstow,$k,20000]:-}; c100=${MED[cstow,$k,100000]:-}
		s20=${MED[stow,$k,20000]:-}; s100=${MED[stow,$k,100000]:-}
		echo "- growth 20k → 100k files (5×; linear = 5.0), $lbl: cstow $(ratio "$c100" "$c20")×, stow $(ratio "$s100" "$s20")×"
	done
else
	echo "- growth 20k → 100k: n/a (BENCH_QUICK=1 skips 100k)"
fi
echo

# --- the benchmark's trees, cstow against GNU Stow ---------------------------

# tree_sum DIR: one line per node (type, path, link text), hashed.
tree_sum() {
	(cd "$1" && find . -printf '%y %p %l\n' | LC_ALL=C sort) | sha256sum
}

# same_tree LABEL ROOT RESET FLAG: cstow and GNU stow, each from RESET,
# leave the same target tree.
DIFFERENT=0
same_tree() {
	local label=$1 r=$2 reset=$3 flag=$4 a b
	"$reset" "$r" && "$CSTOW" -d "$r/stow" -t "$r/t" "$flag" pkg \
	    >/dev/null 2>&1 && a=$(tree_sum "$r/t")
	"$reset" "$r" && "$TIMER" -b "$BUDGET" "$STOW" -d "$r/stow" -t "$r/t" \
	    "$flag" pkg | grep -q ' ok$' && b=$(tree_sum "$r/t")
	if [ -n "${a:-}" ] && [ "${a:-}" = "${b:-}" ]; then
		echo "| $label | same |"
	else
		echo "| $label | **different** |"
		DIFFERENT=1
	fi
}

echo "## The same trees from GNU Stow (20k files)"
echo
if [ -z "$STOW" ]; then
	echo "n/a: GNU Stow is not installed"
else
	say "comparing the trees cstow and GNU stow leave"
	r=$W/n$N20
	echo "| workload | target tree after cstow and after GNU Stow |"
	echo "|---|---|"
	same_tree "stow into existing dirs" "$r" reset_dirs -S
	same_tree "stow into empty target" "$r" reset_empty -S
	same_tree "no-op re-run (all stowed)" "$r" reset_stowed -S
	same_tree "unstow (-D)" "$r" reset_stowed -D
	same_tree "restow (-R) of stowed" "$r" reset_stowed -R
	[ "$DIFFERENT" = 0 ] ||
	    note "cstow and GNU Stow left different trees: a bug to report"
fi
echo

if [ "${#NOTES[@]}" -gt 0 ]; then
	echo "## Notes"
	echo
	for n in "${NOTES[@]}"; do echo "- $n"; done
	echo
fi
echo "Total benchmark time: $(( $(date +%s) - T_START )) s; load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)."
# A benchmark never fails for being slow; trees that differ are a bug.
exit "$DIFFERENT"
