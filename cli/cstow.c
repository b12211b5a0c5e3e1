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

#include "bootstrap.h"
#include "check.h"
#include "display.h"
#include "runas.h"
#include "state.h"

enum action { ACT_STOW, ACT_UNSTOW, ACT_RESTOW };

struct options {
	char		*dir;
	char		*target;
	int		 dir_idx;		/* the words of -d and -t, */
	int		 target_idx;		/* for file:line */
	int		 verbose;
	int		 verbose_set;
	int		 simulate;
	unsigned int	 flags;
	struct strlist	 ignore, defer, override;
	struct strlist	 unstow, stow;		/* packages */
	/* cstow's own options (cstow.conf, the vault). */
	int		 all;
	enum policy	 policy;
	struct strlist	 pkg_targets;		/* "PKG=DIR" */
	struct strlist	 replace;
	char		*backup_dir;
	char		*config;
	int		 no_config;
	int		 no_wait;
	int		 set_aside;
	char		*restore_run;
	enum mode	 mode;			/* --check, ... */
	int		 json;			/* --format=json */
	int		 format_set;
};

/* Where the words being parsed come from, for error messages. */
struct source {
	const char		*file;	/* NULL: the command line */
	const struct stow_rc	*rc;
};

/* The words written out before parsing (verbose_digits(),
 * gnu_abbreviations()), which argv then points to. */
static struct strlist		rewritten;


static const char usage_line[] =
    "usage: %s [OPTION ...] [-D|-S|-R] PACKAGE ... [-D|-S|-R] PACKAGE ...\n";

static void usage_error(const char *, ...)
    __attribute__((format(printf, 1, 2), noreturn));
static void vreport_option(const struct source *, int, const char *,
    va_list) __attribute__((format(printf, 3, 0)));
static void report_option(const struct source *, int, const char *, ...)
    __attribute__((format(printf, 3, 4)));
static void usage_exit(const struct source *) __attribute__((noreturn));
static void bad_option(const struct source *, int, const char *, ...)
    __attribute__((format(printf, 3, 4), noreturn));

static void
usage_error(const char *fmt, ...)
{
	va_list	ap;

	display_printf(stderr, "%s: ", getprogname());
	va_start(ap, fmt);
	display_vprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	display_printf(stderr, usage_line, getprogname());
	exit(EXIT_USAGE);
}

