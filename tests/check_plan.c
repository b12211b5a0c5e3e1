/*
 * check_plan.c: planning (lib/plan.c, lib/task.c) without touching the
 * disk.  Each test builds a stow directory "stow" and a target "t" in
 * its sandbox, plans, compares the operations and conflicts with GNU
 * Stow 2.4.1's, and checks that the tree is byte-for-byte unchanged.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "extern.h"
#include "sandbox.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* What a plan made of one tree came to (strings tracked). */
struct outcome {
	int	 rc;		/* of the last plan call */
	char	*ops;
	char	*conflicts;
	size_t	 nops;
	size_t	 nconflicts;
};

/*
 * Builds tree, then plans "-D" for each of unstow and "-S" for each of
 * stow (NULL-terminated lists, either may be NULL) with flags; asserts
 * that the disk did not change.
 */
static struct outcome
plan_tree(const char *const *tree, unsigned int flags,
    const char *const *unstow, const char *const *stow)
{
	struct outcome	  o = { 0, NULL, NULL, 0, 0 };
	struct stow_ctx	 *ctx;
	struct stow_plan *plan;
	char		 *before, *after;

	if (tree != NULL)
		sb_build(tree);
	ctx = sb_ctx(flags);
	before = sb_snapshot("");
	plan = sb_plan(ctx);
	for (; unstow != NULL && *unstow != NULL && o.rc == 0; unstow++)
		o.rc = stow_plan_unstow(plan, *unstow);
	for (; stow != NULL && *stow != NULL && o.rc == 0; stow++)
		o.rc = stow_plan_stow(plan, *stow);
	ck_assert_msg(o.rc == 0, "planning failed: %d: %s", o.rc,
	    stow_ctx_errmsg(ctx));
	o.ops = sb_ops(plan);
	o.conflicts = sb_conflicts(plan);
	o.nops = stow_plan_op_count(plan);
	o.nconflicts = stow_plan_conflict_count(plan);
	sb_release(plan);
	sb_release(ctx);
	after = sb_snapshot("");
	ck_assert_str_eq(after, before);
	return o;
}

#define S(...)	((const char *const []){ __VA_ARGS__, NULL })

START_TEST(plan_folds_into_empty_target)
{
	struct outcome	o;

	o = plan_tree(S("f stow/a/bin/x", "f stow/a/bin/y", "f stow/a/lib/z",
	    "f stow/a/top"), 0, NULL, S("a"));
	ck_assert_str_eq(o.ops,
	    "LINK bin => ../stow/a/bin (a)\n"
	    "LINK lib => ../stow/a/lib (a)\n"
	    "LINK top => ../stow/a/top (a)\n");
	ck_assert_str_eq(o.conflicts, "");
	ck_assert_uint_eq(o.nops, 3);
	ck_assert_uint_eq(o.nconflicts, 0);
}
END_TEST

START_TEST(plan_links_files_in_existing_dirs)
{
	struct outcome	o;

	o = plan_tree(S("f stow/a/bin/x", "f stow/a/share/man/man1/x.1",
	    "d t/bin", "d t/share/man", "f t/bin/mine"), 0, NULL, S("a"));
	ck_assert_str_eq(o.ops,
	    "LINK bin/x => ../../stow/a/bin/x (a)\n"
	    "LINK share/man/man1 => ../../../stow/a/share/man/man1 (a)\n");
	ck_assert_str_eq(o.conflicts, "");
}
END_TEST

/* The default target is the stow directory's parent. */
START_TEST(plan_default_target_is_parent)
{
	struct stow_opts	 opts = STOW_OPTS_INIT;
	struct stow_ctx		*ctx;
	struct stow_plan	*plan;
	char			*ops;

	sb_build(S("f stow/a/bin/x"));
	opts.stow_dir = sb_path("stow");
	ctx = sb_new_ctx();
	ck_assert_int_eq(stow_ctx_configure(ctx, &opts), 0);
	plan = sb_plan(ctx);
	ck_assert_int_eq(stow_plan_stow(plan, "a"), 0);
	ops = sb_ops(plan);
	ck_assert_str_eq(ops, "LINK bin => stow/a/bin (a)\n");
	sb_release(plan);
	sb_release(ctx);
}
END_TEST

START_TEST(plan_unfolds_shared_dir)
{
	struct outcome	o;

	o = plan_tree(S("f stow/a/bin/x", "f stow/b/bin/z",
	    "l t/bin -> ../stow/a/bin"), 0, NULL, S("b"));
	ck_assert_str_eq(o.ops,
	    "UNLINK bin => ../stow/a/bin (b)\n"
	    "MKDIR bin (b)\n"
	    "LINK bin/x => ../../stow/a/bin/x (a)\n"
	    "LINK bin/z => ../../stow/b/bin/z (b)\n");
	ck_assert_str_eq(o.conflicts, "");
}
END_TEST

/* Unfolding goes down as far as needed and no further. */
START_TEST(plan_unfolds_nested)
{
	struct outcome	o;

	/* share/doc is linked for a, then unfolded for b: the link is never
	 * made (GNU Stow's "reverts previous action"). */
	o = plan_tree(S("f stow/a/share/doc/a.txt", "f stow/a/share/man/a.1",
	    "f stow/b/share/doc/b.txt", "l t/share -> ../stow/a/share"), 0,
	    NULL, S("b"));
	ck_assert_str_eq(o.ops,
	    "UNLINK share => ../stow/a/share (b)\n"
	    "MKDIR share (b)\n"
	    "LINK share/man => ../../stow/a/share/man (a)\n"
	    "MKDIR share/doc (b)\n"
	    "LINK share/doc/a.txt => ../../../stow/a/share/doc/a.txt (a)\n"
	    "LINK share/doc/b.txt => ../../../stow/b/share/doc/b.txt (b)\n");
}
END_TEST

START_TEST(plan_unstow_removes_folded_link)
{
	struct outcome	o;

	o = plan_tree(S("f stow/a/bin/x", "f stow/a/top",
	    "l t/bin -> ../stow/a/bin", "l t/top -> ../stow/a/top",
	    "f t/mine"), 0, S("a"), NULL);
	ck_assert_str_eq(o.ops,
	    "UNLINK bin => ../stow/a/bin (a)\n"
	    "UNLINK top => ../stow/a/top (a)\n");
	ck_assert_str_eq(o.conflicts, "");
}
END_TEST

START_TEST(plan_unstow_refolds)
{
	struct outcome	o;

	o = plan_tree(S("f stow/a/bin/x", "f stow/b/bin/z", "d t/bin",
	    "l t/bin/x -> ../../stow/a/bin/x",
	    "l t/bin/z -> ../../stow/b/bin/z"), 0, S("b"), NULL);
	ck_assert_str_eq(o.ops,
	    "UNLINK bin/z => ../../stow/b/bin/z (b)\n"
	    "UNLINK bin/x => ../../stow/a/bin/x (b)\n"
	    "RMDIR bin (b)\n"
	    "LINK bin => ../stow/a/bin (b)\n");
	ck_assert_str_eq(o.conflicts, "");
}
END_TEST

/*
 * A directory unstowing skips (here a .nonstow marker, which is one of
 * the package's own links) is still asked whether it folds, as GNU
 * Stow 2.4.1's unstow_node() asks after unstow_contents() returns.
 */
START_TEST(plan_unstow_skipped_dir_still_folds)
{
	struct outcome	o;

	o = plan_tree(S("f stow/a/d/.nonstow", "f stow/a/d/x", "d t/d",
	    "l t/d/.nonstow -> ../../stow/a/d/.nonstow",
	    "l t/d/x -> ../../stow/a/d/x"), 0, S("a"), NULL);
	ck_assert_str_eq(o.ops,
	    "UNLINK d/.nonstow => ../../stow/a/d/.nonstow (a)\n"
	    "UNLINK d/x => ../../stow/a/d/x (a)\n"
	    "RMDIR d (a)\n"
	    "LINK d => ../stow/a/d (a)\n");
	ck_assert_str_eq(o.conflicts, "");
}
END_TEST

/* A file of the user's keeps the directory from folding. */
START_TEST(plan_unstow_no_refold_with_foreign_file)
{
	struct outcome	o;

	o = plan_tree(S("f stow/a/bin/x", "f stow/b/bin/z", "d t/bin",
	    "l t/bin/x -> ../../stow/a/bin/x",
	    "l t/bin/z -> ../../stow/b/bin/z", "f t/bin/mine"), 0, S("b"),
	    NULL);
	ck_assert_str_eq(o.ops, "UNLINK bin/z => ../../stow/b/bin/z (b)\n");
}
END_TEST

/* Unstow then stow of the same package (restow) plans nothing. */
START_TEST(plan_restow_unchanged_is_empty)
{
	struct outcome	o;

	o = plan_tree(S("f stow/a/bin/x", "l t/bin -> ../stow/a/bin"), 0,
	    S("a"), S("a"));
	ck_assert_str_eq(o.ops, "");
	ck_assert_uint_eq(o.nops, 0);
	ck_assert_str_eq(o.conflicts, "");
}
END_TEST

START_TEST(plan_stow_twice_is_empty)
{
	struct outcome	o;

	o = plan_tree(S("f stow/a/bin/x", "l t/bin -> ../stow/a/bin"), 0,
	    NULL, S("a"));
	ck_assert_str_eq(o.ops, "");
	ck_assert_str_eq(o.conflicts, "");
}
END_TEST

START_TEST(plan_replaces_dangling_owned_link)
{
	struct outcome	o;

	o = plan_tree(S("f stow/a/x", "l t/x -> ../stow/gone/x"), 0, NULL,
	    S("a"));
	ck_assert_str_eq(o.ops,
	    "UNLINK x => ../stow/gone/x (a)\n"
	    "LINK x => ../stow/a/x (a)\n");
	ck_assert_str_eq(o.conflicts, "");
}
END_TEST

