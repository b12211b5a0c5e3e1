/*
 * check_apply.c: carrying plans out (lib/apply.c, lib/fsops.c), with
 * the result checked on disk by lstat(2) and readlink(2).
 */
#include <sys/file.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "extern.h"
#include "sandbox.h"

#define S(...)	((const char *const []){ __VA_ARGS__, NULL })

/* Plans package pkg (unstow when del is set) and applies the plan. */
static void
run(struct stow_ctx *ctx, const char *pkg, int del)
{
	struct stow_plan	*plan;
	int			 rc;

	plan = sb_plan(ctx);
	rc = del ? stow_plan_unstow(plan, pkg) : stow_plan_stow(plan, pkg);
	ck_assert_msg(rc == 0, "planning %s: %s", pkg, stow_ctx_errmsg(ctx));
	ck_assert_uint_eq(stow_plan_conflict_count(plan), 0);
	rc = stow_plan_apply(plan, NULL, NULL);
	ck_assert_msg(rc == 0, "apply: %d: %s", rc, stow_ctx_errmsg(ctx));
	sb_release(plan);
}

/* The number of operations a fresh plan for pkg would need. */
static size_t
pending(struct stow_ctx *ctx, const char *pkg, int del)
{
	struct stow_plan	*plan;
	size_t			 n;

	plan = sb_plan(ctx);
	ck_assert_int_eq(del ? stow_plan_unstow(plan, pkg) :
	    stow_plan_stow(plan, pkg), 0);
	ck_assert_uint_eq(stow_plan_conflict_count(plan), 0);
	n = stow_plan_op_count(plan);
	sb_release(plan);
	return n;
}

START_TEST(apply_stow_folds)
{
	struct stow_ctx	*ctx;
	char		*before, *after;

	sb_build(S("f stow/a/bin/x = x", "f stow/a/lib/y", "f stow/a/top"));
	ctx = sb_ctx(0);
	before = sb_snapshot("stow");
	run(ctx, "a", 0);
	sb_assert_link("t/bin", "../stow/a/bin");
	sb_assert_link("t/lib", "../stow/a/lib");
	sb_assert_link("t/top", "../stow/a/top");
	/* The links resolve to the package. */
	{
		char	*x = sb_read("t/bin/x");

		ck_assert_ptr_nonnull(x);
		ck_assert_str_eq(x, "x");
	}
	after = sb_snapshot("stow");
	ck_assert_str_eq(after, before);
	sb_release(ctx);
}
END_TEST

START_TEST(apply_unfolds)
{
	struct stow_ctx	*ctx;

	sb_build(S("f stow/a/bin/x", "f stow/b/bin/z",
	    "l t/bin -> ../stow/a/bin"));
	ctx = sb_ctx(0);
	run(ctx, "b", 0);
	sb_assert_dir("t/bin");
	sb_assert_link("t/bin/x", "../../stow/a/bin/x");
	sb_assert_link("t/bin/z", "../../stow/b/bin/z");
	/* Nothing was created inside the package through the old link. */
	sb_assert_absent("stow/a/bin/z");
	ck_assert_uint_eq(pending(ctx, "a", 0), 0);
	ck_assert_uint_eq(pending(ctx, "b", 0), 0);
	sb_release(ctx);
}
END_TEST

START_TEST(apply_unstow_refolds)
{
	struct stow_ctx	*ctx;

	sb_build(S("f stow/a/bin/x", "f stow/b/bin/z", "d t/bin",
	    "l t/bin/x -> ../../stow/a/bin/x",
	    "l t/bin/z -> ../../stow/b/bin/z"));
	ctx = sb_ctx(0);
	run(ctx, "b", 1);
	sb_assert_link("t/bin", "../stow/a/bin");
	sb_assert_file("stow/a/bin/x");
	sb_assert_absent("stow/a/bin/z");
	sb_assert_file("stow/b/bin/z");
	sb_release(ctx);
}
END_TEST

START_TEST(apply_unstow_leaves_user_files)
{
	struct stow_ctx	*ctx;
	char		*mine;

	sb_build(S("f stow/a/bin/x", "f stow/a/top", "d t/bin",
	    "l t/bin/x -> ../../stow/a/bin/x", "l t/top -> ../stow/a/top",
	    "f t/bin/mine = mine"));
	ctx = sb_ctx(0);
	run(ctx, "a", 1);
	sb_assert_absent("t/bin/x");
	sb_assert_absent("t/top");
	sb_assert_dir("t/bin");
	mine = sb_read("t/bin/mine");
	ck_assert_ptr_nonnull(mine);
	ck_assert_str_eq(mine, "mine");
	sb_assert_file("stow/a/bin/x");
	sb_release(ctx);
}
END_TEST

START_TEST(apply_idempotent)
{
	struct stow_ctx	*ctx;
	char		*before, *after;

	sb_build(S("f stow/a/bin/x", "f stow/a/share/doc/d", "d t/share",
	    "f stow/a/top"));
	ctx = sb_ctx(0);
	run(ctx, "a", 0);
	before = sb_snapshot("");
	ck_assert_uint_eq(pending(ctx, "a", 0), 0);
	run(ctx, "a", 0);
	after = sb_snapshot("");
	ck_assert_str_eq(after, before);
	/* Unstowing undoes it completely, and is idempotent too. */
	run(ctx, "a", 1);
	ck_assert_uint_eq(pending(ctx, "a", 1), 0);
	sb_assert_absent("t/bin");
	sb_assert_absent("t/top");
	sb_assert_dir("t/share");
	sb_assert_absent("t/share/doc");
	sb_release(ctx);
}
END_TEST

