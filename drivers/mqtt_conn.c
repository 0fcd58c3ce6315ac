/* mqtt_conn.c - TCP and TLS (OpenSSL) byte stream to an MQTT broker, for
 * drivers/mqtt.c (see mqtt_conn.h).  OpenSSL's errors are translated here
 * and never leave the file. */
#include "mqtt_conn.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../daemon/util.h"

struct mqtt_tls {
	SSL_CTX *ctx;
	int insecure;
};

struct mqtt_conn {
	int fd;
	SSL *ssl;           /* NULL: plain TCP */
	short wants;        /* what the last -EAGAIN waits for */
	size_t wretry;      /* TLS: the length a write that wanted more must be repeated with */
	char err[256];
};

/* OpenSSL's first queued reason ("certificate verify failed"), the queue
 * emptied; what when the queue is empty. */
static void tls_reason(char *buf, size_t len, const char *what)
{
	unsigned long e = ERR_get_error();
	const char *r = e ? ERR_reason_error_string(e) : NULL;

	snprintf(buf, len, "%s", r ? r : what);
	ERR_clear_error();
}

struct mqtt_tls *mqtt_tls_new(const struct mqtt_tls_opts *o, char *err, size_t errlen)
{
	struct mqtt_tls *t = xcalloc(1, sizeof(*t));
	const char *dir = o->ca_dir ? o->ca_dir : (!o->ca_file ? "/etc/ssl/certs" : NULL);
	char why[160];

	ERR_clear_error();
	t->ctx = SSL_CTX_new(TLS_client_method());
	if (!t->ctx) {
		tls_reason(why, sizeof(why), "out of memory");
		snprintf(err, errlen, "TLS context: %s", why);
		goto fail;
	}
	SSL_CTX_set_min_proto_version(t->ctx, TLS1_2_VERSION);
	/* our write buffer grows (it may move between a short write and its
	 * repetition) and takes what a write could send */
	SSL_CTX_set_mode(t->ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	if (SSL_CTX_load_verify_locations(t->ctx, o->ca_file, dir) != 1) {
		tls_reason(why, sizeof(why), "cannot be read");
		snprintf(err, errlen, "TLS CA %s%s%s: %s", o->ca_file ? o->ca_file : "", o->ca_file && dir ? ", " : "",
			 dir ? dir : "", why);
		goto fail;
	}
	if (o->cert && SSL_CTX_use_certificate_chain_file(t->ctx, o->cert) != 1) {
		tls_reason(why, sizeof(why), "cannot be read");
		snprintf(err, errlen, "TLS client certificate %s: %s", o->cert, why);
		goto fail;
	}
	if (o->key && (SSL_CTX_use_PrivateKey_file(t->ctx, o->key, SSL_FILETYPE_PEM) != 1 ||
		       SSL_CTX_check_private_key(t->ctx) != 1)) {
		tls_reason(why, sizeof(why), "cannot be read");
		snprintf(err, errlen, "TLS client key %s: %s", o->key, why);
		goto fail;
	}
	t->insecure = o->insecure;
	SSL_CTX_set_verify(t->ctx, o->insecure ? SSL_VERIFY_NONE : SSL_VERIFY_PEER, NULL);
	return t;
fail:
	mqtt_tls_free(t);
	errno = EINVAL;
	return NULL;
}

void mqtt_tls_free(struct mqtt_tls *t)
{
	if (!t)
		return;
	SSL_CTX_free(t->ctx);
	free(t);
}

/* Waits for events on fd until deadline_ms or cancel_fd: 1 ready, 0 timed
 * out, -ECANCELED, or -errno. */
static int wait_fd(int fd, short events, int64_t deadline_ms, int cancel_fd)
{
	for (;;) {
		struct pollfd p[2] = { { .fd = fd, .events = events }, { .fd = cancel_fd, .events = POLLIN } };
		int64_t left = deadline_ms - time_mono_ms();
		int r;

		if (left <= 0)
			return 0;
		r = poll(p, cancel_fd >= 0 ? 2 : 1, left > 60000 ? 60000 : (int)left);
		if (r < 0 && errno != EINTR)
			return -errno;
		if (r > 0 && (p[1].revents & POLLIN))
			return -ECANCELED;
		if (r > 0 && p[0].revents)
			return 1;
	}
}

/* A TCP connection to one address by deadline_ms: the socket, or -errno. */
static int tcp_connect(const struct addrinfo *ai, int64_t deadline_ms, int cancel_fd)
{
	int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol), e = 0;
	socklen_t el = sizeof(e);
	int r;

