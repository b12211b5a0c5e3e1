/*
 * bootstrap.c: one run of cstow or cstow-entrypoint over many packages,
 * each with its own target and settings.  Packages sharing a target and
 * settings share a libstow context and plan; every plan is made before
 * anything is applied, and a conflict anywhere stops the whole run.
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bootstrap.h"
#include "display.h"
#include "lock.h"
#include "runas.h"
#include "state.h"

static int	mkdir_p(const char *, struct strlist *);


/* Packages that share a target and settings, planned together. */
/* What one pass over a plan's operations finds (plan_groups()). */
struct tally {
	size_t	ops;		/* operations */
	size_t	backups;	/* of them, backups */
	size_t	own_names;	/* of them, taking the run's own names */
};

struct group {
	char			*journal;	/* where its apply writes */
	char			*standin;	/* planned into instead */
	const char		*target;
	unsigned int		 flags;
	const struct strlist	*ignore;
	struct stow_ctx		*ctx;
	struct stow_plan	*plan;
	struct tally		 tally;		/* of plan, as planned */
};

static void	groups_close(struct group *, size_t);

static void __attribute__((noreturn))
out_of_memory(void)
{
	fprintf(stderr, "%s: out of memory\n", getprogname());
	exit(EXIT_ERROR);
}

void *
xrealloc(void *p, size_t n, size_t size)
{
	if ((p = reallocarray(p, n, size)) == NULL)
		out_of_memory();
	return p;
}

char *
xstrdup(const char *s)
{
	char	*p;

	if ((p = strdup(s)) == NULL)
		out_of_memory();
	return p;
}

void
strlist_add(struct strlist *l, const char *s)
{
	l->v = xrealloc(l->v, l->n + 1, sizeof(*l->v));
	l->v[l->n++] = xstrdup(s);
}

void
strlist_free(struct strlist *l)
{
	size_t	i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

int
strlist_equal(const struct strlist *a, const struct strlist *b)
{
	size_t	i;

	if (a->n != b->n)
		return 0;
	for (i = 0; i < a->n; i++)
		if (strcmp(a->v[i], b->v[i]) != 0)
			return 0;
	return 1;
}

/* "fail", "adopt" or "backup"; -1 for anything else. */
int
parse_policy(const char *s, enum policy *out)
{
	if (strcmp(s, "fail") == 0)
		*out = POLICY_FAIL;
	else if (strcmp(s, "adopt") == 0)
		*out = POLICY_ADOPT;
	else if (strcmp(s, "backup") == 0)
		*out = POLICY_BACKUP;
	else
		return -1;
	return 0;
}

const char *
env_lookup(const char *name, void *payload)
{
	(void)payload;
	return getenv(name);
}

/* The job for package name, added if new. */
struct job *
run_add_job(struct run *r, const char *name)
{
	struct job	*j;
	size_t		 i;

	for (i = 0; i < r->njobs; i++)
		if (strcmp(r->jobs[i].name, name) == 0)
			return &r->jobs[i];
	r->jobs = xrealloc(r->jobs, r->njobs + 1, sizeof(*r->jobs));
	j = &r->jobs[r->njobs++];
	memset(j, 0, sizeof(*j));
	j->name = xstrdup(name);
	return j;
}

static unsigned int
policy_flags(enum policy p)
{
	if (p == POLICY_ADOPT)
		return STOW_F_ADOPT;
	if (p == POLICY_BACKUP)
		return STOW_F_BACKUP;
	return 0;
}

/*
 * A package's target, most specific first: its own cstow.conf target,
 * else the run's default (cstow -t, CSTOW_TARGET), else the [cstow]
 * target, else last_resort (NULL: the stow directory's parent).
 */
static const char *
conf_target(const struct stow_conf *conf, const char *pkg,
    const char *dflt, const char *last_resort)
{
	const char	*general;

	if (conf != NULL && stow_conf_is_set(conf, pkg, "target"))
		return stow_conf_get(conf, pkg, "target");
	if (dflt != NULL)
		return dflt;
	general = conf != NULL ? stow_conf_get(conf, NULL, "target") : NULL;
	return general != NULL ? general : last_resort;
}

/*
 * Completes each job's settings from cstow.conf (conf may be NULL).
 * A job's own target (--package-target) is kept; otherwise see
 * conf_target().  forced is the conflict policy the command line or
 * environment chose (POLICY_UNSET if none), fallback the program's.
 */
int
run_apply_conf(struct run *r, const struct stow_conf *conf,
    enum policy forced, const char *fallback, const char *dflt_target,
    const char *last_resort)
{
	const char *const	*vals;
	const char		*v;
	struct job		*j;
	enum policy		 p;
	size_t			 i, k, n;

	for (i = 0; i < r->njobs; i++) {
		j = &r->jobs[i];
		p = forced;
		if (p == POLICY_UNSET && conf != NULL &&
		    (v = stow_conf_get(conf, j->name, "conflict")) != NULL)
			(void)parse_policy(v, &p);
		if (p == POLICY_UNSET)
			(void)parse_policy(fallback, &p);
		j->flags |= policy_flags(p);
		if (j->target == NULL && (v = conf_target(conf, j->name,
		    dflt_target, last_resort)) != NULL)
			j->target = xstrdup(v);
		if (conf == NULL)
			continue;
		if (stow_conf_bool(conf, j->name, "dotfiles", 0))
			j->flags |= STOW_F_DOTFILES;
		if (!stow_conf_bool(conf, j->name, "folding", 1))
			j->flags |= STOW_F_NO_FOLDING;
		n = stow_conf_get_all(conf, j->name, "ignore", &vals);
		for (k = 0; k < n; k++)
			strlist_add(&j->ignore, vals[k]);
		n = stow_conf_get_all(conf, j->name, "replace", &vals);
		for (k = 0; k < n; k++)
			strlist_add(&j->replace, vals[k]);
	}
	return 0;
}

/* qsort(3) comparison of two char * (names, sorted bytewise). */
int
strptr_cmp(const void *a, const void *b)
{
	return strcmp(*(char * const *)a, *(char * const *)b);
}

/*
 * --all: every top-level directory of the stow directory, except
 * dot-directories and packages cstow.conf marks "skip".
 */
int
run_all_packages(struct run *r, const struct stow_conf *conf, int unstow,
    int stow)
{
	struct job	*j;
	struct strlist	 names = { NULL, 0 };
	struct dirent	*de;
	struct stat	 st;
	DIR		*dir;
	char		*path;
	size_t		 i;

	if ((dir = opendir(r->stow_dir)) == NULL) {
		display_printf(stderr, "%s: %s: %s\n", r->prog, r->stow_dir,
		    strerror(errno));
		return EXIT_ERROR;
	}
	while ((de = readdir(dir)) != NULL) {
		if (de->d_name[0] == '.' || (conf != NULL &&
		    stow_conf_bool(conf, de->d_name, "skip", 0)))
			continue;
		if (asprintf(&path, "%s/%s", r->stow_dir, de->d_name) == -1)
			continue;
		if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
			strlist_add(&names, de->d_name);
		free(path);
	}
	closedir(dir);
	if (names.n > 0)
		qsort(names.v, names.n, sizeof(*names.v), strptr_cmp);
	for (i = 0; i < names.n; i++) {
		j = run_add_job(r, names.v[i]);
		j->unstow |= unstow;
		j->stow |= stow;
	}
	strlist_free(&names);
	return EXIT_OK;
}

/* SGR sequences for stderr when it is a terminal (struct run's color). */
#define SGR_BOLD_RED	"\033[1;31m"
#define SGR_BOLD_YELLOW	"\033[1;33m"
#define SGR_DIM		"\033[2m"
#define SGR_RESET	"\033[0m"

/* The length of the verb that starts a planned-operation message
 * ("LINK:", "RMDIR"), or 0. */
static size_t
verb_len(const char *msg)
{
	static const char *const verbs[] = {
		"BACKUP:", "LINK:", "MKDIR:", "MV:", "RMDIR", "UNLINK:"
	};
	size_t	i, n;

	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
		n = strlen(verbs[i]);
		if (strncmp(msg, verbs[i], n) == 0 &&
		    (msg[n] == ' ' || msg[n] == '\0'))
			return n;
	}
	return 0;
}

