/*
 * journal.c: what an apply is about to do, written down before any of
 * it is done, so that a run killed halfway (or cut off by a power loss)
 * can be undone by the next one.
 *
 * The header names the target, the vault and the process; then one
 * line per step ("S"), every step of the apply written and synced once
 * before the first is made.  After a step is undone, its number ("X").
 * Any step may or may not have been made when the run died, which the
 * disk tells: each step's precondition is false once it is made, and
 * recovery asks newest first, when every later step is undone (or was
 * never made).  A swap's removal under its temporary name counts as
 * made only once its exchange is.
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "extern.h"

#define JOURNAL_MAGIC	"cstow-journal 4"
/* Lines gathered before they are written (not synced: journal_sync()). */
#define JOURNAL_FLUSH	65536

/*
 * A journal line is built in place: room for its longest form is made
 * once (line_room), then its fields are written with no check each.
 * A step is one line per operation of an apply, so this is its cost.
 */

/* The most bytes put_field() writes for s. */
static size_t
field_room(const char *s)
{
	return 1 + 2 * (s != NULL ? strlen(s) : 0);
}

/* The most bytes put_number() writes. */
#define NUMBER_ROOM	(1 + 3 * sizeof(unsigned long long))

/* Writes a tab and s at p, with tabs, newlines and backslashes
 * escaped; returns the end. */
static char *
put_field(char *p, const char *s)
{
	size_t	n;

	*p++ = '\t';
	for (s = s != NULL ? s : ""; *s != '\0'; s++) {
		/* The runs between escapes are copied whole. */
		n = strcspn(s, "\\\t\n");
		memcpy(p, s, n);
		p += n;
		if (*(s += n) == '\0')
			break;
		*p++ = '\\';
		*p++ = *s == '\t' ? 't' : *s == '\n' ? 'n' : '\\';
	}
	return p;
}

/* Writes a tab and n in base 8 or 10 at p; returns the end. */
static char *
put_number(char *p, unsigned long long n, unsigned int base)
{
	char	digits[3 * sizeof(n)], *d = digits + sizeof(digits);

	do
		*--d = (char)('0' + n % base);
	while ((n /= base) > 0);
	*p++ = '\t';
	memcpy(p, d, (size_t)(digits + sizeof(digits) - d));
	return p + (digits + sizeof(digits) - d);
}

/* Room for a line of at most n bytes (its newline included) at the
 * end of the journal buffer: where to write it, or NULL. */
static char *
line_room(struct stow_ctx *ctx, size_t n)
{
	struct strbuf	*b = &ctx->journal_buf;

	if (strbuf_room(b, n) == -1) {
		err_nomem(ctx);
		return NULL;
	}
	return b->s + b->len;
}

/* Ends the line written up to p, which line_room() made room for. */
static void
line_end(struct stow_ctx *ctx, char *p)
{
	struct strbuf	*b = &ctx->journal_buf;

	*p++ = '\n';
	*p = '\0';
	b->len = (size_t)(p - b->s);
}

/* Writes the lines gathered so far. */
static int
journal_write(struct stow_ctx *ctx)
{
	struct strbuf	*b = &ctx->journal_buf;
	ssize_t		 n;
	size_t		 off = 0;

	while (off < b->len) {
		if ((n = write(ctx->journal_fd, b->s + off,
		    b->len - off)) == -1) {
			if (errno == EINTR)
				continue;
			b->len = 0;
			return err_os(ctx, "write", ctx->journal);
		}
		off += (size_t)n;
	}
	b->len = 0;
	return 0;
}

