/*
 * vault.c: where a run puts what it displaces (files in the way, a
 * replaced tree, a package's version of an adopted file), with a
 * MANIFEST saying what came from where; and putting it back.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "extern.h"

#define MANIFEST	"MANIFEST"

/* Who gets what the vault creates: (uid_t)-1 for "leave it". */
static uid_t
owner_uid(const struct stow_ctx *ctx)
{
	return ctx->chown ? ctx->owner_uid : (uid_t)-1;
}

/* Opens (creating) the run's vault directory on first use. */
static int
vault_open(struct stow_ctx *ctx)
{
	if (ctx->vault_fd != -1)
		return 0;
	if (fs_mkdir_p(AT_FDCWD, ctx->backup_dir, 0700, owner_uid(ctx),
	    ctx->owner_gid) == -1)
		return err_os(ctx, "mkdir", ctx->backup_dir);
	if ((ctx->vault_fd = fs_open_dir(AT_FDCWD, ctx->backup_dir)) == -1)
		return err_os(ctx, "open", ctx->backup_dir);
	return 0;
}

void
vault_close(struct stow_ctx *ctx)
{
	if (ctx->vault_fd != -1)
		close(ctx->vault_fd);
	ctx->vault_fd = -1;
}

/* Appends s with "\\", tab and newline escaped. */
static int
put_escaped(struct strbuf *b, const char *s)
{
	int	rc = 0;

	for (; *s != '\0' && rc == 0; s++) {
		if (*s == '\\')
			rc = strbuf_put(b, "\\\\", 2);
		else if (*s == '\t')
			rc = strbuf_put(b, "\\t", 2);
		else if (*s == '\n')
			rc = strbuf_put(b, "\\n", 2);
		else
			rc = strbuf_putc(b, *s);
	}
	return rc;
}

/* One MANIFEST line for vault item vpath, which came from orig. */
static int
manifest_item(struct stow_ctx *ctx, struct strbuf *b, const char *vpath,
    const char *orig, int *is_dir)
{
	struct stat	 st;
	char		 hex[65], text[PATH_MAX];
	off_t		 size = 0;
	ssize_t		 n;
	char		 type;

	if (fs_lstat(ctx->vault_fd, vpath, &st) == -1)
		return err_os(ctx, "lstat", vpath);
	strlcpy(hex, "-", sizeof(hex));
	if (S_ISREG(st.st_mode)) {
		type = 'f';
		if (fs_hash_file(ctx->vault_fd, vpath, hex, &size) == -1)
			return err_os(ctx, "read", vpath);
	} else if (S_ISLNK(st.st_mode)) {
		type = 'l';
		if ((n = readlinkat(ctx->vault_fd, vpath, text,
		    sizeof(text) - 1)) == -1)
			return err_os(ctx, "readlink", vpath);
		text[n] = '\0';
		size = n;
		fs_hash_text(text, hex);
	} else
		type = S_ISDIR(st.st_mode) ? 'd' : 'o';
	*is_dir = type == 'd';
	if (strbuf_printf(b, "%c\t%04o\t%lld\t%s\t", type,
	    (unsigned int)(st.st_mode & 07777), (long long)size, hex) == -1 ||
	    put_escaped(b, vpath) == -1 || strbuf_putc(b, '\t') == -1 ||
	    put_escaped(b, orig) == -1 || strbuf_putc(b, '\n') == -1)
		return err_nomem(ctx);
	return 0;
}

/* Lists vault item vpath and, for a real directory (never a link),
 * everything below it. */
static int
manifest_tree(struct stow_ctx *ctx, struct arena *a, struct strbuf *b,
    const char *vpath, const char *orig)
{
	struct dirlist	list;
	size_t		i;
	int		rc, is_dir;

	if ((rc = manifest_item(ctx, b, vpath, orig, &is_dir)) != 0 ||
	    !is_dir)
		return rc;
	if (fs_list(a, ctx->vault_fd, vpath, &list) == -1)
		return err_os(ctx, "opendir", vpath);
	for (i = 0; i < list.len; i++) {
		rc = manifest_tree(ctx, a, b, path_join(a, vpath,
		    list.ents[i].name), path_join(a, orig, list.ents[i].name));
		if (rc != 0)
			return rc;
	}
	return 0;
}

static int
manifest_append(struct stow_ctx *ctx, const char *vpath, const char *orig)
{
	struct arena	a = { NULL };
	struct strbuf	b = { NULL, 0, 0 };
	int		rc;

	if ((rc = manifest_tree(ctx, &a, &b, vpath, orig)) == 0 &&
	    fs_append_sync(ctx->vault_fd, MANIFEST, b.s, b.len) == -1)
		rc = err_os(ctx, "write", MANIFEST);
	strbuf_free(&b);
	arena_free(&a);
	return rc;
}

