/*
 * fuzz_path.c: libFuzzer target for the path algebra of lib/path.c.
 *
 * The input is split at NUL bytes into up to three strings, each
 * copied to a buffer of its exact size; every path function is called
 * on them, raw, then on normalised forms where invariants must hold:
 *
 *   path_join/path_join3  equal GNU Stow's join_paths() (concatenate the
 *                         non-empty parts with "/", squeeze "//", drop
 *                         ".", fold "a/.."), except that ".." never
 *                         climbs above "/" (cstow keeps the root); so
 *                         never "//", no "." component, no trailing "/"
 *                         but "/" itself; idempotent.
 *   path_child            equals path_join for a simple name and a
 *                         normalised dir.
 *   path_is_under         holds for path_join(dir, name) and dir.
 *   path_relative         joined back onto its base gives the path, for
 *                         absolute canonical paths.
 *   path_parent           joined with the basename gives the path back.
 *   path_depth            counts components; the parent has one fewer.
 *   path_dotfile/undotfile undo each other where GNU Stow's do.
 */
#include "fuzz_common.h"

/* Every string lives in the arena of the input, freed at its end. */
static struct arena	A;

/* GNU Stow's join_paths() with cstow's root rule: the reference. */
static char *
ref_join(const char *x, const char *y, const char *z)
{
	const char	*parts[3] = { x, y, z }, *p, *e;
	char		*all, *out, *q;
	size_t		 i, n = 0, depth = 0, *starts;
	int		 abs;

	all = arena_alloc(&A, strlen(x) + strlen(y) + strlen(z) + 3);
	CHECK(all != NULL);
	for (i = 0; i < 3; i++) {
		if (*parts[i] == '\0')
			continue;
		if (n > 0)
			all[n++] = '/';
		memcpy(all + n, parts[i], strlen(parts[i]));
		n += strlen(parts[i]);
	}
	all[n] = '\0';
	abs = all[0] == '/';
	out = arena_alloc(&A, n + 2);
	starts = arena_alloc(&A, (n + 1) * sizeof(*starts));
	CHECK(out != NULL && starts != NULL);
	q = out;
	if (abs)
		*q++ = '/';
	for (p = all; *p != '\0'; p = e) {
		while (*p == '/')
			p++;
		if (*p == '\0')
			break;
		e = p + strcspn(p, "/");
		if (e - p == 1 && p[0] == '.')
			continue;
		if (e - p == 2 && p[0] == '.' && p[1] == '.') {
			if (depth > 0 && strncmp(out + starts[depth - 1], "..",
			    (size_t)(q - out) - starts[depth - 1]) != 0) {
				/* Pop the last component and its "/". */
				q = out + starts[--depth];
				if (q > out + (abs ? 1 : 0))
					q--;
				continue;
			}
			if (abs)
				continue;	/* "/.." is "/" */
		}
		if (q > out + (abs ? 1 : 0))
			*q++ = '/';
		starts[depth++] = (size_t)(q - out);
		memcpy(q, p, (size_t)(e - p));
		q += e - p;
	}
	*q = '\0';
	return out;
}

/* A normalised path, as path_join() makes them. */
static void
check_normal(const char *p)
{
	const char	*c, *e;
	int		 abs = p[0] == '/', seen = 0;

	CHECK(strstr(p, "//") == NULL);
	CHECK(strcmp(p, "/") == 0 || p[0] == '\0' || p[strlen(p) - 1] != '/');
	for (c = p; *c != '\0'; c = *e == '\0' ? e : e + 1) {
		if (*c == '/')
			c++;
		e = c + strcspn(c, "/");
		CHECK(!(e - c == 1 && c[0] == '.'));
		if (e - c == 2 && c[0] == '.' && c[1] == '.')
			/* ".." only leads a relative path. */
			CHECK(!abs && !seen);
		else
			seen = 1;
	}
}

static int
simple_name(const char *n)
{
	return n[0] != '\0' && strchr(n, '/') == NULL &&
	    strcmp(n, ".") != 0 && strcmp(n, "..") != 0;
}

static void
check_join(const char *x, const char *y, const char *z)
{
	char	*j2, *j3;

	j2 = path_join(&A, x, y);
	j3 = path_join3(&A, x, y, z);
	CHECK(j2 != NULL && j3 != NULL);
	check_normal(j2);
	check_normal(j3);
	CHECK(strcmp(j2, ref_join(x, y, "")) == 0);
	CHECK(strcmp(j3, ref_join(x, y, z)) == 0);
	CHECK(strcmp(path_join(&A, j3, ""), j3) == 0);
}

