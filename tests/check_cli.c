/*
 * check_cli.c: the option parsing of the built cstow (named by the
 * CSTOW environment variable), run in the test's sandbox with HOME set
 * to "<sandbox>/home" and STOW_DIR unset.  Behaviour follows GNU Stow
 * 2.4.1's command line (Getopt::Long with bundling and permute) and
 * its .stowrc handling.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sandbox.h"

extern char **environ;

struct result {
	int	 status;	/* exit status, or 128 + signal */
	char	*out;
	char	*err;
};

static const char *
cstow_path(void)
{
	static char	 path[PATH_MAX];
	const char	*env = getenv("CSTOW");

	if (env == NULL || *env == '\0')
		ck_abort_msg("CSTOW is not set: run the suite as "
		    "CSTOW=cli/cstow tests/check_runner");
	if (realpath(env, path) == NULL)
		ck_abort_msg("CSTOW=%s: %s", env, strerror(errno));
	ck_assert_msg(access(path, X_OK) == 0, "CSTOW=%s is not executable",
	    env);
	return path;
}

static char *
slurp(FILE *fp)
{
	char	*s = sb_append(NULL, "%s", "");
	char	 buf[4096];
	size_t	 n;

	rewind(fp);
	while ((n = fread(buf, 1, sizeof(buf), fp)) > 0)
		s = sb_append(s, "%.*s", (int)n, buf);
	fclose(fp);
	return s;
}

/*
 * Runs cstow with the NULL-terminated args, in the sandbox, with HOME
 * "<sandbox>/home", STOW_DIR unset and the rest of the environment kept.
 */
static struct result
cstow(const char *const *args)
{
	struct result	  r = { -1, NULL, NULL };
	const char	 *path = cstow_path();
	const char	 *argv[64];
	char		**envp, home[PATH_MAX + 8];
	FILE		 *out, *err;
	size_t		  n = 0, i, k = 0;
	pid_t		  pid;
	int		  status;

	snprintf(home, sizeof(home), "HOME=%s", sb_path("home"));
	sb_mkdir("home");
	argv[n++] = "cstow";
	for (; *args != NULL; args++) {
		ck_assert_uint_lt(n, 63);
		argv[n++] = *args;
	}
	argv[n] = NULL;
	for (i = 0; environ[i] != NULL; i++)
		continue;
	envp = sb_track(calloc(i + 2, sizeof(*envp)), SB_FREE);
	ck_assert_ptr_nonnull(envp);
	for (i = 0; environ[i] != NULL; i++)
		if (strncmp(environ[i], "HOME=", 5) != 0 &&
		    strncmp(environ[i], "STOW_DIR=", 9) != 0)
			envp[k++] = environ[i];
	envp[k++] = home;
	envp[k] = NULL;
	out = tmpfile();
	err = tmpfile();
	if (out == NULL || err == NULL) {
		if (out != NULL)
			fclose(out);
		if (err != NULL)
			fclose(err);
		ck_abort_msg("tmpfile: %s", strerror(errno));
	}
	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) == -1) {
		fclose(out);
		fclose(err);
		ck_abort_msg("fork: %s", strerror(errno));
	}
	if (pid == 0) {
		if (chdir(sb_root()) == -1 ||
		    dup2(fileno(out), STDOUT_FILENO) == -1 ||
		    dup2(fileno(err), STDERR_FILENO) == -1)
			_exit(126);
		execve(path, (char *const *)(uintptr_t)argv, envp);
		_exit(127);
	}
	sb_release(envp);
	while (waitpid(pid, &status, 0) == -1)
		ck_assert_msg(errno == EINTR, "waitpid: %s", strerror(errno));
	if (WIFEXITED(status))
		r.status = WEXITSTATUS(status);
	else if (WIFSIGNALED(status))
		r.status = 128 + WTERMSIG(status);
	r.out = sb_track(slurp(out), SB_FREE);
	r.err = sb_track(slurp(err), SB_FREE);
	ck_assert_msg(r.status != 126 && r.status != 127, "could not run %s "
	    "(status %d): %s", path, r.status, r.err);
	return r;
}