START_TEST(apply_no_folding)
{
	struct stow_ctx	*ctx;

	sb_build(S("f stow/a/bin/x", "f stow/a/share/doc/d"));
	ctx = sb_ctx(STOW_F_NO_FOLDING);
	run(ctx, "a", 0);
	sb_assert_dir("t/bin");
	sb_assert_dir("t/share/doc");
	sb_assert_link("t/bin/x", "../../stow/a/bin/x");
	sb_assert_link("t/share/doc/d", "../../../stow/a/share/doc/d");
	ck_assert_uint_eq(pending(ctx, "a", 0), 0);
	sb_release(ctx);
}
END_TEST

START_TEST(apply_dotfiles)
{
	struct stow_ctx	*ctx;

	sb_build(S("f stow/a/dot-bashrc", "f stow/a/dot-config/nvim/init",
	    "f stow/b/dot-config/git/config",
	    "l t/.config -> ../stow/a/dot-config"));
	ctx = sb_ctx(STOW_F_DOTFILES);
	run(ctx, "a", 0);
	run(ctx, "b", 0);
	sb_assert_link("t/.bashrc", "../stow/a/dot-bashrc");
	sb_assert_dir("t/.config");
	sb_assert_link("t/.config/nvim", "../../stow/a/dot-config/nvim");
	sb_assert_link("t/.config/git", "../../stow/b/dot-config/git");
	sb_assert_absent("t/dot-config");
	ck_assert_uint_eq(pending(ctx, "a", 0), 0);
	ck_assert_uint_eq(pending(ctx, "b", 0), 0);
	/* Unstowing b folds .config back into a. */
	run(ctx, "b", 1);
	sb_assert_link("t/.config", "../stow/a/dot-config");
	sb_release(ctx);
}
END_TEST

START_TEST(apply_conflict_refuses)
{
	struct stow_ctx		*ctx;
	struct stow_plan	*plan;
	char			*before, *after;

	sb_build(S("f stow/a/bin/x", "f stow/a/top", "f t/top = mine"));
	ctx = sb_ctx(0);
	plan = sb_plan(ctx);
	ck_assert_int_eq(stow_plan_stow(plan, "a"), 0);
	ck_assert_uint_eq(stow_plan_conflict_count(plan), 1);
	ck_assert_uint_eq(stow_plan_op_count(plan), 1);
	before = sb_snapshot("");
	ck_assert_int_eq(stow_plan_apply(plan, NULL, NULL), STOW_ECONFLICT);
	after = sb_snapshot("");
	ck_assert_str_eq(after, before);
	/* Still refused: the plan did not become "applied". */
	ck_assert_int_eq(stow_plan_apply(plan, NULL, NULL), STOW_ECONFLICT);
	after = sb_snapshot("");
	ck_assert_str_eq(after, before);
	sb_assert_absent("t/bin");
	sb_release(plan);
	sb_release(ctx);
}
END_TEST

START_TEST(apply_twice)
{
	struct stow_ctx		*ctx;
	struct stow_plan	*plan;

	sb_build(S("f stow/a/x", "f stow/b/y"));
	ctx = sb_ctx(0);
	plan = sb_plan(ctx);
	ck_assert_int_eq(stow_plan_stow(plan, "a"), 0);
	ck_assert_int_eq(stow_plan_apply(plan, NULL, NULL), 0);
	sb_assert_link("t/x", "../stow/a/x");
	ck_assert_int_eq(stow_plan_apply(plan, NULL, NULL), STOW_EMISUSE);
	ck_assert_int_eq(stow_plan_stow(plan, "b"), STOW_EMISUSE);
	ck_assert_int_eq(stow_plan_unstow(plan, "a"), STOW_EMISUSE);
	sb_assert_absent("t/y");
	sb_assert_link("t/x", "../stow/a/x");
	sb_release(plan);
	sb_release(ctx);
}
END_TEST

struct events {
	char	*seen;
	int	 calls;
	int	 stop_at;	/* return stop_rc at this call (1-based) */
	int	 stop_rc;
	int	 early;		/* operations made before announced */
	char	 swap[4096];	/* a path being swapped in (see below) */
	int	 last_kind;	/* the previous event's */
	char	 last[4096];
};

static int
on_event(const struct stow_op *op, void *payload)
{
	struct events	*e = payload;
	char		 rel[4200];
	int		 t;

	e->calls++;
	snprintf(rel, sizeof(rel), "t/%s", op->path);
	t = sb_type(rel);
	/*
	 * A removal then a creation at one path is made as one swap (the
	 * new entry built beside the old, then exchanged), announced in
	 * full first: the creation, and an unfolded directory's contents,
	 * are announced while the old entry still stands.
	 */
	if ((op->kind == STOW_OP_LINK || op->kind == STOW_OP_MKDIR) &&
	    e->last_kind != 0 && e->last_kind != STOW_OP_LINK &&
	    e->last_kind != STOW_OP_MKDIR && strcmp(e->last, op->path) == 0)
		snprintf(e->swap, sizeof(e->swap), "%s", op->path);
	else if (e->swap[0] != '\0' && (strncmp(op->path, e->swap,
	    strlen(e->swap)) != 0 || op->path[strlen(e->swap)] != '/'))
		e->swap[0] = '\0';
	e->last_kind = (int)op->kind;
	snprintf(e->last, sizeof(e->last), "%s", op->path);
	/* The callback comes before the operation is made. */
	switch (op->kind) {
	case STOW_OP_LINK:
	case STOW_OP_MKDIR:
		e->early += t != 0 && e->swap[0] == '\0';
		break;
	case STOW_OP_UNLINK:
		e->early += t != 'l';
		break;
	case STOW_OP_RMDIR:
		e->early += t != 'd';
		break;
	case STOW_OP_MOVE:
		e->early += t != 'f';
		break;
	case STOW_OP_BACKUP:
		e->early += t == 0;
		break;
	}
	e->seen = sb_append(e->seen, "%d %s %s\n", (int)op->kind, op->path,
	    op->link != NULL ? op->link : op->dest != NULL ? op->dest : "-");
	return e->calls == e->stop_at ? e->stop_rc : 0;
}

