/* auth.c - users file, password checks with lockouts, sessions and CSRF
 * tokens for the web page (see auth.h).  Session ids are kept only as their
 * SHA-256 (nettle), so a memory dump shows no usable id; every comparison of
 * a secret is constant-time (nettle's memeql_sec). */
#include "auth.h"

#include <crypt.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <nettle/memops.h>
#include <nettle/sha2.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../log.h"
#include "../util.h"
#include "../../util/hash.h"

#define TRACK_WAYS 8           /* a tracked key lives in one set of this many slots */
#define USERS_FILE_MAX (1 << 20) /* a users file larger than 1 MiB is refused */
#define USERS_MAX 4096

struct user {
	char name[AUTH_NAME_MAX + 1];
	char *hash;
	enum auth_role role;
};

struct users {
	struct user *v;
	int n;
};

struct sess {
	uint8_t idh[SHA256_DIGEST_SIZE]; /* SHA-256 of the id's bytes; all zero: a free slot */
	char csrf[AUTH_TOKEN_HEX + 1];
	char user[AUTH_NAME_MAX + 1];
	enum auth_role role;
	int64_t created_ms, used_ms;
	int used;
};

/* Failed logins of one address or one name. */
struct track {
	char key[AUTH_NAME_MAX + 1]; /* an address or a user name */
	int fails;          /* in a row, since the last lock or success */
	int64_t last_ms;    /* last failure */
	int64_t until_ms;   /* locked before this */
	int64_t next_lock_ms; /* the next lock's length */
};

struct tracker {
	struct track *v;
	int nsets;
	const char *what; /* "address", "user" */
};

struct auth {
	pthread_mutex_t mu;
	struct auth_limits lim;
	struct users users;
	struct sess *sess;
	struct tracker by_addr, by_name;
	uint64_t seed; /* keys the tracker's set choice, so nobody aims at a set */
	char *dummy;   /* a yescrypt hash nobody's password matches: unknown names cost a check */
	struct log_rl fail_rl;
	struct auth_stats st;
};

static void hex_encode(const uint8_t *b, size_t n, char *out)
{
	static const char hx[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hx[b[i] >> 4];
		out[2 * i + 1] = hx[b[i] & 15];
	}
	out[2 * n] = '\0';
}

static int hex_decode(const char *s, uint8_t *b, size_t n)
{
	for (size_t i = 0; i < 2 * n; i++) {
		int c = s[i], v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;

		if (v < 0)
			return -EINVAL;
		if (i % 2 == 0)
			b[i / 2] = (uint8_t)(v << 4);
		else
			b[i / 2] |= (uint8_t)v;
	}
	return s[2 * n] ? -EINVAL : 0;
}

static int random_bytes(void *p, size_t n)
{
	uint8_t *b = p;

	while (n) {
		ssize_t r = getrandom(b, n, 0);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		b += r;
		n -= (size_t)r;
	}
	return 0;
}

static void id_hash(const uint8_t id[32], uint8_t out[SHA256_DIGEST_SIZE])
{
	struct sha256_ctx h;

	sha256_init(&h);
	sha256_update(&h, 32, id);
	sha256_digest(&h, SHA256_DIGEST_SIZE, out);
}

/* ---- users file ---- */

int auth_name_valid(const char *name)
{
	size_t n = strlen(name);

	if (n < 1 || n > AUTH_NAME_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)name[i]) && !strchr("._-", name[i]))
			return 0;
	return 1;
}

enum auth_role auth_role_parse(const char *s)
{
	if (strcmp(s, "viewer") == 0)
		return AUTH_ROLE_VIEWER;
	if (strcmp(s, "operator") == 0)
		return AUTH_ROLE_OPERATOR;
	return 0;
}

const char *auth_role_name(enum auth_role r)
{
	return r == AUTH_ROLE_OPERATOR ? "operator" : r == AUTH_ROLE_VIEWER ? "viewer" : "?";
}

