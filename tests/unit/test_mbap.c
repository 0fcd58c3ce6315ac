/* test_mbap.c - Modbus TCP framing: the request bytes of each table, hand
 * written from the Modbus Application Protocol v1.1b3 (6.1-6.4) and the
 * TCP implementation guide v1.0b (3.1.3); every verdict on a reply, byte by
 * byte as it may arrive; the values of a reply. */
#include "../../codec/mbap.h"

#include "testlib.h"

/* Requests as a Modbus TCP client sends them. */
static void test_request_bytes(void)
{
	static const struct {
		struct mbap_req q;
		uint8_t want[MBAP_REQUEST_LEN];
	} v[] = {
		/* the spec's read holding registers example: 108..110, 3 registers */
		{ { 0x0001, 17, CC_TABLE_HOLDING, 107, 3 }, { 0, 1, 0, 0, 0, 6, 17, 3, 0, 0x6B, 0, 3 } },
		{ { 0x1234, 1, CC_TABLE_INPUT, 8, 1 }, { 0x12, 0x34, 0, 0, 0, 6, 1, 4, 0, 8, 0, 1 } },
		{ { 0xFFFF, 247, CC_TABLE_COIL, 19, 19 }, { 0xFF, 0xFF, 0, 0, 0, 6, 247, 1, 0, 0x13, 0, 0x13 } },
		{ { 0, 255, CC_TABLE_DISCRETE, 0xFFFF, 2000 }, { 0, 0, 0, 0, 0, 6, 255, 2, 0xFF, 0xFF, 0x07, 0xD0 } },
		{ { 7, 1, CC_TABLE_HOLDING, 40000, 125 }, { 0, 7, 0, 0, 0, 6, 1, 3, 0x9C, 0x40, 0, 125 } },
	};
	uint8_t out[MBAP_REQUEST_LEN];

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		memset(out, 0xAA, sizeof(out));
		CHECK_INT(mbap_request(&v[i].q, out), 0);
		if (memcmp(out, v[i].want, sizeof(out)) != 0) {
			printf("    request %zu differs at byte", i);
			for (size_t k = 0; k < sizeof(out); k++)
				if (out[k] != v[i].want[k])
					printf(" %zu (0x%02X, want 0x%02X)", k, out[k], v[i].want[k]);
			printf("\n");
			tl_cur_failed = 1;
		}
	}
	CHECK_INT(mbap_function(CC_TABLE_COIL), 1);
	CHECK_INT(mbap_function(CC_TABLE_DISCRETE), 2);
	CHECK_INT(mbap_function(CC_TABLE_HOLDING), 3);
	CHECK_INT(mbap_function(CC_TABLE_INPUT), 4);
}

/* No request may ask for nothing, or for more than one reply holds. */
static void test_request_limits(void)
{
	uint8_t out[MBAP_REQUEST_LEN];
	struct mbap_req q = { 1, 1, CC_TABLE_HOLDING, 0, 0 };

	CHECK_INT(mbap_request(&q, out), -1);
	q.count = 126;
	CHECK_INT(mbap_request(&q, out), -1);
	q.count = 125;
	CHECK_INT(mbap_request(&q, out), 0);
	q.table = CC_TABLE_INPUT;
	q.count = 126;
	CHECK_INT(mbap_request(&q, out), -1);
	q.table = CC_TABLE_COIL;
	CHECK_INT(mbap_request(&q, out), 0); /* 126 bits are fine */
	q.count = 2001;
	CHECK_INT(mbap_request(&q, out), -1);
	q.table = CC_TABLE_DISCRETE;
	CHECK_INT(mbap_request(&q, out), -1);
	q.count = 2000;
	CHECK_INT(mbap_request(&q, out), 0);
	q.table = (enum cc_table)9;
	q.count = 1;
	CHECK_INT(mbap_request(&q, out), -1);
}

/* The verdict on every prefix of frame: MORE with the length known so
 * far, then final at its whole length. */
static void check_prefixes(const struct mbap_req *q, const uint8_t *frame, size_t len, enum mbap_verdict final,
			   size_t final_need)
{
	size_t need = 0, last_need = 0;
	uint8_t exc = 0;

	for (size_t n = 0; n < len; n++) {
		enum mbap_verdict v = mbap_reply(q, frame, n, &need, &exc);
		if (v != MBAP_MORE) {
			printf("    prefix of %zu bytes: verdict %d before the frame was whole\n", n, (int)v);
			tl_cur_failed = 1;
			return;
		}
		if (need <= n || need < last_need || need > final_need) {
			printf("    prefix of %zu bytes: need %zu (last %zu, whole %zu)\n", n, need, last_need, final_need);
			tl_cur_failed = 1;
		}
		last_need = need;
	}
	CHECK_INT(mbap_reply(q, frame, len, &need, &exc), final);
	CHECK_INT(need, final_need);
}

