/* channel.c - the notification core (channel.h): one output per channel
 * to people.  For each alert event: route (route.c) -> for each recipient
 * render (message.c) and send through the transport; the journal position
 * moves only once every recipient got it, was held, or was refused for
 * good.  The recipients served are written (atomically) to the channel's
 * state file before the next one is tried, so a crash repeats nobody; the
 * same file keeps held (quiet hours, digest) messages and the alarms seen
 * (escalation steps, since when, short reply ids). */
#include "channel.h"

#include <cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../daemon/config.h"
#include "../daemon/log.h"
#include "../codec/sms.h"
#include "../daemon/util.h"
#include "../util/hash.h"
#include "message.h"
#include "output.h"
#include "route.h"

struct held {
	char *to, *alarm_id, *subject, *text, *line;
	int64_t due_ns;
	int digest, critical;
	int more; /* older held messages of the same recipient dropped in its favour */
};

struct alarm_mem {
	char id[96];
	int steps;
	int64_t since_ns;
	int64_t seen_ns;
};

struct channel {
	char *name, *kind, *site, *state_path;
	struct cc_config *cfg; /* private copy: recipients and routes */
	const struct transport_ops *ops;
	void *t;
	struct channel_clock clk;
	int64_t timeout_ms;
	/* token bucket */
	double tokens, burst, per_ms;
	int64_t refill_ms;
	/* progress of the current event */
	uint64_t ev_hash;
	int ev_complete;
	char **done;
	size_t ndone;
	/* held messages and alarms */
	struct held *held;
	size_t nheld;
	struct alarm_mem *alarms;
	size_t nalarms;
	int64_t next_reply_ms, held_retry_ms;
	struct channel_stats st;
	struct log_rl rl_refused, rl_reply, rl_state;
	/* the answer to a reply with an unknown id, sent after the poll */
	char *link; /* web.public_url, or NULL */
	char answer_to[64], answer_id[8];
	const char *answer_lang;
	int64_t answer_last_ms;
	/* sleep_ms of the real clock, cut short by wakeup */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int stopping;
	/* the transport is used by the output's thread and by a test message
	 * from the control socket: one at a time */
	pthread_mutex_t tmu;
	int healthy;   /* the transport's last answer (healthy op) */
	char why[160];
	int loaded; /* the state file is read on the output's thread, at its first call:
		     * after a reload the previous output has stopped writing it */
};

static output_ack_fn ack_fn;
static void *ack_arg;

void output_channels_set_ack(output_ack_fn fn, void *arg)
{
	ack_fn = fn;
	ack_arg = arg;
}

/* ---- clocks ---------------------------------------------------------------- */

static int64_t real_mono(void *arg)
{
	(void)arg;
	return time_mono_ms();
}

static int64_t real_wall(void *arg)
{
	(void)arg;
	return time_now_ns();
}

static int real_sleep(void *arg, int64_t ms)
{
	struct channel *ch = arg;
	struct timespec ts;
	int stop;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += (time_t)(ms / 1000);
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L)
		ts.tv_sec++, ts.tv_nsec -= 1000000000L;
	pthread_mutex_lock(&ch->mu);
	if (!ch->stopping)
		pthread_cond_timedwait(&ch->cv, &ch->mu, &ts);
	stop = ch->stopping;
	pthread_mutex_unlock(&ch->mu);
	return stop;
}

/* ---- the configuration's copy ------------------------------------------- */

static char **dup_names(char *const *v, size_t n)
{
	char **d = xcalloc(n + 1, sizeof(*d));

	for (size_t i = 0; i < n; i++)
		d[i] = xstrdup(v[i]);
	return d;
}

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static struct cc_config *copy_people(const struct cc_config *cfg)
{
	struct cc_config *c = xcalloc(1, sizeof(*c));

	c->site = dup_or_null(cfg->site);
	c->recipients = xcalloc(cfg->nrecipients + 1, sizeof(*c->recipients));
	for (size_t i = 0; i < cfg->nrecipients; i++) {
		const struct cc_recipient_conf *s = &cfg->recipients[i];
		struct cc_recipient_conf *d = &c->recipients[c->nrecipients++];
		*d = *s;
		d->name = dup_or_null(s->name), d->lang = dup_or_null(s->lang), d->email = dup_or_null(s->email);
		d->telegram = dup_or_null(s->telegram), d->zalo = dup_or_null(s->zalo), d->phone = dup_or_null(s->phone);
		d->quiet_hours = dup_or_null(s->quiet_hours);
	}
	c->rooms = xcalloc(cfg->nrooms + 1, sizeof(*c->rooms));
	for (size_t i = 0; i < cfg->nrooms; i++) {
		const struct cc_room_conf *s = &cfg->rooms[i];
		struct cc_room_conf *d = &c->rooms[c->nrooms++];
		d->name = dup_or_null(s->name);
		d->advice_rule = dup_names(s->advice_rule, s->nadvice);
		d->advice_text = dup_names(s->advice_text, s->nadvice);
		d->nadvice = s->nadvice;
	}
	c->routes = xcalloc(cfg->nroutes + 1, sizeof(*c->routes));
	for (size_t i = 0; i < cfg->nroutes; i++) {
		const struct cc_route_conf *s = &cfg->routes[i];
		struct cc_route_conf *d = &c->routes[c->nroutes++];
		*d = *s;
		d->name = dup_or_null(s->name), d->digest_at = dup_or_null(s->digest_at);
		d->rooms = dup_names(s->rooms, s->nrooms), d->kinds = dup_names(s->kinds, s->nkinds);
		d->to = dup_names(s->to, s->nto), d->chain = dup_names(s->chain, s->nchain);
		d->via = dup_names(s->via, s->nvia);
	}
	return c;
}

