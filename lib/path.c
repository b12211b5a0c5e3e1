/*
 * path.c: lexical path algebra.  Symlinks in the tree are data to read,
 * not paths to follow, so nothing here looks at the disk.
 */
#include <string.h>

#include "extern.h"

/*
 * Appends component c (length n) to the stack held in buf, applying
 * GNU Stow's join_paths() rules: "." is dropped and ".." cancels the
 * previous component unless that is itself "..".
 */
static size_t
push_component(char *buf, size_t len, const char *c, size_t n)
{
	const char	*last;
	size_t		 lastlen;

	if (n == 1 && c[0] == '.')
		return len;
	if (n == 2 && c[0] == '.' && c[1] == '.' && len > 0) {
		last = memrchr(buf, '/', len);
		last = last == NULL ? buf : last + 1;
		lastlen = len - (size_t)(last - buf);
		if (!(lastlen == 2 && last[0] == '.' && last[1] == '.')) {
			if (last == buf)
				return 0;
			/* Keep a leading "/" of an absolute path. */
			return last - 1 == buf ? 1 : (size_t)(last - 1 - buf);
		}
	}
	if (len > 0 && !(len == 1 && buf[0] == '/'))
		buf[len++] = '/';
	memcpy(buf + len, c, n);
	return len + n;
}

static size_t
push_path(char *buf, size_t len, const char *p)
{
	const char	*end;

	while (*p != '\0') {
		while (*p == '/')
			p++;
		if (*p == '\0')
			break;
		if ((end = strchr(p, '/')) == NULL)
			end = p + strlen(p);
		len = push_component(buf, len, p, (size_t)(end - p));
		p = end;
	}
	return len;
}

/*
 * GNU Stow's join_paths(): concatenates, squeezes "//", drops "." and
 * folds "a/.." lexically.  The empty path is "".
 */
char *
path_join3(struct arena *a, const char *x, const char *y, const char *z)
{
	size_t	 cap, len = 0;
	char	*buf;

	cap = strlen(x) + strlen(y) + strlen(z) + 4;
	if ((buf = arena_bytes(a, cap)) == NULL)
		return NULL;
	/* Absolute when the first non-empty part is, as join_paths()'s
	 * join-then-split has it; a ".." that empties the path later does
	 * not make what follows absolute. */
	if ((*x != '\0' ? *x : *y != '\0' ? *y : *z) == '/')
		buf[len++] = '/';
	len = push_path(buf, len, x);
	len = push_path(buf, len, y);
	len = push_path(buf, len, z);
	buf[len] = '\0';
	return buf;
}

char *
path_join(struct arena *a, const char *x, const char *y)
{
	return path_join3(a, x, y, "");
}

/*
 * dir + "/" + name, for a name read from a directory (never empty, ".",
 * ".." or holding a "/") and a normalised dir: nothing to normalise, so
 * a plain concatenation, much cheaper than path_join().  dir "" or "."
 * gives name.
 */
char *
path_child(struct arena *a, const char *dir, const char *name)
{
	return path_child_len(a, dir, strlen(dir), name, strlen(name));
}

/* path_child() of a dir and name whose lengths (dl, nl) are known: the
 * planner builds three such paths for each entry of a package. */
char *
path_child_len(struct arena *a, const char *dir, size_t dl, const char *name,
    size_t nl)
{
	char	*p;

	if (dl == 0 || (dl == 1 && dir[0] == '.'))
		return arena_strndup(a, name, nl);
	if (dl == 1 && dir[0] == '/')
		dl = 0;		/* the root: "/" + name */
	if ((p = arena_bytes(a, dl + nl + 2)) == NULL)
		return NULL;
	memcpy(p, dir, dl);
	p[dl] = '/';
	memcpy(p + dl + 1, name, nl);
	p[dl + 1 + nl] = '\0';
	return p;
}

/* GNU Stow's parent(): the path without its last component. */
char *
path_parent(struct arena *a, const char *p)
{
	const char	*end = p + strlen(p);

	while (end > p && end[-1] == '/')
		end--;
	while (end > p && end[-1] != '/')
		end--;
	while (end > p && end[-1] == '/')
		end--;
	if (end == p && *p == '/')
		return arena_strdup(a, "/");
	return arena_strndup(a, p, (size_t)(end - p));
}

const char *
path_basename(const char *p)
{
	const char	*s = strrchr(p, '/');

	return s == NULL ? p : s + 1;
}