static int
list_op(const struct stow_op *op, void *payload)
{
	char	**s = payload;

	*s = sb_append(*s, "%d %s %s\n", (int)op->kind, op->path,
	    op->link != NULL ? op->link : op->dest != NULL ? op->dest : "-");
	return 0;
}

START_TEST(apply_events_in_order)
{
	struct stow_ctx		*ctx;
	struct stow_plan	*plan;
	struct events		 e = { NULL, 0, 0, 0, 0, "", 0, "" };
	char			*planned;
	int			 rc;

	/* Unfold bin (UNLINK, MKDIR, LINK, LINK), adopt, link. */
	sb_build(S("f stow/a/bin/x", "f stow/b/bin/z", "f stow/b/etc/rc",
	    "f stow/b/top", "l t/bin -> ../stow/a/bin", "f t/etc/rc = mine"));
	ctx = sb_ctx(STOW_F_ADOPT);
	plan = sb_plan(ctx);
	ck_assert_int_eq(stow_plan_stow(plan, "b"), 0);
	planned = sb_append(NULL, "%s", "");
	rc = stow_plan_foreach_op(plan, list_op, &planned);
	sb_track(planned, SB_FREE);
	ck_assert_int_eq(rc, 0);
	e.seen = sb_append(NULL, "%s", "");
	rc = stow_plan_apply(plan, on_event, &e);
	sb_track(e.seen, SB_FREE);
	ck_assert_int_eq(rc, 0);
	ck_assert_str_eq(e.seen, planned);
	ck_assert_int_eq(e.calls, 7);
	ck_assert_int_eq(e.early, 0);
	sb_assert_link("t/bin/z", "../../stow/b/bin/z");
	sb_assert_link("t/etc/rc", "../../stow/b/etc/rc");
	sb_assert_link("t/top", "../stow/b/top");
	sb_release(plan);
	sb_release(ctx);
}
END_TEST

/* A non-zero return stops the run, undoes what was done, and is
 * returned. */
START_TEST(apply_event_stops)
{
	struct stow_ctx		*ctx;
	struct stow_plan	*plan;
	struct events		 e = { NULL, 0, 2, 42, 0, "", 0, "" };
	int			 rc;

	sb_build(S("f stow/a/a1", "f stow/a/bin/x", "f stow/a/top"));
	ctx = sb_ctx(STOW_F_NO_FOLDING);
	plan = sb_plan(ctx);
	ck_assert_int_eq(stow_plan_stow(plan, "a"), 0);
	ck_assert_uint_eq(stow_plan_op_count(plan), 4);
	e.seen = sb_append(NULL, "%s", "");
	rc = stow_plan_apply(plan, on_event, &e);
	sb_track(e.seen, SB_FREE);
	ck_assert_int_eq(rc, 42);
	ck_assert_int_eq(e.calls, 2);
	sb_assert_absent("t/a1");
	sb_assert_absent("t/bin");
	sb_assert_absent("t/top");
	sb_release(plan);
	sb_release(ctx);
}
END_TEST

static int
cancel_at(void *payload)
{
	int	*n = payload;

	return --*n <= 0;
}

START_TEST(apply_cancelled)
{
	struct stow_ctx		*ctx;
	struct stow_plan	*plan;
	char			*before, *after;
	int			 n;

	sb_build(S("f stow/a/a1", "f stow/a/a2", "f stow/a/a3"));
	ctx = sb_ctx(0);

	/* Cancelled before the first operation: nothing changes.  (The
	 * planning asks too: the count is set for the apply.) */
	n = 1000;
	stow_ctx_set_cancel(ctx, cancel_at, &n);
	before = sb_snapshot("");
	plan = sb_plan(ctx);
	ck_assert_int_eq(stow_plan_stow(plan, "a"), 0);
	n = 1;
	ck_assert_int_eq(stow_plan_apply(plan, NULL, NULL), STOW_ECANCELLED);
	sb_release(plan);
	after = sb_snapshot("");
	ck_assert_str_eq(after, before);

	/* Cancelled between operations: those before it are undone. */
	n = 1000;
	plan = sb_plan(ctx);
	ck_assert_int_eq(stow_plan_stow(plan, "a"), 0);
	n = 2;
	ck_assert_int_eq(stow_plan_apply(plan, NULL, NULL), STOW_ECANCELLED);
	ck_assert_ptr_nonnull(strstr(stow_ctx_errmsg(ctx), "cancel"));
	ck_assert_ptr_nonnull(strstr(stow_ctx_errmsg(ctx),
	    "all changes undone"));
	sb_release(plan);
	after = sb_snapshot("");
	ck_assert_str_eq(after, before);
	sb_release(ctx);
}
END_TEST