static void free_names(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void free_people(struct cc_config *c)
{
	for (size_t i = 0; i < c->nrecipients; i++) {
		struct cc_recipient_conf *r = &c->recipients[i];
		free(r->name), free(r->lang), free(r->email), free(r->telegram), free(r->zalo), free(r->phone);
		free(r->quiet_hours);
	}
	for (size_t i = 0; i < c->nroutes; i++) {
		struct cc_route_conf *r = &c->routes[i];
		free(r->name), free(r->digest_at);
		free_names(r->rooms, r->nrooms), free_names(r->kinds, r->nkinds), free_names(r->to, r->nto);
		free_names(r->chain, r->nchain), free_names(r->via, r->nvia);
	}
	for (size_t i = 0; i < c->nrooms; i++) {
		struct cc_room_conf *r = &c->rooms[i];
		free(r->name), free_names(r->advice_rule, r->nadvice), free_names(r->advice_text, r->nadvice);
	}
	free(c->rooms), free(c->recipients), free(c->routes), free(c->site), free(c);
}

/* ---- the state file ------------------------------------------------------- */

static void held_free(struct held *h)
{
	free(h->to), free(h->alarm_id), free(h->subject), free(h->text), free(h->line);
}

static cJSON *state_json(const struct channel *ch)
{
	cJSON *o = cJSON_CreateObject(), *a;
	char hx[24];

	snprintf(hx, sizeof(hx), "%016llx", (unsigned long long)ch->ev_hash);
	cJSON_AddStringToObject(o, "event", hx);
	cJSON_AddBoolToObject(o, "complete", ch->ev_complete);
	a = cJSON_AddArrayToObject(o, "done");
	for (size_t i = 0; i < ch->ndone; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(ch->done[i]));
	a = cJSON_AddArrayToObject(o, "held");
	for (size_t i = 0; i < ch->nheld; i++) {
		const struct held *h = &ch->held[i];
		cJSON *e = cJSON_CreateObject();
		cJSON_AddStringToObject(e, "to", h->to);
		cJSON_AddStringToObject(e, "alarm", h->alarm_id ? h->alarm_id : "");
		cJSON_AddStringToObject(e, "subject", h->subject ? h->subject : "");
		cJSON_AddStringToObject(e, "text", h->text ? h->text : "");
		cJSON_AddStringToObject(e, "line", h->line ? h->line : "");
		cJSON_AddNumberToObject(e, "due", (double)h->due_ns);
		cJSON_AddBoolToObject(e, "digest", h->digest);
		cJSON_AddBoolToObject(e, "critical", h->critical);
		cJSON_AddNumberToObject(e, "more", h->more);
		cJSON_AddItemToArray(a, e);
	}
	a = cJSON_AddArrayToObject(o, "alarms");
	for (size_t i = 0; i < ch->nalarms; i++) {
		cJSON *e = cJSON_CreateObject();
		cJSON_AddStringToObject(e, "id", ch->alarms[i].id);
		cJSON_AddNumberToObject(e, "steps", ch->alarms[i].steps);
		cJSON_AddNumberToObject(e, "since", (double)ch->alarms[i].since_ns);
		cJSON_AddNumberToObject(e, "seen", (double)ch->alarms[i].seen_ns);
		cJSON_AddItemToArray(a, e);
	}
	return o;
}

/* Written to a temporary file, synced, renamed over the old one: a crash
 * leaves the old state or the new, never a mix.  -errno on failure. */
static int state_save(struct channel *ch)
{
	cJSON *o = state_json(ch);
	char *txt = cJSON_PrintUnformatted(o), *tmp = xasprintf("%s.tmp", ch->state_path);
	int fd = -1, e = 0;
	size_t len = txt ? strlen(txt) : 0;

	cJSON_Delete(o);
	if (!txt)
		e = -ENOMEM;
	else if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0)
		e = -errno;
	else if (write(fd, txt, len) != (ssize_t)len || fsync(fd) < 0)
		e = errno ? -errno : -EIO;
	if (fd >= 0 && close(fd) < 0 && !e)
		e = -errno;
	if (!e && rename(tmp, ch->state_path) < 0)
		e = -errno;
	if (e) {
		uint32_t supp;
		unlink(tmp);
		if (log_rl_allow(&ch->rl_state, 60000, &supp))
			log_err("output %s: cannot write %s: %s", ch->name, ch->state_path, strerror(-e));
	}
	free(tmp);
	free(txt);
	return e;
}

static const char *jstr(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) ? v->valuestring : "";
}

static double jnum(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

static void state_load_lists(struct channel *ch, const cJSON *o)
{
	const cJSON *e;

	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(o, "done"))
		if (cJSON_IsString(e) && ch->ndone < ROUTE_MAX_TARGETS) {
			ch->done = realloc(ch->done, (ch->ndone + 1) * sizeof(*ch->done));
			ch->done[ch->ndone++] = xstrdup(e->valuestring);
		}
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(o, "held")) {
		struct held h = { xstrdup(jstr(e, "to")), xstrdup(jstr(e, "alarm")), xstrdup(jstr(e, "subject")),
				  xstrdup(jstr(e, "text")), xstrdup(jstr(e, "line")), (int64_t)jnum(e, "due"),
				  cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "digest")),
				  cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "critical")), (int)jnum(e, "more") };
		ch->held = realloc(ch->held, (ch->nheld + 1) * sizeof(*ch->held));
		ch->held[ch->nheld++] = h;
	}
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(o, "alarms")) {
		if (ch->nalarms >= CHANNEL_MAX_ALARMS)
			break;
		struct alarm_mem *a = &ch->alarms[ch->nalarms++];
		snprintf(a->id, sizeof(a->id), "%s", jstr(e, "id"));
		a->steps = (int)jnum(e, "steps");
		a->since_ns = (int64_t)jnum(e, "since");
		a->seen_ns = (int64_t)jnum(e, "seen");
	}
}

