/* snapshot.c - the engine's state file (state_dir/engine.state): alarms
 * and lots as JSON, taken under the lock and written without it, and
 * restored when the engine is built. */
#include "engine_int.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../log.h"
#include "../state.h"
#include "../util.h"

static char *snapshot(struct engine *e, int64_t now_ms)
{
	cJSON *o = cJSON_CreateObject(), *al = cJSON_AddArrayToObject(o, "alarms"), *lots;
	char *js;

	cJSON_AddNumberToObject(o, "version", STATE_VERSION);
	cJSON_AddNumberToObject(o, "saved_ms", (double)now_ms);
	for (size_t i = 0; i < e->nalarms; i++) {
		const struct alarm *a = &e->alarms[i]->a;
		cJSON *x;
		/* an alarm that is inactive, quiet and unshelved has nothing to keep */
		if (!a->active && a->acked && !a->cond && !a->shelved_until_ms)
			continue;
		x = cJSON_CreateObject();
		cJSON_AddStringToObject(x, "id", e->alarms[i]->id);
		cJSON_AddNumberToObject(x, "cond", a->cond);
		cJSON_AddNumberToObject(x, "cond_since", (double)a->cond_since_ms);
		cJSON_AddNumberToObject(x, "active", a->active);
		cJSON_AddNumberToObject(x, "acked", a->acked);
		cJSON_AddNumberToObject(x, "held", a->held);
		cJSON_AddNumberToObject(x, "escalated", a->escalated);
		cJSON_AddNumberToObject(x, "active_since", (double)a->active_since_ms);
		cJSON_AddNumberToObject(x, "shelved_until", (double)a->shelved_until_ms);
		cJSON_AddNumberToObject(x, "last_notify", (double)a->last_notify_ms);
		cJSON_AddNumberToObject(x, "sev", a->sev);
		cJSON_AddNumberToObject(x, "pending", a->pending);
		cJSON_AddNumberToObject(x, "notified", (double)a->notified_ms);
		if (isfinite(a->value))
			cJSON_AddNumberToObject(x, "value", a->value);
		cJSON_AddItemToArray(al, x);
	}
	lots = cJSON_AddArrayToObject(o, "lots");
	for (size_t i = 0; i < e->nrooms; i++)
		for (size_t j = 0; j < e->rooms[i].nlots; j++) {
			const struct elot *l = &e->rooms[i].lots[j];
			const struct lot_state *s = &l->s;
			cJSON *x = cJSON_CreateObject();
			cJSON_AddStringToObject(x, "id", l->lc->id);
			cJSON_AddStringToObject(x, "room", e->rooms[i].rc->name);
			cJSON_AddNumberToObject(x, "last_ts_ns", (double)s->last_ts_ns);
#define NUM(f)                                                   \
	do {                                                     \
		if (isfinite(s->f))                              \
			cJSON_AddNumberToObject(x, #f, s->f);    \
	} while (0)
			NUM(last_air_c);
			NUM(last_rh);
			NUM(product_c);
			NUM(consumed);
			NUM(mkt_sum_w);
			NUM(mkt_sum_t);
			NUM(degree_h);
			NUM(chill_h);
			NUM(weight_loss);
			NUM(observed_h);
			NUM(no_data_h);
#undef NUM
			cJSON_AddNumberToObject(x, "gaps", s->gaps);
			cJSON_AddItemToArray(lots, x);
		}
	lots_layout_save(e, lots, o);
	js = cJSON_Print(o);
	cJSON_Delete(o);
	return js;
}

double snapshot_num(const cJSON *o, const char *k, double def)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsNumber(v) ? v->valuedouble : def;
}

/* The saved alarms whose id the engine still has. */
static size_t restore_alarms(struct engine *e, const cJSON *o)
{
	const cJSON *x;
	size_t n = 0;

	cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(o, "alarms"))
	{
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(x, "id");
		if (!cJSON_IsString(id))
			continue;
		for (size_t i = 0; i < e->nalarms; i++) {
			struct alarm *a = &e->alarms[i]->a;
			double sev;
			if (strcmp(e->alarms[i]->id, id->valuestring) != 0)
				continue;
			a->cond = snapshot_num(x, "cond", 0) != 0;
			a->cond_since_ms = (int64_t)snapshot_num(x, "cond_since", 0);
			a->active = snapshot_num(x, "active", 0) != 0;
			a->acked = snapshot_num(x, "acked", 1) != 0;
			a->held = snapshot_num(x, "held", 0) != 0;
			a->escalated = snapshot_num(x, "escalated", 0) != 0;
			a->active_since_ms = (int64_t)snapshot_num(x, "active_since", 0);
			a->shelved_until_ms = (int64_t)snapshot_num(x, "shelved_until", 0);
			a->last_notify_ms = (int64_t)snapshot_num(x, "last_notify", 0);
			a->pending = snapshot_num(x, "pending", 0) != 0;
			a->notified_ms = (int64_t)snapshot_num(x, "notified", (double)a->active_since_ms);
			sev = snapshot_num(x, "sev", a->c.severity);
			a->sev = sev >= ALARM_SEV_INFO && sev <= ALARM_SEV_CRITICAL ? (enum alarm_severity)sev : a->c.severity;
			a->value = snapshot_num(x, "value", NAN);
			if (a->active)
				log_info("alarm %s: restored %s (active since %" PRId64 " ms)", e->alarms[i]->id,
					 alarm_state_name(alarm_state(a)), a->active_since_ms);
			n++;
		}
	}
	return n;
}

