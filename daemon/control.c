/* control.c - the control socket coldchainctl talks to: a UNIX stream
 * socket, line-delimited JSON, served from the main thread's ppoll loop.
 * Every descriptor is non-blocking and every buffer bounded, so a slow or
 * hostile client costs a slot and some memory, never the daemon's time. */
#include "control.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "../codec/jsonw.h"
#include "../codec/payload.h"
#include "engine.h"
#include "log.h"
#include "runfile.h"
#include "util.h"

#define OUT_MAX CONTROL_MAX_REPLY /* replies a client has not read: past it, it is dropped */
#define IDLE_MS (10 * 60 * 1000) /* an idle connection is closed */
#define USER_MAX 64
#define NOTE_MAX 1024

struct client {
	int fd;
	char user[USER_MAX + 1];
	char in[CONTROL_MAX_REQUEST];
	size_t inlen;
	char *out;
	size_t outlen, outcap;
	int waiting_reload; /* a reload reply is owed */
	int waiting_notify; /* a notify test's reply is owed (its worker runs) */
	int closing;        /* close once out is written */
	int64_t last_ms;
	long uid;           /* the peer's, -1 when unknown */
};

struct control {
	int fd;
	char *path;
	const struct cc_config *cfg;
	struct engine *engine; /* NULL: commands that need it answer "unavailable" */
	struct client *cl[CONTROL_MAX_CLIENTS];
	int reload_wanted;
	int64_t start_ms;
	struct log_rl evict_rl, refuse_rl; /* a flood of connections is one line a minute */
	char *runfile;   /* the runtime file written for cfg (runfile.h), NULL: none */
	uid_t owner_uid; /* the socket's owner and group: the runtime file's too */
	gid_t gid;
};

#define FULL_LOG_MS 60000
#define WAITING(k) ((k)->waiting_reload || (k)->waiting_notify)

/* --- replies ------------------------------------------------------------- */

/* The length of the valid UTF-8 sequence at p (no overlongs, surrogates
 * or code points past U+10FFFF), 0 when p does not start one.  NUL is
 * valid here (the caller decides). */
static size_t utf8_seq(const unsigned char *p, size_t left)
{
	uint32_t cp;
	size_t k;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		k = 1, cp = p[0] & 0x1fu;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		k = 2, cp = p[0] & 0x0fu;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		k = 3, cp = p[0] & 0x07u;
	else
		return 0;
	if (left <= k)
		return 0;
	for (size_t i = 1; i <= k; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3fu);
	}
	if ((k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return k + 1;
}

/* The offset of the first byte of p[0..n) that is not valid UTF-8 (or is
 * NUL), or n. */
static size_t utf8_first_bad(const char *p, size_t n)
{
	size_t i = 0, k;

	while (i < n && p[i] && (k = utf8_seq((const unsigned char *)p + i, n - i)) > 0)
		i += k;
	return i;
}

/* Every reply is valid UTF-8: requests that are not are refused, but names
 * from the configuration (libconfig takes any bytes) and messages cut at a
 * byte count reach replies too.  cJSON writes bytes >= 0x80 as they are,
 * and only inside strings (never after an unescaped backslash), so each
 * invalid byte becomes the escape \ufffd (U+FFFD) there. */
static char *reply_utf8(char *s)
{
	size_t n = strlen(s), bad = utf8_first_bad(s, n), o = 0;
	char *t;

	if (bad == n)
		return s;
	t = cJSON_malloc(bad + (n - bad) * 6 + 1);
	if (!t) {
		cJSON_free(s);
		return NULL;
	}
	memcpy(t, s, bad);
	o = bad;
	for (size_t i = bad; i < n;) {
		size_t k = utf8_seq((const unsigned char *)s + i, n - i);
		if (k) {
			memcpy(t + o, s + i, k);
			o += k;
			i += k;
		} else {
			memcpy(t + o, "\\ufffd", 6);
			o += 6;
			i++;
		}
	}
	t[o] = '\0';
	cJSON_free(s);
	return t;
}

static char *reply_take(cJSON *o)
{
	char *s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (s)
		s = reply_utf8(s);
	return s ? s : xstrdup("{\"ok\":false,\"error\":\"out of memory\",\"code\":\"internal\"}");
}

/* A successful reply names the site's zone (the root key timezone):
 * coldchainctl shows the reply's times in it. */
static char *reply_take_zoned(cJSON *o, const struct cc_config *cfg)
{
	if (cfg && cfg->timezone && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "ok")))
		cJSON_AddStringToObject(o, "timezone", cfg->timezone);
	return reply_take(o);
}

/* 1 when a JSON string in the (parsed, so well-formed) text p[0..n) holds
 * the escape \u0000: cJSON would end the C string there and the rest of
 * the value would be lost without a word. */
static int has_nul_escape(const char *p, size_t n)
{
	int in_str = 0;

	for (size_t i = 0; i < n; i++) {
		if (p[i] == '"') {
			in_str = !in_str;
		} else if (in_str && p[i] == '\\' && i + 1 < n) {
			if (p[i + 1] == 'u' && i + 5 < n && memcmp(p + i + 2, "0000", 4) == 0)
				return 1;
			i++; /* the escaped character */
		}
	}
	return 0;
}

/* code: bad_request, not_found, refused, unavailable */
static cJSON *err_new(const char *code, const char *hint, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static cJSON *err_new(const char *code, const char *hint, const char *fmt, ...)
{
	cJSON *o = cJSON_CreateObject();
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cJSON_AddBoolToObject(o, "ok", 0);
	cJSON_AddStringToObject(o, "error", msg);
	cJSON_AddStringToObject(o, "code", code);
	if (hint)
		cJSON_AddStringToObject(o, "hint", hint);
	return o;
}

static cJSON *ok_new(void)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddBoolToObject(o, "ok", 1);
	return o;
}

/* "rooms: A, B" and the list itself under key */
static void hint_list(cJSON *o, const char *key, const char *what, const char *const *names, size_t n)
{
	cJSON *arr = cJSON_AddArrayToObject(o, key);
	size_t len = strlen(what) + 3, off;
	char *h;

	for (size_t i = 0; i < n; i++)
		len += strlen(names[i]) + 2;
	h = xmalloc(len + 8);
	off = (size_t)snprintf(h, len, "%s: ", what);
	for (size_t i = 0; i < n; i++) {
		cJSON_AddItemToArray(arr, cJSON_CreateString(names[i]));
		off += (size_t)snprintf(h + off, len + 8 - off, "%s%s", i ? ", " : "", names[i]);
	}
	if (!n)
		snprintf(h + off, len + 8 - off, "(none)");
	cJSON_DeleteItemFromObjectCaseSensitive(o, "hint");
	cJSON_AddStringToObject(o, "hint", h);
	free(h);
}