static void
check_child(const char *dir, const char *name)
{
	const char	*rest = NULL;
	char		*j;

	if (!simple_name(name))
		return;
	j = path_join(&A, dir, name);
	CHECK(strcmp(path_child(&A, dir, name), j) == 0);
	if (dir[0] != '\0') {
		CHECK(path_is_under(j, dir, &rest) == 1);
		CHECK(strcmp(rest, name) == 0);
		CHECK(!path_is_under(dir, j, NULL));
	}
	if (dir[0] != '/')
		CHECK(path_depth(j) == path_depth(dir) + 1);
	CHECK(strcmp(path_parent(&A, j), dir) == 0);
}

static void
check_parent(const char *p)
{
	char	*par = path_parent(&A, p), *tp = path_textual_parent(&A, p);

	CHECK(par != NULL && tp != NULL);
	CHECK(strcmp(path_join(&A, par, path_basename(p)), p) == 0);
	CHECK(strcmp(tp, *par == '\0' ? "." : par) == 0);
	if (p[0] != '/' && p[0] != '\0')
		CHECK(path_depth(par) == path_depth(p) - 1);
}

static void
check_relative(const char *path, const char *base)
{
	char	*rel = path_relative(&A, path, base);

	CHECK(rel != NULL && rel[0] != '/' && rel[0] != '\0');
	if (strcmp(rel, ".") != 0)
		check_normal(rel);
	CHECK(strcmp(path_join(&A, base, rel), path) == 0);
	if (strcmp(path, base) == 0)
		CHECK(strcmp(rel, ".") == 0);
}

static void
check_dotfile(const char *n)
{
	const char	*d = path_dotfile(&A, n), *u = path_undotfile(&A, n);

	CHECK(d != NULL && u != NULL);
	if (strncmp(n, "dot-", 4) == 0 && n[4] != '\0' && n[4] != '.') {
		CHECK(d[0] == '.' && strcmp(d + 1, n + 4) == 0);
		CHECK(strcmp(path_undotfile(&A, d), n) == 0);
	} else
		CHECK(d == n);
	if (n[0] == '.' && strcmp(n, ".") != 0 && strcmp(n, "..") != 0) {
		CHECK(strncmp(u, "dot-", 4) == 0 && strcmp(u + 4, n + 1) == 0);
		if (n[1] != '.')
			CHECK(strcmp(path_dotfile(&A, u), n) == 0);
	} else
		CHECK(u == n);
}

/* Everything on raw strings: only memory safety and plain facts. */
static void
check_raw(const char *x, const char *y)
{
	const char	*rest = NULL;
	int		 d;

	CHECK(path_join(&A, x, y) != NULL);
	CHECK(path_child(&A, x, y) != NULL);
	CHECK(path_parent(&A, x) != NULL);
	CHECK(path_textual_parent(&A, x) != NULL);
	CHECK(path_relative(&A, x, y) != NULL);
	CHECK(path_basename(x) >= x);
	if (path_is_under(x, y, &rest) == 1)
		CHECK(rest == x + strlen(y) + (strcmp(y, "/") != 0));
	d = path_depth(x);
	CHECK(d >= 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char		*s[3];
	const char	*p, *end = (const char *)data + size;
	char		*n0, *n1, *a0, *a1;
	size_t		 i, len;

	/* Three strings, each in a buffer of its exact size. */
	p = (const char *)data;
	for (i = 0; i < 3; i++) {
		len = p < end ? strnlen(p, (size_t)(end - p)) : 0;
		s[i] = fuzz_strndup((const uint8_t *)p, len);
		p = p + len < end ? p + len + 1 : end;
	}

	check_raw(s[0], s[1]);
	check_raw(s[1], s[0]);
	check_join(s[0], s[1], s[2]);
	check_dotfile(s[0]);
	check_dotfile(path_basename(s[0]));

	/* Normalised forms, relative and absolute. */
	n0 = path_join(&A, s[0], "");
	n1 = path_join(&A, s[1], "");
	a0 = path_join(&A, "/", s[0]);
	a1 = path_join(&A, "/", s[1]);
	CHECK(a0[0] == '/' && a1[0] == '/');
	check_parent(n0);
	check_parent(a0);
	check_child(n0, s[1]);
	check_child(a0, s[1]);
	check_child(n0, s[2]);
	check_relative(a0, a1);
	check_relative(a1, a0);
	check_relative(a0, a0);
	check_relative(a0, "/");
	check_relative("/", a0);
	check_relative(path_join(&A, a0, s[2]), a0);
	(void)n1;

	arena_free(&A);
	for (i = 0; i < 3; i++)
		free(s[i]);
	return 0;
}
