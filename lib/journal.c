/*
 * journal.c: what an apply is about to do, written down before each
 * step, so that a run killed halfway can be undone by the next one.
 *
 * One line per step, made before the step ("S"), and after a backup
 * where it went in the vault ("P").  Every step but the last was made;
 * the last one may or may not have been, which the disk tells (each
 * step's precondition is false once it is made).  Lines are written,
 * not synced: they survive the process being killed, which is what the
 * journal is for; the header is synced.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "extern.h"

#define JOURNAL_MAGIC	"cstow-journal 1"

static int
put_field(struct strbuf *b, const char *s)
{
	int	rc = strbuf_putc(b, '\t');

	for (s = s != NULL ? s : ""; *s != '\0' && rc == 0; s++) {
		if (*s == '\\' || *s == '\t' || *s == '\n')
			rc = strbuf_printf(b, "\\%c", *s == '\t' ? 't' :
			    *s == '\n' ? 'n' : '\\');
		else
			rc = strbuf_putc(b, *s);
	}
	return rc;
}

static int
journal_write(struct stow_ctx *ctx, struct strbuf *b)
{
	ssize_t	n;
	int	rc = 0;

	if (strbuf_putc(b, '\n') == -1)
		rc = err_nomem(ctx);
	else if ((n = write(ctx->journal_fd, b->s, b->len)) == -1 ||
	    (size_t)n != b->len)
		rc = err_os(ctx, "write", ctx->journal);
	strbuf_free(b);
	return rc;
}

int
journal_open(struct stow_ctx *ctx)
{
	struct strbuf	 b = { NULL, 0, 0 };
	struct arena	 a = { NULL };
	char		*dir;
	int		 rc = 0;

	if (ctx->journal == NULL)
		return 0;
	/* Its directory is made on the first run that changes something. */
	if ((dir = path_parent(&a, ctx->journal)) == NULL)
		rc = err_nomem(ctx);
	else if (*dir != '\0' && fs_mkdir_p(AT_FDCWD, dir, 0700,
	    ctx->chown ? ctx->owner_uid : (uid_t)-1, ctx->owner_gid) == -1)
		rc = err_os(ctx, "mkdir", dir);
	arena_free(&a);
	if (rc != 0)
		return rc;
	if ((ctx->journal_fd = open(ctx->journal, O_WRONLY | O_CREAT |
	    O_TRUNC | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600)) == -1)
		return err_os(ctx, "open", ctx->journal);
	if (strbuf_put(&b, JOURNAL_MAGIC, strlen(JOURNAL_MAGIC)) == -1 ||
	    put_field(&b, ctx->target_abs) == -1 ||
	    put_field(&b, ctx->backup_dir != NULL ? ctx->backup_dir : "") == -1) {
		strbuf_free(&b);
		return err_nomem(ctx);
	}
	if (journal_write(ctx, &b) != 0)
		return STOW_EOS;
	return fsync(ctx->journal_fd) == -1 ?
	    err_os(ctx, "fsync", ctx->journal) : 0;
}

/* Records the step u is about to make. */
int
journal_step(struct stow_ctx *ctx, const struct undo *u)
{
	struct strbuf	b = { NULL, 0, 0 };

	if (ctx->journal_fd == -1)
		return 0;
	if (strbuf_printf(&b, "S\t%d\t%o\t%d", u->swapped != NULL ? 0 :
	    (int)u->op.kind, (unsigned int)u->mode, u->newdir) == -1 ||
	    put_field(&b, u->op.path) == -1 || put_field(&b, u->op.link) == -1 ||
	    put_field(&b, u->op.dest) == -1 || put_field(&b, u->swapped) == -1) {
		strbuf_free(&b);
		return err_nomem(ctx);
	}
	return journal_write(ctx, &b);
}

/* Records where the backup u just made went in the vault. */
int
journal_placed(struct stow_ctx *ctx, const struct undo *u)
{
	struct strbuf	b = { NULL, 0, 0 };

	if (ctx->journal_fd == -1)
		return 0;
	if (strbuf_printf(&b, "P\t%lld", (long long)u->manifest_size) == -1 ||
	    put_field(&b, u->placed) == -1) {
		strbuf_free(&b);
		return err_nomem(ctx);
	}
	return journal_write(ctx, &b);
}

