/*
 * editor.c: one apply of libstow, stowing package p of WORK/stow into
 * WORK/t, during which an editor saves over a link the run made, and
 * the run is then stopped, so that it rolls back over the user's save.
 *
 * Usage: editor WORK VAULT|- adopt|backup [AT [FILE]]
 *
 * VAULT is the vault directory ("-": none); adopt or backup is how a
 * file in the way is handled.  When the operation at path AT is
 * reported, t/FILE (default f) is replaced by a file of the user's
 * ("USER SAVED", an atomic save: written beside it and renamed over
 * it), and the callback stops the run.  Without AT, nothing is saved
 * and the run goes through.  The journal is WORK/t/.cstow-journal.
 * Prints the apply's result and message, then every descriptor the
 * process still has open besides 0, 1 and 2 ("open: N -> what"), after
 * the plan and the context are freed.  Exits 0 when it ran.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stow.h"

static const char	*work, *at, *file = "f";

/* The editor's atomic save over t/FILE. */
static void
save_over(void)
{
	char	 tmp[4096], path[4096];
	FILE	*f;

	snprintf(tmp, sizeof(tmp), "%s/t/%s.editor-tmp", work, file);
	snprintf(path, sizeof(path), "%s/t/%s", work, file);
	if ((f = fopen(tmp, "w")) == NULL) {
		perror(tmp);
		exit(1);
	}
	fputs("USER SAVED\n", f);
	if (fclose(f) != 0 || rename(tmp, path) != 0) {
		perror(path);
		exit(1);
	}
}

static int
on_op(const struct stow_op *op, void *payload)
{
	(void)payload;
	if (at == NULL || strcmp(op->path, at) != 0)
		return 0;
	save_over();
	return -1;
}

/* Lists the descriptors left open, but for the standard ones and the
 * one listing them. */
static void
list_open(void)
{
	struct dirent	*de;
	char		 link[512], what[4096];
	ssize_t		 n;
	DIR		*d;

	if ((d = opendir("/proc/self/fd")) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || atoi(de->d_name) <= 2 ||
		    atoi(de->d_name) == dirfd(d))
			continue;
		snprintf(link, sizeof(link), "/proc/self/fd/%s", de->d_name);
		if ((n = readlink(link, what, sizeof(what) - 1)) == -1)
			continue;
		what[n] = '\0';
		printf("open: %s -> %s\n", de->d_name, what);
	}
	closedir(d);
}

int
main(int argc, char **argv)
{
	struct stow_opts	 o = STOW_OPTS_INIT;
	struct stow_ctx		*ctx;
	struct stow_plan	*plan;
	char			 sd[4096], td[4096], jd[4096];
	int			 rc;

	if (argc < 4) {
		fprintf(stderr, "usage: editor WORK VAULT|- adopt|backup "
		    "[AT [FILE]]\n");
		return 2;
	}
	work = argv[1];
	at = argc > 4 ? argv[4] : NULL;
	file = argc > 5 ? argv[5] : file;
	snprintf(sd, sizeof(sd), "%s/stow", work);
	snprintf(td, sizeof(td), "%s/t", work);
	snprintf(jd, sizeof(jd), "%s/t/.cstow-journal", work);
	o.stow_dir = sd;
	o.target_dir = td;
	o.journal = jd;
	o.backup_dir = strcmp(argv[2], "-") == 0 ? NULL : argv[2];
	o.flags = strcmp(argv[3], "adopt") == 0 ? STOW_F_ADOPT :
	    STOW_F_BACKUP;
	if ((ctx = stow_ctx_new()) == NULL)
		return 1;
	if ((rc = stow_ctx_configure(ctx, &o)) != 0 ||
	    (rc = stow_plan_new(&plan, ctx)) != 0) {
		printf("setup: %s\n", stow_ctx_errmsg(ctx));
		return 1;
	}
	if ((rc = stow_plan_stow(plan, "p")) != 0) {
		printf("plan: %s\n", stow_ctx_errmsg(ctx));
		return 1;
	}
	rc = stow_plan_apply(plan, on_op, NULL);
	printf("apply: %d: %s\n", rc, stow_ctx_errmsg(ctx));
	stow_plan_free(plan);
	stow_ctx_free(ctx);
	list_open();
	return 0;
}
