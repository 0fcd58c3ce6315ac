/* bench_auth.c - the web page's security core (daemon/web/auth.c): the
 * time of a login for a known name with a wrong password against an unknown
 * name (they must cost the same: the unknown one is checked against a dummy
 * yescrypt hash), of a good login, and of a session lookup with 1,024
 * sessions open (every slot compared, in constant time), median of N. */
#include <crypt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../../daemon/log.h"
#include "../../daemon/web/auth.h"

#define N 21

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static double median_ms(int64_t *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp64);
	return v[n / 2] / 1e6;
}

static double time_login(struct auth *a, const char *user, const char *pw, int64_t *v)
{
	struct auth_session s;

	for (int i = 0; i < N; i++) {
		int64_t t0 = now_ns();

		auth_login(a, user, pw, "127.0.0.1", i, &s, NULL);
		v[i] = now_ns() - t0;
	}
	return median_ms(v, N);
}

int main(void)
{
	struct auth_limits lim = { .fail_max = 1000000 };
	char path[] = "/tmp/bench_auth_XXXXXX", salt[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data cd = { 0 };
	struct auth_session s, f;
	struct auth *a;
	int64_t v[N], t0;
	FILE *fp;
	int fd = mkstemp(path);

	log_open(LOG_TARGET_STDERR, LOG_LVL_ERR);
	crypt_gensalt_rn("$y$", 0, NULL, 0, salt, sizeof(salt));
	fp = fdopen(fd, "w");
	fprintf(fp, "anna:%s:operator\n", crypt_rn("pw", salt, &cd, sizeof(cd)));
	/* sha512-crypt at its fewest rounds: only to open 1,024 sessions fast. */
	fprintf(fp, "fill:%s:viewer\n", crypt_rn("pw", "$6$rounds=1000$abcdefgh", &cd, sizeof(cd)));
	fclose(fp);
	a = auth_new(&lim);
	if (!a || auth_users_load(a, path, NULL)) {
		unlink(path);
		return 1;
	}
	printf("  login, known name, wrong password: %.1f ms (median of %d)\n", time_login(a, "anna", "x", v), N);
	printf("  login, unknown name:               %.1f ms\n", time_login(a, "nobody", "x", v));
	printf("  login, right password:             %.1f ms\n", time_login(a, "anna", "pw", v));
	for (int i = 0; i < 1100; i++)
		auth_login(a, "fill", "pw", "127.0.0.1", 100 + i, &s, NULL);
	t0 = now_ns();
	for (int i = 0; i < 10000; i++)
		auth_session_find(a, s.id, 2000, &f);
	printf("  session lookup, 1,024 open:        %.1f us\n", (now_ns() - t0) / 10000 / 1e3);
	auth_free(a);
	unlink(path);
	return 0;
}
