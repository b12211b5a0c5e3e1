#!/usr/bin/env bash
# tests/container/run.sh: the README's golden-image story in a real
# container engine.  Run by `make check-container` (part of `make check`),
# as root, from the top of the source tree.
#
# It builds the Dockerfile of README.md, taken from the README when it
# runs, with podman on its default storage (overlay), from a context that
# holds this source tree in cstow/ and the demo's dotfiles repository
# (fixtures/trees/demo.tree, fixtures/demo/cstow.conf, and the README's
# install.sh) in dotfiles/.  No registry is needed: the two Debian base
# images are made with mmdebstrap from the machine's apt sources and
# imported as debian:bookworm and debian:bookworm-slim, once; a later run
# uses them as they are.  Then it starts containers and asserts what is on
# their disks, owners, exit statuses, messages and health:
#
#   story        an image that preinstalls ~/.config/nvim and ~/.gitconfig
#                (story.Containerfile) starts with every package linked,
#                the image's files in the vault with a MANIFEST, the
#                command as PID 1 and its exit status passed through
#   restart      a second start of that container links and moves nothing
#   health       the image's HEALTHCHECK (podman healthcheck run) is
#                healthy, unhealthy once a link is removed, and follows
#                CSTOW_PACKAGES
#   ro-bind      a read-only dotfiles bind mount owned by another user
#   root         started as root with HOME=/home/dev: everything is dev's,
#                and dev can --restore
#   conflict     CSTOW_CONFLICT=fail with a conflict runs the command;
#                with CSTOW_STRICT=1 it does not
#   install.sh   the README's install.sh with both programs, and with
#                cstow alone (cstow-only.Containerfile)
#   kubernetes   the README's manifest under podman kube play: the pod
#                becomes ready (its readiness probe, run as the kubelet
#                would) with everything linked in its home volume
#   devcontainer the README's devcontainer.json under `devcontainer up
#                --docker-path podman` (the dev container CLI from npm)
#
# It prints one line per check, the entrypoint's first-start and restart
# times, the size the two programs add to the image and its own run time,
# then "N passed, N failed".  It exits non-zero when a check failed or
# when it cannot run (not root, no podman, storage other than overlay):
# a test that cannot run is a failure, never a pass.  Runs are one at a
# time (a lock); each removes its containers, pod and volume, and the
# images of the previous run it replaces, and keeps the base images and
# the build stage as a cache.  CSTOW_TEST_KEEP=1 keeps the work directory
# and the containers.

# checkx takes shell expressions in single quotes, evaluated when it runs.
# shellcheck disable=SC2016
set -u
set -o pipefail

here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
top=$(cd -- "$here/../.." && pwd -P)
# shellcheck source=tests/treelib.sh
. "$top/tests/treelib.sh"

started=$SECONDS
# shellcheck source=tests/tap.sh
. "$top/tests/tap.sh"
tap_context() { printf 'status: %s\nstdout: %s\nstderr: %s\n' "$status" "$out" "$err"; }

# cannot_run WHY: ends the run as one more failure.
cannot_run() {
	echo "check-container: cannot run: $*" >&2
	echo "$passed passed, $((failed + 1)) failed"
	exit 1
}


[ "$(id -u)" = 0 ] ||
	cannot_run "needs root (rootful podman, as CI runs it)"
for c in podman runc mmdebstrap newuidmap python3; do
	command -v "$c" >/dev/null 2>&1 ||
		cannot_run "$c is not installed (make check-container installs it)"
done

exec 9>"${TMPDIR:-/tmp}/cstow-check-container.lock"
flock 9 || cannot_run "flock failed"

work=$(mktemp -d "${TMPDIR:-/tmp}/cstow-container.XXXXXX") ||
	cannot_run "mktemp failed"
id=${work##*.}
prefix=cstow-check-$id
img=localhost/cstow-check

# What this machine needs (measured): root lacks CAP_SYS_RESOURCE, so
# the default ulimits must not exceed the current ones, and crun refuses
# the hybrid cgroup layout.
cat >"$work/containers.conf" <<'EOF'
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]

[engine]
runtime = "runc"
EOF
export CONTAINERS_CONF=$work/containers.conf
# Podman's default storage, whatever the caller's environment says.
unset CONTAINERS_STORAGE_CONF

