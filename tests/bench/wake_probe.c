/* wake_probe.c - what this machine charges a Modbus transaction beyond the
 * gateway's turnaround (bench_modbus.sh, issue 18 target 6).  A transaction
 * is a request written to a peer blocked on its socket, the peer's sleep of
 * the turnaround, and its reply to a thread blocked on the socket: the
 * sleep's overshoot and the two wake-ups on a socket are the machine's, not
 * the daemon's.  This measures both with nothing else in the way, ROUNDS
 * times: a child echoes one byte on a socketpair; the parent sleeps the
 * turnaround (the cores go idle, as between transactions), then times the
 * byte's round trip.  Prints the sleep's overshoot and the round trip, p50
 * and p90, in microseconds.
 * Usage: wake_probe [TURNAROUND_MS] [ROUNDS] */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	long turn_ms = argc > 1 ? atol(argv[1]) : 5, rounds = argc > 2 ? atol(argv[2]) : 200;
	double *over, *rtt;
	int sv[2];
	pid_t pid;
	char b = 'x';

	if (turn_ms < 0 || turn_ms > 1000 || rounds < 10 || rounds > 100000) {
		fprintf(stderr, "usage: wake_probe [TURNAROUND_MS 0..1000] [ROUNDS 10..100000]\n");
		return 2;
	}
	over = calloc((size_t)rounds, sizeof(*over));
	rtt = calloc((size_t)rounds, sizeof(*rtt));
	if (!over || !rtt || socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0) {
		perror("wake_probe");
		return 1;
	}
	pid = fork();
	if (pid < 0) {
		perror("wake_probe: fork");
		return 1;
	}
	if (pid == 0) { /* the peer: blocked on its socket, echoes */
		close(sv[0]);
		while (read(sv[1], &b, 1) == 1)
			if (write(sv[1], &b, 1) != 1)
				break;
		_exit(0);
	}
	close(sv[1]);
	for (long i = 0; i < rounds; i++) {
		struct timespec ts = { turn_ms / 1000, (turn_ms % 1000) * 1000000L };
		double t0 = now_us(), t1;

		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
		t1 = now_us();
		over[i] = t1 - t0 - (double)turn_ms * 1000.0;
		if (write(sv[0], &b, 1) != 1 || read(sv[0], &b, 1) != 1) {
			perror("wake_probe: the peer");
			kill(pid, SIGKILL);
			return 1;
		}
		rtt[i] = now_us() - t1;
	}
	close(sv[0]);
	waitpid(pid, NULL, 0);
	qsort(over, (size_t)rounds, sizeof(*over), cmp);
	qsort(rtt, (size_t)rounds, sizeof(*rtt), cmp);
	printf("sleep_overshoot_us p50 %.1f p90 %.1f; round_trip_us p50 %.1f p90 %.1f; rounds %ld, sleep %ld ms\n",
	       over[rounds / 2], over[rounds * 9 / 10], rtt[rounds / 2], rtt[rounds * 9 / 10], rounds, turn_ms);
	free(over);
	free(rtt);
	return 0;
}
