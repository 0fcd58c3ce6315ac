/* test_mqtt_wire.c - the MQTT packet codec: the specs' vectors (remaining
 * lengths, a CONNECT field by field), encode -> decode round trips in both
 * versions, and every malformed stream the framer must refuse. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../codec/mqtt_wire.h"
#include "testlib.h"

#define V4 MQTT_WIRE_V311
#define V5 MQTT_WIRE_V5
#define MAXP (1u << 20)

static int next(const uint8_t *p, size_t n, int v, struct mqtt_pkt *o)
{
	return mqtt_wire_next(p, n, v, MAXP, o);
}

/* MQTT 3.1.1 2.2.3 / 5.0 1.5.5: the remaining-length table's edges */
static void test_varint_spec_vectors_both_ways(void)
{
	static const struct {
		uint32_t v;
		uint8_t b[4];
		int n;
	} t[] = {
		{ 0, { 0x00 }, 1 },
		{ 127, { 0x7f }, 1 },
		{ 128, { 0x80, 0x01 }, 2 },
		{ 16383, { 0xff, 0x7f }, 2 },
		{ 16384, { 0x80, 0x80, 0x01 }, 3 },
		{ 2097151, { 0xff, 0xff, 0x7f }, 3 },
		{ 2097152, { 0x80, 0x80, 0x80, 0x01 }, 4 },
		{ 268435455, { 0xff, 0xff, 0xff, 0x7f }, 4 },
	};
	uint8_t b[8];
	uint32_t v;

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		CHECK_INT(mqtt_wire_put_varint(b, sizeof(b), t[i].v), t[i].n);
		CHECK(memcmp(b, t[i].b, (size_t)t[i].n) == 0);
		v = 1;
		CHECK_INT(mqtt_wire_get_varint(t[i].b, (size_t)t[i].n, &v), t[i].n);
		CHECK_INT(v, t[i].v);
		/* one byte short: more needed, never an error */
		CHECK_INT(mqtt_wire_get_varint(t[i].b, (size_t)t[i].n - 1, &v), 0);
		CHECK_INT(mqtt_wire_put_varint(b, (size_t)t[i].n - 1, t[i].v), -ENOSPC);
	}
	CHECK_INT(mqtt_wire_put_varint(b, sizeof(b), 268435456u), -EINVAL);
	CHECK_INT(mqtt_wire_get_varint((const uint8_t *)"\xff\xff\xff\xff\x01", 5, &v), MQTT_WIRE_E_REMLEN);
}

/* MQTT 3.1.1 3.1: protocol name, level, flags, keep-alive, then the
 * payload in order: client id, user name, password */
static void test_connect_v311_field_by_field(void)
{
	uint8_t b[128];
	struct mqtt_wire_connect c = { .version = V4, .client_id = "cc1", .clean = 1, .keepalive = 60,
				       .username = "u", .password = "pw", .password_len = 2 };
	static const uint8_t want[] = { 0x10, 22,  0,   4,   'M', 'Q', 'T', 'T', 4,   0xc2, 0,   60,
					0,    3,   'c', 'c', '1', 0,   1,   'u', 0,   2,    'p', 'w' };

	CHECK_INT(mqtt_wire_connect(b, sizeof(b), &c), sizeof(want));
	CHECK(memcmp(b, want, sizeof(want)) == 0);
	CHECK_INT(b[9], 0xc2); /* user name, password, clean session */
	CHECK_INT(mqtt_wire_connect(b, sizeof(want) - 1, &c), -ENOSPC);
	c.username = NULL; /* a password without a user name: 3.1.1 forbids */
	CHECK_INT(mqtt_wire_connect(b, sizeof(b), &c), -EINVAL);
	c.password = NULL;
	c.clean = 0;
	c.client_id = ""; /* an empty id needs a clean session */
	CHECK_INT(mqtt_wire_connect(b, sizeof(b), &c), -EINVAL);
}

/* MQTT 5.0 3.1.2.11: properties after keep-alive: Session Expiry Interval
 * (0x11, 4 bytes), Receive Maximum (0x21, 2 bytes) */
