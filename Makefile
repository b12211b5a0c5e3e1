# cstow: GNU Stow rebuilt in C -- libstow, cstow.
#
#   make            build lib/libstow.a, lib/libstow.so.0 and cli/cstow
#   make check      install missing build dependencies, build, run every suite
#   make demo       stow a bundled example into a temporary directory
#   make lint       header test, exported-symbol and banned-function checks,
#                   man page lint
#   make static     static cstow and cstow-entrypoint in build/static/cli/
#   make install / uninstall   (PREFIX, DESTDIR, BINDIR, LIBDIR, ...)

VERSION		= 0.1.0
SOVERSION	= 0

PREFIX		?= /usr/local
BINDIR		?= $(PREFIX)/bin
LIBDIR		?= $(PREFIX)/lib
INCLUDEDIR	?= $(PREFIX)/include
MANDIR		?= $(PREFIX)/share/man
PKGCONFIGDIR	?= $(LIBDIR)/pkgconfig

CC		?= cc
WERROR		?= -Werror
WARNINGS	= -Wall -Wextra -Wshadow -Wmissing-prototypes \
		  -Wstrict-prototypes -Wwrite-strings -Wcast-qual \
		  -Wpointer-arith -Wformat=2 -Wvla $(WERROR)
CFLAGS		?= -O2 -g
PKG_CONFIG	?= pkg-config
DEP_CFLAGS	= $(shell $(PKG_CONFIG) --cflags libbsd-overlay libpcre2-8 libmd 2>/dev/null)
DEP_LIBS	= $(shell $(PKG_CONFIG) --libs libbsd-overlay libpcre2-8 libmd 2>/dev/null)
CHECK_CFLAGS	= $(shell $(PKG_CONFIG) --cflags check 2>/dev/null)
CHECK_LIBS	= $(shell $(PKG_CONFIG) --libs check 2>/dev/null)

# SANITIZE=1 builds everything with ASan+UBSan into build/asan/.
ifeq ($(SANITIZE),1)
O		?= build/asan
SAN_FLAGS	= -fsanitize=address,undefined -fno-omit-frame-pointer \
		  -fno-sanitize-recover=all
endif
O		?= .

ALL_CFLAGS	= -std=c11 -D_GNU_SOURCE $(WARNINGS) $(CFLAGS) $(SAN_FLAGS) \
		  $(DEP_CFLAGS)
LIB_CFLAGS	= $(ALL_CFLAGS) -fPIC -fvisibility=hidden
ALL_LDFLAGS	= $(LDFLAGS) $(SAN_FLAGS)

LIB_SRCS	= apply.c conf.c ctx.c disk.c error.c fsops.c journal.c path.c \
		  pattern.c \
		  plan.c rc.c task.c util.c vault.c walk.c
LIB_OBJS	= $(LIB_SRCS:%.c=$(O)/lib/%.o)
LIBA		= $(O)/lib/libstow.a
LIBSO		= $(O)/lib/libstow.so.$(SOVERSION)
CSTOW		= $(O)/cli/cstow
ENTRYPOINT	= $(O)/cli/cstow-entrypoint
CHECK_RUNNER	= $(O)/tests/check_runner
FAULT_EDITOR	= $(O)/tests/fault/editor
CHOWN_DRIVER	= $(O)/tests/chown_driver
CHECK_SRCS	= tests/check_main.c tests/check_path.c tests/check_pattern.c \
		  tests/check_rc.c tests/check_plan.c tests/check_apply.c \
		  tests/check_cli.c tests/check_conf.c tests/sandbox.c

BUILD_DEPS	= build-essential pkg-config libbsd-dev libmd-dev libpcre2-dev check
TEST_DEPS	= stow mandoc valgrind strace time util-linux attr python3 zsh fish \
		  clang libclang-rt-14-dev
CONTAINER_DEPS	= podman runc uidmap mmdebstrap python3-yaml

.PHONY: all check check-unit check-scenarios check-differential check-asan \
	check-valgrind check-crossfs check-faults check-badinput demo bench \
	check-container lint deps deps-container install \
	uninstall \
	clean check-completion static

all: $(LIBA) $(LIBSO) $(CSTOW) $(ENTRYPOINT) $(O)/lib/libstow.pc

$(O)/lib/%.o: lib/%.c lib/stow.h lib/extern.h
	@mkdir -p $(@D)
	$(CC) $(LIB_CFLAGS) -c -o $@ $<

$(LIBA): $(LIB_OBJS)
	rm -f $@
	$(AR) rcs $@ $(LIB_OBJS)

