/* mqtt_wire.c - MQTT 3.1.1 / 5.0 packet encoders and a bounded framer and
 * decoder for the packets a subscribing client receives (mqtt_wire.h).
 * Pure: the caller's buffers only. */
#include "mqtt_wire.h"

#include <errno.h>
#include <string.h>

/* ---- variable byte integers ---- */

int mqtt_wire_get_varint(const uint8_t *p, size_t n, uint32_t *v)
{
	uint32_t x = 0;

	for (size_t i = 0; i < 4; i++) {
		if (i >= n)
			return 0;
		x |= (uint32_t)(p[i] & 0x7f) << (7 * i);
		if (!(p[i] & 0x80)) {
			*v = x;
			return (int)i + 1;
		}
	}
	return MQTT_WIRE_E_REMLEN;
}

int mqtt_wire_put_varint(uint8_t *b, size_t cap, uint32_t v)
{
	size_t i = 0;

	if (v > MQTT_WIRE_REMLEN_MAX)
		return -EINVAL;
	do {
		uint8_t c = (uint8_t)(v & 0x7f);
		v >>= 7;
		if (i >= cap)
			return -ENOSPC;
		b[i++] = (uint8_t)(c | (v ? 0x80 : 0));
	} while (v);
	return (int)i;
}

static size_t varint_len(size_t v)
{
	return v < 128 ? 1 : v < 16384 ? 2 : v < 2097152 ? 3 : 4;
}

/* ---- encoding: a cursor over the caller's buffer ---- */

struct wr {
	uint8_t *b;
	size_t cap, at;
	int err; /* -ENOSPC once anything did not fit */
};

static void put8(struct wr *w, unsigned v)
{
	if (w->at >= w->cap) {
		w->err = -ENOSPC;
		return;
	}
	w->b[w->at++] = (uint8_t)v;
}

static void put16(struct wr *w, unsigned v)
{
	put8(w, (v >> 8) & 0xff);
	put8(w, v & 0xff);
}

static void put32(struct wr *w, uint32_t v)
{
	put16(w, v >> 16);
	put16(w, v & 0xffff);
}

static void put_bytes(struct wr *w, const void *p, size_t n)
{
	if (w->cap - w->at < n || w->at > w->cap) {
		w->err = -ENOSPC;
		return;
	}
	if (n)
		memcpy(w->b + w->at, p, n);
	w->at += n;
}

/* a 2-byte length and the bytes */
static void put_str(struct wr *w, const void *p, size_t n)
{
	put16(w, (unsigned)n);
	put_bytes(w, p, n);
}

/* the fixed header: type and flags, then the remaining length */
static void put_fixed(struct wr *w, unsigned type, unsigned flags, size_t rem)
{
	int k;

	put8(w, type << 4 | flags);
	if (w->err)
		return;
	k = mqtt_wire_put_varint(w->b + w->at, w->cap - w->at, (uint32_t)rem);
	if (k < 0)
		w->err = k;
	else
		w->at += (size_t)k;
}

static int wr_done(const struct wr *w)
{
	return w->err ? w->err : (int)w->at;
}

static int version_ok(int version)
{
	return version == MQTT_WIRE_V311 || version == MQTT_WIRE_V5;
}

/* the v5 CONNECT properties' bytes (without their length) */
static size_t connect_props_len(const struct mqtt_wire_connect *c)
{
	return (c->session_expiry ? 5 : 0) + (c->receive_max ? 3 : 0) + (c->max_packet ? 5 : 0);
}

static int connect_check(const struct mqtt_wire_connect *c, size_t idl, size_t ul)
{
	if (!version_ok(c->version) || !c->client_id || idl > 65535 || c->keepalive > 65535 || ul > 65535 ||
	    (c->password && c->password_len > 65535) || c->receive_max > 65535)
		return -EINVAL;
	if (c->version == MQTT_WIRE_V311 && ((c->password && !c->username) || (!idl && !c->clean)))
		return -EINVAL;
	return 0;
}

