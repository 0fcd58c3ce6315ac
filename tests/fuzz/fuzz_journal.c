/* fuzz_journal.c - journal recovery must survive any bytes in a segment
 * file: the in-memory scan never reads outside the buffer, and a real
 * journal_open() on the file (recovery: truncate, skip, set aside) followed
 * by reading every record back never crashes, never loops, and hands out
 * only records whose CRC holds. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../daemon/journal.h"
#include "../../daemon/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64];

static void clean(void)
{
	char cmd[96];

	snprintf(cmd, sizeof(cmd), "rm -f %s/* 2>/dev/null", dir);
	if (system(cmd) != 0)
		return;
}

static void count_rec(const struct journal_rec *r, void *arg)
{
	size_t *n = arg;

	if (r->end_lsn <= r->lsn)
		abort();
	(*n)++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct journal_conf jc = { .dir = dir, .max_size = 1 << 22, .segment_size = 1 << 20, .fsync_ms = 60000 };
	struct journal_scan sc;
	struct journal *j;
	struct journal_consumer *c;
	struct journal_rec r;
	uint8_t *withhdr;
	size_t n = 0, got = 0;
	char path[128];
	int fd;

	if (!dir[0]) {
		log_open(LOG_TARGET_STDERR, LOG_LVL_ERR);
		snprintf(dir, sizeof(dir), "/tmp/cc-fuzz-journal-XXXXXX");
		if (!mkdtemp(dir))
			abort();
	}
	/* as given, and behind a valid segment header (so records get parsed) */
	journal_scan_buffer(data, size, 0, count_rec, &n, &sc);
	withhdr = malloc(size + JOURNAL_SEG_HDR);
	journal_encode_seg_header(withhdr, 0);
	memcpy(withhdr + JOURNAL_SEG_HDR, data, size);
	if (journal_scan_buffer(withhdr, size + JOURNAL_SEG_HDR, 0, count_rec, &n, &sc) != 0 ||
	    sc.valid_end > size + JOURNAL_SEG_HDR)
		abort();

	/* the real recovery, on a file */
	clean();
	snprintf(path, sizeof(path), "%s/0000000000000000.seg", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		abort();
	if (write(fd, (size && (data[0] & 1)) ? withhdr : data, (size && (data[0] & 1)) ? size + JOURNAL_SEG_HDR : size) < 0)
		abort();
	close(fd);
	free(withhdr);
	j = journal_open(&jc);
	if (!j)
		abort();
	c = journal_consumer_open(j, "f", "fuzz", 1, NULL, NULL);
	while (journal_next(c, &r) == 1) {
		if (r.end_lsn <= r.lsn || r.len > JOURNAL_MAX_RECORD || ++got > size)
			abort();
		journal_commit(c, r.end_lsn, r.end_seq);
	}
	journal_append(j, JOURNAL_LINES, "m v=1 1\n", 8, 1);
	if (journal_next(c, &r) != 1 || r.len != 8 || memcmp(r.data, "m v=1 1\n", 8) != 0)
		abort(); /* and the journal works after it */
	journal_close(j);
	return 0;
}
