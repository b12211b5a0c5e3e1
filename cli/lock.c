/*
 * lock.c: the locks that keep two changing runs out of one target.
 *
 * A run locks a directory with flock(2) on a file in it, LOCK_FILE,
 * made 0600 by the run, which only a user able to change the directory
 * can make or open: nobody else can hold it and keep a run waiting.
 * The file goes when the lock is released.  A run that takes a lock
 * checks, once it holds it, that the name still leads to the file it
 * locked; the holder removes the name while it still holds the lock,
 * so a waiter that wakes up to a file already removed tries again with
 * the next one.
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bootstrap.h"
#include "lock.h"
#include "display.h"

volatile sig_atomic_t	cli_interrupted;

static void
on_signal(int sig)
{
	cli_interrupted = sig;
}

/*
 * SIGINT and SIGTERM set cli_interrupted: a run stops between its
 * operations (undoing them) and a wait for a lock ends at once.  No
 * SA_RESTART, so that a blocking flock(2) returns EINTR.  (As PID 1 in a
 * container a signal with no handler would be ignored.)
 */
void
cli_catch_signals(void)
{
	struct sigaction	sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

/*
 * Opens (making it) the lock file at path.  One another user made (in a
 * directory others may write, or left by their run) is refused: nobody
 * but this user holds the locks of this user's runs.
 */
static int
open_lock_file(struct lockset *locks, const char *prog, const char *path,
    int *fd)
{
	struct stat	st;
	int		e;

	if ((*fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
	    0600)) == -1) {
		e = errno;
		if (e == EACCES && lstat(path, &st) == 0)
			goto foreign;
		if (e == EACCES || e == EROFS || e == EPERM) {
			locks->error = e;
			return LOCK_READONLY;
		}
		display_printf(stderr, "%s: open: %s: %s\n", prog, path,
		    strerror(e));
		return LOCK_FAILED;
	}
	if (fstat(*fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		display_printf(stderr, "%s: %s: not a lock file\n", prog, path);
		close(*fd);
		return LOCK_FAILED;
	}
	if (st.st_uid == geteuid())
		return LOCK_OK;
	close(*fd);
foreign:
	display_printf(stderr, "%s: %s belongs to another user (uid %lu), whose run "
	    "is going or was killed: remove it once no run is going\n", prog,
	    path, (unsigned long)st.st_uid);
	return LOCK_FAILED;
}

/* Does path still name the file open as fd? */
static int
still_named(int fd, const char *path)
{
	struct stat	held, named;

	return fstat(fd, &held) == 0 && lstat(path, &named) == 0 &&
	    held.st_dev == named.st_dev && held.st_ino == named.st_ino;
}

/* Waits for the lock on fd; LOCK_FAILED (said why) when interrupted. */
static int
wait_lock(const char *prog, const char *dir, int fd, int quiet)
{
	if (!quiet)
		display_printf(stderr, "%s: waiting for another run on %s\n", prog,
		    dir);
	while (flock(fd, LOCK_EX) == -1) {
		if (errno != EINTR || cli_interrupted) {
			display_printf(stderr, "%s: %s while waiting for the lock on "
			    "%s; nothing was changed\n", prog,
			    cli_interrupted ? "interrupted" : strerror(errno),
			    dir);
			return LOCK_FAILED;
		}
	}
	return LOCK_OK;
}

/*
 * Locks directory dir (canonical) for this run: LOCK_OK, LOCK_READONLY
 * (we cannot write there, so we make no lock either) or LOCK_FAILED.
 * Waits for another run to finish unless no_wait; SIGINT and SIGTERM end
 * the wait.
 */
int
lock_take(struct lockset *locks, const char *prog, const char *dir,
    int no_wait, int quiet)
{
	char	*path;
	int	 fd, rc, tries;

	if (asprintf(&path, "%s/%s", strcmp(dir, "/") == 0 ? "" : dir,
	    LOCK_FILE) == -1) {
		fprintf(stderr, "%s: out of memory\n", prog);
		return LOCK_FAILED;
	}
	for (tries = 0; tries < 100; tries++) {
		if ((rc = open_lock_file(locks, prog, path, &fd)) != LOCK_OK)
			break;
		if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
			if (errno != EWOULDBLOCK || no_wait) {
				display_printf(stderr, "%s: another run holds the "
				    "lock on %s%s\n", prog, dir, no_wait ?
				    "; not waiting (--no-wait)" : "");
				rc = LOCK_FAILED;
			} else if ((rc = wait_lock(prog, dir, fd, quiet)) ==
			    LOCK_OK)
				locks->waited++;
		}
		if (rc == LOCK_OK && still_named(fd, path)) {
			locks->fd = xrealloc(locks->fd, locks->n + 1,
			    sizeof(*locks->fd));
			locks->dir = xrealloc(locks->dir, locks->n + 1,
			    sizeof(*locks->dir));
			locks->fd[locks->n] = fd;
			locks->dir[locks->n++] = xstrdup(dir);
			break;
		}
		close(fd);
		if (rc != LOCK_OK)
			break;
		/* Its holder removed it as we waited: the next one. */
		rc = LOCK_FAILED;
	}
	if (rc == LOCK_FAILED && tries == 100)
		display_printf(stderr, "%s: %s: removed each time it was locked\n",
		    prog, path);
	free(path);
	return rc;
}

/* Is dir one of those locks holds? */
int
lock_holds(const struct lockset *locks, const char *dir)
{
	size_t	i;

	for (i = 0; i < locks->n; i++)
		if (strcmp(locks->dir[i], dir) == 0)
			return 1;
	return 0;
}

/* Releases the locks, newest first, each lock file removed while it is
 * still held. */
void
lock_release(struct lockset *locks)
{
	char	*path;
	size_t	 i;

	for (i = locks->n; i-- > 0; ) {
		if (asprintf(&path, "%s/%s", strcmp(locks->dir[i], "/") == 0 ?
		    "" : locks->dir[i], LOCK_FILE) != -1) {
			(void)unlink(path);
			free(path);
		}
		close(locks->fd[i]);
		free(locks->dir[i]);
	}
	free(locks->fd);
	free(locks->dir);
	locks->fd = NULL;
	locks->dir = NULL;
	locks->n = 0;
}