/* A plan applied in full can be undone (several targets, one run). */
START_TEST(apply_revert)
{
	struct stow_ctx		*ctx;
	struct stow_plan	*plan;
	char			*before, *after;

	sb_build(S("f stow/a/a1", "f stow/a/bin/x", "f t/a2 mine",
	    "l t/old -> ../stow/a/gone"));
	ctx = sb_ctx(STOW_F_NO_FOLDING);
	before = sb_snapshot("");
	plan = sb_plan(ctx);
	ck_assert_int_eq(stow_plan_revert(plan), STOW_EMISUSE);
	ck_assert_int_eq(stow_plan_unstow(plan, "a"), 0);
	ck_assert_int_eq(stow_plan_stow(plan, "a"), 0);
	ck_assert_int_eq(stow_plan_apply(plan, NULL, NULL), 0);
	sb_assert_link("t/a1", "../stow/a/a1");
	sb_assert_absent("t/old");
	ck_assert_int_eq(stow_plan_revert(plan), 0);
	after = sb_snapshot("");
	ck_assert_str_eq(after, before);
	ck_assert_int_eq(stow_plan_revert(plan), STOW_EMISUSE);
	sb_release(plan);
	sb_release(ctx);
}
END_TEST

/* A plan that only makes links and directories is applied without
 * steps kept apart from its tasks: its revert takes them from the
 * tasks, in full. */
START_TEST(apply_revert_plain)
{
	struct stow_ctx		*ctx;
	struct stow_plan	*plan;
	char			*before, *after;

	sb_build(S("f stow/a/a1", "f stow/a/bin/x", "f stow/a/bin/y",
	    "f stow/a/share/doc/z", "f t/mine mine"));
	ctx = sb_ctx(STOW_F_NO_FOLDING);
	before = sb_snapshot("");
	plan = sb_plan(ctx);
	ck_assert_int_eq(stow_plan_stow(plan, "a"), 0);
	ck_assert_int_eq(stow_plan_apply(plan, NULL, NULL), 0);
	sb_assert_link("t/bin/y", "../../stow/a/bin/y");
	sb_assert_link("t/share/doc/z", "../../../stow/a/share/doc/z");
	ck_assert_int_eq(stow_plan_revert(plan), 0);
	after = sb_snapshot("");
	ck_assert_str_eq(after, before);
	ck_assert_int_eq(stow_plan_revert(plan), STOW_EMISUSE);
	sb_release(plan);
	sb_release(ctx);
}
END_TEST

/* An operation that fails stops the run with STOW_EOS, and what was
 * done before it is undone. */
START_TEST(apply_op_fails)
{
	struct stow_ctx		*ctx;
	struct stow_plan	*plan;
	const char		*msg;

	sb_build(S("f stow/a/a1", "f stow/a/bin/x", "f stow/a/top"));
	ctx = sb_ctx(STOW_F_NO_FOLDING);
	plan = sb_plan(ctx);
	ck_assert_int_eq(stow_plan_stow(plan, "a"), 0);
	/* Where MKDIR bin will go, something appears after planning. */
	sb_write("t/bin", "in the way");
	ck_assert_int_eq(stow_plan_apply(plan, NULL, NULL), STOW_EOS);
	ck_assert_int_eq(stow_ctx_errno(ctx), EEXIST);
	msg = stow_ctx_errmsg(ctx);
	ck_assert_msg(strstr(msg, "mkdir") != NULL && strstr(msg, "bin") !=
	    NULL, "message \"%s\" does not name the operation and path", msg);
	ck_assert_ptr_nonnull(strstr(msg, "all changes undone"));
	sb_assert_absent("t/a1");
	sb_assert_file("t/bin");
	sb_assert_absent("t/top");
	ck_assert_int_eq(stow_plan_apply(plan, NULL, NULL), STOW_EMISUSE);
	sb_release(plan);
	sb_release(ctx);
}
END_TEST

/*
 * An apply reaches each directory from the nearest one above it that it
 * keeps open (walk.c): siblings, children and parents of the directory
 * before, at several depths, all land where they belong, and an unstow
 * takes them all away again.
 */
START_TEST(apply_walks_between_directories)
{
	static const char *const files[] = {
		"a/b/c/1", "a/b/c/2", "a/b/d/3", "a/b/4", "a/e/f/g/5",
		"a/e/f/6", "a/e/h/7", "a/8", "i/j/9", "i/10", "11"
	};
	struct stow_ctx		*ctx;
	struct stow_plan	*plan;
	char			 path[64], text[64];
	size_t			 i, k, depth;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "stow/p/%s", files[i]);
		sb_write(path, "x");
	}
	ctx = sb_ctx(STOW_F_NO_FOLDING);
	plan = sb_plan(ctx);
	ck_assert_int_eq(stow_plan_stow(plan, "p"), 0);
	ck_assert_int_eq(stow_plan_apply(plan, NULL, NULL), 0);
	sb_release(plan);
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		for (k = depth = 0; files[i][k] != '\0'; k++)
			depth += files[i][k] == '/';
		snprintf(path, sizeof(path), "t/%s", files[i]);
		text[0] = '\0';
		for (k = 0; k <= depth; k++)
			strlcat(text, "../", sizeof(text));
		strlcat(text, "stow/p/", sizeof(text));
		strlcat(text, files[i], sizeof(text));
		sb_assert_link(path, text);
	}
	sb_assert_dir("t/a/e/f/g");
	plan = sb_plan(ctx);
	ck_assert_int_eq(stow_plan_unstow(plan, "p"), 0);
	ck_assert_int_eq(stow_plan_apply(plan, NULL, NULL), 0);
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "t/%s", files[i]);
		sb_assert_absent(path);
	}
	sb_release(plan);
	sb_release(ctx);
}
END_TEST

