/*
 * pattern.c: Perl-compatible regexes (PCRE2) for --ignore, --defer,
 * --override and the ignore lists, with GNU Stow's anchoring rules.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extern.h"

/* GNU Stow 2.4.1's built-in ignore list (its default-ignore-list). */
static const char default_ignore_text[] =
	"RCS\n"
	".+,v\n"
	"CVS\n"
	"\\.\\#.+       # CVS conflict files / emacs lock files\n"
	"\\.cvsignore\n"
	"\\.svn\n"
	"_darcs\n"
	"\\.hg\n"
	"\\.git\n"
	"\\.gitignore\n"
	"\\.gitmodules\n"
	".+~          # emacs backup files\n"
	"\\#.*\\#       # emacs autosave files\n"
	"^/README.*\n"
	"^/LICENSE.*\n"
	"^/COPYING\n";

/* Every ignore list also keeps the local ignore file itself out. */
#define LOCAL_IGNORE_RE	"^/\\.stow\\-local\\-ignore$"
#define GLOBAL_IGNORE_FILE	".stow-global-ignore"

/*
 * Compiles pattern into *out.  display is what the user wrote and where
 * ("file:line: " or ""), for the error message.
 */
int
pat_compile(struct stow_ctx *ctx, pcre2_code **out, const char *pattern,
    const char *display, unsigned int where_line)
{
	PCRE2_UCHAR	msg[256];
	PCRE2_SIZE	off;
	int		errcode;

	/* Perl allows a group name twice (in alternatives); so do we, which
	 * also lets ignore-file lines that reuse a name combine. */
	*out = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
	    PCRE2_DUPNAMES, &errcode, &off, NULL);
	if (*out != NULL)
		return 0;
	if (errcode == PCRE2_ERROR_NOMEMORY)
		return err_nomem(ctx);
	pcre2_get_error_message(errcode, msg, sizeof(msg));
	if (where_line > 0)
		return err_set(ctx, STOW_EINVAL, "%s:%u: invalid regex: %s",
		    display, where_line, (const char *)msg);
	return err_set(ctx, STOW_EINVAL, "invalid regex '%s': %s", display,
	    (const char *)msg);
}

/*
 * Final patterns are matched once per package entry: worth compiling to
 * machine code where PCRE2 can (it falls back quietly otherwise).
 */
static int
pat_jit(pcre2_code *code)
{
#ifndef STOW_NO_JIT	/* valgrind cannot follow JIT code: see Makefile */
	/* PCRE2's JIT compiler shares its code allocator between threads
	 * (helgrind sees it race): separate contexts compile one at a time.
	 * Matching needs no lock. */
	static pthread_mutex_t	lock = PTHREAD_MUTEX_INITIALIZER;
	int			rc;

	if (code == NULL)
		return 0;
	pthread_mutex_lock(&lock);
	rc = pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
	pthread_mutex_unlock(&lock);
	return rc == 0;
#else
	(void)code;
	return 0;
#endif
}

/*
 * How much backtracking one match may take.  PCRE2's default, ten
 * million steps, lets a regex like "(a|aa)+$" spend a tenth of a
 * second on each name it cannot match, and a repository's ignore file
 * stall every run for minutes.  The patterns Stow users write need a
 * few hundred steps at most (the built-in list under a thousand on a
 * 255-byte name); a hundred thousand cost a millisecond or less.  The
 * count also bounds the depth of backtracking, and so the heap the
 * interpreter takes.  Reaching it is an error, never "no match".
 */
#define PAT_MATCH_LIMIT	100000

/* A match context with the limits; NULL when out of memory. */
static pcre2_match_context *
pat_limits(void)
{
	pcre2_match_context	*mc;

	if ((mc = pcre2_match_context_create(NULL)) != NULL) {
		(void)pcre2_set_match_limit(mc, PAT_MATCH_LIMIT);
		(void)pcre2_set_depth_limit(mc, PAT_MATCH_LIMIT);
	}
	return mc;
}