int mqtt_wire_connect(uint8_t *b, size_t cap, const struct mqtt_wire_connect *c)
{
	struct wr w = { b, cap, 0, 0 };
	size_t idl = c->client_id ? strlen(c->client_id) : 0, ul = c->username ? strlen(c->username) : 0;
	size_t pl = connect_props_len(c), rem;
	int rc = connect_check(c, idl, ul);

	if (rc < 0)
		return rc;
	rem = 10 + 2 + idl + (c->username ? 2 + ul : 0) + (c->password ? 2 + c->password_len : 0);
	if (c->version == MQTT_WIRE_V5)
		rem += varint_len(pl) + pl;
	put_fixed(&w, MQTT_CONNECT, 0, rem);
	put_str(&w, "MQTT", 4);
	put8(&w, (unsigned)c->version);
	put8(&w, (c->username ? 0x80u : 0) | (c->password ? 0x40u : 0) | (c->clean ? 0x02u : 0));
	put16(&w, c->keepalive);
	if (c->version == MQTT_WIRE_V5) {
		put8(&w, (unsigned)pl); /* at most 13: one byte */
		if (c->session_expiry) {
			put8(&w, 0x11);
			put32(&w, c->session_expiry);
		}
		if (c->receive_max) {
			put8(&w, 0x21);
			put16(&w, c->receive_max);
		}
		if (c->max_packet) {
			put8(&w, 0x27);
			put32(&w, c->max_packet);
		}
	}
	put_str(&w, c->client_id, idl);
	if (c->username)
		put_str(&w, c->username, ul);
	if (c->password)
		put_str(&w, c->password, c->password_len);
	return wr_done(&w);
}

/* SUBSCRIBE (opts: each filter's options byte) or UNSUBSCRIBE (opts NULL):
 * the same header and the same list of filters, SUBSCRIBE's with a byte
 * after each. */
static int filter_list(uint8_t *b, size_t cap, unsigned type, int version, uint16_t id, const char *const *filters,
		       const uint8_t *opts, size_t n)
{
	struct wr w = { b, cap, 0, 0 };
	size_t rem = 2 + (version == MQTT_WIRE_V5);

	if (!version_ok(version) || !id || n < 1 || n > 255)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		size_t fl = filters[i] ? strlen(filters[i]) : 0;
		if (!fl || fl > 65535)
			return -EINVAL;
		if (opts && ((opts[i] & 3) == 3 || (opts[i] & (version == MQTT_WIRE_V5 ? 0xc0 : 0xfc)) ||
			     (opts[i] & 0x30) == 0x30))
			return -EINVAL;
		rem += 2 + fl + (opts ? 1 : 0);
	}
	put_fixed(&w, type, 0x2, rem);
	put16(&w, id);
	if (version == MQTT_WIRE_V5)
		put8(&w, 0); /* no properties */
	for (size_t i = 0; i < n; i++) {
		put_str(&w, filters[i], strlen(filters[i]));
		if (opts)
			put8(&w, opts[i]);
	}
	return wr_done(&w);
}

int mqtt_wire_subscribe(uint8_t *b, size_t cap, int version, uint16_t id, const char *const *filters,
			const uint8_t *opts, size_t n)
{
	return opts ? filter_list(b, cap, MQTT_SUBSCRIBE, version, id, filters, opts, n) : -EINVAL;
}

int mqtt_wire_unsubscribe(uint8_t *b, size_t cap, int version, uint16_t id, const char *const *filters, size_t n)
{
	return filter_list(b, cap, MQTT_UNSUBSCRIBE, version, id, filters, NULL, n);
}

int mqtt_wire_publish(uint8_t *b, size_t cap, int version, const char *topic, size_t topic_len, int qos,
		      int retain, uint16_t id, const void *payload, size_t payload_len)
{
	struct wr w = { b, cap, 0, 0 };
	size_t rem = 2 + topic_len + (qos ? 2 : 0) + (version == MQTT_WIRE_V5) + payload_len;

	if (!version_ok(version) || !topic || !topic_len || topic_len > 65535 || qos < 0 || qos > 1 ||
	    (qos && !id) || (payload_len && !payload) || payload_len > MQTT_WIRE_REMLEN_MAX ||
	    rem > MQTT_WIRE_REMLEN_MAX)
		return -EINVAL;
	put_fixed(&w, MQTT_PUBLISH, (unsigned)qos << 1 | (retain ? 1u : 0), rem);
	put_str(&w, topic, topic_len);
	if (qos)
		put16(&w, id);
	if (version == MQTT_WIRE_V5)
		put8(&w, 0); /* no properties */
	put_bytes(&w, payload, payload_len);
	return wr_done(&w);
}

