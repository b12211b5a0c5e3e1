/*
 * threads.c: libstow from several threads at once.  Each of NTHREADS
 * threads has its own stow_ctx and stows, then unstows, its own two
 * packages (taken from one shared stow directory) into its own target,
 * checking the tree on disk after every run.  stow.h promises that
 * separate contexts share nothing; run under -fsanitize=thread or
 * helgrind this checks it.
 *
 * Usage: threads [ITERATIONS]   (default 20).  Exits 0 when every
 * thread saw exactly what it expected; keeps its tree on failure.
 */
#include <sys/stat.h>

#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <stow.h>

#define NTHREADS	8

struct job {
	pthread_t	 tid;
	int		 n;
	int		 iterations;
	const char	*base;
	int		 failed;
	char		 why[1024];
	size_t		 applied;	/* written only by this job's thread */
	size_t		 log_lines;
};

/* snprintf that reports truncation; the buffer holds what fits. */
static int
pathf(char *buf, size_t size, const char *fmt, ...)
{
	va_list	 ap;
	int	 len;

	va_start(ap, fmt);
	len = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return len < 0 || (size_t)len >= size ? -1 : 0;
}

static int
fail(struct job *j, const char *what, const char *detail)
{
	if (!j->failed)
		pathf(j->why, sizeof(j->why), "thread %d: %s: %s", j->n,
		    what, detail != NULL ? detail : "");
	j->failed = 1;
	return -1;
}

static int
mkdirs(char *path)
{
	char	*p;

	for (p = path + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0755) == -1 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(path, 0755) == -1 && errno != EEXIST)
		return -1;
	return 0;
}

/* Package tN_a: bin/tN_a, share/doc/tN/README; tN_b: bin/tN_b,
 * share/man/tN.1.  Target tN holds a real bin/ already. */
static int
make_fixture(const char *base, int n)
{
	static const char *const files[] = {
		"stow/t%d_a/bin/t%d_a",
		"stow/t%d_a/share/doc/t%d/README",
		"stow/t%d_b/bin/t%d_b",
		"stow/t%d_b/share/man/t%d.1",
		"t%d/bin/",
	};
	char	 rel[256], p[PATH_MAX], *slash;
	FILE	*f;
	size_t	 i;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		if (pathf(rel, sizeof(rel), files[i], n, n) == -1 ||
		    pathf(p, sizeof(p), "%s/%s", base, rel) == -1)
			return -1;
		slash = strrchr(p, '/');
		*slash = '\0';
		if (mkdirs(p) == -1)
			return -1;
		*slash = '/';
		if (slash[1] == '\0')
			continue;
		if ((f = fopen(p, "w")) == NULL)
			return -1;
		fprintf(f, "%s\n", rel);
		if (fclose(f) == EOF)
			return -1;
	}
	return 0;
}

static void
count_log(int level, const char *msg, void *payload)
{
	struct job	*j = payload;

	(void)level;
	if (msg != NULL && *msg != '\0')
		j->log_lines++;
}

static int
count_op(const struct stow_op *op, void *payload)
{
	struct job	*j = payload;

	if (op->path == NULL || op->package == NULL)
		return fail(j, "op without path or package", NULL);
	j->applied++;
	return 0;
}

/* lstat() says what target-relative rel is (type 0: absent); for a
 * link, its text must be link. */
static int
expect(struct job *j, const char *rel, int type, const char *link)
{
	char		 path[PATH_MAX], buf[PATH_MAX];
	struct stat	 st;
	ssize_t		 len;

	if (pathf(path, sizeof(path), "%s/t%d/%s", j->base, j->n, rel) == -1)
		return fail(j, "path too long", rel);
	if (lstat(path, &st) == -1) {
		if (type == 0 && errno == ENOENT)
			return 0;
		return fail(j, "missing", path);
	}
	if (type == 0)
		return fail(j, "should be gone", path);
	if ((st.st_mode & S_IFMT) != (mode_t)type)
		return fail(j, "wrong type", path);
	if (type != S_IFLNK)
		return 0;
	if ((len = readlink(path, buf, sizeof(buf) - 1)) == -1)
		return fail(j, "readlink", path);
	buf[len] = '\0';
	if (strcmp(buf, link) != 0)
		return fail(j, path, buf);
	return 0;
}

