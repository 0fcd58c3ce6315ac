/* bench_lineproto.c - line-protocol encoding on one core: a typical
 * reading (5 tags, one float field, a timestamp), points per second and
 * bytes per point. */
#include <stdio.h>
#include <time.h>

#include "../../daemon/util.h"
#include "../../codec/lineproto.h"

int main(void)
{
	struct lp_tag tags[] = { { "channel", "temperature" }, { "room", "A" }, { "sensor", "th-a1" },
				 { "site", "lucngan-packhouse-1" }, { "unit", "C" } };
	struct lp_field f = { .key = "value", .type = LP_FLOAT };
	struct lp_buf b;
	const long n = 5000000;
	size_t bytes = 0;
	struct timespec t0, t1;
	int64_t ts = 1780000000000000000LL;

	lp_buf_init(&b);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
	for (long i = 0; i < n; i++) {
		f.v.f = 3.5 + (double)(i % 1000) * 0.01;
		lp_encode(&b, "temperature", tags, ARRAY_SIZE(tags), &f, 1, ts + i * 1000000000LL);
		if (b.len > (1 << 20)) {
			bytes += b.len;
			lp_buf_reset(&b);
		}
	}
	bytes += b.len;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
	double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("  encode: %ld points in %.2f s CPU: %.0f points/s, %.0f ns/point, %.1f bytes/point\n", n, s,
	       (double)n / s, s * 1e9 / (double)n, (double)bytes / (double)n);
	lp_buf_free(&b);
	return 0;
}
