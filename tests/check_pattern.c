/*
 * check_pattern.c: lib/pattern.c: --ignore/--defer/--override regexes
 * and the ignore lists (GNU Stow 2.4.1's get_ignore_regexps_from_fh()
 * and compile_ignore_regexps()).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extern.h"
#include "sandbox.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* A regex that does not compile is the caller's error, quoted. */
static const char *const bad_regexes[] = {
	"(",
	"a)",
	"a)|(b",	/* valid only inside an added group */
	"[z-a]",
	"*x",
};

START_TEST(pattern_add_bad_regex)
{
	const char		*re = bad_regexes[_i];
	static const enum stow_pattern kinds[] = {
		STOW_PAT_IGNORE, STOW_PAT_DEFER, STOW_PAT_OVERRIDE
	};
	struct stow_ctx		*ctx;
	char			 quoted[64];
	size_t			 k;

	ctx = sb_new_ctx();
	snprintf(quoted, sizeof(quoted), "'%s'", re);
	for (k = 0; k < NELEM(kinds); k++) {
		ck_assert_int_eq(stow_ctx_add_pattern(ctx, kinds[k], re),
		    STOW_EINVAL);
		ck_assert_msg(strstr(stow_ctx_errmsg(ctx), "invalid regex") !=
		    NULL && strstr(stow_ctx_errmsg(ctx), quoted) != NULL,
		    "message \"%s\" does not quote %s", stow_ctx_errmsg(ctx),
		    quoted);
	}
	ck_assert_int_eq(ctx->ignore.len, 0);
	ck_assert_int_eq(ctx->defer.len, 0);
	ck_assert_int_eq(ctx->override.len, 0);
	sb_release(ctx);
}
END_TEST

START_TEST(pattern_add_misuse)
{
	struct stow_ctx	*ctx;

	ck_assert_int_eq(stow_ctx_add_pattern(NULL, STOW_PAT_IGNORE, "x"),
	    STOW_EMISUSE);
	ctx = sb_new_ctx();
	ck_assert_int_eq(stow_ctx_add_pattern(ctx, (enum stow_pattern)0, "x"),
	    STOW_EINVAL);
	ck_assert_int_eq(stow_ctx_add_pattern(ctx, (enum stow_pattern)99,
	    "x"), STOW_EINVAL);
	ck_assert_int_eq(stow_ctx_add_pattern(ctx, STOW_PAT_IGNORE, NULL),
	    STOW_EINVAL);
	ck_assert_int_eq(ctx->ignore.len, 0);
	sb_release(ctx);
}
END_TEST

struct match_case {
	enum stow_pattern	 kind;
	const char		*regex;
	const char		*subject;
	int			 want;
};

/*
 * GNU Stow compiles --ignore as qr($regex\z) and --defer/--override as
 * qr(\A$regex): the user's regex is not grouped, so a top-level '|'
 * leaves the other alternatives unanchored.
 */
static const struct match_case match_cases[] = {
	{ STOW_PAT_IGNORE, "\\.orig", "b.orig", 1 },
	{ STOW_PAT_IGNORE, "\\.orig", "a/b.orig", 1 },
	{ STOW_PAT_IGNORE, "\\.orig", "b.orig.bak", 0 },
	{ STOW_PAT_IGNORE, "foo", "xfoo", 1 },
	{ STOW_PAT_IGNORE, "foo", "a/foo", 1 },
	{ STOW_PAT_IGNORE, "foo", "foox", 0 },
	{ STOW_PAT_IGNORE, "foo", "foo/x", 0 },
	{ STOW_PAT_IGNORE, "^foo", "foo", 1 },
	{ STOW_PAT_IGNORE, "^foo", "a/foo", 0 },
	{ STOW_PAT_IGNORE, "foo|bar", "xbar", 1 },
	{ STOW_PAT_IGNORE, "foo|bar", "barx", 0 },
	/* GNU Stow 2.4.1 groups the regex, "($re)\\z": the whole
	 * alternation is anchored (2.3.1's "$re\\z" anchored only "bar"). */
	{ STOW_PAT_IGNORE, "foo|bar", "foo.txt", 0 },
	{ STOW_PAT_DEFER, "man", "man/man1/x.1", 1 },
	{ STOW_PAT_DEFER, "man", "manual", 1 },
	{ STOW_PAT_DEFER, "man", "share/man", 0 },
	{ STOW_PAT_DEFER, "x/man|doc", "x/man1", 1 },
	{ STOW_PAT_DEFER, "x/man|doc", "y/man1", 0 },
	{ STOW_PAT_DEFER, "x/man|doc", "x/doc", 0 },
	{ STOW_PAT_DEFER, "x/man|doc", "doc/x", 1 },
	{ STOW_PAT_OVERRIDE, "info", "info/dir", 1 },
	{ STOW_PAT_OVERRIDE, "info", "share/info", 0 },
	{ STOW_PAT_OVERRIDE, "in.o$", "info", 1 },
};

