/*
 * check_path.c: the lexical path algebra of lib/path.c, table-driven.
 * Expected values follow GNU Stow 2.4.1's join_paths(), parent(),
 * File::Spec->abs2rel() and adjust_dotfile()/unadjust_dotfile().  Also
 * lib/util.c's map of paths.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extern.h"
#include "sandbox.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/*
 * Checks got (allocated in arena a, or NULL) against want, freeing the
 * arena before asserting so that a failure leaks nothing.
 */
static void
expect(struct arena *a, const char *got, const char *want, const char *call)
{
	char	text[512];
	int	ok = got != NULL && strcmp(got, want) == 0;

	snprintf(text, sizeof(text), "%s", got != NULL ? got : "(null)");
	arena_free(a);
	ck_assert_msg(ok, "%s = \"%s\", want \"%s\"", call, text, want);
}

struct pair_case {
	const char	*a;
	const char	*b;
	const char	*want;
};

/* join_paths(): '//' squeezed, '.' dropped, 'x/..' folded, leading
 * '..' kept. */
static const struct pair_case join_cases[] = {
	{ "a", "b", "a/b" },
	{ "a/", "b", "a/b" },
	{ "a//b", "c", "a/b/c" },
	{ "a", "/b", "a/b" },
	{ "./a", "./b", "a/b" },
	{ "a/./b/.", ".", "a/b" },
	{ "a/../b", "", "b" },
	{ "a/b/..", "c", "a/c" },
	{ "..", "a", "../a" },
	{ "../..", "a", "../../a" },
	{ "../a/..", "b", "../b" },
	{ "a/..", "..", ".." },
	{ "a", "../..", ".." },
	{ "a", "../../b", "../b" },
	{ "/a", "b", "/a/b" },
	{ "/", "a", "/a" },
	{ "", "b", "b" },
	{ "a", "", "a" },
	{ "", "", "" },
	{ ".", "", "" },
	{ "../stow", "a/bin", "../stow/a/bin" },
};

START_TEST(path_join_rules)
{
	const struct pair_case	*c = &join_cases[_i];
	struct arena		 a = { NULL, NULL };
	char			*got, call[512];

	got = path_join(&a, c->a, c->b);
	snprintf(call, sizeof(call), "path_join(\"%s\", \"%s\")", c->a, c->b);
	expect(&a, got, c->want, call);
}
END_TEST

struct triple_case {
	const char	*a, *b, *c;
	const char	*want;
};

static const struct triple_case join3_cases[] = {
	{ "../stow", "a", "bin/x", "../stow/a/bin/x" },
	{ "stow", "a", "", "stow/a" },
	{ "", "", "", "" },
	{ "../../stow", "pkg", "../other/x", "../../stow/other/x" },
	{ "a", "..", "..", ".." },
	{ "x//", "./y/", "/z/", "x/y/z" },
};

START_TEST(path_join3_rules)
{
	const struct triple_case	*c = &join3_cases[_i];
	struct arena			 a = { NULL, NULL };
	char				*got, call[512];

	got = path_join3(&a, c->a, c->b, c->c);
	snprintf(call, sizeof(call), "path_join3(\"%s\", \"%s\", \"%s\")",
	    c->a, c->b, c->c);
	expect(&a, got, c->want, call);
}
END_TEST

struct one_case {
	const char	*in;
	const char	*want;
};

/* parent(): the path without its last component. */
static const struct one_case parent_cases[] = {
	{ "a/b/c", "a/b" },
	{ "a/b", "a" },
	{ "a", "" },
	{ "a/b/", "a" },
	{ "a//b", "a" },
	{ "/a/b", "/a" },
	{ "../stow/a", "../stow" },
	{ "", "" },
};

START_TEST(path_parent_rules)
{
	const struct one_case	*c = &parent_cases[_i];
	struct arena		 a = { NULL, NULL };
	char			*got, call[512];

	got = path_parent(&a, c->in);
	snprintf(call, sizeof(call), "path_parent(\"%s\")", c->in);
	expect(&a, got, c->want, call);
}
END_TEST

/* parent($dir) || '.', the default target; "/x" has parent "/". */
static const struct one_case textual_parent_cases[] = {
	{ "stow", "." },
	{ "a/stow", "a" },
	{ "/usr/local/stow", "/usr/local" },
	{ "/stow", "/" },
	{ "../stow", ".." },
	{ "a/stow/", "a" },
};

START_TEST(path_textual_parent_rules)
{
	const struct one_case	*c = &textual_parent_cases[_i];
	struct arena		 a = { NULL, NULL };
	char			*got, call[512];

	got = path_textual_parent(&a, c->in);
	snprintf(call, sizeof(call), "path_textual_parent(\"%s\")", c->in);
	expect(&a, got, c->want, call);
}
END_TEST

