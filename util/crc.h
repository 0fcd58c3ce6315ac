/* util/crc.h - zlib's CRC-32 over any length, the one copy (the journal's
 * records and the sealed state files): crc32() takes a uInt length, so a
 * span is fed in pieces of at most 1 GiB.  Header-only. */
#ifndef CC_UTIL_CRC_H
#define CC_UTIL_CRC_H

#include <stddef.h>
#include <stdint.h>
#include <zlib.h>

/* The running CRC c (crc32(0L, Z_NULL, 0) to begin) over data[0..len). */
static inline uLong crc32_span(uLong c, const void *data, size_t len)
{
	while (len > 0) {
		uInt n = len > 0x40000000 ? 0x40000000 : (uInt)len;
		c = crc32(c, data, n);
		data = (const uint8_t *)data + n;
		len -= n;
	}
	return c;
}

#endif
