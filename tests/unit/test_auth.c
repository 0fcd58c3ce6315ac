/* test_auth.c - the web page's security core (daemon/web/auth.c) with a
 * fake clock: the users file and each of its errors, yescrypt and
 * sha512-crypt checks, lockouts and their expiry, the bounded tracking
 * tables, session lifetimes, CSRF tokens, reload, the cookie's text. */
#include <crypt.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../daemon/web/auth.h"
#include "testlib.h"

#define MIN_MS (60 * 1000LL)
#define HOUR_MS (60 * MIN_MS)

static char path[64];

static char *hash_of(const char *prefix, const char *pw)
{
	static char out[4][CRYPT_OUTPUT_SIZE];
	static int k;
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data cd;

	memset(&cd, 0, sizeof(cd));
	if (strcmp(prefix, "des") == 0)
		strcpy(salt, "ab");
	else if (!crypt_gensalt_rn(prefix, 0, NULL, 0, salt, sizeof(salt)))
		return NULL;
	k = (k + 1) % 4;
	strcpy(out[k], crypt_rn(pw, salt, &cd, sizeof(cd)));
	return out[k];
}

/* Writes text to a fresh users file (mode 0600 unless mode says otherwise). */
static void write_users(const char *text, mode_t mode)
{
	FILE *f;

	if (!path[0] && tl_mkstemp(path, sizeof(path), "auth") < 0)
		abort();
	f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
	chmod(path, mode);
}

static struct auth *auth_with(const char *users, const struct auth_limits *lim)
{
	struct auth *a = auth_new(lim);
	char *err = NULL;

	write_users(users, 0600);
	if (auth_users_load(a, path, &err)) {
		printf("    users file refused: %s", err ? err : "?\n");
		free(err);
	}
	return a;
}

static char anna_hash[CRYPT_OUTPUT_SIZE], bao_hash[CRYPT_OUTPUT_SIZE];

static char *users_text(const char *extra)
{
	static char t[4096];

	if (!anna_hash[0]) {
		strcpy(anna_hash, hash_of("$y$", "anna-pw"));
		strcpy(bao_hash, hash_of("$6$", "bao-pw"));
	}
	snprintf(t, sizeof(t), "# operators\n\nanna:%s:operator\nbao:%s:viewer\n%s", anna_hash, bao_hash, extra);
	return t;
}

static void test_users_file_every_error_names_file_and_line(void)
{
	struct auth *a = auth_new(NULL);
	char text[4096], want[2048], *err = NULL;

	snprintf(text, sizeof(text),
		 "# c\n"
		 "ok:%s:operator\n"
		 "bad name:%s:viewer\n"
		 "des:%s:viewer\n"
		 "md5:%s:viewer\n"
		 "norole:%s:admin\n"
		 "ok:%s:viewer\n"
		 "only-two:fields\n"
		 "x:$y$garbage:viewer\n",
		 hash_of("$y$", "p"), hash_of("$y$", "p"), hash_of("des", "p"), hash_of("$1$", "p"),
		 hash_of("$y$", "p"), hash_of("$6$", "p"));
	write_users(text, 0600);
	CHECK_INT(auth_users_load(a, path, &err), -EINVAL);
	snprintf(want, sizeof(want),
		 "%s:3: user name 'bad name' is not 1 to 64 of A-Z a-z 0-9 . _ -\n"
		 "%s:4: user des: not a yescrypt ($y$) or sha512-crypt ($6$) hash (DES and other old hashes are refused)\n"
		 "%s:5: user md5: an MD5-crypt hash ($1$) is too weak; use yescrypt ($y$) or sha512-crypt ($6$)\n"
		 "%s:6: user norole: role 'admin' is not viewer or operator\n"
		 "%s:7: user ok appears twice\n"
		 "%s:8: expected name:hash:role\n"
		 "%s:9: user x: a malformed hash\n",
		 path, path, path, path, path, path, path);
	CHECK_STR(err, want);
	free(err);
	/* Nothing was swapped in: no user can log in. */
	CHECK_INT(auth_login(a, "ok", "p", "10.0.0.1", 0, &(struct auth_session){ 0 }, NULL), -EACCES);
	auth_free(a);
}

