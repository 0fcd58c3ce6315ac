/* mqtt_cache.c - the input client's topic cache: a message's exact topic to
 * the subscription it matched first, where its captures lie in it, and the
 * channels its samples went to (issue 18 target 1: topic_match and the
 * channel's interning were ~7 % of the MQTT thread's instructions per
 * message).  At most max_channels entries (a full cache stops growing: the
 * rest take the slow path, as before); it lives as long as the client's
 * channels do: freed with them when a reload pauses the client
 * (mqtt_pause), made again from the next configuration's messages.
 * Loop thread only. */
#include "mqtt.h"
#include "mqtt_int.h"

#include <stdlib.h>
#include <string.h>

#include "../daemon/config.h"
#include "../util/hash.h"

static uint32_t topic_hash(const char *p, size_t n)
{
	return (uint32_t)hash_fold(fnv1a64(p, n));
}

struct tcache *mqtt_cache_find(struct mqtt_client *c, const char *topic, size_t tlen, const char *vals[TOPIC_CAP_N],
			       size_t lens[TOPIC_CAP_N])
{
	uint32_t h;

	if (!c->ncache || tlen >= CACHE_NOCAP)
		return NULL;
	h = topic_hash(topic, tlen);
	for (struct tcache *e = c->ctab[h & (c->ctabsize - 1)]; e; e = e->next) {
		if (e->tlen != tlen || memcmp(TCACHE_TOPIC(e), topic, tlen) != 0)
			continue;
		for (int i = 0; i < TOPIC_CAP_N; i++) {
			vals[i] = e->len[i] != CACHE_NOCAP ? topic + e->off[i] : NULL;
			lens[i] = e->len[i] != CACHE_NOCAP ? e->len[i] : 0;
		}
		return e;
	}
	return NULL;
}

static void cache_grow(struct mqtt_client *c)
{
	size_t ns = c->ctabsize ? c->ctabsize * 2 : 64;
	struct tcache **nt = xcalloc(ns, sizeof(*nt));

	for (size_t i = 0; i < c->ctabsize; i++)
		while (c->ctab[i]) {
			struct tcache *x = c->ctab[i];
			uint32_t h = topic_hash(TCACHE_TOPIC(x), x->tlen);
			c->ctab[i] = x->next;
			x->next = nt[h & (ns - 1)];
			nt[h & (ns - 1)] = x;
		}
	free(c->ctab);
	c->ctab = nt;
	c->ctabsize = ns;
}

/* How many channels a message of s goes to whatever its payload: one per
 * JSON field, one for a number or boolean; influx line protocol names its
 * channels in the payload (none cached). */
static size_t slots_of(const struct msub *s)
{
	switch (s->conf->format) {
	case CC_MQTT_JSON: return s->conf->nfields;
	case CC_MQTT_NUMBER:
	case CC_MQTT_BOOL: return 1;
	default: return 0;
	}
}

struct tcache *mqtt_cache_add(struct mqtt_client *c, struct msub *s, const char *topic, size_t tlen,
			      const char *const vals[TOPIC_CAP_N], const size_t lens[TOPIC_CAP_N])
{
	size_t nslots = slots_of(s);
	struct tcache *e;
	uint32_t h = topic_hash(topic, tlen);

	/* offsets and lengths in 8 bits, CACHE_NOCAP never one of them */
	if (c->ncache >= (size_t)c->conf->max_channels || tlen >= CACHE_NOCAP || nslots > UINT16_MAX ||
	    (size_t)(s - c->subs) > UINT16_MAX)
		return NULL;
	if (c->ncache + 1 > c->ctabsize) /* chains of ~1 on average: 8 bytes a topic */
		cache_grow(c);
	e = mqtt_arena_alloc(&c->centries, sizeof(*e) + nslots * sizeof(e->slot[0]) + tlen + 1);
	e->nslots = (uint16_t)nslots;
	memcpy(TCACHE_TOPIC(e), topic, tlen);
	e->tlen = (uint8_t)tlen;
	e->sub = (uint16_t)(s - c->subs);
	for (int i = 0; i < TOPIC_CAP_N; i++) {
		e->len[i] = vals[i] ? (uint8_t)lens[i] : CACHE_NOCAP;
		e->off[i] = vals[i] ? (uint8_t)(vals[i] - topic) : 0;
	}
	e->next = c->ctab[h & (c->ctabsize - 1)];
	c->ctab[h & (c->ctabsize - 1)] = e;
	c->ncache++;
	return e;
}

void mqtt_cache_free(struct mqtt_client *c)
{
	mqtt_arena_free(&c->centries);
	free(c->ctab);
	c->ctab = NULL;
	c->ctabsize = c->ncache = 0;
}

/* --- the client's arena ------------------------------------------------------ */

#define ARENA_FIRST 4096
#define ARENA_MAX (64 * 1024)

struct mqtt_ablk {
	struct mqtt_ablk *next;
	size_t size;
	_Alignas(8) unsigned char data[];
};

void *mqtt_arena_alloc(struct mqtt_arena *a, size_t n)
{
	struct mqtt_ablk *b;
	size_t sz;

	n = (n + 7) & ~(size_t)7;
	if (a->blk && a->cap - a->used >= n) {
		void *p = a->blk->data + a->used;
		a->used += n;
		return p;
	}
	sz = a->blk ? a->blk->size * 2 : ARENA_FIRST;
	if (sz > ARENA_MAX)
		sz = ARENA_MAX;
	if (sz < n) /* larger than a block: a block of its own, the current one kept */
		sz = n;
	b = xcalloc(1, sizeof(*b) + sz);
	b->size = sz;
	if (sz == n && a->blk) {
		b->next = a->blk->next;
		a->blk->next = b;
		return b->data;
	}
	b->next = a->blk;
	a->blk = b;
	a->cap = sz;
	a->used = n;
	return b->data;
}

void mqtt_arena_free(struct mqtt_arena *a)
{
	while (a->blk) {
		struct mqtt_ablk *b = a->blk;
		a->blk = b->next;
		free(b);
	}
	a->used = a->cap = 0;
}