/*
 * The races of planning against applying: a directory the plan works in
 * is swapped for a symlink to somewhere else once the plan is made (the
 * test is the hook between the two).  The apply must stop with ENOTDIR
 * and undo what it made, and nothing may be made, moved or removed
 * where the link leads.
 */
static void
swap_dir_for_link(const char *dir, const char *elsewhere)
{
	char	aside[4096];

	snprintf(aside, sizeof(aside), "%s.aside", sb_path(dir));
	ck_assert_int_eq(rename(sb_path(dir), aside), 0);
	sb_symlink(dir, elsewhere);
}

/* Plans pkg (unstow when del is set) with ctx, then swaps t/d for a
 * link to outside/, whose snapshot before goes to *outside. */
static struct stow_plan *
plan_then_race(struct stow_ctx *ctx, const char *pkg, int del,
    char **outside)
{
	struct stow_plan	*plan = sb_plan(ctx);

	ck_assert_int_eq(del ? stow_plan_unstow(plan, pkg) :
	    stow_plan_stow(plan, pkg), 0);
	ck_assert_uint_eq(stow_plan_conflict_count(plan), 0);
	ck_assert_uint_ge(stow_plan_op_count(plan), 2);
	*outside = sb_snapshot("outside");
	swap_dir_for_link("t/d", "../outside");
	return plan;
}

static void
apply_fails_in_race(struct stow_ctx *ctx, struct stow_plan *plan,
    const char *path)
{
	const char	*msg;

	ck_assert_int_eq(stow_plan_apply(plan, NULL, NULL), STOW_EOS);
	ck_assert_int_eq(stow_ctx_errno(ctx), ENOTDIR);
	msg = stow_ctx_errmsg(ctx);
	ck_assert_msg(strstr(msg, path) != NULL && strstr(msg,
	    "all changes undone") != NULL, "message \"%s\" does not name %s "
	    "or say all was undone", msg, path);
}

START_TEST(apply_race_stow)
{
	struct stow_ctx		*ctx;
	struct stow_plan	*plan;
	char			*outside;

	sb_build(S("f stow/a/top", "f stow/a/d/x", "f stow/a/d/y",
	    "d t/d", "f outside/keep = keep"));
	ctx = sb_ctx(0);
	plan = plan_then_race(ctx, "a", 0, &outside);
	apply_fails_in_race(ctx, plan, "d/x");
	ck_assert_str_eq(sb_snapshot("outside"), outside);
	sb_assert_link("t/d", "../outside");
	sb_assert_absent("t/top");
	sb_release(plan);
	sb_release(ctx);
}
END_TEST

START_TEST(apply_race_unstow)
{
	struct stow_ctx		*ctx;
	struct stow_plan	*plan;
	char			*outside;

	/* Elsewhere holds links that look like the package's own. */
	sb_build(S("f stow/a/d/x", "f stow/a/d/y", "d t/d",
	    "l t/d/x -> ../../stow/a/d/x", "l t/d/y -> ../../stow/a/d/y",
	    "l outside/x -> ../../stow/a/d/x",
	    "l outside/y -> ../../stow/a/d/y"));
	ctx = sb_ctx(STOW_F_NO_FOLDING);
	plan = plan_then_race(ctx, "a", 1, &outside);
	apply_fails_in_race(ctx, plan, "d/");
	ck_assert_str_eq(sb_snapshot("outside"), outside);
	sb_assert_link("t/d.aside/x", "../../stow/a/d/x");
	sb_release(plan);
	sb_release(ctx);
}
END_TEST

START_TEST(apply_race_adopt)
{
	struct stow_ctx		*ctx;
	struct stow_plan	*plan;
	char			*outside, *pkg;

	sb_build(S("f stow/a/top", "f stow/a/d/f = package", "d t/d",
	    "f t/d/f = mine", "f outside/f = not yours"));
	ctx = sb_ctx(STOW_F_ADOPT);
	pkg = sb_snapshot("stow");
	plan = plan_then_race(ctx, "a", 0, &outside);
	ck_assert_int_ne(stow_plan_apply(plan, NULL, NULL), 0);
	ck_assert_int_eq(stow_ctx_errno(ctx), ENOTDIR);
	ck_assert_str_eq(sb_snapshot("outside"), outside);
	ck_assert_str_eq(sb_snapshot("stow"), pkg);
	sb_assert_absent("t/top");
	sb_release(plan);
	sb_release(ctx);
}
END_TEST

/*
 * A link the plan removes is replaced by the user's own file after
 * planning (an editor saving with rename-over): the apply must not
 * delete the file.  It stops, undoes what it made and names the path.
 */
START_TEST(apply_unstow_keeps_replaced_file)
{
	struct stow_ctx		*ctx;
	struct stow_plan	*plan;
	const char		*msg;
	char			*mine;
	int			 rc;

	sb_build(S("f stow/a/x", "f stow/a/y", "d t",
	    "l t/x -> ../stow/a/x", "l t/y -> ../stow/a/y"));
	ctx = sb_ctx(0);
	plan = sb_plan(ctx);
	ck_assert_int_eq(stow_plan_unstow(plan, "a"), 0);
	ck_assert_uint_eq(stow_plan_op_count(plan), 2);
	/* The editor's save: a new file renamed over the link. */
	sb_write("t/y.new", "mine");
	ck_assert_int_eq(rename(sb_path("t/y.new"), sb_path("t/y")), 0);
	rc = stow_plan_apply(plan, NULL, NULL);
	msg = stow_ctx_errmsg(ctx);
	ck_assert_msg(rc == STOW_ECHANGED, "apply: %d, want STOW_ECHANGED: %s",
	    rc, msg);
	sb_assert_file("t/y");
	ck_assert_ptr_nonnull(mine = sb_read("t/y"));
	ck_assert_str_eq(mine, "mine");
	sb_assert_link("t/x", "../stow/a/x");
	ck_assert_msg(strstr(msg, "y") != NULL && strstr(msg,
	    "all changes undone") != NULL, "message \"%s\"", msg);
	sb_release(plan);
	sb_release(ctx);
}
END_TEST

