/*
 * check_conf.c: lib/conf.c: cstow.conf in git-config syntax, its
 * value checks, the [cstow] fallbacks and the file:line of every error.
 * Each test writes its file into a fresh mkdtemp(3) directory.
 */
#include <sys/stat.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <stow.h>

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

Suite	*conf_suite(void);

static char		 tmpdir[64];
static char		 conf_path[128];
static struct stow_ctx	*ctx;
static struct stow_conf	*conf;

/* The variables the lookup callback knows, name then value. */
static const char	*vars[] = {
	"HOME", "/home/u",
	"XDG", "/x/dg",
	"EMPTY", "",
	NULL
};

static const char *
lookup(const char *name, void *payload)
{
	const char	**v;

	for (v = payload; *v != NULL; v += 2)
		if (strcmp(v[0], name) == 0)
			return v[1];
	return NULL;
}

static void
conf_setup(void)
{
	int	n;

	strlcpy(tmpdir, "/tmp/cstow-conf.XXXXXX", sizeof(tmpdir));
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	n = snprintf(conf_path, sizeof(conf_path), "%s/cstow.conf", tmpdir);
	ck_assert(n > 0 && (size_t)n < sizeof(conf_path));
	ck_assert_ptr_nonnull(ctx = stow_ctx_new());
	conf = NULL;
}

static void
conf_teardown(void)
{
	stow_conf_free(conf);
	conf = NULL;
	stow_ctx_free(ctx);
	ctx = NULL;
	unlink(conf_path);
	rmdir(tmpdir);
}

static void
write_conf(const char *text)
{
	FILE	*fp;

	ck_assert_ptr_nonnull(fp = fopen(conf_path, "w"));
	ck_assert_int_eq(fputs(text, fp) >= 0, 1);
	ck_assert_int_eq(fclose(fp), 0);
}

/* Writes text and reads it back; returns stow_conf_read()'s code. */
static int
read_text(const char *text)
{
	write_conf(text);
	return stow_conf_read(&conf, ctx, conf_path, lookup, vars);
}

static void
read_ok(const char *text)
{
	int	r = read_text(text);

	ck_assert_msg(r == 0, "stow_conf_read: %d: %s", r,
	    stow_ctx_errmsg(ctx));
	ck_assert_ptr_nonnull(conf);
}

/* Asserts that the error names conf_path:suffix. */
static void
assert_error(int r, int want, const char *suffix)
{
	char	expect[512];

	snprintf(expect, sizeof(expect), "%s:%s", conf_path, suffix);
	ck_assert_msg(r == want, "code %d, want %d (%s)", r, want,
	    stow_ctx_errmsg(ctx));
	ck_assert_ptr_null(conf);
	ck_assert_msg(strstr(stow_ctx_errmsg(ctx), expect) != NULL,
	    "message \"%s\" lacks \"%s\"", stow_ctx_errmsg(ctx), expect);
}

/* The values of get_all as "a|b|c". */
static const char *
all(const char *package, const char *key)
{
	static char		 s[512];
	const char *const	*v;
	size_t			 n, i;

	n = stow_conf_get_all(conf, package, key, &v);
	ck_assert_ptr_nonnull(v);
	ck_assert_ptr_null(v[n]);
	s[0] = '\0';
	for (i = 0; i < n; i++) {
		if (i > 0)
			strlcat(s, "|", sizeof(s));
		strlcat(s, v[i], sizeof(s));
	}
	return s;
}

static const char full_example[] =
	"# cstow.conf\n"
	"[cstow]\n"
	"\ttarget = ~                  # default target for every package\n"
	"\tconflict = backup\n"
	"[package \"scripts\"]\n"
	"\ttarget = ~/.local/bin\n"
	"[package \"nvim\"]\n"
	"\treplace = .config/nvim\n"
	"[package \"work\"]\n"
	"\tskip = true\n";

