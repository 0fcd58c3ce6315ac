/* mqtt_subs.c - what the input client subscribes to (drivers/mqtt.h):
 * the SUBSCRIBEs after each CONNACK, an UNSUBSCRIBE for a filter a reload
 * dropped, the broker's SUBACKs and UNSUBACKs; and the client kept across
 * a reload, its connection with it (mqtt_pause, mqtt_same_connection,
 * mqtt_resume: issue 18, a reload loses no sample and a broker resends no
 * retained message).  The packets are queued in the client's write buffer
 * (mqtt.c), by its network thread or by the reload's while that thread is
 * parked. */
#include "mqtt.h"
#include "mqtt_int.h"

#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "../codec/mqtt_wire.h"
#include "../daemon/config.h"
#include "../daemon/log.h"
#include "../daemon/state.h"
#include "../daemon/util.h"
#include "../util/hash.h"

/* The next packet id: one id space with mqtt_publish's. */
static uint16_t next_id(struct mqtt_client *c)
{
	uint16_t id;

	pthread_mutex_lock(&c->lock);
	if (++c->pub_id == 0)
		c->pub_id = 1;
	id = c->pub_id;
	pthread_mutex_unlock(&c->lock);
	return id;
}

static void subscribe_one(struct mqtt_client *c, const char *filter, int qos)
{
	size_t need = strlen(filter) + 16;
	uint8_t opt = (uint8_t)qos;
	uint16_t id = next_id(c);

	mqtt_wbuf_commit(c, mqtt_wire_subscribe(mqtt_wbuf_room(c, need), need, c->version, id, &filter, &opt, 1),
			 "a SUBSCRIBE");
}

/* An UNSUBSCRIBE of a filter the configuration no longer has (a reload):
 * its UNSUBACK is logged with the filter (mqtt_got_unsuback). */
static void unsubscribe_one(struct mqtt_client *c, const char *filter)
{
	size_t need = strlen(filter) + 16;
	uint16_t id = next_id(c);

	mqtt_wbuf_commit(c, mqtt_wire_unsubscribe(mqtt_wbuf_room(c, need), need, c->version, id, &filter, 1),
			 "an UNSUBSCRIBE");
	c->unsub_wait = xrealloc(c->unsub_wait, (c->nunsub_wait + 1) * sizeof(*c->unsub_wait));
	c->unsub_wait[c->nunsub_wait++] = (struct unsub_wait){ id, xstrdup(filter) };
}

static void unsub_later(struct mqtt_client *c, char *filter)
{
	c->unsub_later = xrealloc(c->unsub_later, (c->nunsub_later + 1) * sizeof(*c->unsub_later));
	c->unsub_later[c->nunsub_later++] = filter;
}

static const struct msub *sub_find(const struct msub *subs, size_t n, const char *filter)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(subs[i].pat.filter, filter) == 0)
			return &subs[i];
	return NULL;
}

static void unsub_later_clear(struct mqtt_client *c)
{
	for (size_t i = 0; i < c->nunsub_later; i++)
		free(c->unsub_later[i]);
	c->nunsub_later = 0;
}

void mqtt_subscribe_all(struct mqtt_client *c, int session_present)
{
	if (c->watch_filter) { /* watching: only what the technician asked for, QoS 0, read-only */
		subscribe_one(c, c->watch_filter, 0);
		return;
	}
	/* Always (re)subscribe at a CONNACK: a resumed session keeps them, a new
	 * one does not (a broker resends the retained messages of a filter
	 * subscribed again: at a reconnect, never at a reload, which keeps the
	 * connection and subscribes only what changed).  A test client leaves the shared
	 * group alone: joining it would take messages from the running daemon.
	 * One filter per SUBSCRIBE, so a refusal names its filter. */
	for (size_t i = 0; i < c->nsubs; i++)
		subscribe_one(c, c->test_conf ? c->subs[i].pat.match : c->subs[i].pat.filter,
			      c->test_conf ? 0 : c->subs[i].qos);
	/* filters a reload dropped while we were not connected: a resumed
	 * session still has them (a new one has nothing to drop); one a later
	 * reload (or this run's file) has again was just subscribed, and
	 * stays */
	for (size_t i = 0; i < c->nunsub_later; i++)
		if (session_present && !sub_find(c->subs, c->nsubs, c->unsub_later[i]))
			unsubscribe_one(c, c->unsub_later[i]);
	unsub_later_clear(c);
	mqtt_subs_save(c);
}

void mqtt_unsub_requeue(struct mqtt_client *c)
{
	for (size_t i = 0; i < c->nunsub_wait; i++)
		unsub_later(c, c->unsub_wait[i].filter);
	c->nunsub_wait = 0;
}

