/* sse.h - live updates (Server-Sent Events): the hub's bounds and what
 * web.c calls.  Publishers use web_sse_publish/web_sse_tick from web.h. */
#ifndef CC_WEB_SSE_H
#define CC_WEB_SSE_H

#include <stdint.h>

#include "web.h"

#define SSE_MAX_SUBSCRIBERS 64   /* open /events streams; more get 503 */
#define SSE_QUEUE 32             /* messages queued per stream; past it: resync */
#define SSE_MAX_MESSAGE 65536    /* bytes of one event's data */
#define SSE_TICK_MS 5000         /* a `tick` event this often while a page listens */
#define SSE_KEEPALIVE_MS 15000   /* a comment line after this long without anything */

struct web_req;

/* GET /events (WEB_VIEW). */
int web_page_events(struct web_req *req);
/* web_start / web_stop: accept streams; end every one (before MHD stops). */
void web_sse_open(void);
void web_sse_close(void);

#endif