cleanup() {
	local c
	if [ "${CSTOW_TEST_KEEP:-0}" = 1 ]; then
		echo "# kept: $work and the containers labelled cstow-check=$id"
		return
	fi
	[ -f "$work/pod.yaml" ] &&
		podman kube down "$work/pod.yaml" >/dev/null 2>&1
	podman volume rm -f "$prefix-home" >/dev/null 2>&1
	for c in $(podman ps -a -q --filter "label=cstow-check=$id") \
	    $(podman ps -a -q --filter "label=cstow-check-dev=$id"); do
		podman umount "$c" >/dev/null 2>&1
		podman rm -f -t 0 "$c" >/dev/null 2>&1
	done
	# The dev container CLI's images (vsc-WORKSPACE-HASH, and -uid).
	for c in $(podman images --format '{{.Repository}}' |
	    grep '/vsc-cstow-check-ws-' | sort -r); do
		remove_image "$c"
	done
	rm -rf -- "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

driver=$(podman info --format '{{.Store.GraphDriverName}}' 2>"$work/info.err") ||
	cannot_run "podman info failed: $(cat "$work/info.err")"
[ "$driver" = overlay ] ||
	cannot_run "podman's storage driver is '$driver', not overlay"
echo "# podman $(podman version --format '{{.Client.Version}}'), storage $driver, runtime $(podman info --format '{{.Host.OCIRuntime.Name}}')"

# ---------------------------------------------------------------------
# Images.

# drop_chain ID: removes image ID, if untagged, and the untagged parents
# that nothing else uses (podman rmi refuses one with children or a
# container), so that the images a run replaces leave no layers behind.
drop_chain() {
	local i=$1 parent
	while [ -n "$i" ]; do
		[ "$(podman image inspect -f '{{len .RepoTags}}' "$i" 2>/dev/null)" = 0 ] ||
			return 0
		parent=$(podman image inspect -f '{{.Parent}}' "$i") || return 0
		podman rmi "$i" >/dev/null 2>&1 || return 0
		i=$parent
	done
}

# remove_image NAME: removes a tagged image, then drop_chain's parents.
remove_image() {
	local parent
	parent=$(podman image inspect -f '{{.Parent}}' "$1" 2>/dev/null) ||
		return 0
	podman rmi "$1" >/dev/null 2>&1 && drop_chain "$parent"
}

image_id() { podman image inspect -f '{{.Id}}' "$1" 2>/dev/null; }

# build NAME PODMAN-BUILD-ARGS...: builds $img/NAME in Docker format
# (which keeps HEALTHCHECK) from local images only; drops the image it
# replaces.  The log is $work/build-NAME.log.
build() {
	local name=$1 old new
	shift
	old=$(image_id "$img/$name")
	if ! timeout 900 podman build --format docker --pull=never \
	    -t "$img/$name" "$@" >"$work/build-$name.log" 2>&1; then
		not_ok "build $name" "$(tail -n 30 "$work/build-$name.log")"
		return 1
	fi
	new=$(image_id "$img/$name")
	[ -z "$old" ] || [ "$old" = "$new" ] || drop_chain "$old"
	return 0
}

# The Debian base images, built once from the machine's apt sources.
# debian:bookworm-slim leaves out documentation as Debian's slim images
# do (dpkg path-exclude, kept in the image for later installs).
slim_opts=()
for p in /usr/share/doc/ /usr/share/groff/ /usr/share/info/ \
    /usr/share/linda/ /usr/share/lintian/overrides/ /usr/share/locale/ \
    /usr/share/man/; do
	slim_opts+=("--dpkgopt=path-exclude=$p*")
done
slim_opts+=("--dpkgopt=path-include=/usr/share/doc/*/copyright")
sources=()
for f in /etc/apt/sources.list /etc/apt/sources.list.d/debian.sources; do
	[ -s "$f" ] && sources+=("$f")
done

base_image() {	# base_image TAG [MMDEBSTRAP-OPTION...]
	local tag=$1 t0=$SECONDS
	shift
	if podman image exists "docker.io/library/debian:$tag"; then
		echo "# debian:$tag: cached"
		return 0
	fi
	mmdebstrap --quiet --variant=minbase --format=tar "$@" bookworm - \
	    ${sources[@]+"${sources[@]}"} 2>"$work/mmdebstrap-$tag.log" |
	    podman import --change 'CMD ["bash"]' - \
	    "docker.io/library/debian:$tag" >/dev/null 2>>"$work/mmdebstrap-$tag.log" ||
		cannot_run "debian:$tag: mmdebstrap | podman import failed: $(tail -n 20 "$work/mmdebstrap-$tag.log")"
	echo "# debian:$tag: made with mmdebstrap in $((SECONDS - t0)) s"
}
base_image bookworm
base_image bookworm-slim "${slim_opts[@]}"

# readme_block INFO [FIRST-LINE]: the first fenced block of README.md
# whose info string is INFO (and whose first line is FIRST-LINE).
readme_block() {
	awk -v info="$1" -v first="${2:-}" '
		!inb && $0 == "```" info { inb = 1; k = 0; next }
		inb && $0 == "```" {
			if (!done && (first == "" || line[1] == first)) {
				for (i = 1; i <= k; i++)
					print line[i]
				done = 1
			}
			inb = 0
			next
		}
		inb { line[++k] = $0 }
		END { exit !done }' "$top/README.md"
}

# The context: this tree in cstow/ (what git tracks or would track, as it
# is on disk), the demo's dotfiles in dotfiles/, the README's files.
ctx=$work/cstow-check-ws
demo=$work/demo
mkdir -p "$ctx/cstow" "$ctx/dotfiles" "$ctx/.devcontainer" "$work/story"
if git -C "$top" rev-parse --git-dir >/dev/null 2>&1; then
	(cd "$top" && git ls-files -z -co --exclude-standard |
	    while IFS= read -r -d '' f; do
		[ -e "$f" ] && printf '%s\0' "$f"
	    done | tar --null -T - -cf -) | tar -xf - -C "$ctx/cstow" ||
		cannot_run "copying the source tree failed"
else
	tar -C "$top" --exclude=./build --exclude='*.o' --exclude='*.a' \
	    -cf - . | tar -xf - -C "$ctx/cstow" ||
		cannot_run "copying the source tree failed"
fi
tree_make "$top/fixtures/trees/demo.tree" "$demo" ||
	cannot_run "tree_make demo.tree failed"
cp -a "$demo/home/dotfiles/." "$ctx/dotfiles/"
cp "$top/fixtures/demo/cstow.conf" "$ctx/dotfiles/"
readme_block dockerfile >"$ctx/Dockerfile" ||
	cannot_run "README.md has no dockerfile block"
cp "$ctx/Dockerfile" "$ctx/.devcontainer/Dockerfile"
readme_block jsonc >"$ctx/.devcontainer/devcontainer.json" ||
	cannot_run "README.md has no jsonc block (devcontainer.json)"
readme_block sh '#!/bin/sh' >"$ctx/dotfiles/install.sh" ||
	cannot_run "README.md has no install.sh block"
chmod 755 "$ctx/dotfiles/install.sh"
readme_block yaml >"$work/devbox.yaml" ||
	cannot_run "README.md has no yaml block (the Kubernetes manifest)"
cp -a "$demo/home" "$work/story/home"
rm -rf -- "$work/story/home/dotfiles"

t0=$SECONDS
# The build stage, tagged apart so that its layers (the apt-get install)
# stay cached when a run replaces the images of the last one.
if ! { build build --target build "$ctx" &&
    build devbox "$ctx" &&
    build story --build-arg "BASE=$img/devbox" \
    -f "$here/story.Containerfile" "$work/story" &&
    build cstow-only --build-arg "BASE=$img/story" \
    -f "$here/cstow-only.Containerfile" "$work/story"; }; then
	cannot_run "the images could not be built (see above)"
fi
echo "# images built in $((SECONDS - t0)) s"

# ---------------------------------------------------------------------
# Running containers.

out=
err=
status=

# Sets out, err and status from files $work/out and $work/err, without
# podman's own log lines (its health check timers need systemd).
collect() {
	status=$1
	out=$(cat -- "$work/out")
	err=$(grep -v '^time=".*" level=' "$work/err")
}

# prun PODMAN-RUN-ARGS...: podman run --rm, from local images only.
prun() {
	timeout 120 podman run --rm --pull=never --label "cstow-check=$id" \
	    "$@" </dev/null >"$work/out" 2>"$work/err"
	collect $?
}

# pstart NAME: podman start --attach.
pstart() {
	timeout 120 podman start -a "$1" </dev/null >"$work/out" 2>"$work/err"
	collect $?
}

# pdetach NAME PODMAN-RUN-ARGS...: starts container NAME in the
# background and waits until cstow-entrypoint has had its say.
pdetach() {
	local name=$1 i
	shift
	podman run -d --pull=never --label "cstow-check=$id" --name "$name" \
	    "$@" >/dev/null 2>"$work/err" || return 1
	for i in $(seq 60); do
		podman logs "$name" 2>&1 |
		    grep -q '^cstow-entrypoint: \(linked\|linking failed\)' &&
			return 0
		sleep 0.5
	done
	return 1
}

pexec() {	# pexec CONTAINER COMMAND...
	timeout 60 podman exec "$@" </dev/null >"$work/out" 2>"$work/err"
	collect $?
}

# The links the demo's cstow.conf makes in the home directory, and their
# texts.
links=(
	".config/git ../dotfiles/git/dot-config/git"
	".config/nvim ../dotfiles/nvim/dot-config/nvim"
	".config/zsh ../dotfiles/zsh/dot-config/zsh"
	".gitconfig dotfiles/git/dot-gitconfig"
	".local/bin/hello ../../dotfiles/scripts/hello"
	".tmux.conf dotfiles/tmux/dot-tmux.conf"
	".zshrc dotfiles/zsh/dot-zshrc"
)
vault=.local/state/cstow/backup
summary_re='^cstow-entrypoint: linked ([0-9]+), backed up ([0-9]+)( to [^ ]+)?, unchanged ([0-9]+), ([0-9.]+) ms$'
run_re="^/home/dev/$vault/[0-9]{8}T[0-9]{6}\\.[0-9]{6}Z-[0-9]+\$"

# summary LINKED BACKED-UP UNCHANGED: $err has cstow-entrypoint's summary
# line with those counts (and a vault run when it backed up);
# sets ms to its time.
ms=
summary() {
	local line
	line=$(grep -E "$summary_re" <<<"$err" | tail -n 1)
	[[ $line =~ $summary_re ]] || return 1
	ms=${BASH_REMATCH[5]}
	[ "${BASH_REMATCH[1]}/${BASH_REMATCH[2]}/${BASH_REMATCH[4]}" = "$1/$2/$3" ] &&
	    { [ "$2" = 0 ] || [[ ${BASH_REMATCH[3]# to } =~ $run_re ]]; }
}

# linked_in HOME: every link is there with its text and leads to a file
# or directory (HOME is a path on this machine: a mounted container, a
# volume).  Prints what is wrong.
linked_in() {
	local h=$1 e p want bad=0
	for e in "${links[@]}"; do
		p=${e%% *}
		want=${e#* }
		if [ ! -L "$h/$p" ]; then
			echo "$p: not a link"
		elif [ "$(readlink -- "$h/$p")" != "$want" ]; then
			echo "$p -> $(readlink -- "$h/$p"), not -> $want"
		elif [ ! -e "$h/$p" ]; then
			echo "$p -> $want: dangles"
		else
			continue
		fi
		bad=1
	done
	return $bad
}

# not_owned_by UID HOME: what below HOME (not its dotfiles) is not UID's.
not_owned_by() {
	find "$2" -path "$2/dotfiles" -prune -o ! -uid "$1" -printf '%P %U\n'
}

# vault_runs HOME: the run directories of the vault below HOME.
vault_runs() {
	find "$1/$vault" -mindepth 1 -maxdepth 1 -type d -printf '%f\n' \
	    2>/dev/null | sort
}

# story_vault LABEL HOME: one vault run, holding the image's files, with
# a MANIFEST naming them.
story_vault() {
	local label=$1 h=$2 runs run
	runs=$(vault_runs "$h")
	if [ -z "$runs" ] || [ "$(printf '%s\n' "$runs" | wc -l)" != 1 ]; then
		not_ok "$label: one vault run" "runs: ${runs:-none}"
		return
	fi
	run=$h/$vault/$runs
	if [ "$(cat -- "$run/.gitconfig" 2>/dev/null)" = "[user] name = Image Default" ] &&
	    [ "$(cat -- "$run/.config/nvim/init.vim" 2>/dev/null)" = "\" the image's starter configuration" ] &&
	    awk -F '\t' '$1 == "f" && $5 == ".gitconfig" && $6 == "/home/dev/.gitconfig" { a = 1 }
		$1 == "d" && $5 == ".config/nvim" && $6 == "/home/dev/.config/nvim" { b = 1 }
		END { exit !(a && b) }' "$run/MANIFEST" 2>/dev/null; then
		ok "$label: the image's ~/.gitconfig and ~/.config/nvim are in the vault, with a MANIFEST"
	else
		not_ok "$label: the image's ~/.gitconfig and ~/.config/nvim are in the vault, with a MANIFEST" \
		    "$(cd "$run" && find . | sort)" "$(cat -- "$run/MANIFEST" 2>&1)"
	fi
}

# check_linked LABEL HOME
check_linked() {
	local why
	if why=$(linked_in "$2"); then
		ok "$1: every package linked (${#links[@]} links)"
	else
		not_ok "$1: every package linked (${#links[@]} links)" "$why" \
		    "stderr: $err"
	fi
}

# check_owner LABEL UID HOME
check_owner() {
	local bad
	bad=$(not_owned_by "$2" "$3")
	if [ -z "$bad" ]; then
		ok "$1: everything in the home directory belongs to dev"
	else
		not_ok "$1: everything in the home directory belongs to dev" \
		    "not uid $2: $bad"
	fi
}

# section NAME: says how long the last section took, and names the next.
section_name=
section_t0=$SECONDS
section() {
	[ -z "$section_name" ] ||
		echo "# $section_name: $((SECONDS - section_t0)) s"
	section_name=$1
	section_t0=$SECONDS
}

# check_story LABEL HOME: the story's home directory after a start.
check_story() {
	check_linked "$1" "$2"
	story_vault "$1" "$2"
	check_owner "$1" "$dev_uid" "$2"
}

mounted=
mount_ctr() {	# mount_ctr NAME: sets $mounted to its root directory
	mounted=$(podman mount "$1" 2>/dev/null) && [ -d "$mounted" ]
}

dev_uid=$(podman run --rm --pull=never --entrypoint id "$img/devbox" -u dev 2>/dev/null)
[ -n "$dev_uid" ] || cannot_run "cannot run the image (podman run failed)"

# ---------------------------------------------------------------------
# story, restart: the image's files in the way.
section "story and restart"
c=$prefix-story
podman create --pull=never --label "cstow-check=$id" --name "$c" \
    "$img/story" sh -c 'echo "pid $$"; exit 42' >/dev/null 2>&1
pstart "$c"
first_ms=
check "story: the first start links 7 and backs up 2 (the summary line)" \
    summary 7 2 0 && first_ms=$ms
check "story: a line per item moved into the vault" \
    [ "$(grep -c '^cstow-entrypoint: backed up \.\(gitconfig\|config/nvim\) to /home/dev/' <<<"$err")" = 2 ]
check "story: the command runs as PID 1" [ "$out" = "pid 1" ]
check "story: the command's exit status (42) is the container's" \
    [ "$status" = 42 ]
if mount_ctr "$c"; then
	h=$mounted/home/dev
	check_story story "$h"
	check "story: the image's other files are left alone" \
	    grep -qx "# the image's login profile: left alone" "$h/.profile"
	snap1=$(cd "$h" && find . -path ./dotfiles -prune -o \
	    -printf '%p %y %l %U %s %T@\n' | sort)
	podman umount "$c" >/dev/null 2>&1
else
	not_ok "story: podman mount" "$(podman mount "$c" 2>&1)"
fi

pstart "$c"
restart_ms=
check "restart: the second start links 0, backs up 0, leaves 5 unchanged" \
    summary 0 0 5 && restart_ms=$ms
checkx "restart: the command runs again, as PID 1, with its status" \
    '[ "$out" = "pid 1" ] && [ "$status" = 42 ]'
if mount_ctr "$c"; then
	h=$mounted/home/dev
	snap2=$(cd "$h" && find . -path ./dotfiles -prune -o \
	    -printf '%p %y %l %U %s %T@\n' | sort)
	if [ "$snap1" = "$snap2" ]; then
		ok "restart: nothing in the home directory changed (names, links, owners, sizes, times)"
	else
		not_ok "restart: nothing in the home directory changed (names, links, owners, sizes, times)" \
		    "$(diff <(printf '%s\n' "$snap1") <(printf '%s\n' "$snap2"))"
	fi
	podman umount "$c" >/dev/null 2>&1
fi

# ---------------------------------------------------------------------
# health: the image's HEALTHCHECK, run by podman.
section "health"
hc=$(podman image inspect -f '{{json .HealthCheck}}' "$img/devbox" 2>&1)
check "health: the built image keeps the README's HEALTHCHECK (--format docker)" \
    grep -q '"cstow-entrypoint","--check"' <<<"$hc"
c=$prefix-health
if pdetach "$c" "$img/story" sleep infinity; then
	podman healthcheck run "$c" >"$work/out" 2>"$work/err"
	collect $?
	err=$(podman logs "$c" 2>&1)
	check "health: podman healthcheck run is healthy after the start" \
	    [ "$status" = 0 ]
	check "health: ... and podman says healthy" \
	    [ "$(podman inspect -f '{{.State.Health.Status}}' "$c")" = healthy ]
	pexec "$c" rm /home/dev/.tmux.conf
	podman healthcheck run "$c" >"$work/out" 2>"$work/err"
	collect $?
	checkx "health: unhealthy once a link is removed" \
	    '[ "$status" = 1 ] && [ "$out" = unhealthy ]'
	check "health: ... and podman says unhealthy" \
	    [ "$(podman inspect -f '{{.State.Health.Status}}' "$c")" = unhealthy ]
	pexec "$c" cstow-entrypoint --check
	check "health: the check names the package whose link is missing" \
	    grep -qx 'tmux: missing' <<<"$out"
else
	not_ok "health: the container starts" "$(podman logs "$c" 2>&1)"
fi
c=$prefix-health-packages
if pdetach "$c" -e CSTOW_PACKAGES='git tmux' "$img/story" sleep infinity; then
	podman healthcheck run "$c" >"$work/out" 2>"$work/err"
	collect $?
	check "health: -e CSTOW_PACKAGES='git tmux' is healthy once those two are linked" \
	    [ "$status" = 0 ]
	pexec "$c" cstow -d /home/dev/dotfiles --check
	check "health: (where cstow --check, checking every package, is not)" \
	    [ "$status" = 1 ]
else
	not_ok "health: the container with CSTOW_PACKAGES starts" \
	    "$(podman logs "$c" 2>&1)"
fi

# ---------------------------------------------------------------------
# ro-bind: the dotfiles bind-mounted read-only, owned by another user.
section "ro-bind"
ro=$work/ro-dotfiles
cp -a "$ctx/dotfiles" "$ro"
echo '[user] name = Mounted' >"$ro/git/dot-gitconfig"
chown -R 4242:4242 "$ro"
chmod -R u=rwX,go=rX "$ro"
prun -v "$ro:/home/dev/dotfiles:ro" "$img/devbox" sh -c '
	cd ~ || exit 9
	for p in '"$(printf '%s ' "${links[@]%% *}")"'; do
		[ -L "$p" ] && [ -e "$p" ] && [ "$(stat -c %u "$p")" = "$(id -u)" ] ||
			echo "not linked: $p"
	done
	echo "owner $(stat -c %u dotfiles)"
	cat .gitconfig
	touch dotfiles/x 2>/dev/null && echo writable
	cstow-entrypoint --check >/dev/null && echo healthy'
check "ro-bind: the container starts (status 0)" [ "$status" = 0 ]
check "ro-bind: the summary says linked 7, backed up 0" summary 7 0 0
check "ro-bind: every link is there, dev's, and leads into the mount" \
    [ -z "$(grep '^not linked' <<<"$out")" ]
check "ro-bind: the dotfiles are another user's (4242), read-only" \
    grep -qx 'owner 4242' <<<"$out"
check "ro-bind: ~/.gitconfig is the mounted one" \
    grep -qx '\[user\] name = Mounted' <<<"$out"
check "ro-bind: nothing could be written to them" \
    [ -z "$(grep -x writable <<<"$out")" ]
check "ro-bind: healthy" grep -qx healthy <<<"$out"

# ---------------------------------------------------------------------
# root: started as root with HOME=/home/dev.
section "root"
c=$prefix-root
if pdetach "$c" --user root -e HOME=/home/dev "$img/story" sleep infinity; then
	out=
	err=$(podman logs "$c" 2>&1)
	check "root: the start links 7 and backs up 2" summary 7 2 0
	if mount_ctr "$c"; then
		check_story root "$mounted/home/dev"
		checkx "root: nothing written to root's home" \
		    '[ ! -e "$mounted/root/.local" ] && [ ! -e "$mounted/root/dotfiles" ]'
		podman umount "$c" >/dev/null 2>&1
	else
		not_ok "root: podman mount" "$(podman mount "$c" 2>&1)"
	fi
	podman healthcheck run "$c" >"$work/out" 2>"$work/err"
	collect $?
	check "root: the health check, run as root too, is healthy" \
	    [ "$status" = 0 ]
	pexec --user dev "$c" cstow -d /home/dev/dotfiles --restore
	check "root: dev can cstow --restore (status 0)" [ "$status" = 0 ]
	pexec --user dev "$c" sh -c 'cd ~ && cat .gitconfig .config/nvim/init.vim &&
	    [ ! -L .gitconfig ] && [ ! -L .config/nvim ] &&
	    stat -c %U .gitconfig .config/nvim .config/nvim/init.vim'
	check "root: ... and the image's files are back, dev's" \
	    [ "$out" = "$(printf '%s\n' '[user] name = Image Default' \
	    "\" the image's starter configuration" dev dev dev)" ]
else
	not_ok "root: the container starts" "$(podman logs "$c" 2>&1)"
fi

# ---------------------------------------------------------------------
# conflict: CSTOW_CONFLICT=fail with the image's ~/.gitconfig in the way.
section "conflict"
probe='echo "command ran"
	[ -f ~/.gitconfig ] && [ ! -L ~/.gitconfig ] && echo "gitconfig untouched"
	[ ! -e ~/.tmux.conf ] && echo "nothing linked"
	exit 3'
prun -e CSTOW_CONFLICT=fail "$img/story" sh -c "$probe"
checkx "conflict: CSTOW_CONFLICT=fail starts the command anyway (its status, 3)" \
    '[ "$status" = 3 ] && grep -qx "command ran" <<<"$out"'
checkx "conflict: ... after changing nothing" \
    'grep -qx "gitconfig untouched" <<<"$out" && grep -qx "nothing linked" <<<"$out"'
checkx "conflict: ... and says so" \
    'grep -q "existing target \.gitconfig" <<<"$err" &&
     grep -qxF "cstow-entrypoint: linking failed; starting sh anyway (CSTOW_STRICT=1 stops here)" <<<"$err"'
prun -e CSTOW_CONFLICT=fail -e CSTOW_STRICT=1 "$img/story" sh -c "$probe"
check "conflict: with CSTOW_STRICT=1 the container exits 1" [ "$status" = 1 ]
checkx "conflict: ... without running the command" \
    '[ -z "$out" ] && grep -q "existing target \.gitconfig" <<<"$err" &&
     ! grep -q "starting sh anyway" <<<"$err"'

# ---------------------------------------------------------------------
# install.sh: the README's, at the top of the dotfiles repository.
section "install.sh"
for image in story cstow-only; do
	c=$prefix-install-$image
	podman create --pull=never --label "cstow-check=$id" --name "$c" \
	    --entrypoint sh "$img/$image" -c '
		command -v cstow-entrypoint >/dev/null && echo "with cstow-entrypoint"
		sh ~/dotfiles/install.sh' >/dev/null 2>&1
	pstart "$c"
	if [ "$image" = story ]; then
		label="install.sh with both programs"
		check "$label: cstow-entrypoint is installed" \
		    grep -qx 'with cstow-entrypoint' <<<"$out"
		check "$label: it ran cstow-entrypoint" summary 7 2 0
	else
		label="install.sh with cstow alone"
		check "$label: cstow-entrypoint is not installed" [ -z "$out" ]
	fi
	check "$label: status 0" [ "$status" = 0 ]
	if mount_ctr "$c"; then
		check_story "$label" "$mounted/home/dev"
		podman umount "$c" >/dev/null 2>&1
	else
		not_ok "$label: podman mount" "$(podman mount "$c" 2>&1)"
	fi
done

# ---------------------------------------------------------------------
# kubernetes: the README's manifest, with the story's image and names of
# this run's own.
section "kubernetes"
sed -e "s|image: devbox|image: $img/story|" -e "s|devbox|$prefix|g" \
    "$work/devbox.yaml" >"$work/pod.yaml"
# The readiness probe's command and period, as the kubelet reads them.
probe=$(python3 - "$work/pod.yaml" <<'EOF'
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
pod = [d for d in docs if d.get("kind") == "Pod"][0]
for c in pod["spec"]["containers"]:
    p = c.get("readinessProbe")
    if p:
        print(p.get("periodSeconds", 10), *p["exec"]["command"])
EOF
)
read -r period probe_cmd <<<"$probe"
check "kubernetes: the manifest's readiness probe is cstow-entrypoint --check" \
    [ "$probe_cmd" = "cstow-entrypoint --check" ]
timeout 180 podman kube play "$work/pod.yaml" >"$work/out" 2>"$work/err"
collect $?
check "kubernetes: podman kube play starts the pod" [ "$status" = 0 ]
c=$prefix-$prefix
ready=0
for i in $(seq 30); do
	# shellcheck disable=SC2086
	if podman exec "$c" $probe_cmd >/dev/null 2>&1; then
		ready=1
		break
	fi
	sleep 1
done
check "kubernetes: the pod becomes ready (the probe passes; period ${period:-?} s)" \
    [ "$ready" = 1 ]
out=
err=$(podman logs "$c" 2>&1)
check "kubernetes: the entrypoint linked 7 and backed up 2 into the volume" \
    summary 7 2 0
vol=$(podman volume inspect -f '{{.Mountpoint}}' "$prefix-home" 2>/dev/null)
if [ -n "$vol" ] && [ -d "$vol/dotfiles" ]; then
	ok "kubernetes: the init container filled the home volume"
	check_story kubernetes "$vol"
else
	not_ok "kubernetes: the init container filled the home volume" \
	    "volume: ${vol:-none}" "$(podman pod logs "$prefix" 2>&1 | tail)"
fi
podman kube down "$work/pod.yaml" >/dev/null 2>&1
podman volume rm -f "$prefix-home" >/dev/null 2>&1

# ---------------------------------------------------------------------
# devcontainer: the README's devcontainer.json, the workspace being the
# build context (the Dockerfile's copy in .devcontainer/, context "..").
section "devcontainer"
dc_ok=1
if ! command -v devcontainer >/dev/null 2>&1; then
	if ! command -v npm >/dev/null 2>&1; then
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm \
		    >"$work/npm.log" 2>&1 || dc_ok=0
	fi
	# The CLI's current releases need Node 20; 0.83.0 is the last for
	# Debian 12's Node 18.
	cli=@devcontainers/cli
	[ "$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)" -ge 20 ] ||
		cli=@devcontainers/cli@0.83.0
	[ $dc_ok = 0 ] || npm install -g --silent "$cli" >>"$work/npm.log" 2>&1 ||
		dc_ok=0
fi
if [ $dc_ok = 1 ] && command -v devcontainer >/dev/null 2>&1; then
	ok "devcontainer: the dev container CLI is installed ($(devcontainer --version))"
	mkdir -p "$work/devhome"
	cp -a "$ctx/dotfiles" "$work/devhome/dotfiles"
	echo '[user] name = Host' >"$work/devhome/dotfiles/git/dot-gitconfig"
	HOME=$work/devhome BUILDAH_FORMAT=docker timeout 600 devcontainer up \
	    --docker-path podman --workspace-folder "$ctx" \
	    --id-label "cstow-check-dev=$id" >"$work/out" 2>"$work/err"
	collect $?
	check "devcontainer: devcontainer up --docker-path podman succeeds" \
	    grep -q '"outcome":"success"' <<<"$out"
	check "devcontainer: the postStartCommand linked 7" \
	    grep -Eq 'cstow-entrypoint: linked 7, backed up 0, unchanged 0, [0-9.]+ ms' <<<"$out$err"
	c=$(sed -n 's/.*"containerId":"\([0-9a-f]*\)".*/\1/p' <<<"$out")
	if [ -n "$c" ]; then
		pexec --user dev "$c" sh -c '
			cd ~ || exit 9
			for p in '"$(printf '%s ' "${links[@]%% *}")"'; do
				[ -L "$p" ] && [ -e "$p" ] && [ "$(stat -c %U "$p")" = dev ] ||
					echo "not linked: $p"
			done
			cat .gitconfig'
		checkx "devcontainer: every link is there, dev's, and leads into the bind mount" \
		    '[ "$status" = 0 ] && ! grep -q "^not linked" <<<"$out" &&
		     grep -qxF "[user] name = Host" <<<"$out"'
		dimg=$(podman inspect -f '{{.ImageName}}' "$c" 2>/dev/null)
		check "devcontainer: BUILDAH_FORMAT=docker kept the image's HEALTHCHECK" \
		    grep -q '"cstow-entrypoint","--check"' \
		    <<<"$(podman image inspect -f '{{json .HealthCheck}}' "$dimg" 2>&1)"
	fi
else
	not_ok "devcontainer: the dev container CLI is installed (npm install -g @devcontainers/cli)" \
	    "$(tail -n 20 "$work/npm.log" 2>/dev/null)"
fi

# ---------------------------------------------------------------------
# What the run measured.
section ""
if m=$(podman image mount "$img/devbox" 2>/dev/null); then
	sizes=$(stat -c %s "$m/usr/local/bin/cstow" "$m/usr/local/bin/cstow-entrypoint" | tr '\n' ' ')
	podman image unmount "$img/devbox" >/dev/null 2>&1
	# The layer of the COPY --from=build of the two programs.
	layer=$(podman history --format json "$img/devbox" | python3 -c '
import json, sys
print(next((str(l["size"]) for l in json.load(sys.stdin)
    if "COPY multi:" in l.get("CreatedBy", "")), "?"))')
	echo "# the programs add a layer of ${layer:-?} bytes to the image (cstow and cstow-entrypoint: ${sizes% } bytes)"
fi
echo "# cstow-entrypoint in the container: first start ${first_ms:-?} ms, restart ${restart_ms:-?} ms"
echo "# check-container took $((SECONDS - started)) s"
tap_summary
[ "$failed" -eq 0 ]