/*
 * stow_plan_replace() refuses a path outside the target, "a/../b" too,
 * by the rule of stow_replace_path_check(), before it looks at the
 * package; the plan stays usable.
 */
START_TEST(plan_replace_refuses_paths_outside_target)
{
	static const char *const bad[] = { "/etc", "a/../x", "..", "./" };
	struct stow_opts	 opts = STOW_OPTS_INIT;
	struct stow_ctx		*ctx;
	struct stow_plan	*plan;
	char			*before, want[64];
	size_t			 i;

	sb_build(S("f stow/a/x", "f stow/a/sub/y", "f t/x = mine"));
	before = sb_snapshot("");
	opts.backup_dir = sb_path("vault");
	ctx = sb_ctx_opts(&opts);
	plan = sb_plan(ctx);
	for (i = 0; i < NELEM(bad); i++) {
		ck_assert_int_eq(stow_plan_replace(plan, "nosuch", bad[i]),
		    STOW_EINVAL);
		snprintf(want, sizeof(want), "replace path '%s' %s", bad[i],
		    stow_replace_path_check(bad[i]));
		ck_assert_str_eq(stow_ctx_errmsg(ctx), want);
	}
	ck_assert_uint_eq(stow_plan_op_count(plan), 0);
	/* Still usable: the same file, named inside the target. */
	ck_assert_int_eq(stow_plan_replace(plan, "a", "./sub/../x"),
	    STOW_EINVAL);
	ck_assert_int_eq(stow_plan_replace(plan, "a", "./x"), 0);
	ck_assert_str_eq(sb_ops(plan), "BACKUP x -> x (a)\n");
	sb_release(plan);
	sb_release(ctx);
	ck_assert_str_eq(sb_snapshot(""), before);
}
END_TEST

/*
 * A lookup that ran out of memory (plan->oom, as tests/fault/oom.sh
 * makes one) may have answered wrong: no later call returns 0 as if
 * the plan were sound, not even replacing a path already replaced
 * (which returns early), and the plan is never applied.
 */
START_TEST(plan_out_of_memory_is_never_applied)
{
	struct stow_opts	 opts = STOW_OPTS_INIT;
	struct stow_ctx		*ctx;
	struct stow_plan	*plan;
	char			*before;

	sb_build(S("f stow/a/x", "f t/x = mine"));
	before = sb_snapshot("");
	opts.backup_dir = sb_path("vault");
	ctx = sb_ctx_opts(&opts);
	plan = sb_plan(ctx);
	ck_assert_int_eq(stow_plan_replace(plan, "a", "x"), 0);
	plan->oom = 1;
	ck_assert_int_eq(stow_plan_replace(plan, "a", "x"), STOW_ENOMEM);
	ck_assert_int_ne(stow_plan_apply(plan, NULL, NULL), 0);
	sb_release(plan);
	sb_release(ctx);
	ck_assert_str_eq(sb_snapshot(""), before);

	/* Set between planning and applying: still not applied. */
	ctx = sb_ctx_opts(&opts);
	plan = sb_plan(ctx);
	ck_assert_int_eq(stow_plan_replace(plan, "a", "x"), 0);
	plan->oom = 1;
	ck_assert_int_eq(stow_plan_apply(plan, NULL, NULL), STOW_ENOMEM);
	sb_release(plan);
	sb_release(ctx);
	ck_assert_str_eq(sb_snapshot(""), before);
}
END_TEST

/* An error about a path that could not be made for want of memory is
 * still told, and the path said to be missing (err_os() was handed
 * NULL by callers that joined a path without checking). */
START_TEST(err_os_without_path)
{
	struct stow_ctx	*ctx = stow_ctx_new();

	ck_assert_ptr_nonnull(ctx);
	errno = ENOENT;
	ck_assert_int_eq(err_os(ctx, "open", NULL), STOW_EOS);
	ck_assert_str_eq(stow_ctx_errmsg(ctx), "open: (out of memory): "
	    "No such file or directory");
	stow_ctx_free(ctx);
}
END_TEST

/* Asks to stop on its *payload-th call. */
static int
cancel_at(void *payload)
{
	return --*(int *)payload == 0;
}

/* The cancel callback is asked as planning walks each directory (a
 * plan of a big tree, or a signal in a container, must not wait for
 * the whole walk): stowing and unstowing stop with STOW_ECANCELLED,
 * nothing changed. */
START_TEST(plan_cancelled_while_walking)
{
	static const char *const pkgs[] = { "a" };
	struct stow_ctx		*ctx;
	struct stow_plan	*plan;
	char			*before;
	int			 calls, action;

	sb_build(S("f stow/a/d1/d2/d3/x", "l t/y -> ../stow/a/y",
	    "f stow/a/y", "d t/d1/d2/d3"));
	before = sb_snapshot("");
	for (action = 0; action < 2; action++) {
		ctx = sb_ctx(0);
		plan = sb_plan(ctx);
		calls = 3;
		stow_ctx_set_cancel(ctx, cancel_at, &calls);
		ck_assert_int_eq((action == 0 ? stow_plan_stow(plan, pkgs[0]) :
		    stow_plan_unstow(plan, pkgs[0])), STOW_ECANCELLED);
		ck_assert_int_eq(calls, 0);
		ck_assert_str_eq(stow_ctx_errmsg(ctx), "cancelled while "
		    "planning; nothing was changed");
		ck_assert_int_ne(stow_plan_apply(plan, NULL, NULL), 0);
		sb_release(plan);
		sb_release(ctx);
	}
	ck_assert_str_eq(sb_snapshot(""), before);
}
END_TEST

/*
 * GNU Stow 2.4.1 words a plain file in the way as "cannot stow SRC over
 * existing target TGT since neither a link nor a directory and --adopt
 * not specified", SRC being the package entry from the target (2.3.1
 * said "existing target is neither a link nor a directory: TGT").
 */
START_TEST(plan_conflict_plain_file)
{
	struct outcome	o;

	o = plan_tree(S("f stow/a/bin/x", "f stow/a/bin/y", "d t/bin",
	    "f t/bin/x = mine"), 0, NULL, S("a"));
	ck_assert_str_eq(o.conflicts,
	    "stow a NOT_OWNED bin/x: cannot stow ../stow/a/bin/x over "
	    "existing target bin/x since neither a link nor a directory "
	    "and --adopt not specified\n");
	ck_assert_uint_eq(o.nconflicts, 1);
}
END_TEST

/*
 * A plain file where the package has a directory: without --adopt GNU
 * Stow 2.4.1 gives its usual "--adopt not specified" text (t/stow.t,
 * "Package dir 'bin4' conflicts with existing non-dir so can't
 * unfold"); the kind is TYPE, a directory where a file is.
 */
START_TEST(plan_conflict_file_where_dir)
{
	struct outcome	o;

	o = plan_tree(S("f stow/a/bin/x", "f t/bin"), 0, NULL, S("a"));
	ck_assert_str_eq(o.conflicts,
	    "stow a TYPE bin: cannot stow ../stow/a/bin over existing "
	    "target bin since neither a link nor a directory and --adopt "
	    "not specified\n");
}
END_TEST

/* A package file where the target has a real directory. */
START_TEST(plan_conflict_dir_where_file)
{
	struct outcome	o;

	o = plan_tree(S("f stow/a/x", "d t/x"), 0, NULL, S("a"));
	ck_assert_str_eq(o.conflicts,
	    "stow a TYPE x: cannot stow non-directory ../stow/a/x over "
	    "existing directory target x\n");
}
END_TEST

START_TEST(plan_conflict_foreign_link)
{
	struct outcome	o;

	o = plan_tree(S("f stow/a/bin/x", "f elsewhere/x", "d t/bin",
	    "l t/bin/x -> ../../elsewhere/x", "l t/lib -> /usr/lib",
	    "f stow/a/lib/y"), 0, NULL, S("a"));
	ck_assert_str_eq(o.conflicts,
	    "stow a NOT_OWNED bin/x: existing target is not owned by stow: "
	    "bin/x\n"
	    "stow a NOT_OWNED lib: existing target is not owned by stow: "
	    "lib\n");
}
END_TEST

START_TEST(plan_conflict_other_package)
{
	struct outcome	o;

	o = plan_tree(S("f stow/a/bin/x", "f stow/b/bin/x", "d t/bin",
	    "l t/bin/x -> ../../stow/b/bin/x"), 0, NULL, S("a"));
	ck_assert_str_eq(o.conflicts,
	    "stow a OTHER_PACKAGE bin/x: existing target is stowed to a "
	    "different package: bin/x => ../../stow/b/bin/x\n");
	ck_assert_str_eq(o.ops, "");
}
END_TEST

/*
 * A link planned where nothing was planned before (a fresh walk keeps
 * it pending, without a slot) is seen by every later package of the
 * plan: as another package's link in the way, or (below) as a folded
 * directory to unfold.
 */
START_TEST(plan_pending_links_seen_later)
{
	struct outcome	o;

	o = plan_tree(S("f stow/a/bin/x", "f stow/a/bin/y", "f stow/b/bin/y",
	    "d t/bin"), 0, NULL, S("a", "b"));
	ck_assert_str_eq(o.conflicts,
	    "stow b OTHER_PACKAGE bin/y: existing target is stowed to a "
	    "different package: bin/y => ../../stow/a/bin/y\n");
}
END_TEST

