/*
 * apply.c: reading a plan back as data, and carrying it out.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "extern.h"

/* The kind of operation task t makes; 0 for a SKIP task. */
enum stow_op_kind
task_kind(const struct task *t)
{
	switch (t->action) {
	case T_CREATE:
		return t->type == T_DIR ? STOW_OP_MKDIR : STOW_OP_LINK;
	case T_REMOVE:
		return t->type == T_DIR ? STOW_OP_RMDIR : STOW_OP_UNLINK;
	case T_MOVE:
		return STOW_OP_MOVE;
	case T_BACKUP:
		return STOW_OP_BACKUP;
	default:
		return 0;
	}
}

/* The public view of a task; SKIP tasks have none. */
static int
task_to_op(const struct task *t, struct stow_op *op)
{
	memset(op, 0, sizeof(*op));
	if ((op->kind = task_kind(t)) == 0)
		return 0;
	op->path = t->path;
	op->package = t->package;
	if (op->kind == STOW_OP_MOVE || op->kind == STOW_OP_BACKUP)
		op->dest = t->dest;
	if (t->type == T_LINK)
		op->link = t->source;
	return 1;
}

STOW_API size_t
stow_plan_op_count(const struct stow_plan *plan)
{
	struct stow_op	op;
	size_t		i, n = 0;

	if (plan == NULL || plan->magic != PLAN_MAGIC)
		return 0;
	for (i = 0; i < plan->tasks.len; i++)
		n += (size_t)task_to_op(plan->tasks.items[i], &op);
	return n;
}

STOW_API int
stow_plan_foreach_op(const struct stow_plan *plan, stow_op_cb cb,
    void *payload)
{
	struct stow_op	op;
	size_t		i;
	int		rc;

	if (plan == NULL || plan->magic != PLAN_MAGIC || cb == NULL)
		return STOW_EMISUSE;
	for (i = 0; i < plan->tasks.len; i++) {
		if (task_to_op(plan->tasks.items[i], &op) &&
		    (rc = cb(&op, payload)) != 0)
			return rc;
	}
	return 0;
}

STOW_API size_t
stow_plan_unchanged_count(const struct stow_plan *plan)
{
	if (plan == NULL || plan->magic != PLAN_MAGIC)
		return 0;
	return plan->unchanged;
}

STOW_API size_t
stow_plan_conflict_count(const struct stow_plan *plan)
{
	if (plan == NULL || plan->magic != PLAN_MAGIC)
		return 0;
	return plan->conflicts.len;
}

/* GNU Stow's report order: unstow before stow, then package, then
 * message, each sorted bytewise. */
static int
conflict_cmp(const void *a, const void *b)
{
	const struct conflict	*x = *(const struct conflict * const *)a;
	const struct conflict	*y = *(const struct conflict * const *)b;
	int			 rc;

	if (x->action != y->action)
		return x->action == STOW_ACTION_UNSTOW ? -1 : 1;
	if ((rc = strcmp(x->package, y->package)) != 0)
		return rc;
	return strcmp(x->message, y->message);
}

STOW_API int
stow_plan_foreach_conflict(const struct stow_plan *plan,
    stow_conflict_cb cb, void *payload)
{
	struct conflict		**sorted, *c;
	struct stow_conflict	  pub;
	size_t			  i, n;
	int			  rc = 0;

	if (plan == NULL || plan->magic != PLAN_MAGIC || cb == NULL)
		return STOW_EMISUSE;
	if ((n = plan->conflicts.len) == 0)
		return 0;
	if ((sorted = reallocarray(NULL, n, sizeof(*sorted))) == NULL)
		return err_nomem(plan->ctx);
	memcpy(sorted, plan->conflicts.items, n * sizeof(*sorted));
	qsort(sorted, n, sizeof(*sorted), conflict_cmp);
	for (i = 0; i < n && rc == 0; i++) {
		c = sorted[i];
		pub.action = c->action;
		pub.kind = c->kind;
		pub.package = c->package;
		pub.path = c->path;
		pub.message = c->message;
		rc = cb(&pub, payload);
	}
	free(sorted);
	return rc;
}

