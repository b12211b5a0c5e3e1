/*
 * error.c: return-code texts, the error recorded on a context, and the
 * log callback.  Messages are one line: "syscall: path: strerror", or
 * the rule that was broken, naming the input at fault.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "extern.h"

STOW_API const char *
stow_strerror(int code)
{
	switch (code) {
	case STOW_OK:
		return "success";
	case STOW_ERROR:
		return "error";
	case STOW_ENOMEM:
		return "out of memory";
	case STOW_EINVAL:
		return "invalid argument";
	case STOW_ENOTFOUND:
		return "not found";
	case STOW_EOS:
		return "system call failed";
	case STOW_ECONFLICT:
		return "conflicts prevent the operation";
	case STOW_ECANCELLED:
		return "cancelled";
	case STOW_EMISUSE:
		return "library misuse";
	case STOW_EPARTIAL:
		return "failed and could not undo everything";
	case STOW_EBUSY:
		return "in use by a run still going";
	case STOW_ECHANGED:
		return "changed during the run";
	default:
		return "unknown error";
	}
}

/* Records a formatted message on ctx and returns code. */
int
err_set(struct stow_ctx *ctx, int code, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(ctx->errmsg, sizeof(ctx->errmsg), fmt, ap);
	va_end(ap);
	ctx->saved_errno = 0;
	return code;
}

/* The most of a path a message shows: what failed and why, and what
 * a rollback adds, must fit in errmsg too. */
#define PATH_SHOWN	600

/* path, or, when longer than PATH_SHOWN, its start and its end around
 * "...", in buf (PATH_SHOWN + 1 bytes). */
static const char *
shown_path(const char *path, char *buf)
{
	size_t	n = strlen(path), head = PATH_SHOWN / 3;
	size_t	tail = PATH_SHOWN - head - 3;

	if (n <= PATH_SHOWN)
		return path;
	memcpy(buf, path, head);
	memcpy(buf + head, "...", 3);
	memcpy(buf + head + 3, path + n - tail, tail + 1);
	return buf;
}

/* Records "syscall: path: strerror(errno)", keeps errno, and returns
 * STOW_EOS (STOW_ENOMEM for ENOMEM). */
int
err_os(struct stow_ctx *ctx, const char *syscall, const char *path)
{
	char	buf[PATH_SHOWN + 1];
	int	saved = errno;

	/* (A path that could not be made for want of memory: the error
	 * is still told.) */
	snprintf(ctx->errmsg, sizeof(ctx->errmsg), "%s: %s: %s", syscall,
	    path != NULL ? shown_path(path, buf) : "(out of memory)",
	    strerror(saved));
	ctx->saved_errno = saved;
	if (saved == ENOMEM)
		return STOW_ENOMEM;
	return STOW_EOS;
}

int
err_nomem(struct stow_ctx *ctx)
{
	strlcpy(ctx->errmsg, "out of memory", sizeof(ctx->errmsg));
	ctx->saved_errno = ENOMEM;
	return STOW_ENOMEM;
}

void
err_clear(struct stow_ctx *ctx)
{
	ctx->errmsg[0] = '\0';
	ctx->saved_errno = 0;
}

/* Formats a message for the log callback (log_msg() checks first that
 * its level is wanted). */
void
log_emit(const struct stow_ctx *ctx, int level, const char *fmt, ...)
{
	va_list	ap;
	char	buf[4096];

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	ctx->log_cb(level, buf, ctx->log_payload);
}

STOW_API const char *
stow_ctx_errmsg(const struct stow_ctx *ctx)
{
	if (ctx == NULL || ctx->magic != CTX_MAGIC)
		return "invalid context";
	return ctx->errmsg;
}

STOW_API int
stow_ctx_errno(const struct stow_ctx *ctx)
{
	if (ctx == NULL || ctx->magic != CTX_MAGIC)
		return 0;
	return ctx->saved_errno;
}
