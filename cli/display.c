/*
 * display.c: file names in text output.  A name is bytes, and a byte
 * that a terminal takes as a control could erase the line it is on,
 * move the cursor or start a line that looks like cstow's own ("other:
 * stowed").  So text output writes every name escaped, the way ls -b
 * and git do: a backslash as "\\", a control character as "\n", "\r",
 * "\t", "\a", "\b", "\f", "\v" or three octal digits ("\033"), and each
 * byte of a C1 control (U+0080 to U+009F) or of a sequence that is not
 * well-formed UTF-8 in octal ("\377").  Well-formed UTF-8 is written as
 * it is.  (--format=json has its own escaping, json_string().)
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "display.h"

/*
 * The length of the well-formed UTF-8 sequence at p (RFC 3629: no
 * overlong forms, no surrogates, nothing above U+10FFFF), or 0.
 */
size_t
utf8_len(const unsigned char *p)
{
	unsigned char	lo = 0x80, hi = 0xbf;
	size_t		n, i;

	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		n = 3;
		if (p[0] == 0xe0)
			lo = 0xa0;
		else if (p[0] == 0xed)
			hi = 0x9f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		n = 4;
		if (p[0] == 0xf0)
			lo = 0x90;
		else if (p[0] == 0xf4)
			hi = 0x8f;
	} else
		return 0;
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return n;
}

/* Writes control character c as a C escape, or in octal. */
static void
put_control(unsigned char c, FILE *fp)
{
	static const char	 from[] = "\a\b\t\n\v\f\r";
	static const char	 to[] = "abtnvfr";
	size_t			 i;

	for (i = 0; i < sizeof(from) - 1; i++) {
		if (c == (unsigned char)from[i]) {
			fputc('\\', fp);
			fputc(to[i], fp);
			return;
		}
	}
	fprintf(fp, "\\%03o", c);
}

/* Writes s to fp with what a terminal would act on escaped. */
void
display_fputs(const char *s, FILE *fp)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 n;

	while (*p != '\0') {
		if (*p == '\\') {
			fputs("\\\\", fp);
			p++;
		} else if (*p < 0x20 || *p == 0x7f)
			put_control(*p++, fp);
		else if (*p < 0x80)
			fputc(*p++, fp);
		else if ((n = utf8_len(p)) > 0 && !(p[0] == 0xc2 &&
		    p[1] < 0xa0)) {
			fwrite(p, 1, n, fp);
			p += n;
		} else if (n > 0) {
			/* A C1 control, such as U+009B, which starts a
			 * terminal's control sequence as ESC [ does. */
			fprintf(fp, "\\%03o\\%03o", p[0], p[1]);
			p += 2;
		} else
			fprintf(fp, "\\%03o", *p++);
	}
}

/* Writes line s (n bytes) to fp escaped, but for a newline that ends
 * it. */
static void
put_line(char *s, size_t n, FILE *fp)
{
	int	nl;

	if ((nl = n > 0 && s[n - 1] == '\n'))
		s[n - 1] = '\0';
	display_fputs(s, fp);
	if (nl)
		fputc('\n', fp);
}

/*
 * vfprintf(3) for a line of text holding names: what fmt and the
 * arguments make is written escaped (display_fputs()), but for a
 * newline that ends it.  It goes out in one piece: on an unbuffered
 * stream (stderr) a write(2) each, so that a reader logging what it
 * gets, or another process writing there, does not cut a line up.
 * Out of memory, it still goes out (an error must be said), made in a
 * fixed buffer (cut at its size) and written a piece at a time.
 * Returns 0.
 */
int
display_vprintf(FILE *fp, const char *fmt, va_list ap)
{
	FILE	*mem = NULL;
	char	*s = NULL, *out = NULL, small[4096];
	size_t	 len = 0;
	va_list	 again;
	int	 n;

	va_copy(again, ap);
	if ((n = vasprintf(&s, fmt, ap)) == -1 ||
	    (mem = open_memstream(&out, &len)) == NULL) {
		if (n == -1)
			n = vsnprintf(s = small, sizeof(small), fmt, again);
		va_end(again);
		if (n >= 0)
			put_line(s, strlen(s), fp);
		if (s != small)
			free(s);
		return 0;
	}
	va_end(again);
	put_line(s, (size_t)n, mem);
	free(s);
	if (fclose(mem) == 0)
		fwrite(out, 1, len, fp);
	free(out);
	return 0;
}

/* display_vprintf() with the arguments. */
int
display_printf(FILE *fp, const char *fmt, ...)
{
	va_list	 ap;
	int	 rc;

	va_start(ap, fmt);
	rc = display_vprintf(fp, fmt, ap);
	va_end(ap);
	return rc;
}
