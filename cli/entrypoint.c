/*
 * cstow-entrypoint: a container ENTRYPOINT that links a dotfiles
 * repository into $HOME with libstow, in process, then becomes the
 * container's command (execvp), so that the command is PID 1, receives
 * signals directly and its exit status is the container's.
 *
 * It is configured by the environment (CSTOW_*) and the repository's
 * cstow.conf, and never stops the container from starting unless
 * CSTOW_STRICT=1 asks for that.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <stow.h>

#include "bootstrap.h"
#include "check.h"
#include "runas.h"
#include "display.h"

static const char usage_line[] =
    "usage: %s [--] [COMMAND [ARG ...]]\n"
    "       %s --check\n";

/* The environment, read once. */
struct env {
	char		*home;
	char		*dir;		/* CSTOW_DIR */
	const char	*target;	/* CSTOW_TARGET, NULL if unset */
	const char	*packages;	/* CSTOW_PACKAGES, NULL: all */
	enum policy	 policy;	/* CSTOW_CONFLICT */
	int		 policy_set;
	int		 strict;	/* CSTOW_STRICT */
	int		 quiet;		/* CSTOW_QUIET */
	int		 set_aside;	/* CSTOW_SET_ASIDE_JOURNAL */
};

static void
help(void)
{
	printf(usage_line, getprogname(), getprogname());
	printf(
"\n"
"Link the packages of a dotfiles repository into $HOME, then run COMMAND\n"
"in place of this process (exec).  Without COMMAND, exit with the status\n"
"of the linking.  --check links nothing: it says whether the packages a\n"
"start links are linked, and exits 0 if so, else 1 (a health check).\n"
"\n"
"Environment:\n"
"  CSTOW_DIR       the dotfiles repository (default: $HOME/dotfiles)\n"
"  CSTOW_TARGET    the default target (default: $HOME, or cstow.conf's)\n"
"  CSTOW_PACKAGES  packages to link, space-separated (default: all)\n"
"  CSTOW_CONFLICT  fail, adopt or backup (default: backup)\n"
"  CSTOW_STRICT    1: do not run COMMAND when linking fails (default: 0)\n"
"  CSTOW_QUIET     1: print nothing but errors (default: 0)\n"
"  CSTOW_SET_ASIDE_JOURNAL  1: keep a killed run's journal that cannot\n"
"                  be undone aside, and go on (default: 0)\n"
"\n"
"The repository's cstow.conf sets per-package targets, replacements and\n"
"policies.  See cstow-entrypoint(1).\n");
	exit(EXIT_OK);
}

static int
env_flag(const char *name)
{
	const char	*v = getenv(name);

	return v != NULL && strcmp(v, "1") == 0;
}

/* Reads CSTOW_*; returns -1 (message printed) for a bad value. */
static int
read_env(struct env *e)
{
	struct passwd	*pw;
	const char	*v;

	memset(e, 0, sizeof(*e));
	if ((v = getenv("HOME")) == NULL || *v == '\0') {
		if ((pw = getpwuid(getuid())) == NULL) {
			display_printf(stderr, "%s: HOME is not set\n",
			    getprogname());
			return -1;
		}
		v = pw->pw_dir;
	}
	e->home = xstrdup(v);
	if ((v = getenv("CSTOW_DIR")) != NULL && *v != '\0')
		e->dir = xstrdup(v);
	else if (asprintf(&e->dir, "%s/dotfiles", e->home) == -1)
		return -1;
	if ((v = getenv("CSTOW_TARGET")) != NULL && *v != '\0')
		e->target = v;
	/* Blank means unset: every package. */
	if ((v = getenv("CSTOW_PACKAGES")) != NULL &&
	    v[strspn(v, " \t\n")] != '\0')
		e->packages = v;
	/* Read first: a bad value below must honour CSTOW_STRICT. */
	e->strict = env_flag("CSTOW_STRICT");
	e->quiet = env_flag("CSTOW_QUIET");
	e->set_aside = env_flag("CSTOW_SET_ASIDE_JOURNAL");
	e->policy = POLICY_BACKUP;
	if ((v = getenv("CSTOW_CONFLICT")) != NULL && *v != '\0') {
		if (parse_policy(v, &e->policy) == -1) {
			display_printf(stderr, "%s: CSTOW_CONFLICT must be fail, adopt "
			    "or backup, not '%s'\n", getprogname(), v);
			return -1;
		}
		e->policy_set = 1;
	}
	return 0;
}

/* Adds the packages named in CSTOW_PACKAGES, or all of them. */
static int
add_packages(struct run *r, const struct env *e,
    const struct stow_conf *conf)
{
	char	*copy, *word, *save = NULL;

	if (e->packages == NULL)
		return run_all_packages(r, conf, 0, 1);
	copy = xstrdup(e->packages);
	for (word = strtok_r(copy, " \t\n", &save); word != NULL;
	    word = strtok_r(NULL, " \t\n", &save))
		run_add_job(r, word)->stow = 1;
	free(copy);
	return EXIT_OK;
}

