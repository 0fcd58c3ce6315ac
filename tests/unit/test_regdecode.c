/* test_regdecode.c - every type in every word/byte order, decoded from
 * hand-computed register words, plus bit selection, NaN/Inf and the
 * scale/offset/range rules. */
#include "../../codec/regdecode.h"

#include <errno.h>

#include "testlib.h"

struct vec {
	enum cc_regtype type;
	enum cc_order order;
	uint16_t w[4];
	double want;
};

/* Each value written out as words as a device would send them, in the four
 * orders named in config.h (A = most significant byte). */
static const struct vec vecs[] = {
	/* int16 -300 = 0xFED4; 16-bit types honour only the byte swap */
	{ CC_T_INT16, CC_ORDER_ABCD, { 0xFED4 }, -300 },
	{ CC_T_INT16, CC_ORDER_CDAB, { 0xFED4 }, -300 },
	{ CC_T_INT16, CC_ORDER_BADC, { 0xD4FE }, -300 },
	{ CC_T_INT16, CC_ORDER_DCBA, { 0xD4FE }, -300 },
	{ CC_T_INT16, CC_ORDER_ABCD, { 0x7FFF }, 32767 },
	{ CC_T_INT16, CC_ORDER_ABCD, { 0x8000 }, -32768 },
	/* uint16 915 = 0x0393, 65535 */
	{ CC_T_UINT16, CC_ORDER_ABCD, { 0x0393 }, 915 },
	{ CC_T_UINT16, CC_ORDER_CDAB, { 0x0393 }, 915 },
	{ CC_T_UINT16, CC_ORDER_BADC, { 0x9303 }, 915 },
	{ CC_T_UINT16, CC_ORDER_DCBA, { 0x9303 }, 915 },
	{ CC_T_UINT16, CC_ORDER_ABCD, { 0xFFFF }, 65535 },
	/* int32 -123456 = 0xFFFE1DC0 */
	{ CC_T_INT32, CC_ORDER_ABCD, { 0xFFFE, 0x1DC0 }, -123456 },
	{ CC_T_INT32, CC_ORDER_CDAB, { 0x1DC0, 0xFFFE }, -123456 },
	{ CC_T_INT32, CC_ORDER_BADC, { 0xFEFF, 0xC01D }, -123456 },
	{ CC_T_INT32, CC_ORDER_DCBA, { 0xC01D, 0xFEFF }, -123456 },
	{ CC_T_INT32, CC_ORDER_ABCD, { 0x0001, 0xE240 }, 123456 },
	/* uint32 0xDEADBEEF = 3735928559 */
	{ CC_T_UINT32, CC_ORDER_ABCD, { 0xDEAD, 0xBEEF }, 3735928559.0 },
	{ CC_T_UINT32, CC_ORDER_CDAB, { 0xBEEF, 0xDEAD }, 3735928559.0 },
	{ CC_T_UINT32, CC_ORDER_BADC, { 0xADDE, 0xEFBE }, 3735928559.0 },
	{ CC_T_UINT32, CC_ORDER_DCBA, { 0xEFBE, 0xADDE }, 3735928559.0 },
	/* float32 3.5 = 0x40600000, -40.25 = 0xC2210000 */
	{ CC_T_FLOAT32, CC_ORDER_ABCD, { 0x4060, 0x0000 }, 3.5 },
	{ CC_T_FLOAT32, CC_ORDER_CDAB, { 0x0000, 0x4060 }, 3.5 },
	{ CC_T_FLOAT32, CC_ORDER_BADC, { 0x6040, 0x0000 }, 3.5 },
	{ CC_T_FLOAT32, CC_ORDER_DCBA, { 0x0000, 0x6040 }, 3.5 },
	{ CC_T_FLOAT32, CC_ORDER_ABCD, { 0xC221, 0x0000 }, -40.25 },
	{ CC_T_FLOAT32, CC_ORDER_CDAB, { 0x0000, 0xC221 }, -40.25 },
	{ CC_T_FLOAT32, CC_ORDER_BADC, { 0x21C2, 0x0000 }, -40.25 },
	{ CC_T_FLOAT32, CC_ORDER_DCBA, { 0x0000, 0x21C2 }, -40.25 },
	/* int64 -1234567890123 = 0xFFFFFEE08E04FB35 */
	{ CC_T_INT64, CC_ORDER_ABCD, { 0xFFFF, 0xFEE0, 0x8E04, 0xFB35 }, -1234567890123.0 },
	{ CC_T_INT64, CC_ORDER_CDAB, { 0xFB35, 0x8E04, 0xFEE0, 0xFFFF }, -1234567890123.0 },
	{ CC_T_INT64, CC_ORDER_BADC, { 0xFFFF, 0xE0FE, 0x048E, 0x35FB }, -1234567890123.0 },
	{ CC_T_INT64, CC_ORDER_DCBA, { 0x35FB, 0x048E, 0xE0FE, 0xFFFF }, -1234567890123.0 },
	/* uint64 0x0102030405060708 (beyond 2^53: compared as the nearest double) */
	{ CC_T_UINT64, CC_ORDER_ABCD, { 0x0102, 0x0304, 0x0506, 0x0708 }, (double)0x0102030405060708ULL },
	{ CC_T_UINT64, CC_ORDER_CDAB, { 0x0708, 0x0506, 0x0304, 0x0102 }, (double)0x0102030405060708ULL },
	{ CC_T_UINT64, CC_ORDER_BADC, { 0x0201, 0x0403, 0x0605, 0x0807 }, (double)0x0102030405060708ULL },
	{ CC_T_UINT64, CC_ORDER_DCBA, { 0x0807, 0x0605, 0x0403, 0x0201 }, (double)0x0102030405060708ULL },
	{ CC_T_UINT64, CC_ORDER_ABCD, { 0x0000, 0x0000, 0x0001, 0x0000 }, 65536 },
	/* float64 -273.15 = 0xC071266666666666 */
	{ CC_T_FLOAT64, CC_ORDER_ABCD, { 0xC071, 0x1266, 0x6666, 0x6666 }, -273.15 },
	{ CC_T_FLOAT64, CC_ORDER_CDAB, { 0x6666, 0x6666, 0x1266, 0xC071 }, -273.15 },
	{ CC_T_FLOAT64, CC_ORDER_BADC, { 0x71C0, 0x6612, 0x6666, 0x6666 }, -273.15 },
	{ CC_T_FLOAT64, CC_ORDER_DCBA, { 0x6666, 0x6666, 0x6612, 0x71C0 }, -273.15 },
};

