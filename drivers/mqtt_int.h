/* mqtt_int.h - private to drivers/mqtt*.c: the client's state shared by the
 * input client (mqtt.c), payload decoding (mqtt_decode.c) and the alert
 * publisher (mqtt_alerts.c).  Not for any other file. */
#ifndef CC_MQTT_INT_H
#define CC_MQTT_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "mqtt.h"
#include "../codec/lineproto.h"
#include "../codec/topic.h"
#include "../daemon/log.h"
#include "../daemon/pipeline.h"
#include "../daemon/util.h"

struct mqtt_conn;
struct mqtt_tls;
struct cc_mqtt_conf;
struct cc_mqtt_sub;

#define LOG_RL_MS 60000
/* One journal record gathers at most this many messages or bytes of one
 * read burst before it is written (and the burst's PUBACKs may go out). */
#define BATCH_MSGS 1024
#define BATCH_BYTES (256 * 1024)
#define EXCERPT_IN 64

enum reason {
	R_TOO_LARGE, R_BAD_UTF8, R_PARSE, R_WRONG_TYPE, R_NOT_FINITE, R_MISSING, R_BAD_TIME, R_TIME_SKEW,
	R_BAD_TOPIC, R_CHANNEL_LIMIT, R_N
};
/* as counted in coldchaind_mqtt (mqtt_decode.c) */
extern const char *const mqtt_reason_names[R_N];

/* A subscription's counters (coldchaind_mqtt). */
struct msub_counts {
	uint64_t received, accepted, rejected, samples, out_of_range, why[R_N];
};

struct msub {
	const struct cc_mqtt_sub *conf;
	struct topic_pat pat;
	int qos; /* as subscribed (conf's, kept for a reload's comparison) */
	struct msub_counts n; /* guarded by client->lock */
	/* loop thread only: counted since the last read burst ended, added to
	 * n once per burst (mqtt_counts_flush), not under a lock per message */
	struct msub_counts pend;
	int pending;
	struct log_rl rl; /* loop thread only */
};

/* A channel's line protocol series key (pipeline_encode_series), escaped
 * once rather than for every sample, is three parts: the prefix up to
 * ",sensor=" and the suffix after the sensor (",site=..,unit=..") in the
 * string table, the escaped sensor between them.  The prefix and suffix
 * are one pair, interned in the client (a hub's room and quantity: 4,000
 * pairs for 100,000 channels): 10 bytes less per channel (issue 18). */
struct spair {
	struct spair *next;
	const char *sp, *ss; /* the series' prefix and suffix (interned) */
	uint32_t hash;
	uint8_t splen, sslen; /* a part over 255 bytes: no fast path */
};

/* One arena allocation per channel (c->chans; issue 18 target 2: 100,000
 * of them at a hub): its site, room, channel name, quantity and unit point
 * into the client's string table (str_intern: a hub has 2,000 sites and a
 * handful of the others), its sensor and id are inline, its series key's
 * prefix and suffix a shared pair (the escaped sensor in the middle: the
 * sensor itself when escaping leaves it as it is, at key + 0).  sx NULL:
 * not encodable (the slow path). */
struct chan {
	struct cc_channel ch; /* first: a sample's ch is its struct chan */
	struct chan *next;
	const struct spair *sx;
	uint32_t hash;
	/* the middle at key + smoff: 78 bytes before the key, a hub's channel
	 * 112 with it in the arena (was 128 in malloc's, before 192) */
	uint8_t smoff, smlen;
	char key[]; /* sensor\0, the id (sensor/channel)\0[, the escaped sensor] */
};
/* the longest series key of the fast path (mqtt_chan_series) */
#define CHAN_SERIES_MAX (3 * UINT8_MAX)
/* Writes x's series key to buf (CHAN_SERIES_MAX bytes); its length, 0 when
 * x has none (then pipeline_encode_with_series takes the slow path). */
