/* modbus.c - the Modbus driver: one worker thread per bus polls its devices
 * on their own intervals and hands every poll's samples to pipeline_submit().
 * The only file of the daemon that includes <modbus.h>; libmodbus errors are
 * translated here, with modbus_strerror, and never leave this file.
 *
 * Failure isolation, in short:
 *  - a unit that times out: rest of its requests skipped this cycle, its
 *    points get CC_Q_COMM_ERROR, and it is "down": its next attempt (a
 *    probe) comes after max(interval, min(interval * 2^(k-1), backoff_max))
 *    for the k-th consecutive timeout, less up to a quarter of jitter so
 *    several silent units do not fall due together;
 *  - a probe never delays the units that answer: it is made only when a
 *    timeout fits before the next answering unit falls due (the bus's
 *    slack), or when no poll on the bus has timed out for one cycle (the
 *    shortest interval of the bus), so a saturated bus still probes, at most
 *    one silent unit per cycle.  Until then every interval of a down unit
 *    records CC_Q_COMM_ERROR; a probe made between its slots records only
 *    an answer.  An interval that passes unpolled because the bus was busy
 *    records CC_Q_STALE: no interval of any unit goes unrecorded;
 *  - a Modbus exception: only that request's points fail, counted and logged
 *    (rate-limited), no backoff (the unit answered);  "Illegal data address"
 *    on a request that bridges unused addresses re-plans the device with
 *    max_gap 0, once;
 *  - a broken link (TCP reset, serial device gone): close, reopen with
 *    capped exponential backoff, comm-error samples for every device that
 *    falls due meanwhile.
 * libmodbus's own error recovery stays off: it would sleep and reconnect
 * inside a read, hiding failures from the counters and blocking the bus.
 *
 * Modbus TCP requests and replies go through our own framing
 * (codec/mbap.c) on the socket libmodbus opened: one send and, as a rule,
 * one recv a transaction, where libmodbus's reader waits in select()
 * before each of its three reads (header, byte count, data): seven system
 * calls.  libmodbus still connects, flushes and closes the link, and
 * serves RTU whole.  Its errno values stay the vocabulary of the errors. */
#include "modbus.h"

#include <modbus.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "../daemon/config.h"
#include "../daemon/log.h"
#include "../daemon/pipeline.h"
#include "../daemon/util.h"
#include "../util/hash.h"
#include "../codec/lineproto.h"
#include "../codec/mbap.h"
#include "../codec/modbus_plan.h"
#include "../codec/regdecode.h"

#define LOG_RL_MS 60000      /* at most one repeated-failure message per subject per minute */
#define LINK_BACKOFF_MIN_MS 500
#define PROBE_MARGIN_MS 20   /* scheduling slop added to a probe's worst-case cost */

struct mb_dev {
	const struct cc_device_conf *conf;
	struct plan plan;
	int split;        /* re-planned with max_gap 0 after an illegal-address on a bridged gap */
	int64_t next_due; /* monotonic ms */
	uint32_t fails;   /* consecutive polls without any answer */
	int up;           /* answered its last poll: polled at its slots; otherwise probed */
	int64_t backoff_until; /* no probe before this; due slots meanwhile record comm errors */
	struct cc_sample *samples; /* one per point, in point order */
	struct cc_sample *scratch; /* a partial poll's samples at stop */
	struct mb_unit_stats st; /* guarded by bus->lock */
	struct log_rl rl_exc, rl_to, rl_err, rl_late, rl_late_reply;
};

/* A Modbus TCP link as this file reads it (see the top): the socket
 * libmodbus connected, made blocking, with the response timeout as its
 * SO_RCVTIMEO. */
struct mb_tcp {
	int fd;       /* -1: not connected, or an RTU link */
	uint16_t tid; /* the last transaction id sent */
	int64_t timeout_ms, byte_timeout_ms;
	uint64_t late; /* replies dropped: they came after their request's timeout */
};

#define TCP_LATE_MAX 8 /* late replies dropped in front of one reply at most; then it is bad data */

struct mb_bus {
	const struct cc_bus_conf *conf;
	const char *site;
	pthread_t thr;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int stop;

	modbus_t *ctx;
	struct mb_tcp tcp;
	int connected;
	int rs485_warned; /* say it once, not at every reopen */
	uint32_t link_fails;
	int64_t link_next_try;
	int64_t last_req_end; /* for the RTU turnaround pause */
	int64_t last_timeout; /* monotonic ms at the end of the last poll that timed out */
	int64_t cycle_ms;     /* the shortest device interval: one probe budget per cycle */
	uint64_t rng;         /* jitter; seeded from the bus name so runs repeat */
	struct log_rl rl_link;

	struct mb_dev *devs;
	size_t ndevs;
	uint16_t regs[MODBUS_MAX_READ_REGISTERS];
	uint8_t bits[MODBUS_MAX_READ_BITS];
};

/* Monotonic microseconds: RTTs on a LAN are well below a millisecond. */
static int64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

/* base * 2^(k-1), capped; never below base.  k >= 1. */
static int64_t backoff_ms(int64_t base, uint32_t k, int64_t cap)
{
	int64_t d = base;

	for (uint32_t i = 1; i < k && d < cap; i++)
		d *= 2;
	d = min64(d, cap);
	return d < base ? base : d;
}

/* xorshift64*: jitter only, seeded per bus so a run repeats. */
static uint64_t rng_next(struct mb_bus *b)
{
	b->rng ^= b->rng >> 12;
	b->rng ^= b->rng << 25;
	b->rng ^= b->rng >> 27;
	return b->rng * 2685821657736338717ULL;
}

/* d less up to a tenth, at random: retries spread, and never later than
 * the documented step (so the probe period stays a bound).  Not more: the
 * probes of several silent units share the bus's slack, and shorter steps
 * would ask for more probes than it holds. */
static int64_t jitter_ms(struct mb_bus *b, int64_t d)
{
	return d - (int64_t)(rng_next(b) % (uint64_t)(d / 10 + 1));
}

static int is_exception(int e)
{
	return e >= EMBXILFUN && e <= EMBXGTAR;
}

/* Errors that mean the link, not the unit, is broken. */
static int is_link_error(int e)
{
	switch (e) {
	case ECONNRESET:
	case ECONNREFUSED:
	case ECONNABORTED:
	case EPIPE:
	case EBADF:
	case EIO:
	case ENOTCONN:
	case ENETDOWN:
	case ENETUNREACH:
	case EHOSTUNREACH:
	case ENODEV:
	case ENXIO:
		return 1;
	}
	return 0;
}