/*
 * Picks a free name for dest in the vault (dest, dest.1, dest.2 ...)
 * and moves path there: two targets of one run may share a relative
 * path, and nothing in the vault is ever overwritten.
 */
static int
vault_place(struct stow_ctx *ctx, const char *path, const char *dest,
    char *out, size_t outsize)
{
	const char	*leaf;
	int		 i, n, fd;

	/* Reached without following a symlink (walk.c). */
	if ((fd = walk_parent(ctx, path, &leaf)) == -1)
		return err_os(ctx, "open", path);
	for (i = 0; i < 1000; i++) {
		n = i == 0 ? snprintf(out, outsize, "%s", dest) :
		    snprintf(out, outsize, "%s.%d", dest, i);
		if (n < 0 || (size_t)n >= outsize) {
			errno = ENAMETOOLONG;
			return err_os(ctx, "backup", path);
		}
		if (fs_rename_noreplace(fd, leaf, ctx->vault_fd, out) == 0)
			return 0;
		if (errno == EEXIST)
			continue;
		if (errno != EXDEV)
			return err_os(ctx, "rename", path);
		/* Across file systems: copy (files and links only). */
		if (fs_lstat(ctx->vault_fd, out, &(struct stat){ 0 }) == 0)
			continue;
		if (fs_move_at(fd, leaf, ctx->vault_fd, out) == -1)
			return err_os(ctx, "rename", path);
		return 0;
	}
	errno = EEXIST;
	return err_os(ctx, "backup", path);
}

/*
 * After a backup to vpath failed or was undone: the directories made
 * for it in the run's vault directory go again while empty, and so do
 * a MANIFEST left empty and the run directory itself, so that a run
 * whose changes are all undone leaves the vault as it was.
 */
static void
vault_prune(struct stow_ctx *ctx, const char *vpath)
{
	struct arena	 a = { NULL };
	struct stat	 st;
	char		*dir;

	for (dir = path_parent(&a, vpath); dir != NULL && *dir != '\0';
	    dir = path_parent(&a, dir))
		if (fs_rmdir(ctx->vault_fd, dir) == -1)
			break;
	arena_free(&a);
	if (fs_lstat(ctx->vault_fd, MANIFEST, &st) == 0 &&
	    S_ISREG(st.st_mode) && st.st_size == 0)
		(void)fs_unlink(ctx->vault_fd, MANIFEST);
	if (ctx->backup_dir != NULL &&
	    fs_rmdir(AT_FDCWD, ctx->backup_dir) == 0)
		vault_close(ctx);
}

/*
 * Moves path (relative to the target) into the vault at dest and
 * records it in the MANIFEST as having been at was (path itself, unless
 * it was first swapped aside).
 */
int
vault_backup(struct stow_ctx *ctx, const char *path, const char *was,
    const char *dest, char *placed, size_t placedsize, off_t *manifest_size)
{
	struct arena	 a = { NULL };
	struct stat	 st;
	char		*parent, *orig;
	int		 rc;

	if ((rc = vault_open(ctx)) != 0)
		return rc;
	*manifest_size = fs_lstat(ctx->vault_fd, MANIFEST, &st) == 0 ?
	    st.st_size : 0;
	if ((parent = path_parent(&a, dest)) == NULL ||
	    (orig = path_join(&a, ctx->target_abs, was)) == NULL) {
		arena_free(&a);
		return err_nomem(ctx);
	}
	if (*parent != '\0' && fs_mkdir_p(ctx->vault_fd, parent, 0700,
	    owner_uid(ctx), ctx->owner_gid) == -1)
		rc = err_os(ctx, "mkdir", parent);
	if (rc == 0)
		rc = vault_place(ctx, path, dest, placed, placedsize);
	/* A backup is whole or not at all: without its MANIFEST line the
	 * item goes back where it was. */
	if (rc != 0)
		vault_prune(ctx, dest);
	else if ((rc = manifest_append(ctx, placed, orig)) != 0)
		(void)vault_unbackup(ctx, path, placed, *manifest_size);
	if (rc == 0 && owner_uid(ctx) != (uid_t)-1)
		(void)fs_lchown(ctx->vault_fd, MANIFEST, ctx->owner_uid,
		    ctx->owner_gid);
	arena_free(&a);
	return rc;
}

