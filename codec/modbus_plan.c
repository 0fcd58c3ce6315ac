/* modbus_plan.c - coalesces a device's points into the fewest read requests
 * the gap and size limits allow.  Pure: the Modbus worker calls it once per
 * device (and again with max_gap 0 when a device refuses a bridged gap).
 *
 * The model.  Per table, each point is a span [start, end] of registers (or
 * one bit).  An address is "used" when any point of that table covers it;
 * a request is a window [s, e] with e - s + 1 <= limit in which every run of
 * unused addresses is at most max_gap long.  A point is served by a request
 * that contains it whole.  Used addresses are those the configuration says
 * exist, so reading them is safe even when they serve a point of another
 * request; only unused runs risk "Illegal data address".
 *
 * Why greedy is optimal here: a sub-window of a valid window is valid (its
 * unused runs are pieces of the bigger one's), so for the unserved point p
 * with the lowest start, some optimal plan has a window starting exactly at
 * p.start (shift its start right: still valid, still holds every unserved
 * point since none starts earlier), and stretching that window's end as far
 * as the limits allow only serves more points.  Windows may overlap when
 * overlapping points do not fit one request together.  tests/unit/test_plan.c
 * checks this against an exhaustive set-cover optimum on random layouts. */
#include "modbus_plan.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct span {
	size_t idx;    /* into points[] */
	int32_t start; /* inclusive */
	int32_t end;   /* inclusive */
};

static int is_bit_table(enum cc_table t)
{
	return t == CC_TABLE_COIL || t == CC_TABLE_DISCRETE;
}

static int point_width(const struct plan_point *p)
{
	return is_bit_table(p->table) ? 1 : regtype_words(p->type);
}

