/*
 * disk.c: the planner's read-only view of the disk.  Nothing changes on
 * disk while a plan is made, so directory listings and link texts are
 * read once and answered from memory afterwards: one getdents per
 * directory replaces an lstat per entry, and a link read to decide is
 * not read again to record its removal.
 *
 * A target directory's entries are first read one by one, as links,
 * and the directory is listed only once LAZY_MISSES of them turn out
 * not to be links: absent, or a directory or file, which takes an
 * lstat more.  One already holding the package's links (a re-run, an
 * unstow) is then never listed, since every entry's link is read
 * anyway; one the package's entries are new to (a first stow), or one
 * of real directories, costs one listing, not a call or two per entry.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "extern.h"

#define LAZY_MISSES	2

static int	list_dir(struct stow_plan *, const char *, struct dirlist *);

static int
dent_find(const void *key, const void *elem)
{
	return strcmp(key, ((const struct dent *)elem)->name);
}

/*
 * Makes l the first listing cached_list() tries.  Queries come in runs
 * for one directory, or alternate between a package directory and its
 * target directory: two are kept.
 */
static struct dirlist *
remember(struct stow_plan *plan, struct dirlist *l)
{
	if (plan->recent[0] != l) {
		plan->recent[1] = plan->recent[0];
		plan->recent[0] = l;
	}
	return l;
}

/* The cache's entry for dir, made (lazy, not listed) when missing. */
static struct dirlist *
cache_entry(struct stow_plan *plan, const char *dir)
{
	struct dirlist	*l;
	char		*key;

	if ((l = strmap_get(&plan->dircache, dir)) != NULL)
		return l;
	if ((l = arena_alloc(&plan->arena, sizeof(*l))) == NULL ||
	    (key = arena_strdup(&plan->arena, dir)) == NULL)
		return NULL;
	memset(l, 0, sizeof(*l));
	l->dir = key;
	l->lazy = 1;
	return strmap_put(&plan->dircache, key, l) == 0 ? l : NULL;
}

/*
 * The sorted listing of directory dir (following a final symlink, as
 * the kernel does when resolving dir/name).  Returns NULL with errno set
 * on failure.
 */