static void
help(void)
{
	printf(usage_line, getprogname());
	printf("       %s [OPTION ...] --check [PACKAGE ...]\n"
	    "       %s [OPTION ...] --badlinks | --aliens | --list\n",
	    getprogname(), getprogname());
	printf(
"\n"
"Manage a farm of symbolic links: make the files of each PACKAGE in the\n"
"stow directory appear in the target directory (GNU Stow compatible).\n"
"\n"
"  -d, --dir=DIR         the stow directory (default: $STOW_DIR, else .)\n"
"  -t, --target=DIR      the target (default: parent of the stow directory)\n"
"  -S, --stow            stow the packages that follow (the default)\n"
"  -D, --delete          unstow the packages that follow\n"
"  -R, --restow          unstow, then stow again (prunes stale links)\n"
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
"      --all             every package of the stow directory (not skipped)\n"
"      --package-target=PKG=DIR  stow PKG into DIR\n"
"      --conflict=fail|adopt|backup  what to do with files in the way\n"
"      --replace=PATH    move PATH aside into the vault, then stow\n"
"      --backup-dir=DIR  keep the vault's runs in DIR\n"
"      --restore[=RUN]   put a vault run back (default: the latest)\n"
"      --config=FILE     read FILE instead of STOWDIR/cstow.conf\n"
"      --no-config       read no cstow.conf\n"
"      --no-wait         fail at once if another run holds the lock\n"
"      --set-aside-journal  keep a killed run's journal that cannot be\n"
"                        undone aside (renamed), and go on\n"
"\n"
"      --check           say whether each package (default: all) is stowed\n"
"      --badlinks        list the dangling symlinks in the target\n"
"      --aliens          list the files in the target that are not symlinks\n"
"      --list            list the packages the target has links into\n"
"      --format=text|json  output of -n, --check and a run (default: text)\n"
"\n"
"  -n, --no, --simulate  show what would happen; change nothing\n"
"  -v, --verbose[=N]     more output (-v adds 1; --verbose=N sets 0..5)\n"
"  -V, --version         print the program and library versions\n"
"  -h, --help            print this help\n"
"\n"
"Options are also read from ~/.stowrc and ./.stowrc.  Exit status: 0 done,\n"
"1 conflicts, usage error or (--check) not all stowed, 2 other errors,\n"
"3 failed and undone, 4 failed and not fully undone.  See cstow(1).\n");
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

static void
vreport_option(const struct source *src, int idx, const char *fmt,
    va_list ap)
{
	display_printf(stderr, "%s: ", getprogname());
	if (src->file != NULL)
		display_printf(stderr, "%s:%u: ", src->file,
		    stow_rc_line(src->rc, idx >= 2 ? (size_t)idx - 2 : 0));
	display_vprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

/* Reports a bad option in words[idx] of src. */
static void
report_option(const struct source *src, int idx, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vreport_option(src, idx, fmt, ap);
	va_end(ap);
}

/* Stops at a bad option of src: the usage follows on the command line. */
static void
usage_exit(const struct source *src)
{
	if (src->file == NULL)
		display_printf(stderr, usage_line, getprogname());
	exit(EXIT_USAGE);
}

/* Reports a bad option in words[idx] of src and exits. */
static void
bad_option(const struct source *src, int idx, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vreport_option(src, idx, fmt, ap);
	va_end(ap);
	usage_exit(src);
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

/* The level of "--verbose=arg" (word names the option: "--v=..."
 * is GNU Stow's "option v"). */
static int
verbosity(const char *arg, const char *word, const struct source *src,
    int idx)
{
	const char	*errstr;
	int		 n;

	n = (int)strtonum(arg, 0, INT_MAX, &errstr);
	if (errstr != NULL)
		bad_option(src, idx, "Value \"%s\" invalid for option %s "
		    "(number expected)", arg, strncmp(word, "--v=", 4) == 0 ?
		    "v" : "verbose");
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
			strlist_add(&rewritten, buf);
			argv[i] = rewritten.v[rewritten.n - 1];
		}
	}
}

enum {
	OPT_ADOPT = 256, OPT_DEFER, OPT_DOTFILES, OPT_IGNORE,
	OPT_NO_FOLDING, OPT_OVERRIDE, OPT_ALL, OPT_BACKUP_DIR, OPT_CONFIG,
	OPT_CONFLICT, OPT_NO_CONFIG, OPT_NO_WAIT, OPT_PACKAGE_TARGET,
	OPT_REPLACE, OPT_SET_ASIDE,
	OPT_RESTORE, OPT_CHECK, OPT_BADLINKS, OPT_ALIENS, OPT_LIST,
	OPT_FORMAT
};

/* The options that choose a mode, by enum mode. */
static const char *const mode_options[] = {
	NULL, "--restore", "--check", "--badlinks", "--aliens", "--list"
};

/*
 * Sorted.  As in GNU Stow, each one-letter option has a long form too
 * ("--d DIR", "--v"), which no help text mentions.
 */
static const struct option longopts[] = {
	{ "D",		no_argument,		NULL, 'D' },
	{ "R",		no_argument,		NULL, 'R' },
	{ "S",		no_argument,		NULL, 'S' },
	{ "V",		no_argument,		NULL, 'V' },
	{ "adopt",	no_argument,		NULL, OPT_ADOPT },
	{ "aliens",	no_argument,		NULL, OPT_ALIENS },
	{ "all",	no_argument,		NULL, OPT_ALL },
	{ "backup-dir",	required_argument,	NULL, OPT_BACKUP_DIR },
	{ "badlinks",	no_argument,		NULL, OPT_BADLINKS },
	{ "check",	no_argument,		NULL, OPT_CHECK },
	{ "compat",	no_argument,		NULL, 'p' },
	{ "config",	required_argument,	NULL, OPT_CONFIG },
	{ "conflict",	required_argument,	NULL, OPT_CONFLICT },
	{ "d",		required_argument,	NULL, 'd' },
	{ "defer",	required_argument,	NULL, OPT_DEFER },
	{ "delete",	no_argument,		NULL, 'D' },
	{ "dir",	required_argument,	NULL, 'd' },
	{ "dotfiles",	no_argument,		NULL, OPT_DOTFILES },
	{ "format",	required_argument,	NULL, OPT_FORMAT },
	{ "h",		no_argument,		NULL, 'h' },
	{ "help",	no_argument,		NULL, 'h' },
	{ "ignore",	required_argument,	NULL, OPT_IGNORE },
	{ "list",	no_argument,		NULL, OPT_LIST },
	{ "n",		no_argument,		NULL, 'n' },
	{ "no",		no_argument,		NULL, 'n' },
	{ "no-config",	no_argument,		NULL, OPT_NO_CONFIG },
	{ "no-wait",	no_argument,		NULL, OPT_NO_WAIT },
	{ "no-folding",	no_argument,		NULL, OPT_NO_FOLDING },
	{ "override",	required_argument,	NULL, OPT_OVERRIDE },
	{ "p",		no_argument,		NULL, 'p' },
	{ "package-target", required_argument,	NULL, OPT_PACKAGE_TARGET },
	{ "replace",	required_argument,	NULL, OPT_REPLACE },
	{ "restore",	optional_argument,	NULL, OPT_RESTORE },
	{ "restow",	no_argument,		NULL, 'R' },
	{ "set-aside-journal", no_argument,	NULL, OPT_SET_ASIDE },
	{ "simulate",	no_argument,		NULL, 'n' },
	{ "stow",	no_argument,		NULL, 'S' },
	{ "t",		required_argument,	NULL, 't' },
	{ "target",	required_argument,	NULL, 't' },
	{ "v",		optional_argument,	NULL, 'v' },
	{ "verbose",	optional_argument,	NULL, 'v' },
	{ "version",	no_argument,		NULL, 'V' },
	{ NULL,		0,			NULL, 0 }
};

/* GNU Stow's long options (with its one-letter ones), sorted. */
static const char *const gnu_longopts[] = {
	"D", "R", "S", "V", "adopt", "compat", "d", "defer", "delete", "dir",
	"dotfiles", "h", "help", "ignore", "n", "no", "no-folding",
	"override", "p", "restow", "simulate", "stow", "t", "target", "v",
	"verbose", "version"
};

static int
is_gnu_longopt(const char *name)
{
	return bsearch(&name, gnu_longopts, sizeof(gnu_longopts) /
	    sizeof(gnu_longopts[0]), sizeof(gnu_longopts[0]),
	    strptr_cmp) != NULL;
}

/*
 * The long options named by the n bytes at name, exactly or as a
 * prefix, into v (room for all of them): one when it is exact.
 */
static size_t
long_matches(const char *name, size_t n, const struct option **v)
{
	const struct option	*o;
	size_t			 k = 0;

	for (o = longopts; o->name != NULL; o++) {
		if (strncmp(o->name, name, n) != 0)
			continue;
		if (o->name[n] == '\0') {
			v[0] = o;
			return 1;
		}
		v[k++] = o;
	}
	return k;
}

/* Is the word after word the value of its option ("-d DIR", "-nt DIR",
 * "--target DIR")? */
static int
takes_value(const char *word)
{
	const struct option	*v[sizeof(longopts) / sizeof(longopts[0])];
	size_t			 n;

	if (strncmp(word, "--", 2) == 0) {
		n = strcspn(word + 2, "=");
		return word[2 + n] == '\0' && long_matches(word + 2, n, v) ==
		    1 && v[0]->has_arg == required_argument;
	}
	if (word[0] != '-')
		return 0;
	/* In a bundle, the first of d and t takes the rest as its value. */
	n = strcspn(word + 1, "dt");
	return word[1 + n] != '\0' && word[2 + n] == '\0';
}

/*
 * An abbreviation GNU Stow accepts means what it means there, although
 * cstow's own long options make it ambiguous: "--re" is --restow (not
 * --replace or --restore), "--no-" --no-folding, "--a" --adopt.  Such
 * words are written out in full before parsing.
 */
static void
gnu_abbreviations(int argc, char **argv)
{
	const struct option	*v[sizeof(longopts) / sizeof(longopts[0])];
	const char		*gnu;
	char			*word;
	size_t			 i, k, n, ngnu;

	for (i = 1; i < (size_t)argc && strcmp(argv[i], "--") != 0; i++) {
		if (takes_value(argv[i])) {
			i++;
			continue;
		}
		if (strncmp(argv[i], "--", 2) != 0)
			continue;
		n = strcspn(argv[i] + 2, "=");
		if ((k = long_matches(argv[i] + 2, n, v)) < 2)
			continue;
		for (gnu = NULL, ngnu = 0; k-- > 0; )
			if (is_gnu_longopt(v[k]->name) && ngnu++ == 0)
				gnu = v[k]->name;
		if (ngnu != 1 || asprintf(&word, "--%s%s", gnu,
		    argv[i] + 2 + n) == -1)
			continue;
		strlist_add(&rewritten, word);
		free(word);
		argv[i] = rewritten.v[rewritten.n - 1];
	}
}

/*
 * Reports an option getopt_long() returned ch (':' or '?') for, as GNU
 * Stow's Getopt::Long words it: "Unknown option: foo", "Option dir
 * requires an argument", "Option adopt does not take an argument",
 * "Option ver is ambiguous (verbose, version)".  word is the last word
 * getopt_long() took, words[idx - 1] of src.
 */
static void
option_error(const struct source *src, int idx, int ch, const char *word)
{
	const struct option	*v[sizeof(longopts) / sizeof(longopts[0])];
	char			 list[512];
	size_t			 i, k, n;

	n = strcspn(word + 2, "=");
	k = strncmp(word, "--", 2) != 0 ? 0 : long_matches(word + 2, n, v);
	/* A short option's error, unless word is the long option that
	 * failed (which optopt names, if it names one). */
	if (strncmp(word, "--", 2) != 0 || (optopt != 0 &&
	    (k != 1 || v[0]->val != optopt))) {
		report_option(src, idx, ch == ':' ? "Option %c requires an "
		    "argument" : "Unknown option: %c", optopt);
		return;
	}
	if (k == 0)
		report_option(src, idx, "Unknown option: %.*s", (int)n,
		    word + 2);
	else if (k == 1)
		report_option(src, idx, ch == ':' ? "Option %s requires an "
		    "argument" : "Option %s does not take an argument",
		    v[0]->name);
	else {
		list[0] = '\0';
		for (i = 0; i < k; i++) {
			if (i > 0)
				strlcat(list, ", ", sizeof(list));
			strlcat(list, v[i]->name, sizeof(list));
		}
		report_option(src, idx, "Option %.*s is ambiguous (%s)",
		    (int)n, word + 2, list);
	}
}

/* Two modes in one source are an error; a later source overrides. */
static void
set_mode(struct options *o, enum mode m, const struct source *src, int idx)
{
	if (o->mode != MODE_RUN && o->mode != m)
		bad_option(src, idx, "%s and %s cannot be used together",
		    mode_options[o->mode], mode_options[m]);
	o->mode = m;
}

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
	int		 ch, verbose = 0, verbose_set = 0, bad = 0;

	verbose_digits(argc, argv);
	gnu_abbreviations(argc, argv);
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
			o->dir_idx = optind;
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
			o->target_idx = optind;
			break;
		case 'v':
			verbose_set = 1;
			if (optarg != NULL)
				verbose = verbosity(optarg, argv[optind - 1],
				    src, optind);
			else if (optind < argc && all_digits(argv[optind])) {
				verbose = verbosity(argv[optind],
				    argv[optind], src, optind + 1);
				optind++;
			}
			else
				verbose++;
			break;
		case OPT_ADOPT:
			o->policy = POLICY_ADOPT;
			break;
		case OPT_ALL:
			/* --all takes the action in force, like a package. */
			o->all = 1 + (int)act;
			break;
		case OPT_BACKUP_DIR:
			free(o->backup_dir);
			o->backup_dir = xstrdup(optarg);
			break;
		case OPT_CONFIG:
			free(o->config);
			o->config = xstrdup(optarg);
			break;
		case OPT_CONFLICT:
			if (parse_policy(optarg, &o->policy) == -1)
				bad_option(src, optind, "--conflict must be "
				    "fail, adopt or backup, not '%s'", optarg);
			break;
		case OPT_NO_WAIT:
			o->no_wait = 1;
			break;
		case OPT_SET_ASIDE:
			o->set_aside = 1;
			break;
		case OPT_NO_CONFIG:
			o->no_config = 1;
			break;
		case OPT_PACKAGE_TARGET:
			if (strchr(optarg, '=') == NULL ||
			    *optarg == '=' || strchr(optarg, '=')[1] == '\0')
				bad_option(src, optind, "--package-target "
				    "takes PKG=DIR, not '%s'", optarg);
			strlist_add(&o->pkg_targets, optarg);
			break;
		case OPT_REPLACE:
			strlist_add(&o->replace, optarg);
			break;
		case OPT_RESTORE:
			free(o->restore_run);
			o->restore_run = optarg != NULL ? xstrdup(optarg) :
			    NULL;
			set_mode(o, MODE_RESTORE, src, optind);
			break;
		case OPT_CHECK:
			set_mode(o, MODE_CHECK, src, optind);
			break;
		case OPT_BADLINKS:
			set_mode(o, MODE_BADLINKS, src, optind);
			break;
		case OPT_ALIENS:
			set_mode(o, MODE_ALIENS, src, optind);
			break;
		case OPT_LIST:
			set_mode(o, MODE_LIST, src, optind);
			break;
		case OPT_FORMAT:
			if (strcmp(optarg, "text") != 0 &&
			    strcmp(optarg, "json") != 0)
				bad_option(src, optind, "--format must be text "
				    "or json, not '%s'", optarg);
			o->json = strcmp(optarg, "json") == 0;
			o->format_set = 1;
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
		default:
			/* Every bad option is reported, then the usage. */
			option_error(src, optind, ch, argv[optind - 1]);
			bad = 1;
		}
	}
	if (bad)
		usage_exit(src);
	for (; optind < argc; optind++)
		if (src->file == NULL)
			add_package(o, act, argv[optind]);
	if (verbose_set) {
		o->verbose = verbose;
		o->verbose_set = 1;
	}
}

