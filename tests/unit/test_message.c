/* test_message.c - the words of a notification (outputs/message.c):
 * Vietnamese and English, the decimal comma, the site's time zone, how
 * long, advice, the reply's short id, the channel styles. */
#include "../../outputs/message.h"

#include <string.h>

#include "../../outputs/route.h"
#include "route_fixture.h"
#include "testlib.h"

static struct route_event event(const char *ev_name, const char *sev)
{
	struct route_event ev;
	char j[512];

	/* raised at 14:05 local (07:05Z) */
	snprintf(j, sizeof(j),
		 "{\"id\":\"A/temp_high\",\"room\":\"A\",\"rule\":\"temp_high\",\"event\":\"%s\",\"state\":\"active\","
		 "\"severity\":\"%s\",\"value\":9.2,\"limit\":5,\"user\":\"lan\",\"message\":\"m\",\"time_ns\":%lld}",
		 ev_name, sev, (long long)((T_MIDNIGHT_UTC + 7 * 3600 + 5 * 60) * S_NS));
	route_event_parse(j, strlen(j), &ev);
	return ev;
}

static void test_vietnamese_chat(void)
{
	struct message_ctx c = { .site = "lucngan", .lang = "vi", .style = MSG_CHAT, .short_id = "7f3a",
				 .advice = "Kiểm tra máy nén; chuyển lô sang phòng B",
				 .now_ns = (T_MIDNIGHT_UTC + 7 * 3600 + 40 * 60) * S_NS };
	struct route_event ev;
	struct message m;

	fixture_load_tz();
	ev = event("raise", "warning");
	message_render(&c, &ev, &m);
	CHECK_STR(m.text, "[BÁO ĐỘNG] Kho lạnh A: nhiệt độ cao 9,2 °C (giới hạn 5,0 °C) từ 14:05 (35 phút).\n"
			  "Cần làm: Kiểm tra máy nén; chuyển lô sang phòng B.\n"
			  "Trả lời OK 7f3a để xác nhận.");
	CHECK_STR(m.subject, "");
}

static void test_english_email_has_subject_and_footer(void)
{
	struct message_ctx c = { .site = "lucngan", .lang = "en", .style = MSG_EMAIL,
				 .now_ns = (T_MIDNIGHT_UTC + 10 * 3600) * S_NS };
	struct route_event ev;
	struct message m;

	fixture_load_tz();
	ev = event("escalate", "critical");
	message_render(&c, &ev, &m);
	CHECK_STR(m.subject, "[lucngan] [CRITICAL] Cold store A: temperature high 9.2 °C (limit 5.0 °C)");
	CHECK_STR(m.text, "[CRITICAL] Cold store A: temperature high 9.2 °C (limit 5.0 °C), still not acknowledged "
			  "since 14:05 (2 h).\n\n-- \nSent by coldchaind at lucngan. Alarm ID: A/temp_high");
}

static void test_sms_is_short_and_ack_has_no_reply(void)
{
	struct message_ctx c = { .site = "lucngan", .lang = "vi", .style = MSG_SMS, .short_id = "7f3a",
				 .now_ns = (T_MIDNIGHT_UTC + 8 * 3600) * S_NS };
	struct route_event ev;
	struct message m;

	fixture_load_tz();
	ev = event("raise", "critical");
	message_render(&c, &ev, &m);
	CHECK_STR(m.text, "[KHẨN CẤP] Kho lạnh A: nhiệt độ cao 9,2 °C từ 14:05. Trả lời OK 7f3a để xác nhận.");
	CHECK(strlen(m.text) < 160);
	ev = event("ack", "critical");
	message_render(&c, &ev, &m);
	CHECK_STR(m.text, "[đã xác nhận bởi lan] Kho lạnh A: nhiệt độ cao 9,2 °C từ 14:05.");
}

/* web.public_url: e-mail and Zalo (no replies) link to the alarm's row on the
 * page; a channel with replies keeps "OK <id>"; a handled alarm has no link. */