/* What the vault's owner does during an apply: act() before operation
 * number at (from 1); then the run goes on (stop 0) or is stopped with
 * stop. */
struct owner_act {
	int	  at;
	void	(*act)(void);
	int	  stop;
	int	  n;		/* operations seen */
};

static int
act_at_op(const struct stow_op *op, void *payload)
{
	struct owner_act	*o = payload;

	(void)op;
	if (++o->n != o->at)
		return 0;
	o->act();
	return o->stop;
}

/* A context with the vault "vault" (STOW_F_BACKUP), in *ctx, and a plan
 * from it of package p stowed. */
static struct stow_plan *
vault_plan_p(struct stow_ctx **ctx)
{
	struct stow_opts	 opts = STOW_OPTS_INIT;
	struct stow_plan	*plan;

	opts.backup_dir = sb_path("vault");
	opts.flags = STOW_F_BACKUP;
	*ctx = sb_ctx_opts(&opts);
	plan = sb_plan(*ctx);
	ck_assert_int_eq(stow_plan_stow(plan, "p"), 0);
	return plan;
}

/* The MANIFEST becomes a link to a file the run may read and the
 * vault's owner may not. */
static void
plant_manifest_link(void)
{
	ck_assert_int_eq(unlink(sb_path("vault/MANIFEST")), 0);
	sb_symlink("vault/MANIFEST", "../secret");
}

/*
 * The rollback takes the undone backups' lines out of the MANIFEST: it
 * never reads through a link planted there, which would copy what the
 * link leads to into a MANIFEST its owner may read.
 */
START_TEST(apply_rollback_manifest_not_followed)
{
	struct stow_ctx		*ctx;
	struct stow_plan	*plan;
	struct owner_act	 o = { 3, plant_manifest_link, 7, 0 };
	const char		*text;
	char			*got;

	sb_build(S("f stow/p/a", "f stow/p/b", "f stow/p/c", "f t/a",
	    "f t/b", "f secret"));
	sb_write("secret", "SECRET\n");
	plan = vault_plan_p(&ctx);
	ck_assert_int_eq(stow_plan_apply(plan, act_at_op, &o), 7);
	/* Every backup is back; the MANIFEST could not say so. */
	ck_assert_msg(strstr(stow_ctx_errmsg(ctx), "all changes undone") !=
	    NULL && strstr(stow_ctx_errmsg(ctx), "vault at") == NULL,
	    "%s", stow_ctx_errmsg(ctx));
	if ((text = sb_readlink("vault/MANIFEST")) == NULL) {
		got = sb_read("vault/MANIFEST");
		ck_assert_ptr_null(got != NULL ? strstr(got, "SECRET") : NULL);
	} else
		ck_assert_str_eq(text, "../secret");
	ck_assert_str_eq(sb_read("secret"), "SECRET\n");
	/* (Nothing of the target's is lost either.) */
	ck_assert_int_eq(sb_type("t/a"), 'f');
	ck_assert_int_eq(sb_type("t/b"), 'f');
	sb_release(plan);
	sb_release(ctx);
}
END_TEST

/* d in the vault becomes a link to elsewhere. */
static void
plant_vault_dir_link(void)
{
	sb_symlink("vault/d", "../elsewhere");
}

/* d in the vault, which holds a backup, is moved aside, and a link to
 * elsewhere put in its place. */
static void
swap_vault_dir_for_link(void)
{
	ck_assert_int_eq(rename(sb_path("vault/d"), sb_path("vault/d-moved")),
	    0);
	plant_vault_dir_link();
}

/*
 * A backup goes into the vault, and back out of it, without following a
 * link the vault's owner planted there: nothing is moved into, or out
 * of, what the link leads to.
 */
START_TEST(apply_vault_links_not_followed)
{
	struct stow_ctx		*ctx;
	struct stow_plan	*plan;
	struct owner_act	 before = { 1, plant_vault_dir_link, 0, 0 };
	struct owner_act	 during = { 3, swap_vault_dir_for_link, 7, 0 };

	sb_build(S("f stow/p/d/f", "f stow/p/d/g", "f stow/p/z", "f t/d/f",
	    "d elsewhere"));
	sb_write("t/d/f", "MINE\n");
	plan = vault_plan_p(&ctx);
	ck_assert_int_ne(stow_plan_apply(plan, act_at_op, &before), 0);
	ck_assert_int_eq(sb_type("elsewhere/f"), 0);
	ck_assert_str_eq(sb_read("t/d/f"), "MINE\n");
	sb_release(plan);

	/* Out of the vault: the rollback does not fetch elsewhere/f. */
	ck_assert_int_eq(unlink(sb_path("vault/d")), 0);
	sb_write("elsewhere/f", "NOT YOURS\n");
	plan = sb_plan(ctx);
	ck_assert_int_eq(stow_plan_stow(plan, "p"), 0);
	ck_assert_int_ne(stow_plan_apply(plan, act_at_op, &during), 0);
	ck_assert_str_eq(sb_read("elsewhere/f"), "NOT YOURS\n");
	ck_assert_str_eq(sb_read("vault/d-moved/f"), "MINE\n");
	sb_release(plan);
	sb_release(ctx);
}
END_TEST