static void
log_cb(int level, const char *msg, void *payload)
{
	const struct run	*r = payload;
	size_t			 n;

	(void)level;
	if (r->quiet || r->silent)
		return;
	if (r->color && strncmp(msg, "WARNING:", 8) == 0) {
		fputs(SGR_BOLD_YELLOW "WARNING:" SGR_RESET, stderr);
		msg += 8;
	} else if (r->color && (n = verb_len(msg)) > 0) {
		fprintf(stderr, SGR_DIM "%.*s" SGR_RESET, (int)n, msg);
		msg += n;
	}
	display_printf(stderr, "%s\n", msg);
}

/* The index of the group for job j, made if new. */
static size_t
group_for(struct group **groups, size_t *n, const struct job *j)
{
	struct group	*g;
	const char	*t = j->target != NULL ? j->target : "";
	size_t		 i;

	for (i = 0; i < *n; i++) {
		g = &(*groups)[i];
		if (strcmp(g->target, t) == 0 && g->flags == j->flags &&
		    strlist_equal(g->ignore, &j->ignore))
			return i;
	}
	*groups = xrealloc(*groups, *n + 1, sizeof(**groups));
	g = &(*groups)[*n];
	memset(g, 0, sizeof(*g));
	g->target = t;
	g->flags = j->flags;
	g->ignore = &j->ignore;
	return (*n)++;
}

static int
fail_ctx(const struct run *r, struct stow_ctx *ctx, int rc)
{
	display_printf(stderr, "%s: %s\n", r->prog, stow_ctx_errmsg(ctx));
	return rc == STOW_ECONFLICT ? EXIT_CONFLICT :
	    rc == STOW_EINVAL && ctx == NULL ? EXIT_USAGE : EXIT_ERROR;
}

static int
add_patterns(struct stow_ctx *ctx, enum stow_pattern kind,
    const struct strlist *l, const char *opt, const char *prog)
{
	size_t	i;

	for (i = 0; i < l->n; i++) {
		if (stow_ctx_add_pattern(ctx, kind, l->v[i]) != 0) {
			display_printf(stderr, "%s: %s: %s\n", prog, opt,
			    stow_ctx_errmsg(ctx));
			return EXIT_USAGE;
		}
	}
	return EXIT_OK;
}

/* Removes made->v[from..] (those still empty), the last made first,
 * and forgets them. */
static void
remove_made(struct strlist *made, size_t from)
{
	size_t	i;

	for (i = made->n; i-- > from; ) {
		(void)rmdir(made->v[i]);
		free(made->v[i]);
	}
	made->n = from;
}

/*
 * mkdir -p, for a per-package target that does not exist yet.  Each directory made is added to made, so
 * that a run that fails can take it away again; when one cannot be
 * made, those this call made before it go at once.
 */
static int
mkdir_p(const char *path, struct strlist *made)
{
	char	*buf, *p, saved;
	size_t	 first = made->n;
	int	 rc = 0, saved_errno;

	buf = xstrdup(path);
	for (p = buf + 1; rc == 0; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		saved = *p;
		*p = '\0';
		if (mkdir(buf, 0777) == 0)
			strlist_add(made, buf);
		else if (errno != EEXIST)
			rc = -1;
		if (saved == '\0')
			break;
		*p = saved;
	}
	free(buf);
	if (rc == -1) {
		saved_errno = errno;
		remove_made(made, first);
		errno = saved_errno;
	}
	return rc;
}

/* Is group g's target one that does not exist yet? */
static int
target_missing(const struct group *g)
{
	struct stat	st;

	return *g->target != '\0' && stat(g->target, &st) == -1 &&
	    errno == ENOENT;
}

/* An empty temporary directory to plan into, or NULL (said why). */
static char *
make_standin(const struct run *r)
{
	const char	*tmp = getenv("TMPDIR");
	char		*dir;

	if (asprintf(&dir, "%s/cstow-empty.XXXXXX", tmp != NULL &&
	    *tmp == '/' ? tmp : "/tmp") == -1) {
		fprintf(stderr, "%s: out of memory\n", r->prog);
		return NULL;
	}
	if (mkdtemp(dir) == NULL) {
		display_printf(stderr, "%s: mkdtemp: %s: %s\n", r->prog, dir,
		    strerror(errno));
		free(dir);
		return NULL;
	}
	return dir;
}

/*
 * Makes a context and an empty plan for target (NULL or "": the stow
 * directory's parent) with the run's vault, flags and the patterns.
 * Returns an exit code (the message printed); *ctxp may be set even
 * then, and is the caller's to free.
 */
int
run_open(struct run *r, const char *target, unsigned int flags,
    const struct strlist *ignore, const char *journal,
    struct stow_ctx **ctxp, struct stow_plan **planp)
{
	struct stow_opts	 opts = STOW_OPTS_INIT;
	struct stow_ctx		*ctx;
	int			 rc;

	*planp = NULL;
	if ((*ctxp = ctx = stow_ctx_new()) == NULL) {
		fprintf(stderr, "%s: out of memory\n", r->prog);
		return EXIT_ERROR;
	}
	opts.stow_dir = r->stow_dir;
	opts.target_dir = target != NULL && *target != '\0' ? target : NULL;
	opts.home_dir = r->home;
	opts.flags = flags;
	opts.backup_dir = r->vault;
	opts.journal = journal;
	if ((rc = stow_ctx_configure(ctx, &opts)) != 0)
		return fail_ctx(r, ctx, rc);
	if ((rc = add_patterns(ctx, STOW_PAT_IGNORE, ignore,
	    "--ignore", r->prog)) != 0 ||
	    (rc = add_patterns(ctx, STOW_PAT_DEFER, &r->defer, "--defer",
	    r->prog)) != 0 ||
	    (rc = add_patterns(ctx, STOW_PAT_OVERRIDE, &r->override,
	    "--override", r->prog)) != 0)
		return rc;
	stow_ctx_set_log(ctx, r->verbose, log_cb, r);
	stow_ctx_set_cancel(ctx, r->cancel, NULL);
	if ((rc = stow_plan_new(planp, ctx)) != 0)
		return fail_ctx(r, ctx, rc);
	return EXIT_OK;
}

