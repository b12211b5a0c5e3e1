/*
 * faultinject.c: an LD_PRELOAD shim for the fault-injection test.  It
 * counts the system calls that change the file system and makes the
 * k-th one fail (CSTOW_FAULT_AT=k, errno CSTOW_FAULT_ERRNO, default
 * EIO), once.  CSTOW_FAULT_COUNT=FILE writes the count there at exit,
 * to learn how many injection points a run has.  CSTOW_FAULT_KILL_AT=k
 * kills the process (SIGKILL) at the k-th call instead.
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
#include <unistd.h>

static long	calls;

/* CSTOW_FAULT_TRACE=FILE: one line per mutating call, "NAME PATH...". */
static void
trace(const char *name, const char *a, const char *b)
{
	const char	*path = getenv("CSTOW_FAULT_TRACE");
	FILE		*f;

	if (path == NULL || (f = fopen(path, "a")) == NULL)
		return;
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

int
mkdirat(int fd, const char *path, mode_t mode)
{
	trace("mkdirat", path, NULL);
	if (inject())
		return -1;
	return REAL("mkdirat", int (*)(int, const char *, mode_t))(fd, path,
	    mode);
}

int
unlinkat(int fd, const char *path, int flags)
{
	trace("unlinkat", path, NULL);
	if (inject())
		return -1;
	return REAL("unlinkat", int (*)(int, const char *, int))(fd, path,
	    flags);
}

int
symlinkat(const char *text, int fd, const char *path)
{
	trace("symlinkat", path, NULL);
	if (inject())
		return -1;
	return REAL("symlinkat", int (*)(const char *, int, const char *))(
	    text, fd, path);
}

int
renameat(int a, const char *from, int b, const char *to)
{
	trace("renameat", from, to);
	if (inject())
		return -1;
	return REAL("renameat", int (*)(int, const char *, int,
	    const char *))(a, from, b, to);
}

int
renameat2(int a, const char *from, int b, const char *to, unsigned int fl)
{
	trace(fl & RENAME_EXCHANGE ? "exchange" : "renameat2", from, to);
	if (inject())
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
	if (fd > 2 && inject())
		return -1;
	return REAL("write", ssize_t (*)(int, const void *, size_t))(fd, buf,
	    n);
}

__attribute__((destructor)) static void
report(void)
{
	const char	*path = getenv("CSTOW_FAULT_COUNT");
	FILE		*f;

	if (path != NULL && (f = fopen(path, "w")) != NULL) {
		fprintf(f, "%ld\n", calls);
		fclose(f);
	}
}
