/* smtp_send.c - the e-mail transport (outputs/smtp.c) driven by hand for
 * the integration tests: a struct cc_email_conf from the command line, one
 * send per --to, the result printed as "ADDRESS STATUS ERROR". */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../daemon/channels_conf.h"
#include "../daemon/log.h"
#include "../daemon/util.h"
#include "../outputs/output.h"
#include "../outputs/transport.h"

static const char *const status_names[] = {"OK", "RETRY", "AUTH", "REFUSED"};
static long wakeup_ms; /* --wakeup-after-ms: output_stop's wakeup from another thread */

static void *wakeup_later(void *t)
{
	struct timespec ts = {wakeup_ms / 1000, (wakeup_ms % 1000) * 1000000};

	nanosleep(&ts, NULL);
	transport_smtp_ops.wakeup(t);
	return NULL;
}

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = xmalloc(1 << 20);
	size_t n;

	if (!f) {
		fprintf(stderr, "smtp_send: %s: %s\n", path, strerror(errno));
		exit(2);
	}
	n = fread(buf, 1, (1 << 20) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void chomp(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r'))
		s[--n] = '\0';
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"url", 1, 0, 'u'},	 {"from", 1, 0, 'f'},	{"to", 1, 0, 't'},	  {"subject", 1, 0, 's'},
		{"text-file", 1, 0, 'x'}, {"user", 1, 0, 'U'},	{"password-file", 1, 0, 'P'}, {"ca-file", 1, 0, 'C'},
		{"insecure", 0, 0, 'k'}, {"timeout-ms", 1, 0, 'T'}, {"critical", 0, 0, 'c'},
		{"wakeup-after-ms", 1, 0, 'W'}, {0, 0, 0, 0}};
	struct cc_email_conf c = {.c = {.name = "email-test", .timeout_ms = 20000}};
	struct transport_msg m = {.subject = "coldchaind test", .text = "test\n", .alarm_id = "a1b2"};
	const char *to[16];
	char *text = NULL;
	int nto = 0, o;
	pthread_t waker;
	void *t;

	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'u': c.url = optarg; break;
		case 'f': c.from = optarg; break;
		case 't': if (nto < 16) to[nto++] = optarg; break;
		case 's': m.subject = optarg; break;
		case 'x': free(text); m.text = text = read_file(optarg); break;
		case 'U': c.user = optarg; break;
		case 'P': free(c.password); c.password = read_file(optarg); chomp(c.password); break;
		case 'C': c.ca_file = optarg; break;
		case 'k': c.insecure = 1; break;
		case 'T': c.c.timeout_ms = atoll(optarg); break;
		case 'c': m.critical = 1; break;
		case 'W': wakeup_ms = atol(optarg); break;
		default: return 2;
		}
	}
	log_open(LOG_TARGET_STDERR, LOG_LVL_DEBUG);
	if (output_global_init() < 0)
		return 2;
	t = transport_smtp_new(&c, "/nonexistent");
	if (!t) {
		fprintf(stderr, "smtp_send: transport_smtp_new: %s\n", strerror(errno));
		return 2;
	}
	if (wakeup_ms > 0 && pthread_create(&waker, NULL, wakeup_later, t) != 0)
		return 2;
	for (int i = 0; i < nto; i++) {
		struct transport_result r = {0};
		char why[256] = "";
		int64_t t0 = time_mono_ms();

		transport_smtp_ops.send(t, to[i], &m, &r);
		printf("%s %s %s\n", to[i], status_names[r.status], r.error);
		printf("elapsed_ms %lld healthy %d %s\n", (long long)(time_mono_ms() - t0),
		       transport_smtp_ops.healthy(t, why, sizeof(why)), why);
		fflush(stdout);
	}
	if (wakeup_ms > 0)
		pthread_join(waker, NULL);
	transport_smtp_ops.free(t);
	output_global_cleanup();
	free(text);
	free(c.password);
	return 0;
}