#define A(...)	((const char *const []){ __VA_ARGS__, NULL })
#define S(...)	((const char *const []){ __VA_ARGS__, NULL })

#define assert_has(hay, needle)						\
	ck_assert_msg(strstr((hay), (needle)) != NULL,			\
	    "expected \"%s\" in:\n%s", (needle), (hay))
#define assert_lacks(hay, needle)					\
	ck_assert_msg(strstr((hay), (needle)) == NULL,			\
	    "did not expect \"%s\" in:\n%s", (needle), (hay))
#define assert_status(r, want)						\
	ck_assert_msg((r).status == (want), "exit status %d, want %d\n"	\
	    "stdout:\n%s\nstderr:\n%s", (r).status, (want), (r).out, (r).err)

static const char	usage_start[] = "usage: cstow ";
static const char	sim_warning[] = "WARNING: in simulation mode so not "
			    "modifying filesystem.";

/* The usual tree: package a (bin/x), package b (lib/y), target t. */
static void
basic_tree(void)
{
	sb_build(S("f stow/a/bin/x = x", "f stow/b/lib/y = y", "d t",
	    "d home"));
}

START_TEST(cli_bundled_nv)
{
	struct result	 r;
	char		*before, *after;

	basic_tree();
	before = sb_snapshot("");
	r = cstow(A("-nv", "-d", "stow", "-t", "t", "a"));
	assert_status(r, 0);
	assert_has(r.err, "LINK: bin => ../stow/a/bin\n");
	assert_has(r.err, sim_warning);
	/* Level 1 only: no "Planning ..." lines. */
	assert_lacks(r.err, "Planning");
	after = sb_snapshot("");
	ck_assert_str_eq(after, before);
}
END_TEST

/* "-vv" is two bundled -v (level 2), "-nvt DIR" takes the argument. */
START_TEST(cli_bundled_vv_and_argument)
{
	struct result	r;

	basic_tree();
	r = cstow(A("-nvv", "-d", "stow", "-t", "t", "a"));
	assert_status(r, 0);
	assert_has(r.err, "LINK: bin => ../stow/a/bin\n");
	assert_has(r.err, "Planning stow of package a...");
	r = cstow(A("-nvt", "t", "-d", "stow", "a"));
	assert_status(r, 0);
	assert_has(r.err, "LINK: bin => ../stow/a/bin\n");
	sb_assert_absent("t/bin");
}
END_TEST

/* Options may follow package names (Getopt::Long's permute). */
START_TEST(cli_options_after_packages)
{
	struct result	r;

	basic_tree();
	r = cstow(A("a", "-t", "t", "-d", "stow"));
	assert_status(r, 0);
	sb_assert_link("t/bin", "../stow/a/bin");
	sb_assert_absent("bin");
}
END_TEST

/* -D and -S switch the action for the packages that follow. */
START_TEST(cli_delete_then_stow_ordering)
{
	struct result	r;

	basic_tree();
	sb_symlink("t/bin", "../stow/a/bin");
	r = cstow(A("-d", "stow", "-t", "t", "-D", "a", "-S", "b"));
	assert_status(r, 0);
	sb_assert_absent("t/bin");
	sb_assert_link("t/lib", "../stow/b/lib");

	/* The other way round: a stowed again, b unstowed. */
	r = cstow(A("-d", "stow", "-t", "t", "-S", "a", "-D", "b"));
	assert_status(r, 0);
	sb_assert_link("t/bin", "../stow/a/bin");
	sb_assert_absent("t/lib");

	/* Several packages may follow one action. */
	r = cstow(A("-d", "stow", "-t", "t", "-D", "a", "b"));
	assert_status(r, 0);
	sb_assert_absent("t/bin");
	sb_assert_absent("t/lib");

	/* -R unstows then stows: here it just stows. */
	r = cstow(A("-d", "stow", "-t", "t", "-R", "a"));
	assert_status(r, 0);
	sb_assert_link("t/bin", "../stow/a/bin");
}
END_TEST

