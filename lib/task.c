/*
 * task.c: the planned operations, and the planned-state overlay through
 * which the planner sees the target as it will be after the operations
 * planned so far (GNU Stow's do_link/do_unlink/do_mkdir/do_rmdir/do_mv
 * and is_a_link/is_a_dir/is_a_node/read_a_link).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extern.h"

static int
internal(struct stow_plan *plan, const char *what, const char *path)
{
	return err_set(plan->ctx, STOW_ERROR,
	    "internal error: %s: %s (please report this)", what, path);
}

static void	removal_planned(struct stow_plan *, const char *);

/*
 * What is planned directly in one target directory: how many overlay
 * slots have paths in it, and the links a fresh walk planned there
 * without a slot (pending).
 *
 * A stow walks a package directory's listing into a target directory.
 * When nothing was planned in that directory before the walk, nothing
 * is planned at the path of an entry of the listing until the entry
 * plans it: each entry is a name of the listing, planned only at its
 * own path and below, and no two are the same (--dotfiles, which can
 * give two entries one name, walks the slow way).  Until the entry
 * plans something, questions about its own path are answered "nothing"
 * at once, and a link it plans there joins the directory's pending
 * links instead of a slot of its own.  (Questions about other paths,
 * such as a sibling an existing link leads through, take the slow way:
 * an earlier entry may have planned there.)  A fresh stow of a package,
 * most of what a stow does, thus looks nothing up and makes no slots,
 * which took more time than its links.  The first slow question about
 * a directory puts its pending links into the overlay
 * (pending_flush()).
 */
struct dir_plan {
	size_t		slots;
	struct vec	pending;	/* struct task */
};

/* The length of path's directory part: up to and including its last
 * '/' (0: none), the key of its struct dir_plan. */
static size_t
dir_part_len(const char *path)
{
	const char	*slash = strrchr(path, '/');

	return slash == NULL ? 0 : (size_t)(slash - path) + 1;
}

/* Keeps d (NULL: none) as the answer for the directory part of path
 * (dlen bytes); one too long to keep is not kept. */
static struct dir_plan *
dir_keep(struct stow_plan *plan, const char *path, size_t dlen,
    struct dir_plan *d)
{
	if ((plan->memo_dset = dlen < sizeof(plan->memo_dkey))) {
		memcpy(plan->memo_dkey, path, dlen);
		plan->memo_dlen = dlen;
	}
	plan->memo_dir = d;
	return d;
}

/* The record of the directory part of path (dlen bytes): NULL when
 * nothing was planned in it (or, plan->oom set, when out of memory),
 * unless make (NULL then: out of memory).  Questions come in runs for
 * one directory: the last answer is kept. */
static struct dir_plan *
dir_plan_get(struct stow_plan *plan, const char *path, size_t dlen,
    int make)
{
	struct dir_plan	*d;
	char		 small[1024], *key;
	void		**ref;

	if (plan->memo_dset && plan->memo_dlen == dlen &&
	    memcmp(plan->memo_dkey, path, dlen) == 0)
		d = plan->memo_dir;
	else {
		if ((key = dlen < sizeof(small) ? small : malloc(dlen + 1)) ==
		    NULL) {
			plan->oom = 1;	/* (not knowing: the plan fails) */
			return NULL;
		}
		memcpy(key, path, dlen);
		key[dlen] = '\0';
		d = strmap_get(&plan->dirs, key);
		if (key != small)
			free(key);
		dir_keep(plan, path, dlen, d);
	}
	if (d != NULL || !make)
		return d;
	if ((key = arena_strndup(&plan->arena, path, dlen)) == NULL ||
	    (ref = strmap_ref(&plan->dirs, key)) == NULL ||
	    (d = arena_alloc(&plan->arena, sizeof(*d))) == NULL ||
	    vec_push(&plan->dir_list, d) == -1)
		return NULL;
	memset(d, 0, sizeof(*d));
	*ref = d;
	return dir_keep(plan, path, dlen, d);
}

