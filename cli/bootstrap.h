/*
 * bootstrap.h: what cstow and cstow-entrypoint share: resolving each
 * package's settings (command line, cstow.conf), planning every package
 * of a run against its own target, reporting conflicts, and applying.
 * Built on <stow.h> alone.
 */
#ifndef CSTOW_BOOTSTRAP_H
#define CSTOW_BOOTSTRAP_H

#include <stddef.h>

#include <stow.h>

#include "lock.h"

/* Exit codes, GNU Stow's where it has them; one table for both programs. */
#define EXIT_OK		0
#define EXIT_CONFLICT	1	/* conflicts, or a usage error */
#define EXIT_USAGE	1
#define EXIT_ERROR	2	/* anything else */
#define EXIT_UNDONE	3	/* applying failed; every change was undone */
#define EXIT_PARTIAL	4	/* applying failed; not all could be undone */

enum policy { POLICY_UNSET = 0, POLICY_FAIL, POLICY_ADOPT, POLICY_BACKUP };

struct strlist {
	char	**v;
	size_t	  n;
};

/* A run's journal, in each target it changes, while it applies. */
#define JOURNAL_FILE	".cstow-journal"

/* Where the vault's runs go, and whether a run may put things there
 * (state.c). */
struct vault_root {
	char		*path;		/* NULL: none (why says) */
	char		*why;		/* why it cannot be used; NULL: it can */
	int		 exists;
	char		*base;		/* made below this, never it */
	size_t		 base_len;	/* of base in path */
	struct strlist	 made;		/* what vault_root_make() made */
};

/* One package of a run, with its settings resolved. */
struct job {
	char		*name;
	int		 unstow;	/* unstow it (-D, -R) */
	int		 stow;		/* stow it (-S, -R) */
	size_t		 stow_seq;	/* its place among the stows, from 1
					   (0: after those, in job order) */
	char		*target;	/* NULL: the stow dir's parent */
	unsigned int	 flags;		/* STOW_F_* */
	struct strlist	 ignore;
	struct strlist	 replace;	/* cstow.conf's: must exist */
	size_t		 group;		/* index of its group in a run */
	int		 changed;	/* the run did something for it */
};

struct run;

/* One group's plan, as a report after planning sees it. */
struct run_plan {
	const char		*target;	/* "": the default target */
	struct stow_plan	*plan;		/* NULL: nothing planned */
};

/*
 * Called by run_plan_and_apply() once the run is over (rc EXIT_OK) or
 * stopped by conflicts (rc EXIT_CONFLICT), with every group's plan:
 * cstow's --format=json.  Not called after other errors.
 */
typedef void (*run_report_cb)(struct run *, const struct run_plan *,
    size_t, int);

/* What is common to every package of a run. */
struct run {
	const char	*prog;		/* for messages */
	const char	*stow_dir;
	const char	*home;		/* for ~/.stow-global-ignore */
	const char	*backup_dir;	/* the vault's runs go below it; NULL:
					   the state directory's backup/ */
	int		 set_aside;	/* set a journal that cannot be undone
					   aside (--set-aside-journal) */
	int		 verbose;
	int		 simulate;
	int		 quiet;		/* no per-operation output */
	int		 no_wait;	/* fail rather than wait for the lock */
	int		 silent;	/* a first plan: no log output */
	struct strlist	 defer;
	struct strlist	 override;
	struct strlist	 replace;	/* --replace: where packages hold it */
	size_t		*replace_hits;
	stow_cancel_cb	 cancel;	/* asked between operations */
	int		 color;		/* colour on stderr (a terminal) */
	run_report_cb	 report;	/* NULL: none */
	struct job	*jobs;
	size_t		 njobs;
	/* Filled by run_plan_and_apply(). */
	char		 stamp[80];	/* names this run: its time and PID */
	struct vault_root vr;		/* where its vault directory goes */
	char		*vault;		/* this run's vault directory; NULL:
					   there can be none */
	int		 no_vault;	/* backing up was asked for, without
					   a vault to do it in */
	struct lockset	 locks;		/* the targets it holds */
	size_t		 linked;
	size_t		 backed_up;
	size_t		 unchanged;	/* packages needing nothing */
	struct strlist	 made;		/* directories it made, in order */
};

/* A conflict copied out of its plan, for one report over many plans. */
struct conflict_copy {
	enum stow_action	 action;
	enum stow_conflict_kind	 kind;
	char			*package;
	char			*path;
	char			*message;
	const char		*target;	/* of its plan */
};

struct conflict_list {
	struct conflict_copy	*v;
	size_t			 n;
	const char		*target;	/* of the plan being copied */
};

void	 conflicts_collect(struct conflict_list *, const struct stow_plan *,
	    const char *);
void	 conflicts_sort(struct conflict_list *);
void	 conflicts_free(struct conflict_list *);

int	 strptr_cmp(const void *, const void *);
void	*xrealloc(void *, size_t, size_t);
char	*xstrdup(const char *);
void	 strlist_add(struct strlist *, const char *);
void	 strlist_free(struct strlist *);
int	 strlist_equal(const struct strlist *, const struct strlist *);
int	 parse_policy(const char *, enum policy *);
const char *env_lookup(const char *, void *);

struct job *run_add_job(struct run *, const char *);
int	 run_apply_conf(struct run *, const struct stow_conf *,
	    enum policy, const char *, const char *, const char *);
int	 run_all_packages(struct run *, const struct stow_conf *, int, int);
int	 run_open(struct run *, const char *, unsigned int,
	    const struct strlist *, const char *, struct stow_ctx **,
	    struct stow_plan **);
int	 run_plan_and_apply(struct run *);
int	 run_as_user(struct run *, const char *);
int	 run_restore(struct run *, struct stow_ctx *, const char *, stow_op_cb,
	    void *);
void	 run_free(struct run *);

#endif /* CSTOW_BOOTSTRAP_H */