/* Long options may be abbreviated while unambiguous. */
START_TEST(cli_sim_prefix)
{
	struct result	 r;
	char		*before, *after;

	basic_tree();
	before = sb_snapshot("");
	r = cstow(A("--sim", "--verb", "--targ=t", "--di=stow", "a"));
	assert_status(r, 0);
	assert_has(r.err, "LINK: bin => ../stow/a/bin\n");
	assert_has(r.err, sim_warning);
	after = sb_snapshot("");
	ck_assert_str_eq(after, before);

	/* "--no" is an option of its own, not an ambiguous prefix. */
	r = cstow(A("--no", "-d", "stow", "-t", "t", "a"));
	assert_status(r, 0);
	assert_has(r.err, sim_warning);

	/* "--de" could be --defer or --delete (GNU Stow 2.4.1's words). */
	r = cstow(A("--de", "stow", "-d", "stow", "-t", "t", "a"));
	assert_status(r, 1);
	assert_has(r.err, "Option de is ambiguous (defer, delete)\n");
	assert_has(r.err, usage_start);
	after = sb_snapshot("");
	ck_assert_str_eq(after, before);

	/* As in GNU Stow, "--d" is -d (each one-letter option has a long
	 * form), not a prefix of --defer, --delete, --dir or --dotfiles. */
	r = cstow(A("--n", "--d", "stow", "--t", "t", "a"));
	assert_status(r, 0);
	assert_has(r.err, sim_warning);
	after = sb_snapshot("");
	ck_assert_str_eq(after, before);
}
END_TEST

/* "-v 3" sets level 3: the number is not a package. */
START_TEST(cli_verbose_number_consumed)
{
	struct result	r;

	basic_tree();
	r = cstow(A("-n", "-v", "3", "-d", "stow", "-t", "t", "a"));
	assert_status(r, 0);
	assert_lacks(r.err, "package 3");
	assert_has(r.err, "LINK: bin => ../stow/a/bin\n");
	assert_has(r.err, "Planning stow of package a...");
	assert_has(r.err, "Stowing contents of");

	r = cstow(A("-n", "-v3", "-d", "stow", "-t", "t", "a"));
	assert_status(r, 0);
	assert_has(r.err, "Stowing contents of");

	/* A following word that is not a number is a package. */
	r = cstow(A("-n", "-d", "stow", "-t", "t", "-v", "a"));
	assert_status(r, 0);
	assert_has(r.err, "LINK: bin => ../stow/a/bin\n");
	assert_lacks(r.err, "Planning");
}
END_TEST

START_TEST(cli_verbose_equals)
{
	struct result	r;

	basic_tree();
	r = cstow(A("-n", "--verbose=2", "-d", "stow", "-t", "t", "a"));
	assert_status(r, 0);
	assert_has(r.err, "LINK: bin => ../stow/a/bin\n");
	assert_has(r.err, "Planning stow of package a...");
	assert_lacks(r.err, "Stowing contents of");

	/* --verbose=0 after -v silences the operations again. */
	r = cstow(A("-n", "-v", "--verbose=0", "-d", "stow", "-t", "t", "a"));
	assert_status(r, 0);
	assert_lacks(r.err, "LINK:");

	r = cstow(A("-n", "--verbose=x", "-d", "stow", "-t", "t", "a"));
	assert_status(r, 1);
}
END_TEST

/* After "--" every word is a package, even one starting with '-'. */
START_TEST(cli_double_dash)
{
	struct result	r;

	basic_tree();
	sb_write("stow/-x/f", "f");
	r = cstow(A("-d", "stow", "-t", "t", "--", "-x", "a"));
	assert_status(r, 0);
	sb_assert_link("t/f", "../stow/-x/f");
	sb_assert_link("t/bin", "../stow/a/bin");
}
END_TEST

START_TEST(cli_help_stdout)
{
	struct result	r;

	r = cstow(A("--help"));
	assert_status(r, 0);
	ck_assert_msg(strncmp(r.out, usage_start, strlen(usage_start)) == 0,
	    "stdout does not start with the usage:\n%s", r.out);
	assert_has(r.out, "--dotfiles");
	ck_assert_str_eq(r.err, "");

	r = cstow(A("-h", "no-such-package"));
	assert_status(r, 0);
	assert_has(r.out, usage_start);
}
END_TEST