static int is_bit_table(enum cc_table t)
{
	return t == CC_TABLE_COIL || t == CC_TABLE_DISCRETE;
}

/* Sleeps until the monotonic deadline or a stop request.  Returns stop. */
static int wait_until(struct mb_bus *b, int64_t deadline_ms)
{
	struct timespec ts = { .tv_sec = deadline_ms / 1000, .tv_nsec = (long)(deadline_ms % 1000) * 1000000L };
	int stop;

	pthread_mutex_lock(&b->lock);
	while (!b->stop && time_mono_ms() < deadline_ms)
		if (pthread_cond_timedwait(&b->cond, &b->lock, &ts) == ETIMEDOUT)
			break;
	stop = b->stop;
	pthread_mutex_unlock(&b->lock);
	return stop;
}

static int stopping(struct mb_bus *b)
{
	int s;

	pthread_mutex_lock(&b->lock);
	s = b->stop;
	pthread_mutex_unlock(&b->lock);
	return s;
}

static void set_timeout(modbus_t *ctx, int64_t ms, int (*fn)(modbus_t *, uint32_t, uint32_t))
{
	fn(ctx, (uint32_t)(ms / 1000), (uint32_t)(ms % 1000) * 1000u);
}

/* --- Modbus TCP on our own framing ---------------------------------------- */

_Static_assert(MBAP_MAX_REGISTERS == MODBUS_MAX_READ_REGISTERS && MBAP_MAX_BITS == MODBUS_MAX_READ_BITS,
	       "one request's limits as libmodbus's");

/* Takes over the socket libmodbus has just connected: blocking, with the
 * response timeout as its receive and send timeouts, so a transaction's
 * recv waits in the kernel without a select() first.  0, or -errno. */
static int tcp_attach(struct mb_tcp *t, modbus_t *ctx, int64_t timeout_ms, int64_t byte_timeout_ms)
{
	struct timeval tv = { .tv_sec = (time_t)(timeout_ms / 1000), .tv_usec = (suseconds_t)(timeout_ms % 1000) * 1000 };
	int fd = modbus_get_socket(ctx), fl;

	if (fd < 0)
		return -EBADF;
	if ((fl = fcntl(fd, F_GETFL)) < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0)
		return -errno;
	t->fd = fd;
	t->timeout_ms = timeout_ms;
	t->byte_timeout_ms = byte_timeout_ms;
	return 0;
}

/* Waits up to ms for fd to have bytes: 1, 0 when ms passed, -1 (errno). */
static int tcp_wait(int fd, int64_t ms)
{
	int64_t until = time_mono_ms() + ms;
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int rc;

	for (;;) {
		int64_t left = until - time_mono_ms();
		rc = poll(&p, 1, left > 0 ? (int)left : 0);
		if (rc >= 0 || errno != EINTR)
			return rc > 0 ? 1 : rc;
	}
}

/* Receives more of a reply into buf[n..size): blocking up to the socket's
 * response timeout, or, once *waited is set (a part has come, or a signal
 * came), after poll() says there are bytes: the byte timeout when a part
 * has come and it is set, the rest of the deadline otherwise.  The number
 * of bytes, or -1 with errno (ETIMEDOUT; ECONNRESET when closed). */
static ssize_t tcp_recv(struct mb_tcp *t, uint8_t *buf, size_t n, size_t size, int64_t deadline, int *waited)
{
	for (;;) {
		ssize_t r;

		if (*waited) {
			int64_t ms = n > 0 && t->byte_timeout_ms > 0 ? t->byte_timeout_ms : deadline - time_mono_ms();
			int p = tcp_wait(t->fd, ms > 0 ? ms : 0);
			if (p <= 0) {
				if (p == 0)
					errno = ETIMEDOUT;
				return -1;
			}
		}
		r = recv(t->fd, buf + n, size - n, 0);
		if (r > 0)
			return r;
		if (r == 0) {
			errno = ECONNRESET;
			return -1;
		}
		if (errno != EINTR) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				errno = ETIMEDOUT;
			return -1;
		}
		*waited = 1; /* the rest of the deadline, in poll() */
	}
}

/* One read request on t: count registers into words or count bits into
 * bits.  count, or -1 with errno as libmodbus would set it: ETIMEDOUT,
 * ECONNRESET (closed by the peer), MODBUS_ENOBASE + code (an exception),
 * EMBBADEXC, EMBBADDATA (not a reply to this request), EMBMDATA (more than
 * one request may ask for), or the socket's own error.  The first bytes
 * must come within the response timeout, each further part of the reply
 * within the byte timeout (the rest of the response timeout when 0).  A
 * late reply in front of this one (its request timed out) is dropped and
 * counted in t->late; libmodbus would fail this request with it. */
static int tcp_read(struct mb_tcp *t, int unit, enum cc_table table, uint16_t address, uint16_t count,
		    uint16_t *words, uint8_t *bits)
{
	struct mbap_req q = { .tid = (uint16_t)(t->tid + 1), .unit = (uint8_t)unit, .table = table,
			      .address = address, .count = count };
	uint8_t req[MBAP_REQUEST_LEN], buf[MBAP_ADU_MAX], exc = 0;
	size_t n = 0, need = 0;
	int64_t deadline;
	int waited = 0; /* the next recv must not block: poll said when */
	int dropped = 0;
	enum mbap_verdict v;
	ssize_t w;

	if (mbap_request(&q, req) < 0) {
		errno = EMBMDATA;
		return -1;
	}
	t->tid = q.tid;
	w = send(t->fd, req, sizeof(req), MSG_NOSIGNAL);
	if (w != (ssize_t)sizeof(req)) {
		if (w >= 0)
			errno = EMBBADDATA;
		else if (errno == EAGAIN || errno == EWOULDBLOCK)
			errno = ETIMEDOUT;
		return -1;
	}
	deadline = time_mono_ms() + t->timeout_ms;
	for (;;) {
		ssize_t r = tcp_recv(t, buf, n, sizeof(buf), deadline, &waited);

		if (r < 0)
			return -1;
		n += (size_t)r;
		while ((v = mbap_reply(&q, buf, n, &need, &exc)) == MBAP_STALE) {
			t->late++;
			if (++dropped > TCP_LATE_MAX) {
				errno = EMBBADDATA;
				return -1;
			}
			n -= need;
			memmove(buf, buf + need, n);
		}
		switch (v) {
		case MBAP_STALE: /* not after the loop above */
		case MBAP_MORE:
			waited = 1;
			continue;
		case MBAP_DONE:
			if (table == CC_TABLE_COIL || table == CC_TABLE_DISCRETE)
				mbap_bits(buf, count, bits);
			else
				mbap_registers(buf, count, words);
			return count;
		case MBAP_EXCEPTION:
			errno = exc < MODBUS_EXCEPTION_MAX ? (int)MODBUS_ENOBASE + exc : EMBBADEXC;
			return -1;
		case MBAP_BAD_EXCEPTION:
			errno = EMBBADEXC;
			return -1;
		case MBAP_BAD:
			errno = EMBBADDATA;
			return -1;
		}
	}
}