/* Past HINT_MAX names (a hub's 2,000 rooms, 10,000 lots) a hint lists the
 * HINT_MAX nearest to what was asked (edit distance; ties in the given
 * order), nearest first, and says of how many: a typo's reply is read by a
 * person and was 100 KB.  No name asked (NULL) is as far from each as "". */
#define HINT_MAX 20
struct near {
	size_t d, i;
};

static void hint_near(cJSON *o, const char *key, const char *what, const char *const *names, size_t n,
		      const char *wanted)
{
	struct near best[HINT_MAX];
	const char *v[HINT_MAX];
	size_t nb = 0, lw;
	char label[128];

	if (!wanted)
		wanted = "";
	lw = strlen(wanted);
	if (n <= HINT_MAX) {
		hint_list(o, key, what, names, n);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		size_t ln = strlen(names[i]), k, d;
		/* the lengths' difference is a lower bound: most names need no table */
		if (nb == HINT_MAX && (ln > lw ? ln - lw : lw - ln) >= best[nb - 1].d)
			continue;
		d = edit_distance(wanted, names[i]);
		if (nb == HINT_MAX && d >= best[nb - 1].d)
			continue;
		k = nb < HINT_MAX ? nb++ : nb - 1;
		for (; k > 0 && best[k - 1].d > d; k--)
			best[k] = best[k - 1];
		best[k] = (struct near){ d, i };
	}
	for (size_t k = 0; k < nb; k++)
		v[k] = names[best[k].i];
	snprintf(label, sizeof(label), "%s (the %d nearest of %zu)", what, HINT_MAX, n);
	hint_list(o, key, label, v, nb);
	cJSON_AddNumberToObject(o, "hint_total", (double)n);
}

static void hint_rooms(cJSON *o, const struct cc_config *cfg, const char *wanted)
{
	const char **v;
	if (!cfg)
		return;
	v = xcalloc(cfg->nrooms + 1, sizeof(*v));
	for (size_t i = 0; i < cfg->nrooms; i++)
		v[i] = cfg->rooms[i].name;
	hint_near(o, "rooms", "rooms", v, cfg->nrooms, wanted);
	free(v);
}

static void hint_profiles(cJSON *o, const struct cc_config *cfg, const char *wanted)
{
	const char **v;
	if (!cfg)
		return;
	v = xcalloc(cfg->nprofiles + 1, sizeof(*v));
	for (size_t i = 0; i < cfg->nprofiles; i++)
		v[i] = cfg->profiles[i].name;
	hint_near(o, "profiles", "profiles", v, cfg->nprofiles, wanted);
	free(v);
}

/* The listed alarms' ids, or the lots', from the engine (engine_ids: only
 * the ids are copied under its lock). */
static void hint_ids(struct engine *eng, cJSON *o, int lots, const char *wanted)
{
	struct engine_ids ids;

	if (engine_ids(eng, lots, &ids) < 0)
		return;
	hint_near(o, lots ? "lots" : "alarms", lots ? "lots" : "active alarms", (const char *const *)ids.v, ids.n,
		  wanted);
	engine_ids_free(&ids);
}

/* --- requests ------------------------------------------------------------ */

static const char *str_arg(const cJSON *req, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(req, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* A name from the wire: non-empty, bounded, printable, no '/' trickery
 * needed here (ids are looked up, never used as paths). */
static int name_ok(const char *s, size_t max)
{
	size_t n = 0;
	if (!s || !*s)
		return 0;
	for (; *s; s++, n++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f || n >= max)
			return 0;
	return 1;
}

static cJSON *need(const cJSON *req, const char *key, const char **out, size_t max)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(req, key);
	if (!v)
		return err_new("bad_request", NULL, "missing \"%s\"", key);
	if (!cJSON_IsString(v) || !name_ok(v->valuestring, max))
		return err_new("bad_request", NULL, "\"%s\" must be a non-empty string of at most %zu printable bytes",
			       key, max);
	*out = v->valuestring;
	return NULL;
}

static cJSON *opt_note(const cJSON *req, const char **note)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(req, "note");
	*note = NULL;
	if (!v || cJSON_IsNull(v))
		return NULL;
	if (!cJSON_IsString(v) || strlen(v->valuestring) > NOTE_MAX)
		return err_new("bad_request", NULL, "\"note\" must be a string of at most %d bytes", NOTE_MAX);
	*note = v->valuestring;
	return NULL;
}

static cJSON *alarm_op(struct engine *eng, const cJSON *req, const char *cmd, const char *user)
{
	const char *id = NULL, *note = NULL, *dur = NULL;
	int64_t dur_ms = 0;
	cJSON *e;
	int rc;

	if ((e = need(req, "id", &id, 512)) || (e = opt_note(req, &note)))
		return e;
	if (strcmp(cmd, "shelve") == 0) {
		if ((e = need(req, "duration", &dur, 32)))
			return e;
		if (parse_duration_ms(dur, &dur_ms) < 0 || dur_ms <= 0)
			return err_new("bad_request", "durations look like 90s, 30m, 8h, 1d",
				       "bad duration \"%s\"", dur);
		rc = engine_shelve(eng, id, dur_ms, user, note);
	} else if (strcmp(cmd, "ack") == 0) {
		rc = engine_ack(eng, id, user, note);
	} else if (strcmp(cmd, "unshelve") == 0) {
		rc = engine_unshelve(eng, id, user, note);
	} else {
		rc = engine_reset(eng, id, user, note);
	}
	switch (rc) {
	case 0: {
		cJSON *o = ok_new();
		const char *st = engine_alarm_state(eng, id);
		cJSON_AddStringToObject(o, "id", id);
		cJSON_AddStringToObject(o, "state", st ? st : "unknown");
		cJSON_AddStringToObject(o, "user", user);
		log_info("control: %s %s by %s", cmd, id, user);
		return o;
	}
	case -ENOENT:
		e = err_new("not_found", NULL, "no alarm \"%s\"", id);
		hint_ids(eng, e, 0, id);
		return e;
	case -EALREADY:
		return err_new("refused", NULL, "alarm %s: %s", id,
			       strcmp(cmd, "ack") == 0	    ? "nothing to acknowledge"
			       : strcmp(cmd, "unshelve") == 0 ? "not shelved"
							      : "nothing to do");
	case -EBUSY: return err_new("refused", NULL, "alarm %s: the condition still holds; reset refused", id);
	case -ESRCH: return err_new("unavailable", NULL, "the alarm engine is not running (reload in progress?)");
	default: return err_new("bad_request", NULL, "alarm %s: %s", id, strerror(-rc));
	}
}

/* Without a configuration the engine decides. */
static int room_known(const struct cc_config *cfg, const char *room)
{
	return !cfg || config_find_room(cfg, room);
}

static int profile_known(const struct cc_config *cfg, const char *p)
{
	return !cfg || config_find_profile(cfg, p);
}

