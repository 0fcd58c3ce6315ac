/* mbap.h - Modbus TCP framing of the four read requests the daemon makes
 * (coils, discrete inputs, holding and input registers): the request with
 * its MBAP header, and the checks of a reply as its bytes arrive.  Pure: no
 * I/O, no libmodbus.  drivers/modbus.c sends and receives; this decides
 * what a reply is.
 *
 * A reply (Modbus Messaging on TCP/IP Implementation Guide v1.0b, 3.1.3):
 *   0-1 transaction id, 2-3 protocol id (0), 4-5 length, 6 unit id,
 *   7 function, then 8 byte count and the data, or, when the function has
 *   its high bit set (function | 0x80), 8 the exception code.
 * What is checked is what libmodbus 3.1.6 checks, so a device it reads is
 * read the same: the transaction id, the function, the byte count against
 * the count asked for; and the protocol id must be 0 (libmodbus refuses it
 * only when both bytes are non-zero).  Like libmodbus, the frame's length
 * comes from the function and the byte count, not from the header's length
 * field, and the unit id is not compared: gateways differ in what they put
 * there.
 *
 * One thing libmodbus does not: a whole read reply (or exception) with
 * another transaction id is the late answer to a request given up at its
 * timeout, and is said as such (MBAP_STALE) so that the caller can drop it
 * and read on; libmodbus fails the request it came in front of. */
#ifndef CC_MBAP_H
#define CC_MBAP_H

#include <stddef.h>
#include <stdint.h>

#include "modbus_types.h"

#define MBAP_REQUEST_LEN 12 /* header 7 + function, address, count */
#define MBAP_ADU_MAX 260    /* the largest reply: header 7 + PDU 253 */
#define MBAP_MAX_REGISTERS 125
#define MBAP_MAX_BITS 2000

struct mbap_req {
	uint16_t tid;
	uint8_t unit;
	enum cc_table table;
	uint16_t address, count;
};

/* The function code that reads table t (1, 2, 3 or 4). */
uint8_t mbap_function(enum cc_table t);

/* Writes q as a request into out.  0, or -1 when count is 0 or more than
 * one request may ask for (125 registers, 2,000 bits). */
int mbap_request(const struct mbap_req *q, uint8_t out[MBAP_REQUEST_LEN]);

enum mbap_verdict {
	MBAP_MORE,          /* not whole yet: *need is the length known so far */
	MBAP_DONE,          /* q's values: *need is the frame's length */
	MBAP_EXCEPTION,     /* q's function refused: *exc is the code (1..255) */
	MBAP_STALE,         /* a whole reply to another transaction: *need is its length */
	MBAP_BAD_EXCEPTION, /* an exception reply for another function, or code 0 */
	MBAP_BAD,           /* another transaction, protocol, function or count */
};

/* Judges buf[0..n), the bytes received so far, as the reply to q.  A
 * verdict other than MBAP_MORE is final: bytes past *need belong to no
 * request after MBAP_DONE or MBAP_EXCEPTION (the caller's to drop), and to
 * the next frame after MBAP_STALE.  A bad reply is said as soon as its
 * first eight bytes show it, a byte count that is not q's at the ninth. */
enum mbap_verdict mbap_reply(const struct mbap_req *q, const uint8_t *buf, size_t n, size_t *need, uint8_t *exc);

/* The values of a reply judged MBAP_DONE for q: q->count registers (each
 * the big-endian word as sent) or bits (0 or 1, the first in the lowest
 * bit of the first byte). */
void mbap_registers(const uint8_t *frame, uint16_t count, uint16_t *words);
void mbap_bits(const uint8_t *frame, uint16_t count, uint8_t *bits);

#endif