static void test_connect_v5_with_properties(void)
{
	uint8_t b[128];
	struct mqtt_wire_connect c = { .version = V5, .client_id = "x", .clean = 0, .keepalive = 30,
				       .receive_max = 100, .session_expiry = 3600 };
	static const uint8_t want[] = { 0x10, 22, 0,    4, 'M', 'Q', 'T',  'T', 5,   0x00, 0, 30,
					8,    0x11, 0,    0, 0x0e, 0x10, 0x21, 0,   100, 0,    1, 'x' };

	CHECK_INT(mqtt_wire_connect(b, sizeof(b), &c), sizeof(want));
	CHECK(memcmp(b, want, sizeof(want)) == 0);
	c.receive_max = 0;
	c.session_expiry = 0;
	CHECK_INT(mqtt_wire_connect(b, sizeof(b), &c), 16); /* property length 0 */
	CHECK_INT(b[12], 0);
	c.max_packet = 0x01020304; /* Maximum Packet Size (0x27): 5 bytes */
	{
		static const uint8_t mp[] = { 0x10, 19, 0, 4, 'M', 'Q', 'T', 'T', 5, 0x00, 0, 30,
					      5, 0x27, 1, 2, 3, 4, 0, 1, 'x' };
		CHECK_INT(mqtt_wire_connect(b, sizeof(b), &c), sizeof(mp));
		CHECK(memcmp(b, mp, sizeof(mp)) == 0);
	}
	c.version = 3;
	CHECK_INT(mqtt_wire_connect(b, sizeof(b), &c), -EINVAL);
}

static void test_subscribe_both_versions(void)
{
	uint8_t b[64];
	const char *f[] = { "a/+", "b/#" };
	uint8_t q[] = { 1, 0 }, o5[] = { 0x05, 0x2c }; /* QoS 1 + No Local; No Local + RAP + RH 2 */
	static const uint8_t w4[] = { 0x82, 14, 0, 7, 0, 3, 'a', '/', '+', 1, 0, 3, 'b', '/', '#', 0 };
	static const uint8_t w5[] = { 0x82, 15, 0, 7, 0, 0, 3, 'a', '/', '+', 5, 0, 3, 'b', '/', '#', 0x2c };
	uint8_t bad = 3, bad5 = 0x40;

	CHECK_INT(mqtt_wire_subscribe(b, sizeof(b), V4, 7, f, q, 2), sizeof(w4));
	CHECK(memcmp(b, w4, sizeof(w4)) == 0);
	CHECK_INT(mqtt_wire_subscribe(b, sizeof(b), V5, 7, f, o5, 2), sizeof(w5));
	CHECK(memcmp(b, w5, sizeof(w5)) == 0);
	CHECK_INT(mqtt_wire_subscribe(b, sizeof(b), V4, 0, f, q, 2), -EINVAL);
	CHECK_INT(mqtt_wire_subscribe(b, sizeof(b), V4, 1, f, &bad, 1), -EINVAL);
	CHECK_INT(mqtt_wire_subscribe(b, sizeof(b), V4, 1, f, o5, 1), -EINVAL); /* v5 options in 3.1.1 */
	CHECK_INT(mqtt_wire_subscribe(b, sizeof(b), V5, 1, f, &bad5, 1), -EINVAL);
	CHECK_INT(mqtt_wire_subscribe(b, 10, V4, 7, f, q, 2), -ENOSPC);
}

/* UNSUBSCRIBE's bytes (MQTT 3.1.1 3.10, MQTT 5 3.10: flags 0b0010, no
 * options byte), and UNSUBACK's: 3.1.1 the id alone, v5 a reason per filter */
