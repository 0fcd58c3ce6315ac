/* trend.c - the last 24 h of each room's temperature, RH, door and CO2
 * channel, kept in memory for the room page's chart (issue 15), so the
 * page needs neither InfluxDB nor the journal.  Fed from engine_process
 * under the engine's lock, copied out by engine_room_trend, kept in the
 * snapshot so a restart keeps the day.
 *
 * Resolution: 288 buckets of 5 min.  A 24-hour chart on a 360-1280 px
 * screen has at most ~300 px of width per series, so 5 min is about one
 * pixel; finer buckets would cost memory and snapshot size without a
 * visible difference, coarser ones would hide a door-open spike (min and
 * max are kept, so a short excursion still shows as the band's edge).
 * Cost: a bucket is 20 bytes (slot, count, min, max, sum as float: a
 * sensor's 3-4 significant digits fit a float), 5760 bytes per channel
 * once a day has filled it (chunks of 2 h are allocated as readings come),
 * 11.3 KiB for a room with temperature and RH, 22.5 KiB with door and
 * CO2; 100 rooms: at most 2.3 MiB.  A reading costs a division and a few
 * compares: O(1), no allocation.
 *
 * The reading's own time picks the bucket (slot = ts / 5 min, index =
 * slot mod 288), so a backlog or a late reading lands where it belongs; a
 * bucket holding a newer slot than the reading's means the reading is
 * more than 24 h older than the newest one: dropped and counted.  Buckets
 * with no reading stay empty: a gap is shown as a gap. */
#include "engine_int.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../log.h"
#include "../state.h"
#include "../util.h"

#define NB ENGINE_TREND_BUCKETS
#define TF_HEAD 20  /* the trend file's header, */
#define TF_CHAN 6   /* a ring's head besides its id, */
#define TF_BUCKET 20 /* a bucket */
/* The file's bytes before its CRC for rings rings with id_bytes of ids and
 * buckets buckets (trend_take's limit, trend_write's buffer). */
#define TF_SIZE(rings, id_bytes, buckets) (TF_HEAD + (rings) * TF_CHAN + (id_bytes) + (buckets) * TF_BUCKET)
#define BUCKET_NS ((int64_t)ENGINE_TREND_BUCKET_S * 1000000000LL)

struct tbucket {
	int32_t slot; /* ts / BUCKET_NS of its readings */
	uint32_t n;   /* 0: empty */
	float min, max, sum;
};

/* The ring in chunks of 2 h, each allocated when a reading first lands
 * in it: a hub's 4,000 rings cost 23 MB from start-up, now what the day so
 * far has filled (the same 23 MB after 24 h: the chart's own size). */
#define CHUNK 24
#define NCHUNK (NB / CHUNK)
_Static_assert(NB % CHUNK == 0, "the ring is whole chunks");

struct etrend {
	struct tbucket *c[NCHUNK]; /* NULL: nothing landed there yet */
	uint64_t too_old;          /* readings more than 24 h older than the newest */
};

/* Ring index i's bucket, NULL when its chunk was never filled. */
static const struct tbucket *bucket_at(const struct etrend *t, int64_t i)
{
	const struct tbucket *c = t->c[(i % NB) / CHUNK];
	return c ? &c[(i % NB) % CHUNK] : NULL;
}

/* The room roles that get a ring, in the order of enum engine_trend_series_kind. */
static const int trend_roles[ENGINE_TREND_N] = { R_TEMP, R_RH, R_DOOR, R_CO2 };

void trend_build(struct engine *e)
{
	for (size_t i = 0; i < e->nrooms; i++)
		for (int k = 0; k < ENGINE_TREND_N; k++) {
			struct echan *ch = e->rooms[i].ch[trend_roles[k]];
			if (ch && !ch->trend)
				ch->trend = xcalloc(1, sizeof(*ch->trend));
		}
}

void trend_free(struct echan *ch)
{
	for (int i = 0; ch->trend && i < NCHUNK; i++)
		free(ch->trend->c[i]);
	free(ch->trend);
	ch->trend = NULL;
}

static void bucket_put(struct etrend *t, int64_t slot, uint32_t n, float min, float max, float sum)
{
	struct tbucket **c = &t->c[(slot % NB) / CHUNK], *b;

	if (!*c)
		*c = xcalloc(CHUNK, sizeof(**c));
	b = &(*c)[(slot % NB) % CHUNK];

	if (b->n && b->slot > slot) {
		t->too_old++;
		return;
	}
	if (b->n && b->slot == slot && (n > UINT32_MAX - b->n || !isfinite(b->sum + sum)))
		return; /* a file's bucket given again past what one holds: the first stays */
	if (!b->n || b->slot != slot) {
		b->slot = (int32_t)slot;
		b->n = 0;
		b->min = min;
		b->max = max;
		b->sum = 0;
	}
	if (min < b->min)
		b->min = min;
	if (max > b->max)
		b->max = max;
	b->sum += sum;
	b->n += n;
}

