/*
 * check.c: cstow's read-only modes.  --check plans a stow of each
 * package on its own, applies nothing, and says how far the package is
 * stowed; it also walks each target for dangling links into the stow
 * directory.  --badlinks, --aliens and --list are chkstow's modes.
 * Nothing here changes the target.
 */
#include <sys/stat.h>
#ifdef __linux__
#include <sys/vfs.h>
#endif

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <stow.h>

#include "bootstrap.h"
#include "check.h"
#include "display.h"

/* Something a walk found: a link (path, its text, the package of the
 * stow directory it points into) or a file. */
struct finding {
	char	*path;		/* as printed: the walk's root, rel */
	char	*link;		/* the link's text; NULL for a file */
	char	*package;	/* NULL: not into the stow directory */
};

struct findings {
	struct finding	*v;
	size_t		 n;
};

struct walker;
/* Visits one entry: its directory's fd, its path below the walk's
 * root, its name, and its type (S_IFMT bits). */
typedef void (*visit_fn)(struct walker *, int, const char *, const char *,
    mode_t);

/* The links of one directory (its real path) that a plan found in
 * place, leading to a package entry that is not a symlink. */
struct vdir {
	char		*dir;
	const char	**names;	/* sorted; one allocation with them */
	size_t		 n;
};

/* Such directories, by real path: an open-addressing hash table. */
struct verified {
	struct vdir	*v;		/* dir NULL: a free slot */
	size_t		 cap;		/* a power of two, or 0 */
	size_t		 len;
};

struct walker {
	struct run	*r;
	const char	*root;		/* as given: for output */
	char		*root_abs;	/* realpath(root) */
	char		*stow_abs;	/* realpath(stow directory) */
	struct stat	 stow_st;
	visit_fn	 visit;
	struct findings	*found;
	const struct verified *verified; /* links known not to dangle */
	const struct vdir *vdir;	/* those of the directory walked */
	size_t		 vat;		/* vdir_has()'s place in them */
	char		*path;		/* the entry visited, below root */
	size_t		 len, cap;	/* (strlen(path), and its room) */
	struct findings	 warnings;	/* directories it could not open */
	int		 stopped;	/* interrupted */
	void		*dents;		/* DENTS_SIZE bytes for getdents64 */
};

/* The walk's getdents64(2) buffer: one, on the heap, since a frame of
 * each level of a deep target would hold it on the stack. */
#define DENTS_SIZE	16384

enum state {
	ST_STOWED, ST_PARTLY, ST_MISSING, ST_CONFLICT, ST_GONE, ST_ERROR
};

/* What --check found out about one package. */
struct pstate {
	char			*name;
	char			*target;	/* as printed; NULL: gone */
	enum state		 state;
	int			 no_target;	/* no such directory */
	size_t			 missing;	/* links to make */
	size_t			 unchanged;
	struct conflict_list	 conflicts;
	struct findings		 dangling;
	char			*error;
};


