/* sample.h - what every source produces and every output consumes.
 * A sample is (channel, timestamp ns UTC, value, quality): a failed read is a
 * sample with a non-good quality, so the gap is recorded, not hidden. */
#ifndef CC_SAMPLE_H
#define CC_SAMPLE_H

#include <stdint.h>

enum cc_quality {
	CC_Q_GOOD = 0,
	CC_Q_STALE,        /* no fresh value within the expected interval */
	CC_Q_OUT_OF_RANGE, /* decoded, but physically impossible for the point */
	CC_Q_COMM_ERROR,   /* the read failed: timeout, exception, link down */
};

const char *quality_name(enum cc_quality q);

/*
 * A channel is one physical quantity of one sensor.  The strings belong to
 * the configuration that created the channel and live as long as it does.
 * InfluxDB: measurement = quantity; tags site, room, sensor, channel, unit.
 */
struct cc_channel {
	const char *id;       /* "sensor/channel", unique in a configuration */
	const char *quantity; /* measurement: temperature, humidity, co2, door */
	const char *site;
	const char *room;     /* may be NULL: then no room tag */
	const char *sensor;   /* the device name */
	const char *name;     /* the channel name within the device */
	const char *unit;     /* may be NULL */
};

struct cc_sample {
	const struct cc_channel *ch;
	int64_t ts_ns;
	double value; /* meaningful only when quality is CC_Q_GOOD or OUT_OF_RANGE */
	enum cc_quality quality;
};

#endif