/* A whole reply of registers and of bits, byte by byte, with a byte past
 * it (the next frame's, or garbage) left to the caller. */
static void test_reply_values(void)
{
	const struct mbap_req qr = { 0x0102, 9, CC_TABLE_INPUT, 1, 3 };
	const uint8_t regs[] = { 1, 2, 0, 0, 0, 9, 9, 4, 6, 0x40, 0x60, 0xFE, 0xD4, 0x00, 0x29, 0x77 };
	const struct mbap_req qb = { 0x0A0B, 9, CC_TABLE_COIL, 3, 10 };
	const uint8_t bits[] = { 0x0A, 0x0B, 0, 0, 0, 5, 9, 1, 2, 0xCD, 0x01 };
	uint16_t w[3];
	uint8_t b[10];
	static const uint8_t want_b[10] = { 1, 0, 1, 1, 0, 0, 1, 1, 1, 0 };

	check_prefixes(&qr, regs, sizeof(regs) - 1, MBAP_DONE, sizeof(regs) - 1);
	{
		size_t need;
		uint8_t exc;
		CHECK_INT(mbap_reply(&qr, regs, sizeof(regs), &need, &exc), MBAP_DONE);
		CHECK_INT(need, sizeof(regs) - 1);
	}
	mbap_registers(regs, 3, w);
	CHECK_INT(w[0], 0x4060);
	CHECK_INT(w[1], 0xFED4);
	CHECK_INT(w[2], 0x0029);
	check_prefixes(&qb, bits, sizeof(bits), MBAP_DONE, sizeof(bits));
	memset(b, 7, sizeof(b));
	mbap_bits(bits, 10, b);
	CHECK(memcmp(b, want_b, sizeof(b)) == 0);
}

/* Exceptions: this request's function with the high bit set. */
static void test_reply_exceptions(void)
{
	const struct mbap_req q = { 5, 1, CC_TABLE_HOLDING, 0, 2 };
	const uint8_t illegal_address[] = { 0, 5, 0, 0, 0, 3, 1, 0x83, 2 };
	const uint8_t busy[] = { 0, 5, 0, 0, 0, 3, 1, 0x83, 6 };
	const uint8_t code0[] = { 0, 5, 0, 0, 0, 3, 1, 0x83, 0 };
	const uint8_t other_fn[] = { 0, 5, 0, 0, 0, 3, 1, 0x84, 2 };
	size_t need;
	uint8_t exc = 0;

	check_prefixes(&q, illegal_address, sizeof(illegal_address), MBAP_EXCEPTION, 9);
	mbap_reply(&q, illegal_address, sizeof(illegal_address), &need, &exc);
	CHECK_INT(exc, 2);
	CHECK_INT(mbap_reply(&q, busy, sizeof(busy), &need, &exc), MBAP_EXCEPTION);
	CHECK_INT(exc, 6);
	CHECK_INT(mbap_reply(&q, code0, sizeof(code0), &need, &exc), MBAP_BAD_EXCEPTION);
	/* known from the function alone, before the code came */
	CHECK_INT(mbap_reply(&q, other_fn, 8, &need, &exc), MBAP_BAD_EXCEPTION);
}

/* What is not the reply to this request is said from its first 8 or 9
 * bytes: another transaction (a late reply to an abandoned request), a
 * protocol other than Modbus (either byte), another function, a byte
 * count that is not the count asked for. */
static void test_reply_bad(void)
{
	const struct mbap_req q = { 0x0100, 1, CC_TABLE_HOLDING, 0, 2 };
	static const struct {
		const char *what;
		uint8_t f[13];
		size_t n;
	} v[] = {
		{ "another transaction, not a read", { 0, 0xFF, 0, 0, 0, 7, 1, 0x10, 4, 0, 1, 0, 2 }, 8 },
		{ "another transaction, longer than any reply", { 0, 0xFF, 0, 0, 0, 7, 1, 3, 252, 0, 1, 0, 2 }, 9 },
		{ "protocol high byte", { 1, 0, 1, 0, 0, 7, 1, 3, 4, 0, 1, 0, 2 }, 8 },
		{ "protocol low byte", { 1, 0, 0, 1, 0, 7, 1, 3, 4, 0, 1, 0, 2 }, 8 },
		{ "another function", { 1, 0, 0, 0, 0, 7, 1, 4, 4, 0, 1, 0, 2 }, 8 },
		{ "odd byte count", { 1, 0, 0, 0, 0, 6, 1, 3, 3, 0, 1, 0, 0 }, 9 },
		{ "byte count of 1 register", { 1, 0, 0, 0, 0, 5, 1, 3, 2, 0, 1, 0, 0 }, 9 },
		{ "byte count of 3 registers", { 1, 0, 0, 0, 0, 9, 1, 3, 6, 0, 1, 0, 2 }, 9 },
	};
	size_t need;
	uint8_t exc;

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		enum mbap_verdict got = mbap_reply(&q, v[i].f, v[i].n, &need, &exc);
		if (got != MBAP_BAD || mbap_reply(&q, v[i].f, v[i].n - 1, &need, &exc) != MBAP_MORE) {
			printf("    %s: verdict %d at %zu bytes, not MBAP_BAD (and MORE one byte before)\n", v[i].what,
			       (int)got, v[i].n);
			tl_cur_failed = 1;
		}
	}
	/* the header's length field is not what delimits a frame (as libmodbus) */
	{
		const uint8_t f[] = { 1, 0, 0, 0, 0, 0x42, 1, 3, 4, 0, 1, 0, 2 };
		CHECK_INT(mbap_reply(&q, f, sizeof(f), &need, &exc), MBAP_DONE);
		CHECK_INT(need, sizeof(f));
	}
	/* nor is the unit id compared: a gateway may answer for it with its own */
	{
		const uint8_t f[] = { 1, 0, 0, 0, 0, 7, 0xFF, 3, 4, 0, 1, 0, 2 };
		CHECK_INT(mbap_reply(&q, f, sizeof(f), &need, &exc), MBAP_DONE);
	}
}

