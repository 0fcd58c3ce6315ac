/* bench_mqtt_wire.c - codec/mqtt_wire on one core: a 64 KiB read's worth
 * of QoS 1 JSON PUBLISHes framed and decoded by mqtt_wire_next, each one's
 * PUBACK encoded, in 3.1.1 and 5; beside it the minimal hand-rolled 3.1.1
 * parse mqtt_raw_sub had before the codec, for the codec's cost.  CPU time
 * (CLOCK_PROCESS_CPUTIME_ID) per packet, and instructions are not counted
 * here (callgrind on this binary gives them). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../../codec/mqtt_wire.h"

#define BUF 65536

static uint8_t buf[BUF], ack[BUF];

/* fills buf with whole PUBLISHes; their count, *len the bytes */
static long fill(int version, size_t *len)
{
	char topic[64], pay[96];
	size_t at = 0;
	long n = 0;

	for (;; n++) {
		int k;
		snprintf(topic, sizeof(topic), "site/lucngan/room-%ld/th-a%ld/telemetry", n % 8, n % 50);
		snprintf(pay, sizeof(pay), "{\"t\": %.2f, \"rh\": %.1f, \"ts\": %ld}", 3.5 + (double)(n % 100) / 100,
			 90.0 + (double)(n % 10) / 10, 1780000000000L + n);
		k = mqtt_wire_publish(buf + at, BUF - at, version, topic, strlen(topic), 1, 0, (uint16_t)(n % 65535 + 1),
				      pay, strlen(pay));
		if (k < 0)
			break;
		at += (size_t)k;
	}
	*len = at;
	return n;
}

static double cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* one pass over buf with the codec: the payload bytes seen (kept live) */
static size_t pass_codec(size_t len, int version)
{
	struct mqtt_pkt k;
	size_t at = 0, nack = 0, sink = 0;
	int rc;

	while ((rc = mqtt_wire_next(buf + at, len - at, version, BUF, &k)) > 0) {
		sink += k.payload_len + k.topic_len;
		nack += (size_t)mqtt_wire_puback(ack + nack, 4, version, k.id);
		at += (size_t)rc;
	}
	return sink + nack;
}

/* the hand-rolled 3.1.1 parse of mqtt_raw_sub before the codec (PUBLISH only) */
static size_t pass_old(size_t len)
{
	size_t at = 0, nack = 0, sink = 0;

	while (len - at >= 2) {
		size_t rl = 0, i = 1, mult = 1, tl, hdr;
		const uint8_t *p;
		for (;; i++) {
			if (i > 4 || at + i >= len)
				return sink;
			rl += (size_t)(buf[at + i] & 0x7f) * mult;
			mult *= 128;
			if (!(buf[at + i] & 0x80))
				break;
		}
		if (at + 1 + i + rl > len)
			break;
		p = buf + at + 1 + i;
		tl = (size_t)p[0] << 8 | p[1];
		hdr = 2 + tl + 2;
		if (hdr > rl)
			return sink;
		ack[nack++] = 0x40;
		ack[nack++] = 2;
		ack[nack++] = p[2 + tl];
		ack[nack++] = p[3 + tl];
		sink += rl - hdr + tl;
		at += 1 + i + rl;
	}
	return sink + nack;
}

static void run(const char *label, int version, int old)
{
	size_t len, sink = 0;
	long per = fill(version, &len), reps = 20000;
	double t0 = cpu_ns(), t;

	for (long r = 0; r < reps; r++)
		sink += old ? pass_old(len) : pass_codec(len, version);
	t = (cpu_ns() - t0) / ((double)per * (double)reps);
	printf("  %-34s cpu per packet %.1f ns (%ld packets of %zu bytes per 64 KiB read; issue 18's whole "
	       "budget: 5 µs per point)%s\n",
	       label, t, per, len / (size_t)per, sink == 42 ? " " : "");
}

int main(void)
{
	run("mqtt_wire 3.1.1 (frame+decode+PUBACK)", MQTT_WIRE_V311, 0);
	run("mqtt_wire 5 (frame+decode+PUBACK)", MQTT_WIRE_V5, 0);
	run("hand-rolled 3.1.1 (before the codec)", MQTT_WIRE_V311, 1);
	return 0;
}