/* Forgets what was planned by directory (the tasks stay). */
void
dirs_clear(struct stow_plan *plan)
{
	struct dir_plan	*d;
	size_t		 i;

	for (i = 0; i < plan->dir_list.len; i++) {
		d = plan->dir_list.items[i];
		vec_free(&d->pending);
	}
	plan->dir_list.len = 0;
	strmap_free(&plan->dirs);
	plan->memo_dset = 0;
	plan->memo_dir = NULL;
	plan->npending = 0;
	plan->made = plan->entry_made = 0;
	plan->entry_tgt = plan->entry_source = NULL;
	plan->entry_kept = 0;
	plan->entry_list = NULL;
	plan->walk_dir = NULL;
	plan->entry_disk[0] = plan->entry_disk[1] = 0;
	plan->walk_fresh = 0;
}

/*
 * A stow walk into target directory tgt begins: *saved keeps the walk
 * it is nested in.  The walk is fresh when it may be (its entries'
 * names in the target are all different) and nothing was planned in
 * tgt yet.
 */
void
walk_begin(struct stow_plan *plan, const char *tgt, struct dirlist *tl,
    int may_be_fresh, struct walk_state *saved)
{
	struct dir_plan	*d = NULL;
	char		 small[1024], *key;
	size_t		 n = strlen(tgt);

	saved->fresh = plan->walk_fresh;
	saved->entry_tgt = plan->entry_tgt;
	saved->entry_source = plan->entry_source;
	saved->entry_kept = plan->entry_kept;
	saved->entry_dlen = plan->entry_dlen;
	saved->entry_made = plan->entry_made;
	saved->entry_list = plan->entry_list;
	saved->walk_dir = plan->walk_dir;
	plan->walk_fresh = 0;
	plan->entry_tgt = plan->entry_source = NULL;
	plan->entry_kept = 0;
	plan->entry_list = tl;
	plan->walk_dir = NULL;
	/* (An entry's path is tgt/name, or name alone at the top.) */
	plan->entry_dlen = n == 0 || (n == 1 && tgt[0] == '.') ? 0 : n + 1;
	if (!may_be_fresh)
		return;
	if (plan->entry_dlen == 0)
		d = dir_plan_get(plan, "", 0, 0);	/* the top */
	else if ((key = n + 1 < sizeof(small) ? small : malloc(n + 2)) ==
	    NULL) {
		plan->oom = 1;
		return;
	} else {
		memcpy(key, tgt, n);
		key[n] = '/';
		key[n + 1] = '\0';
		d = dir_plan_get(plan, key, n + 1, 0);
		if (key != small)
			free(key);
	}
	plan->walk_fresh = !plan->oom && (d == NULL || (d->slots == 0 &&
	    d->pending.len == 0));
	plan->walk_dir = d;
}

/* The walk's entry whose target path is tgt, and the text of a link to
 * it source, is about to be planned.  kept: both are in plan->arena,
 * for its tasks to keep as they are. */
void
walk_entry(struct stow_plan *plan, const char *tgt, const char *source,
    int kept)
{
	plan->entry_tgt = tgt;
	plan->entry_kept = kept;
	plan->entry_source = kept ? source : NULL;
	plan->entry_made = plan->made;
	plan->entry_disk[0] = plan->entry_disk[1] = 0;
}

/* The walk is over: the one it was nested in goes on. */
void
walk_end(struct stow_plan *plan, const struct walk_state *saved)
{
	plan->walk_fresh = saved->fresh;
	plan->entry_tgt = saved->entry_tgt;
	plan->entry_source = saved->entry_source;
	plan->entry_kept = saved->entry_kept;
	plan->entry_dlen = saved->entry_dlen;
	plan->entry_made = saved->entry_made;
	plan->entry_list = saved->entry_list;
	plan->walk_dir = saved->walk_dir;
	/* (What disk_type() kept was of the walk's last entry.) */
	plan->entry_disk[0] = plan->entry_disk[1] = 0;
}

/* Is path that of the entry a fresh walk is planning, which has
 * planned nothing yet: nothing planned there at all? */
