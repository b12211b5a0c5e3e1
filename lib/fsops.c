/*
 * fsops.c: the file-system calls of libstow (the journal, journal.c,
 * writes and locks its own file).  All of them are relative to a
 * directory descriptor; the empty path means the directory itself.
 * Keeping them here lets them be audited in one place.
 */
#include <sys/types.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sha2.h>

#include "extern.h"

static const char *
at(const char *path)
{
	return *path == '\0' ? "." : path;
}

/*
 * Sorts a[0..n) bytewise by name, merging through tmp (n/2 entries or
 * more): a merge sort with the comparison inline, insertion sort for
 * short runs, and halves found in order already left as they are.
 */
static void
dent_sort(struct dent *a, struct dent *tmp, size_t n)
{
	struct dent	x;
	size_t		i, j, k, h = n / 2;

	if (n <= 16) {
		for (i = 1; i < n; i++) {
			x = a[i];
			for (j = i; j > 0 && strcmp(a[j - 1].name, x.name) > 0;
			    j--)
				a[j] = a[j - 1];
			a[j] = x;
		}
		return;
	}
	dent_sort(a, tmp, h);
	dent_sort(a + h, tmp, n - h);
	if (strcmp(a[h - 1].name, a[h].name) < 0)
		return;
	memcpy(tmp, a, h * sizeof(*a));
	for (i = 0, j = h, k = 0; i < h && j < n; k++)
		a[k] = strcmp(tmp[i].name, a[j].name) < 0 ? tmp[i++] : a[j++];
	while (i < h)
		a[k++] = tmp[i++];
}

/* Sorts a listing (tmp: room for n / 2 entries or more); one that
 * comes in reverse order (tmpfs lists the newest first) is reversed. */
void
dents_sort(struct dent *a, struct dent *tmp, size_t n)
{
	struct dent	x;
	size_t		i;

	for (i = 1; i < n && strcmp(a[i - 1].name, a[i].name) > 0; i++)
		;
	if (i < n) {
		dent_sort(a, tmp, n);
		return;
	}
	for (i = 0; i < n / 2; i++) {
		x = a[i];
		a[i] = a[n - 1 - i];
		a[n - 1 - i] = x;
	}
}

/* Appends the entries of one getdents64() buffer to *ents. */
static int
take_dents(struct arena *a, const char *buf, size_t n, struct dent **ents,
    size_t *len, size_t *cap)
{
	const struct dirent64	*de;
	struct dent		*grown;
	size_t			 off;

	for (off = 0; off < n; off += de->d_reclen) {
		de = (const struct dirent64 *)(const void *)(buf + off);
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (*len == *cap) {
			*cap = *cap == 0 ? 16 : *cap * 2;
			if ((grown = reallocarray(*ents, *cap,
			    sizeof(**ents))) == NULL)
				return -1;
			*ents = grown;
		}
		(*ents)[*len].type = de->d_type;
		if (((*ents)[*len].name = arena_strdup(a, de->d_name)) == NULL) {
			errno = ENOMEM;
			return -1;
		}
		(*len)++;
	}
	return 0;
}

/*
 * Lists the directory open as fd, from where its offset is (a fresh
 * descriptor: the start), into *out, sorted bytewise as GNU Stow's
 * "sort readdir" is, without "." and "..".  getdents64() straight into
 * a buffer: no DIR, and none of the checks fdopendir() makes with two
 * more system calls.  fd stays open.  Returns 0, or -1 with errno set.
 */
int
fs_list_fd(struct arena *a, int fd, struct dirlist *out)
{
	union {
		struct dirent64	de;
		char		bytes[16384];
	}		 buf;
	struct dent	*ents = NULL;
	size_t		 len = 0, cap = 0;
	ssize_t		 n;

	while ((n = getdents64(fd, buf.bytes, sizeof(buf.bytes))) > 0)
		if (take_dents(a, buf.bytes, (size_t)n, &ents, &len,
		    &cap) == -1)
			break;
	if (n != 0) {
		free(ents);
		return -1;
	}
	out->ents = NULL;
	if (len > 0) {
		if ((out->ents = arena_alloc(a, len * sizeof(*ents))) == NULL) {
			free(ents);
			errno = ENOMEM;
			return -1;
		}
		/* (The arena's copy is room to merge in, until it is one.) */
		dents_sort(ents, out->ents, len);
		memcpy(out->ents, ents, len * sizeof(*ents));
	}
	/* (Set last: a listing that failed has no length.) */
	out->len = len;
	free(ents);
	return 0;
}

/* fs_list_fd() of directory path (following a final symlink, as
 * opendir(3) does), opened for the listing. */
int
fs_list(struct arena *a, int dfd, const char *path, struct dirlist *out)
{
	int	fd, rc, saved;

	if ((fd = fs_open_dir(dfd, path)) == -1)
		return -1;
	rc = fs_list_fd(a, fd, out);
	saved = errno;
	close(fd);
	errno = saved;
	return rc;
}