static void test_link_to_the_page_without_replies(void)
{
	struct message_ctx c = { .site = "lucngan", .lang = "vi", .style = MSG_EMAIL,
				 .now_ns = (T_MIDNIGHT_UTC + 7 * 3600 + 40 * 60) * S_NS,
				 .link = "https://kho.example.vn:8470/" };
	struct route_event ev;
	struct message m;

	fixture_load_tz();
	ev = event("raise", "warning");
	message_render(&c, &ev, &m);
	CHECK_STR(m.text, "[BÁO ĐỘNG] Kho lạnh A: nhiệt độ cao 9,2 °C (giới hạn 5,0 °C) từ 14:05 (35 phút).\n"
			  "Xác nhận trên trang: https://kho.example.vn:8470/alarms#alarm-A_temp_high\n\n-- \n"
			  "Gửi từ coldchaind tại lucngan. Mã cảnh báo: A/temp_high");
	/* Zalo: the chat style, no short id; a base without its trailing slash */
	c.style = MSG_CHAT, c.lang = "en", c.link = "http://10.0.0.5:8470";
	message_render(&c, &ev, &m);
	CHECK(strstr(m.text, "\nAcknowledge it on the page: http://10.0.0.5:8470/alarms#alarm-A_temp_high") != NULL);
	/* Telegram: replies, so "OK <id>" and no link */
	c.short_id = "7f3a";
	message_render(&c, &ev, &m);
	CHECK(strstr(m.text, "Reply OK 7f3a") != NULL);
	CHECK(strstr(m.text, "http://") == NULL);
	/* the acknowledgement itself: nothing left to do, no link */
	c.short_id = NULL;
	ev = event("ack", "warning");
	message_render(&c, &ev, &m);
	CHECK(strstr(m.text, "http://") == NULL);
	/* no public_url: no link */
	c.link = NULL;
	ev = event("raise", "warning");
	message_render(&c, &ev, &m);
	CHECK(strstr(m.text, "http") == NULL);
}

static void test_short_ids(void)
{
	char a[8], b[8];
	const char *active[] = { "A/temp_high", "B/temp_high", "A/door_open" };

	message_short_id("A/temp_high", 4, a);
	CHECK_INT((int)strlen(a), 4);
	CHECK(strspn(a, "0123456789abcdef") == 4);
	message_short_id("A/temp_high", 6, b);
	CHECK(strncmp(a, b, 4) == 0);
	/* 32-bit FNV-1a of the id, pinned: people reply with it, held messages keep it */
	CHECK_STR(b, "67f01f");
	message_short_id_unique("A/temp_high", active, 3, b);
	CHECK_STR(b, a); /* no clash: 4 digits */
	/* find a clash at 4 digits by brute force, then it takes 5 or more */
	for (int i = 0; i < 200000; i++) {
		char id[32], o[8];
		snprintf(id, sizeof(id), "R%d/x", i);
		message_short_id(id, 4, o);
		if (strcmp(o, a) == 0) {
			const char *two[] = { "A/temp_high", id };
			message_short_id_unique("A/temp_high", two, 2, b);
			CHECK((int)strlen(b) > 4);
			return;
		}
	}
	CHECK(0 && "no 4-digit clash found");
}

static void test_numbers(void)
{
	char b[16];

	message_number(-1.25, "vi", b, sizeof(b));
	CHECK_STR(b, "-1,2");
	message_number(9.25, "en", b, sizeof(b));
	CHECK_STR(b, "9.2");
}

int main(void)
{
	tl_prog = "unit/message";
	RUN(test_vietnamese_chat);
	RUN(test_english_email_has_subject_and_footer);
	RUN(test_sms_is_short_and_ack_has_no_reply);
	RUN(test_link_to_the_page_without_replies);
	RUN(test_short_ids);
	RUN(test_numbers);
	return TL_DONE();
}