static void
take_string(char **dst, char *src)
{
	if (src == NULL)
		return;
	free(*dst);
	*dst = src;
}

static void
take_list(struct strlist *dst, struct strlist *src)
{
	size_t	i;

	for (i = 0; i < src->n; i++)
		strlist_add(dst, src->v[i]);
	strlist_free(src);
}

/*
 * Lays options from (a later .stowrc, or the command line) over into,
 * as GNU Stow merges them: single values replace, lists accumulate.
 * Takes what from owns.
 */
static void
merge_options(struct options *into, struct options *from)
{
	take_string(&into->dir, from->dir);
	take_string(&into->target, from->target);
	take_string(&into->backup_dir, from->backup_dir);
	take_string(&into->config, from->config);
	take_string(&into->restore_run, from->restore_run);
	if (from->verbose_set) {
		into->verbose = from->verbose;
		into->verbose_set = 1;
	}
	if (from->policy != POLICY_UNSET)
		into->policy = from->policy;
	into->simulate |= from->simulate;
	into->flags |= from->flags;
	into->all |= from->all;
	into->no_config |= from->no_config;
	into->no_wait |= from->no_wait;
	into->set_aside |= from->set_aside;
	if (from->mode != MODE_RUN)
		into->mode = from->mode;
	if (from->format_set) {
		into->json = from->json;
		into->format_set = 1;
	}
	take_list(&into->ignore, &from->ignore);
	take_list(&into->defer, &from->defer);
	take_list(&into->override, &from->override);
	take_list(&into->pkg_targets, &from->pkg_targets);
	take_list(&into->replace, &from->replace);
	take_list(&into->unstow, &from->unstow);
	take_list(&into->stow, &from->stow);
}

