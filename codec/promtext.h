/* promtext.h - the daemon's self-metrics (InfluxDB line protocol, as
 * stats_emit writes them) in the Prometheus text exposition format 0.0.4,
 * for /metrics.  Pure: no I/O, no clock. */
#ifndef CC_PROMTEXT_H
#define CC_PROMTEXT_H

#include <stddef.h>

#include "lineproto.h"

/*
 * Appends to out (as bytes; out->lines is not kept) one family per
 * measurement field: name MEASUREMENT_FIELD (characters outside
 * [A-Za-z0-9_:] become '_'), the point's tags as labels (values escaped:
 * backslash, double quote, line feed), a "# HELP" and "# TYPE" line
 * (gauge when the field is in the table in promtext.c, else counter),
 * and the point's timestamp in milliseconds.  Integers print exactly,
 * floats as "%.17g" (NaN/Inf as the format spells them), booleans 1/0;
 * string fields are left out.  Samples of a family are kept together in
 * the order their lines came.  A line that does not parse is skipped and
 * counted in *skipped (when not NULL).  Returns 0 or -ENOMEM.
 */
int prom_from_lineproto(const char *lines, size_t len, struct lp_buf *out, size_t *skipped);

/* 1 when MEASUREMENT's FIELD is a gauge (goes up and down), 0: counter. */
int prom_is_gauge(const char *measurement, const char *field);

#endif
