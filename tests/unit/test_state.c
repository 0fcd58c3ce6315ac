/* test_state.c - snapshot files: what is written is read back whole; a
 * snapshot past STATE_MAX_BYTES is neither written nor read (never
 * allocated); something that is not a regular file is refused without
 * blocking. */
#include "../../daemon/state.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../daemon/util.h"
#include "testlib.h"

static char dir[64];

static void remove_dir(void)
{
	if (dir[0])
		tl_rmtree(dir);
}

static void fresh_dir(void)
{
	remove_dir();
	if (tl_mkdtemp(dir, sizeof(dir), "test-state") < 0)
		abort();
}

static void test_a_snapshot_is_read_back_whole(void)
{
	char *buf = NULL;
	size_t len = 0;

	fresh_dir();
	CHECK_INT(state_read(dir, "engine.state", &buf, &len), -ENOENT);
	CHECK_INT(state_write(dir, "engine.state", "{\"version\":1}", 13), 0);
	CHECK_INT(state_read(dir, "engine.state", &buf, &len), 0);
	CHECK_INT(len, 13);
	CHECK_STR(buf, "{\"version\":1}");
	free(buf);
}

static void test_a_snapshot_past_the_bound_is_neither_written_nor_read(void)
{
	char path[128], *buf = NULL;
	size_t len = 0;
	int fd;

	fresh_dir();
	CHECK_INT(state_write(dir, "engine.state", "{}", 2), 0);
	buf = calloc(1, STATE_MAX_BYTES + 1);
	CHECK_INT(state_write(dir, "engine.state", buf, STATE_MAX_BYTES + 1), -EFBIG);
	free(buf);
	buf = NULL;
	CHECK_INT(state_read(dir, "engine.state", &buf, &len), 0); /* the old one stays */
	CHECK_STR(buf, "{}");
	free(buf);
	buf = NULL;

	/* a file grown past it (sparse: nothing to read, only its size) */
	snprintf(path, sizeof(path), "%s/engine.state", dir);
	fd = open(path, O_WRONLY);
	CHECK(fd >= 0 && ftruncate(fd, (off_t)STATE_MAX_BYTES + 1) == 0);
	close(fd);
	CHECK_INT(state_read(dir, "engine.state", &buf, &len), -EFBIG);
	CHECK(buf == NULL);
	/* just at the bound it is read */
	fd = open(path, O_WRONLY);
	CHECK(fd >= 0 && ftruncate(fd, (off_t)STATE_MAX_BYTES) == 0);
	close(fd);
	CHECK_INT(state_read(dir, "engine.state", &buf, &len), 0);
	CHECK(len == STATE_MAX_BYTES);
	free(buf);
}

static void test_a_fifo_or_directory_is_refused_without_blocking(void)
{
	char path[128], *buf = NULL;
	size_t len = 0;

	fresh_dir();
	snprintf(path, sizeof(path), "%s/engine.state", dir);
	CHECK_INT(mkfifo(path, 0600), 0);
	CHECK_INT(state_read(dir, "engine.state", &buf, &len), -EINVAL); /* would block forever if opened plainly */
	unlink(path);
	CHECK_INT(mkdir(path, 0700), 0);
	CHECK_INT(state_read(dir, "engine.state", &buf, &len), -EINVAL);
	CHECK(buf == NULL);
}

int main(void)
{
	tl_prog = "unit/state";
	RUN(test_a_snapshot_is_read_back_whole);
	RUN(test_a_snapshot_past_the_bound_is_neither_written_nor_read);
	RUN(test_a_fifo_or_directory_is_refused_without_blocking);
	remove_dir();
	return TL_DONE();
}