/*
 * Makes the group's context: its target, the run's vault, and the
 * patterns.  A target that does not exist yet is made only once every
 * plan of the run has been made without an error or a conflict (see
 * make_targets()); until then the group is planned into an empty
 * temporary directory, so that a missing package, a bad pattern or a
 * conflict inside the package stops the run before anything is made.
 * Shown in a simulation, such a group is only said to need its target,
 * and nothing is planned for it: everything there would be new.
 */
static int
group_open(struct run *r, struct group *g)
{
	const char	*target = g->target;

	if (target_missing(g)) {
		if (r->simulate && !r->silent) {
			display_printf(stderr, "%s: would create target %s\n",
			    r->prog, g->target);
			return EXIT_OK;
		}
		if ((g->standin = make_standin(r)) == NULL)
			return EXIT_ERROR;
		target = g->standin;
	}
	return run_open(r, target, g->flags, g->ignore, g->journal, &g->ctx,
	    &g->plan);
}

/* Makes the targets that did not exist (group_open()); an exit code. */
static int
make_targets(struct run *r, const struct group *groups, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if (groups[i].standin != NULL &&
		    mkdir_p(groups[i].target, &r->made) == -1) {
			display_printf(stderr, "%s: mkdir: %s: %s\n", r->prog,
			    groups[i].target, strerror(errno));
			return EXIT_ERROR;
		}
	}
	return EXIT_OK;
}

/* A plan made into a stand-in is never applied: a target that was made
 * and is gone again stops the run. */
static int
check_standins(const struct run *r, const struct group *groups, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if (groups[i].standin != NULL) {
			display_printf(stderr, "%s: target %s does not exist\n",
			    r->prog, groups[i].target);
			return EXIT_ERROR;
		}
	}
	return EXIT_OK;
}

/*
 * Plans job j's replacements: cstow.conf's must be in the package;
 * each --replace path applies to the packages that hold it.
 */
static int
plan_replaces(struct run *r, struct group *g, const struct job *j)
{
	size_t	k;
	int	rc;

	for (k = 0; k < j->replace.n; k++)
		if ((rc = stow_plan_replace(g->plan, j->name,
		    j->replace.v[k])) != 0)
			return fail_ctx(r, g->ctx, rc);
	for (k = 0; k < r->replace.n; k++) {
		rc = stow_plan_replace(g->plan, j->name, r->replace.v[k]);
		if (rc == STOW_ENOTFOUND)
			continue;
		if (rc != 0)
			return fail_ctx(r, g->ctx, rc);
		r->replace_hits[k]++;
	}
	return EXIT_OK;
}

/* Did some package hold each --replace path? */
static int
check_replaces(const struct run *r)
{
	size_t	k;

	for (k = 0; k < r->replace.n; k++) {
		if (r->replace_hits[k] == 0) {
			if (!r->silent)
				display_printf(stderr, "%s: no package holds %s to "
				    "replace\n", r->prog, r->replace.v[k]);
			return EXIT_ERROR;
		}
	}
	return EXIT_OK;
}

/* Plans pass 0 (unstow) or 1 (replaces and stow) of job j into g's
 * plan; a restow is planned whole in pass 0.  An exit code. */
static int
plan_job(struct run *r, struct group *g, const struct job *j, int pass,
    int restow)
{
	int	rc;

	if (restow && pass == 1)
		return EXIT_OK;
	if (restow)
		rc = stow_plan_restow(g->plan, j->name);
	else if (pass == 0)
		rc = stow_plan_unstow(g->plan, j->name);
	else if ((rc = plan_replaces(r, g, j)) != EXIT_OK)
		return rc;
	else
		rc = stow_plan_stow(g->plan, j->name);
	return rc != 0 ? fail_ctx(r, g->ctx, rc) : EXIT_OK;
}

/* Orders jobs to stow by stow_seq; those without one last, in job
 * order (their place in r->jobs). */
static int
stow_seq_cmp(const void *x, const void *y)
{
	const struct job	*a = *(struct job *const *)x;
	const struct job	*b = *(struct job *const *)y;

	/* A stow_seq of 0 wraps around to the largest. */
	if (a->stow_seq - 1 != b->stow_seq - 1)
		return a->stow_seq - 1 < b->stow_seq - 1 ? -1 : 1;
	return a < b ? -1 : a > b;
}

/*
 * The jobs of group gi in the order group_plan() plans them: pass 0
 * unstows in job order, pass 1 stows in stow order (GNU Stow's
 * command-line order: -S a -R b -S c stows a, b, c).
 */
static struct job **
group_order(struct run *r, size_t gi, int pass, size_t *n)
{
	struct job	**v;
	size_t		  i;

	v = xrealloc(NULL, r->njobs + 1, sizeof(*v));
	for (*n = i = 0; i < r->njobs; i++)
		if (r->jobs[i].group == gi && (pass ? r->jobs[i].stow :
		    r->jobs[i].unstow))
			v[(*n)++] = &r->jobs[i];
	if (pass && *n > 1)
		qsort(v, *n, sizeof(*v), stow_seq_cmp);
	return v;
}

/*
 * The job whose unstow and stow come next to each other in the order
 * group_plan() plans them (the last unstow, the first stow, nothing to
 * replace in between), which stow_plan_restow() can plan as one; NULL
 * when there is none.
 */
static const struct job *
adjacent_restow(const struct run *r, struct job *const *unstows,
    size_t nunstows, struct job *const *stows, size_t nstows)
{
	if (nunstows == 0 || nstows == 0 ||
	    unstows[nunstows - 1] != stows[0] ||
	    stows[0]->replace.n > 0 || r->replace.n > 0)
		return NULL;
	return stows[0];
}

/* Plans every job of group g: unstows first, then replaces and stows. */
static int
group_plan(struct run *r, struct group *groups, size_t gi)
{
	struct group		*g = &groups[gi];
	const struct job	*restow;
	struct job		**order[2], *j;
	size_t			 i, n[2];
	int			 rc = EXIT_OK, pass;

	order[0] = group_order(r, gi, 0, &n[0]);
	order[1] = group_order(r, gi, 1, &n[1]);
	restow = adjacent_restow(r, order[0], n[0], order[1], n[1]);
	for (pass = 0; pass < 2 && rc == EXIT_OK; pass++) {
		for (i = 0; i < n[pass] && rc == EXIT_OK; i++) {
			j = order[pass][i];
			rc = plan_job(r, g, j, pass, j == restow);
		}
	}
	free(order[0]);
	free(order[1]);
	return rc;
}

/* Appends a conflict to l, which takes message (allocated). */
static void
conflict_add(struct conflict_list *l, enum stow_action action,
    enum stow_conflict_kind kind, const char *package, const char *path,
    char *message)
{
	struct conflict_copy	*x;

	l->v = xrealloc(l->v, l->n + 1, sizeof(*l->v));
	x = &l->v[l->n++];
	x->action = action;
	x->kind = kind;
	x->package = xstrdup(package);
	x->path = xstrdup(path);
	x->message = message;
	x->target = l->target;
}

