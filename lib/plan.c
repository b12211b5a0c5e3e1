/*
 * plan.c: planning stow and unstow runs without touching the disk.
 *
 * The algorithm is GNU Stow 2.4.1's (Stow.pm: stow_contents/stow_node,
 * unstow_contents/unstow_node, foldable/fold_tree, find_stowed_path),
 * with one deliberate change: the package-side path of an entry
 * ("dot-config/nvim") and its target-side path (".config/nvim" under
 * --dotfiles) are carried separately everywhere, which is what makes
 * unfolding, adopting and unstowing work with --dotfiles.
 *
 * Paths of the target tree are relative to the target directory ("."
 * is the target itself); paths into the stow directory start with the
 * stow path, the stow directory relative to the target.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "extern.h"

#define LOCAL_IGNORE_FILE	".stow-local-ignore"
/* cstow's own settings, at the top of a stow directory: never stowed,
 * even when the stow directory itself is the package ("."). */
#define CONF_FILE		"cstow.conf"
/* Where the vault keeps package files displaced by --adopt. */
#define VAULT_PACKAGES		"@packages"

/* A package entry being stowed, with its paths worked out. */
struct pkg_dir;

struct entry {
	const struct pkg_dir *walk;	/* the package directory it is in */
	const char	*pkg_sub;	/* inside the package */
	const char	*tgt;		/* in the target */
	const char	*pkg_path;	/* the package entry, from the target */
	const char	*source;	/* the text of a link at tgt to it */
	unsigned char	 dtype;		/* its d_type from the listing */
	struct arena	*kept_in;	/* where tgt and source are */
	struct arena_mark kept_at, kept_end;	/* from and to */
};

/* What the entries of one package directory share. */
struct pkg_dir {
	struct dirlist			*list;		/* its listing, walked
							   (NULL: the target's
							   is, --compat) */
	const char			*dir;		/* sp/pkg/pkg_sub */
	size_t				 root_len;	/* of sp/pkg in dir */
	const char			*tgt;		/* the target directory */
	const char			*src_dir;	/* a link's text there,
							   up to the name */
	size_t				 dir_len;	/* strlen(dir), */
	size_t				 tgt_len;	/* strlen(tgt) */
	size_t				 src_len;	/* and strlen(src_dir) */
	int				 stow_top;	/* dir is a stow
							   directory itself */
	const struct ignore_rules	*rules;
};

/* Where a link into a stow directory points (find_stowed_path()). */
struct owner {
	const char	*path;		/* the link's destination, from target */
	const char	*stow_path;	/* its stow directory, from target */
	const char	*package;	/* "" when the link is not stow's */
};

static int	stow_contents(struct stow_plan *, const char *, const char *,
		    const char *, const char *, const struct entry *);
static int	stow_entries(struct stow_plan *, const char *, const char *,
		    struct pkg_dir *, const char *, struct dirlist *);
static int	unstow_contents(struct stow_plan *, const char *,
		    const char *, int *, const char **);
static int	stow_into_absent(struct stow_plan *, const char *,
		    const char *, const char *, const char *, const char *,
		    const struct entry *);
static int	backup_in_the_way(struct stow_plan *, const char *);
static int	restow_kept(struct stow_plan *, const struct dirlist *,
		    const struct dirlist *, size_t);

#define NOMEM_IF_NULL(plan, p) \
	do { if ((p) == NULL) return err_nomem((plan)->ctx); } while (0)

static int
has_flag(const struct stow_plan *plan, unsigned int flag)
{
	return (plan->ctx->flags & flag) != 0;
}

/*
 * The ignore rules of package pkg (in stow path sp): its
 * .stow-local-ignore, else ~/.stow-global-ignore, else the built-in
 * list.  Compiled once per package.
 */
static int
package_rules(struct stow_plan *plan, const char *sp, const char *pkg,
    const struct ignore_rules **out)
{
	struct stow_ctx			*ctx = plan->ctx;
	const struct ignore_rules	*rules;
	struct ignore_rules		*own;
	char				*dir, *file, *shown, *text;
	int				 rc;

	NOMEM_IF_NULL(plan, dir = path_join(&plan->arena, sp, pkg));
	if ((*out = strmap_get(&plan->ignores, dir)) != NULL)
		return 0;
	NOMEM_IF_NULL(plan, file = path_join(&plan->arena, dir,
	    LOCAL_IGNORE_FILE));
	/* (Named in its messages as the user knows it.) */
	NOMEM_IF_NULL(plan, shown = path_join(&plan->arena, ctx->target_abs,
	    file));
	if ((text = fs_read_file(ctx->target_fd, file, NULL)) != NULL) {
		if ((own = calloc(1, sizeof(*own))) == NULL) {
			free(text);
			return err_nomem(ctx);
		}
		rc = ignore_rules_from_text(ctx, own, text, shown);
		free(text);
		if (rc != 0 || vec_push(&plan->ignore_owned, own)) {
			ignore_rules_free(own);
			free(own);
			return rc != 0 ? rc : err_nomem(ctx);
		}
		rules = own;
	} else if (errno != ENOENT) {
		return err_os(ctx, "open", shown);
	} else if ((rc = ignore_global_rules(ctx, &rules)) != 0) {
		return rc;
	} else if (rules == NULL &&
	    (rc = ignore_default_rules(ctx, &rules)) != 0) {
		return rc;
	}
	if (strmap_put(&plan->ignores, dir, (void *)(uintptr_t)rules))
		return err_nomem(ctx);
	*out = rules;
	return 0;
}

/* Is the path inside the package ignored, by --ignore or by the
 * package's rules?  rooted is that path with a leading "/", name its
 * last component.  1 or 0; an error (a regex gave up) is recorded and
 * returned. */
static int
ignored(const struct stow_plan *plan, const struct ignore_rules *rules,
    const char *rooted, const char *name)
{
	struct stow_ctx	*ctx = plan->ctx;
	int		 m;

	if ((m = patlist_match(&ctx->ignore, rooted + 1)) == -1)
		return patlist_explain(ctx, &ctx->ignore, "ignore",
		    rooted + 1);
	if (m == 1)
		return 1;
	if ((m = ignore_match_name(rules, rooted, name)) == -1)
		return ignore_explain(ctx, rules, rooted);
	return m;
}

/* Does a --defer or --override list (what) match tgt?  1 or 0, or an
 * error recorded and returned. */
static int
pattern_hit(struct stow_plan *plan, const struct patlist *l,
    const char *what, const char *tgt)
{
	int	m;

	if ((m = patlist_match(l, tgt)) == -1)
		return patlist_explain(plan->ctx, l, what, tgt);
	return m;
}

/*
 * GNU Stow's should_skip_target(): never stow into or unstow from the
 * stow directory itself, another stow directory (".stow") or a
 * protected one (".nonstow").  tl: tgt's cache entry, when the caller
 * has it (else NULL).
 */
static int
should_skip(struct stow_plan *plan, const char *tgt, struct dirlist *tl,
    int *skip)
{
	struct stow_ctx	*ctx = plan->ctx;
	int		 marks;

	*skip = 1;
	if (strcmp(tgt, ctx->stow_path) == 0) {
		log_msg(ctx, 0, "WARNING: skipping target which was current "
		    "stow directory %s", tgt);
		return 0;
	}
	if ((marks = disk_marks(plan, tgt, tl)) == -1)
		return err_nomem(ctx);
	if (marks & DISK_MARK_STOW) {
		log_msg(ctx, 0, "WARNING: skipping marked Stow directory %s",
		    tgt);
		return 0;
	}
	if (marks & DISK_MARK_NONSTOW) {
		log_msg(ctx, 0, "WARNING: skipping protected directory %s",
		    tgt);
		return 0;
	}
	*skip = 0;
	return 0;
}

/*
 * Does the link at tgt with text dest point into a package of our stow
 * directory, or of a directory marked with ".stow"?  Fills *o; its
 * package is "" when not.
 */
static int
find_owner(struct stow_plan *plan, const char *tgt, const char *dest,
    struct owner *o)
{
	struct arena	*a = &plan->arena;
	const char	*rest, *slash;
	char		*p, *prefix, *marker;

	o->path = o->stow_path = o->package = "";
	if (dest[0] == '/')
		return 0;
	NOMEM_IF_NULL(plan, p = path_parent(a, tgt));
	NOMEM_IF_NULL(plan, p = path_join(a, p, dest));
	if (path_is_under(p, plan->ctx->stow_path, &rest)) {
		slash = strchr(rest, '/');
		NOMEM_IF_NULL(plan, o->package = slash == NULL ? rest :
		    arena_strndup(a, rest, (size_t)(slash - rest)));
		o->path = p;
		o->stow_path = plan->ctx->stow_path;
		return 0;
	}
	/* Look for a ".stow" marker in each leading part of the path. */
	for (slash = strchr(p, '/'); slash != NULL;
	    slash = strchr(slash + 1, '/')) {
		NOMEM_IF_NULL(plan, prefix = arena_strndup(a, p,
		    (size_t)(slash - p)));
		NOMEM_IF_NULL(plan, marker = path_join(a, prefix, ".stow"));
		if (disk_type(plan, marker, 1) == DISK_ABSENT)
			continue;
		rest = slash + 1;
		slash = strchr(rest, '/');
		NOMEM_IF_NULL(plan, o->package = slash == NULL ? rest :
		    arena_strndup(a, rest, (size_t)(slash - rest)));
		o->path = p;
		o->stow_path = prefix;
		return 0;
	}
	return 0;
}

