/*
 * sandbox.c: per-test mkdtemp sandboxes, tree building and snapshots,
 * and the libstow helpers the plan and apply suites share.  See
 * sandbox.h for how sandboxes are kept or removed.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sandbox.h"

#define NPATHBUF	8

static SRunner	*runner;
/* The run directory, and this test's sandbox in it ("" when none). */
static char	 run_dir[PATH_MAX];
static char	 cur[PATH_MAX];

void
sandbox_runner_begin(SRunner *sr)
{
	const char	*tmp = getenv("TMPDIR");
	char		 tmpl[PATH_MAX];
	int		 n;

	runner = sr;
	if (tmp == NULL || *tmp == '\0')
		tmp = "/tmp";
	n = snprintf(tmpl, sizeof(tmpl), "%s/cstow-check.XXXXXX", tmp);
	if (n < 0 || (size_t)n >= sizeof(tmpl) || mkdtemp(tmpl) == NULL ||
	    realpath(tmpl, run_dir) == NULL) {
		fprintf(stderr, "sandbox: cannot make a run directory in "
		    "%s: %s\n", tmp, strerror(errno));
		exit(2);
	}
}

static int
unlock_cb(const char *path, const struct stat *st, int flag,
    struct FTW *ftw)
{
	(void)ftw;
	if (flag == FTW_D)
		chmod(path, (st->st_mode & 07777) | S_IRWXU);
	return 0;
}

static int
remove_cb(const char *path, const struct stat *st, int flag,
    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	if (remove(path) == -1)
		fprintf(stderr, "sandbox: remove %s: %s\n", path,
		    strerror(errno));
	return 0;
}

static void
rm_tree(const char *path)
{
	nftw(path, unlock_cb, 16, FTW_PHYS);
	nftw(path, remove_cb, 16, FTW_PHYS | FTW_DEPTH);
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char * const *)a, *(char * const *)b);
}

/*
 * Removes the sandboxes of the tests that passed, keeps (and names)
 * the others, and removes the run directory when nothing is kept.
 */
