/*
 * fuzz_common.h: what the libFuzzer targets share: the one context of
 * the process, a fixed variable lookup, a temporary file rewritten for
 * each input, and checks that abort() (a crash libFuzzer records).
 */
#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "extern.h"

#define FUZZ_UNUSED	__attribute__((unused))

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* An invariant broken: say which, then crash for libFuzzer to keep the
 * input. */
#define CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: invariant failed: %s\n",	\
		    __FILE__, __LINE__, #cond);				\
		abort();						\
	}								\
} while (0)

/* The one context of the process, made on first use. */
FUZZ_UNUSED static struct stow_ctx *
fuzz_ctx(void)
{
	static struct stow_ctx	*ctx;

	if (ctx == NULL && (ctx = stow_ctx_new()) == NULL)
		abort();
	return ctx;
}

#define FUZZ_HOME	"/home/fuzz"

/* Fixed values for HOME and a few variables; the rest are unset. */
FUZZ_UNUSED static const char *
fuzz_lookup(const char *name, void *payload)
{
	static const struct { const char *name, *val; } vars[] = {
		{ "HOME",	FUZZ_HOME },
		{ "STOW_DIR",	"/opt/stow" },
		{ "XDG_CONFIG_HOME", FUZZ_HOME "/.config" },
		{ "REL",	"rel/dir" },
		{ "EMPTY",	"" },
	};
	size_t	i;

	(void)payload;
	for (i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		if (strcmp(name, vars[i].name) == 0)
			return vars[i].val;
	return NULL;
}

/* A NUL-terminated copy of the input, exactly as long as it needs to
 * be so that AddressSanitizer sees any read past its end. */
FUZZ_UNUSED static char *
fuzz_strndup(const uint8_t *data, size_t size)
{
	char	*s;

	if ((s = malloc(size + 1)) == NULL)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

static char	 fuzz_file_path[4096];
static int	 fuzz_file_fd = -1;

FUZZ_UNUSED static void
fuzz_file_remove(void)
{
	if (fuzz_file_fd != -1)
		unlink(fuzz_file_path);
}

/*
 * The path of a file holding exactly the input: created once per
 * process in $TMPDIR (removed at exit), rewritten for each input.
 */
FUZZ_UNUSED static const char *
fuzz_file(const char *tag, const uint8_t *data, size_t size)
{
	const char	*tmp;
	size_t		 off = 0;
	ssize_t		 n;

	if (fuzz_file_fd == -1) {
		if ((tmp = getenv("TMPDIR")) == NULL || *tmp == '\0')
			tmp = "/tmp";
		snprintf(fuzz_file_path, sizeof(fuzz_file_path),
		    "%s/cstow-fuzz-%s.XXXXXX", tmp, tag);
		if ((fuzz_file_fd = mkstemp(fuzz_file_path)) == -1) {
			perror(fuzz_file_path);
			abort();
		}
		atexit(fuzz_file_remove);
	}
	/* Written over, then cut to length: truncating to zero first
	 * would make ext4 flush the file at every close (auto_da_alloc),
	 * a hundred times slower. */
	while (off < size) {
		if ((n = pwrite(fuzz_file_fd, data + off, size - off,
		    (off_t)off)) <= 0)
			abort();
		off += (size_t)n;
	}
	if (ftruncate(fuzz_file_fd, (off_t)size) == -1)
		abort();
	return fuzz_file_path;
}

/* The number of lines of text as the parsers count them (up to the
 * first NUL, as they read it). */
FUZZ_UNUSED static unsigned int
fuzz_line_count(const uint8_t *data, size_t size)
{
	unsigned int	n = 1;
	size_t		i;

	for (i = 0; i < size && data[i] != '\0'; i++)
		if (data[i] == '\n')
			n++;
	return n;
}

#endif /* FUZZ_COMMON_H */