/* One read request on a link: through tcp_read on a TCP link, through
 * libmodbus on an RTU one.  count, or -1 with errno. */
static int link_read(modbus_t *ctx, struct mb_tcp *t, int unit, enum cc_table table, uint16_t address,
		     uint16_t count, uint16_t *words, uint8_t *bits)
{
	if (t->fd >= 0)
		return tcp_read(t, unit, table, address, count, words, bits);
	if (modbus_set_slave(ctx, unit) < 0)
		return -1;
	switch (table) {
	case CC_TABLE_COIL:
		return modbus_read_bits(ctx, address, count, bits);
	case CC_TABLE_DISCRETE:
		return modbus_read_input_bits(ctx, address, count, bits);
	case CC_TABLE_HOLDING:
		return modbus_read_registers(ctx, address, count, words);
	case CC_TABLE_INPUT:
		return modbus_read_input_registers(ctx, address, count, words);
	}
	errno = EINVAL;
	return -1;
}

static int link_open(struct mb_bus *b)
{
	const struct cc_bus_conf *c = b->conf;

	if (!b->ctx) {
		if (c->is_rtu) {
			b->ctx = modbus_new_rtu(c->device, c->baud, c->parity, c->data_bits, c->stop_bits);
		} else {
			char port[16];
			snprintf(port, sizeof(port), "%d", c->port);
			b->ctx = modbus_new_tcp_pi(c->host, port);
		}
		if (!b->ctx)
			return -errno;
		modbus_set_error_recovery(b->ctx, MODBUS_ERROR_RECOVERY_NONE);
		set_timeout(b->ctx, c->timeout_ms, modbus_set_response_timeout);
		set_timeout(b->ctx, c->byte_timeout_ms, modbus_set_byte_timeout);
	}
	if (modbus_connect(b->ctx) < 0)
		return -errno;
	if (!c->is_rtu) {
		int rc = tcp_attach(&b->tcp, b->ctx, c->timeout_ms, c->byte_timeout_ms);
		if (rc < 0)
			modbus_close(b->ctx);
		return rc;
	}
	if (c->rs485 && modbus_rtu_set_serial_mode(b->ctx, MODBUS_RTU_RS485) < 0 && !b->rs485_warned++)
		log_warn("bus %s: %s refuses RS485 mode (%s); continuing in RS232 mode, which works only if "
			 "the adapter switches direction by itself",
			 c->name, c->device, modbus_strerror(errno));
	return 0;
}

static void link_close(struct mb_bus *b)
{
	if (b->ctx && b->connected)
		modbus_close(b->ctx);
	b->connected = 0;
	b->tcp.fd = -1;
}

static const char *link_name(const struct mb_bus *b, char *buf, size_t len)
{
	if (b->conf->is_rtu)
		snprintf(buf, len, "%s", b->conf->device);
	else
		snprintf(buf, len, "%s:%d", b->conf->host, b->conf->port);
	return buf;
}

static void link_try(struct mb_bus *b, int64_t now)
{
	char where[300];
	uint32_t supp = 0;
	int rc = link_open(b);

	if (rc == 0) {
		if (b->link_fails > 0)
			log_info("bus %s: connected to %s again after %u %s", b->conf->name,
				 link_name(b, where, sizeof(where)), b->link_fails,
				 plural(b->link_fails, "failure", "failures"));
		else
			log_info("bus %s: connected to %s", b->conf->name, link_name(b, where, sizeof(where)));
		b->connected = 1;
		b->link_fails = 0;
		b->last_req_end = 0;
		/* Units that answered before the link went are probed at once,
		 * not at their next slot, so readings return as soon as the link
		 * does; silent ones keep their backoff. */
		for (size_t i = 0; i < b->ndevs; i++)
			if (b->devs[i].fails == 0) {
				b->devs[i].up = 0;
				b->devs[i].backoff_until = 0;
			}
		return;
	}
	b->link_fails++;
	b->link_next_try = now + jitter_ms(b, backoff_ms(LINK_BACKOFF_MIN_MS, b->link_fails, b->conf->backoff_max_ms));
	if (log_rl_allow(&b->rl_link, LOG_RL_MS, &supp))
		log_warn("bus %s: cannot open %s: %s (retrying with backoff up to %lld ms%s)", b->conf->name,
			 link_name(b, where, sizeof(where)), modbus_strerror(-rc), (long long)b->conf->backoff_max_ms,
			 supp ? ", repeated failures suppressed" : "");
}

static void link_broken(struct mb_bus *b, const struct mb_dev *d, int e, int64_t now)
{
	char where[300];

	log_warn("bus %s unit %d (%s): link to %s lost: %s; reopening", b->conf->name, d->conf->unit, d->conf->name,
		 link_name(b, where, sizeof(where)), modbus_strerror(e));
	link_close(b);
	b->link_fails = 1;
	b->link_next_try = now + LINK_BACKOFF_MIN_MS;
}

static void stats_update(struct mb_bus *b, struct mb_dev *d, int requests, int errors, int timeouts, int exceptions,
			 int polls, double rtt)
{
	pthread_mutex_lock(&b->lock);
	d->st.requests += (uint64_t)requests;
	d->st.errors += (uint64_t)errors;
	d->st.timeouts += (uint64_t)timeouts;
	d->st.exceptions += (uint64_t)exceptions;
	d->st.polls += (uint64_t)polls;
	if (rtt >= 0)
		d->st.last_rtt_ms = rtt;
	d->st.down = d->fails > 0 || !b->connected;
	pthread_mutex_unlock(&b->lock);
}

static void samples_fail(struct mb_dev *d, const struct plan_req *r)
{
	int64_t ts = time_now_ns();

	for (size_t k = 0; k < r->npoints; k++) {
		struct cc_sample *s = &d->samples[r->points[k]];
		s->ts_ns = ts;
		s->value = 0;
		s->quality = CC_Q_COMM_ERROR;
	}
}

