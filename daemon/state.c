/* state.c - atomic snapshot files in the state directory: write a
 * temporary, fsync it, rename it over the old one, fsync the directory. */
#include "state.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

int state_write(const char *dir, const char *name, const char *data, size_t len)
{
	char *tmp = xasprintf("%s/%s.tmp", dir, name), *dst = xasprintf("%s/%s", dir, name);
	int fd, dfd, rc = 0;
	size_t off = 0;

	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = -errno;
		goto out;
	}
	while (off < len) {
		ssize_t w = write(fd, data + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			rc = -errno;
			close(fd);
			unlink(tmp);
			goto out;
		}
		off += (size_t)w;
	}
	if (fsync(fd) < 0) {
		rc = -errno;
		close(fd);
		unlink(tmp);
		goto out;
	}
	close(fd);
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

int state_read(const char *dir, const char *name, char **out, size_t *len)
{
	char *path = xasprintf("%s/%s", dir, name), *buf = NULL;
	FILE *f = fopen(path, "r");
	size_t cap = 0, n = 0, r;
	int rc = 0;

	free(path);
	if (!f)
		return -errno;
	do {
		if (n + 4096 + 1 > cap) {
			cap = cap ? cap * 2 : 8192;
			buf = xrealloc(buf, cap);
		}
		r = fread(buf + n, 1, 4096, f);
		n += r;
	} while (r > 0);
	if (ferror(f))
		rc = -EIO;
	fclose(f);
	if (rc < 0) {
		free(buf);
		return rc;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}