const char *auth_hash_refusal(const char *hash)
{
	const char *last;
	size_t want;

	if (strncmp(hash, "$y$", 3) != 0 && strncmp(hash, "$6$", 3) != 0) {
		if (strncmp(hash, "$1$", 3) == 0)
			return "an MD5-crypt hash ($1$) is too weak; use yescrypt ($y$) or sha512-crypt ($6$)";
		if (hash[0] != '$')
			return "not a yescrypt ($y$) or sha512-crypt ($6$) hash (DES and other old hashes are refused)";
		return "an unsupported hash method; use yescrypt ($y$) or sha512-crypt ($6$)";
	}
	/* The setting must be one libcrypt takes and the checksum after the
	 * last '$' whole: 43 characters for yescrypt, 86 for sha512-crypt. */
	last = strrchr(hash, '$') + 1;
	want = hash[1] == 'y' ? 43 : 86;
	if (strlen(hash) >= CRYPT_OUTPUT_SIZE || crypt_checksalt(hash) != CRYPT_SALT_OK || strlen(last) != want ||
	    strspn(last, "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") != want)
		return "a malformed hash";
	return NULL;
}

static void users_clear(struct users *u)
{
	for (int i = 0; i < u->n; i++) {
		explicit_bzero(u->v[i].hash, strlen(u->v[i].hash));
		free(u->v[i].hash);
	}
	free(u->v);
	u->v = NULL;
	u->n = 0;
}

struct errbuf {
	char *s;
	size_t len;
	int n;
};