struct dirlist *
disk_list(struct stow_plan *plan, const char *dir)
{
	struct dirlist	*l;

	if ((l = cache_entry(plan, dir)) == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	if (l->lazy) {
		if (list_dir(plan, dir, l) == -1)
			return NULL;
		l->lazy = 0;
	}
	return remember(plan, l);
}

/*
 * What a cached listing of path's directory says about path: the d_type,
 * DT_UNKNOWN when there is no listing or it did not say, or
 * DISK_NOENT when the listing has no such name.
 */
#define DISK_NOENT	0xffu

/* Is l the listing of directory dir (n bytes of it)? */
static int
is_list_of(const struct dirlist *l, const char *dir, size_t n)
{
	return l != NULL && strncmp(l->dir, dir, n) == 0 && l->dir[n] == '\0';
}

/*
 * The cache's entry for directory dir (n bytes of it), or NULL.  The
 * recent hits are checked before the hash.
 */
static struct dirlist *
cached_list(struct stow_plan *plan, const char *dir, size_t n)
{
	struct dirlist	*l;
	char		 small[1024];

	if (is_list_of(plan->recent[0], dir, n))
		return plan->recent[0];
	if (is_list_of(plan->recent[1], dir, n))
		return plan->recent[1];
	if (n >= sizeof(small))
		return NULL;
	memcpy(small, dir, n);
	small[n] = '\0';
	if ((l = strmap_get(&plan->dircache, small)) != NULL)
		remember(plan, l);
	return l;
}

/* "", "." and "..": a directory's listing says nothing about these. */
static int
is_dot(const char *name)
{
	return name[0] == '\0' || strcmp(name, ".") == 0 ||
	    strcmp(name, "..") == 0;
}

/* The cache's entry for the directory holding path, or NULL; *name:
 * path's last component. */
static struct dirlist *
parent_list(struct stow_plan *plan, const char *path, const char **name)
{
	const char	*slash = strrchr(path, '/');

	*name = slash == NULL ? path : slash + 1;
	if (plan->dircache.len == 0 || is_dot(*name))
		return NULL;
	return slash == NULL ? cached_list(plan, ".", 1) :
	    cached_list(plan, path, (size_t)(slash - path));
}

/* Is entry i of listing l named name? */
static int
is_entry(const struct dirlist *l, size_t i, const char *name)
{
	return i < l->len && strcmp(l->ents[i].name, name) == 0;
}

/*
 * The d_type listing l (listed) gives name, or DISK_NOENT.  Lookups go
 * through a directory in the order of its listing, a few for each
 * entry: the entry last found and the one after it are tried before
 * the binary search.
 */
static unsigned int
disk_entry_type(struct dirlist *l, const char *name)
{
	const struct dent	*d = NULL;

	if (l->next > 0 && is_entry(l, l->next - 1, name))
		d = &l->ents[l->next - 1];
	else if (is_entry(l, l->next, name))
		d = &l->ents[l->next];
	else if (l->len > 0)
		d = bsearch(name, l->ents, l->len, sizeof(*l->ents),
		    dent_find);
	if (d == NULL)
		return DISK_NOENT;
	l->next = (size_t)(d - l->ents) + 1;
	return d->type;
}

/* What listing l, of the directory holding an entry name, says of it. */
static unsigned int
cached_type(struct dirlist *l, const char *name)
{
	if (l == NULL || l->lazy)
		return DT_UNKNOWN;
	return disk_entry_type(l, name);
}

/* Closes od, if open. */
static void
close_dir(struct open_dir *od)
{
	if (od->dir != NULL)
		close(od->fd);
	od->dir = NULL;
}

/*
 * The open directory dir (n bytes of it), opened when it is not one of
 * the two kept open: questions come in runs for one directory, or
 * alternate between a package directory and its target directory.
 * Open, it lets the kernel look up one name per link read, not the
 * whole path, and a listing read from it instead of opening the
 * directory again.  It is opened for reading when it can be, else
 * (search permission only) as a path.  NULL with errno set.
 */
static struct open_dir *
dir_fd(struct stow_plan *plan, const char *dir, size_t n)
{
	struct open_dir	*od = plan->open_dirs, hit;
	int		 i;

	for (i = 0; i < 2; i++)
		if (od[i].dir != NULL && strncmp(od[i].dir, dir, n) == 0 &&
		    od[i].dir[n] == '\0')
			break;
	if (i == 2) {
		close_dir(&od[1]);
		i = 1;
		if ((od[1].dir = arena_strndup(&plan->arena, dir, n)) == NULL) {
			errno = ENOMEM;
			return NULL;
		}
		od[1].fresh = 1;
		if ((od[1].fd = fs_open_dir(plan->ctx->target_fd,
		    od[1].dir)) == -1 && errno == EACCES) {
			od[1].fresh = 0;
			od[1].fd = fs_open_path(plan->ctx->target_fd,
			    od[1].dir);
		}
		if (od[1].fd == -1) {
			od[1].dir = NULL;
			return NULL;
		}
	}
	if (i == 1) {
		hit = od[1];
		od[1] = od[0];
		od[0] = hit;
	}
	return &od[0];
}

/* Lists directory dir into l: 0, or -1 with errno set. */
static int
list_dir(struct stow_plan *plan, const char *dir, struct dirlist *l)
{
	struct open_dir	*od;

	if ((od = dir_fd(plan, dir, strlen(dir))) == NULL)
		return -1;
	if (!od->fresh)
		return fs_list(&plan->arena, plan->ctx->target_fd, dir, l);
	od->fresh = 0;
	return fs_list_fd(&plan->arena, od->fd, l);
}

/* The text of the symlink path, whose last component is name, in
 * plan->scratch; NULL with errno. */
static const char *
read_link(struct stow_plan *plan, const char *path, const char *name)
{
	struct open_dir	*od;

	if (name == path || (od = dir_fd(plan, path,
	    (size_t)(name - 1 - path))) == NULL)
		return fs_readlink(&plan->scratch, plan->ctx->target_fd, path);
	return fs_readlink(&plan->scratch, od->fd, name);
}

/*
 * Lists the lazy directory l, whose entry path is, now; a missing one
 * (which the plan will create) has no entries there.
 */
static void
list_now(struct stow_plan *plan, struct dirlist *l, const char *path)
{
	const char	*slash = strrchr(path, '/');
	char		*dir;

	dir = slash == NULL ? arena_strdup(&plan->arena, ".") :
	    arena_strndup(&plan->arena, path, (size_t)(slash - path));
	if (dir == NULL)
		return;
	if (list_dir(plan, dir, l) == 0 || errno == ENOENT ||
	    errno == ENOTDIR)
		l->lazy = 0;
}

/*
 * The type of path (last component name), an entry of the directory
 * whose cache entry l is, not listed yet, found by
 * reading it as a link: DISK_LINK (its text kept for disk_readlink()),
 * DISK_ABSENT, or, for what is not a link, DISK_DIR or DISK_OTHER (by
 * lstat(2), the same as stat(2) then); -1 when it cannot tell.  The
 * answer is kept: the questions about one entry come together.
 */
static int
peek(struct stow_plan *plan, struct dirlist *l, const char *path,
    const char *name)
{
	struct stat	 st;
	const char	*text;
	size_t		 n = strlen(path);
	int		 type;

	/* (An empty peek_path: nothing read yet; no entry is "".) */
	if (*path != '\0' && strcmp(plan->peek_path, path) == 0)
		return plan->peek_type;
	if (l == NULL || !l->lazy || n >= sizeof(plan->peek_path))
		return -1;
	if ((text = read_link(plan, path, name)) != NULL)
		type = DISK_LINK;
	else if (errno == ENOENT)
		type = DISK_ABSENT;
	else if (errno == EINVAL && fs_lstat(plan->ctx->target_fd, path,
	    &st) == 0 && !S_ISLNK(st.st_mode))
		type = S_ISDIR(st.st_mode) ? DISK_DIR : DISK_OTHER;
	else
		return -1;
	memcpy(plan->peek_path, path, n + 1);
	plan->peek_text = text;
	plan->peek_type = type;
	if (type == DISK_LINK)
		plan->list_first = 0;
	else if (++l->misses >= LAZY_MISSES) {
		list_now(plan, l, path);
		plan->list_first = 1;
	}
	return type;
}

/*
 * The type of path on disk: DISK_ABSENT, DISK_DIR, DISK_LINK (only when
 * not following) or DISK_OTHER.  follow: as stat(2), else lstat(2).
 */
static int
disk_type_of(struct stow_plan *plan, const char *path, int follow)
{
	struct stat	 st;
	struct dirlist	*l;
	const char	*name;
	unsigned int	 t;
	int		 p;

	/* (The walk's entry is in the directory the walk keeps.) */
	if (path == plan->entry_tgt && plan->entry_list != NULL &&
	    !is_dot(name = path + plan->entry_dlen))
		l = plan->entry_list;
	else
		l = parent_list(plan, path, &name);
	t = cached_type(l, name);
	if (t == DISK_NOENT)
		return DISK_ABSENT;
	if (t == DT_DIR)
		return DISK_DIR;
	if (t == DT_LNK && !follow)
		return DISK_LINK;
	if (t != DT_UNKNOWN && t != DT_LNK)
		return DISK_OTHER;
	/* A link followed is what it leads to: stat(2) tells. */
	if (t == DT_UNKNOWN && (p = peek(plan, l, path, name)) != -1 &&
	    (p != DISK_LINK || !follow))
		return p;
	if ((follow ? fs_stat_follow : fs_lstat)(plan->ctx->target_fd, path,
	    &st) == -1)
		return DISK_ABSENT;
	if (S_ISDIR(st.st_mode))
		return DISK_DIR;
	return S_ISLNK(st.st_mode) ? DISK_LINK : DISK_OTHER;
}

/* disk_type_of(), answered for the walk's entry (plan->entry_tgt) from
 * what was kept. */
int
disk_type(struct stow_plan *plan, const char *path, int follow)
{
	int	*kept = path == plan->entry_tgt ?
		    &plan->entry_disk[follow != 0] : NULL;
	int	 type;

	/* The planner asks about the walk's entry several times in a row
	 * (a link? anything there?), and the disk does not change while
	 * it plans: the answers are kept until the next entry. */
	if (kept != NULL && *kept != 0)
		return *kept - 1;
	type = disk_type_of(plan, path, follow);
	if (kept != NULL)
		*kept = type + 1;
	/* What is no link is the same followed. */
	if (kept != NULL && !follow && type != DISK_LINK)
		plan->entry_disk[1] = type + 1;
	return type;
}

/* The text of the symlink path on disk; NULL with errno.  It lives in
 * plan->scratch: a caller that keeps it copies it. */
const char *
disk_readlink(struct stow_plan *plan, const char *path)
{
	if (plan->peek_type == DISK_LINK && strcmp(plan->peek_path,
	    path) == 0)
		return plan->peek_text;
	return read_link(plan, path, path_basename(path));
}

/* Closes the directories kept open: planning is over, for now. */
void
disk_done(struct stow_plan *plan)
{
	close_dir(&plan->open_dirs[0]);
	close_dir(&plan->open_dirs[1]);
}

/* The strings made for one entry (in plan->scratch since mark m) are
 * no longer needed, nor the link text the peek kept among them. */
void
disk_entry_done(struct stow_plan *plan, struct arena_mark m)
{
	plan->peek_path[0] = '\0';
	arena_release(&plan->scratch, m);
}

/* Target directory dir is about to be asked about its entries: they
 * are read one by one until it is worth listing (LAZY_MISSES).  Returns
 * its cache entry, for the walk to keep; NULL when out of memory. */
struct dirlist *
disk_prime(struct stow_plan *plan, const char *dir)
{
	return cache_entry(plan, dir);
}

/*
 * Directory dir is not on disk, and the plan makes it: its listing is
 * known, and empty, without asking (a stow without folding makes a
 * whole tree so, and asks about every entry of every directory).
 */
void
disk_new_dir(struct stow_plan *plan, const char *dir)
{
	struct dirlist	*l;

	if ((l = cache_entry(plan, dir)) == NULL || !l->lazy)
		return;
	l->lazy = 0;
	l->len = 0;
	l->ents = NULL;
	l->marks = DISK_MARKS_KNOWN;
}

/*
 * GNU Stow's markers in target directory dir (DISK_MARK_*, with
 * DISK_MARKS_KNOWN): looked for once per plan, however many packages
 * walk the directory.  l: dir's cache entry, when the caller has it
 * (else NULL).  -1 when out of memory.
 */
int
disk_marks(struct stow_plan *plan, const char *dir, struct dirlist *l)
{
	static const struct {
		const char	*name;
		unsigned char	 bit;
	} marker[] = {
		{ ".stow", DISK_MARK_STOW }, { ".nonstow", DISK_MARK_NONSTOW }
	};
	struct arena_mark	 m;
	struct stat		 st;
	const char		*path;
	size_t			 i;

	if (l == NULL && (l = cache_entry(plan, dir)) == NULL)
		return -1;
	if (l->marks & DISK_MARKS_KNOWN)
		return l->marks;
	/* Where the last directory had to be listed, this one most likely
	 * will be too (a first stow into existing directories): its
	 * listing then answers for the markers, and for its entries
	 * without reading them one by one first. */
	if (l->lazy && plan->list_first && list_dir(plan, dir, l) == 0)
		l->lazy = 0;
	for (i = 0; i < sizeof(marker) / sizeof(marker[0]); i++) {
		/* A listing says when there is none; one it shows is
		 * asked of stat(2), as GNU Stow's -e asks: in a directory
		 * that can be listed but not searched, stat(2) finds
		 * nothing.  Not a peek: a marker is no entry the
		 * directory's walk reads. */
		if (!l->lazy && disk_entry_type(l, marker[i].name) ==
		    DISK_NOENT)
			continue;
		m = arena_mark(&plan->scratch);
		if ((path = path_join(&plan->scratch, dir,
		    marker[i].name)) == NULL)
			return -1;
		if (fs_stat_follow(plan->ctx->target_fd, path, &st) == 0)
			l->marks |= marker[i].bit;
		arena_release(&plan->scratch, m);
	}
	l->marks |= DISK_MARKS_KNOWN;
	return l->marks;
}
