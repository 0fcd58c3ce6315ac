/* sms.c - the "sms" transport: one GSM modem, shared by every route that
 * names this output.  SMS is the channel that still works when the internet
 * does not, so the modem is reopened (USB modems re-enumerate) and
 * re-initialised with backoff, a send that fails half-way resumes at the
 * part that failed, and the modem's health is visible in /healthz and the
 * self-metrics.  Encoding and splitting are in codec/sms.c, the AT dialogue
 * in drivers/modem.c. */
#include "transport.h"

#include "../codec/lineproto.h"
#include "../codec/sms.h"
#include "../daemon/channels_conf.h"
#include "../daemon/log.h"
#include "../daemon/util.h"
#include "../util/hash.h"
#include "modem.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SMS_CMD_TIMEOUT_MS 10000
#define SMS_SEND_TIMEOUT_MS 60000 /* the network may take this long to take an SMS */
#define SMS_STATUS_EVERY_MS 30000
#define SMS_LIST_EVERY_MS 60000 /* AT+CMGL even without a +CMTI: a URC can be missed */
#define SMS_BACKOFF_MIN_MS 1000
#define SMS_BACKOFF_MAX_MS 60000

struct sms_t {
	char *name, *device, *pin;
	int baud, replies, max_parts;
	int wake[2];
	struct modem *m;
	int64_t next_open_ms, backoff_ms, next_status_ms, next_list_ms;
	/* resume point of a message whose send failed part-way */
	char *resume_addr;
	uint64_t resume_hash;
	size_t resume_part;
	struct log_rl rl;
	pthread_mutex_t mu; /* the fields below: read by stats/healthy on other threads */
	int sim_ready, registered, signal_dbm, up;
	uint64_t sent, errors;
	char why[280];
};

static void set_health(struct sms_t *t, int up, const char *why)
{
	pthread_mutex_lock(&t->mu);
	t->up = up;
	snprintf(t->why, sizeof t->why, "%s", why ? why : "");
	pthread_mutex_unlock(&t->mu);
}

static void count(struct sms_t *t, int ok)
{
	pthread_mutex_lock(&t->mu);
	if (ok)
		t->sent++;
	else
		t->errors++;
	pthread_mutex_unlock(&t->mu);
}

static void drop_modem(struct sms_t *t, const char *why)
{
	modem_close(t->m);
	t->m = NULL;
	pthread_mutex_lock(&t->mu);
	t->sim_ready = t->registered = 0;
	t->signal_dbm = 1;
	pthread_mutex_unlock(&t->mu);
	set_health(t, 0, why);
	t->next_open_ms = time_mono_ms() + t->backoff_ms;
	t->backoff_ms = t->backoff_ms * 2 > SMS_BACKOFF_MAX_MS ? SMS_BACKOFF_MAX_MS : t->backoff_ms * 2;
}

static void refresh_status(struct sms_t *t)
{
	int dbm = 1, reg = 0;
	if (t->m && modem_signal(t->m, SMS_CMD_TIMEOUT_MS, &dbm) == 0 &&
	    modem_registered(t->m, SMS_CMD_TIMEOUT_MS, &reg) == 0) {
		pthread_mutex_lock(&t->mu);
		t->signal_dbm = dbm;
		t->registered = reg;
		pthread_mutex_unlock(&t->mu);
		set_health(t, reg, reg ? NULL : "modem is not registered on a network");
	}
	t->next_status_ms = time_mono_ms() + SMS_STATUS_EVERY_MS;
}