	if (fd < 0)
		return -errno;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
		return fd;
	if (errno != EINPROGRESS) {
		e = errno;
		goto fail;
	}
	r = wait_fd(fd, POLLOUT, deadline_ms, cancel_fd);
	if (r <= 0) {
		e = r ? -r : ETIMEDOUT;
		goto fail;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el) < 0)
		e = errno;
	if (e)
		goto fail;
	return fd;
fail:
	close(fd);
	return -e;
}

static int is_ip_literal(const char *host)
{
	unsigned char b[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, host, b) == 1 || inet_pton(AF_INET6, host, b) == 1;
}

/* The handshake by deadline_ms: 0, or -errno with c->err set. */
static int tls_handshake(struct mqtt_conn *c, struct mqtt_tls *t, const char *host, int64_t deadline_ms,
			 int cancel_fd)
{
	char why[160];

	ERR_clear_error();
	c->ssl = SSL_new(t->ctx);
	if (!c->ssl || SSL_set_fd(c->ssl, c->fd) != 1) {
		tls_reason(why, sizeof(why), "out of memory");
		snprintf(c->err, sizeof(c->err), "TLS: %s", why);
		return -ENOMEM;
	}
	if (!is_ip_literal(host))
		SSL_set_tlsext_host_name(c->ssl, host);
	if (!t->insecure && SSL_set1_host(c->ssl, host) != 1) {
		snprintf(c->err, sizeof(c->err), "TLS: cannot check the host name %s", host);
		return -EINVAL;
	}
	for (;;) {
		int r = SSL_connect(c->ssl), e, w;

		if (r == 1)
			return 0;
		e = SSL_get_error(c->ssl, r);
		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
			w = wait_fd(c->fd, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline_ms, cancel_fd);
			if (w > 0)
				continue;
			snprintf(c->err, sizeof(c->err), "TLS handshake: %s",
				 w == 0 ? "timed out" : strerror(-w));
			return w == 0 ? -ETIMEDOUT : w;
		}
		if (e == SSL_ERROR_SYSCALL && !ERR_peek_error()) {
			int se = errno ? errno : ECONNRESET;
			snprintf(c->err, sizeof(c->err), "TLS handshake: %s",
				 r == 0 ? "the broker closed the connection" : strerror(se));
			return -se;
		}
		tls_reason(why, sizeof(why), "failed");
		{
			long v = SSL_get_verify_result(c->ssl);
			if (v != X509_V_OK)
				snprintf(c->err, sizeof(c->err), "TLS handshake: %s (%s)", why,
					 X509_verify_cert_error_string(v));
			else
				snprintf(c->err, sizeof(c->err), "TLS handshake: %s", why);
		}
		return -EPROTO;
	}
}

struct mqtt_conn *mqtt_conn_open(const char *host, int port, struct mqtt_tls *tls, int nodelay, int64_t deadline_ms,
				 int cancel_fd, char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_ADDRCONFIG };
	struct addrinfo *res = NULL, *ai;
	struct mqtt_conn *c;
	char service[16];
	int r, old, e = ECONNREFUSED, one = 1;

	snprintf(service, sizeof(service), "%d", port);
	/* the lookup may block on DNS: mqtt_stop may cancel the thread here */
	pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, &old);
	r = getaddrinfo(host, service, &hints, &res);
	pthread_setcancelstate(old, NULL);
	if (r != 0) {
		snprintf(err, errlen, "%s: %s", host, r == EAI_SYSTEM ? strerror(errno) : gai_strerror(r));
		errno = r == EAI_SYSTEM ? errno : EHOSTUNREACH;
		return NULL;
	}
	c = xcalloc(1, sizeof(*c));
	c->fd = -1;
	for (ai = res; ai; ai = ai->ai_next) {
		r = tcp_connect(ai, deadline_ms, cancel_fd);
		if (r >= 0) {
			c->fd = r;
			break;
		}
		e = -r;
		if (e == ECANCELED)
			break;
	}
	freeaddrinfo(res);
	if (c->fd < 0) {
		snprintf(err, errlen, "%s", strerror(e));
		goto fail;
	}
	if (nodelay)
		setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (tls && (r = tls_handshake(c, tls, host, deadline_ms, cancel_fd)) < 0) {
		e = -r;
		snprintf(err, errlen, "%s", c->err);
		goto fail;
	}
	c->wants = POLLIN;
	return c;