int mqtt_wire_puback(uint8_t *b, size_t cap, int version, uint16_t id)
{
	struct wr w = { b, cap, 0, 0 };

	if (!version_ok(version) || !id)
		return -EINVAL;
	put_fixed(&w, MQTT_PUBACK, 0, 2);
	put16(&w, id);
	return wr_done(&w);
}

int mqtt_wire_pingreq(uint8_t *b, size_t cap)
{
	struct wr w = { b, cap, 0, 0 };

	put_fixed(&w, MQTT_PINGREQ, 0, 0);
	return wr_done(&w);
}

int mqtt_wire_disconnect(uint8_t *b, size_t cap, int version)
{
	struct wr w = { b, cap, 0, 0 };

	if (!version_ok(version))
		return -EINVAL;
	put_fixed(&w, MQTT_DISCONNECT, 0, 0);
	return wr_done(&w);
}

/* ---- decoding ---- */

/* The flags the fixed header must carry for each type a client receives
 * (PUBLISH: any but QoS 3, checked apart); -1 for a type not received. */
static int type_flags(unsigned type)
{
	switch (type) {
	case MQTT_CONNACK:
	case MQTT_PUBACK:
	case MQTT_SUBACK:
	case MQTT_UNSUBACK:
	case MQTT_PINGREQ:
	case MQTT_PINGRESP:
	case MQTT_DISCONNECT:
		return 0;
	case MQTT_PUBLISH:
		return 16; /* any */
	default:
		return -1;
	}
}

/* v5 properties at p[0..n): their length's bytes plus theirs, *props and
 * *plen set; MQTT_WIRE_E_PROPS when malformed or past n */
static int get_props(const uint8_t *p, size_t n, const uint8_t **props, size_t *plen)
{
	uint32_t v;
	int k = mqtt_wire_get_varint(p, n, &v);

	if (k <= 0 || v > n - (size_t)k)
		return MQTT_WIRE_E_PROPS;
	*props = p + k;
	*plen = v;
	return k + (int)v;
}

static int dec_connack(const uint8_t *p, size_t n, int version, struct mqtt_pkt *o)
{
	int k;

	if (n < 2 || (version == MQTT_WIRE_V311 && n != 2))
		return MQTT_WIRE_E_TRUNC;
	if (p[0] & 0xfe)
		return MQTT_WIRE_E_FLAGS;
	o->session_present = p[0] & 1;
	o->code = p[1];
	if (version == MQTT_WIRE_V5) {
		if ((k = get_props(p + 2, n - 2, &o->props, &o->props_len)) < 0)
			return k;
		if (2 + (size_t)k != n)
			return MQTT_WIRE_E_TRUNC;
	}
	return 0;
}

static int dec_publish(const uint8_t *p, size_t n, int version, struct mqtt_pkt *o)
{
	size_t at, tl;
	int k;

	if (n < 2)
		return MQTT_WIRE_E_TRUNC;
	tl = (size_t)p[0] << 8 | p[1];
	if (tl > n - 2 || (!tl && version == MQTT_WIRE_V311))
		return MQTT_WIRE_E_TOPIC;
	o->topic = p + 2;
	o->topic_len = tl;
	at = 2 + tl;
	if (o->qos) {
		if (n - at < 2)
			return MQTT_WIRE_E_TRUNC;
		o->id = (uint16_t)(p[at] << 8 | p[at + 1]);
		if (!o->id)
			return MQTT_WIRE_E_PKTID;
		at += 2;
	}
	if (version == MQTT_WIRE_V5) {
		if ((k = get_props(p + at, n - at, &o->props, &o->props_len)) < 0)
			return k;
		at += (size_t)k;
	}
	o->payload = p + at;
	o->payload_len = n - at;
	return 0;
}