static inline size_t mqtt_chan_series(const struct chan *x, char *buf)
{
	const struct spair *p = x->sx;

	if (!p)
		return 0;
	memcpy(buf, p->sp, p->splen);
	memcpy(buf + p->splen, x->key + x->smoff, x->smlen);
	memcpy(buf + p->splen + x->smlen, p->ss, p->sslen);
	return (size_t)p->splen + x->smlen + p->sslen;
}
_Static_assert(offsetof(struct chan, ch) == 0, "a sample's channel is its struct chan");
_Static_assert(offsetof(struct chan, key) <= 78 || sizeof(void *) != 8, "struct chan grew: 100,000 of them at a hub");

/* Bump allocation for what lives exactly as long as the client and is
 * never freed alone: its channels, their shared strings and the topic
 * cache's entries (issue 18 target 2: 100,000 of each at a hub, where
 * malloc's 8-byte header and 16-byte steps were ~20 bytes a channel).
 * 8-byte aligned and zeroed; blocks of 4 KiB doubling to 64 KiB, so a
 * small configuration keeps a few KiB (mqtt_cache.c). */
struct mqtt_ablk;
struct mqtt_arena {
	struct mqtt_ablk *blk;
	size_t used, cap;
};
void *mqtt_arena_alloc(struct mqtt_arena *a, size_t n);
void mqtt_arena_free(struct mqtt_arena *a);

