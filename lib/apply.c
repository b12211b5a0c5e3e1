/*
 * apply.c: reading a plan back as data, and carrying it out.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
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
	if (op->kind == STOW_OP_MOVE)
		op->dest = t->dest;
	if (op->kind == STOW_OP_BACKUP)
		op->dest = t->placed != NULL ? t->placed : t->dest;
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
 * Makes (adopt set) or undoes the moves: between path (relative to the
 * target) and dest.  Each side is reached through walk_parent(), whose
 * two slots keep both descriptors open at once.  What is at the
 * destination is replaced only where nothing is lost: adopting, where
 * GNU Stow's --adopt overwrites the package's file (no vault to keep
 * it in), or where it holds the same bytes (the package's version is
 * then not kept); undoing, never (what is there is the user's since).
 */
static int
move_between(struct stow_ctx *ctx, const char *from, const char *to,
    int adopt)
{
	struct move_report	 mr;
	const char		*fleaf, *tleaf;
	unsigned int		 flags = adopt && ctx->backup_dir == NULL ?
				    FS_MOVE_REPLACE : 0;
	int			 ffd, tfd, rc = -1;

	memset(&mr, 0, sizeof(mr));
	mr.tag = ctx->apply_tag;
	if ((ffd = walk_parent(ctx, from, &fleaf)) != -1 &&
	    (tfd = walk_parent(ctx, to, &tleaf)) != -1 &&
	    (rc = fs_move_at(ffd, fleaf, tfd, tleaf, flags, &mr)) == -1 &&
	    errno == EEXIST && adopt) {
		if (fs_same_content(ffd, fleaf, tfd, tleaf) == 1)
			rc = fs_move_at(ffd, fleaf, tfd, tleaf,
			    FS_MOVE_REPLACE, &mr);
		else
			errno = EEXIST;
	}
	walk_forget(ctx);
	return rc;
}

/*
 * Removes the link of step u, leaf of fd, only if it is still the link
 * planned (fs_unlink_checked()); where it is at the user's own path it
 * is first moved aside under the step's private name.  A change under
 * the run is STOW_ECHANGED (nothing removed); one that even leaves the
 * new entry under the private name is STOW_EPARTIAL, naming it.
 */
static int
unlink_planned(struct stow_ctx *ctx, int fd, const char *leaf,
    const struct undo *u)
{
	const struct task	*t = u->task;
	char			 aside[NAME_MAX + 1];
	int			 in_place = u->path == t->path;

	if (in_place)
		journal_aside(ctx->apply_tag, u->step, aside, sizeof(aside));
	switch (fs_unlink_checked(fd, leaf, t->source, in_place ? aside :
	    NULL)) {
	case FS_UNLINKED:
		return 0;
	case FS_NOT_OURS:
		return err_set(ctx, STOW_ECHANGED, "unlink: %s: not the link "
		    "planned any more (changed during the run): left as it is",
		    t->path);
	case FS_STRANDED:
		return err_set(ctx, STOW_EPARTIAL, "unlink: %s: changed during "
		    "the run, twice: what had replaced the link is now %s "
		    "beside it", t->path, aside);
	default:
		return err_os(ctx, "unlink", t->path);
	}
}

/* Carries out step u; errors name the system call and the user's path
 * (the task's, never a temporary name the step is made under). */
int
apply_step(struct stow_ctx *ctx, struct undo *u)
{
	const struct task	*t = u->task;
	enum stow_op_kind	 kind = task_kind(t);
	const char		*leaf;
	char			 why[sizeof(ctx->errmsg)];
	int			 fd, rc = 0;

	if ((fd = walk_parent(ctx, u->path, &leaf)) == -1)
		return err_os(ctx, op_verb(kind), t->path);
	switch (kind) {
	case STOW_OP_MKDIR:
		if (fs_mkdir(fd, leaf) == -1)
			return err_os(ctx, "mkdir", t->path);
		/* Each operation is whole or not at all. */
		if ((rc = give_away(ctx, fd, leaf, t->path)) != 0)
			(void)fs_rmdir(fd, leaf);
		return rc;
	case STOW_OP_LINK:
		if (fs_symlink(t->source, fd, leaf) == -1)
			return err_os(ctx, "symlink", t->path);
		if ((rc = give_away(ctx, fd, leaf, t->path)) != 0)
			(void)fs_unlink(fd, leaf);
		return rc;
	case STOW_OP_UNLINK:
		/* A link goes: the directories kept open stay as they are. */
		return unlink_planned(ctx, fd, leaf, u);
	case STOW_OP_RMDIR:
		if (fs_rmdir(fd, leaf) == -1)
			rc = err_os(ctx, "rmdir", t->path);
		break;
	case STOW_OP_MOVE:
		if (move_between(ctx, u->path, t->dest, 1) == 0)
			break;
		rc = err_os(ctx, "rename", t->path);
		/* Across file systems, the copy may have replaced the
		 * package's file before the original could go. */
		if (move_overwrote(ctx, u)) {
			strlcpy(why, ctx->errmsg, sizeof(why));
			rc = err_set(ctx, STOW_EPARTIAL, "%s; the package's "
			    "earlier %s was overwritten already, with no vault "
			    "to keep it", why, t->dest);
		}
		break;
	case STOW_OP_BACKUP:
		rc = vault_backup(ctx, u->path, u->more->orig != NULL ?
		    u->more->orig : u->path, u->more->placed);
		break;
	}
	/* What was a directory may be gone or elsewhere now. */
	walk_forget(ctx);
	return rc;
}

