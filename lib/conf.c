/*
 * conf.c: cstow.conf, the per-package configuration at the root of a
 * stow directory, in git-config syntax.  Every value is checked (and
 * every path expanded) while the file is read, so that a bad file is
 * refused before anything is planned and each error can name file:line.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "extern.h"

#define CONF_MAGIC	0x434f4e46u	/* "CONF" */

/* The sections a key may appear in. */
#define IN_CSTOW	0x1u
#define IN_PACKAGE	0x2u

enum conf_kind { V_PATH = 1, V_CONFLICT, V_BOOL, V_REGEX, V_RELPATH };

enum {
	K_TARGET, K_CONFLICT, K_DOTFILES, K_FOLDING, K_IGNORE, K_BACKUP_DIR,
	K_REPLACE, K_SKIP, NKEYS
};

/* The keys stow.h documents, and where each one is allowed. */
static const struct conf_key {
	const char	*name;
	enum conf_kind	 kind;
	unsigned int	 where;
	int		 repeat;	/* values accumulate */
} conf_keys[NKEYS] = {
	[K_TARGET] =	 { "target",	 V_PATH,     IN_CSTOW | IN_PACKAGE, 0 },
	[K_CONFLICT] =	 { "conflict",	 V_CONFLICT, IN_CSTOW | IN_PACKAGE, 0 },
	[K_DOTFILES] =	 { "dotfiles",	 V_BOOL,     IN_CSTOW | IN_PACKAGE, 0 },
	[K_FOLDING] =	 { "folding",	 V_BOOL,     IN_CSTOW | IN_PACKAGE, 0 },
	[K_IGNORE] =	 { "ignore",	 V_REGEX,    IN_CSTOW | IN_PACKAGE, 1 },
	[K_BACKUP_DIR] = { "backup-dir", V_PATH,     IN_CSTOW,		    0 },
	[K_REPLACE] =	 { "replace",	 V_RELPATH,  IN_PACKAGE,	    1 },
	[K_SKIP] =	 { "skip",	 V_BOOL,     IN_PACKAGE,	    0 },
};

/* The values of one key in one section, in file order; v[len] is NULL
 * so that stow_conf_get_all() can hand the array out as it is. */
struct strlist {
	const char	**v;
	size_t		  len;
	size_t		  cap;
};

struct conf_sect {
	const char	*name;		/* NULL for [cstow] */
	struct strlist	 vals[NKEYS];
};

struct stow_conf {
	unsigned int		 magic;
	struct arena		 arena;		/* strings, package sections */
	struct conf_sect	 cstow;
	struct vec		 packages;	/* in order of first appearance */
	struct strmap		 bypkg;		/* name -> struct conf_sect */
};

/* A growable string for values and subsection names. */

struct parser {
	struct stow_ctx		*ctx;
	struct stow_conf	*conf;
	const char		*file;
	const char		*p;		/* the next character */
	unsigned int		 line;		/* the line of p */
	struct conf_sect	*sect;		/* NULL before the first header */
	stow_lookup_cb		 lookup;
	void			*payload;
	struct strbuf		 buf;
};