/*
 * Undoes vault_backup(): moves placed back to path, cuts the MANIFEST
 * back to the size it had before, and prunes what is left empty.
 */
int
vault_unbackup(struct stow_ctx *ctx, const char *path, const char *placed,
    off_t manifest_size)
{
	const char	*leaf;
	int		 fd;

	if (placed == NULL) {
		errno = ENOENT;
		return err_os(ctx, "rename", path);
	}
	if ((fd = walk_parent(ctx, path, &leaf)) == -1 ||
	    fs_move_at(ctx->vault_fd, placed, fd, leaf) == -1)
		return err_os(ctx, "rename", path);
	/* A size below 0: unknown (a backup a crash cut short). */
	if (manifest_size >= 0 &&
	    fs_truncate(ctx->vault_fd, MANIFEST, manifest_size) == -1)
		return err_os(ctx, "truncate", MANIFEST);
	vault_prune(ctx, placed);
	return 0;
}

/* One top-level item of a MANIFEST. */
struct vitem {
	char	*vpath;		/* inside the run directory */
	char	*orig;		/* absolute original path */
};

/* Undoes put_escaped() in place. */
static void
unescape(char *s)
{
	char	*d = s;

	for (; *s != '\0'; s++) {
		if (*s == '\\' && s[1] != '\0') {
			s++;
			*d++ = *s == 't' ? '\t' : *s == 'n' ? '\n' : *s;
		} else
			*d++ = *s;
	}
	*d = '\0';
}

/* Splits a MANIFEST line into its six fields; 0 or -1 if malformed. */
static int
split_fields(char *line, char *f[6])
{
	int	i;

	for (i = 0; i < 6; i++) {
		f[i] = line;
		if (i < 5) {
			if ((line = strchr(line, '\t')) == NULL)
				return -1;
			*line++ = '\0';
		}
	}
	return strchr(f[5], '\t') == NULL ? 0 : -1;
}

/* Reads the top-level items of run_dir's MANIFEST (nested entries of a
 * moved tree come back with it). */
static int
read_manifest(struct stow_ctx *ctx, struct arena *a, int vfd,
    const char *run_dir, struct vec *items)
{
	struct vitem	*it, *last = NULL;
	char		*text, *line, *next, *f[6];
	unsigned int	 lineno = 0;
	int		 rc = 0;

	if ((text = fs_read_file(vfd, MANIFEST, NULL)) == NULL)
		return errno == ENOENT ? err_set(ctx, STOW_ENOTFOUND,
		    "%s: no %s to restore", run_dir, MANIFEST) :
		    err_os(ctx, "open", MANIFEST);
	for (line = text; line != NULL && *line != '\0'; line = next) {
		lineno++;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (split_fields(line, f) == -1) {
			rc = err_set(ctx, STOW_EINVAL, "%s/%s:%u: malformed "
			    "line", run_dir, MANIFEST, lineno);
			break;
		}
		unescape(f[4]);
		unescape(f[5]);
		if (last != NULL && path_is_under(f[4], last->vpath, NULL))
			continue;
		if ((it = arena_alloc(a, sizeof(*it))) == NULL ||
		    (it->vpath = arena_strdup(a, f[4])) == NULL ||
		    (it->orig = arena_strdup(a, f[5])) == NULL ||
		    vec_push(items, it) == -1) {
			rc = err_nomem(ctx);
			break;
		}
		last = it;
	}
	free(text);
	return rc;
}

/* Is the link at abs (absolute) one into ctx's stow directory? */
static int
owned_link(struct stow_ctx *ctx, struct arena *a, const char *abs)
{
	const char	*text;
	char		*dest;

	if ((text = fs_readlink(a, AT_FDCWD, abs)) == NULL)
		return 0;
	dest = text[0] == '/' ? path_join(a, "", text) :
	    path_join(a, path_parent(a, abs), text);
	return dest != NULL && path_is_under(dest, ctx->stow_abs, NULL);
}

/* clear_owned() modes. */
#define CLEAR_CHECK	0	/* check silently */
#define CLEAR_DO	1	/* report and remove */
#define CLEAR_REPORT	2	/* report only */

/*
 * Removes what stands at abs if it is cstow's (a link into the stow
 * directory, or a directory of only such); see the modes above.
 */