/* Makes the journal's name in its directory last a power loss. */
static int
sync_dir(struct stow_ctx *ctx)
{
	struct arena	 a = { NULL };
	const char	*dir;
	int		 fd, rc = 0;

	if ((dir = path_parent(&a, ctx->journal)) == NULL)
		return err_nomem(ctx);
	if ((fd = open(*dir != '\0' ? dir : ".", O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1)
		rc = err_os(ctx, "open", dir);
	else if (fsync(fd) == -1 && errno != EINVAL)
		rc = err_os(ctx, "fsync", dir);
	if (fd != -1)
		close(fd);
	arena_free(&a);
	return rc;
}

/*
 * Opens the journal and locks it (flock), for as long as the run lives:
 * recovery leaves a locked journal alone.  A recovery may lock, read
 * and remove a journal just made and not yet locked (it looks like one
 * a run left on being killed at once), so once locked the name must
 * still be this file's; else it is made again.  The lock waits: besides
 * such a recovery, only a caller giving two live runs one journal holds
 * it.  *made: this call created the file (so a failure removes it).
 */
static int
open_locked(struct stow_ctx *ctx, int *made)
{
	struct stat	st, named;
	int		tries;

	for (tries = 0; tries < 8; tries++) {
		*made = 1;
		if ((ctx->journal_fd = open(ctx->journal, O_WRONLY | O_CREAT |
		    O_EXCL | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600)) == -1 &&
		    errno == EEXIST) {
			*made = 0;
			ctx->journal_fd = open(ctx->journal, O_WRONLY |
			    O_APPEND | O_CLOEXEC | O_NOFOLLOW);
		}
		if (ctx->journal_fd == -1)
			return err_os(ctx, "open", ctx->journal);
		if (flock(ctx->journal_fd, LOCK_EX) == -1 ||
		    fstat(ctx->journal_fd, &st) == -1)
			return err_os(ctx, "flock", ctx->journal);
		if (lstat(ctx->journal, &named) == 0 &&
		    named.st_dev == st.st_dev && named.st_ino == st.st_ino)
			return 0;
		close(ctx->journal_fd);
		ctx->journal_fd = -1;
	}
	return err_set(ctx, STOW_EBUSY, "%s: removed again each time it "
	    "was made", ctx->journal);
}

/* The journal's header line: its target, vault, process and stow
 * directory (relative to the target: where an adopted file went). */
static int
put_header(struct stow_ctx *ctx)
{
	char	*p;

	if ((p = line_room(ctx, strlen(JOURNAL_MAGIC) +
	    field_room(ctx->target_abs) + field_room(ctx->backup_dir) +
	    NUMBER_ROOM + field_room(ctx->stow_path) + 1)) == NULL)
		return STOW_ENOMEM;
	p = stpcpy(p, JOURNAL_MAGIC);
	p = put_field(p, ctx->target_abs);
	p = put_field(p, ctx->backup_dir);
	p = put_number(p, (unsigned long long)getpid(), 10);
	line_end(ctx, put_field(p, ctx->stow_path));
	return 0;
}

/*
 * Opens the journal, empty but for its header, which is written with
 * the steps (journal_sync()).  A journal this call made and could not
 * begin is removed again: a failed run leaves nothing behind.
 */
int
journal_open(struct stow_ctx *ctx)
{
	struct arena	 a = { NULL };
	char		*dir;
	int		 rc = 0, made = 0;

	ctx->journal_steps = 0;
	ctx->journal_synced = 0;
	ctx->journal_buf.len = 0;
	if (ctx->journal == NULL)
		return 0;
	/* Its directory is made on the first run that changes something. */
	if ((dir = path_parent(&a, ctx->journal)) == NULL)
		rc = err_nomem(ctx);
	else if (*dir != '\0' && fs_mkdir_p(AT_FDCWD, dir, 0700,
	    ctx->chown ? ctx->owner_uid : (uid_t)-1, ctx->owner_gid) == -1)
		rc = err_os(ctx, "mkdir", dir);
	arena_free(&a);
	if (rc == 0)
		rc = open_locked(ctx, &made);
	/* Emptied only once locked, since it may have been another's. */
	if (rc == 0 && ftruncate(ctx->journal_fd, 0) == -1)
		rc = err_os(ctx, "truncate", ctx->journal);
	if (rc == 0)
		rc = put_header(ctx);
	if (rc != 0 && ctx->journal_fd != -1) {
		if (made)
			(void)unlink(ctx->journal);
		close(ctx->journal_fd);
		ctx->journal_fd = -1;
	}
	return rc;
}

/* The private name (".cstow-rm.PID.STEP") the link of a run's step is
 * moved aside to, in its own directory, before it is checked and
 * removed; pid is the run's process. */
void
journal_aside(long pid, unsigned int step, char *buf, size_t size)
{
	snprintf(buf, size, ".cstow-rm.%ld.%u", pid, step);
}

/* Gathers the line of step u, which is about to be made, and numbers
 * it; journal_sync() writes it.  A backup's dest is its vault name; a
 * swap's identity, that of the entry it replaces. */
int
journal_step(struct stow_ctx *ctx, struct undo *u)
{
	const struct undo_more	*m = u->more;
	const char		*swapped = m != NULL ? m->swapped : NULL;
	const char		*dest = u->task->dest;
	char			*p;

	u->step = ctx->journal_steps++;
	if (ctx->journal_fd == -1)
		return 0;
	if (task_kind(u->task) == STOW_OP_BACKUP && m != NULL)
		dest = m->placed;
	if ((p = line_room(ctx, 1 + 4 * NUMBER_ROOM + field_room(u->path) +
	    field_room(u->task->source) + field_room(dest) +
	    field_room(swapped) + 1)) == NULL)
		return STOW_ENOMEM;
	*p++ = 'S';
	p = put_number(p, (unsigned long long)task_kind(u->task), 10);
	p = put_number(p, m != NULL ? (unsigned long long)m->mode : 0, 8);
	p = put_field(p, u->path);
	p = put_field(p, u->task->source);
	p = put_field(p, dest);
	p = put_field(p, swapped);
	p = put_number(p, m != NULL ? (unsigned long long)m->dev : 0, 10);
	line_end(ctx, put_number(p, m != NULL ?
	    (unsigned long long)m->ino : 0, 10));
	return ctx->journal_buf.len >= JOURNAL_FLUSH ? journal_write(ctx) : 0;
}

/* Writes the steps gathered, and makes them last a power loss, before
 * any of them is made: one data sync, and for a journal just made one
 * of its directory. */
int
journal_sync(struct stow_ctx *ctx)
{
	int	rc;

	if (ctx->journal_fd == -1 || (ctx->journal_buf.len == 0 &&
	    ctx->journal_synced))
		return 0;
	if ((rc = journal_write(ctx)) != 0)
		return rc;
	if (fdatasync(ctx->journal_fd) == -1)
		return err_os(ctx, "fsync", ctx->journal);
	if (ctx->journal_synced)
		return 0;
	ctx->journal_synced = 1;
	return sync_dir(ctx);
}

/* Records that step u was undone (or is never to be made), so that
 * recovery leaves it alone. */
int
journal_undone(struct stow_ctx *ctx, const struct undo *u)
{
	char	*p;

	if (ctx->journal_fd == -1)
		return 0;
	if ((p = line_room(ctx, 1 + NUMBER_ROOM + 1)) == NULL)
		return STOW_ENOMEM;
	*p++ = 'X';
	line_end(ctx, put_number(p, u->step, 10));
	return journal_write(ctx);
}

/* The run is done or undone: the journal has nothing left to say. */
void
journal_close(struct stow_ctx *ctx)
{
	strbuf_free(&ctx->journal_buf);
	if (ctx->journal_fd == -1)
		return;
	/* Removed while still locked: no other run can take it meanwhile
	 * for a dead run's journal. */
	(void)unlink(ctx->journal);
	close(ctx->journal_fd);
	ctx->journal_fd = -1;
}

/* Splits a journal line in place into up to max tab-separated fields,
 * unescaping them.  Returns how many. */
static int
split(char *line, char **f, int max)
{
	char	*s, *d;
	int	 n = 0;

	while (n < max) {
		f[n++] = line;
		for (s = d = line; *s != '\0' && *s != '\t'; s++) {
			if (*s == '\\' && s[1] != '\0') {
				s++;
				*d++ = *s == 't' ? '\t' : *s == 'n' ? '\n' : *s;
			} else
				*d++ = *s;
		}
		line = *s == '\t' ? s + 1 : NULL;
		*d = '\0';
		if (line == NULL)
			break;
	}
	return n;
}

/* What a journal's header says. */
struct journal_head {
	const char	*target;	/* NULL: no whole header */
	const char	*vault;		/* "": none */
	long		 pid;		/* of the run that wrote it */
	const char	*stow_path;	/* its stow directory, from target */
};

/* Is path one a journal may name inside its target: relative, not
 * empty, with no ".." component (stow_replace_path_check()'s rule)? */
static int
confined(const char *path)
{
	return path != NULL && stow_replace_path_check(path) == NULL;
}

/* Does the step's move lead into a package of the journal's stow
 * directory? */
static int
into_stow_dir(struct arena *a, const struct journal_head *h,
    const char *dest)
{
	const char	*norm, *sp;

	if (dest == NULL || *dest == '/')
		return 0;
	return (norm = path_join(a, "", dest)) != NULL &&
	    (sp = path_join(a, "", h->stow_path)) != NULL &&
	    path_is_under(norm, sp, NULL) && strcmp(norm, sp) != 0;
}

/* Is step u, as parsed, one a journal may hold? */
static int
step_allowed(const struct journal_head *h, struct arena *a,
    const struct undo *u)
{
	const struct task	*t = u->task;
	enum stow_op_kind	 kind = task_kind(t);

	/* A package's file is backed up from the stow directory (--adopt
	 * keeps its version); anything else is inside the target. */
	if (!(kind == STOW_OP_BACKUP && into_stow_dir(a, h, u->path)) &&
	    (!confined(u->path) || (u->more->swapped != NULL &&
	    !confined(u->more->swapped))))
		return 0;
	if ((kind == STOW_OP_LINK || kind == STOW_OP_UNLINK) &&
	    t->source == NULL)
		return 0;
	if (kind == STOW_OP_BACKUP)
		return confined(u->more->placed);
	if (kind == STOW_OP_MOVE)
		return into_stow_dir(a, h, t->dest);
	return 1;
}

/* A journalled step: the task it made, rebuilt from the line's fields
 * kind, mode, path, link, dest, swapped, and the replaced entry's
 * device and inode.  1 when malformed or not allowed. */
static int
parse_step(const struct journal_head *h, struct arena *a, char **f,
    struct undo *u)
{
	struct task	*t;
	char		*end;
	long		 kind = strtol(f[1], &end, 10);

	memset(u, 0, sizeof(*u));
	if (*end != '\0' || kind < STOW_OP_MKDIR || kind > STOW_OP_BACKUP)
		return 1;
	if ((t = arena_alloc(a, sizeof(*t))) == NULL ||
	    (u->more = arena_alloc(a, sizeof(*u->more))) == NULL)
		return -1;
	memset(t, 0, sizeof(*t));
	memset(u->more, 0, sizeof(*u->more));
	t->action = kind == STOW_OP_MKDIR || kind == STOW_OP_LINK ?
	    T_CREATE : kind == STOW_OP_RMDIR || kind == STOW_OP_UNLINK ?
	    T_REMOVE : kind == STOW_OP_MOVE ? T_MOVE : T_BACKUP;
	t->type = kind == STOW_OP_MKDIR || kind == STOW_OP_RMDIR ? T_DIR :
	    kind == STOW_OP_LINK || kind == STOW_OP_UNLINK ? T_LINK : T_FILE;
	t->path = u->path = f[3];
	t->source = *f[4] != '\0' ? f[4] : NULL;
	t->dest = *f[5] != '\0' ? f[5] : NULL;
	u->task = t;
	u->more->mode = (mode_t)strtoul(f[2], NULL, 8);
	u->more->swapped = *f[6] != '\0' ? f[6] : NULL;
	u->more->dev = (dev_t)strtoull(f[7], NULL, 10);
	u->more->ino = (ino_t)strtoull(f[8], NULL, 10);
	u->more->manifest_size = -1;
	if (kind == STOW_OP_BACKUP)
		u->more->placed = t->dest;
	return step_allowed(h, a, u) ? 0 : 1;
}

/* Appends a step to the growing array *steps (capacity *cap). */
static struct undo *
step_add(struct arena *a, struct undo **steps, size_t *n, size_t *cap)
{
	struct undo	*grown;

	if (*n == *cap) {
		if ((grown = arena_alloc(a, 2 * *cap * sizeof(*grown))) ==
		    NULL)
			return NULL;
		memcpy(grown, *steps, *cap * sizeof(*grown));
		*steps = grown;
		*cap *= 2;
	}
	return &(*steps)[(*n)++];
}

/* Reads the header line (5 fields) into h. */
static int
read_header(struct stow_ctx *ctx, const char *path, char **f, int nf,
    struct journal_head *h)
{
	char	*end;

	if (nf != 5 || strcmp(f[0], JOURNAL_MAGIC) != 0 || *f[1] != '/')
		return err_set(ctx, STOW_EINVAL, "%s:1: not a cstow journal "
		    "(or one from another version)", path);
	h->target = f[1];
	h->vault = f[2];
	h->pid = strtol(f[3], &end, 10);
	h->stow_path = f[4];
	if (*end != '\0' || (*h->vault != '\0' && *h->vault != '/') ||
	    *h->stow_path == '\0' || *h->stow_path == '/')
		return err_set(ctx, STOW_EINVAL, "%s:1: malformed header",
		    path);
	return 0;
}

/* Reads the journal's steps into *steps (undone ones marked by a NULL
 * task), and its header. */
static int
read_journal(struct stow_ctx *ctx, struct arena *a, const char *path,
    char *text, struct undo **steps, size_t *n, struct journal_head *h)
{
	struct undo	*u;
	char		*line, *next, *f[9], *end;
	size_t		 cap = 16;
	unsigned long	 x;
	unsigned int	 lineno = 0;
	int		 nf, rc;

	*n = 0;
	memset(h, 0, sizeof(*h));
	if ((*steps = arena_alloc(a, cap * sizeof(**steps))) == NULL)
		return err_nomem(ctx);
	for (line = text; line != NULL && *line != '\0'; line = next) {
		lineno++;
		if ((next = strchr(line, '\n')) == NULL)
			break;		/* cut short by the kill: not made */
		*next++ = '\0';
		nf = split(line, f, 9);
		if (lineno > 1 && h->target == NULL)
			break;
		if (lineno == 1) {
			if ((rc = read_header(ctx, path, f, nf, h)) != 0)
				return rc;
		} else if (nf == 2 && strcmp(f[0], "X") == 0 &&
		    (x = strtoul(f[1], &end, 10)) < *n && *end == '\0') {
			(*steps)[x].task = NULL;
		} else if (nf == 9 && strcmp(f[0], "S") == 0) {
			if ((u = step_add(a, steps, n, &cap)) == NULL ||
			    (rc = parse_step(h, a, f, u)) == -1)
				return err_nomem(ctx);
			u->step = (unsigned int)(*n - 1);
			if (rc != 0)
				return err_set(ctx, STOW_EINVAL, "%s:%u: a step "
				    "this journal may not hold: refused",
				    path, lineno);
		} else
			return err_set(ctx, STOW_EINVAL, "%s:%u: malformed "
			    "line", path, lineno);
	}
	/* No whole header: killed before the first step, nothing done. */
	if (h->target == NULL)
		*n = 0;
	return 0;
}

/* Is x the exchange of the swap whose removal (under the temporary
 * name) is u? */
static int
exchange_of(const struct undo *x, const struct undo *u)
{
	return x->more != NULL && x->more->swapped != NULL &&
	    strcmp(x->path, u->path) == 0;
}

/*
 * Was swap step u (the exchange of its temporary name with swapped)
 * made?  The new entry is told from the one it replaces by what it is:
 * a link with the text planned, or a directory where there was none
 * (and, a directory replacing a directory, by the old one's identity).
 * A user's own edit of the path since (a new file) is never taken for
 * it.
 */
static int
exchange_made(struct stow_ctx *w, struct arena *a, const struct undo *u)
{
	struct stat	 st;
	const char	*text;
	const char	*p = u->more->swapped;

	if (fs_lstat(w->target_fd, p, &st) == -1)
		return 0;
	if (task_kind(u->task) == STOW_OP_LINK)
		return S_ISLNK(st.st_mode) &&
		    (text = fs_readlink(a, w->target_fd, p)) != NULL &&
		    strcmp(text, u->task->source) == 0;
	if (!S_ISDIR(st.st_mode))
		return 0;
	return !S_ISDIR(u->more->mode) || st.st_dev != u->more->dev ||
	    st.st_ino != u->more->ino;
}

/* Was step i made?  Each step's precondition stops holding once it is
 * made; the steps after it are undone (or were never made) by the time
 * this is asked. */
static int
step_made(struct stow_ctx *w, struct arena *a, struct undo *steps,
    size_t i)
{
	const struct undo	*u = &steps[i];
	struct stat		 st;
	const char		*text;
	int			 there;

	if (u->more->swapped != NULL)
		return exchange_made(w, a, u);
	/* A swap's removal is made only once its exchange was. */
	if (i > 0 && exchange_of(&steps[i - 1], u) &&
	    (steps[i - 1].task == NULL || !exchange_made(w, a,
	    &steps[i - 1])))
		return 0;
	there = fs_lstat(w->target_fd, u->path, &st) == 0;
	switch (task_kind(u->task)) {
	case STOW_OP_LINK:
		return there && S_ISLNK(st.st_mode) &&
		    (text = fs_readlink(a, w->target_fd, u->path)) != NULL &&
		    strcmp(text, u->task->source) == 0;
	case STOW_OP_MKDIR:
		return there && S_ISDIR(st.st_mode);
	default:		/* removals: the path is gone */
		return !there;
	}
}

/*
 * Before an unlink step is judged: a link the run had moved aside under
 * its private name (fs_unlink_checked()) and not yet removed is removed
 * now if it is the link planned, or, being anything else, goes back.
 */
static int
settle_aside(struct stow_ctx *w, const struct journal_head *h,
    const struct undo *u)
{
	const char	*leaf;
	char		 aside[NAME_MAX + 1];
	int		 fd, rc;

	journal_aside(h->pid, u->step, aside, sizeof(aside));
	if ((fd = walk_parent(w, u->path, &leaf)) == -1)
		return errno == ENOENT || errno == ENOTDIR ? 0 : -1;
	rc = fs_unlink_checked(fd, aside, u->task->source, NULL);
	if (rc == FS_NOT_OURS && fs_lstat(fd, aside, &(struct stat){ 0 }) == 0)
		rc = fs_move_at(fd, aside, fd, leaf, 0, NULL);
	walk_forget(w);
	return rc == -1 && errno != ENOENT ? -1 : 0;
}

/*
 * A backup that was moving a tree across file systems when the run died
 * may have left it in both places, part removed, the copy whole (or the
 * copy partial, nothing removed): what is missing goes back from the
 * copy, and the copy goes.  1 when it was so (the step is settled).
 */
static int
settle_copy(struct stow_ctx *w, const struct undo *u)
{
	const char	*leaf;
	int		 fd, rc;

	if (w->vault_fd == -1 || fs_lstat(w->vault_fd, u->more->placed,
	    &(struct stat){ 0 }) == -1)
		return 0;
	if ((fd = walk_parent(w, u->path, &leaf)) == -1 ||
	    fs_lstat(fd, leaf, &(struct stat){ 0 }) == -1) {
		walk_forget(w);
		return 0;
	}
	rc = fs_merge_back(w->vault_fd, u->more->placed, fd, leaf);
	walk_forget(w);
	return rc == -1 ? -1 : 1;
}

/* Does errno, from undoing a step, mean the user changed what the step
 * made since (so undoing it would lose their work)? */
static int
changed_since(int e)
{
	return e == EEXIST || e == ENOTEMPTY;
}

/* The undo, as an operation for the callback. */
static void
undo_to_op(const struct undo *u, struct stow_op *op)
{
	memset(op, 0, sizeof(*op));
	op->kind = task_kind(u->task);
	op->path = u->path;
	op->link = u->task->source;
	op->dest = op->kind == STOW_OP_BACKUP ? u->more->placed :
	    u->task->dest;
}

/*
 * Undoes step i if it was made.  A step whose undoing would lose what
 * the user made since (a file in a directory the run made, a file where
 * a link it removed was) is left, with a warning: what the run left
 * there is kept, and nothing is lost.  Other failures are listed in
 * left.
 */
static int
undo_one(struct stow_ctx *ctx, struct stow_ctx *w, struct arena *a,
    const struct journal_head *h, struct undo *steps, size_t i,
    stow_op_cb cb, void *payload, struct strbuf *left)
{
	struct undo	*u = &steps[i];
	struct stow_op	 op;
	int		 rc;

	if (task_kind(u->task) == STOW_OP_UNLINK && u->more->swapped ==
	    NULL && settle_aside(w, h, u) == -1)
		return strbuf_printf(left, "%s%.200s", left->len > 0 ? ", " :
		    "", u->path) == -1 ? err_nomem(ctx) : 0;
	if (task_kind(u->task) == STOW_OP_BACKUP &&
	    (i == 0 || !exchange_of(&steps[i - 1], u) ||
	    (steps[i - 1].task != NULL && exchange_made(w, a, &steps[i - 1]))) &&
	    (rc = settle_copy(w, u)) != 0)
		return rc == 1 ? 0 : strbuf_printf(left, "%s%.200s",
		    left->len > 0 ? ", " : "", u->path) == -1 ?
		    err_nomem(ctx) : 0;
	if (!step_made(w, a, steps, i))
		return 0;
	undo_to_op(u, &op);
	if (cb != NULL && (rc = cb(&op, payload)) != 0)
		return rc;
	/* What the journal kept and the step needs: swapped or not,
	 * placed, the mode of a removed directory. */
	if (undo_op(w, u) == 0)
		return 0;
	if (changed_since(errno)) {
		log_msg(ctx, 0, "WARNING: kept %s as it is: changed since the "
		    "interrupted run%s%s", u->path, op.kind == STOW_OP_BACKUP ?
		    "; what the run moved from there stays in the vault at " :
		    "", op.kind == STOW_OP_BACKUP ? op.dest : "");
		return 0;
	}
	return strbuf_printf(left, "%s%.200s (%s)", left->len > 0 ? ", " : "",
	    u->path, strerror(errno)) == -1 ? err_nomem(ctx) : 0;
}

/* Undoes, newest first, those of steps[0..n) that were made and not
 * undone already, in the tree of w. */
static int
undo_steps(struct stow_ctx *ctx, struct stow_ctx *w, struct arena *a,
    const struct journal_head *h, struct undo *steps, size_t n,
    stow_op_cb cb, void *payload)
{
	struct strbuf	left = { NULL, 0, 0 };
	size_t		i;
	int		rc = 0;

	for (i = n; i-- > 0 && rc == 0; )
		if (steps[i].task != NULL)
			rc = undo_one(ctx, w, a, h, steps, i, cb, payload,
			    &left);
	walk_forget(w);
	if (rc == 0 && left.len > 0)
		rc = err_set(ctx, STOW_EPARTIAL, "could not undo: %s",
		    strbuf_str(&left));
	strbuf_free(&left);
	return rc;
}

/*
 * Opens the journal at path, locked (how: LOCK_EX or LOCK_SH) if no live
 * run holds it: a journal its run still holds is that run's business
 * (STOW_EBUSY).  *fd is -1 when there is no journal.
 */
static int
open_dead(struct stow_ctx *ctx, const char *path, int how, int *fd)
{
	int	rc;

	if ((*fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return errno == ENOENT ? 0 : errno == ELOOP ?
		    err_set(ctx, STOW_EINVAL, "%s: a symbolic link, not a "
		    "journal: refused", path) : err_os(ctx, "open", path);
	if (flock(*fd, how | LOCK_NB) == 0)
		return 0;
	rc = errno == EWOULDBLOCK ? err_set(ctx, STOW_EBUSY, "%s: in use "
	    "by a run still going", path) : err_os(ctx, "flock", path);
	close(*fd);
	*fd = -1;
	return rc;
}

/*
 * Is the journal open as fd one this user's own runs wrote?  Only then
 * is it read: a regular file owned by the caller, writable by nobody
 * else, with no other name.  Anyone else's journal, whatever it says,
 * is refused and never carried out.
 */
static int
journal_trusted(struct stow_ctx *ctx, const char *path, int fd)
{
	struct stat	st;

	if (fstat(fd, &st) == -1)
		return err_os(ctx, "fstat", path);
	if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & 022) != 0 || st.st_nlink != 1)
		return err_set(ctx, STOW_EINVAL, "%s: not a journal of this "
		    "user's (owned by uid %lu, mode %04o): refused", path,
		    (unsigned long)st.st_uid, (unsigned int)(st.st_mode &
		    07777));
	return 0;
}

/* Opens the journal's target and vault in w, for the undoing. */
static int
open_journal_dirs(struct stow_ctx *ctx, struct stow_ctx *w, const char *path,
    const struct journal_head *h)
{
	struct stat	st;

	if (ctx->configured && strcmp(h->target, ctx->target_abs) != 0)
		return err_set(ctx, STOW_EINVAL, "%s: a journal for %s, not "
		    "for %s: refused", path, h->target, ctx->target_abs);
	if ((w->target_fd = fs_open_dir(AT_FDCWD, h->target)) == -1)
		return err_os(ctx, "open", h->target);
	if ((w->target_abs = strdup(h->target)) == NULL)
		return err_nomem(ctx);
	if (*h->vault == '\0')
		return 0;
	if ((w->vault_fd = open(h->vault, O_RDONLY | O_DIRECTORY |
	    O_NOFOLLOW | O_CLOEXEC)) == -1)
		return errno == ENOENT ? 0 : err_os(ctx, "open", h->vault);
	if (fstat(w->vault_fd, &st) == -1)
		return err_os(ctx, "fstat", h->vault);
	if (st.st_uid != geteuid() || (st.st_mode & 022) != 0)
		return err_set(ctx, STOW_EINVAL, "%s: its vault %s is not this "
		    "user's own: refused", path, h->vault);
	if ((w->backup_dir = strdup(h->vault)) == NULL)
		return err_nomem(ctx);
	return 0;
}

STOW_API int
stow_journal_recover(struct stow_ctx *ctx, const char *path, stow_op_cb cb,
    void *payload)
{
	struct arena		 a = { NULL };
	struct journal_head	 h;
	struct stow_ctx		*w;
	struct undo		*steps;
	char			*text = NULL;
	size_t			 n;
	int			 rc, lock;

	if (ctx == NULL || ctx->magic != CTX_MAGIC || path == NULL)
		return STOW_EMISUSE;
	if ((rc = open_dead(ctx, path, LOCK_EX, &lock)) != 0 || lock == -1)
		return rc;
	if ((rc = journal_trusted(ctx, path, lock)) != 0) {
		close(lock);
		return rc;
	}
	if ((text = fs_read_fd(lock, NULL)) == NULL) {
		rc = err_os(ctx, "read", path);
		close(lock);
		return rc;
	}
	if ((w = stow_ctx_new()) == NULL) {
		free(text);
		close(lock);
		return err_nomem(ctx);
	}
	/* Undo messages and warnings reach the caller's log. */
	w->log_cb = ctx->log_cb;
	w->log_payload = ctx->log_payload;
	w->log_level = ctx->log_level;
	if ((rc = read_journal(ctx, &a, path, text, &steps, &n, &h)) == 0 &&
	    h.target != NULL && (rc = open_journal_dirs(ctx, w, path,
	    &h)) == 0)
		rc = undo_steps(ctx, w, &a, &h, steps, n, cb, payload);
	if (rc == 0 && unlink(path) == -1)
		rc = err_os(ctx, "unlink", path);
	stow_ctx_free(w);
	arena_free(&a);
	free(text);
	close(lock);
	return rc;
}

STOW_API int
stow_journal_target(struct stow_ctx *ctx, const char *path, char **target)
{
	char	*text, *nl, *f[5];
	int	 fd, rc = 0;

	if (target != NULL)
		*target = NULL;
	if (ctx == NULL || ctx->magic != CTX_MAGIC || path == NULL ||
	    target == NULL)
		return STOW_EMISUSE;
	if ((rc = open_dead(ctx, path, LOCK_SH, &fd)) != 0 || fd == -1)
		return rc;
	if ((rc = journal_trusted(ctx, path, fd)) != 0) {
		close(fd);
		return rc;
	}
	text = fs_read_fd(fd, NULL);
	close(fd);
	if (text == NULL)
		return err_os(ctx, "read", path);
	if ((nl = strchr(text, '\n')) != NULL) {
		*nl = '\0';
		if (split(text, f, 5) != 5 || strcmp(f[0], JOURNAL_MAGIC) != 0)
			rc = err_set(ctx, STOW_EINVAL, "%s:1: not a cstow "
			    "journal (or one from another version)", path);
		else if ((*target = strdup(f[1])) == NULL)
			rc = err_nomem(ctx);
	}
	free(text);
	return rc;
}