/*
 * Matches code against subject: 1 if it matches, 0 if not, -1 when
 * PCRE2 could not tell (a limit reached), with its error code in *err
 * when err is not NULL.  jit: code was compiled to machine code, which
 * pcre2_jit_match() runs without pcre2_match()'s checks of its
 * arguments (ours are always the same); it needs the subject's length.
 * The machine code's stack is small: a subject too long for it is
 * matched again by the interpreter, whose frames are on the heap.
 */
static int
pat_try(const pcre2_code *code, int jit, pcre2_match_data *md,
    pcre2_match_context *mc, const char *subject, int *err)
{
	size_t	n = strlen(subject);
	int	rc;

	rc = jit ? pcre2_jit_match(code, (PCRE2_SPTR)subject, n, 0, 0, md,
	    mc) : pcre2_match(code, (PCRE2_SPTR)subject, n, 0, 0, md, mc);
	if (rc == PCRE2_ERROR_JIT_STACKLIMIT)
		rc = pcre2_match(code, (PCRE2_SPTR)subject, n, 0,
		    PCRE2_NO_JIT, md, mc);
	/* rc 0 means "matched, but the ovector was too small". */
	if (rc >= 0)
		return 1;
	if (rc == PCRE2_ERROR_NOMATCH)
		return 0;
	if (err != NULL)
		*err = rc;
	return -1;
}

static int
pat_match(const pcre2_code *code, int jit, pcre2_match_data *md,
    pcre2_match_context *mc, const char *subject)
{
	return pat_try(code, jit, md, mc, subject, NULL);
}

/*
 * Records why regex, as the user wrote it (line line of file, or one of
 * the kind of list what when file is NULL; line 0: all of file's
 * together), could not be matched against subject: PCRE2's error err.
 * Returns STOW_EINVAL.
 */
static int
pat_gave_up(struct stow_ctx *ctx, const char *file, unsigned int line,
    const char *what, const char *regex, const char *subject, int err)
{
	PCRE2_UCHAR	msg[128];

	if (pcre2_get_error_message(err, msg, sizeof(msg)) < 0)
		strlcpy((char *)msg, "PCRE2 error", sizeof(msg));
	if (file != NULL && line == 0)
		return err_set(ctx, STOW_EINVAL, "%s: its regexes together "
		    "gave up on '%s': %s", file, subject, (const char *)msg);
	if (file != NULL)
		return err_set(ctx, STOW_EINVAL, "%s:%u: regex '%s' gave up "
		    "on '%s': %s", file, line, regex, subject,
		    (const char *)msg);
	return err_set(ctx, STOW_EINVAL, "%s regex '%s' gave up on '%s': %s",
	    what, regex, subject, (const char *)msg);
}

/* 1 if a pattern of l matches subject, 0 if none does, -1 when one
 * could not tell (patlist_explain() says which). */
int
patlist_match(const struct patlist *l, const char *subject)
{
	size_t	i;
	int	m;

	for (i = 0; i < l->len; i++)
		if ((m = pat_match(l->codes[i], 0, l->md, l->mc,
		    subject)) != 0)
			return m;
	return 0;
}

/*
 * After patlist_match(l, subject) gave -1: records the error, naming
 * the kind of list (what: "ignore", "defer", "override") and the regex.
 * Returns STOW_EINVAL.
 */
int
patlist_explain(struct stow_ctx *ctx, const struct patlist *l,
    const char *what, const char *subject)
{
	size_t	i;
	int	err = PCRE2_ERROR_MATCHLIMIT;

	for (i = 0; i < l->len; i++)
		if (pat_try(l->codes[i], 0, l->md, l->mc, subject, &err) != 0)
			break;
	return pat_gave_up(ctx, NULL, 0, what, i < l->len ? l->regexes[i] :
	    "?", subject, err);
}