static int
fresh_here(const struct stow_plan *plan, const char *path)
{
	return plan->walk_fresh && plan->made == plan->entry_made &&
	    plan->entry_tgt != NULL && (path == plan->entry_tgt ||
	    strcmp(path, plan->entry_tgt) == 0);
}

/* Puts d's pending links into the overlay: a slot each.  -1 when out
 * of memory (the links not put in stay pending). */
static int
pending_flush(struct stow_plan *plan, struct dir_plan *d)
{
	struct overlay_slot	*s;
	struct task		*t;
	void			**ref;

	while (d->pending.len > 0) {
		t = d->pending.items[d->pending.len - 1];
		if ((ref = strmap_ref(&plan->overlay, t->path)) == NULL ||
		    (s = arena_alloc(&plan->arena, sizeof(*s))) == NULL)
			return -1;
		s->path = t->path;
		s->link = t;
		s->replaced = s->dir = s->gone = s->filled = NULL;
		*ref = s;
		d->slots++;
		d->pending.len--;
		plan->npending--;
	}
	return 0;
}

/* Adds link task t, at the path of the walk's entry, to the directory
 * the fresh walk is in, pending.  -1 when out of memory. */
static int
pending_add(struct stow_plan *plan, struct task *t)
{
	struct dir_plan	*d = plan->walk_dir;

	/* (The walk keeps its directory's record: one per link would
	 * look it up again.) */
	if (d == NULL && (d = plan->walk_dir = dir_plan_get(plan, t->path,
	    plan->entry_dlen, 1)) == NULL)
		return -1;
	if (vec_push(&d->pending, t) == -1)
		return -1;
	plan->npending++;
	plan->made++;
	plan->memo_set = 0;	/* its answer for t->path may be "none" */
	return 0;
}

/* Keeps s (NULL: none) as the overlay's answer for path, whose hash is
 * h; a path too long to keep leaves no answer (memo_set 0). */
static struct overlay_slot *
memo_keep(struct stow_plan *plan, const char *path, size_t h,
    struct overlay_slot *s)
{
	size_t	n = strlen(path);

	if ((plan->memo_set = n < sizeof(plan->memo_path)))
		memcpy(plan->memo_path, path, n + 1);
	plan->memo_hash = h;
	plan->memo_slot = s;
	return s;
}

/*
 * The overlay's slot for path (NULL: none).  The planner asks about one
 * path several times in a row (is it a link, what is its text, unlink
 * it), so the last answer is kept with its path and hash: a repeat costs
 * a strcmp, and a slot made next (slot_make()) needs no hash of its own.
 * Out of memory, links pending in path's directory may be missed: the
 * plan fails then (slot_make() and pending_add() do).
 */
static struct overlay_slot *
slot_get(struct stow_plan *plan, const char *path)
{
	struct dir_plan	*d;
	size_t		 h;

	if ((plan->overlay.len == 0 && plan->npending == 0) ||
	    fresh_here(plan, path)) {
		plan->memo_set = 0;	/* nothing planned: nothing to ask */
		return NULL;
	}
	if (plan->memo_set && strcmp(plan->memo_path, path) == 0)
		return plan->memo_slot;
	if (plan->npending > 0 && (d = dir_plan_get(plan, path,
	    dir_part_len(path), 0)) != NULL && d->pending.len > 0 &&
	    pending_flush(plan, d) == -1)
		plan->oom = 1;
	h = strmap_hash(path);
	return memo_keep(plan, path, h, strmap_get_hashed(&plan->overlay,
	    path, h));
}

/* Target path path in the plan's arena, where the walk's entry's may
 * be already (plan->entry_kept): a copy of any other.  NULL when out of
 * memory. */
static const char *
plan_path(struct stow_plan *plan, const char *path)
{
	return plan->entry_kept && path == plan->entry_tgt ? path :
	    arena_strdup(&plan->arena, path);
}

/* The overlay's slot for path, made when missing.  The planner's paths
 * may be short-lived (plan->scratch): a new slot keeps its own copy
 * (plan_path()), which the map and the slot's tasks share. */