START_TEST(plan_pending_link_unfolded_later)
{
	struct outcome	o;

	o = plan_tree(S("f stow/a/lib/p/one", "f stow/a/lib/q", "f stow/b/lib/p/two",
	    "d t/lib"), 0, NULL, S("a", "b"));
	ck_assert_str_eq(o.conflicts, "");
	ck_assert_str_eq(o.ops,
	    "LINK lib/q => ../../stow/a/lib/q (a)\n"
	    "MKDIR lib/p (b)\n"
	    "LINK lib/p/one => ../../../stow/a/lib/p/one (a)\n"
	    "LINK lib/p/two => ../../../stow/b/lib/p/two (b)\n");
}
END_TEST

/*
 * An entry asks about paths beside its own: here z, whose link leads
 * through x into a stow directory (x/y, marked .stow), is asked whether
 * x is being removed, which the unfolding of x, an earlier entry of the
 * same walk, planned.  It is: z's link is left dangling by the plan, so
 * it is replaced, not a conflict.
 */
START_TEST(plan_sibling_removal_seen)
{
	struct outcome	o;

	o = plan_tree(S("f stow/a/x/y/.stow", "f stow/a/x/y/q/f",
	    "f stow/b/x/k", "f stow/b/z", "l t/x -> ../stow/a/x",
	    "l t/z -> x/y/q/f"), 0, NULL, S("b"));
	ck_assert_str_eq(o.conflicts, "");
	ck_assert_str_eq(o.ops,
	    "UNLINK x => ../stow/a/x (b)\n"
	    "MKDIR x (b)\n"
	    "LINK x/y => ../../stow/a/x/y (a)\n"
	    "LINK x/k => ../../stow/b/x/k (b)\n"
	    "UNLINK z => x/y/q/f (b)\n"
	    "LINK z => ../stow/b/z (b)\n");
}
END_TEST

/* Absolute links cannot be unstowed, so they are not stowed. */
START_TEST(plan_conflict_absolute_link)
{
	struct outcome	o;

	o = plan_tree(S("l stow/a/abs -> /etc/hostname",
	    "l stow/a/rel -> abs", "f stow/a/file"), 0, NULL, S("a"));
	ck_assert_str_eq(o.conflicts,
	    "stow a ABSOLUTE_LINK abs: source is an absolute symlink "
	    "../stow/a/abs => /etc/hostname\n");
	ck_assert_str_eq(o.ops,
	    "LINK file => ../stow/a/file (a)\n"
	    "LINK rel => ../stow/a/rel (a)\n");
}
END_TEST

/*
 * Unstowing leaves links stow does not own alone (GNU Stow 2.4: "the
 * user is unstowing the package, so they don't want links to it"),
 * and still removes the package's own.
 */
START_TEST(plan_unstow_ignores_foreign_link)
{
	struct outcome	o;

	o = plan_tree(S("f stow/a/x", "f stow/a/y", "f elsewhere/x",
	    "l t/x -> ../elsewhere/x", "l t/y -> ../stow/a/y"), 0, S("a"),
	    NULL);
	ck_assert_str_eq(o.conflicts, "");
	ck_assert_str_eq(o.ops, "UNLINK y => ../stow/a/y (a)\n");
}
END_TEST

/* A package file where the target has a directory cannot be unstowed
 * (GNU Stow dies there; libstow reports a conflict). */
START_TEST(plan_unstow_conflict_dir_where_file)
{
	struct outcome	o;

	o = plan_tree(S("f stow/a/x", "f t/x/inside"), 0, S("a"), NULL);
	ck_assert_str_eq(o.conflicts,
	    "unstow a TYPE x: existing target is a directory but the package "
	    "entry is not: x\n");
	ck_assert_str_eq(o.ops, "");
}
END_TEST

START_TEST(plan_no_folding)
{
	struct outcome	o;

	o = plan_tree(S("f stow/a/bin/x", "f stow/a/share/doc/d",
	    "f stow/a/top"), STOW_F_NO_FOLDING, NULL, S("a"));
	ck_assert_str_eq(o.ops,
	    "MKDIR bin (a)\n"
	    "LINK bin/x => ../../stow/a/bin/x (a)\n"
	    "MKDIR share (a)\n"
	    "MKDIR share/doc (a)\n"
	    "LINK share/doc/d => ../../../stow/a/share/doc/d (a)\n"
	    "LINK top => ../stow/a/top (a)\n");
}
END_TEST

/* A directory walked from its entry extends the entry's paths: each
 * level one "../" more, dot- names renamed only in the target. */
START_TEST(plan_no_folding_dotfiles_deep)
{
	struct outcome	o;

	o = plan_tree(S("f stow/a/dot-config/nvim/lua/x",
	    "f stow/a/dot-config/nvim/init"),
	    STOW_F_NO_FOLDING | STOW_F_DOTFILES, NULL, S("a"));
	ck_assert_str_eq(o.ops,
	    "MKDIR .config (a)\n"
	    "MKDIR .config/nvim (a)\n"
	    "LINK .config/nvim/init => ../../../stow/a/dot-config/nvim/init "
	    "(a)\n"
	    "MKDIR .config/nvim/lua (a)\n"
	    "LINK .config/nvim/lua/x => ../../../../stow/a/dot-config/nvim/"
	    "lua/x (a)\n");
	ck_assert_str_eq(o.conflicts, "");
}
END_TEST

/* --no-folding leaves directories behind on unstow: no refolding. */
START_TEST(plan_no_folding_unstow_keeps_dirs)
{
	struct outcome	o;

	o = plan_tree(S("f stow/a/bin/x", "f stow/b/bin/z", "d t/bin",
	    "l t/bin/x -> ../../stow/a/bin/x",
	    "l t/bin/z -> ../../stow/b/bin/z"), STOW_F_NO_FOLDING, S("b"),
	    NULL);
	ck_assert_str_eq(o.ops, "UNLINK bin/z => ../../stow/b/bin/z (b)\n");
}
END_TEST

START_TEST(plan_dotfiles_renames)
{
	struct outcome	o;

	o = plan_tree(S("f stow/a/dot-bashrc", "f stow/a/dot-config/nvim/init",
	    "f stow/a/plain", "f stow/a/dot-"), STOW_F_DOTFILES, NULL,
	    S("a"));
	ck_assert_str_eq(o.ops,
	    "LINK dot- => ../stow/a/dot- (a)\n"
	    "LINK .bashrc => ../stow/a/dot-bashrc (a)\n"
	    "LINK .config => ../stow/a/dot-config (a)\n"
	    "LINK plain => ../stow/a/plain (a)\n");
}
END_TEST

/* Without --dotfiles, "dot-" names are taken literally. */
START_TEST(plan_dotfiles_off_literal)
{
	struct outcome	o;

	o = plan_tree(S("f stow/a/dot-bashrc"), 0, NULL, S("a"));
	ck_assert_str_eq(o.ops, "LINK dot-bashrc => ../stow/a/dot-bashrc "
	    "(a)\n");
}
END_TEST

START_TEST(plan_dotfiles_merges_existing_dir)
{
	struct outcome	o;

	o = plan_tree(S("f stow/a/dot-config/nvim/init",
	    "f stow/a/dot-config/dot-hidden", "d t/.config/other"),
	    STOW_F_DOTFILES, NULL, S("a"));
	ck_assert_str_eq(o.ops,
	    "LINK .config/.hidden => ../../stow/a/dot-config/dot-hidden (a)\n"
	    "LINK .config/nvim => ../../stow/a/dot-config/nvim (a)\n");
}
END_TEST

/* A .config folded into one dotfiles package is split open for a
 * second; both packages' entries keep their "dot-" names in the links. */
START_TEST(plan_dotfiles_unfolds_other_package)
{
	struct outcome	o;

	o = plan_tree(S("f stow/a/dot-config/nvim/init",
	    "f stow/a/dot-config/dot-a", "f stow/b/dot-config/git/config",
	    "l t/.config -> ../stow/a/dot-config"), STOW_F_DOTFILES, NULL,
	    S("b"));
	ck_assert_str_eq(o.ops,
	    "UNLINK .config => ../stow/a/dot-config (b)\n"
	    "MKDIR .config (b)\n"
	    "LINK .config/.a => ../../stow/a/dot-config/dot-a (a)\n"
	    "LINK .config/nvim => ../../stow/a/dot-config/nvim (a)\n"
	    "LINK .config/git => ../../stow/b/dot-config/git (b)\n");
	ck_assert_str_eq(o.conflicts, "");
}
END_TEST

START_TEST(plan_dotfiles_unstow)
{
	struct outcome	o;

	o = plan_tree(S("f stow/a/dot-bashrc", "f stow/a/dot-config/x",
	    "l t/.bashrc -> ../stow/a/dot-bashrc",
	    "l t/.config -> ../stow/a/dot-config"), STOW_F_DOTFILES, S("a"),
	    NULL);
	ck_assert_str_eq(o.ops,
	    "UNLINK .bashrc => ../stow/a/dot-bashrc (a)\n"
	    "UNLINK .config => ../stow/a/dot-config (a)\n");
}
END_TEST

START_TEST(plan_adopt_moves_file)
{
	struct outcome	o;

	o = plan_tree(S("f stow/a/bin/x = pkg", "f stow/a/bin/y", "d t/bin",
	    "f t/bin/x = mine"), STOW_F_ADOPT, NULL, S("a"));
	ck_assert_str_eq(o.ops,
	    "MOVE bin/x -> ../stow/a/bin/x (a)\n"
	    "LINK bin/x => ../../stow/a/bin/x (a)\n"
	    "LINK bin/y => ../../stow/a/bin/y (a)\n");
	ck_assert_str_eq(o.conflicts, "");
}
END_TEST

