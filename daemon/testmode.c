/* testmode.c - `coldchaind --test` (Telegraf's --test): every Modbus point
 * read once and MQTT listened to for a while, through the daemon's own
 * drivers and encoder, with the line protocol printed on stdout instead of
 * journaled.  No state-dir lock, journal, outputs, engine, control socket or
 * web listener: it can run beside the running daemon. */
#include "testmode.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../drivers/modbus.h"
#include "../drivers/mqtt.h"
#include "config.h"
#include "log.h"
#include "pipeline.h"
#include "util.h"

/* What is printed is kept until the end to be sorted: bounded. */
#define TEST_MAX_OUTPUT (64u << 20)

struct collect {
	pthread_mutex_t lock;
	char *data;
	size_t len, cap;
	uint64_t dropped; /* lines beyond TEST_MAX_OUTPUT */
};

static void collect_lines(void *arg, const char *lines, size_t len)
{
	struct collect *c = arg;

	pthread_mutex_lock(&c->lock);
	if (c->len + len + 1 > TEST_MAX_OUTPUT) {
		for (size_t i = 0; i < len; i++)
			c->dropped += lines[i] == '\n';
	} else {
		if (c->len + len + 1 > c->cap) {
			c->cap = (c->len + len + 1) * 2;
			c->data = xrealloc(c->data, c->cap);
		}
		memcpy(c->data + c->len, lines, len);
		c->len += len;
		if (lines[len - 1] != '\n')
			c->data[c->len++] = '\n';
	}
	pthread_mutex_unlock(&c->lock);
}

struct tline {
	const char *s;
	size_t len, idx;
	int64_t ts;
};

static int tline_cmp(const void *a, const void *b)
{
	const struct tline *x = a, *y = b;

	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Prints the collected lines sorted by their timestamp (the last field),
 * in arrival order within one timestamp. */
static void print_sorted(struct collect *c, FILE *out)
{
	struct tline *v = NULL;
	size_t n = 0, cap = 0;

	for (size_t off = 0; off < c->len;) {
		const char *nl = memchr(c->data + off, '\n', c->len - off);
		size_t l = (size_t)(nl - (c->data + off));
		const char *sp = memrchr(c->data + off, ' ', l);

		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			v = xrealloc(v, cap * sizeof(*v));
		}
		v[n] = (struct tline){ c->data + off, l, n, sp ? strtoll(sp + 1, NULL, 10) : 0 };
		n++;
		off += l + 1;
	}
	if (n)
		qsort(v, n, sizeof(*v), tline_cmp);
	for (size_t i = 0; i < n; i++)
		fprintf(out, "%.*s\n", (int)v[i].len, v[i].s);
	fflush(out);
	free(v);
}

static void report_fail(const char *bus, int unit, const char *device, const char *table, unsigned address,
			const char *channel, const char *why, void *arg)
{
	(void)arg;
	fprintf(stderr, "bus %s unit %d (%s) %s %u (%s): %s\n", bus, unit, device, table, address, channel, why);
}

/* Waits until deadline (monotonic ms); 1 if the client was connected at any
 * time meanwhile. */
static int mqtt_listen(struct mqtt_client *m, int64_t deadline)
{
	int seen = 0;

	for (;;) {
		int64_t left = deadline - time_mono_ms();
		struct timespec ts = { 0, 50 * 1000000L };

		seen |= mqtt_connected(m);
		if (left <= 0)
			return seen;
		if (left < 50)
			ts.tv_nsec = left * 1000000L;
		nanosleep(&ts, NULL);
	}
}

int testmode_run(const struct cc_config *cfg, int64_t duration_ms)
{
	struct collect c = { .lock = PTHREAD_MUTEX_INITIALIZER };
	struct mqtt_client *m = NULL;
	int64_t deadline = time_mono_ms() + duration_ms;
	int nfail = 0, rc = 0;

	pipeline_set_lines_sink(collect_lines, &c);
	if (cfg->mqtt && !(m = mqtt_test_start(cfg->mqtt, cfg->site))) {
		fprintf(stderr, "mqtt broker %s:%d: cannot start a client: %s\n", cfg->mqtt->host, cfg->mqtt->port,
			strerror(errno));
		rc = 1;
	}
	for (size_t i = 0; i < cfg->nbuses; i++)
		nfail += mb_bus_read_once(&cfg->buses[i], cfg->site, report_fail, NULL);
	if (m) {
		if (!mqtt_listen(m, deadline)) {
			fprintf(stderr, "mqtt broker %s:%d: not connected within %" PRId64 " ms\n", cfg->mqtt->host,
				cfg->mqtt->port, duration_ms);
			rc = 1;
		}
		mqtt_stop(m);
	}
	pipeline_set_lines_sink(NULL, NULL);
	print_sorted(&c, stdout);
	if (c.dropped) {
		fprintf(stderr, "coldchaind --test: %" PRIu64 " %s beyond %u MiB not printed\n", c.dropped,
			plural(c.dropped, "line", "lines"), TEST_MAX_OUTPUT >> 20);
		rc = 1;
	}
	if (nfail) {
		fprintf(stderr, "coldchaind --test: %d %s could not be read\n", nfail,
			plural((uint64_t)nfail, "point", "points"));
		rc = 1;
	}
	free(c.data);
	return rc;
}
