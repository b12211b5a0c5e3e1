/*
 * apply.c: reading a plan back as data, and carrying it out.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "extern.h"

/* The public view of a task; SKIP tasks have none. */
static int
task_to_op(const struct task *t, struct stow_op *op)
{
	memset(op, 0, sizeof(*op));
	op->path = t->path;
	op->package = t->package;
	switch (t->action) {
	case T_CREATE:
		op->kind = t->type == T_DIR ? STOW_OP_MKDIR : STOW_OP_LINK;
		break;
	case T_REMOVE:
		op->kind = t->type == T_DIR ? STOW_OP_RMDIR : STOW_OP_UNLINK;
		break;
	case T_MOVE:
		op->kind = STOW_OP_MOVE;
		op->dest = t->dest;
		break;
	case T_BACKUP:
		op->kind = STOW_OP_BACKUP;
		op->dest = t->dest;
		break;
	default:
		return 0;
	}
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

/* With STOW_F_CHOWN, hands what was made at path to the target's owner. */
static int
give_away(struct stow_ctx *ctx, const char *path)
{
	if (!ctx->chown)
		return 0;
	if (fs_lchown(ctx->target_fd, path, ctx->owner_uid,
	    ctx->owner_gid) == -1)
		return err_os(ctx, "lchown", path);
	return 0;
}


/* Carries out one operation; errors name the system call and path. */
static int
run_op(struct stow_ctx *ctx, struct arena *a, struct undo *u)
{
	const struct stow_op	*op = &u->op;
	char			 placed[PATH_MAX];
	int			 fd = ctx->target_fd, rc;

	switch (op->kind) {
	case STOW_OP_MKDIR:
		if (fs_mkdir(fd, op->path) == -1)
			return err_os(ctx, "mkdir", op->path);
		/* Each operation is whole or not at all. */
		if ((rc = give_away(ctx, op->path)) != 0)
			(void)fs_rmdir(fd, op->path);
		return rc;
	case STOW_OP_RMDIR:
		if (fs_rmdir(fd, op->path) == -1)
			return err_os(ctx, "rmdir", op->path);
		break;
	case STOW_OP_LINK:
		if (fs_symlink(op->link, fd, op->path) == -1)
			return err_os(ctx, "symlink", op->path);
		if ((rc = give_away(ctx, op->path)) != 0)
			(void)fs_unlink(fd, op->path);
		return rc;
	case STOW_OP_UNLINK:
		if (fs_unlink(fd, op->path) == -1)
			return err_os(ctx, "unlink", op->path);
		break;
	case STOW_OP_MOVE:
		if (fs_move(fd, op->path, op->dest) == -1)
			return err_os(ctx, "rename", op->path);
		break;
	case STOW_OP_BACKUP:
		if ((rc = vault_backup(ctx, op->path, u->orig != NULL ?
		    u->orig : op->path, op->dest, placed, sizeof(placed),
		    &u->manifest_size)) != 0)
			return rc;
		if ((u->placed = arena_strdup(a, placed)) == NULL)
			return err_nomem(ctx);
		break;
	}
	return 0;
}

/* Undoes one operation that was made; -1 (errno set) on failure. */
int
undo_op(struct stow_ctx *ctx, const struct undo *u)
{
	const struct stow_op	*op = &u->op;
	struct arena		 a = { NULL };
	const char		*text;
	int			 fd = ctx->target_fd, rc = 0;

	if (u->swapped != NULL)
		return fs_exchange(fd, op->path, u->swapped);
	switch (op->kind) {
	case STOW_OP_MKDIR:
		return fs_rmdir(fd, op->path);
	case STOW_OP_RMDIR:
		if (mkdirat(fd, op->path, u->mode) == -1)
			return -1;
		return give_away(ctx, op->path) == 0 ? 0 : -1;
	case STOW_OP_LINK:
		/* Remove only the link made, nothing that replaced it. */
		if ((text = fs_readlink(&a, fd, op->path)) == NULL ||
		    strcmp(text, op->link) != 0)
			rc = -1;
		arena_free(&a);
		return rc == 0 ? fs_unlink(fd, op->path) : -1;
	case STOW_OP_UNLINK:
		return fs_symlink(op->link, fd, op->path);
	case STOW_OP_MOVE:
		return fs_move(fd, op->dest, op->path);
	case STOW_OP_BACKUP:
		return vault_unbackup(ctx, op->path, u->placed,
		    u->manifest_size) == 0 ? 0 : -1;
	}
	return 0;
}

/*
 * After a failure, undoes the n operations made, newest first, so the
 * target and the stow directory are as they were.  Returns rc, the
 * original failure, with "; all changes undone" added to its message;
 * or STOW_EPARTIAL, listing what could not be undone.
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
		if (undo_op(ctx, &undo[i]) == 0)
			continue;
		verb = undo[i].op.kind == STOW_OP_LINK ? "link" :
		    undo[i].op.kind == STOW_OP_UNLINK ? "unlink" :
		    undo[i].op.kind == STOW_OP_MKDIR ? "mkdir" :
		    undo[i].op.kind == STOW_OP_RMDIR ? "rmdir" :
		    undo[i].op.kind == STOW_OP_MOVE ? "move" : "backup";
		(void)strbuf_printf(&left, "%s%s %.200s", left.len > 0 ?
		    ", " : "", verb, undo[i].op.path);
	}
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

/* Whether to stop before the next operation: cancel callback, then cb. */
static int
before_op(struct stow_ctx *ctx, const struct stow_op *op, stow_op_cb cb,
    void *payload)
{
	if (ctx->cancel_cb != NULL && ctx->cancel_cb(ctx->cancel_payload))
		return err_set(ctx, STOW_ECANCELLED, "cancelled before %s",
		    op->path);
	if (cb != NULL)
		return cb(op, payload);
	return 0;
}

/* Does op take path away (so that a creation at path may swap in)? */
static int
removes(const struct stow_op *op)
{
	return op->kind == STOW_OP_UNLINK || op->kind == STOW_OP_BACKUP ||
	    op->kind == STOW_OP_MOVE || op->kind == STOW_OP_RMDIR;
}

static int
creates(const struct stow_op *op)
{
	return op->kind == STOW_OP_LINK || op->kind == STOW_OP_MKDIR;
}

/* Runs op (maybe moved to path) and records its undo as undo[*n]. */
static int
run_recorded(struct stow_plan *plan, const struct stow_op *op,
    const char *path, const char *orig, struct undo *undo, size_t *n)
{
	struct undo	*u = &undo[*n];
	struct stat	 st;
	int		 rc;

	memset(u, 0, sizeof(*u));
	u->op = *op;
	u->op.path = path;
	u->orig = orig;
	/* What undoing needs must be known before the journal says it. */
	if (op->kind == STOW_OP_RMDIR) {
		if (fs_lstat(plan->ctx->target_fd, path, &st) == -1)
			return err_os(plan->ctx, "lstat", path);
		u->mode = st.st_mode & 07777;
	}
	if ((rc = journal_step(plan->ctx, u)) != 0)
		return rc;
	if ((rc = run_op(plan->ctx, &plan->arena, u)) == 0) {
		(*n)++;
		if (op->kind == STOW_OP_BACKUP)
			rc = journal_placed(plan->ctx, u);
	}
	return rc;
}

/*
 * A removal of path p followed by a creation at p (a link replaced, a
 * file backed up or adopted and linked, a directory folded or a link
 * unfolded) is carried out so that p never goes missing: the new entry
 * is built beside p under a temporary name (an unfolded directory with
 * all its contents), exchanged with p (RENAME_EXCHANGE), and then the
 * removal is applied to the old entry under the temporary name.
 * *used is how many operations this consumed.  Where the file system
 * cannot exchange, the steps so far are undone and *used is 0.
 */
static int
swap_in(struct stow_plan *plan, const struct stow_op *ops, size_t nops,
    size_t i, struct undo *undo, size_t *n, size_t *used)
{
	struct stow_ctx	*ctx = plan->ctx;
	const char	*p = ops[i].path;
	size_t		 j = i + 2, start = *n, plen = strlen(p);
	char		*tmp, *sub;
	int		 rc, saved;

	*used = 0;
	if ((tmp = arena_printf(&plan->arena, "%s.cstow-new.%ld", p,
	    (long)getpid())) == NULL)
		return err_nomem(ctx);
	if ((rc = run_recorded(plan, &ops[i + 1], tmp, NULL, undo, n)) != 0)
		return rc;
	for (; ops[i + 1].kind == STOW_OP_MKDIR && j < nops &&
	    path_is_under(ops[j].path, p, NULL); j++) {
		if ((sub = arena_printf(&plan->arena, "%s%s", tmp,
		    ops[j].path + plen)) == NULL)
			return err_nomem(ctx);
		if ((rc = run_recorded(plan, &ops[j], sub, NULL, undo,
		    n)) != 0)
			return rc;
	}
	memset(&undo[*n], 0, sizeof(undo[*n]));
	undo[*n].op.path = tmp;
	undo[*n].op.link = ops[i + 1].link;
	undo[*n].newdir = ops[i + 1].kind == STOW_OP_MKDIR;
	undo[*n].swapped = p;
	if ((rc = journal_step(ctx, &undo[*n])) != 0)
		return rc;
	if (fs_exchange(ctx->target_fd, tmp, p) == -1) {
		saved = errno;
		if (saved != EINVAL && saved != ENOSYS && saved != EOPNOTSUPP)
			return err_os(ctx, "rename", p);
		while (*n > start)
			(void)undo_op(ctx, &undo[--*n]);
		return 0;
	}
	(*n)++;
	if ((rc = run_recorded(plan, &ops[i], tmp, p, undo, n)) != 0)
		return rc;
	*used = j - i;
	return 0;
}

/* Where a removal is followed by a creation at the same path. */
static int
is_swap(const struct stow_op *ops, size_t nops, size_t i)
{
	return i + 1 < nops && removes(&ops[i]) && creates(&ops[i + 1]) &&
	    strcmp(ops[i].path, ops[i + 1].path) == 0;
}

static size_t
count_swaps(const struct stow_op *ops, size_t nops)
{
	size_t	i, n = 0;

	for (i = 0; i < nops; i++)
		n += (size_t)is_swap(ops, nops, i);
	return n;
}

/* The plan's operations, in order, as an array. */
static struct stow_op *
plan_ops(struct stow_plan *plan, size_t *nops)
{
	struct stow_op	*ops;
	size_t		 i;

	*nops = 0;
	if ((ops = arena_alloc(&plan->arena, (plan->tasks.len + 1) *
	    sizeof(*ops))) == NULL)
		return NULL;
	for (i = 0; i < plan->tasks.len; i++)
		if (task_to_op(plan->tasks.items[i], &ops[*nops]))
			(*nops)++;
	return ops;
}

STOW_API int
stow_plan_apply(struct stow_plan *plan, stow_op_cb cb, void *payload)
{
	struct stow_ctx	*ctx;
	struct stow_op	*ops;
	struct undo	*undo;
	size_t		 i, k, nops, n = 0, used;
	int		 rc = 0;

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
	/* A swap records two undo steps more than its operations. */
	if ((ops = plan_ops(plan, &nops)) == NULL ||
	    (undo = arena_alloc(&plan->arena, (nops + 2 * count_swaps(ops,
	    nops) + 1) * sizeof(*undo))) == NULL)
		return err_nomem(ctx);
	plan->state = PLAN_APPLIED;
	if (nops > 0 && (rc = journal_open(ctx)) != 0) {
		journal_close(ctx);
		return roll_back(ctx, undo, 0, rc);
	}
	for (i = 0; i < nops && rc == 0; i++) {
		if ((rc = before_op(ctx, &ops[i], cb, payload)) != 0)
			break;
		if (is_swap(ops, nops, i)) {
			/* Report the whole swap before any of it is made. */
			for (k = i + 1; rc == 0 && k < nops && (k == i + 1 ||
			    (ops[i + 1].kind == STOW_OP_MKDIR &&
			    path_is_under(ops[k].path, ops[i].path, NULL)));
			    k++)
				rc = before_op(ctx, &ops[k], cb, payload);
			if (rc == 0 && (rc = swap_in(plan, ops, nops, i, undo,
			    &n, &used)) == 0 && used > 0) {
				i += used - 1;
				continue;
			}
			if (rc != 0)
				break;
		}
		rc = run_recorded(plan, &ops[i], ops[i].path, NULL, undo, &n);
	}
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
	err_set(ctx, STOW_OK, "reverting an applied plan");
	rc = roll_back(ctx, plan->undo, plan->nundo, STOW_OK);
	plan->undo = NULL;
	plan->state = PLAN_BROKEN;
	return rc;
}