START_TEST(cli_unknown_option)
{
	struct result	 r;
	char		*before, *after;

	basic_tree();
	before = sb_snapshot("");
	r = cstow(A("--bogus", "-d", "stow", "-t", "t", "a"));
	assert_status(r, 1);
	assert_has(r.err, "bogus");
	assert_has(r.err, usage_start);
	ck_assert_str_eq(r.out, "");

	r = cstow(A("-X", "-d", "stow", "-t", "t", "a"));
	assert_status(r, 1);
	assert_has(r.err, usage_start);
	ck_assert_str_eq(r.out, "");

	/* A missing argument is a usage error too. */
	r = cstow(A("-d", "stow", "a", "-t"));
	assert_status(r, 1);
	assert_has(r.err, usage_start);
	after = sb_snapshot("");
	ck_assert_str_eq(after, before);
}
END_TEST

START_TEST(cli_no_packages)
{
	struct result	r;

	basic_tree();
	r = cstow(A("-d", "stow", "-t", "t"));
	assert_status(r, 1);
	assert_has(r.err, "No packages to stow or unstow");
	assert_has(r.err, usage_start);

	/* -D alone names no package either. */
	r = cstow(A("-d", "stow", "-t", "t", "-D"));
	assert_status(r, 1);
	assert_has(r.err, "No packages to stow or unstow");
}
END_TEST

START_TEST(cli_slash_in_package)
{
	struct result	 r;
	char		*before, *after;

	basic_tree();
	sb_write("stow/a/b/c", "c");
	before = sb_snapshot("");
	r = cstow(A("-d", "stow", "-t", "t", "b", "a/b"));
	assert_status(r, 2);
	assert_has(r.err, "Slashes are not permitted in package names");
	after = sb_snapshot("");
	ck_assert_str_eq(after, before);

	/* A trailing slash (shell completion) is fine. */
	r = cstow(A("-d", "stow", "-t", "t", "a/"));
	assert_status(r, 0);
	sb_assert_link("t/bin", "../stow/a/bin");
}
END_TEST

START_TEST(cli_conflict_exit_1)
{
	struct result	 r;
	char		*before, *after;

	basic_tree();
	sb_write("t/lib", "mine");
	before = sb_snapshot("");
	r = cstow(A("-d", "stow", "-t", "t", "a", "b"));
	assert_status(r, 1);
	assert_has(r.err, "WARNING! stowing b would cause conflicts:\n");
	assert_has(r.err, "All operations aborted.\n");
	after = sb_snapshot("");
	ck_assert_str_eq(after, before);
}
END_TEST

START_TEST(cli_missing_package_exit_2)
{
	struct result	r;

	basic_tree();
	r = cstow(A("-d", "stow", "-t", "t", "nope"));
	assert_status(r, 2);
	assert_has(r.err, "nope");
}
END_TEST

/*
 * ~/.stowrc is read, then ./.stowrc: a later --target wins, --ignore
 * lists accumulate, '#' lines are comments.
 */
START_TEST(cli_rc_local_wins_ignore_accumulates)
{
	struct result	 r;
	char		*text;

	sb_build(S("f stow/a/foo", "f stow/a/bar", "f stow/a/baz",
	    "f stow/a/qux", "d t1", "d t2", "d t3"));
	text = sb_track(sb_append(NULL, "--target=%s\n--ignore=foo\n",
	    sb_path("t1")), SB_FREE);
	sb_write("home/.stowrc", text);
	text = sb_track(sb_append(NULL, "# a comment line --target=/nowhere\n"
	    "--target=%s\n  --ignore=bar\n", sb_path("t2")), SB_FREE);
	sb_write(".stowrc", text);
	r = cstow(A("-d", "stow", "--ignore=qux", "a"));
	assert_status(r, 0);
	sb_assert_link("t2/baz", "../stow/a/baz");
	sb_assert_absent("t2/foo");
	sb_assert_absent("t2/bar");
	sb_assert_absent("t2/qux");
	sb_assert_absent("t1/baz");

	/* The command line wins over both files. */
	r = cstow(A("-d", "stow", "-t", "t3", "a"));
	assert_status(r, 0);
	sb_assert_link("t3/baz", "../stow/a/baz");
	sb_assert_absent("t3/foo");
}
END_TEST

