/* regdecode.h - pure decoding of Modbus register words and bits into values,
 * for every type and word/byte order.  No libmodbus, no I/O. */
#ifndef CC_REGDECODE_H
#define CC_REGDECODE_H

#include <stddef.h>
#include <stdint.h>

#include "modbus_types.h"

/*
 * Decodes the raw value of one point from words (as received: each uint16_t
 * holds the register's big-endian value, i.e. byte A in the high half).
 * nwords must be at least regtype_words(type).  For CC_T_BOOL from a
 * register, bit selects 0..15.  Returns 0 and the raw (unscaled) value as a
 * double (int64/uint64 beyond 2^53 lose precision: documented), or -EINVAL
 * for a float that is NaN/Inf (the caller marks it out of range).
 */
int regdecode_words(const uint16_t *words, size_t nwords, enum cc_regtype type, enum cc_order order,
		    int bit, double *out);

/* How a point's raw value becomes its value: value = raw * scale + offset,
 * valid within [valid_min, valid_max] (-inf / +inf when not set). */
struct regdecode_scaling {
	double scale;
	double offset;
	double valid_min;
	double valid_max;
};

/* Applies scale/offset and the valid range: stores the value (kept even when
 * out of range, for the record) and returns 0, or -ERANGE when the value is
 * not finite or lies outside the valid range. */
int regdecode_apply(const struct regdecode_scaling *sc, double raw, double *value);

#endif
