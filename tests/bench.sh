#!/usr/bin/env bash
# bench.sh: time cstow against GNU Stow, cp -as and a syscall floor.
#
#   tests/bench.sh [CSTOW]          (default cli/cstow)
#   BENCH_QUICK=1 tests/bench.sh    1k and 20k only, one run each (smoke test)
#   BENCH_BUDGET=SECONDS            time budget of each GNU Stow run (60)
#
# A benchmark, not a test: it never fails because something is slow.  It
# exits non-zero only when it cannot run at all (no cstow, no C compiler),
# or when cstow and GNU Stow leave different trees from the benchmark's
# own (the differential check of its last section).
# Progress goes to stderr; a Markdown report goes to stdout.
#
# Trees are built on tmpfs (/dev/shm) when it is writable, else in
# $TMPDIR; the "stow 20k into existing dirs" workload is repeated in
# $TMPDIR (disk-backed, where each symlink costs far more).  Every cell is
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
$CC -O2 -o "$W/timer" "$HERE/bench_timer.c" || die "cannot compile bench_timer.c"
FLOOR=$W/floor
TIMER=$W/timer
# Time a snapshot: a rebuild during the run must not mix two binaries.
cp "$CSTOW" "$W/cstow" || die "cannot copy $CSTOW"
CSTOW=$W/cstow

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
echo "floor: \`link\` (one symlinkat per file) for stow into existing dirs; \`fold\` (symlinkat per top-level entry, descending only into existing dirs) for empty target and dotfiles; \`noop\` (readlinkat per file) for the no-op (the result needs no change); \`restow\` (the no-op's calls, and one listing of each target directory walked) for restow; \`unlink\` (readlinkat and unlinkat per link: an unstow reads a link to know it owns it) for unstow.  cp -as makes absolute links; into an empty target it creates every directory and file link (no folding); for dotfiles it keeps the dot-X names."
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
	for op in -D -R; do	# cstow only: where its time goes
		reset_stowed "$r"
		[ $op = -D ] && label="unstow (-D)" || label="restow (-R) of stowed"
		"$STRACE" -c -f -o "$W/strace.cstow$op" "$CSTOW" -d "$r/stow" -t "$r/t" $op pkg \
		    >/dev/null 2>&1 || { echo "| $label | cstow | n/a | | |"; continue; }
		IFS='|' read -r total top <<< "$(syscalls "$W/strace.cstow$op")"
		echo "| $label | cstow | $total | $(ratio "$total" "$nent") | $top |"
	done
fi
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