/* A journal a live run holds (flock) is left alone by recovery. */
START_TEST(apply_recover_skips_live_journal)
{
	struct stow_ctx	*ctx = sb_new_ctx();
	int		 fd;

	sb_write("journal", "cstow-journal 2\tnowhere\t");
	ck_assert_int_ne(fd = open(sb_path("journal"), O_RDONLY), -1);
	ck_assert_int_eq(flock(fd, LOCK_EX), 0);
	ck_assert_int_eq(stow_journal_recover(ctx, sb_path("journal"), NULL,
	    NULL), STOW_EBUSY);
	ck_assert_ptr_nonnull(strstr(stow_ctx_errmsg(ctx), "journal"));
	sb_assert_file("journal");
	close(fd);
	/* Its run gone, the journal is recovered: a header cut short
	 * names no step, and the journal goes. */
	ck_assert_int_eq(stow_journal_recover(ctx, sb_path("journal"), NULL,
	    NULL), 0);
	sb_assert_absent("journal");
	sb_release(ctx);
}
END_TEST

START_TEST(apply_adopt_moves_content)
{
	struct stow_ctx	*ctx;
	char		*s;

	sb_build(S("f stow/a/bin/x = package version", "f stow/a/bin/y",
	    "d t/bin", "f t/bin/x = target version"));
	ctx = sb_ctx(STOW_F_ADOPT);
	run(ctx, "a", 0);
	sb_assert_link("t/bin/x", "../../stow/a/bin/x");
	sb_assert_link("t/bin/y", "../../stow/a/bin/y");
	sb_assert_file("stow/a/bin/x");
	s = sb_read("stow/a/bin/x");
	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(s, "target version");
	s = sb_read("t/bin/x");
	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(s, "target version");
	sb_release(ctx);
}
END_TEST

START_TEST(apply_adopt_dotfiles)
{
	struct stow_ctx	*ctx;
	char		*s;

	sb_build(S("f stow/a/dot-bashrc = package", "f t/.bashrc = mine"));
	ctx = sb_ctx(STOW_F_ADOPT | STOW_F_DOTFILES);
	run(ctx, "a", 0);
	sb_assert_link("t/.bashrc", "../stow/a/dot-bashrc");
	sb_assert_absent("stow/a/.bashrc");
	s = sb_read("stow/a/dot-bashrc");
	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(s, "mine");
	sb_release(ctx);
}
END_TEST

/* Files beyond the odd names, so that the journal is written in more
 * than one piece; the run dies once DIE_AT operations are made. */
#define MANY_FILES	1500
#define DIE_AT		1200

/* Leaves the run when operation DIE_AT + 1 is reported, as a kill
 * would: those before it are made, nothing is undone. */
static int
die_after_many(const struct stow_op *op, void *payload)
{
	int	*calls = payload;

	(void)op;
	if (++*calls == DIE_AT + 1)
		_exit(0);
	return 0;
}

/*
 * A run killed halfway is undone from its journal, whose fields escape
 * tabs, newlines and backslashes: names holding them come back whole.
 * (An unstow: a run that only makes links and directories writes no
 * journal, since the next run completes it.)
 */
START_TEST(apply_journal_odd_names)
{
	struct stow_opts	 opts = STOW_OPTS_INIT;
	struct stow_ctx		*ctx;
	struct stow_plan	*plan;
	char			 name[64];
	pid_t			 pid;
	int			 status, calls = 0, i;

	/* Sorted first, so they are removed before the run dies. */
	sb_build(S("f stow/p/a\tb", "f stow/p/c\nd", "f stow/p/e\\f",
	    "d t"));
	for (i = 0; i < MANY_FILES; i++) {
		snprintf(name, sizeof(name), "stow/p/z%04d", i);
		sb_write(name, "");
	}
	opts.journal = sb_path("journal");
	ctx = sb_ctx_opts(&opts);
	run(ctx, "p", 0);
	sb_assert_absent("journal");
	plan = sb_plan(ctx);
	ck_assert_int_eq(stow_plan_unstow(plan, "p"), 0);
	ck_assert_uint_eq(stow_plan_op_count(plan), MANY_FILES + 3);
	ck_assert_int_ne(pid = fork(), -1);
	if (pid == 0)
		_exit(stow_plan_apply(plan, die_after_many, &calls) == 0 ?
		    1 : 2);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "the child was to die halfway: status %d", status);
	sb_assert_absent("t/a\tb");
	sb_assert_absent("t/c\nd");
	sb_assert_absent("t/e\\f");
	sb_assert_absent("t/z1000");
	sb_assert_link("t/z1300", "../stow/p/z1300");
	ck_assert_int_eq(stow_journal_recover(ctx, sb_path("journal"), NULL,
	    NULL), 0);
	sb_assert_link("t/a\tb", "../stow/p/a\tb");
	sb_assert_link("t/c\nd", "../stow/p/c\nd");
	sb_assert_link("t/e\\f", "../stow/p/e\\f");
	sb_assert_link("t/z0000", "../stow/p/z0000");
	sb_assert_link("t/z1000", "../stow/p/z1000");
	sb_assert_absent("journal");
	sb_release(plan);
	sb_release(ctx);
}
END_TEST

