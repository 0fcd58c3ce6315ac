/* publisher.c - the backend for a publisher implemented outside outputs/
 * (the MQTT alert publisher in drivers/mqtt.c): one event per publish(),
 * see output_publisher_new in outputs/output.h. */
#include "backend.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../daemon/util.h"

struct publisher {
	char *id;
	const struct output_publisher_ops *ops;
	void *arg;
};

static void publisher_send(void *be, struct output *o, const char *data, size_t len, size_t nlines,
			   struct send_result *r)
{
	struct publisher *p = be;
	int64_t timeout = OUTPUT_DEF_TIMEOUT_MS, rem = output_remaining_ms(o);
	int e;

	(void)nlines;
	while (len && (data[len - 1] == '\n' || data[len - 1] == '\r'))
		len--;
	if (rem < timeout)
		timeout = rem > 1 ? rem : 1;
	e = p->ops->publish(p->arg, data, len, timeout, r->error, sizeof(r->error));
	output_count_request(o);
	if (e == 0) {
		r->status = SEND_OK;
		r->done = 1;
	} else if (e == -EINVAL) {
		r->status = SEND_REJECT;
		r->done = 1;
		r->rejected = 1;
	} else {
		r->status = SEND_RETRY;
	}
}

static int publisher_same_destination(const void *a, const void *b)
{
	return strcmp(((const struct publisher *)a)->id, ((const struct publisher *)b)->id) == 0;
}

static void publisher_free(void *be)
{
	struct publisher *p = be;

	if (p->ops->destroy)
		p->ops->destroy(p->arg);
	free(p->id);
	free(p);
}

static const struct output_ops publisher_ops = {
	.events = 1,
	.send = publisher_send,
	.same_destination = publisher_same_destination,
	.free = publisher_free,
};

struct output *output_publisher_new(const char *name, const char *id, int start_oldest, int64_t backoff_max_ms,
				    const struct output_publisher_ops *ops, void *arg)
{
	struct output_limits lim = { .batch = 1, .flush_ms = OUTPUT_DEF_FLUSH_MS, .backoff_max_ms = backoff_max_ms,
				     .start_oldest = start_oldest };
	struct publisher *p;

	if (!name || !id || !ops || !ops->publish) {
		errno = EINVAL;
		return NULL;
	}
	p = xcalloc(1, sizeof(*p));
	p->id = xstrdup(id);
	p->ops = ops;
	p->arg = arg;
	return output_new(name, id, &lim, &publisher_ops, p);
}
