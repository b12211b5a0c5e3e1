/*
 * journal.c: what an apply is about to do, written down before any of
 * it is done, so that a run killed halfway (or cut off by a power loss)
 * can be undone by the next one.
 *
 * The header names the target, the vault, the apply's tag (which names
 * its private files) and the stow directory; then one line per step
 * ("S"), every step of the apply written and synced once, ended by an
 * "E" line, before the first is made.  Just before a swap's exchange,
 * the identity of its new entry ("N"); after a step is undone, its
 * number ("X").  Any step may or may not have been made when the run
 * died, which the disk tells: each step's precondition is false once it
 * is made, and recovery asks newest first in the order the steps were
 * made (each one's slot), when every later step is undone (or was never
 * made).  A swap's removal under its temporary name counts as made only
 * once its exchange is.
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

#define JOURNAL_MAGIC	"cstow-journal 5"
/* Lines gathered before they are written (not synced: journal_sync()). */
#define JOURNAL_FLUSH	65536
/* Flags of a step ("S" line, last field). */
#define STEP_OVERWROTE	0x1	/* a move over a package file no vault
				   keeps (GNU Stow's --adopt) */
#define STEP_SAME	0x2	/* a move over a package file of the same
				   bytes */

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
	struct arena	 a = { NULL, NULL };
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
 * Opens the journal, a new file, and locks it (flock) for as long as the
 * run lives: recovery leaves a locked journal alone.  A journal that is
 * there already is never taken over: it is another run's, live or
 * killed, whose recovery needs it (STOW_EBUSY).  A recovery may lock,
 * read and remove the journal just made before it is locked (it looks
 * like one a run left on being killed at once), so once locked the name
 * must still be this file's; else it is made again.
 */
static int
open_locked(struct stow_ctx *ctx)
{
	struct stat	st, named;
	int		tries;

	for (tries = 0; tries < 8; tries++) {
		if ((ctx->journal_fd = open(ctx->journal, O_WRONLY | O_CREAT |
		    O_EXCL | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600)) == -1)
			return errno == EEXIST ? err_set(ctx, STOW_EBUSY, "%s: "
			    "another run's journal is there (undo it first): "
			    "not overwritten", ctx->journal) :
			    err_os(ctx, "open", ctx->journal);
		if (flock(ctx->journal_fd, LOCK_EX) == -1 ||
		    fstat(ctx->journal_fd, &st) == -1) {
			(void)unlink(ctx->journal);
			return err_os(ctx, "flock", ctx->journal);
		}
		if (lstat(ctx->journal, &named) == 0 &&
		    named.st_dev == st.st_dev && named.st_ino == st.st_ino)
			return 0;
		close(ctx->journal_fd);
		ctx->journal_fd = -1;
	}
	return err_set(ctx, STOW_EBUSY, "%s: removed again each time it "
	    "was made", ctx->journal);
}

/* The journal's header line: its target, vault, the apply's tag (its
 * private names') and stow directory (relative to the target: where an
 * adopted file went). */
static int
put_header(struct stow_ctx *ctx)
{
	char	*p;

	if ((p = line_room(ctx, strlen(JOURNAL_MAGIC) +
	    field_room(ctx->target_abs) + field_room(ctx->backup_dir) +
	    field_room(ctx->apply_tag) + field_room(ctx->stow_path) +
	    1)) == NULL)
		return STOW_ENOMEM;
	p = stpcpy(p, JOURNAL_MAGIC);
	p = put_field(p, ctx->target_abs);
	p = put_field(p, ctx->backup_dir);
	p = put_field(p, ctx->apply_tag);
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
	struct arena	 a = { NULL, NULL };
	char		*dir;
	int		 rc = 0;

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
		rc = open_locked(ctx);
	if (rc == 0)
		rc = put_header(ctx);
	if (rc != 0 && ctx->journal_fd != -1) {
		(void)unlink(ctx->journal);
		close(ctx->journal_fd);
		ctx->journal_fd = -1;
	}
	return rc;
}

/* The private name (".cstow-rm.TAG.STEP") the link of a run's step is
 * moved aside to, in its own directory, before it is checked and
 * removed; tag is the apply's. */
void
journal_aside(const char *tag, unsigned int step, char *buf, size_t size)
{
	snprintf(buf, size, ".cstow-rm.%s.%u", tag, step);
}

/* Gathers the "N" line of swap step u: its new entry's identity. */
static int
put_swapped(struct stow_ctx *ctx, const struct undo *u)
{
	char	*p;

	if ((p = line_room(ctx, 1 + 3 * NUMBER_ROOM + 1)) == NULL)
		return STOW_ENOMEM;
	*p++ = 'N';
	p = put_number(p, u->step, 10);
	p = put_number(p, (unsigned long long)u->more->new_dev, 10);
	line_end(ctx, put_number(p, (unsigned long long)u->more->new_ino,
	    10));
	return 0;
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
	if ((p = line_room(ctx, 1 + 6 * NUMBER_ROOM + field_room(u->path) +
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
	p = put_number(p, m != NULL ? (unsigned long long)m->ino : 0, 10);
	p = put_number(p, u->slot, 10);
	line_end(ctx, put_number(p, m == NULL ? 0 : (m->overwrote ?
	    STEP_OVERWROTE : 0) | (m->same ? STEP_SAME : 0), 10));
	/* A revert's steps were made: the new entry of a swap is known. */
	if (swapped != NULL && m->new_ino != 0 && put_swapped(ctx, u) != 0)
		return STOW_ENOMEM;
	return ctx->journal_buf.len >= JOURNAL_FLUSH ? journal_write(ctx) : 0;
}

/*
 * Writes the steps gathered, ended by an "E" line, and makes them last a
 * power loss, before any of them is made: one data sync, and for a
 * journal just made one of its directory.  Steps with no "E" after them
 * were never made (the run died while it wrote them, which may take
 * more than one write): recovery ignores them.
 */
int
journal_sync(struct stow_ctx *ctx)
{
	char	*p;
	int	 rc;

	if (ctx->journal_fd == -1 || (ctx->journal_buf.len == 0 &&
	    ctx->journal_synced))
		return 0;
	if ((p = line_room(ctx, 2)) == NULL)
		return STOW_ENOMEM;
	line_end(ctx, stpcpy(p, "E"));
	if ((rc = journal_write(ctx)) != 0)
		return rc;
	if (fdatasync(ctx->journal_fd) == -1)
		return err_os(ctx, "fsync", ctx->journal);
	if (ctx->journal_synced)
		return 0;
	ctx->journal_synced = 1;
	return sync_dir(ctx);
}

/*
 * Records the identity of the new entry swap step u built under its
 * temporary name, just before the exchange: the surest sign, for
 * recovery, of which of the two names holds it.  Written, not synced:
 * a run killed meanwhile has it written all the same; after a power
 * loss recovery judges by the entry replaced and by what is there.
 */
int
journal_swapped(struct stow_ctx *ctx, const struct undo *u)
{
	if (ctx->journal_fd == -1)
		return 0;
	if (put_swapped(ctx, u) != 0)
		return STOW_ENOMEM;
	return journal_write(ctx);
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
	const char	*tag;		/* of the run's private names */
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
	if ((!(kind == STOW_OP_BACKUP && into_stow_dir(a, h, u->path)) &&
	    !confined(u->path)) || (u->more->swapped != NULL &&
	    !confined(u->more->swapped)))
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

/* A number field of a journal line; 0 and *bad set when it is not. */
static unsigned long long
number(const char *s, int base, int *bad)
{
	char			*end;
	unsigned long long	 n = strtoull(s, &end, base);

	if (*s == '\0' || *end != '\0')
		*bad = 1;
	return n;
}

/* A journalled step: the task it made, rebuilt from the line's fields
 * kind, mode, path, link, dest, swapped, the replaced (or backed-up)
 * entry's device and inode, its slot and its flags.  1 when malformed
 * or not allowed. */
static int
parse_step(const struct journal_head *h, struct arena *a, char **f,
    struct undo *u)
{
	struct task	*t;
	int		 bad = 0;
	unsigned long long kind = number(f[1], 10, &bad), flags;

	memset(u, 0, sizeof(*u));
	if (bad || kind < STOW_OP_MKDIR || kind > STOW_OP_BACKUP)
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
	u->more->mode = (mode_t)number(f[2], 8, &bad);
	u->more->swapped = *f[6] != '\0' ? f[6] : NULL;
	u->more->dev = (dev_t)number(f[7], 10, &bad);
	u->more->ino = (ino_t)number(f[8], 10, &bad);
	u->slot = (unsigned int)number(f[9], 10, &bad);
	flags = number(f[10], 10, &bad);
	u->more->overwrote = (flags & STEP_OVERWROTE) != 0;
	u->more->same = (flags & STEP_SAME) != 0;
	if (kind == STOW_OP_BACKUP)
		u->more->placed = t->dest;
	return !bad && step_allowed(h, a, u) ? 0 : 1;
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
	if (nf != 5 || strcmp(f[0], JOURNAL_MAGIC) != 0 || *f[1] != '/')
		return err_set(ctx, STOW_EINVAL, "%s:1: not a cstow journal "
		    "(or one from another version)", path);
	h->target = f[1];
	h->vault = f[2];
	h->tag = f[3];
	h->stow_path = f[4];
	if ((*h->vault != '\0' && *h->vault != '/') || *h->tag == '\0' ||
	    strchr(h->tag, '/') != NULL || strlen(h->tag) >=
	    sizeof(((struct stow_ctx *)NULL)->apply_tag) ||
	    *h->stow_path == '\0' ||
	    *h->stow_path == '/')
		return err_set(ctx, STOW_EINVAL, "%s:1: malformed header",
		    path);
	return 0;
}

/* Reads an "X" (undone) or "N" (new entry's identity) line about step
 * f[1] of the n read; 1 when malformed. */
static int
read_mark(char **f, int nf, struct undo *steps, size_t n)
{
	struct undo	*u;
	int		 bad = 0;
	unsigned long long x = number(f[1], 10, &bad);

	if (bad || x >= n)
		return 1;
	u = &steps[x];
	if (nf == 2 && strcmp(f[0], "X") == 0) {
		if (u->task != NULL)
			u->more->marked = u->task;
		u->task = NULL;
		return 0;
	}
	if (nf != 4 || strcmp(f[0], "N") != 0 || u->more->swapped == NULL)
		return 1;
	u->more->new_dev = (dev_t)number(f[2], 10, &bad);
	u->more->new_ino = (ino_t)number(f[3], 10, &bad);
	return bad;
}

/* Reads the journal's steps into *steps, numbered as written (undone
 * ones marked by a NULL task), and its header. */
static int
read_journal(struct stow_ctx *ctx, struct arena *a, const char *path,
    char *text, struct undo **steps, size_t *n, struct journal_head *h)
{
	struct undo	*u;
	char		*line, *next, *f[11];
	size_t		 cap = 16, ended = 0;
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
		nf = split(line, f, 11);
		if (lineno == 1) {
			if ((rc = read_header(ctx, path, f, nf, h)) != 0)
				return rc;
		} else if (nf == 11 && strcmp(f[0], "S") == 0) {
			if ((u = step_add(a, steps, n, &cap)) == NULL ||
			    (rc = parse_step(h, a, f, u)) == -1)
				return err_nomem(ctx);
			u->step = (unsigned int)(*n - 1);
			if (rc != 0)
				return err_set(ctx, STOW_EINVAL, "%s:%u: a step "
				    "this journal may not hold: refused",
				    path, lineno);
		} else if (nf == 1 && strcmp(f[0], "E") == 0)
			ended = *n;
		else if (nf < 2 || read_mark(f, nf, *steps, *n) != 0)
			return err_set(ctx, STOW_EINVAL, "%s:%u: malformed "
			    "line", path, lineno);
	}
	/* Steps not ended by an "E" were never made; no whole header:
	 * killed before the first step, nothing done. */
	*n = h->target != NULL ? ended : 0;
	return 0;
}

/* qsort(3): steps in the order they were made, by slot (a swap made
 * the plain way has its new steps written later, in its own slots). */
static int
slot_cmp(const void *a, const void *b)
{
	const struct undo	*x = a, *y = b;

	if (x->slot != y->slot)
		return x->slot < y->slot ? -1 : 1;
	return x->step < y->step ? -1 : x->step > y->step;
}

/* Is x the exchange of the swap whose removal (under the temporary
 * name) is u? */
static int
exchange_of(const struct undo *x, const struct undo *u)
{
	return x->task != NULL && x->more->swapped != NULL &&
	    strcmp(x->path, u->path) == 0;
}

/* Do st and (dev, ino) name the same entry? */
static int
same_entry(const struct stat *st, dev_t dev, ino_t ino)
{
	return ino != 0 && st->st_dev == dev && st->st_ino == ino;
}

/*
 * Was swap step u (the exchange of its temporary name with swapped)
 * made?  The entries' identities tell: the temporary name holding the
 * entry the swap replaced, or the path the new entry (known by the
 * identity the run wrote down just before the exchange), say it was;
 * the path holding the replaced entry, or the temporary name the new
 * one, say it was not.  Neither name holding either, once the new
 * entry's identity was written: it was, and both moved on since (the
 * replaced entry removed, the user's own now at the path).  Without
 * that identity (a power loss), the temporary name holding anything
 * says it was not, and else what is at the path decides: a link with
 * the text planned, or a directory where there was none, or one other
 * than the one replaced.
 */
static int
exchange_made(struct stow_ctx *w, struct arena *a, const struct undo *u)
{
	struct stat	 pt, tt;
	const char	*text, *p = u->more->swapped;
	int		 at_p, at_tmp;

	at_tmp = fs_lstat(w->target_fd, u->path, &tt) == 0;
	at_p = fs_lstat(w->target_fd, p, &pt) == 0;
	if ((at_tmp && same_entry(&tt, u->more->dev, u->more->ino)) ||
	    (at_p && same_entry(&pt, u->more->new_dev, u->more->new_ino)))
		return 1;
	if ((at_p && same_entry(&pt, u->more->dev, u->more->ino)) ||
	    (at_tmp && same_entry(&tt, u->more->new_dev, u->more->new_ino)))
		return 0;
	if (u->more->new_ino != 0)
		return 1;
	if (at_tmp || !at_p)
		return 0;
	if (task_kind(u->task) == STOW_OP_LINK)
		return S_ISLNK(pt.st_mode) &&
		    (text = fs_readlink(a, w->target_fd, p)) != NULL &&
		    strcmp(text, u->task->source) == 0;
	return S_ISDIR(pt.st_mode) && (!S_ISDIR(u->more->mode) ||
	    !same_entry(&pt, u->more->dev, u->more->ino));
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
	if (i > 0 && steps[i - 1].more->swapped != NULL &&
	    strcmp(steps[i - 1].path, u->path) == 0 &&
	    (!exchange_of(&steps[i - 1], u) ||
	    !exchange_made(w, a, &steps[i - 1])))
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
 * now if it is the link planned, or, being anything else (a file the
 * user saved over the link), goes back; where the user has filled the
 * path again since, it stays under the private name, which a warning
 * names: nothing of theirs is lost, and the run is undone all the same.
 */
static int
settle_aside(struct stow_ctx *ctx, struct stow_ctx *w,
    const struct journal_head *h, const struct undo *u)
{
	const char	*leaf;
	char		 aside[NAME_MAX + 1];
	int		 fd, rc;

	journal_aside(h->tag, u->step, aside, sizeof(aside));
	if ((fd = walk_parent(w, u->path, &leaf)) == -1)
		return errno == ENOENT || errno == ENOTDIR ? 0 : -1;
	rc = fs_unlink_checked(fd, aside, u->task->source, NULL);
	if (rc == FS_NOT_OURS && fs_lstat(fd, aside, &(struct stat){ 0 }) == 0 &&
	    (rc = fs_move_at(fd, aside, fd, leaf, 0, NULL)) == -1 &&
	    errno == EEXIST) {
		log_msg(ctx, 0, "WARNING: kept %s as it is: changed since the "
		    "interrupted run; what was saved there before it is now "
		    "%s beside it", u->path, aside);
		rc = 0;
	}
	walk_forget(w);
	return rc == -1 && errno != ENOENT ? -1 : 0;
}

/* Removes the copy a move across file systems was making when the run
 * died (COPY_PREFIX and the run's tag), beside path (of dfd). */
static void
drop_copy(int dfd, const char *path, const struct journal_head *h,
    struct arena *a)
{
	const char	*dir, *name;
	int		 pfd;

	if (dfd == -1 || (dir = path_parent(a, path)) == NULL ||
	    (name = arena_printf(a, "%s%s", COPY_PREFIX, h->tag)) == NULL ||
	    (pfd = fs_open_nofollow(dfd, dir, strlen(dir))) == -1)
		return;
	(void)fs_remove_tree(pfd, name);
	close(pfd);
}

/* The copies a killed move of step u may have left, on either side:
 * they are the run's own, and half made. */
static void
drop_copies(struct stow_ctx *w, const struct journal_head *h,
    const struct undo *u, struct arena *a)
{
	enum stow_op_kind	kind = task_kind(u->task);

	if (kind != STOW_OP_BACKUP && kind != STOW_OP_MOVE)
		return;
	drop_copy(w->target_fd, u->path, h, a);
	drop_copy(kind == STOW_OP_BACKUP ? w->vault_fd : w->target_fd,
	    kind == STOW_OP_BACKUP ? u->more->placed : u->task->dest, h, a);
}

/*
 * A backup that was moving a tree across file systems when the run died
 * may have left it in both places: the copy whole in the vault (it is
 * renamed there only once it is), the original partly removed.  What is
 * missing at the path goes back from the copy, and the copy goes, but
 * only where the path still holds the original (its identity, which a
 * file the user made since may share once the original's inode is
 * free: so what the copy holds otherwise than the path stays in the
 * vault, listed, and a warning says so).  user is the path the user
 * knows it by.  1 when that settled the step (nothing more to undo), 0
 * when it was not for this step, -1 on failure.
 */
static int
settle_copy(struct stow_ctx *ctx, struct stow_ctx *w, const struct undo *u,
    const char *user)
{
	struct stat	 st;
	const char	*leaf;
	size_t		 kept;
	int		 fd, rc = 0;

	if (w->vault_fd == -1 || fs_lstat(w->vault_fd, u->more->placed,
	    &(struct stat){ 0 }) == -1)
		return 0;
	if ((fd = walk_parent(w, u->path, &leaf)) != -1 &&
	    fs_lstat(fd, leaf, &st) == 0 && same_entry(&st, u->more->dev,
	    u->more->ino)) {
		rc = fs_merge_back(w->vault_fd, u->more->placed, fd, leaf,
		    &kept) == -1 ? -1 : 1;
		if (rc == 1 && manifest_forget(w, u->more->placed) == 0 &&
		    kept > 0) {
			if (vault_keep(w, user, u->more->placed) != 0)
				log_msg(ctx, 0, "WARNING: %s",
				    stow_ctx_errmsg(w));
			log_msg(ctx, 0, "WARNING: %s: what the interrupted run "
			    "had copied from there and is not there now stays "
			    "in the vault at %s/%s", user, w->backup_dir,
			    u->more->placed);
		}
	}
	walk_forget(w);
	return rc;
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

/* Lists path (and why it could not be undone) in left. */
static int
left_over(struct stow_ctx *ctx, struct strbuf *left, const char *path)
{
	return strbuf_printf(left, "%s%.200s (%s)", left->len > 0 ? ", " : "",
	    path, strerror(errno)) == -1 ? err_nomem(ctx) : 0;
}

/*
 * Warns that step u, made, was left as the user changed it since.  What
 * a backup moved to the vault stays there, listed in its MANIFEST
 * (vault_keep(): the run may have died before it wrote the line).
 */
static void
kept_warning(struct stow_ctx *ctx, struct stow_ctx *w, const struct undo *u)
{
	const char	*p = u->more->swapped != NULL ? u->more->swapped :
			    u->path;

	if (task_kind(u->task) == STOW_OP_BACKUP && w->vault_fd == -1)
		log_msg(ctx, 0, "WARNING: kept %s as it is: changed since the "
		    "interrupted run; its vault is gone", p);
	else if (task_kind(u->task) == STOW_OP_BACKUP) {
		if (vault_keep(w, u->path, u->more->placed) != 0)
			log_msg(ctx, 0, "WARNING: %s", stow_ctx_errmsg(w));
		log_msg(ctx, 0, "WARNING: kept %s as it is: changed since the "
		    "interrupted run; what the run moved from there stays in "
		    "the vault at %s/%s", p, w->backup_dir, u->more->placed);
	} else
		log_msg(ctx, 0, "WARNING: kept %s as it is: changed since the "
		    "interrupted run%s%s", p, u->more->swapped != NULL ?
		    "; what was there before is now " : "",
		    u->more->swapped != NULL ? u->path : "");
}

/* The path the user knows step i by: a swap's removal is made under
 * its temporary name, which its exchange put where the path was. */
static const char *
user_path(const struct undo *steps, size_t i, size_t n)
{
	size_t	x = swap_of(steps, i, n);

	return x < n && x < i ? steps[x].more->swapped : steps[i].path;
}

/* Warns that MOVE step u overwrote the package's file, which no vault
 * keeps (GNU Stow's --adopt). */
static void
overwrote_warning(struct stow_ctx *ctx, const struct undo *u)
{
	log_msg(ctx, 0, "WARNING: %s: the package's earlier version was "
	    "overwritten (no vault kept it)", u->task->dest);
}

/* What settle_step() found. */
#define SETTLE_ON	0	/* nothing to settle: judge the step */
#define SETTLE_DONE	1	/* settled: nothing is left to undo */
#define SETTLE_FAILED	2	/* could not be settled: listed in left */

/*
 * Settles what a killed removal or move of step i may have left half
 * done, before it is judged: the half-made copies of a move across file
 * systems go, a link moved aside is removed or goes back, a tree copied
 * to the vault whose original is still partly there is made whole
 * again.  *state says how it went.  Returns 0, or an error.
 */
static int
settle_step(struct stow_ctx *ctx, struct stow_ctx *w, struct arena *a,
    const struct journal_head *h, const struct undo *steps, size_t i,
    size_t n, struct strbuf *left, int *state)
{
	const struct undo	*u = &steps[i];
	int			 rc = 0;

	*state = SETTLE_ON;
	drop_copies(w, h, u, a);
	if (task_kind(u->task) == STOW_OP_UNLINK && u->more->swapped ==
	    NULL && settle_aside(ctx, w, h, u) == -1)
		rc = -1;
	else if (task_kind(u->task) == STOW_OP_BACKUP && (rc = settle_copy(ctx,
	    w, u, user_path(steps, i, n))) == 1)
		*state = SETTLE_DONE;
	if (rc != -1)
		return 0;
	*state = SETTLE_FAILED;
	return left_over(ctx, left, u->path);
}

/*
 * Undoes step i if it was made.  A step whose undoing would lose what
 * the user made since (a file in a directory the run made, a file saved
 * where it removed a link) is left, with a warning: what the run left
 * there is kept, and nothing is lost.  Other failures are listed in
 * left.
 */
static int
undo_one(struct stow_ctx *ctx, struct stow_ctx *w, struct arena *a,
    const struct journal_head *h, struct undo *steps, size_t i, size_t n,
    stow_op_cb cb, void *payload, struct strbuf *left)
{
	struct undo	*u = &steps[i];
	struct stow_op	 op;
	int		 rc, state;

	if ((rc = settle_step(ctx, w, a, h, steps, i, n, left, &state)) != 0 ||
	    state != SETTLE_ON)
		return rc;
	if (!step_made(w, a, steps, i)) {
		/* A backup made, whose place the user filled since; or
		 * one undone, or never made, which the vault must not
		 * list. */
		if (task_kind(u->task) == STOW_OP_BACKUP && w->vault_fd != -1 &&
		    fs_lstat(w->vault_fd, u->more->placed,
		    &(struct stat){ 0 }) == 0)
			kept_warning(ctx, w, u);
		else if (task_kind(u->task) == STOW_OP_BACKUP &&
		    w->vault_fd != -1 && vault_unlist(w, u->more->placed) != 0)
			log_msg(ctx, 0, "WARNING: %s", stow_ctx_errmsg(w));
		/* A move across file systems that replaced the package's
		 * file and died before the original went. */
		if (task_kind(u->task) == STOW_OP_MOVE && move_overwrote(w, u))
			overwrote_warning(ctx, u);
		return 0;
	}
	undo_to_op(u, &op);
	if (cb != NULL && (rc = cb(&op, payload)) != 0)
		return rc;
	/* What the journal kept and the step needs: swapped or not,
	 * placed, the mode of a removed directory. */
	if (undo_op(w, u) == 0) {
		if (u->more->overwrote)
			overwrote_warning(ctx, u);
		return 0;
	}
	if (changed_since(errno)) {
		kept_warning(ctx, w, u);
		return 0;
	}
	return left_over(ctx, left, u->path);
}

/*
 * The removal u of a swap kept (keep_swap()) was not made: the entry
 * the swap replaced is under the temporary name.  The removal is made
 * now where that loses nothing: a link the run was removing, an empty
 * directory, a backup to the vault (recorded as from the user's path
 * p), an adoption into a package that has no such file.  1 when it was.
 */
static int
finish_removal(struct stow_ctx *w, struct undo *u, const char *p)
{
	switch (task_kind(u->task)) {
	case STOW_OP_BACKUP:
		if (w->backup_dir == NULL)
			return 0;
		u->more->orig = p;
		/* FALLTHROUGH */
	case STOW_OP_UNLINK:
	case STOW_OP_RMDIR:
		return apply_step(w, u) == 0;
	case STOW_OP_MOVE:
		return move_keeping(w, u) == 0;
	default:
		return 0;
	}
}

/*
 * The removal of swap x: step i when that is it (i > x), else the step
 * after x if the journal marks it undone (a rollback killed before it
 * exchanged back), as a copy in r with its task.  NULL: none.
 */
static struct undo *
removal_of(struct undo *steps, size_t x, size_t i, size_t n,
    struct undo *r)
{
	if (i > x)
		return &steps[i];
	if (x + 1 >= n || steps[x + 1].task != NULL ||
	    steps[x + 1].more->marked == NULL ||
	    strcmp(steps[x + 1].path, steps[x].path) != 0)
		return NULL;
	*r = steps[x + 1];
	r->task = r->more->marked;
	return r;
}

/*
 * The swap x was made, and the user has changed its new entry since
 * (swap_intact()): it stays, and so does its removal, made now if it
 * was not (finish_removal(); else the entry the swap replaced is under
 * the temporary name, and stays there).  i is the step being undone, x
 * itself or its removal.  Warns, saying where the entry replaced is.
 */
static int
keep_swap(struct stow_ctx *ctx, struct stow_ctx *w, struct arena *a,
    const struct journal_head *h, struct undo *steps, size_t x, size_t i,
    size_t n, struct strbuf *left)
{
	struct undo	 copy, *u;
	const char	*p = steps[x].more->swapped;
	int		 rc, state = SETTLE_ON;

	if ((u = removal_of(steps, x, i, n, &copy)) == NULL) {
		kept_warning(ctx, w, &steps[x]);
		return 0;
	}
	if (u == &steps[i] && ((rc = settle_step(ctx, w, a, h, steps, i, n,
	    left, &state)) != 0 || state == SETTLE_FAILED))
		return rc;
	/* (A removal settled is one not made: the entry is back.) */
	if ((state == SETTLE_DONE || u != &steps[i] ||
	    !step_made(w, a, steps, i)) && !finish_removal(w, u, p)) {
		kept_warning(ctx, w, &steps[x]);
		return 0;
	}
	if (task_kind(u->task) == STOW_OP_BACKUP) {
		u->path = p;
		kept_warning(ctx, w, u);
	} else
		log_msg(ctx, 0, "WARNING: kept %s as it is: changed since the "
		    "interrupted run%s%s", p, task_kind(u->task) ==
		    STOW_OP_MOVE ? "; what was there before is adopted at " :
		    "", task_kind(u->task) == STOW_OP_MOVE ? u->task->dest : "");
	return 0;
}

/* Undoes, newest first by the order they were made in, those of
 * steps[0..n) that were made and not undone already, in the tree of
 * w.  A swap the user changed since stays whole (keep_swap()). */
static int
undo_steps(struct stow_ctx *ctx, struct stow_ctx *w, struct arena *a,
    const struct journal_head *h, struct undo *steps, size_t n,
    stow_op_cb cb, void *payload)
{
	struct strbuf	 left = { NULL, 0, 0 };
	const char	*kept_tmp = NULL;
	size_t		 i, x;
	int		 rc = 0;

	qsort(steps, n, sizeof(*steps), slot_cmp);
	for (i = n; i-- > 0 && rc == 0; ) {
		if (steps[i].task == NULL || (kept_tmp != NULL &&
		    path_is_at_or_under(steps[i].path, kept_tmp)))
			continue;
		if ((x = swap_of(steps, i, n)) < n &&
		    exchange_made(w, a, &steps[x]) &&
		    !swap_intact(w, steps, x)) {
			kept_tmp = steps[x].path;
			rc = keep_swap(ctx, w, a, h, steps, x, i, n, &left);
		} else
			rc = undo_one(ctx, w, a, h, steps, i, n, cb, payload,
			    &left);
	}
	walk_forget(w);
	/* What a removal made now told the MANIFEST. */
	if (rc == 0 && vault_sync(w) != 0)
		rc = err_set(ctx, STOW_EOS, "%s", stow_ctx_errmsg(w));
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
	/* A vault not made yet is made if a backup is finished. */
	if ((w->backup_dir = strdup(h->vault)) == NULL)
		return err_nomem(ctx);
	if ((w->vault_fd = open(h->vault, O_RDONLY | O_DIRECTORY |
	    O_NOFOLLOW | O_CLOEXEC)) == -1)
		return errno == ENOENT ? 0 : err_os(ctx, "open", h->vault);
	if (fstat(w->vault_fd, &st) == -1)
		return err_os(ctx, "fstat", h->vault);
	if (st.st_uid != geteuid() || (st.st_mode & 022) != 0)
		return err_set(ctx, STOW_EINVAL, "%s: its vault %s is not this "
		    "user's own: refused", path, h->vault);
	return 0;
}

STOW_API int
stow_journal_recover(struct stow_ctx *ctx, const char *path, stow_op_cb cb,
    void *payload)
{
	struct arena		 a = { NULL, NULL };
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
	    &h)) == 0) {
		/* Its own copies and asides under the run's tag: a recovery
		 * killed in turn leaves them to the next one. */
		strlcpy(w->apply_tag, h.tag, sizeof(w->apply_tag));
		rc = undo_steps(ctx, w, &a, &h, steps, n, cb, payload);
	}
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