static int
run(struct job *j, struct stow_ctx *ctx, int unstow)
{
	struct stow_plan	*plan = NULL;
	char			 pkg[32];
	int			 rc, k;

	if ((rc = stow_plan_new(&plan, ctx)) != STOW_OK)
		return fail(j, "stow_plan_new", stow_ctx_errmsg(ctx));
	for (k = 0; k < 2; k++) {
		pathf(pkg, sizeof(pkg), "t%d_%c", j->n, 'a' + k);
		rc = unstow ? stow_plan_unstow(plan, pkg) :
		    stow_plan_stow(plan, pkg);
		if (rc != STOW_OK) {
			fail(j, "plan", stow_ctx_errmsg(ctx));
			goto out;
		}
	}
	if (stow_plan_conflict_count(plan) != 0) {
		rc = fail(j, "unexpected conflict", pkg);
		goto out;
	}
	if ((rc = stow_plan_apply(plan, count_op, j)) != STOW_OK)
		fail(j, "stow_plan_apply", stow_ctx_errmsg(ctx));
	else if (stow_plan_apply(plan, NULL, NULL) != STOW_EMISUSE)
		rc = fail(j, "second apply", "not STOW_EMISUSE");
out:
	stow_plan_free(plan);
	return rc;
}

static int
check_stowed(struct job *j)
{
	char	 rel[64], link[128];
	int	 n = j->n;

	pathf(rel, sizeof(rel), "bin/t%d_a", n);
	pathf(link, sizeof(link), "../../stow/t%d_a/bin/t%d_a", n, n);
	if (expect(j, rel, S_IFLNK, link) == -1)
		return -1;
	pathf(rel, sizeof(rel), "bin/t%d_b", n);
	pathf(link, sizeof(link), "../../stow/t%d_b/bin/t%d_b", n, n);
	if (expect(j, rel, S_IFLNK, link) == -1)
		return -1;
	if (expect(j, "share", S_IFDIR, NULL) == -1)
		return -1;
	pathf(link, sizeof(link), "../../stow/t%d_a/share/doc", n);
	if (expect(j, "share/doc", S_IFLNK, link) == -1)
		return -1;
	pathf(link, sizeof(link), "../../stow/t%d_b/share/man", n);
	return expect(j, "share/man", S_IFLNK, link);
}

/*
 * Unstowing both packages in one plan leaves nothing: as in GNU Stow,
 * unstowing tN_a refolds bin/ and share/ onto tN_b, and unstowing tN_b
 * then removes those links (even bin/, which was there before).  Put
 * bin/ back for the next round.
 */
static int
check_unstowed(struct job *j)
{
	char	 path[PATH_MAX];

	if (expect(j, "bin", 0, NULL) == -1 || expect(j, "share", 0, NULL) == -1)
		return -1;
	if (pathf(path, sizeof(path), "%s/t%d/bin", j->base, j->n) == -1 ||
	    mkdir(path, 0755) == -1)
		return fail(j, "mkdir", path);
	return 0;
}