static int
copy_conflict(const struct stow_conflict *c, void *payload)
{
	conflict_add(payload, c->action, c->kind, c->package, c->path,
	    xstrdup(c->message));
	return 0;
}

/*
 * The names a run keeps in a target it changes, and what it keeps
 * there.  A package entry planned at one would take the run's place: a
 * link named .cstow-journal stops every later run into the target.
 */
static const struct {
	const char	*name;
	const char	*what;
} own_names[] = {
	{ JOURNAL_FILE, "journal" },
	{ LOCK_FILE, "lock" }
};

/* What the run keeps where op puts a link or a directory (NULL: op
 * leaves the run's own names alone). */
static const char *
own_name_taken(const struct stow_op *op)
{
	size_t	i;

	/* (Each name is a dot file at the top: a plan's other
	 * operations are ruled out by their first byte.) */
	if ((op->kind != STOW_OP_LINK && op->kind != STOW_OP_MKDIR) ||
	    op->path[0] != '.')
		return NULL;
	for (i = 0; i < sizeof(own_names) / sizeof(own_names[0]); i++)
		if (strcmp(op->path, own_names[i].name) == 0)
			return own_names[i].what;
	return NULL;
}

static int
copy_own_name(const struct stow_op *op, void *payload)
{
	const char	*what;
	char		*msg;

	if ((what = own_name_taken(op)) == NULL)
		return 0;
	if (asprintf(&msg, "cannot stow %s: the name is cstow's own in the "
	    "target, where a run keeps its %s", op->path, what) == -1)
		out_of_memory();
	conflict_add(payload, STOW_ACTION_STOW, STOW_CONFLICT_NOT_OWNED,
	    op->package, op->path, msg);
	return 0;
}

/* Appends plan's conflicts (its target: target) to l: the library's,
 * and the operations that would take the run's own names. */
void
conflicts_collect(struct conflict_list *l, const struct stow_plan *plan,
    const char *target)
{
	l->target = target;
	stow_plan_foreach_conflict(plan, copy_conflict, l);
	stow_plan_foreach_op(plan, copy_own_name, l);
}

static int
tally_op(const struct stow_op *op, void *payload)
{
	struct tally	*t = payload;

	t->ops++;
	t->backups += op->kind == STOW_OP_BACKUP;
	t->own_names += own_name_taken(op) != NULL;
	return 0;
}

/* Counts plan's operations in one pass: a big plan's are many, and
 * going over them is not free. */
static void
tally_plan(const struct stow_plan *plan, struct tally *t)
{
	memset(t, 0, sizeof(*t));
	if (plan != NULL)
		stow_plan_foreach_op(plan, tally_op, t);
}

/* GNU Stow's order: unstow first, then by package, then by message. */
static int
conflict_cmp(const void *a, const void *b)
{
	const struct conflict_copy	*x = a, *y = b;
	int				 rc;

	if (x->action != y->action)
		return x->action == STOW_ACTION_UNSTOW ? -1 : 1;
	if ((rc = strcmp(x->package, y->package)) != 0)
		return rc;
	return strcmp(x->message, y->message);
}

void
conflicts_sort(struct conflict_list *l)
{
	if (l->n > 1)
		qsort(l->v, l->n, sizeof(*l->v), conflict_cmp);
}

