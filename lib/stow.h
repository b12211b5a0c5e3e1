/*
 * stow.h: the public interface of libstow, a GNU Stow compatible
 * symlink-farm manager.  Anything not declared here is not API.
 *
 * Lifecycle: stow_ctx_new() -> stow_ctx_configure() ->
 * stow_plan_new() -> stow_plan_unstow()/stow_plan_stow() ... ->
 * inspect (stow_plan_foreach_op, stow_plan_foreach_conflict) ->
 * stow_plan_apply() -> stow_plan_free() -> stow_ctx_free().
 *
 * Nothing on disk changes before stow_plan_apply(), and
 * stow_plan_apply() refuses to run while the plan holds a conflict.
 * The library never prints, never exits, never reads the environment
 * and never changes the working directory.
 *
 * Threads: a context and the plans made from it must be used by one
 * thread at a time.  Separate contexts share nothing and may be used
 * from different threads at once.
 */
#ifndef STOW_H
#define STOW_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) && __GNUC__ >= 4
#define STOW_API	__attribute__((visibility("default")))
#else
#define STOW_API
#endif

/* The version of this header; stow_version_*() give the library's. */
#define STOW_VERSION_MAJOR	0
#define STOW_VERSION_MINOR	1
#define STOW_VERSION_PATCH	0
#define STOW_VERSION_STRING	"0.1.0"
#define STOW_VERSION_NUMBER	(STOW_VERSION_MAJOR * 10000 + \
				    STOW_VERSION_MINOR * 100 + STOW_VERSION_PATCH)
#define STOW_VERSION_CHECK(a, b, c) \
	(STOW_VERSION_NUMBER >= ((a) * 10000 + (b) * 100 + (c)))

/* The version of the linked library, e.g. 100 and "0.1.0". */
STOW_API int		 stow_version_number(void);
STOW_API const char	*stow_version_string(void);

/*
 * Return codes.  Part of the ABI: a code is never renumbered or reused.
 */
#define STOW_OK		  0	/* success */
#define STOW_ERROR	 -1	/* generic failure; see stow_ctx_errmsg() */
#define STOW_ENOMEM	 -2	/* out of memory */
#define STOW_EINVAL	 -3	/* invalid argument or input (bad regex, bad name) */
#define STOW_ENOTFOUND	 -4	/* a package, directory or file does not exist */
#define STOW_EOS	 -5	/* a system call failed; stow_ctx_errno() has errno */
#define STOW_ECONFLICT	 -6	/* the plan has conflicts; nothing was changed */
#define STOW_ECANCELLED	 -7	/* the cancel callback asked to stop */
#define STOW_EMISUSE	 -8	/* API misuse: wrong handle, state or order */
#define STOW_EPARTIAL	 -9	/* applying failed and could not all be undone */
#define STOW_EBUSY	-10	/* a journal belongs to a run still going,
				   or is in the way of this run's */
#define STOW_ECHANGED	-11	/* the disk changed under the plan (what a
				   step would remove is not what was
				   planned); everything was undone */

/* Static text for a return code; never NULL. */
STOW_API const char	*stow_strerror(int code);

struct stow_ctx;		/* configuration and error state */
struct stow_plan;		/* the operations and conflicts of one run */

/*
 * Flags.  Each one's zero value is the default, GNU Stow's behaviour.
 */
/* Default: fold trees (link a whole directory a single package owns).
 * Set: never fold or refold; make real directories instead. */
#define STOW_F_NO_FOLDING	0x0001u
/* Default: package names are taken literally.  Set: a leading "dot-"
 * in a package entry's name becomes "." in the target (--dotfiles). */
#define STOW_F_DOTFILES		0x0002u
/* Default: a plain file in the way is a conflict.  Set: move it into
 * the package, then link it (--adopt).  This modifies the package. */
#define STOW_F_ADOPT		0x0004u
/* Default: unstow walks the package tree.  Set: walk the target tree
 * instead, GNU Stow's legacy algorithm (-p, --compat). */
#define STOW_F_COMPAT		0x0008u
/* Default: a file or foreign symlink in the way of a package entry is
 * a conflict.  Set: move it into the vault (backup_dir), then link.
 * Conflicts between two packages stay conflicts.  Needs backup_dir. */
#define STOW_F_BACKUP		0x0010u
/* Default: new links and directories belong to the calling user.  Set:
 * give them the owner of the target directory (root preparing a user's
 * home). */