static void test_unsubscribe_and_unsuback_both_versions(void)
{
	uint8_t b[64];
	const char *f[] = { "a/+", "b/#" };
	static const uint8_t w4[] = { 0xa2, 12, 0, 7, 0, 3, 'a', '/', '+', 0, 3, 'b', '/', '#' };
	static const uint8_t w5[] = { 0xa2, 13, 0, 7, 0, 0, 3, 'a', '/', '+', 0, 3, 'b', '/', '#' };
	static const uint8_t a4[] = { 0xb0, 2, 0, 7 }, a5[] = { 0xb0, 5, 0, 7, 0, 0x00, 0x11 };
	const char *empty[] = { "" };
	struct mqtt_pkt p;

	CHECK_INT(mqtt_wire_unsubscribe(b, sizeof(b), V4, 7, f, 2), sizeof(w4));
	CHECK(memcmp(b, w4, sizeof(w4)) == 0);
	CHECK_INT(mqtt_wire_unsubscribe(b, sizeof(b), V5, 7, f, 2), sizeof(w5));
	CHECK(memcmp(b, w5, sizeof(w5)) == 0);
	CHECK_INT(mqtt_wire_unsubscribe(b, sizeof(b), V4, 0, f, 2), -EINVAL);
	CHECK_INT(mqtt_wire_unsubscribe(b, sizeof(b), V4, 1, f, 0), -EINVAL);
	CHECK_INT(mqtt_wire_unsubscribe(b, sizeof(b), V4, 1, empty, 1), -EINVAL);
	CHECK_INT(mqtt_wire_unsubscribe(b, 10, V4, 7, f, 2), -ENOSPC);
	CHECK_INT(next(a4, sizeof(a4), V4, &p), 4);
	CHECK(p.type == MQTT_UNSUBACK && p.id == 7 && p.ncodes == 0);
	CHECK_INT(next(a5, sizeof(a5), V5, &p), 7);
	CHECK(p.type == MQTT_UNSUBACK && p.id == 7 && p.ncodes == 2 && p.codes[0] == 0 && p.codes[1] == 0x11);
	CHECK(strcmp(mqtt_wire_reason(0x11), "No subscription existed") == 0);
}

static void test_small_packets_bytes(void)
{
	uint8_t b[8];

	CHECK_INT(mqtt_wire_puback(b, sizeof(b), V4, 0x1234), 4);
	CHECK(memcmp(b, "\x40\x02\x12\x34", 4) == 0);
	CHECK_INT(mqtt_wire_puback(b, sizeof(b), V5, 0x1234), 4); /* v5 short form */
	CHECK(memcmp(b, "\x40\x02\x12\x34", 4) == 0);
	CHECK_INT(mqtt_wire_puback(b, sizeof(b), V4, 0), -EINVAL);
	CHECK_INT(mqtt_wire_puback(b, 3, V4, 1), -ENOSPC);
	CHECK_INT(mqtt_wire_pingreq(b, sizeof(b)), 2);
	CHECK(memcmp(b, "\xc0\x00", 2) == 0);
	CHECK_INT(mqtt_wire_disconnect(b, sizeof(b), V5), 2);
	CHECK(memcmp(b, "\xe0\x00", 2) == 0);
	CHECK_INT(mqtt_wire_pingreq(b, 1), -ENOSPC);
}

/* PUBLISH encoded then framed and decoded, both versions, QoS 0 and 1,
 * payloads whose remaining length takes 1, 2 and 3 bytes */