void
patlist_free(struct patlist *l)
{
	size_t	i;

	for (i = 0; i < l->len; i++) {
		pcre2_code_free(l->codes[i]);
		free(l->regexes[i]);
	}
	free(l->codes);
	free(l->regexes);
	pcre2_match_data_free(l->md);
	pcre2_match_context_free(l->mc);
	l->codes = NULL;
	l->regexes = NULL;
	l->md = NULL;
	l->mc = NULL;
	l->len = 0;
}

STOW_API int
stow_ctx_add_pattern(struct stow_ctx *ctx, enum stow_pattern kind,
    const char *regex)
{
	struct patlist	*l;
	pcre2_code	*code, **grown;
	const char	*pre, *post;
	char		*full, *copy, **texts;
	size_t		 n;
	int		 rc;

	if (ctx == NULL || ctx->magic != CTX_MAGIC)
		return STOW_EMISUSE;
	if (regex == NULL)
		return err_set(ctx, STOW_EINVAL, "pattern is NULL");
	switch (kind) {
	case STOW_PAT_IGNORE:
		l = &ctx->ignore, pre = "(", post = ")\\z";
		break;
	case STOW_PAT_DEFER:
		l = &ctx->defer, pre = "\\A(", post = ")";
		break;
	case STOW_PAT_OVERRIDE:
		l = &ctx->override, pre = "\\A(", post = ")";
		break;
	default:
		return err_set(ctx, STOW_EINVAL, "unknown pattern kind %d",
		    (int)kind);
	}
	/* Check the regex alone first so a stray ")" is reported as the
	 * user's error, not hidden by the anchoring group. */
	if ((rc = pat_compile(ctx, &code, regex, regex, 0)) != 0)
		return rc;
	pcre2_code_free(code);
	n = strlen(regex) + 8;
	if ((full = malloc(n)) == NULL)
		return err_nomem(ctx);
	snprintf(full, n, "%s%s%s", pre, regex, post);
	rc = pat_compile(ctx, &code, full, regex, 0);
	free(full);
	if (rc != 0)
		return rc;
	if ((l->md == NULL && (l->md = pcre2_match_data_create(1,
	    NULL)) == NULL) || (l->mc == NULL && (l->mc =
	    pat_limits()) == NULL) || (grown = reallocarray(l->codes,
	    l->len + 1, sizeof(*grown))) == NULL) {
		pcre2_code_free(code);
		return err_nomem(ctx);
	}
	l->codes = grown;
	if ((copy = strdup(regex)) == NULL || (texts = reallocarray(
	    l->regexes, l->len + 1, sizeof(*texts))) == NULL) {
		free(copy);
		pcre2_code_free(code);
		return err_nomem(ctx);
	}
	(void)pat_jit(code);
	l->regexes = texts;
	l->regexes[l->len] = copy;
	l->codes[l->len++] = code;
	return 0;
}

/*
 * Appends s to the growing alternation in *buf, followed by "\\E": it
 * ends a "\\Q" the line left open, which would otherwise swallow the
 * next alternatives and the anchoring (and does nothing otherwise).
 */
static int
alt_append(char **buf, size_t *len, const char *s, size_t n)
{
	char	*grown;

	if ((grown = realloc(*buf, *len + n + 4)) == NULL)
		return -1;
	*buf = grown;
	if (*len > 0)
		grown[(*len)++] = '|';
	memcpy(grown + *len, s, n);
	*len += n;
	memcpy(grown + *len, "\\E", 3);
	*len += 2;
	return 0;
}

/*
 * Strips one ignore-file line as GNU Stow does: surrounding blanks,
 * whole-line "#" comments, " # trailing comments" and "\#" escapes.
 * Returns the pattern length (0: nothing on the line); the pattern is
 * rewritten in place.
 */