static void state_load(struct channel *ch)
{
	FILE *f = fopen(ch->state_path, "re");
	char *buf;
	size_t n;
	cJSON *o;

	if (!f)
		return;
	buf = xcalloc(1, CHANNEL_STATE_MAX + 1);
	n = fread(buf, 1, CHANNEL_STATE_MAX + 1, f);
	fclose(f);
	if (n > CHANNEL_STATE_MAX || !(o = cJSON_ParseWithLength(buf, n))) {
		log_err("output %s: %s is damaged or too large: starting without it (held messages lost)", ch->name,
			ch->state_path);
		free(buf);
		return;
	}
	free(buf);
	ch->ev_hash = strtoull(jstr(o, "event"), NULL, 16);
	ch->ev_complete = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "complete"));
	state_load_lists(ch, o);
	cJSON_Delete(o);
}

static void ensure_loaded(struct channel *ch)
{
	if (!ch->loaded) {
		ch->loaded = 1;
		state_load(ch);
	}
}

/* ---- alarms seen ---------------------------------------------------------- */

static struct alarm_mem *alarm_find(struct channel *ch, const char *id)
{
	for (size_t i = 0; i < ch->nalarms; i++)
		if (strcmp(ch->alarms[i].id, id) == 0)
			return &ch->alarms[i];
	return NULL;
}

/* Found or added (the least recently seen one makes room). */
static struct alarm_mem *alarm_get(struct channel *ch, const struct route_event *ev, int64_t now_ns)
{
	struct alarm_mem *a = alarm_find(ch, ev->id);
	size_t old = 0;

	if (a)
		return a;
	if (ch->nalarms == CHANNEL_MAX_ALARMS) {
		for (size_t i = 1; i < ch->nalarms; i++)
			if (ch->alarms[i].seen_ns < ch->alarms[old].seen_ns)
				old = i;
		a = &ch->alarms[old];
	} else {
		a = &ch->alarms[ch->nalarms++];
	}
	memset(a, 0, sizeof(*a));
	snprintf(a->id, sizeof(a->id), "%s", ev->id);
	a->since_ns = ev->time_ns ? ev->time_ns : now_ns;
	a->seen_ns = now_ns;
	return a;
}

/* After every recipient had the event: the chain moves, a new raise starts
 * over, a finished alarm is forgotten. */
static void alarm_after(struct channel *ch, const struct route_event *ev, struct alarm_mem *a)
{
	enum route_class c = route_classify(ev);

	if (c == RC_RAISE) {
		a->steps = 0;
		a->since_ns = ev->time_ns ? ev->time_ns : a->since_ns;
	} else if (c == RC_STEP && strcmp(ev->state, "acked") != 0) {
		a->steps++;
	}
	if (strcmp(ev->state, "inactive") == 0 || strcmp(ev->event, "reset") == 0)
		*a = ch->alarms[--ch->nalarms];
}

static void short_id(struct channel *ch, const char *alarm_id, char out[8])
{
	const char *ids[CHANNEL_MAX_ALARMS];

	for (size_t i = 0; i < ch->nalarms; i++)
		ids[i] = ch->alarms[i].id;
	message_short_id_unique(alarm_id, ids, ch->nalarms, out);
}

/* ---- rate limit ------------------------------------------------------------ */

static void refill(struct channel *ch)
{
	int64_t now = ch->clk.mono_ms(ch->clk.arg);

	if (now > ch->refill_ms) {
		ch->tokens += (double)(now - ch->refill_ms) * ch->per_ms;
		if (ch->tokens > ch->burst)
			ch->tokens = ch->burst;
	}
	ch->refill_ms = now;
}

/* Takes a token, waiting for it when wait; 0, or -EAGAIN (no token, or stopping). */
static int take_token(struct channel *ch, int wait)
{
	for (;;) {
		refill(ch);
		if (ch->tokens >= 1.0) {
			ch->tokens -= 1.0;
			return 0;
		}
		if (!wait)
			return -EAGAIN;
		if (ch->clk.sleep_ms(ch->clk.arg, (int64_t)((1.0 - ch->tokens) / ch->per_ms) + 1))
			return -EAGAIN;
	}
}

/* ---- one event ------------------------------------------------------------ */

/* The event's hash, kept in the state file ("event"): its basis is not
 * FNV's (a digit short of 14695981039346656037) and stays so, or an event
 * delivered before an upgrade would be delivered again after it. */
#define EVENT_HASH_BASIS 1469598103934665603ULL

static uint64_t event_hash(const char *s, size_t n)
{
	uint64_t h = fnv1a64_add(EVENT_HASH_BASIS, s, n);

	return h ? h : 1;
}

static int is_done(const struct channel *ch, const char *name)
{
	for (size_t i = 0; i < ch->ndone; i++)
		if (strcmp(ch->done[i], name) == 0)
			return 1;
	return 0;
}

static void mark_done(struct channel *ch, const char *name)
{
	ch->done = realloc(ch->done, (ch->ndone + 1) * sizeof(*ch->done));
	ch->done[ch->ndone++] = xstrdup(name);
}

static void done_clear(struct channel *ch)
{
	free_names(ch->done, ch->ndone);
	ch->done = NULL;
	ch->ndone = 0;
}

/* Holds m for recipient to until due; past CHANNEL_MAX_HELD of theirs the
 * oldest is dropped (its summary line stays in the next message: "and K more"). */