START_TEST(conf_full_example)
{
	read_ok(full_example);
	ck_assert_str_eq(stow_conf_get(conf, NULL, "target"), "/home/u");
	ck_assert_str_eq(stow_conf_get(conf, "scripts", "target"),
	    "/home/u/.local/bin");
	ck_assert_str_eq(stow_conf_get(conf, "nvim", "target"), "/home/u");
	ck_assert_str_eq(stow_conf_get(conf, "nvim", "conflict"), "backup");
	ck_assert_str_eq(stow_conf_get(conf, "scripts", "conflict"),
	    "backup");
	ck_assert_int_eq(stow_conf_bool(conf, "work", "skip", 0), 1);
	ck_assert_int_eq(stow_conf_bool(conf, "nvim", "skip", 0), 0);
	ck_assert_int_eq(stow_conf_bool(conf, "nvim", "skip", 1), 1);
	ck_assert_ptr_null(stow_conf_get(conf, "nvim", "skip"));
	ck_assert_str_eq(all("nvim", "replace"), ".config/nvim");
	ck_assert_str_eq(all("scripts", "replace"), "");
	ck_assert_str_eq(all("nvim", "ignore"), "");
	ck_assert_str_eq(stow_conf_package(conf, 0), "scripts");
	ck_assert_str_eq(stow_conf_package(conf, 1), "nvim");
	ck_assert_str_eq(stow_conf_package(conf, 2), "work");
	ck_assert_ptr_null(stow_conf_package(conf, 3));
}
END_TEST

START_TEST(conf_sections_merge)
{
	read_ok("[package \"b\"]\n"
	    "ignore = x\n"
	    "[package \"a\"]\n"
	    "[package \"b\"]\n"
	    "ignore = y\n"
	    "replace = r1\n"
	    "[cstow]\n"
	    "ignore = g\n"
	    "[package \"b\"]\n"
	    "replace = r2\n");
	ck_assert_str_eq(stow_conf_package(conf, 0), "b");
	ck_assert_str_eq(stow_conf_package(conf, 1), "a");
	ck_assert_ptr_null(stow_conf_package(conf, 2));
	/* [cstow]'s ignore values come first wherever [cstow] is. */
	ck_assert_str_eq(all("b", "ignore"), "g|x|y");
	ck_assert_str_eq(all("a", "ignore"), "g");
	ck_assert_str_eq(all(NULL, "ignore"), "g");
	ck_assert_str_eq(all("unlisted", "ignore"), "g");
	ck_assert_str_eq(stow_conf_get(conf, "b", "ignore"), "y");
	ck_assert_str_eq(stow_conf_get(conf, "a", "ignore"), "g");
	ck_assert_str_eq(all("b", "replace"), "r1|r2");
	ck_assert_str_eq(stow_conf_get(conf, "b", "replace"), "r2");
	ck_assert_str_eq(all(NULL, "replace"), "");
	ck_assert_str_eq(all("a", "replace"), "");
}
END_TEST

START_TEST(conf_last_value_wins)
{
	read_ok("[cstow]\n"
	    "target = /one\n"
	    "target = /two\n"
	    "dotfiles = yes\n"
	    "dotfiles = no\n"
	    "[package \"p\"]\n"
	    "conflict = fail\n"
	    "conflict = adopt\n");
	ck_assert_str_eq(stow_conf_get(conf, NULL, "target"), "/two");
	ck_assert_str_eq(stow_conf_get(conf, "p", "target"), "/two");
	ck_assert_int_eq(stow_conf_bool(conf, NULL, "dotfiles", 1), 0);
	ck_assert_str_eq(stow_conf_get(conf, "p", "conflict"), "adopt");
	/* get_all lists only the repeatable keys. */
	ck_assert_str_eq(all(NULL, "target"), "");
	ck_assert_str_eq(all("p", "conflict"), "");
}
END_TEST