static int	conf_error(struct parser *, unsigned int, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

static int
strlist_push(struct strlist *l, const char *s)
{
	const char	**v;
	size_t		  cap;

	if (l->len + 2 > l->cap) {
		cap = l->cap == 0 ? 4 : l->cap * 2;
		if ((v = reallocarray(l->v, cap, sizeof(*v))) == NULL)
			return -1;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->len++] = s;
	l->v[l->len] = NULL;
	return 0;
}

/* Puts the values of pre in front of those of l. */
static int
strlist_prepend(struct strlist *l, const struct strlist *pre)
{
	const char	**v;
	size_t		  len;

	if (pre->len == 0)
		return 0;
	len = l->len + pre->len;
	if ((v = reallocarray(l->v, len + 1, sizeof(*v))) == NULL)
		return -1;
	memmove(v + pre->len, v, l->len * sizeof(*v));
	memcpy(v, pre->v, pre->len * sizeof(*v));
	v[len] = NULL;
	l->v = v;
	l->len = len;
	l->cap = len + 1;
	return 0;
}

static void
sect_free(struct conf_sect *s)
{
	size_t	k;

	for (k = 0; k < NKEYS; k++)
		free(s->vals[k].v);
}

/* The index of key s (n bytes, any case) in conf_keys, or -1. */
static int
key_find(const char *s, size_t n)
{
	int	k;

	for (k = 0; k < NKEYS; k++)
		if (strlen(conf_keys[k].name) == n &&
		    strncasecmp(conf_keys[k].name, s, n) == 0)
			return k;
	return -1;
}

/* 1 or 0 for a git boolean (any case), -1 for anything else. */
static int
parse_bool(const char *s)
{
	static const char *const yes[] = { "true", "yes", "on", "1" };
	static const char *const no[] = { "false", "no", "off", "0" };
	size_t			 i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(s, yes[i]) == 0)
			return 1;
		if (strcasecmp(s, no[i]) == 0)
			return 0;
	}
	return -1;
}

/* Records "file:line: message" and returns STOW_EINVAL. */
static int
conf_error(struct parser *ps, unsigned int line, const char *fmt, ...)
{
	va_list	ap;
	char	msg[sizeof(ps->ctx->errmsg)];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return err_set(ps->ctx, STOW_EINVAL, "%s:%u: %s", ps->file, line, msg);
}

/* Everything isspace() calls blank but the newline, so that a "\r"
 * before it (a CRLF file) is trimmed like any trailing blank. */
static int
is_blank(char c)
{
	return c != '\n' && isspace((unsigned char)c);
}

static void
skip_blanks(struct parser *ps)
{
	while (is_blank(*ps->p))
		ps->p++;
}

/* Skips a comment up to, not past, the newline. */
static void
skip_line(struct parser *ps)
{
	while (*ps->p != '\0' && *ps->p != '\n')
		ps->p++;
}

static int
at_line_end(const struct parser *ps)
{
	return *ps->p == '\0' || *ps->p == '\n' || *ps->p == '#' ||
	    *ps->p == ';';
}

/*
 * Checks a value by the kind of its key and sets *out to what is kept:
 * expanded paths, "true"/"false" for booleans, the lower-case word for
 * conflict, the text itself otherwise.
 */
static int
check_path(struct parser *ps, int k, const char *raw, unsigned int line,
    const char **out)
{
	char	 msg[sizeof(ps->ctx->errmsg)], *exp;
	int	 r;

	r = stow_expand_path(&exp, ps->ctx, raw, ps->lookup, ps->payload);
	if (r == STOW_ENOMEM)
		return r;
	if (r != 0) {
		/* err_set() would read the buffer it writes. */
		strlcpy(msg, stow_ctx_errmsg(ps->ctx), sizeof(msg));
		return conf_error(ps, line, "%s", msg);
	}
	if (*exp == '\0') {
		free(exp);
		return conf_error(ps, line, "%s '%s' expands to an empty path",
		    conf_keys[k].name, raw);
	}
	/* A relative path is relative to the file's directory (the stow
	 * directory), not to wherever the program happens to run. */
	if (exp[0] == '/')
		*out = arena_strdup(&ps->conf->arena, exp);
	else if ((*out = path_parent(&ps->conf->arena, ps->file)) != NULL)
		*out = path_join(&ps->conf->arena, *out, exp);
	free(exp);
	return *out == NULL ? err_nomem(ps->ctx) : 0;
}

static int
check_conflict(struct parser *ps, const char *raw, unsigned int line,
    const char **out)
{
	static const char *const modes[] = { "fail", "adopt", "backup" };
	size_t			 i;

	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		if (strcasecmp(raw, modes[i]) == 0) {
			*out = modes[i];
			return 0;
		}
	}
	return conf_error(ps, line, "invalid conflict '%s' (expected fail, "
	    "adopt or backup)", raw);
}