$(LIBSO): $(LIB_OBJS) lib/libstow.map
	$(CC) -shared -o $@ $(LIB_OBJS) $(ALL_LDFLAGS) \
	    -Wl,-soname,libstow.so.$(SOVERSION) \
	    -Wl,--version-script=lib/libstow.map $(DEP_LIBS)
	ln -sf libstow.so.$(SOVERSION) $(O)/lib/libstow.so

PC_SED		= sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
		    -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' \
		    -e 's|@VERSION@|$(VERSION)|' lib/libstow.pc.in

$(O)/lib/libstow.pc: lib/libstow.pc.in Makefile
	@mkdir -p $(@D)
	$(PC_SED) > $@

# The names a section-3 page documents besides its own (its .Nm lines
# before SYNOPSIS), each installed as a link to the page.
MAN_ALIASES	= sed -n '/^\.Sh SYNOPSIS/q;s/^\.Nm \([a-z_0-9]*\).*/\1/p' 

# The programs link the static library: one self-contained binary, and
# no LD_LIBRARY_PATH needed to run it from the tree.
RUN_SRCS	= cli/bootstrap.c cli/display.c cli/lock.c cli/runas.c \
		  cli/state.c
CLI_HDRS	= cli/bootstrap.h cli/check.h cli/display.h cli/lock.h \
		  cli/runas.h cli/state.h
CSTOW_SRCS	= cli/cstow.c $(RUN_SRCS) cli/check.c cli/json.c
ENTRY_SRCS	= cli/entrypoint.c $(RUN_SRCS) cli/check.c cli/json.c
$(CSTOW): $(CSTOW_SRCS) $(CLI_HDRS) lib/stow.h $(LIBA)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Ilib -o $@ $(CSTOW_SRCS) $(LIBA) \
	    $(ALL_LDFLAGS) $(DEP_LIBS)

# Fully static programs for a minimal container stage: glibc, libbsd,
# libmd and PCRE2 linked in (their Debian -dev packages ship the .a).
STATIC_O	= build/static
STATIC_LIBS	= $(shell $(PKG_CONFIG) --static --libs libbsd-overlay libpcre2-8 libmd 2>/dev/null)
static: $(LIBA)
	@mkdir -p $(STATIC_O)/cli
	$(CC) $(ALL_CFLAGS) -Ilib -o $(STATIC_O)/cli/cstow $(CSTOW_SRCS) \
	    $(LIBA) -static $(LDFLAGS) $(STATIC_LIBS)
	$(CC) $(ALL_CFLAGS) -Ilib -o $(STATIC_O)/cli/cstow-entrypoint \
	    $(ENTRY_SRCS) $(LIBA) -static $(LDFLAGS) $(STATIC_LIBS)
	@for p in cstow cstow-entrypoint; do \
		file $(STATIC_O)/cli/$$p | grep -q 'statically linked' || \
		    { echo "$(STATIC_O)/cli/$$p is not statically linked"; \
		    exit 1; }; \
		echo "$(STATIC_O)/cli/$$p: statically linked"; \
	done

$(ENTRYPOINT): $(ENTRY_SRCS) $(CLI_HDRS) lib/stow.h $(LIBA)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Ilib -o $@ $(ENTRY_SRCS) $(LIBA) $(ALL_LDFLAGS) \
	    $(DEP_LIBS)

$(FAULT_EDITOR): tests/fault/editor.c lib/stow.h $(LIBA)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Ilib -o $@ tests/fault/editor.c $(LIBA) \
	    $(ALL_LDFLAGS) $(DEP_LIBS)

$(CHOWN_DRIVER): tests/chown_driver.c lib/stow.h $(LIBA)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Ilib -o $@ tests/chown_driver.c $(LIBA) \
	    $(ALL_LDFLAGS) $(DEP_LIBS)

$(CHECK_RUNNER): $(CHECK_SRCS) tests/sandbox.h lib/extern.h $(LIBA)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(CHECK_CFLAGS) -Ilib -Itests -o $@ \
	    $(CHECK_SRCS) $(LIBA) $(ALL_LDFLAGS) $(DEP_LIBS) $(CHECK_LIBS)

# Installs the Debian packages $(1) that are missing (apt-get, as root),
# or says how to.
define install_missing
	@missing=""; \
	for p in $(1); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | \
		    grep -q 'ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			echo "installing:$$missing"; \
			apt-get update -qq && \
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			    $$missing >/dev/null || exit 1; \
		else \
			echo "missing packages; run:"; \
			echo "  sudo apt-get install -y$$missing"; \
			exit 1; \
		fi; \
	fi
endef

# Installs what the build and the suites need, when it is missing.
deps:
	$(call install_missing,$(BUILD_DEPS) $(TEST_DEPS))

