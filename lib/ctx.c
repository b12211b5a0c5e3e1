/*
 * ctx.c: the context handle: options, the opened target directory, the
 * pattern lists and the callbacks.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "extern.h"

STOW_API int
stow_version_number(void)
{
	return STOW_VERSION_NUMBER;
}

STOW_API const char *
stow_version_string(void)
{
	return STOW_VERSION_STRING;
}

STOW_API struct stow_ctx *
stow_ctx_new(void)
{
	struct stow_ctx	*ctx;

	if ((ctx = calloc(1, sizeof(*ctx))) == NULL)
		return NULL;
	ctx->magic = CTX_MAGIC;
	ctx->target_fd = -1;
	ctx->vault_fd = -1;
	ctx->journal_fd = -1;
	return ctx;
}

static void	ctx_destroy(struct stow_ctx *);

static void
ctx_unconfigure(struct stow_ctx *ctx)
{
	free(ctx->stow_dir);
	free(ctx->target_dir);
	free(ctx->home_dir);
	free(ctx->stow_abs);
	free(ctx->target_abs);
	free(ctx->stow_path);
	free(ctx->backup_dir);
	free(ctx->journal);
	vault_close(ctx);
	walk_forget(ctx);
	ctx->backup_dir = ctx->journal = NULL;
	ctx->stow_dir = ctx->target_dir = ctx->home_dir = NULL;
	ctx->stow_abs = ctx->target_abs = ctx->stow_path = NULL;
	if (ctx->target_fd != -1)
		close(ctx->target_fd);
	ctx->target_fd = -1;
	if (ctx->global_loaded == 2)
		ignore_rules_free(&ctx->global_rules);
	ctx->global_loaded = 0;
	ctx->configured = 0;
}

/*
 * Frees ctx now, or, while plans made from it live, when the last of
 * them is freed: a plan keeps its context alive.
 */
STOW_API void
stow_ctx_free(struct stow_ctx *ctx)
{
	if (ctx == NULL || ctx->magic != CTX_MAGIC)
		return;
	if (ctx->nplans > 0) {
		ctx->closing = 1;
		return;
	}
	ctx_destroy(ctx);
}

void
ctx_release(struct stow_ctx *ctx)
{
	if (--ctx->nplans == 0 && ctx->closing)
		ctx_destroy(ctx);
}

static void
ctx_destroy(struct stow_ctx *ctx)
{
	ctx_unconfigure(ctx);
	patlist_free(&ctx->ignore);
	patlist_free(&ctx->defer);
	patlist_free(&ctx->override);
	if (ctx->default_loaded)
		ignore_rules_free(&ctx->default_rules);
	ctx->magic = 0;
	free(ctx);
}

/*
 * Opens dir and stores its canonical path in *abs.  what names the
 * option for messages ("stow directory", "target directory").
 */
static int
open_canonical(struct stow_ctx *ctx, const char *dir, const char *what,
    int *fdp, char **abs)
{
	char	buf[PATH_MAX];
	int	fd;

	if ((fd = fs_open_dir(AT_FDCWD, dir)) == -1) {
		if (errno == ENOENT)
			return err_set(ctx, STOW_ENOTFOUND,
			    "%s %s does not exist", what, dir);
		if (errno == ENOTDIR)
			return err_set(ctx, STOW_EINVAL,
			    "%s %s is not a directory", what, dir);
		return err_os(ctx, "open", dir);
	}
	if (fs_dir_path(fd, buf, sizeof(buf)) == -1) {
		close(fd);
		return err_os(ctx, "readlink", dir);
	}
	if ((*abs = strdup(buf)) == NULL) {
		close(fd);
		return err_nomem(ctx);
	}
	*fdp = fd;
	return 0;
}

static int
dup_opt(struct stow_ctx *ctx, char **dst, const char *src)
{
	*dst = NULL;
	if (src != NULL && (*dst = strdup(src)) == NULL)
		return err_nomem(ctx);
	return 0;
}

