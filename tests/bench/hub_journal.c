/* hub_journal - a helper of bench_hub.sh: fills a journal directory to SIZE
 * MiB with the hub's points through the journal's own API (journal_open /
 * journal_append, what the daemon's pipeline writes), so the bench can time
 * the daemon's start-up with a full journal to recover without waiting for
 * an outage to fill it.  Usage: hub_journal DIR SIZE_MIB */
#include <stdio.h>
#include <stdlib.h>

#include "../../daemon/journal.h"
#include "../../daemon/log.h"

#define PER_RECORD 50

int main(int argc, char **argv)
{
	struct journal_conf jc;
	struct journal_stats st = { 0 };
	struct journal *j;
	char buf[PER_RECORD * 160];
	long mib, i = 0;

	if (argc != 3 || (mib = atol(argv[2])) <= 0) {
		fprintf(stderr, "usage: hub_journal DIR SIZE_MIB\n");
		return 2;
	}
	log_open(LOG_TARGET_STDERR, LOG_LVL_WARN);
	jc.dir = argv[1];
	jc.max_size = ((uint64_t)mib + 256) << 20;
	jc.segment_size = 64u << 20;
	jc.fsync_ms = 1000;
	if (!(j = journal_open(&jc))) {
		perror(argv[1]);
		return 1;
	}
	do {
		size_t n = 0;

		for (int k = 0; k < PER_RECORD; k++)
			n += (size_t)snprintf(buf + n, sizeof(buf) - n,
					      "temperature,channel=s%04ld-k%02d/temperature,room=r%04ld,sensor=s%04ld-k%02d,"
					      "site=s%04ld,unit=C value=%ld.25 %ld\n",
					      i % 2000, k, i % 2000, i % 2000, k, i % 2000, i % 10,
					      1780000000000000000L + i * 1000000000L);
		if (journal_append(j, JOURNAL_LINES, buf, n, PER_RECORD) < 0) {
			perror("journal_append");
			return 1;
		}
		if ((++i & 1023) == 0)
			journal_get_stats(j, &st);
	} while (st.bytes < (uint64_t)mib << 20);
	journal_close(j);
	printf("%.0f MiB in %llu segments\n", (double)st.bytes / (1 << 20), (unsigned long long)st.segments);
	return 0;
}