void trend_sample(struct echan *ch, int64_t ts_ns, double v)
{
	int64_t slot;

	if (!ch->trend || ts_ns < 0 || !isfinite(v))
		return;
	slot = ts_ns / BUCKET_NS;
	if (slot > INT32_MAX)
		return;
	{
		const struct tbucket *b = bucket_at(ch->trend, slot);
		if (b && b->n == UINT32_MAX)
			return;
	}
	bucket_put(ch->trend, slot, 1, (float)v, (float)v, (float)v);
}

static void trend_copy(const struct etrend *t, int64_t first, struct engine_trend_series *out)
{
	out->present = 1;
	for (int i = 0; i < NB; i++) {
		const struct tbucket *b = bucket_at(t, first + i);
		struct engine_trend_bucket *o = &out->b[i];
		if (!b || !b->n || b->slot != first + i)
			continue;
		o->min = b->min;
		o->max = b->max;
		o->mean = b->sum / (float)b->n;
		o->n = b->n;
	}
}

int engine_room_trend(struct engine *e, const char *room, int64_t now_ns, struct engine_trend *out)
{
	struct eroom *r;
	int64_t last, first;

	if (!e)
		return -ESRCH;
	if (!room || !out || now_ns < 0)
		return -EINVAL;
	last = now_ns / BUCKET_NS;
	first = last - (NB - 1);
	if (first < 0)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	out->start_ns = first * BUCKET_NS;
	out->bucket_ns = BUCKET_NS;
	pthread_mutex_lock(&e->lock);
	r = lots_room_find(e, room);
	if (r) {
		out->lim = r->lim;
		for (int k = 0; k < ENGINE_TREND_N; k++) {
			const struct echan *ch = r->ch[trend_roles[k]];
			if (ch && ch->trend)
				trend_copy(ch->trend, first, &out->s[k]);
		}
	}
	pthread_mutex_unlock(&e->lock);
	return r ? 0 : -ENOENT;
}

/*
 * In the snapshot: "trend": {"CHANNEL": "SLOT N MIN MAX SUM;..."}, the
 * non-empty buckets, floats with 9 significant digits (a float's exact
 * round trip).  A text per channel rather than JSON numbers: cJSON prints
 * a float widened to double with 17 digits, and a day of a room would be
 * three times the size.  An older snapshot has no "trend": the rings
 * start empty.
 */
/* The non-empty buckets of every ring, packed: channel i's are
 * b[first[i]] .. b[first[i + 1] - 1].  A hub's 4,000 rings are 23 MB when
 * full and mostly empty for the first day: copying them whole at every
 * snapshot doubled their cost in the peak. */
struct trend_pending {
	size_t n;
	char **id;
	size_t *first;
	struct tbucket *b;
};

void trend_pending_free(struct trend_pending *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++)
		free(p->id[i]);
	free(p->id);
	free(p->first);
	free(p->b);
	free(p);
}

/*
 * Under the lock: the rings' non-empty buckets (20 bytes each).  For the
 * file (max > 0): NULL when the file they make would pass max bytes, so
 * that the last file written stays (a restart then has an older day, not
 * none) and no copy is made that the writer would refuse.  For a reload's
 * hand-over (max 0): every ring, whatever its size.
 */
struct trend_pending *trend_take(const struct engine *e, size_t max)
{
	struct trend_pending *p;
	size_t k = 0, nb = 0, ids = 0;

	for (size_t i = 0; i < e->nchans; i++) {
		const struct etrend *t = e->chans[i]->trend;
		if (!t)
			continue;
		k++;
		ids += strlen(e->chans[i]->id);
		for (int j = 0; j < NB; j++) {
			const struct tbucket *b = bucket_at(t, j);
			nb += b && b->n != 0;
		}
	}
	if (max && TF_SIZE(k, ids, nb) + 4 > max) { /* + the CRC */
		static int logged;
		if (!logged++)
			log_warn("state %s: the rooms' 24-hour trend (%zu %s of %zu %s) is past %zu bytes: not written, "
				 "the last file written stays (a restart starts the charts from it)",
				 TREND_FILE, nb, plural(nb, "bucket", "buckets"), k, plural(k, "channel", "channels"),
				 max);
		return NULL;
	}
	p = xcalloc(1, sizeof(*p));
	if (!k || !nb)
		return p;
	p->id = xcalloc(k, sizeof(*p->id));
	p->first = xcalloc(k + 1, sizeof(*p->first));
	p->b = xmalloc(nb * sizeof(*p->b));
	nb = 0;
	for (size_t i = 0; i < e->nchans; i++) {
		const struct etrend *t = e->chans[i]->trend;
		if (!t)
			continue;
		p->id[p->n] = xstrdup(e->chans[i]->id);
		p->first[p->n++] = nb;
		for (int j = 0; j < NB; j++) {
			const struct tbucket *b = bucket_at(t, j);
			if (b && b->n)
				p->b[nb++] = *b;
		}
	}
	p->first[p->n] = nb;
	return p;
}