START_TEST(conf_fallbacks)
{
	read_ok("[cstow]\n"
	    "target = /t\n"
	    "conflict = backup\n"
	    "dotfiles\n"
	    "folding = off\n"
	    "backup-dir = /vault\n"
	    "[package \"p\"]\n"
	    "dotfiles = false\n");
	ck_assert_str_eq(stow_conf_get(conf, "p", "target"), "/t");
	ck_assert_str_eq(stow_conf_get(conf, "p", "conflict"), "backup");
	ck_assert_str_eq(stow_conf_get(conf, "p", "backup-dir"), "/vault");
	ck_assert_int_eq(stow_conf_bool(conf, "p", "folding", 1), 0);
	ck_assert_int_eq(stow_conf_bool(conf, "p", "dotfiles", 1), 0);
	ck_assert_int_eq(stow_conf_bool(conf, NULL, "dotfiles", 0), 1);
	/* A package without a section sees [cstow]. */
	ck_assert_str_eq(stow_conf_get(conf, "other", "target"), "/t");
	/* skip and replace never fall back. */
	ck_assert_ptr_null(stow_conf_get(conf, "p", "skip"));
	ck_assert_ptr_null(stow_conf_get(conf, "p", "replace"));
	ck_assert_ptr_null(stow_conf_get(conf, "other", "skip"));
	ck_assert_ptr_null(stow_conf_get(conf, NULL, "skip"));
	/* NULL asks [cstow] alone; unknown keys are unset. */
	ck_assert_ptr_null(stow_conf_get(conf, NULL, "replace"));
	ck_assert_ptr_null(stow_conf_get(conf, NULL, "colour"));
	ck_assert_int_eq(stow_conf_bool(conf, NULL, "target", 7), 7);
}
END_TEST

START_TEST(conf_quoting)
{
	read_ok("[cstow]\n"
	    "\tignore = \"a # b\"        ; a comment\n"
	    "\tignore = a\\\\b\\\"c\n"
	    "\tignore = \"  spaced ;  \"   \n"
	    "\tignore = x\\ty\n"
	    "\tignore = \"q\\n\\t\\\\\\\\\"\n"
	    "\tignore = one \\\n"
	    "\t\ttwo\n"
	    "\tignore = mid\"dle q\"uote\n"
	    "\tignore = tail   # comment \\\n"
	    "\tignore = semi;colon\n"
	    "\tignore = \"cont \\\n"
	    "inued\"\n"
	    "\ttarget = \"/a b\"\n");
	ck_assert_str_eq(all(NULL, "ignore"),
	    "a # b|a\\b\"c|  spaced ;  |x\ty|q\n\t\\\\|one \t\ttwo|"
	    "middle quote|tail|semi|cont inued");
	ck_assert_str_eq(stow_conf_get(conf, NULL, "target"), "/a b");
}
END_TEST

START_TEST(conf_comments_and_layout)
{
	read_ok("; leading comment\n"
	    "\n"
	    "   # indented comment\n"
	    "[cstow]   # trailing comment\n"
	    "target=/t\n"
	    "[package \"p\"] skip\n"
	    "[package \"q\"];comment\n"
	    "  folding   =   on  \n");
	ck_assert_str_eq(stow_conf_get(conf, NULL, "target"), "/t");
	ck_assert_int_eq(stow_conf_bool(conf, "p", "skip", 0), 1);
	ck_assert_int_eq(stow_conf_bool(conf, "q", "folding", 0), 1);
}
END_TEST

START_TEST(conf_crlf_and_bom)
{
	read_ok("\xef\xbb\xbf[cstow]\r\n"
	    "\ttarget = /t \r\n"
	    "\tignore = a\\\r\n"
	    " b\r\n"
	    "[package \"p\"]\r\n"
	    "skip\r\n");
	ck_assert_str_eq(stow_conf_get(conf, NULL, "target"), "/t");
	ck_assert_str_eq(all(NULL, "ignore"), "a b");
	ck_assert_int_eq(stow_conf_bool(conf, "p", "skip", 0), 1);
}
END_TEST