static void test_every_type_decodes_in_every_order(void)
{
	for (size_t i = 0; i < sizeof(vecs) / sizeof(vecs[0]); i++) {
		double v = -1;
		int rc = regdecode_words(vecs[i].w, 4, vecs[i].type, vecs[i].order, -1, &v);
		if (rc != 0 || v != vecs[i].want)
			printf("    vector %zu: rc %d got %.17g want %.17g\n", i, rc, v, vecs[i].want);
		CHECK_INT(rc, 0);
		CHECK(v == vecs[i].want);
	}
}

static void test_bool_from_bit_table_is_zero_or_one(void)
{
	uint16_t on = 1, off = 0;
	double v = -1;

	CHECK_INT(regdecode_words(&on, 1, CC_T_BOOL, CC_ORDER_ABCD, -1, &v), 0);
	CHECK(v == 1.0);
	CHECK_INT(regdecode_words(&off, 1, CC_T_BOOL, CC_ORDER_ABCD, -1, &v), 0);
	CHECK(v == 0.0);
}

static void test_bool_from_register_selects_one_bit(void)
{
	uint16_t w = 0x8005; /* bits 0, 2 and 15 */
	double v;

	for (int bit = 0; bit < 16; bit++) {
		CHECK_INT(regdecode_words(&w, 1, CC_T_BOOL, CC_ORDER_ABCD, bit, &v), 0);
		CHECK(v == ((bit == 0 || bit == 2 || bit == 15) ? 1.0 : 0.0));
	}
	CHECK_INT(regdecode_words(&w, 1, CC_T_BOOL, CC_ORDER_ABCD, 16, &v), -EINVAL);
}