/*
 * The parent used as the default target: GNU Stow's "parent($dir) ||
 * '.'", except that the parent of "/x" is "/".
 */
char *
path_textual_parent(struct arena *a, const char *dir)
{
	char	*p;

	if ((p = path_parent(a, dir)) == NULL)
		return NULL;
	return *p == '\0' ? arena_strdup(a, ".") : p;
}

/*
 * The relative path leading from directory base to path; both are
 * absolute and canonical (File::Spec->abs2rel()).
 */
char *
path_relative(struct arena *a, const char *path, const char *base)
{
	size_t		 i = 0, common = 0, cap, len = 0;
	const char	*b;
	char		*buf;

	while (path[i] != '\0' && path[i] == base[i]) {
		if (path[i] == '/')
			common = i;
		i++;
	}
	if ((path[i] == '\0' && (base[i] == '/' || base[i] == '\0')) ||
	    (base[i] == '\0' && path[i] == '/'))
		common = i;
	cap = strlen(path) + 3 * strlen(base) + 4;
	if ((buf = arena_alloc(a, cap)) == NULL)
		return NULL;
	for (b = base + common; *b != '\0'; b++) {
		if (*b != '/' && (b == base + common || b[-1] == '/'))
			len = push_component(buf, len, "..", 2);
	}
	path += common;
	while (*path == '/')
		path++;
	len = push_path(buf, len, path);
	if (len == 0)
		buf[len++] = '.';
	buf[len] = '\0';
	return buf;
}

/*
 * --dotfiles: "dot-X" names ".X" in the target, when X does not start
 * with "." (GNU Stow 2.4: s/^dot-([^.])/.$1/), so "dot-", "dot-." and
 * "dot-.foo" keep their names.  Returns name itself when unchanged.
 */
const char *
path_dotfile(struct arena *a, const char *name)
{
	if (strncmp(name, "dot-", 4) != 0 || name[4] == '\0' ||
	    name[4] == '.')
		return name;
	return arena_printf(a, ".%s", name + 4);
}

/* The package-side name of a target-side name (the reverse). */
const char *
path_undotfile(struct arena *a, const char *name)
{
	if (name[0] != '.' || strcmp(name, ".") == 0 ||
	    strcmp(name, "..") == 0)
		return name;
	return arena_printf(a, "dot-%s", name + 1);
}

/*
 * Is path strictly below dir (lexically)?  If so and rest is not NULL,
 * *rest points to the remainder after "dir/".
 */
int
path_is_under(const char *path, const char *dir, const char **rest)
{
	size_t	n = strlen(dir);

	/* Under the root, "/x", the separator is dir's own last byte. */
	if (n == 1 && dir[0] == '/')
		n = 0;
	if (strncmp(path, dir, n) != 0 || path[n] != '/' ||
	    (n == 0 && dir[0] != '/') || path[n + 1] == '\0')
		return 0;
	if (rest != NULL)
		*rest = path + n + 1;
	return 1;
}

/* Is path dir itself or below it? */
int
path_is_at_or_under(const char *path, const char *dir)
{
	return strcmp(path, dir) == 0 || path_is_under(path, dir, NULL);
}

/* The number of components of a normalised relative path. */
int
path_depth(const char *p)
{
	int	n = 0;

	if (*p == '\0' || strcmp(p, ".") == 0)
		return 0;
	for (n = 1; *p != '\0'; p++)
		if (*p == '/')
			n++;
	return n;
}

/*
 * What a path to replace must be, for stow_plan_replace(), cstow.conf's
 * replace key and cstow --replace alike: a name inside the target.  So
 * not absolute, no ".." anywhere (even one that folds away: a replace
 * is a promise about where things move, and "a/../b" only looks like
 * one inside "a"), and some component besides ".".
 */
STOW_API const char *
stow_replace_path_check(const char *path)
{
	const char	*p = path;
	size_t		 n;
	int		 named = 0;

	if (path == NULL)
		return "is missing";
	if (*path == '/')
		return "is absolute";
	for (;;) {
		n = strcspn(p, "/");
		if (n == 2 && p[0] == '.' && p[1] == '.')
			return "contains '..'";
		if (n > 1 || (n == 1 && *p != '.'))
			named = 1;
		if (p[n] == '\0')
			break;
		p += n + 1;
	}
	return named ? NULL : "names no file";
}
