/* mqtt_wire.h - MQTT 3.1.1 and 5.0 packets on the wire, for a client that
 * subscribes (issue 18: coldchaind's own MQTT reader).  Encoders write into
 * the caller's buffer; the framer/decoder reads the caller's buffer and
 * points into it (no copies, no allocation, no I/O, no global state).
 * Bounded: a remaining length is at most 4 bytes and at most max_packet.
 *
 * Not checked here: the UTF-8 validity of topics (the caller's: the driver
 * already checks every received topic), the meaning of v5 properties (their
 * bytes are handed over, their total length checked), topic aliases. */
#ifndef CC_MQTT_WIRE_H
#define CC_MQTT_WIRE_H

#include <stddef.h>
#include <stdint.h>

#define MQTT_WIRE_V311 4 /* protocol level of MQTT 3.1.1 */
#define MQTT_WIRE_V5 5

#define MQTT_WIRE_REMLEN_MAX 268435455u /* 4 bytes of remaining length */

enum mqtt_wire_type {
	MQTT_CONNECT = 1,
	MQTT_CONNACK = 2,
	MQTT_PUBLISH = 3,
	MQTT_PUBACK = 4,
	MQTT_SUBSCRIBE = 8,
	MQTT_SUBACK = 9,
	MQTT_UNSUBSCRIBE = 10,
	MQTT_UNSUBACK = 11,
	MQTT_PINGREQ = 12,
	MQTT_PINGRESP = 13,
	MQTT_DISCONNECT = 14,
};

/* Errors of mqtt_wire_next (all negative, distinct from -errno values the
 * encoders return: -ENOSPC, -EINVAL); mqtt_wire_strerror names each. */
enum mqtt_wire_err {
	MQTT_WIRE_E_REMLEN = -1001,  /* remaining length over 4 bytes */
	MQTT_WIRE_E_TOOBIG = -1002,  /* packet over max_packet */
	MQTT_WIRE_E_TRUNC = -1003,   /* a field runs past the packet, or the wrong length for the type */
	MQTT_WIRE_E_TOPIC = -1004,   /* topic length past the packet (or empty in 3.1.1) */
	MQTT_WIRE_E_QOS = -1005,     /* PUBLISH with QoS 3 */
	MQTT_WIRE_E_PKTID = -1006,   /* packet identifier 0 where one is required */
	MQTT_WIRE_E_PROPS = -1007,   /* v5 property length malformed or past the packet */
	MQTT_WIRE_E_FLAGS = -1008,   /* reserved flag bits wrong for the type */
	MQTT_WIRE_E_TYPE = -1009,    /* a packet type a subscribing client does not receive */
	MQTT_WIRE_E_VERSION = -1010, /* version neither 4 nor 5 */
};

/* One decoded packet.  Pointers point into the buffer given to
 * mqtt_wire_next and live as long as it does; fields that do not belong to
 * the type are 0/NULL. */
struct mqtt_pkt {
	unsigned type;  /* enum mqtt_wire_type */
	unsigned flags; /* the fixed header's low 4 bits */
	size_t len;     /* the whole packet, fixed header included */
	/* CONNACK: session present; CONNACK return/reason code; PUBACK and
	 * DISCONNECT v5 reason code (0 when the short form omits it) */
	int session_present;
	unsigned code;
	uint16_t id; /* PUBLISH (QoS > 0), PUBACK, SUBACK, UNSUBACK */
	/* SUBACK: one granted QoS (3.1.1) or reason code (v5) per filter;
	 * UNSUBACK: v5's reason code per filter (3.1.1's has none: ncodes 0) */
	const uint8_t *codes;
	size_t ncodes;
	/* PUBLISH */
	int dup, qos, retain;
	const uint8_t *topic; /* not NUL-terminated, UTF-8 unchecked */
	size_t topic_len;
	const uint8_t *payload;
	size_t payload_len;
	/* v5 properties (CONNACK, PUBLISH, PUBACK, SUBACK, UNSUBACK, DISCONNECT): their
	 * bytes without the length, unparsed */
	const uint8_t *props;
	size_t props_len;
};

/* Frames and decodes the packet at p[0..n) of a stream from a broker (and
 * PINGREQ, for symmetry).  version: MQTT_WIRE_V311 or MQTT_WIRE_V5;
 * max_packet: the largest whole packet accepted (fixed header included),
 * checked as soon as the fixed header is in, before the body.
 * Returns the bytes consumed (> 0) with *out filled; 0 when p[0..n) holds
 * no complete packet yet (read more, keep the bytes); a negative
 * enum mqtt_wire_err when the stream is malformed (drop the connection). */
int mqtt_wire_next(const uint8_t *p, size_t n, int version, size_t max_packet, struct mqtt_pkt *out);