START_TEST(plan_adopt_dotfiles_dest)
{
	struct outcome	o;

	o = plan_tree(S("f stow/a/dot-bashrc = pkg", "f t/.bashrc = mine",
	    "f stow/a/dot-config/c = pkg", "f t/.config/c = mine"),
	    STOW_F_ADOPT | STOW_F_DOTFILES, NULL, S("a"));
	ck_assert_str_eq(o.ops,
	    "MOVE .bashrc -> ../stow/a/dot-bashrc (a)\n"
	    "LINK .bashrc => ../stow/a/dot-bashrc (a)\n"
	    "MOVE .config/c -> ../stow/a/dot-config/c (a)\n"
	    "LINK .config/c => ../../stow/a/dot-config/c (a)\n");
}
END_TEST

/* --adopt takes files, never a file where the package has a directory. */
START_TEST(plan_adopt_not_over_dir)
{
	struct outcome	o;

	o = plan_tree(S("f stow/a/bin/x", "f t/bin"), STOW_F_ADOPT, NULL,
	    S("a"));
	ck_assert_str_eq(o.ops, "");
	ck_assert_str_eq(o.conflicts,
	    "stow a TYPE bin: cannot stow directory ../stow/a/bin over "
	    "existing non-directory target bin\n");
}
END_TEST

START_TEST(plan_defer_keeps_other_package)
{
	struct stow_ctx	*ctx;
	struct stow_plan *plan;
	char		*ops, *conflicts;

	sb_build(S("f stow/a/man/x.1", "f stow/b/man/x.1", "d t/man",
	    "l t/man/x.1 -> ../../stow/a/man/x.1"));
	ctx = sb_ctx(0);
	ck_assert_int_eq(stow_ctx_add_pattern(ctx, STOW_PAT_DEFER, "man"), 0);
	plan = sb_plan(ctx);
	ck_assert_int_eq(stow_plan_stow(plan, "b"), 0);
	ops = sb_ops(plan);
	conflicts = sb_conflicts(plan);
	ck_assert_str_eq(ops, "");
	ck_assert_str_eq(conflicts, "");
	sb_release(plan);
	sb_release(ctx);
}
END_TEST

START_TEST(plan_override_replaces_other_package)
{
	struct stow_ctx	*ctx;
	struct stow_plan *plan;
	char		*ops, *conflicts;

	sb_build(S("f stow/a/man/x.1", "f stow/b/man/x.1", "d t/man",
	    "l t/man/x.1 -> ../../stow/a/man/x.1"));
	ctx = sb_ctx(0);
	ck_assert_int_eq(stow_ctx_add_pattern(ctx, STOW_PAT_OVERRIDE, "man"),
	    0);
	plan = sb_plan(ctx);
	ck_assert_int_eq(stow_plan_stow(plan, "b"), 0);
	ops = sb_ops(plan);
	conflicts = sb_conflicts(plan);
	ck_assert_str_eq(ops,
	    "UNLINK man/x.1 => ../../stow/a/man/x.1 (b)\n"
	    "LINK man/x.1 => ../../stow/b/man/x.1 (b)\n");
	ck_assert_str_eq(conflicts, "");
	sb_release(plan);
	sb_release(ctx);
}
END_TEST

/* --ignore, the built-in list and .stow-local-ignore while planning. */
START_TEST(plan_ignore_lists)
{
	struct stow_ctx	*ctx;
	struct stow_plan *plan;
	char		*ops;

	sb_build(S("f stow/a/README.md", "f stow/a/keep", "f stow/a/x.orig",
	    "f stow/a/.git/config", "f stow/b/README.md", "f stow/b/drop",
	    "f stow/b/.git", "f stow/b/.stow-local-ignore = drop\n"));
	ctx = sb_ctx(0);
	ck_assert_int_eq(stow_ctx_add_pattern(ctx, STOW_PAT_IGNORE,
	    "\\.orig"), 0);
	plan = sb_plan(ctx);
	ck_assert_int_eq(stow_plan_stow(plan, "a"), 0);
	ck_assert_int_eq(stow_plan_stow(plan, "b"), 0);
	ops = sb_ops(plan);
	/* A local ignore file replaces the built-in list. */
	ck_assert_str_eq(ops,
	    "LINK keep => ../stow/a/keep (a)\n"
	    "LINK .git => ../stow/b/.git (b)\n"
	    "LINK README.md => ../stow/b/README.md (b)\n");
	sb_release(plan);
	sb_release(ctx);
}
END_TEST

/*
 * An ignore regex that backtracks past PCRE2's match limit is an
 * error naming it and its file, not "no match": the entry would be
 * stowed although the regex may well match it.
 */
START_TEST(plan_ignore_limit_is_error)
{
	struct stow_ctx	*ctx;
	struct stow_plan *plan;
	char		 spec[128], want[256];
	const char	*msg;

	snprintf(spec, sizeof(spec), "f stow/a/bin/%0*db", 60, 0);
	memset(strstr(spec, "bin/") + 4, 'a', 60);
	sb_build(S("f stow/a/.stow-local-ignore = #\n(a|aa)+$\n",
	    "f stow/a/bin/ok", spec, "d t/bin"));
	ctx = sb_ctx(0);
	plan = sb_plan(ctx);
	ck_assert_int_eq(stow_plan_stow(plan, "a"), STOW_EINVAL);
	msg = stow_ctx_errmsg(ctx);
	snprintf(want, sizeof(want), "%s:2: regex '(a|aa)+$' gave up on "
	    "'/bin/aaa", sb_path("stow/a/.stow-local-ignore"));
	ck_assert_msg(strncmp(msg, want, strlen(want)) == 0 &&
	    strstr(msg, "match limit") != NULL, "message: %s", msg);
	sb_release(plan);
	sb_release(ctx);
}
END_TEST

START_TEST(plan_defer_limit_is_error)
{
	struct stow_ctx	*ctx;
	struct stow_plan *plan;
	char		 spec[2][128];
	const char	*msg;

	snprintf(spec[0], sizeof(spec[0]), "f stow/b/%0*db", 60, 0);
	memset(spec[0] + 9, 'a', 60);
	snprintf(spec[1], sizeof(spec[1]), "l t/%0*db -> ../stow/a/x", 60, 0);
	memset(spec[1] + 4, 'a', 60);
	sb_build(S("f stow/a/x", spec[0], spec[1]));
	ctx = sb_ctx(0);
	ck_assert_int_eq(stow_ctx_add_pattern(ctx, STOW_PAT_DEFER,
	    "(a|aa)+$"), 0);
	plan = sb_plan(ctx);
	ck_assert_int_eq(stow_plan_stow(plan, "b"), STOW_EINVAL);
	msg = stow_ctx_errmsg(ctx);
	ck_assert_msg(strncmp(msg, "defer regex '(a|aa)+$' gave up on 'aaa",
	    38) == 0 && strstr(msg, "match limit") != NULL, "message: %s",
	    msg);
	sb_release(plan);
	sb_release(ctx);
}
END_TEST

/* What stow_plan_foreach_unchanged() reports, as "dir: name name\n". */
static int
add_in_place(const char *dir, const char *const *names, size_t n,
    void *payload)
{
	char	**out = payload;
	size_t	 i;

	*out = sb_append(*out, "%s:", dir);
	for (i = 0; i < n; i++)
		*out = sb_append(*out, " %s", names[i]);
	*out = sb_append(*out, "\n");
	return 0;
}

/*
 * The links found in place, by directory, leave out those to package
 * entries that are symlinks (a link to one may dangle), and those the
 * plan changes.
 */
START_TEST(plan_foreach_unchanged)
{
	struct stow_ctx	*ctx;
	struct stow_plan *plan;
	char		*got = NULL;

	sb_build(S("f stow/a/bin/x", "f stow/a/bin/y", "l stow/a/bin/z -> x",
	    "f stow/a/top", "f stow/a/share/doc/d", "f stow/a/new",
	    "d t/bin", "l t/bin/x -> ../../stow/a/bin/x",
	    "l t/bin/y -> ../../stow/a/bin/y",
	    "l t/bin/z -> ../../stow/a/bin/z",
	    "l t/top -> ../stow/a/top", "l t/share -> ../stow/a/share"));
	ctx = sb_ctx(0);
	plan = sb_plan(ctx);
	ck_assert_int_eq(stow_plan_stow(plan, "a"), 0);
	ck_assert_uint_eq(stow_plan_unchanged_count(plan), 5);
	ck_assert_int_eq(stow_plan_foreach_unchanged(plan, add_in_place,
	    &got), 0);
	/* (Directories in the order their first such link was met.) */
	ck_assert_str_eq(got, "bin: x y\n.: share top\n");
	ck_assert_int_eq(stow_plan_foreach_unchanged(NULL, add_in_place,
	    &got), STOW_EMISUSE);
	ck_assert_int_eq(stow_plan_foreach_unchanged(plan, NULL, NULL),
	    STOW_EMISUSE);
	free(got);
	sb_release(plan);
	sb_release(ctx);
}
END_TEST

/* --dotfiles: the names in the target, in byte order there. */
START_TEST(plan_foreach_unchanged_dotfiles)
{
	struct stow_ctx	*ctx;
	struct stow_plan *plan;
	char		*got = NULL;

	sb_build(S("f stow/a/dot-b", "f stow/a/a", "f stow/a/c",
	    "l t/.b -> ../stow/a/dot-b", "l t/a -> ../stow/a/a",
	    "l t/c -> ../stow/a/c"));
	ctx = sb_ctx(STOW_F_DOTFILES);
	plan = sb_plan(ctx);
	ck_assert_int_eq(stow_plan_stow(plan, "a"), 0);
	ck_assert_int_eq(stow_plan_foreach_unchanged(plan, add_in_place,
	    &got), 0);
	ck_assert_str_eq(got, ".: .b a c\n");
	free(got);
	sb_release(plan);
	sb_release(ctx);
}
END_TEST

