/*
 * cstow: GNU Stow's command line on top of libstow.  Everything the
 * user sees is decided here: option parsing, .stowrc files, messages
 * and exit codes.
 */
#include <sys/stat.h>

#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <stow.h>

/* Exit codes, GNU Stow's where it has them. */
#define EXIT_OK		0
#define EXIT_CONFLICT	1	/* conflicts, or a usage error */
#define EXIT_USAGE	1
#define EXIT_ERROR	2	/* anything else */

enum action { ACT_STOW, ACT_UNSTOW, ACT_RESTOW };

struct strlist {
	char	**v;
	size_t	  n;
};

struct options {
	char		*dir;
	char		*target;
	int		 verbose;
	int		 verbose_set;
	int		 simulate;
	unsigned int	 flags;
	struct strlist	 ignore, defer, override;
	struct strlist	 unstow, stow;		/* packages */
};

/* Where the words being parsed come from, for error messages. */
struct source {
	const char		*file;	/* NULL: the command line */
	const struct stow_rc	*rc;
};

static volatile sig_atomic_t	interrupted;

static const char usage_line[] =
    "usage: %s [OPTION ...] [-D|-S|-R] PACKAGE ... [-D|-S|-R] PACKAGE ...\n";

static void usage_error(const char *, ...)
    __attribute__((format(printf, 1, 2), noreturn));
static void bad_option(const struct source *, int, const char *, ...)
    __attribute__((format(printf, 3, 4), noreturn));

static void
usage_error(const char *fmt, ...)
{
	va_list	ap;

	fprintf(stderr, "%s: ", getprogname());
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fprintf(stderr, usage_line, getprogname());
	exit(EXIT_USAGE);
}

static void
help(void)
{
	printf(usage_line, getprogname());
	printf(
"\n"
"Manage a farm of symbolic links: make the files of each PACKAGE in the\n"
"stow directory appear in the target directory (GNU Stow compatible).\n"
"\n"
"  -d, --dir=DIR         set the stow directory (default: $STOW_DIR, else\n"
"                        the current directory)\n"
"  -t, --target=DIR      set the target (default: parent of the stow dir)\n"
"\n"
"  -S, --stow            stow the packages that follow (the default)\n"
"  -D, --delete          unstow the packages that follow\n"
"  -R, --restow          unstow, then stow again (prunes stale links)\n"
"\n"
"      --ignore=REGEX    ignore files ending in this Perl regex\n"
"      --defer=REGEX     do not stow files beginning with this Perl regex\n"
"                        if they are already stowed from another package\n"
"      --override=REGEX  stow files beginning with this Perl regex even\n"
"                        if they are already stowed from another package\n"
"      --adopt           move files in the way into the package, then link\n"
"                        them (changes the package: use with care)\n"
"      --no-folding      make directories instead of folding them into links\n"
"      --dotfiles        stow \"dot-X\" entries as \".X\"\n"
"  -p, --compat          unstow by walking the target (legacy algorithm)\n"
"\n"
"  -n, --no, --simulate  show what would happen; change nothing\n"
"  -v, --verbose[=N]     more output (-v adds 1; --verbose=N sets 0..5)\n"
"  -V, --version         print the program and library versions\n"
"  -h, --help            print this help\n"
"\n"
"Options are also read from ~/.stowrc and ./.stowrc.  Exit status: 0 done,\n"
"1 conflicts or usage error, 2 other errors.  See cstow(1).\n");
	exit(EXIT_OK);
}

static void
version(void)
{
	printf("%s (libstow) version %s\n", getprogname(),
	    stow_version_string());
	printf("libstow %s, built with stow.h %s\n", stow_version_string(),
	    STOW_VERSION_STRING);
	exit(EXIT_OK);
}

static void *
xrealloc(void *p, size_t n, size_t size)
{
	if ((p = reallocarray(p, n, size)) == NULL) {
		fprintf(stderr, "%s: out of memory\n", getprogname());
		exit(EXIT_ERROR);
	}
	return p;
}

static char *
xstrdup(const char *s)
{
	char	*p;

	if ((p = strdup(s)) == NULL) {
		fprintf(stderr, "%s: out of memory\n", getprogname());
		exit(EXIT_ERROR);
	}
	return p;
}

