/*
 * vault.c: where a run puts what it displaces (files in the way, a
 * replaced tree, a package's version of an adopted file), with a
 * MANIFEST saying what came from where; and putting it back.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
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
	if (ctx->backup_dir == NULL)
		return err_set(ctx, STOW_EINVAL, "no vault configured");
	if (fs_mkdir_p(AT_FDCWD, ctx->backup_dir, 0700, owner_uid(ctx),
	    ctx->owner_gid) == -1)
		return err_os(ctx, "mkdir", ctx->backup_dir);
	if ((ctx->vault_fd = open(ctx->backup_dir, O_RDONLY | O_DIRECTORY |
	    O_NOFOLLOW | O_CLOEXEC)) == -1)
		return err_os(ctx, "open", ctx->backup_dir);
	return 0;
}

void
vault_close(struct stow_ctx *ctx)
{
	if (ctx->vault_fd != -1)
		close(ctx->vault_fd);
	ctx->vault_fd = -1;
	ctx->manifest_dirty = 0;
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

/* Ends a MANIFEST line: its vault path, original and target. */
static int
put_paths(struct strbuf *b, const char *vpath, const char *orig,
    const char *target)
{
	return put_escaped(b, vpath) == -1 || strbuf_putc(b, '\t') == -1 ||
	    put_escaped(b, orig) == -1 || strbuf_putc(b, '\t') == -1 ||
	    put_escaped(b, target) == -1 || strbuf_putc(b, '\n') == -1 ?
	    -1 : 0;
}

/* One MANIFEST line for vault item vpath, which came from orig. */
static int
manifest_item(struct stow_ctx *ctx, struct strbuf *b, int dfd,
    const char *name, const char *vpath, const char *orig, int *is_dir)
{
	struct stat	 st;
	char		 hex[65], text[PATH_MAX];
	off_t		 size = 0;
	ssize_t		 n;
	char		 type;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1)
		return err_os(ctx, "lstat", vpath);
	strlcpy(hex, "-", sizeof(hex));
	if (S_ISREG(st.st_mode)) {
		type = 'f';
		if (fs_hash_file(dfd, name, hex, &size) == -1)
			return err_os(ctx, "read", vpath);
	} else if (S_ISLNK(st.st_mode)) {
		type = 'l';
		if ((n = readlinkat(dfd, name, text, sizeof(text) - 1)) == -1)
			return err_os(ctx, "readlink", vpath);
		text[n] = '\0';
		size = n;
		fs_hash_text(text, hex);
	} else
		type = S_ISDIR(st.st_mode) ? 'd' : 'o';
	*is_dir = type == 'd';
	if (strbuf_printf(b, "%c\t%04o\t%lld\t%s\t", type,
	    (unsigned int)(st.st_mode & 07777), (long long)size, hex) == -1 ||
	    put_paths(b, vpath, orig, ctx->target_abs) == -1)
		return err_nomem(ctx);
	return 0;
}

/* Lists vault item vpath and, for a real directory (never a link),
 * everything below it. */
