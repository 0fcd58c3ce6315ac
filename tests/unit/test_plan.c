/* test_plan.c - request planning: every plan is valid (each point served
 * whole by exactly one request, limits and gaps respected) and minimal,
 * checked against an exhaustive set-cover optimum on seeded random layouts
 * and on hand-made corner cases. */
#include "../../codec/modbus_plan.h"

#include <errno.h>
#include <stdlib.h>

#include "../../daemon/util.h"
#include "testlib.h"

#define MAXP 64

static struct plan_point pts[MAXP];

/* One device's points, as the planner sees them. */
struct dev {
	const struct plan_point *points;
	size_t npoints;
};

static struct dev mkdev(size_t n)
{
	struct dev d = { .points = pts, .npoints = n };
	return d;
}

static void setp(size_t i, enum cc_table t, unsigned addr, enum cc_regtype type)
{
	pts[i] = (struct plan_point){ .table = t, .address = (uint16_t)addr, .type = type };
}

static int width(const struct plan_point *p)
{
	if (p->table == CC_TABLE_COIL || p->table == CC_TABLE_DISCRETE)
		return 1;
	switch (p->type) {
	case CC_T_INT32: case CC_T_UINT32: case CC_T_FLOAT32: return 2;
	case CC_T_INT64: case CC_T_UINT64: case CC_T_FLOAT64: return 4;
	default: return 1;
	}
}

/* 1 if the plan serves every point exactly once, whole, within limits and
 * with no unused run longer than max_gap (unused = covered by no point of
 * the table). */
static int plan_valid(const struct dev *d, const struct plan *p, int max_gap, int max_regs, int max_bits)
{
	int served[MAXP] = { 0 };

	for (size_t r = 0; r < p->nreqs; r++) {
		const struct plan_req *q = &p->reqs[r];
		int bits = q->table == CC_TABLE_COIL || q->table == CC_TABLE_DISCRETE;
		long s = q->address, e = (long)q->address + q->count - 1, run = 0;

		if (q->count < 1 || q->count > (bits ? max_bits : max_regs) || e > 65535 || q->npoints == 0)
			return 0;
		for (size_t k = 0; k < q->npoints; k++) {
			const struct plan_point *pt = &d->points[q->points[k]];
			if (pt->table != q->table || pt->address < s || pt->address + width(pt) - 1 > e)
				return 0;
			served[q->points[k]]++;
		}
		for (long a = s; a <= e; a++) {
			int used = 0;
			for (size_t i = 0; i < d->npoints && !used; i++)
				used = d->points[i].table == q->table && d->points[i].address <= a &&
				       d->points[i].address + width(&d->points[i]) - 1 >= a;
			run = used ? 0 : run + 1;
			if (run > max_gap)
				return 0;
		}
	}
	for (size_t i = 0; i < d->npoints; i++)
		if (served[i] != 1)
			return 0;
	return 1;
}

/* Exhaustive optimum for one table: every valid window [s, e] over the
 * address range, the set of points it contains whole, then the fewest
 * windows whose sets cover all points (DP over subsets). */
static int brute_force_min(const struct dev *d, enum cc_table t, int max_gap, int limit)
{
	int idx[16], n = 0, lo = 65536, hi = -1;
	static unsigned char best[1 << 16];
	unsigned masks[4096];
	int nm = 0;

	for (size_t i = 0; i < d->npoints; i++) {
		if (d->points[i].table != t)
			continue;
		idx[n++] = (int)i;
		if (d->points[i].address < lo) lo = d->points[i].address;
		if (d->points[i].address + width(&d->points[i]) - 1 > hi) hi = d->points[i].address + width(&d->points[i]) - 1;
	}
	if (n == 0)
		return 0;
	for (int s = lo; s <= hi; s++) {
		for (int e = s; e <= hi && e - s + 1 <= limit; e++) {
			int run = 0, ok = 1;
			unsigned m = 0;
			for (int a = s; a <= e && ok; a++) {
				int used = 0;
				for (int k = 0; k < n && !used; k++)
					used = d->points[idx[k]].address <= a &&
					       d->points[idx[k]].address + width(&d->points[idx[k]]) - 1 >= a;
				run = used ? 0 : run + 1;
				ok = run <= max_gap;
			}
			if (!ok)
				continue;
			for (int k = 0; k < n; k++)
				if (d->points[idx[k]].address >= s && d->points[idx[k]].address + width(&d->points[idx[k]]) - 1 <= e)
					m |= 1u << k;
			if (m && nm < 4096)
				masks[nm++] = m;
		}
	}
	unsigned full = (1u << n) - 1;
	memset(best, 0xFF, (size_t)1 << n);
	best[0] = 0;
	for (unsigned m = 0; m <= full; m++) {
		if (best[m] == 0xFF)
			continue;
		for (int w = 0; w < nm; w++) {
			unsigned to = m | masks[w];
			if (best[to] > best[m] + 1)
				best[to] = (unsigned char)(best[m] + 1);
		}
	}
	return best[full];
}

