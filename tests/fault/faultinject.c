/*
 * faultinject.c: an LD_PRELOAD shim for the fault-injection test.  It
 * counts the system calls that change the file system and makes the
 * k-th one fail (CSTOW_FAULT_AT=k, errno CSTOW_FAULT_ERRNO, default
 * EIO), once.  CSTOW_FAULT_COUNT=FILE writes the count there at exit,
 * to learn how many injection points a run has.  CSTOW_FAULT_KILL_AT=k
 * kills the process (SIGKILL) at the k-th call instead.
 * CSTOW_FAULT_NO_EXCHANGE=1 fails every RENAME_EXCHANGE with EINVAL,
 * as a file system that cannot exchange does.  CSTOW_FAULT_EXDEV=1
 * fails every rename of a directory the process did not make (an
 * exchange too) with EXDEV, as overlayfs does for a directory of a
 * lower layer, so that directories are moved by copying.
 * CSTOW_FAULT_XDEV_ROOT=DIR makes DIR another file system: a rename
 * between a path below it and one outside fails with EXDEV, files too.
 * With either, the calls of a copy (files created, written, synced,
 * their modes and times set) count too.  CSTOW_FAULT_PAUSE=FILE makes
 * the first flock(2) wait until FILE exists, after making FILE.ready,
 * so that another run can go first.
 * CSTOW_FAULT_MALLOC_MIN=N counts the malloc(3) calls of N bytes or
 * more apart: CSTOW_FAULT_MALLOC_AT=k makes the k-th of them fail
 * (ENOMEM), once, and CSTOW_FAULT_MALLOC_COUNT=FILE writes their count
 * there at exit.
 */
#define _GNU_SOURCE
#include <sys/stat.h>
#include <sys/types.h>

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static long	calls;

/* path as an absolute name when it is relative to a descriptor, so
 * the trace reads the same however the caller reached its directory. */
static const char *
full(int fd, const char *path, char *buf, size_t size)
{
	char	proc[64];
	ssize_t	n;

	if (path == NULL || *path == '/' || fd == AT_FDCWD)
		return path;
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	if ((n = readlink(proc, buf, size - 1)) == -1)
		return path;
	buf[n] = '\0';
	if (strcmp(path, ".") != 0)
		snprintf(buf + n, size - (size_t)n, "/%s", path);
	return buf;
}

/* CSTOW_FAULT_TRACE=FILE: one line per mutating call, "NAME PATH...",
 * each path absolute. */
static void
trace(const char *name, int fa, const char *a, int fb, const char *b)
{
	const char	*path = getenv("CSTOW_FAULT_TRACE");
	char		 abuf[8192], bbuf[8192];
	FILE		*f;

	if (path == NULL || (f = fopen(path, "a")) == NULL)
		return;
	a = full(fa, a, abuf, sizeof(abuf));
	b = full(fb, b, bbuf, sizeof(bbuf));
	fprintf(f, "%s %s%s%s\n", name, a, b != NULL ? " " : "",
	    b != NULL ? b : "");
	fclose(f);
}

/* Counts one mutating call; 1 if it must fail. */
static int
inject(void)
{
	const char	*at = getenv("CSTOW_FAULT_AT");
	const char	*e = getenv("CSTOW_FAULT_ERRNO");

	const char	*kill_at = getenv("CSTOW_FAULT_KILL_AT");

	calls++;
	/* CSTOW_FAULT_KILL_AT=k: die at the k-th call, as a crash would. */
	if (kill_at != NULL && atol(kill_at) == calls)
		raise(SIGKILL);
	if (at == NULL || atol(at) != calls)
		return 0;
	errno = e != NULL ? atoi(e) : EIO;
	return 1;
}

#define REAL(name, type)	((type)dlsym(RTLD_NEXT, name))

/* The directories this process made (CSTOW_FAULT_EXDEV=1): an
 * overlay's upper layer holds them whole, so they rename. */
static struct {
	dev_t	dev;
	ino_t	ino;
} made[8192];
static size_t	nmade;

