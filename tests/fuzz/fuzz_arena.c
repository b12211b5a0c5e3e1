/*
 * fuzz_arena.c: the arena of lib/util.c, one malloc() per allocation.
 * The library's arena carves strings out of 64 KiB chunks, where
 * AddressSanitizer cannot see a write or read past the end of one of
 * them; linked with -Wl,--wrap=arena_alloc,... every arena call from
 * the other files comes here instead, and each allocation gets its own
 * red zones.  Same contract: freed all together by arena_free().
 *
 * Every arena_* function lib/extern.h declares needs its __wrap_ here:
 * one left out would hand the library's allocator a list of these
 * blocks.  tests/fuzz/run.sh checks that, and builds without the
 * wrapping (and says so) when one is missing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extern.h"

void	*__wrap_arena_alloc(struct arena *, size_t);
char	*__wrap_arena_bytes(struct arena *, size_t);
char	*__wrap_arena_strdup(struct arena *, const char *);
char	*__wrap_arena_strndup(struct arena *, const char *, size_t);
char	*__wrap_arena_printf(struct arena *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
struct arena_mark __wrap_arena_mark(const struct arena *);
void	 __wrap_arena_release(struct arena *, struct arena_mark);
int	 __wrap_arena_unused_since(const struct arena *, struct arena_mark);
void	 __wrap_arena_free(struct arena *);

struct fuzz_block {
	struct fuzz_block	*next;
	max_align_t		 data[];
};

void *
__wrap_arena_alloc(struct arena *a, size_t n)
{
	struct fuzz_block	*b;

	if ((b = malloc(sizeof(*b) + n)) == NULL)
		return NULL;
	b->next = (struct fuzz_block *)(void *)a->head;
	a->head = (struct arena_chunk *)(void *)b;
	return b->data;
}

/* Unaligned bytes in the library; malloc()'s alignment does as well. */
char *
__wrap_arena_bytes(struct arena *a, size_t n)
{
	return __wrap_arena_alloc(a, n);
}

/* As arena_strndup(): copies n bytes of s (all n are read). */
char *
__wrap_arena_strndup(struct arena *a, const char *s, size_t n)
{
	char	*p;

	if ((p = __wrap_arena_alloc(a, n + 1)) == NULL)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *
__wrap_arena_strdup(struct arena *a, const char *s)
{
	return __wrap_arena_strndup(a, s, strlen(s));
}

char *
__wrap_arena_printf(struct arena *a, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;
	char	*p;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || (p = __wrap_arena_alloc(a, (size_t)n + 1)) == NULL)
		return NULL;
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}

/* As arena_mark(): the newest block is the mark. */
struct arena_mark
__wrap_arena_mark(const struct arena *a)
{
	struct arena_mark	m;

	m.chunk = a->head;
	m.used = 0;
	return m;
}

/* As arena_unused_since(): no block made since the mark. */
int
__wrap_arena_unused_since(const struct arena *a, struct arena_mark m)
{
	return a->head == m.chunk;
}

/* As arena_release(): frees the blocks made since the mark, so that a
 * string used after its release is a use after free. */
void
__wrap_arena_release(struct arena *a, struct arena_mark m)
{
	struct fuzz_block	*b;

	while (a->head != m.chunk &&
	    (b = (struct fuzz_block *)(void *)a->head) != NULL) {
		a->head = (struct arena_chunk *)(void *)b->next;
		free(b);
	}
}

void
__wrap_arena_free(struct arena *a)
{
	struct fuzz_block	*b, *next;

	for (b = (struct fuzz_block *)(void *)a->head; b != NULL; b = next) {
		next = b->next;
		free(b);
	}
	a->head = NULL;
}
