/*
 * fsops.c: the only file in libstow that makes file-system calls.  All
 * of them are relative to a directory descriptor; the empty path means
 * the directory itself.  Keeping them here lets them be audited (and,
 * later, journalled or fault-injected) in one place.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "extern.h"

static const char *
at(const char *path)
{
	return *path == '\0' ? "." : path;
}

static int
dent_cmp(const void *a, const void *b)
{
	const struct dent	*x = a, *y = b;

	return strcmp(x->name, y->name);
}

/*
 * Lists directory path (following a final symlink, as opendir(3)
 * does) into *out, sorted bytewise as GNU Stow's "sort readdir" is,
 * without "." and "..".  Returns 0, or -1 with errno set.
 */
int
fs_list(struct arena *a, int dfd, const char *path, struct dirlist *out)
{
	struct dirent	*de;
	struct dent	*ents = NULL, *grown;
	size_t		 len = 0, cap = 0;
	DIR		*dir;
	int		 fd, saved;

	if ((fd = openat(dfd, at(path), O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1)
		return -1;
	if ((dir = fdopendir(fd)) == NULL) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	errno = 0;
	while ((de = readdir(dir)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (len == cap) {
			cap = cap == 0 ? 16 : cap * 2;
			if ((grown = reallocarray(ents, cap,
			    sizeof(*ents))) == NULL)
				goto fail;
			ents = grown;
		}
		ents[len].type = de->d_type;
		if ((ents[len].name = arena_strdup(a, de->d_name)) == NULL) {
			errno = ENOMEM;
			goto fail;
		}
		len++;
	}
	if (errno != 0)
		goto fail;
	closedir(dir);
	qsort(ents, len, sizeof(*ents), dent_cmp);
	out->len = len;
	out->ents = NULL;
	if (len > 0) {
		if ((out->ents = arena_alloc(a, len * sizeof(*ents))) == NULL) {
			free(ents);
			errno = ENOMEM;
			return -1;
		}
		memcpy(out->ents, ents, len * sizeof(*ents));
	}
	free(ents);
	return 0;
fail:
	saved = errno;
	closedir(dir);
	free(ents);
	errno = saved;
	return -1;
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

/* Perl's -e: does path exist, following symlinks? */
int
fs_exists(int dfd, const char *path)
{
	struct stat	st;

	return fstatat(dfd, at(path), &st, 0) == 0;
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

/* Copies regular file from to a new file to, keeping mode and times. */
static int
copy_file(int dfd, const char *from, const char *to)
{
	struct stat	 st;
	struct timespec	 times[2];
	char		 buf[65536];
	ssize_t		 n, w, off;
	int		 in, out = -1, saved;

	if ((in = openat(dfd, from, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return -1;
	if (fstat(in, &st) == -1 || !S_ISREG(st.st_mode)) {
		if (errno == 0 || !S_ISREG(st.st_mode))
			errno = EINVAL;
		goto fail;
	}
	if ((out = openat(dfd, to, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, st.st_mode & 07777)) == -1)
		goto fail;
	while ((n = read(in, buf, sizeof(buf))) > 0) {
		for (off = 0; off < n; off += w)
			if ((w = write(out, buf + off, (size_t)(n - off))) == -1)
				goto fail_unlink;
	}
	if (n == -1 || fchmod(out, st.st_mode & 07777) == -1 ||
	    fsync(out) == -1)
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
	unlinkat(dfd, to, 0);
	errno = saved;
fail:
	saved = errno;
	if (out != -1)
		close(out);
	close(in);
	errno = saved;
	return -1;
}

/*
 * Moves file from to to (both relative to dfd).  rename(2) when they
 * share a file system; otherwise, as mv(1) does for EXDEV, copy to a
 * temporary name beside to, rename that into place, and only then
 * remove the original, so a failure leaves both sides intact.
 */
int
fs_move(int dfd, const char *from, const char *to)
{
	char	tmp[PATH_MAX];
	int	n, saved;

	if (renameat(dfd, from, dfd, to) == 0)
		return 0;
	if (errno != EXDEV)
		return -1;
	n = snprintf(tmp, sizeof(tmp), "%s.cstow-%ld", to, (long)getpid());
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (copy_file(dfd, from, tmp) == -1)
		return -1;
	if (renameat(dfd, tmp, dfd, to) == -1) {
		saved = errno;
		unlinkat(dfd, tmp, 0);
		errno = saved;
		return -1;
	}
	return unlinkat(dfd, from, 0);
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