static void test_users_file_readable_by_others_is_refused(void)
{
	struct auth *a = auth_new(NULL);
	char want[256], *err = NULL;

	write_users(users_text(""), 0644);
	CHECK_INT(auth_users_load(a, path, &err), -EINVAL);
	snprintf(want, sizeof(want), "%s: users file is readable by others (chmod 600 it)\n", path);
	CHECK_STR(err, want);
	free(err);
	CHECK_INT(auth_users_load(a, "/nonexistent/users", &err), -ENOENT);
	CHECK_STR(err, "/nonexistent/users: cannot read users file: No such file or directory\n");
	free(err);
	auth_free(a);
}

static void test_yescrypt_and_sha512_passwords_verify_and_wrong_ones_do_not(void)
{
	struct auth *a = auth_with(users_text(""), NULL);
	struct auth_session s, f;

	CHECK_INT(auth_login(a, "anna", "anna-pw", "10.0.0.1", 1000, &s, NULL), 0);
	CHECK_STR(s.user, "anna");
	CHECK_INT(s.role, AUTH_ROLE_OPERATOR);
	CHECK_INT(strlen(s.id), 64);
	CHECK_INT(strlen(s.csrf), 64);
	CHECK(strcmp(s.id, s.csrf) != 0);
	CHECK_INT(auth_session_find(a, s.id, 2000, &f), 0);
	CHECK_STR(f.user, "anna");
	CHECK_STR(f.csrf, s.csrf);
	CHECK_INT(auth_login(a, "bao", "bao-pw", "10.0.0.1", 1000, &s, NULL), 0);
	CHECK_INT(s.role, AUTH_ROLE_VIEWER);
	CHECK_INT(auth_login(a, "bao", "anna-pw", "10.0.0.1", 1000, &s, NULL), -EACCES);
	CHECK_INT(auth_login(a, "nobody", "x", "10.0.0.1", 1000, &s, NULL), -EACCES);
	CHECK_INT(auth_login(a, "anna", "", "10.0.0.1", 1000, &s, NULL), -EACCES);
	auth_free(a);
}

static void test_five_failures_lock_the_address_then_the_lock_expires_and_doubles(void)
{
	struct auth *a = auth_with(users_text(""), NULL);
	struct auth_session s;
	struct auth_stats st;
	int64_t retry = 0, t = 0;

	for (int i = 0; i < 5; i++)
		CHECK_INT(auth_login(a, i % 2 ? "anna" : "bao", "wrong", "192.0.2.7", t, &s, NULL), -EACCES);
	/* The right password is not even checked while locked. */
	CHECK_INT(auth_login(a, "anna", "anna-pw", "192.0.2.7", t + 1000, &s, &retry), -EAGAIN);
	CHECK_INT(retry, MIN_MS - 1000);
	/* Another address is not locked. */
	CHECK_INT(auth_login(a, "bao", "bao-pw", "192.0.2.8", t + 1000, &s, NULL), 0);
	t += MIN_MS;
	CHECK_INT(auth_login(a, "anna", "anna-pw", "192.0.2.7", t, &s, NULL), 0);
	/* Success forgets the address; five more failures lock for 1 min again. */
	for (int i = 0; i < 5; i++)
		auth_login(a, "zed", "wrong", "192.0.2.9", t, &s, NULL);
	CHECK_INT(auth_login(a, "zed", "wrong", "192.0.2.10", t, &s, &retry), -EAGAIN); /* the name too */
	CHECK_INT(retry, MIN_MS);
	t += MIN_MS;
	for (int i = 0; i < 5; i++)
		auth_login(a, "zed", "wrong", "192.0.2.9", t, &s, NULL);
	CHECK_INT(auth_login(a, "x", "y", "192.0.2.9", t, &s, &retry), -EAGAIN);
	CHECK_INT(retry, 2 * MIN_MS);
	auth_stats_get(a, &st);
	CHECK_INT(st.login_ok, 2);
	CHECK(st.login_failed >= 15);
	CHECK(st.login_locked >= 3);
	auth_free(a);
}