START_TEST(pattern_anchoring)
{
	const struct match_case	*c = &match_cases[_i];
	const struct patlist	*l;
	struct stow_ctx		*ctx;
	int			 got;

	ctx = sb_new_ctx();
	ck_assert_int_eq(stow_ctx_add_pattern(ctx, c->kind, c->regex), 0);
	l = c->kind == STOW_PAT_IGNORE ? &ctx->ignore : c->kind ==
	    STOW_PAT_DEFER ? &ctx->defer : &ctx->override;
	ck_assert_int_eq(l->len, 1);
	got = patlist_match(l, c->subject);
	sb_release(ctx);
	ck_assert_msg(got == c->want, "%s '%s' on \"%s\": %d, want %d",
	    c->kind == STOW_PAT_IGNORE ? "--ignore" : c->kind ==
	    STOW_PAT_DEFER ? "--defer" : "--override", c->regex, c->subject,
	    got, c->want);
}
END_TEST

START_TEST(pattern_lists_accumulate)
{
	struct stow_ctx	*ctx;

	ctx = sb_new_ctx();
	ck_assert_int_eq(stow_ctx_add_pattern(ctx, STOW_PAT_IGNORE, "a"), 0);
	ck_assert_int_eq(stow_ctx_add_pattern(ctx, STOW_PAT_IGNORE, "b"), 0);
	ck_assert_int_eq(stow_ctx_add_pattern(ctx, STOW_PAT_DEFER, "c"), 0);
	ck_assert_int_eq(ctx->ignore.len, 2);
	ck_assert_int_eq(ctx->defer.len, 1);
	ck_assert_int_eq(ctx->override.len, 0);
	ck_assert_int_eq(patlist_match(&ctx->ignore, "xa"), 1);
	ck_assert_int_eq(patlist_match(&ctx->ignore, "xb"), 1);
	ck_assert_int_eq(patlist_match(&ctx->ignore, "xc"), 0);
	ck_assert_int_eq(patlist_match(&ctx->override, "c"), 0);
	sb_release(ctx);
}
END_TEST

struct ignore_case {
	const char	*text;
	const char	*path;	/* package-relative, no leading '/' */
	int		 want;
};