static int span_cmp(const void *a, const void *b)
{
	const struct span *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	if (x->end != y->end)
		return x->end < y->end ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static int add_req(struct plan *out, size_t *cap, enum cc_table t, int32_t s, int32_t e, size_t *pts, size_t n)
{
	if (out->nreqs == *cap) {
		size_t ncap = *cap ? *cap * 2 : 8;
		struct plan_req *r = realloc(out->reqs, ncap * sizeof(*r));
		if (!r)
			return -ENOMEM;
		out->reqs = r;
		*cap = ncap;
	}
	out->reqs[out->nreqs++] = (struct plan_req){
		.table = t, .address = (uint16_t)s, .count = (uint16_t)(e - s + 1), .points = pts, .npoints = n,
	};
	return 0;
}

/* Reach: from sp[i].start a window may extend up to the end of the last
 * used run it can get to without crossing an unused run longer than
 * max_gap.  Used runs are the merged spans of sp[0..n) (sorted by start);
 * reach is computed right to left over them.  Fills run_s/run_e (run_e
 * becomes the reach) and run_of[i], sp[i]'s run. */
static void plan_reach(const struct span *sp, size_t n, int max_gap, int32_t *run_s, int32_t *run_e,
		       size_t *run_of)
{
	size_t nruns = 0, k = 0;

	while (k < n) {
		run_s[nruns] = sp[k].start;
		run_e[nruns] = sp[k].end;
		while (k < n && sp[k].start <= run_e[nruns] + 1) {
			if (sp[k].end > run_e[nruns])
				run_e[nruns] = sp[k].end;
			run_of[k++] = nruns;
		}
		nruns++;
	}
	for (size_t r = nruns - 1; r-- > 0;)
		if (run_s[r + 1] - run_e[r] - 1 <= max_gap)
			run_e[r] = run_e[r + 1];
}

/* Plans one table: sp[0..n) sorted by start. */
static int plan_table(enum cc_table t, struct span *sp, size_t n, int max_gap, int limit, struct plan *out,
		      size_t *cap)
{
	char *done = NULL;
	int32_t *run_s = NULL, *run_e = NULL; /* used runs; run_e becomes the reach */
	size_t *run_of = NULL;
	size_t left = n;
	int rc = 0;

	if (n == 0)
		return 0;
	done = calloc(n, 1);
	run_s = malloc(n * sizeof(*run_s));
	run_e = malloc(n * sizeof(*run_e));
	run_of = malloc(n * sizeof(*run_of));
	if (!done || !run_s || !run_e || !run_of) {
		rc = -ENOMEM;
		goto out;
	}

	plan_reach(sp, n, max_gap, run_s, run_e, run_of);
	for (size_t i = 0; i < n && left > 0; i++) {
		int32_t s, e_limit, e = -1;
		size_t cnt = 0, *pts;

		if (done[i])
			continue;
		s = sp[i].start;
		e_limit = s + limit - 1;
		if (run_e[run_of[i]] < e_limit)
			e_limit = run_e[run_of[i]];
		for (size_t j = i; j < n && sp[j].start <= e_limit; j++)
			if (!done[j] && sp[j].end <= e_limit)
				cnt++;
		/* sp[i] itself always fits: its width <= limit was checked and it
		 * lies in one used run. */
		pts = malloc(cnt * sizeof(*pts));
		if (!pts) {
			rc = -ENOMEM;
			goto out;
		}
		cnt = 0;
		for (size_t j = i; j < n && sp[j].start <= e_limit; j++) {
			if (!done[j] && sp[j].end <= e_limit) {
				done[j] = 1;
				left--;
				pts[cnt++] = sp[j].idx;
				if (sp[j].end > e)
					e = sp[j].end;
			}
		}
		rc = add_req(out, cap, t, s, e, pts, cnt);
		if (rc < 0) {
			free(pts);
			goto out;
		}
	}
out:
	free(done);
	free(run_s);
	free(run_e);
	free(run_of);
	return rc;
}

int plan_build(const struct plan_point *points, size_t npoints, int max_gap, int max_registers, int max_bits,
	       struct plan *out)
{
	static const enum cc_table tables[] = { CC_TABLE_COIL, CC_TABLE_DISCRETE, CC_TABLE_HOLDING, CC_TABLE_INPUT };
	struct span *sp = NULL;
	size_t cap = 0;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (max_gap < 0 || max_registers < 1 || max_bits < 1)
		return -EINVAL;
	if (npoints == 0)
		return 0;
	sp = malloc(npoints * sizeof(*sp));
	if (!sp)
		return -ENOMEM;

	for (size_t ti = 0; ti < sizeof(tables) / sizeof(tables[0]); ti++) {
		enum cc_table t = tables[ti];
		int limit = is_bit_table(t) ? max_bits : max_registers;
		size_t n = 0;

		for (size_t i = 0; i < npoints; i++) {
			const struct plan_point *p = &points[i];
			int w;

			if (p->table != t)
				continue;
			w = point_width(p);
			if (w > limit || (int32_t)p->address + w - 1 > 65535) {
				rc = -EINVAL;
				goto out;
			}
			sp[n++] = (struct span){ .idx = i, .start = p->address, .end = (int32_t)p->address + w - 1 };
		}
		qsort(sp, n, sizeof(*sp), span_cmp);
		rc = plan_table(t, sp, n, max_gap, limit, out, &cap);
		if (rc < 0)
			goto out;
	}
out:
	free(sp);
	if (rc < 0)
		plan_free(out);
	return rc;
}

void plan_free(struct plan *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nreqs; i++)
		free(p->reqs[i].points);
	free(p->reqs);
	p->reqs = NULL;
	p->nreqs = 0;
}

void plan_print(const struct plan *p, FILE *f, const char *indent)
{
	for (size_t i = 0; i < p->nreqs; i++) {
		const struct plan_req *r = &p->reqs[i];
		int bits = is_bit_table(r->table);

		fprintf(f, "%s%s %u..%u (%u %s, %zu %s)\n", indent ? indent : "", table_name(r->table),
			(unsigned)r->address, (unsigned)r->address + r->count - 1, (unsigned)r->count,
			bits ? (r->count == 1 ? "bit" : "bits") : (r->count == 1 ? "reg" : "regs"), r->npoints,
			r->npoints == 1 ? "point" : "points");
	}
}