static cJSON *lot_op(struct engine *eng, const struct cc_config *cfg, const cJSON *req, const char *cmd, const char *user)
{
	const char *room = NULL, *lot = NULL, *product = NULL, *at;
	int64_t at_ns = time_now_ns();
	cJSON *e, *o;
	int rc;

	if ((e = need(req, "lot", &lot, 128)))
		return e;
	if (strcmp(cmd, "lot_unload") != 0 && (e = need(req, "room", &room, 128)))
		return e;
	if (room && !room_known(cfg, room)) {
		e = err_new("not_found", NULL, "unknown room \"%s\"", room);
		hint_rooms(e, cfg, room);
		return e;
	}
	if (strcmp(cmd, "lot_load") == 0) {
		if ((e = need(req, "product", &product, 128)))
			return e;
		if (!profile_known(cfg, product)) {
			e = err_new("not_found", NULL, "unknown product \"%s\" (no such profile)", product);
			hint_profiles(e, cfg, product);
			return e;
		}
		if ((at = str_arg(req, "at")) != NULL) {
			const char *why = NULL;
			if (payload_rfc3339_ns(at, strlen(at), &at_ns, &why) < 0)
				return err_new("bad_request", "times look like 2026-06-12T08:00:00+07:00",
					       "bad time \"%s\": %s", at, why ? why : "not RFC 3339");
			if (at_ns > time_now_ns() + 60 * 1000000000LL)
				return err_new("bad_request", NULL, "load time %s is in the future", at);
		} else if (cJSON_GetObjectItemCaseSensitive(req, "at")) {
			return err_new("bad_request", NULL, "\"at\" must be an RFC 3339 string");
		}
		rc = engine_lot_load(eng, room, lot, product, at_ns, user);
	} else if (strcmp(cmd, "lot_unload") == 0) {
		rc = engine_lot_unload(eng, lot, user);
	} else {
		rc = engine_lot_move(eng, lot, room, user);
	}
	switch (rc) {
	case 0:
		o = ok_new();
		cJSON_AddStringToObject(o, "lot", lot);
		if (room)
			cJSON_AddStringToObject(o, "room", room);
		cJSON_AddStringToObject(o, "user", user);
		return o;
	case -EEXIST: return err_new("refused", NULL, "lot %s is already loaded (lot ids are unique)", lot);
	case -EALREADY: return err_new("refused", NULL, "lot %s is already in room %s", lot, room);
	case -ENOSPC: return err_new("refused", "unload lots that have left", "lot %s: too many lots loaded", lot);
	case -ENOENT:
		if (strcmp(cmd, "lot_load") == 0) {
			e = err_new("not_found", NULL, "unknown room \"%s\" or product \"%s\"", room, product);
			hint_rooms(e, cfg, room);
		} else {
			e = err_new("not_found", NULL, "no lot \"%s\"", lot);
			hint_ids(eng, e, 1, lot);
		}
		return e;
	case -ESRCH: return err_new("unavailable", NULL, "the engine is not running (reload in progress?)");
	default: return err_new("bad_request", NULL, "lot %s: %s", lot, strerror(-rc));
	}
}

/* An optional RFC 3339 time of the request (key), into *ns; NULL or the
 * error reply (a time ahead of now only when future_ok). */
static cJSON *opt_time(const cJSON *req, const char *key, int64_t *ns, int future_ok)
{
	const char *t = str_arg(req, key), *why = NULL;

	if (!t && !cJSON_GetObjectItemCaseSensitive(req, key))
		return NULL;
	if (!t)
		return err_new("bad_request", NULL, "\"%s\" must be an RFC 3339 string", key);
	if (payload_rfc3339_ns(t, strlen(t), ns, &why) < 0)
		return err_new("bad_request", "times look like 2026-06-12T08:00:00+07:00", "bad %s time \"%s\": %s", key,
			       t, why ? why : "not RFC 3339");
	if (!future_ok && *ns > time_now_ns() + 60 * 1000000000LL)
		return err_new("bad_request", NULL, "%s time %s is in the future", key, t);
	return NULL;
}

/* "weight" (kg, a positive number): required for a carcass-chilling line
 * (pc NULL: the engine decides). */
static cJSON *opt_weight(const cJSON *req, const struct cc_process_conf *pc, double *kg)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(req, "weight");

	if (!v) {
		if (pc && pc->kind == CC_PROCESS_CARCASS_CHILL)
			return err_new("bad_request", "coldchainctl batch start ... --weight KG",
				       "a carcass-chilling batch needs \"weight\": the heaviest carcass, kg");
		return NULL;
	}
	if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || v->valuedouble <= 0 || v->valuedouble > 10000)
		return err_new("bad_request", NULL, "\"weight\" must be a number of kg above 0 and at most 10000");
	*kg = v->valuedouble;
	return NULL;
}

/* An optional number key in [lo, hi] that only a line of kind `kind`
 * takes (pc NULL: the engine decides). */
static cJSON *opt_kind_num(const cJSON *req, const char *key, const struct cc_process_conf *pc, int kind, double lo,
			  double hi, double *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(req, key);

	if (!v)
		return NULL;
	if (pc && pc->kind != kind)
		return err_new("bad_request", NULL, "\"%s\" is for %s batches, process %s does %s", key,
			       config_process_kind_name(kind), pc->name, config_process_kind_name(pc->kind));
	if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || v->valuedouble < lo || v->valuedouble > hi)
		return err_new("bad_request", NULL, "\"%s\" must be a number from %g to %g", key, lo, hi);
	*out = v->valuedouble;
	return NULL;
}

static cJSON *batch_reply(struct engine *eng, const char *batch, const char *user)
{
	cJSON *o = ok_new(), *st = engine_batch_status_json(eng, batch);

	cJSON_AddStringToObject(o, "batch", batch);
	cJSON_AddStringToObject(o, "user", user);
	if (st)
		cJSON_AddItemToObject(o, "status", st);
	return o;
}

