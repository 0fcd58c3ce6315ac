/* mqtt_out.c - what the MQTT client writes (drivers/mqtt_int.h): the
 * write buffer its packets are queued in (the network thread's PUBACKs,
 * PINGREQs and DISCONNECT, mqtt_subs.c's (UN)SUBSCRIBEs, the reload's while
 * that thread is parked), the alert publisher's queue (mqtt_publish, which
 * writes a PUBLISH itself when it can go out whole and in order), the wake
 * pipe that tells the network thread there is something to write, and the
 * writes themselves.  Written under the client's lock (mqtt_flush_out,
 * mqtt_publish), so no thread's packet cuts into another's. */
#include "mqtt_int.h"
#include "mqtt_conn.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../codec/mqtt_wire.h"
#include "../daemon/log.h"
#include "../daemon/util.h"

/* Room for n more bytes at wbuf + wlen. */
uint8_t *mqtt_wbuf_room(struct mqtt_client *c, size_t n)
{
	if (c->woff == c->wlen)
		c->woff = c->wlen = 0;
	if (c->wlen + n > c->wcap) {
		c->wcap = c->wlen + n > 2 * c->wcap ? c->wlen + n : 2 * c->wcap;
		c->wbuf = xrealloc(c->wbuf, c->wcap);
	}
	return c->wbuf + c->wlen;
}

/* Queues an encoded packet (an encoder's result r: its length, or < 0). */
void mqtt_wbuf_commit(struct mqtt_client *c, int r, const char *what)
{
	if (r < 0) { /* our own packet: only an oversized filter or id gets here */
		log_err("mqtt broker %s: cannot encode %s: %s", c->broker, what, mqtt_wire_strerror(r));
		return;
	}
	c->wlen += (size_t)r;
}

/* Empties the wake pipe (the network thread, before it waits again). */
void mqtt_wake_drain(struct mqtt_client *c)
{
	char buf[64];

	while (read(c->wake[0], buf, sizeof(buf)) > 0)
		;
}

/* Wakes the network thread to write what another thread queued. */
void mqtt_wake(struct mqtt_client *c)
{
	ssize_t r = write(c->wake[1], "", 1); /* full pipe: a wake-up is pending anyway */

	(void)r;
}

/* Under c->lock: writes what is queued, as far as the socket takes it
 * now: 0 or -errno. */
static int write_out(struct mqtt_client *c)
{
	while (c->woff < c->wlen) {
		ssize_t w = mqtt_conn_write(c->conn, c->wbuf + c->woff, c->wlen - c->woff);

		if (w == -EAGAIN)
			return 0;
		if (w < 0) {
			snprintf(c->last_err, sizeof(c->last_err), "%s", mqtt_conn_error(c->conn));
			return (int)w;
		}
		c->woff += (size_t)w;
		c->last_tx_ms = time_mono_ms();
	}
	c->woff = c->wlen = 0;
	return 0;
}

/* The burst's PUBACKs, once its journal record is written: 4 bytes each,
 * the same in both versions (v5's short form, reason Success). */
void mqtt_queue_pubacks(struct mqtt_client *c)
{
	uint8_t *b;

	if (!c->nacks)
		return;
	b = mqtt_wbuf_room(c, 4 * c->nacks);
	for (size_t i = 0; i < c->nacks; i++, b += 4) {
		b[0] = MQTT_PUBACK << 4;
		b[1] = 2;
		b[2] = (uint8_t)(c->acks[i] >> 8);
		b[3] = (uint8_t)c->acks[i];
	}
	c->wlen += 4 * c->nacks;
	c->nacks = 0;
}

/* Under c->lock: what other threads queued (mqtt_publish) joins the write
 * buffer; the rest of a packet mqtt_publish began to write goes first
 * (wbuf[woff] is then at a packet's start: mqtt_publish writes only when
 * the last flush left nothing unwritten, !wpending). */
void mqtt_take_published(struct mqtt_client *c)
{
	uint8_t *b;

	if (!c->pqlen)
		return;
	b = mqtt_wbuf_room(c, c->pqlen);
	if (c->pq_part) {
		memmove(c->wbuf + c->woff + c->pqlen, c->wbuf + c->woff, c->wlen - c->woff);
		b = c->wbuf + c->woff;
	}
	memcpy(b, c->pq, c->pqlen);
	c->wlen += c->pqlen;
	c->pqlen = 0;
	c->pq_part = 0;
}

/* What other threads queued joins the buffer, and the buffer is written
 * as far as the socket takes it, under c->lock: mqtt_publish writes only
 * after one that wrote everything (!wpending), so its packet neither cuts
 * into one of these nor overtakes a PUBLISH queued before it.  0 or -errno. */
int mqtt_flush_out(struct mqtt_client *c)
{
	int rc;

	pthread_mutex_lock(&c->lock);
	mqtt_take_published(c);
	rc = write_out(c);
	c->wpending = c->woff < c->wlen;
	pthread_mutex_unlock(&c->lock);
	return rc;
}

/*
 * Under c->lock, connected: writes pq (the packet just queued, after any
 * queued before it) on the socket from the calling thread, when that keeps
 * every packet whole and in order: plain TCP (a TLS session is the network
 * thread's alone) and the network thread's last mqtt_flush_out wrote everything
 * (so nothing of its is cut into or overtaken; a pq begun here and not
 * taken since just goes on).  A plain send() that touches no state of the
 * connection; what it does not take stays in pq, marked as begun
 * (mqtt_take_published puts it first).  1 when pq is empty after it.
 */
static int write_direct(struct mqtt_client *c)
{
	size_t len = c->pqlen;
	ssize_t w;

	if (c->tls || c->wpending)
		return 0;
	w = send(mqtt_conn_fd(c->conn), c->pq, len, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (w <= 0) /* EAGAIN, or an error the network thread meets next */
		return 0;
	c->pqlen -= (size_t)w;
	if (c->pqlen) {
		memmove(c->pq, c->pq + w, c->pqlen);
		c->pq_part = 1;
		return 0;
	}
	c->direct++;
	return 1;
}

int mqtt_publish(struct mqtt_client *c, const char *topic, const void *payload, size_t len, int retain, int *id,
		 uint64_t *gen)
{
	size_t tl = strlen(topic), need = tl + len + 16;
	int r = 0;

	if (!tl || tl > 65535 || len > MQTT_WIRE_REMLEN_MAX - tl - 16)
		return -EMSGSIZE;
	pthread_mutex_lock(&c->lock);
	if (!c->connected) {
		r = -ENOTCONN;
		goto out;
	}
	if (c->pqlen + need > c->pqcap) {
		c->pqcap = c->pqlen + need > 2 * c->pqcap ? c->pqlen + need : 2 * c->pqcap;
		c->pq = xrealloc(c->pq, c->pqcap);
	}
	if (++c->pub_id == 0)
		c->pub_id = 1;
	r = mqtt_wire_publish(c->pq + c->pqlen, c->pqcap - c->pqlen, c->version, topic, tl, 1, retain, c->pub_id,
			      payload, len);
	if (r < 0)
		goto out;
	c->pqlen += (size_t)r;
	*id = c->pub_id;
	*gen = c->conn_gen;
	r = 0;
	if (!write_direct(c))
		mqtt_wake(c);
out:
	pthread_mutex_unlock(&c->lock);
	return r;
}