struct mqtt_client {
	const struct cc_mqtt_conf *conf;
	const char *site;
	char broker[300];
	pthread_t thr;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int stop;
	/* guarded by lock */
	int connected;
	uint64_t connects, messages, unmatched;
	int wake[2]; /* pipe: another thread queued a packet (alert publisher) */
	uint64_t withheld; /* QoS 1 messages left unacknowledged: the journal could not take them */
	_Atomic uint64_t stall_max_us; /* longest without reading since the last self-metrics */
	_Atomic uint64_t read_wakes, moderated; /* bursts read; moderated polls (mqtt_moderate) */
	_Atomic uint64_t mod_held; /* times moderation was held off for slowing the stream */
	uint64_t conn_gen; /* connections ended so far (the alert publisher's PUBACK wait) */
	/* packets other threads queued (the alert publisher), written by the
	 * loop thread; guarded by lock.  Every byte the client writes is
	 * written under lock (mqtt_flush_out, mqtt_publish): a packet mqtt_publish
	 * can write itself goes out at once (plain TCP, nothing queued before
	 * it), not through the loop thread's wake-up. */
	uint8_t *pq;
	size_t pqlen, pqcap;
	uint16_t pub_id;
	int pq_part;  /* pq starts inside a packet mqtt_publish began to write */
	int wpending; /* the loop thread's last mqtt_flush_out left bytes unwritten */
	uint64_t direct; /* packets mqtt_publish wrote whole itself */
	/* loop thread only: the connection, codec/mqtt_wire.h's packets over
	 * mqtt_conn.h's byte stream */
	struct mqtt_tls *tls;
	struct mqtt_conn *conn; /* NULL: not connected */
	int version;            /* MQTT_WIRE_V311 or MQTT_WIRE_V5 */
	size_t max_packet;      /* the largest packet read whole (a v5 broker is told) */
	int handshake;          /* CONNECT written, CONNACK not read yet */
	int64_t keepalive_ms; /* as sent in CONNECT, or the v5 broker's Server Keep Alive */
	int64_t connack_by_ms, ping_sent_ms, last_tx_ms;
	uint8_t *rbuf; /* bytes read: rbuf[roff..rlen) not yet decoded */
	size_t roff, rlen, rcap;
	size_t rskip; /* bytes of an oversized PUBLISH still to skip */
	uint8_t *wbuf; /* bytes to write: wbuf[woff..wlen) */
	size_t woff, wlen, wcap;
	uint16_t *acks; /* the burst's QoS 1 packet ids: acknowledged after its journal record */
	size_t nacks, acks_cap;
	char *topic; /* the PUBLISH being handled's topic, NUL-terminated (65,536 bytes) */
	int more; /* the last burst stopped at a full batch, not at EAGAIN */
	uint64_t nread, nread_q1; /* PUBLISH packets read (got_publish); of them at QoS 1 */
	uint64_t pend_messages, pend_unmatched; /* as msub.pend */
	struct lp_buf batch; /* lines of the messages read in this burst */
	struct cc_sample *bsmp;
	unsigned char *bq0; /* per sample: its message came at QoS 0 (never sent again) */
	size_t bn, bcap, bmsgs, bq1msgs, bq0lines;
	/* the journal refused a burst: persistent session, its PUBACKs were
	 * dropped with the connection (withholding); clean session, the burst
	 * is held and the connection left unread until the journal takes it */
	int withholding, held;
	int64_t withhold_ms;
	int64_t read_end_us; /* when the last read burst ended (0: none this turn) */
	/* interrupt moderation (mqtt_moderate) */
	uint64_t rbytes, mod_turn_bytes; /* bytes read since the client started; by the last turn */
	int64_t mod_win_us; /* the rate window: its start, */
	uint64_t mod_win_n, mod_win_bytes, mod_win_q1, mod_win_wakes; /* nread, rbytes, nread_q1, read_wakes then, */
	int mod_win_moderated; /* whether it runs moderated throughout */
	uint64_t mod_rate; /* msg/s when the moderation began */
	int mod_wait_us; /* a poll's longest wait (0: not moderated) */
	int mod_lowat; /* the socket's SO_RCVLOWAT now (1: the default) */
	int mod_want_us, mod_want_lowat; /* what the last window decided (a pause sets 0, 1) */
	int mod_empty; /* moderated turns in a row that read nothing */
	int mod_slow; /* moderated windows in a row slower than mod_rate */
	int mod_hold; /* windows left with moderation held off (it slowed the stream) */
	int64_t backoff_ms;
	char last_err[256];   /* why the connection last ended or failed */
	char logged_err[256]; /* the last such reason logged (said once until connected) */
	struct msub *subs;
	size_t nsubs;
	/* kept across a reload (mqtt_pause, mqtt_resume): guarded by lock */
	int pause, paused, pause_refused;
	/* loop thread only (or the reload's, while it is parked): filters the
	 * configuration dropped, to unsubscribe at the next CONNACK that
	 * resumes the session; and UNSUBSCRIBEs waiting for their UNSUBACK */
	char **unsub_later;
	size_t nunsub_later;
	struct unsub_wait {
		uint16_t id;
		char *filter;
	} *unsub_wait;
	size_t nunsub_wait;
	/* the daemon's input client with a persistent session: its state
	 * directory (a copy), where the filters the broker's session may hold
	 * are kept: their text as the network thread last made it
	 * (mqtt_subs_save; guarded by lock), written by the main thread
	 * (mqtt_subs_write: no source thread waits on a disk sync) */
	char *state_dir;
	char *subs_text;
	size_t subs_len;
	uint64_t subs_hash, subs_written, subs_failed;
	/* the TLS files as they were when c->tls was made (tls_ready): a
	 * reload keeps the connection only while they are unchanged */
	uint64_t tls_stamp;
	struct chan **tab;
	size_t tabsize, nchan;
	struct mqtt_arena chans; /* the channels and their shared strings */
	struct mqtt_arena centries; /* the topic cache's entries */
	struct istr **stab; /* the channels' shared strings (mqtt_decode.c) */
	size_t stabsize, nstr;
	struct spair **ptab; /* their series' prefix and suffix pairs */
	size_t ptabsize, npair;
	struct tcache **ctab; /* the topic cache */
	size_t ctabsize, ncache;
	struct log_rl rl_unmatched, rl_limit;
	/* `coldchainctl mqtt watch`: messages are reported, not submitted */
	const char *watch_filter;
	mqtt_watch_fn watch;
	void *watch_arg;
	/* `coldchaind --test`: its own copy of the configuration (own client
	 * id, clean session), subscribed at QoS 0 without any $share group */
	struct cc_mqtt_conf *test_conf;
	char test_id[64];
	/* the alert publisher: recent PUBACKs (mid, reason), guarded by lock */
	int acked[64], acked_rc[64];
	unsigned nacked;
};

/* --- the topic cache (mqtt_cache.c) ----------------------------------------- */

#define CACHE_NOCAP UINT8_MAX
/* One arena allocation per topic (c->centries): the entry, its slots, then its topic (the only
 * copy of it); 32 bytes before the slots.  Topics of 255 bytes and more are
 * not cached (they take the slow path). */
