/* http_stub.h - a scripted HTTP/1.1 server for unit tests, run as a thread
 * inside the test on 127.0.0.1 and a free port.  It answers each request
 * with the next scripted reply (status, extra headers, body, or "hang":
 * never answer), then with a default reply, and records every request (time,
 * request line and headers, body) so tests assert on what really went over
 * the wire.  Keep-alive connections are served. */
#ifndef CC_HTTP_STUB_H
#define CC_HTTP_STUB_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define STUB_MAX_REQ 64
#define STUB_MAX_CLIENTS 8
#define STUB_MAX_SCRIPT 16

struct stub_reply {
	int status;
	const char *headers; /* extra header lines, each ending "\r\n", or NULL */
	const char *body;    /* or NULL */
	int hang;            /* read the request, never answer */
	int reset;           /* read the request, then reset the connection (RST) */
};

struct stub_req {
	int64_t t_ms; /* CLOCK_MONOTONIC ms when the whole request had arrived */
	char *head;   /* request line and headers */
	char *body;
	size_t body_len;
};

struct stub_client {
	int fd, hung;
	char *buf;
	size_t len, cap;
};

struct http_stub {
	int lfd, port, wake[2];
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct stub_reply script[STUB_MAX_SCRIPT];
	size_t nscript;
	struct stub_reply dflt;
	struct stub_req req[STUB_MAX_REQ];
	size_t nreq;
	struct stub_client cl[STUB_MAX_CLIENTS];
};

static int64_t stub_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void stub_write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

static size_t stub_content_length(const char *head)
{
	for (const char *p = head; (p = strchr(p, '\n')) != NULL;) {
		p++;
		if (strncasecmp(p, "Content-Length:", 15) == 0)
			return (size_t)strtoul(p + 15, NULL, 10);
	}
	return 0;
}

/* Serves every complete request in c->buf. */
static void stub_serve(struct http_stub *s, struct stub_client *c)
{
	for (;;) {
		char *end = c->len ? memmem(c->buf, c->len, "\r\n\r\n", 4) : NULL;
		size_t hl, bl, total;
		struct stub_reply rep;
		char hdr[1024];
		int n;

		if (!end)
			return;
		hl = (size_t)(end - c->buf) + 4;
		end[2] = '\0'; /* the head is now a C string (ends with one "\r\n") */
		bl = stub_content_length(c->buf);
		total = hl + bl;
		if (c->len < total) {
			end[2] = '\r';
			return;
		}
		pthread_mutex_lock(&s->mu);
		rep = s->nreq < s->nscript ? s->script[s->nreq] : s->dflt;
		if (s->nreq < STUB_MAX_REQ) {
			struct stub_req *r = &s->req[s->nreq];
			r->t_ms = stub_now_ms();
			r->head = strdup(c->buf);
			r->body = malloc(bl + 1);
			memcpy(r->body, c->buf + hl, bl);
			r->body[bl] = '\0';
			r->body_len = bl;
		}
		s->nreq++;
		pthread_cond_broadcast(&s->cv);
		pthread_mutex_unlock(&s->mu);

		memmove(c->buf, c->buf + total, c->len - total);
		c->len -= total;
		if (rep.hang) {
			c->hung = 1;
			return;
		}
		if (rep.reset) {
			struct linger lg = { 1, 0 };
			setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
			close(c->fd);
			c->fd = -1;
			c->len = 0;
			return;
		}
		n = snprintf(hdr, sizeof(hdr), "HTTP/1.1 %d Scripted\r\nContent-Length: %zu\r\n%s\r\n", rep.status,
			     rep.body ? strlen(rep.body) : 0, rep.headers ? rep.headers : "");
		stub_write_all(c->fd, hdr, (size_t)n);
		if (rep.body)
			stub_write_all(c->fd, rep.body, strlen(rep.body));
	}
}