static void samples_decode(struct mb_bus *b, struct mb_dev *d, const struct plan_req *r, int64_t ts)
{
	for (size_t k = 0; k < r->npoints; k++) {
		const struct cc_point_conf *p = &d->conf->points[r->points[k]];
		struct cc_sample *s = &d->samples[r->points[k]];
		size_t off = (size_t)(p->address - r->address);
		double raw = 0;
		int rc;

		if (is_bit_table(r->table)) {
			uint16_t w = b->bits[off];
			rc = regdecode_words(&w, 1, CC_T_BOOL, p->order, -1, &raw);
		} else {
			rc = regdecode_words(&b->regs[off], r->count - off, p->type, p->order, p->bit, &raw);
		}
		s->ts_ns = ts;
		if (rc < 0) {
			/* NaN/Inf from the device: recorded as out of range */
			s->value = raw;
			s->quality = CC_Q_OUT_OF_RANGE;
		} else {
			s->quality = regdecode_apply(&p->scaling, raw, &s->value) == 0 ? CC_Q_GOOD : CC_Q_OUT_OF_RANGE;
		}
	}
}

/* 1 if the request reads addresses that no point of its table covers. */
static int req_bridges_gap(const struct mb_dev *d, const struct plan_req *r)
{
	for (uint32_t a = r->address; a < (uint32_t)r->address + r->count; a++) {
		int used = 0;
		for (size_t i = 0; i < d->conf->npoints && !used; i++) {
			const struct cc_point_conf *p = &d->conf->points[i];
			uint32_t w = is_bit_table(p->table) ? 1 : (uint32_t)regtype_words(p->type);
			used = p->table == r->table && p->address <= a && a < p->address + w;
		}
		if (!used)
			return 1;
	}
	return 0;
}

static int req_exec(struct mb_bus *b, const struct mb_dev *d, const struct plan_req *r)
{
	return link_read(b->ctx, &b->tcp, d->conf->unit, r->table, r->address, r->count, b->regs, b->bits);
}

static void dev_replan_split(struct mb_bus *b, struct mb_dev *d)
{
	const struct cc_device_conf *c = d->conf;
	struct plan np;
	int rc = config_plan_device(c, 0, c->max_registers, c->max_bits, &np);

	d->split = 1;
	if (rc < 0) {
		log_warn("bus %s unit %d (%s): cannot re-plan without gaps: %s", b->conf->name, c->unit, c->name,
			 strerror(-rc));
		return;
	}
	log_warn("bus %s unit %d (%s): unit refuses reads across unused addresses; splitting requests "
		 "(max_gap 0: %zu %s instead of %zu)",
		 b->conf->name, c->unit, c->name, np.nreqs, plural(np.nreqs, "request", "requests"), d->plan.nreqs);
	plan_free(&d->plan);
	d->plan = np;
}

static int64_t dev_interval(const struct mb_dev *d)
{
	return d->conf->interval_ms > 0 ? d->conf->interval_ms : 1000;
}

/* After a poll that got no answer at all: the unit is down, and no probe
 * goes to it until the backoff expires; its interval slots keep producing
 * comm-error samples meanwhile, so the record shows the gap for every
 * interval, not only at each retry. */
static void dev_backoff(struct mb_bus *b, struct mb_dev *d, int64_t now)
{
	int64_t iv = dev_interval(d);
	int64_t cap = b->conf->backoff_max_ms > iv ? b->conf->backoff_max_ms : iv;

	d->fails++;
	d->up = 0;
	d->backoff_until = now + jitter_ms(b, backoff_ms(iv, d->fails, cap));
}

/* The slot at next_due has been served (read or recorded). */
static void dev_slot_done(struct mb_dev *d)
{
	d->next_due += dev_interval(d);
}

#define CATCH_UP_MAX 3600 /* stale records at most per catch-up (a stopped process, not a busy bus) */

#define CATCH_UP_CHUNK 64 /* missed slots handed over in one submit (one journal record) */

/* Before serving the latest due slot: every earlier slot that passed while
 * the bus was busy records a stale sample, stamped at the slot's time, so
 * no interval goes unrecorded; the phase is kept.  The slots go to the
 * pipeline CATCH_UP_CHUNK at a time: a saturated bus misses several slots
 * of each unit every poll, and a journal append apiece was most of the bus
 * thread's time between two requests. */
static void dev_catch_up(struct mb_bus *b, struct mb_dev *d, int64_t now)
{
	size_t np = d->conf->npoints, cap;
	int64_t iv = dev_interval(d), k, j, wall;
	struct cc_sample *st;
	uint32_t supp = 0;

	if (d->next_due + iv > now)
		return;
	k = (now - d->next_due) / iv; /* slots next_due .. next_due + (k-1) iv are missed */
	wall = time_now_ns();
	cap = (size_t)(k < CATCH_UP_CHUNK ? k : CATCH_UP_CHUNK);
	st = np ? xcalloc(cap * np, sizeof(*st)) : NULL;
	for (j = k > CATCH_UP_MAX ? k - CATCH_UP_MAX : 0; j < k && np;) {
		struct lp_buf buf;
		size_t n = 0;

		for (; j < k && n < cap * np; j++) {
			int64_t ts = wall - (now - (d->next_due + j * iv)) * 1000000;
			for (size_t i = 0; i < np; i++, n++) {
				st[n] = d->samples[i];
				st[n].ts_ns = ts;
				st[n].value = 0;
				st[n].quality = CC_Q_STALE;
			}
		}
		lp_buf_init(&buf);
		pipeline_encode(&buf, st, n);
		pipeline_submit_encoded(&buf, st, n);
		lp_buf_free(&buf);
	}
	free(st);
	d->next_due += k * iv;
	if (log_rl_allow(&d->rl_late, LOG_RL_MS, &supp))
		log_warn("bus %s unit %d (%s): %lld poll(s) missed, the bus was busy (recorded as stale)%s",
			 b->conf->name, d->conf->unit, d->conf->name, (long long)k,
			 supp ? " (repeated; earlier ones suppressed)" : "");
}

/* Records comm-error samples for a slot that falls due while the link is
 * down, or while the unit is down and not probed. */
static void dev_record_down(struct mb_bus *b, struct mb_dev *d)
{
	for (size_t i = 0; i < d->plan.nreqs; i++)
		samples_fail(d, &d->plan.reqs[i]);
	if (d->conf->npoints)
		pipeline_submit(d->samples, d->conf->npoints);
	stats_update(b, d, 0, 0, 0, 0, 0, -1);
	dev_slot_done(d);
}

/* The next slot of a unit that answers: a probe must not run into it. */
static int64_t bus_next_up_due(const struct mb_bus *b)
{
	int64_t t = INT64_MAX;

	for (size_t i = 0; i < b->ndevs; i++)
		if (b->devs[i].up)
			t = min64(t, b->devs[i].next_due);
	return t;
}