# What check-container needs: a container engine, and mmdebstrap for the
# base images no registry gives it.
deps-container:
	$(call install_missing,$(CONTAINER_DEPS))

check: deps
	$(MAKE) all
	$(MAKE) check-unit
	$(MAKE) check-scenarios
	$(MAKE) check-badinput
	$(MAKE) check-differential
	$(MAKE) check-crossfs
	$(MAKE) check-root
	$(MAKE) check-race
	$(MAKE) check-faults
	$(MAKE) check-container
	$(MAKE) check-completion
	$(MAKE) lint
	$(MAKE) check-asan
	$(MAKE) check-valgrind
	$(MAKE) check-api
	$(MAKE) check-fuzz

check-unit: $(CHECK_RUNNER) $(CSTOW)
	CSTOW=$(CSTOW) $(CHECK_RUNNER)

check-scenarios: $(CSTOW)
	tests/scenarios.sh $(CSTOW)

# The shell completions (bash driven directly; zsh and fish when present).
check-completion: $(CSTOW)
	tests/completion.sh $(CSTOW)

check-differential: $(CSTOW)
	tests/differential.sh $(CSTOW)

# Makes each mutating system call of a run fail in turn: every change
# must be undone.  Then what a user does during a run that fails, or
# between a killed run and the next, is kept (user.sh; its PID-namespace
# case needs root).
check-faults: all $(FAULT_EDITOR)
	tests/fault/run.sh $(CSTOW)
	tests/fault/user.sh $(CSTOW) $(FAULT_EDITOR)
	tests/fault/oom.sh $(CSTOW)

# Bad input: the exit status, a message naming it, and a disk unchanged
# to the byte.  Cases that need root (tmpfs mounts, running as nobody)
# are reported as skipped without it.
check-badinput: all
	tests/badinput.sh $(CSTOW)

# Needs root (a private mount namespace with tmpfs and overlay mounts).
check-crossfs: all
	tests/crossfs.sh $(CSTOW)

# The README's golden image in podman, on its default overlay storage:
# builds the README's Dockerfile and starts containers, a Kubernetes pod
# (podman kube play) and a dev container (the dev container CLI, from
# npm) from it.  Needs root; fails when it cannot run.
check-container: deps-container
	tests/container/run.sh

# Root acting over a user's files, with a real second user: what that
# user plants (journals, MANIFESTs, symlinks, cstow.conf targets, locks)
# never steers root's writes.  Needs root.
.PHONY: check-root check-race
check-root: all $(CHOWN_DRIVER)
	CSTOW_CHOWN_DRIVER=$(CHOWN_DRIVER) tests/root.sh $(CSTOW)

# cstow racing an editor that saves over the links it removes, and a
# restore racing an unstow: nothing the user made is lost.
check-race: all
	tests/race.sh $(CSTOW) 8

# The unit and scenario suites again, built with ASan and UBSan; then
# the scenarios with an allocation of its own for every arena string,
# where a string used after the planner released it is a use after free.
check-asan:
	$(MAKE) SANITIZE=1 all build/asan/tests/check_runner
	CSTOW=build/asan/cli/cstow build/asan/tests/check_runner
	tests/scenarios.sh build/asan/cli/cstow
	tests/asan-arena.sh

# The Check suite in one process under valgrind, leaks included.  Built
# apart with STOW_NO_JIT: valgrind cannot follow the machine code PCRE2's
# JIT writes and reports its every branch, while matching is the same.
check-valgrind:
	$(MAKE) O=build/valgrind CFLAGS="-O1 -g -DSTOW_NO_JIT" \
	    build/valgrind/cli/cstow build/valgrind/tests/check_runner
	CK_FORK=no CSTOW=build/valgrind/cli/cstow valgrind -q \
	    --error-exitcode=99 --leak-check=full \
	    --errors-for-leak-kinds=definite build/valgrind/tests/check_runner

# The library from outside the tree: a staged install and uninstall,
# consumers built with pkg-config (shared and static), Python ctypes,
# eight threads under ThreadSanitizer and helgrind, exported symbols.
.PHONY: check-api
check-api: all
	CC="$(CC)" PKG_CONFIG="$(PKG_CONFIG)" MAKE="$(MAKE)" \
	    LIB_SRCS="$(LIB_SRCS:%=lib/%)" tests/api/run.sh

# libFuzzer targets for the .stowrc, cstow.conf and ignore-file parsers
# and the path algebra (tests/fuzz/), seeded from fixtures/fuzz/: 15
# seconds each in make check, 300 in make fuzz (FUZZ_SECONDS=N).
.PHONY: check-fuzz fuzz
check-fuzz:
	tests/fuzz/run.sh 15

