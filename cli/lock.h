/*
 * lock.h: the locks that keep two changing runs out of one target.
 */
#ifndef CSTOW_LOCK_H
#define CSTOW_LOCK_H

#include <signal.h>
#include <stddef.h>

/* The name of a directory's lock file. */
#define LOCK_FILE	".cstow-lock"

/* Set to the signal by SIGINT and SIGTERM (no SA_RESTART): a wait for a
 * lock ends, and a run stops between its operations. */
extern volatile sig_atomic_t	cli_interrupted;
void	 cli_catch_signals(void);

/* The locks a run holds, on directories given canonical. */
struct lockset {
	int	*fd;
	char	**dir;		/* what fd[i] locks */
	size_t	 n;
	size_t	 waited;	/* locks it had to wait for */
	int	 error;		/* why the last LOCK_READONLY */
};

/* lock_take() results. */
#define LOCK_OK		0
#define LOCK_READONLY	1	/* the directory cannot be written: no
				   lock needed to read it, and no change
				   can be made there */
#define LOCK_FAILED	2	/* message printed */

int	 lock_take(struct lockset *, const char *, const char *, int, int);
int	 lock_holds(const struct lockset *, const char *);
void	 lock_release(struct lockset *);

#endif /* CSTOW_LOCK_H */
