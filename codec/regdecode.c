/* regdecode.c - turns Modbus register words (or coil/discrete bits) into a
 * raw value for every type and word/byte order, then applies scale, offset
 * and the valid range.  Pure: no libmodbus, no I/O, no allocation. */
#include "regdecode.h"

#include <errno.h>
#include <math.h>
#include <string.h>

/*
 * Lays the point's words out as the byte stream seen on the wire, then
 * undoes the order: the names describe what the stream holds (A = most
 * significant byte), so CDAB = words reversed, BADC = bytes swapped within
 * each word, DCBA = both.  This rule covers 16/32/64-bit alike (a 16-bit
 * type has one word, so only the byte swap can apply).  Result: out[0] is
 * the most significant byte.
 */
static void bytes_in_order(const uint16_t *words, int nw, enum cc_order order, uint8_t *out)
{
	int swap_words = order == CC_ORDER_CDAB || order == CC_ORDER_DCBA;
	int swap_bytes = order == CC_ORDER_BADC || order == CC_ORDER_DCBA;

	for (int i = 0; i < nw; i++) {
		uint16_t w = words[swap_words ? nw - 1 - i : i];
		uint8_t hi = (uint8_t)(w >> 8), lo = (uint8_t)(w & 0xFF);
		out[2 * i] = swap_bytes ? lo : hi;
		out[2 * i + 1] = swap_bytes ? hi : lo;
	}
}

static uint64_t be_to_u64(const uint8_t *b, int n)
{
	uint64_t v = 0;
	for (int i = 0; i < n; i++)
		v = (v << 8) | b[i];
	return v;
}

int regdecode_words(const uint16_t *words, size_t nwords, enum cc_regtype type, enum cc_order order,
		    int bit, double *out)
{
	uint8_t b[8];
	int nw;
	uint64_t u;

	if ((unsigned)type > CC_T_FLOAT64)
		return -EINVAL;
	nw = regtype_words(type);
	if (!words || nwords < (size_t)nw || (unsigned)order > CC_ORDER_DCBA)
		return -EINVAL;

	if (type == CC_T_BOOL) {
		/* A coil/discrete bit arrives as 0/1 in words[0] (bit == -1); a
		 * flag in a register is picked from the register's value as
		 * received (bit 0 = least significant), before any byte order. */
		if (bit < 0)
			*out = words[0] ? 1.0 : 0.0;
		else if (bit <= 15)
			*out = (double)((words[0] >> bit) & 1u);
		else
			return -EINVAL;
		return 0;
	}

	bytes_in_order(words, nw, order, b);
	u = be_to_u64(b, 2 * nw);

	switch (type) {
	case CC_T_INT16:
		*out = (double)(int16_t)(uint16_t)u;
		return 0;
	case CC_T_UINT16:
		*out = (double)(uint16_t)u;
		return 0;
	case CC_T_INT32:
		*out = (double)(int32_t)(uint32_t)u;
		return 0;
	case CC_T_UINT32:
		*out = (double)(uint32_t)u;
		return 0;
	case CC_T_INT64:
		*out = (double)(int64_t)u;
		return 0;
	case CC_T_UINT64:
		*out = (double)u;
		return 0;
	case CC_T_FLOAT32: {
		uint32_t u32 = (uint32_t)u;
		float f;
		memcpy(&f, &u32, sizeof(f));
		*out = (double)f;
		return isfinite(f) ? 0 : -EINVAL;
	}
	case CC_T_FLOAT64: {
		double d;
		memcpy(&d, &u, sizeof(d));
		*out = d;
		return isfinite(d) ? 0 : -EINVAL;
	}
	case CC_T_BOOL:
		break;
	}
	return -EINVAL;
}

int regdecode_apply(const struct regdecode_scaling *sc, double raw, double *value)
{
	double inv = 1.0 / sc->scale, v;

	/* A decimal scale (0.1, 0.01) is applied as a division by its exact
	 * reciprocal: 284 / 10 is the double nearest 28.4, while 284 * 0.1 is
	 * 28.400000000000002, which would reach the database as such. */
	if (isfinite(inv) && fabs(inv) >= 1.0 && fabs(inv) < 1e15 && inv == nearbyint(inv))
		v = raw / inv + sc->offset;
	else
		v = raw * sc->scale + sc->offset;
	*value = v;
	/* NaN compares false with everything, so test it explicitly. */
	if (!isfinite(v) || v < sc->valid_min || v > sc->valid_max)
		return -ERANGE;
	return 0;
}