/* batch_start: a known process, a known profile of its kind. */
static cJSON *batch_start(struct engine *eng, const struct cc_config *cfg, const cJSON *req, const char *batch,
			  const char *user)
{
	const char *proc = NULL, *prof = NULL;
	const struct cc_process_conf *pc = NULL;
	const struct cc_process_profile *pp = NULL;
	struct engine_batch_opts o;
	cJSON *e;
	int rc;

	engine_batch_opts_init(&o, time_now_ns());
	if ((e = need(req, "process", &proc, 128)) || (e = need(req, "profile", &prof, 128)) ||
	    (e = opt_time(req, "start", &o.start_ns, 0)) || (e = opt_time(req, "harvest", &o.harvest_ns, 0)))
		return e;
	if ((e = opt_time(req, "pull", &o.pull_plan_ns, 1))) /* a planned pull lies ahead */
		return e;
	if (cfg && !(pc = config_find_process(cfg, proc)))
		return err_new("not_found", "see processes = ( ... ) in the configuration", "unknown process \"%s\"", proc);
	if (cfg && !(pp = config_find_process_profile(cfg, prof)))
		return err_new("not_found", "see process_profiles in the configuration", "unknown process profile \"%s\"",
			       prof);
	if (pc && pp && pp->kind != pc->kind)
		return err_new("refused", NULL, "profile %s is for %s, process %s does %s", prof,
			       config_process_kind_name(pp->kind), proc, config_process_kind_name(pc->kind));
	if ((e = opt_weight(req, pc, &o.weight_kg)) ||
	    (e = opt_kind_num(req, "tonnes", pc, CC_PROCESS_FUMIGATION, 0.001, 1000, &o.tonnes)) ||
	    (e = opt_kind_num(req, "mass", pc, CC_PROCESS_DRYING, 0.001, 1e6, &o.mass_kg)) ||
	    (e = opt_kind_num(req, "moisture", pc, CC_PROCESS_DRYING, 0, 99.9, &o.moisture_pct)))
		return e;
	rc = engine_batch_start_opts(eng, proc, batch, prof, &o, user);
	switch (rc) {
	case 0: return batch_reply(eng, batch, user);
	case -EEXIST: return err_new("refused", "batch ids are unique", "batch %s exists already", batch);
	case -EBUSY: return err_new("refused", "stop it first (coldchainctl batch stop)", "process %s has a batch running", proc);
	case -ERANGE: return err_new("refused", "see the profile's weight_bands", "no weight band of profile %s holds %g kg",
				     prof, o.weight_kg);
	case -EINVAL: return err_new("refused", NULL, "profile %s: the drying model refuses its numbers", prof);
	case -ENOSPC: return err_new("refused", "release stopped batches", "batch %s: too many batches kept", batch);
	case -ENOENT: return err_new("not_found", NULL, "unknown process \"%s\" or profile \"%s\"", proc, prof);
	case -ESRCH: return err_new("unavailable", NULL, "the engine is not running (reload in progress?)");
	default: return err_new("bad_request", NULL, "batch %s: %s", batch, strerror(-rc));
	}
}

static cJSON *batch_op(struct engine *eng, const struct cc_config *cfg, const cJSON *req, const char *cmd,
		       const char *user)
{
	const char *batch = NULL, *lot = NULL, *room = NULL, *product = NULL;
	int64_t at = time_now_ns();
	cJSON *e;
	int rc;

	if ((e = need(req, "batch", &batch, 128)))
		return e;
	if (strcmp(cmd, "batch_start") == 0)
		return batch_start(eng, cfg, req, batch, user);
	if (strcmp(cmd, "batch_stop") == 0) {
		if ((e = opt_time(req, "at", &at, 0)))
			return e;
		rc = engine_batch_stop(eng, batch, at, user);
	} else if (strcmp(cmd, "batch_phase") == 0) {
		const char *phase = NULL;
		if ((e = need(req, "phase", &phase, 32)) || (e = opt_time(req, "at", &at, 0)))
			return e;
		switch ((rc = engine_batch_phase(eng, batch, phase, at, user))) {
		case -EINVAL: return err_new("bad_request", NULL, "phase \"%s\": expected burning, hold, purge or done", phase);
		case -EMEDIUMTYPE: return err_new("refused", NULL, "batch %s is not a fumigation batch", batch);
		case -EALREADY: return err_new("refused", NULL, "batch %s is not running", batch);
		default: break;
		}
	} else {
		if ((e = need(req, "lot", &lot, 128)) || (e = need(req, "room", &room, 128)))
			return e;
		if (cJSON_GetObjectItemCaseSensitive(req, "product") && (e = need(req, "product", &product, 128)))
			return e;
		rc = engine_batch_release(eng, batch, lot, room, product, user);
	}
	switch (rc) {
	case 0: return batch_reply(eng, batch, user);
	case -ENOENT:
		return lot ? err_new("not_found", NULL, "no batch \"%s\", room \"%s\" or product \"%s\"", batch, room,
				     product ? product : "(the room's)")
			   : err_new("not_found", "see coldchainctl batch status", "no batch \"%s\"", batch);
	case -EALREADY: return err_new("refused", NULL, "batch %s is already %s", batch, lot ? "released" : "stopped");
	case -EEXIST: return err_new("refused", NULL, "lot %s is already loaded (lot ids are unique)", lot);
	case -EINVAL: return err_new("bad_request", "name one with --product", "room %s has no profile", room);
	case -ENOSPC: return err_new("refused", "unload lots that have left", "lot %s: too many lots loaded", lot);
	case -ESRCH: return err_new("unavailable", NULL, "the engine is not running (reload in progress?)");
	default: return err_new("bad_request", NULL, "batch %s: %s", batch, strerror(-rc));
	}
}

static cJSON *batch_status(struct engine *eng, const cJSON *req)
{
	const char *batch = NULL;
	cJSON *e, *st, *o;

	if (cJSON_GetObjectItemCaseSensitive(req, "batch") && (e = need(req, "batch", &batch, 128)))
		return e;
	st = engine_batch_status_json(eng, batch);
	if (!st)
		return batch ? err_new("not_found", NULL, "no batch \"%s\"", batch)
			     : err_new("unavailable", NULL, "the engine is not running (reload in progress?)");
	o = ok_new();
	if (batch) {
		cJSON *arr = cJSON_AddArrayToObject(o, "batches");
		cJSON_AddItemToArray(arr, st);
		return o;
	}
	cJSON_AddItemToObject(o, "batches", cJSON_DetachItemFromObjectCaseSensitive(st, "batches"));
	cJSON_Delete(st);
	return o;
}

static const char *const commands[] = { "status", "alarms", "ack", "shelve", "unshelve", "reset", "lot_load",
					"lot_unload", "lot_move", "batch_start", "batch_stop", "batch_release", "batch_phase",
					"batch_status", "notify_test", "reload", "ping", NULL };

static control_notify_fn notify_fn;
static void *notify_arg;

/* A notify test running on its worker (see "notify test on a worker thread"). */
#define NOTIFY_OUT 16384

static struct {
	pthread_mutex_t mu;
	pthread_t th;
	int started;           /* a thread to join (main thread only) */
	int done;              /* under mu */
	int rc;                /* under mu */
	int efd;               /* eventfd written when done, -1 until the first test */
	char route[129];
	char *out;
	struct client *client; /* owed the reply; NULL once it left */
	uint64_t refused;
	struct log_rl busy_rl;
} job = { .mu = PTHREAD_MUTEX_INITIALIZER, .efd = -1 };

void control_set_notify(struct control *c, control_notify_fn fn, void *arg)
{
	(void)c;
	notify_fn = fn;
	notify_arg = arg;
}

