/*
 * bench_floor.c: the least work a stow-like tool could do, for tests/bench.sh.
 *
 * Each mode issues only the system calls its result needs, so its time is
 * a floor for the same workload done by cstow, GNU Stow or cp -as:
 *
 *   floor link SRC... DST walk each SRC; symlinkat each file into the
 *                         matching directory of DST (the directories
 *                         already exist; nothing else is created)
 *   floor unlink DST      walk DST; readlinkat every symbolic link (an
 *                         unstow must read a link to know it owns it),
 *                         then unlinkat it
 *   floor noop SRC... DST walk each SRC; readlinkat each matching DST
 *                         entry and check its text (the least work to
 *                         verify that everything is already stowed); a
 *                         DST entry that is a real directory is descended
 *                         into
 *   floor restow SRC... DST
 *                         noop, and list each DST directory walked first:
 *                         a restow (GNU Stow's unstow, then stow) must,
 *                         as its unstow cleans up the dangling links it
 *                         owns there, and those it can only find by
 *                         listing
 *   floor check SRC... DST
 *                         noop, then list every directory of DST: a check
 *                         for dangling links into the stow directory must
 *                         find the links no package entry leads to, which
 *                         only a listing shows (the links noop read are
 *                         known not to dangle)
 *   floor tree DST SRC... stow without folding into an empty DST: walk each
 *                         SRC; mkdirat each directory (one already made
 *                         by an earlier SRC is fine) and symlinkat each
 *                         file
 *   floor fold [-d] DST SRC...
 *                         stow with folding: try symlinkat for each entry
 *                         of each SRC; where a directory entry collides
 *                         with an existing DST directory, descend into it.
 *                         -d maps "dot-X" names to ".X" (--dotfiles)
 *   floor plan DST SRC... stow without folding, deciding everything before
 *                         changing anything, as cstow does: walk each SRC
 *                         and list each DST directory that exists, keep
 *                         every link and directory to make in memory (a
 *                         path set: a later SRC sees what an earlier one
 *                         planned), stop at the first entry in the way,
 *                         and only then mkdirat and symlinkat, in order,
 *                         each directory opened once per run of its
 *                         entries.  No journal, no ignore lists, no
 *                         folding: the least a plan-first stow pays
 *
 * Link texts are relative, as Stow makes them ("../../stow/pkg/d000/f000").
 * Exit status 0 on success, 1 on any failure (with a message).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *prog = "floor";
static int dotfiles;

static void
die(const char *what, const char *path)
{
	fprintf(stderr, "%s: %s %s: %s\n", prog, what, path, strerror(errno));
	exit(1);
}

/*
 * The link text for an entry at depth 0 of DST is REL/SUB/NAME, where REL
 * leads from DST to SRC.  One "../" is prepended per level below DST.  The
 * text lives in one buffer: text[0..len) is "../"*depth + REL + "/" + SUB.
 */
struct text {
	char buf[PATH_MAX];
	size_t len;
};

static size_t
text_push(struct text *t, const char *name)
{
	size_t old = t->len, n = strlen(name);

	if (t->len + n + 2 >= sizeof(t->buf)) {
		errno = ENAMETOOLONG;
		die("link text for", name);
	}
	t->buf[t->len++] = '/';
	memcpy(t->buf + t->len, name, n + 1);
	t->len += n;
	return old;
}

/* Prepend one "../" (descending one level in DST). */
static void
text_down(struct text *t)
{
	if (t->len + 4 >= sizeof(t->buf)) {
		errno = ENAMETOOLONG;
		die("link text", t->buf);
	}
	memmove(t->buf + 3, t->buf, t->len + 1);
	memcpy(t->buf, "../", 3);
	t->len += 3;
}

static void
text_up(struct text *t)
{
	memmove(t->buf, t->buf + 3, t->len - 3 + 1);
	t->len -= 3;
}

static DIR *
open_dir(int at, const char *name)
{
	int fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	DIR *d;

	if (fd < 0)
		die("open", name);
	if ((d = fdopendir(fd)) == NULL)
		die("fdopendir", name);
	return d;
}

static int
is_dot(const char *n)
{
	return n[0] == '.' && (n[1] == '\0' || (n[1] == '.' && n[2] == '\0'));
}