static struct overlay_slot *
slot_make(struct stow_plan *plan, const char *path)
{
	struct overlay_slot	*s;
	struct dir_plan		*d;
	const char		*key;
	void			**ref;
	size_t			 h;

	if ((s = slot_get(plan, path)) != NULL)
		return s;
	if (plan->oom)
		return NULL;
	/* slot_get() left path's hash in memo_hash, unless the overlay
	 * was empty or path too long to keep. */
	h = plan->memo_set ? plan->memo_hash : strmap_hash(path);
	if ((key = plan_path(plan, path)) == NULL ||
	    (ref = strmap_ref_hashed(&plan->overlay, key, h)) == NULL ||
	    (s = arena_alloc(&plan->arena, sizeof(*s))) == NULL ||
	    (d = dir_plan_get(plan, key, dir_part_len(key), 1)) == NULL)
		return NULL;
	s->path = key;
	s->link = s->replaced = s->dir = s->gone = s->filled = NULL;
	*ref = s;
	d->slots++;
	plan->made++;
	/* (dir_plan_get() kept the memo of paths apart from this one.) */
	plan->memo_slot = s;	/* memo_path, if set, is path */
	return s;
}

struct task *
task_link_for(struct stow_plan *plan, const char *path)
{
	struct overlay_slot	*s = slot_get(plan, path);

	return s == NULL ? NULL : s->link;
}

struct task *
task_dir_for(struct stow_plan *plan, const char *path)
{
	struct overlay_slot	*s = slot_get(plan, path);

	return s == NULL ? NULL : s->dir;
}

/* A copy of s in the plan's arena (NULL stays NULL; the walk's entry's
 * link text is there already); *ok = 0 when out of memory. */
static const char *
keep(struct stow_plan *plan, const char *s, int *ok)
{
	const char	*copy;

	if (s == NULL || s == plan->entry_source)
		return s;
	if ((copy = arena_strdup(&plan->arena, s)) == NULL)
		*ok = 0;
	return copy;
}

/*
 * Appends a new task.  path is already the plan's (an overlay key);
 * source and dest are copied (keep()), since the planner's own strings
 * may not outlive the entry being planned, but for the walk's entry's
 * link text, which is the plan's already.
 */
static struct task *
task_add(struct stow_plan *plan, enum task_action action,
    enum task_type type, const char *path, const char *source,
    const char *dest)
{
	struct task	*t;
	int		 ok = 1;

	if ((t = arena_alloc(&plan->arena, sizeof(*t))) == NULL)
		return NULL;
	t->source = keep(plan, source, &ok);
	t->dest = keep(plan, dest, &ok);
	t->placed = NULL;
	if (!ok || vec_push(&plan->tasks, t) == -1)
		return NULL;
	t->path = path;
	t->action = action;
	t->type = type;
	t->package = plan->package;
	return t;
}

/* Plans symlink path with text source. */
int
task_link(struct stow_plan *plan, const char *source, const char *path)
{
	struct overlay_slot	*s;
	struct task		*t;
	const char		*own;

	if (fresh_here(plan, path)) {
		log_msg(plan->ctx, 1, "LINK: %s => %s", path, source);
		if ((own = plan_path(plan, path)) == NULL ||
		    (t = task_add(plan, T_CREATE, T_LINK, own, source,
		    NULL)) == NULL || pending_add(plan, t) == -1)
			return err_nomem(plan->ctx);
		return 0;
	}
	if ((s = slot_make(plan, path)) == NULL)
		return err_nomem(plan->ctx);
	if (s->dir != NULL && s->dir->action == T_CREATE)
		return internal(plan, "new link clashes with planned new "
		    "directory", path);
	if (s->link != NULL && s->link->action == T_CREATE) {
		if (strcmp(s->link->source, source) != 0)
			return internal(plan, "new link clashes with planned "
			    "new link", path);
		log_msg(plan->ctx, 1, "LINK: %s => %s (duplicates previous "
		    "action)", path, source);
		return 0;
	}
	if (s->link != NULL && s->link->action == T_REMOVE &&
	    strcmp(s->link->source, source) == 0) {
		/* No need to remove a link we are going to recreate. */
		log_msg(plan->ctx, 1, "LINK: %s => %s (reverts previous "
		    "action)", path, source);
		s->link->action = T_SKIP;
		s->link = NULL;
		return 0;
	}
	log_msg(plan->ctx, 1, "LINK: %s => %s", path, source);
	if ((t = task_add(plan, T_CREATE, T_LINK, s->path, source,
	    NULL)) == NULL)
		return err_nomem(plan->ctx);
	/* The removal of the link there still happens first: remember it,
	 * should the new link be planned away again. */
	if (s->link != NULL && s->link->action == T_REMOVE)
		s->replaced = s->link;
	s->link = t;
	return 0;
}

