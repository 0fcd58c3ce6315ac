/* file.c - the file backend: batches of line protocol appended to a file
 * ("-": standard output); a write error reopens the file and retries, and a
 * line torn by it is ended before the next. */
#include "backend.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../daemon/config.h"
#include "../daemon/util.h"

#define FILE_BATCH 1000
#define FILE_FLUSH_MS 100

struct file_out {
	char *path;
	int fd;
	int torn; /* last write ended mid-line: terminate it before the next */
};

/* Opens the file if it is not, then ends a line torn by an earlier failure
 * (so that it does not swallow the next one).  0 or an errno; *op names
 * what failed. */
static int file_ready(struct file_out *f, const char **op)
{
	*op = "open";
	if (f->fd < 0) {
		if (strcmp(f->path, "-") == 0)
			f->fd = STDOUT_FILENO;
		else
			f->fd = open(f->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
		if (f->fd < 0)
			return errno;
	}
	*op = "write";
	while (f->torn) {
		ssize_t w = write(f->fd, "\n", 1);

		if (w == 1)
			f->torn = 0;
		else if (!(w < 0 && errno == EINTR))
			return w < 0 ? errno : EIO;
	}
	return 0;
}

static void file_send(void *be, struct output *o, const char *data, size_t len, size_t nlines,
		      struct send_result *r)
{
	struct file_out *f = be;
	size_t off = 0;
	const char *op;
	int err;

	(void)o;
	(void)nlines;
	err = file_ready(f, &op);
	while (!err && off < len) {
		ssize_t w = write(f->fd, data + off, len - off);

		if (w > 0)
			off += (size_t)w;
		else if (!(w < 0 && errno == EINTR))
			err = w < 0 ? errno : EIO;
	}
	for (size_t i = 0; i < off; i++) /* complete lines written are delivered */
		r->done += data[i] == '\n';
	if (!err) {
		r->status = SEND_OK;
		return;
	}
	r->status = SEND_RETRY;
	output_fmt(r->error, sizeof(r->error), "%s %s: %s", op, f->path, strerror(err));
	if (off > 0 && data[off - 1] != '\n')
		f->torn = 1;
	if (f->fd >= 0 && f->fd != STDOUT_FILENO)
		close(f->fd);
	f->fd = -1; /* reopen next time: the file may have been rotated or fixed */
}

static int file_same_destination(const void *a, const void *b)
{
	return strcmp(((const struct file_out *)a)->path, ((const struct file_out *)b)->path) == 0;
}

static void file_free(void *be)
{
	struct file_out *f = be;

	if (f->fd >= 0 && f->fd != STDOUT_FILENO)
		close(f->fd);
	free(f->path);
	free(f);
}

static const struct output_ops file_ops = {
	.send = file_send,
	.same_destination = file_same_destination,
	.free = file_free,
};

struct output *output_file_new(const struct cc_file_out_conf *conf)
{
	struct output_limits lim = { .batch = FILE_BATCH, .flush_ms = FILE_FLUSH_MS };
	struct file_out *f;
	struct output *o;
	const char *name;
	char *id;

	if (!conf || !conf->path || !conf->path[0]) {
		errno = EINVAL;
		return NULL;
	}
	name = conf->name ? conf->name : conf->path;
	f = xcalloc(1, sizeof(*f));
	f->path = xstrdup(conf->path);
	f->fd = -1;
	lim.start_oldest = conf->start_oldest;
	id = xasprintf("file %s %s", name, f->path);
	o = output_new(name, id, &lim, &file_ops, f);
	free(id);
	return o;
}

static size_t file_count(const struct cc_config *cfg)
{
	return cfg->nfiles;
}

static struct output *file_create(const struct cc_config *cfg, size_t i)
{
	return output_file_new(&cfg->files[i]);
}

const struct output_kind output_kind_file = { "file", file_count, file_create };
