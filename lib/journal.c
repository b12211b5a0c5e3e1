/*
 * journal.c: what an apply is about to do, written down before it is
 * done, so that a run killed halfway (or cut off by a power loss) can
 * be undone by the next one.
 *
 * One line per step ("S"), written and synced before the step is made;
 * plain steps (links, unlinks, mkdirs) go in batches, one write for
 * many.  After a backup, where it went in the vault ("P"); after a step
 * is undone, its number ("X").  Any step may or may not have been made
 * when the run died -- the last batch in flight, or a step undone with
 * its "X" line still unwritten -- which the disk tells: each step's
 * precondition is false once it is made.
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

#define JOURNAL_MAGIC	"cstow-journal 3"

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

/* Writes a tab and n in base 10 at p; returns the end. */
static char *
put_signed(char *p, long long n)
{
	char	*end;

	if (n >= 0)
		return put_number(p, (unsigned long long)n, 10);
	end = put_number(p + 1, -(unsigned long long)n, 10);
	p[0] = '\t';
	p[1] = '-';
	return end;
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

/* Makes the journal's new name in its directory last a power loss. */
static int
sync_dir(struct stow_ctx *ctx, const char *dir)
{
	int	fd, rc = 0;

	if ((fd = open(*dir != '\0' ? dir : ".", O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1)
		return err_os(ctx, "open", dir);
	if (fsync(fd) == -1 && errno != EINVAL)
		rc = err_os(ctx, "fsync", dir);
	close(fd);
	return rc;
}

/*
 * Opens the journal and locks it (flock), for as long as the run lives:
 * recovery leaves a locked journal alone.  A recovery may lock, read
 * and remove a journal just made and not yet locked (it looks like one
 * a run left on being killed at once), so once locked the name must
 * still be this file's; else it is made again.  The lock waits: besides
 * such a recovery, only a caller giving two live runs one journal holds
 * it.
 */
static int
open_locked(struct stow_ctx *ctx)
{
	struct stat	st, named;
	int		tries;

	for (tries = 0; tries < 8; tries++) {
		if ((ctx->journal_fd = open(ctx->journal, O_WRONLY | O_CREAT |
		    O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600)) == -1)
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

int
journal_open(struct stow_ctx *ctx)
{
	struct strbuf	*b = &ctx->journal_buf;
	struct arena	 a = { NULL };
	char		*dir, *p;
	int		 rc = 0;

	ctx->journal_steps = 0;
	if (ctx->journal == NULL)
		return 0;
	/* Its directory is made on the first run that changes something. */
	if ((dir = path_parent(&a, ctx->journal)) == NULL)
		rc = err_nomem(ctx);
	else if (*dir != '\0' && fs_mkdir_p(AT_FDCWD, dir, 0700,
	    ctx->chown ? ctx->owner_uid : (uid_t)-1, ctx->owner_gid) == -1)
		rc = err_os(ctx, "mkdir", dir);
	if (rc == 0)
		rc = open_locked(ctx);
	/* Emptied only once locked, since it may have been another's. */
	if (rc == 0 && ftruncate(ctx->journal_fd, 0) == -1)
		rc = err_os(ctx, "truncate", ctx->journal);
	b->len = 0;
	if (rc == 0 && (p = line_room(ctx, strlen(JOURNAL_MAGIC) +
	    field_room(ctx->target_abs) + field_room(ctx->backup_dir) +
	    1)) == NULL)
		rc = STOW_ENOMEM;
	if (rc == 0) {
		p = stpcpy(p, JOURNAL_MAGIC);
		p = put_field(p, ctx->target_abs);
		line_end(ctx, put_field(p, ctx->backup_dir));
		if ((rc = journal_sync(ctx)) == 0)
			rc = sync_dir(ctx, dir);
	}
	/* Not ours to remove: journal_close() is for a journal begun. */
	if (rc != 0 && ctx->journal_fd != -1) {
		close(ctx->journal_fd);
		ctx->journal_fd = -1;
	}
	arena_free(&a);
	return rc;
}

/* Gathers the line of step u, which is about to be made, and numbers
 * it; journal_sync() writes it. */
int
journal_step(struct stow_ctx *ctx, struct undo *u)
{
	const struct undo_more	*m = u->more;
	const char		*swapped = m != NULL ? m->swapped : NULL;
	char			*p;

	u->step = ctx->journal_steps++;
	if (ctx->journal_fd == -1)
		return 0;
	if ((p = line_room(ctx, 1 + 4 * NUMBER_ROOM + field_room(u->path) +
	    field_room(u->task->source) + field_room(u->task->dest) +
	    field_room(swapped) + 1)) == NULL)
		return STOW_ENOMEM;
	*p++ = 'S';
	p = put_number(p, (unsigned long long)task_kind(u->task), 10);
	p = put_number(p, m != NULL ? (unsigned long long)m->mode : 0, 8);
	p = put_field(p, u->path);
	p = put_field(p, u->task->source);
	p = put_field(p, u->task->dest);
	p = put_field(p, swapped);
	p = put_number(p, m != NULL ? (unsigned long long)m->dev : 0, 10);
	line_end(ctx, put_number(p, m != NULL ?
	    (unsigned long long)m->ino : 0, 10));
	return 0;
}
/* Writes the steps gathered, and makes them last a power loss, before
 * any of them is made. */
int
journal_sync(struct stow_ctx *ctx)
{
	int	rc;

	if (ctx->journal_fd == -1 || ctx->journal_buf.len == 0)
		return 0;
	if ((rc = journal_write(ctx)) != 0)
		return rc;
	return fdatasync(ctx->journal_fd) == -1 ?
	    err_os(ctx, "fsync", ctx->journal) : 0;
}

/* Records where the backup u just made went in the vault.  Not synced:
 * the vault's MANIFEST, which is, says the same. */
int
journal_placed(struct stow_ctx *ctx, const struct undo *u)
{
	char	*p;

	if (ctx->journal_fd == -1)
		return 0;
	if ((p = line_room(ctx, 1 + NUMBER_ROOM +
	    field_room(u->more->placed) + 1)) == NULL)
		return STOW_ENOMEM;
	*p++ = 'P';
	p = put_signed(p, (long long)u->more->manifest_size);
	line_end(ctx, put_field(p, u->more->placed));
	return journal_write(ctx);
}
/* Records that step u was undone, so that recovery leaves it alone. */
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

/* Was step u made?  Each step's precondition stops holding once it is
 * made; the steps after it are undone (or were never made) by the time
 * this is asked. */
static int
step_made(struct stow_ctx *ctx, struct arena *a, const struct undo *u)
{
	struct stat	 st;
	const char	*text, *at = u->path;
	int		 fd = ctx->target_fd, there;

	/* A swap's new entry is at the swapped path once made; the old
	 * one may be of the same type (a directory replaced by one), so
	 * the new one is known by its identity. */
	if (u->more != NULL && u->more->swapped != NULL) {
		if (fs_lstat(fd, u->more->swapped, &st) == -1)
			return 0;
		if (u->more->ino != 0)
			return st.st_dev == u->more->dev &&
			    st.st_ino == u->more->ino;
		at = u->more->swapped;
	}
	there = fs_lstat(fd, at, &st) == 0;
	switch (task_kind(u->task)) {
	case STOW_OP_LINK:
		return there && S_ISLNK(st.st_mode) &&
		    (text = fs_readlink(a, fd, at)) != NULL &&
		    strcmp(text, u->task->source) == 0;
	case STOW_OP_MKDIR:
		return there && S_ISDIR(st.st_mode);
	default:		/* removals: the path is gone */
		return !there;
	}
}

/* Where an unconfirmed backup of dest went: the last free name it could
 * have taken that is there (vault_place() tries dest, dest.1, ...). */
static const char *
guess_placed(struct stow_ctx *ctx, struct arena *a, const char *dest)
{
	struct stat	 st;
	const char	*found = NULL, *name;
	int		 i;

	for (i = 0; i < 1000; i++) {
		name = i == 0 ? arena_strdup(a, dest) :
		    arena_printf(a, "%s.%d", dest, i);
		if (name == NULL || fs_lstat(ctx->vault_fd, name, &st) == -1)
			break;
		found = name;
	}
	return found;
}

/* A journalled step: the task it made, rebuilt from the line's fields
 * kind, mode, path, link, dest, swapped, and the swapped-in entry's
 * device and inode. */
static int
parse_step(struct arena *a, char **f, struct undo *u)
{
	struct task	*t;
	int		 kind = atoi(f[1]);

	memset(u, 0, sizeof(*u));
	if ((t = arena_alloc(a, sizeof(*t))) == NULL)
		return -1;
	memset(t, 0, sizeof(*t));
	t->action = kind == STOW_OP_MKDIR || kind == STOW_OP_LINK ?
	    T_CREATE : kind == STOW_OP_RMDIR || kind == STOW_OP_UNLINK ?
	    T_REMOVE : kind == STOW_OP_MOVE ? T_MOVE : T_BACKUP;
	t->type = kind == STOW_OP_MKDIR || kind == STOW_OP_RMDIR ? T_DIR :
	    kind == STOW_OP_LINK || kind == STOW_OP_UNLINK ? T_LINK : T_FILE;
	t->path = u->path = f[3];
	t->source = *f[4] != '\0' ? f[4] : NULL;
	t->dest = *f[5] != '\0' ? f[5] : NULL;
	u->task = t;
	if ((u->more = arena_alloc(a, sizeof(*u->more))) == NULL)
		return -1;
	memset(u->more, 0, sizeof(*u->more));
	u->more->mode = (mode_t)strtoul(f[2], NULL, 8);
	u->more->swapped = *f[6] != '\0' ? f[6] : NULL;
	u->more->dev = (dev_t)strtoull(f[7], NULL, 10);
	u->more->ino = (ino_t)strtoull(f[8], NULL, 10);
	u->more->manifest_size = -1;
	return kind >= STOW_OP_MKDIR && kind <= STOW_OP_BACKUP &&
	    (t->source != NULL || t->type != T_LINK) &&
	    (t->dest != NULL || t->type != T_FILE) ? 0 : 1;
}

/* Reads the journal's steps into *steps (undone ones marked by a NULL
 * task); the header into target and vault. */
static int
read_journal(struct stow_ctx *ctx, struct arena *a, const char *path,
    char *text, struct undo **steps, size_t *n, char **target, char **vault)
{
	struct undo	*u;
	char		*line, *next, *f[9];
	size_t		 cap = 16;
	unsigned long	 x;
	unsigned int	 lineno = 0;
	int		 nf, rc;

	*n = 0;
	if ((*steps = arena_alloc(a, cap * sizeof(**steps))) == NULL)
		return err_nomem(ctx);
	for (line = text; line != NULL && *line != '\0'; line = next) {
		lineno++;
		if ((next = strchr(line, '\n')) == NULL)
			break;		/* cut short by the kill: not made */
		*next++ = '\0';
		nf = split(line, f, 9);
		if (lineno == 1) {
			if (nf != 3 || strcmp(f[0], JOURNAL_MAGIC) != 0)
				return err_set(ctx, STOW_EINVAL, "%s:1: not a "
				    "cstow journal (or one from another "
				    "version)", path);
			*target = f[1];
			*vault = f[2];
		} else if (nf == 3 && strcmp(f[0], "P") == 0 && *n > 0 &&
		    (u = &(*steps)[*n - 1])->task != NULL) {
			u->more->manifest_size = strtoll(f[1], NULL, 10);
			u->more->placed = f[2];
		} else if (nf == 2 && strcmp(f[0], "X") == 0 &&
		    (x = strtoul(f[1], NULL, 10)) < *n) {
			(*steps)[x].task = NULL;
		} else if (nf == 9 && strcmp(f[0], "S") == 0) {
			if (*n == cap) {
				struct undo	*grown;

				if ((grown = arena_alloc(a, 2 * cap *
				    sizeof(*grown))) == NULL)
					return err_nomem(ctx);
				memcpy(grown, *steps, cap * sizeof(*grown));
				*steps = grown;
				cap *= 2;
			}
			if ((rc = parse_step(a, f, &(*steps)[*n])) == -1)
				return err_nomem(ctx);
			if (rc != 0)
				return err_set(ctx, STOW_EINVAL, "%s:%u: "
				    "malformed step", path, lineno);
			(*n)++;
		} else
			return err_set(ctx, STOW_EINVAL, "%s:%u: malformed "
			    "line", path, lineno);
	}
	/* No whole header: killed before the first step, nothing done. */
	if (*target == NULL)
		*n = 0;
	return 0;
}

/* Undoes, newest first, those of steps[0..n) that were made and not
 * undone already, in the tree of w. */
static int
undo_steps(struct stow_ctx *ctx, struct stow_ctx *w, struct arena *a,
    struct undo *steps, size_t n, stow_op_cb cb, void *payload)
{
	struct strbuf	left = { NULL, 0, 0 };
	struct stow_op	op;
	size_t		i;
	int		rc = 0;

	for (i = n; i-- > 0 && rc == 0; ) {
		if (steps[i].task == NULL || !step_made(w, a, &steps[i]))
			continue;
		if (task_kind(steps[i].task) == STOW_OP_BACKUP &&
		    steps[i].more->placed == NULL && w->vault_fd != -1)
			steps[i].more->placed = guess_placed(w, a,
			    steps[i].task->dest);
		memset(&op, 0, sizeof(op));
		op.kind = task_kind(steps[i].task);
		op.path = steps[i].path;
		op.link = steps[i].task->source;
		op.dest = steps[i].task->dest;
		if (cb != NULL && (rc = cb(&op, payload)) != 0)
			break;
		/* What the journal kept and the step needs: swapped or
		 * not, placed, the mode of a removed directory. */
		if (steps[i].more->swapped == NULL &&
		    task_kind(steps[i].task) != STOW_OP_BACKUP &&
		    task_kind(steps[i].task) != STOW_OP_RMDIR)
			steps[i].more = NULL;
		if (undo_op(w, &steps[i]) == -1)
			(void)strbuf_printf(&left, "%s%.200s", left.len > 0 ?
			    ", " : "", steps[i].path);
	}
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
		return errno == ENOENT ? 0 : err_os(ctx, "open", path);
	if (flock(*fd, how | LOCK_NB) == 0)
		return 0;
	rc = errno == EWOULDBLOCK ? err_set(ctx, STOW_EBUSY, "%s: in use "
	    "by a run still going", path) : err_os(ctx, "flock", path);
	close(*fd);
	*fd = -1;
	return rc;
}

STOW_API int
stow_journal_recover(struct stow_ctx *ctx, const char *path, stow_op_cb cb,
    void *payload)
{
	struct arena	 a = { NULL };
	struct stow_ctx	*w;
	struct undo	*steps;
	char		*text, *target = NULL, *vault = NULL;
	size_t		 n;
	int		 rc, lock;

	if (ctx == NULL || ctx->magic != CTX_MAGIC || path == NULL)
		return STOW_EMISUSE;
	if ((rc = open_dead(ctx, path, LOCK_EX, &lock)) != 0 || lock == -1)
		return rc;
	if ((text = fs_read_file(AT_FDCWD, path, NULL)) == NULL) {
		rc = errno == ENOENT ? 0 : err_os(ctx, "open", path);
		close(lock);
		return rc;
	}
	if ((w = stow_ctx_new()) == NULL) {
		free(text);
		close(lock);
		return err_nomem(ctx);
	}
	if ((rc = read_journal(ctx, &a, path, text, &steps, &n, &target,
	    &vault)) == 0 && target != NULL) {
		if ((w->target_fd = fs_open_dir(AT_FDCWD, target)) == -1)
			rc = err_os(ctx, "open", target);
		else if (*vault != '\0' &&
		    (w->vault_fd = fs_open_dir(AT_FDCWD, vault)) == -1 &&
		    errno != ENOENT)
			rc = err_os(ctx, "open", vault);
	}
	if (rc == 0 && target != NULL)
		rc = undo_steps(ctx, w, &a, steps, n, cb, payload);
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
	char	*text, *nl, *f[3];
	int	 fd, rc = 0;

	if (target != NULL)
		*target = NULL;
	if (ctx == NULL || ctx->magic != CTX_MAGIC || path == NULL ||
	    target == NULL)
		return STOW_EMISUSE;
	if ((rc = open_dead(ctx, path, LOCK_SH, &fd)) != 0 || fd == -1)
		return rc;
	text = fs_read_file(AT_FDCWD, path, NULL);
	close(fd);
	if (text == NULL)
		return errno == ENOENT ? 0 : err_os(ctx, "open", path);
	if ((nl = strchr(text, '\n')) != NULL) {
		*nl = '\0';
		if (split(text, f, 3) != 3 || strcmp(f[0], JOURNAL_MAGIC) != 0)
			rc = err_set(ctx, STOW_EINVAL, "%s:1: not a cstow "
			    "journal (or one from another version)", path);
		else if ((*target = strdup(f[1])) == NULL)
			rc = err_nomem(ctx);
	}
	free(text);
	return rc;
}
