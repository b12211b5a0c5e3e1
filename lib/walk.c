/*
 * walk.c: reaching the directory that holds a path of the target, one
 * component at a time with O_NOFOLLOW, before anything is made, moved
 * or removed there.
 *
 * The planner read the target through paths; between planning and
 * applying, a directory on such a path may have been swapped for a
 * symlink.  A *at() call given the whole path would follow that link and
 * write wherever it leads.  Opening each directory with O_NOFOLLOW |
 * O_DIRECTORY from the target root down makes such a swap fail the
 * operation (ENOTDIR) instead, and the apply rolls back.
 *
 * Most operations of a run share their directory with the one before,
 * so the last two directories reached stay open (two, because a move
 * has a source and a destination).  Most of the others are in a sibling
 * of that directory, or just below it: the directories above the last
 * one reached stay open too (the chain), and a new one is opened from
 * the deepest of them on its path, one openat(2) for a sibling rather
 * than one per component from the root.  An operation that may take a
 * directory away, or put another in its place, forgets them all
 * (walk_forget()).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "extern.h"

/* Closes the levels of the chain from level k down. */
static void
chain_cut(struct walk_chain *c, int k)
{
	while (c->n > k)
		close(c->fd[--c->n]);
}

/*
 * How many levels of the chain lead along directory dir (len bytes):
 * those that are dir's ancestors.  *self: the level after them is dir
 * itself.
 */
static int
chain_match(const struct walk_chain *c, const char *dir, size_t len,
    int *self)
{
	int	k;

	*self = 0;
	for (k = 0; k < c->n; k++) {
		if (c->end[k] > len || memcmp(c->path, dir, c->end[k]) != 0)
			break;
		if (c->end[k] == len) {
			*self = 1;
			break;
		}
		if (dir[c->end[k]] != '/')
			break;
	}
	return k;
}

/*
 * Opens directory dir (len bytes, relative to the target) from the
 * deepest level of the chain on its path, keeping the directories
 * opened on the way as the chain's next levels.  The descriptor is the
 * caller's.  -1 with errno set on failure.
 */
static int
chain_open(struct stow_ctx *ctx, const char *dir, size_t len)
{
	struct walk_chain	*c = &ctx->walk_chain;
	size_t			 p, q;
	int			 k, self, base, fd = -1, loose = -1, saved;

	if (len == 0 || *dir == '/' || len >= sizeof(c->path))
		return fs_open_nofollow(ctx->target_fd, dir, len);
	k = chain_match(c, dir, len, &self);
	chain_cut(c, self ? k + 1 : k);
	if (self) {
		c->n = k;	/* dir itself, the caller's now */
		return c->fd[k];
	}
	base = k > 0 ? c->fd[k - 1] : ctx->target_fd;
	for (p = k > 0 ? c->end[k - 1] + 1 : 0; p <= len; p = q + 1) {
		if ((q = p + strcspn(dir + p, "/")) > len)
			q = len;
		/* ("" and "." lead nowhere, as for fs_open_nofollow().) */
		if (q == p || (q - p == 1 && dir[p] == '.'))
			continue;
		if ((fd = fs_open_nofollow(base, dir + p, q - p)) == -1 ||
		    q == len)
			break;
		if (c->n < WALK_DEPTH) {
			memcpy(c->path, dir, q);
			c->end[c->n] = q;
			c->fd[c->n++] = fd;
		} else {
			/* Too deep to keep: passed through. */
			if (loose != -1)
				close(loose);
			loose = fd;
		}
		base = fd;
		fd = -1;
	}
	/* (A path that ends in "" or ".": the directory it ends in.) */
	if (fd == -1 && p > len)
		fd = fs_open_nofollow(base, ".", 1);
	saved = errno;
	if (loose != -1)
		close(loose);
	errno = saved;
	return fd;
}

/*
 * The descriptor of the directory holding path (relative to the
 * target), and in *leaf path's last component.  The descriptor belongs
 * to the context: it stays valid until the second walk_parent() after
 * this one or walk_forget().  -1 with errno set on failure.
 */
int
walk_parent(struct stow_ctx *ctx, const char *path, const char **leaf)
{
	struct walk_slot	*s, *lru;
	const char		*slash = strrchr(path, '/');
	size_t			 len;
	int			 fd;

	if (slash == NULL) {
		*leaf = path;
		return ctx->target_fd;
	}
	*leaf = slash + 1;
	len = (size_t)(slash - path);
	lru = &ctx->walk[0];
	for (s = ctx->walk; s < ctx->walk + WALK_SLOTS; s++) {
		if (s->dir != NULL && s->len == len &&
		    memcmp(s->dir, path, len) == 0) {
			s->used = ++ctx->walk_clock;
			return s->fd;
		}
		if (s->dir == NULL || s->used < lru->used)
			lru = s;
	}
	if ((fd = chain_open(ctx, path, len)) == -1)
		return -1;
	if (lru->dir != NULL) {
		close(lru->fd);
		free(lru->dir);
	}
	if ((lru->dir = strndup(path, len)) == NULL) {
		close(fd);
		lru->dir = NULL;
		errno = ENOMEM;
		return -1;
	}
	lru->len = len;
	lru->fd = fd;
	lru->used = ++ctx->walk_clock;
	return fd;
}

/* Closes the directories walk_parent() kept open. */
void
walk_forget(struct stow_ctx *ctx)
{
	struct walk_slot	*s;

	for (s = ctx->walk; s < ctx->walk + WALK_SLOTS; s++) {
		if (s->dir == NULL)
			continue;
		close(s->fd);
		free(s->dir);
		s->dir = NULL;
	}
	chain_cut(&ctx->walk_chain, 0);
}