static void
strlist_add(struct strlist *l, const char *s)
{
	l->v = xrealloc(l->v, l->n + 1, sizeof(*l->v));
	l->v[l->n++] = xstrdup(s);
}

static void
strlist_free(struct strlist *l)
{
	size_t	i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/* Reports a bad option in words[idx] of src and exits. */
static void
bad_option(const struct source *src, int idx, const char *fmt, ...)
{
	va_list	ap;

	fprintf(stderr, "%s: ", getprogname());
	if (src->file != NULL)
		fprintf(stderr, "%s:%u: ", src->file,
		    stow_rc_line(src->rc, (size_t)idx - 1));
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (src->file == NULL)
		fprintf(stderr, usage_line, getprogname());
	exit(EXIT_USAGE);
}

static void
add_package(struct options *o, enum action act, const char *pkg)
{
	if (act != ACT_STOW)
		strlist_add(&o->unstow, pkg);
	if (act != ACT_UNSTOW)
		strlist_add(&o->stow, pkg);
}

static int
all_digits(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

static int
verbosity(const char *arg, const struct source *src, int idx)
{
	const char	*errstr;
	int		 n;

	n = (int)strtonum(arg, 0, INT_MAX, &errstr);
	if (errstr != NULL)
		bad_option(src, idx, "invalid verbosity level '%s'", arg);
	return n;
}

/*
 * GNU Stow's -v takes a number only when one follows: "-v3" or "-v 3"
 * set the level, while "-vv" and "-nvd DIR" are bundles.  getopt cannot
 * say that, so "-vN" words become "--verbose=N" before parsing.
 */
static void
verbose_digits(int argc, char **argv)
{
	char	buf[64];
	int	i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strncmp(argv[i], "-v", 2) == 0 && all_digits(argv[i] + 2) &&
		    strlen(argv[i]) < sizeof(buf) - 12) {
			snprintf(buf, sizeof(buf), "--verbose=%s", argv[i] + 2);
			argv[i] = xstrdup(buf);
		}
	}
}

enum {
	OPT_ADOPT = 256, OPT_DEFER, OPT_DOTFILES, OPT_IGNORE,
	OPT_NO_FOLDING, OPT_OVERRIDE
};

static const struct option longopts[] = {
	{ "adopt",	no_argument,		NULL, OPT_ADOPT },
	{ "compat",	no_argument,		NULL, 'p' },
	{ "defer",	required_argument,	NULL, OPT_DEFER },
	{ "delete",	no_argument,		NULL, 'D' },
	{ "dir",	required_argument,	NULL, 'd' },
	{ "dotfiles",	no_argument,		NULL, OPT_DOTFILES },
	{ "help",	no_argument,		NULL, 'h' },
	{ "ignore",	required_argument,	NULL, OPT_IGNORE },
	{ "no",		no_argument,		NULL, 'n' },
	{ "no-folding",	no_argument,		NULL, OPT_NO_FOLDING },
	{ "override",	required_argument,	NULL, OPT_OVERRIDE },
	{ "restow",	no_argument,		NULL, 'R' },
	{ "simulate",	no_argument,		NULL, 'n' },
	{ "stow",	no_argument,		NULL, 'S' },
	{ "target",	required_argument,	NULL, 't' },
	{ "verbose",	optional_argument,	NULL, 'v' },
	{ "version",	no_argument,		NULL, 'V' },
	{ NULL,		0,			NULL, 0 }
};

/*
 * Parses words (argv[0] is a placeholder) into o, as GNU Stow's
 * parse_options() does: options and packages in any order, -S/-D/-R
 * switching the action for the packages that follow.  From a .stowrc
 * (src->file set) actions and packages are ignored.
 */