/* Opens and initialises the modem if it is not; 0 when ready. */
static int ensure_modem(struct sms_t *t)
{
	char why[280];
	enum modem_sim sim;
	uint32_t sup;
	int rc, was_down = !t->up;
	if (t->m)
		return 0;
	if (time_mono_ms() < t->next_open_ms)
		return -EAGAIN;
	if (!(t->m = modem_open(t->device, t->baud, t->wake[0]))) {
		rc = -errno;
		snprintf(why, sizeof why, "modem %.200s: %s", t->device, strerror(-rc));
		goto fail;
	}
	if ((rc = modem_init(t->m, t->pin, SMS_CMD_TIMEOUT_MS, &sim, why, sizeof why)) < 0) {
		char w2[sizeof why];
		memcpy(w2, why, sizeof w2);
		snprintf(why, sizeof why, "modem %.100s: %.150s", t->device, w2);
		pthread_mutex_lock(&t->mu);
		t->sim_ready = sim == MODEM_SIM_READY;
		pthread_mutex_unlock(&t->mu);
		goto fail;
	}
	t->backoff_ms = SMS_BACKOFF_MIN_MS;
	pthread_mutex_lock(&t->mu);
	t->sim_ready = 1;
	pthread_mutex_unlock(&t->mu);
	set_health(t, 1, NULL);
	refresh_status(t);
	if (was_down)
		log_info("output %s: modem %s ready", t->name, t->device);
	return 0;
fail:
	if (log_rl_allow(&t->rl, 60000, &sup))
		log_warn("output %s: %s (%u more)", t->name, why, sup);
	if (t->m)
		drop_modem(t, why);
	else
		set_health(t, 0, why), t->next_open_ms = time_mono_ms() + t->backoff_ms,
		t->backoff_ms = t->backoff_ms * 2 > SMS_BACKOFF_MAX_MS ? SMS_BACKOFF_MAX_MS : t->backoff_ms * 2;
	return rc < 0 ? rc : -EIO;
}

void *transport_sms_new(const struct cc_sms_conf *c, const char *state_dir)
{
	struct sms_t *t = calloc(1, sizeof *t);
	(void)state_dir;
	if (!t)
		return NULL;
	t->wake[0] = t->wake[1] = -1;
	t->name = strdup(c->c.name ? c->c.name : "sms");
	t->device = c->device ? strdup(c->device) : NULL;
	t->pin = c->pin ? strdup(c->pin) : NULL;
	t->baud = c->baud > 0 ? c->baud : 115200;
	t->replies = c->replies;
	t->max_parts = c->max_parts >= 1 && c->max_parts <= SMS_MAX_PARTS ? c->max_parts : 3;
	t->backoff_ms = SMS_BACKOFF_MIN_MS;
	t->signal_dbm = 1;
	snprintf(t->why, sizeof t->why, "modem %s not opened yet", c->device ? c->device : "?");
	pthread_mutex_init(&t->mu, NULL);
	if (!t->name || !t->device || (c->pin && !t->pin) || pipe2(t->wake, O_CLOEXEC | O_NONBLOCK) < 0) {
		int e = t->device ? errno : EINVAL;
		transport_sms_ops.free(t);
		errno = e ? e : ENOMEM;
		return NULL;
	}
	return t;
}

/* A phone number the modem can dial: E.164 "+84..." or a national number,
 * digits only; anything else would never work. */
static int number_valid(const char *a)
{
	size_t n;
	if (!a)
		return 0;
	if (*a == '+')
		a++;
	n = strlen(a);
	return n >= 3 && n <= 20 && strspn(a, "0123456789") == n;
}

/* What a +CMS / +CME error means for this message (3GPP TS 27.005 §3.2.5:
 * 1..127 are the network's RP causes of TS 24.011, 300.. the ME's own). */
static enum transport_status classify(const struct modem_reply *r)
{
	if (r->final == MODEM_CME_ERROR && r->code == 27)
		return TR_REFUSED; /* invalid characters in dial string */
	if (r->final != MODEM_CMS_ERROR)
		return TR_RETRY;
	switch (r->code) {
	case 1:  /* unassigned (unallocated) number */
	case 21: /* short message transfer rejected */
		return TR_REFUSED;
	case 8:  /* operator determined barring (a prepaid SIM out of credit) */
	case 10: /* call barred */
	case 50: /* requested facility not subscribed */
		return TR_AUTH;
	default: /* 38 network out of order, 41/42 temporary/congestion, 330 SMSC
		  * address unknown, 331 no network service, 332 network timeout... */
		return TR_RETRY;
	}
}

