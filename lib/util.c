/*
 * util.c: the arena, string map and pointer vector the planner is
 * built on.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extern.h"

#define ARENA_CHUNK	(64 * 1024)

struct arena_chunk {
	struct arena_chunk	*next;
	size_t			 used;
	size_t			 size;
	max_align_t		 data[];
};

/* n bytes aligned to align (a power of two), from the newest chunk. */
static void *
arena_take(struct arena *a, size_t n, size_t align)
{
	struct arena_chunk	*c = a->head;
	size_t			 size, at;

	at = c == NULL ? 0 : (c->used + align - 1) & ~(align - 1);
	if (c == NULL || at > c->size || c->size - at < n) {
		size = n > ARENA_CHUNK ? n : ARENA_CHUNK;
		if (size == ARENA_CHUNK && a->spare != NULL) {
			c = a->spare;
			a->spare = NULL;
		} else if ((c = malloc(sizeof(*c) + size)) == NULL)
			return NULL;
		c->size = size;
		c->used = 0;
		c->next = a->head;
		a->head = c;
		at = 0;
	}
	c->used = at + n;
	return (char *)c->data + at;
}

void *
arena_alloc(struct arena *a, size_t n)
{
	return arena_take(a, n, _Alignof(max_align_t));
}

/* n bytes with no alignment, for strings: packing them keeps big plans
 * small. */
char *
arena_bytes(struct arena *a, size_t n)
{
	return arena_take(a, n, 1);
}

char *
arena_strndup(struct arena *a, const char *s, size_t n)
{
	char	*p;

	if ((p = arena_bytes(a, n + 1)) == NULL)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *
arena_strdup(struct arena *a, const char *s)
{
	return arena_strndup(a, s, strlen(s));
}

char *
arena_printf(struct arena *a, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;
	char	*p;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || (p = arena_alloc(a, (size_t)n + 1)) == NULL)
		return NULL;
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}

/* Where a's allocations stand now, for arena_release(). */
struct arena_mark
arena_mark(const struct arena *a)
{
	struct arena_mark	m;

	m.chunk = a->head;
	m.used = a->head == NULL ? 0 : a->head->used;
	return m;
}

/* Has a handed out nothing since mark m? */
int
arena_unused_since(const struct arena *a, struct arena_mark m)
{
	return a->head == m.chunk && (a->head == NULL || a->head->used ==
	    m.used);
}

/* Frees everything a handed out since mark m: a stack of short-lived
 * strings reuses the same memory instead of growing.  One chunk is kept
 * spare: strings that cross into a new chunk, entry after entry, would
 * otherwise allocate and free it each time. */
void
arena_release(struct arena *a, struct arena_mark m)
{
	struct arena_chunk	*c;

	while (a->head != m.chunk && (c = a->head) != NULL) {
		a->head = c->next;
		if (a->spare == NULL && c->size == ARENA_CHUNK)
			a->spare = c;
		else
			free(c);
	}
	if (a->head != NULL)
		a->head->used = m.used;
}