/* The package-side path of owner o inside its package. */
static const char *
owner_subpath(struct stow_plan *plan, const struct owner *o)
{
	const char	*pkg_root, *rest;

	if ((pkg_root = path_join(&plan->arena, o->stow_path,
	    o->package)) == NULL)
		return NULL;
	return path_is_under(o->path, pkg_root, &rest) ? rest : "";
}

/* The text of a link at tgt pointing to pkg_path (both from target);
 * NULL when out of memory, or given NULL for a path not made for want
 * of it. */
static char *
link_text(struct stow_plan *plan, const char *tgt, const char *pkg_path)
{
	int	 depth, i;
	char	*up;

	if (tgt == NULL || pkg_path == NULL)
		return NULL;
	if ((depth = path_depth(tgt) - 1) <= 0)
		return arena_strdup(&plan->arena, pkg_path);
	if ((up = arena_alloc(&plan->arena, (size_t)depth * 3)) == NULL)
		return NULL;
	for (i = 0; i < depth; i++)
		memcpy(up + 3 * i, i == depth - 1 ? "..\0" : "../", 3);
	return path_join(&plan->arena, up, pkg_path);
}

/* Is a package entry a directory (following a symlink or not)? */
static int
entry_is_dir(struct stow_plan *plan, const char *pkg_path, int follow)
{
	return disk_type(plan, pkg_path, follow) == DISK_DIR;
}

static int
entry_is_link(struct stow_plan *plan, const char *pkg_path)
{
	return disk_type(plan, pkg_path, 0) == DISK_LINK;
}

/*
 * Stows into tgt over an existing link (GNU Stow: skip if it is ours
 * already, defer, override, unfold a folded directory, replace a
 * dangling link, or conflict).
 */
static int
stow_over_link(struct stow_plan *plan, const char *sp, const char *pkg,
    const char *pkg_sub, const char *tgt, const char *source)
{
	struct arena	*a = &plan->arena;
	struct stow_ctx	*ctx = plan->ctx;
	struct owner	 o;
	const char	*existing, *ex_sub, *saved, *ex_path, *src_path;
	char		*parent;
	int		 rc;

	if ((existing = state_read_link(plan, tgt)) == NULL)
		return STOW_EOS;
	/* Already ours: the link leads to this very package entry, which
	 * exists, so GNU Stow's ownership and existence checks would pass. */
	if (strcmp(existing, source) == 0) {
		log_msg(ctx, 2, "--- Skipping %s as it already points to %s",
		    tgt, source);
		plan->unchanged++;
		plan->in_place = 1;
		return 0;
	}
	if ((rc = find_owner(plan, tgt, existing, &o)) != 0)
		return rc;
	if (*o.package == '\0' && has_flag(plan, STOW_F_BACKUP)) {
		if ((rc = backup_in_the_way(plan, tgt)) != 0)
			return rc;
		return stow_into_absent(plan, sp, pkg, pkg_sub, tgt, source,
		    NULL);
	}
	if (*o.package == '\0')
		return task_conflict(plan, STOW_CONFLICT_NOT_OWNED, tgt,
		    "existing target is not owned by stow: %s", tgt);
	if (!state_is_node(plan, o.path)) {
		log_msg(ctx, 2, "--- replacing invalid link: %s", tgt);
		if ((rc = task_unlink(plan, tgt, existing)) != 0)
			return rc;
		return task_link(plan, source, tgt);
	}
	if ((rc = pattern_hit(plan, &ctx->defer, "defer", tgt)) != 0) {
		if (rc < 0)
			return rc;
		log_msg(ctx, 2, "--- Deferring installation of: %s", tgt);
		return 0;
	}
	if ((rc = pattern_hit(plan, &ctx->override, "override", tgt)) != 0) {
		if (rc < 0)
			return rc;
		log_msg(ctx, 2, "--- Overriding installation of: %s", tgt);
		if ((rc = task_unlink(plan, tgt, existing)) != 0)
			return rc;
		return task_link(plan, source, tgt);
	}
	NOMEM_IF_NULL(plan, parent = path_parent(a, tgt));
	NOMEM_IF_NULL(plan, ex_path = path_join(a, parent, existing));
	NOMEM_IF_NULL(plan, src_path = path_join(a, parent, source));
	if (!state_is_dir(plan, ex_path) || !state_is_dir(plan, src_path))
		return task_conflict(plan, STOW_CONFLICT_OTHER_PACKAGE, tgt,
		    "existing target is stowed to a different package: "
		    "%s => %s", tgt, existing);
	/* Both are directories: unfold (split open) the folded tree. */
	log_msg(ctx, 2, "--- Unfolding %s which was already owned by %s",
	    tgt, o.package);
	NOMEM_IF_NULL(plan, ex_sub = owner_subpath(plan, &o));
	if ((rc = task_unlink(plan, tgt, existing)) != 0 ||
	    (rc = task_mkdir(plan, tgt)) != 0)
		return rc;
	saved = plan->package;
	plan->package = o.package;
	rc = stow_contents(plan, o.stow_path, o.package, ex_sub, tgt, NULL);
	plan->package = saved;
	if (rc != 0)
		return rc;
	return stow_contents(plan, sp, pkg, pkg_sub, tgt, NULL);
}

/*
 * Stows a package entry where the target has nothing (or nothing any
 * more): one link, or with --no-folding a directory to fill.  e: the
 * entry, when its path and type are known (else NULL).
 */
static int
stow_into_absent(struct stow_plan *plan, const char *sp, const char *pkg,
    const char *pkg_sub, const char *tgt, const char *source,
    const struct entry *e)
{
	const char	*pkg_path;
	int		 rc, dir;

	if (!has_flag(plan, STOW_F_NO_FOLDING))
		return task_link(plan, source, tgt);
	/* (Not following a symlink: the listing's type says as much.) */
	if (e != NULL && e->dtype != DT_UNKNOWN)
		dir = e->dtype == DT_DIR;
	else {
		NOMEM_IF_NULL(plan, pkg_path = e != NULL ? e->pkg_path :
		    path_join3(&plan->arena, sp, pkg, pkg_sub));
		dir = entry_is_dir(plan, pkg_path, 0);
	}
	if (dir) {
		if ((rc = task_mkdir(plan, tgt)) != 0)
			return rc;
		/* (Asked already: the answer is kept.) */
		if (disk_type(plan, tgt, 0) == DISK_ABSENT)
			disk_new_dir(plan, tgt);
		return stow_contents(plan, sp, pkg, pkg_sub, tgt, e);
	}
	return task_link(plan, source, tgt);
}

/* Moves what is in the way at tgt into the vault (STOW_F_BACKUP). */
static int
backup_in_the_way(struct stow_plan *plan, const char *tgt)
{
	return task_backup(plan, tgt, tgt);
}

/*
 * --adopt: moves the target's file into the package and links it.  With
 * a vault, the package's own version is kept there first, unless both
 * hold the same bytes.
 */
static int
adopt(struct stow_plan *plan, const char *pkg, const char *pkg_sub,
    const char *pkg_path, const char *tgt, const char *source)
{
	char	*dest;
	int	 rc, same;

	if (plan->ctx->backup_dir != NULL) {
		same = fs_same_content(plan->ctx->target_fd, tgt,
		    plan->ctx->target_fd, pkg_path);
		if (same == -1)
			return err_os(plan->ctx, "compare", tgt);
		NOMEM_IF_NULL(plan, dest = path_join3(&plan->arena,
		    VAULT_PACKAGES, pkg, pkg_sub));
		if (!same && (rc = task_backup(plan, pkg_path, dest)) != 0)
			return rc;
	}
	if ((rc = task_move(plan, tgt, pkg_path)) != 0)
		return rc;
	return task_link(plan, source, tgt);
}