static void hold(struct channel *ch, const struct route_target *t, const struct message *m, const char *line,
		 const struct route_event *ev)
{
	size_t mine = 0, oldest = SIZE_MAX, next = SIZE_MAX;
	struct held h = { xstrdup(t->r->name), xstrdup(ev->id), xstrdup(m->subject), xstrdup(m->text), xstrdup(line),
			  t->hold_until_ns, t->digest, route_urgent(ev), 0 };

	for (size_t i = 0; i < ch->nheld; i++)
		if (strcmp(ch->held[i].to, t->r->name) == 0 && ch->held[i].digest == t->digest) {
			mine++;
			if (oldest == SIZE_MAX)
				oldest = i;
			else if (next == SIZE_MAX)
				next = i;
		}
	if (mine >= CHANNEL_MAX_HELD && oldest != SIZE_MAX) {
		if (next != SIZE_MAX)
			ch->held[next].more += ch->held[oldest].more + 1;
		else
			h.more += ch->held[oldest].more + 1;
		held_free(&ch->held[oldest]);
		memmove(&ch->held[oldest], &ch->held[oldest + 1], (ch->nheld - oldest - 1) * sizeof(*ch->held));
		ch->nheld--;
		ch->st.held_dropped++;
	}
	ch->held = realloc(ch->held, (ch->nheld + 1) * sizeof(*ch->held));
	ch->held[ch->nheld++] = h;
	ch->st.held++;
}

static void log_refused(struct channel *ch, const char *who, const char *error)
{
	uint32_t supp;

	ch->st.refused++;
	if (log_rl_allow(&ch->rl_refused, 10000, &supp))
		log_warn("output %s: %s refused for good, skipped: %s%s", ch->name, who, error,
			 supp ? " (more refusals suppressed)" : "");
}

/* Sends m to t now; 1 when finished with (accepted or refused for good),
 * 0 with r filled when the event must be retried. */
static int deliver(struct channel *ch, const char *who, const char *address, const struct transport_msg *tm,
		   struct send_result *r)
{
	struct transport_result tr;

	if (take_token(ch, 1) < 0) {
		r->status = SEND_RETRY;
		output_fmt(r->error, sizeof(r->error), "stopping while waiting for the rate limit");
		return 0;
	}
	memset(&tr, 0, sizeof(tr));
	pthread_mutex_lock(&ch->tmu);
	ch->ops->send(ch->t, address, tm, &tr);
	pthread_mutex_unlock(&ch->tmu);
	switch (tr.status) {
	case TR_OK:
		ch->st.sent++;
		return 1;
	case TR_REFUSED:
		log_refused(ch, who, tr.error);
		return 1;
	case TR_AUTH:
		r->status = SEND_AUTH;
		break;
	case TR_RETRY:
	default:
		r->status = SEND_RETRY;
		break;
	}
	ch->st.retried++;
	r->retry_after_ms = tr.retry_after_ms;
	output_fmt(r->error, sizeof(r->error), "to %s: %s", who, tr.error[0] ? tr.error : "failed");
	return 0;
}

/* The room's advice for the alarm's rule, or NULL. */
static const char *advice_for(const struct channel *ch, const struct route_event *ev)
{
	for (size_t i = 0; i < ch->cfg->nrooms; i++) {
		const struct cc_room_conf *r = &ch->cfg->rooms[i];
		if (!r->name || strcmp(r->name, ev->room) != 0)
			continue;
		for (size_t k = 0; k < r->nadvice; k++)
			if (strcmp(r->advice_rule[k], ev->rule) == 0)
				return r->advice_text[k];
	}
	return NULL;
}

static void render_for(struct channel *ch, const struct route_target *t, const struct route_event *ev,
		       const struct alarm_mem *a, struct message *m, char *line, size_t linesz)
{
	char sid[8];
	struct message_ctx c = { ch->site, t->lang, message_style(ch->kind), NULL, advice_for(ch, ev), a->since_ns,
				 ch->clk.wall_ns(ch->clk.arg), ch->link };

	if (ch->ops->poll_replies) {
		short_id(ch, ev->id, sid);
		c.short_id = sid;
	}
	message_render(&c, ev, m);
	message_render_line(&c, ev, line, linesz);
}

/* Every recipient of ev not yet served; 1 when all are, else 0 (r filled). */
static int serve_all(struct channel *ch, const struct route_event *ev, struct alarm_mem *a, struct send_result *r)
{
	struct route_target t[ROUTE_MAX_TARGETS];
	int64_t now = ch->clk.wall_ns(ch->clk.arg);
	size_t n = route_plan(ch->cfg, ch->name, ch->kind, ev, a->steps, now, t, ROUTE_MAX_TARGETS);

	for (size_t i = 0; i < n; i++) {
		struct message m;
		char line[512];
		struct transport_msg tm;

		if (is_done(ch, t[i].r->name))
			continue;
		render_for(ch, &t[i], ev, a, &m, line, sizeof(line));
		tm = (struct transport_msg){ m.subject[0] ? m.subject : NULL, m.text, ev->id, route_urgent(ev) };
		if (t[i].hold_until_ns)
			hold(ch, &t[i], &m, line, ev);
		else if (!deliver(ch, t[i].r->name, t[i].address, &tm, r))
			return 0;
		mark_done(ch, t[i].r->name);
		state_save(ch); /* before the next recipient is tried */
	}
	return 1;
}

void channel_send_event(struct channel *ch, const char *data, size_t len, struct send_result *r)
{
	struct route_event ev;
	uint64_t h;
	struct alarm_mem *a;

	ensure_loaded(ch);
	while (len && (data[len - 1] == '\n' || data[len - 1] == '\r'))
		len--;
	r->status = SEND_OK;
	r->done = 1;
	if (route_event_parse(data, len, &ev) < 0 || route_classify(&ev) == RC_SKIP)
		return;
	h = event_hash(data, len);
	if (h == ch->ev_hash && ch->ev_complete)
		return; /* delivered before a crash that kept the journal position back */
	if (h != ch->ev_hash) {
		ch->ev_hash = h;
		ch->ev_complete = 0;
		done_clear(ch);
	}
	a = alarm_get(ch, &ev, ch->clk.wall_ns(ch->clk.arg));
	a->seen_ns = ch->clk.wall_ns(ch->clk.arg);
	if (!serve_all(ch, &ev, a, r)) {
		r->done = 0;
		return;
	}
	alarm_after(ch, &ev, a);
	ch->ev_complete = 1;
	done_clear(ch);
	state_save(ch);
}