static void err_add(struct errbuf *e, const char *path, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void err_add(struct errbuf *e, const char *path, int line, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	char *add;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	add = line ? xasprintf("%s:%d: %s\n", path, line, msg) : xasprintf("%s: %s\n", path, msg);
	e->s = xrealloc(e->s, e->len + strlen(add) + 1);
	memcpy(e->s + e->len, add, strlen(add) + 1);
	e->len += strlen(add);
	e->n++;
	free(add);
}

/* One line (NUL-terminated, without its newline) into u, or an error. */
static void users_parse_line(struct users *u, char *s, const char *path, int line, struct errbuf *e)
{
	char *name = s, *hash, *role;
	const char *why;
	enum auth_role r;

	if (s[0] && s[strlen(s) - 1] == '\r')
		s[strlen(s) - 1] = '\0';
	while (*s == ' ' || *s == '\t')
		s++;
	if (!*s || *s == '#')
		return;
	name = s;
	hash = strchr(name, ':');
	role = hash ? strchr(hash + 1, ':') : NULL;
	if (!role || strchr(role + 1, ':')) {
		err_add(e, path, line, "expected name:hash:role");
		return;
	}
	*hash++ = '\0';
	*role++ = '\0';
	if (!auth_name_valid(name)) {
		err_add(e, path, line, "user name '%.80s' is not 1 to 64 of A-Z a-z 0-9 . _ -", name);
		return;
	}
	if ((why = auth_hash_refusal(hash))) {
		err_add(e, path, line, "user %s: %s", name, why);
		return;
	}
	if (!(r = auth_role_parse(role))) {
		err_add(e, path, line, "user %s: role '%.40s' is not viewer or operator", name, role);
		return;
	}
	for (int i = 0; i < u->n; i++)
		if (strcmp(u->v[i].name, name) == 0) {
			err_add(e, path, line, "user %s appears twice", name);
			return;
		}
	if (u->n >= USERS_MAX) {
		err_add(e, path, line, "more than %d users", USERS_MAX);
		return;
	}
	u->v = xrealloc(u->v, (size_t)(u->n + 1) * sizeof(*u->v));
	strlcpy_cc(u->v[u->n].name, name, sizeof(u->v[u->n].name));
	u->v[u->n].hash = xstrdup(hash);
	u->v[u->n++].role = r;
}

/* The whole file, checked to be a regular file only its owner can read. */
static char *users_read(const char *path, struct errbuf *e, int *rc)
{
	struct stat st;
	char *text = NULL;
	ssize_t got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd < 0) {
		*rc = -errno;
		err_add(e, path, 0, "cannot read users file: %s", strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		err_add(e, path, 0, "users file is not a regular file");
	else if (st.st_mode & 077)
		err_add(e, path, 0, "users file is readable by others (chmod 600 it)");
	else if (st.st_size > USERS_FILE_MAX)
		err_add(e, path, 0, "users file is larger than %d bytes", USERS_FILE_MAX);
	else {
		text = xmalloc((size_t)st.st_size + 1);
		while (got < st.st_size) {
			ssize_t r = read(fd, text + got, (size_t)(st.st_size - got));

			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				break;
			got += r;
		}
		text[got] = '\0';
		if (memchr(text, '\0', (size_t)got))
			err_add(e, path, 0, "users file holds a NUL byte");
	}
	close(fd);
	if (e->n) {
		free(text);
		*rc = *rc ? *rc : -EINVAL;
		return NULL;
	}
	return text;
}

/* Drops sessions of users gone from u or whose role changed (under mu). */
static void sessions_prune_users(struct auth *a, const struct users *old, const struct users *u)
{
	for (int i = 0; i < a->lim.sessions_max; i++) {
		struct sess *s = &a->sess[i];
		int keep = 0;

		if (!s->used)
			continue;
		for (int j = 0; j < u->n && !keep; j++)
			if (strcmp(u->v[j].name, s->user) == 0 && u->v[j].role == s->role)
				keep = 1;
		/* A new password ends the old sessions too. */
		for (int j = 0; j < old->n && keep; j++)
			for (int k = 0; k < u->n; k++)
				if (strcmp(old->v[j].name, s->user) == 0 && strcmp(u->v[k].name, s->user) == 0 &&
				    strcmp(old->v[j].hash, u->v[k].hash) != 0)
					keep = 0;
		if (!keep) {
			log_info("web: session of user %s ended: the user was removed or changed in the users file",
				 s->user);
			explicit_bzero(s, sizeof(*s));
		}
	}
}

int auth_users_load(struct auth *a, const char *path, char **err)
{
	struct errbuf e = { 0 };
	struct users u = { 0 }, old;
	char *text, *p, *nl;
	int rc = 0, line = 0;

	if (err)
		*err = NULL;
	text = users_read(path, &e, &rc);
	for (p = text; p && *p; p = nl ? nl + 1 : p + strlen(p)) {
		nl = strchr(p, '\n');
		if (nl)
			*nl = '\0';
		users_parse_line(&u, p, path, ++line, &e);
	}
	if (text) {
		explicit_bzero(text, strlen(text));
		free(text);
	}
	if (e.n) {
		users_clear(&u);
		if (err)
			*err = e.s;
		else
			free(e.s);
		return rc ? rc : -EINVAL;
	}
	pthread_mutex_lock(&a->mu);
	old = a->users;
	a->users = u;
	sessions_prune_users(a, &old, &u);
	a->st.users = u.n;
	a->st.users_reloaded++;
	pthread_mutex_unlock(&a->mu);
	users_clear(&old);
	return 0;
}

/* ---- failed-login tracking ---- */

/* FNV-1a keyed by the random seed, with the high bits folded down after
 * every byte: a set index (a modulus of the low bits) then depends on the
 * seed and every bit, so nobody can aim keys at one set.  In memory only. */
static uint64_t key_hash(uint64_t seed, const char *k)
{
	uint64_t h = FNV1A64_BASIS ^ seed;

	for (; *k; k++) {
		h = fnv1a64_byte(h, (unsigned char)*k);
		h ^= h >> 29;
	}
	return h;
}

/* The slot of key (created, evicting the stalest unlocked one of its set,
 * when create); NULL when absent. */
static struct track *track_get(struct auth *a, struct tracker *t, const char *key, int create, int64_t now)
{
	struct track *set = &t->v[(key_hash(a->seed, key) % (uint64_t)t->nsets) * TRACK_WAYS], *victim = NULL;

	for (int i = 0; i < TRACK_WAYS; i++)
		if (set[i].key[0] && strcmp(set[i].key, key) == 0)
			return &set[i];
	if (!create)
		return NULL;
	for (int i = 0; i < TRACK_WAYS; i++) {
		struct track *c = &set[i];

		if (!c->key[0]) {
			victim = c;
			break;
		}
		/* Prefer an unlocked slot; among equals, the oldest failure. */
		if (!victim || ((c->until_ms <= now) > (victim->until_ms <= now)) ||
		    ((c->until_ms <= now) == (victim->until_ms <= now) && c->last_ms < victim->last_ms))
			victim = c;
	}
	if (victim->key[0])
		a->st.track_evicted++;
	memset(victim, 0, sizeof(*victim));
	strlcpy_cc(victim->key, key, sizeof(victim->key));
	return victim;
}

/* How long key stays locked (0: not locked). */
static int64_t track_locked(struct auth *a, struct tracker *t, const char *key, int64_t now)
{
	struct track *k = track_get(a, t, key, 0, now);

	return k && k->until_ms > now ? k->until_ms - now : 0;
}

static void track_fail(struct auth *a, struct tracker *t, const char *key, int64_t now)
{
	struct track *k = track_get(a, t, key, 1, now);

	/* A quiet spell as long as the longest lock forgives the past. */
	if (k->last_ms && now - k->last_ms > a->lim.lock_max_ms) {
		k->fails = 0;
		k->next_lock_ms = 0;
	}
	k->last_ms = now;
	if (++k->fails < a->lim.fail_max)
		return;
	if (!k->next_lock_ms)
		k->next_lock_ms = a->lim.lock_ms;
	k->until_ms = now + k->next_lock_ms;
	log_warn("web: %s %s locked for %" PRId64 " s after %d failed logins", t->what, key,
		 k->next_lock_ms / 1000, k->fails);
	k->next_lock_ms = k->next_lock_ms * 2 > a->lim.lock_max_ms ? a->lim.lock_max_ms : k->next_lock_ms * 2;
	k->fails = 0;
}

static void track_forget(struct auth *a, struct tracker *t, const char *key, int64_t now)
{
	struct track *k = track_get(a, t, key, 0, now);

	if (k)
		memset(k, 0, sizeof(*k));
}

/* ---- sessions ---- */

/* A free slot, or the least recently used one (dropped) (under mu). */
static struct sess *sess_slot(struct auth *a)
{
	struct sess *lru = NULL;

	for (int i = 0; i < a->lim.sessions_max; i++) {
		struct sess *s = &a->sess[i];

		if (!s->used)
			return s;
		if (!lru || s->used_ms < lru->used_ms)
			lru = s;
	}
	log_info("web: session of user %s ended: more than %d sessions open, it was the least recently used",
		 lru->user, a->lim.sessions_max);
	a->st.sessions_evicted++;
	explicit_bzero(lru, sizeof(*lru));
	return lru;
}

static int sess_alive(const struct auth *a, const struct sess *s, int64_t now)
{
	return s->used && now - s->used_ms < a->lim.idle_ms && now - s->created_ms < a->lim.absolute_ms;
}

static void sess_copy_out(const struct auth *a, const struct sess *s, const char *id_hex, int64_t now,
			  struct auth_session *out)
{
	memset(out, 0, sizeof(*out));
	memcpy(out->id, id_hex, AUTH_TOKEN_HEX);
	memcpy(out->csrf, s->csrf, sizeof(out->csrf));
	memcpy(out->user, s->user, sizeof(out->user));
	out->role = s->role;
	out->max_age_s = (s->created_ms + a->lim.absolute_ms - now) / 1000;
}

/* A new session for user (under mu). */
static int sess_open(struct auth *a, const struct user *u, int64_t now, struct auth_session *out)
{
	uint8_t id[32], csrf[32];
	char id_hex[AUTH_TOKEN_HEX + 1];
	struct sess *s;
	int rc;

	if ((rc = random_bytes(id, sizeof(id))) || (rc = random_bytes(csrf, sizeof(csrf))))
		return rc;
	s = sess_slot(a);
	id_hash(id, s->idh);
	hex_encode(id, sizeof(id), id_hex);
	hex_encode(csrf, sizeof(csrf), s->csrf);
	memcpy(s->user, u->name, sizeof(s->user));
	s->role = u->role;
	s->created_ms = s->used_ms = now;
	s->used = 1;
	sess_copy_out(a, s, id_hex, now, out);
	explicit_bzero(id, sizeof(id));
	explicit_bzero(id_hex, sizeof(id_hex));
	explicit_bzero(csrf, sizeof(csrf));
	return 0;
}

/* The live session with this cookie value (under mu), or NULL; a dead one
 * found on the way is cleared. */
static struct sess *sess_lookup(struct auth *a, const char *cookie, int64_t now)
{
	uint8_t id[32], h[SHA256_DIGEST_SIZE];
	struct sess *found = NULL;

	if (!cookie || hex_decode(cookie, id, sizeof(id)))
		return NULL;
	id_hash(id, h);
	explicit_bzero(id, sizeof(id));
	/* Every slot is compared, in constant time, whatever matches. */
	for (int i = 0; i < a->lim.sessions_max; i++) {
		struct sess *s = &a->sess[i];

		if (s->used && memeql_sec(s->idh, h, sizeof(h)))
			found = s;
	}
	if (found && !sess_alive(a, found, now)) {
		log_info("web: session of user %s expired", found->user);
		explicit_bzero(found, sizeof(*found));
		found = NULL;
	}
	return found;
}

int auth_session_find(struct auth *a, const char *cookie_value, int64_t now_ms, struct auth_session *out)
{
	struct sess *s;
	int rc = -ENOENT;

	pthread_mutex_lock(&a->mu);
	s = sess_lookup(a, cookie_value, now_ms);
	if (s) {
		s->used_ms = now_ms;
		sess_copy_out(a, s, cookie_value, now_ms, out);
		rc = 0;
	}
	pthread_mutex_unlock(&a->mu);
	return rc;
}

int auth_session_alive(struct auth *a, const char *cookie_value, int64_t now_ms)
{
	int alive;

	pthread_mutex_lock(&a->mu);
	alive = sess_lookup(a, cookie_value, now_ms) != NULL;
	pthread_mutex_unlock(&a->mu);
	return alive;
}

int auth_sessions_expire(struct auth *a, int64_t now_ms)
{
	int n = 0;

	pthread_mutex_lock(&a->mu);
	for (int i = 0; i < a->lim.sessions_max; i++)
		if (a->sess[i].used && !sess_alive(a, &a->sess[i], now_ms)) {
			explicit_bzero(&a->sess[i], sizeof(a->sess[i]));
			n++;
		}
	pthread_mutex_unlock(&a->mu);
	if (n)
		log_info("web: %d session%s expired", n, n == 1 ? "" : "s");
	return n;
}

void auth_logout(struct auth *a, const char *cookie_value)
{
	struct sess *s;

	pthread_mutex_lock(&a->mu);
	/* At time 0, before any session was used, every session counts as live: the one with this id goes. */
	s = sess_lookup(a, cookie_value, 0);
	if (s) {
		log_info("web: user %s logged out", s->user);
		explicit_bzero(s, sizeof(*s));
	}
	pthread_mutex_unlock(&a->mu);
}

int auth_csrf_check(const struct auth_session *s, const char *token)
{
	if (!s || !token || strlen(token) != AUTH_TOKEN_HEX || strlen(s->csrf) != AUTH_TOKEN_HEX)
		return 0;
	return memeql_sec(s->csrf, token, AUTH_TOKEN_HEX) ? 1 : 0;
}

int auth_cookie_header(const struct auth_session *s, int secure, char *buf, size_t n)
{
	int len;

	if (s)
		len = snprintf(buf, n, AUTH_COOKIE_NAME "=%s; Path=/; Max-Age=%" PRId64 "; HttpOnly; SameSite=Strict%s",
			       s->id, s->max_age_s > 0 ? s->max_age_s : 0, secure ? "; Secure" : "");
	else
		len = snprintf(buf, n, AUTH_COOKIE_NAME "=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict%s",
			       secure ? "; Secure" : "");
	return len < 0 || (size_t)len >= n ? -ENOSPC : len;
}

/* ---- login ---- */

/* 1 when password matches hash: crypt off the lock, compared in constant
 * time.  A NULL hash (an unknown name) is checked against the dummy, so it
 * costs the same and never matches. */
static int password_matches(const char *hash, const char *dummy, const char *password)
{
	struct crypt_data *cd = calloc(1, sizeof(*cd));
	const char *h = hash ? hash : dummy;
	int ok = 0;

	if (!cd)
		return -ENOMEM;
	if (crypt_rn(password, h, cd, sizeof(*cd)) && cd->output[0] != '*' &&
	    strlen(cd->output) == strlen(h))
		ok = memeql_sec(cd->output, h, strlen(h)) && hash;
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	return ok;
}

/* The failure's bookkeeping and log line (under mu). */
static void login_failed(struct auth *a, const char *user, const char *ip, int64_t now)
{
	uint32_t more = 0;

	a->st.login_failed++;
	track_fail(a, &a->by_addr, ip, now);
	track_fail(a, &a->by_name, user, now);
	if (log_rl_allow(&a->fail_rl, a->lim.log_every_ms, &more))
		log_warn("web: failed login for user %s from %s (%" PRIu32 " more since the last such line)", user,
			 ip, more);
}

/* The user's hash, copied (under mu) for a check off the lock; NULL if none. */
static char *user_hash_dup(struct auth *a, const char *user)
{
	for (int i = 0; i < a->users.n; i++)
		if (strcmp(a->users.v[i].name, user) == 0)
			return xstrdup(a->users.v[i].hash);
	return NULL;
}

int auth_login(struct auth *a, const char *user, const char *password, const char *client_ip, int64_t now_ms,
	       struct auth_session *out, int64_t *retry_ms)
{
	char shown[AUTH_NAME_MAX + 1];
	char *hash = NULL;
	int64_t wait;
	int ok, rc = -EACCES;

	/* A name that cannot exist is logged as "?", never as what was typed
	 * (it might be a password typed in the wrong box). */
	strlcpy_cc(shown, auth_name_valid(user) ? user : "?", sizeof(shown));
	pthread_mutex_lock(&a->mu);
	wait = track_locked(a, &a->by_addr, client_ip, now_ms);
	if (!wait)
		wait = track_locked(a, &a->by_name, shown, now_ms);
	if (wait) {
		a->st.login_locked++;
		pthread_mutex_unlock(&a->mu);
		if (retry_ms)
			*retry_ms = wait;
		return -EAGAIN;
	}
	hash = user_hash_dup(a, shown);
	pthread_mutex_unlock(&a->mu);

	ok = strlen(password) > AUTH_PASSWORD_MAX ? 0 : password_matches(hash, a->dummy, password);
	if (ok < 0) {
		rc = ok;
		ok = 0;
	}
	pthread_mutex_lock(&a->mu);
	/* The file may have been reloaded meanwhile: the user must still hold this hash. */
	if (ok > 0) {
		ok = 0;
		for (int i = 0; i < a->users.n; i++)
			if (strcmp(a->users.v[i].name, shown) == 0 && strcmp(a->users.v[i].hash, hash) == 0) {
				rc = sess_open(a, &a->users.v[i], now_ms, out);
				ok = rc == 0;
			}
	}
	if (ok) {
		a->st.login_ok++;
		track_forget(a, &a->by_addr, client_ip, now_ms);
		track_forget(a, &a->by_name, shown, now_ms);
		log_info("web: user %s logged in from %s", shown, client_ip);
	} else if (rc == -EACCES) {
		login_failed(a, shown, client_ip, now_ms);
	}
	pthread_mutex_unlock(&a->mu);
	if (hash) {
		explicit_bzero(hash, strlen(hash));
		free(hash);
	}
	return ok ? 0 : rc;
}

/* ---- the core ---- */

static void limits_default(struct auth_limits *l)
{
	if (l->idle_ms <= 0)
		l->idle_ms = 12 * 3600 * 1000LL;
	if (l->absolute_ms <= 0)
		l->absolute_ms = 7 * 24 * 3600 * 1000LL;
	if (l->sessions_max <= 0)
		l->sessions_max = 1024;
	if (l->fail_max <= 0)
		l->fail_max = 5;
	if (l->lock_ms <= 0)
		l->lock_ms = 60 * 1000;
	if (l->lock_max_ms < l->lock_ms)
		l->lock_max_ms = l->lock_ms > 15 * 60 * 1000 ? l->lock_ms : 15 * 60 * 1000;
	if (l->track_max <= 0)
		l->track_max = 4096;
	if (l->log_every_ms <= 0)
		l->log_every_ms = 10 * 1000;
}

/* The dummy hash: yescrypt of a random password nobody knows. */
static char *dummy_hash(void)
{
	char salt[CRYPT_GENSALT_OUTPUT_SIZE], pw[33];
	uint8_t r[16];
	struct crypt_data *cd = calloc(1, sizeof(*cd));
	char *h = NULL;

	if (cd && random_bytes(r, sizeof(r)) == 0 && crypt_gensalt_rn("$y$", 0, NULL, 0, salt, sizeof(salt))) {
		hex_encode(r, sizeof(r), pw);
		if (crypt_rn(pw, salt, cd, sizeof(*cd)) && cd->output[0] == '$')
			h = strdup(cd->output);
	}
	free(cd);
	if (!h)
		errno = errno ? errno : EINVAL;
	return h;
}

struct auth *auth_new(const struct auth_limits *limits)
{
	struct auth *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	if (limits)
		a->lim = *limits;
	limits_default(&a->lim);
	a->by_addr.nsets = a->by_name.nsets = (a->lim.track_max + TRACK_WAYS - 1) / TRACK_WAYS;
	a->by_addr.what = "address";
	a->by_name.what = "user";
	a->by_addr.v = calloc((size_t)a->by_addr.nsets * TRACK_WAYS, sizeof(struct track));
	a->by_name.v = calloc((size_t)a->by_name.nsets * TRACK_WAYS, sizeof(struct track));
	a->sess = calloc((size_t)a->lim.sessions_max, sizeof(struct sess));
	a->dummy = dummy_hash();
	pthread_mutex_init(&a->mu, NULL);
	if (!a->by_addr.v || !a->by_name.v || !a->sess || !a->dummy || random_bytes(&a->seed, sizeof(a->seed))) {
		auth_free(a);
		errno = errno ? errno : ENOMEM;
		return NULL;
	}
	return a;
}

void auth_free(struct auth *a)
{
	if (!a)
		return;
	users_clear(&a->users);
	if (a->sess)
		explicit_bzero(a->sess, (size_t)a->lim.sessions_max * sizeof(struct sess));
	free(a->sess);
	free(a->by_addr.v);
	free(a->by_name.v);
	free(a->dummy);
	pthread_mutex_destroy(&a->mu);
	free(a);
}

void auth_stats_get(struct auth *a, struct auth_stats *st)
{
	pthread_mutex_lock(&a->mu);
	*st = a->st;
	st->sessions = 0;
	for (int i = 0; i < a->lim.sessions_max; i++)
		st->sessions += a->sess[i].used;
	pthread_mutex_unlock(&a->mu);
}