/* A v5 reason code and properties, either of which may be left out: the
 * tail of PUBACK (after its packet id) and all of DISCONNECT. */
static int dec_reason_props(const uint8_t *p, size_t n, struct mqtt_pkt *o)
{
	int k;

	if (n)
		o->code = p[0];
	if (n > 1 && (k = get_props(p + 1, n - 1, &o->props, &o->props_len)) < 0)
		return k;
	if (n > 1 && 1 + (size_t)k != n)
		return MQTT_WIRE_E_TRUNC;
	return 0;
}

/* PUBACK and SUBACK begin with a packet id; v5 PUBACK and DISCONNECT may
 * stop before their reason code or their properties */
static int dec_puback(const uint8_t *p, size_t n, int version, struct mqtt_pkt *o)
{
	if (n < 2 || (version == MQTT_WIRE_V311 && n != 2))
		return MQTT_WIRE_E_TRUNC;
	o->id = (uint16_t)(p[0] << 8 | p[1]);
	if (!o->id)
		return MQTT_WIRE_E_PKTID;
	return dec_reason_props(p + 2, n - 2, o);
}

static int dec_suback(const uint8_t *p, size_t n, int version, struct mqtt_pkt *o)
{
	size_t at = 2;
	int k;

	if (n < 3)
		return MQTT_WIRE_E_TRUNC;
	o->id = (uint16_t)(p[0] << 8 | p[1]);
	if (!o->id)
		return MQTT_WIRE_E_PKTID;
	if (version == MQTT_WIRE_V5) {
		if ((k = get_props(p + 2, n - 2, &o->props, &o->props_len)) < 0)
			return k;
		at += (size_t)k;
	}
	if (at >= n)
		return MQTT_WIRE_E_TRUNC; /* no reason code */
	o->codes = p + at;
	o->ncodes = n - at;
	return 0;
}

/* UNSUBACK: 3.1.1's is the packet id alone; v5's as a SUBACK (id,
 * properties, a reason code per filter) */
static int dec_unsuback(const uint8_t *p, size_t n, int version, struct mqtt_pkt *o)
{
	if (version == MQTT_WIRE_V5)
		return dec_suback(p, n, version, o);
	if (n != 2)
		return MQTT_WIRE_E_TRUNC;
	o->id = (uint16_t)(p[0] << 8 | p[1]);
	return o->id ? 0 : MQTT_WIRE_E_PKTID;
}

static int dec_disconnect(const uint8_t *p, size_t n, int version, struct mqtt_pkt *o)
{
	if (version == MQTT_WIRE_V311 && n)
		return MQTT_WIRE_E_TRUNC;
	return dec_reason_props(p, n, o);
}

static int dec_body(const uint8_t *p, size_t n, int version, struct mqtt_pkt *o)
{
	switch (o->type) {
	case MQTT_CONNACK:
		return dec_connack(p, n, version, o);
	case MQTT_PUBLISH:
		return dec_publish(p, n, version, o);
	case MQTT_PUBACK:
		return dec_puback(p, n, version, o);
	case MQTT_SUBACK:
		return dec_suback(p, n, version, o);
	case MQTT_UNSUBACK:
		return dec_unsuback(p, n, version, o);
	case MQTT_DISCONNECT:
		return dec_disconnect(p, n, version, o);
	default: /* PINGREQ, PINGRESP */
		return n ? MQTT_WIRE_E_TRUNC : 0;
	}
}

/* the fixed header's first byte: type and flags valid for a client */
static int check_first(uint8_t b0, struct mqtt_pkt *o)
{
	int want;

	o->type = b0 >> 4;
	o->flags = b0 & 0x0f;
	want = type_flags(o->type);
	if (want < 0)
		return MQTT_WIRE_E_TYPE;
	if (o->type != MQTT_PUBLISH)
		return (int)o->flags == want ? 0 : MQTT_WIRE_E_FLAGS;
	o->dup = (b0 >> 3) & 1;
	o->qos = (b0 >> 1) & 3;
	o->retain = b0 & 1;
	if (o->qos == 3)
		return MQTT_WIRE_E_QOS;
	return o->dup && !o->qos ? MQTT_WIRE_E_FLAGS : 0; /* DUP must be 0 at QoS 0 */
}