static int
check_bool(struct parser *ps, int k, const char *raw, unsigned int line,
    const char **out)
{
	switch (parse_bool(raw)) {
	case 1:
		*out = "true";
		return 0;
	case 0:
		*out = "false";
		return 0;
	default:
		return conf_error(ps, line, "invalid boolean '%s' for '%s'",
		    raw, conf_keys[k].name);
	}
}

static int
check_regex(struct parser *ps, const char *raw, unsigned int line,
    const char **out)
{
	pcre2_code	*code;
	int		 r;

	/* The pattern is compiled for real when it is used; this only
	 * moves the error to where the user can see its line. */
	if ((r = pat_compile(ps->ctx, &code, raw, ps->file, line)) != 0)
		return r;
	pcre2_code_free(code);
	*out = arena_strdup(&ps->conf->arena, raw);
	return *out == NULL ? err_nomem(ps->ctx) : 0;
}

/* A replace path names something inside the target
 * (stow_replace_path_check()). */
static int
check_relpath(struct parser *ps, const char *raw, unsigned int line,
    const char **out)
{
	const char	*why;

	if ((why = stow_replace_path_check(raw)) != NULL)
		return conf_error(ps, line, "replace path '%s' %s", raw, why);
	*out = arena_strdup(&ps->conf->arena, raw);
	return *out == NULL ? err_nomem(ps->ctx) : 0;
}

/* Checks raw (NULL for a bare key) and appends it to key k's values in
 * the current section. */
static int
store_value(struct parser *ps, int k, const char *raw, unsigned int line)
{
	const char	*val = NULL;
	int		 r;

	if (raw == NULL && conf_keys[k].kind != V_BOOL)
		return conf_error(ps, line, "missing value for '%s'",
		    conf_keys[k].name);
	if (raw == NULL)
		raw = "true";
	if (*raw == '\0')
		return conf_error(ps, line, "empty value for '%s'",
		    conf_keys[k].name);
	switch (conf_keys[k].kind) {
	case V_PATH:
		r = check_path(ps, k, raw, line, &val);
		break;
	case V_CONFLICT:
		r = check_conflict(ps, raw, line, &val);
		break;
	case V_BOOL:
		r = check_bool(ps, k, raw, line, &val);
		break;
	case V_REGEX:
		r = check_regex(ps, raw, line, &val);
		break;
	default:
		r = check_relpath(ps, raw, line, &val);
		break;
	}
	if (r != 0)
		return r;
	if (strlist_push(&ps->sect->vals[k], val) == -1)
		return err_nomem(ps->ctx);
	return 0;
}

/*
 * After a backslash in a value: returns 1 for a line continuation,
 * 0 with *c set to the escaped character, or an error.
 */
static int
parse_escape(struct parser *ps, char *c, unsigned int line)
{
	char	e = *ps->p;

	if (e == '\r' && ps->p[1] == '\n')
		e = *++ps->p;
	switch (e) {
	case '\0':
		return 1;
	case '\n':
		ps->p++;
		ps->line++;
		return 1;
	case 'n':
		*c = '\n';
		break;
	case 't':
		*c = '\t';
		break;
	case '"':
	case '\\':
		*c = e;
		break;
	default:
		return conf_error(ps, line, "invalid escape '\\%c'", e);
	}
	ps->p++;
	return 0;
}

/*
 * Reads a value up to the end of its (possibly continued) line into
 * ps->buf, as git does: blanks around it are dropped, "..." keeps
 * blanks, '#' and ';' as they are, and an unquoted '#' or ';' starts a
 * comment.  Errors name line, the line of the key.
 */