static void test_publish_round_trip(void)
{
	static uint8_t b[300000], pay[200000];
	const char *topic = "kho/l\xe1\xbb\x9dnh/t\xc3\xa2m"; /* UTF-8, unchecked here */
	size_t sizes[] = { 0, 5, 200, 20000, sizeof(pay) };
	struct mqtt_pkt p;

	for (size_t i = 0; i < sizeof(pay); i++)
		pay[i] = (uint8_t)(i * 7);
	for (int v = V4; v <= V5; v++)
		for (int qos = 0; qos <= 1; qos++)
			for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
				int n = mqtt_wire_publish(b, sizeof(b), v, topic, strlen(topic), qos, qos, 513, pay,
							  sizes[s]);
				CHECK(n > 0);
				CHECK_INT(next(b, (size_t)n, v, &p), n);
				CHECK_INT(p.type, MQTT_PUBLISH);
				CHECK_INT(p.qos, qos);
				CHECK_INT(p.retain, qos);
				CHECK_INT(p.dup, 0);
				CHECK_INT(p.id, qos ? 513 : 0);
				CHECK_INT(p.topic_len, strlen(topic));
				CHECK(p.topic == b + 1 + (n > 16386 ? 3 : n > 129 ? 2 : 1) + 2); /* no copy */
				CHECK(memcmp(p.topic, topic, p.topic_len) == 0);
				CHECK_INT(p.payload_len, sizes[s]);
				CHECK(memcmp(p.payload, pay, sizes[s]) == 0);
				CHECK_INT(p.props_len, 0);
				/* every shorter prefix: more bytes needed */
				CHECK_INT(next(b, (size_t)n - 1, v, &p), 0);
				CHECK_INT(next(b, 1, v, &p), 0);
			}
	CHECK_INT(mqtt_wire_publish(b, sizeof(b), V4, "t", 1, 1, 0, 0, "x", 1), -EINVAL); /* QoS 1 id 0 */
	CHECK_INT(mqtt_wire_publish(b, sizeof(b), V4, "t", 1, 2, 0, 1, "x", 1), -EINVAL);
	CHECK_INT(mqtt_wire_publish(b, 10, V4, "t", 1, 1, 0, 1, "0123456789", 10), -ENOSPC);
}

/* several packets in one buffer, as one read() brings them */
static void test_stream_of_packets_and_server_packets(void)
{
	static const uint8_t s4[] = { 0x20, 2, 1, 0,               /* CONNACK, session present */
				      0x90, 4, 0, 1, 1, 0x80,      /* SUBACK id 1: QoS 1, refused */
				      0x32, 7, 0, 1, 'a', 0, 9, 'h', 'i', /* PUBLISH QoS 1 id 9 */
				      0x40, 2, 0, 9,               /* PUBACK */
				      0xd0, 0 };                   /* PINGRESP */
	static const uint8_t s5[] = { 0x20, 6, 0, 0x87, 3, 0x21, 0, 10, /* CONNACK not authorized, props */
				      0x90, 4, 0, 2, 0, 0x01,             /* SUBACK v5 */
				      0x40, 3, 0, 9, 0x10,                /* PUBACK reason, no props */
				      0x3b, 8, 0, 1, 'a', 0, 4, 2, 0x01, 0x01, /* PUBLISH dup QoS 1 retain, props */
				      0xe0, 1, 0x8e };                    /* DISCONNECT session taken over */
	struct mqtt_pkt p;
	size_t at = 0;

	CHECK_INT(next(s4, sizeof(s4), V4, &p), 4);
	CHECK(p.type == MQTT_CONNACK && p.session_present == 1 && p.code == 0);
	at = 4;
	CHECK_INT(next(s4 + at, sizeof(s4) - at, V4, &p), 6);
	CHECK(p.type == MQTT_SUBACK && p.id == 1 && p.ncodes == 2 && p.codes[0] == 1 && p.codes[1] == 0x80);
	at += 6;
	CHECK_INT(next(s4 + at, sizeof(s4) - at, V4, &p), 9);
	CHECK(p.qos == 1 && p.id == 9 && p.payload_len == 2 && memcmp(p.payload, "hi", 2) == 0);
	at += 9;
	CHECK_INT(next(s4 + at, sizeof(s4) - at, V4, &p), 4);
	CHECK(p.type == MQTT_PUBACK && p.id == 9);
	at += 4;
	CHECK_INT(next(s4 + at, sizeof(s4) - at, V4, &p), 2);
	CHECK(p.type == MQTT_PINGRESP);

	CHECK_INT(next(s5, sizeof(s5), V5, &p), 8);
	CHECK(p.type == MQTT_CONNACK && p.code == 0x87 && p.props_len == 3 && p.props[0] == 0x21);
	at = 8;
	CHECK_INT(next(s5 + at, sizeof(s5) - at, V5, &p), 6);
	CHECK(p.type == MQTT_SUBACK && p.id == 2 && p.ncodes == 1 && p.codes[0] == 1);
	at += 6;
	CHECK_INT(next(s5 + at, sizeof(s5) - at, V5, &p), 5);
	CHECK(p.type == MQTT_PUBACK && p.id == 9 && p.code == 0x10);
	at += 5;
	CHECK_INT(next(s5 + at, sizeof(s5) - at, V5, &p), 10);
	CHECK(p.dup && p.qos == 1 && p.retain && p.id == 4 && p.props_len == 2 && p.payload_len == 0);
	at += 10;
	CHECK_INT(next(s5 + at, sizeof(s5) - at, V5, &p), 3);
	CHECK(p.type == MQTT_DISCONNECT && p.code == 0x8e);
}

