/* fuzz_mqtt_wire.c - the MQTT framer/decoder must survive any byte stream
 * in both versions: what it consumes lies inside the input, every pointer
 * it returns lies inside the packet, and a decoded QoS 0/1 PUBLISH without
 * properties re-encodes to a packet that decodes to the same fields; a
 * property looked up lies inside its block; the head of a PUBLISH too large
 * to frame (mqtt_wire_publish_head) lies inside what is there. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../codec/mqtt_wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void inside(const uint8_t *p, size_t n, const uint8_t *lo, size_t len)
{
	if (n && (p < lo || p + n > lo + len))
		abort();
}

static void reencode(const struct mqtt_pkt *k, int v)
{
	static uint8_t b[70000];
	struct mqtt_pkt q;
	int n;

	if (k->type != MQTT_PUBLISH || k->qos > 1 || !k->topic_len || k->props_len || k->dup ||
	    k->payload_len > 4096)
		return;
	n = mqtt_wire_publish(b, sizeof(b), v, (const char *)k->topic, k->topic_len, k->qos, k->retain, k->id,
			      k->payload, k->payload_len);
	if (n <= 0 || mqtt_wire_next(b, (size_t)n, v, sizeof(b), &q) != n)
		abort();
	if (q.qos != k->qos || q.retain != k->retain || q.id != k->id || q.topic_len != k->topic_len ||
	    q.payload_len != k->payload_len || memcmp(q.topic, k->topic, k->topic_len) != 0 ||
	    (k->payload_len && memcmp(q.payload, k->payload, k->payload_len) != 0))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	for (int v = MQTT_WIRE_V311; v <= MQTT_WIRE_V5; v++) {
		size_t at = 0;
		struct mqtt_pkt k;
		int rc;

		while (at < size && (rc = mqtt_wire_next(data + at, size - at, v, 4096, &k)) > 0) {
			if ((size_t)rc > size - at || k.len != (size_t)rc)
				abort();
			inside(k.topic, k.topic_len, data + at, (size_t)rc);
			inside(k.payload, k.payload_len, data + at, (size_t)rc);
			inside(k.props, k.props_len, data + at, (size_t)rc);
			inside(k.codes, k.ncodes, data + at, (size_t)rc);
			reencode(&k, v);
			for (unsigned id = 0; id < 0x30; id += 0x13) {
				const uint8_t *pv;
				size_t pl;
				if (mqtt_wire_prop_find(k.props, k.props_len, id, &pv, &pl) == 1)
					inside(pv, pl, k.props, k.props_len);
			}
			at += (size_t)rc;
		}
		/* what does not frame under a small limit: its head alone */
		if (at < size && mqtt_wire_next(data + at, size - at, v, 64, &k) == MQTT_WIRE_E_TOOBIG &&
		    (rc = mqtt_wire_publish_head(data + at, size - at, v, &k)) > 0) {
			inside(k.topic, k.topic_len, data + at, size - at);
			inside(k.props, k.props_len, data + at, size - at);
			if (k.payload < data + at || k.payload > data + size || k.len != (size_t)rc)
				abort();
		}
	}
	return 0;
}
