/* thread.c - scheduling hints for the daemon's own threads (see thread.h):
 * sched_setattr by system call, as glibc 2.36 has no wrapper. */
#include "thread.h"

#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* include/uapi/linux/sched/types.h (SCHED_ATTR_SIZE_VER0) */
struct sched_attr_v0 {
	uint32_t size;
	uint32_t sched_policy;
	uint64_t sched_flags;
	int32_t sched_nice;
	uint32_t sched_priority;
	uint64_t sched_runtime;
	uint64_t sched_deadline;
	uint64_t sched_period;
};

static int attr_get(struct sched_attr_v0 *a)
{
	memset(a, 0, sizeof(*a));
	return (int)syscall(SYS_sched_getattr, 0, a, (unsigned)sizeof(*a), 0u);
}

int thread_prefer_latency(void)
{
	struct sched_attr_v0 a;

	if (attr_get(&a) < 0)
		return -errno;
	if (a.sched_policy != SCHED_OTHER)
		return 0; /* an administrator's choice (chrt, systemd's CPUSchedulingPolicy): kept */
	a.size = sizeof(a);
	a.sched_flags = 0; /* a.sched_nice is the thread's own: only the slice changes */
	a.sched_runtime = (uint64_t)THREAD_LATENCY_SLICE_US * 1000;
	if (syscall(SYS_sched_setattr, 0, &a, 0u) < 0)
		return -errno;
	return 0;
}

int thread_has_latency_slice(void)
{
	struct sched_attr_v0 a;

	return attr_get(&a) == 0 && a.sched_policy == SCHED_OTHER &&
	       a.sched_runtime == (uint64_t)THREAD_LATENCY_SLICE_US * 1000;
}
