/*
 * state.c: where the vault is, and whether a run may put things there.
 *
 * The vault holds what runs displaced, files a user may need back (a
 * .gitconfig with a token in it), so it is made only where nobody else
 * can reach into it, and never inside the stow directory (a dotfiles
 * repository, which a commit would publish): reached from its base (the
 * home directory, XDG_STATE_HOME, or the parent of a backup-dir given)
 * without following a symbolic link, every directory on the way the
 * user's own and writable by nobody else.  It is made, 0700, only when
 * a run has something to put there, and never the base itself: a run
 * that needs no vault needs no writable home.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "state.h"

static void
refuse(struct vault_root *v, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Records why the vault cannot be used (the first reason found). */
static void
refuse(struct vault_root *v, const char *fmt, ...)
{
	va_list	ap;

	if (v->why != NULL)
		return;
	va_start(ap, fmt);
	if (vasprintf(&v->why, fmt, ap) == -1)
		v->why = NULL;
	va_end(ap);
	if (v->why == NULL)
		v->why = xstrdup("out of memory");
}

/* Is path (canonical) dir, or inside it? */
static int
is_under(const char *path, const char *dir)
{
	size_t	n = strlen(dir);

	if (n == 1 && *dir == '/')
		return 1;
	return strncmp(path, dir, n) == 0 && (path[n] == '\0' ||
	    path[n] == '/');
}

/* The canonical path of the directory open as fd, or NULL. */
static char *
fd_path(int fd)
{
	char	proc[64], buf[PATH_MAX];
	ssize_t	n;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	if ((n = readlink(proc, buf, sizeof(buf) - 1)) == -1)
		return NULL;
	buf[n] = '\0';
	return xstrdup(buf);
}

/* The vault may not lie inside the stow directory or a package. */
static void
check_not_in_repo(struct vault_root *v, const char *canon,
    const char *stow_dir, const struct strlist *packages)
{
	char	*stow, *pkg, *real;
	size_t	 i;

	if ((stow = realpath(stow_dir, NULL)) != NULL && is_under(canon,
	    stow))
		refuse(v, "the vault %s would be inside the stow directory "
		    "%s, where what it keeps could be published with it; "
		    "set XDG_STATE_HOME or backup-dir elsewhere", v->path,
		    stow);
	for (i = 0; packages != NULL && i < packages->n; i++) {
		if (asprintf(&pkg, "%s/%s", stow_dir, packages->v[i]) == -1)
			continue;
		if ((real = realpath(pkg, NULL)) != NULL && is_under(canon,
		    real))
			refuse(v, "the vault %s would be inside package %s; "
			    "set XDG_STATE_HOME or backup-dir elsewhere",
			    v->path, real);
		free(real);
		free(pkg);
	}
	free(stow);
}

/* Is the directory open as fd, reached as shown, fit to hold the vault
 * (or to lead to it)? */
static int
own_dir(struct vault_root *v, int fd, const char *shown)
{
	struct stat	st;

	if (fstat(fd, &st) == -1) {
		refuse(v, "%s: %s", shown, strerror(errno));
		return 0;
	}
	if (st.st_uid != geteuid()) {
		refuse(v, "%s is owned by uid %lu, not by this user (uid "
		    "%lu): the vault is kept only in the user's own "
		    "directories", shown, (unsigned long)st.st_uid,
		    (unsigned long)geteuid());
		return 0;
	}
	if ((st.st_mode & 022) != 0) {
		refuse(v, "%s can be written by others (mode %04o): the vault "
		    "is kept only where nobody else can", shown,
		    (unsigned int)(st.st_mode & 07777));
		return 0;
	}
	return 1;
}

/*
 * Walks v->path from its base, one component at a time, following no
 * symlink: each directory there must be the user's own.  *fd: the
 * deepest that exists (open), *done: the length of v->path it covers.
 */
