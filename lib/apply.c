/*
 * apply.c: reading a plan back as data, and carrying it out.
 */
#include <errno.h>
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
	/* Nothing to hand over when we already are the owner. */
	if ((ctx->flags & STOW_F_CHOWN) == 0 ||
	    (ctx->owner_uid == geteuid() && ctx->owner_gid == getegid()))
		return 0;
	if (fs_lchown(ctx->target_fd, path, ctx->owner_uid,
	    ctx->owner_gid) == -1)
		return err_os(ctx, "lchown", path);
	return 0;
}

/* Carries out one operation; errors name the system call and path. */
static int
run_op(struct stow_ctx *ctx, const struct stow_op *op)
{
	int	fd = ctx->target_fd;

	switch (op->kind) {
	case STOW_OP_MKDIR:
		if (fs_mkdir(fd, op->path) == -1)
			return err_os(ctx, "mkdir", op->path);
		return give_away(ctx, op->path);
	case STOW_OP_RMDIR:
		if (fs_rmdir(fd, op->path) == -1)
			return err_os(ctx, "rmdir", op->path);
		break;
	case STOW_OP_LINK:
		if (fs_symlink(op->link, fd, op->path) == -1)
			return err_os(ctx, "symlink", op->path);
		return give_away(ctx, op->path);
	case STOW_OP_UNLINK:
		if (fs_unlink(fd, op->path) == -1)
			return err_os(ctx, "unlink", op->path);
		break;
	case STOW_OP_MOVE:
		if (fs_move(fd, op->path, op->dest) == -1)
			return err_os(ctx, "rename", op->path);
		break;
	case STOW_OP_BACKUP:
		return vault_backup(ctx, op->path, op->dest);
	}
	return 0;
}

STOW_API int
stow_plan_apply(struct stow_plan *plan, stow_op_cb cb, void *payload)
{
	struct stow_ctx	*ctx;
	struct stow_op	 op;
	size_t		 i;
	int		 rc;

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
	plan->state = PLAN_APPLIED;
	for (i = 0; i < plan->tasks.len; i++) {
		if (!task_to_op(plan->tasks.items[i], &op))
			continue;
		if (ctx->cancel_cb != NULL && ctx->cancel_cb(ctx->cancel_payload))
			return err_set(ctx, STOW_ECANCELLED,
			    "cancelled before %s", op.path);
		if (cb != NULL && (rc = cb(&op, payload)) != 0)
			return rc;
		if ((rc = run_op(ctx, &op)) != 0)
			return rc;
	}
	return 0;
}
