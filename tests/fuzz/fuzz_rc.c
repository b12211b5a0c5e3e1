/*
 * fuzz_rc.c: libFuzzer target for the .stowrc reader (stow_rc_read's
 * shell-word splitting) and stow_expand_path().
 *
 * The input is written to a file and read back as a .stowrc; each
 * word is expanded as --dir and --target values are; the input itself
 * is expanded as a path.  Checks: return codes are the documented
 * ones, a failure names "file:line", words carry plausible line
 * numbers, a line without quotes or backslashes splits at blanks
 * exactly, and expanding text without '$', '~' or '\' changes nothing.
 */
#include <ctype.h>

#include "fuzz_common.h"

/* Expands s as a path and checks the result. */
static void
check_expand(struct stow_ctx *ctx, const char *s)
{
	char	*out = NULL;
	int	 rc;

	rc = stow_expand_path(&out, ctx, s, fuzz_lookup, NULL);
	CHECK(rc == 0 || rc == STOW_EINVAL || rc == STOW_ENOMEM);
	if (rc != 0) {
		CHECK(out == NULL);
		CHECK(stow_ctx_errmsg(ctx)[0] != '\0');
		return;
	}
	CHECK(out != NULL);
	if (strpbrk(s, "$~\\") == NULL)
		CHECK(strcmp(out, s) == 0);
	/* "~" alone or "~/..." is HOME. */
	if (s[0] == '~' && (s[1] == '\0' || s[1] == '/') &&
	    strpbrk(s + 1, "$\\") == NULL)
		CHECK(strncmp(out, FUZZ_HOME, strlen(FUZZ_HOME)) == 0 &&
		    strcmp(out + strlen(FUZZ_HOME), s + 1) == 0);
	free(out);
}

/*
 * For a text without quotes or backslashes: the words must be the
 * blank-separated fields of its lines, comment lines left out.
 */
static void
check_plain_split(const struct stow_rc *rc, const char *text)
{
	const char	*p = text, *start;
	size_t		 i = 0, n;
	unsigned int	 line = 1;
	int		 comment;

	if (strpbrk(text, "'\"\\") != NULL)
		return;
	while (*p != '\0') {
		while (*p == ' ' || (*p != '\n' && isspace((unsigned char)*p)))
			p++;
		comment = *p == '#';
		while (*p != '\0' && *p != '\n') {
			while (*p != '\n' && isspace((unsigned char)*p))
				p++;
			if (*p == '\0' || *p == '\n')
				break;
			start = p;
			while (*p != '\0' && !isspace((unsigned char)*p))
				p++;
			if (comment)
				continue;
			n = (size_t)(p - start);
			CHECK(i < stow_rc_count(rc));
			CHECK(strlen(stow_rc_word(rc, i)) == n &&
			    memcmp(stow_rc_word(rc, i), start, n) == 0);
			CHECK(stow_rc_line(rc, i) == line);
			i++;
		}
		if (*p == '\n') {
			p++;
			line++;
		}
	}
	CHECK(i == stow_rc_count(rc));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct stow_ctx	*ctx = fuzz_ctx();
	struct stow_rc	*rc = NULL;
	const char	*path, *msg, *w;
	char		*text;
	unsigned int	 nlines, prev = 1;
	size_t		 i, n;
	int		 r;

	text = fuzz_strndup(data, size);
	nlines = fuzz_line_count(data, size);
	path = fuzz_file("rc", data, size);

	r = stow_rc_read(&rc, ctx, path);
	CHECK(r == 0 || r == STOW_EINVAL || r == STOW_ENOMEM);
	if (r == 0) {
		CHECK(rc != NULL);
		n = stow_rc_count(rc);
		for (i = 0; i < n; i++) {
			CHECK((w = stow_rc_word(rc, i)) != NULL);
			CHECK(strchr(w, '\n') == NULL);
			CHECK(stow_rc_line(rc, i) >= prev);
			CHECK(stow_rc_line(rc, i) <= nlines);
			prev = stow_rc_line(rc, i);
			check_expand(ctx, w);
		}
		CHECK(stow_rc_word(rc, n) == NULL);
		CHECK(stow_rc_line(rc, n) == 0);
		check_plain_split(rc, text);
		stow_rc_free(rc);
	} else {
		CHECK(rc == NULL);
		msg = stow_ctx_errmsg(ctx);
		if (r == STOW_EINVAL) {
			/* "file:line: ...", the line one of the file's. */
			CHECK(strncmp(msg, path, strlen(path)) == 0 &&
			    msg[strlen(path)] == ':');
			CHECK(strtoul(msg + strlen(path) + 1, NULL, 10) >= 1 &&
			    strtoul(msg + strlen(path) + 1, NULL, 10) <=
			    nlines);
		}
	}

	check_expand(ctx, text);
	free(text);
	return 0;
}
