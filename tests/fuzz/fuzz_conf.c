/*
 * fuzz_conf.c: libFuzzer target for the cstow.conf reader
 * (stow_conf_read) and its getters.
 *
 * The input is written to a file and read as a cstow.conf.  Checks:
 * return codes are the documented ones; every error names "file:line"
 * with a line of the file; a conf read holds only what stow.h says its
 * keys may hold (absolute expanded paths, fail/adopt/backup,
 * true/false, relative replace paths without ".."), valid and distinct
 * package names, and getters that agree with each other.
 */
#include <strings.h>

#include "fuzz_common.h"

static const char *const keys[] = {
	"target", "conflict", "dotfiles", "folding", "ignore", "backup-dir",
	"replace", "skip", "TARGET", "no-such-key"
};

static int
has_dotdot(const char *s)
{
	size_t	n;

	for (;;) {
		n = strcspn(s, "/");
		if (n == 2 && s[0] == '.' && s[1] == '.')
			return 1;
		if (s[n] == '\0')
			return 0;
		s += n + 1;
	}
}

/* Checks one value of key as stow_conf_read() must have left it. */
static void
check_value(const char *key, const char *v)
{
	CHECK(v != NULL);
	if (strcasecmp(key, "target") == 0 ||
	    strcasecmp(key, "backup-dir") == 0)
		CHECK(v[0] == '/');
	else if (strcasecmp(key, "conflict") == 0)
		CHECK(strcmp(v, "fail") == 0 || strcmp(v, "adopt") == 0 ||
		    strcmp(v, "backup") == 0);
	else if (strcasecmp(key, "dotfiles") == 0 ||
	    strcasecmp(key, "folding") == 0 || strcasecmp(key, "skip") == 0)
		CHECK(strcmp(v, "true") == 0 || strcmp(v, "false") == 0);
	else if (strcasecmp(key, "replace") == 0)
		CHECK(v[0] != '\0' && v[0] != '/' && !has_dotdot(v));
	else if (strcasecmp(key, "ignore") == 0)
		CHECK(v[0] != '\0');
	else
		CHECK(!"a value for an unknown key");
}

/* The getters for package (NULL: [cstow]) against each other. */
static void
check_section(const struct stow_conf *conf, const char *package)
{
	const char *const	*all;
	const char		*v;
	size_t			 k, i, n;
	int			 b;

	for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		v = stow_conf_get(conf, package, keys[k]);
		n = stow_conf_get_all(conf, package, keys[k], &all);
		CHECK(all != NULL && all[n] == NULL);
		for (i = 0; i < n; i++)
			check_value(keys[k], all[i]);
		if (v != NULL) {
			check_value(keys[k], v);
			/* A repeatable key: get is the last of get_all. */
			if (n > 0)
				CHECK(v == all[n - 1]);
		} else
			CHECK(n == 0);
		if (stow_conf_is_set(conf, package, keys[k]))
			CHECK(v != NULL);
		b = stow_conf_bool(conf, package, keys[k], 7);
		CHECK(b == 0 || b == 1 || b == 7);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct stow_ctx		*ctx = fuzz_ctx();
	struct stow_conf	*conf = NULL;
	const char		*path, *msg, *name, *other;
	char			*end;
	unsigned long		 line;
	size_t			 i, j;
	int			 r;

	path = fuzz_file("conf", data, size);
	r = stow_conf_read(&conf, ctx, path, fuzz_lookup, NULL);
	CHECK(r == 0 || r == STOW_EINVAL || r == STOW_ENOMEM);
	if (r != 0) {
		CHECK(conf == NULL);
		msg = stow_ctx_errmsg(ctx);
		if (r == STOW_EINVAL) {
			/* "Every error names file:line." */
			CHECK(strncmp(msg, path, strlen(path)) == 0 &&
			    msg[strlen(path)] == ':');
			line = strtoul(msg + strlen(path) + 1, &end, 10);
			CHECK(*end == ':');
			CHECK(line >= 1 && line <= fuzz_line_count(data, size));
		}
		return 0;
	}
	CHECK(conf != NULL);
	check_section(conf, NULL);
	for (i = 0; (name = stow_conf_package(conf, i)) != NULL; i++) {
		CHECK(name[0] != '\0' && strchr(name, '/') == NULL &&
		    strcmp(name, ".") != 0 && strcmp(name, "..") != 0);
		for (j = 0; j < i; j++) {
			other = stow_conf_package(conf, j);
			CHECK(strcmp(other, name) != 0);
		}
		check_section(conf, name);
	}
	check_section(conf, "not-a-package");
	CHECK(stow_conf_get(conf, NULL, NULL) == NULL);
	stow_conf_free(conf);
	return 0;
}