static const struct ignore_case ignore_cases[] = {
	/* Comment lines are not patterns. */
	{ "# comment\nfoo\n", "foo", 1 },
	{ "# comment\nfoo\n", "# comment", 0 },
	{ "   # indented comment\n", "# indented comment", 0 },
	/* " # trailing comment" is cut off. */
	{ "foo   # trailing\n", "foo", 1 },
	{ "foo   # trailing\n", "foo   # trailing", 0 },
	{ "foo\t# tab then comment\n", "foo", 1 },
	/* "\#" is a literal '#'; a '#' with no blank before it stays. */
	{ "\\#foo\\#\n", "#foo#", 1 },
	{ "foo#bar\n", "foo#bar", 1 },
	/* Blank lines and surrounding blanks are dropped. */
	{ "\n   \n\tfoo\t\n\n", "foo", 1 },
	{ "\n   \n\tfoo\t\n\n", "a/foo", 1 },
	/* No '/': matched against the whole base name, ^(...)$. */
	{ "foo\n", "foo", 1 },
	{ "foo\n", "a/b/foo", 1 },
	{ "foo\n", "foobar", 0 },
	{ "foo\n", "xfoo", 0 },
	{ "foo\n", "foo/bar", 0 },
	{ ".+\\.o\n", "x.o", 1 },
	{ ".+\\.o\n", ".o", 0 },
	{ "a|b\nc\n", "b", 1 },
	{ "a|b\nc\n", "ab", 0 },
	{ "a|b\nc\n", "c", 1 },
	/* A '/': (^|/)(...)(/|$) against "/" + path. */
	{ "bin/x\n", "bin/x", 1 },
	{ "bin/x\n", "bin/x/y", 1 },
	{ "bin/x\n", "a/bin/x", 1 },
	{ "bin/x\n", "bin/xy", 0 },
	{ "bin/x\n", "xbin/x", 0 },
	{ "^/top\n", "top", 1 },
	{ "^/top\n", "top/x", 1 },
	{ "^/top\n", "a/top", 0 },
	/* All path patterns anchored: matched at the start only. */
	{ "^/a/b\n^/c\n", "a/b", 1 },
	{ "^/a/b\n^/c\n", "a/b/x", 1 },
	{ "^/a/b\n^/c\n", "x/a/b", 0 },
	{ "^/a/b\n^/c\n", "c/d", 1 },
	{ "^/a/b\n^/c\n", "d/c/e", 0 },
	/* One not anchored: any "/" may start a match again. */
	{ "^/a/b\nc/d\n", "x/c/d", 1 },
	{ "^/a/b\nc/d\n", "x/a/b", 0 },
	/* Anchored by PCRE2's rules, with no "^": (?s).* starts at 0. */
	{ "(?s).*/deep/x\n", "a/b/deep/x", 1 },
	{ "(?s).*/deep/x\n", "a/b/deep/xy", 0 },
	{ "\\A/top/x\n", "top/x", 1 },
	{ "\\A/top/x\n", "a/top/x", 0 },
	/* Both kinds in one list. */
	{ "foo\n^/bar/baz\n", "x/foo", 1 },
	{ "foo\n^/bar/baz\n", "bar/baz", 1 },
	{ "foo\n^/bar/baz\n", "x/bar/baz", 0 },
	/* Every list keeps the top-level local ignore file out. */
	{ "foo\n", ".stow-local-ignore", 1 },
	{ "foo\n", "a/.stow-local-ignore", 0 },
	{ "", ".stow-local-ignore", 1 },
	{ "", "foo", 0 },
	/*
	 * The pre-checks (a plain line's first and last token; a path
	 * line's "^/c") must never turn a match away.  "$" also matches
	 * before a final newline; a quantified token may be any byte, or
	 * none; a class, group or letter escape turns the check off.
	 */
	{ "foo\n", "foo\n", 1 },
	{ "foo\n", "a/foo\n", 1 },
	{ "a?b\n", "b", 1 },
	{ "ab?\n", "a", 1 },
	{ "ab*\n", "abbb", 1 },
	{ "a+\n", "aaa", 1 },
	{ "x.+\n", "xyz", 1 },
	{ ".+z\n", "abz", 1 },
	{ ".+z\n", "abzy", 0 },
	{ "\\.z\n", ".z", 1 },
	{ "\\.z\n", "xz", 0 },
	{ "^a$\n", "a", 1 },
	{ "[ab]c\n", "bc", 1 },
	{ "foo\n[ab]c\n", "foo", 1 },
	{ "\\x41b\n", "Ab", 1 },
	{ "a\\d\n", "a5", 1 },
	{ "x\\101\n", "xA", 1 },
	{ "\\cAb\n", "\001b", 1 },
	{ "foo\nbar\n", "bar", 1 },
	{ "foo\nbar\n", "baz", 0 },
	{ "foo\n(?i)bar\n", "BAR", 1 },
	{ "x#\n", "x#", 1 },
	{ "^/?abc/d\n", "abc/d", 1 },
	{ "^/x+y/z\n", "xxy/z", 1 },
	{ "^/xy/z\n", "xy/z", 1 },
	{ "^/xy/z\n", "yx/z", 0 },
	{ "^/xy/z\n^/\\.q/r\n", ".q/r", 1 },
	{ "^/xy/z\n^/.q/r\n", "-q/r", 1 },
	{ "^/xy/z\na/b\n", "q/a/b", 1 },
};

/* The path inside the package as ignore_match() takes it: "/" + path. */
static const char *
rooted(const char *path, char *buf, size_t size)
{
	ck_assert_int_lt(snprintf(buf, size, "/%s", path), (int)size);
	return buf;
}

START_TEST(pattern_ignore_text)
{
	const struct ignore_case	*c = &ignore_cases[_i];
	struct ignore_rules		 r;
	struct stow_ctx			*ctx;
	char				 buf[4096];
	int				 rc, got, unchecked;

	ctx = sb_new_ctx();
	rc = ignore_rules_from_text(ctx, &r, c->text, "F");
	ck_assert_msg(rc == 0, "rc %d: %s", rc, stow_ctx_errmsg(ctx));
	got = ignore_match(&r, rooted(c->path, buf, sizeof(buf)));
	unchecked = ignore_match_unchecked(&r, buf);
	ignore_rules_free(&r);
	sb_release(ctx);
	ck_assert_msg(got == c->want, "list \"%s\" on \"%s\": %d, want %d",
	    c->text, c->path, got, c->want);
	ck_assert_int_eq(unchecked, got);
}
END_TEST