int
fs_lstat(int dfd, const char *path, struct stat *st)
{
	return fstatat(dfd, at(path), st, AT_SYMLINK_NOFOLLOW);
}

int
fs_stat_follow(int dfd, const char *path, struct stat *st)
{
	return fstatat(dfd, at(path), st, 0);
}

/* The text of symlink path, in the arena; NULL with errno on failure. */
char *
fs_readlink(struct arena *a, int dfd, const char *path)
{
	char	 buf[PATH_MAX];
	ssize_t	 n;

	if ((n = readlinkat(dfd, at(path), buf, sizeof(buf))) == -1)
		return NULL;
	if ((size_t)n == sizeof(buf)) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	return arena_strndup(a, buf, (size_t)n);
}

/* A descriptor that only names directory path (O_PATH), as *at() calls
 * need; following symlinks, as the path itself would. */
int
fs_open_path(int dfd, const char *path)
{
	return openat(dfd, at(path), O_PATH | O_DIRECTORY | O_CLOEXEC);
}

/* What walk_nofollow() makes of a missing component: a directory of
 * mode, given to uid:gid unless uid is (uid_t)-1. */
struct mkspec {
	mode_t	mode;
	uid_t	uid;
	gid_t	gid;
};

/*
 * Opens directory dir (its first len bytes, relative to root) one
 * component at a time, following no symlink, making each missing one
 * when mk says how; O_PATH: a descriptor for *at() calls, closed by the
 * caller.  -1 with errno set on failure: ENOTDIR where a component is a
 * symlink.
 */
static int
walk_nofollow(int root, const char *dir, size_t len, const struct mkspec *mk)
{
	char		 comp[NAME_MAX + 1];
	const char	*p = dir, *end = dir + len, *slash;
	size_t		 n;
	int		 fd = root, next, saved;

	if (p < end && *p == '/') {
		root = -1;
		if ((fd = openat(AT_FDCWD, "/", O_PATH | O_DIRECTORY |
		    O_CLOEXEC)) == -1)
			return -1;
	}
	while (p < end) {
		if ((slash = memchr(p, '/', (size_t)(end - p))) == NULL)
			slash = end;
		n = (size_t)(slash - p);
		if (n > NAME_MAX) {
			errno = ENAMETOOLONG;
			goto fail;
		}
		if (n > 0 && !(n == 1 && *p == '.')) {
			memcpy(comp, p, n);
			comp[n] = '\0';
			/* (A mkdir that fails for another reason than
			 * EEXIST says why, not the open after it.) */
			if (mk != NULL && mkdirat(fd, comp, mk->mode) == 0) {
				if (mk->uid != (uid_t)-1 && fchownat(fd, comp,
				    mk->uid, mk->gid, AT_SYMLINK_NOFOLLOW) == -1)
					goto fail;
			} else if (mk != NULL && errno != EEXIST)
				goto fail;
			next = openat(fd, comp, O_PATH | O_DIRECTORY |
			    O_NOFOLLOW | O_CLOEXEC);
			if (fd != root)
				close(fd);
			if ((fd = next) == -1)
				return -1;
		}
		p = slash + 1;
	}
	/* The root itself: a descriptor of our own, as callers close it. */
	if (fd == root && (fd = openat(root, ".", O_PATH | O_DIRECTORY |
	    O_CLOEXEC)) == -1)
		return -1;
	return fd;
fail:
	saved = errno;
	if (fd != root)
		close(fd);
	errno = saved;
	return -1;
}

int
fs_open_nofollow(int root, const char *dir, size_t len)
{
	return walk_nofollow(root, dir, len, NULL);
}

/* fs_open_nofollow() of dir, made first where missing (mkdir -p, each
 * directory it makes of mode and, unless uid is (uid_t)-1, given to
 * uid:gid), never through a symlink. */
int
fs_mkdir_nofollow(int root, const char *dir, mode_t mode, uid_t uid,
    gid_t gid)
{
	struct mkspec	mk = { mode, uid, gid };

	return walk_nofollow(root, dir, strlen(dir), &mk);
}

