/*
 * extern.h: libstow's internal structures and cross-module helpers.
 * Never installed.  Helpers here carry a module prefix without "stow_"
 * so that "stow_" names exactly the exported API.
 */
#ifndef STOW_EXTERN_H
#define STOW_EXTERN_H

#include <sys/types.h>
#include <sys/stat.h>

#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "stow.h"

#define CTX_MAGIC	0x53544f57u	/* "STOW" */
#define PLAN_MAGIC	0x504c414eu	/* "PLAN" */

/* Plan states, in order; entry points check them (STOW_EMISUSE). */
#define PLAN_NEW	1
#define PLAN_APPLIED	2
#define PLAN_BROKEN	3	/* planning failed halfway */
#define PLAN_REVERTED	4	/* applied, then stow_plan_revert() */

/*
 * util.c: bump allocation for a plan's strings and records, all freed
 * together.  Keeps the planner free of per-path free() bookkeeping.
 * A mark and release make a stack of short-lived strings.
 */
struct arena_chunk;
struct arena {
	struct arena_chunk	*head;
	struct arena_chunk	*spare;		/* released, kept for reuse */
};
struct arena_mark {
	struct arena_chunk	*chunk;
	size_t			 used;
};
void	*arena_alloc(struct arena *, size_t);
char	*arena_bytes(struct arena *, size_t);
char	*arena_strdup(struct arena *, const char *);
char	*arena_strndup(struct arena *, const char *, size_t);
char	*arena_printf(struct arena *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
struct arena_mark arena_mark(const struct arena *);
void	 arena_release(struct arena *, struct arena_mark);
int	 arena_unused_since(const struct arena *, struct arena_mark);
void	 arena_free(struct arena *);

/*
 * strmap.c: open-addressing hash from strings to pointers.  Keys are
 * not copied: they must outlive the map (they live in the arena).
 */
struct strmap_slot {
	const char	*key;		/* NULL: empty */
	void		*val;
};
struct strmap {
	struct strmap_slot	*slots;
	uint32_t		*hashes;	/* each key's, 0: none */
	size_t			 cap;
	size_t			 len;
};
void	*strmap_get(const struct strmap *, const char *);
int	 strmap_put(struct strmap *, const char *, void *);
void	**strmap_ref(struct strmap *, const char *);
size_t	 strmap_hash(const char *);
void	*strmap_get_hashed(const struct strmap *, const char *, size_t);
void	**strmap_ref_hashed(struct strmap *, const char *, size_t);
void	 strmap_free(struct strmap *);

/*
 * vec.c: a growable array of pointers.
 */
struct vec {
	void	**items;
	size_t	  len;
	size_t	  cap;
};
int	 vec_push(struct vec *, void *);
void	 vec_free(struct vec *);

/*
 * util.c: a growable NUL-terminated string.
 */
struct strbuf {
	char	*s;
	size_t	 len;
	size_t	 cap;
};
int	 strbuf_room(struct strbuf *, size_t);
int	 strbuf_put(struct strbuf *, const char *, size_t);
int	 strbuf_putc(struct strbuf *, char);
int	 strbuf_printf(struct strbuf *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	 strbuf_truncate(struct strbuf *, size_t);
const char *strbuf_str(const struct strbuf *);
void	 strbuf_free(struct strbuf *);

/*
 * path.c: lexical path algebra.  Nothing here touches the disk.
 */
char	*path_join(struct arena *, const char *, const char *);
char	*path_join3(struct arena *, const char *, const char *,
	    const char *);
char	*path_parent(struct arena *, const char *);
char	*path_child(struct arena *, const char *, const char *);
char	*path_child_len(struct arena *, const char *, size_t, const char *,
	    size_t);
const char *path_basename(const char *);
char	*path_relative(struct arena *, const char *, const char *);
char	*path_textual_parent(struct arena *, const char *);
const char *path_dotfile(struct arena *, const char *);
const char *path_undotfile(struct arena *, const char *);
int	 path_is_under(const char *, const char *, const char **);
int	 path_is_at_or_under(const char *, const char *);
int	 path_depth(const char *);

/*
 * error.c: recording errors on the context.
 */
int	 err_set(struct stow_ctx *, int, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
int	 err_os(struct stow_ctx *, const char *, const char *);
int	 err_nomem(struct stow_ctx *);
void	 err_clear(struct stow_ctx *);
void	 log_emit(const struct stow_ctx *, int, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
/* Hands a message to the log callback when its level is wanted; tested
 * here, so that a run that logs nothing makes no call per entry. */
#define log_msg(ctx, level, ...) do {					\
	if ((ctx)->log_cb != NULL && (level) <= (ctx)->log_level)	\
		log_emit((ctx), (level), __VA_ARGS__);			\
} while (0)

/*
 * fsops.c: every system call that reads or changes the file system,
 * relative to a directory descriptor, never following a final symlink
 * unless the name says "follow".
 */
struct ignore_rules;
struct dent {
	const char	*name;
	unsigned char	 type;	/* DT_* from getdents, DT_UNKNOWN possible */
};
struct dirlist {
	const char	*dir;		/* disk.c: its key in the cache */
	struct dent	*ents;
	size_t		 len;
	size_t		 next;		/* disk.c: the entry after the one
					   last looked up */
	int		 lazy;		/* disk.c: not listed yet */
	unsigned int	 misses;	/* disk.c: entries read, not links */
	unsigned char	 marks;		/* disk.c: DISK_MARK_* found here */
	unsigned char	*ignored;	/* plan.c: per entry, 0 not known
					   yet, 1 stowed, 2 ignored */
	const struct ignore_rules *ignored_by;	/* plan.c: by these rules */
	int		 restow_seen;	/* plan.c, a restow: walked */
	const struct dirlist *kept_for;	/* plan.c, a restow: every link
					   here is the own link of an
					   entry of this package dir */
	unsigned char	*kept;		/* plan.c, a restow of this package
					   dir: per entry, 1 when its link
					   was kept */
};
int	 fs_list(struct arena *, int, const char *, struct dirlist *);
void	 dents_sort(struct dent *, struct dent *, size_t);
int	 fs_list_fd(struct arena *, int, struct dirlist *);
int	 fs_lstat(int, const char *, struct stat *);
int	 fs_stat_follow(int, const char *, struct stat *);
char	*fs_readlink(struct arena *, int, const char *);
int	 fs_open_dir(int, const char *);
int	 fs_open_path(int, const char *);
int	 fs_open_nofollow(int, const char *, size_t);
int	 fs_mkdir_nofollow(int, const char *, mode_t, uid_t, gid_t);
int	 fs_dir_path(int, char *, size_t);
int	 fs_mkdir(int, const char *);
int	 fs_rmdir(int, const char *);
int	 fs_symlink(const char *, int, const char *);
int	 fs_unlink(int, const char *);
/*
 * A move across file systems (fs_move_at()): in, the tag that names its
 * copy while it is made (".cstow-cp.TAG" beside the destination, NULL:
 * the process ID); out, what it found when it failed.
 */
struct move_report {
	const char	*tag;
	char		 where[PATH_MAX];	/* the entry at fault below the
						   tree moved ("": the tree, or
						   unknown) */
	int		 split;			/* the original was partly
						   removed and could not all be
						   put back: the copy holds the
						   rest */
};
#define COPY_PREFIX	".cstow-cp."
#define FS_MOVE_REPLACE	0x0001u		/* replace an existing file at to */
int	 fs_move_at(int, const char *, int, const char *, unsigned int,
	    struct move_report *);
int	 fs_merge_back(int, const char *, int, const char *, size_t *);
int	 fs_copy_at(int, const char *, int, const char *,
	    const struct move_report *);
int	 fs_remove_tree(int, const char *);
/* fs_unlink_checked() results */
#define FS_UNLINKED	0
#define FS_NOT_OURS	1
#define FS_STRANDED	2
int	 fs_unlink_checked(int, const char *, const char *, const char *);
int	 fs_rename_noreplace(int, const char *, int, const char *);
int	 fs_mkdir_p(int, const char *, mode_t, uid_t, gid_t);
int	 fs_lchown(int, const char *, uid_t, gid_t);
int	 fs_hash_file(int, const char *, char [65], off_t *);
void	 fs_hash_text(const char *, char [65]);
int	 fs_same_content(int, const char *, int, const char *);
char	*fs_read_close(int, size_t *);
char	*fs_read_file(int, const char *, size_t *);
char	*fs_read_fd(int, size_t *);
int	 fs_append_sync(int, const char *, const char *, size_t);
int	 fs_truncate(int, const char *, off_t);
int	 fs_exchange(int, const char *, const char *);

/*
 * pattern.c: compiled regex lists and the ignore rules.
 */
struct patlist {
	pcre2_code		**codes;
	char			**regexes;	/* as the user wrote them */
	size_t			  len;
	pcre2_match_data	 *md;	/* reused by every match */
	pcre2_match_context	 *mc;	/* the match limit */
};
int	 pat_compile(struct stow_ctx *, pcre2_code **, const char *,
	    const char *, unsigned int);
int	 patlist_match(const struct patlist *, const char *);
int	 patlist_explain(struct stow_ctx *, const struct patlist *,
	    const char *, const char *);
void	 patlist_free(struct patlist *);

struct ignore_rules {
	pcre2_code		*path_re;	/* against "/" + path */
	pcre2_code		*segment_re;	/* against the basename */
	pcre2_match_data	*md;		/* reused by every match */
	pcre2_match_context	*mc;		/* the match limit */
	char			*text;		/* the list, and the file it */
	char			*file;		/* is from, for errors */
	int			 path_jit;	/* compiled to machine code */
	int			 segment_jit;
	/* pattern.c's pre-checks; NULL, and 0, when off. */
	unsigned char		(*name_ends)[32];
	unsigned char		 path_second[32];
	int			 path_checked;
};
int	 ignore_rules_from_text(struct stow_ctx *, struct ignore_rules *,
	    const char *, const char *);
void	 ignore_rules_free(struct ignore_rules *);
int	 ignore_match(const struct ignore_rules *, const char *);
int	 ignore_match_name(const struct ignore_rules *, const char *,
	    const char *);
int	 ignore_match_unchecked(const struct ignore_rules *, const char *);
int	 ignore_explain(struct stow_ctx *, const struct ignore_rules *,
	    const char *);
int	 ignore_default_rules(struct stow_ctx *,
	    const struct ignore_rules **);
int	 ignore_global_rules(struct stow_ctx *,
	    const struct ignore_rules **);

/* A directory walk_parent() keeps open (dir == NULL: none). */
#define WALK_SLOTS	2
struct walk_slot {
	char		*dir;		/* relative to the target */
	size_t		 len;		/* strlen(dir) */
	int		 fd;
	unsigned int	 used;		/* walk_clock when last used */
};

/* The directories above the last one walk_parent() opened, kept open
 * to open the next from (walk.c); deeper ones are passed through. */
#define WALK_DEPTH	32
struct walk_chain {
	char		 path[PATH_MAX];	/* level i: path[0..end[i]) */
	size_t		 end[WALK_DEPTH];
	int		 fd[WALK_DEPTH];
	int		 n;			/* levels open */
};

struct stow_ctx {
	unsigned int		 magic;
	int			 configured;
	int			 nplans;	/* live plans */
	int			 closing;	/* freed once they are */
	char			*stow_dir;	/* as given */
	char			*target_dir;	/* as given or derived */
	char			*home_dir;
	unsigned int		 flags;
	char			*stow_abs;	/* canonical */
	char			*target_abs;	/* canonical */
	char			*stow_path;	/* stow dir relative to target */
	int			 target_fd;
	struct patlist		 ignore;
	struct patlist		 defer;
	struct patlist		 override;
	int			 default_loaded;
	struct ignore_rules	 default_rules;
	int			 global_loaded;	/* 1: none, 2: loaded */
	struct ignore_rules	 global_rules;
	stow_log_cb		 log_cb;
	void			*log_payload;
	int			 log_level;
	stow_cancel_cb		 cancel_cb;
	void			*cancel_payload;
	int			 saved_errno;
	char			 errmsg[1024];
	char			*backup_dir;	/* the vault run directory */
	char			*journal;	/* NULL: none */
	int			 journal_fd;	/* while applying */
	struct strbuf		 journal_buf;	/* steps not yet written */
	unsigned int		 journal_steps;	/* steps recorded */
	int			 journal_synced;	/* once since opened */
	char			 apply_tag[48];	/* names the apply's private
					   names: its process and time */
	struct walk_slot	 walk[WALK_SLOTS];	/* walk.c */
	unsigned int		 walk_clock;
	struct walk_chain	 walk_chain;
	int			 vault_fd;	/* open on first use */
	int			 manifest_dirty;	/* written, not synced */
	uid_t			 owner_uid;	/* of the target, for */
	gid_t			 owner_gid;	/* STOW_F_CHOWN */
	int			 chown;		/* and it is not us */
};

/* ctx.c */
void	 ctx_release(struct stow_ctx *);

/*
 * task.c: planned operations and the planned-state overlay that lets
 * later planning decisions see earlier ones (GNU Stow's link_task_for
 * and dir_task_for).
 */
enum task_action { T_CREATE = 1, T_REMOVE, T_MOVE, T_BACKUP, T_SKIP };
enum task_type { T_LINK = 1, T_DIR, T_FILE };

struct task {
	enum task_action	 action;
	enum task_type		 type;
	const char		*path;
	const char		*source;	/* link text */
	const char		*dest;		/* move destination */
	const char		*placed;	/* apply.c: the vault name
						   chosen for a backup to dest
						   (NULL: none yet) */
	const char		*package;
};

struct overlay_slot {
	const char	*path;		/* the map's key, in the arena */
	struct task	*link;
	struct task	*replaced;	/* the removal a new link replaced */
	struct task	*dir;
	struct task	*gone;		/* moved to the vault, with its tree */
	struct task	*filled;	/* then a file moved in (--adopt) */
};

struct conflict {
	enum stow_action	 action;
	enum stow_conflict_kind	 kind;
	const char		*package;
	const char		*path;
	const char		*message;
};

struct undo;

/* A directory disk.c keeps open (see dir_fd()). */
struct open_dir {
	const char	*dir;		/* NULL: none */
	int		 fd;
	int		 fresh;		/* opened for reading, and not
					   listed from yet */
};

struct walk_frame;
struct dir_plan;

struct stow_plan {
	unsigned int		 magic;
	int			 state;
	struct stow_ctx		*ctx;
	struct arena		 arena;
	struct arena		 scratch;	/* the paths of the entry being
						   planned, and link texts read:
						   what is kept is copied */
	struct vec		 tasks;		/* struct task *, in order */
	struct strmap		 overlay;	/* path -> overlay_slot */
	char			 memo_path[PATH_MAX];	/* task.c: the path
						   the overlay was last asked
						   about, if memo_set, */
	int			 memo_set;
	size_t			 memo_hash;	/* its hash */
	struct overlay_slot	*memo_slot;	/* and its slot (NULL: none) */
	struct strmap		 dirs;		/* task.c: a directory part
						   ("a/b/", "") -> struct
						   dir_plan */
	struct vec		 dir_list;	/* the same, to free */
	char			 memo_dkey[PATH_MAX];	/* the directory
						   part dirs was last asked
						   about, if memo_dset, */
	size_t			 memo_dlen;	/* its length */
	int			 memo_dset;
	struct dir_plan		*memo_dir;	/* and its record (NULL:
						   none) */
	size_t			 npending;	/* links pending, in all */
	size_t			 made;		/* slots and pending links
						   made so far */
	size_t			 entry_made;	/* made, as the walk's entry
						   being planned began */
	int			 walk_fresh;	/* nothing was planned in the
						   directory the stow walk
						   going on is in before it */
	const char		*entry_tgt;	/* the target path of the
						   walk's entry being planned
						   (NULL: none) */
	const char		*entry_source;	/* the text of a link to
						   it (NULL: not kept) */
	int			 entry_kept;	/* both are in the arena */
	size_t			 entry_dlen;	/* its directory part's
						   length, "/" included */
	struct dirlist		*entry_list;	/* disk.c: the cache's entry
						   for that directory (NULL:
						   not known) */
	struct dir_plan		*walk_dir;	/* task.c: its record, once
						   known (NULL: not yet) */
	int			 entry_disk[2];	/* disk.c: disk_type() of
						   entry_tgt, not following
						   and following, plus 1 (0:
						   not asked yet) */
	int			 oom;		/* a lookup ran out of
						   memory: the plan fails */
	const struct walk_frame	*frames;	/* plan.c: the package
						   directories the stow walk
						   is in, where asked */
	int			 guarded;	/* plan.c: the walk came
						   through a link: ask each */
	size_t			 nremoved;	/* link removals planned */
	char			 clear_dir[PATH_MAX];	/* task.c: no removal */
	size_t			 clear_len;	/* here or above (0: none) */
	size_t			 unchanged;	/* entries already stowed */
	int			 in_place;	/* plan.c: the entry just
						   planned was already */
	struct vec		 in_place_dirs;	/* plan.c: struct in_place_dir *,
						   where entries were found in
						   place */
	struct vec		 conflicts;	/* struct conflict * */
	struct strmap		 ignores;	/* package dir -> rules */
	struct strmap		 dircache;	/* dir -> struct dirlist */
	struct dirlist		*recent[2];	/* the last dircache hits */
	struct open_dir		 open_dirs[2];	/* disk.c: the last two */
	char			 peek_path[PATH_MAX];	/* the last entry */
	const char		*peek_text;	/* read there: its link text, */
	int			 peek_type;	/* or DISK_ABSENT */
	int			 list_first;	/* disk.c: the last target
						   directory read one by one
						   had to be listed: list the
						   next one at once */
	struct vec		 ignore_owned;	/* rules to free */
	int			 restowing;	/* stow_plan_restow() */
	struct vec		 restow_dirs;	/* struct dirlist * it walked */
	unsigned long		 folds;		/* fold_tree() calls */
	const char		*package;	/* being planned */
	enum stow_action	 action;
	struct undo		*undo;		/* once applied: how to revert */
	size_t			 nundo;
	int			 plain;		/* apply.c: applied plain, its
						   steps its tasks (undo NULL) */
};

/* plan.c: the entries of one walk of a package directory whose links
 * were found already in place, leading to a package entry that is not
 * a symlink (stow_plan_foreach_unchanged()). */
struct in_place_dir {
	const char		*tgt;		/* the target directory */
	const struct dirlist	*list;		/* the package directory's */
	unsigned char		*hit;		/* per entry of list: 1 */
	size_t			 n;		/* how many are */
};

int	 task_link(struct stow_plan *, const char *, const char *);
int	 task_unlink(struct stow_plan *, const char *, const char *);
int	 task_mkdir(struct stow_plan *, const char *);
int	 task_rmdir(struct stow_plan *, const char *);
int	 task_move(struct stow_plan *, const char *, const char *);
int	 task_backup(struct stow_plan *, const char *, const char *);
int	 task_gone(struct stow_plan *, const char *);
int	 task_conflict(struct stow_plan *, enum stow_conflict_kind,
	    const char *, const char *, ...)
	    __attribute__((format(printf, 4, 5)));
/* What walk_begin() keeps of the walk a walk is nested in. */
struct walk_state {
	int		 fresh;
	const char	*entry_tgt;
	const char	*entry_source;
	int		 entry_kept;
	size_t		 entry_dlen;
	size_t		 entry_made;
	struct dirlist	*entry_list;
	struct dir_plan	*walk_dir;
};
void	 walk_begin(struct stow_plan *, const char *, struct dirlist *, int,
	    struct walk_state *);
void	 walk_entry(struct stow_plan *, const char *, const char *, int);
void	 walk_end(struct stow_plan *, const struct walk_state *);
void	 dirs_clear(struct stow_plan *);
struct task *task_link_for(struct stow_plan *, const char *);
struct task *task_dir_for(struct stow_plan *, const char *);
int	 state_is_link(struct stow_plan *, const char *);
int	 state_is_dir(struct stow_plan *, const char *);
int	 state_is_node(struct stow_plan *, const char *);
const char *state_read_link(struct stow_plan *, const char *);

/*
 * One step an apply makes, enough to undo it.  Most steps are a task
 * made where the task says; a swap (apply.c) makes its creation under a
 * temporary name, exchanges it with the path, and makes the removal
 * there, and a backup or rmdir needs more: those carry a struct
 * undo_more.  Kept small: an apply holds one per operation.
 */
struct undo_more {
	const char	*swapped;	/* set: path and this were exchanged
					   (RENAME_EXCHANGE); task: the
					   creation swapped in */
	const char	*orig;		/* BACKUP: the path it had (NULL:
					   path) */
	const char	*placed;	/* BACKUP: its name in the vault */
	mode_t		 mode;		/* RMDIR: the directory's mode;
					   swapped: the replaced entry's */
	dev_t		 dev;		/* swapped: the replaced entry's, */
	ino_t		 ino;		/* BACKUP: the moved entry's identity */
	dev_t		 new_dev;	/* swapped: the new entry's identity */
	ino_t		 new_ino;	/* (0: unknown) */
	int		 overwrote;	/* MOVE: replaced a package file no
					   vault keeps (GNU Stow's --adopt) */
	int		 same;		/* MOVE: replaced a package file of
					   the same bytes */
	const struct task *marked;	/* recovery: the task of a step the
					   journal marks undone */
};

struct undo {
	const struct task	*task;	/* what was made */
	const char		*path;	/* where */
	struct undo_more	*more;	/* NULL: nothing more */
	unsigned int		 step;	/* its journal step */
	unsigned int		 slot;	/* its place in the order the steps
					   are made in */
};

enum stow_op_kind task_kind(const struct task *);
int	 undo_op(struct stow_ctx *, const struct undo *);
int	 apply_step(struct stow_ctx *, struct undo *);
int	 move_overwrote(struct stow_ctx *, const struct undo *);
int	 move_keeping(struct stow_ctx *, const struct undo *);
int	 swap_intact(struct stow_ctx *, const struct undo *, size_t);
size_t	 swap_of(const struct undo *, size_t, size_t);

/* journal.c: apply.c journals every step of an apply, written and synced
 * once, before it makes the first. */
int	 journal_open(struct stow_ctx *);
int	 journal_step(struct stow_ctx *, struct undo *);
int	 journal_sync(struct stow_ctx *);
int	 journal_undone(struct stow_ctx *, const struct undo *);
void	 journal_close(struct stow_ctx *);
void	 journal_aside(const char *, unsigned int, char *, size_t);
int	 journal_swapped(struct stow_ctx *, const struct undo *);

/* walk.c */
int	 walk_parent(struct stow_ctx *, const char *, const char **);
void	 walk_forget(struct stow_ctx *);

/* vault.c */
int	 vault_choose(struct stow_ctx *, struct strmap *, struct arena *,
	    const char *, const char **);
const char *vault_first_name(struct arena *, const char *);
int	 vault_backup(struct stow_ctx *, const char *, const char *,
	    const char *);
int	 vault_unbackup(struct stow_ctx *, const char *, const char *);
int	 manifest_forget(struct stow_ctx *, const char *);
int	 vault_keep(struct stow_ctx *, const char *, const char *);
int	 vault_unlist(struct stow_ctx *, const char *);
int	 vault_sync(struct stow_ctx *);
void	 vault_prune_run(struct stow_ctx *);
void	 vault_close(struct stow_ctx *);

/* rc.c */
int	 config_text(struct stow_ctx *, const char *, char **);

/* disk.c */
#define DISK_ABSENT	0
#define DISK_DIR	1
#define DISK_LINK	2
#define DISK_OTHER	3
struct dirlist *disk_list(struct stow_plan *, const char *);
int	 disk_type(struct stow_plan *, const char *, int);
const char *disk_readlink(struct stow_plan *, const char *);
void	 disk_done(struct stow_plan *);
struct dirlist *disk_prime(struct stow_plan *, const char *);
void	 disk_entry_done(struct stow_plan *, struct arena_mark);
void	 disk_new_dir(struct stow_plan *, const char *);
#define DISK_MARKS_KNOWN	0x01	/* disk_marks(): looked for */
#define DISK_MARK_STOW		0x02	/* a ".stow" there */
#define DISK_MARK_NONSTOW	0x04	/* a ".nonstow" there */
int	 disk_marks(struct stow_plan *, const char *, struct dirlist *);

#endif /* STOW_EXTERN_H */