/*
 * fs_list() sorts bytewise, whatever order the directory gives: names
 * made in a random order, in reverse order (tmpfs lists the newest
 * first) and in order, sharing prefixes and with bytes above 0x7f.
 */
START_TEST(apply_list_sorted)
{
	static const char *const dirs[] = { "random", "reverse", "ordered" };
	struct arena	 a = { NULL, NULL };
	struct dirlist	 l;
	char		 name[64];
	unsigned long	 st = 88172645463325252UL;
	size_t		 i, n = 300, k;
	int		 fd;

	for (k = 0; k < 3; k++) {
		for (i = 0; i < n; i++) {
			size_t	j = k == 0 ? (st ^= st << 13, st ^= st >> 7,
			    st ^= st << 17, st % 100000) : k == 1 ? n - i : i;

			snprintf(name, sizeof(name), "%s/%s%zu%s", dirs[k],
			    j % 3 == 0 ? "\xc3\xa9" : j % 3 == 1 ? "a" : "ab",
			    j, j % 5 == 0 ? "~" : "");
			sb_write(name, "");
		}
		ck_assert_int_ne(fd = open(sb_path(dirs[k]), O_RDONLY |
		    O_DIRECTORY), -1);
		memset(&l, 0, sizeof(l));
		ck_assert_int_eq(fs_list(&a, fd, ".", &l), 0);
		close(fd);
		ck_assert_uint_gt(l.len, n * 9 / 10);
		for (i = 1; i < l.len; i++)
			ck_assert_msg(strcmp(l.ents[i - 1].name,
			    l.ents[i].name) < 0, "%s: \"%s\" before \"%s\"",
			    dirs[k], l.ents[i - 1].name, l.ents[i].name);
	}
	arena_free(&a);
}
END_TEST

/*
 * dents_sort() of listings in the orders that take its shortcuts (in
 * reverse order; halves already in order), of those that only almost
 * do, and of every shorter prefix: each must come out sorted, with the
 * same entries.  apply_list_sorted cannot choose the order a file
 * system lists in.
 */
START_TEST(apply_dents_sort_orders)
{
	static const char *const names[] = { "a", "b", "c", "d", "e", "f",
	    "g", "h", "i", "j", "k", "l", "m", "n", "o", "p", "q", "r", "s",
	    "t" };
	/* Each case: the index into names of each entry, in listing order. */
	static const int orders[][20] = {
		{ 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
		  17, 18, 19 },
		{ 19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3,
		  2, 1, 0 },
		{ 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
		  17, 19, 18 },
		{ 19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3,
		  2, 0, 1 },
		{ 1, 0, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
		  17, 18, 19 },
		{ 0, 19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4,
		  3, 2, 1 },
		{ 7, 3, 19, 0, 12, 5, 16, 9, 1, 14, 10, 18, 2, 6, 11, 17, 4,
		  13, 8, 15 },
	};
	struct dent	a[20], tmp[10];
	size_t		c, i, n;

	for (c = 0; c < sizeof(orders) / sizeof(orders[0]); c++) {
		for (n = 0; n <= 20; n++) {
			for (i = 0; i < n; i++)
				a[i].name = names[orders[c][i]];
			dents_sort(a, tmp, n);
			/* Sorted, and distinct: a lost or doubled entry
			 * shows as an equal pair or a gap. */
			for (i = 1; i < n; i++)
				ck_assert_msg(strcmp(a[i - 1].name,
				    a[i].name) < 0, "case %zu, n %zu: \"%s\" "
				    "before \"%s\"", c, n, a[i - 1].name,
				    a[i].name);
			if (n == 20)
				for (i = 0; i < n; i++)
					ck_assert_str_eq(a[i].name, names[i]);
		}
	}
}
END_TEST

Suite *
apply_suite(void)
{
	Suite	*s = suite_create("apply");
	TCase	*tc = tcase_create("apply");

	tcase_add_checked_fixture(tc, sandbox_setup, sandbox_teardown);
	tcase_add_test(tc, apply_stow_folds);
	tcase_add_test(tc, apply_unfolds);
	tcase_add_test(tc, apply_unstow_refolds);
	tcase_add_test(tc, apply_unstow_leaves_user_files);
	tcase_add_test(tc, apply_idempotent);
	tcase_add_test(tc, apply_no_folding);
	tcase_add_test(tc, apply_dotfiles);
	tcase_add_test(tc, apply_conflict_refuses);
	tcase_add_test(tc, apply_twice);
	tcase_add_test(tc, apply_events_in_order);
	tcase_add_test(tc, apply_event_stops);
	tcase_add_test(tc, apply_cancelled);
	tcase_add_test(tc, apply_op_fails);
	tcase_add_test(tc, apply_revert);
	tcase_add_test(tc, apply_revert_plain);
	tcase_add_test(tc, apply_walks_between_directories);
	tcase_add_test(tc, apply_race_stow);
	tcase_add_test(tc, apply_race_unstow);
	tcase_add_test(tc, apply_race_adopt);
	tcase_add_test(tc, apply_unstow_keeps_replaced_file);
	tcase_add_test(tc, apply_rollback_manifest_not_followed);
	tcase_add_test(tc, apply_vault_links_not_followed);
	tcase_add_test(tc, apply_recover_skips_live_journal);
	tcase_add_test(tc, apply_adopt_moves_content);
	tcase_add_test(tc, apply_adopt_dotfiles);
	tcase_add_test(tc, apply_journal_odd_names);
	tcase_add_test(tc, apply_list_sorted);
	tcase_add_test(tc, apply_dents_sort_orders);
	suite_add_tcase(s, tc);
	return s;
}