int
fs_open_dir(int dfd, const char *path)
{
	return openat(dfd, at(path), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

/*
 * The canonical absolute path of an open directory, what GNU Stow gets
 * by chdir() and getcwd(), read from /proc so that the process's
 * working directory is never changed.
 */
int
fs_dir_path(int fd, char *buf, size_t size)
{
	char	proc[64];
	ssize_t	n;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	if ((n = readlink(proc, buf, size)) == -1)
		return -1;
	if ((size_t)n >= size) {
		errno = ENAMETOOLONG;
		return -1;
	}
	buf[n] = '\0';
	return 0;
}

int
fs_mkdir(int dfd, const char *path)
{
	return mkdirat(dfd, at(path), 0777);
}

int
fs_rmdir(int dfd, const char *path)
{
	return unlinkat(dfd, at(path), AT_REMOVEDIR);
}

int
fs_symlink(const char *text, int dfd, const char *path)
{
	return symlinkat(text, dfd, at(path));
}

int
fs_unlink(int dfd, const char *path)
{
	return unlinkat(dfd, at(path), 0);
}

/*
 * Copies the extended attributes of in to out.  Attributes the
 * destination file system cannot hold (ENOTSUP) are not an error: there
 * is nowhere to keep them.
 */
static int
copy_xattrs(int in, int out)
{
	char	 names[8192], value[65536], *name;
	ssize_t	 len, vlen;

	if ((len = flistxattr(in, names, sizeof(names))) == -1)
		return errno == ENOTSUP ? 0 : -1;
	for (name = names; name < names + len; name += strlen(name) + 1) {
		if ((vlen = fgetxattr(in, name, value, sizeof(value))) == -1)
			return -1;
		if (fsetxattr(out, name, value, (size_t)vlen, 0) == -1 &&
		    errno != ENOTSUP && errno != EPERM)
			return -1;
	}
	return 0;
}

/*
 * rename(2) of from to to, which must not exist unless flags has
 * FS_MOVE_REPLACE.  Where the file system cannot refuse to replace
 * (RENAME_NOREPLACE unsupported: EINVAL), to is looked at first.
 */
static int
rename_at(int fromfd, const char *from, int tofd, const char *to,
    unsigned int flags)
{
	struct stat	st;

	if (flags & FS_MOVE_REPLACE)
		return renameat(fromfd, from, tofd, to);
	if (renameat2(fromfd, from, tofd, to, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL)
		return -1;
	if (fstatat(tofd, to, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		errno = EEXIST;
		return -1;
	}
	return renameat(fromfd, from, tofd, to);
}

static int	merge_back(int, const char *, int, const char *, size_t *);

/*
 * Copies regular file from to a new file to, keeping mode, times,
 * extended attributes and, where permitted, owner.  Synced when sync is
 * set; a tree's files are not, the tree being synced whole (syncfs(2))
 * before its original is removed.
 */
static int
copy_file(int fromfd, const char *from, int tofd, const char *to, int sync)
{
	struct stat	 st;
	struct timespec	 times[2];
	char		 buf[65536];
	ssize_t		 n, w, off;
	int		 in, out = -1, saved;

	if ((in = openat(fromfd, from, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return -1;
	if (fstat(in, &st) == -1)
		goto fail;
	if (!S_ISREG(st.st_mode)) {
		errno = EINVAL;
		goto fail;
	}
	if ((out = openat(tofd, to, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, st.st_mode & 07777)) == -1)
		goto fail;
	while ((n = read(in, buf, sizeof(buf))) > 0) {
		for (off = 0; off < n; off += w)
			if ((w = write(out, buf + off, (size_t)(n - off))) == -1)
				goto fail_unlink;
	}
	/* The owner only where permitted (a user cannot give files away). */
	if (n == -1 || (fchown(out, st.st_uid, st.st_gid) == -1 &&
	    errno != EPERM) || fchmod(out, st.st_mode & 07777) == -1 ||
	    copy_xattrs(in, out) == -1 || (sync && fsync(out) == -1))
		goto fail_unlink;
	times[0] = st.st_atim;
	times[1] = st.st_mtim;
	if (futimens(out, times) == -1 || close(out) == -1) {
		out = -1;
		goto fail_unlink;
	}
	close(in);
	return 0;
fail_unlink:
	saved = errno;
	unlinkat(tofd, to, 0);
	errno = saved;
fail:
	saved = errno;
	if (out != -1)
		close(out);
	close(in);
	errno = saved;
	return -1;
}

/* Recreates symlink from (in fromfd) as to (in tofd). */
static int
copy_symlink(int fromfd, const char *from, int tofd, const char *to)
{
	char	buf[PATH_MAX];
	ssize_t	n;

	if ((n = readlinkat(fromfd, from, buf, sizeof(buf) - 1)) == -1)
		return -1;
	buf[n] = '\0';
	return symlinkat(buf, tofd, to);
}

static int	copy_tree(int, const char *, int, const char *);

/* Copies one entry (file, link or directory tree) from to to. */
static int
copy_entry(int fromfd, const char *from, int tofd, const char *to)
{
	struct stat	st;

	if (fstatat(fromfd, from, &st, AT_SYMLINK_NOFOLLOW) == -1)
		return -1;
	if (S_ISDIR(st.st_mode))
		return copy_tree(fromfd, from, tofd, to);
	if (S_ISLNK(st.st_mode))
		return copy_symlink(fromfd, from, tofd, to);
	return copy_file(fromfd, from, tofd, to, 0);
}

/* Copies directory from, with its modes, to a new directory to. */
static int
copy_tree(int fromfd, const char *from, int tofd, const char *to)
{
	struct arena	 a = { NULL, NULL };
	struct dirlist	 list;
	struct stat	 st;
	size_t		 i;
	int		 sfd = -1, dfd = -1, rc = -1, saved;

	if (fstatat(fromfd, from, &st, AT_SYMLINK_NOFOLLOW) == -1 ||
	    mkdirat(tofd, to, 0700) == -1)
		return -1;
	if ((sfd = openat(fromfd, from, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1 || (dfd = openat(tofd, to, O_RDONLY |
	    O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) == -1 ||
	    fs_list_fd(&a, sfd, &list) == -1)
		goto out;
	for (i = 0; i < list.len; i++)
		if (copy_entry(sfd, list.ents[i].name, dfd,
		    list.ents[i].name) == -1)
			goto out;
	rc = fchmod(dfd, st.st_mode & 07777);
out:
	saved = errno;
	if (sfd != -1)
		close(sfd);
	if (dfd != -1)
		close(dfd);
	arena_free(&a);
	errno = saved;
	return rc;
}

/* Removes directory tree path below dfd, never following a link. */
static int
remove_tree(int dfd, const char *path)
{
	struct arena	 a = { NULL, NULL };
	struct dirlist	 list;
	size_t		 i;
	int		 fd, rc = -1, saved;

	if (unlinkat(dfd, path, 0) == 0)
		return 0;
	if (errno != EISDIR && errno != EPERM)
		return -1;
	if ((fd = openat(dfd, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1)
		return -1;
	if (fs_list_fd(&a, fd, &list) == 0) {
		for (i = 0; i < list.len; i++)
			if (remove_tree(fd, list.ents[i].name) == -1)
				break;
		if (i == list.len)
			rc = unlinkat(dfd, path, AT_REMOVEDIR);
	}
	saved = errno;
	close(fd);
	arena_free(&a);
	errno = saved;
	return rc;
}

/*
 * Can the tree at name (below dfd) be removed whole once it is copied?
 * Not when it holds a mount point (its removal would reach into
 * another file system, or the one bound there: EBUSY), nor when a
 * directory in it cannot be written or searched by us (EACCES), or a
 * sticky one holds another user's entry (EPERM).  mnt is the tree's
 * mount; rel (size PATH_MAX, holding rlen bytes) its path below the
 * tree's root so far, left naming the entry at fault.
 */
static int
tree_removable(int dfd, const char *name, uint64_t mnt, char *rel,
    size_t rlen)
{
	struct arena	 a = { NULL, NULL };
	struct dirlist	 list;
	struct statx	 sx;
	size_t		 i, n = strlen(name);
	int		 fd, rc = 0, saved, sticky;

	if (rlen + n + 2 >= PATH_MAX) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (rlen > 0)
		rel[rlen++] = '/';
	memcpy(rel + rlen, name, n + 1);
	rlen += n;
	if (statx(dfd, name, AT_SYMLINK_NOFOLLOW, STATX_TYPE | STATX_MODE |
	    STATX_UID | STATX_MNT_ID, &sx) == -1)
		return -1;
	if (((sx.stx_mask & STATX_MNT_ID) && sx.stx_mnt_id != mnt) ||
	    (sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT &
	    sx.stx_attributes)) {
		errno = EBUSY;
		return -1;
	}
	if (!S_ISDIR(sx.stx_mode))
		return 0;
	if (faccessat(dfd, name, W_OK | X_OK, AT_EACCESS |
	    AT_SYMLINK_NOFOLLOW) == -1)
		return -1;
	sticky = (sx.stx_mode & S_ISVTX) && geteuid() != 0 &&
	    sx.stx_uid != geteuid();
	if ((fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1)
		return -1;
	if (fs_list_fd(&a, fd, &list) == -1)
		rc = -1;
	for (i = 0; rc == 0 && i < list.len; i++) {
		if (sticky && statx(fd, list.ents[i].name,
		    AT_SYMLINK_NOFOLLOW, STATX_UID, &sx) == 0 &&
		    sx.stx_uid != geteuid()) {
			rel[rlen] = '\0';
			errno = EPERM;
			rc = -1;
			break;
		}
		rc = tree_removable(fd, list.ents[i].name, mnt, rel, rlen);
	}
	saved = errno;
	close(fd);
	arena_free(&a);
	errno = saved;
	return rc;
}

/* syncfs(2) of the file system holding directory name of dfd (which may
 * be an O_PATH descriptor, which syncfs(2) does not take). */
static int
sync_fs_of(int dfd, const char *name)
{
	int	fd, rc, saved;

	if ((fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1)
		return -1;
	rc = syncfs(fd);
	saved = errno;
	close(fd);
	errno = saved;
	return rc;
}

/*
 * The name a copy is made under before it takes its place: COPY_PREFIX
 * and the tag (the process ID without one), beside to.  0, or -1 with
 * errno ENAMETOOLONG.
 */
static int
copy_name(const char *to, const struct move_report *mr, char *buf,
    size_t size)
{
	const char	*slash = strrchr(to, '/');
	int		 n, dl = slash != NULL ? (int)(slash - to + 1) : 0;

	if (mr != NULL && mr->tag != NULL)
		n = snprintf(buf, size, "%.*s%s%s", dl, to, COPY_PREFIX,
		    mr->tag);
	else
		n = snprintf(buf, size, "%.*s%s%ld", dl, to, COPY_PREFIX,
		    (long)getpid());
	if (n < 0 || (size_t)n >= size) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/*
 * Moves directory tree from to to, on another file system: checked
 * first (tree_removable()), then copied whole under a name of its own
 * beside to (copy_name()), synced, and renamed into place, so that to
 * never holds half a tree; only then is the original removed.  A failed
 * copy is removed again.  When the removal fails halfway, what it
 * removed is put back from the copy (merge_back()) and the copy goes;
 * if even that fails, mr->split says the copy at to holds what the
 * original lost.  -1 with errno, and mr->where naming the entry at
 * fault where one is known.
 */
static int
move_tree(int fromfd, const char *from, int tofd, const char *to,
    struct move_report *mr, unsigned int flags)
{
	struct statx	 sx;
	char		 rel[PATH_MAX], tmp[PATH_MAX];
	size_t		 kept = 0;
	int		 saved;

	rel[0] = '\0';
	if (statx(fromfd, from, AT_SYMLINK_NOFOLLOW, STATX_MNT_ID, &sx) == -1)
		return -1;
	if (faccessat(fromfd, ".", W_OK | X_OK, AT_EACCESS) == -1 ||
	    tree_removable(fromfd, from, sx.stx_mnt_id, rel, 0) == -1) {
		/* Below the tree, whatever name it has now. */
		saved = errno;
		if (mr != NULL && strlen(rel) > strlen(from))
			strlcpy(mr->where, rel + strlen(from) + 1,
			    sizeof(mr->where));
		errno = saved;
		return -1;
	}
	if (copy_name(to, mr, tmp, sizeof(tmp)) == -1)
		return -1;
	if (copy_tree(fromfd, from, tofd, tmp) == -1 || sync_fs_of(tofd,
	    tmp) == -1 || rename_at(tofd, tmp, tofd, to, flags) == -1) {
		saved = errno;
		(void)remove_tree(tofd, tmp);
		errno = saved;
		return -1;
	}
	if (remove_tree(fromfd, from) == 0)
		return 0;
	saved = errno;
	if ((merge_back(tofd, to, fromfd, from, &kept) == -1 || kept > 0) &&
	    mr != NULL)
		mr->split = 1;
	errno = saved;
	return -1;
}

/*
 * Moves file or symlink from to to on another file system, as mv(1)
 * does for EXDEV: a synced copy beside to (copy_name()), renamed into
 * place (so to is never half written), and only then is the original
 * removed.
 */
static int
move_file(int fromfd, const char *from, int tofd, const char *to,
    const struct stat *st, unsigned int flags, struct move_report *mr)
{
	char	tmp[PATH_MAX];
	int	saved, rc;

	if (copy_name(to, mr, tmp, sizeof(tmp)) == -1)
		return -1;
	rc = S_ISLNK(st->st_mode) ? copy_symlink(fromfd, from, tofd, tmp) :
	    copy_file(fromfd, from, tofd, tmp, 1);
	if (rc == -1)
		return -1;
	if (rename_at(tofd, tmp, tofd, to, flags) == -1) {
		saved = errno;
		unlinkat(tofd, tmp, 0);
		errno = saved;
		return -1;
	}
	if (unlinkat(fromfd, from, 0) == 0)
		return 0;
	/* The original stays: so the copy goes, unless it replaced what
	 * was at to (FS_MOVE_REPLACE), which is then gone already. */
	saved = errno;
	if (!(flags & FS_MOVE_REPLACE))
		(void)unlinkat(tofd, to, 0);
	errno = saved;
	return -1;
}

/*
 * Moves from (relative to fromfd; a file, link or whole tree) to to
 * (relative to tofd): rename(2) when they share a file system, else a
 * copy that takes the original's place (move_file(), move_tree()).
 * to must not exist unless flags has FS_MOVE_REPLACE (then an existing
 * file is replaced, as rename(2) does).  Returns 0 or -1 with errno;
 * mr (may be NULL) tells more about a failed move across file systems.
 */
int
fs_move_at(int fromfd, const char *from, int tofd, const char *to,
    unsigned int flags, struct move_report *mr)
{
	struct stat	st;

	if (mr != NULL) {
		mr->where[0] = '\0';
		mr->split = 0;
	}
	if (rename_at(fromfd, at(from), tofd, at(to), flags) == 0)
		return 0;
	if (errno != EXDEV || fstatat(fromfd, at(from), &st,
	    AT_SYMLINK_NOFOLLOW) == -1)
		return -1;
	if (S_ISDIR(st.st_mode))
		return move_tree(fromfd, at(from), tofd, at(to), mr, flags);
	return move_file(fromfd, at(from), tofd, at(to), &st, flags, mr);
}

/*
 * Moves entry from (a file, a link or a whole tree) to to, where to does
 * not exist: rename(2), or across file systems a copy that then takes
 * the place of from.  A file's copy is made beside to and renamed into
 * place, so that to is never half written.
 */
static int
copy_move(int fromfd, const char *from, int tofd, const char *to,
    struct move_report *mr)
{
	struct stat	st;

	if (fstatat(fromfd, from, &st, AT_SYMLINK_NOFOLLOW) == -1)
		return -1;
	if (S_ISDIR(st.st_mode))
		return move_tree(fromfd, from, tofd, to, mr, 0);
	return move_file(fromfd, from, tofd, to, &st, 0, mr);
}

/* Do the copy c and the original o (both lstat'd: cs, os) hold the
 * same: the same link text, or regular files of the same bytes? */
static int
same_leaf(int cfd, const char *c, const struct stat *cs, int ofd,
    const char *o, const struct stat *os)
{
	struct arena	 a = { NULL, NULL };
	const char	*ct, *ot;
	int		 same = 0;

	if (S_ISREG(cs->st_mode) && S_ISREG(os->st_mode))
		return fs_same_content(cfd, c, ofd, o) == 1;
	if (S_ISLNK(cs->st_mode) && S_ISLNK(os->st_mode))
		same = (ct = fs_readlink(&a, cfd, c)) != NULL &&
		    (ot = fs_readlink(&a, ofd, o)) != NULL &&
		    strcmp(ct, ot) == 0;
	arena_free(&a);
	return same;
}

/*
 * Puts back into orig what a cross-device move removed, from its copy
 * (cfd/copy): every entry of the copy that orig lacks goes back (moved,
 * so copied again across the file systems), and the copy of every entry
 * orig still has as the copy holds it is removed.  An entry orig has
 * otherwise (another file there since, other bytes) stays in the copy:
 * nothing is lost, and *kept counts it.  Once all is back the copy is
 * gone.  Returns 0, or -1 with errno when something could not go back:
 * it is then still in the copy.
 */
static int
merge_back(int cfd, const char *copy, int ofd, const char *orig,
    size_t *kept)
{
	struct arena	 a = { NULL, NULL };
	struct dirlist	 list;
	struct stat	 cs, os;
	size_t		 i, before = *kept;
	int		 sub = -1, dst = -1, rc = 0, saved;

	if (fstatat(cfd, copy, &cs, AT_SYMLINK_NOFOLLOW) == -1)
		return errno == ENOENT ? 0 : -1;
	if (fstatat(ofd, orig, &os, AT_SYMLINK_NOFOLLOW) == -1) {
		if (errno != ENOENT)
			return -1;
		return copy_move(cfd, copy, ofd, orig, NULL);
	}
	if (!S_ISDIR(cs.st_mode) || !S_ISDIR(os.st_mode)) {
		if (!S_ISDIR(cs.st_mode) && same_leaf(cfd, copy, &cs, ofd, orig,
		    &os))
			return unlinkat(cfd, copy, 0);
		(*kept)++;
		return 0;
	}
	if ((sub = openat(cfd, copy, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1 || (dst = openat(ofd, orig, O_RDONLY |
	    O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) == -1 ||
	    fs_list_fd(&a, sub, &list) == -1)
		rc = -1;
	for (i = 0; rc == 0 && i < list.len; i++)
		rc = merge_back(sub, list.ents[i].name, dst,
		    list.ents[i].name, kept);
	saved = errno;
	if (sub != -1)
		close(sub);
	if (dst != -1)
		close(dst);
	arena_free(&a);
	errno = saved;
	if (rc == 0 && *kept == before)
		rc = unlinkat(cfd, copy, AT_REMOVEDIR);
	return rc;
}

int
fs_merge_back(int cfd, const char *copy, int ofd, const char *orig,
    size_t *kept)
{
	*kept = 0;
	return merge_back(cfd, at(copy), ofd, at(orig), kept);
}

/*
 * Copies file or symlink from (not a directory) to to, which must not
 * exist: beside it under COPY_PREFIX and the tag (copy_name()), synced,
 * then renamed into place, so that to is never half written.
 */
int
fs_copy_at(int fromfd, const char *from, int tofd, const char *to,
    const struct move_report *mr)
{
	struct stat	st;
	char		tmp[PATH_MAX];
	int		saved;

	from = at(from);
	to = at(to);
	if (fstatat(fromfd, from, &st, AT_SYMLINK_NOFOLLOW) == -1)
		return -1;
	if (S_ISDIR(st.st_mode)) {
		errno = EISDIR;
		return -1;
	}
	if (copy_name(to, mr, tmp, sizeof(tmp)) == -1 ||
	    (S_ISLNK(st.st_mode) ? copy_symlink(fromfd, from, tofd, tmp) :
	    copy_file(fromfd, from, tofd, tmp, 1)) == -1)
		return -1;
	if (rename_at(tofd, tmp, tofd, to, 0) == -1) {
		saved = errno;
		(void)unlinkat(tofd, tmp, 0);
		errno = saved;
		return -1;
	}
	return 0;
}

/* Removes path below dfd, a whole tree, following no link. */
int
fs_remove_tree(int dfd, const char *path)
{
	return remove_tree(dfd, at(path));
}

/* Is leaf of dfd a symlink whose text is text?  1 or 0; -1 with errno
 * when it cannot be told. */
static int
is_link_to(int dfd, const char *leaf, const char *text)
{
	char	buf[PATH_MAX];
	ssize_t	n;

	if ((n = readlinkat(dfd, leaf, buf, sizeof(buf))) == -1)
		return errno == EINVAL || errno == ENOENT ? 0 : -1;
	return (size_t)n == strlen(text) && memcmp(buf, text, (size_t)n) == 0;
}

/*
 * Removes symlink leaf of dfd only if it is still the link whose text
 * is text.  It is first renamed aside (to aside, a name in the same
 * directory nobody else uses), which takes whatever is there at that
 * moment out of anyone else's reach, and only then read: a file an
 * editor saved over the link after planning is never removed, however
 * the two race.  Our link is removed; anything else goes back.  aside
 * NULL: leaf is itself such a private name, read and removed in place.
 * Returns FS_UNLINKED, FS_NOT_OURS (something else is there, left as it
 * was), FS_STRANDED (something else, which could not go back because
 * the name was taken again meanwhile: it is at aside), or -1 with
 * errno.
 */
int
fs_unlink_checked(int dfd, const char *leaf, const char *text,
    const char *aside)
{
	const char	*at_name = aside != NULL ? aside : leaf;
	int		 ours;

	int		 saved;

	if (aside != NULL && rename_at(dfd, leaf, dfd, aside, 0) == -1)
		return errno == ENOENT ? FS_NOT_OURS : -1;
	if ((ours = is_link_to(dfd, at_name, text)) == 1 &&
	    unlinkat(dfd, at_name, 0) == 0)
		return FS_UNLINKED;
	saved = errno;
	if (aside == NULL)
		return ours == 0 ? FS_NOT_OURS : -1;
	/* Not ours, or it could not be removed: back where it was. */
	if (rename_at(dfd, aside, dfd, leaf, 0) == -1)
		return FS_STRANDED;
	errno = saved;
	return ours == 0 ? FS_NOT_OURS : -1;
}

/* rename(2) that fails with EEXIST rather than replace to. */
int
fs_rename_noreplace(int fromfd, const char *from, int tofd, const char *to)
{
	return renameat2(fromfd, at(from), tofd, at(to), RENAME_NOREPLACE);
}

/*
 * mkdir -p: creates path and its missing parents below dfd.  Those it
 * creates are given to uid:gid unless uid is (uid_t)-1.  Most often
 * path or its parent exists: the whole path is tried first, and the
 * parents are walked only when one is missing.
 */
int
fs_mkdir_p(int dfd, const char *path, mode_t mode, uid_t uid, gid_t gid)
{
	char	buf[PATH_MAX], *p;
	size_t	n = strlen(path);

	if (n == 0)
		return 0;
	if (n >= sizeof(buf)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (mkdirat(dfd, path, mode) == 0)
		return uid != (uid_t)-1 && fchownat(dfd, path, uid, gid,
		    AT_SYMLINK_NOFOLLOW) == -1 ? -1 : 0;
	if (errno == EEXIST)
		return 0;
	if (errno != ENOENT)
		return -1;
	memcpy(buf, path, n + 1);
	for (p = buf + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		*p = '\0';
		if (mkdirat(dfd, buf, mode) == 0) {
			if (uid != (uid_t)-1 &&
			    fchownat(dfd, buf, uid, gid, AT_SYMLINK_NOFOLLOW) == -1)
				return -1;
		} else if (errno != EEXIST)
			return -1;
		if (p == buf + n)
			break;
		*p = '/';
	}
	return 0;
}

int
fs_lchown(int dfd, const char *path, uid_t uid, gid_t gid)
{
	return fchownat(dfd, at(path), uid, gid, AT_SYMLINK_NOFOLLOW);
}

/*
 * SHA-256 of a regular file (hex, 65 bytes with the NUL) and its size.
 */
int
fs_hash_file(int dfd, const char *path, char hex[65], off_t *size)
{
	SHA2_CTX	sha;
	char		buf[65536];
	ssize_t		n;
	off_t		total = 0;
	int		fd, saved;

	/* (Not waiting on a FIFO put in the file's place.) */
	if ((fd = openat(dfd, path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC)) == -1)
		return -1;
	SHA256Init(&sha);
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		SHA256Update(&sha, (const uint8_t *)buf, (size_t)n);
		total += n;
	}
	saved = errno;
	close(fd);
	if (n == -1) {
		errno = saved;
		return -1;
	}
	SHA256End(&sha, hex);
	*size = total;
	return 0;
}

/* SHA-256 of a string (a symlink's text), hex. */
void
fs_hash_text(const char *text, char hex[65])
{
	SHA2_CTX	sha;

	SHA256Init(&sha);
	SHA256Update(&sha, (const uint8_t *)text, strlen(text));
	SHA256End(&sha, hex);
}

/* Do two regular files hold the same bytes?  1, 0, or -1 with errno. */
int
fs_same_content(int afd, const char *a, int bfd, const char *b)
{
	struct stat	sa, sb;
	char		ba[32768], bb[32768];
	ssize_t		na, nb;
	int		fa, fb = -1, same = -1, saved;

	if ((fa = openat(afd, a, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return -1;
	if ((fb = openat(bfd, b, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1 ||
	    fstat(fa, &sa) == -1 || fstat(fb, &sb) == -1)
		goto out;
	same = sa.st_size == sb.st_size;
	while (same == 1) {
		if ((na = read(fa, ba, sizeof(ba))) == -1 ||
		    (nb = read(fb, bb, sizeof(bb))) == -1) {
			same = -1;
			break;
		}
		if (na == 0 && nb == 0)
			break;
		same = na == nb && memcmp(ba, bb, (size_t)na) == 0;
	}
out:
	saved = errno;
	close(fa);
	if (fb != -1)
		close(fb);
	errno = saved;
	return same;
}

/*
 * Reads what is left of open file fd into a NUL-terminated malloc'd
 * buffer; NULL with errno set on failure.  fd stays open.
 */
char *
fs_read_fd(int fd, size_t *lenp)
{
	char	*buf = NULL, *grown;
	size_t	 len = 0, cap = 0;
	ssize_t	 n;
	int	 saved;

	for (;;) {
		if (cap - len < 4096) {
			cap = cap == 0 ? 8192 : cap * 2;
			if ((grown = realloc(buf, cap)) == NULL)
				goto fail;
			buf = grown;
		}
		if ((n = read(fd, buf + len, cap - len - 1)) == -1)
			goto fail;
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	if (lenp != NULL)
		*lenp = len;
	return buf;
fail:
	saved = errno;
	free(buf);
	errno = saved;
	return NULL;
}

/* fs_read_fd() of fd (-1: the open failed, errno set), which is then
 * closed. */
char *
fs_read_close(int fd, size_t *lenp)
{
	char	*buf;
	int	 saved;

	if (fd == -1)
		return NULL;
	buf = fs_read_fd(fd, lenp);
	saved = errno;
	close(fd);
	errno = saved;
	return buf;
}

/*
 * Reads a whole file into a NUL-terminated malloc'd buffer; NULL with
 * errno set on failure.
 */
char *
fs_read_file(int dfd, const char *path, size_t *lenp)
{
	return fs_read_close(openat(dfd, path, O_RDONLY | O_CLOEXEC), lenp);
}

/* Appends data to file name in dfd (creating it 0600) and syncs it. */
int
fs_append_sync(int dfd, const char *name, const char *data, size_t len)
{
	ssize_t	n;
	int	fd, saved;

	if ((fd = openat(dfd, name, O_WRONLY | O_APPEND | O_CREAT |
	    O_CLOEXEC | O_NOFOLLOW, 0600)) == -1)
		return -1;
	for (; len > 0; data += n, len -= (size_t)n) {
		if ((n = write(fd, data, len)) == -1)
			goto fail;
	}
	if (fsync(fd) == -1)
		goto fail;
	return close(fd);
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

/* Cuts file name in dfd down to size bytes. */
int
fs_truncate(int dfd, const char *name, off_t size)
{
	int	fd, rc, saved;

	if ((fd = openat(dfd, name, O_WRONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return -1;
	rc = ftruncate(fd, size);
	saved = errno;
	close(fd);
	errno = saved;
	return rc;
}

/* Swaps two entries of one directory tree atomically. */
int
fs_exchange(int dfd, const char *a, const char *b)
{
	return renameat2(dfd, at(a), dfd, at(b), RENAME_EXCHANGE);
}