/* Stows one package entry (pkg_sub inside pkg) at target path tgt. */
static int
stow_node(struct stow_plan *plan, const char *sp, const char *pkg,
    const struct entry *e)
{
	const char	*pkg_sub = e->pkg_sub, *tgt = e->tgt;
	const char	*pkg_path = e->pkg_path, *source = e->source;
	const char	*dest;
	int		 rc, is_dir;

	log_msg(plan->ctx, 3, "Stowing entry %s / %s / %s", sp, pkg, pkg_sub);

	/* Absolute symlinks cannot be unstowed, so they are not stowed.
	 * (The listing's d_type answers, unless it did not say.) */
	if (e->dtype == DT_LNK || (e->dtype == DT_UNKNOWN &&
	    entry_is_link(plan, pkg_path))) {
		if ((dest = disk_readlink(plan, pkg_path)) == NULL)
			return err_os(plan->ctx, "readlink", pkg_path);
		if (dest[0] == '/')
			return task_conflict(plan, STOW_CONFLICT_ABSOLUTE_LINK,
			    tgt, "source is an absolute symlink %s => %s",
			    pkg_path, dest);
	}
	if (state_is_link(plan, tgt))
		return stow_over_link(plan, sp, pkg, pkg_sub, tgt, source);
	is_dir = e->dtype == DT_DIR || ((e->dtype == DT_LNK ||
	    e->dtype == DT_UNKNOWN) && entry_is_dir(plan, pkg_path, 1));
	if (state_is_node(plan, tgt)) {
		if (state_is_dir(plan, tgt)) {
			if (!is_dir)
				return task_conflict(plan, STOW_CONFLICT_TYPE,
				    tgt, "cannot stow non-directory %s over "
				    "existing directory target %s", pkg_path,
				    tgt);
			return stow_contents(plan, sp, pkg, pkg_sub, tgt, e);
		}
		if (has_flag(plan, STOW_F_ADOPT)) {
			if (!is_dir)
				return adopt(plan, pkg, pkg_sub, pkg_path, tgt,
				    source);
			/* GNU Stow 2.4 words this only under --adopt. */
			return task_conflict(plan, STOW_CONFLICT_TYPE, tgt,
			    "cannot stow directory %s over existing "
			    "non-directory target %s", pkg_path, tgt);
		}
		if (has_flag(plan, STOW_F_BACKUP)) {
			if ((rc = backup_in_the_way(plan, tgt)) != 0)
				return rc;
			return stow_into_absent(plan, sp, pkg, pkg_sub, tgt,
			    source, e);
		}
		return task_conflict(plan, is_dir ? STOW_CONFLICT_TYPE :
		    STOW_CONFLICT_NOT_OWNED, tgt, "cannot stow %s over "
		    "existing target %s since neither a link nor a directory "
		    "and --adopt not specified", pkg_path, tgt);
	}
	return stow_into_absent(plan, sp, pkg, pkg_sub, tgt, source, e);
}

/*
 * Sets up the walk of package directory pkg_sub (of package pkg in
 * sp) against target directory tgt: the prefixes its entries share,
 * computed once rather than joined again for every entry.
 */
static int
pkg_dir_open(struct stow_plan *plan, const char *sp, const char *pkg,
    const char *pkg_sub, const char *tgt, struct pkg_dir *pd)
{
	struct arena	*a = &plan->arena;
	const char	*x;

	pd->list = NULL;
	NOMEM_IF_NULL(plan, pd->dir = path_join3(a, sp, pkg, pkg_sub));
	/* An entry's pkg_path is sp/pkg/pkg_sub/name: its pkg_sub/name
	 * part is its path inside the package, with no copy of its own. */
	pd->dir_len = strlen(pd->dir);
	pd->root_len = pd->dir_len - strlen(pkg_sub) -
	    (*pkg_sub != '\0');
	pd->tgt = tgt;
	/* Links in tgt lead up out of it, then down to the package. */
	NOMEM_IF_NULL(plan, x = path_child(a, tgt, "x"));
	NOMEM_IF_NULL(plan, pd->src_dir = link_text(plan, x, pd->dir));
	pd->tgt_len = strlen(tgt);
	pd->src_len = strlen(pd->src_dir);
	pd->stow_top = strcmp(pd->dir, sp) == 0;
	return package_rules(plan, sp, pkg, &pd->rules);
}

/*
 * pkg_dir_open() of directory entry e of a walk: its prefixes are the
 * walk's, one name longer, and already normalised (a listing's name is
 * never ".", ".." or empty), so they are taken from the entry's paths
 * rather than joined again.  They live in plan->scratch with the
 * entry's, for as long as the entry is planned.
 */
static int
pkg_dir_below(struct stow_plan *plan, const struct entry *e,
    struct pkg_dir *pd)
{
	const struct pkg_dir	*up = e->walk;
	char			*src;
	size_t			 n = strlen(e->source);

	pd->list = NULL;
	pd->dir = e->pkg_path;
	pd->dir_len = strlen(pd->dir);
	pd->root_len = up->root_len;
	pd->tgt = e->tgt;
	pd->tgt_len = strlen(pd->tgt);
	/* One level deeper than the entry's own link: one more "../" up
	 * to the same package directory. */
	NOMEM_IF_NULL(plan, src = arena_bytes(&plan->scratch, n + 4));
	memcpy(src, "../", 3);
	memcpy(src + 3, e->source, n + 1);
	pd->src_dir = src;
	pd->src_len = n + 3;
	pd->stow_top = 0;	/* (below sp/pkg, never sp itself) */
	pd->rules = up->rules;
	return 0;
}

/* The name of package entry name in the target (--dotfiles: "dot-x"
 * is ".x"), in plan->scratch when it differs. */
static const char *
target_name(struct stow_plan *plan, const char *name)
{
	return has_flag(plan, STOW_F_DOTFILES) ?
	    path_dotfile(&plan->scratch, name) : name;
}

/*
 * Is entry i of pd's walk, named name, whose path inside the package is
 * rooted, ignored?  Answered once per listing and rules: a restow walks
 * each package directory twice.  1 or 0, or an error (recorded).
 */
static int
entry_ignored(struct stow_plan *plan, const struct pkg_dir *pd, size_t i,
    const char *rooted, const char *name)
{
	struct dirlist	*l = pd->list;
	int		 m;

	if (l == NULL)
		return ignored(plan, pd->rules, rooted, name);
	if (l->ignored_by != pd->rules) {
		if ((l->ignored = arena_alloc(&plan->arena, l->len)) == NULL)
			return ignored(plan, pd->rules, rooted, name);
		memset(l->ignored, 0, l->len);
		l->ignored_by = pd->rules;
	}
	if (l->ignored[i] == 0) {
		if ((m = ignored(plan, pd->rules, rooted, name)) < 0)
			return m;
		l->ignored[i] = (unsigned char)(1 + m);
	}
	return l->ignored[i] == 2;
}

/*
 * The target path of an entry of pd's walk named tname there (tl
 * bytes), whose link text source is made: source's tail when it ends
 * so, which it mostly does (a link's text ends in the entry's path
 * inside the package, which is its path in the target), else made in
 * a.  A link then keeps one string for both.
 */
static const char *
entry_tgt_path(struct arena *a, const struct pkg_dir *pd, const char *tname,
    size_t tl, const char *source)
{
	size_t		 n = pd->tgt_len, sl = strlen(source);
	int		 top = n == 0 || (n == 1 && pd->tgt[0] == '.');
	size_t		 want = top ? tl : n + 1 + tl;
	const char	*tail = source + (sl >= want ? sl - want : 0);

	if (pd->tgt[0] != '/' && sl >= want &&
	    (sl == want || tail[-1] == '/') &&
	    (top || (memcmp(tail, pd->tgt, n) == 0 && tail[n] == '/')) &&
	    memcmp(tail + want - tl, tname, tl) == 0)
		return tail;
	return path_child_len(a, pd->tgt, n, tname, tl);
}

/*
 * Works out the paths of entry i of pd's walk, named pname in the
 * package and tname in the target, in plan->scratch: they last while
 * the entry is planned, and what a task keeps, it copies.  But tgt and
 * source go into keep: a stow walk's tasks take them as they are from
 * plan->arena, and entry_done() gives them back when none did.
 * *ignored: the entry is ignored, and e is not filled.
 */
static int
entry_make(struct stow_plan *plan, const struct pkg_dir *pd, size_t i,
    const char *pname, const char *tname, struct arena *keep,
    struct entry *e, int *ignored_out)
{
	struct arena	*tmp = &plan->scratch;
	size_t		 pl = strlen(pname);
	size_t		 tl = tname == pname ? pl : strlen(tname);

	e->walk = pd;
	e->kept_in = NULL;
	NOMEM_IF_NULL(plan, e->pkg_path = path_child_len(tmp, pd->dir,
	    pd->dir_len, pname, pl));
	/* pkg_path[root_len] is the "/" that roots pkg_sub. */
	e->pkg_sub = e->pkg_path + pd->root_len + 1;
	if (pd->stow_top && strcmp(e->pkg_sub, CONF_FILE) == 0) {
		*ignored_out = 1;
		return 0;
	}
	if ((*ignored_out = entry_ignored(plan, pd, i, e->pkg_sub - 1,
	    pname)) < 0)
		return *ignored_out;
	if (*ignored_out)
		return 0;
	e->kept_at = arena_mark(keep);
	NOMEM_IF_NULL(plan, e->source = path_child_len(keep, pd->src_dir,
	    pd->src_len, pname, pl));
	NOMEM_IF_NULL(plan, e->tgt = entry_tgt_path(keep, pd, tname, tl,
	    e->source));
	e->kept_end = arena_mark(keep);
	e->kept_in = keep;
	return 0;
}

/*
 * Where a stow walk's entry e (its d_type known) keeps its target path
 * and link text: in plan->arena, for the links it plans to take as they
 * are, but a directory's in plan->scratch, since the walk below it
 * takes from the arena, and they could not be given back.
 */
static struct arena *
entry_arena(struct stow_plan *plan, const struct entry *e)
{
	return e->dtype == DT_DIR ? &plan->scratch : &plan->arena;
}

/*
 * Entry e was planned (or not made: kept_in NULL): what it made in
 * plan->scratch (since mark m) goes, and its paths in plan->arena too
 * when nothing was taken from the arena after them (no task keeps them,
 * nor anything else).
 */