START_TEST(pattern_ignore_bad_regex_line)
{
	struct ignore_rules	 r;
	struct stow_ctx		*ctx;
	const char		*msg;

	ctx = sb_new_ctx();
	ck_assert_int_eq(ignore_rules_from_text(ctx, &r,
	    "# fine\nok\n(\nalso-ok\n", "/x/.stow-local-ignore"), STOW_EINVAL);
	msg = stow_ctx_errmsg(ctx);
	ck_assert_msg(strncmp(msg, "/x/.stow-local-ignore:3: invalid regex",
	    strlen("/x/.stow-local-ignore:3: invalid regex")) == 0,
	    "message: %s", msg);
	/* A failed compile leaves nothing to free or match. */
	ck_assert_ptr_null(r.path_re);
	ck_assert_ptr_null(r.segment_re);
	sb_release(ctx);
}
END_TEST

/*
 * Lines that compile alone but not together: the first line that
 * breaks the combination is named, before a later line that does not
 * compile at all.
 */
START_TEST(pattern_ignore_lines_do_not_combine)
{
	struct ignore_rules	 r;
	struct stow_ctx		*ctx;
	const char		*msg, *want = "F:3: invalid regex: does not "
				    "combine with the lines before it";

	ctx = sb_new_ctx();
	ck_assert_int_eq(ignore_rules_from_text(ctx, &r,
	    "a\n# c\n(*UTF)b\nc\n(\n", "F"), STOW_EINVAL);
	msg = stow_ctx_errmsg(ctx);
	ck_assert_msg(strncmp(msg, want, strlen(want)) == 0, "message: %s",
	    msg);
	ck_assert_int_eq(ignore_rules_from_text(ctx, &r, "a\nb\n(\n", "G"),
	    STOW_EINVAL);
	msg = stow_ctx_errmsg(ctx);
	ck_assert_msg(strncmp(msg, "G:3: invalid regex", 18) == 0,
	    "message: %s", msg);
	sb_release(ctx);
}
END_TEST

struct default_case {
	const char	*path;
	int		 want;
};

/* GNU Stow 2.4.1's built-in list (default-ignore-list). */
static const struct default_case default_cases[] = {
	{ "README.md", 1 },
	{ "README", 1 },
	{ "a/README.md", 0 },
	{ "LICENSE.txt", 1 },
	{ "LICENSE", 1 },
	{ "a/LICENSE", 0 },
	{ "COPYING", 1 },
	{ "COPYING.txt", 0 },
	{ ".git", 1 },
	{ "a/.git", 1 },
	{ ".gitignore", 1 },
	{ ".gitmodules", 1 },
	{ "gitfoo", 0 },
	{ ".gitfoo", 0 },
	{ ".gitignore.bak", 0 },
	{ "CVS", 1 },
	{ "a/CVS", 1 },
	{ "CVSx", 0 },
	{ "RCS", 1 },
	{ "foo,v", 1 },
	{ ".cvsignore", 1 },
	{ ".svn", 1 },
	{ "_darcs", 1 },
	{ ".hg", 1 },
	{ "foo~", 1 },
	{ "a/foo~", 1 },
	{ "~", 0 },
	{ "#foo#", 1 },
	{ "##", 1 },
	{ ".#foo", 1 },
	{ ".#", 0 },
	{ ".stow-local-ignore", 1 },
	{ "bin/x", 0 },
	{ ".bashrc", 0 },
	{ "dot-git", 0 },
	{ "RCS\n", 1 },
	{ "a/.git\n", 1 },
	{ "x,v\n", 1 },
	{ "README\n", 1 },
	{ "f000", 0 },
	{ "d0000/f000", 0 },
};