START_TEST(conf_case_insensitive)
{
	read_ok("[CStow]\n"
	    "TARGET = /t\n"
	    "DotFiles = YES\n"
	    "Conflict = Adopt\n"
	    "[PACKAGE \"Nvim\"]\n"
	    "Folding = Off\n"
	    "Skip\n");
	ck_assert_str_eq(stow_conf_get(conf, NULL, "target"), "/t");
	ck_assert_str_eq(stow_conf_get(conf, NULL, "Target"), "/t");
	ck_assert_str_eq(stow_conf_get(conf, NULL, "dotfiles"), "true");
	ck_assert_str_eq(stow_conf_get(conf, NULL, "conflict"), "adopt");
	/* The package name keeps its case. */
	ck_assert_str_eq(stow_conf_package(conf, 0), "Nvim");
	ck_assert_str_eq(stow_conf_get(conf, "Nvim", "folding"), "false");
	ck_assert_ptr_null(stow_conf_get(conf, "nvim", "folding"));
	ck_assert_int_eq(stow_conf_bool(conf, "Nvim", "skip", 0), 1);
	ck_assert_int_eq(stow_conf_bool(conf, "nvim", "skip", 0), 0);
}
END_TEST

struct bool_case {
	const char	*text;
	int		 want;
};

static const struct bool_case bool_cases[] = {
	{ "true", 1 }, { "false", 0 }, { "yes", 1 }, { "no", 0 },
	{ "on", 1 }, { "off", 0 }, { "1", 1 }, { "0", 0 },
	{ "TRUE", 1 }, { "No", 0 }, { "oN", 1 }, { "\"off\"", 0 },
};

START_TEST(conf_booleans)
{
	const struct bool_case	*c = &bool_cases[_i];
	char			 text[128];

	snprintf(text, sizeof(text), "[package \"p\"]\nskip = %s\n",
	    c->text);
	read_ok(text);
	ck_assert_int_eq(stow_conf_bool(conf, "p", "skip", !c->want),
	    c->want);
	ck_assert_str_eq(stow_conf_get(conf, "p", "skip"),
	    c->want ? "true" : "false");
}
END_TEST

START_TEST(conf_expands_paths)
{
	char	want[128];

	read_ok("[cstow]\n"
	    "backup-dir = ${XDG}/vault\n"
	    "target = $HOME/x\n"
	    "[package \"a\"]\n"
	    "target = \"~/with space\"\n"
	    "[package \"b\"]\n"
	    "target = /lit/\\\\$HOME\n"
	    "[package \"c\"]\n"
	    "target = relative/dir\n");
	ck_assert_str_eq(stow_conf_get(conf, NULL, "backup-dir"),
	    "/x/dg/vault");
	ck_assert_str_eq(stow_conf_get(conf, NULL, "target"), "/home/u/x");
	ck_assert_str_eq(stow_conf_get(conf, "a", "target"),
	    "/home/u/with space");
	ck_assert_str_eq(stow_conf_get(conf, "b", "target"), "/lit/$HOME");
	/* Relative to the directory holding cstow.conf. */
	snprintf(want, sizeof(want), "%s/relative/dir", tmpdir);
	ck_assert_str_eq(stow_conf_get(conf, "c", "target"), want);
}
END_TEST

START_TEST(conf_unset_variable)
{
	int	r;

	r = read_text("[cstow]\n\ttarget = $NOPE/x\n");
	assert_error(r, STOW_EINVAL, "2: ");
	ck_assert_ptr_nonnull(strstr(stow_ctx_errmsg(ctx), "NOPE"));
	r = read_text("[cstow]\n\n\tbackup-dir = ${ALSO_UNSET}\n");
	assert_error(r, STOW_EINVAL, "3: ");
	ck_assert_ptr_nonnull(strstr(stow_ctx_errmsg(ctx), "ALSO_UNSET"));
}
END_TEST