static void
entry_done(struct stow_plan *plan, struct entry *e, struct arena_mark m)
{
	if (e->kept_in == &plan->arena &&
	    arena_unused_since(&plan->arena, e->kept_end))
		arena_release(&plan->arena, e->kept_at);
	e->kept_in = NULL;
	disk_entry_done(plan, m);
}

/*
 * Notes entry i of listing list, walked into target directory tgt, as
 * found in place (stow_plan_foreach_unchanged()), unless it is a
 * symlink, or may be: whether a link to it dangles depends on where it
 * leads.  *ipd: this walk's record, made on its first entry.
 */
static int
note_in_place(struct stow_plan *plan, struct in_place_dir **ipd,
    const char *tgt, const struct dirlist *list, size_t i)
{
	struct in_place_dir	*d = *ipd;
	unsigned char		 t = list->ents[i].type;

	if (t == DT_LNK || t == DT_UNKNOWN)
		return 0;
	if (d == NULL) {
		if ((d = arena_alloc(&plan->arena, sizeof(*d))) == NULL ||
		    (d->tgt = arena_strdup(&plan->arena, tgt)) == NULL ||
		    (d->hit = arena_alloc(&plan->arena, list->len)) == NULL ||
		    vec_push(&plan->in_place_dirs, d) == -1)
			return err_nomem(plan->ctx);
		memset(d->hit, 0, list->len);
		d->list = list;
		d->n = 0;
		*ipd = d;
	}
	d->hit[i] = 1;
	d->n++;
	return 0;
}

/* Has the cancel callback asked to stop?  Asked as each directory is
 * walked: planning a big tree takes a while, and has changed nothing
 * yet that would need undoing. */
static int
plan_cancelled(struct stow_plan *plan)
{
	struct stow_ctx	*ctx = plan->ctx;

	if (ctx->cancel_cb == NULL || !ctx->cancel_cb(ctx->cancel_payload))
		return 0;
	return err_set(ctx, STOW_ECANCELLED, "cancelled while planning; "
	    "nothing was changed");
}

/*
 * A package directory a stow walk is in, and the target directory it
 * walks it into, known by their identities where the walk may have
 * come to them through a symbolic link.
 */
struct walk_frame {
	dev_t			 dev, tdev;
	ino_t			 ino, tino;
	const char		*dir;	/* sp/pkg/pkg_sub, for messages */
	const struct walk_frame	*up;
};

/*
 * Is the walk of package directory pd->dir into target directory tgt,
 * reached from entry e_up (NULL: the package's top, or a directory an
 * unfolding walks), one the walk is in already, the same package
 * directory into the same target directory?  Then it would repeat
 * itself without end: a symbolic link in a package can lead back up
 * ("ln -s .. up" in a cloned repository) while the target's links lead
 * back too (into the package, or unfolded again).  A link back up
 * whose target directories end is walked as GNU Stow walks it, until
 * they do.  Only walks that may come through a link are asked
 * (stat(2), both directories): a walk down real directories cannot
 * come back.  *looped: it is (a conflict is recorded); else *f is the
 * walk's frame, pushed (*pushed) when it was asked.
 */
static int
loop_guard(struct stow_plan *plan, const struct pkg_dir *pd, const char *tgt,
    const struct entry *e_up, struct walk_frame *f, int *pushed,
    int *looped)
{
	const struct walk_frame	*w;
	struct stat		 st, tst;

	*pushed = *looped = 0;
	if (e_up != NULL && e_up->dtype == DT_DIR && !plan->guarded)
		return 0;
	/* (A directory that cannot be asked: the listing tells what is
	 * wrong, or the target's is planned, not there to come back to.) */
	if (fs_stat_follow(plan->ctx->target_fd, tgt, &tst) == -1 ||
	    fs_stat_follow(plan->ctx->target_fd, pd->dir, &st) == -1)
		return 0;
	for (w = plan->frames; w != NULL; w = w->up) {
		if (w->dev == st.st_dev && w->ino == st.st_ino &&
		    w->tdev == tst.st_dev && w->tino == tst.st_ino) {
			*looped = 1;
			return task_conflict(plan, STOW_CONFLICT_LINK_LOOP,
			    tgt, "package directory %s leads back to %s, "
			    "which holds it: a symbolic link loop", pd->dir,
			    w->dir);
		}
	}
	f->dev = st.st_dev;
	f->ino = st.st_ino;
	f->tdev = tst.st_dev;
	f->tino = tst.st_ino;
	f->dir = pd->dir;
	f->up = plan->frames;
	plan->frames = f;
	*pushed = 1;
	return 0;
}

/*
 * Stows the contents of package directory pkg_sub into target dir tgt.
 * e: the entry of the walk above that is that directory (NULL: none,
 * the package's top or another package's directory).
 */
static int
stow_contents(struct stow_plan *plan, const char *sp, const char *pkg,
    const char *pkg_sub, const char *tgt, const struct entry *e_up)
{
	struct dirlist		*tl;
	struct pkg_dir		 pd;
	struct walk_frame	 frame;
	int			 rc, skip, pushed, looped, guarded;

	if ((rc = plan_cancelled(plan)) != 0)
		return rc;
	tl = disk_prime(plan, tgt);
	if ((rc = should_skip(plan, tgt, tl, &skip)) != 0 || skip)
		return rc;
	if ((rc = e_up != NULL ? pkg_dir_below(plan, e_up, &pd) :
	    pkg_dir_open(plan, sp, pkg, pkg_sub, tgt, &pd)) != 0)
		return rc;
	log_msg(plan->ctx, 3, "Stowing contents of %s (target %s)", pd.dir,
	    tgt);
	if ((rc = loop_guard(plan, &pd, tgt, e_up, &frame, &pushed,
	    &looped)) != 0 || looped)
		return rc;
	/* (Below a link, every directory is asked.) */
	guarded = plan->guarded;
	plan->guarded |= e_up != NULL && e_up->dtype != DT_DIR;
	rc = stow_entries(plan, sp, pkg, &pd, tgt, tl);
	plan->guarded = guarded;
	if (pushed)
		plan->frames = frame.up;
	return rc;
}

/* Stows the entries of the package directory pd into target directory
 * tgt, whose cache entry is tl (a restow's listing of it, when the
 * restow walked it). */
static int
stow_entries(struct stow_plan *plan, const char *sp, const char *pkg,
    struct pkg_dir *pd, const char *tgt, struct dirlist *tl)
{
	const struct dirlist	*tlist = plan->restowing ? tl : NULL;
	const struct dirlist	*list;
	struct in_place_dir	*ipd = NULL;
	struct walk_state	 outer;
	struct arena_mark	 mark;
	struct entry		 e;
	const char		*name, *tname;
	size_t			 i;
	int			 rc = 0, ign = 0;

	memset(&e, 0, sizeof(e));
	if ((list = pd->list = disk_list(plan, pd->dir)) == NULL)
		return err_os(plan->ctx, "cannot read directory",
		    path_join(&plan->arena, plan->ctx->target_abs, pd->dir));
	/* (--dotfiles can give two entries one name in the target.) */
	walk_begin(plan, tgt, tl, !has_flag(plan, STOW_F_DOTFILES), &outer);
	for (i = 0; i < list->len && rc == 0; i++) {
		name = list->ents[i].name;
		e.dtype = list->ents[i].type;
		/* (Set by stow_over_link(); a directory walked below
		 * leaves it unset.) */
		plan->in_place = 0;
		if (restow_kept(plan, list, tlist, i))
			plan->in_place = 1;
		else {
			mark = arena_mark(&plan->scratch);
			if ((tname = target_name(plan, name)) == NULL)
				rc = err_nomem(plan->ctx);
			else if ((rc = entry_make(plan, pd, i, name, tname,
			    entry_arena(plan, &e), &e, &ign)) == 0 && !ign) {
				walk_entry(plan, e.tgt, e.source,
				    e.kept_in == &plan->arena);
				rc = stow_node(plan, sp, pkg, &e);
			}
			walk_entry(plan, NULL, NULL, 0);
			entry_done(plan, &e, mark);
		}
		if (rc == 0 && plan->in_place)
			rc = note_in_place(plan, &ipd, tgt, list, i);
	}
	walk_end(plan, &outer);
	plan->in_place = 0;
	return rc;
}

/* What each_node() calls for a node of the directory it goes over. */
typedef int (*node_fn)(struct stow_plan *, const char *dir,
    const char *node, unsigned char type, void *arg);

/*
 * Calls fn for each entry of list, the listing of directory dir, with
 * its path (in plan->scratch, for the call only) and d_type; stops at
 * the first non-zero return, which it returns.
 */
static int
each_node(struct stow_plan *plan, const char *dir,
    const struct dirlist *list, node_fn fn, void *arg)
{
	struct arena_mark	 mark;
	const char		*node, *name;
	size_t			 i, dl = strlen(dir);
	int			 rc = 0;

	for (i = 0; rc == 0 && i < list->len; i++) {
		mark = arena_mark(&plan->scratch);
		name = list->ents[i].name;
		if ((node = path_child_len(&plan->scratch, dir, dl, name,
		    strlen(name))) == NULL)
			rc = err_nomem(plan->ctx);
		else
			rc = fn(plan, dir, node, list->ents[i].type, arg);
		disk_entry_done(plan, mark);
	}
	return rc;
}