/*
 * Undoes swap step u (its new entry exchanged with the path, leaf of fd
 * now holding the old one), exchanging back, but only while the path
 * still holds the new entry, known by its identity: what the user put
 * there since is theirs, and stays (EEXIST; the old entry then stays
 * under the temporary name).
 */
static int
undo_exchange(int fd, const char *leaf, const struct undo *u)
{
	const char	*p = path_basename(u->more->swapped);
	struct stat	 st;

	if (u->more->new_ino != 0 && (fs_lstat(fd, p, &st) == -1 ||
	    st.st_dev != u->more->new_dev || st.st_ino != u->more->new_ino)) {
		errno = EEXIST;
		return -1;
	}
	return fs_exchange(fd, leaf, p);
}

/* Is created entry u (a link or a directory) at path, of fd's, as
 * made?  For a directory, how many entries the run made in it is n. */
static int
entry_as_made(struct arena *a, int fd, const char *leaf,
    const struct undo *u, size_t n)
{
	struct dirlist	 list;
	const char	*text;
	int		 dfd, rc;

	if (task_kind(u->task) == STOW_OP_LINK)
		return (text = fs_readlink(a, fd, leaf)) != NULL &&
		    strcmp(text, u->task->source) == 0;
	if ((dfd = openat(fd, leaf, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1)
		return 0;
	rc = fs_list_fd(a, dfd, &list) == 0 && list.len == n;
	close(dfd);
	return rc;
}

/*
 * Is the new entry swap step x (of steps[0..x]) swapped in still as the
 * run made it: the same entry at the path, and for a directory (an
 * unfolding) the same tree, every link and directory the run made in it
 * there with nothing added?  Undoing a swap the user has changed since
 * (a file saved over the link, one added to the unfolded directory)
 * would put their work under the temporary name: such a swap is kept.
 * The creations under the temporary name are the steps just before x.
 */
int
swap_intact(struct stow_ctx *ctx, const struct undo *steps, size_t x)
{
	const struct undo	*u = &steps[x];
	const char		*p = u->more->swapped, *tmp = u->path;
	const char		*leaf, *path, *dir;
	struct arena		 a = { NULL, NULL };
	struct strmap		 made = { NULL, NULL, 0, 0 };
	struct stat		 st;
	size_t			 j, first = x, tl = strlen(tmp);
	void			**n;
	int			 fd, intact = 1;

	if ((fd = walk_parent(ctx, p, &leaf)) == -1 ||
	    fs_lstat(fd, leaf, &st) == -1 || (u->more->new_ino != 0 &&
	    (st.st_dev != u->more->new_dev || st.st_ino != u->more->new_ino)))
		intact = 0;
	/* How many entries the run made in each directory it made. */
	while (intact && first > 0 && steps[first - 1].task != NULL &&
	    path_is_at_or_under(steps[first - 1].path, tmp)) {
		first--;
		if ((dir = path_parent(&a, steps[first].path)) == NULL ||
		    (n = strmap_ref(&made, dir)) == NULL)
			intact = 0;
		else
			*n = (void *)((uintptr_t)*n + 1);
	}
	/* Each entry where the exchange put it; steps[x] is the creation
	 * of tmp itself, made again. */
	for (j = first; intact && j <= x; j++) {
		if (j < x && strcmp(steps[j].path, tmp) == 0)
			continue;
		if ((path = arena_printf(&a, "%s%s", p, steps[j].path +
		    tl)) == NULL || (fd = walk_parent(ctx, path, &leaf)) == -1)
			intact = 0;
		else
			intact = entry_as_made(&a, fd, leaf, &steps[j],
			    (uintptr_t)strmap_get(&made, steps[j].path));
	}
	walk_forget(ctx);
	strmap_free(&made);
	arena_free(&a);
	return intact == 1;
}

/* Undoes the MOVE step u that replaced a package file of the same
 * bytes: copied back, so that the package keeps its file. */
static int
copy_back(struct stow_ctx *ctx, const struct undo *u)
{
	struct move_report	 mr;
	const char		*fleaf, *tleaf;
	int			 ffd, tfd, rc = -1;

	memset(&mr, 0, sizeof(mr));
	mr.tag = ctx->apply_tag;
	if ((ffd = walk_parent(ctx, u->task->dest, &fleaf)) != -1 &&
	    (tfd = walk_parent(ctx, u->path, &tleaf)) != -1)
		rc = fs_copy_at(ffd, fleaf, tfd, tleaf, &mr);
	walk_forget(ctx);
	return rc;
}

/* Undoes step u, which was made; -1 (errno set) on failure. */
int
undo_op(struct stow_ctx *ctx, const struct undo *u)
{
	const struct task	*t = u->task;
	struct arena		 a = { NULL, NULL };
	const char		*leaf, *text;
	int			 fd, rc = 0;

	if ((fd = walk_parent(ctx, u->path, &leaf)) == -1)
		return -1;
	if (u->more != NULL && u->more->swapped != NULL) {
		rc = undo_exchange(fd, leaf, u);
		walk_forget(ctx);
		return rc;
	}
	switch (task_kind(t)) {
	case STOW_OP_LINK:
		/* Remove only the link made, nothing that replaced it.
		 * No link there now (EINVAL), or another: replaced since,
		 * theirs, and kept.  Not read (out of memory, an I/O
		 * error): not undone, and said so. */
		if ((text = fs_readlink(&a, fd, leaf)) == NULL) {
			if (errno == EINVAL)
				errno = EEXIST;
			rc = -1;
		} else if (strcmp(text, t->source) != 0) {
			errno = EEXIST;
			rc = -1;
		}
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
		rc = u->more != NULL && u->more->same ? copy_back(ctx, u) :
		    move_between(ctx, t->dest, u->path, 0);
		break;
	case STOW_OP_BACKUP:
		rc = vault_unbackup(ctx, u->path, u->more->placed) == 0 ?
		    0 : -1;
		break;
	}
	walk_forget(ctx);
	return rc;
}

/* The word for what could not be undone of step u, for messages. */
static const char *
undo_verb(const struct undo *u)
{
	/* (op_verb() names the system call: "symlink", "rename".) */
	switch (task_kind(u->task)) {
	case STOW_OP_LINK:
		return "link";
	case STOW_OP_MOVE:
		return "move";
	default:
		return op_verb(task_kind(u->task));
	}
}

/* Appends "verb path" for step u to list b (for a swap kept as the
 * user changed it, where the entry it replaced is now). */
static void
list_step(struct strbuf *b, const struct undo *u)
{
	(void)strbuf_printf(b, "%s%s %.200s", b->len > 0 ? ", " : "",
	    undo_verb(u), u->task->path);
	if (u->more != NULL && u->more->swapped != NULL)
		(void)strbuf_printf(b, " (what was there before is now "
		    "%.200s)", u->path);
	else if (task_kind(u->task) == STOW_OP_BACKUP)
		(void)strbuf_printf(b, " (what was backed up from there stays "
		    "in the vault)");
}

/* Lists in b the swap x kept as the user changed it; its removal, r
 * (NULL: not made), is kept too: says where the entry it took is. */
static void
list_kept_swap(struct strbuf *b, const struct undo *x, const struct undo *r)
{
	if (r == NULL) {
		list_step(b, x);
		return;
	}
	(void)strbuf_printf(b, "%s%s %.200s", b->len > 0 ? ", " : "",
	    undo_verb(x), x->task->path);
	if (task_kind(r->task) == STOW_OP_BACKUP)
		(void)strbuf_printf(b, " (what was there before stays in the "
		    "vault)");
	else if (task_kind(r->task) == STOW_OP_MOVE)
		(void)strbuf_printf(b, " (what was there before stays adopted "
		    "into the package)");
}

/* Adds to b the package file a made MOVE step u overwrote (GNU Stow's
 * --adopt with no vault): undone or not, it is gone. */
static void
list_overwritten(struct strbuf *b, const struct undo *u)
{
	if (u->more != NULL && u->more->overwrote)
		(void)strbuf_printf(b, "%sthe package's earlier %.200s, "
		    "overwritten with no vault to keep it", b->len > 0 ?
		    ", " : "", u->task->dest);
}

/* The exchange of the swap step i (of n, in the order they are made)
 * is part of, when it is the exchange or the removal made after it;
 * else n. */
size_t
swap_of(const struct undo *undo, size_t i, size_t n)
{
	const struct undo	*x;

	if (undo[i].more != NULL && undo[i].more->swapped != NULL)
		return i;
	if (i == 0)
		return n;
	x = &undo[i - 1];
	return x->task != NULL && x->more != NULL && x->more->swapped !=
	    NULL && strcmp(x->path, undo[i].path) == 0 ? i - 1 : n;
}

/* Undoes step u of roll_back(), listing it in kept or left when it
 * cannot be. */
static void
undo_listed(struct stow_ctx *ctx, const struct undo *u,
    struct strbuf *kept, struct strbuf *left)
{
	if (undo_op(ctx, u) == 0)
		(void)journal_undone(ctx, u);
	else
		list_step(errno == EEXIST || errno == ENOTEMPTY ? kept : left,
		    u);
	list_overwritten(left, u);
}

/*
 * Says how roll_back() went: first, the original failure's message,
 * with what was kept and what could not be undone; saved: the errno
 * the failure had.  Returns rc, or STOW_EPARTIAL.
 */
static int
rolled_back(struct stow_ctx *ctx, const char *first, int saved,
    struct strbuf *kept, struct strbuf *left, int rc)
{
	char	also[sizeof(ctx->errmsg)];
	int	undone;

	walk_forget(ctx);
	snprintf(also, sizeof(also), "%s%s", kept->len > 0 ? ", but for "
	    "paths changed since, kept as they are now: " : "",
	    strbuf_str(kept));
	if ((undone = left->len == 0 && rc != STOW_EPARTIAL))
		err_set(ctx, rc, "%s; all changes undone%s", first, also);
	else if (left->len == 0)
		err_set(ctx, STOW_EPARTIAL, "%s; every other change undone%s",
		    first, also);
	else
		err_set(ctx, STOW_EPARTIAL, "%s; could not undo: %s%s%s", first,
		    strbuf_str(left), kept->len > 0 ? "; kept as they are "
		    "now, changed since: " : "", strbuf_str(kept));
	ctx->saved_errno = saved;
	strbuf_free(left);
	strbuf_free(kept);
	return undone ? rc : STOW_EPARTIAL;
}

/*
 * After a failure, undoes the n steps made, newest first, so the
 * target and the stow directory are as they were; the journal learns of
 * each, so that a run killed meanwhile is not undone twice.  What the
 * user changed since is not undone over their change: a file saved
 * where a link was removed, a swap whose new entry they changed
 * (swap_intact()), which then stays whole, its removal too.  Those are
 * kept, and named.  Returns rc, the original failure, with "; all
 * changes undone" added to its message; or STOW_EPARTIAL, listing what
 * could not be undone (rc itself STOW_EPARTIAL: the failure left
 * something that no undoing puts back, which its message says).
 */
static int
roll_back(struct stow_ctx *ctx, struct undo *undo, size_t n, int rc)
{
	struct strbuf	 left = { NULL, 0, 0 }, kept = { NULL, 0, 0 };
	char		 first[sizeof(ctx->errmsg)];
	const char	*kept_tmp = NULL;
	size_t		 i, x;
	int		 saved = ctx->saved_errno;

	strlcpy(first, ctx->errmsg, sizeof(first));
	for (i = n; i-- > 0; ) {
		if (undo[i].task == NULL ||	/* a slot left unused */
		    (kept_tmp != NULL && path_is_at_or_under(undo[i].path,
		    kept_tmp)))
			continue;
		if ((x = swap_of(undo, i, n)) < n &&
		    !swap_intact(ctx, undo, x)) {
			kept_tmp = undo[x].path;
			list_kept_swap(&kept, &undo[x], x < i ? &undo[i] :
			    NULL);
			if (x < i)
				list_overwritten(&left, &undo[i]);
			continue;
		}
		undo_listed(ctx, &undo[i], &kept, &left);
	}
	return rolled_back(ctx, first, saved, &kept, &left, rc);
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
 * An apply in progress.  Every step is prepared and journalled before
 * the first is made (one journal write and sync for the whole run);
 * undo[0..made) are the steps made, in the order they were, but for
 * slots left unused (a NULL task: a swap made the plain way needs one
 * step fewer).
 */
struct apply {
	struct stow_plan	 *plan;
	struct stow_ctx		 *ctx;
	struct task		**tasks;
	size_t			  ntasks;
	struct undo		 *undo;		/* the steps, in order */
	size_t			  nsteps;
	size_t			  made;
	size_t			  reported;	/* tasks cb has seen */
	struct strmap		  placed;	/* vault names taken */
	stow_op_cb		  cb;
	void			 *payload;
};

/*
 * The temporary name a swap at p builds its new entry under, beside p:
 * ".cstow-new.TAG.SLOT", slot that of its exchange.  Not derived from
 * p's name, so that it fits NAME_MAX however long that is, and the tag
 * (process and time) keeps it apart from any other run's.
 */
static const char *
swap_tmp(struct apply *ap, const char *p, size_t slot)
{
	const char	*slash = strrchr(p, '/');

	return arena_printf(&ap->plan->arena, "%.*s.cstow-new.%s.%zu",
	    slash != NULL ? (int)(slash - p + 1) : 0, p, ap->ctx->apply_tag,
	    slot);
}

/* Names the apply's private names: its process, and the time, since a
 * process ID comes back (PID 1 in every container). */
static void
set_apply_tag(struct stow_ctx *ctx)
{
	struct timespec	ts;

	(void)clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(ctx->apply_tag, sizeof(ctx->apply_tag), "%ld.%llx",
	    (long)getpid(), (unsigned long long)ts.tv_sec * 1000000000ULL +
	    (unsigned long long)ts.tv_nsec);
}

/* Records on the BACKUP step u the identity of what it moves away
 * (from, or its user's path orig), by which recovery knows the entry
 * there is still the one a killed copy was taken of. */
static int
note_moved(struct stow_ctx *ctx, struct undo *u, const char *from)
{
	const char	*leaf;
	struct stat	 st;
	int		 fd;

	if ((fd = walk_parent(ctx, from, &leaf)) == -1 ||
	    fs_lstat(fd, leaf, &st) == -1)
		return err_os(ctx, "lstat", from);
	u->more->dev = st.st_dev;
	u->more->ino = st.st_ino;
	return 0;
}

/*
 * What the MOVE step t (an adoption) replaces in the package: a file of
 * the same bytes (m->same: undoing it copies that back, so the package
 * keeps its file), or, with no vault to keep it (GNU Stow's --adopt),
 * one of other bytes, which is then gone (m->overwrote).
 */
static void
move_replaces(struct stow_ctx *ctx, const struct task *t,
    struct undo_more *m)
{
	const char	*fleaf, *tleaf;
	int		 ffd, tfd, same;

	if ((ffd = walk_parent(ctx, t->path, &fleaf)) != -1 &&
	    (tfd = walk_parent(ctx, t->dest, &tleaf)) != -1 &&
	    fs_lstat(tfd, tleaf, &(struct stat){ 0 }) == 0) {
		same = fs_same_content(ffd, fleaf, tfd, tleaf) == 1;
		m->same = same;
		m->overwrote = !same && ctx->backup_dir == NULL;
	}
	walk_forget(ctx);
}

/* Did the MOVE step u, which overwrites a package file, overwrite it
 * already (the package's file now holds what the path holds), though it
 * was not made whole? */
int
move_overwrote(struct stow_ctx *ctx, const struct undo *u)
{
	const char	*fleaf, *tleaf;
	int		 ffd, tfd, rc = 0;

	if (u->more != NULL && u->more->overwrote &&
	    (ffd = walk_parent(ctx, u->path, &fleaf)) != -1 &&
	    (tfd = walk_parent(ctx, u->task->dest, &tleaf)) != -1)
		rc = fs_same_content(ffd, fleaf, tfd, tleaf) == 1;
	walk_forget(ctx);
	return rc;
}

/* Makes the MOVE step u (an adoption) without replacing anything at its
 * destination: recovery finishing the removal of a swap it keeps. */
int
move_keeping(struct stow_ctx *ctx, const struct undo *u)
{
	return move_between(ctx, u->path, u->task->dest, 0);
}

/*
 * Prepares step u: task t made at path, where orig is the user's path
 * when path is a swap's temporary name (else NULL).  What undoing the
 * step needs is looked up now, before anything is made: the mode of a
 * directory to remove, the vault name of a backup (placed, when one was
 * already chosen for it) and what it moves, whether a move overwrites.
 * Its slot is its place in ap->undo, the order steps are made in.
 */
static int
prepare_step(struct apply *ap, struct undo *u, struct task *t,
    const char *path, const char *orig, const char *placed)
{
	struct stow_ctx		*ctx = ap->ctx;
	enum stow_op_kind	 kind = task_kind(t);
	const char		*leaf;
	struct stat		 st;
	int			 fd, rc;

	memset(u, 0, sizeof(*u));
	u->task = t;
	u->path = path;
	u->slot = (unsigned int)(u - ap->undo);
	if (kind != STOW_OP_RMDIR && kind != STOW_OP_BACKUP &&
	    kind != STOW_OP_MOVE)
		return 0;
	if ((u->more = arena_alloc(&ap->plan->arena,
	    sizeof(*u->more))) == NULL)
		return err_nomem(ctx);
	memset(u->more, 0, sizeof(*u->more));
	u->more->orig = orig;
	switch (kind) {
	case STOW_OP_MOVE:
		move_replaces(ctx, t, u->more);
		return 0;
	case STOW_OP_BACKUP:
		if ((rc = note_moved(ctx, u, orig != NULL ? orig : path)) != 0)
			return rc;
		if ((u->more->placed = placed) == NULL &&
		    (rc = vault_choose(ctx, &ap->placed, &ap->plan->arena,
		    t->dest, &u->more->placed)) != 0)
			return rc;
		/* (What is reported from now on is where it goes.) */
		t->placed = u->more->placed;
		return 0;
	default:
		if ((fd = walk_parent(ctx, t->path, &leaf)) == -1 ||
		    fs_lstat(fd, leaf, &st) == -1)
			return err_os(ctx, "lstat", t->path);
		u->more->mode = st.st_mode & 07777;
		return 0;
	}
}

/*
 * Prepares the swap at tasks[i..end) into undo[s...]: its creations
 * under the temporary name, the exchange, the removal of the old entry
 * under the temporary name.  The exchange step keeps the old entry's
 * identity, by which recovery tells whether it was made (old and new
 * may both be directories).  Returns the next free step.
 */
static int
prepare_swap(struct apply *ap, size_t i, size_t end, size_t *s)
{
	struct stow_ctx	*ctx = ap->ctx;
	const char	*p = ap->tasks[i]->path, *tmp, *path, *leaf;
	size_t		 k, plen = strlen(p);
	struct undo	*x;
	struct stat	 st;
	int		 fd, rc;

	if ((tmp = swap_tmp(ap, p, *s + end - i - 1)) == NULL)
		return err_nomem(ctx);
	for (k = i + 1; k < end; k++) {
		if ((path = arena_printf(&ap->plan->arena, "%s%s", tmp,
		    ap->tasks[k]->path + plen)) == NULL)
			return err_nomem(ctx);
		if ((rc = prepare_step(ap, &ap->undo[(*s)++], ap->tasks[k],
		    path, NULL, NULL)) != 0)
			return rc;
	}
	x = &ap->undo[(*s)++];
	if ((rc = prepare_step(ap, x, ap->tasks[i + 1], tmp, NULL,
	    NULL)) != 0)
		return rc;
	if ((x->more = arena_alloc(&ap->plan->arena,
	    sizeof(*x->more))) == NULL)
		return err_nomem(ctx);
	memset(x->more, 0, sizeof(*x->more));
	x->more->swapped = p;
	if ((fd = walk_parent(ctx, p, &leaf)) == -1 ||
	    fs_lstat(fd, leaf, &st) == -1)
		return err_os(ctx, "lstat", p);
	x->more->mode = st.st_mode;
	x->more->dev = st.st_dev;
	x->more->ino = st.st_ino;
	return prepare_step(ap, &ap->undo[(*s)++], ap->tasks[i], tmp, p,
	    NULL);
}

/* How many steps the tasks from i on need; *end is where the unit
 * (a swap, or one task) ends. */
static size_t
unit_steps(struct apply *ap, size_t i, size_t *end)
{
	if (!is_swap(ap->tasks, ap->ntasks, i)) {
		*end = i + 1;
		return 1;
	}
	*end = swap_end(ap->tasks, ap->ntasks, i);
	return *end - i + 1;
}

/* Prepares and journals every step, then syncs the journal once. */
static int
prepare_all(struct apply *ap)
{
	size_t	i, end, s = 0;
	int	rc = 0;

	for (i = 0; i < ap->ntasks && rc == 0; i = end) {
		if (is_swap(ap->tasks, ap->ntasks, i)) {
			(void)unit_steps(ap, i, &end);
			rc = prepare_swap(ap, i, end, &s);
		} else {
			end = i + 1;
			rc = prepare_step(ap, &ap->undo[s++], ap->tasks[i],
			    ap->tasks[i]->path, NULL, NULL);
		}
	}
	walk_forget(ap->ctx);
	ap->nsteps = s;
	for (i = 0; i < s && rc == 0; i++)
		rc = journal_step(ap->ctx, &ap->undo[i]);
	return rc != 0 ? rc : journal_sync(ap->ctx);
}

/* Whether to stop before task t: the cancel callback, then cb. */
static int
before_op(struct apply *ap, const struct task *t)
{
	struct stow_ctx	*ctx = ap->ctx;
	struct stow_op	 op;

	if (ctx->cancel_cb != NULL && ctx->cancel_cb(ctx->cancel_payload))
		return err_set(ctx, STOW_ECANCELLED, "cancelled before %s",
		    t->path);
	if (ap->cb != NULL && task_to_op(t, &op))
		return ap->cb(&op, ap->payload);
	return 0;
}

/* Reports tasks up to end (each once, whatever way it is made). */
static int
report_to(struct apply *ap, size_t end)
{
	int	rc;

	for (; ap->reported < end; ap->reported++)
		if ((rc = before_op(ap, ap->tasks[ap->reported])) != 0)
			return rc;
	return 0;
}

/* Makes the prepared step s. */
static int
make_step(struct apply *ap, size_t s)
{
	int	rc;

	if ((rc = apply_step(ap->ctx, &ap->undo[s])) != 0)
		return rc;
	ap->made = s + 1;
	return 0;
}

/*
 * Where the file system cannot exchange the two names (EINVAL, ENOSYS,
 * EOPNOTSUPP; EXDEV from overlayfs for a directory of a lower layer):
 * the swap's steps made so far are undone, the journal is told that
 * none of its steps stands (so recovery never takes them for made),
 * and it is made the plain way, the removal then the creations at the
 * path itself, journalled (and synced) as new steps before they are
 * made.  A backup keeps the vault name chosen for it.
 */
static int
swap_fallback(struct apply *ap, size_t i, size_t end, size_t start)
{
	struct stow_ctx	*ctx = ap->ctx;
	struct undo	*removal = &ap->undo[start + end - i];
	const char	*placed = removal->more != NULL ?
			    removal->more->placed : NULL;
	size_t		 k, s = start;
	int		 rc;

	while (ap->made > start) {
		if (undo_op(ctx, &ap->undo[ap->made - 1]) == -1)
			return err_os(ctx, "undo",
			    ap->undo[ap->made - 1].task->path);
		ap->made--;
	}
	walk_forget(ctx);
	/* Recovery must not take the swap's steps for made (the new entry
	 * may look as if it was swapped in): the marks are written and
	 * synced before the plain steps are made. */
	for (k = start; k <= start + end - i; k++)
		if ((rc = journal_undone(ctx, &ap->undo[k])) != 0)
			return rc;
	ap->undo[start + end - i].task = NULL;
	if ((rc = prepare_step(ap, &ap->undo[s++], ap->tasks[i],
	    ap->tasks[i]->path, NULL, placed)) != 0)
		return rc;
	for (k = i + 1; k < end; k++)
		if ((rc = prepare_step(ap, &ap->undo[s++], ap->tasks[k],
		    ap->tasks[k]->path, NULL, NULL)) != 0)
			return rc;
	walk_forget(ctx);
	for (k = start; k < s; k++)
		if ((rc = journal_step(ctx, &ap->undo[k])) != 0)
			return rc;
	if ((rc = journal_sync(ctx)) != 0)
		return rc;
	for (k = start; k < s; k++)
		if ((rc = make_step(ap, k)) != 0)
			return rc;
	return 0;
}

/*
 * A removal of path p followed by a creation at p (a link replaced, a
 * file backed up or adopted and linked, a directory folded or a link
 * unfolded) is carried out so that p never goes missing: the new entry
 * is built beside p under a temporary name (an unfolded directory with
 * all its contents), exchanged with p (RENAME_EXCHANGE), and then the
 * removal is applied to the old entry under the temporary name.  The
 * swap's steps are undo[start..start + end - i + 1).
 */
static int
run_swap(struct apply *ap, size_t i, size_t end, size_t start)
{
	struct stow_ctx	*ctx = ap->ctx;
	const char	*p = ap->tasks[i]->path, *leaf;
	struct undo	*x = &ap->undo[start + end - i - 1];
	struct stat	 st;
	size_t		 k;
	int		 fd, rc, saved;

	for (k = start; k < start + end - i - 1; k++)
		if ((rc = make_step(ap, k)) != 0)
			return rc;
	if ((fd = walk_parent(ctx, p, &leaf)) == -1)
		return err_os(ctx, "rename", p);
	/* Recovery knows the new entry by its identity, wherever the
	 * exchange left it. */
	if (fs_lstat(fd, path_basename(x->path), &st) == -1)
		return err_os(ctx, "lstat", p);
	x->more->new_dev = st.st_dev;
	x->more->new_ino = st.st_ino;
	if ((rc = journal_swapped(ctx, x)) != 0)
		return rc;
	if (fs_exchange(fd, path_basename(x->path), leaf) == -1) {
		saved = errno;
		walk_forget(ctx);
		if (saved != EINVAL && saved != ENOSYS &&
		    saved != EOPNOTSUPP && saved != EXDEV) {
			errno = saved;
			return err_os(ctx, "rename", p);
		}
		return swap_fallback(ap, i, end, start);
	}
	walk_forget(ctx);
	ap->made = start + end - i;
	return make_step(ap, start + end - i);
}

/* Makes the unit at tasks[i] (a swap, or one task), whose steps start
 * at undo[start]; *end is the task after it. */
static int
run_unit(struct apply *ap, size_t i, size_t start, size_t *end)
{
	int	rc;

	(void)unit_steps(ap, i, end);
	/* Reported whole before any of it is made. */
	if ((rc = report_to(ap, *end)) != 0)
		return rc;
	if (*end - i > 1)
		return run_swap(ap, i, *end, start);
	return make_step(ap, start);
}

/* Runs every unit; returns the first failure. */
static int
run_all(struct apply *ap)
{
	size_t	i, end, start = 0;
	int	rc = 0;

	for (i = 0; i < ap->ntasks && rc == 0; i = end) {
		rc = run_unit(ap, i, start, &end);
		start += end - i > 1 ? end - i + 1 : 1;
	}
	walk_forget(ap->ctx);
	return rc;
}

/*
 * Does the apply need its journal?  Not when it only makes links and
 * directories: killed halfway, it leaves some of them, which the next
 * run finds stowed and completes, and nothing was removed or moved.
 * (Recovery is for removals, moves and swaps, whose halves a kill could
 * split.)
 */
static int
needs_journal(const struct apply *ap)
{
	size_t	i;

	for (i = 0; i < ap->ntasks; i++)
		if (!creates(task_kind(ap->tasks[i])))
			return 1;
	return 0;
}

static size_t
count_steps(struct apply *ap)
{
	size_t	i, end, n = 0;

	for (i = 0; i < ap->ntasks; i = end)
		n += unit_steps(ap, i, &end);
	return n;
}

/* Step i of a plain apply: task t, made at its path. */
static void
plain_step(struct undo *u, const struct task *t, size_t i)
{
	memset(u, 0, sizeof(*u));
	u->task = t;
	u->path = t->path;
	u->step = u->slot = (unsigned int)i;
}

/* Step i of an apply: undo[i], or for a plain apply (undo NULL) the
 * one made from tasks[i] into *tmp. */
static struct undo *
step_at(struct undo *undo, struct task **tasks, size_t i, struct undo *tmp)
{
	if (undo != NULL)
		return &undo[i];
	plain_step(tmp, tasks[i], i);
	return tmp;
}

/* roll_back() of the first n steps of a plain apply: no swap among
 * them, and each made from its task as it is undone (no array of them
 * made: a revert does not fail for want of memory before it begins). */
static int
roll_back_plain(struct stow_ctx *ctx, struct task **tasks, size_t n, int rc)
{
	struct strbuf	 left = { NULL, 0, 0 }, kept = { NULL, 0, 0 };
	char		 first[sizeof(ctx->errmsg)];
	struct undo	 u;
	size_t		 i;
	int		 saved = ctx->saved_errno;

	strlcpy(first, ctx->errmsg, sizeof(first));
	for (i = n; i-- > 0; )
		undo_listed(ctx, step_at(NULL, tasks, i, &u), &kept, &left);
	return rolled_back(ctx, first, saved, &kept, &left, rc);
}

/*
 * Applies a plan that only makes links and directories (no journal:
 * needs_journal()) the plain way, one task after another, each a step
 * made at its path.  The steps are not prepared or kept (a big plan's
 * would be an array as big as its tasks', written and read back for
 * nothing): what a roll back or a revert needs, the tasks tell.
 */
static int
apply_plain(struct apply *ap)
{
	struct stow_plan	*plan = ap->plan;
	struct stow_ctx		*ctx = ap->ctx;
	struct undo		 u;
	size_t			 i;
	int			 rc = 0;

	plan->state = PLAN_APPLIED;
	for (i = 0; i < ap->ntasks && rc == 0; i++) {
		if ((rc = report_to(ap, i + 1)) != 0)
			break;
		plain_step(&u, ap->tasks[i], i);
		if ((rc = apply_step(ctx, &u)) == 0)
			ap->made = i + 1;
	}
	walk_forget(ctx);
	if (rc == 0)
		rc = vault_sync(ctx);
	if (rc != 0) {
		rc = roll_back_plain(ctx, ap->tasks, ap->made, rc);
		vault_prune_run(ctx);
		return rc;
	}
	plan->plain = 1;
	plan->undo = NULL;
	plan->nundo = ap->made;
	return 0;
}

STOW_API int
stow_plan_apply(struct stow_plan *plan, stow_op_cb cb, void *payload)
{
	struct stow_ctx	*ctx;
	struct apply	 ap;
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
	/* (A lookup that ran out of memory may have missed something.) */
	if (plan->oom) {
		plan->state = PLAN_BROKEN;
		return err_nomem(ctx);
	}
	if (plan->conflicts.len > 0)
		return err_set(ctx, STOW_ECONFLICT, "%zu conflict%s: nothing "
		    "was changed", plan->conflicts.len,
		    plan->conflicts.len == 1 ? "" : "s");
	drop_skips(plan);
	set_apply_tag(ctx);
	memset(&ap, 0, sizeof(ap));
	ap.plan = plan;
	ap.ctx = ctx;
	ap.tasks = (struct task **)plan->tasks.items;
	ap.ntasks = plan->tasks.len;
	ap.cb = cb;
	ap.payload = payload;
	if (!needs_journal(&ap))
		return apply_plain(&ap);
	if ((ap.undo = arena_alloc(&plan->arena, (count_steps(&ap) + 1) *
	    sizeof(*ap.undo))) == NULL)
		return err_nomem(ctx);
	plan->state = PLAN_APPLIED;
	if ((rc = journal_open(ctx)) != 0 || (rc = prepare_all(&ap)) != 0) {
		journal_close(ctx);
		strmap_free(&ap.placed);
		vault_prune_run(ctx);
		return roll_back(ctx, ap.undo, 0, rc);
	}
	rc = run_all(&ap);
	/* What the vault was told lasts before the journal goes. */
	if (rc == 0)
		rc = vault_sync(ctx);
	if (rc != 0) {
		rc = roll_back(ctx, ap.undo, ap.made, rc);
		vault_prune_run(ctx);
	}
	/* Done or undone: nothing for a later run to recover. */
	journal_close(ctx);
	strmap_free(&ap.placed);
	if (rc != 0)
		return rc;
	/* Kept, so that a caller applying several plans as one run can
	 * undo this one when a later one fails. */
	plan->undo = ap.undo;
	plan->nundo = ap.made;
	return 0;
}

/*
 * Begins the journal of a revert: the n steps of an apply, all made, as
 * the apply wrote them (undo NULL: a plain apply's, from tasks).
 * roll_back() then marks each one undone, so that a run killed while
 * it reverts is undone by the next, as one killed while it applies is.
 */
static int
journal_made(struct stow_ctx *ctx, struct undo *undo, struct task **tasks,
    size_t n)
{
	struct undo	 tmp, *u;
	size_t		 i;
	int		 rc;

	if ((rc = journal_open(ctx)) != 0)
		return rc;
	for (i = 0; i < n; i++) {
		if ((u = step_at(undo, tasks, i, &tmp))->task == NULL)
			continue;
		if ((rc = journal_step(ctx, u)) != 0)
			return rc;
		/* Undoing its removal makes the old entry anew: only the
		 * new one's identity tells where the exchange stands. */
		if (u->more != NULL && u->more->swapped != NULL &&
		    u->more->new_ino != 0 &&
		    (rc = journal_swapped(ctx, u)) != 0)
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
	if (plan->state != PLAN_APPLIED || (plan->undo == NULL &&
	    !plan->plain))
		return err_set(ctx, STOW_EMISUSE,
		    "only a plan applied in full can be reverted");
	/* Without a journal the revert goes on all the same: undone is
	 * better than left half applied. */
	if (plan->nundo > 0 && journal_made(ctx, plan->undo,
	    (struct task **)plan->tasks.items, plan->nundo) != 0)
		journal_close(ctx);
	err_set(ctx, STOW_OK, "reverting an applied plan");
	rc = plan->plain ? roll_back_plain(ctx, (struct task **)
	    plan->tasks.items, plan->nundo, STOW_OK) :
	    roll_back(ctx, plan->undo, plan->nundo, STOW_OK);
	journal_close(ctx);
	plan->undo = NULL;
	plan->plain = 0;
	plan->state = PLAN_REVERTED;
	return rc;
}