#define STOW_F_CHOWN		0x0020u

#define STOW_OPTS_VERSION	1
struct stow_opts {
	unsigned int	 version;	/* STOW_OPTS_VERSION */
	/* Copied.  Default (NULL): "." */
	const char	*stow_dir;
	/* Copied.  Default (NULL): the textual parent of stow_dir, or "."
	 * when stow_dir has no parent component. */
	const char	*target_dir;
	/* Copied.  Where ".stow-global-ignore" is looked for.  Default
	 * (NULL): no global ignore file; the built-in list applies. */
	const char	*home_dir;
	unsigned int	 flags;		/* STOW_F_*; 0 is GNU Stow's default */
	/* Copied.  The vault directory of this run, created on first use:
	 * what STOW_F_BACKUP, stow_plan_replace() and STOW_F_ADOPT displace
	 * is moved under it, with a MANIFEST.  Default (NULL): no vault;
	 * --adopt then overwrites the package's file, as GNU Stow does. */
	const char	*backup_dir;
	/* Copied.  A file stow_plan_apply() writes what it is about to do
	 * to, one line before each step, and removes once the run is done
	 * or undone; after a crash stow_journal_recover() undoes the
	 * interrupted run from it.  Default (NULL): no journal. */
	const char	*journal;
};
#define STOW_OPTS_INIT	{ STOW_OPTS_VERSION, NULL, NULL, NULL, 0, NULL, NULL }

/*
 * Contexts.
 */
/* A new context, or NULL when out of memory.  Free with stow_ctx_free. */
STOW_API struct stow_ctx *stow_ctx_new(void);
/* Frees ctx; NULL is a no-op.  A plan keeps its context alive: while
 * plans made from ctx exist, ctx is freed with the last of them. */
STOW_API void		 stow_ctx_free(struct stow_ctx *ctx);
/*
 * Opens the stow and target directories named by opts and remembers the
 * options (strings are copied).  May be called again to reconfigure
 * while no plan exists.  Returns 0, STOW_ENOTFOUND (a directory is
 * missing), STOW_EINVAL (not a directory, same directory, bad version,
 * STOW_F_BACKUP without backup_dir), STOW_EOS or STOW_ENOMEM.
 */
STOW_API int		 stow_ctx_configure(struct stow_ctx *ctx,
			    const struct stow_opts *opts);

/* Pattern lists, GNU Stow's --ignore, --defer and --override. */
enum stow_pattern {
	STOW_PAT_IGNORE = 1,	/* Perl regex anchored at the end of the path */
	STOW_PAT_DEFER,		/* anchored at the start of the target path */
	STOW_PAT_OVERRIDE	/* anchored at the start of the target path */
};
/* Adds a Perl-compatible regex (compiled with PCRE2).  Returns 0,
 * STOW_EINVAL for a bad kind or regex (the message quotes it and the
 * offset), or STOW_ENOMEM. */
STOW_API int		 stow_ctx_add_pattern(struct stow_ctx *ctx,
			    enum stow_pattern kind, const char *regex);

/*
 * The last error on ctx: a one-line message naming the path or input
 * at fault (owned by ctx, valid until the next call on ctx), and the
 * saved errno for STOW_EOS and STOW_ENOMEM (0 otherwise).
 */
STOW_API const char	*stow_ctx_errmsg(const struct stow_ctx *ctx);
STOW_API int		 stow_ctx_errno(const struct stow_ctx *ctx);

/*
 * Debug chatter.  Messages up to max_level are passed to cb: level 0
 * are warnings a user should always see (skipped stow directories,
 * ignored absolute links), 1 the operations as planned ("LINK: a =>
 * b"), 2 their exceptions, 3 and up tracing.  The texts match GNU
 * Stow's verbose output.  msg is valid only during the call.
 */
typedef void (*stow_log_cb)(int level, const char *msg, void *payload);
STOW_API void		 stow_ctx_set_log(struct stow_ctx *ctx, int max_level,
			    stow_log_cb cb, void *payload);

/* Called between operations by stow_plan_apply(), and as planning
 * walks each directory; a non-zero return stops the run (or the
 * planning, which changed nothing) with STOW_ECANCELLED. */
typedef int (*stow_cancel_cb)(void *payload);
STOW_API void		 stow_ctx_set_cancel(struct stow_ctx *ctx,
			    stow_cancel_cb cb, void *payload);

/*
 * Plans.
 */
