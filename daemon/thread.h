/* thread.h - scheduling hints for the daemon's own threads: the alarm path
 * (alert outputs' senders, the MQTT alert publisher's network thread) asks
 * the kernel to run it soon after it wakes, unprivileged. */
#ifndef CC_THREAD_H
#define CC_THREAD_H

/* The calling thread's CFS slice, in µs, while it prefers latency. */
#define THREAD_LATENCY_SLICE_US 100

/*
 * Marks the calling thread latency-sensitive: a short scheduler slice
 * (sched_setattr's sched_runtime for SCHED_OTHER, Linux ≥ 6.12's EEVDF
 * custom slices), so that on a busy machine it preempts a long-running
 * thread when it wakes instead of waiting out that thread's slice.  Needs
 * no privilege and changes no share of the CPU (nice stays as it is).
 * 0, or -errno (ENOSYS, EINVAL on a kernel without custom slices: the
 * thread runs as before); the caller logs nothing, it is only a hint.
 */
int thread_prefer_latency(void);

/* 1 when the calling thread has the short slice (a test's check). */
int thread_has_latency_slice(void);

#endif