/* ---- held messages, digests, replies: the tick --------------------------- */

static void held_remove(struct channel *ch, size_t i)
{
	held_free(&ch->held[i]);
	memmove(&ch->held[i], &ch->held[i + 1], (ch->nheld - i - 1) * sizeof(*ch->held));
	ch->nheld--;
}

/* Sends one held message (or digest text); 1 when finished with, 0 to retry later. */
static int send_held(struct channel *ch, const char *to, const char *subject, const char *text, const char *alarm,
		     int critical)
{
	const struct cc_recipient_conf *rc = config_recipient(ch->cfg, to);
	const char *addr = rc ? config_recipient_address(rc, ch->kind) : NULL;
	struct transport_msg tm = { subject && subject[0] ? subject : NULL, text, alarm && alarm[0] ? alarm : NULL,
				    critical };
	struct send_result r;

	if (!addr)
		return 1; /* no longer on this channel (a reload): nothing to do */
	if (take_token(ch, 0) < 0)
		return 0;
	memset(&r, 0, sizeof(r));
	if (deliver(ch, to, addr, &tm, &r))
		return 1;
	ch->held_retry_ms = ch->clk.mono_ms(ch->clk.arg) + (r.retry_after_ms > 30000 ? r.retry_after_ms : 30000);
	return 0;
}

static void append_more(const char *lang, int more, char *text, size_t size)
{
	size_t off = strlen(text);

	if (more > 0 && off < size)
		snprintf(text + off, size - off, "\n(%s %d)", message_word(lang, "and more:"), more);
}

/* The due held messages of one recipient, not digests: one by one. */
static int flush_held(struct channel *ch, int64_t now)
{
	for (size_t i = 0; i < ch->nheld;) {
		struct held *h = &ch->held[i];
		char text[MESSAGE_TEXT_MAX];
		const struct cc_recipient_conf *rc;

		if (h->digest || h->due_ns > now) {
			i++;
			continue;
		}
		rc = config_recipient(ch->cfg, h->to);
		snprintf(text, sizeof(text), "%s", h->text);
		append_more(rc ? rc->lang : "vi", h->more, text, sizeof(text));
		if (!send_held(ch, h->to, h->subject, text, h->alarm_id, h->critical))
			return -1;
		held_remove(ch, i);
		state_save(ch);
	}
	return 0;
}

/* One digest per recipient with digest messages due: their lines in one text. */
static int flush_digests(struct channel *ch, int64_t now)
{
	for (size_t i = 0; i < ch->nheld; i++) {
		const struct held *h = &ch->held[i];
		const struct cc_recipient_conf *rc;
		char text[MESSAGE_TEXT_MAX], subject[MESSAGE_SUBJECT_MAX], who[128];
		size_t off = 0;
		int more = 0;

		if (!h->digest || h->due_ns > now)
			continue;
		snprintf(who, sizeof(who), "%s", h->to);
		rc = config_recipient(ch->cfg, who);
		snprintf(subject, sizeof(subject), "[%s] %s", ch->site, message_word(rc ? rc->lang : "vi", "Daily summary"));
		off = (size_t)snprintf(text, sizeof(text), "%s:", subject);
		for (size_t k = i; k < ch->nheld; k++)
			if (ch->held[k].digest && ch->held[k].due_ns <= now && strcmp(ch->held[k].to, who) == 0) {
				if (off < sizeof(text))
					off += (size_t)snprintf(text + off, sizeof(text) - off, "\n- %s", ch->held[k].line);
				more += ch->held[k].more;
			}
		append_more(rc ? rc->lang : "vi", more, text, sizeof(text));
		if (!send_held(ch, who, subject, text, NULL, 0))
			return -1;
		for (size_t k = ch->nheld; k-- > i;)
			if (ch->held[k].digest && ch->held[k].due_ns <= now && strcmp(ch->held[k].to, who) == 0)
				held_remove(ch, k);
		state_save(ch);
		i--; /* the list moved under i */
	}
	return 0;
}

static void answer_send(struct channel *ch);

void channel_tick(struct channel *ch)
{
	int64_t mono = ch->clk.mono_ms(ch->clk.arg), now = ch->clk.wall_ns(ch->clk.arg);

	ensure_loaded(ch);
	if (ch->nheld && mono >= ch->held_retry_ms && flush_held(ch, now) == 0)
		flush_digests(ch, now);
	if (ch->ops->poll_replies && mono >= ch->next_reply_ms) {
		ch->next_reply_ms = mono + CHANNEL_REPLY_EVERY_MS;
		pthread_mutex_lock(&ch->tmu);
		ch->ops->poll_replies(ch->t, channel_reply, ch);
		pthread_mutex_unlock(&ch->tmu);
		if (ch->answer_to[0])
			answer_send(ch);
	}
}

/* "OK 7f3a", "ok 7F3A.", "đã xem 7f3a": the id, or NULL. */
static const char *reply_id(const char *text, char id[8])
{
	size_t n = 0;

	while (isspace((unsigned char)*text))
		text++;
	if (strncasecmp(text, "ok", 2) == 0)
		text += 2;
	else if (strncmp(text, "đã xem", strlen("đã xem")) == 0 || strncmp(text, "Đã xem", strlen("Đã xem")) == 0)
		text += strlen("đã xem");
	else
		return NULL;
	while (isspace((unsigned char)*text) || *text == ':')
		text++;
	while (n < 6 && isxdigit((unsigned char)text[n])) {
		id[n] = (char)tolower((unsigned char)text[n]);
		n++;
	}
	id[n] = '\0';
	return n >= 4 && !isalnum((unsigned char)text[n]) ? id : NULL;
}