static void test_lock_grows_to_fifteen_minutes_and_no_further(void)
{
	struct auth *a = auth_with(users_text(""), NULL);
	char big[AUTH_PASSWORD_MAX + 2];
	struct auth_session s;
	int64_t retry = 0, t = 0, want[] = { 1, 2, 4, 8, 15, 15 };

	/* An over-long password fails without a hash (cheap), like a wrong one. */
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	for (int round = 0; round < 6; round++) {
		for (int i = 0; i < 5; i++)
			auth_login(a, "anna", big, "198.51.100.1", t, &s, NULL);
		CHECK_INT(auth_login(a, "anna", big, "198.51.100.1", t, &s, &retry), -EAGAIN);
		CHECK_INT(retry, want[round] * MIN_MS);
		t += retry;
	}
	auth_free(a);
}

static void test_a_flood_of_100k_addresses_keeps_tables_bounded_and_a_locked_one_locked(void)
{
	struct auth *a = auth_with(users_text(""), NULL);
	char big[AUTH_PASSWORD_MAX + 2], ip[64], name[32];
	struct auth_session s;
	struct auth_stats st;

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	for (int i = 0; i < 5; i++)
		auth_login(a, "anna", big, "203.0.113.66", 0, &s, NULL);
	for (int i = 0; i < 100000; i++) {
		snprintf(ip, sizeof(ip), "10.%d.%d.%d", i >> 16, (i >> 8) & 255, i & 255);
		snprintf(name, sizeof(name), "u%d", i);
		auth_login(a, name, big, ip, 1000, &s, NULL);
	}
	auth_stats_get(a, &st);
	/* The tables hold 4096 each: the rest were evicted, never grown. */
	CHECK(st.track_evicted >= 2 * (100000 - 4096));
	CHECK_INT(auth_login(a, "bao", "bao-pw", "203.0.113.66", 2000, &s, NULL), -EAGAIN);
	auth_free(a);
}

static void test_sessions_end_after_12h_idle_and_7_days_in_all(void)
{
	struct auth *a = auth_with(users_text(""), NULL);
	struct auth_session s, f;
	struct auth_stats st;
	int64_t t = 0;

	CHECK_INT(auth_login(a, "anna", "anna-pw", "10.0.0.1", t, &s, NULL), 0);
	CHECK_INT(s.max_age_s, 7 * 24 * 3600);
	/* Used every 11 h it lives 7 days, then ends. */
	while (t + 11 * HOUR_MS < 7 * 24 * HOUR_MS) {
		t += 11 * HOUR_MS;
		CHECK_INT(auth_session_find(a, s.id, t, &f), 0);
	}
	CHECK_INT(auth_session_find(a, s.id, 7 * 24 * HOUR_MS, &f), -ENOENT);
	CHECK_INT(auth_login(a, "anna", "anna-pw", "10.0.0.1", t, &s, NULL), 0);
	CHECK_INT(auth_session_find(a, s.id, t + 12 * HOUR_MS - 1, &f), 0);
	CHECK_INT(auth_session_find(a, s.id, t + 24 * HOUR_MS - 1, &f), -ENOENT);
	/* The sweep clears the ones nobody comes back with. */
	t += 24 * HOUR_MS;
	CHECK_INT(auth_login(a, "anna", "anna-pw", "10.0.0.1", t, &s, NULL), 0);
	CHECK_INT(auth_login(a, "bao", "bao-pw", "10.0.0.1", t + HOUR_MS, &s, NULL), 0);
	CHECK_INT(auth_sessions_expire(a, t + 12 * HOUR_MS), 1);
	auth_stats_get(a, &st);
	CHECK_INT(st.sessions, 1);
	CHECK_INT(auth_sessions_expire(a, t + 13 * HOUR_MS), 1);
	auth_free(a);
}