struct tcache {
	struct tcache *next; /* its bucket: topic_hash of its topic (not kept: 24 bytes before the slots) */
	uint16_t sub; /* the first subscription the topic matches: c->subs[sub] */
	uint16_t nslots;
	uint8_t tlen;
	uint8_t off[TOPIC_CAP_N];
	uint8_t len[TOPIC_CAP_N]; /* CACHE_NOCAP: not captured */
	/* the channel of each JSON field (or of the number), NULL until a sample
	 * went there: it depends only on the topic and the subscription; the
	 * topic follows the nslots slots */
	const struct cc_channel *slot[];
};
_Static_assert(offsetof(struct tcache, slot) <= 24 || sizeof(void *) != 8, "struct tcache grew");
#define TCACHE_TOPIC(e) ((char *)((e)->slot + (e)->nslots))

/* The entry of this exact topic, with vals/lens pointing into topic as
 * topic_match would; NULL when not cached. */
struct tcache *mqtt_cache_find(struct mqtt_client *c, const char *topic, size_t tlen, const char *vals[TOPIC_CAP_N],
			       size_t lens[TOPIC_CAP_N]);
/* Caches topic_match's answer (s, vals/lens in topic); NULL when full. */
struct tcache *mqtt_cache_add(struct mqtt_client *c, struct msub *s, const char *topic, size_t tlen,
			      const char *const vals[TOPIC_CAP_N], const size_t lens[TOPIC_CAP_N]);
void mqtt_cache_free(struct mqtt_client *c);

/* --- decoding one message -------------------------------------------------- */

/* Everything one message produces, and what went wrong with it. */
struct decode {
	struct mqtt_client *c;
	struct msub *s;
	const char *topic;
	const char *tags[TOPIC_CAP_N]; /* NUL-terminated capture values, or config values */
	const struct cc_channel **slot; /* the topic cache's channels, or NULL */
	int64_t now;
	struct cc_sample *smp; /* inl, or the heap once more are needed */
	size_t n, cap;
	size_t noor;
	enum reason first;
	int problems;
	const char *why;
	uint64_t why_count[R_N];
	struct cc_sample inl[8]; /* from here: not cleared per message */
	char capbuf[TOPIC_CAP_N][TOPIC_MAX_CAPTURE + 1]; /* the captures, NUL-terminated */
};

/* mqtt_decode.c: decodes one message of subscription s on topic (captures
 * vals/lens from topic_match) into d; *n loses a trailing NUL.  slot: the
 * topic cache entry's channels (read, and filled on first use), or NULL.
 * Loop thread only (it interns channels in c).  mqtt_decode_free(d)
 * afterwards. */
void mqtt_decode_msg(struct decode *d, struct mqtt_client *c, struct msub *s, const char *topic,
		     const char *vals[TOPIC_CAP_N], const size_t lens[TOPIC_CAP_N], const struct cc_channel **slot,
		     const char *p, size_t *n);
void mqtt_decode_free(struct decode *d);
/* Logs d's refusal (rate-limited per subscription) with an excerpt of p. */
void mqtt_decode_log_refusal(struct decode *d, const char *p, size_t n);
/* Frees the channels c created (mqtt_stop). */
void mqtt_decode_chans_free(struct mqtt_client *c);

/* mqtt.c: a client (mqtt_start, mqtt_test_start, mqtt_watch): watching
 * when watch is set (messages reported to it, not recorded), with its own
 * id and QoS 0 subscriptions outside any $share group when test is set. */
struct mqtt_client *mqtt_client_start(const struct cc_mqtt_conf *m, const char *site, const char *watch_filter,
				      mqtt_watch_fn watch, void *watch_arg, int test, const char *state_dir);
/* mqtt_watch.c: one message (s NULL: it matched no subscription) to the
 * watcher; d holds what decoding made of it. */
void mqtt_watch_report(struct mqtt_client *c, const struct msub *s, const char *topic, const struct decode *d,
		       const char *p, size_t n);