void mqtt_unsub_free(struct mqtt_client *c)
{
	unsub_later_clear(c);
	free(c->unsub_later);
	c->unsub_later = NULL;
	for (size_t i = 0; i < c->nunsub_wait; i++)
		free(c->unsub_wait[i].filter);
	free(c->unsub_wait);
	c->unsub_wait = NULL;
	c->nunsub_wait = 0;
}

void mqtt_got_suback(struct mqtt_client *c, const struct mqtt_pkt *pk)
{
	/* a refusal is >= 0x80 in both versions */
	for (size_t i = 0; i < pk->ncodes; i++)
		if (pk->codes[i] >= 0x80)
			log_err("mqtt broker %s: a subscription was refused by the broker (reason %u: %s)", c->broker,
				pk->codes[i], mqtt_wire_reason(pk->codes[i]));
}

void mqtt_got_unsuback(struct mqtt_client *c, const struct mqtt_pkt *pk)
{
	for (size_t i = 0; i < c->nunsub_wait; i++) {
		struct unsub_wait *w = &c->unsub_wait[i];
		if (w->id != pk->id)
			continue;
		if (pk->ncodes && pk->codes[0] >= 0x80)
			log_err("mqtt broker %s: unsubscribing from %s was refused (reason %u: %s)", c->broker,
				w->filter, pk->codes[0], mqtt_wire_reason(pk->codes[0]));
		else
			log_info("mqtt broker %s: unsubscribed from %s%s", c->broker, w->filter,
				 pk->ncodes && pk->codes[0] == 0x11 ? " (the broker had no such subscription)" : "");
		free(w->filter);
		*w = c->unsub_wait[--c->nunsub_wait];
		mqtt_subs_save(c);
		return;
	}
}

/* --- the filters a persistent session may hold, across restarts ------------- */

/* The file: a comment, "broker HOST:PORT", "client_id ID", then "filter F"
 * a line (a filter may begin with '#'), sealed with a CRC-32 (state_write_sealed: a torn or edited file
 * is not read, so nothing but filters we subscribed to is ever sent; a line
 * of a file re-sealed by hand is checked too, filter_plausible). */
static void subs_line(char **buf, size_t *len, size_t *cap, const char *a, const char *b)
{
	size_t n = strlen(a) + strlen(b) + 2;

	if (strchr(b, '\n'))
		return; /* cannot be a line: never written, never unsubscribed */
	if (*len + n + 1 > *cap) {
		*cap = (*len + n + 1) * 2;
		*buf = xrealloc(*buf, *cap);
	}
	*len += (size_t)snprintf(*buf + *len, *cap - *len, "%s%s\n", a, b);
}

void mqtt_subs_save(struct mqtt_client *c)
{
	char *buf = NULL;
	size_t len = 0, cap = 0;
	uint64_t h;

	if (!c->state_dir)
		return;
	subs_line(&buf, &len, &cap, "# coldchaind: the MQTT filters this client's persistent session may hold", "");
	subs_line(&buf, &len, &cap, "broker ", c->broker);
	subs_line(&buf, &len, &cap, "client_id ", c->conf->client_id);
	for (size_t i = 0; i < c->nsubs; i++)
		subs_line(&buf, &len, &cap, "filter ", c->subs[i].pat.filter);
	for (size_t i = 0; i < c->nunsub_later; i++)
		subs_line(&buf, &len, &cap, "filter ", c->unsub_later[i]);
	for (size_t i = 0; i < c->nunsub_wait; i++)
		subs_line(&buf, &len, &cap, "filter ", c->unsub_wait[i].filter);
	h = fnv1a64_add(FNV1A64_BASIS, buf, len);
	pthread_mutex_lock(&c->lock);
	if (h != c->subs_hash) {
		free(c->subs_text);
		c->subs_text = buf;
		c->subs_len = len;
		c->subs_hash = h;
		buf = NULL;
	}
	pthread_mutex_unlock(&c->lock);
	free(buf);
}

void mqtt_subs_write(struct mqtt_client *c)
{
	char *copy;
	size_t len;
	uint64_t h;
	int rc;

	if (!c || !c->state_dir)
		return;
	pthread_mutex_lock(&c->lock);
	h = c->subs_hash;
	if (h == c->subs_written || !c->subs_text) {
		pthread_mutex_unlock(&c->lock);
		return;
	}
	len = c->subs_len;
	copy = xmalloc(len + 1);
	memcpy(copy, c->subs_text, len);
	pthread_mutex_unlock(&c->lock);
	if ((rc = state_write_sealed(c->state_dir, MQTT_SUBS_FILE, copy, len)) == 0) {
		c->subs_written = h;
	} else if (h != c->subs_failed) { /* said once per content, retried at each tick */
		log_warn("mqtt broker %s: cannot write %s/%s: %s (a subscription removed from the file before the "
			 "next start may stay in the broker's session)", c->broker, c->state_dir, MQTT_SUBS_FILE,
			 strerror(-rc));
		c->subs_failed = h;
	}
	free(copy);
}