/* a and b, apart (0xFF is in no UTF-8 text); in memory only. */
static uint64_t resume_key(const char *a, const char *b)
{
	return fnv1a64_add_str(fnv1a64_byte(fnv1a64_str(a), 0xFF), b);
}

static const char *io_error(int rc)
{
	return rc == -ENODEV ? "the device went away (unplugged?)"
	     : rc == -ETIMEDOUT ? "no answer within the deadline" : strerror(-rc);
}

static void drain_wake(struct sms_t *t)
{
	char b[64];
	while (read(t->wake[0], b, sizeof b) > 0)
		;
}

/* Sends one part; 0 on +CMGS, else fills r. */
static int send_part(struct sms_t *t, const char *address, const char *part, enum sms_charset cs,
		     struct modem_reply *mr, struct transport_result *r)
{
	char gsm[2 * SMS_GSM7_MAX + 8], *payload = NULL;
	int rc, ref = -1;
	if ((rc = modem_charset(t->m, cs == SMS_UCS2, SMS_CMD_TIMEOUT_MS, mr)) < 0)
		goto io;
	if (cs == SMS_UCS2)
		payload = sms_ucs2_hex(part);
	else if (sms_gsm_encode(part, gsm, sizeof gsm) >= 0)
		payload = strdup(gsm);
	if (!payload) {
		r->status = TR_REFUSED;
		snprintf(r->error, sizeof r->error, "text cannot be encoded");
		return -EINVAL;
	}
	rc = modem_send(t->m, address, payload, SMS_SEND_TIMEOUT_MS, mr, &ref);
	free(payload);
	if (rc < 0)
		goto io;
	if (mr->final == MODEM_OK)
		return 0;
	r->status = classify(mr);
	snprintf(r->error, sizeof r->error, "%s %d", mr->final == MODEM_CMS_ERROR ? "+CMS ERROR:"
		 : mr->final == MODEM_CME_ERROR ? "+CME ERROR:" : "ERROR", mr->code);
	if (mr->final == MODEM_CMS_ERROR && mr->code >= 310 && mr->code <= 318)
		drop_modem(t, "SIM failed while sending");
	return -EPROTO;
io:
	r->status = TR_RETRY;
	snprintf(r->error, sizeof r->error, "modem %s: %s", t->device,
		 rc == -EINTR ? "interrupted" : io_error(rc));
	if (rc != -EINTR)
		drop_modem(t, r->error);
	return rc;
}

static void sms_send(void *tv, const char *address, const struct transport_msg *m,
		     struct transport_result *r)
{
	struct sms_t *t = tv;
	struct sms_parts p;
	struct modem_reply *mr = NULL;
	uint64_t h;
	size_t k = 0;
	if (!number_valid(address) || sms_split(m->text, t->max_parts, &p) < 0) {
		r->status = TR_REFUSED;
		snprintf(r->error, sizeof r->error, "%s", number_valid(address) ? "text is not UTF-8" : "not a phone number");
		count(t, 0);
		return;
	}
	drain_wake(t);
	if (ensure_modem(t) < 0) {
		r->status = TR_RETRY;
		pthread_mutex_lock(&t->mu);
		snprintf(r->error, sizeof r->error, "%.250s", t->why);
		pthread_mutex_unlock(&t->mu);
		r->retry_after_ms = t->next_open_ms - time_mono_ms();
		goto out;
	}
	h = resume_key(address, m->text);
	if (t->resume_addr && strcmp(t->resume_addr, address) == 0 && t->resume_hash == h)
		k = t->resume_part; /* the parts before it reached the network already */
	if (!(mr = malloc(sizeof *mr))) {
		r->status = TR_RETRY;
		goto out;
	}
	for (; k < p.n; k++) {
		if (send_part(t, address, p.part[k], p.cs, mr, r) < 0) {
			count(t, 0);
			free(t->resume_addr);
			t->resume_addr = r->status == TR_RETRY ? strdup(address) : NULL;
			t->resume_hash = h;
			t->resume_part = k;
			goto out;
		}
		count(t, 1);
	}
	free(t->resume_addr);
	t->resume_addr = NULL;
	r->status = TR_OK;
out:
	free(mr);
	sms_parts_free(&p);
}