static int
ctx_set_dirs(struct stow_ctx *ctx, const struct stow_opts *opts)
{
	struct arena	 a = { NULL, NULL };
	char		*rel;
	int		 fd = -1, rc;

	if ((rc = dup_opt(ctx, &ctx->stow_dir, opts->stow_dir != NULL ?
	    opts->stow_dir : ".")) != 0)
		return rc;
	if ((rc = open_canonical(ctx, ctx->stow_dir, "stow directory", &fd,
	    &ctx->stow_abs)) != 0)
		goto out;
	close(fd);
	if (opts->target_dir != NULL)
		rc = dup_opt(ctx, &ctx->target_dir, opts->target_dir);
	else if ((rel = path_join(&a, "", ctx->stow_dir)) == NULL ||
	    (rel = path_textual_parent(&a, *rel == '\0' ? ctx->stow_abs :
	    ctx->stow_dir)) == NULL)
		rc = err_nomem(ctx);
	else
		rc = dup_opt(ctx, &ctx->target_dir, rel);
	if (rc != 0)
		goto out;
	if ((rc = open_canonical(ctx, ctx->target_dir, "target directory",
	    &ctx->target_fd, &ctx->target_abs)) != 0)
		goto out;
	if (strcmp(ctx->stow_abs, ctx->target_abs) == 0) {
		rc = err_set(ctx, STOW_EINVAL, "stow directory %s and target "
		    "%s are the same directory", ctx->stow_dir,
		    ctx->target_dir);
		goto out;
	}
	if ((rel = path_relative(&a, ctx->stow_abs, ctx->target_abs)) == NULL)
		rc = err_nomem(ctx);
	else
		rc = dup_opt(ctx, &ctx->stow_path, rel);
out:
	arena_free(&a);
	return rc;
}

/* The owner of the target, for STOW_F_CHOWN. */
static int
ctx_set_owner(struct stow_ctx *ctx)
{
	struct stat	st;

	if (fs_lstat(ctx->target_fd, "", &st) == -1)
		return err_os(ctx, "stat", ctx->target_dir);
	ctx->owner_uid = st.st_uid;
	ctx->owner_gid = st.st_gid;
	/* Asked once: handing over is needed only to someone else. */
	ctx->chown = (ctx->flags & STOW_F_CHOWN) != 0 &&
	    (st.st_uid != geteuid() || st.st_gid != getegid());
	return 0;
}

STOW_API int
stow_ctx_configure(struct stow_ctx *ctx, const struct stow_opts *opts)
{
	int	rc;

	if (ctx == NULL || ctx->magic != CTX_MAGIC)
		return STOW_EMISUSE;
	if (ctx->nplans > 0)
		return err_set(ctx, STOW_EMISUSE,
		    "cannot reconfigure a context that has live plans");
	if (opts == NULL || opts->version != STOW_OPTS_VERSION)
		return err_set(ctx, STOW_EINVAL,
		    "unsupported stow_opts version");
	if ((opts->flags & STOW_F_BACKUP) != 0 && opts->backup_dir == NULL)
		return err_set(ctx, STOW_EINVAL,
		    "backing up needs a backup directory (backup_dir)");
	err_clear(ctx);
	ctx_unconfigure(ctx);
	ctx->flags = opts->flags;
	if ((rc = dup_opt(ctx, &ctx->home_dir, opts->home_dir)) != 0 ||
	    (rc = dup_opt(ctx, &ctx->backup_dir, opts->backup_dir)) != 0 ||
	    (rc = dup_opt(ctx, &ctx->journal, opts->journal)) != 0 ||
	    (rc = ctx_set_dirs(ctx, opts)) != 0 ||
	    (rc = ctx_set_owner(ctx)) != 0) {
		ctx_unconfigure(ctx);
		return rc;
	}
	ctx->configured = 1;
	return 0;
}

STOW_API void
stow_ctx_set_log(struct stow_ctx *ctx, int max_level, stow_log_cb cb,
    void *payload)
{
	if (ctx == NULL || ctx->magic != CTX_MAGIC)
		return;
	ctx->log_level = max_level;
	ctx->log_cb = cb;
	ctx->log_payload = payload;
}

STOW_API void
stow_ctx_set_cancel(struct stow_ctx *ctx, stow_cancel_cb cb, void *payload)
{
	if (ctx == NULL || ctx->magic != CTX_MAGIC)
		return;
	ctx->cancel_cb = cb;
	ctx->cancel_payload = payload;
}
