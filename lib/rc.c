/*
 * rc.c: .stowrc files (GNU Stow's get_config_file_options()): shell
 * words, and the "~"/"$VAR" expansion of --dir and --target values.
 */
#include <sys/types.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "extern.h"

struct stow_rc {
	char		**words;
	unsigned int	 *lines;
	size_t		  len;
	size_t		  cap;
};

static int
rc_push(struct stow_rc *rc, char *word, unsigned int line)
{
	char		**w;
	unsigned int	 *l;
	size_t		  cap;

	if (rc->len == rc->cap) {
		cap = rc->cap == 0 ? 16 : rc->cap * 2;
		if ((w = reallocarray(rc->words, cap, sizeof(*w))) == NULL)
			return -1;
		rc->words = w;
		if ((l = reallocarray(rc->lines, cap, sizeof(*l))) == NULL)
			return -1;
		rc->lines = l;
		rc->cap = cap;
	}
	rc->words[rc->len] = word;
	rc->lines[rc->len++] = line;
	return 0;
}

/*
 * Splits one line into words as Perl's Text::ParseWords::shellwords()
 * does: blanks separate words; '...' is literal but for \' and \\;
 * in "..." and outside quotes a backslash takes the next character.
 * Returns 0, 1 for an unbalanced quote, or -1 when out of memory.
 */
/* Ends the word in w (possibly empty) and pushes it. */
static int
finish_word(struct stow_rc *rc, struct strbuf *w, unsigned int line)
{
	if (w->s == NULL && (w->s = strdup("")) == NULL)
		return -1;
	if (rc_push(rc, w->s, line) == -1)
		return -1;
	w->s = NULL;
	w->len = w->cap = 0;
	return 0;
}

/*
 * Splits one line into words as Perl's Text::ParseWords::shellwords()
 * does: blanks separate words; '...' is literal but for \' and \\;
 * in "..." and outside quotes a backslash takes the next character.
 * Returns 0, 1 for an unbalanced quote, or -1 when out of memory.
 */
static int
split_line(struct stow_rc *rc, const char *p, unsigned int line)
{
	struct strbuf	w = { NULL, 0, 0 };
	char		quote = 0;
	int		inword = 0;

	for (; *p != '\0'; p++) {
		if (quote == 0 && isspace((unsigned char)*p)) {
			if (inword && finish_word(rc, &w, line) == -1)
				goto nomem;
			inword = 0;
			continue;
		}
		inword = 1;
		if (quote == 0 && (*p == '\'' || *p == '"')) {
			quote = *p;
			continue;
		}
		if (quote != 0 && *p == quote) {
			quote = 0;
			continue;
		}
		/* Inside '...' a backslash is kept, with the character
		 * it protects (so \' does not end the quote). */
		if (*p == '\\' && p[1] != '\0' && quote == '\'') {
			if (strbuf_putc(&w, *p++) == -1)
				goto nomem;
		} else if (*p == '\\' && p[1] != '\0')
			p++;
		if (strbuf_putc(&w, *p) == -1)
			goto nomem;
	}
	if (quote != 0) {
		free(w.s);
		return 1;
	}
	if (inword && finish_word(rc, &w, line) == -1)
		goto nomem;
	return 0;
nomem:
	free(w.s);
	return -1;
}

STOW_API void
stow_rc_free(struct stow_rc *rc)
{
	size_t	i;

	if (rc == NULL)
		return;
	for (i = 0; i < rc->len; i++)
		free(rc->words[i]);
	free(rc->words);
	free(rc->lines);
	free(rc);
}

static int
rc_parse_text(struct stow_ctx *ctx, struct stow_rc *rc, char *text,
    const char *path)
{
	char		*line, *next, *s;
	unsigned int	 lineno = 0;
	int		 r;

	for (line = text; line != NULL; line = next) {
		lineno++;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		for (s = line; isspace((unsigned char)*s); s++)
			continue;
		if (*s == '#')
			continue;
		if ((r = split_line(rc, line, lineno)) == -1)
			return err_nomem(ctx);
		if (r == 1)
			return err_set(ctx, STOW_EINVAL,
			    "%s:%u: unbalanced quote", path, lineno);
	}
	return 0;
}

/*
 * Reads a configuration file (.stowrc, cstow.conf) into *out, which the
 * caller frees.  A missing file is STOW_ENOTFOUND, naming it.
 */
int
config_text(struct stow_ctx *ctx, const char *path, char **out)
{
	if (path == NULL)
		return err_set(ctx, STOW_EINVAL, "path is NULL");
	if ((*out = fs_read_file(AT_FDCWD, path, NULL)) == NULL) {
		if (errno == ENOENT)
			return err_set(ctx, STOW_ENOTFOUND, "%s: %s", path,
			    strerror(errno));
		return err_os(ctx, "open", path);
	}
	return 0;
}

STOW_API int
stow_rc_read(struct stow_rc **out, struct stow_ctx *ctx, const char *path)
{
	struct stow_rc	*rc;
	char		*text;
	int		 r;

	if (out == NULL || ctx == NULL || ctx->magic != CTX_MAGIC)
		return STOW_EMISUSE;
	*out = NULL;
	if ((r = config_text(ctx, path, &text)) != 0)
		return r;
	if ((rc = calloc(1, sizeof(*rc))) == NULL) {
		free(text);
		return err_nomem(ctx);
	}
	r = rc_parse_text(ctx, rc, text, path);
	free(text);
	if (r != 0) {
		stow_rc_free(rc);
		return r;
	}
	*out = rc;
	return 0;
}

