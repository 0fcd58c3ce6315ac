/* sms_tool.c - drives the sms transport (outputs/sms.c) the way the
 * notification core will, for the integration tests: the configuration is
 * built by hand from the command line, commands come one per line from a
 * FIFO, results go to stdout as lines:
 *   send ID NUMBER TEXT       -> "result ID OK|RETRY|AUTH|REFUSED error"
 *   retry ID NUMBER TEXT      -> sends until not RETRY (at most 120 tries,
 *                                 1 s apart), "attempt ..." per try, then "result ..."
 *   health                    -> "health 1" or "health 0 why"
 *   stats                     -> the coldchaind_modem line
 * Between commands it polls for replies: "reply NUMBER TEXT".  In TEXT,
 * "\n" stands for a line break. */
#include "../codec/lineproto.h"
#include "../daemon/channels_conf.h"
#include "../daemon/log.h"
#include "../daemon/util.h"
#include "../outputs/transport.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *st_name[] = { "OK", "RETRY", "AUTH", "REFUSED" };

static void on_reply(void *arg, const char *address, const char *text)
{
	(void)arg;
	printf("reply %s %s\n", address, text);
	fflush(stdout);
}

static void unescape(char *s)
{
	char *w = s;
	for (; *s; s++) {
		if (s[0] == '\\' && s[1] == 'n')
			*w++ = '\n', s++;
		else
			*w++ = *s;
	}
	*w = 0;
}

static void do_send(void *t, char *args, int retry)
{
	char *id = strtok(args, " "), *num = strtok(NULL, " "), *text = strtok(NULL, "");
	struct transport_msg m = { .text = text ? text : "", .alarm_id = id };
	struct transport_result r;
	int tries = 0;
	if (!id || !num)
		return;
	unescape(text ? text : id);
	do {
		struct timespec ts = { 1, 0 };
		memset(&r, 0, sizeof r);
		transport_sms_ops.send(t, num, &m, &r);
		if (retry)
			printf("attempt %s %s %s\n", id, st_name[r.status], r.error);
		fflush(stdout);
		if (!retry || r.status != TR_RETRY)
			break;
		nanosleep(&ts, NULL);
	} while (++tries < 120);
	printf("result %s %s %s\n", id, st_name[r.status], r.error);
	fflush(stdout);
}

static void do_line(void *t, char *line)
{
	char why[300];
	if (strncmp(line, "send ", 5) == 0 || strncmp(line, "retry ", 6) == 0) {
		do_send(t, line + (line[0] == 's' ? 5 : 6), line[0] == 'r');
	} else if (strcmp(line, "health") == 0) {
		int up = transport_sms_ops.healthy(t, why, sizeof why);
		printf("health %d %s\n", up, up ? "" : why);
	} else if (strcmp(line, "stats") == 0) {
		struct lp_buf b;
		lp_buf_init(&b);
		transport_sms_ops.stats(t, &b, "sms1", "test", 1);
		printf("stats %.*s", (int)b.len, b.data);
		lp_buf_free(&b);
	}
	fflush(stdout);
}

static char *read_pin(const char *path)
{
	char buf[64];
	FILE *f = fopen(path, "r");
	size_t n;
	if (!f)
		return NULL;
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = 0;
	buf[strcspn(buf, "\r\n")] = 0;
	return strdup(buf);
}

int main(int argc, char **argv)
{
	struct cc_sms_conf c = { .c = { .name = "sms1" }, .baud = 115200, .replies = 1, .max_parts = 3 };
	char line[2048];
	size_t len = 0;
	void *t;
	int fd, i;
	const char *fifo = NULL;
	int64_t next_poll = 0;
	for (i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--device") == 0)
			c.device = argv[i + 1];
		else if (strcmp(argv[i], "--pin-file") == 0)
			c.pin = read_pin(argv[i + 1]);
		else if (strcmp(argv[i], "--max-parts") == 0)
			c.max_parts = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--fifo") == 0)
			fifo = argv[i + 1];
	}
	if (!c.device || !fifo) {
		fprintf(stderr, "usage: sms_tool --device DEV --fifo FIFO [--pin-file F] [--max-parts N]\n");
		return 2;
	}
	log_open(LOG_TARGET_STDERR, LOG_LVL_DEBUG);
	if (!(t = transport_sms_new(&c, "/nonexistent")) || (fd = open(fifo, O_RDWR)) < 0) {
		perror("sms_tool");
		return 1;
	}
	printf("started\n");
	fflush(stdout);
	for (;;) {
		struct pollfd p = { fd, POLLIN, 0 };
		ssize_t n;
		char *nl;
		int r = poll(&p, 1, 300);
		if (time_mono_ms() >= next_poll) { /* also when commands keep coming */
			transport_sms_ops.poll_replies(t, on_reply, NULL);
			next_poll = time_mono_ms() + 300;
		}
		if (r <= 0)
			continue;
		if ((n = read(fd, line + len, sizeof line - 1 - len)) <= 0)
			break;
		len += (size_t)n;
		line[len] = 0;
		while ((nl = strchr(line, '\n'))) {
			*nl = 0;
			if (strcmp(line, "quit") == 0)
				goto out;
			do_line(t, line);
			len -= (size_t)(nl + 1 - line);
			memmove(line, nl + 1, len + 1);
		}
	}
out:
	transport_sms_ops.free(t);
	free(c.pin);
	return 0;
}