/* The run is done or undone: the journal has nothing left to say. */
void
journal_close(struct stow_ctx *ctx)
{
	if (ctx->journal_fd == -1)
		return;
	close(ctx->journal_fd);
	ctx->journal_fd = -1;
	(void)unlink(ctx->journal);
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

/* Was u, the last step the journal names, made?  Each step's
 * precondition stops holding once it is made. */
static int
step_made(struct stow_ctx *ctx, struct arena *a, const struct undo *u)
{
	struct stat	 st;
	const char	*text;
	int		 fd = ctx->target_fd, there;

	there = fs_lstat(fd, u->op.path, &st) == 0;
	if (u->swapped != NULL) {
		if (fs_lstat(fd, u->swapped, &st) == -1)
			return 0;
		if (u->newdir)
			return S_ISDIR(st.st_mode);
		return S_ISLNK(st.st_mode) &&
		    (text = fs_readlink(a, fd, u->swapped)) != NULL &&
		    strcmp(text, u->op.link) == 0;
	}
	switch (u->op.kind) {
	case STOW_OP_LINK:
		return there && S_ISLNK(st.st_mode) &&
		    (text = fs_readlink(a, fd, u->op.path)) != NULL &&
		    strcmp(text, u->op.link) == 0;
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

/* Reads the journal's steps into *steps; the header into target and
 * vault. */
static int
read_journal(struct stow_ctx *ctx, struct arena *a, const char *path,
    char *text, struct undo **steps, size_t *n, char **target, char **vault)
{
	struct undo	*u;
	char		*line, *next, *f[8];
	size_t		 cap = 16;
	unsigned int	 lineno = 0;
	int		 nf;

	*n = 0;
	if ((*steps = arena_alloc(a, cap * sizeof(**steps))) == NULL)
		return err_nomem(ctx);
	for (line = text; line != NULL && *line != '\0'; line = next) {
		lineno++;
		if ((next = strchr(line, '\n')) == NULL)
			break;		/* cut short by the kill: not made */
		*next++ = '\0';
		nf = split(line, f, 8);
		if (lineno == 1) {
			if (nf != 3 || strcmp(f[0], JOURNAL_MAGIC) != 0)
				return err_set(ctx, STOW_EINVAL, "%s:1: not a "
				    "cstow journal", path);
			*target = f[1];
			*vault = f[2];
		} else if (nf == 3 && strcmp(f[0], "P") == 0 && *n > 0) {
			u = &(*steps)[*n - 1];
			u->manifest_size = strtoll(f[1], NULL, 10);
			u->placed = f[2];
		} else if (nf == 8 && strcmp(f[0], "S") == 0) {
			if (*n == cap) {
				struct undo	*grown;

				if ((grown = arena_alloc(a, 2 * cap *
				    sizeof(*grown))) == NULL)
					return err_nomem(ctx);
				memcpy(grown, *steps, cap * sizeof(*grown));
				*steps = grown;
				cap *= 2;
			}
			u = &(*steps)[(*n)++];
			memset(u, 0, sizeof(*u));
			u->op.kind = (enum stow_op_kind)atoi(f[1]);
			u->mode = (mode_t)strtoul(f[2], NULL, 8);
			u->newdir = atoi(f[3]);
			u->op.path = f[4];
			u->op.link = *f[5] != '\0' ? f[5] : NULL;
			u->op.dest = *f[6] != '\0' ? f[6] : NULL;
			u->swapped = *f[7] != '\0' ? f[7] : NULL;
			u->manifest_size = -1;
		} else
			return err_set(ctx, STOW_EINVAL, "%s:%u: malformed "
			    "line", path, lineno);
	}
	/* No whole header: killed before the first step, nothing done. */
	if (*target == NULL)
		*n = 0;
	return 0;
}

/* Undoes steps[0..n) (the last only if made) in the tree of w. */
static int
undo_steps(struct stow_ctx *ctx, struct stow_ctx *w, struct arena *a,
    struct undo *steps, size_t n, stow_op_cb cb, void *payload)
{
	struct strbuf	left = { NULL, 0, 0 };
	size_t		i;
	int		rc = 0;

	if (n > 0 && !step_made(w, a, &steps[n - 1]))
		n--;
	for (i = n; i-- > 0; ) {
		if (steps[i].op.kind == STOW_OP_BACKUP && steps[i].swapped ==
		    NULL && steps[i].placed == NULL && w->vault_fd != -1)
			steps[i].placed = guess_placed(w, a, steps[i].op.dest);
		if (cb != NULL && (rc = cb(&steps[i].op, payload)) != 0)
			break;
		if (undo_op(w, &steps[i]) == -1)
			(void)strbuf_printf(&left, "%s%.200s", left.len > 0 ?
			    ", " : "", steps[i].op.path);
	}
	if (rc == 0 && left.len > 0)
		rc = err_set(ctx, STOW_EPARTIAL, "could not undo: %s",
		    strbuf_str(&left));
	strbuf_free(&left);
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
	int		 rc;

	if (ctx == NULL || ctx->magic != CTX_MAGIC || path == NULL)
		return STOW_EMISUSE;
	if ((text = fs_read_file(AT_FDCWD, path, NULL)) == NULL)
		return errno == ENOENT ? 0 : err_os(ctx, "open", path);
	if ((w = stow_ctx_new()) == NULL) {
		free(text);
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
	return rc;
}
