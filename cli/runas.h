/*
 * runas.h: root acting for a user (see cstow(1), "Running as root").
 */
#ifndef CSTOW_RUNAS_H
#define CSTOW_RUNAS_H

#include <sys/types.h>

/* A user found to control a path the run reads or writes. */
struct runas {
	int	 write;		/* its paths are written to */
	int	 set;
	uid_t	 uid;
	gid_t	 gid;		/* of what they own, if they have no passwd
				   entry */
	char	*path;		/* the first path found theirs */
};

int	 runas_note(struct runas *, const char *, const char *, int);
int	 runas_become(struct runas *, const char *);
void	 runas_free(struct runas *);

#endif /* CSTOW_RUNAS_H */
