/*
 * check.h: cstow's read-only modes (--check, --badlinks, --aliens,
 * --list) and the JSON output of --format=json.  Built on <stow.h> and
 * bootstrap.h alone.
 */
#ifndef CSTOW_CHECK_H
#define CSTOW_CHECK_H

#include <stdio.h>

#include <stow.h>

#include "bootstrap.h"

enum mode {
	MODE_RUN = 0,		/* stow, unstow, restow */
	MODE_RESTORE,		/* --restore */
	MODE_CHECK,		/* --check */
	MODE_BADLINKS,		/* --badlinks */
	MODE_ALIENS,		/* --aliens */
	MODE_LIST		/* --list */
};

/* check.c */
char	*path_lexical(const char *);
char	*target_default(const char *);
int	 check_packages(struct run *, int, int);
int	 check_target(struct run *, const char *, enum mode, int);

/* json.c */
void	 json_string(FILE *, const char *);
void	 json_conflict(FILE *, enum stow_action, enum stow_conflict_kind,
	    const char *, const char *, const char *, const char *);
void	 json_report(struct run *, const struct run_plan *, size_t, int);

#endif /* CSTOW_CHECK_H */