void
sandbox_runner_end(SRunner *sr)
{
	TestResult	**results;
	struct dirent	 *de;
	DIR		 *dir;
	const char	 *keep_env = getenv("CSTOW_TEST_KEEP");
	char		**names = NULL, path[PATH_MAX * 2], *end;
	size_t		  nnames = 0, i;
	long		  idx;
	int		  n, keep_all, kept = 0, passed;

	if (run_dir[0] == '\0')
		return;
	keep_all = keep_env != NULL && *keep_env != '\0' &&
	    strcmp(keep_env, "0") != 0;
	n = srunner_ntests_run(sr);
	results = srunner_results(sr);
	if ((dir = opendir(run_dir)) == NULL) {
		fprintf(stderr, "sandbox: opendir %s: %s\n", run_dir,
		    strerror(errno));
		free(results);
		return;
	}
	while ((de = readdir(dir)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		names = realloc(names, (nnames + 1) * sizeof(*names));
		if (names == NULL || (names[nnames] = strdup(de->d_name)) ==
		    NULL) {
			fprintf(stderr, "sandbox: out of memory\n");
			exit(2);
		}
		nnames++;
	}
	closedir(dir);
	if (nnames > 0)
		qsort(names, nnames, sizeof(*names), name_cmp);
	for (i = 0; i < nnames; i++) {
		snprintf(path, sizeof(path), "%s/%s", run_dir, names[i]);
		idx = strtol(names[i], &end, 10);
		passed = end != names[i] && *end == '-' && idx >= 0 &&
		    idx < n && results != NULL &&
		    tr_rtype(results[idx]) == CK_PASS;
		if (passed && !keep_all)
			rm_tree(path);
		else {
			fprintf(stderr, "sandbox kept%s: %s\n", passed ? "" :
			    " (test failed)", path);
			kept++;
		}
		free(names[i]);
	}
	free(names);
	free(results);
	if (kept == 0)
		rmdir(run_dir);
}

struct tracked {
	void		*p;
	enum sb_kind	 kind;
};

static struct tracked	*tracked;
static size_t		 ntracked, captracked;

void *
sb_track(void *p, enum sb_kind kind)
{
	struct tracked	*grown;

	if (p == NULL)
		return NULL;
	if (ntracked == captracked) {
		captracked = captracked == 0 ? 32 : captracked * 2;
		grown = realloc(tracked, captracked * sizeof(*tracked));
		if (grown == NULL) {
			fprintf(stderr, "sandbox: out of memory\n");
			exit(2);
		}
		tracked = grown;
	}
	tracked[ntracked].p = p;
	tracked[ntracked].kind = kind;
	ntracked++;
	return p;
}

static void
destroy(const struct tracked *t)
{
	switch (t->kind) {
	case SB_FREE:
		free(t->p);
		break;
	case SB_CTX:
		stow_ctx_free(t->p);
		break;
	case SB_PLAN:
		stow_plan_free(t->p);
		break;
	case SB_RC:
		stow_rc_free(t->p);
		break;
	}
}

void
sb_release(void *p)
{
	size_t	i;

	for (i = ntracked; i-- > 0;) {
		if (tracked[i].p != p)
			continue;
		destroy(&tracked[i]);
		memmove(tracked + i, tracked + i + 1,
		    (ntracked - i - 1) * sizeof(*tracked));
		ntracked--;
		return;
	}
	ck_abort_msg("sb_release: %p is not tracked", p);
}

static void
release_all(void)
{
	while (ntracked > 0)
		destroy(&tracked[--ntracked]);
	free(tracked);
	tracked = NULL;
	captracked = 0;
}

struct stow_ctx *
sb_new_ctx(void)
{
	struct stow_ctx	*ctx = stow_ctx_new();

	ck_assert_ptr_nonnull(ctx);
	return sb_track(ctx, SB_CTX);
}

struct stow_plan *
sb_plan(struct stow_ctx *ctx)
{
	struct stow_plan	*plan = NULL;
	int			 rc;

	rc = stow_plan_new(&plan, ctx);
	ck_assert_msg(rc == 0 && plan != NULL, "stow_plan_new: %d: %s", rc,
	    stow_ctx_errmsg(ctx));
	return sb_track(plan, SB_PLAN);
}

void
sandbox_setup(void)
{
	cur[0] = '\0';
	release_all();
}

void
sandbox_teardown(void)
{
	release_all();
	cur[0] = '\0';
}

const char *
sb_root(void)
{
	const char	*name;
	int		 n;

	if (cur[0] != '\0')
		return cur;
	ck_assert_msg(runner != NULL && run_dir[0] != '\0',
	    "sandbox_runner_begin() was not called");
	if ((name = tcase_name()) == NULL)
		name = "test";
	n = snprintf(cur, sizeof(cur), "%s/%04d-%s-XXXXXX", run_dir,
	    srunner_ntests_run(runner), name);
	ck_assert_msg(n > 0 && (size_t)n < sizeof(cur), "sandbox path too "
	    "long");
	if (mkdtemp(cur) == NULL) {
		cur[0] = '\0';
		ck_abort_msg("mkdtemp in %s: %s", run_dir, strerror(errno));
	}
	return cur;
}

const char *
sb_path(const char *rel)
{
	static char	bufs[NPATHBUF][PATH_MAX];
	static int	next;
	const char	*root = sb_root();
	char		*buf = bufs[next];
	int		 n;

	next = (next + 1) % NPATHBUF;
	if (rel == NULL || *rel == '\0')
		n = snprintf(buf, PATH_MAX, "%s", root);
	else
		n = snprintf(buf, PATH_MAX, "%s/%s", root, rel);
	ck_assert_msg(n > 0 && n < PATH_MAX, "path too long: %s", rel);
	return buf;
}

/* mkdir -p for the directories leading to rel (and rel itself when
 * self is set). */
static void
make_parents(const char *rel, int self)
{
	char	 buf[PATH_MAX];
	char	*p;
	int	 n;

	n = snprintf(buf, sizeof(buf), "%s/%s", sb_root(), rel);
	ck_assert_msg(n > 0 && (size_t)n < sizeof(buf), "path too long");
	for (p = buf + strlen(sb_root()) + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		ck_assert_msg(mkdir(buf, 0755) == 0 || errno == EEXIST,
		    "mkdir %s: %s", buf, strerror(errno));
		*p = '/';
	}
	if (self)
		ck_assert_msg(mkdir(buf, 0755) == 0 || errno == EEXIST,
		    "mkdir %s: %s", buf, strerror(errno));
}

void
sb_mkdir(const char *rel)
{
	make_parents(rel, 1);
}

void
sb_write(const char *rel, const char *text)
{
	const char	*path;
	size_t		 len = strlen(text);
	int		 fd;

	make_parents(rel, 0);
	path = sb_path(rel);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ck_assert_msg(fd != -1, "open %s: %s", path, strerror(errno));
	ck_assert_msg(write(fd, text, len) == (ssize_t)len, "write %s: %s",
	    path, strerror(errno));
	close(fd);
}

void
sb_symlink(const char *rel, const char *text)
{
	const char	*path;

	make_parents(rel, 0);
	path = sb_path(rel);
	ck_assert_msg(symlink(text, path) == 0, "symlink %s: %s", path,
	    strerror(errno));
}

void
sb_build(const char *const *spec)
{
	char		 buf[PATH_MAX * 2];
	char		*name, *arg;

	for (; *spec != NULL; spec++) {
		ck_assert_msg(strlen(*spec) > 2 && (*spec)[1] == ' ' &&
		    strlen(*spec) < sizeof(buf), "bad tree spec '%s'", *spec);
		memcpy(buf, *spec, strlen(*spec) + 1);
		name = buf + 2;
		switch (buf[0]) {
		case 'd':
			sb_mkdir(name);
			break;
		case 'f':
			if ((arg = strstr(name, " = ")) != NULL) {
				*arg = '\0';
				arg += 3;
			}
			sb_write(name, arg != NULL ? arg : "");
			break;
		case 'l':
			arg = strstr(name, " -> ");
			ck_assert_msg(arg != NULL, "bad link spec '%s'", *spec);
			*arg = '\0';
			sb_symlink(name, arg + 4);
			break;
		default:
			ck_abort_msg("bad tree spec '%s'", *spec);
		}
	}
}

char *
sb_read(const char *rel)
{
	char	*buf = NULL, *grown;
	size_t	 len = 0, cap = 0;
	ssize_t	 r;
	int	 fd;

	if ((fd = open(sb_path(rel), O_RDONLY)) == -1)
		return NULL;
	for (;;) {
		if (len + 1 >= cap) {
			cap = cap == 0 ? 256 : cap * 2;
			if ((grown = realloc(buf, cap)) == NULL) {
				free(buf);
				close(fd);
				return NULL;
			}
			buf = grown;
		}
		if ((r = read(fd, buf + len, cap - len - 1)) <= 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	if (r < 0) {
		free(buf);
		return NULL;
	}
	buf[len] = '\0';
	return sb_track(buf, SB_FREE);
}

const char *
sb_readlink(const char *rel)
{
	static char	buf[PATH_MAX];
	ssize_t		n;

	if ((n = readlink(sb_path(rel), buf, sizeof(buf) - 1)) == -1)
		return NULL;
	buf[n] = '\0';
	return buf;
}

int
sb_type(const char *rel)
{
	struct stat	st;

	if (lstat(sb_path(rel), &st) == -1)
		return 0;
	if (S_ISLNK(st.st_mode))
		return 'l';
	if (S_ISDIR(st.st_mode))
		return 'd';
	if (S_ISREG(st.st_mode))
		return 'f';
	return '?';
}

struct lines {
	char	**v;
	size_t	  n;
};

static void
lines_add(struct lines *l, char *line)
{
	l->v = realloc(l->v, (l->n + 1) * sizeof(*l->v));
	ck_assert_ptr_nonnull(l->v);
	l->v[l->n++] = line;
}

/* The start of a file's text, escaped onto one line. */
static char *
file_summary(const char *abs)
{
	unsigned char	 buf[257];
	char		*s = NULL;
	ssize_t		 n, i;
	int		 fd;

	if ((fd = open(abs, O_RDONLY)) == -1)
		return sb_append(NULL, "<unreadable: %s>", strerror(errno));
	n = read(fd, buf, sizeof(buf));
	close(fd);
	s = sb_append(NULL, "%s", "");
	for (i = 0; i < n && i < 256; i++) {
		if (buf[i] == '\\')
			s = sb_append(s, "\\\\");
		else if (buf[i] == '\n')
			s = sb_append(s, "\\n");
		else if (buf[i] < 0x20 || buf[i] >= 0x7f)
			s = sb_append(s, "\\x%02x", buf[i]);
		else
			s = sb_append(s, "%c", buf[i]);
	}
	if (n > 256)
		s = sb_append(s, "...");
	return s;
}

static void
walk(struct lines *l, const char *abs, const char *rel)
{
	struct dirent	*de;
	struct stat	 st;
	DIR		*dir;
	char		 cabs[PATH_MAX], crel[PATH_MAX], link[PATH_MAX];
	char		*text;
	ssize_t		 n;

	ck_assert_msg((dir = opendir(abs)) != NULL, "opendir %s: %s", abs,
	    strerror(errno));
	while ((de = readdir(dir)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(cabs, sizeof(cabs), "%s/%s", abs, de->d_name);
		snprintf(crel, sizeof(crel), "%s%s%s", rel, *rel == '\0' ?
		    "" : "/", de->d_name);
		ck_assert_msg(lstat(cabs, &st) == 0, "lstat %s: %s", cabs,
		    strerror(errno));
		if (S_ISLNK(st.st_mode)) {
			n = readlink(cabs, link, sizeof(link) - 1);
			link[n < 0 ? 0 : n] = '\0';
			lines_add(l, sb_append(NULL, "l %s -> %s", crel, link));
		} else if (S_ISDIR(st.st_mode)) {
			lines_add(l, sb_append(NULL, "d %s", crel));
			walk(l, cabs, crel);
		} else if (S_ISREG(st.st_mode)) {
			text = file_summary(cabs);
			lines_add(l, sb_append(NULL, "f %s %s", crel, text));
			free(text);
		} else
			lines_add(l, sb_append(NULL, "? %s", crel));
	}
	closedir(dir);
}

char *
sb_snapshot(const char *rel)
{
	struct lines	 l = { NULL, 0 };
	char		*out;
	size_t		 i;

	if (rel == NULL)
		rel = "";
	walk(&l, sb_path(rel), rel);
	if (l.n > 0)
		qsort(l.v, l.n, sizeof(*l.v), name_cmp);
	out = sb_append(NULL, "%s", "");
	for (i = 0; i < l.n; i++) {
		out = sb_append(out, "%s\n", l.v[i]);
		free(l.v[i]);
	}
	free(l.v);
	return sb_track(out, SB_FREE);
}

char *
sb_append(char *s, const char *fmt, ...)
{
	va_list	 ap;
	size_t	 len = s == NULL ? 0 : strlen(s);
	int	 n;
	char	*grown;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	ck_assert_int_ge(n, 0);
	grown = realloc(s, len + (size_t)n + 1);
	ck_assert_ptr_nonnull(grown);
	va_start(ap, fmt);
	vsnprintf(grown + len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return grown;
}

struct stow_ctx *
sb_ctx(unsigned int flags)
{
	struct stow_opts	 opts = STOW_OPTS_INIT;

	opts.flags = flags;
	return sb_ctx_opts(&opts);
}

struct stow_ctx *
sb_ctx_opts(struct stow_opts *opts)
{
	struct stow_ctx		*ctx;
	char			 msg[1024];
	int			 rc;

	sb_mkdir("stow");
	sb_mkdir("t");
	opts->stow_dir = sb_path("stow");
	opts->target_dir = sb_path("t");
	ctx = sb_new_ctx();
	if ((rc = stow_ctx_configure(ctx, opts)) != 0) {
		snprintf(msg, sizeof(msg), "%s", stow_ctx_errmsg(ctx));
		ck_abort_msg("stow_ctx_configure: %d: %s", rc, msg);
	}
	return ctx;
}

static int
op_line(const struct stow_op *op, void *payload)
{
	char	**s = payload;

	switch (op->kind) {
	case STOW_OP_LINK:
	case STOW_OP_UNLINK:
		*s = sb_append(*s, "%s %s => %s (%s)\n", op->kind ==
		    STOW_OP_LINK ? "LINK" : "UNLINK", op->path,
		    op->link != NULL ? op->link : "(null)", op->package);
		break;
	case STOW_OP_MKDIR:
	case STOW_OP_RMDIR:
		*s = sb_append(*s, "%s %s (%s)\n", op->kind ==
		    STOW_OP_MKDIR ? "MKDIR" : "RMDIR", op->path, op->package);
		break;
	case STOW_OP_MOVE:
	case STOW_OP_BACKUP:
		*s = sb_append(*s, "%s %s -> %s (%s)\n", op->kind ==
		    STOW_OP_MOVE ? "MOVE" : "BACKUP", op->path,
		    op->dest != NULL ? op->dest : "(null)", op->package);
		break;
	default:
		*s = sb_append(*s, "KIND%d %s\n", (int)op->kind, op->path);
	}
	return 0;
}

char *
sb_ops(const struct stow_plan *plan)
{
	char	*s = sb_append(NULL, "%s", "");
	int	 rc;

	rc = stow_plan_foreach_op(plan, op_line, &s);
	sb_track(s, SB_FREE);
	ck_assert_int_eq(rc, 0);
	return s;
}

static const char *
kind_name(enum stow_conflict_kind kind)
{
	switch (kind) {
	case STOW_CONFLICT_NOT_OWNED:
		return "NOT_OWNED";
	case STOW_CONFLICT_OTHER_PACKAGE:
		return "OTHER_PACKAGE";
	case STOW_CONFLICT_ABSOLUTE_LINK:
		return "ABSOLUTE_LINK";
	case STOW_CONFLICT_TYPE:
		return "TYPE";
	case STOW_CONFLICT_LINK_LOOP:
		return "LINK_LOOP";
	}
	return "UNKNOWN";
}

static int
conflict_line(const struct stow_conflict *c, void *payload)
{
	char	**s = payload;

	*s = sb_append(*s, "%s %s %s %s: %s\n", c->action ==
	    STOW_ACTION_STOW ? "stow" : c->action == STOW_ACTION_UNSTOW ?
	    "unstow" : "?", c->package, kind_name(c->kind), c->path,
	    c->message);
	return 0;
}

char *
sb_conflicts(const struct stow_plan *plan)
{
	char	*s = sb_append(NULL, "%s", "");
	int	 rc;

	rc = stow_plan_foreach_conflict(plan, conflict_line, &s);
	sb_track(s, SB_FREE);
	ck_assert_int_eq(rc, 0);
	return s;
}