/*
 * The rooms' day in state_dir/trend.state (TREND_FILE), apart from the
 * alarms and lots of engine.state: a hub's 4,000 rings after a day are 1.15
 * million buckets, which as engine.state's text were 50 MB and 1.2 s of CPU
 * at every snapshot (then left out: past the file's limit), so a restart
 * started the charts empty anyway.  Binary, 23 MB for that hub, written
 * every TREND_SAVE_MS and at a stop, sealed with a CRC-32 (state.h):
 *   "CCTREND1", u32 bucket seconds, u32 buckets per ring, u32 channels,
 *   then per channel: u16 id length, the id, u32 buckets, and its buckets
 *   as i32 slot, u32 n, f32 min, max, sum
 * (little-endian; floats as IEEE 754 bits).  A file of another bucket size
 * or ring length, or damaged, is not read: the charts start empty.
 */
static const char tf_magic[8] = { 'C', 'C', 'T', 'R', 'E', 'N', 'D', '1' };

static uint8_t *put_u32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		*p++ = (uint8_t)(v >> (8 * i));
	return p;
}

static uint32_t get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint32_t f32_bits(float f)
{
	uint32_t u;

	memcpy(&u, &f, sizeof(u));
	return u;
}

static float bits_f32(uint32_t u)
{
	float f;

	memcpy(&f, &u, sizeof(f));
	return f;
}

int trend_write(const char *dir, struct trend_pending *p)
{
	size_t ids = 0, len;
	uint8_t *buf, *w;
	int rc;

	for (size_t i = 0; i < p->n; i++)
		ids += strlen(p->id[i]);
	w = buf = xmalloc(TF_SIZE(p->n, ids, p->first ? p->first[p->n] : 0)); /* no rings: no first[] */
	memcpy(w, tf_magic, 8);
	w = put_u32(w + 8, ENGINE_TREND_BUCKET_S);
	w = put_u32(w, NB);
	w = put_u32(w, (uint32_t)p->n);
	for (size_t i = 0; i < p->n; i++) {
		size_t idl = strlen(p->id[i]);
		if (idl > UINT16_MAX)
			idl = 0; /* never: ids are short; such a ring is read as unknown */
		*w++ = (uint8_t)idl;
		*w++ = (uint8_t)(idl >> 8);
		memcpy(w, p->id[i], idl);
		w = put_u32(w + idl, (uint32_t)(p->first[i + 1] - p->first[i]));
		for (size_t j = p->first[i]; j < p->first[i + 1]; j++) {
			const struct tbucket *b = &p->b[j];
			w = put_u32(w, (uint32_t)b->slot);
			w = put_u32(w, b->n);
			w = put_u32(w, f32_bits(b->min));
			w = put_u32(w, f32_bits(b->max));
			w = put_u32(w, f32_bits(b->sum));
		}
	}
	len = (size_t)(w - buf);
	rc = state_write_sealed(dir, TREND_FILE, buf, len);
	free(buf);
	trend_pending_free(p);
	return rc;
}

/* One ring of the file at *pp (end: the data's end) into its channel's
 * ring; counts its buckets into *ok and *bad.  -1 when the file ends
 * inside it. */
static int tf_ring(struct engine *e, const uint8_t **pp, const uint8_t *end, size_t *ok, size_t *bad)
{
	const uint8_t *p = *pp;
	size_t idl, nb;
	char small[256], *id = small; /* a longer id (up to 65,535 bytes) on the heap */
	struct echan *ch;

	if (end - p < 2)
		return -1;
	idl = (size_t)p[0] | (size_t)p[1] << 8;
	p += 2;
	if ((size_t)(end - p) < idl + 4)
		return -1;
	nb = get_u32(p + idl);
	if (nb > (size_t)(end - p - idl - 4) / TF_BUCKET)
		return -1;
	if (idl >= sizeof(small))
		id = xmalloc(idl + 1);
	memcpy(id, p, idl);
	id[idl] = '\0';
	p += idl + 4;
	ch = build_chan_find(e, id);
	if (id != small)
		free(id);
	for (size_t j = 0; j < nb; j++, p += TF_BUCKET) {
		int64_t slot = (int32_t)get_u32(p);
		uint32_t n = get_u32(p + 4);
		float min = bits_f32(get_u32(p + 8)), max = bits_f32(get_u32(p + 12)), sum = bits_f32(get_u32(p + 16));
		if (!ch || !ch->trend)
			continue; /* a channel no longer in a room: its day is let go */
		if (slot < 0 || n == 0 || !isfinite(min) || !isfinite(max) || !isfinite(sum) || min > max) {
			(*bad)++;
			continue;
		}
		bucket_put(ch->trend, slot, n, min, max, sum);
		(*ok)++;
	}
	*pp = p;
	return 0;
}