static size_t count_table(const struct plan *p, enum cc_table t)
{
	size_t n = 0;
	for (size_t i = 0; i < p->nreqs; i++)
		n += p->reqs[i].table == t;
	return n;
}

static void test_plan_is_minimal_on_random_layouts(void)
{
	static const enum cc_regtype types[] = { CC_T_INT16, CC_T_UINT16, CC_T_BOOL, CC_T_INT32, CC_T_FLOAT32,
						 CC_T_FLOAT64, CC_T_UINT64 };
	uint64_t seed = 20240612;
	int mismatches = 0, invalid = 0;

	for (int iter = 0; iter < 3000; iter++) {
		size_t n = 1 + rand_next(&seed) % 10;
		int span = 4 + (int)(rand_next(&seed) % 36);
		int max_gap = (int)(rand_next(&seed) % 5);
		int max_regs = 1 + (int)(rand_next(&seed) % 12);
		int max_bits = 1 + (int)(rand_next(&seed) % 12);
		unsigned base = (iter % 7 == 0) ? 65535u - (unsigned)span - 4 : 100;
		struct plan p;

		for (size_t i = 0; i < n; i++) {
			uint32_t r = rand_next(&seed);
			enum cc_table t = (enum cc_table)(r % 4);
			enum cc_regtype ty = types[(r >> 8) % ARRAY_SIZE(types)];
			if (t == CC_TABLE_COIL || t == CC_TABLE_DISCRETE)
				ty = CC_T_BOOL;
			setp(i, t, base + rand_next(&seed) % (unsigned)span, ty);
			if (width(&pts[i]) > (t <= CC_TABLE_DISCRETE ? max_bits : max_regs))
				setp(i, t, pts[i].address, CC_T_BOOL);
		}
		struct dev d = mkdev(n);
		if (plan_build(d.points, d.npoints, max_gap, max_regs, max_bits, &p) != 0) {
			invalid++;
			continue;
		}
		if (!plan_valid(&d, &p, max_gap, max_regs, max_bits))
			invalid++;
		for (int t = 0; t < 4; t++) {
			int lim = t <= CC_TABLE_DISCRETE ? max_bits : max_regs;
			int opt = brute_force_min(&d, (enum cc_table)t, max_gap, lim);
			if ((int)count_table(&p, (enum cc_table)t) != opt) {
				if (mismatches++ < 3)
					printf("    iter %d table %d: plan %zu requests, optimum %d\n", iter, t,
					       count_table(&p, (enum cc_table)t), opt);
			}
		}
		plan_free(&p);
	}
	CHECK_INT(invalid, 0);
	CHECK_INT(mismatches, 0);
}

static void test_gap_of_exactly_max_gap_is_bridged_and_one_more_is_not(void)
{
	struct plan p;
	struct dev d = mkdev(2);

	setp(0, CC_TABLE_HOLDING, 100, CC_T_INT16);
	setp(1, CC_TABLE_HOLDING, 104, CC_T_INT16); /* 101..103 unused: gap 3 */
	CHECK_INT(plan_build(d.points, d.npoints, 3, 125, 2000, &p), 0);
	CHECK_INT(p.nreqs, 1);
	CHECK_INT(p.reqs[0].address, 100);
	CHECK_INT(p.reqs[0].count, 5);
	CHECK_INT(p.reqs[0].npoints, 2);
	plan_free(&p);
	CHECK_INT(plan_build(d.points, d.npoints, 2, 125, 2000, &p), 0);
	CHECK_INT(p.nreqs, 2);
	plan_free(&p);
	/* max_gap 0 still joins adjacent points */
	setp(1, CC_TABLE_HOLDING, 101, CC_T_FLOAT32);
	CHECK_INT(plan_build(d.points, d.npoints, 0, 125, 2000, &p), 0);
	CHECK_INT(p.nreqs, 1);
	CHECK_INT(p.reqs[0].count, 3);
	plan_free(&p);
}