/* A whole reply with another transaction id, of registers, bits or an
 * exception, is the late answer to an abandoned request: said with its
 * length, so that what follows it is judged on its own. */
static void test_reply_stale(void)
{
	const struct mbap_req q = { 0x0100, 1, CC_TABLE_HOLDING, 0, 1 };
	const uint8_t late_regs[] = { 0, 0xFF, 0, 0, 0, 9, 1, 3, 6, 1, 2, 3, 4, 5, 6 };
	const uint8_t late_bits[] = { 0, 0xFE, 0, 0, 0, 4, 1, 2, 1, 0x5 };
	const uint8_t late_exc[] = { 0, 0xFD, 0, 0, 0, 3, 1, 0x84, 0x0B };
	uint8_t two[sizeof(late_regs) + 11];
	const uint8_t mine[] = { 1, 0, 0, 0, 0, 5, 1, 3, 2, 0x12, 0x34 };
	size_t need;
	uint8_t exc;
	uint16_t w;

	check_prefixes(&q, late_regs, sizeof(late_regs), MBAP_STALE, sizeof(late_regs));
	check_prefixes(&q, late_bits, sizeof(late_bits), MBAP_STALE, sizeof(late_bits));
	check_prefixes(&q, late_exc, sizeof(late_exc), MBAP_STALE, sizeof(late_exc));
	/* the late reply and this one in one read: the first said stale,
	 * what follows it this request's */
	memcpy(two, late_regs, sizeof(late_regs));
	memcpy(two + sizeof(late_regs), mine, sizeof(mine));
	CHECK_INT(mbap_reply(&q, two, sizeof(two), &need, &exc), MBAP_STALE);
	CHECK_INT(need, sizeof(late_regs));
	CHECK_INT(mbap_reply(&q, two + need, sizeof(two) - need, &need, &exc), MBAP_DONE);
	mbap_registers(mine, 1, &w);
	CHECK_INT(w, 0x1234);
}

/* The largest replies fit MBAP_ADU_MAX exactly. */
static void test_reply_largest(void)
{
	uint8_t f[MBAP_ADU_MAX];
	const struct mbap_req qr = { 3, 1, CC_TABLE_HOLDING, 0, 125 };
	const struct mbap_req qb = { 3, 1, CC_TABLE_DISCRETE, 0, 2000 };
	uint16_t w[125];
	uint8_t b[2000];
	size_t need;
	uint8_t exc;

	memset(f, 0, sizeof(f));
	f[1] = 3;
	f[7] = 3;
	f[8] = 250;
	for (size_t i = 0; i < 250; i++)
		f[9 + i] = (uint8_t)i;
	CHECK_INT(mbap_reply(&qr, f, 259, &need, &exc), MBAP_DONE);
	CHECK_INT(need, 259);
	CHECK(need <= MBAP_ADU_MAX);
	mbap_registers(f, 125, w);
	CHECK_INT(w[124], 248 << 8 | 249);
	f[7] = 2;
	f[8] = 250;
	memset(f + 9, 0xFF, 250);
	CHECK_INT(mbap_reply(&qb, f, 259, &need, &exc), MBAP_DONE);
	mbap_bits(f, 2000, b);
	CHECK_INT(b[0] + b[999] + b[1999], 3);
}

int main(void)
{
	tl_prog = "mbap";
	RUN(test_request_bytes);
	RUN(test_request_limits);
	RUN(test_reply_values);
	RUN(test_reply_exceptions);
	RUN(test_reply_bad);
	RUN(test_reply_stale);
	RUN(test_reply_largest);
	return TL_DONE();
}