/* The reply to a notify test: rc failures (or -ENOENT), out its lines. */
static cJSON *notify_reply(const char *route, int rc, char *out)
{
	cJSON *o, *arr;

	if (rc == -ENOENT)
		return err_new("not_found", "routes are named in the configuration's routes list",
			       "no channel output serves a route \"%s\"", route);
	if (rc == 0) {
		o = ok_new();
	} else {
		char *flat = xstrdup(out);
		for (char *p = flat; *p; p++)
			if (*p == '\n')
				*p = p[1] ? ';' : '\0';
		o = err_new("not_accepted", NULL, "%d test message(s) not accepted: %.4000s", rc, flat);
		free(flat);
	}
	arr = cJSON_AddArrayToObject(o, "results");
	for (char *sv = NULL, *line = strtok_r(out, "\n", &sv); line; line = strtok_r(NULL, "\n", &sv))
		cJSON_AddItemToArray(arr, cJSON_CreateString(line));
	return o;
}

/* The route of the notify test control_request deferred (*reload = 2):
 * the main thread's alone, read by client_lines right after. */
static char pending_route[129];

/* {"cmd":"notify_test","route":"R"}: a test message to every recipient of
 * R, sent by a worker thread (notify_start): the reply waits for it. */
static cJSON *notify_test(const cJSON *req, const char *user, int *defer)
{
	const char *route = NULL;
	cJSON *e;

	if ((e = need(req, "route", &route, 128)))
		return e;
	if (!notify_fn)
		return err_new("unavailable", NULL, "the outputs are not running");
	log_info("control: notify test of route %s by %s", route, user);
	strlcpy_cc(pending_route, route, sizeof(pending_route));
	*defer = CONTROL_DEFER_NOTIFY;
	return ok_new(); /* replaced by the outcome (notify_reap) */
}

/* {"cmd":"status"|"alarms", "site":S, "room":R}: written straight as text
 * (engine_status_write), members in the order the cJSON reply had them:
 * ok, site, rooms, alarms, pid, timezone.  NULL and *rep, or the error
 * reply. */
static cJSON *status_reply(struct engine *eng, const struct cc_config *cfg, const cJSON *req, int rooms, char **rep)
{
	struct engine_status_filter f = { .site = str_arg(req, "site"), .room = str_arg(req, "room") };
	const cJSON *op = cJSON_GetObjectItemCaseSensitive(req, "open_past");
	struct jsonw w;
	int rc;

	if (op && (!cJSON_IsNumber(op) || !(op->valuedouble >= 1 && op->valuedouble <= 1e6)))
		return err_new("bad_request", NULL, "\"open_past\" must be a number of rooms from 1 to 1000000");
	f.open_past = op ? (int)op->valuedouble : 0;

	if ((cJSON_GetObjectItemCaseSensitive(req, "site") && !name_ok(f.site, 255)) ||
	    (cJSON_GetObjectItemCaseSensitive(req, "room") && !name_ok(f.room, 255)))
		return err_new("bad_request", NULL, "\"site\" and \"room\" must be non-empty printable strings of at most 255 bytes");
	if (!eng)
		return err_new("unavailable", NULL, "the engine is not running (reload in progress?)");
	jsonw_init(&w);
	jsonw_obj_begin(&w, NULL);
	jsonw_bool(&w, "ok", 1);
	rc = engine_status_write(eng, rooms, f.site || f.room || f.open_past ? &f : NULL, &w);
	if (rooms)
		jsonw_num(&w, "pid", (double)getpid());
	if (cfg && cfg->timezone)
		jsonw_str(&w, "timezone", cfg->timezone);
	jsonw_obj_end(&w);
	*rep = jsonw_take(&w, NULL);
	if (rc < 0 || !*rep) {
		free(*rep);
		*rep = NULL;
		return err_new("internal", NULL, "out of memory");
	}
	return NULL; /* jsonw writes invalid UTF-8 as \ufffd itself */
}

char *control_request(struct engine *eng, const struct cc_config *cfg, const char *line, size_t len, const char *user, int *reload)
{
	cJSON *req, *o;
	const char *cmd, *u;
	char ubuf[USER_MAX + 1];

	*reload = 0;
	{
		size_t bad = utf8_first_bad(line, len);
		/* said by offset and value, never echoed: the reply stays UTF-8 */
		if (bad < len)
			return reply_take(err_new("bad_request", "requests are UTF-8 JSON text without NUL bytes",
						  line[bad] ? "request is not valid UTF-8 (byte 0x%02X at offset %zu)"
							    : "request holds a NUL byte (byte 0x%02X at offset %zu)",
						  (unsigned char)line[bad], bad));
	}
	req = cJSON_ParseWithLength(line, len);
	if (!req || !cJSON_IsObject(req)) {
		cJSON_Delete(req);
		return reply_take(err_new("bad_request", "one JSON object per line, e.g. {\"cmd\":\"status\"}",
					  "request is not a JSON object"));
	}
	if (has_nul_escape(line, len)) {
		o = err_new("bad_request", "requests are UTF-8 JSON text without NUL bytes",
			    "request holds a NUL character (\\u0000 in a string)");
		goto out;
	}
	cmd = str_arg(req, "cmd");
	if (!cmd) {
		o = err_new("bad_request", NULL, "missing \"cmd\"");
		hint_list(o, "commands", "commands", commands, ARRAY_SIZE(commands) - 1);
		goto out;
	}
	u = str_arg(req, "user");
	if (cJSON_GetObjectItemCaseSensitive(req, "user") && !name_ok(u, USER_MAX)) {
		o = err_new("bad_request", NULL, "\"user\" must be a non-empty printable string of at most %d bytes",
			    USER_MAX);
		goto out;
	}
	strlcpy_cc(ubuf, u ? u : (user && *user ? user : "unknown"), sizeof(ubuf));

	if (strcmp(cmd, "status") == 0 || strcmp(cmd, "alarms") == 0) {
		char *rep = NULL;
		o = status_reply(eng, cfg, req, strcmp(cmd, "status") == 0, &rep);
		if (!o) {
			cJSON_Delete(req);
			return rep;
		}
	} else if (strcmp(cmd, "ack") == 0 || strcmp(cmd, "shelve") == 0 || strcmp(cmd, "unshelve") == 0 ||
		   strcmp(cmd, "reset") == 0) {
		o = alarm_op(eng, req, cmd, ubuf);
	} else if (strcmp(cmd, "lot_load") == 0 || strcmp(cmd, "lot_unload") == 0 || strcmp(cmd, "lot_move") == 0) {
		o = lot_op(eng, cfg, req, cmd, ubuf);
	} else if (strcmp(cmd, "batch_start") == 0 || strcmp(cmd, "batch_stop") == 0 ||
		   strcmp(cmd, "batch_release") == 0 || strcmp(cmd, "batch_phase") == 0) {
		o = batch_op(eng, cfg, req, cmd, ubuf);
	} else if (strcmp(cmd, "batch_status") == 0) {
		o = batch_status(eng, req);
	} else if (strcmp(cmd, "notify_test") == 0) {
		o = notify_test(req, ubuf, reload);
	} else if (strcmp(cmd, "reload") == 0) {
		*reload = 1;
		log_info("control: reload requested by %s", ubuf);
		o = ok_new(); /* replaced by the outcome (control_reload_done) */
	} else if (strcmp(cmd, "ping") == 0) {
		o = ok_new();
	} else {
		o = err_new("bad_request", NULL, "unknown command \"%.64s\"", cmd);
		hint_list(o, "commands", "commands", commands, ARRAY_SIZE(commands) - 1);
	}
out:
	cJSON_Delete(req);
	return reply_take_zoned(o, cfg);
}

