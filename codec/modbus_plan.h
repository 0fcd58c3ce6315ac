/* modbus_plan.h - request planning: per device and table, coalesce points
 * into the fewest read requests allowed by max_gap (unused registers/bits
 * that may be read to join two runs) and the per-request maximum.  Pure. */
#ifndef CC_MODBUS_PLAN_H
#define CC_MODBUS_PLAN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "modbus_types.h"

/* What planning reads of a point: where it lies, and its type for its
 * width (a point on a coil/discrete table is one bit whatever its type). */
struct plan_point {
	enum cc_table table;
	uint16_t address;
	enum cc_regtype type;
};

struct plan_req {
	enum cc_table table;
	uint16_t address; /* first register / bit */
	uint16_t count;   /* registers or bits */
	size_t *points;   /* indexes into the planned points, served by this request */
	size_t npoints;
};

struct plan {
	struct plan_req *reqs;
	size_t nreqs;
};

/*
 * Builds the plan for one device's points[0..npoints) with the given limits
 * (config_plan_device() plans a configured device).  Points that
 * overlap or share registers are served by one request (unless together
 * they exceed the limit: then by overlapping requests).  max_gap counts
 * addresses that no point of the device's table covers; addresses of other
 * points may always be read, since the configuration says they exist.  Returns 0 or
 * -ENOMEM / -EINVAL (a point wider than max per request).
 * The plan is minimal: no plan for these points, gap and limit has fewer
 * requests (greedy left-to-right over sorted spans is optimal for this
 * interval-cover problem; the unit tests check it against brute force).
 */
int plan_build(const struct plan_point *points, size_t npoints, int max_gap, int max_registers, int max_bits,
	       struct plan *out);
void plan_free(struct plan *p);
/* One line per request: "holding 100..131 (32 regs, 5 points)". */
void plan_print(const struct plan *p, FILE *f, const char *indent);

#endif