static size_t
ignore_line_pattern(char *line)
{
	char	*s = line, *e, *p, *q;

	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\f')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' ||
	    e[-1] == '\f'))
		e--;
	*e = '\0';
	if (*s == '#' || *s == '\0')
		return 0;
	/* s/\s+#.+// : a blank, a '#', and at least one more character. */
	for (p = s; *p != '\0'; p++) {
		if (*p == ' ' || *p == '\t') {
			q = p;
			while (*q == ' ' || *q == '\t')
				q++;
			if (*q == '#' && q[1] != '\0') {
				*p = '\0';
				break;
			}
		}
	}
	for (p = q = s; *p != '\0'; p++) {
		if (p[0] == '\\' && p[1] == '#')
			continue;
		*q++ = *p;
	}
	*q = '\0';
	memmove(line, s, strlen(s) + 1);
	return strlen(line);
}

static int	build_rules(struct stow_ctx *, struct ignore_rules *,
		    const char *, const char *, const char *);

/*
 * The pre-checks.  Most entries are not ignored, and PCRE2 takes a few
 * hundred instructions to say so; a test of two bytes says it first
 * when every line of the list is "plain": literal bytes, "\" before
 * punctuation, ".", "^", "$", "?", "*" and "+", nothing else (no group,
 * class, brace, alternation or letter escape, nothing that could change
 * the options or how far a token reaches).  A token of a plain line is
 * one byte of the subject, a literal or any, unless a quantifier
 * follows it.  So:
 *   - a line without "/", matched against a whole base name, must
 *     match its first byte with its first token and its last byte with
 *     its last (unless the name ends in a newline, which "$" may skip):
 *     name_ends[a] holds bit z when some line can match a name from a
 *     to z;
 *   - a line with "/" that begins "^/c" (c literal, as GNU Stow's
 *     manual writes them) matches the rooted path at its start only,
 *     with c its second byte: path_second holds each such c, when every
 *     path line begins so.
 * A list with a line that is not plain matches through PCRE2 alone.
 */
#define TOK_ANY		256	/* ".", "$", or a quantified token */
#define TOK_START	257	/* "^" */
#define TOK_NONE	258	/* no such token */

struct plain_line {
	int	tok[3];		/* the first three tokens */
	int	last;		/* and the last */
};

/* The token at p into *tok; its length, 0 when it is not plain. */
static size_t
plain_token(const char *p, int *tok)
{
	unsigned char	c = (unsigned char)p[0], n = (unsigned char)p[1];

	if (c == '\\') {
		/* (A backslash before a letter or digit may mean
		 * anything.) */
		if (n == '\0' || n >= 0x80 || (n >= '0' && n <= '9') ||
		    ((n | 0x20) >= 'a' && (n | 0x20) <= 'z'))
			return 0;
		*tok = n;
		return 2;
	}
	if (strchr("([{|)]}", c) != NULL)
		return 0;
	*tok = c == '^' ? TOK_START : c == '.' || c == '$' ? TOK_ANY : c;
	return 1;
}

/* Reads line into *pl: 0, or -1 when it is not plain. */
static int
plain_scan(const char *line, struct plain_line *pl)
{
	const char	*p = line;
	size_t		 n, i = 0;
	int		 tok;

	pl->tok[0] = pl->tok[1] = pl->tok[2] = pl->last = TOK_NONE;
	while (*p != '\0') {
		if (*p == '?' || *p == '*' || *p == '+') {
			if (i == 0)
				return -1;
			if (i <= 3)
				pl->tok[i - 1] = TOK_ANY;
			pl->last = TOK_ANY;
			p++;
			continue;
		}
		if ((n = plain_token(p, &tok)) == 0)
			return -1;
		if (i < 3)
			pl->tok[i] = tok;
		pl->last = tok;
		i++;
		p += n;
	}
	return i == 0 ? -1 : 0;
}

static void
bit_set(unsigned char *set, int b)
{
	set[b >> 3] |= (unsigned char)(1u << (b & 7));
}