/* --- socket -------------------------------------------------------------- */

/* The gid of the configured control group, (gid_t)-1 when none.  -errno,
 * the reason logged. */
static int control_group_gid(const struct cc_config *cfg, gid_t *gid)
{
	struct group *gr;

	*gid = (gid_t)-1;
	if (!cfg->control.group)
		return 0;
	errno = 0;
	gr = getgrnam(cfg->control.group);
	if (!gr) {
		log_err("control socket %s: group %s: %s", cfg->control.socket, cfg->control.group,
			errno ? strerror(errno) : "no such group");
		return errno ? -errno : -ENOENT;
	}
	*gid = gr->gr_gid;
	return 0;
}

/* A socket file left at path: a stale one (a daemon that was killed) is
 * removed; a live one (another daemon) or any other kind of file is
 * refused.  -errno, the reason logged. */
static int control_clear_path(const char *path, const struct sockaddr_un *sa)
{
	struct stat st;
	int probe;

	if (lstat(path, &st) < 0)
		return 0;
	if (!S_ISSOCK(st.st_mode)) {
		log_err("control socket %s: exists and is not a socket: refusing to replace it", path);
		return -EEXIST;
	}
	probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (probe >= 0 && connect(probe, (const struct sockaddr *)sa, sizeof(*sa)) == 0) {
		close(probe);
		log_err("control socket %s: another process is listening on it", path);
		return -EADDRINUSE;
	}
	if (probe >= 0)
		close(probe);
	unlink(path);
	return 0;
}

/* Binds and listens on sa, mode 0660 from the start (no window with wider
 * permissions), owned by owner_uid (as root) and gid.  The descriptor, or
 * -errno with the reason logged and no socket file left behind. */
static int control_listen(const char *path, const struct sockaddr_un *sa, uid_t owner_uid, gid_t gid,
			  const char *group)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), err, rc;
	mode_t old;

	if (fd < 0)
		goto fail;
	old = umask(0117);
	rc = bind(fd, (const struct sockaddr *)sa, sizeof(*sa));
	umask(old);
	if (rc < 0)
		goto fail;
	if (chmod(path, 0660) < 0)
		goto fail_unlink;
	if (geteuid() == 0 ? chown(path, owner_uid, gid) < 0 : gid != (gid_t)-1 && chown(path, (uid_t)-1, gid) < 0) {
		err = errno;
		log_err("control socket %s: cannot give it to group %s: %s", path, group ? group : "(own)",
			strerror(err));
		unlink(path);
		close(fd);
		return -err;
	}
	if (listen(fd, 16) < 0)
		goto fail_unlink;
	return fd;
fail_unlink:
	err = errno;
	unlink(path);
	errno = err;
fail:
	err = errno;
	log_err("control socket %s: %s", path, strerror(err));
	if (fd >= 0)
		close(fd);
	return -err;
}

/* The runtime file for c->cfg naming the socket c listens on (which a
 * reload does not move: control.socket needs a restart), so coldchainctl
 * finds it without parsing.  The previous one goes when the configuration
 * is now another file.  A failure costs coldchainctl only its parse. */
static void control_publish(struct control *c)
{
	char *written = NULL;
	int rc = runfile_write(c->cfg, c->path, c->owner_uid, c->gid, &written);

	if (c->runfile && (!written || strcmp(c->runfile, written) != 0))
		runfile_remove(c->runfile);
	free(c->runfile);
	c->runfile = written;
	if (rc == -ENOENT)
		log_debug("control socket %s: no run directory %s: no runtime file", c->path, runfile_dir());
	else if (rc == -EAGAIN)
		log_info("control socket %s: no runtime file: the configuration's times are whole seconds and it was "
			 "edited within a second of being read (coldchainctl parses it)", c->path);
	else if (rc < 0)
		log_warn("control socket %s: runtime file in %s: %s (coldchainctl parses the configuration)", c->path,
			 runfile_dir(), strerror(-rc));
	else
		log_debug("control socket %s: runtime file %s", c->path, written);
}

struct control *control_open(const struct cc_config *cfg, uid_t owner_uid)
{
	const char *path = cfg->control.socket;
	struct sockaddr_un sa;
	struct control *c;
	gid_t gid;
	int fd;
	char *dir, *slash;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		log_err("control socket %s: path longer than %zu bytes", path, sizeof(sa.sun_path) - 1);
		errno = ENAMETOOLONG;
		return NULL;
	}
	if ((fd = control_group_gid(cfg, &gid)) < 0)
		goto fail;
	/* /run/coldchaind under systemd is RuntimeDirectory=; elsewhere make it */
	dir = xstrdup(path);
	if ((slash = strrchr(dir, '/')) && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0755) == 0)
			log_info("control socket: created directory %s", dir);
	}
	free(dir);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if ((fd = control_clear_path(path, &sa)) < 0 ||
	    (fd = control_listen(path, &sa, owner_uid, gid, cfg->control.group)) < 0)
		goto fail;
	c = xcalloc(1, sizeof(*c));
	c->fd = fd;
	c->path = xstrdup(path);
	c->cfg = cfg;
	c->start_ms = time_mono_ms();
	c->owner_uid = owner_uid;
	c->gid = gid;
	log_info("control socket %s: listening (mode 0660%s%s)", path, cfg->control.group ? ", group " : "",
		 cfg->control.group ? cfg->control.group : "");
	control_publish(c);
	return c;
fail:
	errno = -fd;
	return NULL;
}

static void client_free(struct control *c, int i)
{
	struct client *k = c->cl[i];
	if (!k)
		return;
	if (job.client == k)
		job.client = NULL; /* the test runs on; its reply is dropped */
	close(k->fd);
	free(k->out);
	free(k);
	c->cl[i] = NULL;
}

void control_close(struct control *c)
{
	if (!c)
		return;
	for (int i = 0; i < CONTROL_MAX_CLIENTS; i++)
		client_free(c, i);
	close(c->fd);
	unlink(c->path);
	runfile_remove(c->runfile);
	free(c->runfile);
	free(c->path);
	free(c);
}

void control_set_config(struct control *c, const struct cc_config *cfg)
{
	if (!c)
		return;
	if (cfg != c->cfg) {
		c->cfg = cfg;
		control_publish(c);
	}
}

void control_set_engine(struct control *c, struct engine *e)
{
	if (c)
		c->engine = e;
}