static void test_logout_bad_ids_and_session_cap(void)
{
	struct auth_limits lim = { .sessions_max = 3 };
	struct auth *a = auth_with(users_text(""), &lim);
	struct auth_session s[4], f;
	struct auth_stats st;

	for (int i = 0; i < 4; i++)
		CHECK_INT(auth_login(a, "bao", "bao-pw", "10.0.0.1", i, &s[i], NULL), 0);
	/* The oldest-used one made room. */
	CHECK_INT(auth_session_find(a, s[0].id, 10, &f), -ENOENT);
	CHECK_INT(auth_session_find(a, s[3].id, 10, &f), 0);
	auth_logout(a, s[3].id);
	CHECK_INT(auth_session_find(a, s[3].id, 11, &f), -ENOENT);
	CHECK_INT(auth_session_find(a, s[3].csrf, 11, &f), -ENOENT);
	CHECK_INT(auth_session_find(a, "", 11, &f), -ENOENT);
	CHECK_INT(auth_session_find(a, "zz", 11, &f), -ENOENT);
	s[1].id[63] = s[1].id[63] == '0' ? '1' : '0';
	CHECK_INT(auth_session_find(a, s[1].id, 11, &f), -ENOENT);
	auth_stats_get(a, &st);
	CHECK_INT(st.sessions, 2);
	CHECK_INT(st.sessions_evicted, 1);
	auth_free(a);
}

static void test_csrf_token_must_match_exactly(void)
{
	struct auth *a = auth_with(users_text(""), NULL);
	struct auth_session s, other, f;
	char t[AUTH_TOKEN_HEX + 1];

	CHECK_INT(auth_login(a, "anna", "anna-pw", "10.0.0.1", 0, &s, NULL), 0);
	CHECK_INT(auth_login(a, "anna", "anna-pw", "10.0.0.1", 0, &other, NULL), 0);
	CHECK_INT(auth_session_find(a, s.id, 1, &f), 0);
	CHECK_INT(auth_csrf_check(&f, s.csrf), 1);
	CHECK_INT(auth_csrf_check(&f, other.csrf), 0);
	CHECK_INT(auth_csrf_check(&f, ""), 0);
	CHECK_INT(auth_csrf_check(&f, NULL), 0);
	CHECK_INT(auth_csrf_check(&f, s.id), 0);
	strcpy(t, s.csrf);
	t[0] = t[0] == 'a' ? 'b' : 'a';
	CHECK_INT(auth_csrf_check(&f, t), 0);
	auth_free(a);
}

static void test_reload_drops_sessions_of_removed_or_changed_users(void)
{
	struct auth *a = auth_with(users_text(""), NULL);
	struct auth_session sa, sb, f;
	char text[4096], *err = NULL;

	CHECK_INT(auth_login(a, "anna", "anna-pw", "10.0.0.1", 0, &sa, NULL), 0);
	CHECK_INT(auth_login(a, "bao", "bao-pw", "10.0.0.1", 0, &sb, NULL), 0);
	/* A refused file changes nothing. */
	write_users("broken\n", 0600);
	CHECK_INT(auth_users_load(a, path, &err), -EINVAL);
	free(err);
	CHECK_INT(auth_session_find(a, sa.id, 1, &f), 0);
	/* anna removed: her session ends; bao's stays. */
	snprintf(text, sizeof(text), "bao:%s:viewer\n", bao_hash);
	write_users(text, 0600);
	CHECK_INT(auth_users_load(a, path, NULL), 0);
	CHECK_INT(auth_session_find(a, sa.id, 2, &f), -ENOENT);
	CHECK_INT(auth_login(a, "anna", "anna-pw", "10.0.0.2", 2, &sa, NULL), -EACCES);
	CHECK_INT(auth_session_find(a, sb.id, 2, &f), 0);
	/* bao's role changed: his session ends too. */
	snprintf(text, sizeof(text), "bao:%s:operator\n", bao_hash);
	write_users(text, 0600);
	CHECK_INT(auth_users_load(a, path, NULL), 0);
	CHECK_INT(auth_session_find(a, sb.id, 3, &f), -ENOENT);
	/* A new password (hash) ends the sessions made with the old one. */
	CHECK_INT(auth_login(a, "bao", "bao-pw", "10.0.0.1", 4, &sb, NULL), 0);
	snprintf(text, sizeof(text), "bao:%s:operator\n", hash_of("$6$", "bao-pw"));
	write_users(text, 0600);
	CHECK_INT(auth_users_load(a, path, NULL), 0);
	CHECK_INT(auth_session_find(a, sb.id, 5, &f), -ENOENT);
	auth_free(a);
}