/* The system call behind a kind of operation, for messages. */
static const char *
op_verb(enum stow_op_kind kind)
{
	switch (kind) {
	case STOW_OP_MKDIR:
		return "mkdir";
	case STOW_OP_RMDIR:
		return "rmdir";
	case STOW_OP_LINK:
		return "symlink";
	case STOW_OP_UNLINK:
		return "unlink";
	case STOW_OP_MOVE:
		return "rename";
	case STOW_OP_BACKUP:
		return "backup";
	}
	return "apply";
}

/* With STOW_F_CHOWN, hands what was made at leaf of fd to the target's
 * owner. */
static int
give_away(struct stow_ctx *ctx, int fd, const char *leaf, const char *path)
{
	if (!ctx->chown)
		return 0;
	if (fs_lchown(fd, leaf, ctx->owner_uid, ctx->owner_gid) == -1)
		return err_os(ctx, "lchown", path);
	return 0;
}

/*
 * Makes or undoes the moves: between path (relative to the target) and
 * dest.  Each side is reached through walk_parent(), whose two slots
 * keep both descriptors open at once.
 */
static int
move_between(struct stow_ctx *ctx, const char *from, const char *to)
{
	const char	*fleaf, *tleaf;
	int		 ffd, tfd, rc = -1;

	if ((ffd = walk_parent(ctx, from, &fleaf)) != -1 &&
	    (tfd = walk_parent(ctx, to, &tleaf)) != -1)
		rc = fs_move_at(ffd, fleaf, tfd, tleaf);
	walk_forget(ctx);
	return rc;
}

/* Carries out step u; errors name the system call and path. */
static int
run_op(struct stow_ctx *ctx, struct arena *a, struct undo *u)
{
	const struct task	*t = u->task;
	enum stow_op_kind	 kind = task_kind(t);
	const char		*leaf;
	char			 placed[PATH_MAX];
	int			 fd, rc = 0;

	if ((fd = walk_parent(ctx, u->path, &leaf)) == -1)
		return err_os(ctx, op_verb(kind), u->path);
	switch (kind) {
	case STOW_OP_MKDIR:
		if (fs_mkdir(fd, leaf) == -1)
			return err_os(ctx, "mkdir", u->path);
		/* Each operation is whole or not at all. */
		if ((rc = give_away(ctx, fd, leaf, u->path)) != 0)
			(void)fs_rmdir(fd, leaf);
		return rc;
	case STOW_OP_LINK:
		if (fs_symlink(t->source, fd, leaf) == -1)
			return err_os(ctx, "symlink", u->path);
		if ((rc = give_away(ctx, fd, leaf, u->path)) != 0)
			(void)fs_unlink(fd, leaf);
		return rc;
	case STOW_OP_UNLINK:
		if (fs_unlink(fd, leaf) == -1)
			return err_os(ctx, "unlink", u->path);
		return 0;
	case STOW_OP_RMDIR:
		if (fs_rmdir(fd, leaf) == -1)
			rc = err_os(ctx, "rmdir", u->path);
		break;
	case STOW_OP_MOVE:
		if (move_between(ctx, u->path, t->dest) == -1)
			rc = err_os(ctx, "rename", u->path);
		break;
	case STOW_OP_BACKUP:
		rc = vault_backup(ctx, u->path, u->more->orig != NULL ?
		    u->more->orig : u->path, t->dest, placed, sizeof(placed),
		    &u->more->manifest_size);
		if (rc == 0 && (u->more->placed = arena_strdup(a,
		    placed)) == NULL)
			rc = err_nomem(ctx);
		break;
	}
	/* What was a directory may be gone or elsewhere now. */
	walk_forget(ctx);
	return rc;
}

/* Undoes step u, which was made; -1 (errno set) on failure. */
int
undo_op(struct stow_ctx *ctx, const struct undo *u)
{
	const struct task	*t = u->task;
	struct arena		 a = { NULL };
	const char		*leaf, *text;
	int			 fd, rc = 0;

	if ((fd = walk_parent(ctx, u->path, &leaf)) == -1)
		return -1;
	if (u->more != NULL && u->more->swapped != NULL) {
		rc = fs_exchange(fd, leaf, path_basename(u->more->swapped));
		walk_forget(ctx);
		return rc;
	}
	switch (task_kind(t)) {
	case STOW_OP_LINK:
		/* Remove only the link made, nothing that replaced it. */
		if ((text = fs_readlink(&a, fd, leaf)) == NULL ||
		    strcmp(text, t->source) != 0)
			rc = -1;
		arena_free(&a);
		return rc == 0 ? fs_unlink(fd, leaf) : -1;
	case STOW_OP_UNLINK:
		return fs_symlink(t->source, fd, leaf);
	case STOW_OP_MKDIR:
		rc = fs_rmdir(fd, leaf);
		break;
	case STOW_OP_RMDIR:
		if ((rc = mkdirat(fd, leaf, u->more->mode)) == 0 &&
		    give_away(ctx, fd, leaf, u->path) != 0)
			rc = -1;
		break;
	case STOW_OP_MOVE:
		rc = move_between(ctx, t->dest, u->path);
		break;
	case STOW_OP_BACKUP:
		rc = vault_unbackup(ctx, u->path, u->more->placed,
		    u->more->manifest_size) == 0 ? 0 : -1;
		break;
	}
	walk_forget(ctx);
	return rc;
}