static void client_queue(struct client *k, const char *s)
{
	size_t n = strlen(s);

	if (k->outlen + n + 1 > OUT_MAX) {
		/* it does not read its replies: drop it rather than grow */
		if (k->outlen)
			log_warn("control: client %s does not read its replies (%zu bytes queued): disconnected",
				 k->user, k->outlen);
		else
			log_warn("control: client %s: a reply of %zu bytes is over the %u-byte limit: disconnected",
				 k->user, n, OUT_MAX);
		k->closing = 2;
		return;
	}
	if (k->outlen + n + 1 > k->outcap) {
		k->outcap = (k->outlen + n + 1) * 2;
		k->out = xrealloc(k->out, k->outcap);
	}
	memcpy(k->out + k->outlen, s, n);
	k->outlen += n;
	k->out[k->outlen++] = '\n';
}

/* client_queue for a reply the client takes: when nothing else waits,
 * the reply's own buffer becomes the queue (a hub's status is megabytes:
 * no copy).  Frees s. */
static void client_queue_own(struct client *k, char *s)
{
	size_t n = strlen(s);
	char *t;

	if (k->outlen || n + 1 > OUT_MAX || !(t = realloc(s, n + 1))) {
		client_queue(k, s);
		free(s);
		return;
	}
	t[n] = '\n';
	free(k->out);
	k->out = t;
	k->outlen = k->outcap = n + 1;
}

static void client_flush(struct client *k)
{
	while (k->outlen) {
		ssize_t w = send(k->fd, k->out, k->outlen, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				k->closing = 2;
			return;
		}
		memmove(k->out, k->out + w, k->outlen - (size_t)w);
		k->outlen -= (size_t)w;
	}
}

static const char *rl_tail(char *b, size_t n, uint32_t more)
{
	if (more)
		snprintf(b, n, " (%" PRIu32 " more since the last such message)", more);
	else
		b[0] = '\0';
	return b;
}

/* --- notify test on a worker thread --------------------------------------
 * A test message can take a channel's timeout per recipient (a server that
 * does not answer): the main loop (watchdog, this socket, stats) must not
 * wait for it.  One test at a time (so one per channel); another asked for
 * meanwhile is refused (busy), logged at most once a minute, counted. */

static void *notify_run(void *arg)
{
	uint64_t one = 1;
	int rc;

	(void)arg;
	rc = notify_fn(notify_arg, job.route, job.out, NOTIFY_OUT);
	pthread_mutex_lock(&job.mu);
	job.rc = rc;
	job.done = 1;
	pthread_mutex_unlock(&job.mu);
	if (write(job.efd, &one, sizeof(one)) < 0)
		log_debug("control: notify test: eventfd: %s", strerror(errno));
	return NULL;
}