/* Plans removing symlink path, whose text (NULL: unknown yet) is text. */
int
task_unlink(struct stow_plan *plan, const char *path, const char *text)
{
	struct overlay_slot	*s;
	struct task		*t;
	const char		*source;

	if ((s = slot_make(plan, path)) == NULL)
		return err_nomem(plan->ctx);
	if (s->link != NULL && s->link->action == T_REMOVE) {
		log_msg(plan->ctx, 1, "UNLINK: %s (duplicates previous action)",
		    path);
		return 0;
	}
	/*
	 * A link planned in this run is not made.  If it replaced a link
	 * the run removes, that removal stands, and the path is empty
	 * again: not the old link, which GNU Stow then sees on the disk
	 * (a package folded into a directory that an unstow in the same
	 * run removed, unfolded by a later package, looked into that
	 * removed link and found its own files "in the way").
	 */
	if (s->link != NULL && s->link->action == T_CREATE) {
		log_msg(plan->ctx, 1, "UNLINK: %s (reverts previous action)",
		    path);
		s->link->action = T_SKIP;
		s->link = s->replaced;
		s->replaced = NULL;
		return 0;
	}
	log_msg(plan->ctx, 1, "UNLINK: %s", path);
	if ((source = text) == NULL && (source = disk_readlink(plan,
	    path)) == NULL)
		return errno == ENOMEM ? err_nomem(plan->ctx) :
		    err_os(plan->ctx, "readlink", path);
	if ((t = task_add(plan, T_REMOVE, T_LINK, s->path, source,
	    NULL)) == NULL)
		return err_nomem(plan->ctx);
	s->link = t;
	plan->nremoved++;
	removal_planned(plan, s->path);
	return 0;
}

int
task_mkdir(struct stow_plan *plan, const char *path)
{
	struct overlay_slot	*s;
	struct task		*t;

	if ((s = slot_make(plan, path)) == NULL)
		return err_nomem(plan->ctx);
	if (s->link != NULL && s->link->action == T_CREATE)
		return internal(plan, "new directory clashes with planned new "
		    "link", path);
	if (s->dir != NULL && s->dir->action == T_CREATE) {
		log_msg(plan->ctx, 1, "MKDIR: %s (duplicates previous action)",
		    path);
		return 0;
	}
	if (s->dir != NULL && s->dir->action == T_REMOVE) {
		log_msg(plan->ctx, 1, "MKDIR: %s (reverts previous action)",
		    path);
		s->dir->action = T_SKIP;
		s->dir = NULL;
		return 0;
	}
	log_msg(plan->ctx, 1, "MKDIR: %s", path);
	if ((t = task_add(plan, T_CREATE, T_DIR, s->path, NULL, NULL)) == NULL)
		return err_nomem(plan->ctx);
	s->dir = t;
	return 0;
}

