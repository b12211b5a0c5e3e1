/*
 * sandbox.h: throwaway directories for the Check suites, and the small
 * helpers the suites share.
 *
 * Each test that touches the disk gets its own directory, made with
 * mkdtemp(3) the first time the test asks for a path, inside one run
 * directory ($TMPDIR or /tmp, "cstow-check.XXXXXX").  The sandbox is
 * named after the test ("0042-plan_unfolds_shared_dir-XXXXXX"), the
 * number being the test's index in the runner's results.  Nothing is
 * removed while the suites run: after srunner_run_all() the runner
 * (sandbox_runner_end) removes the sandbox of every test that passed
 * and keeps, printing its path, the sandbox of every test that failed.
 * This works the same with CK_FORK=no, where a failing test does not
 * end its process.  CSTOW_TEST_KEEP=1 keeps every sandbox.
 */
#ifndef SANDBOX_H
#define SANDBOX_H

#include <check.h>

#include <stow.h>

/* The suites, one per library module (and the CLI). */
Suite	*path_suite(void);
Suite	*pattern_suite(void);
Suite	*rc_suite(void);
Suite	*plan_suite(void);
Suite	*apply_suite(void);
Suite	*cli_suite(void);
Suite	*conf_suite(void);

/* Runner hooks: make the run directory, then sort out what to keep. */
void	 sandbox_runner_begin(SRunner *);
void	 sandbox_runner_end(SRunner *);

/*
 * Checked fixture: forgets the previous test's sandbox and, on the way
 * out, frees what the test left tracked (below).  With CK_FORK=no the
 * teardown also runs after a failed assertion, so a failing test leaks
 * nothing under valgrind either.
 */
void	 sandbox_setup(void);
void	 sandbox_teardown(void);

/*
 * Tracked objects: freed by sb_release(), or by the teardown, newest
 * first (so plans go before the contexts they came from).
 */
enum sb_kind { SB_FREE = 1, SB_CTX, SB_PLAN, SB_RC };
void	*sb_track(void *, enum sb_kind);
void	 sb_release(void *);
/* A new, unconfigured, tracked context. */
struct stow_ctx	*sb_new_ctx(void);
/* A new tracked plan of ctx; fails the test when stow_plan_new fails. */
struct stow_plan *sb_plan(struct stow_ctx *);

/* The sandbox's absolute, canonical path (made on first use). */
const char	*sb_root(void);
/* sb_root()/rel, in one of a few rotating static buffers. */
const char	*sb_path(const char *rel);

/*
 * Builds a tree from a NULL-terminated spec, each entry one of
 *	"d DIR"			mkdir -p
 *	"f FILE"		an empty file (parents made)
 *	"f FILE = TEXT"		a file holding TEXT
 *	"l LINK -> TEXT"	a symlink whose text is TEXT (parents made)
 * Paths are relative to the sandbox.  Fails the test on any error.
 */
void	 sb_build(const char *const *spec);
void	 sb_mkdir(const char *rel);
void	 sb_write(const char *rel, const char *text);
void	 sb_symlink(const char *rel, const char *text);

/* A file's contents (tracked), or NULL when it cannot be read. */
char	*sb_read(const char *rel);
/* A link's text (static buffer), or NULL when rel is not a link. */
const char	*sb_readlink(const char *rel);
/* 'd', 'f', 'l', '?' (other) or 0 (nothing there), by lstat(2). */
int	 sb_type(const char *rel);

/*
 * A sorted listing of the tree under rel ("" for the whole sandbox),
 * one line per node: "d PATH", "f PATH TEXT" (TEXT escaped), "l PATH
 * -> LINK".  Tracked.  Compare two to assert that nothing changed.
 */
char	*sb_snapshot(const char *rel);

#define sb_assert_link(rel, text) do {					\
	const char	*sbl_ = sb_readlink(rel);			\
	ck_assert_msg(sbl_ != NULL, "%s: expected a symlink, found %c",	\
	    (rel), sb_type(rel) == 0 ? '-' : sb_type(rel));		\
	ck_assert_str_eq(sbl_, (text));					\
} while (0)
#define sb_assert_type(rel, t)						\
	ck_assert_msg(sb_type(rel) == (t), "%s: expected type %c, found %c", \
	    (rel), (t) == 0 ? '-' : (t),				\
	    sb_type(rel) == 0 ? '-' : sb_type(rel))
#define sb_assert_dir(rel)	sb_assert_type(rel, 'd')
#define sb_assert_file(rel)	sb_assert_type(rel, 'f')
#define sb_assert_absent(rel)	sb_assert_type(rel, 0)

/*
 * libstow helpers for the plan and apply suites.
 */
/* A tracked context configured with stow_dir "<sandbox>/stow",
 * target_dir "<sandbox>/t" and flags; fails the test when configuring
 * fails. */
struct stow_ctx	*sb_ctx(unsigned int flags);
/* sb_ctx() with the rest of opts (backup_dir, journal, ...) too; its
 * stow_dir and target_dir are overwritten. */
struct stow_ctx	*sb_ctx_opts(struct stow_opts *opts);
/* A plan's operations, one line each: "LINK path => text (pkg)",
 * "UNLINK path => text (pkg)", "MKDIR path (pkg)", "RMDIR path (pkg)",
 * "MOVE path -> dest (pkg)", "BACKUP path -> dest (pkg)".  Tracked. */
char	*sb_ops(const struct stow_plan *);
/* A plan's conflicts in report order, one line each:
 * "stow|unstow PKG KIND PATH: MESSAGE".  Tracked. */
char	*sb_conflicts(const struct stow_plan *);

/* Appends printf-style text to a malloc'd string (NULL to start); the
 * result is not tracked. */
char	*sb_append(char *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));

#endif /* SANDBOX_H */
