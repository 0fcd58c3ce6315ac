/* influx_query.h - reading back from InfluxDB 1.x (GET /query) for
 * the lot report (report/: coldchainctl report and the daemon's web
 * page); the daemon's outputs only write (outputs/influx.c). */
#ifndef CC_INFLUX_QUERY_H
#define CC_INFLUX_QUERY_H

#include <stddef.h>

/* Reads back from InfluxDB 1.x: GET URL/query?db=DB&epoch=ms&q=Q (basic
 * auth when user is set; TLS verified against ca_file, or the system's CAs
 * when it is NULL, unless insecure).  On success *json is the reply body
 * (malloc'd, NUL-terminated; InfluxQL errors are inside it, HTTP 200) and 0
 * is returned; otherwise -errno with a message in err: -EFBIG for a reply
 * (decompressed) over max bytes (0: INFLUX_QUERY_MAX), -ETIMEDOUT (connect
 * 10 s, total 120 s), -EACCES for 401/403, -EIO for anything else.  Used by
 * coldchainctl report. */
#define INFLUX_QUERY_MAX ((size_t)256 << 20)
struct influx_query {
	const char *url, *db, *user, *pass;
	const char *ca_file; /* NULL: the system's CAs */
	int insecure;        /* the output's insecure = true: no verification */
	size_t max;          /* reply bound; 0: INFLUX_QUERY_MAX */
	long timeout_ms;     /* total; 0: 120 s (the daemon's web page: its deadline) */
};
int influx_query_json(const struct influx_query *iq, const char *q, char **json, char *err, size_t errlen);

#endif