static void
walk_existing(struct vault_root *v, int *fd, size_t *done)
{
	char	*p = v->path + v->base_len, *slash, *comp;
	int	 next;

	*done = v->base_len;
	while (*p == '/')
		p++;
	for (; *p != '\0'; p = *slash == '\0' ? slash : slash + 1) {
		slash = p + strcspn(p, "/");
		comp = strndup(p, (size_t)(slash - p));
		next = comp != NULL ? openat(*fd, comp, O_RDONLY |
		    O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) : -1;
		free(comp);
		if (next == -1) {
			if (errno == ELOOP || errno == ENOTDIR)
				refuse(v, "%.*s is a symbolic link or no "
				    "directory: the vault is made only where "
				    "no symbolic link leads (set "
				    "XDG_STATE_HOME or backup-dir)",
				    (int)(slash - v->path), v->path);
			else if (errno != ENOENT)
				refuse(v, "%.*s: %s", (int)(slash - v->path),
				    v->path, strerror(errno));
			return;
		}
		close(*fd);
		*fd = next;
		*done = (size_t)(slash - v->path);
		if (!own_dir(v, *fd, v->path))
			return;
	}
	v->exists = 1;
}

/*
 * Folds "." and ".." components of path out, in place, as text: a ".."
 * after a directory not made yet must not carry the vault elsewhere
 * than the check below it sees.
 */
static void
normalize(char *path)
{
	char	*p = path, *out = path, *floor, *end;
	size_t	 n;

	if (*path == '/')
		out++;
	floor = out;
	while (*p != '\0') {
		while (*p == '/')
			p++;
		if (*p == '\0')
			break;
		end = p + strcspn(p, "/");
		n = (size_t)(end - p);
		if (n == 2 && p[0] == '.' && p[1] == '.' && out > floor) {
			/* Up one: the last component goes. */
			while (out > floor && out[-1] != '/')
				out--;
			if (out > floor)
				out--;
		} else if (!(n == 1 && *p == '.') && !(n == 2 && *p == '.' &&
		    p[1] == '.' && floor > path && floor == path + 1)) {
			if (out > floor || (out > path && out[-1] != '/'))
				*out++ = '/';
			memmove(out, p, n);
			out += n;
			/* A ".." that cannot go up stays, and stays put. */
			if (n == 2 && p[0] == '.' && p[1] == '.')
				floor = out;
		}
		p = end;
	}
	if (out == path)
		*out++ = '.';
	*out = '\0';
}

/* Splits v->path into its base, the deepest directory that exists at
 * or above its first len bytes (the user chose that path: symlinks up
 * to there are theirs), and what is below, to be checked and made. */
static void
existing_base(struct vault_root *v, size_t len)
{
	struct stat	 st;
	char		*slash;
	size_t		 n = strlen(v->path);

	while (n > 1 && v->path[n - 1] == '/')
		v->path[--n] = '\0';
	for (n = len < n ? len : n; ; n = (size_t)(slash - v->path)) {
		v->base = n == 0 ? xstrdup(*v->path == '/' ? "/" : ".") :
		    strndup(v->path, n);
		if (v->base == NULL || stat(v->base, &st) == 0 || n == 0)
			break;
		free(v->base);
		v->base = NULL;
		if ((slash = memrchr(v->path, '/', n)) == NULL)
			n = 0, slash = v->path;
	}
	v->base_len = n;
}

/*
 * The default: ${XDG_STATE_HOME:-$HOME/.local/state}/cstow/backup.  The
 * home directory is never made; XDG_STATE_HOME, as the XDG base
 * directory rules ask, is made when missing, below its deepest existing
 * directory.
 */
static void
default_base(struct vault_root *v)
{
	const char	*state = getenv("XDG_STATE_HOME");
	const char	*home = getenv("HOME");

	if (state != NULL && *state == '/') {
		if (asprintf(&v->path, "%s/cstow/backup", state) == -1) {
			v->path = NULL;
			return;
		}
		normalize(v->path);
		existing_base(v, strlen(v->path) - strlen("/cstow/backup"));
		return;
	}
	if (home != NULL && *home != '\0') {
		v->base = xstrdup(home);
		if (asprintf(&v->path, "%s/.local/state/cstow/backup",
		    home) == -1)
			v->path = NULL;
	} else {
		refuse(v, "neither HOME nor XDG_STATE_HOME is set, so there "
		    "is no vault (set either, or backup-dir)");
		return;
	}
	v->base_len = strlen(v->base);
}