static int
parse_value(struct parser *ps, unsigned int line)
{
	struct strbuf	*b = &ps->buf;
	size_t		 keep = 0;	/* length without trailing blanks */
	int		 quoted = 0, r;
	char		 c;

	strbuf_truncate(b, 0);
	while ((c = *ps->p) != '\0' && c != '\n') {
		ps->p++;
		if (!quoted && is_blank(c)) {
			if (b->len > 0 && strbuf_putc(b, c) == -1)
				return err_nomem(ps->ctx);
			continue;
		}
		if (!quoted && (c == '#' || c == ';')) {
			skip_line(ps);
			break;
		}
		if (c == '"') {
			quoted = !quoted;
			continue;
		}
		if (c == '\\' && (r = parse_escape(ps, &c, line)) != 0) {
			if (r < 0)
				return r;
			continue;
		}
		if (strbuf_putc(b, c) == -1)
			return err_nomem(ps->ctx);
		keep = b->len;
	}
	if (quoted)
		return conf_error(ps, line, "unterminated quote");
	strbuf_truncate(b, keep);
	return 0;
}

/* "key = value", or "key" alone for true. */
static int
parse_entry(struct parser *ps)
{
	const char	*key = ps->p;
	unsigned int	 line = ps->line;
	int		 k, n, r, has_value = 0;

	while (isalnum((unsigned char)*ps->p) || *ps->p == '-')
		ps->p++;
	n = (int)(ps->p - key);
	skip_blanks(ps);
	if (*ps->p == '=') {
		ps->p++;
		has_value = 1;
	} else if (!at_line_end(ps))
		return conf_error(ps, line, "syntax error");
	if (ps->sect == NULL)
		return conf_error(ps, line, "key '%.*s' before any section", n,
		    key);
	k = key_find(key, (size_t)n);
	if (k == -1 || (conf_keys[k].where &
	    (ps->sect->name == NULL ? IN_CSTOW : IN_PACKAGE)) == 0) {
		if (ps->sect->name == NULL)
			return conf_error(ps, line, "unknown key '%.*s' in "
			    "[cstow]", n, key);
		return conf_error(ps, line, "unknown key '%.*s' in "
		    "[package \"%s\"]", n, key, ps->sect->name);
	}
	if (has_value && (r = parse_value(ps, line)) != 0)
		return r;
	return store_value(ps, k, has_value ? strbuf_str(&ps->buf) : NULL,
	    line);
}

static int
valid_package_name(const char *name)
{
	return *name != '\0' && strchr(name, '/') == NULL &&
	    strcmp(name, ".") != 0 && strcmp(name, "..") != 0;
}

/* Makes [package "name"] current; sections of one name merge. */
static int
open_package(struct parser *ps, const char *name, unsigned int line)
{
	struct stow_conf	*conf = ps->conf;
	struct conf_sect	*s;

	if (!valid_package_name(name))
		return conf_error(ps, line, "invalid package name '%s'", name);
	if ((s = strmap_get(&conf->bypkg, name)) == NULL) {
		if ((s = arena_alloc(&conf->arena, sizeof(*s))) == NULL)
			return err_nomem(ps->ctx);
		memset(s, 0, sizeof(*s));
		if ((s->name = arena_strdup(&conf->arena, name)) == NULL ||
		    vec_push(&conf->packages, s) == -1 ||
		    strmap_put(&conf->bypkg, s->name, s) == -1)
			return err_nomem(ps->ctx);
	}
	ps->sect = s;
	return 0;
}

/* Section names are case-insensitive, the subsection sub (NULL when
 * absent) is not. */
static int
open_section(struct parser *ps, const char *name, int n, const char *sub,
    unsigned int line)
{
	if (n == 5 && strncasecmp(name, "cstow", 5) == 0 && sub == NULL) {
		ps->sect = &ps->conf->cstow;
		return 0;
	}
	if (n == 7 && strncasecmp(name, "package", 7) == 0) {
		if (sub == NULL)
			return conf_error(ps, line, "section [package] needs "
			    "a name: [package \"NAME\"]");
		return open_package(ps, sub, line);
	}
	if (sub != NULL)
		return conf_error(ps, line, "unknown section '%.*s \"%s\"'", n,
		    name, sub);
	return conf_error(ps, line, "unknown section '%.*s'", n, name);
}

