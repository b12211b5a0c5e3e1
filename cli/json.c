/*
 * json.c: cstow's --format=json output: a string escaper, and the plan
 * (-n) and summary documents of a run.  The schema is in cstow(1).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <stow.h>

#include "bootstrap.h"
#include "check.h"
#include "display.h"

/*
 * Writes s as a JSON string.  '"' and '\' are escaped, control
 * characters and DEL become \b, \f, \n, \r, \t or \u00XX, well-formed
 * UTF-8 is copied, and each byte that is not part of well-formed UTF-8
 * (paths are bytes) becomes \ufffd, the replacement character.
 */
void
json_string(FILE *fp, const char *s)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 n;

	fputc('"', fp);
	while (*p != '\0') {
		if (*p == '"' || *p == '\\') {
			fputc('\\', fp);
			fputc(*p++, fp);
		} else if (*p < 0x20 || *p == 0x7f) {
			switch (*p) {
			case '\b':
				fputs("\\b", fp);
				break;
			case '\f':
				fputs("\\f", fp);
				break;
			case '\n':
				fputs("\\n", fp);
				break;
			case '\r':
				fputs("\\r", fp);
				break;
			case '\t':
				fputs("\\t", fp);
				break;
			default:
				fprintf(fp, "\\u%04x", *p);
			}
			p++;
		} else if (*p < 0x80)
			fputc(*p++, fp);
		else if ((n = utf8_len(p)) > 0) {
			fwrite(p, 1, n, fp);
			p += n;
		} else {
			fputs("\\ufffd", fp);
			p++;
		}
	}
	fputc('"', fp);
}

static const char *
op_kind_name(enum stow_op_kind k)
{
	switch (k) {
	case STOW_OP_MKDIR:
		return "mkdir";
	case STOW_OP_RMDIR:
		return "rmdir";
	case STOW_OP_LINK:
		return "link";
	case STOW_OP_UNLINK:
		return "unlink";
	case STOW_OP_MOVE:
		return "move";
	case STOW_OP_BACKUP:
		return "backup";
	}
	return "unknown";
}

static const char *
conflict_kind_name(enum stow_conflict_kind k)
{
	switch (k) {
	case STOW_CONFLICT_NOT_OWNED:
		return "not-owned";
	case STOW_CONFLICT_OTHER_PACKAGE:
		return "other-package";
	case STOW_CONFLICT_ABSOLUTE_LINK:
		return "absolute-link";
	case STOW_CONFLICT_TYPE:
		return "type";
	case STOW_CONFLICT_LINK_LOOP:
		return "link-loop";
	}
	return "unknown";
}

/* Writes one conflict object, without a newline; target may be NULL. */
void
json_conflict(FILE *fp, enum stow_action action,
    enum stow_conflict_kind kind, const char *package, const char *path,
    const char *message, const char *target)
{
	fprintf(fp, "{\"action\": \"%s\", \"kind\": \"%s\", \"path\": ",
	    action == STOW_ACTION_UNSTOW ? "unstow" : "stow",
	    conflict_kind_name(kind));
	json_string(fp, path);
	fputs(", \"package\": ", fp);
	json_string(fp, package);
	fputs(", \"message\": ", fp);
	json_string(fp, message);
	if (target != NULL) {
		fputs(", \"target\": ", fp);
		json_string(fp, target);
	}
	fputc('}', fp);
}

/* Writes "conflicts": [...] for every plan, sorted as the text report. */
static void
json_conflicts(FILE *fp, const struct run_plan *plans, size_t n,
    const char *const *targets)
{
	struct conflict_list		 l = { NULL, 0, NULL };
	const struct conflict_copy	*x;
	size_t				 i;

	for (i = 0; i < n; i++)
		if (plans[i].plan != NULL)
			conflicts_collect(&l, plans[i].plan, targets[i]);
	conflicts_sort(&l);
	fputs("  \"conflicts\": [", fp);
	for (i = 0; i < l.n; i++) {
		x = &l.v[i];
		fputs(i > 0 ? ",\n    " : "\n    ", fp);
		json_conflict(fp, x->action, x->kind, x->package, x->path,
		    x->message, x->target);
	}
	fputs(l.n > 0 ? "\n  ]" : "]", fp);
	conflicts_free(&l);
}

struct jops {
	FILE		*fp;
	const char	*target;
	size_t		 n;
};

static int
print_op(const struct stow_op *op, void *payload)
{
	struct jops	*j = payload;

	fputs(j->n++ > 0 ? ",\n    " : "\n    ", j->fp);
	fprintf(j->fp, "{\"kind\": \"%s\", \"path\": ", op_kind_name(op->kind));
	json_string(j->fp, op->path);
	if (op->link != NULL) {
		fputs(", \"link\": ", j->fp);
		json_string(j->fp, op->link);
	}
	if (op->dest != NULL) {
		fputs(", \"dest\": ", j->fp);
		json_string(j->fp, op->dest);
	}
	fputs(", \"package\": ", j->fp);
	json_string(j->fp, op->package);
	fputs(", \"target\": ", j->fp);
	json_string(j->fp, j->target);
	fputc('}', j->fp);
	return 0;
}

/*
 * The run_report_cb of --format=json: with -n, the plan (every
 * operation and conflict); otherwise the summary of what was done.
 */
void
json_report(struct run *r, const struct run_plan *plans, size_t n, int rc)
{
	struct jops	  j = { stdout, NULL, 0 };
	char		**targets;
	size_t		  i;

	targets = xrealloc(NULL, n + 1, sizeof(*targets));
	for (i = 0; i < n; i++)
		targets[i] = *plans[i].target != '\0' ?
		    xstrdup(plans[i].target) : target_default(r->stow_dir);
	fputs("{\n", stdout);
	if (r->simulate) {
		fputs("  \"operations\": [", stdout);
		for (i = 0; i < n; i++) {
			if (plans[i].plan == NULL)
				continue;
			j.target = targets[i];
			stow_plan_foreach_op(plans[i].plan, print_op, &j);
		}
		fputs(j.n > 0 ? "\n  ],\n" : "],\n", stdout);
	} else {
		fprintf(stdout, "  \"linked\": %zu,\n  \"backed_up\": %zu,\n"
		    "  \"unchanged\": %zu,\n  \"vault\": ",
		    rc == EXIT_OK ? r->linked : 0,
		    rc == EXIT_OK ? r->backed_up : 0,
		    rc == EXIT_OK ? r->unchanged : 0);
		if (rc == EXIT_OK && r->backed_up > 0 && r->vault != NULL)
			json_string(stdout, r->vault);
		else
			fputs("null", stdout);
		fputs(",\n", stdout);
	}
	json_conflicts(stdout, plans, n, (const char *const *)targets);
	fputs("\n}\n", stdout);
	for (i = 0; i < n; i++)
		free(targets[i]);
	free(targets);
	fflush(stdout);
}
