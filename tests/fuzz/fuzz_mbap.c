/* fuzz_mbap.c - any bytes as the reply to any read request: mbap_reply
 * never reads past the bytes it is given, its verdict does not change once
 * final as more bytes come, and a reply it accepts holds exactly the values
 * asked for, which mbap_registers and mbap_bits read within the frame. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../codec/mbap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mbap_req q;
	uint8_t req[MBAP_REQUEST_LEN], *buf, exc = 0;
	size_t n, need = 0;
	enum mbap_verdict v = MBAP_MORE, first = MBAP_MORE;
	size_t first_need = 0;

	if (size < 6)
		return 0;
	q.tid = (uint16_t)(data[0] << 8 | data[1]);
	q.unit = data[2];
	q.table = (enum cc_table)(data[3] % 4);
	q.address = 0;
	q.count = (uint16_t)((data[4] << 8 | data[5]) % (MBAP_MAX_BITS + 2));
	if (mbap_request(&q, req) < 0)
		return 0;
	data += 6;
	size -= 6;
	if (size > MBAP_ADU_MAX)
		size = MBAP_ADU_MAX;
	/* exactly the bytes received, on the heap, so ASan sees a read past them */
	buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	for (n = 0; n <= size; n++) {
		v = mbap_reply(&q, buf, n, &need, &exc);
		if (v == MBAP_MORE) {
			if (need <= n)
				abort();
			continue;
		}
		if (first == MBAP_MORE) {
			first = v;
			first_need = need;
		} else if (v != first || (v != MBAP_BAD && v != MBAP_BAD_EXCEPTION && need != first_need)) {
			abort(); /* a final verdict changed as more bytes came */
		}
	}
	if (first == MBAP_DONE) {
		uint16_t words[MBAP_MAX_REGISTERS];
		uint8_t bits[MBAP_MAX_BITS];
		size_t data_len = q.table <= CC_TABLE_DISCRETE ? ((size_t)q.count + 7) / 8 : (size_t)q.count * 2;

		if (first_need != 9 + data_len || first_need > MBAP_ADU_MAX)
			abort();
		/* the frame alone, so a read past it is seen */
		uint8_t *frame = malloc(first_need);
		if (!frame)
			abort();
		memcpy(frame, buf, first_need);
		if (q.table <= CC_TABLE_DISCRETE)
			mbap_bits(frame, q.count, bits);
		else
			mbap_registers(frame, q.count, words);
		free(frame);
	}
	if (first == MBAP_EXCEPTION && exc == 0)
		abort();
	free(buf);
	return 0;
}