static int64_t dev_probe_period(const struct mb_bus *b, const struct mb_dev *d)
{
	int64_t iv = dev_interval(d);

	return b->conf->backoff_max_ms > iv ? b->conf->backoff_max_ms : iv;
}

/* May a probe of d (a poll that may time out) start now?  Yes when its
 * worst case ends before the next answering unit falls due.  Otherwise only
 * when it has waited a whole probe period for that slack (a bus too busy to
 * have any, or a unit never tried yet) and no poll on the bus has timed out
 * for a cycle: at most one timeout a cycle then falls on the answering
 * units. */
static int probe_allowed(const struct mb_bus *b, const struct mb_dev *d, int64_t now)
{
	int64_t cost = b->conf->timeout_ms + b->conf->turnaround_ms + PROBE_MARGIN_MS;
	int64_t next_up = bus_next_up_due(b);

	if (next_up == INT64_MAX || now + cost <= next_up)
		return 1;
	return now - d->backoff_until >= dev_probe_period(b, d) && now - b->last_timeout >= b->cycle_ms;
}

/* A down unit whose backoff has expired and whose probe may start now, the
 * longest waiting first. */
static struct mb_dev *bus_next_probe(struct mb_bus *b, int64_t now)
{
	struct mb_dev *p = NULL;

	for (size_t i = 0; i < b->ndevs; i++) {
		struct mb_dev *d = &b->devs[i];
		if (!d->up && d->next_due != INT64_MAX && d->backoff_until <= now &&
		    (!p || d->backoff_until < p->backoff_until))
			p = d;
	}
	return p && probe_allowed(b, p, now) ? p : NULL;
}

/* What one poll of a unit did: its outcome and its statistics. */
struct poll_run {
	int answered, timed_out, aborted, want_split;
	int nreq, nerr, nto, nexc;
	double rtt;
};

/* Logs request r's error e (rate-limited by rl). */
static void req_warn(const struct mb_bus *b, const struct mb_dev *d, const struct plan_req *r, int e,
		     struct log_rl *rl)
{
	uint32_t supp = 0;

	if (log_rl_allow(rl, LOG_RL_MS, &supp))
		log_warn("bus %s unit %d (%s) %s %u..%u: %s%s", b->conf->name, d->conf->unit, d->conf->name,
			 table_name(r->table), (unsigned)r->address, (unsigned)r->address + r->count - 1,
			 modbus_strerror(e), supp ? " (repeated; earlier ones suppressed)" : "");
}

/* Request r did not answer with its registers (rc: what req_exec returned,
 * e: its errno): its points record the failure, counted and logged by kind.
 * 1 when the poll must stop (a timeout or a broken link), 0 to carry on. */
static int poll_failed(struct mb_bus *b, struct mb_dev *d, const struct plan_req *r, int rc, int e,
		       struct poll_run *run)
{
	uint32_t supp = 0;

	if (rc >= 0)
		e = EMBMDATA; /* short answer */
	run->nerr++;
	samples_fail(d, r);
	if (is_exception(e)) {
		run->answered = 1;
		run->nexc++;
		if (e == EMBXILADD && !d->split && req_bridges_gap(d, r))
			run->want_split = 1;
		else
			req_warn(b, d, r, e, &d->rl_exc);
		return 0;
	}
	if (e == ETIMEDOUT) {
		run->nto++;
		run->timed_out = 1;
		/* a late reply must not be taken as the answer to the next
		 * request (TCP: stream desync; RTU: a slow unit's frame) */
		modbus_flush(b->ctx);
		if (log_rl_allow(&d->rl_to, LOG_RL_MS, &supp))
			log_warn("bus %s unit %d (%s) %s %u..%u: %s after %lld ms; backing off%s", b->conf->name,
				 d->conf->unit, d->conf->name, table_name(r->table), (unsigned)r->address,
				 (unsigned)r->address + r->count - 1, modbus_strerror(e),
				 (long long)b->conf->timeout_ms, supp ? " (repeated; earlier ones suppressed)" : "");
		return 1;
	}
	if (is_link_error(e)) {
		link_broken(b, d, e, time_mono_ms());
		return 1;
	}
	/* bad CRC, garbled or mismatched frame: drop whatever is pending and
	 * carry on with the next request */
	modbus_flush(b->ctx);
	req_warn(b, d, r, e, &d->rl_err);
	return 0;
}

/* Runs request r of a poll, after the RTU turnaround since the bus's last
 * request.  1 when the poll must stop (run->aborted: the bus is stopping). */
static int poll_request(struct mb_bus *b, struct mb_dev *d, const struct plan_req *r, struct poll_run *run)
{
	const struct cc_bus_conf *bc = b->conf;
	uint64_t late;
	uint32_t supp = 0;
	int64_t t0;
	int rc, e;

	if (bc->is_rtu && bc->turnaround_ms > 0 && b->last_req_end > 0) {
		int64_t until = b->last_req_end + bc->turnaround_ms;
		if (time_mono_ms() < until && wait_until(b, until)) {
			run->aborted = 1;
			return 1;
		}
	}
	t0 = mono_us();
	late = b->tcp.late;
	rc = req_exec(b, d, r);
	e = errno;
	b->last_req_end = time_mono_ms();
	if (b->tcp.late != late && log_rl_allow(&d->rl_late_reply, LOG_RL_MS, &supp))
		log_warn("bus %s unit %d (%s): a reply came after the %lld ms timeout of its request and was dropped; "
			 "this unit may need a longer timeout%s",
			 bc->name, d->conf->unit, d->conf->name, (long long)bc->timeout_ms,
			 supp ? " (repeated; earlier ones suppressed)" : "");
	run->nreq++;
	if (rc != r->count)
		return poll_failed(b, d, r, rc, e, run);
	run->answered = 1;
	run->rtt = (double)(mono_us() - t0) / 1000.0;
	samples_decode(b, d, r, time_now_ns());
	return 0;
}

/* Stopping mid-poll: hands over what the first ndone requests read (a
 * completed read is never dropped) but does not record the unattempted
 * rest as failures. */
static void poll_hand_over_done(struct mb_dev *d, size_t ndone)
{
	size_t n = 0;

	for (size_t k = 0; k < ndone; k++)
		for (size_t j = 0; j < d->plan.reqs[k].npoints; j++)
			d->scratch[n++] = d->samples[d->plan.reqs[k].points[j]];
	if (n)
		pipeline_submit(d->scratch, n);
}

