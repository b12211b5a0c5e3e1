/*
 * check_rc.c: lib/rc.c: .stowrc words (GNU Stow 2.4.1 splits each line
 * with Text::ParseWords::shellwords()) and the "~"/"$VAR" expansion of
 * --dir and --target values (expand_environment(), expand_tilde()).
 */
#include <stdlib.h>
#include <string.h>

#include "extern.h"
#include "sandbox.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* "LINE:WORD\n" for each word of rc (tracked). */
static char *
rc_words(const struct stow_rc *rc)
{
	char	*s = sb_append(NULL, "%s", "");
	size_t	 i;

	for (i = 0; i < stow_rc_count(rc); i++)
		s = sb_append(s, "%u:%s\n", stow_rc_line(rc, i),
		    stow_rc_word(rc, i));
	return sb_track(s, SB_FREE);
}

struct words_case {
	const char	*text;
	const char	*want;
};

static const struct words_case words_cases[] = {
	/* Blanks (spaces and tabs) separate words. */
	{ "--target=/x   --verbose\t-n\n",
	  "1:--target=/x\n1:--verbose\n1:-n\n" },
	{ "   -n   \n", "1:-n\n" },
	{ "-n", "1:-n\n" },
	/* Quotes group blanks and are removed. */
	{ "--ignore='a b' \"--defer=c d\"\n",
	  "1:--ignore=a b\n1:--defer=c d\n" },
	{ "'a''b'\"c\"d\n", "1:abcd\n" },
	{ "''\n", "1:\n" },
	{ "'x\"y' \"x'y\"\n", "1:x\"y\n1:x'y\n" },
	/* Backslash takes the next character outside quotes and in "...". */
	{ "a\\ b c\\\\d \\'e\n", "1:a b\n1:c\\d\n1:'e\n" },
	{ "\"q\\\"d\" \"e\\\\f\"\n", "1:q\"d\n1:e\\f\n" },
	/* The NEWS example of 2.4.1. */
	{ "--ignore=\\\\$FOO\\\\$\n", "1:--ignore=\\$FOO\\$\n" },
	{ "--target=\"$HOME/dir with space\"\n",
	  "1:--target=$HOME/dir with space\n" },
	/* Single quotes keep backslashes (shellwords() leaves
	 * $PERL_SINGLE_QUOTE unset). */
	{ "'a\\\\b' 'c\\.d'\n", "1:a\\\\b\n1:c\\.d\n" },
	{ "'it\\'s'\n", "1:it\\'s\n" },
	/* '#' comment lines; line numbers count every line. */
	{ "# comment --bogus\n-n\n  # indented\n-v\n", "2:-n\n4:-v\n" },
	{ "a\n\n\nb c\n", "1:a\n4:b\n4:c\n" },
	{ "", "" },
	{ "\n\n", "" },
};

START_TEST(rc_words_table)
{
	const struct words_case	*c = &words_cases[_i];
	struct stow_ctx		*ctx;
	struct stow_rc		*rc = NULL;
	char			*got;
	int			 r;

	sb_write("stowrc", c->text);
	ctx = sb_new_ctx();
	r = stow_rc_read(&rc, ctx, sb_path("stowrc"));
	sb_track(rc, SB_RC);
	ck_assert_msg(r == 0, "stow_rc_read: %d: %s", r,
	    stow_ctx_errmsg(ctx));
	ck_assert_ptr_nonnull(rc);
	got = rc_words(rc);
	ck_assert_msg(strcmp(got, c->want) == 0, "words of \"%s\":\n%s\n"
	    "want:\n%s", c->text, got, c->want);
}
END_TEST

START_TEST(rc_accessors_out_of_range)
{
	struct stow_ctx	*ctx;
	struct stow_rc	*rc = NULL;

	sb_write("stowrc", "-n\n");
	ctx = sb_new_ctx();
	ck_assert_int_eq(stow_rc_read(&rc, ctx, sb_path("stowrc")), 0);
	sb_track(rc, SB_RC);
	ck_assert_uint_eq(stow_rc_count(rc), 1);
	ck_assert_str_eq(stow_rc_word(rc, 0), "-n");
	ck_assert_uint_eq(stow_rc_line(rc, 0), 1);
	ck_assert_ptr_null(stow_rc_word(rc, 1));
	ck_assert_uint_eq(stow_rc_line(rc, 1), 0);
	ck_assert_uint_eq(stow_rc_count(NULL), 0);
	ck_assert_ptr_null(stow_rc_word(NULL, 0));
	sb_release(rc);
	stow_rc_free(NULL);
	sb_release(ctx);
}
END_TEST

START_TEST(rc_unbalanced_quote)
{
	static const char *const texts[] = {
		"-n\n--target='oops\n-v\n",
		"-n\n--target=\"oops\n",
		"-n\n'\n",
	};
	struct stow_ctx	*ctx;
	struct stow_rc	*rc;
	char		 want[4200];
	size_t		 i;

	ctx = sb_new_ctx();
	snprintf(want, sizeof(want), "%s:2:", sb_path("stowrc"));
	for (i = 0; i < NELEM(texts); i++) {
		sb_write("stowrc", texts[i]);
		rc = (struct stow_rc *)&rc;
		ck_assert_int_eq(stow_rc_read(&rc, ctx, sb_path("stowrc")),
		    STOW_EINVAL);
		ck_assert_ptr_null(rc);
		ck_assert_msg(strncmp(stow_ctx_errmsg(ctx), want,
		    strlen(want)) == 0, "message \"%s\" does not start with "
		    "\"%s\"", stow_ctx_errmsg(ctx), want);
	}
	sb_release(ctx);
}
END_TEST