static int
cancelled(void *payload)
{
	(void)payload;
	return cli_interrupted;
}

static double
elapsed_ms(const struct timespec *t0)
{
	struct timespec	t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) * 1e3 +
	    (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

/* The repository's cstow.conf; *bad set when it exists but is wrong. */
static struct stow_conf *
load_conf(const struct env *e, int *bad)
{
	struct stow_conf	*conf = NULL;
	struct stow_ctx		*ctx;
	char			*path;
	int			 rc;

	*bad = 0;
	if ((ctx = stow_ctx_new()) == NULL ||
	    asprintf(&path, "%s/cstow.conf", e->dir) == -1) {
		stow_ctx_free(ctx);
		*bad = 1;
		return NULL;
	}
	rc = stow_conf_read(&conf, ctx, path, env_lookup, NULL);
	if (rc != 0 && rc != STOW_ENOTFOUND) {
		display_printf(stderr, "%s: %s\n", getprogname(),
		    stow_ctx_errmsg(ctx));
		*bad = 1;
	}
	free(path);
	stow_ctx_free(ctx);
	return conf;
}

static void
summary(const struct run *r, const struct env *e, double ms)
{
	if (e->quiet)
		return;
	if (r->backed_up > 0)
		display_printf(stderr, "%s: linked %zu, backed up %zu to %s, "
		    "unchanged %zu, %.1f ms\n", getprogname(), r->linked,
		    r->backed_up, r->vault, r->unchanged, ms);
	else
		display_printf(stderr, "%s: linked %zu, backed up 0, unchanged %zu, "
		    "%.1f ms\n", getprogname(), r->linked, r->unchanged, ms);
}

/*
 * As root, becomes the user whose home it is, or else whose repository
 * (runas.c), before cstow.conf is read; sets r's program and stow
 * directory.  Returns an exit code (the message printed).
 */
static int
become_user(const struct env *e, struct run *r)
{
	struct runas	ra;
	int		rc;

	memset(&ra, 0, sizeof(ra));
	rc = geteuid() == 0 && (runas_note(&ra, getprogname(), e->home, 1) ==
	    -1 || runas_become(&ra, getprogname()) == -1);
	runas_free(&ra);
	r->prog = getprogname();
	r->stow_dir = e->dir;
	if (rc || run_as_user(r, NULL) != EXIT_OK)
		return EXIT_ERROR;
	return EXIT_OK;
}

/* Links the repository; returns an exit code. */
static int
bootstrap(const struct env *e, const struct timespec *t0)
{
	struct stow_conf	*conf;
	struct run		 r;
	int			 rc, bad;

	memset(&r, 0, sizeof(r));
	if (become_user(e, &r) != EXIT_OK)
		return EXIT_ERROR;
	conf = load_conf(e, &bad);
	if (bad)
		return EXIT_USAGE;
	r.home = e->home;
	r.quiet = e->quiet;
	r.set_aside = e->set_aside;
	r.cancel = cancelled;
	r.backup_dir = conf != NULL ? stow_conf_get(conf, NULL,
	    "backup-dir") : NULL;
	if ((rc = add_packages(&r, e, conf)) == EXIT_OK) {
		run_apply_conf(&r, conf, e->policy_set ? e->policy :
		    POLICY_UNSET, "backup", e->target, e->home);
		if ((rc = run_as_user(&r, NULL)) == EXIT_OK)
			rc = run_plan_and_apply(&r);
	}
	if (rc == EXIT_OK)
		summary(&r, e, elapsed_ms(t0));
	run_free(&r);
	stow_conf_free(conf);
	return rc;
}

/* --check's report on the packages a start would link (check()). */
static int
check_linked(const struct env *e)
{
	struct stow_conf	*conf;
	struct run		 r;
	int			 rc, bad;

	/* Read as the user a start would link as, as cstow --check does. */
	memset(&r, 0, sizeof(r));
	if (become_user(e, &r) != EXIT_OK) {
		run_free(&r);
		return EXIT_ERROR;
	}
	conf = load_conf(e, &bad);
	r.home = e->home;
	if (bad)
		rc = EXIT_USAGE;
	else if ((rc = add_packages(&r, e, conf)) == EXIT_OK) {
		run_apply_conf(&r, conf, e->policy_set ? e->policy :
		    POLICY_UNSET, "backup", e->target, e->home);
		if ((rc = run_as_user(&r, NULL)) == EXIT_OK)
			rc = check_packages(&r, e->packages == NULL, 0);
	}
	run_free(&r);
	stow_conf_free(conf);
	return rc;
}

/*
 * --check: a health check that agrees with a start.  It reads the same
 * environment and cstow.conf, takes the same packages with the same
 * targets, and reports on them as cstow --check does, changing
 * nothing.  A repository that does not exist is healthy: a start links
 * nothing then and runs the command.  Exits 0 when every package is
 * linked and no link into the repository dangles, else 1, whatever the
 * reason: Docker reserves a health check's status 2.
 */
static int
check(int argc)
{
	struct stat	st;
	struct env	e;
	int		rc;

	if (argc > 2) {
		fprintf(stderr, usage_line, getprogname(), getprogname());
		return 1;
	}
	if (read_env(&e) == -1)
		rc = EXIT_USAGE;
	else if (stat(e.dir, &st) == -1 || !S_ISDIR(st.st_mode)) {
		if (!e.quiet)
			display_printf(stderr, "%s: no dotfiles directory at %s; "
			    "nothing to check\n", getprogname(), e.dir);
		rc = EXIT_OK;
	} else
		rc = check_linked(&e);
	free(e.home);
	free(e.dir);
	return rc == EXIT_OK ? 0 : 1;
}

static pid_t	child;

/* In the parent, a signal goes on to the child doing the linking, and
 * is remembered: the container is being stopped. */
static void
forward(int sig)
{
	cli_interrupted = sig;
	if (child > 0)
		kill(child, sig);
}

/*
 * Run as root, the linking is done by a child process, which becomes
 * the user whose home and files these are (runas.c), while this
 * process keeps root's credentials for the command it then becomes.
 * Returns the child's exit code.
 */
static int
bootstrap_apart(const struct env *e, const struct timespec *t0)
{
	struct sigaction	sa;
	int			status;

	fflush(NULL);
	if ((child = fork()) == -1) {
		display_printf(stderr, "%s: fork: %s\n", getprogname(),
		    strerror(errno));
		return EXIT_ERROR;
	}
	if (child == 0) {
		cli_catch_signals();
		_exit(bootstrap(e, t0));
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = forward;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	while (waitpid(child, &status, 0) == -1)
		if (errno != EINTR) {
			display_printf(stderr, "%s: waitpid: %s\n", getprogname(),
			    strerror(errno));
			return EXIT_ERROR;
		}
	sa.sa_handler = SIG_DFL;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	child = 0;
	return WIFEXITED(status) ? WEXITSTATUS(status) : EXIT_ERROR;
}

/* Becomes the command, as a shell would (127: not found, 126: not
 * executable). */
static int
exec_command(char **argv)
{
	execvp(argv[0], argv);
	display_printf(stderr, "%s: %s: %s\n", getprogname(), argv[0],
	    strerror(errno));
	return errno == ENOENT ? 127 : 126;
}

int
main(int argc, char *argv[])
{
	struct timespec	 t0;
	struct stat	 st;
	struct env	 e;
	char		**cmd;
	int		 rc;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (argc > 1 && (strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "--help") == 0))
		help();
	if (argc > 1 && (strcmp(argv[1], "-V") == 0 ||
	    strcmp(argv[1], "--version") == 0)) {
		printf("%s (libstow) version %s\n", getprogname(),
		    stow_version_string());
		return EXIT_OK;
	}
	if (argc > 1 && strcmp(argv[1], "--check") == 0)
		return check(argc);
	cmd = argc > 1 && strcmp(argv[1], "--") == 0 ? argv + 2 : argv + 1;
	if (read_env(&e) == -1)
		rc = EXIT_USAGE;
	else if (stat(e.dir, &st) == -1 || !S_ISDIR(st.st_mode)) {
		if (!e.quiet)
			display_printf(stderr, "%s: no dotfiles directory at %s; "
			    "nothing to link\n", getprogname(), e.dir);
		rc = EXIT_OK;
	} else if (geteuid() == 0)
		rc = bootstrap_apart(&e, &t0);
	else {
		cli_catch_signals();
		rc = bootstrap(&e, &t0);
	}
	/* Stopped while linking (docker stop): the command is not
	 * started, and the status says by what. */
	if (cli_interrupted) {
		if (*cmd != NULL)
			display_printf(stderr, "%s: stopped by signal %d; not starting "
			    "%s\n", getprogname(), (int)cli_interrupted, *cmd);
		free(e.home);
		free(e.dir);
		return 128 + (int)cli_interrupted;
	}
	if (rc != EXIT_OK && !e.strict && *cmd != NULL)
		display_printf(stderr, "%s: linking failed; starting %s anyway "
		    "(CSTOW_STRICT=1 stops here)\n", getprogname(), *cmd);
	free(e.home);
	free(e.dir);
	if (*cmd == NULL || (rc != EXIT_OK && e.strict))
		return rc;
	return exec_command(cmd);
}