/* abs2rel(path, base) of canonical absolute paths. */
static const struct pair_case relative_cases[] = {
	{ "/a/b/c", "/a", "b/c" },
	{ "/a", "/a/b/c", "../.." },
	{ "/a/x", "/a/y", "../x" },
	{ "/a", "/a", "." },
	{ "/", "/", "." },
	{ "/", "/a", ".." },
	{ "/", "/a/b", "../.." },
	{ "/a", "/", "a" },
	{ "/a/b", "/", "a/b" },
	{ "/ab", "/a", "../ab" },
	{ "/a", "/ab", "../a" },
	{ "/a/bc/d", "/a/b", "../bc/d" },
	{ "/tmp/s/stow", "/tmp/s/t", "../stow" },
	{ "/tmp/s/stow", "/tmp/s", "stow" },
	{ "/home/u/dotfiles", "/home/u", "dotfiles" },
};

START_TEST(path_relative_rules)
{
	const struct pair_case	*c = &relative_cases[_i];
	struct arena		 a = { NULL, NULL };
	char			*got, call[512];

	got = path_relative(&a, c->a, c->b);
	snprintf(call, sizeof(call), "path_relative(\"%s\", \"%s\")", c->a,
	    c->b);
	expect(&a, got, c->want, call);
}
END_TEST

/*
 * --dotfiles: GNU Stow 2.4.1's adjust_dotfile() is s/^dot-([^.])/.$1/
 * on one name: a character must follow "dot-" and it must not be '.'.
 */
static const struct one_case dotfile_cases[] = {
	{ "dot-foo", ".foo" },
	{ "dot-config", ".config" },
	{ "dot-dot-x", ".dot-x" },
	{ "dot--dash", ".-dash" },
	{ "dot-", "dot-" },
	{ "dot-.", "dot-." },
	{ "dot-.foo", "dot-.foo" },
	{ "foo", "foo" },
	{ "xdot-foo", "xdot-foo" },
	{ "Dot-foo", "Dot-foo" },
	{ ".foo", ".foo" },
};

START_TEST(path_dotfile_rules)
{
	const struct one_case	*c = &dotfile_cases[_i];
	struct arena		 a = { NULL, NULL };
	const char		*got;
	char			 call[512];

	got = path_dotfile(&a, c->in);
	snprintf(call, sizeof(call), "path_dotfile(\"%s\")", c->in);
	expect(&a, got, c->want, call);
}
END_TEST

/* unadjust_dotfile(): ".X" -> "dot-X", but "." and ".." stay. */
static const struct one_case undotfile_cases[] = {
	{ ".foo", "dot-foo" },
	{ ".config", "dot-config" },
	{ "foo", "foo" },
	{ ".", "." },
	{ "..", ".." },
	{ "dot-foo", "dot-foo" },
};

START_TEST(path_undotfile_rules)
{
	const struct one_case	*c = &undotfile_cases[_i];
	struct arena		 a = { NULL, NULL };
	const char		*got;
	char			 call[512];

	got = path_undotfile(&a, c->in);
	snprintf(call, sizeof(call), "path_undotfile(\"%s\")", c->in);
	expect(&a, got, c->want, call);
}
END_TEST

struct under_case {
	const char	*path;
	const char	*dir;
	int		 want;
	const char	*rest;
};

static const struct under_case under_cases[] = {
	{ "../stow/a/bin", "../stow", 1, "a/bin" },
	{ "../stow/a", "../stow", 1, "a" },
	{ "../stow", "../stow", 0, NULL },
	{ "../stowaway/a", "../stow", 0, NULL },
	{ "../sto", "../stow", 0, NULL },
	{ "stow/a", "stow", 1, "a" },
	{ "a", "", 0, NULL },
	{ "/x/y", "/x", 1, "y" },
};

START_TEST(path_is_under_rules)
{
	const struct under_case	*c = &under_cases[_i];
	const char		*rest = NULL;
	int			 got;

	got = path_is_under(c->path, c->dir, &rest);
	ck_assert_msg(got == c->want, "path_is_under(\"%s\", \"%s\") = %d, "
	    "want %d", c->path, c->dir, got, c->want);
	if (c->want) {
		ck_assert_ptr_nonnull(rest);
		ck_assert_str_eq(rest, c->rest);
	} else
		ck_assert_ptr_null(rest);
	/* rest may be NULL. */
	ck_assert_int_eq(path_is_under(c->path, c->dir, NULL), c->want);
}
END_TEST

struct depth_case {
	const char	*in;
	int		 want;
};

static const struct depth_case depth_cases[] = {
	{ "", 0 },
	{ ".", 0 },
	{ "a", 1 },
	{ "a/b", 2 },
	{ ".config/nvim/init.vim", 3 },
};

START_TEST(path_depth_rules)
{
	const struct depth_case	*c = &depth_cases[_i];

	ck_assert_msg(path_depth(c->in) == c->want, "path_depth(\"%s\") = %d, "
	    "want %d", c->in, path_depth(c->in), c->want);
}
END_TEST

START_TEST(path_basename_rules)
{
	ck_assert_str_eq(path_basename("a/b/c"), "c");
	ck_assert_str_eq(path_basename("c"), "c");
	ck_assert_str_eq(path_basename("/c"), "c");
	ck_assert_str_eq(path_basename(""), "");
}
END_TEST

struct replace_case {
	const char	*in;
	const char	*why;		/* NULL: a path that can be replaced */
};