/* After a whole poll: records its samples (a probe only an answer), splits
 * the plan if the unit asked for it, and marks the unit up, or down and
 * backing off after a timeout. */
static void poll_settle(struct mb_bus *b, struct mb_dev *d, const struct poll_run *run, int in_slot)
{
	const struct cc_device_conf *c = d->conf;
	int64_t now;

	if (c->npoints && (in_slot || run->answered))
		pipeline_submit(d->samples, c->npoints);
	now = time_mono_ms();
	if (run->want_split)
		dev_replan_split(b, d);
	if (run->answered && !run->timed_out) {
		if (d->fails > 0)
			log_info("bus %s unit %d (%s): answering again after %u %s", b->conf->name, c->unit,
				 c->name, d->fails, plural(d->fails, "failure", "failures"));
		d->fails = 0;
		d->up = 1;
	} else if (run->timed_out) {
		b->last_timeout = now;
		dev_backoff(b, d, now);
	}
	if (in_slot)
		dev_slot_done(d);
	stats_update(b, d, run->nreq, run->nerr, run->nto, run->nexc, 1, run->rtt);
}

/* Polls a device.  in_slot: the poll serves one of its interval slots, and
 * records whatever came (a comm error included); otherwise it is a probe
 * between slots, which records only an answer (the slot already recorded
 * the comm error). */
static void dev_poll(struct mb_bus *b, struct mb_dev *d, int in_slot)
{
	struct poll_run run = { .rtt = -1 };
	size_t i;

	/* Every point starts as a comm error (stamped now); a request that
	 * answers overwrites its points. */
	for (i = 0; i < d->plan.nreqs; i++)
		samples_fail(d, &d->plan.reqs[i]);
	for (i = 0; i < d->plan.nreqs; i++)
		if (poll_request(b, d, &d->plan.reqs[i], &run))
			break;
	if (run.aborted) {
		poll_hand_over_done(d, i);
		stats_update(b, d, run.nreq, run.nerr, run.nto, run.nexc, 0, run.rtt);
		return;
	}
	poll_settle(b, d, &run, in_slot);
}

static void *bus_main(void *arg)
{
	struct mb_bus *b = arg;

	while (!stopping(b)) {
		int64_t now = time_mono_ms(), wake;

		if (!b->connected && now >= b->link_next_try)
			link_try(b, now);

		/* Serve every due slot, earliest first; then, in the slack, probe
		 * down units. */
		for (;;) {
			struct mb_dev *next = NULL;

			now = time_mono_ms();
			for (size_t i = 0; i < b->ndevs; i++)
				if (b->devs[i].next_due <= now && (!next || b->devs[i].next_due < next->next_due))
					next = &b->devs[i];
			if (stopping(b))
				break;
			if (next) {
				dev_catch_up(b, next, now);
				if (!b->connected)
					dev_record_down(b, next);
				else if (next->up || (now >= next->backoff_until && probe_allowed(b, next, now)))
					dev_poll(b, next, 1);
				else
					dev_record_down(b, next);
				continue;
			}
			if (!b->connected || !(next = bus_next_probe(b, now)))
				break;
			dev_poll(b, next, 0);
		}

		now = time_mono_ms();
		wake = INT64_MAX;
		for (size_t i = 0; i < b->ndevs; i++) {
			const struct mb_dev *d = &b->devs[i];
			wake = min64(wake, d->next_due);
			if (b->connected && !d->up && d->next_due != INT64_MAX) {
				/* a probe becomes due, or may be forced */
				int64_t force = d->backoff_until + dev_probe_period(b, d);
				if (b->last_timeout + b->cycle_ms > force)
					force = b->last_timeout + b->cycle_ms;
				if (d->backoff_until > now)
					wake = min64(wake, d->backoff_until);
				else if (force > now)
					wake = min64(wake, force);
			}
		}
		if (!b->connected)
			wake = min64(wake, b->link_next_try);
		if (wake == INT64_MAX)
			wake = now + 60000;
		wait_until(b, wake);
	}
	link_close(b);
	return NULL;
}

/* Frees a bus whose thread has ended (or never started). */
static void bus_free(struct mb_bus *b)
{
	if (b->ctx)
		modbus_free(b->ctx);
	for (size_t i = 0; i < b->ndevs; i++) {
		plan_free(&b->devs[i].plan);
		free(b->devs[i].samples);
		free(b->devs[i].scratch);
	}
	free(b->devs);
	pthread_cond_destroy(&b->cond);
	pthread_mutex_destroy(&b->lock);
	free(b);
}

/* A bus with its devices planned, its thread not started. */
static struct mb_bus *bus_new(const struct cc_bus_conf *conf, const char *site)
{
	struct mb_bus *b = xcalloc(1, sizeof(*b));
	pthread_condattr_t ca;
	int64_t now = time_mono_ms();
	int rc;

	b->conf = conf;
	b->site = site;
	b->tcp.fd = -1;
	pthread_mutex_init(&b->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&b->cond, &ca);
	pthread_condattr_destroy(&ca);

	b->ndevs = conf->ndevices;
	b->devs = xcalloc(b->ndevs ? b->ndevs : 1, sizeof(*b->devs));
	for (size_t i = 0; i < b->ndevs; i++) {
		struct mb_dev *d = &b->devs[i];
		const struct cc_device_conf *c = &conf->devices[i];

		d->conf = c;
		d->st.device = c->name;
		d->st.unit = c->unit;
		d->samples = xcalloc(c->npoints ? c->npoints : 1, sizeof(*d->samples));
		d->scratch = xcalloc(c->npoints ? c->npoints : 1, sizeof(*d->scratch));
		for (size_t k = 0; k < c->npoints; k++)
			d->samples[k].ch = &c->points[k].ch;
		rc = config_plan_device(c, c->max_gap,
					c->max_registers > MODBUS_MAX_READ_REGISTERS ? MODBUS_MAX_READ_REGISTERS : c->max_registers,
					c->max_bits > MODBUS_MAX_READ_BITS ? MODBUS_MAX_READ_BITS : c->max_bits, &d->plan);
		if (rc < 0) {
			/* the loader validates widths and limits; reaching here is a bug there */
			log_err("bus %s unit %d (%s): cannot plan requests: %s; device not polled", conf->name, c->unit,
				c->name, strerror(-rc));
			d->next_due = INT64_MAX;
			continue;
		}
		/* spread first polls a little so units on one bus do not all fall due at once */
		d->next_due = now + (int64_t)i * 10;
	}
	b->link_next_try = now;
	b->last_timeout = INT64_MIN / 2;
	b->cycle_ms = INT64_MAX;
	for (size_t i = 0; i < b->ndevs; i++)
		b->cycle_ms = min64(b->cycle_ms, dev_interval(&b->devs[i]));
	if (b->cycle_ms == INT64_MAX)
		b->cycle_ms = 1000;
	b->rng = fnv1a64_add_str(0x9e3779b97f4a7c15ULL, conf->name ? conf->name : "");
	if (!b->rng)
		b->rng = 1;
	return b;
}