/* Expands ~ and $VAR in a --dir or --target value, words[idx] of the
 * resource file src. */
static void
expand_rc_path(struct stow_ctx *ctx, char **path, const struct source *src,
    int idx, const char *opt)
{
	char	*out;

	if (*path == NULL)
		return;
	if (stow_expand_path(&out, ctx, *path, env_lookup, NULL) != 0) {
		/* GNU Stow's words for a variable that is not set. */
		if (strncmp(stow_ctx_errmsg(ctx), "undefined environment "
		    "variable ", 31) == 0)
			bad_option(src, idx, "%s option references %s; "
			    "aborting!", opt, stow_ctx_errmsg(ctx));
		bad_option(src, idx, "%s option: %s", opt,
		    stow_ctx_errmsg(ctx));
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
		display_printf(stderr, "%s: %s\n", getprogname(),
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
	expand_rc_path(ctx, &rco.dir, &src, rco.dir_idx, "--dir");
	expand_rc_path(ctx, &rco.target, &src, rco.target_idx, "--target");
	merge_options(o, &rco);
	free(argv);
	stow_rc_free(rc);
}

static int
is_dir(const char *path)
{
	struct stat	st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* A --replace path names something inside the target, by the rule
 * cstow.conf's replace key has (stow_replace_path_check()). */
static void
check_replace_path(const char *path)
{
	const char	*why;

	if ((why = stow_replace_path_check(path)) != NULL)
		usage_error("--replace path '%s' %s", path, why);
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
			display_printf(stderr, "%s: getcwd: %s\n", getprogname(),
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
	if (o->json && o->mode == MODE_RESTORE)
		usage_error("%s", "--format=json does not apply to --restore");
	if (o->config != NULL && o->no_config)
		usage_error("%s", "--config and --no-config cannot be used "
		    "together");
	for (i = 0; i < o->replace.n; i++)
		check_replace_path(o->replace.v[i]);
	if (o->mode >= MODE_BADLINKS && (o->stow.n > 0 || o->unstow.n > 0 ||
	    o->all))
		usage_error("%s takes no packages", mode_options[o->mode]);
	if (o->stow.n == 0 && o->unstow.n == 0 && !o->all &&
	    o->mode == MODE_RUN)
		usage_error("%s", "No packages to stow or unstow");
	for (i = 0; i < o->stow.n + o->unstow.n; i++) {
		const char	*p = i < o->stow.n ? o->stow.v[i] :
		    o->unstow.v[i - o->stow.n];
		size_t		 n = strlen(p);

		while (n > 1 && p[n - 1] == '/')
			n--;
		if (memchr(p, '/', n) != NULL) {
			display_printf(stderr, "%s: Slashes are not permitted in "
			    "package names: %s\n", getprogname(), p);
			exit(EXIT_ERROR);
		}
	}
}

static int
cancel_cb(void *payload)
{
	(void)payload;
	return cli_interrupted;
}

/* cstow.conf: --config, else the stow directory's; NULL if none. */
static struct stow_conf *
load_conf(struct stow_ctx *ctx, const struct options *o)
{
	struct stow_conf	*conf;
	char			*path;
	int			 rc;

	if (o->no_config)
		return NULL;
	if (o->config != NULL)
		path = xstrdup(o->config);
	else if (asprintf(&path, "%s/cstow.conf", o->dir) == -1)
		return NULL;
	rc = stow_conf_read(&conf, ctx, path, env_lookup, NULL);
	free(path);
	if (rc == STOW_ENOTFOUND && o->config == NULL)
		return NULL;
	if (rc != 0) {
		display_printf(stderr, "%s: %s\n", getprogname(),
		    stow_ctx_errmsg(ctx));
		exit(rc == STOW_EINVAL ? EXIT_USAGE : EXIT_ERROR);
	}
	return conf;
}

/* The vault root asked for: --backup-dir, cstow.conf's backup-dir;
 * NULL: the default, in the state directory. */
static const char *
backup_dir(const struct options *o, const struct stow_conf *conf)
{
	if (o->backup_dir != NULL)
		return o->backup_dir;
	return conf != NULL ? stow_conf_get(conf, NULL, "backup-dir") : NULL;
}

/* --package-target=PKG=DIR for job j, or NULL. */
static const char *
package_target(const struct options *o, const char *pkg)
{
	const char	*eq;
	size_t		 i;

	for (i = o->pkg_targets.n; i-- > 0; ) {
		eq = strchr(o->pkg_targets.v[i], '=');
		if ((size_t)(eq - o->pkg_targets.v[i]) == strlen(pkg) &&
		    strncmp(o->pkg_targets.v[i], pkg, strlen(pkg)) == 0)
			return eq + 1;
	}
	return NULL;
}

/*
 * The run's packages with what the command line says about them.  For
 * --check every package named is checked as stowed, and none means all.
 */
static void
build_jobs(struct run *r, const struct options *o,
    const struct stow_conf *conf)
{
	struct job	*j;
	const char	*t;
	size_t		 i, k;
	int		 check = o->mode == MODE_CHECK;

	for (i = 0; i < o->unstow.n; i++)
		run_add_job(r, o->unstow.v[i])->unstow = !check;
	for (i = 0; i < o->stow.n; i++) {
		j = run_add_job(r, o->stow.v[i]);
		j->stow = 1;
		if (j->stow_seq == 0)
			j->stow_seq = i + 1;
	}
	if (check && (o->all || r->njobs == 0)) {
		if (run_all_packages(r, conf, 0, 1) != EXIT_OK)
			exit(EXIT_ERROR);
	} else if (o->all && run_all_packages(r, conf, o->all - 1 !=
	    ACT_STOW, o->all - 1 != ACT_UNSTOW) != EXIT_OK)
		exit(EXIT_ERROR);
	for (i = 0; i < r->njobs; i++) {
		j = &r->jobs[i];
		if ((t = package_target(o, j->name)) != NULL)
			j->target = xstrdup(t);
		j->flags = o->flags;
		for (k = 0; k < o->ignore.n; k++)
			strlist_add(&j->ignore, o->ignore.v[k]);
	}
}

/* What a restore has to say besides its moves (items already back). */
static void
restore_log(int level, const char *msg, void *payload)
{
	(void)level;
	(void)payload;
	display_printf(stderr, "%s: %s\n", getprogname(), msg);
}

static int
print_restored(const struct stow_op *op, void *payload)
{
	const int	*check = payload;

	if (op->kind == STOW_OP_MOVE)
		display_printf(stderr, "%s %s\n", *check ? "would restore" :
		    "restored", op->dest);
	else if (*check)
		display_printf(stderr, "would remove %s\n", op->path);
	return 0;
}

/*
 * --restore[=RUN]: puts a vault run back.  Runs are looked for only in
 * a vault this run may use (state.c): never one reached through a
 * symlink, one in a repository, or another user's.
 */
static int
restore(struct run *r, struct stow_ctx *ctx, const struct options *o)
{
	struct stow_opts	 opts = STOW_OPTS_INIT;
	struct vault_root	 vr;
	char			*run = NULL;
	int			 rc;

	vault_root_resolve(&vr, r->backup_dir, o->dir, NULL);
	if (o->restore_run != NULL && strchr(o->restore_run, '/') != NULL)
		run = xstrdup(o->restore_run);
	else if (vr.why != NULL)
		display_printf(stderr, "%s: no backup run can be restored: %s\n",
		    getprogname(), vr.why);
	else if (o->restore_run != NULL)
		(void)asprintf(&run, "%s/%s", vr.path, o->restore_run);
	else if ((run = vault_latest(vr.path)) == NULL)
		display_printf(stderr, "%s: no backup run to restore in %s\n",
		    getprogname(), vr.path);
	if (run == NULL) {
		vault_root_free(&vr);
		return EXIT_ERROR;
	}
	opts.stow_dir = o->dir;
	opts.target_dir = o->target;
	if ((rc = stow_ctx_configure(ctx, &opts)) != 0) {
		display_printf(stderr, "%s: %s\n", getprogname(),
		    stow_ctx_errmsg(ctx));
		rc = EXIT_ERROR;
	} else {
		stow_ctx_set_log(ctx, 0, restore_log, NULL);
		rc = run_restore(r, ctx, run, print_restored,
		    (void *)(uintptr_t)&o->simulate);
	}
	free(run);
	vault_root_free(&vr);
	return rc;
}

/*
 * Colour on standard error only for a terminal that can show it, and
 * never when NO_COLOR is set to anything (https://no-color.org).
 */
static int
use_color(void)
{
	const char	*nc = getenv("NO_COLOR"), *term = getenv("TERM");

	return isatty(STDERR_FILENO) && (nc == NULL || *nc == '\0') &&
	    term != NULL && *term != '\0' && strcmp(term, "dumb") != 0;
}

/* The target of --badlinks, --aliens and --list: -t, else [cstow]'s
 * target, else NULL (the stow directory's parent). */
static const char *
chk_target(const struct options *o, const struct stow_conf *conf)
{
	if (o->target != NULL)
		return o->target;
	return conf != NULL ? stow_conf_get(conf, NULL, "target") : NULL;
}

static void
options_free(struct options *o)
{
	free(o->dir);
	free(o->target);
	free(o->backup_dir);
	free(o->config);
	free(o->restore_run);
	strlist_free(&o->ignore);
	strlist_free(&o->defer);
	strlist_free(&o->override);
	strlist_free(&o->stow);
	strlist_free(&o->unstow);
	strlist_free(&o->pkg_targets);
	strlist_free(&o->replace);
}

/*
 * Reads the resource file at path into o (read_rc()).  As root, when
 * another user controls the file (their ~/.stowrc, a .stowrc in their
 * directory), the run becomes theirs first (runas.c).
 */
static void
read_rc_as(struct stow_ctx *ctx, struct options *o, const char *path,
    struct runas *ra)
{
	if (geteuid() == 0 && (lstat(path, &(struct stat){ 0 }) == 0 ||
	    errno != ENOENT) && (runas_note(ra, getprogname(), path, 0) == -1 ||
	    runas_become(ra, getprogname()) == -1))
		exit(EXIT_ERROR);
	read_rc(ctx, o, path);
}

/*
 * As root, becomes the user whose home this is, before anything of it is
 * read (~/.stowrc), and the one who controls what the options name.
 */
static void
become_early(struct runas *ra, const char *home)
{
	if (geteuid() == 0 && home != NULL && (runas_note(ra, getprogname(),
	    home, 1) == -1 || runas_become(ra, getprogname()) == -1))
		exit(EXIT_ERROR);
}

int
main(int argc, char *argv[])
{
	struct options		 o, cli;
	struct source		 src = { NULL, NULL };
	struct run		 r;
	struct runas		 ra;
	struct stow_ctx		*ctx;
	struct stow_conf	*conf;
	const char		*home;
	char			 file[PATH_MAX];
	int			 rc;

	memset(&o, 0, sizeof(o));
	memset(&cli, 0, sizeof(cli));
	memset(&r, 0, sizeof(r));
	memset(&ra, 0, sizeof(ra));
	if ((ctx = stow_ctx_new()) == NULL) {
		fprintf(stderr, "%s: out of memory\n", getprogname());
		return EXIT_ERROR;
	}
	parse_words(&cli, argc, argv, &src);
	if ((home = getenv("HOME")) != NULL && *home == '\0')
		home = NULL;
	become_early(&ra, home);
	if (home != NULL && snprintf(file, sizeof(file), "%s/.stowrc",
	    home) < (int)sizeof(file))
		read_rc_as(ctx, &o, file, &ra);
	read_rc_as(ctx, &o, ".stowrc", &ra);
	merge_options(&o, &cli);
	check_options(&o);
	cli_catch_signals();

	r.prog = getprogname();
	r.stow_dir = o.dir;
	r.home = home;
	r.backup_dir = o.backup_dir;
	/* Before cstow.conf is read: whose is the stow directory? */
	if (o.target != NULL)
		run_add_job(&r, "")->target = xstrdup(o.target);
	if (run_as_user(&r, o.config) != EXIT_OK)
		exit(EXIT_ERROR);
	run_free(&r);
	memset(&r, 0, sizeof(r));
	conf = load_conf(ctx, &o);
	r.prog = getprogname();
	r.stow_dir = o.dir;
	r.home = home;
	r.backup_dir = backup_dir(&o, conf);
	r.verbose = o.verbose;
	r.simulate = o.simulate;
	r.no_wait = o.no_wait;
	r.set_aside = o.set_aside;
	r.cancel = cancel_cb;
	r.color = use_color();
	if (o.json)
		r.report = json_report;
	take_list(&r.defer, &o.defer);
	take_list(&r.override, &o.override);
	take_list(&r.replace, &o.replace);
	if (o.mode != MODE_RESTORE && o.mode < MODE_BADLINKS) {
		build_jobs(&r, &o, conf);
		run_apply_conf(&r, conf, o.policy, "fail", o.target, NULL);
	}
	/* cstow.conf's targets: whose are they? */
	if (run_as_user(&r, o.config) != EXIT_OK)
		rc = EXIT_ERROR;
	else if (o.mode == MODE_RESTORE)
		rc = restore(&r, ctx, &o);
	else if (o.mode >= MODE_BADLINKS)
		rc = check_target(&r, chk_target(&o, conf), o.mode, o.json);
	else if (o.mode == MODE_CHECK)
		rc = check_packages(&r, o.all || (o.stow.n == 0 &&
		    o.unstow.n == 0), o.json);
	else
		rc = run_plan_and_apply(&r);
	run_free(&r);
	runas_free(&ra);
	stow_conf_free(conf);
	stow_ctx_free(ctx);
	options_free(&o);
	strlist_free(&rewritten);
	return rc;
}
