/* fuzz_regdecode.c - register decoding never reads past the words it is
 * given, for any type, order, bit and word count, and a decoded finite
 * value goes through scale/offset/range without trouble. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../codec/regdecode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct {
		enum cc_regtype type;
		enum cc_order order;
		int bit;
		struct regdecode_scaling scaling;
	} p;
	uint16_t *words;
	size_t nw;
	double raw, v;

	if (size < 4)
		return 0;
	memset(&p, 0, sizeof(p));
	p.type = (enum cc_regtype)(data[0] % (CC_T_FLOAT64 + 1));
	p.order = (enum cc_order)(data[1] % 4);
	p.bit = (int)(data[2] % 18) - 1; /* -1..16: 16 is out of range on purpose */
	p.scaling.scale = (data[3] & 1) ? 0.1 : 1.0;
	p.scaling.offset = (data[3] & 2) ? -40.0 : 0.0;
	p.scaling.valid_min = -INFINITY;
	p.scaling.valid_max = (data[3] & 4) ? 100.0 : INFINITY;
	nw = (size - 4) / 2;
	/* exactly nw words on the heap, so ASan sees any read past them */
	words = malloc(nw ? nw * sizeof(*words) : 1);
	if (!words)
		return 0;
	for (size_t i = 0; i < nw; i++)
		words[i] = (uint16_t)(data[4 + 2 * i] << 8 | data[5 + 2 * i]);
	if (regdecode_words(words, nw, p.type, p.order, p.bit, &raw) == 0 && isfinite(raw)) {
		if (regdecode_apply(&p.scaling, raw, &v) == 0 && !isfinite(v))
			abort();
	}
	free(words);
	return 0;
}