/*
 * One node of a directory foldable() looks at: 1 when it stops the
 * fold (not a link, or a link elsewhere than the others), else 0 with
 * *common, the directory the links lead to, set.
 */
static int
foldable_node(struct stow_plan *plan, const char *dir, const char *node,
    unsigned char type, void *arg)
{
	const char	**common = arg;
	const char	*dest;
	char		*parent;
	int		 link = state_is_link(plan, node);

	(void)dir;
	(void)type;
	/* Skip entries planned away; unlike GNU Stow, a dangling link
	 * still counts (folding over it would fail to rmdir). */
	if (!link && !state_is_node(plan, node))
		return 0;
	if (!link)
		return 1;
	if ((dest = state_read_link(plan, node)) == NULL)
		return STOW_EOS;
	NOMEM_IF_NULL(plan, parent = path_parent(&plan->scratch, dest));
	if (*common == NULL)
		NOMEM_IF_NULL(plan, *common = arena_strdup(&plan->arena,
		    parent));
	else if (strcmp(*common, parent) != 0)
		return 1;
	return 0;
}

/*
 * The end of foldable(), once every node left in tgt was found to be a
 * link into directory common (NULL: there are none): *out is common,
 * relative to tgt's parent, when it is a package's directory.
 */
static int
fold_dest(struct stow_plan *plan, const char *tgt, const char *common,
    const char **out)
{
	struct owner	 o;
	int		 rc;

	if (common == NULL || *common == '\0')
		return 0;
	if (strncmp(common, "../", 3) == 0)
		common += 3;
	if ((rc = find_owner(plan, tgt, common, &o)) != 0)
		return rc;
	if (*o.package != '\0')
		*out = common;
	return 0;
}

/*
 * Can directory tgt be folded back into one link?  Only when every
 * node left in it is a link into the same package directory.  *out is
 * that directory relative to tgt's parent, or NULL.
 */
static int
foldable(struct stow_plan *plan, const char *tgt, const char **out)
{
	const struct dirlist *list;
	const char	*common = NULL;
	int		 rc;

	*out = NULL;
	if (has_flag(plan, STOW_F_NO_FOLDING))
		return 0;
	if ((list = disk_list(plan, tgt)) == NULL)
		return err_os(plan->ctx, "cannot read directory", tgt);
	if ((rc = each_node(plan, tgt, list, foldable_node, &common)) != 0)
		return rc < 0 ? rc : 0;
	return fold_dest(plan, tgt, common, out);
}

/* A node of a directory being folded: planned away. */
static int
fold_node(struct stow_plan *plan, const char *dir, const char *node,
    unsigned char type, void *arg)
{
	(void)dir;
	(void)type;
	(void)arg;
	if (state_is_link(plan, node) || state_is_node(plan, node))
		return task_unlink(plan, node, NULL);
	return 0;
}

/* Replaces directory tgt by a link to pkg_dir (GNU Stow's fold_tree). */
static int
fold_tree(struct stow_plan *plan, const char *tgt, const char *pkg_dir)
{
	const struct dirlist *list;
	int		 rc;

	log_msg(plan->ctx, 3, "--- Folding tree: %s => %s", tgt, pkg_dir);
	plan->folds++;
	if ((list = disk_list(plan, tgt)) == NULL)
		return err_os(plan->ctx, "cannot read directory", tgt);
	if ((rc = each_node(plan, tgt, list, fold_node, NULL)) != 0 ||
	    (rc = task_rmdir(plan, tgt)) != 0)
		return rc;
	return task_link(plan, pkg_dir, tgt);
}

/* One node of cleanup_invalid_links(): removed when it is a dangling
 * link owned by stow. */
static int
cleanup_node(struct stow_plan *plan, const char *dir, const char *node,
    unsigned char type, void *arg)
{
	struct owner	 o;
	const char	*dest, *to;
	int		 rc;

	(void)type;
	(void)arg;
	/* The overlay first: after an unstow, each link it removes is
	 * there, and one look at it is enough. */
	if (task_link_for(plan, node) != NULL || !entry_is_link(plan, node))
		return 0;
	if ((dest = disk_readlink(plan, node)) == NULL)
		return err_os(plan->ctx, "readlink", node);
	NOMEM_IF_NULL(plan, to = path_join(&plan->scratch, dir, dest));
	if (disk_type(plan, to, 1) != DISK_ABSENT)
		return 0;
	if ((rc = find_owner(plan, node, dest, &o)) != 0)
		return rc;
	if (*o.package == '\0')
		return 0;
	log_msg(plan->ctx, 2, "--- removing link owned by %s: %s => %s",
	    o.package, node, to);
	return task_unlink(plan, node, dest);
}

/* What cleanup_invalid_links() walks a directory with. */
struct cleanup_walk {
	int		 fold;		/* foldable() asked too: */
	const char	*common;	/* its foldable_node() state, */
	int		 blocked;	/* and 1 once a node stops the fold */
};

/* One node of cleanup_invalid_links(), then of foldable(): a node's
 * cleanup changes nothing foldable() sees of the nodes before it. */
static int
cleanup_walk_node(struct stow_plan *plan, const char *dir,
    const char *node, unsigned char type, void *arg)
{
	struct cleanup_walk	*w = arg;
	int			 rc;

	if ((rc = cleanup_node(plan, dir, node, type, NULL)) != 0 ||
	    !w->fold || w->blocked)
		return rc;
	if ((rc = foldable_node(plan, dir, node, type, &w->common)) < 0)
		return rc;
	w->blocked = rc;
	return 0;
}

/*
 * Removes dangling links owned by stow from directory dir: they block
 * folding and appear when a package file is renamed or deleted.  With
 * fold set, also answers foldable(plan, dir, fold) after the cleanup,
 * from the same walk of dir.
 */
static int
cleanup_invalid_links(struct stow_plan *plan, const char *dir,
    const char **fold)
{
	const struct dirlist	*list;
	struct cleanup_walk	 w = { 0, NULL, 0 };
	int			 rc;

	if (fold != NULL) {
		*fold = NULL;
		w.fold = !has_flag(plan, STOW_F_NO_FOLDING);
	}
	if ((list = disk_list(plan, dir)) == NULL)
		return err_os(plan->ctx, "cannot read directory", dir);
	if ((rc = each_node(plan, dir, list, cleanup_walk_node, &w)) != 0 ||
	    !w.fold || w.blocked)
		return rc;
	return fold_dest(plan, dir, w.common, fold);
}

/*
 * Unstows the link at tgt if it points to pkg_path.  source is the text
 * a link at tgt to pkg_path has (NULL if unknown).
 */
static int
unstow_link_node(struct stow_plan *plan, const char *tgt,
    const char *pkg_path, const char *source)
{
	struct owner	 o;
	const char	*dest;
	int		 rc;

	if ((dest = state_read_link(plan, tgt)) == NULL)
		return STOW_EOS;
	/* The common case, our own link to the entry we walk: no need to
	 * work out its owner. */
	if (source != NULL && strcmp(dest, source) == 0)
		return task_unlink(plan, tgt, dest);
	if (dest[0] == '/') {
		log_msg(plan->ctx, 0, "Ignoring an absolute symlink: %s => %s",
		    tgt, dest);
		return 0;
	}
	if ((rc = find_owner(plan, tgt, dest, &o)) != 0)
		return rc;
	if (*o.package == '\0') {
		/* Someone unstowing a package does not want links to it, so
		 * a link pointing elsewhere is no conflict (GNU Stow 2.4). */
		log_msg(plan->ctx, 5, "Ignoring unowned link %s => %s", tgt,
		    dest);
		return 0;
	}
	/* Walking the package, pkg_path is an entry we listed: it exists. */
	if (strcmp(o.path, pkg_path) == 0 && !has_flag(plan, STOW_F_COMPAT))
		return task_unlink(plan, tgt, dest);
	if (!state_is_node(plan, o.path)) {
		log_msg(plan->ctx, 2, "--- removing invalid link into a stow "
		    "directory: %s", pkg_path);
		return task_unlink(plan, tgt, dest);
	}
	if (strcmp(o.path, pkg_path) == 0)
		return task_unlink(plan, tgt, dest);
	log_msg(plan->ctx, 5, "Ignoring link %s => %s", tgt, dest);
	return 0;
}

static int
unstow_node(struct stow_plan *plan, const char *pkg_sub, const char *tgt,
    const char *pkg_path, const char *source)
{
	struct stow_ctx	*ctx = plan->ctx;
	const char	*fold;
	int		 rc, kept;

	log_msg(ctx, 3, "Unstowing %s", pkg_path);
	if (state_is_link(plan, tgt))
		return unstow_link_node(plan, tgt, pkg_path, source);
	if (state_is_dir(plan, tgt)) {
		if (!has_flag(plan, STOW_F_COMPAT) &&
		    !entry_is_dir(plan, pkg_path, 1))
			return task_conflict(plan, STOW_CONFLICT_TYPE, tgt,
			    "existing target is a directory but the package "
			    "entry is not: %s", tgt);
		/* Unstowing may have left the directory foldable (never one
		 * a restow keeps: the links it had are all gone, it holds
		 * none but directories and files, or nothing). */
		if ((rc = unstow_contents(plan, pkg_sub, tgt, &kept,
		    &fold)) != 0 || kept)
			return rc;
		return fold == NULL ? 0 : fold_tree(plan, tgt, fold);
	}
	if (disk_type(plan, tgt, 1) != DISK_ABSENT)
		log_msg(ctx, 2, "%s doesn't need to be unstowed", tgt);
	else
		log_msg(ctx, 2, "%s did not exist to be unstowed", tgt);
	return 0;
}

