/* mqtt_conn.h - the byte stream under coldchaind's own MQTT client
 * (drivers/mqtt.c): a TCP connection to the broker, TLS over it through
 * OpenSSL when configured, non-blocking reads and writes, errors as text.
 * It knows nothing of MQTT packets (codec/mqtt_wire.h does).  Only
 * mqtt_conn.c includes OpenSSL's headers.  Reads and writes are read() and
 * write() (OpenSSL's are too; /proc/PID/io counts them): the calling thread
 * blocks SIGPIPE, so a broker gone is EPIPE (drivers/mqtt.c's loop_main). */
#ifndef CC_MQTT_CONN_H
#define CC_MQTT_CONN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct mqtt_tls;
struct mqtt_conn;

struct mqtt_tls_opts {
	const char *ca_file, *ca_dir; /* both NULL: /etc/ssl/certs */
	const char *cert, *key;       /* a client certificate: both or neither */
	int insecure;                 /* no certificate or host name check */
};

/* A TLS context made once per client: the CAs loaded, the client
 * certificate and key checked against each other, verification on (unless
 * insecure), TLS 1.2 at least.  NULL + errno with err saying which file
 * and OpenSSL's reason. */
struct mqtt_tls *mqtt_tls_new(const struct mqtt_tls_opts *o, char *err, size_t errlen);
void mqtt_tls_free(struct mqtt_tls *t);

/*
 * Connects to host:port, each address getaddrinfo gives in turn, then does
 * the TLS handshake when tls is not NULL (the broker's certificate must
 * name host, unless insecure; SNI sent for a host name).  Done by
 * deadline_ms (time_mono_ms); given up as soon as cancel_fd is readable
 * (the caller's wake pipe: stop), with ECANCELED.  nodelay: TCP_NODELAY.
 * The connection is non-blocking.  NULL + errno with err set (the address
 * and the system's or OpenSSL's reason: "certificate verify failed (...)").
 * The name lookup is the one blocking step, and a pthread cancellation
 * point.
 */
struct mqtt_conn *mqtt_conn_open(const char *host, int port, struct mqtt_tls *tls, int nodelay, int64_t deadline_ms,
				 int cancel_fd, char *err, size_t errlen);
int mqtt_conn_fd(const struct mqtt_conn *c);
/* One read of at most n bytes: their count; 0 when the broker closed the
 * connection; -EAGAIN when nothing is there yet; another -errno (-EPROTO
 * for a TLS failure) with mqtt_conn_error saying why. */
ssize_t mqtt_conn_read(struct mqtt_conn *c, void *buf, size_t n);
/* Writes what it can of buf[0..n) at once: the count (may be short),
 * -EAGAIN, or -errno as mqtt_conn_read.  After a short write or -EAGAIN
 * the next call must offer at least the bytes left unwritten, in place. */
ssize_t mqtt_conn_write(struct mqtt_conn *c, const void *buf, size_t n);
/* 1 when TLS holds bytes already read from the socket (poll() cannot see
 * them: read again before waiting). */
int mqtt_conn_pending(const struct mqtt_conn *c);
/* The poll() events the last -EAGAIN waits for (TLS may need to write in
 * order to read, or the reverse): POLLIN, POLLOUT or both. */
short mqtt_conn_wants(const struct mqtt_conn *c);
/* Re-arms TCP quick acknowledgements (Linux clears them as it sees fit): a
 * client waiting for replies to its own small writes (the alert publisher)
 * must not hold the broker's next reply behind a delayed ACK. */
void mqtt_conn_quickack(struct mqtt_conn *c);
/* The socket's SO_RCVLOWAT: poll() says readable once this many bytes
 * came (a read still returns what there is).  0, or -errno. */
int mqtt_conn_set_lowat(struct mqtt_conn *c, int bytes);
/* Shuts the sending side only (a FIN after what was written). */
int mqtt_conn_shutdown_write(struct mqtt_conn *c);
const char *mqtt_conn_error(const struct mqtt_conn *c);
void mqtt_conn_close(struct mqtt_conn *c);

#endif