int
task_rmdir(struct stow_plan *plan, const char *path)
{
	struct overlay_slot	*s;
	struct task		*t;

	if ((s = slot_make(plan, path)) == NULL)
		return err_nomem(plan->ctx);
	if (s->link != NULL)
		return internal(plan, "rmdir clashes with planned link "
		    "operation", path);
	if (s->dir != NULL && s->dir->action == T_REMOVE) {
		log_msg(plan->ctx, 1, "RMDIR %s (duplicates previous action)",
		    path);
		return 0;
	}
	if (s->dir != NULL && s->dir->action == T_CREATE) {
		log_msg(plan->ctx, 1, "RMDIR %s (reverts previous action)",
		    path);
		s->dir->action = T_SKIP;
		s->dir = NULL;
		return 0;
	}
	log_msg(plan->ctx, 1, "RMDIR %s", path);
	if ((t = task_add(plan, T_REMOVE, T_DIR, s->path, NULL, NULL)) == NULL)
		return err_nomem(plan->ctx);
	s->dir = t;
	return 0;
}

/*
 * Plans moving target file path into the package, at dest (--adopt).
 * When the package's own file at dest is planned into the vault first,
 * dest is a file again afterwards: another package stowed later in the
 * run sees the adopted file there, as it would see the package's.
 */
int
task_move(struct stow_plan *plan, const char *path, const char *dest)
{
	struct overlay_slot	*s = slot_get(plan, path);
	struct task		*t;
	const char		*own;

	if (s != NULL && (s->link != NULL || s->dir != NULL))
		return internal(plan, "move clashes with a planned operation",
		    path);
	log_msg(plan->ctx, 1, "MV: %s -> %s", path, dest);
	if ((own = arena_strdup(&plan->arena, path)) == NULL ||
	    (t = task_add(plan, T_MOVE, T_FILE, own, NULL, dest)) == NULL)
		return err_nomem(plan->ctx);
	if ((s = slot_get(plan, dest)) != NULL && s->gone != NULL)
		s->filled = t;
	return 0;
}

/*
 * Plans moving path (a file, link or whole tree; relative to the
 * target, or leading into the stow directory) to dest in the vault.
 * From then on the planner sees nothing at path or below it.
 */
int
task_backup(struct stow_plan *plan, const char *path, const char *dest)
{
	struct overlay_slot	*s;
	struct task		*t;

	if ((s = slot_make(plan, path)) == NULL)
		return err_nomem(plan->ctx);
	if (s->link != NULL || s->dir != NULL || s->gone != NULL)
		return internal(plan, "backup clashes with a planned "
		    "operation", path);
	if ((dest = vault_first_name(&plan->arena, dest)) == NULL)
		return err_nomem(plan->ctx);
	log_msg(plan->ctx, 1, "BACKUP: %s -> %s", path, dest);
	if ((t = task_add(plan, T_BACKUP, T_FILE, s->path, NULL, dest)) == NULL)
		return err_nomem(plan->ctx);
	s->gone = t;
	plan->nremoved++;
	removal_planned(plan, s->path);
	return 0;
}

/* Is path itself planned into the vault? */
int
task_gone(struct stow_plan *plan, const char *path)
{
	struct overlay_slot	*s = slot_get(plan, path);

	return s != NULL && s->gone != NULL;
}

/* Records a conflict for the package being planned. */
int
task_conflict(struct stow_plan *plan, enum stow_conflict_kind kind,
    const char *path, const char *fmt, ...)
{
	struct conflict	*c;
	va_list		 ap;
	char		 buf[8192];

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	log_msg(plan->ctx, 2, "CONFLICT when %s %s: %s",
	    plan->action == STOW_ACTION_STOW ? "stowing" : "unstowing",
	    plan->package, buf);
	if ((c = arena_alloc(&plan->arena, sizeof(*c))) == NULL ||
	    (c->message = arena_strdup(&plan->arena, buf)) == NULL ||
	    (c->path = arena_strdup(&plan->arena, path)) == NULL ||
	    vec_push(&plan->conflicts, c) == -1)
		return err_nomem(plan->ctx);
	c->action = plan->action;
	c->kind = kind;
	c->package = plan->package;
	return 0;
}

/* Is the node at path itself planned away (a link, or into the vault)? */
static int
removed_here(struct stow_plan *plan, const char *path)
{
	struct overlay_slot	*s = slot_get(plan, path);

	return s != NULL && ((s->gone != NULL && s->filled == NULL) ||
	    (s->link != NULL && s->link->action == T_REMOVE));
}

