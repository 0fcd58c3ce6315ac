/* modbus.h - the Modbus driver: one worker thread per bus (TCP or RTU),
 * each polling its devices on their own intervals, with failure isolation
 * (capped exponential backoff per unit, link reopen) and request planning.
 * Samples go to sink_submit().  The only file including <modbus.h> is
 * modbus.c. */
#ifndef CC_MODBUS_H
#define CC_MODBUS_H

#include <stdint.h>

struct cc_bus_conf;
struct mb_bus;

struct mb_unit_stats {
	const char *device; /* device name */
	int unit;
	uint64_t requests, errors, timeouts, exceptions;
	uint64_t polls;       /* completed polls of the device */
	double last_rtt_ms;
	int down;             /* 1 while in backoff */
};

/* Creates and starts the worker.  conf must outlive the bus. */
struct mb_bus *mb_bus_start(const struct cc_bus_conf *conf, const char *site);
/* Asks the worker to stop and joins it (bounded by one timeout). */
void mb_bus_stop(struct mb_bus *b);

/* Calls fn once per device with a snapshot of its counters (thread-safe). */
void mb_bus_foreach_stats(struct mb_bus *b, void (*fn)(const char *bus, const struct mb_unit_stats *st, void *arg),
			  void *arg);

#endif
