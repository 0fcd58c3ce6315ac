/* transport_cli.c - drives a channel transport (outputs/transport.h) by
 * hand for the integration tests, before and beside the notification core:
 * builds the conf from options, sends texts and polls replies, and prints
 * one line per result.  --retry N stands in for the core's backoff: a
 * TR_RETRY waits retry_after_ms (or 200 ms) and tries again, up to N times.
 *
 *   transport_cli telegram|zalo [--api URL] [--oauth URL] [--token-file F]
 *       [--app-id ID] [--secret-file F] [--refresh-file F] [--state DIR]
 *       [--timeout-ms N] [--retry N] [--name NAME]
 *       send ADDR TEXT [ADDR TEXT ...] | sendfile ADDR FILE | poll */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../daemon/channels_conf.h"
#include "../daemon/util.h"
#include "../outputs/output.h"
#include "../outputs/transport.h"

static const char *const st_names[] = {"OK", "RETRY", "AUTH", "REFUSED"};

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	size_t n;

	if (!f) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		exit(2);
	}
	buf = xmalloc(1 << 20);
	n = fread(buf, 1, (1 << 20) - 1, f);
	fclose(f);
	buf[n] = '\0';
	while (n > 0 && buf[n - 1] == '\n') /* a secret file's last newline is not part of it */
		buf[--n] = '\0';
	return buf;
}

static void on_reply(void *arg, const char *address, const char *text)
{
	(void)arg;
	printf("REPLY %s %s\n", address, text);
}

static void send_one(const struct transport_ops *ops, void *t, const char *addr, const char *text, int retries)
{
	struct transport_msg m = {.text = text};
	int attempt = 0;

	for (;;) {
		struct transport_result r = {0};
		int64_t wait;

		ops->send(t, addr, &m, &r);
		attempt++;
		printf("SEND %s %s attempt=%d retry_after_ms=%lld error=%s\n", addr, st_names[r.status], attempt,
		       (long long)r.retry_after_ms, r.error[0] ? r.error : "-");
		fflush(stdout);
		if (r.status != TR_RETRY || attempt > retries)
			return;
		wait = r.retry_after_ms > 0 ? r.retry_after_ms : 200;
		nanosleep(&(struct timespec){.tv_sec = wait / 1000, .tv_nsec = (wait % 1000) * 1000000}, NULL);
	}
}

struct opts {
	const char *api, *oauth, *token_file, *app_id, *secret_file, *refresh_file, *state, *name;
	long timeout_ms, retry;
};

static int parse_opts(int argc, char **argv, struct opts *o)
{
	int i = 2;

	for (; i + 1 < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
		const char *k = argv[i] + 2, *v = argv[i + 1];

		if (!strcmp(k, "api")) o->api = v;
		else if (!strcmp(k, "oauth")) o->oauth = v;
		else if (!strcmp(k, "token-file")) o->token_file = v;
		else if (!strcmp(k, "app-id")) o->app_id = v;
		else if (!strcmp(k, "secret-file")) o->secret_file = v;
		else if (!strcmp(k, "refresh-file")) o->refresh_file = v;
		else if (!strcmp(k, "state")) o->state = v;
		else if (!strcmp(k, "name")) o->name = v;
		else if (!strcmp(k, "timeout-ms")) o->timeout_ms = atol(v);
		else if (!strcmp(k, "retry")) o->retry = atol(v);
		else {
			fprintf(stderr, "unknown option --%s\n", k);
			exit(2);
		}
	}
	return i;
}

int main(int argc, char **argv)
{
	struct opts o = {.name = NULL, .timeout_ms = 3000};
	struct cc_telegram_conf tc = {0};
	struct cc_zalo_conf zc = {0};
	const struct transport_ops *ops;
	void *t;
	int i;

	if (argc < 3) {
		fprintf(stderr, "usage: transport_cli telegram|zalo [options] send ADDR TEXT... | sendfile ADDR FILE | poll\n");
		return 2;
	}
	i = parse_opts(argc, argv, &o);
	output_global_init();
	if (!strcmp(argv[1], "telegram")) {
		tc.c.name = (char *)(o.name ? o.name : "tg");
		tc.c.timeout_ms = o.timeout_ms;
		tc.api_url = (char *)o.api;
		tc.token = o.token_file ? slurp(o.token_file) : NULL;
		tc.replies = 1;
		ops = &transport_telegram_ops;
		t = transport_telegram_new(&tc, o.state);
	} else {
		zc.c.name = (char *)(o.name ? o.name : "oa");
		zc.c.timeout_ms = o.timeout_ms;
		zc.api_url = (char *)o.api;
		zc.oauth_url = (char *)o.oauth;
		zc.app_id = (char *)o.app_id;
		zc.secret_key = o.secret_file ? slurp(o.secret_file) : NULL;
		zc.refresh_token = o.refresh_file ? slurp(o.refresh_file) : NULL;
		ops = &transport_zalo_ops;
		t = transport_zalo_new(&zc, o.state);
	}
	if (!t) {
		fprintf(stderr, "%s: set-up failed: %s\n", argv[1], strerror(errno));
		return 1;
	}
	if (i < argc && !strcmp(argv[i], "poll")) {
		int n = ops->poll_replies ? ops->poll_replies(t, on_reply, NULL) : -ENOTSUP;
		printf("POLLED %d\n", n);
	} else if (i + 2 < argc && !strcmp(argv[i], "sendfile")) {
		char *text = slurp(argv[i + 2]);
		send_one(ops, t, argv[i + 1], text, (int)o.retry);
		free(text);
	} else if (i < argc && !strcmp(argv[i], "send")) {
		for (i++; i + 1 < argc; i += 2)
			send_one(ops, t, argv[i], argv[i + 1], (int)o.retry);
	}
	ops->free(t);
	free(tc.token);
	free(zc.secret_key);
	free(zc.refresh_token);
	output_global_cleanup();
	return 0;
}