/* The stow directory inside the target is never stowed into. */
START_TEST(plan_skips_stow_dir)
{
	struct stow_opts	 opts = STOW_OPTS_INIT;
	struct stow_ctx		*ctx;
	struct stow_plan	*plan;
	char			*ops;

	sb_build(S("f stow/a/stow/b/x", "f stow/a/y"));
	opts.stow_dir = sb_path("stow");
	opts.target_dir = sb_path("");
	ctx = sb_new_ctx();
	ck_assert_int_eq(stow_ctx_configure(ctx, &opts), 0);
	plan = sb_plan(ctx);
	ck_assert_int_eq(stow_plan_stow(plan, "a"), 0);
	ops = sb_ops(plan);
	ck_assert_str_eq(ops, "LINK y => stow/a/y (a)\n");
	sb_release(plan);
	sb_release(ctx);
}
END_TEST

START_TEST(plan_missing_package)
{
	struct stow_ctx		*ctx;
	struct stow_plan	*plan;

	sb_build(S("f stow/a/x", "f stow/file"));
	ctx = sb_ctx(0);
	plan = sb_plan(ctx);
	ck_assert_int_eq(stow_plan_stow(plan, "nope"), STOW_ENOTFOUND);
	ck_assert_ptr_nonnull(strstr(stow_ctx_errmsg(ctx), "nope"));
	ck_assert_int_eq(stow_plan_unstow(plan, "nope"), STOW_ENOTFOUND);
	/* A plain file in the stow directory is no package either. */
	ck_assert_int_eq(stow_plan_stow(plan, "file"), STOW_ENOTFOUND);
	/* The plan stays usable after STOW_ENOTFOUND. */
	ck_assert_int_eq(stow_plan_stow(plan, "a"), 0);
	ck_assert_uint_eq(stow_plan_op_count(plan), 1);
	sb_release(plan);
	sb_release(ctx);
}
END_TEST

static const char *const bad_names[] = { "a/b", "/a", "a/b/", "",
	"..", "../", "./.", "a\nb" };

START_TEST(plan_bad_package_name)
{
	struct stow_ctx		*ctx;
	struct stow_plan	*plan;
	const char		*name = bad_names[_i];

	sb_build(S("f stow/a/b/x"));
	ctx = sb_ctx(0);
	plan = sb_plan(ctx);
	ck_assert_msg(stow_plan_stow(plan, name) == STOW_EINVAL,
	    "stow_plan_stow(\"%s\") did not fail with STOW_EINVAL", name);
	ck_assert_msg(stow_plan_unstow(plan, name) == STOW_EINVAL,
	    "stow_plan_unstow(\"%s\") did not fail with STOW_EINVAL", name);
	ck_assert_int_eq(stow_plan_stow(plan, NULL), STOW_EINVAL);
	ck_assert_uint_eq(stow_plan_op_count(plan), 0);
	sb_release(plan);
	sb_release(ctx);
}
END_TEST

START_TEST(plan_slash_message)
{
	struct stow_ctx		*ctx;
	struct stow_plan	*plan;

	sb_build(S("f stow/a/b/x"));
	ctx = sb_ctx(0);
	plan = sb_plan(ctx);
	ck_assert_int_eq(stow_plan_stow(plan, "a/b"), STOW_EINVAL);
	ck_assert_ptr_nonnull(strstr(stow_ctx_errmsg(ctx),
	    "Slashes are not permitted in package names"));
	sb_release(plan);
	sb_release(ctx);
}
END_TEST

START_TEST(plan_trailing_slash_stripped)
{
	struct outcome	o;

	o = plan_tree(S("f stow/a/bin/x"), 0, NULL, S("a//"));
	ck_assert_str_eq(o.ops, "LINK bin => ../stow/a/bin (a)\n");
}
END_TEST

/*
 * "." is the stow directory itself (GNU Stow 2.4.1: "cd ~/dotfiles &&
 * stow ."): its top-level entries are stowed and unstowed, but for
 * cstow's own cstow.conf at its top.
 */
START_TEST(plan_dot_is_the_stow_dir)
{
	struct outcome	o;

	o = plan_tree(S("f stow/bin/x", "f stow/cstow.conf",
	    "f stow/sub/cstow.conf", "f stow/README.md"), 0, NULL, S("./"));
	ck_assert_str_eq(o.ops,
	    "LINK bin => ../stow/bin (.)\n"
	    "LINK sub => ../stow/sub (.)\n");
	o = plan_tree(S("l t/bin -> ../stow/bin", "l t/sub -> ../stow/sub",
	    "l t/cstow.conf -> ../stow/cstow.conf"), 0, S("."), NULL);
	ck_assert_str_eq(o.ops,
	    "UNLINK bin => ../stow/bin (.)\n"
	    "UNLINK sub => ../stow/sub (.)\n");
}
END_TEST

/*
 * etc is folded into b.  Unstowing a and b, then stowing a and b: a's
 * stow makes etc its link, b's takes that back to unfold etc, and must
 * then see etc empty (b's old link is still being removed), not look
 * through that link and find b's own etc/y "in the way".
 */
START_TEST(plan_unfold_over_link_being_removed)
{
	struct outcome	o;

	o = plan_tree(S("f stow/a/etc/x", "f stow/b/etc/y",
	    "l t/etc -> ../stow/b/etc"), 0, S("a", "b"), S("a", "b"));
	ck_assert_str_eq(o.conflicts, "");
	ck_assert_str_eq(o.ops,
	    "UNLINK etc => ../stow/b/etc (b)\n"
	    "MKDIR etc (b)\n"
	    "LINK etc/x => ../../stow/a/etc/x (a)\n"
	    "LINK etc/y => ../../stow/b/etc/y (b)\n");
}
END_TEST

START_TEST(plan_unconfigured_ctx)
{
	struct stow_ctx		*ctx;
	struct stow_plan	*plan;

	ctx = sb_new_ctx();
	plan = (struct stow_plan *)&plan;
	ck_assert_int_eq(stow_plan_new(&plan, ctx), STOW_EMISUSE);
	ck_assert_ptr_null(plan);
	ck_assert_int_eq(stow_plan_new(&plan, NULL), STOW_EMISUSE);
	ck_assert_int_eq(stow_plan_new(NULL, ctx), STOW_EMISUSE);
	sb_release(ctx);
}
END_TEST

/*
 * A reset plan plans a package as a new plan would: what was planned
 * before (a's link y, which b's y would otherwise meet) is forgotten.
 */
START_TEST(plan_reset_plans_afresh)
{
	static const char *const tree[] = { "f stow/a/bin/x", "f stow/a/bin/y",
	    "f stow/b/bin/y", "f stow/b/bin/z", "f stow/c/bin/x", "d t/bin",
	    "l t/bin/x -> ../../stow/a/bin/x", NULL };
	struct stow_ctx		*ctx;
	struct stow_plan	*plan;
	struct outcome		 fresh_b, fresh_c;
	char			*ops, *conflicts;

	sb_build(tree);
	fresh_b = plan_tree(NULL, 0, NULL, S("b"));
	fresh_c = plan_tree(NULL, 0, NULL, S("c"));
	ck_assert_uint_eq(fresh_c.nconflicts, 1);
	ctx = sb_ctx(0);
	plan = sb_plan(ctx);
	ck_assert_int_eq(stow_plan_stow(plan, "a"), 0);
	ck_assert_uint_eq(stow_plan_op_count(plan), 1);
	ck_assert_uint_eq(stow_plan_unchanged_count(plan), 1);
	ck_assert_int_eq(stow_plan_reset(plan), 0);
	ck_assert_uint_eq(stow_plan_op_count(plan), 0);
	ck_assert_uint_eq(stow_plan_unchanged_count(plan), 0);
	ck_assert_int_eq(stow_plan_stow(plan, "b"), 0);
	ops = sb_ops(plan);
	conflicts = sb_conflicts(plan);
	ck_assert_str_eq(ops, fresh_b.ops);
	ck_assert_str_eq(conflicts, fresh_b.conflicts);
	ck_assert_uint_eq(stow_plan_conflict_count(plan), 0);
	ck_assert_int_eq(stow_plan_reset(plan), 0);
	ck_assert_uint_eq(stow_plan_conflict_count(plan), 0);
	ck_assert_int_eq(stow_plan_stow(plan, "c"), 0);
	ck_assert_str_eq(sb_conflicts(plan), fresh_c.conflicts);
	ck_assert_str_eq(sb_ops(plan), fresh_c.ops);
	ck_assert_int_eq(stow_plan_reset(plan), 0);
	ck_assert_int_eq(stow_plan_stow(plan, "b"), 0);
	ck_assert_int_eq(stow_plan_apply(plan, NULL, NULL), 0);
	ck_assert_int_eq(stow_plan_reset(plan), STOW_EMISUSE);
	/* Reverted, it read the disk before its apply changed it. */
	ck_assert_int_eq(stow_plan_revert(plan), 0);
	ck_assert_int_eq(stow_plan_reset(plan), STOW_EMISUSE);
	ck_assert_int_eq(stow_plan_stow(plan, "b"), STOW_EMISUSE);
	ck_assert_int_eq(stow_plan_reset(NULL), STOW_EMISUSE);
	sb_release(plan);
	sb_release(ctx);
}
END_TEST

START_TEST(plan_free_null)
{
	stow_plan_free(NULL);
	stow_ctx_free(NULL);
	stow_rc_free(NULL);
	ck_assert_int_eq(stow_plan_stow(NULL, "a"), STOW_EMISUSE);
	ck_assert_int_eq(stow_plan_unstow(NULL, "a"), STOW_EMISUSE);
	ck_assert_int_eq(stow_plan_apply(NULL, NULL, NULL), STOW_EMISUSE);
	ck_assert_uint_eq(stow_plan_op_count(NULL), 0);
	ck_assert_uint_eq(stow_plan_conflict_count(NULL), 0);
	ck_assert_str_eq(stow_ctx_errmsg(NULL), "invalid context");
	ck_assert_int_eq(stow_ctx_errno(NULL), 0);
}
END_TEST