struct error_case {
	const char	*text;
	const char	*suffix;	/* after "FILE:" */
};

static const struct error_case error_cases[] = {
	{ "[cstow]\n@bad\n", "2: syntax error" },
	{ "[cstow]\n  = x\n", "2: syntax error" },
	{ "[cstow]\ntarget /x\n", "2: syntax error" },
	{ "[cstow] junk!\n", "1: syntax error" },
	{ "[cstow\n", "1: syntax error" },
	{ "[]\n", "1: syntax error" },
	{ "[package \"p\" x]\n", "1: syntax error" },
	{ "[core]\n", "1: unknown section 'core'" },
	{ "[cstow \"x\"]\n", "1: unknown section 'cstow \"x\"'" },
	{ "[package]\n", "1: section [package] needs a name" },
	{ "\n# c\ntarget = /t\n", "3: key 'target' before any section" },
	{ "[cstow]\nreplace = a\n", "2: unknown key 'replace' in [cstow]" },
	{ "[cstow]\nskip\n", "2: unknown key 'skip' in [cstow]" },
	{ "[package \"nvim\"]\nbackup-dir = /v\n",
	  "2: unknown key 'backup-dir' in [package \"nvim\"]" },
	{ "[package \"nvim\"]\n  Colour = red\n",
	  "2: unknown key 'Colour' in [package \"nvim\"]" },
	{ "[package \"a/b\"]\n", "1: invalid package name 'a/b'" },
	{ "[package \"..\"]\n", "1: invalid package name '..'" },
	{ "[package \".\"]\n", "1: invalid package name '.'" },
	{ "[package \"\"]\n", "1: invalid package name ''" },
	{ "[package \"x\n", "1: unterminated quote" },
	{ "[cstow]\ntarget = \"/abc\n", "2: unterminated quote" },
	{ "[cstow]\nignore = \"a\" \"b\n", "2: unterminated quote" },
	{ "[cstow]\nconflict = merge\n", "2: invalid conflict 'merge'" },
	{ "[cstow]\ndotfiles = maybe\n",
	  "2: invalid boolean 'maybe' for 'dotfiles'" },
	{ "[package \"p\"]\nskip = 2\n", "2: invalid boolean '2' for 'skip'" },
	{ "[package \"p\"]\nskip =\n", "2: empty value for 'skip'" },
	{ "[cstow]\nignore = (unclosed\n", "2: invalid regex" },
	{ "[package \"p\"]\nreplace = /etc/x\n",
	  "2: replace path '/etc/x' is absolute" },
	{ "[package \"p\"]\nreplace = a/../b\n",
	  "2: replace path 'a/../b' contains '..'" },
	{ "[package \"p\"]\nreplace = ..\n",
	  "2: replace path '..' contains '..'" },
	{ "[package \"p\"]\nreplace = ./\n",
	  "2: replace path './' names no file" },
	{ "[package \"p\"]\nreplace =\n", "2: empty value for 'replace'" },
	{ "[cstow]\ntarget = \"\"\n", "2: empty value for 'target'" },
	{ "[cstow]\ntarget\n", "2: missing value for 'target'" },
	{ "[cstow]\ntarget = $EMPTY\n",
	  "2: target '$EMPTY' expands to an empty path" },
	{ "[cstow]\nignore = a\\qb\n", "2: invalid escape '\\q'" },
	/* Continued lines count. */
	{ "[cstow]\nignore = one \\\n  two\nbogus = 1\n",
	  "4: unknown key 'bogus' in [cstow]" },
	{ "[cstow]\r\n\r\nbogus\r\n", "3: unknown key 'bogus' in [cstow]" },
};

START_TEST(conf_errors)
{
	const struct error_case	*c = &error_cases[_i];

	assert_error(read_text(c->text), STOW_EINVAL, c->suffix);
}
END_TEST