static int
entry_is_dir(int dirfd, const struct dirent *e)
{
	struct stat st;

	if (e->d_type != DT_UNKNOWN)
		return e->d_type == DT_DIR;
	if (fstatat(dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		die("stat", e->d_name);
	return S_ISDIR(st.st_mode);
}

static int
entry_is_link(int dirfd, const struct dirent *e)
{
	struct stat st;

	if (e->d_type != DT_UNKNOWN)
		return e->d_type == DT_LNK;
	if (fstatat(dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		die("stat", e->d_name);
	return S_ISLNK(st.st_mode);
}

static long count;
static int making;	/* tree: make each directory, unless made already */

/* link: SRC dir stream, DST dir fd, text = link text of the SRC dir. */
static void
do_link(DIR *src, int dst, struct text *t)
{
	struct dirent *e;
	int sfd = dirfd(src);

	while ((e = readdir(src)) != NULL) {
		if (is_dot(e->d_name))
			continue;
		size_t mark = text_push(t, e->d_name);
		if (entry_is_dir(sfd, e)) {
			if (making && mkdirat(dst, e->d_name, 0755) < 0 &&
			    errno != EEXIST)
				die("mkdir", e->d_name);
			int sub = openat(dst, e->d_name, O_PATH | O_DIRECTORY |
			    O_NOFOLLOW | O_CLOEXEC);
			if (sub < 0)
				die("open target dir", e->d_name);
			DIR *s = open_dir(sfd, e->d_name);
			text_down(t);
			do_link(s, sub, t);
			text_up(t);
			closedir(s);
			close(sub);
		} else {
			if (symlinkat(t->buf, dst, e->d_name) < 0)
				die("symlink", e->d_name);
			count++;
		}
		t->len = mark;
		t->buf[mark] = '\0';
	}
}

static void
do_unlink(DIR *dst)
{
	struct dirent *e;
	int fd = dirfd(dst);

	while ((e = readdir(dst)) != NULL) {
		if (is_dot(e->d_name))
			continue;
		if (entry_is_link(fd, e)) {
			char text[PATH_MAX];

			if (readlinkat(fd, e->d_name, text, sizeof(text)) < 0)
				die("readlink", e->d_name);
			if (unlinkat(fd, e->d_name, 0) < 0)
				die("unlink", e->d_name);
			count++;
		} else if (entry_is_dir(fd, e)) {
			DIR *s = open_dir(fd, e->d_name);
			do_unlink(s);
			closedir(s);
		}
	}
}

/* restow: list DST directory dst, as a restow does to clean it up. */
static void
list_dst(int dst, const char *name)
{
	union {
		struct dirent64 de;
		char bytes[16384];
	} buf;
	ssize_t n;

	while ((n = getdents64(dst, buf.bytes, sizeof(buf.bytes))) > 0)
		;
	if (n < 0)
		die("list target dir", name);
}

static int restowing;

static void
do_noop(DIR *src, int dst, struct text *t)
{
	struct dirent *e;
	int sfd = dirfd(src);
	char got[PATH_MAX];

	while ((e = readdir(src)) != NULL) {
		if (is_dot(e->d_name))
			continue;
		size_t mark = text_push(t, e->d_name);
		ssize_t n = readlinkat(dst, e->d_name, got, sizeof(got) - 1);
		if (n >= 0) {
			got[n] = '\0';
			if (strcmp(got, t->buf) != 0) {
				fprintf(stderr, "%s: %s -> %s, want %s\n", prog,
				    e->d_name, got, t->buf);
				exit(1);
			}
			count++;
		} else if (errno == EINVAL && entry_is_dir(sfd, e)) {
			int sub = openat(dst, e->d_name, (restowing ? O_RDONLY :
			    O_PATH) | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub < 0)
				die("open target dir", e->d_name);
			if (restowing)
				list_dst(sub, e->d_name);
			DIR *s = open_dir(sfd, e->d_name);
			text_down(t);
			do_noop(s, sub, t);
			text_up(t);
			closedir(s);
			close(sub);
		} else {
			die("readlink", e->d_name);
		}
		t->len = mark;
		t->buf[mark] = '\0';
	}
}

static void
do_fold(DIR *src, int dst, struct text *t)
{
	struct dirent *e;
	int sfd = dirfd(src);
	char name[NAME_MAX + 1];

	while ((e = readdir(src)) != NULL) {
		if (is_dot(e->d_name))
			continue;
		const char *dn = e->d_name;
		if (dotfiles && strncmp(dn, "dot-", 4) == 0 && dn[4] != '\0') {
			snprintf(name, sizeof(name), ".%s", dn + 4);
			dn = name;
		}
		size_t mark = text_push(t, e->d_name);
		if (symlinkat(t->buf, dst, dn) == 0) {
			count++;
		} else if (errno == EEXIST && entry_is_dir(sfd, e)) {
			int sub = openat(dst, dn, O_PATH | O_DIRECTORY |
			    O_NOFOLLOW | O_CLOEXEC);
			if (sub < 0)
				die("conflict at", dn);
			DIR *s = open_dir(sfd, e->d_name);
			text_down(t);
			do_fold(s, sub, t);
			text_up(t);
			closedir(s);
			close(sub);
		} else {
			die("symlink", dn);
		}
		t->len = mark;
		t->buf[mark] = '\0';
	}
}

/* check: list every directory below DST (dst, open for reading). */
static void
list_tree(int dst, const char *name)
{
	union {
		struct dirent64 de;
		char bytes[16384];
	} buf;
	ssize_t n, off;

	while ((n = getdents64(dst, buf.bytes, sizeof(buf.bytes))) > 0) {
		for (off = 0; off < n; ) {
			struct dirent64 *de = (struct dirent64 *)
			    (void *)(buf.bytes + off);
			off += de->d_reclen;
			if (de->d_type != DT_DIR || is_dot(de->d_name))
				continue;
			int sub = openat(dst, de->d_name, O_RDONLY |
			    O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub < 0)
				die("open target dir", de->d_name);
			list_tree(sub, de->d_name);
			close(sub);
		}
	}
	if (n < 0)
		die("list target dir", name);
}

/*
 * plan: what a stow that decides before it changes must keep.  Each
 * planned step is a directory to make or a link to make, with its path
 * below DST (which the apply opens the parent of) and, for a link, its
 * text.
 */
struct step {
	char *path;		/* below DST */
	char *text;		/* NULL: a directory */
	size_t dir_len;		/* path[0..dir_len) is the parent ("" at top) */
};

static struct step *steps;
static size_t nsteps, capsteps;

/* The set of planned paths (open addressing, FNV-1a), so that a later
 * SRC finds what an earlier one planned: a directory to fill, or a
 * link in the way.  It holds indexes into steps, plus one (0: empty),
 * which stay true as steps grows. */
static size_t *set;
static size_t capset = 1u << 10, nset;

static uint64_t
hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static struct step *
planned(const char *path)
{
	size_t i = hash_str(path) & (capset - 1);

	for (; set[i] != 0; i = (i + 1) & (capset - 1))
		if (strcmp(steps[set[i] - 1].path, path) == 0)
			return &steps[set[i] - 1];
	return NULL;
}

static void
set_add(size_t k)
{
	size_t i;

	if ((nset + 1) * 2 > capset) {
		size_t *old = set;
		size_t oldcap = capset;

		capset *= 2;
		if ((set = calloc(capset, sizeof(*set))) == NULL)
			die("plan", "set");
		nset = 0;
		for (i = 0; i < oldcap; i++)
			if (old[i] != 0)
				set_add(old[i] - 1);
		free(old);
	}
	for (i = hash_str(steps[k].path) & (capset - 1); set[i] != 0;
	    i = (i + 1) & (capset - 1))
		;
	set[i] = k + 1;
	nset++;
}

static void
plan_step(const char *path, size_t dir_len, const char *text)
{
	if (nsteps == capsteps) {
		capsteps = capsteps == 0 ? 1024 : capsteps * 2;
		if ((steps = reallocarray(steps, capsteps,
		    sizeof(*steps))) == NULL)
			die("plan", path);
	}
	struct step *st = &steps[nsteps++];
	if ((st->path = strdup(path)) == NULL ||
	    (text != NULL && (st->text = strdup(text)) == NULL))
		die("plan", path);
	if (text == NULL)
		st->text = NULL;
	st->dir_len = dir_len;
}

/* A DST directory's names, sorted, to look entries up in. */
struct names {
	char **v;
	size_t n;
};

static int
cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
list_names(int at, const char *path, struct names *l)
{
	union {
		struct dirent64 de;
		char bytes[16384];
	} buf;
	ssize_t n, off;
	size_t cap = 0;
	int fd = openat(at, path[0] == '\0' ? "." : path, O_RDONLY |
	    O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	l->v = NULL;
	l->n = 0;
	if (fd < 0)
		die("open target dir", path);
	while ((n = getdents64(fd, buf.bytes, sizeof(buf.bytes))) > 0) {
		for (off = 0; off < n; ) {
			struct dirent64 *de = (struct dirent64 *)
			    (void *)(buf.bytes + off);
			off += de->d_reclen;
			if (is_dot(de->d_name))
				continue;
			if (l->n == cap) {
				cap = cap == 0 ? 16 : cap * 2;
				if ((l->v = reallocarray(l->v, cap,
				    sizeof(*l->v))) == NULL)
					die("list", path);
			}
			if ((l->v[l->n++] = strdup(de->d_name)) == NULL)
				die("list", path);
		}
	}
	if (n < 0)
		die("list target dir", path);
	close(fd);
	qsort(l->v, l->n, sizeof(*l->v), cmp_name);
}

static void
names_free(struct names *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
}

/* plan: SRC dir stream, the DST path below DST (dst), whether it is on
 * disk (else planned: nothing there yet), text as for do_link. */
static void
do_plan(DIR *src, int dst, char *path, size_t plen, int on_disk,
    struct text *t)
{
	struct dirent *e;
	struct names l = { NULL, 0 };
	int sfd = dirfd(src);

	if (on_disk)
		list_names(dst, path, &l);
	while ((e = readdir(src)) != NULL) {
		if (is_dot(e->d_name))
			continue;
		size_t n = strlen(e->d_name);
		if (plen + n + 2 >= PATH_MAX) {
			errno = ENAMETOOLONG;
			die("plan", e->d_name);
		}
		size_t len = plen;
		if (plen > 0)
			path[len++] = '/';
		memcpy(path + len, e->d_name, n + 1);
		char *name = e->d_name;
		int there = on_disk && bsearch(&name, l.v, l.n, sizeof(*l.v),
		    cmp_name) != NULL;
		struct step *st = nsteps == 0 ? NULL : planned(path);
		size_t mark = text_push(t, e->d_name);
		int isdir = entry_is_dir(sfd, e);
		if (isdir && (st == NULL || st->text == NULL)) {
			struct stat sb;
			if (there && (fstatat(dst, path, &sb,
			    AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(sb.st_mode)))
				die("in the way", path);
			if (!there && st == NULL) {
				plan_step(path, plen, NULL);
				set_add(nsteps - 1);
			}
			DIR *s = open_dir(sfd, e->d_name);
			text_down(t);
			do_plan(s, dst, path, len + n, there, t);
			text_up(t);
			closedir(s);
		} else if (there || st != NULL) {
			errno = EEXIST;
			die("in the way", path);
		} else {
			plan_step(path, plen, t->buf);
			count++;
		}
		t->len = mark;
		t->buf[mark] = '\0';
		path[plen] = '\0';
	}
	names_free(&l);
}

/* The planned steps, in order; each parent directory is opened once
 * per run of steps in it. */
static void
apply_plan(int dst)
{
	int at = -1;
	const char *at_path = NULL;
	size_t at_len = 0;
	char parent[PATH_MAX];

	for (size_t i = 0; i < nsteps; i++) {
		struct step *st = &steps[i];
		if (at == -1 || st->dir_len != at_len ||
		    strncmp(st->path, at_path, at_len) != 0) {
			if (at != -1 && at != dst)
				close(at);
			memcpy(parent, st->path, st->dir_len);
			parent[st->dir_len] = '\0';
			at = st->dir_len == 0 ? dst : openat(dst, parent,
			    O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (at < 0)
				die("open target dir", parent);
			at_path = st->path;
			at_len = st->dir_len;
		}
		const char *name = st->path + st->dir_len +
		    (st->dir_len > 0);
		if (st->text == NULL ? mkdirat(at, name, 0755) :
		    symlinkat(st->text, at, name))
			die(st->text == NULL ? "mkdir" : "symlink", st->path);
	}
	if (at != -1 && at != dst)
		close(at);
}

/* REL: the relative path from directory DST to SRC (both must exist). */
static void
relpath(const char *src, const char *dst, struct text *t)
{
	char s[PATH_MAX], d[PATH_MAX];
	size_t i = 0, common = 0;

	if (realpath(src, s) == NULL)
		die("resolve", src);
	if (realpath(dst, d) == NULL)
		die("resolve", dst);
	/* The last '/'-boundary up to which both paths agree. */
	while (s[i] != '\0' && s[i] == d[i]) {
		i++;
		if ((s[i] == '/' || s[i] == '\0') &&
		    (d[i] == '/' || d[i] == '\0'))
			common = i;
	}
	t->len = 0;
	t->buf[0] = '\0';
	for (const char *p = d + common; *p != '\0'; p++)
		if (*p == '/') {
			memcpy(t->buf + t->len, "../", 4);
			t->len += 3;
		}
	const char *rest = s + common;
	if (*rest == '/')
		rest++;
	if (t->len > 0 && *rest == '\0')
		t->len--;		/* drop the trailing '/' */
	else if (t->len == 0 && *rest == '\0')
		rest = ".";
	if (t->len + strlen(rest) + 1 >= sizeof(t->buf)) {
		errno = ENAMETOOLONG;
		die("relative path", src);
	}
	strcpy(t->buf + t->len, rest);
	t->len += strlen(rest);
}

static void
usage(void)
{
	fprintf(stderr, "usage: %s link|noop|restow|check SRC... DST | "
	    "unlink DST | fold [-d] DST SRC... | tree|plan DST SRC...\n", prog);
	exit(1);
}

int
main(int argc, char **argv)
{
	static struct text t;

	if (argc < 3)
		usage();
	if (strcmp(argv[1], "unlink") == 0 && argc == 3) {
		DIR *d = open_dir(AT_FDCWD, argv[2]);
		do_unlink(d);
		closedir(d);
	} else if ((strcmp(argv[1], "link") == 0 ||
	    strcmp(argv[1], "noop") == 0 ||
	    strcmp(argv[1], "restow") == 0 ||
	    strcmp(argv[1], "check") == 0) && argc >= 4) {
		const char *dstname = argv[argc - 1];
		restowing = argv[1][0] == 'r';
		int dst = open(dstname, (restowing ? O_RDONLY : O_PATH) |
		    O_DIRECTORY | O_CLOEXEC);
		if (dst < 0)
			die("open", dstname);
		if (restowing)
			list_dst(dst, dstname);
		for (int j = 2; j < argc - 1; j++) {
			DIR *s = open_dir(AT_FDCWD, argv[j]);
			relpath(argv[j], dstname, &t);
			if (argv[1][0] == 'l')
				do_link(s, dst, &t);
			else
				do_noop(s, dst, &t);
			closedir(s);
		}
		close(dst);
		if (argv[1][0] == 'c') {
			if ((dst = open(dstname, O_RDONLY | O_DIRECTORY |
			    O_CLOEXEC)) < 0)
				die("open", dstname);
			list_tree(dst, dstname);
			close(dst);
		}
	} else if (strcmp(argv[1], "tree") == 0) {
		int dst = open(argv[2], O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (dst < 0)
			die("open", argv[2]);
		making = 1;
		for (int j = 3; j < argc; j++) {
			DIR *s = open_dir(AT_FDCWD, argv[j]);
			relpath(argv[j], argv[2], &t);
			do_link(s, dst, &t);
			closedir(s);
		}
		close(dst);
	} else if (strcmp(argv[1], "plan") == 0) {
		char path[PATH_MAX] = "";
		int dst = open(argv[2], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dst < 0)
			die("open", argv[2]);
		if ((set = calloc(capset, sizeof(*set))) == NULL)
			die("plan", argv[2]);
		for (int j = 3; j < argc; j++) {
			DIR *s = open_dir(AT_FDCWD, argv[j]);
			relpath(argv[j], argv[2], &t);
			do_plan(s, dst, path, 0, 1, &t);
			closedir(s);
		}
		apply_plan(dst);
		close(dst);
	} else if (strcmp(argv[1], "fold") == 0) {
		int i = 2;
		if (i < argc && strcmp(argv[i], "-d") == 0) {
			dotfiles = 1;
			i++;
		}
		if (argc - i < 2)
			usage();
		int dst = open(argv[i], O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (dst < 0)
			die("open", argv[i]);
		for (int j = i + 1; j < argc; j++) {
			DIR *s = open_dir(AT_FDCWD, argv[j]);
			relpath(argv[j], argv[i], &t);
			do_fold(s, dst, &t);
			closedir(s);
		}
		close(dst);
	} else {
		usage();
	}
	if (getenv("FLOOR_VERBOSE") != NULL)
		fprintf(stderr, "%s: %ld entries\n", prog, count);
	return 0;
}