/*
 * Report order: unstow before stow, then by package, then by message;
 * planned here as stow b, stow a, unstow z.
 */
START_TEST(plan_conflict_order)
{
	struct stow_ctx		*ctx;
	struct stow_plan	*plan;
	char			*got;

	sb_build(S("f stow/b/m", "f stow/b/n", "f t/n", "f elsewhere",
	    "l t/m -> ../elsewhere", "f stow/a/k", "f t/k", "f stow/z/u",
	    "d t/u"));
	ctx = sb_ctx(0);
	plan = sb_plan(ctx);
	ck_assert_int_eq(stow_plan_unstow(plan, "z"), 0);
	ck_assert_int_eq(stow_plan_stow(plan, "b"), 0);
	ck_assert_int_eq(stow_plan_stow(plan, "a"), 0);
	ck_assert_uint_eq(stow_plan_conflict_count(plan), 4);
	got = sb_conflicts(plan);
	ck_assert_str_eq(got,
	    "unstow z TYPE u: existing target is a directory but the "
	    "package entry is not: u\n"
	    "stow a NOT_OWNED k: cannot stow ../stow/a/k over existing "
	    "target k since neither a link nor a directory and --adopt not "
	    "specified\n"
	    "stow b NOT_OWNED n: cannot stow ../stow/b/n over existing "
	    "target n since neither a link nor a directory and --adopt not "
	    "specified\n"
	    "stow b NOT_OWNED m: existing target is not owned by stow: m\n");
	sb_release(plan);
	sb_release(ctx);
}
END_TEST

static int
stop_at_second(const struct stow_conflict *c, void *payload)
{
	int	*n = payload;

	(void)c;
	return ++*n == 2 ? 77 : 0;
}

static int
stop_op(const struct stow_op *op, void *payload)
{
	int	*n = payload;

	(void)op;
	return ++*n == 1 ? -55 : 0;
}

/* A non-zero return from a visitor stops the walk and is returned. */
START_TEST(plan_foreach_stops)
{
	struct stow_ctx		*ctx;
	struct stow_plan	*plan;
	int			 n = 0;

	sb_build(S("f stow/a/x", "f stow/a/y", "f stow/a/z", "f t/x", "f t/y"));
	ctx = sb_ctx(0);
	plan = sb_plan(ctx);
	ck_assert_int_eq(stow_plan_stow(plan, "a"), 0);
	ck_assert_int_eq(stow_plan_foreach_conflict(plan, stop_at_second, &n),
	    77);
	ck_assert_int_eq(n, 2);
	n = 0;
	ck_assert_int_eq(stow_plan_foreach_op(plan, stop_op, &n), -55);
	ck_assert_int_eq(n, 1);
	ck_assert_int_eq(stow_plan_foreach_op(plan, NULL, NULL), STOW_EMISUSE);
	ck_assert_int_eq(stow_plan_foreach_conflict(plan, NULL, NULL),
	    STOW_EMISUSE);
	sb_release(plan);
	sb_release(ctx);
}
END_TEST

struct logbuf {
	char	text[16384];
	int	maxlevel;
};

static void
log_collect(int level, const char *msg, void *payload)
{
	struct logbuf	*l = payload;
	size_t		 len = strlen(l->text);

	if (level > l->maxlevel)
		l->maxlevel = level;
	snprintf(l->text + len, sizeof(l->text) - len, "%d %s\n", level,
	    msg);
}

START_TEST(plan_log_reports_link)
{
	struct stow_ctx		*ctx;
	struct stow_plan	*plan;
	struct logbuf		 l = { "", -1 };

	sb_build(S("f stow/a/bin/x"));
	ctx = sb_ctx(0);
	stow_ctx_set_log(ctx, 1, log_collect, &l);
	plan = sb_plan(ctx);
	ck_assert_int_eq(stow_plan_stow(plan, "a"), 0);
	ck_assert_str_eq(l.text, "1 LINK: bin => ../stow/a/bin\n");
	ck_assert_int_eq(l.maxlevel, 1);
	sb_release(plan);

	/* Level 0 hides the operations; a higher level shows more. */
	l.text[0] = '\0';
	stow_ctx_set_log(ctx, 0, log_collect, &l);
	plan = sb_plan(ctx);
	ck_assert_int_eq(stow_plan_stow(plan, "a"), 0);
	ck_assert_str_eq(l.text, "");
	sb_release(plan);
	stow_ctx_set_log(ctx, 3, log_collect, &l);
	plan = sb_plan(ctx);
	ck_assert_int_eq(stow_plan_stow(plan, "a"), 0);
	ck_assert_ptr_nonnull(strstr(l.text, "2 Planning stow of package "
	    "a...\n"));
	ck_assert_ptr_nonnull(strstr(l.text, "1 LINK: bin => ../stow/a/bin\n"));
	ck_assert_int_eq(l.maxlevel, 3);
	sb_release(plan);
	sb_release(ctx);
	l.text[0] = '\0';
}
END_TEST

START_TEST(plan_log_warns_skipped_stow_dir)
{
	struct stow_ctx		*ctx;
	struct stow_plan	*plan;
	struct logbuf		 l = { "", -1 };

	sb_build(S("f stow/a/other/x", "f t/other/.stow"));
	ctx = sb_ctx(0);
	stow_ctx_set_log(ctx, 0, log_collect, &l);
	plan = sb_plan(ctx);
	ck_assert_int_eq(stow_plan_stow(plan, "a"), 0);
	ck_assert_str_eq(l.text,
	    "0 WARNING: skipping marked Stow directory other\n");
	ck_assert_uint_eq(stow_plan_op_count(plan), 0);
	sb_release(plan);
	sb_release(ctx);
	l.text[0] = '\0';
}
END_TEST

START_TEST(ctx_configure_errors)
{
	struct stow_opts	 opts = STOW_OPTS_INIT;
	struct stow_ctx		*ctx;

	sb_build(S("d stow", "f file"));
	ctx = sb_new_ctx();
	opts.stow_dir = sb_path("missing");
	ck_assert_int_eq(stow_ctx_configure(ctx, &opts), STOW_ENOTFOUND);
	ck_assert_ptr_nonnull(strstr(stow_ctx_errmsg(ctx), "missing"));
	opts.stow_dir = sb_path("stow");
	opts.target_dir = sb_path("missing");
	ck_assert_int_eq(stow_ctx_configure(ctx, &opts), STOW_ENOTFOUND);
	opts.target_dir = sb_path("file");
	ck_assert_int_eq(stow_ctx_configure(ctx, &opts), STOW_EINVAL);
	opts.target_dir = sb_path("stow/");
	ck_assert_int_eq(stow_ctx_configure(ctx, &opts), STOW_EINVAL);
	opts.target_dir = NULL;
	opts.version = 99;
	ck_assert_int_eq(stow_ctx_configure(ctx, &opts), STOW_EINVAL);
	ck_assert_int_eq(stow_ctx_configure(ctx, NULL), STOW_EINVAL);
	ck_assert_int_eq(stow_ctx_configure(NULL, &opts), STOW_EMISUSE);
	/* None of these left the context usable for planning. */
	{
		struct stow_plan	*plan;

		ck_assert_int_eq(stow_plan_new(&plan, ctx), STOW_EMISUSE);
	}
	sb_release(ctx);
}
END_TEST

START_TEST(ctx_reconfigure_with_live_plan)
{
	struct stow_opts	 opts = STOW_OPTS_INIT;
	struct stow_ctx		*ctx;
	struct stow_plan	*plan;

	ctx = sb_ctx(0);
	plan = sb_plan(ctx);
	opts.stow_dir = sb_path("stow");
	opts.target_dir = sb_path("t");
	ck_assert_int_eq(stow_ctx_configure(ctx, &opts), STOW_EMISUSE);
	sb_release(plan);
	ck_assert_int_eq(stow_ctx_configure(ctx, &opts), 0);
	sb_release(ctx);
}
END_TEST

START_TEST(ctx_version)
{
	ck_assert_int_eq(stow_version_number(), STOW_VERSION_NUMBER);
	ck_assert_str_eq(stow_version_string(), STOW_VERSION_STRING);
	ck_assert(STOW_VERSION_CHECK(0, 0, 1));
	ck_assert(!STOW_VERSION_CHECK(99, 0, 0));
	ck_assert_str_eq(stow_strerror(STOW_OK), "success");
	ck_assert_ptr_nonnull(stow_strerror(12345));
	ck_assert_str_ne(stow_strerror(STOW_ECONFLICT),
	    stow_strerror(STOW_EMISUSE));
}
END_TEST

/*
 * stow_plan_restow() against its definition, stow_plan_unstow() then
 * stow_plan_stow(), on random trees: packages sharing directories
 * (folding and unfolding), --dotfiles names that meet ("dot-g" and
 * ".g"), package symlinks, ignored entries the target still links,
 * foreign files and links, dangling links into the stow directory,
 * and target trees made by stowing some of the packages first.  The
 * operations must be the same, in the same order for each path, and
 * so must the conflicts.
 */
#define RT_TREES	250

/* A path made for one test, freed with its sandbox. */
#define RT_PATH(...)	((char *)sb_track(sb_append(NULL, __VA_ARGS__), SB_FREE))

static unsigned int
rt_rand(unsigned long *st, unsigned int n)
{
	*st ^= *st << 13;
	*st ^= *st >> 7;
	*st ^= *st << 17;
	return (unsigned int)(*st % n);
}