START_TEST(rc_missing_file)
{
	struct stow_ctx	*ctx;
	struct stow_rc	*rc;

	ctx = sb_new_ctx();
	rc = (struct stow_rc *)&rc;
	ck_assert_int_eq(stow_rc_read(&rc, ctx, sb_path("no-such-rc")),
	    STOW_ENOTFOUND);
	ck_assert_ptr_null(rc);
	ck_assert_ptr_nonnull(strstr(stow_ctx_errmsg(ctx), "no-such-rc"));
	sb_release(ctx);
}
END_TEST

START_TEST(rc_misuse)
{
	struct stow_rc	*rc;

	ck_assert_int_eq(stow_rc_read(&rc, NULL, "x"), STOW_EMISUSE);
}
END_TEST

static const char *
lookup(const char *name, void *payload)
{
	int	*calls = payload;

	if (calls != NULL)
		(*calls)++;
	if (strcmp(name, "HOME") == 0)
		return "/home/u";
	if (strcmp(name, "FOO") == 0)
		return "bar";
	if (strcmp(name, "EMPTY") == 0)
		return "";
	return NULL;
}

struct expand_case {
	const char	*in;
	const char	*want;
};

static const struct expand_case expand_cases[] = {
	{ "$FOO/x", "bar/x" },
	{ "${FOO}x", "barx" },
	{ "x$FOO", "xbar" },
	{ "$FOO$FOO", "barbar" },
	{ "$EMPTY/x", "/x" },
	{ "\\$FOO", "$FOO" },
	{ "\\${FOO}", "${FOO}" },
	{ "$", "$" },
	{ "a$", "a$" },
	{ "$/x", "$/x" },
	{ "${FOO", "${FOO" },
	{ "${A-B}", "${A-B}" },
	{ "~", "/home/u" },
	{ "~/x", "/home/u/x" },
	{ "~/$FOO", "/home/u/bar" },
	{ "\\~/x", "~/x" },
	{ "a~b", "a~b" },
	{ "x/~", "x/~" },
	{ "~root/x", "/root/x" },
	{ "/plain/path", "/plain/path" },
	{ "", "" },
};

START_TEST(rc_expand_table)
{
	const struct expand_case	*c = &expand_cases[_i];
	struct stow_ctx			*ctx;
	char				*out = NULL;
	int				 r;

	ctx = sb_new_ctx();
	r = stow_expand_path(&out, ctx, c->in, lookup, NULL);
	sb_track(out, SB_FREE);
	ck_assert_msg(r == 0, "stow_expand_path(\"%s\"): %d: %s", c->in, r,
	    stow_ctx_errmsg(ctx));
	ck_assert_ptr_nonnull(out);
	ck_assert_msg(strcmp(out, c->want) == 0, "stow_expand_path(\"%s\") = "
	    "\"%s\", want \"%s\"", c->in, out, c->want);
}
END_TEST

START_TEST(rc_expand_unset_variable)
{
	static const char *const inputs[] = {
		"$NOPE/x", "a/${NOPE}", "~/$NOPE"
	};
	struct stow_ctx	*ctx;
	char		*out;
	size_t		 i;
	int		 calls = 0;

	ctx = sb_new_ctx();
	for (i = 0; i < NELEM(inputs); i++) {
		out = (char *)&out;
		ck_assert_int_eq(stow_expand_path(&out, ctx, inputs[i], lookup,
		    &calls), STOW_EINVAL);
		ck_assert_ptr_null(out);
		ck_assert_msg(strstr(stow_ctx_errmsg(ctx), "NOPE") != NULL,
		    "message \"%s\" does not name NOPE", stow_ctx_errmsg(ctx));
	}
	ck_assert_int_gt(calls, 0);
	/* No lookup at all: every variable is unset. */
	out = NULL;
	ck_assert_int_eq(stow_expand_path(&out, ctx, "$FOO", NULL, NULL),
	    STOW_EINVAL);
	ck_assert_ptr_null(out);
	ck_assert_int_eq(stow_expand_path(&out, NULL, "x", lookup, NULL),
	    STOW_EMISUSE);
	sb_release(ctx);
}
END_TEST

Suite *
rc_suite(void)
{
	Suite	*s = suite_create("rc");
	TCase	*tc = tcase_create("rc");

	tcase_add_checked_fixture(tc, sandbox_setup, sandbox_teardown);
	tcase_add_loop_test(tc, rc_words_table, 0, (int)NELEM(words_cases));
	tcase_add_test(tc, rc_accessors_out_of_range);
	tcase_add_test(tc, rc_unbalanced_quote);
	tcase_add_test(tc, rc_missing_file);
	tcase_add_test(tc, rc_misuse);
	tcase_add_loop_test(tc, rc_expand_table, 0, (int)NELEM(expand_cases));
	tcase_add_test(tc, rc_expand_unset_variable);
	suite_add_tcase(s, tc);
	return s;
}