/*
 * A restow (stow_plan_restow()) is GNU Stow's unstow then stow of one
 * package, planned as that, with one saving: where its walk finds a
 * target directory holding nothing but the package's own links to the
 * entries walked (and directories, and files, none of them folded),
 * the unstow would remove each link, find the directory not foldable,
 * clean no link up, and the stow would make each link again, which
 * cancels the removal.  Such a directory is "kept": its links are not
 * planned away and back, and the stow walks past them as already
 * stowed.  The links are only held back while the directory is
 * walked: as soon as it turns out not to qualify, those held back are
 * planned away as GNU Stow plans them, and the walk goes on as GNU
 * Stow's does.  Only the package's own walks happen between its unstow
 * and its stow, and none of them looks at the links of a directory it
 * is not walking, so what is held back is never seen by anything else.
 */
struct restow_dir {
	struct dirlist	*tlist;		/* the target directory's listing;
					   NULL: not kept, plan as GNU Stow */
	size_t		*held;		/* package entries whose link is
					   held back */
	size_t		 nheld;
	unsigned long	 folds;		/* plan->folds as the walk began */
};

/*
 * Plans the removal of every link held back in rd, as GNU Stow had
 * planned it already, and stops holding any back in this directory.
 */
static int
restow_release(struct stow_plan *plan, struct restow_dir *rd,
    const struct dirlist *list, const struct pkg_dir *pd)
{
	struct arena_mark	 mark;
	struct entry		 e;
	const char		*tname;
	size_t			 k;
	int			 rc = 0, ign;

	for (k = 0; rc == 0 && k < rd->nheld; k++) {
		mark = arena_mark(&plan->scratch);
		if ((tname = target_name(plan,
		    list->ents[rd->held[k]].name)) == NULL)
			rc = err_nomem(plan->ctx);
		else if ((rc = entry_make(plan, pd, rd->held[k],
		    list->ents[rd->held[k]].name, tname, &plan->scratch, &e,
		    &ign)) == 0)
			rc = task_unlink(plan, e.tgt, e.source);
		disk_entry_done(plan, mark);
	}
	rd->tlist = NULL;
	rd->nheld = 0;
	return rc;
}

/* A link of a kept directory walked again: planned away. */
static int
unkeep_node(struct stow_plan *plan, const char *dir, const char *node,
    unsigned char type, void *arg)
{
	(void)dir;
	(void)arg;
	return type == DT_LNK ? task_unlink(plan, node, NULL) : 0;
}

/*
 * A kept directory walked again (with --dotfiles, "dot-x" and ".x" both
 * lead to ".x"): its links, all held back, are planned away first.
 */
static int
restow_unkeep(struct stow_plan *plan, const char *tgt, struct dirlist *tl)
{
	tl->kept_for = NULL;
	return each_node(plan, tgt, tl, unkeep_node, NULL);
}

/*
 * Does this walk hold links back (a restow)?  Not when logging at level
 * 1 or more, which shows GNU Stow's steps: each link planned away, and
 * its removal reverted.
 */
static int
restow_holds(const struct stow_plan *plan)
{
	return plan->restowing && !has_flag(plan, STOW_F_COMPAT) &&
	    (plan->ctx->log_cb == NULL || plan->ctx->log_level < 1);
}

/* Begins the walk of target directory tgt (package listing list). */
static int
restow_begin(struct stow_plan *plan, const char *tgt,
    const struct dirlist *list, struct restow_dir *rd)
{
	struct dirlist	*tl;

	memset(rd, 0, sizeof(*rd));
	if (!restow_holds(plan))
		return 0;
	/* (A directory that cannot be listed is walked as GNU Stow does,
	 * which says why.) */
	if ((tl = disk_list(plan, tgt)) == NULL)
		return 0;
	if (tl->restow_seen)
		return tl->kept_for == NULL ? 0 : restow_unkeep(plan, tgt, tl);
	tl->restow_seen = 1;
	if (vec_push(&plan->restow_dirs, tl) == -1)
		return err_nomem(plan->ctx);
	if (list->len > 0 && (rd->held = arena_alloc(&plan->scratch,
	    list->len * sizeof(*rd->held))) == NULL)
		return err_nomem(plan->ctx);
	rd->tlist = tl;
	rd->folds = plan->folds;
	return 0;
}

/*
 * Package entry i (e) of the walk: holds its link back (1) when it is
 * the entry's own, as a stow would make it again; 0 when the entry is
 * to be unstowed as GNU Stow does, which, for any other link, stops
 * the holding back in this directory.
 */
static int
restow_hold(struct stow_plan *plan, struct restow_dir *rd,
    const struct dirlist *list, const struct pkg_dir *pd, size_t i,
    const struct entry *e)
{
	const char	*dest;
	int		 dir;

	if (rd->tlist == NULL || !state_is_link(plan, e->tgt))
		return 0;
	/* A stow --no-folding makes a directory where a link to one
	 * was: that is no link made again.  Nor is a link to a package
	 * entry that is a symlink, which the stow checks (absolute, it
	 * is a conflict, and the link stays planned away). */
	dir = e->dtype == DT_DIR;
	if (e->dtype != DT_LNK && e->dtype != DT_UNKNOWN &&
	    task_link_for(plan, e->tgt) == NULL &&
	    !(dir && has_flag(plan, STOW_F_NO_FOLDING)) &&
	    (dest = disk_readlink(plan, e->tgt)) != NULL &&
	    strcmp(dest, e->source) == 0) {
		rd->held[rd->nheld++] = i;
		return 1;
	}
	return restow_release(plan, rd, list, pd);
}

/* The number of links in listing tl; SIZE_MAX when a type is unknown. */
static size_t
count_links(const struct dirlist *tl)
{
	size_t	i, n = 0;

	for (i = 0; i < tl->len; i++) {
		if (tl->ents[i].type == DT_UNKNOWN)
			return SIZE_MAX;
		n += tl->ents[i].type == DT_LNK;
	}
	return n;
}

/* Keeps the links held back in rd, those of package listing list. */
static int
restow_keep(struct stow_plan *plan, struct restow_dir *rd,
    struct dirlist *list, int *kept)
{
	size_t	k;

	if (list->kept == NULL && (list->kept = arena_alloc(&plan->arena,
	    list->len)) == NULL)
		return err_nomem(plan->ctx);
	memset(list->kept, 0, list->len);
	for (k = 0; k < rd->nheld; k++)
		list->kept[rd->held[k]] = 1;
	rd->tlist->kept_for = list;
	*kept = 1;
	return 0;
}

/*
 * Ends the walk: the directory is kept when every link in it was held
 * back and no directory below it was folded; else the links held back
 * are planned away.  *kept: it was.
 */
static int
restow_end_dir(struct stow_plan *plan, struct restow_dir *rd,
    struct dirlist *list, const struct pkg_dir *pd, int *kept)
{
	*kept = 0;
	if (rd->tlist == NULL)
		return 0;
	if (plan->folds == rd->folds && count_links(rd->tlist) == rd->nheld)
		return restow_keep(plan, rd, list, kept);
	return restow_release(plan, rd, list, pd);
}

/*
 * Is entry i of package listing list, walked into the target directory
 * whose listing is tl, one whose link a restow kept?  Then it is
 * already stowed.  (No log shows the kept links: logging, a restow
 * keeps none.)
 */
static int
restow_kept(struct stow_plan *plan, const struct dirlist *list,
    const struct dirlist *tl, size_t i)
{
	if (tl == NULL || tl->kept_for != list || !list->kept[i])
		return 0;
	plan->unchanged++;
	return 1;
}

/*
 * Unstows the contents of package directory pkg_sub from target
 * directory tgt.  Normally the package tree is walked; --compat walks
 * the target tree instead, mapping names back to the package.  *kept:
 * a restow keeps tgt as it is.  Otherwise, with fold set, *fold is what
 * foldable() then says of tgt (the cleanup's walk of tgt answers it).
 */