/* Random entries of directory dir (relative to the sandbox). */
static void
rt_fill(unsigned long *st, const char *dir, int depth)
{
	static const char *const files[] = { "f1", "f2", "dot-g", ".g",
	    "README", "f3~" };
	static const char *const dirs[] = { "x", "y", "dot-z", ".z" };
	size_t	i;

	for (i = 0; i < NELEM(files); i++)
		if (rt_rand(st, 3) == 0)
			sb_write(RT_PATH("%s/%s", dir, files[i]), "");
	if (rt_rand(st, 6) == 0 && sb_type(RT_PATH("%s/ln", dir)) == 0)
		sb_symlink(RT_PATH("%s/ln", dir), "f1");
	if (rt_rand(st, 12) == 0 && sb_type(RT_PATH("%s/abs", dir)) == 0)
		sb_symlink(RT_PATH("%s/abs", dir), "/nonexistent");
	for (i = 0; depth < 3 && i < NELEM(dirs); i++)
		if (rt_rand(st, 3) == 0)
			rt_fill(st, RT_PATH("%s/%s", dir, dirs[i]),
			    depth + 1);
}

/* Things of the user's in the target. */
static void
rt_target(unsigned long *st, const char *t)
{
	static const char *const spots[] = { "x", "y", "x/x", ".z", "z" };
	const char	*d;
	size_t		 i;

	for (i = 0; i < NELEM(spots); i++) {
		d = RT_PATH("%s/%s", t, spots[i]);
		switch (rt_rand(st, 8)) {
		case 0:
			sb_mkdir(d);
			break;
		case 1:
			sb_write(RT_PATH("%s/f2", d), "mine");
			break;
		case 2:
			sb_symlink(RT_PATH("%s/ext", d), "/nowhere");
			break;
		case 3:
			sb_symlink(RT_PATH("%s/gone", d),
			    "../../stow/b/x/gone");
			break;
		}
	}
}

/* A context for stow directory root/stow and target root/t. */
static struct stow_ctx *
rt_ctx(const char *root, unsigned int flags)
{
	struct stow_opts	 opts = STOW_OPTS_INIT;
	struct stow_ctx		*ctx = sb_new_ctx();

	opts.stow_dir = sb_path(RT_PATH("%s/stow", root));
	opts.target_dir = sb_path(RT_PATH("%s/t", root));
	opts.flags = flags;
	ck_assert_int_eq(stow_ctx_configure(ctx, &opts), 0);
	return ctx;
}

/* Plans (and applies when clean) stowing pkg: the target's history. */
static void
rt_stow(const char *root, unsigned int flags, const char *pkg)
{
	struct stow_ctx		*ctx = rt_ctx(root, flags);
	struct stow_plan	*plan;

	plan = sb_plan(ctx);
	if (stow_plan_stow(plan, pkg) == 0 &&
	    stow_plan_conflict_count(plan) == 0)
		ck_assert_int_eq(stow_plan_apply(plan, NULL, NULL), 0);
	sb_release(plan);
	sb_release(ctx);
}

/* A plan's operations, each path's in their order, paths sorted. */
static int
by_path(const void *x, const void *y)
{
	const char	*const *a = x, *const *b = y;
	const char	*pa = strchr(*a, ' '), *pb = strchr(*b, ' ');
	size_t		 na = strcspn(pa + 1, " \n"), nb = strcspn(pb + 1, " \n");
	int		 rc;

	if ((rc = strncmp(pa + 1, pb + 1, na < nb ? na : nb)) != 0)
		return rc;
	if (na != nb)
		return na < nb ? -1 : 1;
	return a < b ? -1 : a > b;
}

static char *
rt_ops_by_path(const char *ops)
{
	char	*copy = sb_append(NULL, "%s", ops), *line, *out;
	char	**lines = NULL;
	size_t	 n = 0, i;

	for (line = strtok(copy, "\n"); line != NULL; line = strtok(NULL,
	    "\n")) {
		lines = realloc(lines, (n + 1) * sizeof(*lines));
		ck_assert_ptr_nonnull(lines);
		lines[n++] = line;
	}
	/* Sorting pointers into one string by path, then by address,
	 * keeps each path's operations in their order. */
	if (n > 1)
		qsort(lines, n, sizeof(*lines), by_path);
	out = sb_append(NULL, "%s", "");
	for (i = 0; i < n; i++)
		out = sb_append(out, "%s\n", lines[i]);
	free(lines);
	free(copy);
	return sb_track(out, SB_FREE);
}

/* Plans "-D other" (when set) and a restow of pkg, one way or the other. */
static struct outcome
rt_plan(const char *root, unsigned int flags, const char *other,
    const char *pkg, int one_call)
{
	struct outcome		 o = { 0, NULL, NULL, 0, 0 };
	struct stow_ctx		*ctx = rt_ctx(root, flags);
	struct stow_plan	*plan;

	plan = sb_plan(ctx);
	if (other != NULL)
		o.rc = stow_plan_unstow(plan, other);
	if (o.rc == 0 && one_call)
		o.rc = stow_plan_restow(plan, pkg);
	else if (o.rc == 0 && (o.rc = stow_plan_unstow(plan, pkg)) == 0)
		o.rc = stow_plan_stow(plan, pkg);
	if (o.rc == 0) {
		o.ops = rt_ops_by_path(sb_ops(plan));
		o.conflicts = sb_conflicts(plan);
	}
	sb_release(plan);
	sb_release(ctx);
	return o;
}

START_TEST(plan_restow_same_as_unstow_stow)
{
	static const char *const pkgs[] = { "a", "b", "c" };
	static const unsigned int fl[] = { 0, STOW_F_DOTFILES,
	    STOW_F_NO_FOLDING, STOW_F_DOTFILES | STOW_F_NO_FOLDING };
	unsigned long	 st = 2463534242UL + (unsigned long)_i * 7919;
	unsigned int	 flags = fl[rt_rand(&st, NELEM(fl))];
	struct outcome	 slow, fast;
	const char	*root = "r", *pkg, *other;
	char		*before;
	size_t		 i;

	for (i = 0; i < NELEM(pkgs); i++)
		rt_fill(&st, RT_PATH("%s/stow/%s", root, pkgs[i]), 0);
	sb_mkdir("r/t");
	rt_target(&st, "r/t");
	/* Stowed before, maybe with other options, then changed. */
	for (i = 0; i < NELEM(pkgs); i++)
		if (rt_rand(&st, 3) != 0)
			rt_stow(root, rt_rand(&st, 2) ? flags :
			    fl[rt_rand(&st, NELEM(fl))], pkgs[i]);
	for (i = 0; i < NELEM(pkgs); i++)
		if (rt_rand(&st, 2) == 0)
			rt_fill(&st, RT_PATH("%s/stow/%s", root, pkgs[i]), 1);
	pkg = pkgs[rt_rand(&st, NELEM(pkgs))];
	/* Ignored now, and maybe linked from before. */
	if (rt_rand(&st, 4) == 0)
		sb_write(RT_PATH("%s/stow/%s/.stow-local-ignore",
		    root, pkg), "f2\n");
	other = rt_rand(&st, 3) == 0 ? pkgs[rt_rand(&st, NELEM(pkgs))] : NULL;
	if (other != NULL && strcmp(other, pkg) == 0)
		other = NULL;
	before = sb_snapshot(root);
	slow = rt_plan(root, flags, other, pkg, 0);
	fast = rt_plan(root, flags, other, pkg, 1);
	ck_assert_str_eq(sb_snapshot(root), before);
	ck_assert_int_eq(fast.rc, slow.rc);
	if (slow.rc != 0)
		return;
	ck_assert_msg(strcmp(fast.ops, slow.ops) == 0,
	    "tree %d (flags %u, -D %s -R %s): restow planned\n%s"
	    "unstow then stow planned\n%s", _i, flags,
	    other != NULL ? other : "-", pkg, fast.ops, slow.ops);
	ck_assert_str_eq(fast.conflicts, slow.conflicts);
}
END_TEST

/* Plans a restow of pkg in the tree built under r/ both ways; asserts
 * they agree, and returns the operations (by path) and conflicts. */
static struct outcome
restow_both(const char *const *tree, unsigned int flags, const char *pkg)
{
	struct outcome	slow, fast;

	sb_build(tree);
	slow = rt_plan("r", flags, NULL, pkg, 0);
	fast = rt_plan("r", flags, NULL, pkg, 1);
	ck_assert_int_eq(fast.rc, 0);
	ck_assert_int_eq(slow.rc, 0);
	ck_assert_str_eq(fast.ops, slow.ops);
	ck_assert_str_eq(fast.conflicts, slow.conflicts);
	return fast;
}

/* A stowed package entry made an absolute symlink since: the restow
 * reports it, though its link stands as it was. */
START_TEST(plan_restow_absolute_source)
{
	struct outcome	o;

	o = restow_both(S("l r/stow/p/d/abs -> /etc", "f r/stow/p/d/f1",
	    "l r/t/d/abs -> ../../stow/p/d/abs",
	    "l r/t/d/f1 -> ../../stow/p/d/f1"), 0, "p");
	ck_assert_ptr_nonnull(strstr(o.conflicts, "absolute"));
}
END_TEST

/* With --no-folding a folded directory is made a real one. */
START_TEST(plan_restow_no_folding_unfolds)
{
	struct outcome	o;

	o = restow_both(S("f r/stow/p/d/f1", "l r/t/d -> ../stow/p/d"),
	    STOW_F_NO_FOLDING, "p");
	ck_assert_str_eq(o.ops,
	    "UNLINK d => ../stow/p/d (p)\n"
	    "MKDIR d (p)\n"
	    "LINK d/f1 => ../../stow/p/d/f1 (p)\n");
}
END_TEST

/*
 * Unstowing p folds d/sub into q's, which leaves d foldable too; the
 * stow unfolds d again, and links q's entry "other" (added since q was
 * stowed) on the way: GNU Stow's restow makes that change.
 */