void
conflicts_free(struct conflict_list *l)
{
	size_t	i;

	for (i = 0; i < l->n; i++) {
		free(l->v[i].package);
		free(l->v[i].path);
		free(l->v[i].message);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* Prints every conflict of every group in one report, as GNU Stow. */
static void
print_conflicts(const struct run *r, struct group *groups, size_t ngroups)
{
	struct conflict_list	 l = { NULL, 0, NULL };
	const struct conflict_copy *x;
	const char		*last = NULL;
	enum stow_action	 last_action = 0;
	size_t			 i;

	for (i = 0; i < ngroups; i++)
		if (groups[i].plan != NULL)
			conflicts_collect(&l, groups[i].plan,
			    groups[i].target);
	conflicts_sort(&l);
	for (i = 0; i < l.n; i++) {
		x = &l.v[i];
		if (last == NULL || strcmp(last, x->package) != 0 ||
		    last_action != x->action) {
			fputs(r->color ? SGR_BOLD_RED "WARNING!" SGR_RESET :
			    "WARNING!", stderr);
			display_printf(stderr, " %s %s would cause "
			    "conflicts:\n", x->action == STOW_ACTION_STOW ?
			    "stowing" : "unstowing", x->package);
		}
		last = x->package;
		last_action = x->action;
		display_printf(stderr, "  * %s\n", x->message);
	}
	display_printf(stderr, "All operations aborted.\n");
	conflicts_free(&l);
}

struct counts {
	struct run	*run;
	struct strlist	 backups;	/* "PATH to VAULT/DEST" */
	char		*marked;	/* the package whose jobs were last
					   marked changed */
	const char	*marked_at;	/* the plan's string for it */
};

/* Counts links and backups made (or that would be), once a plan is
 * applied (or simulated): a pass of its own, not a callback between
 * the apply's system calls, whose caches it would only cool. */
static int
count_op(const struct stow_op *op, void *payload)
{
	struct counts	*c = payload;
	struct job	*j;
	char		*line;
	size_t		 i;

	/* (Operations come package by package: a package's jobs are
	 * marked once, not for each of its operations.) */
	if (op->package != c->marked_at && (c->marked == NULL ||
	    strcmp(c->marked, op->package) != 0)) {
		for (i = 0; i < c->run->njobs; i++) {
			j = &c->run->jobs[i];
			if (strcmp(j->name, op->package) == 0)
				j->changed = 1;
		}
		free(c->marked);
		c->marked = xstrdup(op->package);
	}
	/* (A plan gives each of its operations its own package string:
	 * the next ones are known by their pointer.) */
	c->marked_at = op->package;
	if (op->kind == STOW_OP_LINK)
		c->run->linked++;
	if (op->kind == STOW_OP_BACKUP) {
		c->run->backed_up++;
		if (asprintf(&line, "%s to %s/%s", op->path, c->run->vault,
		    op->dest) != -1) {
			strlist_add(&c->backups, line);
			free(line);
		}
	}
	return 0;
}

/* The end of a run lists what it backed up, once that is done. */
static void
list_backups(const struct run *r, const struct strlist *backups)
{
	size_t	i;

	for (i = 0; i < backups->n && !r->quiet; i++)
		display_printf(stderr, "%s: %s %s\n", r->prog, r->simulate ?
		    "would back up" : "backed up", backups->v[i]);
}

/*
 * After group failed (rc from stow_plan_apply()), undoes the groups
 * applied before it, so the run as a whole changes nothing.  Exit 3:
 * failed and undone; 4: failed and not all could be undone.
 */
static int
undo_applied(const struct run *r, struct group *groups, size_t failed,
    int rc)
{
	size_t	i;
	int	partial = rc == STOW_EPARTIAL;

	display_printf(stderr, "%s: %s\n", r->prog,
	    stow_ctx_errmsg(groups[failed].ctx));
	for (i = failed; i-- > 0; ) {
		if (groups[i].plan == NULL ||
		    stow_plan_revert(groups[i].plan) == 0)
			continue;
		partial = 1;
		display_printf(stderr, "%s: %s\n", r->prog,
		    stow_ctx_errmsg(groups[i].ctx));
	}
	if (partial)
		display_printf(stderr, "%s: the run failed and was not fully undone: "
		    "see the paths above\n", r->prog);
	return partial ? EXIT_PARTIAL : EXIT_UNDONE;
}

/* Applies each group's plan in turn, counting what was done. */
static int
apply_all(struct run *r, struct group *groups, size_t ngroups)
{
	struct counts	c = { r, { NULL, 0 }, NULL, NULL };
	size_t		i;
	int		rc = EXIT_OK, src;

	for (i = 0; i < ngroups && rc == EXIT_OK; i++) {
		if (groups[i].plan == NULL)
			continue;
		if (!r->simulate && (src = stow_plan_apply(groups[i].plan,
		    NULL, NULL)) != 0)
			rc = undo_applied(r, groups, i, src);
		else if ((src = stow_plan_foreach_op(groups[i].plan, count_op,
		    &c)) != 0)
			rc = fail_ctx(r, groups[i].ctx, src);
	}
	if (rc == EXIT_OK)
		list_backups(r, &c.backups);
	strlist_free(&c.backups);
	free(c.marked);
	for (i = 0; i < r->njobs; i++)
		if (!r->jobs[i].changed)
			r->unchanged++;
	return rc;
}

/* The directory to lock for path: path, or while it does not exist
 * (a target this run will make) the nearest directory above it that
 * does; NULL when none can be told, or path is no directory (which
 * planning reports).  Canonical. */
static char *
lock_dir_for(const char *path)
{
	struct stat	 st;
	char		*p = realpath(path, NULL), *cut, *slash;

	if (p != NULL && (stat(p, &st) == -1 || !S_ISDIR(st.st_mode))) {
		free(p);
		return NULL;
	}
	if (p != NULL || errno != ENOENT)
		return p;
	cut = xstrdup(path);
	while ((slash = strrchr(cut, '/')) != NULL && slash != cut) {
		*slash = '\0';
		if ((p = realpath(cut, NULL)) != NULL || errno != ENOENT)
			break;
	}
	/* Nothing of it exists: the root, or the working directory. */
	if (p == NULL && (slash == cut || (slash == NULL && errno == ENOENT)))
		p = *path == '/' ? xstrdup("/") : realpath(".", NULL);
	free(cut);
	return p;
}

/* The target of group g as a path (the stow directory's parent when it
 * has none of its own), for lock_dir_for(). */
static char *
group_target_path(const struct run *r, const struct group *g)
{
	char	*p;

	if (*g->target != '\0')
		return xstrdup(g->target);
	if (asprintf(&p, "%s/..", r->stow_dir) == -1)
		return NULL;
	return p;
}

/* Takes the lock of dir unless held.  A directory this user cannot
 * write cannot be changed either: the run stops, changing nothing. */
static int
lock_dir(struct run *r, const char *dir)
{
	int	rc;

	if (lock_holds(&r->locks, dir))
		return EXIT_OK;
	if ((rc = lock_take(&r->locks, r->prog, dir, r->no_wait,
	    r->quiet)) == LOCK_FAILED)
		return EXIT_ERROR;
	if (rc == LOCK_READONLY) {
		display_printf(stderr, "%s: cannot change %s: %s (for uid %lu); "
		    "nothing was changed\n", r->prog, dir,
		    strerror(r->locks.error), (unsigned long)geteuid());
		return EXIT_ERROR;
	}
	return EXIT_OK;
}

/* Does group g's plan change anything? */
static int
group_changes(const struct group *g)
{
	return g->plan != NULL && g->tally.ops > 0;
}

/*
 * Takes the locks that serialize runs: one on each target the run
 * changes, or (all set) on every target (for a target not made yet, on
 * the directory it will be made in), so that two runs into the same
 * target never interleave (lock.c).  Taken in the order of their
 * names, so that two runs cannot each wait for the other.  Waits for
 * another run to finish unless r->no_wait.  A run that changes nothing
 * takes no lock and leaves its targets untouched.
 */
static int
run_lock(struct run *r, const struct group *groups, size_t ngroups,
    int all)
{
	struct strlist	 dirs = { NULL, 0 };
	char		*path, *dir;
	size_t		 i;
	int		 rc = EXIT_OK;

	for (i = 0; i < ngroups; i++) {
		if ((!all && !group_changes(&groups[i])) ||
		    (path = group_target_path(r, &groups[i])) == NULL)
			continue;
		if ((dir = lock_dir_for(path)) != NULL)
			strlist_add(&dirs, dir);
		free(dir);
		free(path);
	}
	if (dirs.n > 0)
		qsort(dirs.v, dirs.n, sizeof(*dirs.v), strptr_cmp);
	for (i = 0; i < dirs.n && rc == EXIT_OK; i++)
		rc = lock_dir(r, dirs.v[i]);
	strlist_free(&dirs);
	return rc;
}

/*
 * Locks the targets this run has just made.  Until now their lock was
 * on the directory above; a run that starts from here on finds them
 * and locks them instead, so they are locked too.  At once, or not at
 * all: waiting while holding the other locks could wait forever.
 */
static int
lock_made(struct run *r, const struct group *groups, size_t n)
{
	char	*dir;
	size_t	 i;
	int	 rc = EXIT_OK;

	for (i = 0; i < n && rc == EXIT_OK; i++) {
		if (groups[i].standin == NULL ||
		    (dir = lock_dir_for(groups[i].target)) == NULL)
			continue;
		if (!lock_holds(&r->locks, dir) && lock_take(&r->locks,
		    r->prog, dir, 1, 1) == LOCK_FAILED)
			rc = EXIT_ERROR;
		free(dir);
	}
	return rc;
}

/* The journal of group g: a file in its target (NULL: none, for a
 * simulation or a target not made yet). */
static char *
journal_for(const struct run *r, const struct group *g)
{
	char	*path, *dir, *j = NULL;

	if (r->simulate || g->standin != NULL ||
	    (path = group_target_path(r, g)) == NULL)
		return NULL;
	if ((dir = realpath(path, NULL)) != NULL &&
	    asprintf(&j, "%s/%s", strcmp(dir, "/") == 0 ? "" : dir,
	    JOURNAL_FILE) == -1)
		j = NULL;
	free(dir);
	free(path);
	return j;
}

/* Recovery's warnings (what it kept as the user left it). */
static void
recover_log(int level, const char *msg, void *payload)
{
	const struct run	*r = payload;

	(void)level;
	display_printf(stderr, "%s: %s\n", r->prog, msg);
}

/*
 * Puts a journal that could not be undone aside, as --set-aside-journal
 * asks, so that runs into its target can go on: it is kept, renamed, for
 * whoever sorts out what it left.
 */
static int
set_aside(const struct run *r, const char *path)
{
	char	*aside;
	int	 rc = EXIT_OK;

	if (asprintf(&aside, "%s.aside-%s", path, r->stamp) == -1)
		return EXIT_ERROR;
	if (rename(path, aside) == -1) {
		display_printf(stderr, "%s: rename: %s: %s\n", r->prog, path,
		    strerror(errno));
		rc = EXIT_ERROR;
	} else
		display_printf(stderr, "%s: set the journal aside as %s; what it "
		    "could not undo is as it was left\n", r->prog, aside);
	free(aside);
	return rc;
}

/*
 * Undoes what a killed run left half done in target dir (canonical),
 * from the journal there, before this run plans anything there.  A
 * journal that cannot be undone, or is refused (not this user's, or
 * naming paths outside its target), stops runs into this target only,
 * until it is sorted out: the message says how.
 */
static int
recover_target(struct run *r, const char *dir)
{
	struct stow_opts	 opts = STOW_OPTS_INIT;
	struct stow_ctx		*ctx;
	char			*path;
	int			 rc = EXIT_OK, e;

	if (asprintf(&path, "%s/%s", strcmp(dir, "/") == 0 ? "" : dir,
	    JOURNAL_FILE) == -1)
		return EXIT_ERROR;
	if (lstat(path, &(struct stat){ 0 }) == -1) {
		free(path);
		return EXIT_OK;
	}
	if ((ctx = stow_ctx_new()) == NULL) {
		free(path);
		return EXIT_ERROR;
	}
	opts.stow_dir = r->stow_dir;
	opts.target_dir = dir;
	stow_ctx_set_log(ctx, 0, recover_log, r);
	if ((e = stow_ctx_configure(ctx, &opts)) == 0)
		e = stow_journal_recover(ctx, path, NULL, NULL);
	if (e == 0)
		display_printf(stderr, "%s: undid the run a crash interrupted (%s)\n",
		    r->prog, path);
	else if (r->set_aside) {
		display_printf(stderr, "%s: %s\n", r->prog, stow_ctx_errmsg(ctx));
		rc = set_aside(r, path);
	} else {
		display_printf(stderr, "%s: %s\n", r->prog,
		    stow_ctx_errmsg(ctx));
		display_printf(stderr, "%s: %s was left by a run that was "
		    "killed, and cannot be undone as it is; nothing is done "
		    "in %s until it is: once what it names is sorted out, "
		    "run again with --set-aside-journal (cstow) or "
		    "CSTOW_SET_ASIDE_JOURNAL=1 (cstow-entrypoint), which "
		    "keeps the journal beside it\n", r->prog, path, dir);
		rc = e == STOW_EPARTIAL ? EXIT_PARTIAL : EXIT_ERROR;
	}
	stow_ctx_free(ctx);
	free(path);
	return rc;
}

/* Recovers the journal of every target this run holds the lock of. */
static int
recover_targets(struct run *r)
{
	size_t	i;
	int	rc = EXIT_OK;

	for (i = 0; i < r->locks.n && rc == EXIT_OK; i++)
		rc = recover_target(r, r->locks.dir[i]);
	return rc;
}

/* Is there a file name in directory dir? */
static int
has_file(const char *dir, const char *name)
{
	char	*p;
	int	 found = 0;

	if (asprintf(&p, "%s/%s", strcmp(dir, "/") == 0 ? "" : dir,
	    name) != -1) {
		found = lstat(p, &(struct stat){ 0 }) == 0;
		free(p);
	}
	return found;
}

/*
 * Is another run going in one of the run's targets, or has a killed run
 * left its journal or its lock file there?  (A lock file left behind
 * goes once its lock is taken and released.)
 */
static int
others_there(const struct run *r, const struct group *groups, size_t n)
{
	char	*path, *dir;
	size_t	 i;
	int	 found = 0;

	for (i = 0; i < n && !found; i++) {
		if ((path = group_target_path(r, &groups[i])) == NULL)
			continue;
		if ((dir = realpath(path, NULL)) != NULL)
			found = has_file(dir, JOURNAL_FILE) ||
			    has_file(dir, LOCK_FILE);
		free(dir);
		free(path);
	}
	return found;
}

/*
 * The name of this run: YYYYmmddTHHMMSS.uuuuuuZ-PID.  Names sort by
 * time (to the microsecond: in a container every start is PID 1), and
 * the PID keeps two runs in one microsecond apart.  It names the run's
 * vault directory.
 */
static void
stamp_run(struct run *r)
{
	struct timespec	 now;
	struct tm	 tm;
	char		 when[32];

	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y%m%dT%H%M%S", &tm);
	snprintf(r->stamp, sizeof(r->stamp), "%s.%06ldZ-%ld", when,
	    now.tv_nsec / 1000, (long)getpid());
}

/* This run's vault directory: ROOT/STAMP, or NULL when there is no
 * vault at all. */
static char *
vault_for_run(const struct run *r)
{
	char	*p;

	if (r->vr.path == NULL ||
	    asprintf(&p, "%s/%s", r->vr.path, r->stamp) == -1)
		return NULL;
	return p;
}

/* Hands every group's plan to the run's report callback. */
static void
report(struct run *r, const struct group *groups, size_t ngroups, int rc)
{
	struct run_plan	*plans;
	size_t		 i;

	plans = xrealloc(NULL, ngroups + 1, sizeof(*plans));
	for (i = 0; i < ngroups; i++) {
		plans[i].target = groups[i].target;
		plans[i].plan = groups[i].plan;
	}
	r->report(r, plans, ngroups, rc);
	free(plans);
}

static void
groups_free(struct group *groups, size_t n)
{
	size_t	i;

	groups_close(groups, n);
	for (i = 0; i < n; i++)
		free(groups[i].journal);
	free(groups);
}

/* Opens and plans every group; counts the conflicts: the library's,
 * and the operations that would take the run's own names (as
 * conflicts_collect() finds them). */
static int
plan_groups(struct run *r, struct group *groups, size_t ngroups,
    size_t *nconflicts)
{
	size_t	i;
	int	rc = EXIT_OK;

	*nconflicts = 0;
	memset(r->replace_hits, 0, (r->replace.n + 1) *
	    sizeof(*r->replace_hits));
	for (i = 0; i < ngroups && rc == EXIT_OK; i++) {
		if ((rc = group_open(r, &groups[i])) == EXIT_OK &&
		    groups[i].plan != NULL)
			rc = group_plan(r, groups, i);
		tally_plan(groups[i].plan, &groups[i].tally);
		if (groups[i].plan != NULL)
			*nconflicts += stow_plan_conflict_count(
			    groups[i].plan) + groups[i].tally.own_names;
	}
	return rc;
}

/* Frees the groups' plans, contexts and stand-ins, keeping the
 * groups. */
static void
groups_close(struct group *groups, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		stow_plan_free(groups[i].plan);
		stow_ctx_free(groups[i].ctx);
		groups[i].plan = NULL;
		groups[i].ctx = NULL;
		if (groups[i].standin != NULL)
			(void)rmdir(groups[i].standin);
		free(groups[i].standin);
		groups[i].standin = NULL;
	}
}

/* Does some group's target not exist yet? */
static int
targets_missing(const struct group *groups, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (target_missing(&groups[i]))
			return 1;
	return 0;
}

/* Does some group's plan back something up? */
static int
plans_back_up(const struct group *groups, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (groups[i].plan != NULL && groups[i].tally.backups > 0)
			return 1;
	return 0;
}

/* Could this run put something in a vault that is not there yet? */
static int
vault_may_be_made(const struct run *r, const struct group *groups,
    size_t n)
{
	size_t	i;

	if (r->simulate || r->vr.path == NULL || r->vr.exists ||
	    r->vr.why != NULL)
		return 0;
	if (r->replace.n > 0)
		return 1;
	for (i = 0; i < r->njobs; i++)
		if (r->jobs[i].replace.n > 0)
			return 1;
	for (i = 0; i < n; i++)
		if (groups[i].flags & (STOW_F_BACKUP | STOW_F_ADOPT))
			return 1;
	return 0;
}

/*
 * Makes the vault's directories when the plans back something up, so
 * that the plans made next see them (the vault may lie in a target, as
 * ~/.local/state does in ~).  An exit code; the message printed.
 */
static int
make_vault(struct run *r, const struct group *groups, size_t n)
{
	if (!plans_back_up(groups, n) || r->vr.path == NULL ||
	    r->vr.exists || r->vr.why != NULL || vault_root_make(&r->vr) == 0)
		return EXIT_OK;
	/* What it made it took away again (and what make_targets() made
	 * goes with the run). */
	display_printf(stderr, "%s: cannot back up: %s; all changes undone\n",
	    r->prog, r->vr.why);
	return EXIT_UNDONE;
}

/* A plan that backs something up needs a vault it may use. */
static int
check_vault(const struct run *r, const struct group *groups, size_t n)
{
	if (!plans_back_up(groups, n))
		return EXIT_OK;
	if (r->vr.why == NULL && r->vr.exists)
		return EXIT_OK;
	display_printf(stderr, "%s: cannot back up: %s; nothing was changed\n",
	    r->prog, r->vr.why != NULL ? r->vr.why : "the vault was not made");
	return EXIT_ERROR;
}

/*
 * After a run that failed and undid its changes, or stopped before
 * making any, takes away the directories it made for itself: the
 * targets that did not exist, and the vault's (those left empty).
 */
static void
unmake(struct run *r)
{
	vault_root_unmake(&r->vr);
	remove_made(&r->made, 0);
}

/* Without any vault (no HOME, XDG_STATE_HOME or backup-dir), files in
 * the way cannot be backed up: they are conflicts, as without
 * --conflict=backup, and the user is told why. */
static void
no_vault(struct run *r)
{
	size_t	i;

	for (i = 0; i < r->njobs; i++) {
		if (!(r->jobs[i].flags & STOW_F_BACKUP))
			continue;
		r->jobs[i].flags &= ~STOW_F_BACKUP;
		r->no_vault = 1;
	}
}

/* The run's package names, for the vault's checks. */
static void
run_packages(const struct run *r, struct strlist *names)
{
	size_t	i;

	for (i = 0; i < r->njobs; i++)
		strlist_add(names, r->jobs[i].name);
}

/*
 * Where another run is going, or a killed run left its journal, the
 * targets are locked (waiting for that run), and a killed run undone,
 * before anything is planned there.  (A simulation reads only: it takes
 * no lock, and plans what is on disk.)
 */
static int
guard_targets(struct run *r, const struct group *groups, size_t ngroups)
{
	int	rc;

	if (r->simulate || !others_there(r, groups, ngroups))
		return EXIT_OK;
	if ((rc = run_lock(r, groups, ngroups, 1)) != EXIT_OK)
		return rc;
	return recover_targets(r);
}

/* Does some group's plan change anything? */
static int
run_changes(const struct group *groups, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (group_changes(&groups[i]))
			return 1;
	return 0;
}

/* Sets each group's journal, now its target is known. */
static void
set_journals(struct run *r, struct group *groups, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		free(groups[i].journal);
		groups[i].journal = journal_for(r, &groups[i]);
	}
}