/* The recipient whose address on this channel sent a reply.  SMS: a modem
 * may report +84987654321 as 84987654321 or 0987654321; the national form
 * matches only when exactly one recipient's number fits it. */
static const struct cc_recipient_conf *sender_of(const struct channel *ch, const char *address)
{
	const struct cc_recipient_conf *national = NULL;
	int nnational = 0, sms = strcmp(ch->kind, "sms") == 0;

	for (size_t i = 0; i < ch->cfg->nrecipients; i++) {
		const char *a = config_recipient_address(&ch->cfg->recipients[i], ch->kind);
		int m;
		if (!a)
			continue;
		if (strcmp(a, address) == 0)
			return &ch->cfg->recipients[i];
		m = sms ? sms_number_match(a, address) : 0;
		if (m == 2)
			return &ch->cfg->recipients[i];
		if (m == 1 && (!national || strcmp(national->name, ch->cfg->recipients[i].name) != 0)) {
			national = &ch->cfg->recipients[i];
			nnational++;
		}
	}
	return nnational == 1 ? national : NULL;
}

/* Whether text tries to acknowledge ("OK ...", "đã xem ..."), id or not. */
static int reply_attempt(const char *text)
{
	while (isspace((unsigned char)*text))
		text++;
	return strncasecmp(text, "ok", 2) == 0 || strncmp(text, "đã xem", strlen("đã xem")) == 0 ||
	       strncmp(text, "Đã xem", strlen("Đã xem")) == 0;
}

/* A recipient's "OK <id>" that fits no active alarm (or several) is answered
 * on the channel, in their language, at most once per
 * CHANNEL_ANSWER_EVERY_MS per channel (a loop of two bots, a flood of
 * wrong replies: one answer, the rest only counted). */
static void answer_later(struct channel *ch, const struct cc_recipient_conf *rc, const char *id)
{
	int64_t mono = ch->clk.mono_ms(ch->clk.arg);
	const char *addr = config_recipient_address(rc, ch->kind);

	if (!addr || ch->answer_to[0] || (ch->answer_last_ms && mono - ch->answer_last_ms < CHANNEL_ANSWER_EVERY_MS))
		return;
	ch->answer_last_ms = mono;
	strlcpy_cc(ch->answer_to, addr, sizeof(ch->answer_to));
	strlcpy_cc(ch->answer_id, id ? id : "", sizeof(ch->answer_id));
	ch->answer_lang = rc->lang;
}

static void answer_send(struct channel *ch)
{
	struct message_ctx c = { ch->site, ch->answer_lang ? ch->answer_lang : "vi", message_style(ch->kind), NULL,
				 NULL, 0, 0, NULL };
	struct transport_result tr;
	struct transport_msg tm;
	struct message m;

	message_render_unknown_id(&c, ch->answer_id, &m);
	tm = (struct transport_msg){ NULL, m.text, NULL, 0 };
	memset(&tr, 0, sizeof(tr));
	pthread_mutex_lock(&ch->tmu);
	ch->ops->send(ch->t, ch->answer_to, &tm, &tr);
	pthread_mutex_unlock(&ch->tmu);
	if (tr.status == TR_OK)
		ch->st.unknown_answered++;
	else
		log_warn("output %s: answering a reply with an unknown id failed: %s", ch->name,
			 tr.error[0] ? tr.error : "failed");
	ch->answer_to[0] = '\0';
}

void channel_reply(void *arg, const char *address, const char *text)
{
	struct channel *ch = arg;
	const struct cc_recipient_conf *rc = sender_of(ch, address);
	char id[8], sid[8], note[64];
	const char *alarm = NULL;
	uint32_t supp;

	ch->st.replies++;
	/* the id as sent, or a longer one: the one alarm whose 6 digits start with it */
	if (rc && reply_id(text, id))
		for (size_t i = 0; i < ch->nalarms; i++) {
			message_short_id(ch->alarms[i].id, 6, sid);
			if (strncmp(sid, id, strlen(id)) != 0)
				continue;
			if (alarm) {
				alarm = NULL; /* ambiguous: nobody is acknowledged by a guess */
				break;
			}
			alarm = ch->alarms[i].id;
		}
	if (!rc || !alarm) {
		ch->st.unknown_replies++;
		if (rc && reply_attempt(text))
			answer_later(ch, rc, reply_id(text, id));
		if (log_rl_allow(&ch->rl_reply, 10000, &supp))
			log_warn("output %s: reply ignored (%s)%s", ch->name,
				 !rc ? "not from a recipient's address" : "no active alarm has that id",
				 supp ? " (more suppressed)" : "");
		return;
	}
	snprintf(note, sizeof(note), "by %s reply", ch->kind);
	for (char *p = note + 3; *p && *p != ' '; p++)
		*p = (char)toupper((unsigned char)*p);
	if (ack_fn && ack_fn(ack_arg, alarm, rc->name, note) == 0) {
		ch->st.acks_by_reply++;
		log_info("output %s: alarm %s acknowledged by %s %s", ch->name, alarm, rc->name, note);
	} else {
		log_warn("output %s: acknowledging alarm %s by %s's reply failed", ch->name, alarm, rc->name);
	}
}

/* ---- life, stats, the test message -------------------------------------- */