/* The fixed header at p[0..n): its length (2..5) with *rem and out's type
 * and flags; 0 when more bytes are needed; a negative mqtt_wire_err. */
static int fixed_header(const uint8_t *p, size_t n, int version, struct mqtt_pkt *out, uint32_t *rem)
{
	int k, rc;

	if (!version_ok(version))
		return MQTT_WIRE_E_VERSION;
	if (n < 1)
		return 0;
	memset(out, 0, sizeof(*out));
	if ((rc = check_first(p[0], out)) < 0)
		return rc;
	k = mqtt_wire_get_varint(p + 1, n - 1, rem);
	return k <= 0 ? k : 1 + k; /* 0: more bytes; or MQTT_WIRE_E_REMLEN */
}

int mqtt_wire_next(const uint8_t *p, size_t n, int version, size_t max_packet, struct mqtt_pkt *out)
{
	uint32_t rem;
	size_t total;
	int hdr = fixed_header(p, n, version, out, &rem), rc;

	if (hdr <= 0)
		return hdr;
	total = (size_t)hdr + rem;
	if (total > max_packet)
		return MQTT_WIRE_E_TOOBIG;
	if (n < total)
		return 0;
	out->len = total;
	if ((rc = dec_body(p + hdr, rem, version, out)) < 0)
		return rc;
	return (int)total;
}

int mqtt_wire_publish_head(const uint8_t *p, size_t n, int version, struct mqtt_pkt *out)
{
	uint32_t rem;
	size_t have;
	int hdr = fixed_header(p, n, version, out, &rem), rc;

	if (hdr <= 0)
		return hdr;
	if (out->type != MQTT_PUBLISH)
		return MQTT_WIRE_E_TYPE;
	have = n - (size_t)hdr < rem ? n - (size_t)hdr : rem;
	if ((rc = dec_publish(p + hdr, have, version, out)) < 0)
		return have < rem ? 0 : rc; /* a header cut short: more bytes */
	out->payload_len = rem - (size_t)(out->payload - (p + hdr));
	out->len = (size_t)hdr + rem;
	return (int)out->len;
}

/* The size of a v5 property's value at p[0..n) by its id: bytes, or -1 for
 * an unknown id or a value past n (MQTT 5 2.2.2.2). */
static long prop_size(unsigned id, const uint8_t *p, size_t n)
{
	uint32_t v;
	int k;

	switch (id) {
	case 0x01: case 0x17: case 0x19: case 0x24: case 0x25: case 0x28: case 0x29: case 0x2A:
		return n >= 1 ? 1 : -1;
	case 0x13: case 0x21: case 0x22: case 0x23:
		return n >= 2 ? 2 : -1;
	case 0x02: case 0x11: case 0x18: case 0x27:
		return n >= 4 ? 4 : -1;
	case 0x0B:
		k = mqtt_wire_get_varint(p, n, &v);
		return k > 0 ? k : -1;
	case 0x03: case 0x08: case 0x09: case 0x12: case 0x15: case 0x16: case 0x1A: case 0x1C: case 0x1F:
		if (n < 2 || ((size_t)p[0] << 8 | p[1]) > n - 2)
			return -1;
		return 2 + (long)((size_t)p[0] << 8 | p[1]);
	case 0x26: { /* a string pair */
		size_t a;
		if (n < 2 || (a = 2 + ((size_t)p[0] << 8 | p[1])) > n - 2 || ((size_t)p[a] << 8 | p[a + 1]) > n - a - 2)
			return -1;
		return (long)(a + 2 + ((size_t)p[a] << 8 | p[a + 1]));
	}
	default:
		return -1;
	}
}