long trend_read(struct engine *e, const uint8_t *buf, size_t len, size_t *bad)
{
	const uint8_t *p = buf, *end = buf + len;
	size_t ok = 0, nch;

	*bad = 0;
	if (len < TF_HEAD || memcmp(p, tf_magic, 8) != 0 || get_u32(p + 8) != ENGINE_TREND_BUCKET_S ||
	    get_u32(p + 12) != NB)
		return -EINVAL;
	nch = get_u32(p + 16);
	p += TF_HEAD;
	for (size_t i = 0; i < nch; i++)
		if (tf_ring(e, &p, end, &ok, bad) < 0) {
			(*bad)++;
			break;
		}
	return (long)ok;
}

long trend_load(struct engine *e)
{
	char *buf = NULL;
	size_t len = 0, bad = 0;
	long ok;
	int rc = state_read_sealed(e->cfg->state_dir, TREND_FILE, &buf, &len);

	if (rc == -ENOENT)
		return rc;
	if (rc < 0) {
		log_warn("state %s/%s: %s: the rooms' charts start empty", e->cfg->state_dir, TREND_FILE,
			 rc == -EBADMSG ? "damaged (its checksum does not match)" : strerror(-rc));
		return rc;
	}
	ok = trend_read(e, (const uint8_t *)buf, len, &bad);
	free(buf);
	if (ok < 0) {
		log_warn("state %s/%s: not a trend file of this release (rings of %d %d-second buckets): the rooms' "
			 "charts start empty", e->cfg->state_dir, TREND_FILE, NB, ENGINE_TREND_BUCKET_S);
		return ok;
	}
	if (bad)
		log_warn("state %s/%s: %zu malformed %s skipped", e->cfg->state_dir, TREND_FILE, bad,
			 plural(bad, "bucket", "buckets"));
	log_info("state %s/%s: restored %ld trend %s", e->cfg->state_dir, TREND_FILE, ok,
		 plural((size_t)ok, "bucket", "buckets"));
	return ok;
}

/* One channel's text into its ring: the number of well-formed buckets;
 * *bad counts the others (skipped: the state file is external input). */
static size_t trend_parse(struct etrend *t, const char *s, size_t *bad)
{
	size_t ok = 0;

	while (*s) {
		long long slot;
		unsigned long n;
		float min, max, sum;
		int used = 0;
		if (sscanf(s, "%lld %lu %g %g %g%n", &slot, &n, &min, &max, &sum, &used) != 5 || used <= 0) {
			(*bad)++;
			return ok;
		}
		s += used;
		if (*s == ';')
			s++;
		if (slot < 0 || slot > INT32_MAX || n == 0 || n > UINT32_MAX || !isfinite(min) || !isfinite(max) ||
		    !isfinite(sum) || min > max) {
			(*bad)++;
			continue;
		}
		bucket_put(t, slot, (uint32_t)n, min, max, sum);
		ok++;
	}
	return ok;
}

/* A reload's hand-over: the rings' buckets p took from the old engine into
 * this one's rings of the same channel ids (no text); frees p.  The
 * number of buckets restored. */
size_t trend_restore_pending(struct engine *e, struct trend_pending *p)
{
	size_t ok = 0;

	for (size_t i = 0; p && i < p->n; i++) {
		struct echan *ch = build_chan_find(e, p->id[i]);
		if (!ch || !ch->trend)
			continue; /* a channel no longer in a room: its day is let go */
		for (size_t j = p->first[i]; j < p->first[i + 1]; j++) {
			const struct tbucket *b = &p->b[j];
			bucket_put(ch->trend, b->slot, b->n, b->min, b->max, b->sum);
			ok++;
		}
	}
	trend_pending_free(p);
	return ok;
}

size_t trend_restore(struct engine *e, const cJSON *root)
{
	const cJSON *o = cJSON_GetObjectItemCaseSensitive(root, "trend"), *x;
	size_t ok = 0, bad = 0;

	if (!cJSON_IsObject(o))
		return 0;
	cJSON_ArrayForEach(x, o)
	{
		struct echan *ch = x->string ? build_chan_find(e, x->string) : NULL;
		if (!ch || !ch->trend || !cJSON_IsString(x))
			continue; /* a channel no longer in a room: its day is let go */
		ok += trend_parse(ch->trend, x->valuestring, &bad);
	}
	if (bad)
		log_warn("state %s/%s: trend: %zu malformed buckets skipped", e->cfg->state_dir, STATE_FILE, bad);
	return ok;
}
