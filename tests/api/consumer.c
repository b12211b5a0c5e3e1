/*
 * consumer.c: an out-of-tree program that uses libstow through
 * <stow.h> alone, built against an installed copy of the library.
 *
 * Usage: consumer STOWDIR TARGET PKG...
 * Plans stowing each PKG, prints every conflict ("conflict: MESSAGE")
 * and every operation, applies the plan when it is conflict-free and
 * prints "applied N ops".  Exits 0 on success, 1 on conflicts, 2 on
 * any other error.
 */
#include <stdio.h>

#include <stow.h>

static const char *
kind_name(enum stow_op_kind k)
{
	switch (k) {
	case STOW_OP_MKDIR:
		return "MKDIR";
	case STOW_OP_RMDIR:
		return "RMDIR";
	case STOW_OP_LINK:
		return "LINK";
	case STOW_OP_UNLINK:
		return "UNLINK";
	case STOW_OP_MOVE:
		return "MOVE";
	case STOW_OP_BACKUP:
		return "BACKUP";
	}
	return "?";
}

static int
print_op(const struct stow_op *op, void *payload)
{
	(void)payload;
	if (op->link != NULL)
		printf("op: %s %s => %s\n", kind_name(op->kind), op->path,
		    op->link);
	else if (op->dest != NULL)
		printf("op: %s %s -> %s\n", kind_name(op->kind), op->path,
		    op->dest);
	else
		printf("op: %s %s\n", kind_name(op->kind), op->path);
	return 0;
}

static int
print_conflict(const struct stow_conflict *c, void *payload)
{
	(void)payload;
	printf("conflict: %s\n", c->message);
	return 0;
}

static int
count_applied(const struct stow_op *op, void *payload)
{
	(void)op;
	(*(size_t *)payload)++;
	return 0;
}

int
main(int argc, char *argv[])
{
	struct stow_opts	 opts = STOW_OPTS_INIT;
	struct stow_ctx		*ctx;
	struct stow_plan	*plan = NULL;
	size_t			 applied = 0;
	int			 i, rc, status = 2;

	if (argc < 4) {
		fprintf(stderr, "usage: consumer stowdir target pkg ...\n");
		return 2;
	}
	if (stow_version_number() != STOW_VERSION_NUMBER)
		fprintf(stderr, "note: header %s, library %s\n",
		    STOW_VERSION_STRING, stow_version_string());
	if ((ctx = stow_ctx_new()) == NULL) {
		fprintf(stderr, "consumer: out of memory\n");
		return 2;
	}
	opts.stow_dir = argv[1];
	opts.target_dir = argv[2];
	if ((rc = stow_ctx_configure(ctx, &opts)) != STOW_OK ||
	    (rc = stow_plan_new(&plan, ctx)) != STOW_OK)
		goto fail;
	for (i = 3; i < argc; i++)
		if ((rc = stow_plan_stow(plan, argv[i])) != STOW_OK)
			goto fail;
	stow_plan_foreach_conflict(plan, print_conflict, NULL);
	stow_plan_foreach_op(plan, print_op, NULL);
	if (stow_plan_conflict_count(plan) > 0) {
		/* apply must refuse and change nothing. */
		rc = stow_plan_apply(plan, NULL, NULL);
		if (rc != STOW_ECONFLICT) {
			fprintf(stderr, "consumer: apply with conflicts "
			    "returned %d\n", rc);
			status = 2;
		} else
			status = 1;
		goto out;
	}
	if ((rc = stow_plan_apply(plan, count_applied, &applied)) != STOW_OK)
		goto fail;
	if (applied != stow_plan_op_count(plan)) {
		fprintf(stderr, "consumer: applied %zu of %zu ops\n", applied,
		    stow_plan_op_count(plan));
		goto out;
	}
	printf("applied %zu ops\n", applied);
	status = 0;
	goto out;
fail:
	fprintf(stderr, "consumer: %s: %s\n", stow_strerror(rc),
	    stow_ctx_errmsg(ctx));
out:
	stow_plan_free(plan);
	stow_ctx_free(ctx);
	return status;
}