START_TEST(pattern_default_list)
{
	const struct default_case	*c = &default_cases[_i];
	const struct ignore_rules	*r = NULL;
	struct stow_ctx			*ctx;
	char				 buf[4096];
	int				 got;

	ctx = sb_new_ctx();
	ck_assert_int_eq(ignore_default_rules(ctx, &r), 0);
	ck_assert_ptr_nonnull(r);
	got = ignore_match(r, rooted(c->path, buf, sizeof(buf)));
	ck_assert_int_eq(ignore_match_unchecked(r, buf), got);
	/* The built-in list is plain: both pre-checks are on. */
	ck_assert_ptr_nonnull(r->name_ends);
	ck_assert_int_eq(r->path_checked, 1);
	sb_release(ctx);
	ck_assert_msg(got == c->want, "built-in list on \"%s\": %d, want %d",
	    c->path, got, c->want);
}
END_TEST

/* The built-in list is compiled once per context. */
START_TEST(pattern_default_list_cached)
{
	const struct ignore_rules	*r1 = NULL, *r2 = NULL;
	struct stow_ctx			*ctx;

	ctx = sb_new_ctx();
	ck_assert_int_eq(ignore_default_rules(ctx, &r1), 0);
	ck_assert_int_eq(ignore_default_rules(ctx, &r2), 0);
	ck_assert_ptr_eq(r1, r2);
	sb_release(ctx);
}
END_TEST

/*
 * "(a|aa)+$" backtracks without end over a long run of "a" that does
 * not end the name: PCRE2 stops it at its match limit, which is an
 * error, never "no match" (GNU Stow would have said).
 */
static const char *
a_run(char *buf, size_t size, const char *prefix, size_t n,
    const char *suffix)
{
	size_t	p = strlen(prefix);

	ck_assert_uint_lt(p + n + strlen(suffix), size);
	memcpy(buf, prefix, p);
	memset(buf + p, 'a', n);
	strlcpy(buf + p + n, suffix, size - p - n);
	return buf;
}

START_TEST(pattern_ignore_limit_is_error)
{
	struct ignore_rules	 r;
	struct stow_ctx		*ctx;
	const char		*msg;
	char			 path[256];

	ctx = sb_new_ctx();
	ck_assert_int_eq(ignore_rules_from_text(ctx, &r,
	    "# slow\nok\n(a|aa)+$\n", "/x/.stow-local-ignore"), 0);
	a_run(path, sizeof(path), "/share/", 60, "b");
	ck_assert_int_eq(ignore_match(&r, path), -1);
	ck_assert_int_eq(ignore_match_unchecked(&r, path), -1);
	/* Short runs stay within the limit, and match or not. */
	ck_assert_int_eq(ignore_match(&r, a_run(path, sizeof(path), "/",
	    60, "")), 1);
	ck_assert_int_eq(ignore_match(&r, a_run(path, sizeof(path), "/",
	    12, "b")), 0);
	/* The error names the file, the line and the regex. */
	a_run(path, sizeof(path), "/share/", 60, "b");
	ck_assert_int_eq(ignore_explain(ctx, &r, path), STOW_EINVAL);
	msg = stow_ctx_errmsg(ctx);
	ck_assert_msg(strncmp(msg, "/x/.stow-local-ignore:3: regex "
	    "'(a|aa)+$' gave up on '/share/aaa", 50) == 0 &&
	    strstr(msg, "limit") != NULL, "message: %s", msg);
	ignore_rules_free(&r);
	sb_release(ctx);
}
END_TEST

/* --ignore, --defer and --override patterns: the same. */
START_TEST(pattern_list_limit_is_error)
{
	struct stow_ctx	*ctx;
	const char	*msg;
	char		 name[256];

	ctx = sb_new_ctx();
	ck_assert_int_eq(stow_ctx_add_pattern(ctx, STOW_PAT_IGNORE, "x"), 0);
	ck_assert_int_eq(stow_ctx_add_pattern(ctx, STOW_PAT_IGNORE,
	    "^(a|aa)+$"), 0);
	a_run(name, sizeof(name), "", 60, "b");
	ck_assert_int_eq(patlist_match(&ctx->ignore, name), -1);
	ck_assert_int_eq(patlist_explain(ctx, &ctx->ignore, "ignore", name),
	    STOW_EINVAL);
	msg = stow_ctx_errmsg(ctx);
	ck_assert_msg(strncmp(msg, "ignore regex '^(a|aa)+$' gave up on "
	    "'aaa", 40) == 0 && strstr(msg, "limit") != NULL, "message: %s",
	    msg);
	ck_assert_int_eq(patlist_match(&ctx->ignore, "ax"), 1);
	ck_assert_int_eq(patlist_match(&ctx->ignore, "ay"), 0);
	sb_release(ctx);
}
END_TEST

/*
 * The JIT runs out of its small stack on a long subject (an error
 * that was taken for "no match"); the interpreter, whose frames are on
 * the heap, matches it within the limit.
 */