/*
 * After a failure, undoes the n steps made, newest first, so the
 * target and the stow directory are as they were; the journal learns of
 * each, so that a run killed meanwhile is not undone twice.  Returns
 * rc, the original failure, with "; all changes undone" added to its
 * message; or STOW_EPARTIAL, listing what could not be undone.
 */
static int
roll_back(struct stow_ctx *ctx, struct undo *undo, size_t n, int rc)
{
	struct strbuf	 left = { NULL, 0, 0 };
	char		 first[sizeof(ctx->errmsg)];
	const char	*verb;
	size_t		 i;
	int		 saved = ctx->saved_errno;

	strlcpy(first, ctx->errmsg, sizeof(first));
	for (i = n; i-- > 0; ) {
		if (undo_op(ctx, &undo[i]) == 0) {
			(void)journal_undone(ctx, &undo[i]);
			continue;
		}
		verb = task_kind(undo[i].task) == STOW_OP_LINK ? "link" :
		    task_kind(undo[i].task) == STOW_OP_UNLINK ? "unlink" :
		    task_kind(undo[i].task) == STOW_OP_MOVE ? "move" :
		    op_verb(task_kind(undo[i].task));
		(void)strbuf_printf(&left, "%s%s %.200s", left.len > 0 ?
		    ", " : "", verb, undo[i].path);
	}
	walk_forget(ctx);
	if (left.len == 0) {
		err_set(ctx, rc, "%s; all changes undone", first);
		ctx->saved_errno = saved;
		return rc;
	}
	err_set(ctx, STOW_EPARTIAL, "%s; could not undo: %s", first,
	    strbuf_str(&left));
	ctx->saved_errno = saved;
	strbuf_free(&left);
	return STOW_EPARTIAL;
}

/* Whether to stop before task t: the cancel callback, then cb. */
static int
before_op(struct stow_ctx *ctx, const struct task *t, stow_op_cb cb,
    void *payload)
{
	struct stow_op	op;

	if (ctx->cancel_cb != NULL && ctx->cancel_cb(ctx->cancel_payload))
		return err_set(ctx, STOW_ECANCELLED, "cancelled before %s",
		    t->path);
	if (cb != NULL && task_to_op(t, &op))
		return cb(&op, payload);
	return 0;
}

/* Does kind take a path away (so that a creation there may swap in)? */
static int
removes(enum stow_op_kind kind)
{
	return kind == STOW_OP_UNLINK || kind == STOW_OP_BACKUP ||
	    kind == STOW_OP_MOVE || kind == STOW_OP_RMDIR;
}

static int
creates(enum stow_op_kind kind)
{
	return kind == STOW_OP_LINK || kind == STOW_OP_MKDIR;
}

/* Where a removal is followed by a creation at the same path. */
static int
is_swap(struct task **tasks, size_t ntasks, size_t i)
{
	return i + 1 < ntasks && removes(task_kind(tasks[i])) &&
	    creates(task_kind(tasks[i + 1])) &&
	    strcmp(tasks[i]->path, tasks[i + 1]->path) == 0;
}

/* A link, unlink or mkdir that is not half of a swap: it needs nothing
 * looked up before it is journalled, so a run of them shares one
 * journal write. */
static int
is_plain(struct task **tasks, size_t ntasks, size_t i)
{
	enum stow_op_kind	kind = task_kind(tasks[i]);

	return (creates(kind) || kind == STOW_OP_UNLINK) &&
	    !is_swap(tasks, ntasks, i) &&
	    (i == 0 || !is_swap(tasks, ntasks, i - 1));
}