#define BAD(bytes, v, want)                                                                         \
	do {                                                                                        \
		static const uint8_t tb_[] = bytes;                                                 \
		CHECK_INT(next(tb_, sizeof(tb_), v, &p), want);                                     \
	} while (0)
#define B(...) { __VA_ARGS__ }

static void test_malformed_streams_are_refused_with_their_reason(void)
{
	struct mqtt_pkt p;
	static const uint8_t big[] = { 0x30, 0x80, 0x80, 0x40 }; /* 1 MiB, only its header here */

	BAD(B(0x30, 0xff, 0xff, 0xff, 0xff, 0x01), V4, MQTT_WIRE_E_REMLEN);
	BAD(B(0x30, 0xff, 0xff, 0xff, 0xff), V4, MQTT_WIRE_E_REMLEN); /* known before byte 6 comes */
	CHECK_INT(mqtt_wire_next(big, sizeof(big), V4, 1u << 20, &p), MQTT_WIRE_E_TOOBIG);
	CHECK_INT(mqtt_wire_next(big, sizeof(big), V4, (1u << 20) + 4, &p), 0);
	BAD(B(0x30, 1, 0), V4, MQTT_WIRE_E_TRUNC);                  /* topic length cut */
	BAD(B(0x30, 4, 0, 3, 'a', 'b'), V4, MQTT_WIRE_E_TOPIC);      /* topic past the packet */
	BAD(B(0x30, 2, 0, 0), V4, MQTT_WIRE_E_TOPIC);                /* empty topic, 3.1.1 */
	BAD(B(0x32, 4, 0, 1, 'a', 0), V4, MQTT_WIRE_E_TRUNC);        /* packet id cut */
	BAD(B(0x36, 5, 0, 1, 'a', 0, 1), V4, MQTT_WIRE_E_QOS);       /* QoS 3 */
	BAD(B(0x32, 5, 0, 1, 'a', 0, 0), V4, MQTT_WIRE_E_PKTID);     /* QoS 1, id 0 */
	BAD(B(0x38, 3, 0, 1, 'a'), V4, MQTT_WIRE_E_FLAGS);           /* DUP at QoS 0 */
	BAD(B(0x30, 4, 0, 1, 'a', 5), V5, MQTT_WIRE_E_PROPS);        /* props past the packet */
	BAD(B(0x30, 7, 0, 1, 'a', 0xff, 0xff, 0xff, 0xff), V5, MQTT_WIRE_E_PROPS);
	BAD(B(0x30, 3, 0, 1, 'a'), V5, MQTT_WIRE_E_PROPS);           /* property length missing */
	BAD(B(0x90, 5, 0, 1, 9, 0, 0), V5, MQTT_WIRE_E_PROPS);       /* SUBACK props past */
	BAD(B(0x20, 3, 0, 0, 4), V5, MQTT_WIRE_E_PROPS);             /* CONNACK props past */
	BAD(B(0x21, 2, 0, 0), V4, MQTT_WIRE_E_FLAGS);                /* CONNACK flags */
	BAD(B(0x20, 2, 2, 0), V4, MQTT_WIRE_E_FLAGS);                /* CONNACK ack flags */
	BAD(B(0x42, 2, 0, 1), V4, MQTT_WIRE_E_FLAGS);                /* PUBACK flags */
	BAD(B(0x92, 3, 0, 1, 0), V4, MQTT_WIRE_E_FLAGS);             /* SUBACK flags */
	BAD(B(0xd1, 0), V4, MQTT_WIRE_E_FLAGS);                      /* PINGRESP flags */
	BAD(B(0xe8, 0), V5, MQTT_WIRE_E_FLAGS);                      /* DISCONNECT flags */
	BAD(B(0x40, 2, 0, 0), V4, MQTT_WIRE_E_PKTID);                /* PUBACK id 0 */
	BAD(B(0x90, 3, 0, 0, 1), V4, MQTT_WIRE_E_PKTID);             /* SUBACK id 0 */
	BAD(B(0x90, 2, 0, 1), V4, MQTT_WIRE_E_TRUNC);                /* SUBACK without codes */
	BAD(B(0xb0, 3, 0, 1, 0), V4, MQTT_WIRE_E_TRUNC);             /* UNSUBACK 3.1.1 too long */
	BAD(B(0xb0, 3, 0, 1, 0), V5, MQTT_WIRE_E_TRUNC);             /* UNSUBACK v5 without codes */
	BAD(B(0xb0, 2, 0, 0), V4, MQTT_WIRE_E_PKTID);                /* UNSUBACK id 0 */
	BAD(B(0xb2, 2, 0, 1), V4, MQTT_WIRE_E_FLAGS);                /* UNSUBACK flags */
	BAD(B(0xa2, 2, 0, 1), V4, MQTT_WIRE_E_TYPE);                 /* UNSUBSCRIBE from a broker */
	BAD(B(0x20, 3, 0, 0, 0), V4, MQTT_WIRE_E_TRUNC);             /* CONNACK 3.1.1 too long */
	BAD(B(0x40, 3, 0, 1, 0), V4, MQTT_WIRE_E_TRUNC);             /* PUBACK 3.1.1 too long */
	BAD(B(0xd0, 1, 0), V4, MQTT_WIRE_E_TRUNC);                   /* PINGRESP with a body */
	BAD(B(0x10, 0), V4, MQTT_WIRE_E_TYPE);                       /* CONNECT from a broker */
	BAD(B(0x50, 2, 0, 1), V4, MQTT_WIRE_E_TYPE);                 /* PUBREC: no QoS 2 here */
	BAD(B(0x00, 0), V4, MQTT_WIRE_E_TYPE);
	BAD(B(0xf0, 0), V5, MQTT_WIRE_E_TYPE);                       /* AUTH: not supported */
	BAD(B(0xd0, 0), 3, MQTT_WIRE_E_VERSION);
	CHECK_INT(next(big, 0, V4, &p), 0);
}

