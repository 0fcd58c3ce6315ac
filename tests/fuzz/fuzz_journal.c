/* fuzz_journal.c - journal recovery must survive any bytes in a segment
 * file: the in-memory scan never reads outside the buffer, and a real
 * journal_open() on the file (recovery: truncate, skip, set aside) followed
 * by reading every record back never crashes, never loops, and hands out
 * only records whose CRC holds.
 *
 * The file is the input itself when it starts with a segment header, else
 * the input behind a valid header.  Every input gets both in-memory scans
 * (~10 us); the real open costs ~1 ms under ASan (a thread, a position file
 * written twice, a 256 KiB read buffer, an mmap per corrupt record), so it
 * runs on:
 *  - every image of at most FIXED_PATH_MAX bytes;
 *  - one in OPEN_EVERY of the longer images that hold a record or a corrupt
 *    region (chosen by a CRC of the input: the same input always does);
 *  - no longer image without either (or with a bad header): recovery takes
 *    one fixed path for those whatever their bytes (truncate to the header;
 *    set aside), already taken by the short ones.
 * libFuzzer runs print how many inputs ran the real open.  The directory is
 * on /dev/shm, emptied with unlink(). */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "../../daemon/journal.h"
#include "../../daemon/log.h"
#include "fuzz_dir.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FIXED_PATH_MAX 64
#define OPEN_EVERY 4

static char dir[64];
static int libfuzzer;
static unsigned long long inputs, opens;

static void clean(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[sizeof(dir) + sizeof(e->d_name) + 1];

	while (d && (e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		unlink(path);
	}
	if (d)
		closedir(d);
}

static void remove_dir(void)
{
	fuzz_dir_remove(dir);
	if (libfuzzer)
		fprintf(stderr, "fuzz_journal: the real journal_open() ran on %llu of %llu inputs\n", opens, inputs);
}

/* Called by libFuzzer only (not by the corpus replayer of make test). */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	libfuzzer = 1;
	return 0;
}

static void count_rec(const struct journal_rec *r, void *arg)
{
	size_t *n = arg;

	if (r->end_lsn <= r->lsn)
		abort();
	(*n)++;
}

/* journal_open() on a directory holding only 0000000000000000.seg = img,
 * then every record read back, then one append read back. */
static void recover_file(const uint8_t *img, size_t len)
{
	struct journal_conf jc = { .dir = dir, .max_size = 1 << 22, .segment_size = 1 << 20, .fsync_ms = 60000 };
	struct journal *j;
	struct journal_consumer *c;
	struct journal_rec r;
	size_t got = 0;
	char path[128];
	int fd;

	clean();
	snprintf(path, sizeof(path), "%s/0000000000000000.seg", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, img, len) != (ssize_t)len)
		abort();
	close(fd);
	j = journal_open(&jc);
	if (!j)
		abort();
	c = journal_consumer_open(j, "f", "fuzz", 1, NULL, NULL);
	while (journal_next(c, &r) == 1) {
		if (r.end_lsn <= r.lsn || r.len > JOURNAL_MAX_RECORD || ++got > len)
			abort();
		journal_commit(c, r.end_lsn, r.end_seq);
	}
	journal_append(j, JOURNAL_LINES, "m v=1 1\n", 8, 1);
	if (journal_next(c, &r) != 1 || r.len != 8 || memcmp(r.data, "m v=1 1\n", 8) != 0)
		abort(); /* and the journal works after it */
	journal_close(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct journal_scan sc, sc2;
	uint8_t *withhdr;
	const uint8_t *img;
	size_t n = 0, len;
	int rc;

	if (!dir[0]) {
		log_open(LOG_TARGET_STDERR, LOG_LVL_ERR);
		fuzz_dir_make(dir, sizeof(dir), "journal");
		atexit(remove_dir);
	}
	/* as given, and behind a valid segment header (so records get parsed) */
	rc = journal_scan_buffer(data, size, 0, count_rec, &n, &sc);
	if (rc == 0 && sc.valid_end > size)
		abort();
	withhdr = malloc(size + JOURNAL_SEG_HDR);
	journal_encode_seg_header(withhdr, 0);
	memcpy(withhdr + JOURNAL_SEG_HDR, data, size);
	if (journal_scan_buffer(withhdr, size + JOURNAL_SEG_HDR, 0, count_rec, &n, &sc2) != 0 ||
	    sc2.valid_end > size + JOURNAL_SEG_HDR)
		abort();
	if (size < 8 || memcmp(data, withhdr, 8) != 0) {
		img = withhdr; /* no segment header of its own */
		len = size + JOURNAL_SEG_HDR;
		rc = 0;
		sc = sc2;
	} else {
		img = data;
		len = size;
	}
	inputs++;
	if (len <= FIXED_PATH_MAX ||
	    (rc == 0 && (sc.records || sc.corrupt) && crc32(0L, data, (uInt)size) % OPEN_EVERY == 0)) {
		opens++;
		recover_file(img, len);
	}
	free(withhdr);
	return 0;
}