/* The undo record of task t about to be made at path; the extra part
 * when its kind needs one.  NULL when out of memory. */
static struct undo *
undo_start(struct stow_plan *plan, struct undo *u, const struct task *t,
    const char *path)
{
	enum stow_op_kind	kind = task_kind(t);

	u->task = t;
	u->path = path;
	u->more = NULL;
	u->step = 0;
	if (kind == STOW_OP_RMDIR || kind == STOW_OP_BACKUP) {
		if ((u->more = arena_alloc(&plan->arena,
		    sizeof(*u->more))) == NULL)
			return NULL;
		memset(u->more, 0, sizeof(*u->more));
		u->more->manifest_size = -1;
	}
	return u;
}

/* Journals and makes task t at path (orig: where a backed-up entry
 * was, if not there), recording its undo as undo[*n]. */
static int
run_recorded(struct stow_plan *plan, const struct task *t,
    const char *path, const char *orig, struct undo *undo, size_t *n)
{
	struct stow_ctx	*ctx = plan->ctx;
	struct undo	*u;
	struct stat	 st;
	const char	*leaf;
	int		 fd, rc;

	if ((u = undo_start(plan, &undo[*n], t, path)) == NULL)
		return err_nomem(ctx);
	if (u->more != NULL)
		u->more->orig = orig;
	/* What undoing needs must be known before the journal says it. */
	if (task_kind(t) == STOW_OP_RMDIR) {
		if ((fd = walk_parent(ctx, path, &leaf)) == -1 ||
		    fs_lstat(fd, leaf, &st) == -1)
			return err_os(ctx, "lstat", path);
		u->more->mode = st.st_mode & 07777;
	}
	if ((rc = journal_step(ctx, u)) != 0 ||
	    (rc = journal_sync(ctx)) != 0)
		return rc;
	if ((rc = run_op(ctx, &plan->arena, u)) != 0)
		return rc;
	(*n)++;
	return task_kind(t) == STOW_OP_BACKUP ? journal_placed(ctx, u) : 0;
}

/*
 * Makes tasks[from..to), all plain, with one journal write for the lot:
 * a kill can come anywhere in the run, and recovery tells the steps made
 * from those not yet made by the disk.  With tmp set, each path under p
 * is made under tmp instead (a swap's new entry).
 */
static int
run_plain(struct stow_plan *plan, struct task **tasks, size_t from,
    size_t to, const char *p, const char *tmp, struct undo *undo,
    size_t *n)
{
	struct stow_ctx	*ctx = plan->ctx;
	const char	*path;
	size_t		 k, plen = p != NULL ? strlen(p) : 0;
	int		 rc;

	for (k = from; k < to; k++) {
		path = tasks[k]->path;
		if (tmp != NULL && (path = arena_printf(&plan->arena, "%s%s",
		    tmp, path + plen)) == NULL)
			return err_nomem(ctx);
		undo_start(plan, &undo[*n + k - from], tasks[k], path);
		if ((rc = journal_step(ctx, &undo[*n + k - from])) != 0)
			return rc;
	}
	if ((rc = journal_sync(ctx)) != 0)
		return rc;
	for (k = from; k < to; k++) {
		if ((rc = run_op(ctx, &plan->arena, &undo[*n])) != 0)
			return rc;
		(*n)++;
	}
	return 0;
}

/* The end of the swap at tasks[i]: its removal, its creation and, when
 * that is a directory (an unfolding), the creations below it, which are
 * made before it swaps in. */
static size_t
swap_end(struct task **tasks, size_t ntasks, size_t i)
{
	size_t	j = i + 2;

	while (task_kind(tasks[i + 1]) == STOW_OP_MKDIR && j < ntasks &&
	    creates(task_kind(tasks[j])) &&
	    path_is_under(tasks[j]->path, tasks[i]->path, NULL))
		j++;
	return j;
}

/*
 * A removal of path p followed by a creation at p (a link replaced, a
 * file backed up or adopted and linked, a directory folded or a link
 * unfolded) is carried out so that p never goes missing: the new entry
 * is built beside p under a temporary name (an unfolded directory with
 * all its contents), exchanged with p (RENAME_EXCHANGE), and then the
 * removal is applied to the old entry under the temporary name.
 * *used is how many tasks this consumed.  Where the file system cannot
 * exchange, the steps so far are undone (and the journal told) and
 * *used is 0.
 */