static int
manifest_tree(struct stow_ctx *ctx, struct arena *a, struct strbuf *b,
    int dfd, const char *name, const char *vpath, const char *orig)
{
	struct dirlist	list;
	char		*sub_v, *sub_o;
	size_t		i;
	int		fd, rc, is_dir;

	if ((rc = manifest_item(ctx, b, dfd, name, vpath, orig,
	    &is_dir)) != 0 || !is_dir)
		return rc;
	if ((fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1 || fs_list_fd(a, fd, &list) == -1) {
		rc = err_os(ctx, "opendir", vpath);
		if (fd != -1)
			close(fd);
		return rc;
	}
	for (i = 0; i < list.len && rc == 0; i++) {
		if ((sub_v = path_join(a, vpath, list.ents[i].name)) == NULL ||
		    (sub_o = path_join(a, orig, list.ents[i].name)) == NULL)
			rc = err_nomem(ctx);
		else
			rc = manifest_tree(ctx, a, b, fd, list.ents[i].name,
			    sub_v, sub_o);
	}
	close(fd);
	return rc;
}

/*
 * The "p" lines of an item from target path was: one per directory
 * above it inside the target, with its mode, so that a restore that has
 * to make one again makes it as it was.
 */
static int
manifest_parents(struct stow_ctx *ctx, struct arena *a, struct strbuf *b,
    const char *was)
{
	struct stat	 st;
	const char	*slash;
	char		*dir, *abs;

	for (slash = strchr(was, '/'); slash != NULL;
	    slash = strchr(slash + 1, '/')) {
		if ((dir = arena_strndup(a, was, (size_t)(slash - was))) ==
		    NULL)
			return err_nomem(ctx);
		if (fs_lstat(ctx->target_fd, dir, &st) == -1 ||
		    !S_ISDIR(st.st_mode))
			continue;
		if ((abs = path_join(a, ctx->target_abs, dir)) == NULL ||
		    strbuf_printf(b, "p\t%04o\t0\t-\t",
		    (unsigned int)(st.st_mode & 07777)) == -1 ||
		    put_paths(b, "-", abs, ctx->target_abs) == -1)
			return err_nomem(ctx);
	}
	return 0;
}

/*
 * Opens the run's MANIFEST (flags: O_RDONLY, or O_WRONLY | O_APPEND |
 * O_CREAT) as a file this run may read and write: a regular file with
 * one link, owned as the run directory is (a file system that maps
 * owners maps both).  The vault is its user's, who could leave there a
 * link to, or a hard link of, a file the run may read and they may not,
 * or a FIFO: none is followed, read, written or waited on.  -1 with
 * errno (ENOENT: none yet; EPERM: something else stands there).  A
 * MANIFEST this call makes is given to the run directory's owner.
 */
/* Gives the file open as fd, which this run made in the vault, to the
 * run directory's owner (when they differ: root making a user's vault). */
static void
give_to_vault_owner(struct stow_ctx *ctx, int fd)
{
	struct stat	st, vst;

	if (fstat(fd, &st) == 0 && fstat(ctx->vault_fd, &vst) == 0 &&
	    (st.st_uid != vst.st_uid || st.st_gid != vst.st_gid))
		(void)fchown(fd, vst.st_uid, vst.st_gid);
}

static int
manifest_open(struct stow_ctx *ctx, int flags)
{
	struct stat	st, vst;
	int		fd, saved;

	if ((flags & O_CREAT) != 0 && (fd = openat(ctx->vault_fd, MANIFEST,
	    flags | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)) != -1) {
		give_to_vault_owner(ctx, fd);
		return fd;
	}
	if ((flags & O_CREAT) != 0 && errno != EEXIST)
		return -1;
	if ((fd = openat(ctx->vault_fd, MANIFEST, (flags & ~O_CREAT) |
	    O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)) == -1)
		return -1;
	if (fstat(fd, &st) == -1 || fstat(ctx->vault_fd, &vst) == -1)
		saved = errno;
	else if (S_ISREG(st.st_mode) && st.st_nlink == 1 &&
	    st.st_uid == vst.st_uid)
		return fd;
	else
		saved = EPERM;
	close(fd);
	errno = saved;
	return -1;
}

/* The whole MANIFEST (manifest_open()), NUL-terminated, malloc'd; NULL
 * with errno. */
static char *
manifest_read(struct stow_ctx *ctx, size_t *lenp)
{
	return fs_read_close(manifest_open(ctx, O_RDONLY), lenp);
}

/* Appends the lines of item vpath, from target path was (NULL: a
 * package file, orig is whole), to the MANIFEST.  Synced with the rest
 * of the apply's (vault_sync()). */
static int
manifest_append(struct stow_ctx *ctx, const char *vpath, const char *was,
    const char *orig)
{
	struct arena	a = { NULL, NULL };
	struct strbuf	b = { NULL, 0, 0 };
	const char	*name;
	int		rc = 0, fd, dfd;
	ssize_t		n;
	size_t		off;

	if (was != NULL)
		rc = manifest_parents(ctx, &a, &b, was);
	/* The item is read as it was moved in: from its directory, opened
	 * without following a symlink its user could plant on the way. */
	name = path_basename(vpath);
	if (rc == 0 && (dfd = fs_open_nofollow(ctx->vault_fd, vpath,
	    name == vpath ? 0 : (size_t)(name - 1 - vpath))) == -1)
		rc = err_os(ctx, "open", vpath);
	else if (rc == 0) {
		rc = manifest_tree(ctx, &a, &b, dfd, name, vpath, orig);
		close(dfd);
	}
	if (rc == 0 && (fd = manifest_open(ctx, O_WRONLY | O_APPEND |
	    O_CREAT)) == -1)
		rc = err_os(ctx, "open", MANIFEST);
	else if (rc == 0) {
		for (off = 0; rc == 0 && off < b.len; off += (size_t)n)
			if ((n = write(fd, b.s + off, b.len - off)) == -1)
				rc = err_os(ctx, "write", MANIFEST);
		if (close(fd) == -1 && rc == 0)
			rc = err_os(ctx, "close", MANIFEST);
	}
	ctx->manifest_dirty = 1;
	strbuf_free(&b);
	arena_free(&a);
	return rc;
}

/*
 * Makes what this apply told the MANIFEST last: one sync for every
 * item, once they are all moved and before the journal, which could
 * undo them, goes.
 */
int
vault_sync(struct stow_ctx *ctx)
{
	int	fd, rc = 0;

	if (!ctx->manifest_dirty || ctx->vault_fd == -1)
		return 0;
	if ((fd = manifest_open(ctx, O_RDONLY)) == -1)
		return errno == ENOENT ? 0 : err_os(ctx, "open", MANIFEST);
	if (fsync(fd) == -1)
		rc = err_os(ctx, "fsync", MANIFEST);
	close(fd);
	if (rc == 0)
		ctx->manifest_dirty = 0;
	return rc;
}

/*
 * Is the first n bytes of name one of the names the run directory keeps
 * for itself (its MANIFEST, and what --restore renames that to)?  Case
 * is ignored: the vault's file system may ignore it.
 */
static int
own_name(const char *name, size_t n)
{
	static const char *const own[] = { MANIFEST, MANIFEST ".restored" };
	size_t	i;

	for (i = 0; i < sizeof(own) / sizeof(own[0]); i++)
		if (strlen(own[i]) == n && strncasecmp(name, own[i], n) == 0)
			return 1;
	return 0;
}

/* What a name of a vault item is in the map of names taken: an item,
 * or a directory holding one. */
static char	dir_mark;

/*
 * Where vault name name clashes: the length of its first leading part
 * (whole components) that cannot be a directory of it, or of the whole
 * name when it is taken itself, or holds an item chosen below it; 0
 * when it is free.  A leading part clashes when it is a name of the run
 * directory's own (at the top), an item this apply chose, or anything
 * already in the vault that this apply did not make: another target's
 * item, or its directory, or a link, is never gone into.  (size_t)-1
 * with errno when the vault cannot be asked.
 */
static size_t
clash_len(struct stow_ctx *ctx, const struct strmap *taken,
    const char *name)
{
	struct stat	 st;
	char		 part[PATH_MAX];
	const char	*v;
	size_t		 n, len = strlen(name);

	if (len >= sizeof(part)) {
		errno = ENAMETOOLONG;
		return (size_t)-1;
	}
	if (own_name(name, strcspn(name, "/")))
		return strcspn(name, "/");
	for (n = strcspn(name, "/"); n < len; n += 1 + strcspn(name + n + 1,
	    "/")) {
		memcpy(part, name, n);
		part[n] = '\0';
		if ((v = strmap_get(taken, part)) == &dir_mark)
			continue;
		if (v != NULL || fs_lstat(ctx->vault_fd, part, &st) == 0)
			return n;
		/* (Missing: so is all below it.) */
		return errno == ENOENT ? 0 : (size_t)-1;
	}
	if (strmap_get(taken, name) != NULL ||
	    fs_lstat(ctx->vault_fd, name, &st) == 0)
		return len;
	return errno == ENOENT ? 0 : (size_t)-1;
}

/* Takes name, and marks each directory above it as holding an item. */
static int
take_name(struct strmap *taken, struct arena *a, const char *name)
{
	char	*part;
	void	**ref;
	size_t	 n, len = strlen(name);

	for (n = strcspn(name, "/"); n < len; n += 1 + strcspn(name + n + 1,
	    "/")) {
		if ((part = arena_strndup(a, name, n)) == NULL ||
		    (ref = strmap_ref(taken, part)) == NULL)
			return -1;
		if (*ref == NULL)
			*ref = &dir_mark;
	}
	return strmap_put(taken, name, (void *)(uintptr_t)name);
}

/*
 * Picks the vault name of a backup planned to dest, before anything is
 * moved.  Nothing in the vault is ever overwritten, and no item takes
 * the place of a directory another needs, nor goes into another's:
 * where part of the name clashes (clash_len()), a number goes after
 * that part, from 1: a target file called MANIFEST goes to MANIFEST.1,
 * two targets' d/x to d/x and d.1/x, one's file d and the other's d/x
 * to d and d.1/x.
 * taken holds the names this apply has picked so far, and the
 * directories above them.  The name (in a) goes to *out.
 */
int
vault_choose(struct stow_ctx *ctx, struct strmap *taken, struct arena *a,
    const char *dest, const char **out)
{
	const char	*base = dest, *name = dest;
	size_t		 at = 0, end = 0, n;
	int		 i = 0, tries, rc;

	if ((rc = vault_open(ctx)) != 0)
		return rc;
	for (tries = 0; tries < 1000; tries++) {
		if ((n = clash_len(ctx, taken, name)) == (size_t)-1)
			return err_os(ctx, "lstat", name);
		if (n == 0) {
			if (take_name(taken, a, name) == -1)
				return err_nomem(ctx);
			*out = name;
			return 0;
		}
		/* The part numbered last clashes again: the next number;
		 * another part: number that one, from the name as it is. */
		if (i > 0 && n == end)
			i++;
		else {
			base = name;
			at = n;
			i = 1;
		}
		if ((name = arena_printf(a, "%.*s.%d%s", (int)at, base, i,
		    base + at)) == NULL)
			return err_nomem(ctx);
		end = at + (size_t)snprintf(NULL, 0, ".%d", i);
	}
	errno = EEXIST;
	return err_os(ctx, "backup", dest);
}

/*
 * The vault name a backup planned to dest is first offered: dest, with
 * a number after a first component that is one of the run directory's
 * own names (vault_choose() would skip it).  In a; NULL when out of
 * memory.
 */
const char *
vault_first_name(struct arena *a, const char *dest)
{
	size_t	n = strcspn(dest, "/");

	return own_name(dest, n) ? arena_printf(a, "%.*s.1%s", (int)n, dest,
	    dest + n) : dest;
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
	struct arena	 a = { NULL, NULL };
	char		*dir;

	/* (Those never made, a mkdir -p cut short, are passed by.) */
	for (dir = path_parent(&a, vpath); dir != NULL && *dir != '\0';
	    dir = path_parent(&a, dir))
		if (fs_rmdir(ctx->vault_fd, dir) == -1 && errno != ENOENT)
			break;
	arena_free(&a);
	vault_prune_run(ctx);
}

/* The run directory goes if nothing is in it (but an empty MANIFEST). */
void
vault_prune_run(struct stow_ctx *ctx)
{
	struct stat	st;

	if (ctx->vault_fd == -1)
		return;
	if (fs_lstat(ctx->vault_fd, MANIFEST, &st) == 0 &&
	    S_ISREG(st.st_mode) && st.st_size == 0)
		(void)fs_unlink(ctx->vault_fd, MANIFEST);
	if (ctx->backup_dir != NULL &&
	    fs_rmdir(AT_FDCWD, ctx->backup_dir) == 0)
		vault_close(ctx);
}

/*
 * A backup whose MANIFEST line could not be written (the failure rc,
 * its message on ctx) goes back where it was; the message stays the
 * failure's.  If it cannot go back, it stays in the vault, and the
 * message says where.
 */
static int
unbackup_after(struct stow_ctx *ctx, int rc, const char *path,
    const char *placed)
{
	char	msg[sizeof(ctx->errmsg)];
	int	e = ctx->saved_errno;

	strlcpy(msg, ctx->errmsg, sizeof(msg));
	if (vault_unbackup(ctx, path, placed) == 0) {
		strlcpy(ctx->errmsg, msg, sizeof(ctx->errmsg));
		ctx->saved_errno = e;
		return rc;
	}
	return err_set(ctx, STOW_EPARTIAL, "%s; it could not be moved back "
	    "either: it is in the vault at %s/%s", msg, ctx->backup_dir,
	    placed);
}

/*
 * The message of a backup of orig to placed that failed (errno); mr
 * tells more when it was a move across file systems.
 */
static int
backup_failed(struct stow_ctx *ctx, const char *orig, const char *placed,
    const struct move_report *mr)
{
	const char	*why = strerror(errno);

	if (mr->split)
		return err_set(ctx, STOW_EPARTIAL, "backup: %s%s%s: %s; part of "
		    "it was removed and could not be put back: the rest of it "
		    "is in the vault at %s/%s", orig, *mr->where != '\0' ? "/" :
		    "", mr->where, why, ctx->backup_dir, placed);
	if (*mr->where == '\0')
		return err_os(ctx, "backup", orig);
	err_set(ctx, STOW_EOS, "backup: %s/%s: %s%s", orig, mr->where, why,
	    errno == EBUSY ? " (a mount point inside the tree: not moved "
	    "across it)" : " (the tree could not be removed whole once "
	    "copied to another file system: not moved)");
	ctx->saved_errno = errno;
	return STOW_EOS;
}

/*
 * Moves path (relative to the target) to placed in the vault, chosen
 * by vault_choose(), and records it in the MANIFEST as having been at
 * was (path itself, unless it was first swapped aside).  A move across
 * file systems that failed halfway and could not put everything back
 * leaves the copy in the vault with its MANIFEST line, so that a
 * restore finds it: STOW_EPARTIAL, saying where things are.
 */
int
vault_backup(struct stow_ctx *ctx, const char *path, const char *was,
    const char *placed)
{
	struct arena		 a = { NULL, NULL };
	struct move_report	 mr;
	const char		*leaf, *rel;
	char			*parent, *orig;
	int			 fd, vfd, rc;

	if ((rc = vault_open(ctx)) != 0)
		return rc;
	mr.tag = ctx->apply_tag;
	if ((parent = path_parent(&a, placed)) == NULL ||
	    (orig = path_join(&a, ctx->target_abs, was)) == NULL) {
		arena_free(&a);
		return err_nomem(ctx);
	}
	/* A package's file (--adopt) is named by its own path. */
	if (ctx->stow_abs != NULL && path_is_under(orig, ctx->stow_abs, &rel))
		was = NULL;
	/* Both ends reached without following a symlink (walk.c; the
	 * vault is its user's, who could plant one). */
	if ((vfd = fs_mkdir_nofollow(ctx->vault_fd, parent, 0700,
	    owner_uid(ctx), ctx->owner_gid)) == -1)
		rc = err_os(ctx, "mkdir", *parent != '\0' ? parent : ".");
	else if ((fd = walk_parent(ctx, path, &leaf)) == -1)
		rc = err_os(ctx, "backup", was != NULL ? was : path);
	else if (fs_move_at(fd, leaf, vfd, path_basename(placed), 0,
	    &mr) == -1)
		rc = backup_failed(ctx, orig, placed, &mr);
	walk_forget(ctx);
	if (vfd != -1)
		close(vfd);
	/* A backup is whole or not at all: without its MANIFEST line the
	 * item goes back where it was. */
	if (rc == STOW_EPARTIAL)
		(void)manifest_append(ctx, placed, was, orig);
	else if (rc != 0)
		vault_prune(ctx, placed);
	else if ((rc = manifest_append(ctx, placed, was, orig)) != 0)
		rc = unbackup_after(ctx, rc, path, placed);
	arena_free(&a);
	return rc;
}

/* The vault path of MANIFEST line line (its fifth field), or NULL. */
static const char *
line_vpath(const char *line)
{
	int	i;

	for (i = 0; i < 4 && line != NULL; i++)
		if ((line = strchr(line, '\t')) != NULL)
			line++;
	return line;
}

/* Is MANIFEST line line one of item esc (its vault path, escaped) or of
 * something below it? */
static int
line_of(const char *line, const struct strbuf *esc)
{
	const char	*v = line_vpath(line);

	return v != NULL && strncmp(v, esc->s, esc->len) == 0 &&
	    (v[esc->len] == '\t' || v[esc->len] == '/');
}

/*
 * Replaces the MANIFEST with text (len bytes), written under a private
 * name first and renamed over it: a run killed halfway leaves the old
 * MANIFEST or the new one, never a part of one.  The name carries the
 * run's tag, so only this run, or the recovery of it, ever makes it:
 * one left by a rewrite killed before its rename goes.  -1 with errno.
 */
static int
manifest_rewrite(struct stow_ctx *ctx, const char *text, size_t len)
{
	char	tmp[sizeof(ctx->apply_tag) + 32];
	size_t	off;
	ssize_t	n;
	int	fd, saved, rc = 0;

	snprintf(tmp, sizeof(tmp), ".cstow-manifest.%s", ctx->apply_tag);
	if ((fd = openat(ctx->vault_fd, tmp, O_WRONLY | O_CREAT | O_EXCL |
	    O_NOFOLLOW | O_CLOEXEC, 0600)) == -1 && errno == EEXIST &&
	    unlinkat(ctx->vault_fd, tmp, 0) == 0)
		fd = openat(ctx->vault_fd, tmp, O_WRONLY | O_CREAT | O_EXCL |
		    O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd == -1)
		return -1;
	for (off = 0; rc == 0 && off < len; off += (size_t)n)
		if ((n = write(fd, text + off, len - off)) == -1)
			rc = -1;
	if (rc == 0)
		give_to_vault_owner(ctx, fd);
	/* On disk before it replaces the old one: a crash then leaves
	 * one of the two, not an empty file (only undoing comes here). */
	if (rc == 0 && fdatasync(fd) == -1)
		rc = -1;
	if (close(fd) == -1)
		rc = -1;
	if (rc == 0 && renameat(ctx->vault_fd, tmp, ctx->vault_fd,
	    MANIFEST) == -1)
		rc = -1;
	if (rc == -1) {
		saved = errno;
		(void)unlinkat(ctx->vault_fd, tmp, 0);
		errno = saved;
	}
	return rc;
}

/*
 * Removes from the MANIFEST the lines of item placed (its own, those of
 * everything below it, and the "p" lines just before it): recovery,
 * which does not know the MANIFEST's size before the backup, moved the
 * item back.  -1 with errno on failure.
 */
static int
manifest_drop(struct stow_ctx *ctx, const char *placed)
{
	struct strbuf	 keep = { NULL, 0, 0 }, held = { NULL, 0, 0 };
	struct strbuf	 esc = { NULL, 0, 0 };
	char		*text, *line, *next;
	size_t		 len;
	int		 rc;

	if ((text = manifest_read(ctx, &len)) == NULL)
		return errno == ENOENT ? 0 : -1;
	rc = put_escaped(&esc, placed) == -1 || strbuf_putc(&esc, '\0') ==
	    -1 ? -1 : 0;
	esc.len = strlen(esc.s != NULL ? esc.s : "");
	for (line = text; rc == 0 && *line != '\0'; line = next) {
		next = line + strcspn(line, "\n");
		next += *next == '\n';
		if (*line == 'p')
			rc = strbuf_put(&held, line, (size_t)(next - line));
		else if (line_of(line, &esc))
			strbuf_truncate(&held, 0);
		else {
			if (held.len > 0)
				rc = strbuf_put(&keep, held.s, held.len);
			if (rc == 0)
				rc = strbuf_put(&keep, line,
				    (size_t)(next - line));
			strbuf_truncate(&held, 0);
		}
	}
	if (rc == 0 && held.len > 0)
		rc = strbuf_put(&keep, held.s, held.len);
	if (rc == 0)
		rc = manifest_rewrite(ctx, keep.s, keep.len);
	strbuf_free(&keep);
	strbuf_free(&held);
	strbuf_free(&esc);
	free(text);
	return rc;
}

/*
 * Undoes vault_backup(): moves placed back to path (never over what
 * stands there now: that is the user's since, and the item stays, with
 * its MANIFEST line), takes the item's lines out of the MANIFEST (by
 * name: a later item the undoing keeps keeps its lines), and prunes
 * what is left empty.
 */
int
vault_unbackup(struct stow_ctx *ctx, const char *path, const char *placed)
{
	struct move_report	 mr;
	const char		*leaf, *name;
	int			 fd, vfd, rc, saved;

	if (placed == NULL) {
		errno = ENOENT;
		return err_os(ctx, "rename", path);
	}
	memset(&mr, 0, sizeof(mr));
	mr.tag = ctx->apply_tag;
	name = path_basename(placed);
	/* Both ends reached without following a symlink: the vault is its
	 * user's, who could plant one. */
	if ((vfd = fs_open_nofollow(ctx->vault_fd, placed, name == placed ?
	    0 : (size_t)(name - 1 - placed))) == -1)
		return err_os(ctx, "rename", path);
	if ((fd = walk_parent(ctx, path, &leaf)) == -1)
		rc = -1;
	else
		rc = fs_move_at(vfd, name, fd, leaf, 0, &mr);
	saved = errno;
	walk_forget(ctx);
	close(vfd);
	errno = saved;
	if (rc == -1)
		return err_os(ctx, "rename", path);
	/* The item is back: a MANIFEST that still lists it (one that is
	 * no file of the run's) misleads no restore, which finds it in
	 * place.  (No MANIFEST: the backup failed before writing it.) */
	if (manifest_drop(ctx, placed) == -1 && errno != ENOENT)
		log_msg(ctx, 0, "WARNING: %s: %s; it still lists %s, which is "
		    "back at %s", MANIFEST, strerror(errno), placed, path);
	vault_prune(ctx, placed);
	return 0;
}

/*
 * Recovery put item placed back (a half-made move's copy merged into
 * its original): its lines leave the MANIFEST, and what is left empty
 * goes.
 */
int
manifest_forget(struct stow_ctx *ctx, const char *placed)
{
	if (manifest_drop(ctx, placed) == -1 && errno != ENOENT)
		return err_os(ctx, "truncate", MANIFEST);
	vault_prune(ctx, placed);
	return 0;
}

/* Does the MANIFEST list item placed?  1 or 0; -1 with errno. */
static int
manifest_lists(struct stow_ctx *ctx, const char *placed)
{
	struct strbuf	 esc = { NULL, 0, 0 };
	char		*text, *line;
	int		 listed = 0;

	if ((text = manifest_read(ctx, NULL)) == NULL)
		return errno == ENOENT ? 0 : -1;
	if (put_escaped(&esc, placed) == -1 || strbuf_putc(&esc, '\0') ==
	    -1) {
		free(text);
		errno = ENOMEM;
		return -1;
	}
	esc.len--;
	for (line = text; line != NULL && *line != '\0' && !listed;
	    line = (line = strchr(line, '\n')) != NULL ? line + 1 : NULL)
		listed = *line != 'p' && line_of(line, &esc);
	free(text);
	strbuf_free(&esc);
	return listed;
}

/*
 * Recovery found item placed not in the vault (its backup undone, or
 * never made): a MANIFEST that still lists it (the run died while
 * rewriting the MANIFEST without it) has its lines taken out, and the
 * directories made for it go while empty (the run died before it moved
 * the item in).
 */
int
vault_unlist(struct stow_ctx *ctx, const char *placed)
{
	int	rc;

	if ((rc = manifest_lists(ctx, placed)) == -1)
		return err_os(ctx, "read", MANIFEST);
	if (rc == 1)
		return manifest_forget(ctx, placed);
	vault_prune(ctx, placed);
	return 0;
}

/*
 * Recovery keeps item placed in the vault (what the killed run moved
 * there from path, relative to the target, whose place the user has
 * filled since): if the run died before its MANIFEST line was written,
 * it is written now, so that a restore knows of it.
 */
int
vault_keep(struct stow_ctx *ctx, const char *path, const char *placed)
{
	struct arena	 a = { NULL, NULL };
	const char	*orig;
	int		 rc;

	if ((rc = manifest_lists(ctx, placed)) != 0)
		return rc == 1 ? 0 : err_os(ctx, "read", MANIFEST);
	if ((orig = path_join(&a, ctx->target_abs, path)) == NULL)
		rc = err_nomem(ctx);
	/* A package's file (--adopt) has no place in the target. */
	else if ((rc = manifest_append(ctx, placed, strncmp(path, "../",
	    3) == 0 ? NULL : path, orig)) == 0)
		rc = vault_sync(ctx);
	arena_free(&a);
	return rc;
}

/* One item of a MANIFEST: a top-level line, or a "p" line. */
struct vitem {
	char	*vpath;		/* inside the run directory ("-": p) */
	char	*orig;		/* absolute original path */
	char	*rel;		/* orig inside target */
	char	*target;	/* absolute */
	mode_t	 mode;
	char	 type;		/* f l d o p */
	int	 done;		/* already back where it was */
};

/* A MANIFEST read for a restore. */
struct manifest {
	struct vec	 items;		/* struct vitem *, top-level */
	struct vec	 parents;	/* struct vitem *, "p" lines */
	struct vec	 targets;	/* char *, distinct */
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

/* Splits a MANIFEST line into its fields (6, or 7 with the target);
 * how many, or -1 if malformed. */
static int
split_fields(char *line, char *f[7])
{
	int	n = 0;

	for (;;) {
		f[n++] = line;
		if ((line = strchr(line, '\t')) == NULL)
			break;
		*line++ = '\0';
		if (n == 7)
			return -1;
	}
	return n >= 6 ? n : -1;
}

/* Is path, a MANIFEST's original path, inside dir (absolute)?  Its part
 * below dir, confined (relative, no ".."), goes to *rel. */
static int
inside(struct arena *a, const char *path, const char *dir, char **rel)
{
	const char	*r;
	char		*norm;

	if (*path != '/' || (norm = path_join(a, "", path)) == NULL ||
	    strcmp(norm, path) != 0 || !path_is_under(path, dir, &r) ||
	    *r == '\0' || stow_replace_path_check(r) != NULL)
		return 0;
	return (*rel = arena_strdup(a, r)) != NULL;
}

/* Adds target to m's distinct targets. */
static int
add_target(struct arena *a, struct manifest *m, const char *target)
{
	size_t	i;
	char	*t;

	for (i = 0; i < m->targets.len; i++)
		if (strcmp(m->targets.items[i], target) == 0)
			return 0;
	return (t = arena_strdup(a, target)) == NULL ||
	    vec_push(&m->targets, t) == -1 ? -1 : 0;
}

/*
 * Reads one MANIFEST line into *it (NULL: a line inside an item already
 * read, or a package version that stays).  Refused: any line that names
 * a vault path outside the run directory, or an original path outside
 * the target it came from.  A line of six fields (older cstow) came
 * from ctx's target.
 */
static int
read_item(struct stow_ctx *ctx, struct arena *a, char *line,
    const struct vitem *last, struct vitem **out)
{
	struct vitem	*it;
	char		*f[7];
	int		 nf;

	*out = NULL;
	if ((nf = split_fields(line, f)) == -1 || f[0][0] == '\0' ||
	    f[0][1] != '\0' || strchr("fldop", f[0][0]) == NULL)
		return 1;
	unescape(f[4]);
	unescape(f[5]);
	if (nf == 7)
		unescape(f[6]);
	if (path_is_under(f[5], ctx->stow_abs, NULL) && *f[0] != 'p')
		return 0;
	if (last != NULL && *f[0] != 'p' && path_is_under(f[4], last->vpath,
	    NULL))
		return 0;
	if ((it = arena_alloc(a, sizeof(*it))) == NULL)
		return -1;
	memset(it, 0, sizeof(*it));
	it->type = f[0][0];
	it->mode = (mode_t)strtoul(f[1], NULL, 8) & 07777;
	it->target = nf == 7 ? f[6] : ctx->target_abs;
	it->vpath = f[4];
	it->orig = f[5];
	if (*it->target != '/' || !inside(a, it->orig, it->target, &it->rel) ||
	    (it->type == 'p' ? strcmp(it->vpath, "-") != 0 :
	    stow_replace_path_check(it->vpath) != NULL))
		return 1;
	*out = it;
	return 0;
}

/* Reads run_dir's MANIFEST, open as fd, into m. */
static int
read_manifest(struct stow_ctx *ctx, struct arena *a, int fd,
    const char *run_dir, struct manifest *m)
{
	struct vitem	*it, *last = NULL;
	char		*text, *line, *next;
	unsigned int	 lineno = 0;
	int		 rc = 0;

	if ((text = fs_read_fd(fd, NULL)) == NULL)
		return err_os(ctx, "read", MANIFEST);
	for (line = text; rc == 0 && line != NULL && *line != '\0';
	    line = next) {
		lineno++;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if ((line = arena_strdup(a, line)) == NULL ||
		    (rc = read_item(ctx, a, line, last, &it)) == -1) {
			rc = err_nomem(ctx);
			break;
		}
		if (rc != 0) {
			rc = err_set(ctx, STOW_EINVAL, "%s/%s:%u: malformed "
			    "line, or one naming a path outside its vault "
			    "or its target: refused", run_dir, MANIFEST,
			    lineno);
			break;
		}
		if (it == NULL)
			continue;
		if (vec_push(it->type == 'p' ? &m->parents : &m->items,
		    it) == -1 || add_target(a, m, it->target) == -1)
			rc = err_nomem(ctx);
		if (it->type != 'p')
			last = it;
	}
	free(text);
	return rc;
}

/*
 * Opens run_dir and its MANIFEST (*mfd), after checking both are this
 * user's own: a vault or MANIFEST someone else could write is never
 * restored from.
 */
static int
open_run(struct stow_ctx *ctx, const char *run_dir, int *vfd, int *mfd)
{
	struct stat	st;

	*mfd = -1;
	if ((*vfd = open(run_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1)
		return errno == ENOENT ? err_set(ctx, STOW_ENOTFOUND,
		    "%s: no such backup run", run_dir) :
		    err_os(ctx, "open", run_dir);
	if (fstat(*vfd, &st) == -1)
		return err_os(ctx, "fstat", run_dir);
	if (st.st_uid != geteuid() || (st.st_mode & 022) != 0)
		return err_set(ctx, STOW_EINVAL, "%s: a backup run this user "
		    "does not own (uid %lu, mode %04o): refused", run_dir,
		    (unsigned long)st.st_uid, (unsigned int)(st.st_mode &
		    07777));
	if ((*mfd = openat(*vfd, MANIFEST, O_RDONLY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1)
		return errno == ENOENT ? err_set(ctx, STOW_ENOTFOUND,
		    "%s: no %s to restore", run_dir, MANIFEST) :
		    err_os(ctx, "open", MANIFEST);
	if (fstat(*mfd, &st) == -1)
		return err_os(ctx, "fstat", MANIFEST);
	if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & 022) != 0 || st.st_nlink != 1)
		return err_set(ctx, STOW_EINVAL, "%s/%s: not a MANIFEST this "
		    "user wrote: refused", run_dir, MANIFEST);
	return 0;
}

/* Reads the MANIFEST of run_dir into m; *vfd the open run directory. */
static int
load_run(struct stow_ctx *ctx, struct arena *a, const char *run_dir,
    int *vfd, struct manifest *m)
{
	int	mfd, rc;

	memset(m, 0, sizeof(*m));
	if ((rc = open_run(ctx, run_dir, vfd, &mfd)) == 0)
		rc = read_manifest(ctx, a, mfd, run_dir, m);
	if (mfd != -1)
		close(mfd);
	return rc;
}

static void
manifest_free(struct manifest *m)
{
	vec_free(&m->items);
	vec_free(&m->parents);
	vec_free(&m->targets);
}

STOW_API int
stow_vault_foreach_target(struct stow_ctx *ctx, const char *run_dir,
    int (*cb)(const char *target, void *payload), void *payload)
{
	struct arena	 a = { NULL, NULL };
	struct manifest	 m;
	size_t		 i;
	int		 vfd = -1, rc;

	if (ctx == NULL || ctx->magic != CTX_MAGIC)
		return STOW_EMISUSE;
	if (!ctx->configured || run_dir == NULL || cb == NULL)
		return err_set(ctx, STOW_EMISUSE, "listing a run's targets "
		    "needs a configured context, a run directory and a "
		    "callback");
	rc = load_run(ctx, &a, run_dir, &vfd, &m);
	for (i = 0; rc == 0 && i < m.targets.len; i++)
		rc = cb(m.targets.items[i], payload);
	if (vfd != -1)
		close(vfd);
	manifest_free(&m);
	arena_free(&a);
	return rc;
}

/* A restore in progress. */
struct restore {
	struct stow_ctx		*ctx;
	struct arena		*a;
	struct manifest		*m;
	int			 vfd;		/* the run directory */
	int			*tfd;		/* per m->targets */
	int			 check;		/* STOW_RESTORE_CHECK */
	stow_op_cb		 cb;
	void			*payload;
};

/* The open directory of target (one of the MANIFEST's). */
static int
target_fd(const struct restore *r, const char *target)
{
	size_t	i;

	for (i = 0; i < r->m->targets.len; i++)
		if (strcmp(r->m->targets.items[i], target) == 0)
			return r->tfd[i];
	return -1;
}

/* The mode the MANIFEST recorded for directory orig, or -1. */
static int
recorded_mode(const struct manifest *m, const char *orig)
{
	const struct vitem	*p;
	size_t			 i;

	for (i = 0; i < m->parents.len; i++) {
		p = m->parents.items[i];
		if (strcmp(p->orig, orig) == 0)
			return (int)p->mode;
	}
	return -1;
}

/*
 * Opens the directory holding it's original path, from its target one
 * component at a time, following no symlink (O_PATH; -1 with errno,
 * ENOTDIR where a component is a symlink or no directory).  With make
 * set, a missing directory is made, with the mode the MANIFEST
 * recorded for it.
 */
static int
open_parent(struct restore *r, const struct vitem *it, int make)
{
	const char	*p = it->rel, *slash;
	char		*comp, *abs;
	int		 fd, next, mode, saved;

	if ((fd = openat(target_fd(r, it->target), ".", O_PATH |
	    O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	for (; (slash = strchr(p, '/')) != NULL; p = slash + 1) {
		if ((comp = arena_strndup(r->a, p, (size_t)(slash - p))) ==
		    NULL) {
			close(fd);
			errno = ENOMEM;
			return -1;
		}
		next = openat(fd, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
		if (next == -1 && errno == ENOENT && make &&
		    (abs = arena_strndup(r->a, it->orig,
		    strlen(it->target) + 1 + (size_t)(slash - it->rel))) !=
		    NULL && mkdirat(fd, comp, 0777) == 0) {
			if ((mode = recorded_mode(r->m, abs)) != -1)
				(void)fchmodat(fd, comp, (mode_t)mode, 0);
			next = openat(fd, comp, O_PATH | O_DIRECTORY |
			    O_NOFOLLOW | O_CLOEXEC);
		}
		saved = errno;
		close(fd);
		if ((fd = next) == -1) {
			errno = saved == ELOOP ? ENOTDIR : saved;
			return -1;
		}
	}
	return fd;
}

/* Is the link leaf of pfd, at abs, one into ctx's stow directory? */
static int
owned_link(struct restore *r, int pfd, const char *leaf, const char *abs)
{
	const char	*text;
	char		*dest, *parent = NULL;

	if ((text = fs_readlink(r->a, pfd, leaf)) == NULL ||
	    (text[0] != '/' && (parent = path_parent(r->a, abs)) == NULL))
		return 0;
	dest = path_join(r->a, text[0] == '/' ? "" : parent, text);
	return dest != NULL && path_is_under(dest, r->ctx->stow_abs, NULL);
}

/* clear_owned() modes. */
#define CLEAR_CHECK	0	/* check silently */
#define CLEAR_DO	1	/* report and remove */
#define CLEAR_REPORT	2	/* report only */

/*
 * Removes what stands at leaf of pfd (abs, for messages) if it is
 * cstow's (a link into the stow directory, or a directory of only
 * such); see the modes above.  Nothing is followed.
 */
static int
clear_owned(struct restore *r, int pfd, const char *leaf, const char *abs,
    int mode)
{
	struct stow_ctx	*ctx = r->ctx;
	struct stow_op	 op = { STOW_OP_UNLINK, abs, NULL, NULL, NULL };
	struct dirlist	 list;
	struct stat	 st;
	char		*sub;
	size_t		 i;
	int		 fd, rc = 0;

	if (fs_lstat(pfd, leaf, &st) == -1)
		return errno == ENOENT ? 0 : err_os(ctx, "lstat", abs);
	if (S_ISLNK(st.st_mode) && owned_link(r, pfd, leaf, abs)) {
		if (mode == CLEAR_CHECK)
			return 0;
		if (r->cb != NULL && (rc = r->cb(&op, r->payload)) != 0)
			return rc;
		if (mode == CLEAR_REPORT)
			return 0;
		return fs_unlink(pfd, leaf) == -1 ? err_os(ctx, "unlink",
		    abs) : 0;
	}
	if (!S_ISDIR(st.st_mode))
		return err_set(ctx, STOW_ECONFLICT, "cannot restore %s: "
		    "something other than a cstow link is there", abs);
	if ((fd = openat(pfd, leaf, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1)
		return err_os(ctx, "open", abs);
	if (fs_list_fd(r->a, fd, &list) == -1)
		rc = err_os(ctx, "opendir", abs);
	for (i = 0; rc == 0 && i < list.len; i++) {
		if ((sub = path_join(r->a, abs, list.ents[i].name)) == NULL)
			rc = err_nomem(ctx);
		else
			rc = clear_owned(r, fd, list.ents[i].name, sub, mode);
	}
	close(fd);
	if (rc != 0 || mode == CLEAR_CHECK)
		return rc;
	op.kind = STOW_OP_RMDIR;
	if (r->cb != NULL && (rc = r->cb(&op, r->payload)) != 0)
		return rc;
	if (mode == CLEAR_REPORT)
		return 0;
	return fs_rmdir(pfd, leaf) == -1 ? err_os(ctx, "rmdir", abs) : 0;
}

/* Is vault item it still in the run directory?  1, 0, or an error. */
static int
in_vault(struct restore *r, const struct vitem *it)
{
	const char	*slash = strrchr(it->vpath, '/');
	int		 fd, there;

	if (slash == NULL)
		return fs_lstat(r->vfd, it->vpath, &(struct stat){ 0 }) == 0;
	if ((fd = fs_open_nofollow(r->vfd, it->vpath,
	    (size_t)(slash - it->vpath))) == -1)
		return errno == ENOENT ? 0 : err_os(r->ctx, "open",
		    it->vpath);
	there = fs_lstat(fd, slash + 1, &(struct stat){ 0 }) == 0;
	close(fd);
	return there;
}

/*
 * Checks item it before anything is restored: whether it is back
 * already (a restore that stopped halfway is resumed: what is no longer
 * in the vault and is at its place counts as done), and whether what
 * stands at its place may go.
 */
static int
check_item(struct restore *r, struct vitem *it)
{
	const char	*leaf = path_basename(it->rel);
	int		 pfd, rc, there;

	if ((there = in_vault(r, it)) < 0)
		return there;
	if ((pfd = open_parent(r, it, 0)) == -1) {
		if (errno == ENOTDIR)
			return err_set(r->ctx, STOW_ECONFLICT, "cannot restore "
			    "%s: a directory above it is a symbolic link",
			    it->orig);
		if (errno != ENOENT)
			return err_os(r->ctx, "open", it->orig);
		if (!there)
			log_msg(r->ctx, 0, "%s: neither in the vault nor in "
			    "its place: skipped", it->orig);
		it->done = !there;
		return 0;
	}
	if (!there) {
		it->done = 1;
		log_msg(r->ctx, 0, "%s: %s", it->orig, fs_lstat(pfd, leaf,
		    &(struct stat){ 0 }) == 0 ? "already restored" :
		    "neither in the vault nor in its place: skipped");
		close(pfd);
		return 0;
	}
	rc = clear_owned(r, pfd, leaf, it->orig, CLEAR_CHECK);
	close(pfd);
	return rc;
}

/* Puts item it back (or, checking, reports what would be done). */
static int
restore_item(struct restore *r, const struct vitem *it)
{
	struct stow_op	 op = { STOW_OP_MOVE, it->vpath, NULL, it->orig,
			    NULL };
	const char	*leaf = path_basename(it->rel);
	const char	*vslash = strrchr(it->vpath, '/');
	int		 pfd, vfd = r->vfd, rc;

	if ((pfd = open_parent(r, it, !r->check)) == -1) {
		if (r->check && errno == ENOENT)
			return r->cb != NULL ? r->cb(&op, r->payload) : 0;
		return err_os(r->ctx, "mkdir", it->orig);
	}
	if ((rc = clear_owned(r, pfd, leaf, it->orig, r->check ?
	    CLEAR_REPORT : CLEAR_DO)) == 0 && r->cb != NULL)
		rc = r->cb(&op, r->payload);
	if (rc == 0 && !r->check && vslash != NULL &&
	    (vfd = fs_open_nofollow(r->vfd, it->vpath,
	    (size_t)(vslash - it->vpath))) == -1)
		rc = err_os(r->ctx, "open", it->vpath);
	if (rc == 0 && !r->check && fs_move_at(vfd, vslash != NULL ?
	    vslash + 1 : it->vpath, pfd, leaf, 0, NULL) == -1)
		rc = err_os(r->ctx, "rename", it->orig);
	if (vfd != r->vfd && vfd != -1)
		close(vfd);
	close(pfd);
	return rc;
}

/* Opens each target of the MANIFEST. */
static int
open_targets(struct restore *r)
{
	size_t	i, n = r->m->targets.len;

	if ((r->tfd = reallocarray(NULL, n + 1, sizeof(*r->tfd))) == NULL)
		return err_nomem(r->ctx);
	for (i = 0; i < n; i++)
		r->tfd[i] = -1;
	/* A target that is a symlink now is not the one the items came
	 * from. */
	for (i = 0; i < n; i++)
		if ((r->tfd[i] = open(r->m->targets.items[i], O_RDONLY |
		    O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) == -1)
			return errno == ELOOP || errno == ENOTDIR ?
			    err_set(r->ctx, STOW_ECONFLICT, "cannot restore "
			    "into %s: it is a symbolic link now",
			    (const char *)r->m->targets.items[i]) :
			    err_os(r->ctx, "open", r->m->targets.items[i]);
	return 0;
}

static void
close_targets(struct restore *r)
{
	size_t	i;

	for (i = 0; r->tfd != NULL && i < r->m->targets.len; i++)
		if (r->tfd[i] != -1)
			close(r->tfd[i]);
	free(r->tfd);
}

STOW_API int
stow_vault_restore(struct stow_ctx *ctx, const char *run_dir,
    unsigned int flags, stow_op_cb cb, void *payload)
{
	struct arena	 a = { NULL, NULL };
	struct manifest	 m;
	struct restore	 r;
	struct vitem	*it;
	size_t		 i;
	int		 rc;

	if (ctx == NULL || ctx->magic != CTX_MAGIC)
		return STOW_EMISUSE;
	if (!ctx->configured || run_dir == NULL)
		return err_set(ctx, STOW_EMISUSE, "restore needs a "
		    "configured context and a run directory");
	memset(&r, 0, sizeof(r));
	r.ctx = ctx;
	r.a = &a;
	r.m = &m;
	r.check = (flags & STOW_RESTORE_CHECK) != 0;
	r.cb = cb;
	r.payload = payload;
	if ((rc = load_run(ctx, &a, run_dir, &r.vfd, &m)) == 0)
		rc = open_targets(&r);
	/* Check everything first: a refused item changes nothing. */
	for (i = 0; rc == 0 && i < m.items.len; i++)
		rc = check_item(&r, m.items.items[i]);
	for (i = 0; rc == 0 && i < m.items.len; i++) {
		it = m.items.items[i];
		if (!it->done)
			rc = restore_item(&r, it);
	}
	if (rc == 0 && !r.check &&
	    renameat(r.vfd, MANIFEST, r.vfd, MANIFEST ".restored") == -1)
		rc = err_os(ctx, "rename", MANIFEST);
	close_targets(&r);
	if (r.vfd != -1)
		close(r.vfd);
	manifest_free(&m);
	arena_free(&a);
	return rc;
}
