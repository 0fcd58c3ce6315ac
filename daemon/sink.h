/* sink.h - the seam every sample passes through on its way out.
 * Today: encode once to line protocol and hand the lines to every output's
 * bounded queue.  The durable journal (a separate issue) replaces the
 * body of sink_submit*, and nothing upstream changes. */
#ifndef CC_SINK_H
#define CC_SINK_H

#include <stddef.h>

#include "sample.h"

struct output;

/* Register the outputs that receive lines.  Not thread-safe against
 * sink_submit: call only while no source runs. */
void sink_set_outputs(struct output **outs, size_t n);

/* Thread-safe.  Never blocks on the network. */
void sink_submit(const struct cc_sample *s, size_t n);
/* One or more complete, '\n'-terminated lines of line protocol. */
void sink_submit_lines(const char *lines, size_t len, size_t nlines);

/*
 * An alert event: one JSON object (no newline), journaled as its own record
 * type and delivered to the outputs that take events (webhooks, MQTT
 * alerts).  Its InfluxDB form (measurement "alert") is submitted separately
 * with sink_submit_lines().  Thread-safe; durable when it returns (as
 * durable as the journal's fsync policy makes it).
 */
void sink_submit_event(const char *json, size_t len);

#endif