struct channel *channel_new(const struct cc_config *cfg, const struct cc_channel_common *cc, const char *kind,
			    const struct transport_ops *ops, void *t, const char *state_dir,
			    const struct channel_clock *clk)
{
	struct channel *ch = xcalloc(1, sizeof(*ch));
	int rate = cc->rate_per_min > 0 ? cc->rate_per_min : 6;

	ch->name = xstrdup(cc->name);
	ch->kind = xstrdup(kind);
	ch->site = xstrdup(cfg->site ? cfg->site : "coldchaind");
	ch->link = cfg->web && cfg->web->public_url ? xstrdup(cfg->web->public_url) : NULL;
	ch->state_path = xasprintf("%s/channel-%s.state", state_dir ? state_dir : ".", cc->name);
	ch->cfg = copy_people(cfg);
	ch->ops = ops;
	ch->t = t;
	ch->timeout_ms = cc->timeout_ms;
	pthread_mutex_init(&ch->mu, NULL);
	pthread_cond_init(&ch->cv, NULL);
	ch->clk = clk ? *clk : (struct channel_clock){ real_mono, real_wall, real_sleep, ch };
	ch->per_ms = rate / 60000.0;
	ch->burst = rate >= 8 ? rate / 4.0 : 2.0; /* a few at once, then the channel's pace */
	ch->tokens = ch->burst;
	ch->refill_ms = ch->clk.mono_ms(ch->clk.arg);
	ch->alarms = xcalloc(CHANNEL_MAX_ALARMS, sizeof(*ch->alarms));
	pthread_mutex_init(&ch->tmu, NULL);
	ch->healthy = 1;
	return ch;
}

void channel_free(struct channel *ch)
{
	if (!ch)
		return;
	if (ch->ops && ch->ops->free)
		ch->ops->free(ch->t);
	for (size_t i = 0; i < ch->nheld; i++)
		held_free(&ch->held[i]);
	free(ch->held);
	done_clear(ch);
	free(ch->alarms);
	free_people(ch->cfg);
	pthread_mutex_destroy(&ch->mu);
	pthread_mutex_destroy(&ch->tmu);
	pthread_cond_destroy(&ch->cv);
	free(ch->name), free(ch->kind), free(ch->site), free(ch->link), free(ch->state_path);
	free(ch);
}

void channel_get_stats(struct channel *ch, struct channel_stats *st)
{
	*st = ch->st;
	st->held_now = ch->nheld;
}

static const struct cc_route_conf *route_named(const struct channel *ch, const char *name)
{
	for (size_t i = 0; i < ch->cfg->nroutes; i++)
		if (strcmp(ch->cfg->routes[i].name, name) == 0)
			return &ch->cfg->routes[i];
	return NULL;
}

static void test_one(struct channel *ch, const char *who, char *out, size_t size, int *failed)
{
	const struct cc_recipient_conf *rc = config_recipient(ch->cfg, who);
	const char *addr = rc ? config_recipient_address(rc, ch->kind) : NULL;
	struct message_ctx c = { ch->site, rc ? rc->lang : "vi", message_style(ch->kind), NULL, NULL, 0, 0, NULL };
	struct transport_result tr;
	struct message m;
	struct transport_msg tm;
	size_t off = strlen(out);

	if (!addr)
		return;
	message_render_test(&c, &m);
	tm = (struct transport_msg){ m.subject[0] ? m.subject : NULL, m.text, NULL, 0 };
	memset(&tr, 0, sizeof(tr));
	pthread_mutex_lock(&ch->tmu);
	ch->ops->send(ch->t, addr, &tm, &tr);
	pthread_mutex_unlock(&ch->tmu);
	if (tr.status != TR_OK)
		(*failed)++;
	if (off < size)
		snprintf(out + off, size - off, "%s %s %s%s%s\n", who, ch->name, tr.status == TR_OK ? "accepted" : "error",
			 tr.status == TR_OK ? "" : ": ", tr.status == TR_OK ? "" : (tr.error[0] ? tr.error : "failed"));
}

int channel_test(struct channel *ch, const char *route, char *out, size_t size)
{
	const struct cc_route_conf *rt = route_named(ch, route);
	int via = 0, failed = 0;

	for (size_t i = 0; rt && i < rt->nvia; i++)
		via |= strcmp(rt->via[i], ch->name) == 0;
	if (!via)
		return -ENOENT;
	for (size_t i = 0; i < rt->nto; i++)
		test_one(ch, rt->to[i], out, size, &failed);
	for (size_t i = 0; i < rt->nchain; i++)
		test_one(ch, rt->chain[i], out, size, &failed);
	return failed;
}

/* ---- the output backend ----------------------------------------------- */

static void ops_send(void *be, struct output *o, const char *data, size_t len, size_t nlines, struct send_result *r)
{
	(void)o;
	(void)nlines;
	channel_send_event(be, data, len, r);
}

static void ops_tick(void *be, struct output *o)
{
	(void)o;
	channel_tick(be);
}

static void ops_wakeup(void *be)
{
	struct channel *ch = be;

	pthread_mutex_lock(&ch->mu);
	ch->stopping = 1;
	pthread_cond_broadcast(&ch->cv);
	pthread_mutex_unlock(&ch->mu);
	if (ch->ops->wakeup)
		ch->ops->wakeup(ch->t);
}

static int ops_same(const void *a, const void *b)
{
	const struct channel *x = a, *y = b;

	return strcmp(x->name, y->name) == 0 && strcmp(x->kind, y->kind) == 0;
}

static void ops_free(void *be)
{
	channel_free(be);
}

const struct output_ops channel_output_ops = {
	.events = 1,
	.send = ops_send,
	.tick = ops_tick,
	.wakeup = ops_wakeup,
	.same_destination = ops_same,
	.free = ops_free,
};