fail:
	mqtt_conn_close(c);
	errno = e;
	return NULL;
}

int mqtt_conn_fd(const struct mqtt_conn *c)
{
	return c->fd;
}

/* An SSL_read/SSL_write that returned r <= 0: -EAGAIN (c->wants set), 0
 * (closed) for a read, or -errno with c->err. */
static ssize_t tls_fail(struct mqtt_conn *c, int r, int reading)
{
	int e = SSL_get_error(c->ssl, r);
	char why[160];

	switch (e) {
	case SSL_ERROR_WANT_READ:
		c->wants = POLLIN;
		return -EAGAIN;
	case SSL_ERROR_WANT_WRITE:
		c->wants = POLLOUT;
		return -EAGAIN;
	case SSL_ERROR_ZERO_RETURN: /* close_notify */
		return reading ? 0 : -EPIPE;
	case SSL_ERROR_SYSCALL:
		if (!ERR_peek_error()) {
			/* errno says what (0: an EOF) */
			if (!errno)
				return reading ? 0 : -EPIPE;
			snprintf(c->err, sizeof(c->err), "%s", strerror(errno));
			return -errno;
		}
		/* fall through */
	default:
		/* OpenSSL 3: the broker closed without close_notify */
		if (reading && ERR_GET_REASON(ERR_peek_error()) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
			ERR_clear_error();
			return 0;
		}
		tls_reason(why, sizeof(why), "TLS error");
		snprintf(c->err, sizeof(c->err), "TLS: %s", why);
		return -EPROTO;
	}
}

/* A plain read() or write() that failed: -EAGAIN (waiting for wants), or
 * -errno with c->err. */
static ssize_t plain_fail(struct mqtt_conn *c, short wants)
{
	int e = errno;

	if (e == EAGAIN || e == EWOULDBLOCK) {
		c->wants = wants;
		return -EAGAIN;
	}
	snprintf(c->err, sizeof(c->err), "%s", strerror(e));
	return -e;
}

ssize_t mqtt_conn_read(struct mqtt_conn *c, void *buf, size_t n)
{
	ssize_t r;

	if (c->ssl) {
		int k;

		errno = 0;
		ERR_clear_error();
		k = SSL_read(c->ssl, buf, n > INT32_MAX ? INT32_MAX : (int)n);
		if (k > 0)
			return k;
		return tls_fail(c, k, 1);
	}
	r = read(c->fd, buf, n);
	return r >= 0 ? r : plain_fail(c, POLLIN);
}

ssize_t mqtt_conn_write(struct mqtt_conn *c, const void *buf, size_t n)
{
	ssize_t r;

	if (c->ssl) {
		int k;

		/* SSL_write must be repeated with what it was offered before */
		if (c->wretry && n > c->wretry)
			n = c->wretry;
		errno = 0;
		ERR_clear_error();
		k = SSL_write(c->ssl, buf, n > INT32_MAX ? INT32_MAX : (int)n);
		if (k > 0) {
			c->wretry = 0;
			return k;
		}
		r = tls_fail(c, k, 0);
		if (r == -EAGAIN)
			c->wretry = n;
		return r;
	}
	r = write(c->fd, buf, n);
	return r >= 0 ? r : plain_fail(c, POLLOUT);
}

int mqtt_conn_pending(const struct mqtt_conn *c)
{
	return c->ssl && SSL_pending(c->ssl) > 0;
}

short mqtt_conn_wants(const struct mqtt_conn *c)
{
	return c->wants;
}

void mqtt_conn_quickack(struct mqtt_conn *c)
{
	int one = 1;

	setsockopt(c->fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
}

int mqtt_conn_set_lowat(struct mqtt_conn *c, int bytes)
{
	return setsockopt(c->fd, SOL_SOCKET, SO_RCVLOWAT, &bytes, sizeof(bytes)) < 0 ? -errno : 0;
}

int mqtt_conn_shutdown_write(struct mqtt_conn *c)
{
	return shutdown(c->fd, SHUT_WR) < 0 ? -errno : 0;
}

const char *mqtt_conn_error(const struct mqtt_conn *c)
{
	return c->err[0] ? c->err : "unknown error";
}

void mqtt_conn_close(struct mqtt_conn *c)
{
	if (!c)
		return;
	if (c->ssl)
		SSL_free(c->ssl); /* no close_notify: the MQTT DISCONNECT said goodbye */
	if (c->fd >= 0)
		close(c->fd);
	free(c);
}
