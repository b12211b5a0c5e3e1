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
 * has a source and a destination).  An operation that may take a
 * directory away, or put another in its place, forgets them
 * (walk_forget()).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "extern.h"

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
		if (s->dir != NULL && strlen(s->dir) == len &&
		    memcmp(s->dir, path, len) == 0) {
			s->used = ++ctx->walk_clock;
			return s->fd;
		}
		if (s->dir == NULL || s->used < lru->used)
			lru = s;
	}
	if ((fd = fs_open_nofollow(ctx->target_fd, path, len)) == -1)
		return -1;
	if (lru->dir != NULL) {
		close(lru->fd);
		free(lru->dir);
	}
	if ((lru->dir = strndup(path, len)) == NULL) {
		close(fd);
		errno = ENOMEM;
		return -1;
	}
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
}