static void
note_made(int fd, const char *path)
{
	struct stat	st;

	if (getenv("CSTOW_FAULT_EXDEV") != NULL && nmade < 8192 &&
	    fstatat(fd, path, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		made[nmade].dev = st.st_dev;
		made[nmade++].ino = st.st_ino;
	}
}

/* CSTOW_FAULT_EXDEV=1 and path (of fd) is a directory this process did
 * not make (one of an overlay's lower layer): a rename of it fails with
 * EXDEV. */
static int
dir_not_renamed(int fd, const char *path)
{
	struct stat	st;
	size_t		i;

	if (getenv("CSTOW_FAULT_EXDEV") == NULL ||
	    fstatat(fd, path, &st, AT_SYMLINK_NOFOLLOW) == -1 ||
	    !S_ISDIR(st.st_mode))
		return 0;
	for (i = 0; i < nmade; i++)
		if (made[i].dev == st.st_dev && made[i].ino == st.st_ino)
			return 0;
	errno = EXDEV;
	return 1;
}

/* Is absolute or cwd-relative path p below dir root? */
static int
below(const char *p, const char *root)
{
	char	cwd[8192], buf[16384];
	size_t	n = strlen(root);

	if (*p != '/' && getcwd(cwd, sizeof(cwd)) != NULL) {
		snprintf(buf, sizeof(buf), "%s/%s", cwd, p);
		p = buf;
	}
	return strncmp(p, root, n) == 0 && (p[n] == '/' || p[n] == '\0');
}

/* CSTOW_FAULT_XDEV_ROOT=DIR and the rename crosses DIR's edge: it fails
 * with EXDEV. */
static int
across(int a, const char *from, int b, const char *to)
{
	const char	*root = getenv("CSTOW_FAULT_XDEV_ROOT");
	char		 abuf[8192], bbuf[8192];

	if (root == NULL || below(full(a, from, abuf, sizeof(abuf)), root) ==
	    below(full(b, to, bbuf, sizeof(bbuf)), root))
		return 0;
	errno = EXDEV;
	return 1;
}

/* Are moves made by copying (CSTOW_FAULT_EXDEV=1 or
 * CSTOW_FAULT_XDEV_ROOT)? */
static int
copying(void)
{
	return getenv("CSTOW_FAULT_EXDEV") != NULL ||
	    getenv("CSTOW_FAULT_XDEV_ROOT") != NULL;
}

/* Copying counts: one more mutating call. */
static int
copy_call(void)
{
	return copying() && inject();
}

int
mkdirat(int fd, const char *path, mode_t mode)
{
	trace("mkdirat", fd, path, AT_FDCWD, NULL);
	if (inject())
		return -1;
	if (REAL("mkdirat", int (*)(int, const char *, mode_t))(fd, path,
	    mode) == -1)
		return -1;
	note_made(fd, path);
	return 0;
}

int
unlinkat(int fd, const char *path, int flags)
{
	trace("unlinkat", fd, path, AT_FDCWD, NULL);
	if (inject())
		return -1;
	return REAL("unlinkat", int (*)(int, const char *, int))(fd, path,
	    flags);
}

int
symlinkat(const char *text, int fd, const char *path)
{
	trace("symlinkat", fd, path, AT_FDCWD, NULL);
	if (inject())
		return -1;
	return REAL("symlinkat", int (*)(const char *, int, const char *))(
	    text, fd, path);
}

int
renameat(int a, const char *from, int b, const char *to)
{
	trace("renameat", a, from, b, to);
	if (inject() || dir_not_renamed(a, from) || across(a, from, b, to))
		return -1;
	return REAL("renameat", int (*)(int, const char *, int,
	    const char *))(a, from, b, to);
}

int
renameat2(int a, const char *from, int b, const char *to, unsigned int fl)
{
	const char	*noex = getenv("CSTOW_FAULT_NO_EXCHANGE");

	trace(fl & RENAME_EXCHANGE ? "exchange" : "renameat2", a, from, b,
	    to);
	if (inject())
		return -1;
	/* CSTOW_FAULT_NO_EXCHANGE=1: a file system without it. */
	if ((fl & RENAME_EXCHANGE) && noex != NULL) {
		errno = EINVAL;
		return -1;
	}
	if (dir_not_renamed(a, from) || ((fl & RENAME_EXCHANGE) &&
	    dir_not_renamed(b, to)) || across(a, from, b, to))
		return -1;
	return REAL("renameat2", int (*)(int, const char *, int, const char *,
	    unsigned int))(a, from, b, to, fl);
}

int
fchownat(int fd, const char *path, uid_t u, gid_t g, int flags)
{
	if (inject())
		return -1;
	return REAL("fchownat", int (*)(int, const char *, uid_t, gid_t,
	    int))(fd, path, u, g, flags);
}

ssize_t
write(int fd, const void *buf, size_t n)
{
	/* Only writes to files count: not the program's own output. */
	if (fd > 2)
		trace("write", fd, "", AT_FDCWD, NULL);
	if (fd > 2 && inject())
		return -1;
	return REAL("write", ssize_t (*)(int, const void *, size_t))(fd, buf,
	    n);
}

/* A journal that cannot be made durable must stop the run too. */
int
fdatasync(int fd)
{
	trace("fdatasync", fd, "", AT_FDCWD, NULL);
	if (inject())
		return -1;
	return REAL("fdatasync", int (*)(int))(fd);
}

int
fsync(int fd)
{
	trace("fsync", fd, "", AT_FDCWD, NULL);
	if (inject())
		return -1;
	return REAL("fsync", int (*)(int))(fd);
}

int
openat(int fd, const char *path, int flags, ...)
{
	va_list	ap;
	mode_t	mode = 0;

	if (flags & O_CREAT) {
		va_start(ap, flags);
		mode = (mode_t)va_arg(ap, int);
		va_end(ap);
		if (copying())
			trace("openat", fd, path, AT_FDCWD, NULL);
		if (copy_call())
			return -1;
	}
	return REAL("openat", int (*)(int, const char *, int, ...))(fd, path,
	    flags, mode);
}

int
syncfs(int fd)
{
	if (copying())
		trace("syncfs", fd, "", AT_FDCWD, NULL);
	if (copy_call())
		return -1;
	return REAL("syncfs", int (*)(int))(fd);
}

int
fchmod(int fd, mode_t mode)
{
	if (copying())
		trace("fchmod", fd, "", AT_FDCWD, NULL);
	if (copy_call())
		return -1;
	return REAL("fchmod", int (*)(int, mode_t))(fd, mode);
}

int
futimens(int fd, const struct timespec t[2])
{
	if (copying())
		trace("futimens", fd, "", AT_FDCWD, NULL);
	if (copy_call())
		return -1;
	return REAL("futimens", int (*)(int, const struct timespec *))(fd, t);
}

extern void	*__libc_malloc(size_t);

static long	mallocs;

void *
malloc(size_t n)
{
	static long	 min = -2, at;
	const char	*e;

	if (min == -2) {
		min = (e = getenv("CSTOW_FAULT_MALLOC_MIN")) != NULL ?
		    atol(e) : -1;
		at = (e = getenv("CSTOW_FAULT_MALLOC_AT")) != NULL ?
		    atol(e) : 0;
	}
	if (min >= 0 && n >= (size_t)min && ++mallocs == at) {
		errno = ENOMEM;
		return NULL;
	}
	return __libc_malloc(n);
}

/* Writes count to the file named by environment variable var, if set. */
static void
report_count(const char *var, long count)
{
	const char	*path = getenv(var);
	FILE		*f;

	if (path != NULL && (f = fopen(path, "w")) != NULL) {
		fprintf(f, "%ld\n", count);
		fclose(f);
	}
}

__attribute__((destructor)) static void
report(void)
{
	report_count("CSTOW_FAULT_COUNT", calls);
	report_count("CSTOW_FAULT_MALLOC_COUNT", mallocs);
}

/* CSTOW_FAULT_PAUSE=FILE: the first lock waits for FILE. */
int
flock(int fd, int op)
{
	static int	 paused;
	const char	*p = getenv("CSTOW_FAULT_PAUSE");
	char		 ready[8192];

	if (p != NULL && !paused) {
		paused = 1;
		snprintf(ready, sizeof(ready), "%s.ready", p);
		close(REAL("openat", int (*)(int, const char *, int, ...))(
		    AT_FDCWD, ready, O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
		while (access(p, F_OK) != 0)
			usleep(10000);
	}
	return REAL("flock", int (*)(int, int))(fd, op);
}