void
arena_free(struct arena *a)
{
	struct arena_chunk	*c, *next;

	for (c = a->head; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	a->head = NULL;
	free(a->spare);
	a->spare = NULL;
}

/*
 * Mixes the key eight bytes at a time (paths are tens of bytes long),
 * and its low bits, which pick the slot, from all of them at the end
 * (MurmurHash3's finalizer).  No adversary: the keys are the user's.
 */
size_t
strmap_hash(const char *s)
{
	size_t		n = strlen(s);
	uint64_t	h = 0x9e3779b97f4a7c15ULL ^ n, w;

	for (; n >= 8; s += 8, n -= 8) {
		memcpy(&w, s, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdULL;
		h ^= h >> 32;
	}
	w = 0;
	memcpy(&w, s, n);
	h ^= w;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return (size_t)h;
}

/* The 32 bits of hash h a map keeps, never 0 (an empty slot's). */
#define HASH32(h)	((uint32_t)(h) | 0x80000000u)

/*
 * The slot of key (its hash h32, HASH32()): its own, or the empty one
 * where it would go.  The map keeps each key's hash apart from the
 * keys, sixteen to a cache line: it turns away almost every other key
 * without a strcmp (a miss would otherwise make one at each slot it
 * passes), and spares hashing the keys again when the map grows.
 */
static size_t
slot_of(const struct strmap *m, const char *key, uint32_t h32)
{
	size_t	i = h32 & (m->cap - 1);

	while (m->hashes[i] != 0 && (m->hashes[i] != h32 ||
	    strcmp(m->slots[i].key, key) != 0))
		i = (i + 1) & (m->cap - 1);
	return i;
}

void *
strmap_get(const struct strmap *m, const char *key)
{
	return strmap_get_hashed(m, key, strmap_hash(key));
}

/* strmap_get() of a key whose strmap_hash() is h: a caller asking about
 * one key several times hashes it once. */
void *
strmap_get_hashed(const struct strmap *m, const char *key, size_t h)
{
	size_t	i;

	if (m->cap == 0)
		return NULL;
	i = slot_of(m, key, HASH32(h));
	return m->hashes[i] == 0 ? NULL : m->slots[i].val;
}

static int
strmap_grow(struct strmap *m)
{
	struct strmap	 n;
	size_t		 i, j;

	/* (The slot is picked by the kept 32 bits: 2^31 slots at most.) */
	if (m->cap >= 0x80000000u)
		return -1;
	n.cap = m->cap == 0 ? 64 : m->cap * 2;
	n.len = m->len;
	n.slots = calloc(n.cap, sizeof(*n.slots));
	n.hashes = calloc(n.cap, sizeof(*n.hashes));
	if (n.slots == NULL || n.hashes == NULL) {
		free(n.slots);
		free(n.hashes);
		return -1;
	}
	for (i = 0; i < m->cap; i++) {
		if (m->hashes[i] == 0)
			continue;
		/* No key is there twice: the first empty slot is its. */
		j = m->hashes[i] & (n.cap - 1);
		while (n.hashes[j] != 0)
			j = (j + 1) & (n.cap - 1);
		n.slots[j] = m->slots[i];
		n.hashes[j] = m->hashes[i];
	}
	strmap_free(m);
	*m = n;
	return 0;
}

/*
 * The value slot of key, made (holding NULL) when key is not in the map
 * yet: one probe where a get and a put would take two.  NULL when out
 * of memory.
 */
void **
strmap_ref(struct strmap *m, const char *key)
{
	return strmap_ref_hashed(m, key, strmap_hash(key));
}

/* strmap_ref() of a key whose strmap_hash() is h. */
void **
strmap_ref_hashed(struct strmap *m, const char *key, size_t h)
{
	size_t		i;
	uint32_t	h32;

	if ((m->len + 1) * 4 > m->cap * 3 && strmap_grow(m) == -1)
		return NULL;
	h32 = HASH32(h);
	i = slot_of(m, key, h32);
	if (m->hashes[i] == 0) {
		m->slots[i].key = key;
		m->slots[i].val = NULL;
		m->hashes[i] = h32;
		m->len++;
	}
	return &m->slots[i].val;
}

/* Returns 0, or -1 when out of memory. */
int
strmap_put(struct strmap *m, const char *key, void *val)
{
	void	**ref;

	if ((ref = strmap_ref(m, key)) == NULL)
		return -1;
	*ref = val;
	return 0;
}

void
strmap_free(struct strmap *m)
{
	free(m->slots);
	free(m->hashes);
	memset(m, 0, sizeof(*m));
}

/* Returns 0, or -1 when out of memory. */
int
vec_push(struct vec *v, void *item)
{
	void	**items;
	size_t	  cap;

	if (v->len == v->cap) {
		cap = v->cap == 0 ? 16 : v->cap * 2;
		if ((items = reallocarray(v->items, cap, sizeof(*items))) == NULL)
			return -1;
		v->items = items;
		v->cap = cap;
	}
	v->items[v->len++] = item;
	return 0;
}

void
vec_free(struct vec *v)
{
	free(v->items);
	memset(v, 0, sizeof(*v));
}

/* Makes room for n more bytes and a NUL at the end of b: 0, or -1 when
 * out of memory. */
int
strbuf_room(struct strbuf *b, size_t n)
{
	char	*grown;
	size_t	 cap;

	if (b->len + n + 1 <= b->cap)
		return 0;
	cap = b->cap == 0 ? 64 : b->cap;
	while (b->len + n + 1 > cap)
		cap *= 2;
	if ((grown = realloc(b->s, cap)) == NULL)
		return -1;
	b->s = grown;
	b->cap = cap;
	return 0;
}

/* Appends n bytes of s; keeps the buffer NUL-terminated.  0 or -1. */
int
strbuf_put(struct strbuf *b, const char *s, size_t n)
{
	if (strbuf_room(b, n) == -1)
		return -1;
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
	return 0;
}

int
strbuf_putc(struct strbuf *b, char c)
{
	return strbuf_put(b, &c, 1);
}

int
strbuf_printf(struct strbuf *b, const char *fmt, ...)
{
	va_list	ap;
	char	small[256];
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(small))
		return -1;
	return strbuf_put(b, small, (size_t)n);
}

void
strbuf_truncate(struct strbuf *b, size_t len)
{
	b->len = len;
	if (b->s != NULL)
		b->s[len] = '\0';
}

/* The contents ("" when empty); the buffer keeps ownership. */
const char *
strbuf_str(const struct strbuf *b)
{
	return b->s == NULL ? "" : b->s;
}

void
strbuf_free(struct strbuf *b)
{
	free(b->s);
	memset(b, 0, sizeof(*b));
}