/* A filter read from the file is one we could have subscribed to: a valid
 * MQTT filter (topic_parse: not empty, at most 1024 bytes, no control
 * character, wildcards whole levels) with no capture, which a subscribed
 * filter never holds ('+' in its place).  A file re-sealed by hand must
 * not make the client send the broker junk. */
static int filter_plausible(const char *f)
{
	struct topic_pat p;
	const char *err;
	int ok = 1;

	if (topic_parse(f, &p, &err) < 0)
		return 0;
	for (int k = 0; k < TOPIC_CAP_N; k++)
		ok = ok && !p.has_cap[k];
	topic_free(&p);
	return ok;
}

void mqtt_subs_load(struct mqtt_client *c)
{
	char *buf, *line, *save = NULL;
	size_t len, n = 0, bad = 0;
	int rc = state_read_sealed(c->state_dir, MQTT_SUBS_FILE, &buf, &len), ours = 0;

	if (rc == -ENOENT)
		return;
	if (rc < 0) {
		log_warn("mqtt broker %s: %s/%s not read: %s", c->broker, c->state_dir, MQTT_SUBS_FILE,
			 rc == -EBADMSG ? "its CRC does not match" : strerror(-rc));
		return;
	}
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (line[0] == '#')
			continue;
		if (strncmp(line, "broker ", 7) == 0) {
			ours = strcmp(line + 7, c->broker) == 0;
			continue;
		}
		if (strncmp(line, "client_id ", 10) == 0) {
			ours = ours && strcmp(line + 10, c->conf->client_id) == 0;
			continue;
		}
		/* another broker's or client id's session is not this one */
		if (!ours || strncmp(line, "filter ", 7) != 0 || sub_find(c->subs, c->nsubs, line + 7))
			continue;
		if (!filter_plausible(line + 7)) {
			bad++;
			continue;
		}
		unsub_later(c, xstrdup(line + 7));
		n++;
	}
	free(buf);
	if (bad)
		log_warn("mqtt broker %s: %s/%s: %zu %s not a topic filter: ignored", c->broker, c->state_dir,
			 MQTT_SUBS_FILE, bad, plural(bad, "line is", "lines are"));
	if (n)
		log_info("mqtt broker %s: %zu %s the last run subscribed to no longer configured: unsubscribing "
			 "once the session is resumed", c->broker, n, plural(n, "filter", "filters"));
}

/* --- kept across a reload ---------------------------------------------------- */

/* MQTT 5 Maximum Packet Size for CONNECT, and the largest packet read
 * whole in either version: a broker told this limit discards larger
 * messages (MQTT 5 3.1.2.11.4); a 3.1.1 broker is not told, and what it
 * sends larger is counted, acknowledged and skipped (read_burst), never
 * held in memory.  Room is left above the largest max_payload for the
 * topic and properties, so a message just over max_payload still arrives
 * and is counted as too_large. */
#define MQTT_PACKET_MAX 268435460u /* the protocol's own limit */

uint32_t mqtt_max_packet(const struct cc_mqtt_conf *m)
{
	uint64_t most = 0;

	for (size_t i = 0; i < m->nsubs; i++)
		if ((uint64_t)m->subs[i].max_payload > most)
			most = (uint64_t)m->subs[i].max_payload;
	most += MQTT_PACKET_SLACK;
	return most > MQTT_PACKET_MAX ? MQTT_PACKET_MAX : (uint32_t)most;
}

/* The TLS files as they are now (each one's device, inode, size and
 * modification time; a missing one counts too), hashed: a renewed
 * certificate or CA changes it, so a reload reconnects and reads them. */
uint64_t mqtt_tls_files_stamp(const struct cc_mqtt_conf *m)
{
	const char *f[] = { m->ca_file, m->ca_dir, m->cert, m->key };
	uint64_t h = FNV1A64_BASIS;

	for (size_t i = 0; i < ARRAY_SIZE(f); i++) {
		struct stat st;
		int64_t v[5] = { 0 };
		if (f[i] && stat(f[i], &st) == 0) {
			v[0] = (int64_t)st.st_dev;
			v[1] = (int64_t)st.st_ino;
			v[2] = (int64_t)st.st_size;
			v[3] = (int64_t)st.st_mtim.tv_sec;
			v[4] = (int64_t)st.st_mtim.tv_nsec;
		} else if (f[i]) {
			v[0] = -1;
		}
		h = fnv1a64_add(h, v, sizeof(v));
	}
	return h;
}