static int
unstow_contents(struct stow_plan *plan, const char *pkg_sub,
    const char *tgt, int *kept, const char **fold)
{
	struct stow_ctx		*ctx = plan->ctx;
	struct arena		*tmp = &plan->scratch;
	struct dirlist		*list;
	struct pkg_dir		 pd;
	struct restow_dir	 rd;
	struct arena_mark	 mark;
	struct entry		 e;
	const char		*pname, *tname, *walked;
	size_t			 i;
	int			 rc, skip, ign = 0;
	int			 compat = has_flag(plan, STOW_F_COMPAT);
	int			 dotfiles = has_flag(plan, STOW_F_DOTFILES);

	if ((rc = plan_cancelled(plan)) != 0)
		return rc;
	*kept = 0;
	if (fold != NULL)
		*fold = NULL;
	/* A restow lists the target directory (restow_begin()): listed
	 * first, it also answers should_skip() here and in the stow. */
	if (restow_holds(plan))
		(void)disk_list(plan, tgt);
	if ((rc = should_skip(plan, tgt, NULL, &skip)) != 0)
		return rc;
	if (skip)
		return fold != NULL ? foldable(plan, tgt, fold) : 0;
	if ((rc = pkg_dir_open(plan, ctx->stow_path, plan->package, pkg_sub,
	    tgt, &pd)) != 0)
		return rc;
	walked = compat ? tgt : pd.dir;
	log_msg(ctx, 3, "Unstowing from %s", tgt);
	if ((list = disk_list(plan, walked)) == NULL)
		return err_os(ctx, "cannot read directory",
		    path_join(&plan->arena, ctx->target_abs, walked));
	pd.list = compat ? NULL : list;
	if ((rc = restow_begin(plan, tgt, list, &rd)) != 0)
		return rc;
	if (!compat)
		disk_prime(plan, tgt);
	for (i = 0; i < list->len; i++) {
		pname = tname = list->ents[i].name;
		mark = arena_mark(tmp);
		if (dotfiles && compat)
			pname = path_undotfile(tmp, tname);
		else
			tname = target_name(plan, pname);
		if (pname == NULL || tname == NULL)
			rc = err_nomem(ctx);
		else if ((rc = entry_make(plan, &pd, i, pname, tname,
		    &plan->scratch, &e, &ign)) == 0 && !ign) {
			e.dtype = list->ents[i].type;
			rc = restow_hold(plan, &rd, list, &pd, i, &e);
			if (rc == 0)
				rc = unstow_node(plan, e.pkg_sub, e.tgt,
				    e.pkg_path, compat ? NULL : e.source);
			else if (rc == 1)
				rc = 0;
		}
		disk_entry_done(plan, mark);
		if (rc != 0)
			return rc;
	}
	if ((rc = restow_end_dir(plan, &rd, list, &pd, kept)) != 0)
		return rc;
	/* A kept directory has only links with tasks, which the cleanup
	 * passes by. */
	if (*kept)
		return 0;
	if (!compat && state_is_dir(plan, tgt))
		return cleanup_invalid_links(plan, tgt, fold);
	return fold != NULL ? foldable(plan, tgt, fold) : 0;
}

/*
 * Checks a package name and returns it without trailing slashes (GNU
 * Stow strips them; any other slash is an error).  "." is the stow
 * directory itself, whose top-level entries GNU Stow then stows ("cd
 * ~/dotfiles && stow ."); ".." would leave the stow directory.
 */
static int
check_package(struct stow_plan *plan, const char *name, const char **out)
{
	struct stow_ctx	*ctx = plan->ctx;
	size_t		 n = strlen(name);
	char		*pkg, *path;

	while (n > 1 && name[n - 1] == '/')
		n--;
	NOMEM_IF_NULL(plan, pkg = arena_strndup(&plan->arena, name, n));
	if (*pkg == '\0' || strcmp(pkg, "..") == 0)
		return err_set(ctx, STOW_EINVAL, "invalid package name '%s'",
		    name);
	if (strchr(pkg, '/') != NULL)
		return err_set(ctx, STOW_EINVAL, "Slashes are not permitted "
		    "in package names: %s", name);
	if (strchr(pkg, '\n') != NULL)
		return err_set(ctx, STOW_EINVAL, "invalid package name '%s'",
		    name);
	NOMEM_IF_NULL(plan, path = path_join(&plan->arena, ctx->stow_path,
	    pkg));
	if (disk_type(plan, path, 1) != DISK_DIR)
		return err_set(ctx, STOW_ENOTFOUND, "The stow directory %s "
		    "does not contain package %s", ctx->stow_path, pkg);
	*out = pkg;
	return 0;
}

static int
plan_check(struct stow_plan *plan)
{
	if (plan == NULL || plan->magic != PLAN_MAGIC)
		return STOW_EMISUSE;
	if (plan->state == PLAN_BROKEN)
		return err_set(plan->ctx, STOW_EMISUSE,
		    "the plan is unusable after an earlier failure");
	if (plan->state != PLAN_NEW)
		return err_set(plan->ctx, STOW_EMISUSE,
		    "the plan was already applied");
	return 0;
}

/*
 * A failure halfway through planning leaves a partial plan, which must
 * never be applied.  (Rejecting a name or a package, before any
 * planning, leaves the plan intact.)
 */
static int
plan_result(struct stow_plan *plan, int rc)
{
	/* (A lookup that ran out of memory may have missed a link.) */
	if (rc == 0 && plan->oom)
		rc = err_nomem(plan->ctx);
	if (rc != 0)
		plan->state = PLAN_BROKEN;
	return rc;
}

STOW_API int
stow_plan_stow(struct stow_plan *plan, const char *package)
{
	const char	*pkg;
	int		 rc;

	if ((rc = plan_check(plan)) != 0)
		return rc;
	if (package == NULL)
		return err_set(plan->ctx, STOW_EINVAL, "package is NULL");
	if ((rc = check_package(plan, package, &pkg)) != 0)
		return rc;
	plan->package = pkg;
	plan->action = STOW_ACTION_STOW;
	log_msg(plan->ctx, 2, "Planning stow of package %s...", pkg);
	rc = stow_contents(plan, plan->ctx->stow_path, pkg, "", ".", NULL);
	disk_done(plan);
	if ((rc = plan_result(plan, rc)) != 0)
		return rc;
	log_msg(plan->ctx, 2, "Planning stow of package %s... done", pkg);
	return 0;
}

STOW_API int
stow_plan_unstow(struct stow_plan *plan, const char *package)
{
	const char	*pkg;
	int		 rc, kept;

	if ((rc = plan_check(plan)) != 0)
		return rc;
	if (package == NULL)
		return err_set(plan->ctx, STOW_EINVAL, "package is NULL");
	if ((rc = check_package(plan, package, &pkg)) != 0)
		return rc;
	plan->package = pkg;
	plan->action = STOW_ACTION_UNSTOW;
	log_msg(plan->ctx, 2, "Planning unstow of package %s...", pkg);
	rc = unstow_contents(plan, "", ".", &kept, NULL);
	disk_done(plan);
	if ((rc = plan_result(plan, rc)) != 0)
		return rc;
	log_msg(plan->ctx, 2, "Planning unstow of package %s... done", pkg);
	return 0;
}

STOW_API int
stow_plan_restow(struct stow_plan *plan, const char *package)
{
	size_t	i;
	int	rc;

	if ((rc = plan_check(plan)) != 0)
		return rc;
	plan->restowing = 1;
	if ((rc = stow_plan_unstow(plan, package)) == 0)
		rc = stow_plan_stow(plan, package);
	plan->restowing = 0;
	for (i = 0; i < plan->restow_dirs.len; i++) {
		struct dirlist	*tl = plan->restow_dirs.items[i];

		tl->restow_seen = 0;
		tl->kept_for = NULL;
	}
	plan->restow_dirs.len = 0;
	return rc;
}

STOW_API int
stow_plan_new(struct stow_plan **out, struct stow_ctx *ctx)
{
	struct stow_plan	*plan;

	if (out == NULL)
		return STOW_EMISUSE;
	*out = NULL;
	if (ctx == NULL || ctx->magic != CTX_MAGIC)
		return STOW_EMISUSE;
	if (!ctx->configured)
		return err_set(ctx, STOW_EMISUSE,
		    "the context is not configured");
	if ((plan = calloc(1, sizeof(*plan))) == NULL)
		return err_nomem(ctx);
	plan->magic = PLAN_MAGIC;
	plan->state = PLAN_NEW;
	plan->ctx = ctx;
	ctx->nplans++;
	*out = plan;
	return 0;
}

/*
 * Forgets what was planned and keeps what was read: the plan's view of
 * the disk (listings, markers, compiled ignore lists) holds while the
 * disk is unchanged, which a plan assumes anyway.  What planning failed
 * halfway left is forgotten too: the view holds only what was read in
 * full.  The arenas keep their memory until the plan is freed.
 */
STOW_API int
stow_plan_reset(struct stow_plan *plan)
{
	if (plan == NULL || plan->magic != PLAN_MAGIC)
		return STOW_EMISUSE;
	/* (What it read is older than what its apply changed.) */
	if (plan->state == PLAN_APPLIED || plan->state == PLAN_REVERTED)
		return err_set(plan->ctx, STOW_EMISUSE,
		    "the plan was already applied");
	disk_done(plan);
	plan->tasks.len = 0;
	plan->conflicts.len = 0;
	plan->in_place_dirs.len = 0;
	plan->restow_dirs.len = 0;
	strmap_free(&plan->overlay);
	plan->memo_set = 0;
	plan->memo_slot = NULL;
	dirs_clear(plan);
	plan->oom = 0;
	plan->frames = NULL;
	plan->guarded = 0;
	plan->nremoved = 0;
	plan->clear_len = 0;
	plan->unchanged = 0;
	plan->in_place = 0;
	plan->folds = 0;
	plan->package = NULL;
	plan->peek_path[0] = '\0';
	plan->state = PLAN_NEW;
	return 0;
}