struct reply_ctx {
	transport_reply_fn fn;
	void *arg;
};

static void on_sms(void *arg, const char *number, const char *text)
{
	struct reply_ctx *c = arg;
	c->fn(c->arg, number, text);
}

static int sms_poll_replies(void *tv, transport_reply_fn fn, void *arg)
{
	struct sms_t *t = tv;
	struct reply_ctx c = { fn, arg };
	int rc;
	drain_wake(t);
	if ((rc = ensure_modem(t)) < 0)
		return rc;
	if (time_mono_ms() >= t->next_status_ms)
		refresh_status(t);
	if (!t->replies || !t->m)
		return 0;
	if ((rc = modem_new_sms(t->m)) == 0 && time_mono_ms() < t->next_list_ms)
		return 0;
	if (rc >= 0) {
		t->next_list_ms = time_mono_ms() + SMS_LIST_EVERY_MS;
		rc = modem_read_sms(t->m, SMS_CMD_TIMEOUT_MS, on_sms, &c);
	}
	if (rc < 0 && rc != -EINTR && rc != -EPROTO) {
		char why[160];
		snprintf(why, sizeof why, "modem %.100s: %s", t->device, io_error(rc));
		drop_modem(t, why);
	}
	return rc;
}

static void sms_stats(void *tv, struct lp_buf *b, const char *output, const char *site, int64_t ts_ns)
{
	struct sms_t *t = tv;
	struct lp_tag tags[] = { { "output", output }, { "site", site } };
	struct lp_field f[5];
	size_t n = 0;
	pthread_mutex_lock(&t->mu);
	if (t->signal_dbm <= 0)
		f[n++] = (struct lp_field){ .key = "signal_dbm", .type = LP_INT, .v.i = t->signal_dbm };
	f[n++] = (struct lp_field){ .key = "registered", .type = LP_BOOL, .v.b = t->registered };
	f[n++] = (struct lp_field){ .key = "sim_ready", .type = LP_BOOL, .v.b = t->sim_ready };
	f[n++] = (struct lp_field){ .key = "sent", .type = LP_INT, .v.i = (int64_t)t->sent };
	f[n++] = (struct lp_field){ .key = "errors", .type = LP_INT, .v.i = (int64_t)t->errors };
	pthread_mutex_unlock(&t->mu);
	(void)lp_encode(b, "coldchaind_modem", tags, 2, f, n, ts_ns);
}

static int sms_healthy(void *tv, char *why, size_t n)
{
	struct sms_t *t = tv;
	int up;
	pthread_mutex_lock(&t->mu);
	up = t->up;
	if (!up)
		snprintf(why, n, "%s", t->why);
	pthread_mutex_unlock(&t->mu);
	return up;
}

static void sms_wakeup(void *tv)
{
	struct sms_t *t = tv;
	ssize_t w = write(t->wake[1], "w", 1);
	(void)w;
}

static void sms_free(void *tv)
{
	struct sms_t *t = tv;
	if (!t)
		return;
	modem_close(t->m);
	if (t->wake[0] >= 0)
		close(t->wake[0]), close(t->wake[1]);
	if (t->pin)
		explicit_bzero(t->pin, strlen(t->pin));
	free(t->pin);
	free(t->name);
	free(t->device);
	free(t->resume_addr);
	pthread_mutex_destroy(&t->mu);
	free(t);
}

const struct transport_ops transport_sms_ops = {
	.kind = "sms",
	.send = sms_send,
	.poll_replies = sms_poll_replies,
	.stats = sms_stats,
	.healthy = sms_healthy,
	.wakeup = sms_wakeup,
	.free = sms_free,
};