static int
bit_isset(const unsigned char *set, unsigned char b)
{
	return set[b >> 3] >> (b & 7) & 1;
}

/* Adds a line without "/" to r->name_ends; -1 when it cannot. */
static int
name_check_add(struct ignore_rules *r, const char *line)
{
	struct plain_line	pl;
	int			a;

	if (r->name_ends == NULL || plain_scan(line, &pl) == -1)
		return -1;
	if (pl.tok[0] > 255 && pl.last > 255)
		return -1;	/* any name: no check to make */
	if (pl.last > 255)
		memset(r->name_ends[pl.tok[0]], 0xff,
		    sizeof(r->name_ends[0]));
	else if (pl.tok[0] > 255)
		for (a = 0; a < 256; a++)
			bit_set(r->name_ends[a], pl.last);
	else
		bit_set(r->name_ends[pl.tok[0]], pl.last);
	return 0;
}

/* Adds a line with "/" to r->path_second; -1 when it cannot. */
static int
path_check_add(struct ignore_rules *r, const char *line)
{
	struct plain_line	pl;

	if (plain_scan(line, &pl) == -1 || pl.tok[0] != TOK_START ||
	    pl.tok[1] != '/' || pl.tok[2] > 255)
		return -1;
	bit_set(r->path_second, pl.tok[2]);
	return 0;
}

/* Adds line, with a "/" or not, to the pre-checks of r; one that
 * cannot take it is off. */
static void
check_add(struct ignore_rules *r, const char *line, int slash)
{
	if (slash) {
		if (path_check_add(r, line) == -1)
			r->path_checked = 0;
	} else if (name_check_add(r, line) == -1) {
		free(r->name_ends);
		r->name_ends = NULL;
	}
}

/* Can a line without "/" match name?  (The pre-check.) */
static int
name_may_match(const struct ignore_rules *r, const char *name)
{
	size_t	n = strlen(name);

	return r->name_ends == NULL || n == 0 || name[n - 1] == '\n' ||
	    bit_isset(r->name_ends[(unsigned char)name[0]],
	    (unsigned char)name[n - 1]);
}

/* Can a line with "/" match the rooted path?  (The pre-check.) */
static int
path_may_match(const struct ignore_rules *r, const char *rooted)
{
	return !r->path_checked || rooted[0] != '/' ||
	    bit_isset(r->path_second, (unsigned char)rooted[1]);
}

/*
 * Compiles the combined regexes.  Each line compiled alone already, so
 * a failure here comes from lines that do not combine (a group name
 * used twice, say): the message names the file.
 */
static int
combine(struct stow_ctx *ctx, pcre2_code **out, const char *pre,
    const char *alts, const char *post, const char *file)
{
	char	*re, msg[sizeof(ctx->errmsg)];
	size_t	 n = strlen(pre) + strlen(alts) + strlen(post) + 1;
	int	 rc;

	if ((re = malloc(n)) == NULL)
		return err_nomem(ctx);
	snprintf(re, n, "%s%s%s", pre, alts, post);
	rc = pat_compile(ctx, out, re, file, 0);
	free(re);
	if (rc == STOW_EINVAL) {
		strlcpy(msg, stow_ctx_errmsg(ctx), sizeof(msg));
		return err_set(ctx, rc, "%s: the patterns do not combine: %s",
		    file, msg);
	}
	return rc;
}

/* Do the alternations so far still compile?  Errors name file:line. */
static int
combine_probe(struct stow_ctx *ctx, const char *seg, const char *path,
    const char *file, unsigned int line)
{
	struct ignore_rules	probe;
	char			msg[sizeof(ctx->errmsg)];
	int			rc;

	memset(&probe, 0, sizeof(probe));
	rc = build_rules(ctx, &probe, seg, path, file);
	ignore_rules_free(&probe);
	if (rc != STOW_EINVAL)
		return rc;
	strlcpy(msg, stow_ctx_errmsg(ctx), sizeof(msg));
	return err_set(ctx, rc, "%s:%u: invalid regex: does not combine with "
	    "the lines before it (%s)", file, line, msg);
}