STOW_API void
stow_plan_free(struct stow_plan *plan)
{
	struct stow_ctx	*ctx;
	size_t		 i;

	if (plan == NULL || plan->magic != PLAN_MAGIC)
		return;
	for (i = 0; i < plan->ignore_owned.len; i++) {
		ignore_rules_free(plan->ignore_owned.items[i]);
		free(plan->ignore_owned.items[i]);
	}
	vec_free(&plan->ignore_owned);
	vec_free(&plan->restow_dirs);
	vec_free(&plan->in_place_dirs);
	disk_done(plan);
	vec_free(&plan->tasks);
	vec_free(&plan->conflicts);
	strmap_free(&plan->overlay);
	dirs_clear(plan);
	vec_free(&plan->dir_list);
	strmap_free(&plan->ignores);
	strmap_free(&plan->dircache);
	arena_free(&plan->arena);
	arena_free(&plan->scratch);
	ctx = plan->ctx;
	plan->magic = 0;
	free(plan);
	ctx_release(ctx);
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

STOW_API int
stow_plan_foreach_unchanged(const struct stow_plan *plan, stow_names_cb cb,
    void *payload)
{
	const struct in_place_dir *d;
	struct arena		 a = { NULL, NULL };
	const char		**names = NULL, **grown;
	size_t			 i, k, n, cap = 0;
	int			 rc = 0, dotfiles;

	if (plan == NULL || plan->magic != PLAN_MAGIC || cb == NULL)
		return STOW_EMISUSE;
	dotfiles = has_flag(plan, STOW_F_DOTFILES);
	for (k = 0; rc == 0 && k < plan->in_place_dirs.len; k++) {
		d = plan->in_place_dirs.items[k];
		if (d->n > cap) {
			if ((grown = reallocarray(names, d->n,
			    sizeof(*names))) == NULL) {
				rc = err_nomem(plan->ctx);
				break;
			}
			names = grown;
			cap = d->n;
		}
		for (i = n = 0; i < d->list->len && rc == 0; i++) {
			if (!d->hit[i])
				continue;
			names[n] = d->list->ents[i].name;
			/* --dotfiles: "dot-x" is ".x" there, and may sort
			 * elsewhere. */
			if (dotfiles && (names[n] = path_dotfile(&a,
			    names[n])) == NULL)
				rc = err_nomem(plan->ctx);
			n++;
		}
		if (rc == 0 && dotfiles)
			qsort(names, n, sizeof(*names), name_cmp);
		if (rc == 0)
			rc = cb(d->tgt, names, n, payload);
		arena_free(&a);
	}
	free(names);
	arena_free(&a);
	return rc;
}

/* Does directory dir (recursively) hold only links into a stow dir? */
static int
only_stow_links(struct stow_plan *plan, const char *dir, int *out)
{
	const struct dirlist	*list;
	struct owner		 o;
	const char		*text;
	char			*node;
	size_t			 i;
	int			 rc, t, sub;

	*out = 0;
	if ((list = disk_list(plan, dir)) == NULL)
		return err_os(plan->ctx, "cannot read directory", dir);
	for (i = 0; i < list->len; i++) {
		NOMEM_IF_NULL(plan, node = path_join(&plan->arena, dir,
		    list->ents[i].name));
		if ((t = disk_type(plan, node, 0)) == DISK_DIR) {
			if ((rc = only_stow_links(plan, node, &sub)) != 0 ||
			    !sub)
				return rc;
			continue;
		}
		if (t != DISK_LINK)
			return 0;
		if ((text = disk_readlink(plan, node)) == NULL)
			return err_os(plan->ctx, "readlink", node);
		if ((rc = find_owner(plan, node, text, &o)) != 0)
			return rc;
		if (*o.package == '\0')
			return 0;
	}
	*out = 1;
	return 0;
}

/*
 * The package-side path of target path tgt in pkg: with --dotfiles a
 * ".X" component may be "dot-X" in the package.  NULL (error recorded)
 * when the package does not hold it.
 */
static const char *
package_side(struct stow_plan *plan, const char *pkg, const char *tgt)
{
	struct arena	*a = &plan->arena;
	const char	*sp = plan->ctx->stow_path, *p = tgt, *end, *dot;
	const char	*sub = "";
	char		*comp, *cand, *path;

	for (; *p != '\0'; p = *end == '\0' ? end : end + 1) {
		end = strchr(p, '/');
		if (end == NULL)
			end = p + strlen(p);
		if ((comp = arena_strndup(a, p, (size_t)(end - p))) == NULL)
			goto nomem;
		if (has_flag(plan, STOW_F_DOTFILES)) {
			if ((dot = path_undotfile(a, comp)) == NULL ||
			    (cand = path_join(a, sub, dot)) == NULL ||
			    (path = path_join3(a, sp, pkg, cand)) == NULL)
				goto nomem;
			if (disk_type(plan, path, 0) != DISK_ABSENT) {
				sub = cand;
				continue;
			}
		}
		if ((sub = path_join(a, sub, comp)) == NULL)
			goto nomem;
	}
	if ((path = path_join3(a, sp, pkg, sub)) == NULL)
		goto nomem;
	if (disk_type(plan, path, 0) == DISK_ABSENT) {
		err_set(plan->ctx, STOW_ENOTFOUND, "package %s does not "
		    "contain %s", pkg, tgt);
		return NULL;
	}
	return sub;
nomem:
	err_nomem(plan->ctx);
	return NULL;
}

/*
 * Is there anything at tgt to replace?  Not when a parent is missing or
 * is a link (a link is never followed: inside a stowed link the path is
 * the package's own; any other link is a conflict).
 */
static int
replace_parents_ok(struct stow_plan *plan, const char *tgt, int *ok)
{
	struct owner	 o;
	const char	*text;
	char		*prefix;
	const char	*slash;
	int		 rc, t;

	*ok = 0;
	for (slash = strchr(tgt, '/'); slash != NULL;
	    slash = strchr(slash + 1, '/')) {
		NOMEM_IF_NULL(plan, prefix = arena_strndup(&plan->arena, tgt,
		    (size_t)(slash - tgt)));
		if ((t = disk_type(plan, prefix, 0)) == DISK_DIR)
			continue;
		if (t != DISK_LINK)
			return 0;
		if ((text = disk_readlink(plan, prefix)) == NULL)
			return err_os(plan->ctx, "readlink", prefix);
		if ((rc = find_owner(plan, prefix, text, &o)) != 0)
			return rc;
		if (*o.package != '\0')
			return 0;
		return task_conflict(plan, STOW_CONFLICT_NOT_OWNED, tgt,
		    "cannot replace %s: its parent %s is a symlink", tgt,
		    prefix);
	}
	*ok = 1;
	return 0;
}

/* Does tgt already hold what stowing would make (or another package's
 * link, which stowing decides about)? */
static int
replace_needed(struct stow_plan *plan, const char *tgt, const char *source,
    int *needed)
{
	struct owner	 o;
	const char	*text;
	int		 rc, t, only;

	*needed = 0;
	if ((t = disk_type(plan, tgt, 0)) == DISK_ABSENT)
		return 0;
	if (t == DISK_DIR) {
		if ((rc = only_stow_links(plan, tgt, &only)) != 0)
			return rc;
		*needed = !only;
		return 0;
	}
	if (t == DISK_LINK) {
		if ((text = disk_readlink(plan, tgt)) == NULL)
			return err_os(plan->ctx, "readlink", tgt);
		if (strcmp(text, source) == 0)
			return 0;
		if ((rc = find_owner(plan, tgt, text, &o)) != 0)
			return rc;
		*needed = *o.package == '\0';
		return 0;
	}
	*needed = 1;
	return 0;
}

STOW_API int
stow_plan_replace(struct stow_plan *plan, const char *package,
    const char *path)
{
	struct stow_ctx	*ctx;
	const char	*pkg, *sub, *why;
	char		*tgt, *source;
	int		 rc, ok, needed;

	if ((rc = plan_check(plan)) != 0)
		return rc;
	ctx = plan->ctx;
	if (package == NULL || path == NULL)
		return err_set(ctx, STOW_EINVAL, "package or path is NULL");
	if ((why = stow_replace_path_check(path)) != NULL)
		return err_set(ctx, STOW_EINVAL, "replace path '%s' %s", path,
		    why);
	if ((rc = check_package(plan, package, &pkg)) != 0)
		return rc;
	NOMEM_IF_NULL(plan, tgt = path_join(&plan->arena, "", path));
	if ((sub = package_side(plan, pkg, tgt)) == NULL)
		return ctx->saved_errno == ENOMEM ? STOW_ENOMEM :
		    STOW_ENOTFOUND;
	/* Replacing the same path twice is replacing it once. */
	if (task_gone(plan, tgt))
		return plan_result(plan, 0);
	plan->package = pkg;
	plan->action = STOW_ACTION_STOW;
	if ((rc = replace_parents_ok(plan, tgt, &ok)) != 0 || !ok)
		return plan_result(plan, rc);
	NOMEM_IF_NULL(plan, source = link_text(plan, tgt,
	    path_join3(&plan->arena, ctx->stow_path, pkg, sub)));
	if ((rc = replace_needed(plan, tgt, source, &needed)) != 0 ||
	    !needed)
		return plan_result(plan, rc);
	/* Only a path that is in the way needs somewhere to go. */
	if (ctx->backup_dir == NULL)
		return err_set(ctx, STOW_EINVAL, "replacing %s needs a backup "
		    "directory", path);
	return plan_result(plan, task_backup(plan, tgt, tgt));
}