static void notify_start(struct control *c, struct client *k)
{
	uint32_t more;
	char tail[64];

	(void)c;
	if (job.started) {
		job.refused++;
		if (log_rl_allow(&job.busy_rl, FULL_LOG_MS, &more))
			log_warn("control: notify test of route %s by %s refused: the test of route %s still runs "
				 "(%" PRIu64 " refused since start)%s",
				 pending_route, k->user, job.route, job.refused, rl_tail(tail, sizeof(tail), more));
		client_queue(k, "{\"ok\":false,\"error\":\"a notify test is already running: try again when it "
				"is done\",\"code\":\"busy\"}");
		return;
	}
	if (job.efd < 0 && (job.efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) {
		log_err("control: notify test: eventfd: %s", strerror(errno));
		client_queue(k, "{\"ok\":false,\"error\":\"cannot start the test (see the daemon's log)\","
				"\"code\":\"unavailable\"}");
		return;
	}
	strlcpy_cc(job.route, pending_route, sizeof(job.route));
	job.out = xcalloc(1, NOTIFY_OUT);
	job.done = 0;
	job.client = k;
	if (pthread_create(&job.th, NULL, notify_run, NULL) != 0) {
		log_err("control: notify test: cannot start a thread");
		free(job.out);
		job.out = NULL;
		job.client = NULL;
		client_queue(k, "{\"ok\":false,\"error\":\"cannot start the test (see the daemon's log)\","
				"\"code\":\"unavailable\"}");
		return;
	}
	job.started = 1;
	k->waiting_notify = 1;
}

/* Joins a finished test (or, wait set, a running one) and frees it; its
 * reply, when its client is still there, in *rep (malloc'd). */
static struct client *notify_join(int wait, char **rep)
{
	struct client *k;
	uint64_t v;
	int done;

	*rep = NULL;
	if (!job.started)
		return NULL;
	pthread_mutex_lock(&job.mu);
	done = job.done;
	pthread_mutex_unlock(&job.mu);
	if (!done && !wait)
		return NULL;
	pthread_join(job.th, NULL);
	if (read(job.efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		log_debug("control: notify test: eventfd: %s", strerror(errno));
	k = job.client;
	if (k)
		*rep = reply_take(notify_reply(job.route, job.rc, job.out));
	free(job.out);
	job.out = NULL;
	job.client = NULL;
	job.started = 0;
	return k;
}

void control_notify_join(void)
{
	char *rep;

	notify_join(1, &rep);
	cJSON_free(rep);
}

int control_busy(const struct control *c)
{
	(void)c;
	return job.started;
}

static void client_lines(struct control *c, struct client *k)
{
	char *nl;

	/* one request at a time while a reload reply is owed: order is kept */
	while (!WAITING(k) && k->closing != 2 && (nl = memchr(k->in, '\n', k->inlen)) != NULL) {
		size_t len = (size_t)(nl - k->in);
		int reload = 0;
		char *rep;

		if (len && k->in[len - 1] == '\r')
			len--;
		if (len == 0) {
			memmove(k->in, nl + 1, k->inlen - (size_t)(nl + 1 - k->in));
			k->inlen -= (size_t)(nl + 1 - k->in);
			continue;
		}
		rep = control_request(c->engine, c->cfg, k->in, len, k->user, &reload);
		k->inlen -= (size_t)(nl + 1 - k->in);
		memmove(k->in, nl + 1, k->inlen);
		if (reload == CONTROL_DEFER_NOTIFY) {
			notify_start(c, k);
		} else if (reload) {
			k->waiting_reload = 1;
			c->reload_wanted = 1;
		} else {
			client_queue_own(k, rep);
			rep = NULL;
		}
		cJSON_free(rep);
	}
	if (k->closing != 2 && k->inlen == sizeof(k->in)) {
		char buf[160];
		snprintf(buf, sizeof(buf),
			 "{\"ok\":false,\"error\":\"request too large (at most %d bytes per line)\",\"code\":\"bad_request\"}",
			 CONTROL_MAX_REQUEST - 1);
		client_queue(k, buf);
		k->inlen = 0;
		k->closing = 1; /* no way to find the next request boundary */
	}
}

/* When every slot is taken: the longest-idle client of the account that
 * holds the most connections (so one account's idle connections cannot
 * shut out another's), never one that waits for a reload.  -1 when none. */
static int client_victim(const struct control *c)
{
	int best = -1, best_n = 0;

	for (int i = 0; i < CONTROL_MAX_CLIENTS; i++) {
		const struct client *k = c->cl[i];
		int n = 0;

		if (!k || WAITING(k))
			continue;
		for (int j = 0; j < CONTROL_MAX_CLIENTS; j++)
			n += c->cl[j] && c->cl[j]->uid == k->uid;
		if (best < 0 || n > best_n || (n == best_n && k->last_ms < c->cl[best]->last_ms)) {
			best = i;
			best_n = n;
		}
	}
	return best;
}

static void client_accept(struct control *c)
{
	for (;;) {
		int fd = accept4(c->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC), slot = -1;
		struct ucred cr;
		socklen_t crl = sizeof(cr);
		struct client *k;
		uint32_t more;
		char tail[64];

		if (fd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				log_warn("control socket %s: accept: %s", c->path, strerror(errno));
			return;
		}
		k = xcalloc(1, sizeof(*k));
		k->fd = fd;
		k->last_ms = time_mono_ms();
		k->uid = -1;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &crl) == 0) {
			struct passwd pw, *res = NULL;
			char buf[1024];
			k->uid = (long)cr.uid;
			if (getpwuid_r(cr.uid, &pw, buf, sizeof(buf), &res) == 0 && res)
				strlcpy_cc(k->user, res->pw_name, sizeof(k->user));
			else
				snprintf(k->user, sizeof(k->user), "uid%ld", (long)cr.uid);
		} else {
			strlcpy_cc(k->user, "unknown", sizeof(k->user));
		}
		for (int i = 0; i < CONTROL_MAX_CLIENTS && slot < 0; i++)
			if (!c->cl[i])
				slot = i;
		if (slot < 0 && (slot = client_victim(c)) >= 0) {
			static const char evicted[] = "{\"ok\":false,\"error\":\"the control socket is full: this "
						      "connection, the longest idle, was closed for a new one\","
						      "\"code\":\"unavailable\"}\n";
			struct client *v = c->cl[slot];
			if (log_rl_allow(&c->evict_rl, FULL_LOG_MS, &more))
				log_warn("control socket %s: %d connections (the limit): closed the longest-idle one "
					 "(user %s, idle %" PRId64 " s) for a new one from %s%s",
					 c->path, CONTROL_MAX_CLIENTS, v->user, (k->last_ms - v->last_ms) / 1000, k->user,
					 rl_tail(tail, sizeof(tail), more));
			if (!v->outlen && send(v->fd, evicted, sizeof(evicted) - 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
				log_debug("control: closing an idle client: %s", strerror(errno));
			client_free(c, slot);
		}
		if (slot < 0) {
			static const char busy[] =
				"{\"ok\":false,\"error\":\"too many clients\",\"code\":\"unavailable\"}\n";
			if (log_rl_allow(&c->refuse_rl, FULL_LOG_MS, &more))
				log_warn("control socket %s: %d connections all waiting for a reload: refused one "
					 "from %s%s",
					 c->path, CONTROL_MAX_CLIENTS, k->user, rl_tail(tail, sizeof(tail), more));
			if (send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
				log_debug("control: refusing a client: %s", strerror(errno));
			close(fd);
			free(k);
			continue;
		}
		c->cl[slot] = k;
	}
}

int control_pollfds(struct control *c, struct pollfd *fds, int max)
{
	int n = 0;

	if (!c || max < 1)
		return 0;
	fds[n].fd = c->fd;
	fds[n].events = POLLIN;
	fds[n++].revents = 0;
	if (job.started && n < max) {
		fds[n].fd = job.efd;
		fds[n].events = POLLIN;
		fds[n++].revents = 0;
	}
	for (int i = 0; i < CONTROL_MAX_CLIENTS && n < max; i++) {
		struct client *k = c->cl[i];
		if (!k)
			continue;
		fds[n].fd = k->fd;
		fds[n].events = (short)((k->closing || WAITING(k) ? 0 : POLLIN) | (k->outlen ? POLLOUT : 0));
		fds[n++].revents = 0;
	}
	return n;
}

/* A finished notify test: its client gets the reply, then its requests
 * pipelined behind it. */
static void notify_reap(struct control *c)
{
	char *rep;
	struct client *k = notify_join(0, &rep);

	if (!k)
		return;
	k->waiting_notify = 0;
	client_queue(k, rep);
	cJSON_free(rep);
	client_lines(c, k);
}

void control_handle(struct control *c, const struct pollfd *fds, int n)
{
	int64_t now = time_mono_ms();
	int accept_now = 0;

	if (!c)
		return;
	for (int j = 0; j < n; j++) {
		if (fds[j].fd == c->fd) {
			/* after the clients' events: accepting may close (evict) a
			 * client, and its descriptor number be reused by the new one */
			accept_now = fds[j].revents & POLLIN;
			continue;
		}
		for (int i = 0; i < CONTROL_MAX_CLIENTS; i++) {
			struct client *k = c->cl[i];
			if (!k || k->fd != fds[j].fd || !fds[j].revents)
				continue;
			if ((fds[j].revents & POLLIN) && !k->closing) {
				ssize_t r = recv(k->fd, k->in + k->inlen, sizeof(k->in) - k->inlen, MSG_DONTWAIT);
				if (r == 0)
					k->closing = 1; /* peer done sending: answer what it asked, then close */
				else if (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
					k->closing = 2;
				else if (r > 0)
					k->inlen += (size_t)r;
				k->last_ms = now;
				client_lines(c, k);
			}
			if (fds[j].revents & (POLLERR | POLLNVAL))
				k->closing = 2;
			else if ((fds[j].revents & POLLHUP) && !(fds[j].revents & POLLIN))
				k->closing = 2;
		}
	}
	if (accept_now)
		client_accept(c);
	notify_reap(c);
	for (int i = 0; i < CONTROL_MAX_CLIENTS; i++) {
		struct client *k = c->cl[i];
		if (!k)
			continue;
		if (k->closing != 2)
			client_flush(k);
		if (k->closing == 2 || (k->closing && !k->outlen && !WAITING(k)) ||
		    now - k->last_ms > IDLE_MS)
			client_free(c, i);
	}
}

int control_reload_wanted(const struct control *c)
{
	return c && c->reload_wanted;
}

void control_reload_done(struct control *c, int ok)
{
	const char *rep = ok ? "{\"ok\":true,\"reloaded\":true}"
			     : "{\"ok\":false,\"error\":\"reload failed, keeping previous configuration (see the "
			       "daemon's log)\",\"code\":\"refused\"}";

	if (!c)
		return;
	c->reload_wanted = 0;
	for (int i = 0; i < CONTROL_MAX_CLIENTS; i++) {
		struct client *k = c->cl[i];
		if (!k || !k->waiting_reload)
			continue;
		k->waiting_reload = 0;
		client_queue(k, rep);
		client_lines(c, k); /* requests pipelined behind the reload */
		client_flush(k);
	}
}