/*
 * Can the alternation alts match only at the start of a subject (each
 * of its alternatives begins with "^", as GNU Stow's manual writes
 * them, or is otherwise anchored by PCRE2's rules)?
 */
static int
anchored(const char *alts)
{
	pcre2_code	*code;
	PCRE2_SIZE	 off;
	uint32_t	 opts = 0;
	int		 errcode;
	char		*re;
	size_t		 n = strlen(alts) + 5;

	if ((re = malloc(n)) == NULL)
		return 0;
	snprintf(re, n, "(?:%s)", alts);
	code = pcre2_compile((PCRE2_SPTR)re, PCRE2_ZERO_TERMINATED,
	    PCRE2_DUPNAMES, &errcode, &off, NULL);
	free(re);
	if (code != NULL)
		(void)pcre2_pattern_info(code, PCRE2_INFO_ALLOPTIONS, &opts);
	pcre2_code_free(code);
	return (opts & PCRE2_ANCHORED) != 0;
}

static int
build_rules(struct stow_ctx *ctx, struct ignore_rules *r, const char *seg,
    const char *path, const char *file)
{
	int	rc = 0;

	if (seg != NULL)
		rc = combine(ctx, &r->segment_re, "^(", seg, ")$", file);
	/*
	 * A path pattern matches at the start or after a "/".  When every
	 * one is anchored, a match after a "/" cannot be, and "(^)" says
	 * so to PCRE2, which then tries the start only, not each position
	 * (the groups keep their numbers).
	 */
	if (rc == 0 && path != NULL)
		rc = combine(ctx, &r->path_re, anchored(path) ? "(^)(" :
		    "(^|/)(", path, ")(/|$)", file);
	return rc;
}

/*
 * Reads the lines of an ignore list (text of file) into the
 * alternations *seg (no "/") and *path, and into the pre-checks of r
 * when r is not NULL.  Each line must compile alone; probe: the
 * alternations too, after each line, so that the line that breaks
 * them is named.  Errors name file:line.
 */
static int
read_lines(struct stow_ctx *ctx, struct ignore_rules *r, const char *text,
    const char *file, int probe, char **seg, char **path)
{
	pcre2_code	*code;
	char		*copy, *line, *next;
	size_t		 seglen = 0, pathlen = 0, n;
	unsigned int	 lineno = 0;
	int		 rc = 0, slash;

	if ((copy = strdup(text)) == NULL)
		return err_nomem(ctx);
	for (line = copy; line != NULL; line = next) {
		lineno++;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if ((n = ignore_line_pattern(line)) == 0)
			continue;
		if ((rc = pat_compile(ctx, &code, line, file, lineno)) != 0)
			break;
		pcre2_code_free(code);
		slash = memchr(line, '/', n) != NULL;
		if (slash ? alt_append(path, &pathlen, line, n) :
		    alt_append(seg, &seglen, line, n)) {
			rc = err_nomem(ctx);
			break;
		}
		if (r != NULL)
			check_add(r, line, slash);
		/* Lines that compile alone may still not combine (a verb
		 * that must start a pattern, say). */
		if (probe && (rc = combine_probe(ctx, *seg, *path, file,
		    lineno)) != 0)
			break;
	}
	if (rc == 0 && alt_append(path, &pathlen, LOCAL_IGNORE_RE,
	    strlen(LOCAL_IGNORE_RE)) == -1)
		rc = err_nomem(ctx);
	free(copy);
	return rc;
}

/*
 * Compiles an ignore list (text of file) into r.  Patterns with a "/"
 * match the path inside the package, rooted at "/"; others match the
 * base name (GNU Stow's compile_ignore_regexps()).  A bad regex is
 * reported as "file:line: invalid regex: ...".
 */
