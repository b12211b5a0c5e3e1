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
	out->len = len;
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

/*
 * Opens directory dir (its first len bytes, relative to root) one
 * component at a time, following no symlink (O_PATH: a descriptor for
 * *at() calls, closed by the caller); -1 with errno set on failure:
 * ENOTDIR where a component is a symlink.
 */
int
fs_open_nofollow(int root, const char *dir, size_t len)
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
 * Copies regular file from to a new file to, keeping mode, times,
 * extended attributes and, where permitted, owner; synced before it is
 * used.
 */
static int
copy_file(int fromfd, const char *from, int tofd, const char *to)
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
	    copy_xattrs(in, out) == -1 || fsync(out) == -1)
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
	return copy_file(fromfd, from, tofd, to);
}

/* Copies directory from, with its modes, to a new directory to. */
static int
copy_tree(int fromfd, const char *from, int tofd, const char *to)
{
	struct arena	 a = { NULL };
	struct dirlist	 list;
	struct stat	 st;
	size_t		 i;
	int		 sfd = -1, dfd = -1, rc = -1;

	if (fstatat(fromfd, from, &st, AT_SYMLINK_NOFOLLOW) == -1 ||
	    mkdirat(tofd, to, 0700) == -1)
		return -1;
	if ((sfd = openat(fromfd, from, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1 || (dfd = openat(tofd, to, O_RDONLY |
	    O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) == -1 ||
	    fs_list(&a, sfd, "", &list) == -1)
		goto out;
	for (i = 0; i < list.len; i++)
		if (copy_entry(sfd, list.ents[i].name, dfd,
		    list.ents[i].name) == -1)
			goto out;
	rc = fchmod(dfd, st.st_mode & 07777);
out:
	if (sfd != -1)
		close(sfd);
	if (dfd != -1)
		close(dfd);
	arena_free(&a);
	return rc;
}

/* Removes directory tree path below dfd, never following a link. */
static int
remove_tree(int dfd, const char *path)
{
	struct arena	 a = { NULL };
	struct dirlist	 list;
	size_t		 i;
	int		 fd, rc = -1;

	if (unlinkat(dfd, path, 0) == 0)
		return 0;
	if (errno != EISDIR && errno != EPERM)
		return -1;
	if ((fd = openat(dfd, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1)
		return -1;
	if (fs_list(&a, fd, "", &list) == 0) {
		for (i = 0; i < list.len; i++)
			if (remove_tree(fd, list.ents[i].name) == -1)
				break;
		if (i == list.len)
			rc = unlinkat(dfd, path, AT_REMOVEDIR);
	}
	close(fd);
	arena_free(&a);
	return rc;
}

/*
 * Moves a directory tree across file systems: a full copy first, and
 * the original removed only once the copy is complete; a failed copy
 * is removed again, leaving the original as it was.
 */
static int
move_tree(int fromfd, const char *from, int tofd, const char *to)
{
	int	saved;

	if (copy_tree(fromfd, from, tofd, to) == -1) {
		saved = errno;
		(void)remove_tree(tofd, to);
		errno = saved;
		return -1;
	}
	return remove_tree(fromfd, from);
}

/*
 * Moves file or symlink from (relative to fromfd) to to (relative to
 * tofd).  rename(2) when they share a file system; otherwise, as mv(1)
 * does for EXDEV, copy to a temporary name beside to, rename that into
 * place, and only then remove the original, so a failure leaves both
 * sides intact; directories are copied whole first (move_tree).  An
 * existing to is replaced, as rename(2) does (but not a directory).
 */
int
fs_move_at(int fromfd, const char *from, int tofd, const char *to)
{
	struct stat	st;
	char		tmp[PATH_MAX];
	int		n, saved, rc;

	if (renameat(fromfd, at(from), tofd, at(to)) == 0)
		return 0;
	if (errno != EXDEV || fstatat(fromfd, from, &st,
	    AT_SYMLINK_NOFOLLOW) == -1)
		return -1;
	if (S_ISDIR(st.st_mode))
		return move_tree(fromfd, from, tofd, to);
	n = snprintf(tmp, sizeof(tmp), "%s.cstow-%ld", to, (long)getpid());
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	rc = S_ISLNK(st.st_mode) ? copy_symlink(fromfd, from, tofd, tmp) :
	    copy_file(fromfd, from, tofd, tmp);
	if (rc == -1)
		return -1;
	if (renameat(tofd, tmp, tofd, to) == -1) {
		saved = errno;
		unlinkat(tofd, tmp, 0);
		errno = saved;
		return -1;
	}
	return unlinkat(fromfd, from, 0);
}

int
fs_move(int dfd, const char *from, const char *to)
{
	return fs_move_at(dfd, from, dfd, to);
}

/* rename(2) that fails with EEXIST rather than replace to. */
int
fs_rename_noreplace(int fromfd, const char *from, int tofd, const char *to)
{
	return renameat2(fromfd, at(from), tofd, at(to), RENAME_NOREPLACE);
}

/*
 * mkdir -p: creates path and its missing parents below dfd.  Those it
 * creates are given to uid:gid unless uid is (uid_t)-1.
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

	if ((fd = openat(dfd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
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
fs_same_content(int dfd, const char *a, const char *b)
{
	struct stat	sa, sb;
	char		ba[32768], bb[32768];
	ssize_t		na, nb;
	int		fa, fb = -1, same = -1, saved;

	if ((fa = openat(dfd, a, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return -1;
	if ((fb = openat(dfd, b, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1 ||
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
 * Reads a whole file into a NUL-terminated malloc'd buffer; NULL with
 * errno set on failure.
 */
char *
fs_read_file(int dfd, const char *path, size_t *lenp)
{
	char	*buf = NULL, *grown;
	size_t	 len = 0, cap = 0;
	ssize_t	 n;
	int	 fd, saved;

	if ((fd = openat(dfd, path, O_RDONLY | O_CLOEXEC)) == -1)
		return NULL;
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
	close(fd);
	buf[len] = '\0';
	if (lenp != NULL)
		*lenp = len;
	return buf;
fail:
	saved = errno;
	close(fd);
	free(buf);
	errno = saved;
	return NULL;
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
