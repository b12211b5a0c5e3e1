/*
 * chown_driver.c: libstow in a root process that prepares users' home
 * directories (STOW_F_CHOWN), for tests/root.sh.
 *
 * Usage: chown_driver STOWDIR VAULT PACKAGE TARGET...
 *
 * Stows PACKAGE of STOWDIR into each TARGET in turn, each with a
 * context and a plan of its own, with STOW_F_CHOWN, and files in the
 * way backed up into the run directory VAULT (which all of them share),
 * and prints "TARGET: RC MESSAGE" for each apply (RC 0: "ok").  Exits 0
 * when it ran.
 */
#include <stdio.h>

#include "stow.h"

static void
stow_into(const char *stow_dir, const char *vault, const char *package,
    const char *target)
{
	struct stow_opts	 opts = STOW_OPTS_INIT;
	struct stow_ctx		*ctx;
	struct stow_plan	*plan = NULL;
	int			 rc;

	if ((ctx = stow_ctx_new()) == NULL) {
		printf("%s: out of memory\n", target);
		return;
	}
	opts.stow_dir = stow_dir;
	opts.target_dir = target;
	opts.backup_dir = vault;
	opts.flags = STOW_F_BACKUP | STOW_F_CHOWN;
	if ((rc = stow_ctx_configure(ctx, &opts)) == 0 &&
	    (rc = stow_plan_new(&plan, ctx)) == 0 &&
	    (rc = stow_plan_stow(plan, package)) == 0)
		rc = stow_plan_apply(plan, NULL, NULL);
	printf("%s: %d %s\n", target, rc, rc == 0 ? "ok" :
	    stow_ctx_errmsg(ctx));
	stow_plan_free(plan);
	stow_ctx_free(ctx);
}

int
main(int argc, char **argv)
{
	int	i;

	if (argc < 5) {
		fprintf(stderr, "usage: chown_driver STOWDIR VAULT PACKAGE "
		    "TARGET...\n");
		return 2;
	}
	for (i = 4; i < argc; i++)
		stow_into(argv[1], argv[2], argv[3], argv[i]);
	return 0;
}