START_TEST(pattern_ignore_long_path_matches)
{
	struct ignore_rules	 r;
	struct stow_ctx		*ctx;
	char			 path[4096];
	size_t			 n = 0;

	ctx = sb_new_ctx();
	ck_assert_int_eq(ignore_rules_from_text(ctx, &r,
	    "^/(a|b)*c/x\n", "F"), 0);
	path[n++] = '/';
	for (; n < 4000; n++)
		path[n] = n % 2 ? 'a' : 'b';
	strlcpy(path + n, "c/x", sizeof(path) - n);
	ck_assert_int_eq(ignore_match(&r, path), 1);
	ck_assert_int_eq(ignore_match_unchecked(&r, path), 1);
	ignore_rules_free(&r);
	sb_release(ctx);
}
END_TEST

/* Pieces of random ignore lists: plain tokens, and some that are not. */
static const char *const list_pieces[] = {
	"a", "b", ".", "\\.", "^", "$", "?", "*", "+", "/", "#", "~",
	"\\#", "\\-", "[ab]", "(a)", "\\d", "a|b", "(?i)", "^/",
};

/* Bytes of random names. */
static const char name_bytes[] = "ab.#~/\nxA5";

/*
 * Random lists against random paths: the pre-checks agree with the
 * regexes alone, every time, and are on for most plain lists.
 */
START_TEST(pattern_prechecks_random)
{
	struct ignore_rules	 r;
	struct stow_ctx		*ctx;
	char			 text[256], path[16];
	size_t			 len, k, n;
	unsigned int		 seed = 20261129;
	int			 lists = 0, named = 0, pathed = 0, iter, p;

	ctx = sb_new_ctx();
	for (iter = 0; iter < 4000; iter++) {
		len = 0;
		for (n = 1 + rand_r(&seed) % 4; n > 0; n--) {
			for (k = 1 + rand_r(&seed) % 5; k > 0; k--)
				len += (size_t)snprintf(text + len,
				    sizeof(text) - len, "%s", list_pieces[
				    rand_r(&seed) % NELEM(list_pieces)]);
			text[len++] = '\n';
		}
		text[len] = '\0';
		if (ignore_rules_from_text(ctx, &r, text, "F") != 0)
			continue;
		lists++;
		named += r.name_ends != NULL;
		pathed += r.path_checked;
		for (p = 0; p < 40; p++) {
			path[0] = '/';
			for (k = 1, n = 1 + rand_r(&seed) % 6; k <= n; k++)
				path[k] = name_bytes[rand_r(&seed) %
				    (sizeof(name_bytes) - 1)];
			path[k] = '\0';
			ck_assert_msg(ignore_match(&r, path) ==
			    ignore_match_unchecked(&r, path),
			    "list \"%s\" on \"%s\"", text, path);
		}
		ignore_rules_free(&r);
	}
	sb_release(ctx);
	ck_assert_int_gt(lists, 1000);
	ck_assert_int_gt(named, lists / 10);
	ck_assert_int_gt(pathed, lists / 20);
}
END_TEST

Suite *
pattern_suite(void)
{
	Suite	*s = suite_create("pattern");
	TCase	*tc = tcase_create("pattern");

	tcase_add_checked_fixture(tc, sandbox_setup, sandbox_teardown);
	tcase_add_loop_test(tc, pattern_add_bad_regex, 0,
	    (int)NELEM(bad_regexes));
	tcase_add_test(tc, pattern_add_misuse);
	tcase_add_loop_test(tc, pattern_anchoring, 0, (int)NELEM(match_cases));
	tcase_add_test(tc, pattern_lists_accumulate);
	tcase_add_loop_test(tc, pattern_ignore_text, 0,
	    (int)NELEM(ignore_cases));
	tcase_add_test(tc, pattern_ignore_bad_regex_line);
	tcase_add_test(tc, pattern_ignore_lines_do_not_combine);
	tcase_add_loop_test(tc, pattern_default_list, 0,
	    (int)NELEM(default_cases));
	tcase_add_test(tc, pattern_default_list_cached);
	tcase_add_test(tc, pattern_prechecks_random);
	tcase_add_test(tc, pattern_ignore_limit_is_error);
	tcase_add_test(tc, pattern_list_limit_is_error);
	tcase_add_test(tc, pattern_ignore_long_path_matches);
	suite_add_tcase(s, tc);
	return s;
}