/* A failed configure leaves this context's own message. */
static int
check_errors(struct job *j, struct stow_ctx *ctx)
{
	struct stow_opts	 opts = STOW_OPTS_INIT;
	char			 missing[PATH_MAX], target[PATH_MAX];
	int			 rc;

	if (pathf(missing, sizeof(missing), "%s/no-such-dir-%d", j->base,
	    j->n) == -1 || pathf(target, sizeof(target), "%s/t%d", j->base,
	    j->n) == -1)
		return fail(j, "path too long", j->base);
	opts.stow_dir = missing;
	opts.target_dir = target;
	if ((rc = stow_ctx_configure(ctx, &opts)) != STOW_ENOTFOUND)
		return fail(j, "configure of a missing dir",
		    stow_strerror(rc));
	if (strstr(stow_ctx_errmsg(ctx), missing + strlen(j->base)) == NULL)
		return fail(j, "errmsg does not name the path",
		    stow_ctx_errmsg(ctx));
	return 0;
}

static void *
worker(void *arg)
{
	struct job		*j = arg;
	struct stow_ctx		*ctx;
	struct stow_opts	 opts = STOW_OPTS_INIT;
	char			 sdir[PATH_MAX], tdir[PATH_MAX];
	int			 i;

	if ((ctx = stow_ctx_new()) == NULL) {
		fail(j, "stow_ctx_new", "NULL");
		return NULL;
	}
	stow_ctx_set_log(ctx, 2, count_log, j);
	if (pathf(sdir, sizeof(sdir), "%s/stow", j->base) == -1 ||
	    pathf(tdir, sizeof(tdir), "%s/t%d", j->base, j->n) == -1) {
		fail(j, "path too long", j->base);
		goto out;
	}
	opts.stow_dir = sdir;
	opts.target_dir = tdir;
	for (i = 0; i < j->iterations && !j->failed; i++) {
		if (check_errors(j, ctx) == -1)
			break;
		if (stow_ctx_configure(ctx, &opts) != STOW_OK) {
			fail(j, "stow_ctx_configure", stow_ctx_errmsg(ctx));
			break;
		}
		if (run(j, ctx, 0) == -1 || check_stowed(j) == -1)
			break;
		if (run(j, ctx, 1) == -1 || check_unstowed(j) == -1)
			break;
	}
out:
	stow_ctx_free(ctx);
	return NULL;
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

int
main(int argc, char *argv[])
{
	struct job	 jobs[NTHREADS];
	char		 base[PATH_MAX];
	const char	*tmpdir;
	int		 i, iterations = 20, failed = 0;
	size_t		 ops = 0, logs = 0;

	if (argc > 1 && (iterations = (int)strtol(argv[1], NULL, 10)) < 1)
		iterations = 1;
	if ((tmpdir = getenv("TMPDIR")) == NULL || *tmpdir == '\0')
		tmpdir = "/tmp";
	if (pathf(base, sizeof(base), "%s/stow-threads.XXXXXX", tmpdir) == -1 ||
	    mkdtemp(base) == NULL) {
		perror("mkdtemp");
		return 2;
	}
	for (i = 0; i < NTHREADS; i++)
		if (make_fixture(base, i) == -1) {
			perror("fixture");
			return 2;
		}
	memset(jobs, 0, sizeof(jobs));
	for (i = 0; i < NTHREADS; i++) {
		jobs[i].n = i;
		jobs[i].iterations = iterations;
		jobs[i].base = base;
		if (pthread_create(&jobs[i].tid, NULL, worker, &jobs[i]) != 0) {
			fprintf(stderr, "pthread_create failed\n");
			return 2;
		}
	}
	for (i = 0; i < NTHREADS; i++)
		pthread_join(jobs[i].tid, NULL);
	for (i = 0; i < NTHREADS; i++) {
		if (jobs[i].failed) {
			fprintf(stderr, "%s\n", jobs[i].why);
			failed = 1;
		}
		ops += jobs[i].applied;
		logs += jobs[i].log_lines;
	}
	printf("%d threads x %d runs: %zu ops applied, %zu log lines\n",
	    NTHREADS, iterations, ops, logs);
	if (failed)
		fprintf(stderr, "tree kept in %s\n", base);
	else if (nftw(base, rm_entry, 16, FTW_DEPTH | FTW_PHYS) == -1)
		perror(base);
	return failed;
}