static void test_strerror_names_every_code(void)
{
	for (int rc = MQTT_WIRE_E_VERSION; rc <= MQTT_WIRE_E_REMLEN; rc++)
		CHECK(strcmp(mqtt_wire_strerror(rc), "unknown error") != 0);
	CHECK_STR(mqtt_wire_strerror(-ENOSPC), "buffer too small for the packet");
	CHECK_STR(mqtt_wire_strerror(-7), "unknown error");
}

/* a PUBLISH over max_packet: its head is read from any prefix that holds
 * it, its whole length and payload length told, so the client can skip it */
static void test_oversized_publish_head_from_a_prefix(void)
{
	static uint8_t b[70000], pay[65000];
	struct mqtt_pkt p;

	memset(pay, 'x', sizeof(pay));
	for (int v = V4; v <= V5; v++) {
		int n = mqtt_wire_publish(b, sizeof(b), v, "big/t", 5, 1, 0, 77, pay, sizeof(pay));
		size_t hdr = 1 + 3 + 2 + 5 + 2 + (v == V5);

		CHECK(n > 0);
		CHECK_INT(mqtt_wire_next(b, (size_t)n, v, 1000, &p), MQTT_WIRE_E_TOOBIG);
		CHECK_INT(mqtt_wire_publish_head(b, 3, v, &p), 0);
		CHECK_INT(mqtt_wire_publish_head(b, hdr - 1, v, &p), 0); /* id (or props) cut short */
		for (size_t have = hdr; have <= hdr + 300; have += 300) {
			CHECK_INT(mqtt_wire_publish_head(b, have, v, &p), n);
			CHECK_INT(p.id, 77);
			CHECK_INT(p.qos, 1);
			CHECK_INT(p.topic_len, 5);
			CHECK(memcmp(p.topic, "big/t", 5) == 0);
			CHECK_INT(p.payload_len, sizeof(pay));
			CHECK(p.payload == b + hdr);
		}
	}
	/* not a PUBLISH; a malformed head */
	CHECK_INT(mqtt_wire_publish_head((const uint8_t *)"\x90\x03\x00\x01\x00", 5, V4, &p), MQTT_WIRE_E_TYPE);
	CHECK_INT(mqtt_wire_publish_head((const uint8_t *)"\x32\x04\x00\x09" "ab", 6, V4, &p), MQTT_WIRE_E_TOPIC);
}