static void test_cookie_header_with_and_without_secure(void)
{
	struct auth_session s = { .max_age_s = 604800 };
	char buf[256];

	memset(s.id, 'a', AUTH_TOKEN_HEX);
	CHECK_INT(auth_cookie_header(&s, 0, buf, sizeof(buf)) > 0, 1);
	CHECK_STR(buf, "cc_session=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa; Path=/; Max-Age=604800; "
		       "HttpOnly; SameSite=Strict");
	auth_cookie_header(&s, 1, buf, sizeof(buf));
	CHECK_STR(buf, "cc_session=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa; Path=/; Max-Age=604800; "
		       "HttpOnly; SameSite=Strict; Secure");
	auth_cookie_header(NULL, 1, buf, sizeof(buf));
	CHECK_STR(buf, "cc_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict; Secure");
	CHECK_INT(auth_cookie_header(&s, 1, buf, 20), -ENOSPC);
}

struct worker {
	struct auth *a;
	int ok, found;
};

static void *worker_run(void *arg)
{
	struct worker *w = arg;
	struct auth_session s, f;
	char ip[32];

	for (int i = 0; i < 40; i++) {
		snprintf(ip, sizeof(ip), "10.9.%d.%d", (int)((uintptr_t)w & 255), i);
		if (auth_login(w->a, "bao", "bao-pw", ip, i, &s, NULL) == 0) {
			w->ok++;
			w->found += auth_session_find(w->a, s.id, i, &f) == 0 && auth_csrf_check(&f, s.csrf);
			auth_logout(w->a, s.id);
		}
	}
	return NULL;
}

/* Four threads log in, look up and log out while the file is reloaded:
 * nothing is lost or torn (ASan/UBSan watch under make check). */
static void test_threads_log_in_while_the_file_reloads(void)
{
	struct auth_limits lim = { .sessions_max = 8 };
	struct auth *a = auth_with(users_text(""), &lim);
	struct worker w[4];
	pthread_t th[4];
	struct auth_stats st;

	for (int i = 0; i < 4; i++) {
		w[i] = (struct worker){ .a = a };
		pthread_create(&th[i], NULL, worker_run, &w[i]);
	}
	for (int i = 0; i < 20; i++)
		CHECK_INT(auth_users_load(a, path, NULL), 0);
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		CHECK_INT(w[i].ok, 40);
		CHECK_INT(w[i].found, 40);
	}
	auth_stats_get(a, &st);
	CHECK_INT(st.login_ok, 160);
	CHECK_INT(st.sessions, 0);
	auth_free(a);
}

int main(void)
{
	tl_prog = "unit/auth";
	RUN(test_users_file_every_error_names_file_and_line);
	RUN(test_users_file_readable_by_others_is_refused);
	RUN(test_yescrypt_and_sha512_passwords_verify_and_wrong_ones_do_not);
	RUN(test_five_failures_lock_the_address_then_the_lock_expires_and_doubles);
	RUN(test_lock_grows_to_fifteen_minutes_and_no_further);
	RUN(test_a_flood_of_100k_addresses_keeps_tables_bounded_and_a_locked_one_locked);
	RUN(test_sessions_end_after_12h_idle_and_7_days_in_all);
	RUN(test_logout_bad_ids_and_session_cap);
	RUN(test_csrf_token_must_match_exactly);
	RUN(test_reload_drops_sessions_of_removed_or_changed_users);
	RUN(test_cookie_header_with_and_without_secure);
	RUN(test_threads_log_in_while_the_file_reloads);
	if (path[0])
		unlink(path);
	return TL_DONE();
}