/* Actions and package names in a .stowrc are ignored. */
START_TEST(cli_rc_actions_and_packages_ignored)
{
	struct result	r;

	basic_tree();
	sb_write(".stowrc", "-D\nzzz\n-S b\n--target=t\n");
	r = cstow(A("-d", "stow", "a"));
	assert_status(r, 0);
	assert_lacks(r.err, "zzz");
	sb_assert_link("t/bin", "../stow/a/bin");
	sb_assert_absent("t/lib");
}
END_TEST

/* --dir and --target from a .stowrc expand ~ and $VAR. */
START_TEST(cli_rc_expands_paths)
{
	struct result	r;

	sb_build(S("f stow/a/x", "d home/t", "f home/mystow/b/y"));
	sb_write("home/.stowrc", "--target=~/t\n--dir=\"$HOME/mystow\"\n");
	r = cstow(A("b"));
	assert_status(r, 0);
	sb_assert_link("home/t/y", "../mystow/b/y");

	sb_write(".stowrc", "--target=$CSTOW_TEST_UNSET_VARIABLE/t\n");
	r = cstow(A("b"));
	ck_assert_int_ne(r.status, 0);
	assert_has(r.err, "CSTOW_TEST_UNSET_VARIABLE");
}
END_TEST

/* A bad option in a .stowrc is reported as FILE:LINE. */
START_TEST(cli_rc_bad_option_file_line)
{
	struct result	 r;
	char		*want;

	basic_tree();
	sb_write(".stowrc", "# comment\n--target=t\n\n  --bogus\n");
	r = cstow(A("-d", "stow", "a"));
	assert_status(r, 1);
	assert_has(r.err, ".stowrc:4:");
	assert_has(r.err, "bogus");
	sb_assert_absent("t/bin");

	sb_write(".stowrc", "--target=t\n");
	sb_write("home/.stowrc", "-n\n--verbose=1 --ignore\n");
	r = cstow(A("-d", "stow", "a"));
	assert_status(r, 1);
	want = sb_track(sb_append(NULL, "%s:2:", sb_path("home/.stowrc")),
	    SB_FREE);
	assert_has(r.err, want);

	sb_write("home/.stowrc", "--target='t\n");
	r = cstow(A("-d", "stow", "a"));
	ck_assert_int_ne(r.status, 0);
	want = sb_track(sb_append(NULL, "%s:1:", sb_path("home/.stowrc")),
	    SB_FREE);
	assert_has(r.err, want);
}
END_TEST

Suite *
cli_suite(void)
{
	Suite	*s = suite_create("cli");
	TCase	*tc = tcase_create("cli");

	tcase_add_checked_fixture(tc, sandbox_setup, sandbox_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, cli_bundled_nv);
	tcase_add_test(tc, cli_bundled_vv_and_argument);
	tcase_add_test(tc, cli_options_after_packages);
	tcase_add_test(tc, cli_delete_then_stow_ordering);
	tcase_add_test(tc, cli_sim_prefix);
	tcase_add_test(tc, cli_verbose_number_consumed);
	tcase_add_test(tc, cli_verbose_equals);
	tcase_add_test(tc, cli_double_dash);
	tcase_add_test(tc, cli_help_stdout);
	tcase_add_test(tc, cli_unknown_option);
	tcase_add_test(tc, cli_no_packages);
	tcase_add_test(tc, cli_slash_in_package);
	tcase_add_test(tc, cli_conflict_exit_1);
	tcase_add_test(tc, cli_missing_package_exit_2);
	tcase_add_test(tc, cli_rc_local_wins_ignore_accumulates);
	tcase_add_test(tc, cli_rc_actions_and_packages_ignored);
	tcase_add_test(tc, cli_rc_expands_paths);
	tcase_add_test(tc, cli_rc_bad_option_file_line);
	suite_add_tcase(s, tc);
	return s;
}