/*
 * A removal planned at path: the directory parent_removed() last found
 * clear is no longer known to be if path is it or above it.
 */
static void
removal_planned(struct stow_plan *plan, const char *path)
{
	size_t	n = strlen(path);

	if (plan->clear_len > 0 && n <= plan->clear_len &&
	    strncmp(plan->clear_dir, path, n) == 0 &&
	    (n == plan->clear_len || plan->clear_dir[n] == '/'))
		plan->clear_len = 0;
}

/*
 * Is path, or one of its parents, a link planned for removal or a node
 * planned into the vault?  Needed while unfolding, when the real link
 * still stands on disk, and below a path being replaced.  Queries come
 * in runs for one directory: the last one found clear, with all above
 * it, is kept (plan->clear_dir), so only the path itself is looked up.
 */
static int
parent_removed(struct stow_plan *plan, const char *path)
{
	const char	*slash;
	char		 small[1024], *buf, *p;
	size_t		 n, dn;
	int		 found = 0;

	/* (Nothing planned away yet: the common case, asked first.) */
	if (plan->nremoved == 0)
		return 0;
	slash = strrchr(path, '/');
	n = strlen(path);
	dn = slash == NULL ? 0 : (size_t)(slash - path);
	if (dn > 0 && dn == plan->clear_len &&
	    memcmp(path, plan->clear_dir, dn) == 0)
		return removed_here(plan, path);
	if ((buf = n < sizeof(small) ? small : malloc(n + 1)) == NULL) {
		plan->oom = 1;	/* (not knowing: the plan fails) */
		return 0;
	}
	memcpy(buf, path, n + 1);
	for (p = buf; !found; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		*p = '\0';
		found = removed_here(plan, buf);
		if (p == buf + n)
			break;
		*p = '/';
	}
	if (buf != small)
		free(buf);
	if (!found && dn > 0 && dn < sizeof(plan->clear_dir)) {
		memcpy(plan->clear_dir, path, dn);
		plan->clear_len = dn;
	}
	return found;
}

int
state_is_link(struct stow_plan *plan, const char *path)
{
	struct task	*t = task_link_for(plan, path);

	if (t != NULL)
		return t->action == T_CREATE;
	if (disk_type(plan, path, 0) == DISK_LINK)
		return !parent_removed(plan, path);
	return 0;
}

int
state_is_dir(struct stow_plan *plan, const char *path)
{
	struct task	*t = task_dir_for(plan, path);

	if (t != NULL)
		return t->action == T_CREATE;
	if (parent_removed(plan, path))
		return 0;
	return disk_type(plan, path, 1) == DISK_DIR;
}

int
state_is_node(struct stow_plan *plan, const char *path)
{
	struct overlay_slot	*s = slot_get(plan, path);
	struct task		*l = s != NULL ? s->link : NULL;
	struct task		*d = s != NULL ? s->dir : NULL;

	/* A removed link with a created directory is an unfolding, a
	 * created link with a removed directory a folding: both leave a
	 * node at path. */
	if (l != NULL && l->action == T_REMOVE)
		return d != NULL && d->action == T_CREATE;
	if (l != NULL && l->action == T_CREATE)
		return 1;
	if (d != NULL)
		return d->action == T_CREATE;
	if (parent_removed(plan, path))
		return 0;
	return disk_type(plan, path, 1) != DISK_ABSENT;
}

/* The text of a current or planned link; NULL (error recorded) if path
 * is neither. */
const char *
state_read_link(struct stow_plan *plan, const char *path)
{
	struct task	*t = task_link_for(plan, path);
	const char	*text;

	if (t != NULL && t->action == T_CREATE)
		return t->source;
	if (t != NULL) {
		internal(plan, "reading a link planned for removal", path);
		return NULL;
	}
	if ((text = disk_readlink(plan, path)) == NULL)
		err_os(plan->ctx, "readlink", path);
	return text;
}