static int
swap_in(struct stow_plan *plan, struct task **tasks, size_t ntasks,
    size_t i, struct undo *undo, size_t *n, size_t *used)
{
	struct stow_ctx	*ctx = plan->ctx;
	const char	*p = tasks[i]->path, *tmp, *leaf;
	size_t		 j, start = *n;
	struct undo	*x;
	struct stat	 st;
	int		 fd, saved, rc;

	*used = 0;
	if ((tmp = arena_printf(&plan->arena, "%s.cstow-new.%ld", p,
	    (long)getpid())) == NULL)
		return err_nomem(ctx);
	j = swap_end(tasks, ntasks, i);
	if ((rc = run_plain(plan, tasks, i + 1, j, p, tmp, undo, n)) != 0)
		return rc;
	x = undo_start(plan, &undo[*n], tasks[i + 1], tmp);
	if ((x->more = arena_alloc(&plan->arena, sizeof(*x->more))) == NULL)
		return err_nomem(ctx);
	memset(x->more, 0, sizeof(*x->more));
	x->more->swapped = p;
	/* Recovery knows the new entry by its identity once swapped in. */
	if ((fd = walk_parent(ctx, tmp, &leaf)) == -1 ||
	    fs_lstat(fd, leaf, &st) == -1)
		return err_os(ctx, "lstat", tmp);
	x->more->dev = st.st_dev;
	x->more->ino = st.st_ino;
	if ((rc = journal_step(ctx, x)) != 0 ||
	    (rc = journal_sync(ctx)) != 0)
		return rc;
	if ((fd = walk_parent(ctx, p, &leaf)) == -1)
		return err_os(ctx, "rename", p);
	if (fs_exchange(fd, path_basename(tmp), leaf) == -1) {
		saved = errno;
		walk_forget(ctx);
		if (saved != EINVAL && saved != ENOSYS && saved != EOPNOTSUPP)
			return err_os(ctx, "rename", p);
		(void)journal_undone(ctx, x);
		while (*n > start) {
			if (undo_op(ctx, &undo[*n - 1]) == -1)
				return err_os(ctx, "undo", undo[*n - 1].path);
			(void)journal_undone(ctx, &undo[--*n]);
		}
		return 0;
	}
	walk_forget(ctx);
	(*n)++;
	if ((rc = run_recorded(plan, tasks[i], tmp, p, undo, n)) != 0)
		return rc;
	*used = j - i;
	return 0;
}

static size_t
count_swaps(struct task **tasks, size_t ntasks)
{
	size_t	i, n = 0;

	for (i = 0; i < ntasks; i++)
		n += (size_t)is_swap(tasks, ntasks, i);
	return n;
}

/* Drops the tasks that make nothing (SKIP) from the plan's list. */
static void
drop_skips(struct stow_plan *plan)
{
	size_t	i, n = 0;

	for (i = 0; i < plan->tasks.len; i++)
		if (task_kind(plan->tasks.items[i]) != 0)
			plan->tasks.items[n++] = plan->tasks.items[i];
	plan->tasks.len = n;
}

/*
 * Makes tasks[i..]: a swap, a batch of plain tasks, or one other task.
 * *next is the task after those made.
 */
static int
run_next(struct stow_plan *plan, struct task **tasks, size_t ntasks,
    size_t i, struct undo *undo, size_t *n, stow_op_cb cb, void *payload,
    size_t *next)
{
	struct stow_ctx	*ctx = plan->ctx;
	size_t		 k, end, used;
	int		 rc, stop = 0;

	*next = i + 1;
	if ((rc = before_op(ctx, tasks[i], cb, payload)) != 0)
		return rc;
	if (is_swap(tasks, ntasks, i)) {
		/* Report the whole swap before any of it is made. */
		end = swap_end(tasks, ntasks, i);
		for (k = i + 1; rc == 0 && k < end; k++)
			rc = before_op(ctx, tasks[k], cb, payload);
		if (rc != 0 || (rc = swap_in(plan, tasks, ntasks, i, undo, n,
		    &used)) != 0)
			return rc;
		if (used > 0) {
			*next = i + used;
			return 0;
		}
	} else if (is_plain(tasks, ntasks, i)) {
		/* Each is reported before the batch is made: a stop at k
		 * makes those before it, as one at a time would. */
		for (k = i + 1; k < ntasks && k - i < JOURNAL_BATCH &&
		    is_plain(tasks, ntasks, k); k++)
			if ((stop = before_op(ctx, tasks[k], cb, payload)) != 0)
				break;
		*next = k;
		rc = run_plain(plan, tasks, i, k, NULL, NULL, undo, n);
		return rc != 0 ? rc : stop;
	}
	return run_recorded(plan, tasks[i], tasks[i]->path, NULL, undo, n);
}