/* The "NAME" of a section header into ps->buf; as in git, a backslash
 * takes the next character literally. */
static int
parse_subsection(struct parser *ps, unsigned int line)
{
	char	c;

	strbuf_truncate(&ps->buf, 0);
	for (ps->p++; (c = *ps->p) != '"'; ps->p++) {
		if (c == '\\' && ps->p[1] != '\0' && ps->p[1] != '\n')
			c = *++ps->p;
		if (c == '\0' || c == '\n')
			return conf_error(ps, line, "unterminated quote");
		if (strbuf_putc(&ps->buf, c) == -1)
			return err_nomem(ps->ctx);
	}
	ps->p++;
	return 0;
}

/* "[name]" or "[name "sub"]"; what follows on the line is read as if
 * it began a line, as git does. */
static int
parse_section(struct parser *ps)
{
	const char	*name = ++ps->p;
	unsigned int	 line = ps->line;
	int		 n, r, has_sub = 0;

	while (isalnum((unsigned char)*ps->p) || *ps->p == '-' ||
	    *ps->p == '.')
		ps->p++;
	n = (int)(ps->p - name);
	skip_blanks(ps);
	if (n > 0 && *ps->p == '"') {
		if ((r = parse_subsection(ps, line)) != 0)
			return r;
		has_sub = 1;
	}
	if (n == 0 || *ps->p != ']')
		return conf_error(ps, line, "syntax error");
	ps->p++;
	return open_section(ps, name, n, has_sub ? strbuf_str(&ps->buf) : NULL,
	    line);
}

static int
conf_parse(struct parser *ps)
{
	int	r = 0;
	char	c;

	while (r == 0) {
		skip_blanks(ps);
		if ((c = *ps->p) == '\0')
			break;
		if (c == '\n') {
			ps->p++;
			ps->line++;
		} else if (c == '#' || c == ';')
			skip_line(ps);
		else if (c == '[')
			r = parse_section(ps);
		else if (isalpha((unsigned char)c))
			r = parse_entry(ps);
		else
			r = conf_error(ps, ps->line, "syntax error");
	}
	return r;
}

/* Gives each package its effective ignore list, [cstow]'s values
 * first, so that the getters can hand out one array. */
static int
conf_finish(struct stow_conf *conf, struct stow_ctx *ctx)
{
	struct conf_sect	*s;
	size_t			 i;

	for (i = 0; i < conf->packages.len; i++) {
		s = conf->packages.items[i];
		if (strlist_prepend(&s->vals[K_IGNORE],
		    &conf->cstow.vals[K_IGNORE]) == -1)
			return err_nomem(ctx);
	}
	return 0;
}

static int
conf_parse_text(struct stow_conf **out, struct stow_ctx *ctx,
    const char *file, const char *text, stow_lookup_cb lookup,
    void *payload)
{
	struct parser	ps;
	int		r;

	memset(&ps, 0, sizeof(ps));
	ps.ctx = ctx;
	ps.file = file;
	ps.p = text;
	ps.line = 1;
	ps.lookup = lookup;
	ps.payload = payload;
	/* Editors on some systems start UTF-8 files with a BOM. */
	if (strncmp(ps.p, "\xef\xbb\xbf", 3) == 0)
		ps.p += 3;
	if ((ps.conf = calloc(1, sizeof(*ps.conf))) == NULL)
		return err_nomem(ctx);
	ps.conf->magic = CONF_MAGIC;
	if ((r = conf_parse(&ps)) == 0)
		r = conf_finish(ps.conf, ctx);
	free(ps.buf.s);
	if (r != 0) {
		stow_conf_free(ps.conf);
		return r;
	}
	*out = ps.conf;
	return 0;
}