/* The start of a PUBLISH that mqtt_wire_next refused as MQTT_WIRE_E_TOOBIG,
 * so that the client can count it, acknowledge it and skip its bytes rather
 * than drop the connection (a 3.1.1 broker never learns our maximum and
 * would send the message again on every reconnect).  Decodes the fixed and
 * variable headers at p[0..n) into *out (topic, id, props; payload points
 * at what of the payload is in p[0..n), payload_len is the whole payload's
 * length).  Returns the whole packet's length (> 0); 0 when p[0..n) does
 * not yet hold the headers; a negative enum mqtt_wire_err when they are
 * malformed or the packet is not a PUBLISH (MQTT_WIRE_E_TYPE). */
int mqtt_wire_publish_head(const uint8_t *p, size_t n, int version, struct mqtt_pkt *out);

/* The variable byte integer at p[0..n) (a remaining or property length):
 * its bytes (1..4) with *v; 0 when more bytes are needed;
 * MQTT_WIRE_E_REMLEN when it runs over 4 bytes. */
int mqtt_wire_get_varint(const uint8_t *p, size_t n, uint32_t *v);

/* Writes v (at most MQTT_WIRE_REMLEN_MAX) as a variable byte integer:
 * its bytes (1..4), -ENOSPC when cap is too small, -EINVAL when too big. */
int mqtt_wire_put_varint(uint8_t *b, size_t cap, uint32_t v);

/* ---- encoders: bytes written into b[0..cap), -ENOSPC, or -EINVAL ---- */

struct mqtt_wire_connect {
	int version;           /* MQTT_WIRE_V311 or MQTT_WIRE_V5 */
	const char *client_id; /* may be "" (the broker assigns one; 3.1.1 needs clean) */
	int clean;             /* clean session (3.1.1) / clean start (v5) */
	unsigned keepalive;    /* seconds, 0..65535; 0 = off */
	const char *username;  /* NULL = none */
	const void *password;  /* NULL = none; needs a username in 3.1.1 */
	size_t password_len;
	/* v5 properties, each sent only when nonzero */
	unsigned receive_max;    /* 1..65535 */
	uint32_t session_expiry; /* seconds; 0xFFFFFFFF = never */
	uint32_t max_packet;     /* Maximum Packet Size the client accepts */
};

int mqtt_wire_connect(uint8_t *b, size_t cap, const struct mqtt_wire_connect *c);

/* SUBSCRIBE with packet id (1..65535) of n (1..255) filters; opts[i]: the
 * requested QoS (3.1.1: 0..2) or the v5 subscription options byte (QoS in
 * bits 0-1, No Local, Retain As Published, Retain Handling; bits 6-7 0).
 * v5: no properties (length 0). */
int mqtt_wire_subscribe(uint8_t *b, size_t cap, int version, uint16_t id, const char *const *filters,
			const uint8_t *opts, size_t n);
/* UNSUBSCRIBE with packet id (1..65535) of n (1..255) filters (each
 * 1..65535 bytes); v5: no properties (length 0). */
int mqtt_wire_unsubscribe(uint8_t *b, size_t cap, int version, uint16_t id, const char *const *filters, size_t n);

/* PUBLISH of QoS 0 or 1 (id 1..65535 for QoS 1, ignored for 0); topic
 * 1..65535 bytes; v5: no properties (length 0). */
int mqtt_wire_publish(uint8_t *b, size_t cap, int version, const char *topic, size_t topic_len, int qos,
		      int retain, uint16_t id, const void *payload, size_t payload_len);

/* PUBACK of id (1..65535): the same 4 bytes in both versions (v5's short
 * form: reason 0 Success, no properties). */
int mqtt_wire_puback(uint8_t *b, size_t cap, int version, uint16_t id);

int mqtt_wire_pingreq(uint8_t *b, size_t cap);

/* DISCONNECT: 2 bytes in both versions (v5: reason 0 Normal, short form). */
int mqtt_wire_disconnect(uint8_t *b, size_t cap, int version);

/* Finds property id in a v5 property block (mqtt_pkt.props, props_len):
 * 1 with *val, *vlen set to its value's bytes (a two-byte integer: 2 bytes,
 * big-endian; a string: its 2-byte length first), 0 when absent,
 * MQTT_WIRE_E_PROPS when the block is malformed or holds an unknown id. */
int mqtt_wire_prop_find(const uint8_t *props, size_t len, unsigned id, const uint8_t **val, size_t *vlen);
#define MQTT_PROP_SERVER_KEEP_ALIVE 0x13

/* Static English texts for a broker's answers: an MQTT 5 reason code (CONNACK,
 * PUBACK, SUBACK, UNSUBACK, DISCONNECT), and a CONNACK return code of either version
 * (3.1.1's 1..5, or v5's reason code). */
const char *mqtt_wire_reason(unsigned code);
const char *mqtt_wire_connack_reason(int version, unsigned code);

/* A static English text for any value the functions above return below 0
 * (mqtt_wire_err or -errno). */
const char *mqtt_wire_strerror(int rc);

#endif