STOW_API int
stow_plan_apply(struct stow_plan *plan, stow_op_cb cb, void *payload)
{
	struct stow_ctx	 *ctx;
	struct task	**tasks;
	struct undo	 *undo;
	size_t		  i, ntasks, n = 0;
	int		  rc = 0;

	if (plan == NULL || plan->magic != PLAN_MAGIC)
		return STOW_EMISUSE;
	ctx = plan->ctx;
	if (plan->state == PLAN_BROKEN)
		return err_set(ctx, STOW_EMISUSE,
		    "the plan is unusable after an earlier failure");
	if (plan->state != PLAN_NEW)
		return err_set(ctx, STOW_EMISUSE,
		    "the plan was already applied");
	if (plan->conflicts.len > 0)
		return err_set(ctx, STOW_ECONFLICT, "%zu conflict%s: nothing "
		    "was changed", plan->conflicts.len,
		    plan->conflicts.len == 1 ? "" : "s");
	drop_skips(plan);
	tasks = (struct task **)plan->tasks.items;
	ntasks = plan->tasks.len;
	/* A swap records one undo step more than its tasks. */
	if ((undo = arena_alloc(&plan->arena, (ntasks + count_swaps(tasks,
	    ntasks) + 1) * sizeof(*undo))) == NULL)
		return err_nomem(ctx);
	plan->state = PLAN_APPLIED;
	if (ntasks > 0 && (rc = journal_open(ctx)) != 0) {
		journal_close(ctx);
		return roll_back(ctx, undo, 0, rc);
	}
	for (i = 0; i < ntasks && rc == 0; )
		rc = run_next(plan, tasks, ntasks, i, undo, &n, cb, payload,
		    &i);
	walk_forget(ctx);
	if (rc != 0)
		rc = roll_back(ctx, undo, n, rc);
	/* Done or undone: nothing for a later run to recover. */
	journal_close(ctx);
	if (rc != 0)
		return rc;
	/* Kept, so that a caller applying several plans as one run can
	 * undo this one when a later one fails. */
	plan->undo = undo;
	plan->nundo = n;
	return 0;
}

/*
 * Begins the journal of a revert: the n steps of an apply, all made, as
 * the apply wrote them (where each backup went too).  roll_back() then
 * marks each one undone, so that a run killed while it reverts is
 * undone by the next, as one killed while it applies is.
 */
static int
journal_made(struct stow_ctx *ctx, struct undo *undo, size_t n)
{
	size_t	i;
	int	rc;

	if ((rc = journal_open(ctx)) != 0)
		return rc;
	for (i = 0; i < n; i++) {
		if ((rc = journal_step(ctx, &undo[i])) != 0)
			return rc;
		if (task_kind(undo[i].task) == STOW_OP_BACKUP &&
		    (rc = journal_placed(ctx, &undo[i])) != 0)
			return rc;
	}
	return journal_sync(ctx);
}

STOW_API int
stow_plan_revert(struct stow_plan *plan)
{
	struct stow_ctx	*ctx;
	int		 rc;

	if (plan == NULL || plan->magic != PLAN_MAGIC)
		return STOW_EMISUSE;
	ctx = plan->ctx;
	if (plan->state != PLAN_APPLIED || plan->undo == NULL)
		return err_set(ctx, STOW_EMISUSE,
		    "only a plan applied in full can be reverted");
	/* Without a journal the revert goes on all the same: undone is
	 * better than left half applied. */
	if (plan->nundo > 0 && journal_made(ctx, plan->undo,
	    plan->nundo) != 0)
		journal_close(ctx);
	err_set(ctx, STOW_OK, "reverting an applied plan");
	rc = roll_back(ctx, plan->undo, plan->nundo, STOW_OK);
	journal_close(ctx);
	plan->undo = NULL;
	plan->state = PLAN_BROKEN;
	return rc;
}