static void test_point_ending_at_65535_is_planned_and_past_it_rejected(void)
{
	struct plan p;
	struct dev d = mkdev(2);

	setp(0, CC_TABLE_INPUT, 65530, CC_T_INT16);
	setp(1, CC_TABLE_INPUT, 65532, CC_T_FLOAT64); /* 65532..65535 */
	CHECK_INT(plan_build(d.points, d.npoints, 1, 125, 2000, &p), 0);
	CHECK_INT(p.nreqs, 1);
	CHECK_INT(p.reqs[0].address, 65530);
	CHECK_INT(p.reqs[0].count, 6);
	plan_free(&p);
	setp(1, CC_TABLE_INPUT, 65533, CC_T_FLOAT64);
	CHECK_INT(plan_build(d.points, d.npoints, 1, 125, 2000, &p), -EINVAL);
	CHECK_INT(p.nreqs, 0);
	setp(1, CC_TABLE_COIL, 65535, CC_T_BOOL);
	CHECK_INT(plan_build(d.points, d.npoints, 1, 125, 2000, &p), 0);
	CHECK_INT(p.nreqs, 2);
	plan_free(&p);
}

static void test_64bit_point_straddling_the_limit_starts_a_new_request(void)
{
	struct plan p;
	struct dev d = mkdev(3);

	setp(0, CC_TABLE_HOLDING, 0, CC_T_INT16);
	setp(1, CC_TABLE_HOLDING, 121, CC_T_INT16);
	setp(2, CC_TABLE_HOLDING, 122, CC_T_FLOAT64); /* 122..125: one past a 125-register window */
	CHECK_INT(plan_build(d.points, d.npoints, 200, 125, 2000, &p), 0);
	CHECK_INT(p.nreqs, 2);
	CHECK_INT(p.reqs[0].address, 0);
	CHECK_INT(p.reqs[0].count, 122);
	CHECK_INT(p.reqs[0].npoints, 2);
	CHECK_INT(p.reqs[1].address, 122);
	CHECK_INT(p.reqs[1].count, 4);
	plan_free(&p);
	setp(2, CC_TABLE_HOLDING, 121, CC_T_FLOAT64); /* 121..124 fits */
	CHECK_INT(plan_build(d.points, d.npoints, 200, 125, 2000, &p), 0);
	CHECK_INT(p.nreqs, 1);
	CHECK_INT(p.reqs[0].count, 125);
	plan_free(&p);
}

static void test_overlapping_points_share_one_request(void)
{
	struct plan p;
	struct dev d = mkdev(4);

	setp(0, CC_TABLE_HOLDING, 10, CC_T_FLOAT32); /* 10..11 */
	setp(1, CC_TABLE_HOLDING, 11, CC_T_INT16);
	setp(2, CC_TABLE_HOLDING, 10, CC_T_BOOL); /* bits 3 and 4 of register 10: */
	setp(3, CC_TABLE_HOLDING, 10, CC_T_BOOL); /* the planner sees the register */
	CHECK_INT(plan_build(d.points, d.npoints, 0, 125, 2000, &p), 0);
	CHECK_INT(p.nreqs, 1);
	CHECK_INT(p.reqs[0].address, 10);
	CHECK_INT(p.reqs[0].count, 2);
	CHECK_INT(p.reqs[0].npoints, 4);
	plan_free(&p);
}

static void test_overlapping_points_wider_than_the_limit_get_overlapping_requests(void)
{
	struct plan p;
	struct dev d = mkdev(3);

	setp(0, CC_TABLE_HOLDING, 0, CC_T_INT32); /* 0..1 */
	setp(1, CC_TABLE_HOLDING, 1, CC_T_INT64); /* 1..4 */
	setp(2, CC_TABLE_HOLDING, 2, CC_T_INT16);
	CHECK_INT(plan_build(d.points, d.npoints, 0, 4, 2000, &p), 0);
	CHECK_INT(p.nreqs, 2);
	CHECK(plan_valid(&d, &p, 0, 4, 2000));
	plan_free(&p);
}

