/* mbap.c - Modbus TCP framing of the read requests and the checks of their
 * replies.  See mbap.h. */
#include "mbap.h"

#define MBAP_HEAD 8 /* MBAP header 7 + the function */

static int is_bits(enum cc_table t)
{
	return t == CC_TABLE_COIL || t == CC_TABLE_DISCRETE;
}

uint8_t mbap_function(enum cc_table t)
{
	switch (t) {
	case CC_TABLE_COIL:
		return 1;
	case CC_TABLE_DISCRETE:
		return 2;
	case CC_TABLE_HOLDING:
		return 3;
	case CC_TABLE_INPUT:
		return 4;
	}
	return 0;
}

int mbap_request(const struct mbap_req *q, uint8_t out[MBAP_REQUEST_LEN])
{
	uint16_t max = is_bits(q->table) ? MBAP_MAX_BITS : MBAP_MAX_REGISTERS;

	if (q->count == 0 || q->count > max || !mbap_function(q->table))
		return -1;
	out[0] = (uint8_t)(q->tid >> 8);
	out[1] = (uint8_t)q->tid;
	out[2] = 0;
	out[3] = 0;
	out[4] = 0;
	out[5] = 6; /* unit, function, address, count */
	out[6] = q->unit;
	out[7] = mbap_function(q->table);
	out[8] = (uint8_t)(q->address >> 8);
	out[9] = (uint8_t)q->address;
	out[10] = (uint8_t)(q->count >> 8);
	out[11] = (uint8_t)q->count;
	return 0;
}

/* The byte count a reply to q carries. */
static size_t data_bytes(const struct mbap_req *q)
{
	return is_bits(q->table) ? ((size_t)q->count + 7) / 8 : (size_t)q->count * 2;
}

enum mbap_verdict mbap_reply(const struct mbap_req *q, const uint8_t *buf, size_t n, size_t *need, uint8_t *exc)
{
	uint8_t fn = mbap_function(q->table);

	*need = MBAP_HEAD;
	if (n < MBAP_HEAD)
		return MBAP_MORE;
	if (buf[2] || buf[3])
		return MBAP_BAD;
	if ((uint16_t)(buf[0] << 8 | buf[1]) != q->tid) {
		/* a late reply to a read (or its exception): its length is
		 * known from its ninth byte, anything else has none */
		uint8_t f = buf[7] & 0x7F;
		if (f < 1 || f > 4)
			return MBAP_BAD;
		*need = MBAP_HEAD + 1;
		if (n < *need)
			return MBAP_MORE;
		if (!(buf[7] & 0x80)) {
			if (buf[8] > MBAP_ADU_MAX - MBAP_HEAD - 1)
				return MBAP_BAD; /* longer than any reply */
			*need += buf[8];
		}
		return n < *need ? MBAP_MORE : MBAP_STALE;
	}
	if (buf[7] == (fn | 0x80)) {
		*need = MBAP_HEAD + 1;
		if (n < *need)
			return MBAP_MORE;
		*exc = buf[8];
		return buf[8] ? MBAP_EXCEPTION : MBAP_BAD_EXCEPTION;
	}
	if (buf[7] & 0x80)
		return MBAP_BAD_EXCEPTION;
	if (buf[7] != fn)
		return MBAP_BAD;
	*need = MBAP_HEAD + 1;
	if (n < *need)
		return MBAP_MORE;
	if (buf[8] != data_bytes(q))
		return MBAP_BAD;
	*need = MBAP_HEAD + 1 + buf[8];
	return n < *need ? MBAP_MORE : MBAP_DONE;
}

void mbap_registers(const uint8_t *frame, uint16_t count, uint16_t *words)
{
	const uint8_t *d = frame + MBAP_HEAD + 1;

	for (uint16_t i = 0; i < count; i++)
		words[i] = (uint16_t)(d[2 * i] << 8 | d[2 * i + 1]);
}

void mbap_bits(const uint8_t *frame, uint16_t count, uint8_t *bits)
{
	const uint8_t *d = frame + MBAP_HEAD + 1;

	for (uint16_t i = 0; i < count; i++)
		bits[i] = (uint8_t)(d[i / 8] >> (i % 8) & 1);
}