struct mb_bus *mb_bus_start(const struct cc_bus_conf *conf, const char *site)
{
	struct mb_bus *b = bus_new(conf, site);
	int rc;

	rc = pthread_create(&b->thr, NULL, bus_main, b);
	if (rc != 0) {
		log_err("bus %s: cannot start worker thread: %s", conf->name, strerror(rc));
		bus_free(b);
		errno = rc;
		return NULL;
	}
	{
		char tname[16];
		snprintf(tname, sizeof(tname), "mb:%s", conf->name);
		pthread_setname_np(b->thr, tname);
	}
	return b;
}

void mb_bus_stop(struct mb_bus *b)
{
	if (!b)
		return;
	pthread_mutex_lock(&b->lock);
	b->stop = 1;
	pthread_cond_broadcast(&b->cond);
	pthread_mutex_unlock(&b->lock);
	pthread_join(b->thr, NULL);
	bus_free(b);
}

/* --- coldchaind --test: every point once ------------------------------------ */

/* Each point of request r failed with message why. */
static int once_fail(const struct mb_bus *b, const struct mb_dev *d, const struct plan_req *r, const char *why,
		     mb_fail_fn *fail, void *arg)
{
	for (size_t k = 0; k < r->npoints; k++) {
		const struct cc_point_conf *p = &d->conf->points[r->points[k]];
		fail(b->conf->name, d->conf->unit, d->conf->name, table_name(p->table), p->address, p->channel, why,
		     arg);
	}
	return (int)r->npoints;
}

/* One poll of d, as a slot of the running daemon records it; the number of
 * points that failed. */
static int once_device(struct mb_bus *b, struct mb_dev *d, mb_fail_fn *fail, void *arg)
{
	const char *why = NULL; /* set: the link or the unit is gone, the rest fails with it */
	int nfail = 0;

	for (size_t i = 0; i < d->plan.nreqs; i++)
		samples_fail(d, &d->plan.reqs[i]);
	for (size_t i = 0; i < d->plan.nreqs; i++) {
		const struct plan_req *r = &d->plan.reqs[i];
		int rc, e;

		if (why) {
			nfail += once_fail(b, d, r, why, fail, arg);
			continue;
		}
		if (b->conf->is_rtu && b->conf->turnaround_ms > 0 && b->last_req_end > 0)
			wait_until(b, b->last_req_end + b->conf->turnaround_ms);
		rc = req_exec(b, d, r);
		e = rc >= 0 ? EMBMDATA : errno;
		b->last_req_end = time_mono_ms();
		if (rc == r->count) {
			samples_decode(b, d, r, time_now_ns());
			continue;
		}
		nfail += once_fail(b, d, r, modbus_strerror(e), fail, arg);
		if (!is_exception(e))
			modbus_flush(b->ctx);
		if (e == ETIMEDOUT || is_link_error(e))
			why = modbus_strerror(e); /* as the daemon: the poll stops at a timeout */
	}
	if (d->conf->npoints)
		pipeline_submit(d->samples, d->conf->npoints);
	return nfail;
}

int mb_bus_read_once(const struct cc_bus_conf *conf, const char *site, mb_fail_fn *fail, void *arg)
{
	struct mb_bus *b = bus_new(conf, site);
	int rc = link_open(b), nfail = 0;

	b->connected = rc == 0;
	for (size_t i = 0; i < b->ndevs; i++) {
		struct mb_dev *d = &b->devs[i];

		if (d->next_due == INT64_MAX) /* not planned: said at bus_new */
			continue;
		if (b->connected) {
			nfail += once_device(b, d, fail, arg);
			continue;
		}
		for (size_t k = 0; k < d->plan.nreqs; k++) {
			samples_fail(d, &d->plan.reqs[k]);
			nfail += once_fail(b, d, &d->plan.reqs[k], modbus_strerror(-rc), fail, arg);
		}
		if (d->conf->npoints)
			pipeline_submit(d->samples, d->conf->npoints);
	}
	link_close(b);
	bus_free(b);
	return nfail;
}

void mb_bus_foreach_stats(struct mb_bus *b, void (*fn)(const char *bus, const struct mb_unit_stats *st, void *arg),
			  void *arg)
{
	for (size_t i = 0; i < b->ndevs; i++) {
		struct mb_unit_stats snap;

		pthread_mutex_lock(&b->lock);
		snap = b->devs[i].st;
		pthread_mutex_unlock(&b->lock);
		fn(b->conf->name, &snap, arg);
	}
}

/* --- raw access for the technician tools ------------------------------- */

struct mb_link {
	modbus_t *ctx;
	struct mb_tcp tcp;
};

/* The last ':'-separated field of s[0..n) starts at the returned offset
 * (0 when there is no ':'). */
static size_t last_field(const char *s, size_t n)
{
	while (n && s[n - 1] != ':')
		n--;
	return n;
}

static int spec_err(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int spec_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	errno = EINVAL;
	return -EINVAL;
}

/* DEVICE:BAUD[:8N1], split from the right: a device path may hold ':'
 * (/dev/serial/by-path/pci-0000:00:14.0-usb-0:1:1.0-port0). */