/* The transports: one row each, added with the transport's file. */
typedef void *(*transport_new_fn)(const void *conf, const char *state_dir);
struct channel_transport {
	const char *kind;          /* outputs.KIND */
	size_t arr_off, n_off, size;
	transport_new_fn create;
	const struct transport_ops *ops;
};
#define CHANNEL_TRANSPORT(k, st, arr, n, fn, ops_)                                                              \
	{ k, offsetof(struct cc_config, arr), offsetof(struct cc_config, n), sizeof(struct st),                \
	  (transport_new_fn)(void (*)(void))(fn), &(ops_) }
static const struct channel_transport transports[] = {
	CHANNEL_TRANSPORT("email", cc_email_conf, emails, nemails, transport_smtp_new, transport_smtp_ops),
	CHANNEL_TRANSPORT("telegram", cc_telegram_conf, telegrams, ntelegrams, transport_telegram_new,
			  transport_telegram_ops),
	CHANNEL_TRANSPORT("zalo", cc_zalo_conf, zalos, nzalos, transport_zalo_new, transport_zalo_ops),
	CHANNEL_TRANSPORT("sms", cc_sms_conf, smses, nsmses, transport_sms_new, transport_sms_ops),
	{ NULL, 0, 0, 0, NULL, NULL },
};

static size_t kind_count(const struct cc_config *cfg, const struct channel_transport *k)
{
	return k->kind ? *(const size_t *)(const void *)((const char *)cfg + k->n_off) : 0;
}

/* A channel configured for a kind this build has no transport for sends
 * nothing: said loudly, once. */
static void missing_transports(const struct cc_config *cfg)
{
	static int said;
	const struct {
		const char *kind;
		size_t n;
	} conf[] = { { "email", cfg->nemails }, { "telegram", cfg->ntelegrams }, { "zalo", cfg->nzalos },
		     { "sms", cfg->nsmses } };

	for (size_t i = 0; i < ARRAY_SIZE(conf) && !said; i++) {
		int have = 0;
		for (size_t k = 0; k < ARRAY_SIZE(transports); k++)
			have |= transports[k].kind && strcmp(transports[k].kind, conf[i].kind) == 0;
		if (conf[i].n && !have) {
			log_err("outputs.%s: this build has no %s transport: those channels send nothing", conf[i].kind,
				conf[i].kind);
			said = 1;
		}
	}
}

static size_t channels_count(const struct cc_config *cfg)
{
	size_t n = 0;

	missing_transports(cfg);
	for (size_t k = 0; k < ARRAY_SIZE(transports); k++)
		n += kind_count(cfg, &transports[k]);
	return n;
}

static struct output *channel_output(const struct cc_config *cfg, const struct channel_transport *k, size_t i)
{
	const char *arr = *(const char *const *)(const void *)((const char *)cfg + k->arr_off);
	const struct cc_channel_common *cc = (const void *)(arr + i * k->size);
	void *t = k->create(cc, cfg->state_dir);
	struct channel *ch;
	struct output_limits lim = { .batch = 1, .backoff_max_ms = cc->backoff_max_ms, .start_oldest = cc->start_oldest };
	char *id;
	struct output *o;

	if (!t) {
		log_err("output %s: cannot set up the %s transport: %s", cc->name, k->kind, strerror(errno));
		return NULL;
	}
	ch = channel_new(cfg, cc, k->kind, k->ops, t, cfg->state_dir, NULL);
	id = xasprintf("%s %s", k->kind, cc->name);
	o = output_new(cc->name, id, &lim, &channel_output_ops, ch);
	free(id);
	return o;
}

static struct output *channels_create(const struct cc_config *cfg, size_t i)
{
	for (size_t k = 0; k < ARRAY_SIZE(transports); k++) {
		size_t n = kind_count(cfg, &transports[k]);
		if (i < n)
			return channel_output(cfg, &transports[k], i);
		i -= n;
	}
	errno = EINVAL;
	return NULL;
}

const struct output_kind output_kind_channels = { "email/telegram/zalo/sms", channels_count, channels_create };

/* ---- what the daemon sees (output.h) ------------------------------------ */

int output_channel_stats(struct output *o, struct output_channel_stats *st)
{
	struct channel *ch = output_backend(o, &channel_output_ops);
	struct channel_stats cs;

	if (!ch)
		return -EINVAL;
	channel_get_stats(ch, &cs);
	*st = (struct output_channel_stats){ cs.sent, cs.refused, cs.retried, cs.held, cs.replies, cs.acks_by_reply,
					     cs.held_now };
	return 0;
}

int output_channel_test(struct output *o, const char *route, char *out, size_t size)
{
	struct channel *ch = output_backend(o, &channel_output_ops);

	return ch ? channel_test(ch, route, out, size) : -EINVAL;
}

/* The main loop asks every second: a transport busy sending is not waited
 * for (its last answer stands). */
int output_channel_health(struct output *o, char *why, size_t n)
{
	struct channel *ch = output_backend(o, &channel_output_ops);

	if (!ch || !ch->ops->healthy)
		return 1;
	if (pthread_mutex_trylock(&ch->tmu) == 0) {
		ch->why[0] = '\0';
		ch->healthy = ch->ops->healthy(ch->t, ch->why, sizeof(ch->why));
		pthread_mutex_unlock(&ch->tmu);
	}
	snprintf(why, n, "%s", ch->why);
	return ch->healthy;
}

void output_channel_emit_stats(struct output *o, struct lp_buf *b, const char *site, int64_t ts_ns)
{
	struct channel *ch = output_backend(o, &channel_output_ops);

	if (!ch || !ch->ops->stats || pthread_mutex_trylock(&ch->tmu) != 0)
		return;
	ch->ops->stats(ch->t, b, ch->name, site, ts_ns);
	pthread_mutex_unlock(&ch->tmu);
}