START_TEST(conf_missing_file)
{
	struct stow_conf	*c;
	char			 path[256], want[300];
	int			 r;

	snprintf(path, sizeof(path), "%s/nope.conf", tmpdir);
	/* *out is cleared on failure, whatever it held. */
	c = (struct stow_conf *)(void *)path;
	r = stow_conf_read(&c, ctx, path, lookup, vars);
	ck_assert_int_eq(r, STOW_ENOTFOUND);
	ck_assert_ptr_null(c);
	snprintf(want, sizeof(want), "%s: No such file or directory", path);
	ck_assert_str_eq(stow_ctx_errmsg(ctx), want);
}
END_TEST

START_TEST(conf_not_a_file)
{
	int	r;

	r = stow_conf_read(&conf, ctx, tmpdir, lookup, vars);
	ck_assert_int_eq(r, STOW_EOS);
	ck_assert_ptr_null(conf);
	ck_assert_ptr_nonnull(strstr(stow_ctx_errmsg(ctx), tmpdir));
}
END_TEST

START_TEST(conf_empty_file)
{
	read_ok("");
	ck_assert_ptr_null(stow_conf_package(conf, 0));
	ck_assert_ptr_null(stow_conf_get(conf, NULL, "target"));
	ck_assert_str_eq(all("p", "ignore"), "");
}
END_TEST

START_TEST(conf_misuse)
{
	const char *const	*v = NULL;
	struct stow_conf	*c = NULL;

	write_conf("[cstow]\n");
	ck_assert_int_eq(stow_conf_read(NULL, ctx, conf_path, NULL, NULL),
	    STOW_EMISUSE);
	ck_assert_int_eq(stow_conf_read(&c, NULL, conf_path, NULL, NULL),
	    STOW_EMISUSE);
	ck_assert_int_eq(stow_conf_read(&c, ctx, NULL, NULL, NULL),
	    STOW_EINVAL);
	ck_assert_ptr_null(c);
	stow_conf_free(NULL);
	ck_assert_ptr_null(stow_conf_get(NULL, NULL, "target"));
	ck_assert_uint_eq(stow_conf_get_all(NULL, NULL, "ignore", &v), 0);
	ck_assert_ptr_nonnull(v);
	ck_assert_ptr_null(v[0]);
	ck_assert_int_eq(stow_conf_bool(NULL, "p", "skip", 5), 5);
	ck_assert_ptr_null(stow_conf_package(NULL, 0));
	/* No lookup callback: "$VAR" is unset. */
	ck_assert_int_eq(stow_conf_read(&c, ctx, conf_path, NULL, NULL), 0);
	ck_assert_ptr_null(stow_conf_get(c, NULL, "key"));
	ck_assert_ptr_null(stow_conf_get(c, NULL, NULL));
	stow_conf_free(c);
}
END_TEST

Suite *
conf_suite(void)
{
	Suite	*s = suite_create("conf");
	TCase	*tc = tcase_create("conf");

	tcase_add_checked_fixture(tc, conf_setup, conf_teardown);
	tcase_add_test(tc, conf_full_example);
	tcase_add_test(tc, conf_sections_merge);
	tcase_add_test(tc, conf_last_value_wins);
	tcase_add_test(tc, conf_fallbacks);
	tcase_add_test(tc, conf_quoting);
	tcase_add_test(tc, conf_comments_and_layout);
	tcase_add_test(tc, conf_crlf_and_bom);
	tcase_add_test(tc, conf_case_insensitive);
	tcase_add_loop_test(tc, conf_booleans, 0, (int)NELEM(bool_cases));
	tcase_add_test(tc, conf_expands_paths);
	tcase_add_test(tc, conf_unset_variable);
	tcase_add_loop_test(tc, conf_errors, 0, (int)NELEM(error_cases));
	tcase_add_test(tc, conf_missing_file);
	tcase_add_test(tc, conf_not_a_file);
	tcase_add_test(tc, conf_empty_file);
	tcase_add_test(tc, conf_misuse);
	suite_add_tcase(s, tc);
	return s;
}
