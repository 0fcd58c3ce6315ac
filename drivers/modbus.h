/* modbus.h - the Modbus driver: one worker thread per bus (TCP or RTU),
 * each polling its devices on their own intervals, with failure isolation
 * (capped exponential backoff per unit, link reopen) and request planning.
 * Samples go to pipeline_submit().  The only file including <modbus.h> is
 * modbus.c. */
#ifndef CC_MODBUS_H
#define CC_MODBUS_H

#include <stddef.h>
#include <stdint.h>

#include "../daemon/config.h"

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

/*
 * `coldchaind --test`: on the calling thread, opens conf's link, polls every
 * device once with its request plan, and hands each device's samples to
 * pipeline_submit() as a polling slot of the running daemon does (a failed
 * point as a comm_error sample); fail is called once per point that could
 * not be read.  Returns the number of such points.
 */
typedef void mb_fail_fn(const char *bus, int unit, const char *device, const char *table, unsigned address,
			const char *channel, const char *why, void *arg);
int mb_bus_read_once(const struct cc_bus_conf *conf, const char *site, mb_fail_fn *fail, void *arg);

/* Calls fn once per device with a snapshot of its counters (thread-safe). */
void mb_bus_foreach_stats(struct mb_bus *b, void (*fn)(const char *bus, const struct mb_unit_stats *st, void *arg),
			  void *arg);

/*
 * Raw access for the technician tools (coldchainctl modbus read/scan): one
 * link, one request at a time, no backoff, no samples.
 * spec: "tcp:HOST:PORT" or "rtu:DEVICE:BAUD:8N1" (data bits, parity N/E/O,
 * stop bits).  NULL + errno, with a message in err.
 */
struct mb_link;
/* A spec taken apart and checked: PORT, BAUD, data bits, parity and stop
 * bits exactly as groups modbus.tcp and modbus.rtu of the configuration
 * check them; the device must be an absolute path, as there.  The fields
 * split from the right, so a device path may contain ':'.  0, or -EINVAL
 * with what is wrong in err (the spec itself not repeated). */
struct mb_link_spec {
	int is_rtu;
	char host[256];
	int port;
	char device[256];
	int baud, data_bits, stop_bits;
	char parity; /* 'N', 'E', 'O' */
};
int mb_link_spec_parse(const char *spec, struct mb_link_spec *out, char *err, size_t errlen);
struct mb_link *mb_link_open(const char *spec, int64_t timeout_ms, char *err, size_t errlen);
/*
 * Reads count registers (holding/input) into words, or count bits
 * (coil/discrete) into words (0/1 each).  Returns 0, or -errno: -ETIMEDOUT
 * when nothing answered, -EMB_EXCEPTION_BASE - code for a Modbus exception
 * (see mb_exception_code), other -errno for link errors.  *rtt_ms is the
 * round trip when not NULL.
 */
#define MB_EXCEPTION_BASE 100000
int mb_link_read(struct mb_link *l, int unit, enum cc_table table, uint16_t address, uint16_t count,
		 uint16_t *words, double *rtt_ms);
/* The exception code (1..11) of a return value of mb_link_read, or 0. */
int mb_exception_code(int rc);
/* A message for a return value of mb_link_read (libmodbus's wording). */
const char *mb_link_strerror(int rc);
void mb_link_close(struct mb_link *l);

#endif