FUZZ_SECONDS	?= 300
fuzz:
	tests/fuzz/run.sh $(FUZZ_SECONDS)

lint: $(LIBSO) $(LIBA)
	$(CC) -std=c99 -pedantic -Wall -Wextra -Werror -Ilib -c \
	    -o /dev/null tests/headertest.c
	@if command -v c++ >/dev/null; then \
		c++ -x c++ -Wall -Wextra -Werror -Ilib -c -o /dev/null \
		    tests/headertest.c; fi
	@bad=$$(nm -D --defined-only $(LIBSO) | awk '{print $$3}' | \
	    grep -v '^stow_'); \
	if [ -n "$$bad" ]; then echo "exported non-API symbols: $$bad"; \
	    exit 1; fi
	@bad=$$(nm -u $(LIB_OBJS) | awk '{print $$2}' | grep -xE \
	    'printf|fprintf|puts|perror|exit|_exit|abort|err|errx|warn|warnx|getenv|chdir|system|realpath|stderr|stdout|sprintf|vsprintf|strcpy|strcat|strncpy|gets|atoi|atol|strtok' \
	    | sort -u); \
	if [ -n "$$bad" ]; then echo "banned calls in lib/: $$bad"; \
	    exit 1; fi
	mandoc -Tlint -Wwarning man/*.[1-9]
	sh tests/man-examples.sh
	@echo "lint: ok"

demo: deps all
	@sh tests/demo.sh $(CSTOW)

# A benchmark, not a test: prints a table of times and ratios.
bench: deps all
	tests/bench.sh $(CSTOW)

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) \
	    $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(PKGCONFIGDIR) \
	    $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man3 \
	    $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man7
	install -m 755 $(CSTOW) $(DESTDIR)$(BINDIR)/cstow
	install -m 755 $(ENTRYPOINT) $(DESTDIR)$(BINDIR)/cstow-entrypoint
	install -d $(DESTDIR)$(PREFIX)/share/bash-completion/completions \
	    $(DESTDIR)$(PREFIX)/share/zsh/site-functions \
	    $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d
	install -m 644 completions/cstow.bash \
	    $(DESTDIR)$(PREFIX)/share/bash-completion/completions/cstow
	install -m 644 completions/_cstow \
	    $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_cstow
	install -m 644 completions/cstow.fish \
	    $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/cstow.fish
	install -m 644 lib/stow.h $(DESTDIR)$(INCLUDEDIR)/stow.h
	install -m 644 $(LIBA) $(DESTDIR)$(LIBDIR)/libstow.a
	install -m 755 $(LIBSO) $(DESTDIR)$(LIBDIR)/libstow.so.$(SOVERSION)
	ln -sf libstow.so.$(SOVERSION) $(DESTDIR)$(LIBDIR)/libstow.so
	$(PC_SED) > $(DESTDIR)$(PKGCONFIGDIR)/libstow.pc
	for f in man/*.[1-9]; do \
		s=$${f##*.}; \
		install -m 644 $$f $(DESTDIR)$(MANDIR)/man$$s/; \
	done
	for f in man/*.3; do \
		p=$${f##*/}; \
		for n in $$($(MAN_ALIASES) $$f); do \
			[ "$$n.3" = "$$p" ] || \
			    ln -sf $$p $(DESTDIR)$(MANDIR)/man3/$$n.3; \
		done; \
	done

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/cstow $(DESTDIR)$(BINDIR)/cstow-entrypoint \
	    $(DESTDIR)$(INCLUDEDIR)/stow.h \
	    $(DESTDIR)$(LIBDIR)/libstow.a $(DESTDIR)$(LIBDIR)/libstow.so \
	    $(DESTDIR)$(LIBDIR)/libstow.so.$(SOVERSION) \
	    $(DESTDIR)$(PKGCONFIGDIR)/libstow.pc \
	    $(DESTDIR)$(PREFIX)/share/bash-completion/completions/cstow \
	    $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_cstow \
	    $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/cstow.fish
	for f in man/*.[1-9]; do \
		s=$${f##*.}; \
		rm -f $(DESTDIR)$(MANDIR)/man$$s/$${f##*/}; \
	done
	for f in man/*.3; do \
		for n in $$($(MAN_ALIASES) $$f); do \
			rm -f $(DESTDIR)$(MANDIR)/man3/$$n.3; \
		done; \
	done

clean:
	rm -rf build lib/*.o lib/libstow.a lib/libstow.so lib/libstow.so.* \
	    lib/libstow.pc cli/cstow cli/cstow-entrypoint tests/check_runner \
	    tests/fault/editor tests/chown_driver