STOW_API size_t
stow_rc_count(const struct stow_rc *rc)
{
	return rc == NULL ? 0 : rc->len;
}

STOW_API const char *
stow_rc_word(const struct stow_rc *rc, size_t i)
{
	return rc == NULL || i >= rc->len ? NULL : rc->words[i];
}

STOW_API unsigned int
stow_rc_line(const struct stow_rc *rc, size_t i)
{
	return rc == NULL || i >= rc->len ? 0 : rc->lines[i];
}

static int
is_word_char(char c)
{
	return isalnum((unsigned char)c) || c == '_';
}

/*
 * Expands unescaped $NAME and ${NAME} (GNU Stow's expand_environment());
 * "\$" becomes "$".
 */
static int
expand_vars(struct stow_ctx *ctx, struct strbuf *b, const char *p,
    stow_lookup_cb lookup, void *payload)
{
	const char	*start, *end, *val;
	char		 name[256];
	size_t		 n;

	for (; *p != '\0'; p++) {
		if (p[0] == '\\' && p[1] == '$') {
			if (strbuf_putc(b, '$') == -1)
				return err_nomem(ctx);
			p++;
			continue;
		}
		if (p[0] != '$' || !(p[1] == '{' || is_word_char(p[1]))) {
			if (strbuf_putc(b, *p) == -1)
				return err_nomem(ctx);
			continue;
		}
		if (p[1] == '{') {
			start = p + 2;
			/* Only ${NAME} with word characters or blanks. */
			for (end = start; is_word_char(*end) ||
			    *end == ' ' || *end == '\t'; end++)
				continue;
			if (*end != '}' || end == start) {
				if (strbuf_putc(b, *p) == -1)
					return err_nomem(ctx);
				continue;
			}
			p = end;
		} else {
			start = p + 1;
			for (end = start; is_word_char(*end); end++)
				continue;
			p = end - 1;
		}
		if ((n = (size_t)(end - start)) >= sizeof(name))
			return err_set(ctx, STOW_EINVAL,
			    "environment variable name too long");
		memcpy(name, start, n);
		name[n] = '\0';
		if (lookup == NULL || (val = lookup(name, payload)) == NULL)
			return err_set(ctx, STOW_EINVAL, "undefined "
			    "environment variable $%s", name);
		if (strbuf_put(b, val, strlen(val)) == -1)
			return err_nomem(ctx);
	}
	return 0;
}

/* Expands a leading ~ or ~user (GNU Stow's expand_tilde()); "\~"
 * becomes "~". */
static int
expand_tilde(struct stow_ctx *ctx, struct strbuf *b, const char *p,
    stow_lookup_cb lookup, void *payload)
{
	struct passwd	 pwbuf, *pw;
	const char	*home = NULL, *end;
	char		 user[256], buf[4096];
	size_t		 n;

	if (*p == '~') {
		end = strchr(p, '/');
		n = end == NULL ? strlen(p + 1) : (size_t)(end - p - 1);
		if (n >= sizeof(user))
			return err_set(ctx, STOW_EINVAL, "user name too long");
		memcpy(user, p + 1, n);
		user[n] = '\0';
		if (n > 0) {
			/* The _r forms keep separate contexts thread-safe. */
			if (getpwnam_r(user, &pwbuf, buf, sizeof(buf),
			    &pw) != 0 || pw == NULL)
				return err_set(ctx, STOW_EINVAL,
				    "unknown user in ~%s", user);
			home = pw->pw_dir;
		} else if (lookup == NULL ||
		    (home = lookup("HOME", payload)) == NULL) {
			if (getpwuid_r(getuid(), &pwbuf, buf, sizeof(buf),
			    &pw) != 0 || pw == NULL)
				return err_set(ctx, STOW_EINVAL,
				    "cannot expand ~: no home directory");
			home = pw->pw_dir;
		}
		if (strbuf_put(b, home, strlen(home)) == -1)
			return err_nomem(ctx);
		p += n + 1;
	}
	for (; *p != '\0'; p++) {
		if (p[0] == '\\' && p[1] == '~')
			p++;
		if (strbuf_putc(b, *p) == -1)
			return err_nomem(ctx);
	}
	return 0;
}

STOW_API int
stow_expand_path(char **out, struct stow_ctx *ctx, const char *path,
    stow_lookup_cb lookup, void *payload)
{
	struct strbuf	vars = { NULL, 0, 0 }, tilde = { NULL, 0, 0 };
	int		rc;

	if (out == NULL || ctx == NULL || ctx->magic != CTX_MAGIC)
		return STOW_EMISUSE;
	*out = NULL;
	if (path == NULL)
		return err_set(ctx, STOW_EINVAL, "path is NULL");
	if ((rc = expand_vars(ctx, &vars, path, lookup, payload)) == 0 &&
	    (rc = expand_tilde(ctx, &tilde, vars.s != NULL ? vars.s : "",
	    lookup, payload)) == 0) {
		if (tilde.s == NULL && (tilde.s = strdup("")) == NULL)
			rc = err_nomem(ctx);
		else
			*out = tilde.s, tilde.s = NULL;
	}
	free(vars.s);
	free(tilde.s);
	return rc;
}