/*
 * Finds where the vault is (dir: a backup-dir given, else the default)
 * and whether this run may use it; v->why says why not.  Nothing is
 * made.  packages are the run's (NULL: none known).
 */
void
vault_root_resolve(struct vault_root *v, const char *dir,
    const char *stow_dir, const struct strlist *packages)
{
	char	*canon, *full;
	size_t	 done;
	int	 fd;

	memset(v, 0, sizeof(*v));
	if (dir != NULL) {
		v->path = xstrdup(dir);
		normalize(v->path);
		existing_base(v, (size_t)((strrchr(dir, '/') != NULL ?
		    strrchr(dir, '/') : dir) - dir));
	} else
		default_base(v);
	if (v->path == NULL || v->base == NULL)
		return;
	if ((fd = open(v->base, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		refuse(v, "%s: %s%s", v->base, strerror(errno),
		    errno == ENOENT ? " (it is never made for the vault)" :
		    "");
		return;
	}
	walk_existing(v, &fd, &done);
	if ((canon = fd_path(fd)) != NULL) {
		if (asprintf(&full, "%s%s", canon, v->path + done) != -1) {
			check_not_in_repo(v, full, stow_dir, packages);
			free(full);
		}
		free(canon);
	}
	close(fd);
}

/*
 * Makes the vault's missing directories below its base, 0700, none
 * through a symlink.  0, or -1 with v->why set.
 */
int
vault_root_make(struct vault_root *v)
{
	char	*p, *slash, *comp, *made;
	int	 fd, next;

	if (v->why != NULL)
		return -1;
	if (v->exists)
		return 0;
	if ((fd = open(v->base, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		refuse(v, "%s: %s", v->base, strerror(errno));
		return -1;
	}
	for (p = v->path + v->base_len; *p == '/'; p++)
		;
	for (; *p != '\0' && fd != -1; p = *slash == '\0' ? slash :
	    slash + 1) {
		slash = p + strcspn(p, "/");
		comp = strndup(p, (size_t)(slash - p));
		if (comp != NULL && mkdirat(fd, comp, 0700) == 0) {
			made = strndup(v->path, (size_t)(slash - v->path));
			strlist_add(&v->made, made != NULL ? made : "");
			free(made);
		} else if (comp == NULL || errno != EEXIST) {
			refuse(v, "mkdir: %.*s: %s", (int)(slash - v->path),
			    v->path, strerror(errno));
			free(comp);
			break;
		}
		next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
		free(comp);
		close(fd);
		if ((fd = next) == -1)
			refuse(v, "%.*s: %s", (int)(slash - v->path), v->path,
			    strerror(errno));
	}
	if (fd != -1)
		close(fd);
	if (v->why != NULL) {
		vault_root_unmake(v);
		return -1;
	}
	v->exists = 1;
	return 0;
}

/* Removes what vault_root_make() made, while empty, deepest first. */
void
vault_root_unmake(struct vault_root *v)
{
	size_t	i;

	for (i = v->made.n; i-- > 0; )
		(void)rmdir(v->made.v[i]);
	strlist_free(&v->made);
	v->exists = 0;
}

void
vault_root_free(struct vault_root *v)
{
	free(v->path);
	free(v->why);
	free(v->base);
	strlist_free(&v->made);
	memset(v, 0, sizeof(*v));
}

/* The newest run below root that has a MANIFEST to restore, or NULL. */
char *
vault_latest(const char *root)
{
	struct dirent	**names;
	struct stat	  st;
	char		 *path = NULL, *m;
	int		  n, i;

	if ((n = scandir(root, &names, NULL, alphasort)) == -1)
		return NULL;
	for (i = n - 1; i >= 0; i--) {
		if (path == NULL && names[i]->d_name[0] != '.' &&
		    asprintf(&m, "%s/%s/MANIFEST", root,
		    names[i]->d_name) != -1) {
			if (lstat(m, &st) == 0 &&
			    asprintf(&path, "%s/%s", root,
			    names[i]->d_name) == -1)
				path = NULL;
			free(m);
		}
		free(names[i]);
	}
	free(names);
	return path;
}