/*
 * A first, silent plan of every group comes before anything is made,
 * when something must be made first: the targets that do not exist
 * yet, and the vault's directories (which may lie in a target, and must
 * be on disk before the plans that count with them are made).  They
 * are made only when that plan found no error and no conflict (the
 * vault only when something is backed up); then the plans are made
 * again with them in place.  A simulation makes nothing, but is checked
 * the same.
 */
static int
prepare_run(struct run *r, struct group *groups, size_t ngroups)
{
	size_t	nconflicts = 0;
	int	rc;

	if (!targets_missing(groups, ngroups) &&
	    !vault_may_be_made(r, groups, ngroups))
		return EXIT_OK;
	r->silent = 1;
	rc = plan_groups(r, groups, ngroups, &nconflicts);
	if (rc == EXIT_OK && nconflicts == 0 && check_replaces(r) ==
	    EXIT_OK && !r->simulate && run_changes(groups, ngroups) &&
	    (rc = run_lock(r, groups, ngroups, 0)) == EXIT_OK &&
	    (rc = make_targets(r, groups, ngroups)) == EXIT_OK &&
	    (rc = lock_made(r, groups, ngroups)) == EXIT_OK)
		rc = make_vault(r, groups, ngroups);
	r->silent = 0;
	groups_close(groups, ngroups);
	return rc;
}