int
ignore_rules_from_text(struct stow_ctx *ctx, struct ignore_rules *r,
    const char *text, const char *file)
{
	char	*seg = NULL, *path = NULL, *s2 = NULL, *p2 = NULL;
	int	 rc, why;

	memset(r, 0, sizeof(*r));
	if ((r->name_ends = calloc(256, sizeof(*r->name_ends))) == NULL)
		return err_nomem(ctx);
	r->path_checked = 1;
	if ((rc = read_lines(ctx, r, text, file, 0, &seg, &path)) == 0) {
		check_add(r, LOCAL_IGNORE_RE, 1);
		rc = build_rules(ctx, r, seg, path, file);
	}
	/*
	 * The whole list was compiled once, not once per line.  When it
	 * fails, the lines are read again as they were before, checking
	 * the combination after each, which names the first line at fault
	 * (or leaves the whole list's message when none is).
	 */
	if (rc == STOW_EINVAL && (why = read_lines(ctx, NULL, text, file, 1,
	    &s2, &p2)) != 0)
		rc = why;
	if (rc == 0 && ((r->md = pcre2_match_data_create(1, NULL)) == NULL ||
	    (r->mc = pat_limits()) == NULL || (r->text = strdup(text)) ==
	    NULL || (r->file = strdup(file)) == NULL))
		rc = err_nomem(ctx);
	if (rc == 0) {
		r->path_jit = pat_jit(r->path_re);
		r->segment_jit = pat_jit(r->segment_re);
	}
	if (rc != 0)
		ignore_rules_free(r);
	free(seg);
	free(path);
	free(s2);
	free(p2);
	return rc;
}

void
ignore_rules_free(struct ignore_rules *r)
{
	pcre2_code_free(r->path_re);
	pcre2_code_free(r->segment_re);
	pcre2_match_data_free(r->md);
	pcre2_match_context_free(r->mc);
	free(r->text);
	free(r->file);
	free(r->name_ends);
	memset(r, 0, sizeof(*r));
}

/*
 * Is the path inside the package ignored by r (1, 0, or -1 when a
 * regex gave up, with PCRE2's error in *err)?  It comes rooted, with a
 * leading "/", as the path regexes match it: the planner's package
 * paths hold it that way already, so nothing is copied.  checked: make
 * the pre-checks first.
 */
static int
rules_try(const struct ignore_rules *r, const char *rooted, const char *name,
    int checked, int *err)
{
	int	m;

	if (r->path_re != NULL && (!checked || path_may_match(r, rooted)) &&
	    (m = pat_try(r->path_re, r->path_jit, r->md, r->mc, rooted,
	    err)) != 0)
		return m;
	if (r->segment_re == NULL)
		return 0;
	if (checked && !name_may_match(r, name))
		return 0;
	return pat_try(r->segment_re, r->segment_jit, r->md, r->mc, name,
	    err);
}

int
ignore_match(const struct ignore_rules *r, const char *rooted)
{
	return rules_try(r, rooted, path_basename(rooted), 1, NULL);
}

/* ignore_match() of rooted, whose last component is name (a copy will
 * do): the planner has it at hand. */
int
ignore_match_name(const struct ignore_rules *r, const char *rooted,
    const char *name)
{
	return rules_try(r, rooted, name, 1, NULL);
}

/* ignore_match() by the regexes alone, which the tests hold the
 * pre-checks to. */
int
ignore_match_unchecked(const struct ignore_rules *r, const char *rooted)
{
	return rules_try(r, rooted, path_basename(rooted), 0, NULL);
}

/*
 * Does the regex of one line of r's list, alone, give up on the path
 * rooted (1, PCRE2's error in *err)?  It is matched as in the list, by
 * the interpreter or the machine code as the list was, which count
 * their steps differently.
 */
