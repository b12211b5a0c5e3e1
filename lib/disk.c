/*
 * disk.c: the planner's read-only view of the disk.  Nothing changes on
 * disk while a plan is made, so directory listings and link texts are
 * read once and answered from memory afterwards: one getdents per
 * directory replaces an lstat per entry, and a link read to decide is
 * not read again to record its removal.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "extern.h"

static int
dent_find(const void *key, const void *elem)
{
	return strcmp(key, ((const struct dent *)elem)->name);
}

/* Makes l, the listing of dir, the first one cached_type() tries. */
static const struct dirlist *
remember(struct stow_plan *plan, const char *dir, const struct dirlist *l)
{
	if ((dir = strmap_key(&plan->dircache, dir)) != NULL) {
		plan->last_dir = dir;
		plan->last_list = l;
	}
	return l;
}

/*
 * The sorted listing of directory dir (following a final symlink, as
 * the kernel does when resolving dir/name).  Returns NULL with errno set
 * on failure.
 */
const struct dirlist *
disk_list(struct stow_plan *plan, const char *dir)
{
	struct dirlist	*l;
	char		*key;

	if ((l = strmap_get(&plan->dircache, dir)) != NULL)
		return remember(plan, dir, l);
	if ((l = arena_alloc(&plan->arena, sizeof(*l))) == NULL ||
	    (key = arena_strdup(&plan->arena, dir)) == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	if (fs_list(&plan->arena, plan->ctx->target_fd, dir, l) == -1)
		return NULL;
	if (strmap_put(&plan->dircache, key, l) == -1) {
		errno = ENOMEM;
		return NULL;
	}
	return remember(plan, key, l);
}

/*
 * What a cached listing of path's directory says about path: the d_type,
 * DT_UNKNOWN when there is no listing or it did not say, or
 * DISK_NOENT when the listing has no such name.
 */
#define DISK_NOENT	0xffu

/*
 * The cached listing of directory dir (n bytes of it), or NULL.
 * Queries come in runs for one directory, so the last hit is checked
 * before the hash.
 */
static const struct dirlist *
cached_list(struct stow_plan *plan, const char *dir, size_t n)
{
	char	small[1024];

	if (plan->last_dir != NULL && strncmp(plan->last_dir, dir, n) == 0 &&
	    plan->last_dir[n] == '\0')
		return plan->last_list;
	if (n >= sizeof(small))
		return NULL;
	memcpy(small, dir, n);
	small[n] = '\0';
	return strmap_get(&plan->dircache, small);
}

/* "", "." and "..": a directory's listing says nothing about these. */
static int
is_dot(const char *name)
{
	return name[0] == '\0' || strcmp(name, ".") == 0 ||
	    strcmp(name, "..") == 0;
}

static unsigned int
cached_type(struct stow_plan *plan, const char *path)
{
	const struct dirlist	*l;
	const struct dent	*d;
	const char		*slash = strrchr(path, '/');

	if (plan->dircache.len == 0 || is_dot(slash == NULL ? path :
	    slash + 1))
		return DT_UNKNOWN;
	l = slash == NULL ? cached_list(plan, ".", 1) :
	    cached_list(plan, path, (size_t)(slash - path));
	if (l == NULL)
		return DT_UNKNOWN;
	d = l->len == 0 ? NULL : bsearch(slash == NULL ? path : slash + 1,
	    l->ents, l->len, sizeof(*l->ents), dent_find);
	return d == NULL ? DISK_NOENT : d->type;
}

/*
 * The type of path on disk: DISK_ABSENT, DISK_DIR, DISK_LINK (only when
 * not following) or DISK_OTHER.  follow: as stat(2), else lstat(2).
 */
int
disk_type(struct stow_plan *plan, const char *path, int follow)
{
	struct stat	st;
	unsigned int	t = cached_type(plan, path);

	if (t == DISK_NOENT)
		return DISK_ABSENT;
	if (t == DT_DIR)
		return DISK_DIR;
	if (t == DT_LNK && !follow)
		return DISK_LINK;
	if (t != DT_UNKNOWN && t != DT_LNK)
		return DISK_OTHER;
	if ((follow ? fs_stat_follow : fs_lstat)(plan->ctx->target_fd, path,
	    &st) == -1)
		return DISK_ABSENT;
	if (S_ISDIR(st.st_mode))
		return DISK_DIR;
	return S_ISLNK(st.st_mode) ? DISK_LINK : DISK_OTHER;
}

/*
 * The text of the symlink path on disk; NULL with errno.  Read from its
 * directory, kept open while the queries stay in it (they come in runs
 * for one directory): the kernel then looks up one name per link, not
 * the whole path.
 */
const char *
disk_readlink(struct stow_plan *plan, const char *path)
{
	const char	*slash = strrchr(path, '/');
	size_t		 n;
	int		 fd;

	if (slash == NULL)
		return fs_readlink(&plan->arena, plan->ctx->target_fd, path);
	n = (size_t)(slash - path);
	if (plan->link_dir == NULL || strncmp(plan->link_dir, path, n) != 0 ||
	    plan->link_dir[n] != '\0') {
		disk_done(plan);
		if ((plan->link_dir = arena_strndup(&plan->arena, path,
		    n)) == NULL) {
			errno = ENOMEM;
			return NULL;
		}
		if ((fd = fs_open_path(plan->ctx->target_fd,
		    plan->link_dir)) == -1) {
			plan->link_dir = NULL;
			return fs_readlink(&plan->arena,
			    plan->ctx->target_fd, path);
		}
		plan->link_dir_fd = fd;
	}
	return fs_readlink(&plan->arena, plan->link_dir_fd, slash + 1);
}

/* Closes what disk_readlink() kept open: planning is over, for now. */
void
disk_done(struct stow_plan *plan)
{
	if (plan->link_dir != NULL)
		close(plan->link_dir_fd);
	plan->link_dir = NULL;
}

/*
 * Lists target directory dir ahead of the queries about its entries.
 * A directory missing on disk (one the plan will create) has no entries
 * there, which is cached too.
 */
void
disk_prime(struct stow_plan *plan, const char *dir)
{
	struct dirlist	*l;
	char		*key;

	if (strmap_get(&plan->dircache, dir) != NULL ||
	    disk_list(plan, dir) != NULL ||
	    (errno != ENOENT && errno != ENOTDIR))
		return;
	if ((l = arena_alloc(&plan->arena, sizeof(*l))) == NULL ||
	    (key = arena_strdup(&plan->arena, dir)) == NULL)
		return;
	l->ents = NULL;
	l->len = 0;
	if (strmap_put(&plan->dircache, key, l) == 0)
		remember(plan, key, l);
}