/* The checks after planning, before anything is applied. */
static int
check_run(struct run *r, struct group *groups, size_t ngroups,
    size_t nconflicts)
{
	int	rc;

	if ((rc = check_replaces(r)) != EXIT_OK)
		return rc;
	if (nconflicts > 0) {
		print_conflicts(r, groups, ngroups);
		if (r->no_vault)
			display_printf(stderr, "%s: files in the way were not backed "
			    "up: %s\n", r->prog, r->vr.why != NULL ?
			    r->vr.why : "there is no vault");
		return EXIT_CONFLICT;
	}
	if (r->simulate)
		return EXIT_OK;
	if ((rc = check_standins(r, groups, ngroups)) != EXIT_OK)
		return rc;
	return check_vault(r, groups, ngroups);
}

/* Is a journal in a target this run holds the lock of (a run killed
 * since this one looked)? */
static int
journal_left(const struct run *r)
{
	size_t	i;

	for (i = 0; i < r->locks.n; i++)
		if (has_file(r->locks.dir[i], JOURNAL_FILE))
			return 1;
	return 0;
}

/*
 * The plans were made before the locks were taken (a run that changes
 * nothing takes none).  Where another run held one, and so may have
 * changed the target meanwhile, they are made again under the locks;
 * where that run was killed, after its journal is undone (it is never
 * written over: it is all that knows what the run left half done).
 * (One that came and went unseen while this run planned is caught by
 * the apply: each operation checks what it changes.)
 */
static int
lock_for_apply(struct run *r, struct group *groups, size_t ngroups)
{
	size_t	nconflicts = 0;
	size_t	waited = r->locks.waited;
	int	rc;

	if (r->simulate || !run_changes(groups, ngroups))
		return EXIT_OK;
	if ((rc = run_lock(r, groups, ngroups, 0)) != EXIT_OK)
		return rc;
	if (journal_left(r)) {
		if ((rc = recover_targets(r)) != EXIT_OK)
			return rc;
	} else if (r->locks.waited == waited)
		return EXIT_OK;
	groups_close(groups, ngroups);
	if ((rc = plan_groups(r, groups, ngroups, &nconflicts)) != EXIT_OK)
		return rc;
	return check_run(r, groups, ngroups, nconflicts);
}