static void
parse_words(struct options *o, int argc, char **argv,
    const struct source *src)
{
	enum action	 act = ACT_STOW;
	int		 ch, verbose = 0, verbose_set = 0;

	verbose_digits(argc, argv);
	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "-:DRSVd:hnpt:v", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 1:
			if (src->file == NULL)
				add_package(o, act, optarg);
			break;
		case 'D':
			act = ACT_UNSTOW;
			break;
		case 'R':
			act = ACT_RESTOW;
			break;
		case 'S':
			act = ACT_STOW;
			break;
		case 'V':
			version();
			break;
		case 'd':
			free(o->dir);
			o->dir = xstrdup(optarg);
			break;
		case 'h':
			help();
			break;
		case 'n':
			o->simulate = 1;
			break;
		case 'p':
			o->flags |= STOW_F_COMPAT;
			break;
		case 't':
			free(o->target);
			o->target = xstrdup(optarg);
			break;
		case 'v':
			verbose_set = 1;
			if (optarg != NULL)
				verbose = verbosity(optarg, src, optind);
			else if (optind < argc && all_digits(argv[optind])) {
				verbose = verbosity(argv[optind], src,
				    optind + 1);
				optind++;
			}
			else
				verbose++;
			break;
		case OPT_ADOPT:
			o->flags |= STOW_F_ADOPT;
			break;
		case OPT_DEFER:
			strlist_add(&o->defer, optarg);
			break;
		case OPT_DOTFILES:
			o->flags |= STOW_F_DOTFILES;
			break;
		case OPT_IGNORE:
			strlist_add(&o->ignore, optarg);
			break;
		case OPT_NO_FOLDING:
			o->flags |= STOW_F_NO_FOLDING;
			break;
		case OPT_OVERRIDE:
			strlist_add(&o->override, optarg);
			break;
		case ':':
			bad_option(src, optind, "option '%s' requires an "
			    "argument", argv[optind - 1]);
			break;
		default:
			if (optopt != 0)
				bad_option(src, optind, "invalid option -- "
				    "'%c'", optopt);
			bad_option(src, optind, "unrecognized option '%s'",
			    argv[optind - 1]);
		}
	}
	for (; optind < argc; optind++)
		if (src->file == NULL)
			add_package(o, act, argv[optind]);
	if (verbose_set) {
		o->verbose = verbose;
		o->verbose_set = 1;
	}
}

static const char *
env_lookup(const char *name, void *payload)
{
	(void)payload;
	return getenv(name);
}

/* Expands ~ and $VAR in a --dir or --target value read from a file. */
static void
expand_rc_path(struct stow_ctx *ctx, char **path, const char *file,
    const char *opt)
{
	char	*out;

	if (*path == NULL)
		return;
	if (stow_expand_path(&out, ctx, *path, env_lookup, NULL) != 0) {
		fprintf(stderr, "%s: %s: %s option: %s\n", getprogname(), file,
		    opt, stow_ctx_errmsg(ctx));
		exit(EXIT_USAGE);
	}
	free(*path);
	*path = out;
}

/*
 * Reads one resource file into o (GNU Stow's get_config_file_options):
 * its scalars override what came before, its lists append.
 */
static void
read_rc(struct stow_ctx *ctx, struct options *o, const char *file)
{
	struct stow_rc	*rc;
	struct options	 rco;
	struct source	 src = { file, NULL };
	char		**argv;
	size_t		 i, n;
	int		 r;

	if ((r = stow_rc_read(&rc, ctx, file)) == STOW_ENOTFOUND)
		return;
	if (r != 0) {
		fprintf(stderr, "%s: %s\n", getprogname(),
		    stow_ctx_errmsg(ctx));
		exit(EXIT_USAGE);
	}
	src.rc = rc;
	n = stow_rc_count(rc);
	argv = xrealloc(NULL, n + 2, sizeof(*argv));
	argv[0] = (char *)(uintptr_t)getprogname();
	for (i = 0; i < n; i++)
		argv[i + 1] = (char *)(uintptr_t)stow_rc_word(rc, i);
	argv[n + 1] = NULL;
	memset(&rco, 0, sizeof(rco));
	parse_words(&rco, (int)n + 1, argv, &src);
	expand_rc_path(ctx, &rco.dir, file, "--dir");
	expand_rc_path(ctx, &rco.target, file, "--target");
	if (rco.dir != NULL) {
		free(o->dir);
		o->dir = rco.dir;
	}
	if (rco.target != NULL) {
		free(o->target);
		o->target = rco.target;
	}
	if (rco.verbose_set) {
		o->verbose = rco.verbose;
		o->verbose_set = 1;
	}
	o->simulate |= rco.simulate;
	o->flags |= rco.flags;
	for (i = 0; i < rco.ignore.n; i++)
		strlist_add(&o->ignore, rco.ignore.v[i]);
	for (i = 0; i < rco.defer.n; i++)
		strlist_add(&o->defer, rco.defer.v[i]);
	for (i = 0; i < rco.override.n; i++)
		strlist_add(&o->override, rco.override.v[i]);
	strlist_free(&rco.ignore);
	strlist_free(&rco.defer);
	strlist_free(&rco.override);
	free(argv);
	stow_rc_free(rc);
}