enum stow_op_kind {
	STOW_OP_MKDIR = 1,	/* create directory path */
	STOW_OP_RMDIR,		/* remove the (empty) directory path */
	STOW_OP_LINK,		/* create symlink path whose text is link */
	STOW_OP_UNLINK,		/* remove symlink path (its text is link) */
	STOW_OP_MOVE,		/* move file path to dest (--adopt) */
	STOW_OP_BACKUP		/* move path (a file, link or whole tree) to
				   dest, a path inside the vault */
};

/* One planned operation.  Paths are relative to the target directory;
 * dest may lead out of it (into the stow directory). */
struct stow_op {
	enum stow_op_kind	 kind;
	const char		*path;
	const char		*link;		/* LINK, UNLINK; else NULL */
	const char		*dest;		/* MOVE: from the target; BACKUP:
						   inside the vault; else NULL */
	const char		*package;	/* the package planned for */
};

enum stow_action {
	STOW_ACTION_STOW = 1,
	STOW_ACTION_UNSTOW
};

enum stow_conflict_kind {
	STOW_CONFLICT_NOT_OWNED = 1,	/* a file or foreign link in the way */
	STOW_CONFLICT_OTHER_PACKAGE,	/* the path belongs to another package */
	STOW_CONFLICT_ABSOLUTE_LINK,	/* the package holds an absolute link */
	STOW_CONFLICT_TYPE,		/* stowing: a directory where the
					   package has a file, or the
					   reverse; unstowing: a directory
					   where the package has a file */
	STOW_CONFLICT_LINK_LOOP		/* stowing: a symbolic link in the
					   package leads back to a directory
					   the walk is in */
};

/* One conflict.  message is GNU Stow's wording, naming the path. */
struct stow_conflict {
	enum stow_action	 action;
	enum stow_conflict_kind	 kind;
	const char		*package;
	const char		*path;
	const char		*message;
};

/* Returns 0 with *out set, or STOW_EMISUSE (ctx not configured) or
 * STOW_ENOMEM.  Free *out with stow_plan_free(). */
STOW_API int	stow_plan_new(struct stow_plan **out, struct stow_ctx *ctx);
/* Frees plan; NULL is a no-op. */
STOW_API void	stow_plan_free(struct stow_plan *plan);
/*
 * Empty plan of its operations, conflicts and counts, keeping what it
 * read of the disk (listings, markers, ignore lists), which is taken to
 * be unchanged: ask about many packages one by one with one plan.  A
 * plan whose planning failed is usable again.  Returns 0, or
 * STOW_EMISUSE (NULL, or the plan was applied).
 */
STOW_API int	stow_plan_reset(struct stow_plan *plan);

/*
 * Plan stowing or unstowing one package of the stow directory, on top
 * of what the plan already holds (plan every unstow before every stow,
 * as GNU Stow does; a restow is an unstow then a stow).  A trailing '/'
 * is stripped from package; "." is the stow directory itself, whose
 * top-level entries but "cstow.conf" are then the package's.  Conflicts
 * do not make these fail: they are recorded in the plan.  Returns 0,
 * STOW_EINVAL (empty name, '/' inside it, "..", a newline),
 * STOW_ENOTFOUND (no such package), STOW_EOS,
 * STOW_ERROR, STOW_ENOMEM or STOW_EMISUSE (plan already applied, or
 * broken).  After a failure other than STOW_EINVAL/STOW_ENOTFOUND the
 * plan is unusable: every later call on it returns STOW_EMISUSE.
 */
STOW_API int	stow_plan_stow(struct stow_plan *plan, const char *package);
STOW_API int	stow_plan_unstow(struct stow_plan *plan, const char *package);
/*
 * stow_plan_unstow() then stow_plan_stow() of package, as one call: the
 * same plan, made faster where the package's links stay as they are
 * (they then count as unchanged).  Logging at level 1 or more, it plans
 * as the two calls do, whose log shows each link planned away and
 * back.  Returns as they do.
 */
STOW_API int	stow_plan_restow(struct stow_plan *plan, const char *package);

/*
 * Nuke and pave: plan moving target path (relative to the target; a
 * file, link or whole directory tree) into the vault unless it already
 * is what stowing package would make, so that a following
 * stow_plan_stow(plan, package) links the package's own version.  Call
 * it before stow_plan_stow() for that package.  The package must
 * contain path.  A symlink among path's parents is never followed: it
 * is a conflict.  Replacing a path twice is replacing it once.  Returns
 * 0, STOW_EINVAL (no vault configured while something is at path to
 * replace, or a path that stow_replace_path_check() refuses),
 * STOW_ENOTFOUND (no such package,
 * or the package does not contain path; the plan stays usable),
 * STOW_EOS, STOW_ENOMEM or STOW_EMISUSE.
 */