/*
 * Plans every job, reports conflicts (nothing is changed then), and
 * applies.  Returns an exit code.
 */
int
run_plan_and_apply(struct run *r)
{
	struct strlist	 names = { NULL, 0 };
	struct group	*groups = NULL;
	size_t		 ngroups = 0, i, nconflicts = 0;
	int		 rc;

	stamp_run(r);
	run_packages(r, &names);
	vault_root_resolve(&r->vr, r->backup_dir, r->stow_dir, &names);
	strlist_free(&names);
	if ((r->vault = vault_for_run(r)) == NULL)
		no_vault(r);
	for (i = 0; i < r->njobs; i++)
		r->jobs[i].group = group_for(&groups, &ngroups, &r->jobs[i]);
	r->replace_hits = xrealloc(NULL, r->replace.n + 1,
	    sizeof(*r->replace_hits));
	memset(r->replace_hits, 0, (r->replace.n + 1) *
	    sizeof(*r->replace_hits));
	if ((rc = guard_targets(r, groups, ngroups)) == EXIT_OK)
		rc = prepare_run(r, groups, ngroups);
	set_journals(r, groups, ngroups);
	if (rc == EXIT_OK)
		rc = plan_groups(r, groups, ngroups, &nconflicts);
	if (rc == EXIT_OK)
		rc = check_run(r, groups, ngroups, nconflicts);
	if (rc == EXIT_OK)
		rc = lock_for_apply(r, groups, ngroups);
	if (rc == EXIT_OK)
		rc = apply_all(r, groups, ngroups);
	if (rc == EXIT_OK && r->simulate)
		fprintf(stderr, "%s in simulation mode so not modifying "
		    "filesystem.\n", r->color ? SGR_BOLD_YELLOW "WARNING:"
		    SGR_RESET : "WARNING:");
	if ((rc == EXIT_OK || rc == EXIT_CONFLICT) && r->report != NULL)
		report(r, groups, ngroups, rc);
	groups_free(groups, ngroups);
	if (rc != EXIT_OK && rc != EXIT_PARTIAL)
		unmake(r);
	lock_release(&r->locks);
	return rc;
}

/* Notes the controller of a path the run writes (w) or only reads (s). */
static int
note(struct runas *ra, const struct run *r, const char *path)
{
	return runas_note(ra, r->prog, path, ra->write);
}

/*
 * As root, becomes the user whose files this run acts on (runas.c): the
 * user who controls its targets, its vault or HOME (where the state
 * directory is), else the one who controls the stow directory or the
 * configuration read (extra), whose settings could otherwise choose
 * where root writes.  Returns an exit code (the message printed).
 */
int
run_as_user(struct run *r, const char *extra)
{
	struct runas	 w, s;
	char		*path;
	size_t		 i;
	int		 rc = 0;

	memset(&w, 0, sizeof(w));
	memset(&s, 0, sizeof(s));
	w.write = 1;
	rc |= note(&w, r, getenv("HOME"));
	rc |= note(&w, r, getenv("XDG_STATE_HOME"));
	rc |= note(&w, r, r->backup_dir);
	for (i = 0; rc == 0 && i < r->njobs; i++) {
		if (r->jobs[i].target != NULL)
			rc |= note(&w, r, r->jobs[i].target);
		else if (asprintf(&path, "%s/..", r->stow_dir) != -1) {
			rc |= note(&w, r, path);
			free(path);
		}
	}
	rc |= note(&s, r, r->stow_dir);
	rc |= note(&s, r, extra);
	if (rc == 0)
		rc = runas_become(w.set ? &w : &s, r->prog);
	runas_free(&w);
	runas_free(&s);
	return rc == 0 ? EXIT_OK : EXIT_ERROR;
}

/* Notes a run's target (stow_vault_foreach_target()). */
static int
add_target(const char *target, void *payload)
{
	strlist_add(payload, target);
	return 0;
}

/*
 * Takes the locks of the targets a vault run puts things back into, in
 * the order of their names, as run_lock() does.  As root, a target
 * another user controls now is refused: root would restore into what
 * they chose (and a user cannot read root's vault).
 */
static int
lock_restore(struct run *r, struct stow_ctx *ctx, const char *run_dir)
{
	struct strlist	 dirs = { NULL, 0 };
	struct runas	 w;
	size_t		 i;
	int		 rc;

	memset(&w, 0, sizeof(w));
	w.write = 1;
	if ((rc = stow_vault_foreach_target(ctx, run_dir, add_target,
	    &dirs)) != 0) {
		strlist_free(&dirs);
		return rc < 0 ? 2 : rc;
	}
	if (dirs.n > 0)
		qsort(dirs.v, dirs.n, sizeof(*dirs.v), strptr_cmp);
	for (i = 0; rc == 0 && i < dirs.n; i++) {
		if (geteuid() == 0 && (note(&w, r, dirs.v[i]) != 0 || w.set)) {
			if (w.set)
				display_printf(stderr, "%s: cannot restore as root into "
				    "%s: uid %lu controls it now\n", r->prog,
				    dirs.v[i], (unsigned long)w.uid);
			rc = 1;
		} else if (lock_dir(r, dirs.v[i]) != EXIT_OK)
			rc = 1;
	}
	runas_free(&w);
	strlist_free(&dirs);
	return rc;
}

/*
 * --restore: puts vault run run_dir back, under the locks of the
 * targets it puts things into, as every other changing run takes them
 * (a check, with STOW_RESTORE_CHECK, takes none).  An exit code.
 */
int
run_restore(struct run *r, struct stow_ctx *ctx, const char *run_dir,
    stow_op_cb cb, void *payload)
{
	int	rc = 0;

	if (!r->simulate && (rc = lock_restore(r, ctx, run_dir)) > 0) {
		if (rc == 2)
			display_printf(stderr, "%s: %s\n", r->prog,
			    stow_ctx_errmsg(ctx));
		lock_release(&r->locks);
		return EXIT_ERROR;
	}
	if (rc == 0)
		rc = stow_vault_restore(ctx, run_dir, r->simulate ?
		    STOW_RESTORE_CHECK : 0, cb, payload);
	lock_release(&r->locks);
	if (rc != 0)
		display_printf(stderr, "%s: %s\n", r->prog, stow_ctx_errmsg(ctx));
	return rc == 0 ? EXIT_OK : rc == STOW_ECONFLICT ? EXIT_CONFLICT :
	    EXIT_ERROR;
}

void
run_free(struct run *r)
{
	size_t	i;

	for (i = 0; i < r->njobs; i++) {
		free(r->jobs[i].name);
		free(r->jobs[i].target);
		strlist_free(&r->jobs[i].ignore);
		strlist_free(&r->jobs[i].replace);
	}
	free(r->jobs);
	strlist_free(&r->defer);
	strlist_free(&r->override);
	strlist_free(&r->replace);
	free(r->replace_hits);
	free(r->vault);
	strlist_free(&r->made);
	vault_root_free(&r->vr);
	r->jobs = NULL;
	r->njobs = 0;
}