static int parse_rtu_spec(const char *s, struct mb_link_spec *o, char *err, size_t errlen)
{
	size_t n = strlen(s), f = last_field(s, n), b;
	char num[64], why[400], fmt[2];

	o->data_bits = 8;
	o->parity = 'N';
	o->stop_bits = 1;
	if (!f)
		return spec_err(err, errlen, "expected DEVICE:BAUD[:8N1], e.g. /dev/ttyUSB0:9600:8N1");
	if (!isdigit((unsigned char)s[f]) || strspn(s + f, "0123456789") != n - f) {
		/* the last field is a format: 8N1 (data bits, parity, stop bits) */
		if (n - f != 3)
			return spec_err(err, errlen, "\"%s\" is not a format like 8N1 (data bits, parity, stop bits)", s + f);
		fmt[0] = s[f];
		fmt[1] = '\0';
		if (config_key_parse_int("modbus.rtu", "data_bits", fmt, &o->data_bits, why, sizeof(why)) < 0)
			return spec_err(err, errlen, "data bits %s", why);
		if (config_key_parse_letter("modbus.rtu", "parity", s[f + 1], &o->parity, why, sizeof(why)) < 0)
			return spec_err(err, errlen, "parity %s", why);
		fmt[0] = s[f + 2];
		if (config_key_parse_int("modbus.rtu", "stop_bits", fmt, &o->stop_bits, why, sizeof(why)) < 0)
			return spec_err(err, errlen, "stop bits %s", why);
		n = f - 1;
		f = last_field(s, n);
		if (!f)
			return spec_err(err, errlen, "expected DEVICE:BAUD:%s, e.g. /dev/ttyUSB0:9600:%s", s + n + 1,
					s + n + 1);
	}
	b = n - f;
	if (b == 0 || b >= sizeof(num))
		return spec_err(err, errlen, "baud \"%.*s\" is not a line speed", (int)(b < 32 ? b : 32), s + f);
	memcpy(num, s + f, b);
	num[b] = '\0';
	if (config_key_parse_int("modbus.rtu", "baud", num, &o->baud, why, sizeof(why)) < 0)
		return spec_err(err, errlen, "baud %s", why);
	if (f - 1 >= sizeof(o->device))
		return spec_err(err, errlen, "device name longer than %zu bytes", sizeof(o->device) - 1);
	memcpy(o->device, s, f - 1);
	o->device[f - 1] = '\0';
	if (config_key_check_string("modbus.rtu", "device", o->device, why, sizeof(why)) < 0)
		return spec_err(err, errlen, "device %s", why);
	return 0;
}

static int parse_tcp_spec(const char *s, struct mb_link_spec *o, char *err, size_t errlen)
{
	size_t n = strlen(s), f = last_field(s, n);
	char why[400];

	if (!f)
		return spec_err(err, errlen, "expected HOST:PORT, e.g. 10.0.0.50:502");
	if (f - 1 >= sizeof(o->host))
		return spec_err(err, errlen, "host name longer than %zu bytes", sizeof(o->host) - 1);
	/* [::1]:502: the brackets only separate an IPv6 address from the port */
	if (s[0] == '[' && f >= 3 && s[f - 2] == ']') {
		memcpy(o->host, s + 1, f - 3);
		o->host[f - 3] = '\0';
	} else {
		memcpy(o->host, s, f - 1);
		o->host[f - 1] = '\0';
	}
	if (!o->host[0])
		return spec_err(err, errlen, "no host before the port");
	if (config_key_parse_int("modbus.tcp", "port", s + f, &o->port, why, sizeof(why)) < 0)
		return spec_err(err, errlen, "port %s", why);
	return 0;
}

int mb_link_spec_parse(const char *spec, struct mb_link_spec *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	if (strncmp(spec, "tcp:", 4) == 0)
		return parse_tcp_spec(spec + 4, out, err, errlen);
	if (strncmp(spec, "rtu:", 4) == 0) {
		out->is_rtu = 1;
		return parse_rtu_spec(spec + 4, out, err, errlen);
	}
	return spec_err(err, errlen, "expected tcp:HOST:PORT or rtu:DEVICE:BAUD[:8N1]");
}

struct mb_link *mb_link_open(const char *spec, int64_t timeout_ms, char *err, size_t errlen)
{
	struct mb_link_spec sp;
	struct mb_link *l;
	modbus_t *ctx = NULL;
	char why[512];
	int rc;

	if (mb_link_spec_parse(spec, &sp, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "%s: %s", spec + (strncmp(spec, "tcp:", 4) && strncmp(spec, "rtu:", 4) ? 0 : 4),
			 why);
		errno = EINVAL;
		return NULL;
	}
	if (sp.is_rtu) {
		ctx = modbus_new_rtu(sp.device, sp.baud, sp.parity, sp.data_bits, sp.stop_bits);
	} else {
		char port[8];
		snprintf(port, sizeof(port), "%d", sp.port);
		ctx = modbus_new_tcp_pi(sp.host, port);
	}
	if (!ctx) {
		snprintf(err, errlen, "%s: %s", spec, modbus_strerror(errno));
		return NULL;
	}
	modbus_set_error_recovery(ctx, MODBUS_ERROR_RECOVERY_NONE);
	set_timeout(ctx, timeout_ms, modbus_set_response_timeout);
	set_timeout(ctx, timeout_ms < 100 ? timeout_ms : 100, modbus_set_byte_timeout);
	l = xcalloc(1, sizeof(*l));
	l->ctx = ctx;
	l->tcp.fd = -1;
	rc = modbus_connect(ctx) < 0 ? -errno
	     : sp.is_rtu	       ? 0
				       : tcp_attach(&l->tcp, ctx, timeout_ms, timeout_ms < 100 ? timeout_ms : 100);
	if (rc < 0) {
		snprintf(err, errlen, "%s: %s", spec + 4, modbus_strerror(-rc));
		mb_link_close(l);
		errno = -rc;
		return NULL;
	}
	return l;
}

int mb_link_read(struct mb_link *l, int unit, enum cc_table table, uint16_t address, uint16_t count,
		 uint16_t *words, double *rtt_ms)
{
	uint8_t bits[MODBUS_MAX_READ_BITS];
	int64_t t0 = mono_us();
	int rc, e;

	if (count > (is_bit_table(table) ? MODBUS_MAX_READ_BITS : MODBUS_MAX_READ_REGISTERS))
		return -EINVAL;
	rc = link_read(l->ctx, &l->tcp, unit, table, address, count, words, bits);
	e = errno;
	for (int i = 0; is_bit_table(table) && rc > 0 && i < rc; i++)
		words[i] = bits[i];
	if (rtt_ms)
		*rtt_ms = (double)(mono_us() - t0) / 1000.0;
	if (rc == count)
		return 0;
	if (rc >= 0)
		return -EMBMDATA;
	if (e == ETIMEDOUT)
		modbus_flush(l->ctx);
	if (is_exception(e))
		return -(MB_EXCEPTION_BASE + (e - MODBUS_ENOBASE));
	return -e;
}

int mb_exception_code(int rc)
{
	return rc <= -(MB_EXCEPTION_BASE + 1) && rc >= -(MB_EXCEPTION_BASE + 255) ? -rc - MB_EXCEPTION_BASE : 0;
}

const char *mb_link_strerror(int rc)
{
	if (mb_exception_code(rc))
		return modbus_strerror(MODBUS_ENOBASE + mb_exception_code(rc));
	return modbus_strerror(-rc);
}

void mb_link_close(struct mb_link *l)
{
	if (!l)
		return;
	modbus_close(l->ctx);
	modbus_free(l->ctx);
	free(l);
}