static void test_limit_one_reads_one_register_per_request(void)
{
	struct plan p;
	struct dev d = mkdev(3);

	setp(0, CC_TABLE_INPUT, 0, CC_T_INT16);
	setp(1, CC_TABLE_INPUT, 1, CC_T_INT16);
	setp(2, CC_TABLE_INPUT, 2, CC_T_UINT16);
	CHECK_INT(plan_build(d.points, d.npoints, 10, 1, 1, &p), 0);
	CHECK_INT(p.nreqs, 3);
	plan_free(&p);
	setp(2, CC_TABLE_INPUT, 2, CC_T_FLOAT32);
	CHECK_INT(plan_build(d.points, d.npoints, 10, 1, 1, &p), -EINVAL);
	setp(0, CC_TABLE_COIL, 0, CC_T_BOOL);
	setp(1, CC_TABLE_COIL, 1, CC_T_BOOL);
	setp(2, CC_TABLE_DISCRETE, 0, CC_T_BOOL);
	CHECK_INT(plan_build(d.points, d.npoints, 10, 1, 1, &p), 0);
	CHECK_INT(p.nreqs, 3);
	plan_free(&p);
	CHECK_INT(plan_build(d.points, d.npoints, 10, 1, 2, &p), 0);
	CHECK_INT(p.nreqs, 2);
	plan_free(&p);
}

static void test_tables_are_planned_separately(void)
{
	struct plan p;
	struct dev d = mkdev(4);

	setp(0, CC_TABLE_HOLDING, 0, CC_T_INT16);
	setp(1, CC_TABLE_INPUT, 1, CC_T_INT16);
	setp(2, CC_TABLE_COIL, 0, CC_T_BOOL);
	setp(3, CC_TABLE_DISCRETE, 0, CC_T_BOOL);
	CHECK_INT(plan_build(d.points, d.npoints, 10, 125, 2000, &p), 0);
	CHECK_INT(p.nreqs, 4);
	plan_free(&p);
}

static void test_plan_prints_one_line_per_request(void)
{
	struct plan p;
	struct dev d = mkdev(6);
	char buf[512] = "";
	FILE *f = fmemopen(buf, sizeof(buf) - 1, "w");

	for (int i = 0; i < 5; i++)
		setp((size_t)i, CC_TABLE_HOLDING, 100 + 8u * (unsigned)i, CC_T_FLOAT64);
	setp(5, CC_TABLE_COIL, 7, CC_T_BOOL);
	CHECK_INT(plan_build(d.points, d.npoints, 4, 125, 2000, &p), 0);
	plan_print(&p, f, "  # ");
	fclose(f);
	CHECK_STR(buf, "  # coil 7..7 (1 bit, 1 point)\n"
		       "  # holding 100..135 (36 regs, 5 points)\n");
	plan_free(&p);
}

static void test_empty_device_has_an_empty_plan(void)
{
	struct plan p;
	struct dev d = mkdev(0);

	CHECK_INT(plan_build(d.points, d.npoints, 0, 125, 2000, &p), 0);
	CHECK_INT(p.nreqs, 0);
	plan_free(&p);
	CHECK_INT(plan_build(d.points, d.npoints, -1, 125, 2000, &p), -EINVAL);
	CHECK_INT(plan_build(d.points, d.npoints, 0, 0, 2000, &p), -EINVAL);
}

int main(void)
{
	tl_prog = "unit/plan";
	RUN(test_plan_is_minimal_on_random_layouts);
	RUN(test_gap_of_exactly_max_gap_is_bridged_and_one_more_is_not);
	RUN(test_point_ending_at_65535_is_planned_and_past_it_rejected);
	RUN(test_64bit_point_straddling_the_limit_starts_a_new_request);
	RUN(test_overlapping_points_share_one_request);
	RUN(test_overlapping_points_wider_than_the_limit_get_overlapping_requests);
	RUN(test_limit_one_reads_one_register_per_request);
	RUN(test_tables_are_planned_separately);
	RUN(test_plan_prints_one_line_per_request);
	RUN(test_empty_device_has_an_empty_plan);
	return TL_DONE();
}