/* Merges the command line (cli) over the resource files (o). */
static void
merge_cli(struct options *o, struct options *cli)
{
	size_t	i;

	if (cli->dir != NULL) {
		free(o->dir);
		o->dir = cli->dir;
	}
	if (cli->target != NULL) {
		free(o->target);
		o->target = cli->target;
	}
	if (cli->verbose_set)
		o->verbose = cli->verbose;
	o->simulate |= cli->simulate;
	o->flags |= cli->flags;
	for (i = 0; i < cli->ignore.n; i++)
		strlist_add(&o->ignore, cli->ignore.v[i]);
	for (i = 0; i < cli->defer.n; i++)
		strlist_add(&o->defer, cli->defer.v[i]);
	for (i = 0; i < cli->override.n; i++)
		strlist_add(&o->override, cli->override.v[i]);
	strlist_free(&cli->ignore);
	strlist_free(&cli->defer);
	strlist_free(&cli->override);
	o->unstow = cli->unstow;
	o->stow = cli->stow;
}

static int
is_dir(const char *path)
{
	struct stat	st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* GNU Stow's sanitize_path_options() and check_packages(). */
static void
check_options(struct options *o)
{
	const char	*env;
	char		 cwd[PATH_MAX];
	size_t		 i;

	if (o->dir == NULL) {
		if ((env = getenv("STOW_DIR")) != NULL && *env != '\0')
			o->dir = xstrdup(env);
		else if (getcwd(cwd, sizeof(cwd)) != NULL)
			o->dir = xstrdup(cwd);
		else {
			fprintf(stderr, "%s: getcwd: %s\n", getprogname(),
			    strerror(errno));
			exit(EXIT_ERROR);
		}
	}
	if (!is_dir(o->dir))
		usage_error("--dir value '%s' is not a valid directory",
		    o->dir);
	if (o->target != NULL && !is_dir(o->target))
		usage_error("--target value '%s' is not a valid directory",
		    o->target);
	if (o->stow.n == 0 && o->unstow.n == 0)
		usage_error("%s", "No packages to stow or unstow");
	for (i = 0; i < o->stow.n + o->unstow.n; i++) {
		const char	*p = i < o->stow.n ? o->stow.v[i] :
		    o->unstow.v[i - o->stow.n];
		size_t		 n = strlen(p);

		while (n > 1 && p[n - 1] == '/')
			n--;
		if (memchr(p, '/', n) != NULL) {
			fprintf(stderr, "%s: Slashes are not permitted in "
			    "package names: %s\n", getprogname(), p);
			exit(EXIT_ERROR);
		}
	}
}

static void
log_cb(int level, const char *msg, void *payload)
{
	(void)level;
	(void)payload;
	fprintf(stderr, "%s\n", msg);
}

static int
cancel_cb(void *payload)
{
	(void)payload;
	return interrupted;
}

static void
on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

static int
print_conflict(const struct stow_conflict *c, void *payload)
{
	const char	**last = payload;
	int		  verb = c->action == STOW_ACTION_STOW;

	if (last[0] == NULL || strcmp(last[0], c->package) != 0 ||
	    last[1] != (verb ? "s" : "u")) {
		fprintf(stderr, "WARNING! %s %s would cause conflicts:\n",
		    verb ? "stowing" : "unstowing", c->package);
		last[0] = c->package;
		last[1] = verb ? "s" : "u";
	}
	fprintf(stderr, "  * %s\n", c->message);
	return 0;
}

static void
fail(struct stow_ctx *ctx, int rc)
{
	fprintf(stderr, "%s: %s\n", getprogname(), stow_ctx_errmsg(ctx));
	exit(rc == STOW_ECONFLICT ? EXIT_CONFLICT : EXIT_ERROR);
}

static void
configure(struct stow_ctx *ctx, const struct options *o)
{
	struct stow_opts	opts = STOW_OPTS_INIT;
	size_t			i;
	int			rc;

	opts.stow_dir = o->dir;
	opts.target_dir = o->target;
	opts.home_dir = getenv("HOME");
	opts.flags = o->flags;
	if ((rc = stow_ctx_configure(ctx, &opts)) != 0)
		fail(ctx, rc);
	for (i = 0; i < o->ignore.n; i++)
		if (stow_ctx_add_pattern(ctx, STOW_PAT_IGNORE,
		    o->ignore.v[i]) != 0)
			usage_error("--ignore: %s", stow_ctx_errmsg(ctx));
	for (i = 0; i < o->defer.n; i++)
		if (stow_ctx_add_pattern(ctx, STOW_PAT_DEFER,
		    o->defer.v[i]) != 0)
			usage_error("--defer: %s", stow_ctx_errmsg(ctx));
	for (i = 0; i < o->override.n; i++)
		if (stow_ctx_add_pattern(ctx, STOW_PAT_OVERRIDE,
		    o->override.v[i]) != 0)
			usage_error("--override: %s", stow_ctx_errmsg(ctx));
	stow_ctx_set_log(ctx, o->verbose, log_cb, NULL);
	stow_ctx_set_cancel(ctx, cancel_cb, NULL);
}

/* Plans every unstow, then every stow; reports; applies. */
static int
run(struct stow_ctx *ctx, const struct options *o)
{
	struct stow_plan	*plan;
	const char		*last[2] = { NULL, NULL };
	size_t			 i;
	int			 rc;

	if ((rc = stow_plan_new(&plan, ctx)) != 0)
		fail(ctx, rc);
	for (i = 0; i < o->unstow.n; i++)
		if ((rc = stow_plan_unstow(plan, o->unstow.v[i])) != 0)
			fail(ctx, rc);
	for (i = 0; i < o->stow.n; i++)
		if ((rc = stow_plan_stow(plan, o->stow.v[i])) != 0)
			fail(ctx, rc);
	if (stow_plan_conflict_count(plan) > 0) {
		stow_plan_foreach_conflict(plan, print_conflict, last);
		fprintf(stderr, "All operations aborted.\n");
		stow_plan_free(plan);
		return EXIT_CONFLICT;
	}
	if (o->simulate) {
		fprintf(stderr, "WARNING: in simulation mode so not "
		    "modifying filesystem.\n");
		stow_plan_free(plan);
		return EXIT_OK;
	}
	if ((rc = stow_plan_apply(plan, NULL, NULL)) != 0)
		fail(ctx, rc);
	stow_plan_free(plan);
	return EXIT_OK;
}

int
main(int argc, char *argv[])
{
	struct options		 o, cli;
	struct source		 src = { NULL, NULL };
	struct stow_ctx		*ctx;
	struct sigaction	 sa;
	const char		*home;
	char			 file[PATH_MAX];
	int			 rc;

	memset(&o, 0, sizeof(o));
	memset(&cli, 0, sizeof(cli));
	if ((ctx = stow_ctx_new()) == NULL) {
		fprintf(stderr, "%s: out of memory\n", getprogname());
		return EXIT_ERROR;
	}
	parse_words(&cli, argc, argv, &src);
	if ((home = getenv("HOME")) != NULL &&
	    snprintf(file, sizeof(file), "%s/.stowrc", home) <
	    (int)sizeof(file))
		read_rc(ctx, &o, file);
	read_rc(ctx, &o, ".stowrc");
	merge_cli(&o, &cli);
	check_options(&o);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	configure(ctx, &o);
	rc = run(ctx, &o);
	stow_ctx_free(ctx);
	free(o.dir);
	free(o.target);
	strlist_free(&o.ignore);
	strlist_free(&o.defer);
	strlist_free(&o.override);
	strlist_free(&o.stow);
	strlist_free(&o.unstow);
	return rc;
}