static const struct replace_case replace_cases[] = {
	{ ".config/nvim", NULL },
	{ "./.config//nvim/", NULL },
	{ "x/.", NULL },
	{ "..x/y..", NULL },
	{ "...", NULL },
	{ "/etc", "is absolute" },
	{ "//x", "is absolute" },
	{ "..", "contains '..'" },
	{ "../x", "contains '..'" },
	{ "a/../b", "contains '..'" },
	{ "a/..", "contains '..'" },
	{ "a/../", "contains '..'" },
	{ "", "names no file" },
	{ ".", "names no file" },
	{ "./", "names no file" },
	{ ".//./", "names no file" },
	{ NULL, "is missing" },
};

START_TEST(path_replace_check_rules)
{
	const struct replace_case	*c = &replace_cases[_i];
	const char			*got = stow_replace_path_check(c->in);

	if (c->why == NULL)
		ck_assert_msg(got == NULL, "\"%s\" refused: %s", c->in, got);
	else
		ck_assert_msg(got != NULL && strcmp(got, c->why) == 0,
		    "\"%s\": got %s, want %s", c->in ? c->in : "(null)",
		    got ? got : "(accepted)", c->why);
}
END_TEST

/* Long inputs go through the arena's large-chunk path intact. */
START_TEST(path_join_long)
{
	struct arena	 a = { NULL, NULL };
	char		 x[5000], want[10002];
	char		*got;
	int		 ok;

	memset(x, 'x', sizeof(x) - 1);
	x[sizeof(x) - 1] = '\0';
	memcpy(want, x, sizeof(x) - 1);
	want[sizeof(x) - 1] = '/';
	memcpy(want + sizeof(x), x, sizeof(x));
	got = path_join(&a, x, x);
	ok = got != NULL && strcmp(got, want) == 0;
	arena_free(&a);
	ck_assert_msg(ok, "path_join of two 4999-byte names");
}
END_TEST

/*
 * The map of paths through its growth: 100,000 keys, as the planner
 * makes them, each found with its value after every insertion round,
 * a key put twice kept once, and keys never put not found.
 */
START_TEST(path_strmap_grows)
{
	struct strmap	 m;
	struct arena	 a = { NULL, NULL };
	char		 key[64];
	char		**keys;
	size_t		 i, n = 100000, checked;

	memset(&m, 0, sizeof(m));
	ck_assert_ptr_nonnull(keys = calloc(n, sizeof(*keys)));
	for (i = 0; i < n; i++) {
		snprintf(key, sizeof(key), "d%04zu/f%03zu", i / 100, i % 100);
		ck_assert_ptr_nonnull(keys[i] = arena_strdup(&a, key));
		ck_assert_int_eq(strmap_put(&m, keys[i], &keys[i]), 0);
		/* Checked at each doubling, and at the end. */
		if ((i & (i + 1)) != 0 && i != n - 1)
			continue;
		for (checked = 0; checked <= i; checked++)
			ck_assert_ptr_eq(strmap_get(&m, keys[checked]),
			    &keys[checked]);
	}
	ck_assert_uint_eq(m.len, n);
	ck_assert_int_eq(strmap_put(&m, "d0000/f000", NULL), 0);
	ck_assert_uint_eq(m.len, n);
	ck_assert_ptr_null(strmap_get(&m, "d0000/f000"));
	ck_assert_ptr_null(strmap_get(&m, "d1000/f000"));
	ck_assert_ptr_null(strmap_get(&m, "d0000/f00"));
	ck_assert_ptr_null(strmap_get(&m, ""));
	strmap_free(&m);
	ck_assert_ptr_null(strmap_get(&m, "d0001/f001"));
	free(keys);
	arena_free(&a);
}
END_TEST

Suite *
path_suite(void)
{
	Suite	*s = suite_create("path");
	TCase	*tc = tcase_create("path");

	tcase_add_loop_test(tc, path_join_rules, 0, (int)NELEM(join_cases));
	tcase_add_loop_test(tc, path_join3_rules, 0, (int)NELEM(join3_cases));
	tcase_add_loop_test(tc, path_parent_rules, 0,
	    (int)NELEM(parent_cases));
	tcase_add_loop_test(tc, path_textual_parent_rules, 0,
	    (int)NELEM(textual_parent_cases));
	tcase_add_loop_test(tc, path_relative_rules, 0,
	    (int)NELEM(relative_cases));
	tcase_add_loop_test(tc, path_dotfile_rules, 0,
	    (int)NELEM(dotfile_cases));
	tcase_add_loop_test(tc, path_undotfile_rules, 0,
	    (int)NELEM(undotfile_cases));
	tcase_add_loop_test(tc, path_is_under_rules, 0,
	    (int)NELEM(under_cases));
	tcase_add_loop_test(tc, path_depth_rules, 0, (int)NELEM(depth_cases));
	tcase_add_loop_test(tc, path_replace_check_rules, 0,
	    (int)NELEM(replace_cases));
	tcase_add_test(tc, path_strmap_grows);
	tcase_add_test(tc, path_basename_rules);
	tcase_add_test(tc, path_join_long);
	suite_add_tcase(s, tc);
	return s;
}
