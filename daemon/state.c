/* state.c - atomic snapshot files in the state directory: write a
 * temporary, fsync it, rename it over the old one, fsync the directory;
 * binary ones sealed with a CRC-32 (zlib's). */
#include "state.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h> /* rename */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"
#include "../util/crc.h"

/* The pieces one after another into dir/name, atomically. */
static int write_pieces(const char *dir, const char *name, const void *const *data, const size_t *len, int n)
{
	char *tmp = xasprintf("%s/%s.tmp", dir, name), *dst = xasprintf("%s/%s", dir, name);
	int fd, dfd, rc = 0;
	size_t total = 0;

	for (int i = 0; i < n; i++)
		total += len[i];
	if (total > STATE_MAX_BYTES) {
		rc = -EFBIG;
		goto out;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = -errno;
		goto out;
	}
	for (int i = 0; i < n && rc == 0; i++) {
		size_t off = 0;
		while (off < len[i]) {
			ssize_t w = write(fd, (const char *)data[i] + off, len[i] - off);
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0) {
				rc = -errno;
				break;
			}
			off += (size_t)w;
		}
	}
	if (rc == 0 && fsync(fd) < 0)
		rc = -errno;
	close(fd);
	if (rc < 0) {
		unlink(tmp);
		goto out;
	}
	if (rename(tmp, dst) < 0) {
		rc = -errno;
		unlink(tmp);
		goto out;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
out:
	free(tmp);
	free(dst);
	return rc;
}

int state_write(const char *dir, const char *name, const char *data, size_t len)
{
	const void *d[] = { data };

	return write_pieces(dir, name, d, &len, 1);
}

static uint32_t crc_of(const void *data, size_t len)
{
	return (uint32_t)crc32_span(crc32(0L, Z_NULL, 0), data, len);
}

int state_write_sealed(const char *dir, const char *name, const void *data, size_t len)
{
	uint32_t c = crc_of(data, len);
	uint8_t t[4] = { (uint8_t)c, (uint8_t)(c >> 8), (uint8_t)(c >> 16), (uint8_t)(c >> 24) };
	const void *d[] = { data, t };
	size_t l[] = { len, sizeof(t) };

	return write_pieces(dir, name, d, l, 2);
}

int state_read_sealed(const char *dir, const char *name, char **out, size_t *len)
{
	char *buf = NULL;
	size_t n = 0;
	uint32_t c;
	int rc = state_read(dir, name, &buf, &n);

	if (rc < 0)
		return rc;
	if (n < 4) {
		free(buf);
		return -EBADMSG;
	}
	n -= 4;
	c = (uint32_t)(uint8_t)buf[n] | (uint32_t)(uint8_t)buf[n + 1] << 8 | (uint32_t)(uint8_t)buf[n + 2] << 16 |
	    (uint32_t)(uint8_t)buf[n + 3] << 24;
	if (c != crc_of(buf, n)) {
		free(buf);
		return -EBADMSG;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}

int state_read(const char *dir, const char *name, char **out, size_t *len)
{
	char *path = xasprintf("%s/%s", dir, name), *buf = NULL;
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	struct stat st;
	size_t cap, n = 0;
	int rc = 0;

	free(path);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = -EINVAL;
		goto out;
	}
	if ((uint64_t)st.st_size > STATE_MAX_BYTES) {
		rc = -EFBIG;
		goto out;
	}
	/* the size may change under us: read to EOF, but never past the bound */
	cap = (size_t)st.st_size + 4096;
	buf = xmalloc(cap + 1);
	for (;;) {
		ssize_t r;
		if (n == cap) {
			if (cap > STATE_MAX_BYTES) {
				rc = -EFBIG;
				goto out;
			}
			cap *= 2;
			buf = xrealloc(buf, cap + 1);
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = -errno;
			goto out;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (n > STATE_MAX_BYTES) {
		rc = -EFBIG;
		goto out;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	buf = NULL;
out:
	free(buf);
	close(fd);
	return rc;
}