STOW_API int	stow_plan_replace(struct stow_plan *plan, const char *package,
		    const char *path);
/*
 * Why path cannot be replaced, as a phrase to follow it ("is absolute",
 * "contains '..'", "names no file"; "is missing" for NULL); NULL when
 * it can.  A path to
 * replace names something inside the target: relative, with no ".."
 * component, and not just "." or "".  Lets a caller check input before
 * planning, by the rule stow_plan_replace() and cstow.conf apply.
 */
STOW_API const char *stow_replace_path_check(const char *path);

/* Visit the planned operations in execution order, or the conflicts
 * in GNU Stow's report order (unstow before stow, by package, then by
 * message).  A non-zero return from cb stops the walk and is returned.
 * Pointers are valid during the call only. */
typedef int (*stow_op_cb)(const struct stow_op *op, void *payload);
typedef int (*stow_conflict_cb)(const struct stow_conflict *c,
		    void *payload);
STOW_API size_t	stow_plan_op_count(const struct stow_plan *plan);
STOW_API int	stow_plan_foreach_op(const struct stow_plan *plan,
		    stow_op_cb cb, void *payload);
STOW_API size_t	stow_plan_conflict_count(const struct stow_plan *plan);
/* How many package entries the plan found already stowed as they
 * should be (links it leaves alone).  With no operations and no
 * conflicts, a package whose count is non-zero is fully stowed. */
STOW_API size_t	stow_plan_unchanged_count(const struct stow_plan *plan);
/*
 * Visit the links stow_plan_stow() and stow_plan_restow() found already
 * in place that lead to a package entry which is not itself a symlink:
 * links that do not dangle while the package stays as it is.  cb gets
 * a target directory (relative to the target, "." for the target
 * itself) and the names of those links there, in byte order; a
 * directory may come more than once.  A checker walking the target can
 * pass these by instead of asking the disk about each again.  Returns
 * 0, the non-zero value cb returned (which stops the walk), STOW_ENOMEM
 * or STOW_EMISUSE.  Pointers are valid during the call only.
 */
typedef int (*stow_names_cb)(const char *dir, const char *const *names,
		    size_t n, void *payload);
STOW_API int	stow_plan_foreach_unchanged(const struct stow_plan *plan,
		    stow_names_cb cb, void *payload);
STOW_API int	stow_plan_foreach_conflict(const struct stow_plan *plan,
		    stow_conflict_cb cb, void *payload);

/*
 * Carry out the plan.  cb (may be NULL) is called before each
 * operation is made, once each.  Returns 0; STOW_ECONFLICT without
 * touching the disk when conflicts exist; or STOW_EMISUSE when applied
 * twice.  Every removal checks what it removes right before it acts (a
 * link must still be the link planned).  When an operation fails
 * (STOW_EOS, STOW_ENOMEM), finds what it removes changed since planning
 * (STOW_ECHANGED), the run is cancelled (STOW_ECANCELLED) or cb returns
 * non-zero (that value), the operations already made are undone, newest
 * first, and that code is returned with the target and the stow
 * directory as they were (a path the user changed since is kept as it
 * is, and a swap whose new entry they changed is kept whole; the
 * message names them); the message names the operation and path that
 * failed.  If undoing fails too, or an adoption with no vault overwrote
 * a package's file, STOW_EPARTIAL is returned and the message lists
 * what remains.  With a journal, every step is written and synced
 * before the first is made; a journal already there is another run's,
 * never written over (STOW_EBUSY, nothing changed).
 */
STOW_API int	stow_plan_apply(struct stow_plan *plan, stow_op_cb cb,
		    void *payload);
/*
 * Undo a plan stow_plan_apply() carried out in full, newest operation
 * first: for a caller applying several plans (several targets) as one
 * run, when a later plan fails.  With a journal in the context's
 * options the revert is journaled as the apply was: a process killed
 * while it reverts leaves a journal that stow_journal_recover() undoes
 * the rest from.  The plan cannot be used afterwards.
 * Returns 0 (everything undone), STOW_EPARTIAL (the message lists what
 * remains) or STOW_EMISUSE (not applied in full).
 */