static int
clear_owned(struct stow_ctx *ctx, struct arena *a, const char *abs,
    int mode, stow_op_cb cb, void *payload)
{
	struct stow_op	 op = { STOW_OP_UNLINK, abs, NULL, NULL, NULL };
	struct dirlist	 list;
	struct stat	 st;
	size_t		 i;
	int		 rc;

	if (fs_lstat(AT_FDCWD, abs, &st) == -1)
		return errno == ENOENT ? 0 : err_os(ctx, "lstat", abs);
	if (S_ISLNK(st.st_mode) && owned_link(ctx, a, abs)) {
		if (mode == CLEAR_CHECK)
			return 0;
		if (cb != NULL && (rc = cb(&op, payload)) != 0)
			return rc;
		if (mode == CLEAR_REPORT)
			return 0;
		return fs_unlink(AT_FDCWD, abs) == -1 ?
		    err_os(ctx, "unlink", abs) : 0;
	}
	if (!S_ISDIR(st.st_mode))
		return err_set(ctx, STOW_ECONFLICT, "cannot restore %s: "
		    "something other than a cstow link is there", abs);
	if (fs_list(a, AT_FDCWD, abs, &list) == -1)
		return err_os(ctx, "opendir", abs);
	for (i = 0; i < list.len; i++)
		if ((rc = clear_owned(ctx, a, path_join(a, abs,
		    list.ents[i].name), mode, cb, payload)) != 0)
			return rc;
	if (mode == CLEAR_CHECK)
		return 0;
	op.kind = STOW_OP_RMDIR;
	if (cb != NULL && (rc = cb(&op, payload)) != 0)
		return rc;
	if (mode == CLEAR_REPORT)
		return 0;
	return fs_rmdir(AT_FDCWD, abs) == -1 ? err_os(ctx, "rmdir", abs) : 0;
}

static int
restore_item(struct stow_ctx *ctx, struct arena *a, int vfd,
    const struct vitem *it, int check, stow_op_cb cb, void *payload)
{
	struct stow_op	 op = { STOW_OP_MOVE, it->vpath, NULL, it->orig,
			    NULL };
	char		*parent;
	int		 rc;

	if ((rc = clear_owned(ctx, a, it->orig, check ? CLEAR_REPORT :
	    CLEAR_DO, cb, payload)) != 0)
		return rc;
	if (cb != NULL && (rc = cb(&op, payload)) != 0)
		return rc;
	if (check)
		return 0;
	if ((parent = path_parent(a, it->orig)) == NULL)
		return err_nomem(ctx);
	if (fs_mkdir_p(AT_FDCWD, parent, 0777, (uid_t)-1, (gid_t)-1) == -1)
		return err_os(ctx, "mkdir", parent);
	if (fs_move_at(vfd, it->vpath, AT_FDCWD, it->orig) == -1)
		return err_os(ctx, "rename", it->orig);
	return 0;
}

STOW_API int
stow_vault_restore(struct stow_ctx *ctx, const char *run_dir,
    unsigned int flags, stow_op_cb cb, void *payload)
{
	struct arena	 a = { NULL };
	struct vec	 items = { NULL, 0, 0 };
	struct vitem	*it;
	size_t		 i;
	int		 vfd, rc = 0, check = (flags & STOW_RESTORE_CHECK) != 0;

	if (ctx == NULL || ctx->magic != CTX_MAGIC)
		return STOW_EMISUSE;
	if (!ctx->configured || run_dir == NULL)
		return err_set(ctx, STOW_EMISUSE, "restore needs a "
		    "configured context and a run directory");
	if ((vfd = fs_open_dir(AT_FDCWD, run_dir)) == -1)
		return errno == ENOENT ? err_set(ctx, STOW_ENOTFOUND,
		    "%s: no such backup run", run_dir) :
		    err_os(ctx, "open", run_dir);
	if ((rc = read_manifest(ctx, &a, vfd, run_dir, &items)) != 0)
		goto out;
	/* Check everything first: a refused item changes nothing. */
	for (i = 0; i < items.len && rc == 0; i++) {
		it = items.items[i];
		if (!path_is_under(it->orig, ctx->stow_abs, NULL))
			rc = clear_owned(ctx, &a, it->orig, CLEAR_CHECK, NULL,
			    NULL);
	}
	for (i = 0; i < items.len && rc == 0; i++) {
		it = items.items[i];
		/* A package's earlier version (from --adopt) stays in the
		 * vault: putting it back would discard the adopted one. */
		if (!path_is_under(it->orig, ctx->stow_abs, NULL))
			rc = restore_item(ctx, &a, vfd, it, check, cb,
			    payload);
	}
	if (rc == 0 && !check &&
	    renameat(vfd, MANIFEST, vfd, MANIFEST ".restored") == -1)
		rc = err_os(ctx, "rename", MANIFEST);
out:
	close(vfd);
	vec_free(&items);
	arena_free(&a);
	return rc;
}