static int
line_gives_up(const struct ignore_rules *r, const char *line,
    const char *rooted, int *err)
{
	pcre2_code	*code;
	PCRE2_SIZE	 off;
	char		*re;
	size_t		 n = strlen(line) + 16;
	int		 slash = strchr(line, '/') != NULL, errcode, jit, m;

	if ((re = malloc(n)) == NULL)
		return 0;
	snprintf(re, n, slash ? "(^|/)(%s\\E)(/|$)" : "^(%s\\E)$", line);
	code = pcre2_compile((PCRE2_SPTR)re, PCRE2_ZERO_TERMINATED,
	    PCRE2_DUPNAMES, &errcode, &off, NULL);
	free(re);
	if (code == NULL)
		return 0;
	jit = (slash ? r->path_jit : r->segment_jit) && pat_jit(code);
	m = pat_try(code, jit, r->md, r->mc, slash ? rooted :
	    path_basename(rooted), err);
	pcre2_code_free(code);
	return m == -1;
}

/*
 * After ignore_match(r, rooted) gave -1: records the error, naming the
 * file and line of the regex that gave up on its own (else the file:
 * its regexes did together).  Returns STOW_EINVAL.
 */
int
ignore_explain(struct stow_ctx *ctx, const struct ignore_rules *r,
    const char *rooted)
{
	char		*copy, *line, *next;
	unsigned int	 lineno = 0;
	int		 rc, err = PCRE2_ERROR_MATCHLIMIT;

	if ((copy = strdup(r->text != NULL ? r->text : "")) == NULL)
		return err_nomem(ctx);
	for (line = copy; line != NULL; line = next) {
		lineno++;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (ignore_line_pattern(line) > 0 &&
		    line_gives_up(r, line, rooted, &err)) {
			rc = pat_gave_up(ctx, r->file, lineno, NULL, line,
			    rooted, err);
			free(copy);
			return rc;
		}
	}
	free(copy);
	(void)rules_try(r, rooted, path_basename(rooted), 0, &err);
	return pat_gave_up(ctx, r->file, 0, NULL, NULL, rooted, err);
}

int
ignore_default_rules(struct stow_ctx *ctx, const struct ignore_rules **out)
{
	int	rc;

	if (!ctx->default_loaded) {
		if ((rc = ignore_rules_from_text(ctx, &ctx->default_rules,
		    default_ignore_text, "built-in ignore list")) != 0)
			return rc;
		ctx->default_loaded = 1;
	}
	*out = &ctx->default_rules;
	return 0;
}

/*
 * The rules of ~/.stow-global-ignore, read once per context; *out is
 * NULL when there is no such file.
 */
int
ignore_global_rules(struct stow_ctx *ctx, const struct ignore_rules **out)
{
	char	 file[4096];
	char	*text;
	int	 rc, n;

	*out = NULL;
	if (ctx->global_loaded == 0) {
		ctx->global_loaded = 1;
		if (ctx->home_dir == NULL)
			return 0;
		n = snprintf(file, sizeof(file), "%s/%s", ctx->home_dir,
		    GLOBAL_IGNORE_FILE);
		if (n < 0 || (size_t)n >= sizeof(file))
			return err_set(ctx, STOW_EINVAL, "%s/%s: %s",
			    ctx->home_dir, GLOBAL_IGNORE_FILE,
			    strerror(ENAMETOOLONG));
		if ((text = fs_read_file(AT_FDCWD, file, NULL)) == NULL) {
			if (errno == ENOENT)
				return 0;
			return err_os(ctx, "open", file);
		}
		rc = ignore_rules_from_text(ctx, &ctx->global_rules, text,
		    file);
		free(text);
		if (rc != 0)
			return rc;
		ctx->global_loaded = 2;
	}
	if (ctx->global_loaded == 2)
		*out = &ctx->global_rules;
	return 0;
}