START_TEST(plan_restow_fold_below)
{
	struct outcome	o;

	o = restow_both(S("f r/stow/p/d/f1", "f r/stow/p/d/sub/g1",
	    "f r/stow/q/d/sub/h1", "f r/stow/q/d/other",
	    "l r/t/d/f1 -> ../../stow/p/d/f1",
	    "l r/t/d/sub/g1 -> ../../../stow/p/d/sub/g1",
	    "l r/t/d/sub/h1 -> ../../../stow/q/d/sub/h1"), 0, "p");
	ck_assert_ptr_nonnull(strstr(o.ops,
	    "LINK d/other => ../../stow/q/d/other (q)\n"));
}
END_TEST

/* With --dotfiles, "dot-z" and ".z" both lead to .z: walked twice. */
START_TEST(plan_restow_dotfiles_twice)
{
	(void)restow_both(S("f r/stow/p/dot-z/f1", "f r/stow/p/.z/f2",
	    "f r/stow/p/.z/f3", "l r/t/.z/f2 -> ../../stow/p/.z/f2",
	    "l r/t/.z/f3 -> ../../stow/p/.z/f3"), STOW_F_DOTFILES, "p");
}
END_TEST

/* The common case: nothing to do, and every link counts as unchanged. */
/*
 * The overlay keeps its last answer with the path asked about: a slot
 * made after a miss must be seen, and a path too long to keep must not
 * pass for another.
 */
START_TEST(plan_overlay_remembers_last_path)
{
	struct stow_ctx		*ctx;
	struct stow_plan	*plan;
	struct task		*t;
	char			*lng;

	sb_build(S("d stow/a", "d t"));
	ctx = sb_ctx(0);
	plan = sb_plan(ctx);
	lng = malloc(PATH_MAX + 16);
	ck_assert_ptr_nonnull(lng);
	memset(lng, 'z', PATH_MAX + 15);
	lng[0] = 'y';
	lng[1] = '/';
	lng[PATH_MAX + 15] = '\0';

	ck_assert_ptr_null(task_link_for(plan, "x/a"));	/* empty */
	ck_assert_int_eq(task_link(plan, "../src/a", "x/a"), 0);
	ck_assert_ptr_nonnull(t = task_link_for(plan, "x/a"));
	ck_assert_str_eq(t->source, "../src/a");
	ck_assert_ptr_null(task_link_for(plan, "x/b"));	/* a miss */
	ck_assert_int_eq(task_link(plan, "../src/b", "x/b"), 0);
	ck_assert_ptr_nonnull(t = task_link_for(plan, "x/b"));
	ck_assert_str_eq(t->source, "../src/b");

	ck_assert_ptr_null(task_link_for(plan, lng));
	ck_assert_ptr_null(task_link_for(plan, ""));
	ck_assert_int_eq(task_link(plan, "../src/long", lng), 0);
	ck_assert_ptr_null(task_link_for(plan, ""));
	ck_assert_ptr_nonnull(t = task_link_for(plan, lng));
	ck_assert_str_eq(t->source, "../src/long");
	ck_assert_str_eq(task_link_for(plan, "x/a")->source, "../src/a");
	ck_assert_str_eq(task_link_for(plan, lng)->source, "../src/long");

	/* Unlinking a planned link reverts it: gone from the overlay. */
	ck_assert_int_eq(task_unlink(plan, "x/a", "../src/a"), 0);
	ck_assert_ptr_null(task_link_for(plan, "x/a"));
	ck_assert_str_eq(task_link_for(plan, "x/b")->source, "../src/b");
	free(lng);
	sb_release(plan);
	sb_release(ctx);
}
END_TEST

START_TEST(plan_restow_stowed_is_unchanged)
{
	struct stow_ctx		*ctx;
	struct stow_plan	*plan;

	sb_build(S("f r/stow/p/d/f1", "f r/stow/p/d/f2", "f r/stow/p/top",
	    "d r/t/d", "l r/t/d/f1 -> ../../stow/p/d/f1",
	    "l r/t/d/f2 -> ../../stow/p/d/f2", "l r/t/top -> ../stow/p/top"));
	ctx = rt_ctx("r", 0);
	plan = sb_plan(ctx);
	ck_assert_int_eq(stow_plan_restow(plan, "p"), 0);
	ck_assert_uint_eq(stow_plan_op_count(plan), 0);
	ck_assert_uint_eq(stow_plan_unchanged_count(plan), 3);
	ck_assert_int_eq(stow_plan_restow(plan, "nope"), STOW_ENOTFOUND);
	sb_release(plan);
	sb_release(ctx);
}
END_TEST

Suite *
plan_suite(void)
{
	Suite	*s = suite_create("plan");
	TCase	*tc = tcase_create("plan");
	TCase	*ctc = tcase_create("ctx");

	tcase_add_checked_fixture(tc, sandbox_setup, sandbox_teardown);
	tcase_add_test(tc, plan_folds_into_empty_target);
	tcase_add_test(tc, plan_links_files_in_existing_dirs);
	tcase_add_test(tc, plan_default_target_is_parent);
	tcase_add_test(tc, plan_unfolds_shared_dir);
	tcase_add_test(tc, plan_unfolds_nested);
	tcase_add_test(tc, plan_unstow_removes_folded_link);
	tcase_add_test(tc, plan_unstow_refolds);
	tcase_add_test(tc, plan_unstow_no_refold_with_foreign_file);
	tcase_add_test(tc, plan_unstow_skipped_dir_still_folds);
	tcase_add_test(tc, plan_restow_unchanged_is_empty);
	tcase_add_test(tc, plan_stow_twice_is_empty);
	tcase_add_test(tc, plan_replaces_dangling_owned_link);
	tcase_add_test(tc, plan_replace_refuses_paths_outside_target);
	tcase_add_test(tc, plan_out_of_memory_is_never_applied);
	tcase_add_test(tc, err_os_without_path);
	tcase_add_test(tc, plan_cancelled_while_walking);
	tcase_add_test(tc, plan_conflict_plain_file);
	tcase_add_test(tc, plan_conflict_file_where_dir);
	tcase_add_test(tc, plan_conflict_dir_where_file);
	tcase_add_test(tc, plan_conflict_foreign_link);
	tcase_add_test(tc, plan_conflict_other_package);
	tcase_add_test(tc, plan_pending_links_seen_later);
	tcase_add_test(tc, plan_pending_link_unfolded_later);
	tcase_add_test(tc, plan_sibling_removal_seen);
	tcase_add_test(tc, plan_conflict_absolute_link);
	tcase_add_test(tc, plan_unstow_ignores_foreign_link);
	tcase_add_test(tc, plan_unstow_conflict_dir_where_file);
	tcase_add_test(tc, plan_no_folding);
	tcase_add_test(tc, plan_no_folding_dotfiles_deep);
	tcase_add_test(tc, plan_no_folding_unstow_keeps_dirs);
	tcase_add_test(tc, plan_dotfiles_renames);
	tcase_add_test(tc, plan_dotfiles_off_literal);
	tcase_add_test(tc, plan_dotfiles_merges_existing_dir);
	tcase_add_test(tc, plan_dotfiles_unfolds_other_package);
	tcase_add_test(tc, plan_dotfiles_unstow);
	tcase_add_test(tc, plan_adopt_moves_file);
	tcase_add_test(tc, plan_adopt_dotfiles_dest);
	tcase_add_test(tc, plan_adopt_not_over_dir);
	tcase_add_test(tc, plan_defer_keeps_other_package);
	tcase_add_test(tc, plan_override_replaces_other_package);
	tcase_add_test(tc, plan_ignore_lists);
	tcase_add_test(tc, plan_foreach_unchanged);
	tcase_add_test(tc, plan_foreach_unchanged_dotfiles);
	tcase_add_test(tc, plan_ignore_limit_is_error);
	tcase_add_test(tc, plan_defer_limit_is_error);
	tcase_add_test(tc, plan_skips_stow_dir);
	tcase_add_test(tc, plan_missing_package);
	tcase_add_loop_test(tc, plan_bad_package_name, 0,
	    (int)NELEM(bad_names));
	tcase_add_test(tc, plan_slash_message);
	tcase_add_test(tc, plan_trailing_slash_stripped);
	tcase_add_test(tc, plan_dot_is_the_stow_dir);
	tcase_add_test(tc, plan_unfold_over_link_being_removed);
	tcase_add_test(tc, plan_unconfigured_ctx);
	tcase_add_test(tc, plan_free_null);
	tcase_add_test(tc, plan_conflict_order);
	tcase_add_test(tc, plan_foreach_stops);
	tcase_add_test(tc, plan_log_reports_link);
	tcase_add_test(tc, plan_log_warns_skipped_stow_dir);
	tcase_add_loop_test(tc, plan_restow_same_as_unstow_stow, 0,
	    RT_TREES);
	tcase_add_test(tc, plan_restow_absolute_source);
	tcase_add_test(tc, plan_restow_no_folding_unfolds);
	tcase_add_test(tc, plan_restow_fold_below);
	tcase_add_test(tc, plan_restow_dotfiles_twice);
	tcase_add_test(tc, plan_restow_stowed_is_unchanged);
	tcase_add_test(tc, plan_overlay_remembers_last_path);
	tcase_add_test(tc, plan_reset_plans_afresh);
	suite_add_tcase(s, tc);

	tcase_add_checked_fixture(ctc, sandbox_setup, sandbox_teardown);
	tcase_add_test(ctc, ctx_configure_errors);
	tcase_add_test(ctc, ctx_reconfigure_with_live_plan);
	tcase_add_test(ctc, ctx_version);
	suite_add_tcase(s, ctc);
	return s;
}