STOW_API int	stow_plan_revert(struct stow_plan *plan);

/*
 * The vault.  A run directory holds what a run displaced under its
 * path relative to its target, and a MANIFEST with one line per item:
 * "TYPE MODE SIZE SHA256 VAULT-PATH ORIGINAL-ABSOLUTE-PATH TARGET",
 * fields separated by tabs, with "\\", "\t" and "\n" escaped in paths;
 * TYPE "p" lines keep the modes of directories above items.
 *
 * stow_vault_restore() puts a run's items back where they came from.
 * The run directory and its MANIFEST must be the caller's own and
 * writable by nobody else, every item's vault path inside the run
 * directory and its original path inside its TARGET, which must not be
 * a symlink now; paths are walked without following symlinks, and
 * missing parents made with their recorded modes.  An item no longer in
 * the vault and back in its place counts as restored (a restore that
 * stopped halfway is resumed).  What stands there now must be absent, a
 * symlink into the stow directory of ctx, or a directory holding only
 * such symlinks: it is removed first.  Anything else stops the restore
 * before any change, with STOW_ECONFLICT and a message naming the
 * path.  cb (may be
 * NULL) sees each operation (UNLINK, RMDIR, then MOVE with dest the
 * original path) before it is made.  With STOW_RESTORE_CHECK nothing
 * is changed: cb sees what would be done.  Returns 0, STOW_ENOTFOUND
 * (no manifest), STOW_EINVAL (a malformed manifest, naming file:line),
 * STOW_ECONFLICT, STOW_EOS or STOW_ENOMEM.
 */
/* Default: restore.  Set: check and report only, change nothing. */
#define STOW_RESTORE_CHECK	0x0001u
STOW_API int	stow_vault_restore(struct stow_ctx *ctx, const char *run_dir,
		    unsigned int flags, stow_op_cb cb, void *payload);
/*
 * Calls cb with each target directory (absolute) run_dir's MANIFEST
 * puts items back into, so that a caller can take their locks before
 * stow_vault_restore().  A non-zero return from cb stops the walk and
 * is returned.  Returns as stow_vault_restore() does otherwise.
 */
STOW_API int	stow_vault_foreach_target(struct stow_ctx *ctx,
		    const char *run_dir,
		    int (*cb)(const char *target, void *payload),
		    void *payload);

/* Looks a variable up (for "$VAR" and "~"); NULL when unset.  The
 * library never reads the environment itself. */
typedef const char *(*stow_lookup_cb)(const char *name, void *payload);

/*
 * cstow.conf: per-package configuration at the root of a stow
 * directory, in git-config syntax: "[cstow]" and "[package \"NAME\"]"
 * sections, "key = value" lines, "#" and ";" comments, double-quoted
 * values with \\ \" \n \t escapes, a trailing backslash continuing
 * a line, case-insensitive section and key names.  Keys:
 *
 *   [cstow]               target, conflict, dotfiles, folding, ignore,
 *                         backup-dir
 *   [package "NAME"]      target, conflict, dotfiles, folding, ignore,
 *                         replace, skip
 *
 * target and backup-dir are paths: "~" and "$VAR" expand as in
 * stow_expand_path() and an unset variable is an error; a relative path
 * is relative to the directory holding the file.  conflict is
 * fail, adopt or backup; dotfiles, folding and skip are booleans
 * (true/false, yes/no, on/off, 1/0, or the bare key for true); ignore
 * (repeatable) is a Perl regex; replace (repeatable) is a relative path
 * without "..".  Every error names "file:line".
 *
 * stow_conf_read() returns 0 with *out set, STOW_ENOTFOUND when the
 * file does not exist, STOW_EINVAL for a syntax error, an unknown
 * section or key, or a bad value, STOW_EOS or STOW_ENOMEM.  Free *out
 * with stow_conf_free().  Strings returned by the getters belong to the
 * conf and live until it is freed.
 */
struct stow_conf;
STOW_API int		 stow_conf_read(struct stow_conf **out,
			    struct stow_ctx *ctx, const char *path,
			    stow_lookup_cb lookup, void *payload);
STOW_API void		 stow_conf_free(struct stow_conf *conf);
/* The last value of key for package: its own section's, else (for keys
 * [cstow] may hold) the [cstow] section's; NULL when unset.  package
 * NULL asks the [cstow] section alone. */