int mqtt_pause(struct mqtt_client *c)
{
	struct timespec ts;
	int parked;

	if (!c || c->test_conf || c->watch)
		return -EINVAL;
	pthread_mutex_lock(&c->lock);
	c->pause = 1;
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
	mqtt_wake(c); /* out of its poll, or its connect */
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 2;
	pthread_mutex_lock(&c->lock);
	while (!c->paused && !c->pause_refused)
		if (pthread_cond_timedwait(&c->cond, &c->lock, &ts) == ETIMEDOUT)
			break;
	parked = c->paused;
	if (!parked) {
		c->pause = c->pause_refused = 0;
		pthread_cond_broadcast(&c->cond);
	}
	pthread_mutex_unlock(&c->lock);
	if (!parked)
		return -EBUSY;
	/* parked: the thread touches nothing until mqtt_resume.  Its channels
	 * and topic cache point into the configuration a reload frees (and
	 * are tens of MB at a hub: the new one is parsed without them) */
	mqtt_cache_free(c);
	mqtt_decode_chans_free(c);
	malloc_trim(0);
	return 0;
}

static int str_same(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

int mqtt_same_connection(const struct mqtt_client *c, const struct cc_mqtt_conf *m)
{
	const struct cc_mqtt_conf *o = c->conf;

	return str_same(o->host, m->host) && o->port == m->port && str_same(o->client_id, m->client_id) &&
	       o->protocol == m->protocol && o->keepalive_ms == m->keepalive_ms &&
	       o->clean_session == m->clean_session && o->session_expiry_ms == m->session_expiry_ms &&
	       str_same(o->username, m->username) && str_same(o->password, m->password) && o->tls == m->tls &&
	       str_same(o->ca_file, m->ca_file) && str_same(o->ca_dir, m->ca_dir) && str_same(o->cert, m->cert) &&
	       str_same(o->key, m->key) && o->insecure == m->insecure && mqtt_max_packet(o) == mqtt_max_packet(m) &&
	       (!c->tls || c->tls_stamp == mqtt_tls_files_stamp(m));
}


int mqtt_resume(struct mqtt_client *c, const struct cc_mqtt_conf *m, const char *site)
{
	struct msub *ns = xcalloc(m->nsubs + 1, sizeof(*ns)), *os = c->subs;
	size_t nn = 0, on = c->nsubs, added = 0, dropped = 0;
	/* the thread is parked: its connection state is ours to read */
	int live = c->conn && !c->handshake;

	for (; nn < m->nsubs; nn++) {
		const char *err;
		ns[nn].conf = &m->subs[nn];
		ns[nn].qos = m->subs[nn].qos;
		if (topic_parse(m->subs[nn].topic, &ns[nn].pat, &err) < 0) {
			log_err("mqtt subscription %s: %s", m->subs[nn].topic, err); /* the loader checked it */
			while (nn--)
				topic_free(&ns[nn].pat);
			free(ns);
			return -EINVAL;
		}
	}
	/* Unchanged filters are not subscribed again: a broker would resend
	 * their retained messages.  Mid-handshake, or not connected, the
	 * CONNACK subscribes to every filter of m. */
	for (size_t i = 0; i < nn; i++) {
		const struct msub *o = sub_find(os, on, ns[i].pat.filter);
		if (o)
			ns[i].n = o->n; /* its counters go on */
		if (o && o->qos == ns[i].qos)
			continue;
		added++;
		if (live)
			subscribe_one(c, ns[i].pat.filter, ns[i].qos);
	}
	for (size_t i = 0; i < on; i++) {
		if (sub_find(ns, nn, os[i].pat.filter))
			continue;
		dropped++;
		if (live) {
			log_info("mqtt broker %s: unsubscribing from %s (no longer in the configuration)", c->broker,
				 os[i].pat.filter);
			unsubscribe_one(c, os[i].pat.filter);
		} else if (!m->clean_session) {
			unsub_later(c, xstrdup(os[i].pat.filter));
		}
	}
	pthread_mutex_lock(&c->lock); /* mqtt_emit_stats reads the subscriptions under it */
	c->subs = ns;
	c->nsubs = nn;
	c->conf = m;
	c->site = site;
	pthread_mutex_unlock(&c->lock);
	mqtt_subs_save(c); /* still parked: its state is ours */
	pthread_mutex_lock(&c->lock);
	c->pause = 0;
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
	for (size_t i = 0; i < on; i++)
		topic_free(&os[i].pat);
	free(os);
	mqtt_wake(c); /* to write the (UN)SUBSCRIBEs at once */
	if (live)
		log_info("mqtt broker %s: connection kept across the reload: %zu %s, %zu new or changed, %zu dropped",
			 c->broker, nn, plural(nn, "subscription", "subscriptions"), added, dropped);
	else
		log_info("mqtt broker %s: client kept across the reload, not connected now: %zu %s (the next "
			 "connection subscribes to them)", c->broker, nn, plural(nn, "subscription", "subscriptions"));
	return 0;
}
