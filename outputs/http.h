/* http.h - the HTTP(S) transfer the InfluxDB and webhook backends share
 * (libcurl): one connection kept per output, POSTs bounded by the output's
 * timeouts and cut short at the shutdown deadline, the reply body kept up
 * to OUTPUT_RESP_MAX. */
#ifndef CC_OUTPUT_HTTP_H
#define CC_OUTPUT_HTTP_H

#include <curl/curl.h>
#include <stddef.h>
#include <stdint.h>

struct output;
struct send_result;

struct http {
	CURL *easy;
	CURLM *multi;
	char curl_err[CURL_ERROR_SIZE];
	char *resp; /* OUTPUT_RESP_MAX bytes */
	size_t resp_len;
	int resp_truncated;
	int insecure;
	int64_t timeout_ms, connect_timeout_ms;
	int stop; /* http_stop: a transfer in progress ends now (atomic) */
};

/* The handles, the reply buffer and the options every POST shares (URL,
 * TLS: ca_file or the system's CAs, unless insecure).  0 or -ENOMEM. */
int http_init(struct http *h, const char *url, const char *ca_file, int insecure);
void http_free(struct http *h);

/*
 * One POST of body (hdrs: NULL leaves the handle's headers), bounded by the
 * timeouts and the shutdown deadline.  Returns 0 with the HTTP status in
 * *code and Retry-After (s) in *retry_after, or -1 after a transport
 * failure, which r already records as a retry.  Counts the request.
 */
int http_post(struct http *h, struct output *o, struct curl_slist *hdrs, const char *body, size_t len,
	      struct send_result *r, long *code, curl_off_t *retry_after);
/* Retry-After honoured on 429 and 503 (capped), in ms; 0 otherwise. */
int64_t http_retry_after_ms(long code, curl_off_t retry_after);
/* From another thread: a transfer in progress re-checks the deadline now. */
void http_wakeup(struct http *h);
/*
 * For the channel transports (transport.h), which have no struct output: one
 * request to url (body NULL: a GET), bounded by h's timeouts and cut short
 * by http_stop.  The reply is in h->resp.  Returns 0 with the HTTP status
 * in *code and Retry-After (s) in *retry_after, or -1 with libcurl's error
 * text in err (the caller scrubs it of secrets: a URL may hold a token).
 */
int http_request(struct http *h, const char *url, struct curl_slist *hdrs, const char *body, size_t len,
		 long *code, curl_off_t *retry_after, char *err, size_t errlen);
/* Replaces every occurrence of secret in the NUL-terminated s by "***"
 * (libcurl's or a peer's text about a URL that holds a token). */
void http_scrub(char *s, const char *secret);
/* From another thread: the transfer in progress (and the next) ends now. */
void http_stop(struct http *h);
/* The TLS warning, logged when the output starts. */
void http_warn_insecure(const struct http *h, const char *name);

#endif
