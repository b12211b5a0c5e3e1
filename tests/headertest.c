/*
 * headertest.c: <stow.h> must compile on its own, as C99 (-pedantic)
 * and as C++, with nothing included before it.
 */
#include <stow.h>

#if !defined(STOW_VERSION_NUMBER) || !defined(STOW_VERSION_STRING)
#error "stow.h does not define its version"
#endif

#if !STOW_VERSION_CHECK(0, 0, 0)
#error "STOW_VERSION_CHECK is broken"
#endif

static int
count_op(const struct stow_op *op, void *payload)
{
	size_t	*n = (size_t *)payload;

	(*n) += op->kind == STOW_OP_LINK ? 1 : 0;
	return 0;
}

static int
first_conflict(const struct stow_conflict *c, void *payload)
{
	const char	**msg = (const char **)payload;

	if (c->action == STOW_ACTION_STOW &&
	    c->kind == STOW_CONFLICT_NOT_OWNED)
		*msg = c->message;
	return 1;
}

static const char *
no_vars(const char *name, void *payload)
{
	(void)name;
	(void)payload;
	return 0;
}

int headertest(const char *, const char *);

int
headertest(const char *dir, const char *package)
{
	struct stow_opts	 opts = STOW_OPTS_INIT;
	struct stow_ctx		*ctx;
	struct stow_plan	*plan = 0;
	stow_op_cb		 ocb = count_op;
	stow_conflict_cb	 ccb = first_conflict;
	stow_lookup_cb		 lcb = no_vars;
	const char		*msg = 0;
	char			*expanded = 0;
	size_t			 n = 0;
	int			 rc;

	if ((ctx = stow_ctx_new()) == 0)
		return STOW_ENOMEM;
	opts.stow_dir = dir;
	opts.flags = STOW_F_NO_FOLDING | STOW_F_DOTFILES;
	if ((rc = stow_ctx_configure(ctx, &opts)) == STOW_OK &&
	    (rc = stow_ctx_add_pattern(ctx, STOW_PAT_IGNORE, "~")) == 0 &&
	    (rc = stow_plan_new(&plan, ctx)) == 0 &&
	    (rc = stow_plan_stow(plan, package)) == 0) {
		(void)stow_plan_foreach_op(plan, ocb, &n);
		(void)stow_plan_foreach_conflict(plan, ccb, &msg);
		if (stow_plan_conflict_count(plan) == 0)
			rc = stow_plan_apply(plan, 0, 0);
	}
	if (rc != STOW_OK && stow_ctx_errno(ctx) != 0)
		(void)stow_strerror(rc);
	/* Compiled, never run: a real caller would free(expanded). */
	(void)stow_expand_path(&expanded, ctx, "~/x", lcb, 0);
	if (stow_replace_path_check(".config/nvim") != 0)
		rc = STOW_EINVAL;
	stow_plan_free(plan);
	stow_ctx_free(ctx);
	return rc != 0 ? rc : stow_version_number() > 0 &&
	    stow_version_string() != 0 && msg == 0 ? (int)n : -1;
}