static char *
xstrndup(const char *s, size_t n)
{
	char	*p;

	p = xrealloc(NULL, n + 1, 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

static char *
xasprintf_join(const char *a, const char *sep, const char *b)
{
	char	*p;

	if (asprintf(&p, "%s%s%s", a, sep, b) == -1) {
		fprintf(stderr, "%s: out of memory\n", getprogname());
		exit(EXIT_ERROR);
	}
	return p;
}

/*
 * A lexically normalised copy of path: no empty or "." components, and
 * each ".." removes the name before it ("/.." is "/"; a relative path
 * keeps its leading ".." components).  "" and "." give ".".  Symlinks
 * are not looked at, as GNU Stow compares link texts.
 */
char *
path_lexical(const char *path)
{
	const char	*p = path, *comp, *last;
	char		*out;
	size_t		 len, n, root = *path == '/';

	out = xrealloc(NULL, strlen(path) + 2, 1);
	len = root;
	out[0] = '/';
	while (*p != '\0') {
		while (*p == '/')
			p++;
		comp = p;
		n = strcspn(p, "/");
		p += n;
		if (n == 0 || (n == 1 && comp[0] == '.'))
			continue;
		if (n == 2 && comp[0] == '.' && comp[1] == '.') {
			out[len] = '\0';
			last = strrchr(out + root, '/');
			last = last != NULL ? last + 1 : out + root;
			if (len > root && strcmp(last, "..") != 0) {
				len = (size_t)(last - out);
				if (len > root)
					len--;
				continue;
			}
			if (root)
				continue;
		}
		if (len > root)
			out[len++] = '/';
		memcpy(out + len, comp, n);
		len += n;
	}
	if (len == 0)
		out[len++] = '.';
	out[len] = '\0';
	return out;
}

/*
 * The target a package goes to when nothing names one: the textual
 * parent of the stow directory, or the parent of its real path when
 * the stow directory is "." or ends in "..", as libstow decides it.
 */
char *
target_default(const char *stow_dir)
{
	char	*n = path_lexical(stow_dir), *real, *slash;

	slash = strrchr(n, '/');
	if (strcmp(n, ".") == 0 || strcmp(slash != NULL ? slash + 1 : n,
	    "..") == 0) {
		if ((real = realpath(n, NULL)) == NULL)
			return n;
		free(n);
		n = real;
		slash = strrchr(n, '/');
	}
	if (slash == NULL) {
		free(n);
		return xstrdup(".");
	}
	slash[slash == n] = '\0';
	return n;
}

/* root and rel as one path for output: "t/bin/x", "/bin/x", "./x". */
static char *
disp_path(const char *root, const char *rel)
{
	size_t	n = strlen(root);
	char	*p;

	while (n > 1 && root[n - 1] == '/')
		n--;
	if (asprintf(&p, "%.*s%s%s", (int)n, root, root[n - 1] == '/' ?
	    "" : "/", rel) == -1) {
		fprintf(stderr, "%s: out of memory\n", getprogname());
		exit(EXIT_ERROR);
	}
	return p;
}

static void
findings_add(struct findings *f, char *path, char *link, char *package)
{
	struct finding	*x;

	f->v = xrealloc(f->v, f->n + 1, sizeof(*f->v));
	x = &f->v[f->n++];
	x->path = path;
	x->link = link;
	x->package = package;
}

static void
findings_free(struct findings *f)
{
	size_t	i;

	for (i = 0; i < f->n; i++) {
		free(f->v[i].path);
		free(f->v[i].link);
		free(f->v[i].package);
	}
	free(f->v);
	f->v = NULL;
	f->n = 0;
}

/* FNV-1a. */
static size_t
hash_str(const char *s)
{
	size_t	h = 2166136261u;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

/* The slot of dir in vf: its own, or the free one it would take. */
static struct vdir *
verified_slot(const struct verified *vf, const char *dir)
{
	size_t	i;

	for (i = hash_str(dir) & (vf->cap - 1); vf->v[i].dir != NULL &&
	    strcmp(vf->v[i].dir, dir) != 0; i = (i + 1) & (vf->cap - 1))
		;
	return &vf->v[i];
}

static const struct vdir *
verified_get(const struct verified *vf, const char *dir)
{
	const struct vdir	*d;

	if (vf == NULL || vf->len == 0)
		return NULL;
	d = verified_slot(vf, dir);
	return d->dir != NULL ? d : NULL;
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Adds the n names of a, then the m of b, to d, sorted if both come. */
static void
vdir_fill(struct vdir *d, const char *const *a, size_t n,
    const char *const *b, size_t m)
{
	const char	**v;
	char		*p;
	size_t		 bytes = 0, i;

	for (i = 0; i < n; i++)
		bytes += strlen(a[i]) + 1;
	for (i = 0; i < m; i++)
		bytes += strlen(b[i]) + 1;
	v = xrealloc(NULL, (n + m) * sizeof(*v) + bytes, 1);
	p = (char *)(v + n + m);
	for (i = 0; i < n + m; i++) {
		v[i] = p;
		p = stpcpy(p, i < n ? a[i] : b[i - n]) + 1;
	}
	if (n > 0 && m > 0)
		qsort(v, n + m, sizeof(*v), name_cmp);
	d->names = v;
	d->n = n + m;
}

/* Adds names (n, sorted) in directory dir (a real path) to vf. */
static void
verified_add(struct verified *vf, const char *dir, const char *const *names,
    size_t n)
{
	struct vdir	*old, *d;
	const char	**had;
	size_t		 i, cap;

	if (vf->len + 1 > vf->cap / 2) {
		old = vf->v;
		cap = vf->cap;
		vf->cap = cap > 0 ? cap * 2 : 64;
		vf->v = xrealloc(NULL, vf->cap, sizeof(*vf->v));
		memset(vf->v, 0, vf->cap * sizeof(*vf->v));
		for (i = 0; i < cap; i++)
			if (old[i].dir != NULL)
				*verified_slot(vf, old[i].dir) = old[i];
		free(old);
	}
	d = verified_slot(vf, dir);
	if (d->dir == NULL) {
		d->dir = xstrdup(dir);
		vf->len++;
		vdir_fill(d, names, n, NULL, 0);
		return;
	}
	had = d->names;
	vdir_fill(d, had, d->n, names, n);
	free(had);
}

static void
verified_free(struct verified *vf)
{
	size_t	i;

	for (i = 0; i < vf->cap; i++) {
		free(vf->v[i].dir);
		free(vf->v[i].names);
	}
	free(vf->v);
	memset(vf, 0, sizeof(*vf));
}

/*
 * Is name among the links of d?  *at: where the last one was found.  A
 * file system lists a directory in an order of its own, often the
 * order its entries were made in (tmpfs: the newest first), so the
 * names next to the last are tried before a binary search.
 */
static int
vdir_has(const struct vdir *d, const char *name, size_t *at)
{
	size_t	lo = 0, hi, mid;
	int	c;

	if (d == NULL || d->n == 0)
		return 0;
	if (*at < d->n && strcmp(d->names[*at], name) == 0)
		return 1;
	if (*at > 0 && *at - 1 < d->n &&
	    strcmp(d->names[*at - 1], name) == 0) {
		--*at;
		return 1;
	}
	if (*at + 1 < d->n && strcmp(d->names[*at + 1], name) == 0) {
		++*at;
		return 1;
	}
	for (hi = d->n; lo < hi; ) {
		mid = lo + (hi - lo) / 2;
		if ((c = strcmp(d->names[mid], name)) == 0) {
			*at = mid;
			return 1;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

/* dir (relative, "." for itself) below the real directory root.
 * (Once per directory: plain copies, not asprintf(3).) */
static char *
real_join(const char *root, const char *dir)
{
	size_t	r, d;
	char	*p;

	if (strcmp(dir, ".") == 0 || *dir == '\0')
		return xstrdup(root);
	r = strcmp(root, "/") == 0 ? 0 : strlen(root);
	d = strlen(dir);
	p = xrealloc(NULL, r + d + 2, 1);
	memcpy(p, root, r);
	p[r] = '/';
	memcpy(p + r + 1, dir, d + 1);
	return p;
}

/* What stow_plan_foreach_unchanged() fills: the verified links of a
 * target whose real path is real. */
struct collect {
	struct verified	*vf;
	const char	*real;
};

static int
collect_in_place(const char *dir, const char *const *names, size_t n,
    void *payload)
{
	struct collect	*c = payload;
	char		*abs = real_join(c->real, dir);

	verified_add(c->vf, abs, names, n);
	free(abs);
	return 0;
}

/* The text of link name in directory fd, or NULL. */
static char *
read_link(int fd, const char *name)
{
	char	buf[PATH_MAX];
	ssize_t	n;

	if ((n = readlinkat(fd, name, buf, sizeof(buf) - 1)) == -1)
		return NULL;
	buf[n] = '\0';
	return xstrdup(buf);
}

/* Does the link name in fd lead nowhere?  (chkstow's "-l && !-e".) */
static int
dangles(int fd, const char *name)
{
	struct stat	st;

	return fstatat(fd, name, &st, 0) == -1 && errno != EACCES;
}

/*
 * The package of the stow directory that text, the text of the link at
 * rel below the walk's root, leads into, or NULL.  Lexical, as GNU
 * Stow decides which links it owns.
 */
static char *
link_package(const struct walker *w, const char *rel, const char *text)
{
	const char	*slash = strrchr(rel, '/'), *p;
	char		*joined, *norm, *pkg = NULL;
	size_t		 n = strlen(w->stow_abs);

	if (*text == '/')
		joined = xstrdup(text);
	else if (asprintf(&joined, "%s/%.*s/%s", w->root_abs,
	    slash != NULL ? (int)(slash - rel) : 0, rel, text) == -1)
		return NULL;
	norm = path_lexical(joined);
	if (strncmp(norm, w->stow_abs, n) == 0 && norm[n] == '/' &&
	    norm[n + 1] != '\0') {
		p = norm + n + 1;
		pkg = xstrndup(p, strcspn(p, "/"));
	}
	free(norm);
	free(joined);
	return pkg;
}

/*
 * chkstow's markers: a directory holding one is not walked, nor is the
 * stow directory itself.  ".stow" marks another stow directory,
 * ".nonstow" a protected one, ".notstowed" one chkstow leaves alone.
 */
static const char *const markers[] = { ".stow", ".nonstow", ".notstowed" };

/* Does directory name in fd hold a marker?  (For one that cannot be
 * listed.) */
static int
marked(int fd, const char *name)
{
	struct stat	 st;
	char		*m;
	size_t		 i;
	int		 found = 0;

	for (i = 0; i < sizeof(markers) / sizeof(markers[0]) && !found;
	    i++) {
		m = xasprintf_join(name, "/", markers[i]);
		found = fstatat(fd, m, &st, AT_SYMLINK_NOFOLLOW) == 0;
		free(m);
	}
	return found;
}

static int
interrupted(const struct run *r)
{
	return r->cancel != NULL && r->cancel(NULL);
}

/*
 * Is the directory open at fd, a mount point (dev differs from its
 * parent's), a kernel pseudo-filesystem?  /proc alone holds thousands
 * of links that lead nowhere ("socket:[1234]"); none are ours.
 */
static int
pseudo_fs(int fd, dev_t dev, dev_t parent)
{
#ifdef __linux__
	static const unsigned long	magics[] = {
		0x9fa0,		/* proc */
		0x62656572,	/* sysfs */
		0x1cd1,		/* devpts */
		0x27e0eb,	/* cgroup */
		0x63677270,	/* cgroup2 */
		0x64626720,	/* debugfs */
		0x74726163,	/* tracefs */
		0x73636673,	/* securityfs */
		0xcafe4a11,	/* bpf */
		0x6165676c	/* pstore */
	};
	struct statfs	sfs;
	size_t		i;

	if (dev == parent || fstatfs(fd, &sfs) == -1)
		return 0;
	for (i = 0; i < sizeof(magics) / sizeof(magics[0]); i++)
		if ((unsigned long)sfs.f_type == magics[i])
			return 1;
#else
	(void)fd;
	(void)dev;
	(void)parent;
#endif
	return 0;
}

/* Notes that rel could not be walked; walk() prints the notes, in
 * the order of the walk's findings. */
static void
walk_warn(struct walker *w, const char *rel, int errnum)
{
	findings_add(&w->warnings, disp_path(w->root, rel),
	    xstrdup(strerror(errnum)), NULL);
}

/* One entry of a directory listing: a name and its d_type. */
struct wdent {
	const char	*name;
	unsigned char	 type;
};

/* A directory's entries, in the order the file system gives them;
 * their names live in buf. */
struct wlist {
	struct wdent	*v;
	size_t		 n;
	char		*buf;
};

/* Appends name, of type type, to l. */
static void
wlist_add(struct wlist *l, size_t **off, size_t *len, size_t *cap,
    const char *name, unsigned char type)
{
	size_t	n = strlen(name) + 1;

	while (*len + n > *cap) {
		*cap = *cap > 0 ? *cap * 2 : 4096;
		l->buf = xrealloc(l->buf, *cap, 1);
	}
	memcpy(l->buf + *len, name, n);
	if (l->n % 64 == 0) {
		*off = xrealloc(*off, l->n + 64, sizeof(**off));
		l->v = xrealloc(l->v, l->n + 64, sizeof(*l->v));
	}
	(*off)[l->n] = *len;
	l->v[l->n++].type = type;
	*len += n;
}

/*
 * Reads directory fd into l, without "." and "..", with buf (DENTS_SIZE
 * bytes).  getdents64(2) straight on fd: a health probe lists every
 * target directory, and fdopendir(3) would add three system calls to
 * each.  Returns 0, or -1 with errno set (l then holds what was read).
 */
static int
wlist_read(int fd, struct wlist *l, char *buf)
{
	struct dirent64	*de;
	size_t		*off = NULL, len = 0, cap = 0, i;
	ssize_t		 n, at;

	memset(l, 0, sizeof(*l));
	while ((n = getdents64(fd, buf, DENTS_SIZE)) > 0)
		for (at = 0; at < n; at += de->d_reclen) {
			de = (struct dirent64 *)(void *)(buf + at);
			if (strcmp(de->d_name, ".") != 0 &&
			    strcmp(de->d_name, "..") != 0)
				wlist_add(l, &off, &len, &cap, de->d_name,
				    de->d_type);
		}
	for (i = 0; i < l->n; i++)
		l->v[i].name = l->buf + off[i];
	free(off);
	return n == 0 ? 0 : -1;
}

static void
wlist_free(struct wlist *l)
{
	free(l->v);
	free(l->buf);
}

/* Does listing l hold a marker? */
static int
wlist_marked(const struct wlist *l)
{
	size_t	i, k;

	for (i = 0; i < l->n; i++)
		for (k = 0; l->v[i].name[0] == '.' &&
		    k < sizeof(markers) / sizeof(markers[0]); k++)
			if (strcmp(l->v[i].name, markers[k]) == 0)
				return 1;
	return 0;
}

/* Appends "/" (unless at the root) and name to w->path. */
static void
path_push(struct walker *w, const char *name)
{
	size_t	n = strlen(name) + 2;

	if (w->len + n > w->cap) {
		w->cap = w->len + n > 2 * w->cap ? w->len + n : 2 * w->cap;
		w->path = xrealloc(w->path, w->cap, 1);
	}
	if (w->len > 0)
		w->path[w->len++] = '/';
	memcpy(w->path + w->len, name, n - 1);
	w->len += n - 2;
}

static void	walk_dir(struct walker *, int, const struct stat *);

/*
 * Walks into directory name of fd (w->path: its path below the root),
 * unless it is the stow directory, a pseudo-filesystem or marked.
 * parent: what fstat(2) says of fd.
 */
static void
walk_into(struct walker *w, int fd, const char *name,
    const struct stat *parent)
{
	struct stat	st;
	int		cfd;

	/* The walk recurses: a target nested deeper than a path can name
	 * (which no stow made, and no plan could read) is not walked, so
	 * that its depth cannot exhaust the stack. */
	if (w->len >= PATH_MAX) {
		walk_warn(w, w->path, ENAMETOOLONG);
		return;
	}
	if ((cfd = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1) {
		/* (One that is marked is skipped without a word.) */
		if (!marked(fd, name))
			walk_warn(w, w->path, errno);
		return;
	}
	if (fstat(cfd, &st) == -1 || (st.st_dev == w->stow_st.st_dev &&
	    st.st_ino == w->stow_st.st_ino) ||
	    pseudo_fs(cfd, st.st_dev, parent->st_dev)) {
		close(cfd);
		return;
	}
	walk_dir(w, cfd, &st);
}

/*
 * Visits every entry below directory fd (w->path below the root; fd,
 * which self describes, is closed), depth first, in the order the
 * file system lists them: walk() puts what was found in order.
 * Symlinks are never followed.  An entry's type is the listing's,
 * asked of lstat(2) only when the file system does not say.
 */
static void
walk_dir(struct walker *w, int fd, const struct stat *self)
{
	const struct vdir *vd = NULL;
	struct wlist	 l;
	struct stat	 st;
	char		*abs;
	size_t		 i, len = w->len;
	unsigned char	 type;

	if (wlist_read(fd, &l, w->dents) == -1)
		walk_warn(w, w->path, errno);
	/* (The root is walked, marked or not.) */
	if (len > 0 && wlist_marked(&l))
		l.n = 0;
	if (w->verified != NULL && l.n > 0) {
		abs = real_join(w->root_abs, w->path);
		vd = verified_get(w->verified, abs);
		free(abs);
	}
	for (i = 0; i < l.n && !w->stopped; i++) {
		if (interrupted(w->r)) {
			w->stopped = 1;
			break;
		}
		if ((type = l.v[i].type) == DT_UNKNOWN) {
			if (fstatat(fd, l.v[i].name, &st,
			    AT_SYMLINK_NOFOLLOW) == -1)
				continue;
			type = IFTODT(st.st_mode);
		}
		path_push(w, l.v[i].name);
		if (w->vdir != vd) {
			w->vdir = vd;
			w->vat = vd != NULL ? vd->n - 1 : 0;
		}
		w->visit(w, fd, w->path, l.v[i].name, DTTOIF(type));
		if (type == DT_DIR)
			walk_into(w, fd, l.v[i].name, self);
		w->path[w->len = len] = '\0';
	}
	wlist_free(&l);
	close(fd);
}

/*
 * Orders paths as a walk in byte order of names, depth first, meets
 * them: component by component, a shorter component first ("a/x"
 * before "a-b").
 */
static int
walk_order(const void *a, const void *b)
{
	const unsigned char	*x = (const unsigned char *)
				    ((const struct finding *)a)->path;
	const unsigned char	*y = (const unsigned char *)
				    ((const struct finding *)b)->path;
	unsigned int		 cx, cy;

	for (;; x++, y++) {
		cx = *x == '/' ? 1 : *x == '\0' ? 0 : *x + 1u;
		cy = *y == '/' ? 1 : *y == '\0' ? 0 : *y + 1u;
		if (cx != cy || cx == 0)
			return cx < cy ? -1 : cx > cy;
	}
}

/* Sets up w for root; returns an exit code (message printed). */
static int
walker_init(struct walker *w, struct run *r, const char *root)
{
	memset(w, 0, sizeof(*w));
	w->r = r;
	w->root = root;
	if ((w->root_abs = realpath(root, NULL)) == NULL) {
		display_printf(stderr, "%s: %s: %s\n", r->prog, root,
		    strerror(errno));
		return EXIT_ERROR;
	}
	if ((w->stow_abs = realpath(r->stow_dir, NULL)) == NULL ||
	    stat(w->stow_abs, &w->stow_st) == -1) {
		display_printf(stderr, "%s: %s: %s\n", r->prog, r->stow_dir,
		    strerror(errno));
		return EXIT_ERROR;
	}
	return EXIT_OK;
}

static void
walker_free(struct walker *w)
{
	free(w->root_abs);
	free(w->stow_abs);
	free(w->path);
	free(w->dents);
	findings_free(&w->warnings);
}

/* Walks w's root; returns an exit code. */
static int
walk(struct walker *w)
{
	struct stat	self;
	int		fd;

	struct findings	*f = w->found;
	size_t		 first = f->n, i;

	if ((fd = open(w->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    fstat(fd, &self) == -1) {
		display_printf(stderr, "%s: %s: %s\n", w->r->prog, w->root,
		    strerror(errno));
		if (fd != -1)
			close(fd);
		return EXIT_ERROR;
	}
	w->path = xrealloc(NULL, w->cap = 256, 1);
	w->path[w->len = 0] = '\0';
	if (w->dents == NULL)
		w->dents = xrealloc(NULL, DENTS_SIZE, 1);
	walk_dir(w, fd, &self);
	/* Every path here begins with the root: ordered by the rest. */
	if (f->n - first > 1)
		qsort(f->v + first, f->n - first, sizeof(*f->v), walk_order);
	if (w->warnings.n > 1)
		qsort(w->warnings.v, w->warnings.n, sizeof(*w->warnings.v),
		    walk_order);
	for (i = 0; i < w->warnings.n; i++)
		display_printf(stderr, "%s: %s: %s\n", w->r->prog,
		    w->warnings.v[i].path, w->warnings.v[i].link);
	if (w->stopped) {
		display_printf(stderr, "%s: interrupted\n", w->r->prog);
		return EXIT_ERROR;
	}
	return EXIT_OK;
}

/* --badlinks: symlinks that lead nowhere. */
static void
visit_badlink(struct walker *w, int fd, const char *rel, const char *name,
    mode_t type)
{
	char	*text;

	if (!S_ISLNK(type) || !dangles(fd, name))
		return;
	if ((text = read_link(fd, name)) == NULL)
		text = xstrdup("");
	findings_add(w->found, disp_path(w->root, rel), text, NULL);
}

/* --aliens: what is neither a symlink nor a directory. */
static void
visit_alien(struct walker *w, int fd, const char *rel, const char *name,
    mode_t type)
{
	(void)fd;
	(void)name;
	if (!S_ISLNK(type) && !S_ISDIR(type))
		findings_add(w->found, disp_path(w->root, rel), NULL, NULL);
}

/* --list: links into a package of the stow directory. */
static void
visit_list(struct walker *w, int fd, const char *rel, const char *name,
    mode_t type)
{
	char	*text, *pkg;

	if (!S_ISLNK(type) || (text = read_link(fd, name)) == NULL)
		return;
	if ((pkg = link_package(w, rel, text)) != NULL)
		findings_add(w->found, disp_path(w->root, rel), text, pkg);
	else
		free(text);
}

/* --check: links into the stow directory that lead nowhere. */
static void
visit_dangling(struct walker *w, int fd, const char *rel, const char *name,
    mode_t type)
{
	/* (A link the plan found in place leads to a package entry.) */
	if (S_ISLNK(type) && !vdir_has(w->vdir, name, &w->vat) &&
	    dangles(fd, name))
		visit_list(w, fd, rel, name, type);
}

static int
finding_pkg_cmp(const void *a, const void *b)
{
	const struct finding	*x = a, *y = b;

	return strcmp(x->package, y->package);
}

static void
print_chk(const struct findings *f, enum mode mode, int json)
{
	const char	*key = mode == MODE_BADLINKS ? "badlinks" :
	    mode == MODE_ALIENS ? "aliens" : "packages";
	size_t		 i, k = 0;

	if (json)
		printf("{\n  \"%s\": [", key);
	for (i = 0; i < f->n; i++) {
		/* --list: each package once (sorted: repeats adjoin). */
		if (mode == MODE_LIST && i > 0 &&
		    strcmp(f->v[i].package, f->v[i - 1].package) == 0)
			continue;
		if (!json) {
			if (mode == MODE_BADLINKS)
				display_printf(stdout, "Bogus link: %s\n",
				    f->v[i].path);
			else if (mode == MODE_ALIENS)
				display_printf(stdout, "Unstowed file: %s\n",
				    f->v[i].path);
			else
				display_printf(stdout, "%s\n",
				    f->v[i].package);
			continue;
		}
		fputs(k++ > 0 ? ",\n    " : "\n    ", stdout);
		if (mode == MODE_BADLINKS) {
			fputs("{\"path\": ", stdout);
			json_string(stdout, f->v[i].path);
			fputs(", \"link\": ", stdout);
			json_string(stdout, f->v[i].link);
			fputc('}', stdout);
		} else
			json_string(stdout, mode == MODE_ALIENS ?
			    f->v[i].path : f->v[i].package);
	}
	if (json)
		fputs(k > 0 ? "\n  ]\n}\n" : "]\n}\n", stdout);
}

/*
 * chkstow's modes over one target (NULL: the stow directory's parent):
 * --badlinks, --aliens, --list.  Returns 1 when --badlinks or --aliens
 * found something, 0 when not (and for --list), 2 on errors.
 */
int
check_target(struct run *r, const char *target, enum mode mode, int json)
{
	struct findings	 f = { NULL, 0 };
	struct walker	 w;
	char		*dflt = NULL;
	int		 rc;

	if (target == NULL)
		target = dflt = target_default(r->stow_dir);
	if ((rc = walker_init(&w, r, target)) == EXIT_OK) {
		w.visit = mode == MODE_BADLINKS ? visit_badlink :
		    mode == MODE_ALIENS ? visit_alien : visit_list;
		w.found = &f;
		rc = walk(&w);
	}
	if (rc == EXIT_OK) {
		if (mode == MODE_LIST && f.n > 0)
			qsort(f.v, f.n, sizeof(*f.v), finding_pkg_cmp);
		print_chk(&f, mode, json);
		if (mode != MODE_LIST && f.n > 0)
			rc = 1;
	}
	walker_free(&w);
	findings_free(&f);
	free(dflt);
	return rc;
}

/* Counts the links of each package's plan (and every operation). */
struct opcount {
	const char	*package;
	size_t		 links;
	size_t		 ops;
};

static int
count_op(const struct stow_op *op, void *payload)
{
	struct opcount	*c = payload;

	c->ops++;
	if (op->kind == STOW_OP_LINK && strcmp(op->package, c->package) == 0)
		c->links++;
	return 0;
}

static void
quiet_log(int level, const char *msg, void *payload)
{
	(void)level;
	(void)msg;
	(void)payload;
}

/*
 * The plan --check asks its questions of.  Packages with the same
 * target, flags and ignore list share one: reset between packages, it
 * keeps what it read of the disk (the shared directories, their
 * markers, the ignore lists), so each is read once per check, not once
 * per package.
 */
struct probe {
	const char		*target;	/* NULL: the default */
	unsigned int		 flags;
	const struct strlist	*ignore;
	struct stow_ctx		*ctx;
	struct stow_plan	*plan;
};

static void
probe_close(struct probe *pr)
{
	stow_plan_free(pr->plan);
	stow_ctx_free(pr->ctx);
	pr->plan = NULL;
	pr->ctx = NULL;
}

static int
same_target(const char *a, const char *b)
{
	return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* A plan for j's package into target with flags, empty: pr's, reset,
 * when it was made for the same.  An exit code. */
static int
probe_open(struct run *r, struct probe *pr, const struct job *j,
    const char *target, unsigned int flags)
{
	if (pr->plan != NULL && same_target(pr->target, target) &&
	    pr->flags == flags && strlist_equal(pr->ignore, &j->ignore) &&
	    stow_plan_reset(pr->plan) == 0)
		return EXIT_OK;
	probe_close(pr);
	pr->target = target;
	pr->flags = flags;
	pr->ignore = &j->ignore;
	return run_open(r, target, flags, &j->ignore, NULL, &pr->ctx,
	    &pr->plan);
}

/*
 * Plans stowing j into target (NULL: the default) with flags, applying
 * nothing, and fills ps from the plan.  Returns an exit code.
 */
static int
plan_job(struct run *r, struct probe *pr, const struct job *j,
    const char *target, unsigned int flags, struct pstate *ps, int quiet,
    struct verified *vf)
{
	struct opcount		 c = { j->name, 0, 0 };
	struct collect		 col = { vf, NULL };
	struct stow_plan	*plan;
	char			*real;
	int			 rc;

	rc = probe_open(r, pr, j, target, flags);
	plan = pr->plan;
	if (rc == EXIT_OK && quiet)
		stow_ctx_set_log(pr->ctx, -1, quiet_log, NULL);
	if (rc == EXIT_OK && stow_plan_stow(plan, j->name) != 0) {
		display_printf(stderr, "%s: %s\n", r->prog, stow_ctx_errmsg(pr->ctx));
		rc = EXIT_ERROR;
	}
	if (rc != EXIT_OK) {
		ps->state = ST_ERROR;
		ps->error = xstrdup(pr->ctx != NULL ?
		    stow_ctx_errmsg(pr->ctx) : "out of memory");
		return rc;
	}
	stow_plan_foreach_op(plan, count_op, &c);
	/* The walk for dangling links passes these by. */
	if (vf != NULL && (real = realpath(ps->target, NULL)) != NULL) {
		col.real = real;
		(void)stow_plan_foreach_unchanged(plan, collect_in_place,
		    &col);
		free(real);
	}
	conflicts_collect(&ps->conflicts, plan, NULL);
	ps->missing = c.links > 0 ? c.links : c.ops;
	ps->unchanged = stow_plan_unchanged_count(plan);
	if (ps->conflicts.n > 0)
		ps->state = ST_CONFLICT;
	else if (c.ops == 0)
		ps->state = ST_STOWED;
	else if (ps->unchanged > 0)
		ps->state = ST_PARTLY;
	else
		ps->state = ST_MISSING;
	return rc;
}

/*
 * A package whose target does not exist yet is missing; how many links
 * it needs is what a stow into an empty directory would make.
 */
static int
plan_job_fresh(struct run *r, const struct job *j, unsigned int flags,
    struct pstate *ps)
{
	struct probe	 fresh = { NULL, 0, NULL, NULL, NULL };
	const char	*tmp = getenv("TMPDIR");
	char		*dir;
	int		 rc;

	dir = xasprintf_join(tmp != NULL && *tmp == '/' ? tmp : "/tmp", "/",
	    "cstow-empty.XXXXXX");
	if (mkdtemp(dir) == NULL) {
		display_printf(stderr, "%s: mkdtemp: %s: %s\n", r->prog, dir,
		    strerror(errno));
		free(dir);
		ps->state = ST_ERROR;
		ps->error = xstrdup("cannot make a temporary directory");
		return EXIT_ERROR;
	}
	rc = plan_job(r, &fresh, j, dir, flags, ps, 1, NULL);
	probe_close(&fresh);
	(void)rmdir(dir);
	free(dir);
	if (rc == EXIT_OK) {
		ps->state = ST_MISSING;
		ps->no_target = 1;
		ps->unchanged = 0;
	}
	return rc;
}

static int
check_job(struct run *r, struct probe *pr, const struct job *j,
    struct pstate *ps, struct verified *vf)
{
	/* What is in the way is reported, never settled. */
	unsigned int	 flags = j->flags & ~(STOW_F_ADOPT | STOW_F_BACKUP);
	struct stat	 st;

	ps->name = xstrdup(j->name);
	ps->target = j->target != NULL ? xstrdup(j->target) :
	    target_default(r->stow_dir);
	if (j->target != NULL && stat(j->target, &st) == -1 &&
	    errno == ENOENT)
		return plan_job_fresh(r, j, flags, ps);
	return plan_job(r, pr, j, j->target, flags, ps, 0, vf);
}

struct root {
	char	*disp;
	char	*real;
};

static int
root_cmp(const void *a, const void *b)
{
	const struct root	*x = a, *y = b;
	size_t			 n = strlen(x->real), m = strlen(y->real);

	return n < m ? -1 : n > m ? 1 : strcmp(x->real, y->real);
}

/* Is real inside (or equal to) one of roots[0..n)? */
static int
covered(const struct root *roots, size_t n, const char *real)
{
	size_t	i, len;

	for (i = 0; i < n; i++) {
		len = strlen(roots[i].real);
		if (strncmp(real, roots[i].real, len) == 0 &&
		    (real[len] == '\0' || real[len] == '/' ||
		    strcmp(roots[i].real, "/") == 0))
			return 1;
	}
	return 0;
}

/*
 * Walks the targets of the checked packages (each once: a target inside
 * another is walked with it) for dangling links into the stow
 * directory.  Returns an exit code.
 */
static int
find_dangling(struct run *r, const struct pstate *ps, size_t n,
    const struct verified *vf, struct findings *f)
{
	struct root	*roots = NULL;
	struct walker	 w;
	size_t		 i, nroots = 0, k;
	char		*real;
	int		 rc = EXIT_OK, wrc;

	for (i = 0; i < n; i++) {
		if (ps[i].state == ST_ERROR || ps[i].no_target ||
		    (real = realpath(ps[i].target, NULL)) == NULL)
			continue;
		roots = xrealloc(roots, nroots + 1, sizeof(*roots));
		roots[nroots].disp = ps[i].target;
		roots[nroots++].real = real;
	}
	if (nroots > 0)
		qsort(roots, nroots, sizeof(*roots), root_cmp);
	for (i = 0; i < nroots && !interrupted(r); i++) {
		if (covered(roots, i, roots[i].real))
			continue;
		if ((wrc = walker_init(&w, r, roots[i].disp)) == EXIT_OK) {
			w.visit = visit_dangling;
			w.found = f;
			w.verified = vf;
			wrc = walk(&w);
		}
		if (wrc != EXIT_OK)
			rc = wrc;
		walker_free(&w);
	}
	for (k = 0; k < nroots; k++)
		free(roots[k].real);
	free(roots);
	return rc;
}

static int
pstate_cmp(const void *a, const void *b)
{
	const struct pstate	*x = a, *y = b;

	return strcmp(x->name, y->name);
}

/* Files each dangling link under its package; the others, with --all,
 * under a "gone" entry for a package the stow directory lacks. */
static void
attribute(struct run *r, struct pstate **psp, size_t *np, size_t njobs,
    struct findings *f, int all)
{
	struct pstate	*ps;
	struct finding	*x;
	struct stat	 st;
	char		*dir;
	size_t		 i, k;
	int		 isdir;

	for (i = 0; i < f->n; i++) {
		x = &f->v[i];
		ps = *psp;
		for (k = 0; k < *np; k++)
			if (strcmp(ps[k].name, x->package) == 0)
				break;
		if (k == *np) {
			dir = xasprintf_join(r->stow_dir, "/", x->package);
			isdir = stat(dir, &st) == 0 && S_ISDIR(st.st_mode);
			free(dir);
			if (!all || isdir)
				continue;
			*psp = ps = xrealloc(ps, *np + 1, sizeof(*ps));
			memset(&ps[k], 0, sizeof(ps[k]));
			ps[k].name = xstrdup(x->package);
			ps[k].state = ST_GONE;
			(*np)++;
		}
		findings_add(&ps[k].dangling, x->path, x->link, NULL);
		x->path = x->link = NULL;
	}
	/* The gone entries come last, by name. */
	if (*np > njobs)
		qsort(*psp + njobs, *np - njobs, sizeof(**psp), pstate_cmp);
}

static const char *const state_names[] = {
	"stowed", "partly-stowed", "missing", "conflict", "gone", "error"
};

static void
print_text(const struct pstate *ps)
{
	size_t	i;

	if (ps->state == ST_ERROR)
		return;
	display_printf(stdout, "%s: ", ps->name);
	if (ps->state == ST_PARTLY)
		printf("partly stowed (%zu link%s missing)", ps->missing,
		    ps->missing == 1 ? "" : "s");
	else if (ps->state == ST_MISSING && ps->no_target)
		display_printf(stdout, "missing (target %s does not exist)",
		    ps->target);
	else
		printf("%s", state_names[ps->state]);
	if (ps->dangling.n > 0)
		printf(", %zu dangling link%s", ps->dangling.n,
		    ps->dangling.n == 1 ? "" : "s");
	putchar('\n');
	for (i = 0; i < ps->conflicts.n; i++)
		display_printf(stdout, "  * %s\n",
		    ps->conflicts.v[i].message);
	for (i = 0; i < ps->dangling.n; i++)
		display_printf(stdout, "  dangling: %s -> %s\n",
		    ps->dangling.v[i].path, ps->dangling.v[i].link);
}

static void
print_json(const struct pstate *ps)
{
	const struct conflict_copy *c;
	size_t			 i;

	fputs("{\"name\": ", stdout);
	json_string(stdout, ps->name);
	printf(", \"state\": \"%s\"", state_names[ps->state]);
	if (ps->state == ST_ERROR) {
		fputs(", \"message\": ", stdout);
		json_string(stdout, ps->error);
		fputc('}', stdout);
		return;
	}
	fputs(", \"target\": ", stdout);
	if (ps->target != NULL)
		json_string(stdout, ps->target);
	else
		fputs("null", stdout);
	printf(", \"target_exists\": %s, \"missing\": %zu, "
	    "\"unchanged\": %zu, \"conflicts\": [", ps->target == NULL ?
	    "null" : ps->no_target ? "false" : "true", ps->missing,
	    ps->unchanged);
	for (i = 0; i < ps->conflicts.n; i++) {
		c = &ps->conflicts.v[i];
		if (i > 0)
			fputs(", ", stdout);
		json_conflict(stdout, c->action, c->kind, c->package, c->path,
		    c->message, NULL);
	}
	fputs("], \"dangling\": [", stdout);
	for (i = 0; i < ps->dangling.n; i++) {
		fputs(i > 0 ? ", {\"path\": " : "{\"path\": ", stdout);
		json_string(stdout, ps->dangling.v[i].path);
		fputs(", \"link\": ", stdout);
		json_string(stdout, ps->dangling.v[i].link);
		fputc('}', stdout);
	}
	fputs("]}", stdout);
}

static void
pstate_free(struct pstate *ps)
{
	conflicts_free(&ps->conflicts);
	findings_free(&ps->dangling);
	free(ps->name);
	free(ps->target);
	free(ps->error);
}

/*
 * --check: says of each job whether it is stowed, partly stowed,
 * missing or in conflict, and lists dangling links into the stow
 * directory (with all, also those into packages the stow directory no
 * longer has).  Returns 0 when every package is stowed and nothing
 * dangles, 1 when not, 2 after an error.
 */
int
check_packages(struct run *r, int all, int json)
{
	struct findings	 f = { NULL, 0 };
	struct verified	 vf = { NULL, 0, 0 };
	struct probe	 pr = { NULL, 0, NULL, NULL, NULL };
	struct pstate	*ps;
	size_t		 i, n = r->njobs;
	int		 rc, error = 0, drift = 0;

	ps = xrealloc(NULL, n + 1, sizeof(*ps));
	memset(ps, 0, (n + 1) * sizeof(*ps));
	for (i = 0; i < n; i++)
		if (check_job(r, &pr, &r->jobs[i], &ps[i], &vf) != EXIT_OK)
			error = 1;
	probe_close(&pr);
	if (find_dangling(r, ps, n, &vf, &f) != EXIT_OK)
		error = 1;
	verified_free(&vf);
	attribute(r, &ps, &n, r->njobs, &f, all);
	if (json)
		fputs("{\n  \"packages\": [", stdout);
	for (i = 0; i < n; i++) {
		if (json) {
			fputs(i > 0 ? ",\n    " : "\n    ", stdout);
			print_json(&ps[i]);
		} else
			print_text(&ps[i]);
		if (ps[i].state != ST_STOWED || ps[i].dangling.n > 0)
			drift = 1;
	}
	if (json)
		fputs(n > 0 ? "\n  ]\n}\n" : "]\n}\n", stdout);
	rc = error ? EXIT_ERROR : drift ? 1 : EXIT_OK;
	for (i = 0; i < n; i++)
		pstate_free(&ps[i]);
	free(ps);
	findings_free(&f);
	return rc;
}