int mqtt_wire_prop_find(const uint8_t *props, size_t len, unsigned id, const uint8_t **val, size_t *vlen)
{
	size_t at = 0;

	while (at < len) {
		uint32_t pid;
		int k = mqtt_wire_get_varint(props + at, len - at, &pid);
		long sz;

		if (k <= 0)
			return MQTT_WIRE_E_PROPS;
		at += (size_t)k;
		sz = prop_size(pid, props + at, len - at);
		if (sz < 0)
			return MQTT_WIRE_E_PROPS;
		if (pid == id) {
			*val = props + at;
			*vlen = (size_t)sz;
			return 1;
		}
		at += (size_t)sz;
	}
	return 0;
}

const char *mqtt_wire_reason(unsigned code)
{
	switch (code) {
	case 0x00: return "Success";
	case 0x04: return "Disconnect with Will Message";
	case 0x10: return "No matching subscribers";
	case 0x11: return "No subscription existed";
	case 0x80: return "Unspecified error";
	case 0x81: return "Malformed Packet";
	case 0x82: return "Protocol Error";
	case 0x83: return "Implementation specific error";
	case 0x84: return "Unsupported Protocol Version";
	case 0x85: return "Client Identifier not valid";
	case 0x86: return "Bad User Name or Password";
	case 0x87: return "Not authorized";
	case 0x88: return "Server unavailable";
	case 0x89: return "Server busy";
	case 0x8A: return "Banned";
	case 0x8B: return "Server shutting down";
	case 0x8C: return "Bad authentication method";
	case 0x8D: return "Keep Alive timeout";
	case 0x8E: return "Session taken over";
	case 0x8F: return "Topic Filter invalid";
	case 0x90: return "Topic Name invalid";
	case 0x91: return "Packet Identifier in use";
	case 0x92: return "Packet Identifier not found";
	case 0x93: return "Receive Maximum exceeded";
	case 0x94: return "Topic Alias invalid";
	case 0x95: return "Packet too large";
	case 0x96: return "Message rate too high";
	case 0x97: return "Quota exceeded";
	case 0x98: return "Administrative action";
	case 0x99: return "Payload format invalid";
	case 0x9A: return "Retain not supported";
	case 0x9B: return "QoS not supported";
	case 0x9C: return "Use another server";
	case 0x9D: return "Server moved";
	case 0x9E: return "Shared Subscriptions not supported";
	case 0x9F: return "Connection rate exceeded";
	case 0xA0: return "Maximum connect time";
	case 0xA1: return "Subscription Identifiers not supported";
	case 0xA2: return "Wildcard Subscriptions not supported";
	default: return code < 0x80 ? "Success" : "Unknown reason code";
	}
}

const char *mqtt_wire_connack_reason(int version, unsigned code)
{
	if (version == MQTT_WIRE_V5)
		return mqtt_wire_reason(code);
	switch (code) {
	case 0: return "Connection Accepted";
	case 1: return "Connection Refused: unacceptable protocol version";
	case 2: return "Connection Refused: identifier rejected";
	case 3: return "Connection Refused: broker unavailable";
	case 4: return "Connection Refused: bad user name or password";
	case 5: return "Connection Refused: not authorised";
	default: return "Connection Refused: unknown reason";
	}
}

const char *mqtt_wire_strerror(int rc)
{
	switch (rc) {
	case MQTT_WIRE_E_REMLEN: return "remaining length over 4 bytes";
	case MQTT_WIRE_E_TOOBIG: return "packet larger than the maximum packet size";
	case MQTT_WIRE_E_TRUNC: return "a field runs past the end of the packet, or a wrong length for its type";
	case MQTT_WIRE_E_TOPIC: return "topic length past the end of the packet (or empty)";
	case MQTT_WIRE_E_QOS: return "PUBLISH with QoS 3";
	case MQTT_WIRE_E_PKTID: return "packet identifier 0";
	case MQTT_WIRE_E_PROPS: return "v5 property length malformed or past the end of the packet";
	case MQTT_WIRE_E_FLAGS: return "reserved flag bits wrong for the packet type";
	case MQTT_WIRE_E_TYPE: return "a packet type a subscribing client does not receive";
	case MQTT_WIRE_E_VERSION: return "protocol version neither 4 (3.1.1) nor 5";
	case -ENOSPC: return "buffer too small for the packet";
	case -EINVAL: return "invalid argument for the packet";
	default: return rc >= 0 ? "success" : "unknown error";
	}
}