STOW_API int
stow_conf_read(struct stow_conf **out, struct stow_ctx *ctx,
    const char *path, stow_lookup_cb lookup, void *payload)
{
	char	*text;
	int	 r;

	if (out == NULL || ctx == NULL || ctx->magic != CTX_MAGIC)
		return STOW_EMISUSE;
	*out = NULL;
	if ((r = config_text(ctx, path, &text)) != 0)
		return r;
	r = conf_parse_text(out, ctx, path, text, lookup, payload);
	free(text);
	return r;
}

STOW_API void
stow_conf_free(struct stow_conf *conf)
{
	size_t	i;

	if (conf == NULL)
		return;
	sect_free(&conf->cstow);
	for (i = 0; i < conf->packages.len; i++)
		sect_free(conf->packages.items[i]);
	vec_free(&conf->packages);
	strmap_free(&conf->bypkg);
	arena_free(&conf->arena);
	conf->magic = 0;
	free(conf);
}

/* package's section (NULL: [cstow]), or NULL when it has none. */
static const struct conf_sect *
sect_find(const struct stow_conf *conf, const char *package)
{
	if (package == NULL)
		return &conf->cstow;
	return strmap_get(&conf->bypkg, package);
}

/* The values of key k that apply to package: its own, else [cstow]'s
 * for the keys [cstow] may hold.  NULL when there are none. */
static const struct strlist *
conf_values(const struct stow_conf *conf, const char *package, int k)
{
	const struct conf_sect	*s;

	if ((s = sect_find(conf, package)) != NULL && s->vals[k].len > 0)
		return &s->vals[k];
	if (package != NULL && (conf_keys[k].where & IN_CSTOW) != 0 &&
	    conf->cstow.vals[k].len > 0)
		return &conf->cstow.vals[k];
	return NULL;
}

static int
conf_key_arg(const struct stow_conf *conf, const char *key)
{
	if (conf == NULL || conf->magic != CONF_MAGIC || key == NULL)
		return -1;
	return key_find(key, strlen(key));
}

STOW_API const char *
stow_conf_get(const struct stow_conf *conf, const char *package,
    const char *key)
{
	const struct strlist	*l;
	int			 k;

	if ((k = conf_key_arg(conf, key)) == -1 ||
	    (l = conf_values(conf, package, k)) == NULL)
		return NULL;
	return l->v[l->len - 1];
}

STOW_API int
stow_conf_is_set(const struct stow_conf *conf, const char *package,
    const char *key)
{
	const struct conf_sect	*s;
	int			 k;

	if ((k = conf_key_arg(conf, key)) == -1 ||
	    (s = sect_find(conf, package)) == NULL)
		return 0;
	return s->vals[k].len > 0;
}

STOW_API size_t
stow_conf_get_all(const struct stow_conf *conf, const char *package,
    const char *key, const char *const **out)
{
	static const char *const	 none[] = { NULL };
	const struct strlist		*l;
	int				 k;

	if (out != NULL)
		*out = none;
	if ((k = conf_key_arg(conf, key)) == -1 || !conf_keys[k].repeat ||
	    (l = conf_values(conf, package, k)) == NULL)
		return 0;
	if (out != NULL)
		*out = l->v;
	return l->len;
}

STOW_API int
stow_conf_bool(const struct stow_conf *conf, const char *package,
    const char *key, int def)
{
	const char	*v;
	int		 b;

	if ((v = stow_conf_get(conf, package, key)) == NULL ||
	    (b = parse_bool(v)) == -1)
		return def;
	return b;
}

STOW_API const char *
stow_conf_package(const struct stow_conf *conf, size_t i)
{
	const struct conf_sect	*s;

	if (conf == NULL || conf->magic != CONF_MAGIC ||
	    i >= conf->packages.len)
		return NULL;
	s = conf->packages.items[i];
	return s->name;
}
