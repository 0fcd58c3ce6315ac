/* message.h - the words of a notification (issue 16): an alert event
 * rendered for one person, in their language, in the style of the channel
 * (e-mail: subject, body and footer; Telegram/Zalo: compact; SMS: shortest,
 * no footer), with the site's local times (the process's TZ), the decimal
 * comma in Vietnamese, and how to acknowledge by reply.  Pure.  Private to
 * outputs/ and its tests. */
#ifndef CC_OUTPUT_MESSAGE_H
#define CC_OUTPUT_MESSAGE_H

#include <stddef.h>
#include <stdint.h>

struct route_event;

enum msg_style { MSG_EMAIL, MSG_CHAT, MSG_SMS };
/* The style of a channel kind ("email", "telegram", "zalo", "sms"). */
enum msg_style message_style(const char *kind);

#define MESSAGE_SUBJECT_MAX 200
#define MESSAGE_TEXT_MAX 2048
struct message {
	char subject[MESSAGE_SUBJECT_MAX];
	char text[MESSAGE_TEXT_MAX];
};

struct message_ctx {
	const char *site;
	const char *lang;     /* "vi" (default) or "en" */
	enum msg_style style;
	const char *short_id; /* the reply id; NULL: this channel takes no replies */
	const char *advice;   /* what to do (profile/room text); NULL: none */
	int64_t since_ns;     /* when the alarm was raised (0: the event's time) */
	int64_t now_ns;       /* for "how long" */
	const char *link;     /* web.public_url: without short_id, a link to the alarm on the page; NULL: none */
};

/* Renders ev into m (always NUL-terminated, cut at a UTF-8 boundary). */
void message_render(const struct message_ctx *c, const struct route_event *ev, struct message *m);
/* "coldchaind test message from SITE" in c's language and style. */
void message_render_test(const struct message_ctx *c, struct message *m);
/* The answer to a reply whose id no active alarm has (or several share):
 * "No active alarm has the id 7f3b. Reply OK and the id from the alarm
 * message." (id NULL or empty: "?"). */
void message_render_unknown_id(const struct message_ctx *c, const char *id, struct message *m);
/* One line of a digest or of "and K more" summaries: "21:05 Kho lạnh A: ..." */
void message_render_line(const struct message_ctx *c, const struct route_event *ev, char *dst, size_t size);

/* The short reply id of alarm_id: the first `len` (4..6) hex digits of a
 * 32-bit FNV-1a hash. */
void message_short_id(const char *alarm_id, int len, char out[8]);
/* The shortest short id (4, 5, then 6 digits) of alarm_id that no other of
 * the n active alarm ids shares at that length. */
void message_short_id_unique(const char *alarm_id, const char *const *active, size_t n, char out[8]);

/* One of message.c's words (message_words) in lang. */
const char *message_word(const char *lang, const char *english);

/* "9,2" (vi) or "9.2" (en): one decimal. */
void message_number(double v, const char *lang, char *dst, size_t size);

#endif
