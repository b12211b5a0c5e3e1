/*
 * fuzz_ignore.c: libFuzzer target for the ignore-list parser
 * (ignore_rules_from_text, ignore_match) and stow_ctx_add_pattern().
 *
 * The input is an ignore file (.stow-local-ignore); its rules are
 * matched against a few fixed paths and the input itself as a path.
 * Its first line is also added as --ignore, --defer and --override
 * patterns, removed again afterwards so that the context stays as it
 * was.  Checks: documented return codes, "file:line" in a bad regex's
 * message, .stow-local-ignore always ignored, literal names ignoring
 * themselves, and the same answers with and without the pre-checks.
 */
#include <ctype.h>

#include "fuzz_common.h"

#define FUZZ_IGNORE_FILE	"fuzz/.stow-local-ignore"

/* Paths inside a package, rooted as ignore_match() takes them. */
static const char *const paths[] = {
	"/.stow-local-ignore", "/README", "/README.md", "/bin/README",
	"/.git", "/a/.git/config", "/foo~", "/#foo#", "/x,v", "/CVS",
	"/a/b/c", "/dot-bashrc", "/.config/nvim/init.vim", "/", "//",
	"/a//b",
};

/* Is line (up to \n or NUL) a name of word characters only, with
 * blanks around it?  Sets *word and *len. */
static int
literal_line(const char *line, const char **word, size_t *len)
{
	const char	*p = line;

	while (*p == ' ' || *p == '\t')
		p++;
	*word = p;
	while (isalnum((unsigned char)*p) || *p == '_')
		p++;
	*len = (size_t)(p - *word);
	while (*p == ' ' || *p == '\t')
		p++;
	return *len > 0 && (*p == '\0' || *p == '\n');
}

static void
check_patterns(struct stow_ctx *ctx, const char *text)
{
	static const enum stow_pattern kinds[] = {
		STOW_PAT_IGNORE, STOW_PAT_DEFER, STOW_PAT_OVERRIDE, 0
	};
	const char	*word;
	char		*re, *nl, buf[300];
	size_t		 k, i, len;
	int		 r;

	re = strdup(text);
	CHECK(re != NULL);
	if ((nl = strchr(re, '\n')) != NULL)
		*nl = '\0';
	for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		r = stow_ctx_add_pattern(ctx, kinds[k], re);
		if (kinds[k] == 0) {
			CHECK(r == STOW_EINVAL);
			continue;
		}
		CHECK(r == 0 || r == STOW_EINVAL || r == STOW_ENOMEM);
	}
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		(void)patlist_match(&ctx->ignore, paths[i]);
		(void)patlist_match(&ctx->defer, paths[i]);
		(void)patlist_match(&ctx->override, paths[i]);
	}
	(void)patlist_match(&ctx->ignore, re);
	/* --ignore=NAME ignores ".../NAME", --defer=NAME "NAME/...". */
	if (literal_line(re, &word, &len) && word == re &&
	    len == strlen(re) && len < 100 && ctx->ignore.len == 1 &&
	    ctx->defer.len == 1) {
		snprintf(buf, sizeof(buf), "x/%.*s", (int)len, word);
		CHECK(patlist_match(&ctx->ignore, buf));
		snprintf(buf, sizeof(buf), "%.*s/x", (int)len, word);
		CHECK(patlist_match(&ctx->defer, buf));
		CHECK(patlist_match(&ctx->override, buf));
	}
	patlist_free(&ctx->ignore);
	patlist_free(&ctx->defer);
	patlist_free(&ctx->override);
	free(re);
}

/*
 * ignore_match() of path, held to its contract: 0 or 1, or -1 when a
 * regex gave up on it (a match limit, a recursion loop such as "(?0)"),
 * which the pre-checks may spare a path but never cause; then
 * ignore_explain() names the file (and the line, when one regex gave
 * up on its own).
 */
static int
match_checked(struct stow_ctx *ctx, const struct ignore_rules *rules,
    const char *path, const char *file)
{
	const char	*msg;
	size_t		 f = strlen(file);
	int		 r = ignore_match(rules, path);
	int		 u = ignore_match_unchecked(rules, path);

	CHECK(r == 0 || r == 1 || r == -1);
	CHECK(r == u || (r == 0 && u == -1));
	if (r == -1) {
		CHECK(ignore_explain(ctx, rules, path) == STOW_EINVAL);
		msg = stow_ctx_errmsg(ctx);
		CHECK(strncmp(msg, file, f) == 0 && msg[f] == ':');
		CHECK(strstr(msg, " gave up on '") != NULL);
	}
	return r;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct stow_ctx			*ctx = fuzz_ctx();
	const struct ignore_rules	*def;
	struct ignore_rules		 rules;
	const char			*msg, *p, *word;
	char				*text, *rooted, *end, buf[300];
	unsigned long			 line;
	size_t				 i, len, f = strlen(FUZZ_IGNORE_FILE);
	int				 r;

	text = fuzz_strndup(data, size);
	/* The input as a path too: "/" and the text. */
	if ((rooted = malloc(size + 2)) == NULL)
		abort();
	rooted[0] = '/';
	memcpy(rooted + 1, text, strlen(text) + 1);
	r = ignore_rules_from_text(ctx, &rules, text, FUZZ_IGNORE_FILE);
	CHECK(r == 0 || r == STOW_EINVAL || r == STOW_ENOMEM);
	if (r != 0) {
		CHECK(rules.path_re == NULL && rules.segment_re == NULL &&
		    rules.md == NULL);
		msg = stow_ctx_errmsg(ctx);
		CHECK(msg[0] != '\0');
		/* "A bad regex is reported as file:line: invalid regex:
		 * ...", the line one of the file's. */
		if (r == STOW_EINVAL) {
			CHECK(strncmp(msg, FUZZ_IGNORE_FILE ":", f + 1) == 0);
			line = strtoul(msg + f + 1, &end, 10);
			CHECK(*end == ':');
			CHECK(line >= 1 && line <= fuzz_line_count(data, size));
		}
	} else {
		CHECK(rules.path_re != NULL && rules.md != NULL);
		/* The pre-checks never turn a match away. */
		for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
			(void)match_checked(ctx, &rules, paths[i],
			    FUZZ_IGNORE_FILE);
		(void)match_checked(ctx, &rules, rooted, FUZZ_IGNORE_FILE);
		/* Every list keeps the local ignore file out. */
		if (strstr(text, "(*") == NULL)
			CHECK(ignore_match(&rules, "/.stow-local-ignore"));
		/* A line that is a plain name ignores that name anywhere. */
		for (p = text; p != NULL; p = strchr(p, '\n'),
		    p = p == NULL ? NULL : p + 1) {
			if (!literal_line(p, &word, &len) || len > 200)
				continue;
			snprintf(buf, sizeof(buf), "/%.*s", (int)len, word);
			CHECK(ignore_match(&rules, buf));
			snprintf(buf, sizeof(buf), "/d/%.*s", (int)len, word);
			CHECK(ignore_match(&rules, buf));
		}
		ignore_rules_free(&rules);
	}

	/* The built-in list, compiled once into the context. */
	CHECK(ignore_default_rules(fuzz_ctx(), &def) == 0);
	r = ignore_match(def, rooted);
	CHECK(r == 0 || r == 1);	/* (Its regexes never give up.) */
	CHECK(r == ignore_match_unchecked(def, rooted));

	check_patterns(ctx, text);
	free(rooted);
	free(text);
	return 0;
}