static void *stub_main(void *arg)
{
	struct http_stub *s = arg;

	for (;;) {
		struct pollfd pf[2 + STUB_MAX_CLIENTS];
		int map[2 + STUB_MAX_CLIENTS];
		nfds_t n = 0;

		pf[n].fd = s->wake[0], pf[n].events = POLLIN, map[n++] = -1;
		pf[n].fd = s->lfd, pf[n].events = POLLIN, map[n++] = -1;
		for (int i = 0; i < STUB_MAX_CLIENTS; i++)
			if (s->cl[i].fd >= 0)
				pf[n].fd = s->cl[i].fd, pf[n].events = POLLIN, map[n++] = i;
		if (poll(pf, n, -1) < 0)
			continue;
		if (pf[0].revents)
			return NULL;
		if (pf[1].revents & POLLIN) {
			int fd = accept(s->lfd, NULL, NULL);
			int i;
			for (i = 0; fd >= 0 && i < STUB_MAX_CLIENTS && s->cl[i].fd >= 0; i++)
				;
			if (fd >= 0 && i == STUB_MAX_CLIENTS)
				close(fd);
			else if (fd >= 0)
				s->cl[i].fd = fd, s->cl[i].hung = 0, s->cl[i].len = 0;
		}
		for (nfds_t k = 2; k < n; k++) {
			struct stub_client *c = &s->cl[map[k]];
			ssize_t r;

			if (!pf[k].revents)
				continue;
			if (c->cap - c->len < 65536) {
				c->cap = c->cap * 2 + 65536;
				c->buf = realloc(c->buf, c->cap);
			}
			r = recv(c->fd, c->buf + c->len, c->cap - c->len - 1, 0);
			if (r <= 0) {
				close(c->fd);
				c->fd = -1;
				continue;
			}
			c->len += (size_t)r;
			if (!c->hung)
				stub_serve(s, c);
			else
				c->len = 0; /* a hung connection ignores what follows */
		}
	}
}

/* Starts on 127.0.0.1, port chosen by the kernel.  Returns 0 or -1. */
static int stub_start(struct http_stub *s, const struct stub_reply *script, size_t n, struct stub_reply dflt)
{
	struct sockaddr_in a;
	socklen_t al = sizeof(a);
	pthread_condattr_t ca;

	memset(s, 0, sizeof(*s));
	for (int i = 0; i < STUB_MAX_CLIENTS; i++)
		s->cl[i].fd = -1;
	for (size_t i = 0; i < n && i < STUB_MAX_SCRIPT; i++)
		s->script[i] = script[i];
	s->nscript = n;
	s->dflt = dflt;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s->lfd < 0 || bind(s->lfd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(s->lfd, 16) < 0 ||
	    getsockname(s->lfd, (struct sockaddr *)&a, &al) < 0 || pipe(s->wake) < 0)
		return -1;
	s->port = ntohs(a.sin_port);
	pthread_mutex_init(&s->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->cv, &ca);
	pthread_condattr_destroy(&ca);
	return pthread_create(&s->thread, NULL, stub_main, s) == 0 ? 0 : -1;
}

/* Waits (a safety timeout, not a speed assertion) until n requests arrived;
 * returns how many did. */
static size_t stub_wait(struct http_stub *s, size_t n, int64_t timeout_ms)
{
	int64_t until = stub_now_ms() + timeout_ms;
	size_t got;

	pthread_mutex_lock(&s->mu);
	while (s->nreq < n && stub_now_ms() < until) {
		struct timespec ts = { (time_t)(until / 1000), (long)(until % 1000) * 1000000L };
		pthread_cond_timedwait(&s->cv, &s->mu, &ts);
	}
	got = s->nreq;
	pthread_mutex_unlock(&s->mu);
	return got;
}

static size_t stub_count(struct http_stub *s)
{
	size_t n;

	pthread_mutex_lock(&s->mu);
	n = s->nreq;
	pthread_mutex_unlock(&s->mu);
	return n;
}

static void stub_stop(struct http_stub *s)
{
	if (write(s->wake[1], "x", 1) != 1)
		return;
	pthread_join(s->thread, NULL);
	for (int i = 0; i < STUB_MAX_CLIENTS; i++) {
		if (s->cl[i].fd >= 0)
			close(s->cl[i].fd);
		free(s->cl[i].buf);
	}
	for (size_t i = 0; i < s->nreq && i < STUB_MAX_REQ; i++) {
		free(s->req[i].head);
		free(s->req[i].body);
	}
	close(s->lfd);
	close(s->wake[0]);
	close(s->wake[1]);
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mu);
}

#endif