/* v5 properties as a CONNACK from mosquitto carries them: found by id past
 * others of every shape; malformed and unknown ids refused */
static void test_property_block_lookup(void)
{
	static const uint8_t props[] = {
		0x22, 0x00, 0x0a,                         /* Topic Alias Maximum 10 */
		0x12, 0x00, 0x03, 'c', 'i', 'd',          /* Assigned Client Identifier */
		0x26, 0x00, 0x01, 'k', 0x00, 0x02, 'v', 'w', /* User Property k=vw */
		0x24, 0x01,                               /* Maximum QoS 1 */
		0x13, 0x00, 0x1e,                         /* Server Keep Alive 30 */
	};
	const uint8_t *v;
	size_t n;

	CHECK_INT(mqtt_wire_prop_find(props, sizeof(props), MQTT_PROP_SERVER_KEEP_ALIVE, &v, &n), 1);
	CHECK_INT(n, 2);
	CHECK_INT(v[0] << 8 | v[1], 30);
	CHECK_INT(mqtt_wire_prop_find(props, sizeof(props), 0x12, &v, &n), 1);
	CHECK_INT(n, 5);
	CHECK(memcmp(v, "\x00\x03" "cid", 5) == 0);
	CHECK_INT(mqtt_wire_prop_find(props, sizeof(props), 0x27, &v, &n), 0);
	CHECK_INT(mqtt_wire_prop_find(props, sizeof(props) - 1, 0x13, &v, &n), MQTT_WIRE_E_PROPS); /* cut */
	CHECK_INT(mqtt_wire_prop_find((const uint8_t *)"\x7f\x00", 2, 0x13, &v, &n), MQTT_WIRE_E_PROPS); /* unknown */
	CHECK_INT(mqtt_wire_prop_find((const uint8_t *)"\x12\x00\x09" "ab", 5, 0x13, &v, &n), MQTT_WIRE_E_PROPS);
	CHECK_INT(mqtt_wire_prop_find(props, 0, 0x13, &v, &n), 0);
}

/* the broker's answers people read in the log */
static void test_reason_texts(void)
{
	CHECK_STR(mqtt_wire_connack_reason(V4, 5), "Connection Refused: not authorised");
	CHECK_STR(mqtt_wire_connack_reason(V4, 4), "Connection Refused: bad user name or password");
	CHECK_STR(mqtt_wire_connack_reason(V5, 0x86), "Bad User Name or Password");
	CHECK_STR(mqtt_wire_reason(0x87), "Not authorized");
	CHECK_STR(mqtt_wire_reason(0x97), "Quota exceeded");
	CHECK_STR(mqtt_wire_reason(0xff), "Unknown reason code");
}

int main(void)
{
	tl_prog = "test_mqtt_wire";
	RUN(test_varint_spec_vectors_both_ways);
	RUN(test_connect_v311_field_by_field);
	RUN(test_connect_v5_with_properties);
	RUN(test_subscribe_both_versions);
	RUN(test_unsubscribe_and_unsuback_both_versions);
	RUN(test_small_packets_bytes);
	RUN(test_publish_round_trip);
	RUN(test_stream_of_packets_and_server_packets);
	RUN(test_malformed_streams_are_refused_with_their_reason);
	RUN(test_strerror_names_every_code);
	RUN(test_oversized_publish_head_from_a_prefix);
	RUN(test_reason_texts);
	RUN(test_property_block_lookup);
	return TL_DONE();
}