static void restore_lot_state(struct lot_state *s, const cJSON *x)
{
	s->last_ts_ns = (int64_t)snapshot_num(x, "last_ts_ns", 0);
	s->last_air_c = snapshot_num(x, "last_air_c", NAN);
	s->last_rh = snapshot_num(x, "last_rh", NAN);
	s->product_c = snapshot_num(x, "product_c", NAN);
	s->consumed = snapshot_num(x, "consumed", 0);
	s->mkt_sum_w = snapshot_num(x, "mkt_sum_w", 0);
	s->mkt_sum_t = snapshot_num(x, "mkt_sum_t", 0);
	s->degree_h = snapshot_num(x, "degree_h", 0);
	s->chill_h = snapshot_num(x, "chill_h", 0);
	s->weight_loss = snapshot_num(x, "weight_loss", 0);
	s->observed_h = snapshot_num(x, "observed_h", 0);
	s->no_data_h = snapshot_num(x, "no_data_h", 0);
	s->gaps = (uint32_t)snapshot_num(x, "gaps", 0);
}

/* The saved lots the engine still has, by lot id alone: a lot moved to
 * another room keeps its history. */
static size_t restore_lots(struct engine *e, const cJSON *o)
{
	const cJSON *x;
	size_t n = 0;

	cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(o, "lots"))
	{
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(x, "id");
		if (!cJSON_IsString(id))
			continue;
		for (size_t i = 0; i < e->nrooms; i++)
			for (size_t j = 0; j < e->rooms[i].nlots; j++) {
				if (strcmp(e->rooms[i].lots[j].lc->id, id->valuestring) != 0)
					continue;
				restore_lot_state(&e->rooms[i].lots[j].s, x);
				n++;
			}
	}
	return n;
}

void snapshot_restore(struct engine *e)
{
	char *buf = NULL;
	size_t len = 0, nal, nlot;
	cJSON *o;
	int rc = state_read(e->cfg->state_dir, STATE_FILE, &buf, &len);

	if (rc == -ENOENT)
		return;
	if (rc < 0) {
		log_warn("state %s/%s: %s: alarms and lots start afresh", e->cfg->state_dir, STATE_FILE, strerror(-rc));
		return;
	}
	o = cJSON_ParseWithLength(buf, len);
	free(buf);
	if (!o || snapshot_num(o, "version", 0) != STATE_VERSION) {
		log_warn("state %s/%s: not a version %d snapshot: alarms and lots start afresh", e->cfg->state_dir,
			 STATE_FILE, STATE_VERSION);
		cJSON_Delete(o);
		return;
	}
	lots_layout_restore(e, o); /* runtime lots first: their alarms are restored next */
	nal = restore_alarms(e, o);
	nlot = restore_lots(e, o);
	cJSON_Delete(o);
	log_info("state %s/%s: restored %zu alarms, %zu lots", e->cfg->state_dir, STATE_FILE, nal, nlot);
}

/*
 * The snapshot is built under e->lock (snapshot_take) and written with the lock
 * released (snapshot_write): a write costs two fsyncs, and a slow state disk
 * must never hold up the source threads waiting in engine_process() (a
 * broker with a small per-client queue drops QoS 1 messages for a client
 * that stops reading).  Only the newest snapshot waits in pending_js; one
 * writer at a time (save_lock) takes it, so an older snapshot never
 * overwrites a newer one.
 */
/* Under e->lock. */
void snapshot_take(struct engine *e, int64_t now_ms)
{
	char *js = snapshot(e, now_ms);

	if (!js)
		return;
	if (e->pending_js) /* superseded before it was written */
		cJSON_free(e->pending_js);
	free(e->pending_dir);
	e->pending_js = js;
	e->pending_dir = xstrdup(e->cfg->state_dir);
	e->dirty = 0; /* set again if the write fails */
}

/* Without e->lock: writes the newest snapshot taken, if any. */
void snapshot_write(struct engine *e)
{
	char *js, *dir;
	int rc;

	pthread_mutex_lock(&e->save_lock);
	pthread_mutex_lock(&e->lock);
	js = e->pending_js;
	dir = e->pending_dir;
	e->pending_js = e->pending_dir = NULL;
	pthread_mutex_unlock(&e->lock);
	if (!js) {
		pthread_mutex_unlock(&e->save_lock);
		return;
	}
	rc = state_write(dir, STATE_FILE, js, strlen(js));
	pthread_mutex_unlock(&e->save_lock);
	if (rc < 0) {
		static struct log_rl rl;
		uint32_t more;
		pthread_mutex_lock(&e->lock);
		e->dirty = 1; /* the next tick tries again */
		pthread_mutex_unlock(&e->lock);
		if (log_rl_allow(&rl, 60000, &more))
			log_err("state %s/%s: cannot write: %s (%u more)", dir, STATE_FILE, strerror(-rc), more);
	}
	cJSON_free(js);
	free(dir);
}
