/* auth.h - the web page's security core: the users file, password checks
 * with failed-login rate limits, sessions and their CSRF tokens, and the
 * session cookie's text.  Pure of HTTP (no libmicrohttpd): the listener
 * passes the client address and the time in, so every rule is unit-tested
 * with a fake clock.  Thread-safe: one mutex; crypt never runs under it. */
#ifndef CC_WEB_AUTH_H
#define CC_WEB_AUTH_H

#include <stddef.h>
#include <stdint.h>

#define AUTH_NAME_MAX 64       /* a user name: [A-Za-z0-9._-]{1,64} */
#define AUTH_PASSWORD_MAX 1024 /* longer passwords are refused unhashed */
#define AUTH_TOKEN_HEX 64      /* a session id or CSRF token: 256 bits in hex */
#define AUTH_COOKIE_NAME "cc_session"

enum auth_role { AUTH_ROLE_VIEWER = 1, AUTH_ROLE_OPERATOR = 2 };

/* The policy; zero fields take the defaults shown. */
struct auth_limits {
	int64_t idle_ms;      /* 12 h: a session unused this long ends */
	int64_t absolute_ms;  /* 7 days: a session ends this long after login */
	int sessions_max;     /* 1024: at the limit, the oldest-used session is dropped */
	int fail_max;         /* 5 failures in a row from an address, or for a name, lock it */
	int64_t lock_ms;      /* 1 min: the first lock; each next one doubles ... */
	int64_t lock_max_ms;  /* 15 min: ... up to this */
	int track_max;        /* 4096: addresses (and names) tracked; the stalest are evicted */
	int64_t log_every_ms; /* 10 s: at most one failed-login log line per this, with "(N more)" */
};

/* What a login or a session lookup hands back: a copy, never a pointer into
 * the table.  id and csrf are hex, NUL-terminated. */
struct auth_session {
	char id[AUTH_TOKEN_HEX + 1];
	char csrf[AUTH_TOKEN_HEX + 1];
	char user[AUTH_NAME_MAX + 1];
	enum auth_role role;
	int64_t max_age_s; /* seconds left of the absolute lifetime (the cookie's Max-Age) */
};

/* Counters for the self-metrics (monotonic, except sessions). */
struct auth_stats {
	uint64_t login_ok, login_failed, login_locked; /* locked: refused without a check */
	uint64_t sessions_evicted, track_evicted, users_reloaded;
	int sessions; /* open now */
	int users;
};

struct auth;

/* A new core with no users (every login fails) under limits (NULL: the
 * defaults).  NULL + errno on failure (ENOMEM, or getrandom's error). */
struct auth *auth_new(const struct auth_limits *limits);
void auth_free(struct auth *a);

/* Reads the users file at path (`name:hash:role` lines, `#` comments,
 * blank lines) into a new table and swaps it in; sessions of a removed user,
 * or of a user whose role or hash changed, are dropped.  On any error
 * nothing changes: returns -EINVAL (or the open error) and *err (when err is
 * not NULL) holds every error, one `FILE:LINE: message` a line (free it). */
int auth_users_load(struct auth *a, const char *path, char **err);

/* A name of [A-Za-z0-9._-]{1,64}: 1, else 0. */
int auth_name_valid(const char *name);
/* "viewer" / "operator" -> the role, 0 for anything else; and back. */
enum auth_role auth_role_parse(const char *s);
const char *auth_role_name(enum auth_role r);
/* NULL when hash is a yescrypt ($y$) or sha512-crypt ($6$) hash libcrypt
 * can check, else why not (a static string). */
const char *auth_hash_refusal(const char *hash);

/* Checks user's password for a login from client_ip at now_ms.  0 and *out
 * filled (a new session); -EACCES wrong name or password (the same time
 * either way); -EAGAIN the address or the name is locked after failed
 * logins (no check made; *retry_ms, when not NULL, says for how long);
 * -ENOMEM.  Failures are logged with name and address (rate-limited), never
 * the password; a success is logged. */
int auth_login(struct auth *a, const char *user, const char *password, const char *client_ip, int64_t now_ms,
	       struct auth_session *out, int64_t *retry_ms);

/* The session whose id is cookie_value (the hex of the cookie), not idle
 * or too old at now_ms: 0 and *out (its last use becomes now_ms), else
 * -ENOENT. */
int auth_session_find(struct auth *a, const char *cookie_value, int64_t now_ms, struct auth_session *out);

/* 1 when the session cookie_value is open (not idle, not too old, not
 * logged out) at now_ms, else 0; unlike auth_session_find its last use is
 * left as it was (an open live-update stream does not keep it alive). */
int auth_session_alive(struct auth *a, const char *cookie_value, int64_t now_ms);

/* Clears the sessions idle or too old at now_ms (a lookup clears the one it
 * finds dead; this catches those nobody comes back with, so the stats count
 * only live ones).  The listener calls it now and then, e.g. every minute.
 * Returns how many were cleared. */
int auth_sessions_expire(struct auth *a, int64_t now_ms);

/* Ends the session with this id (nothing if there is none). */
void auth_logout(struct auth *a, const char *cookie_value);

/* 1 when token is the session's CSRF token (constant time), else 0. */
int auth_csrf_check(const struct auth_session *s, const char *token);

/* The Set-Cookie value for s: "cc_session=ID; Path=/; Max-Age=N; HttpOnly;
 * SameSite=Strict" and "; Secure" when secure (TLS).  With s NULL, the
 * expiring cookie a logout sends.  The length, or -ENOSPC if n is short. */
int auth_cookie_header(const struct auth_session *s, int secure, char *buf, size_t n);

void auth_stats_get(struct auth *a, struct auth_stats *st);

#endif