static void test_too_few_words_are_rejected(void)
{
	uint16_t w[4] = { 0 };
	double v;

	CHECK_INT(regdecode_words(w, 1, CC_T_FLOAT32, CC_ORDER_ABCD, -1, &v), -EINVAL);
	CHECK_INT(regdecode_words(w, 3, CC_T_FLOAT64, CC_ORDER_ABCD, -1, &v), -EINVAL);
	CHECK_INT(regdecode_words(w, 0, CC_T_INT16, CC_ORDER_ABCD, -1, &v), -EINVAL);
	CHECK_INT(regdecode_words(w, 4, CC_T_UINT64, CC_ORDER_ABCD, -1, &v), 0);
}

static void test_nan_and_inf_floats_are_reported(void)
{
	uint16_t nan32[2] = { 0x7FC0, 0x0000 }, inf32[2] = { 0x0000, 0xFF80 }; /* -inf in CDAB */
	uint16_t nan64[4] = { 0x7FF8, 0, 0, 0 };
	double v;

	CHECK_INT(regdecode_words(nan32, 2, CC_T_FLOAT32, CC_ORDER_ABCD, -1, &v), -EINVAL);
	CHECK_INT(regdecode_words(inf32, 2, CC_T_FLOAT32, CC_ORDER_CDAB, -1, &v), -EINVAL);
	CHECK(isinf(v) && v < 0);
	CHECK_INT(regdecode_words(nan64, 4, CC_T_FLOAT64, CC_ORDER_ABCD, -1, &v), -EINVAL);
}

static struct regdecode_scaling mkpoint(double scale, double offset, double lo, double hi)
{
	struct regdecode_scaling p = { .scale = scale, .offset = offset, .valid_min = lo, .valid_max = hi };
	return p;
}

static void test_apply_scales_then_checks_the_valid_range(void)
{
	struct regdecode_scaling p = mkpoint(0.1, -2.0, -40.0, 60.0);
	double v;

	CHECK_INT(regdecode_apply(&p, 255, &v), 0);
	CHECK_NEAR(v, 23.5, 1e-9);
	CHECK_INT(regdecode_apply(&p, -380, &v), 0); /* -40.0: the bound itself is valid */
	CHECK_NEAR(v, -40.0, 1e-9);
	CHECK_INT(regdecode_apply(&p, -381, &v), -ERANGE);
	CHECK_NEAR(v, -40.1, 1e-9); /* the value is kept for the record */
	CHECK_INT(regdecode_apply(&p, 621, &v), -ERANGE);
}

static void test_decimal_scales_give_the_nearest_double(void)
{
	struct regdecode_scaling p = mkpoint(0.1, 0.0, -INFINITY, INFINITY);
	double v;

	regdecode_apply(&p, 284, &v);
	CHECK(v == 28.4);
	regdecode_apply(&p, -35, &v);
	CHECK(v == -3.5);
	p.scale = 0.01;
	regdecode_apply(&p, 9315, &v);
	CHECK(v == 93.15);
	p.scale = 2.5; /* not a decimal fraction: plain multiplication */
	regdecode_apply(&p, 3, &v);
	CHECK(v == 7.5);
	p.scale = -0.1;
	regdecode_apply(&p, 284, &v);
	CHECK(v == -28.4);
}

static void test_apply_without_range_accepts_any_finite_value(void)
{
	struct regdecode_scaling p = mkpoint(1.0, 0.0, -INFINITY, INFINITY);
	double v;

	CHECK_INT(regdecode_apply(&p, -1e300, &v), 0);
	CHECK_INT(regdecode_apply(&p, NAN, &v), -ERANGE);
	CHECK_INT(regdecode_apply(&p, INFINITY, &v), -ERANGE);
	p.scale = 1e300;
	CHECK_INT(regdecode_apply(&p, 1e300, &v), -ERANGE); /* overflow to inf */
}

int main(void)
{
	tl_prog = "unit/regdecode";
	RUN(test_every_type_decodes_in_every_order);
	RUN(test_bool_from_bit_table_is_zero_or_one);
	RUN(test_bool_from_register_selects_one_bit);
	RUN(test_too_few_words_are_rejected);
	RUN(test_nan_and_inf_floats_are_reported);
	RUN(test_apply_scales_then_checks_the_valid_range);
	RUN(test_decimal_scales_give_the_nearest_double);
	RUN(test_apply_without_range_accepts_any_finite_value);
	return TL_DONE();
}