STOW_API const char	*stow_conf_get(const struct stow_conf *conf,
			    const char *package, const char *key);
/* Does package's own section (or, for package NULL, [cstow]) set key?
 * 1 or 0; unlike stow_conf_get() this does not fall back to [cstow]. */
STOW_API int		 stow_conf_is_set(const struct stow_conf *conf,
			    const char *package, const char *key);
/* Every value of a repeatable key (ignore, replace) for package, in file
 * order, [cstow]'s ignore values first.  Returns how many; *out points
 * to an array owned by conf. */
STOW_API size_t		 stow_conf_get_all(const struct stow_conf *conf,
			    const char *package, const char *key,
			    const char *const **out);
/* A boolean key (as stow_conf_get() finds it), or def when unset. */
STOW_API int		 stow_conf_bool(const struct stow_conf *conf,
			    const char *package, const char *key, int def);
/* The name of the i-th [package "NAME"] section; NULL past the end. */
STOW_API const char	*stow_conf_package(const struct stow_conf *conf,
			    size_t i);

/*
 * Undo the run a journal (struct stow_opts' journal) was left by, when
 * that run was killed while applying: every step it recorded that the
 * disk shows made, and that it had not undone itself, is undone, newest
 * first, and the journal is removed.  A step whose undoing would lose
 * what the user made since is left, with a warning at log level 0.  A
 * run holds an flock(2) on its journal while it applies; a journal
 * still locked belongs to a live run and is left alone (STOW_EBUSY).
 * Only the caller's own journal is carried out: a regular file owned by
 * the caller, writable by nobody else, with one link, whose steps stay
 * inside its target (and, for adopted files, its stow directory), whose
 * vault is the caller's; with ctx configured, for ctx's target.  cb (may
 * be NULL) sees each undo step.  Returns 0 (also when there is no
 * journal), STOW_EBUSY, STOW_EPARTIAL (some steps could not be undone:
 * the message lists them), STOW_EINVAL (a journal that is unreadable,
 * naming file:line, or refused, naming why), STOW_EOS or STOW_ENOMEM.
 */
STOW_API int	stow_journal_recover(struct stow_ctx *ctx, const char *path,
		    stow_op_cb cb, void *payload);

/*
 * The target directory the journal at path is for (the absolute path
 * its run worked in), in *target, malloc'd: the caller frees it.  A
 * caller recovering journals of other runs takes that target's lock
 * first, so that no run works there meanwhile.  *target is NULL when
 * there is no journal or it has no whole header (its run was killed
 * before its first step).  Returns 0, STOW_EBUSY (a live run holds
 * the journal), STOW_EINVAL (not a journal), STOW_EOS or STOW_ENOMEM.
 */
STOW_API int	stow_journal_target(struct stow_ctx *ctx, const char *path,
		    char **target);

/*
 * Resource files.  stow_rc_read() splits a .stowrc file into words
 * with shell quoting rules ('...', "...", backslash), one line at a
 * time; a line whose first non-blank character is '#' is a comment.
 * Returns 0 with *out set, STOW_ENOTFOUND when the file does not
 * exist, STOW_EINVAL for unbalanced quotes (message: "file:line: ..."),
 * STOW_EOS or STOW_ENOMEM.  The words and *out belong to the caller,
 * who frees them with stow_rc_free().
 */
struct stow_rc;
STOW_API int		 stow_rc_read(struct stow_rc **out,
			    struct stow_ctx *ctx, const char *path);
STOW_API size_t		 stow_rc_count(const struct stow_rc *rc);
STOW_API const char	*stow_rc_word(const struct stow_rc *rc, size_t i);
STOW_API unsigned int	 stow_rc_line(const struct stow_rc *rc, size_t i);
STOW_API void		 stow_rc_free(struct stow_rc *rc);

/*
 * Expand "~", "~user", "$VAR" and "${VAR}" in a path as GNU Stow does
 * for --dir and --target in .stowrc ("\$" and "\~" escape them).
 * lookup returns a variable's value or NULL when unset (the library
 * never reads the environment itself).  An unset variable is an error
 * naming it.  Returns 0 with *out (caller frees with free(3)),
 * STOW_EINVAL or STOW_ENOMEM.
 */
STOW_API int		 stow_expand_path(char **out, struct stow_ctx *ctx,
			    const char *path, stow_lookup_cb lookup,
			    void *payload);

#ifdef __cplusplus
}
#endif

#endif /* STOW_H */