/* mqtt_moderate.c: after each turn of the connected client, how long the
 * next turn's poll waits (c->mod_wait_us) and the socket's SO_RCVLOWAT. */
void mqtt_moderate(struct mqtt_client *c);
/* A new connection's socket: not moderated (conn_start). */
void mqtt_moderate_reset(struct mqtt_client *c);

/* mqtt_out.c: what the client writes.  The write buffer is the loop
 * thread's (or the reload's while that thread is parked): room for n more
 * bytes at wbuf + wlen, then an encoder's result r queued (its length, or
 * < 0: logged, nothing queued). */
uint8_t *mqtt_wbuf_room(struct mqtt_client *c, size_t n);
void mqtt_wbuf_commit(struct mqtt_client *c, int r, const char *what);
/* Wakes the network thread (something to write, a stop, a pause); it
 * empties the pipe before it waits again. */
void mqtt_wake(struct mqtt_client *c);
void mqtt_wake_drain(struct mqtt_client *c);
/* A burst's PUBACKs, queued once its journal record is written. */
void mqtt_queue_pubacks(struct mqtt_client *c);
/* Under c->lock: what other threads queued (mqtt_publish) joins the buffer. */
void mqtt_take_published(struct mqtt_client *c);
/* Takes c->lock: mqtt_take_published, then the buffer written as far as
 * the socket takes it now.  0 or -errno. */
int mqtt_flush_out(struct mqtt_client *c);

/* Room above the largest max_payload for a PUBLISH's topic and properties
 * (mqtt_max_packet); a packet larger than max_packet + this is skipped
 * unread (mqtt.c). */
#define MQTT_PACKET_SLACK (65536 + 4096)
/* mqtt_subs.c: the largest packet m's subscriptions read whole (MQTT 5
 * Maximum Packet Size); m's TLS files' stamp (mqtt_same_connection). */
uint32_t mqtt_max_packet(const struct cc_mqtt_conf *m);
uint64_t mqtt_tls_files_stamp(const struct cc_mqtt_conf *m);

/* mqtt_subs.c: after a CONNACK, SUBSCRIBEs of every filter (a watch's
 * own filter only), and, when the
 * session was resumed, UNSUBSCRIBEs of those a reload dropped while we were
 * not connected); the broker's SUBACK (refusals logged) and UNSUBACK (with
 * its filter); a lost connection's unanswered UNSUBSCRIBEs kept for the
 * next one; the lists freed (client_free). */
struct mqtt_pkt;
void mqtt_subscribe_all(struct mqtt_client *c, int session_present);
void mqtt_got_suback(struct mqtt_client *c, const struct mqtt_pkt *pk);
void mqtt_got_unsuback(struct mqtt_client *c, const struct mqtt_pkt *pk);
void mqtt_unsub_requeue(struct mqtt_client *c);
void mqtt_unsub_free(struct mqtt_client *c);
/* The filters a persistent session may hold at the broker (this
 * configuration's, and those being unsubscribed): mqtt_subs_save makes
 * their text whenever they change (no I/O: mqtt_subs_write in mqtt.h
 * writes it to MQTT_SUBS_FILE), so that a start after a subscription was
 * removed from the file unsubscribes from it: mqtt_subs_load (before the
 * thread starts) queues those no longer configured for the first CONNACK
 * that resumes the session. */
#define MQTT_SUBS_FILE "mqtt.subscriptions"
void mqtt_subs_load(struct mqtt_client *c);
void mqtt_subs_save(struct mqtt_client *c);

/* mqtt_out.c, for the alert publisher: a QoS 1 PUBLISH, written at once by the
 * calling thread when it can be whole and in order (plain TCP, nothing
 * queued before it: one wake-up less on an alarm's path), else queued for
 * the network thread, woken to write it.  *id: its packet id, acknowledged in acked[];
 * *gen: c->conn_gen now (a PUBACK cannot come once it moved on).  0,
 * -ENOTCONN, or -EMSGSIZE (the topic or payload over MQTT's limits). */
int mqtt_publish(struct mqtt_client *c, const char *topic, const void *payload, size_t len, int retain, int *id,
		 uint64_t *gen);

#endif
