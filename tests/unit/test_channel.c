/* test_channel.c - the notification core (outputs/channel.c) against a
 * fake transport and a fake clock: exactly once per (event, recipient)
 * including a crash (a child process _exit()s inside the second send; the
 * channel is re-created from the same state dir), Retry-After, a refused
 * address skipped, the rate limit, quiet hours, the digest, replies that
 * acknowledge, the bound on held messages, the test message. */
#include "../../outputs/channel.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../outputs/message.h"
#include "../../outputs/route.h"
#include "fake_transport.h"
#include "route_fixture.h"
#include "testlib.h"

static struct cc_config *cfg;
static char dir[64];
static struct fake_transport ft;

static void fresh(int64_t wall_ns)
{
	if (dir[0] && tl_rmtree(dir) != 0)
		abort();
	if (tl_mkdtemp(dir, sizeof(dir), "channel") < 0)
		abort();
	memset(&ft, 0, sizeof(ft));
	fk.mono_ms = 1000000;
	fk.wall_ns = wall_ns;
	fk.slept_ms = 0;
}

static struct channel *open_ch(const char *name, const char *kind, int rate)
{
	struct cc_channel_common cc = { .name = (char *)name, .rate_per_min = rate, .timeout_ms = 1000 };

	return channel_new(cfg, &cc, kind, &fake_transport_ops, &ft, dir, &fake_channel_clock);
}

static const char *ev_json(const char *event, const char *sev, const char *state, char *buf, size_t size)
{
	snprintf(buf, size,
		 "{\"id\":\"B/temp_high\",\"room\":\"B\",\"rule\":\"temp_high\",\"event\":\"%s\",\"state\":\"%s\","
		 "\"severity\":\"%s\",\"value\":9.2,\"limit\":5,\"user\":\"lan\",\"message\":\"m\",\"time_ns\":%lld}\n",
		 event, state, sev, (long long)fk.wall_ns);
	return buf;
}

static struct send_result send_ev(struct channel *ch, const char *json)
{
	struct send_result r;

	memset(&r, 0, sizeof(r));
	channel_send_event(ch, json, strlen(json), &r);
	return r;
}

static void test_exactly_once_and_redelivery(void)
{
	char j[512];
	struct channel *ch;
	struct send_result r;

	fresh(T_DAY);
	ch = open_ch("modem", "sms", 600);
	ev_json("raise", "warning", "active", j, sizeof(j));
	r = send_ev(ch, j);
	CHECK_INT(r.status, SEND_OK);
	CHECK_INT((int)r.done, 1);
	CHECK_INT(ft.n, 2);
	CHECK_STR(ft.to[0], "+84900000001");
	CHECK_STR(ft.to[1], "+84900000002");
	CHECK(strstr(ft.text[0], "Kho lạnh B: nhiệt độ cao 9,2 °C") != NULL);
	CHECK(strstr(ft.text[1], "Cold store B: temperature high 9.2 °C") != NULL); /* minh reads English */
	CHECK(strstr(ft.text[0], " Cần làm: Kiểm tra máy nén.") != NULL); /* room B's advice for temp_high */
	/* the journal hands the same event again (a crash before the position moved) */
	r = send_ev(ch, j);
	CHECK_INT(r.status, SEND_OK);
	CHECK_INT(ft.n, 2);
	channel_free(ch);
	ch = open_ch("modem", "sms", 600);
	r = send_ev(ch, j);
	CHECK_INT(ft.n, 2);
	CHECK_INT(ft.freed, 1);
	channel_free(ch);
}

static void test_crash_between_two_recipients(void)
{
	char j[512];
	struct channel *ch;
	struct send_result r;
	pid_t pid;
	int st = 0;

	fresh(T_DAY);
	ev_json("raise", "warning", "active", j, sizeof(j));
	pid = fork();
	if (pid == 0) {
		ft.exit_at_call = 2; /* dies inside the send to minh, after lan's was accepted */
		ch = open_ch("modem", "sms", 600);
		send_ev(ch, j);
		_exit(3); /* not reached */
	}
	CHECK(pid > 0 && waitpid(pid, &st, 0) == pid);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	ch = open_ch("modem", "sms", 600);
	r = send_ev(ch, j);
	CHECK_INT(r.status, SEND_OK);
	CHECK_INT(ft.n, 1); /* minh only: lan was told before the crash */
	CHECK_STR(ft.to[0], "+84900000002");
	channel_free(ch);
}

/* A state file written by an earlier build: its "event" is the hash as the
 * channel has always made it (FNV-1a over the line without its newline,
 * from the basis 1469598103934665603, written out here on purpose), and the
 * event it names is not delivered again after an upgrade. */
static void test_an_event_marked_delivered_by_an_earlier_build_is_not_sent_again(void)
{
	char j[512], path[128], line[160];
	uint64_t h = 1469598103934665603ULL;
	struct channel *ch;
	struct send_result r;
	size_t len;
	FILE *f;

	fresh(T_DAY);
	ev_json("raise", "warning", "active", j, sizeof(j));
	len = strlen(j) - 1; /* without the '\n' */
	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)j[i]) * 1099511628211ULL;
	snprintf(path, sizeof(path), "%s/channel-modem.state", dir);
	snprintf(line, sizeof(line), "{\"event\":\"%016llx\",\"complete\":true,\"done\":[],\"held\":[],\"alarms\":[]}",
		 (unsigned long long)(h ? h : 1));
	CHECK((f = fopen(path, "w")) != NULL);
	if (!f)
		return;
	fputs(line, f);
	fclose(f);
	ch = open_ch("modem", "sms", 600);
	r = send_ev(ch, j);
	CHECK_INT(r.status, SEND_OK);
	CHECK_INT(ft.n, 0);
	channel_free(ch);
}

static void test_retry_after_and_refused(void)
{
	char j[512];
	struct channel *ch;
	struct send_result r;
	struct channel_stats s;

	fresh(T_DAY);
	ft.nscript = 2;
	ft.script[0] = TR_REFUSED; /* lan's number is dead */
	ft.script[1] = TR_RETRY;   /* minh's: the modem is busy */
	ft.retry_after[1] = 42000;
	ch = open_ch("modem", "sms", 600);
	ev_json("raise", "warning", "active", j, sizeof(j));
	r = send_ev(ch, j);
	CHECK_INT(r.status, SEND_RETRY);
	CHECK_INT((int)r.done, 0);
	CHECK_INT((int)r.retry_after_ms, 42000);
	CHECK(strstr(r.error, "minh") != NULL);
	r = send_ev(ch, j); /* the core retries the event: lan is not tried again */
	CHECK_INT(r.status, SEND_OK);
	CHECK_INT(ft.calls, 3);
	CHECK_INT(ft.n, 1);
	CHECK_STR(ft.to[0], "+84900000002");
	channel_get_stats(ch, &s);
	CHECK_INT((int)s.refused, 1);
	CHECK_INT((int)s.retried, 1);
	CHECK_INT((int)s.sent, 1);
	/* credentials refused: the core's SEND_AUTH */
	ft.nscript = 4;
	ft.script[3] = TR_AUTH;
	r = send_ev(ch, ev_json("escalate", "warning", "active", j, sizeof(j)));
	CHECK_INT(r.status, SEND_AUTH);
	channel_free(ch);
}

static void test_rate_limit_waits(void)
{
	char j[512];
	struct channel *ch;

	fresh(T_DAY);
	ch = open_ch("modem", "sms", 6); /* burst 2, then one every 10 s */
	for (int i = 0; i < 3; i++) {
		fk.wall_ns += S_NS;
		send_ev(ch, ev_json(i ? "renotify" : "raise", "warning", "active", j, sizeof(j)));
	}
	/* 2 + 3 + 4 messages (the chain grows): 9 sends, 7 past the burst */
	CHECK_INT(ft.n, 9);
	CHECK(fk.slept_ms >= 7 * 10000 - 7 && fk.slept_ms <= 7 * 10000 + 7);
	channel_free(ch);
}

static void test_quiet_hours_hold_until_the_end(void)
{
	char j[512];
	struct channel *ch;
	struct channel_stats s;

	fresh(T_NIGHT);
	ch = open_ch("modem", "sms", 600);
	send_ev(ch, ev_json("raise", "warning", "active", j, sizeof(j)));
	CHECK_INT(ft.n, 1); /* minh now; lan sleeps */
	CHECK_STR(ft.to[0], "+84900000002");
	channel_get_stats(ch, &s);
	CHECK_INT((int)s.held_now, 1);
	fk.wall_ns += 3600 * S_NS, fk.mono_ms += 3600000;
	channel_tick(ch);
	CHECK_INT(ft.n, 1);
	channel_free(ch); /* a restart keeps what is held */
	ch = open_ch("modem", "sms", 600);
	fk.wall_ns = (T_MIDNIGHT_UTC + 23 * 3600) * S_NS; /* 06:00 local */
	fk.mono_ms += 8 * 3600000;
	channel_tick(ch);
	CHECK_INT(ft.n, 2);
	CHECK_STR(ft.to[1], "+84900000001");
	CHECK(strstr(ft.text[1], "từ 21:05") != NULL);
	channel_tick(ch);
	CHECK_INT(ft.n, 2);
	/* a critical raise never waits */
	fk.wall_ns = T_NIGHT + 86400 * S_NS;
	send_ev(ch, ev_json("raise", "critical", "active", j, sizeof(j)));
	CHECK_INT(ft.n, 5);
	channel_free(ch);
}

static void test_digest_once_a_day(void)
{
	char j[512];
	struct channel *ch;

	fresh(T_DAY);
	ch = open_ch("mail", "email", 600);
	send_ev(ch, ev_json("raise", "warning", "active", j, sizeof(j)));
	fk.wall_ns += 600 * S_NS;
	send_ev(ch, ev_json("return", "warning", "cleared_unacked", j, sizeof(j)));
	CHECK_INT(ft.n, 2); /* minh twice, the office not yet */
	fk.wall_ns = (T_MIDNIGHT_UTC + 10 * 3600) * S_NS; /* 17:00 local */
	channel_tick(ch);
	CHECK_INT(ft.n, 3);
	CHECK_STR(ft.to[2], "office@x.vn");
	CHECK(strstr(ft.subject[2], "Tóm tắt trong ngày") != NULL);
	CHECK(strstr(ft.text[2], "\n- 10:00 [BÁO ĐỘNG] Kho lạnh B") != NULL);
	CHECK(strstr(ft.text[2], "\n- 10:10 [đã trở lại bình thường] Kho lạnh B") != NULL);
	channel_tick(ch);
	CHECK_INT(ft.n, 3);
	channel_free(ch);
}

static struct {
	char id[96], user[64], note[64];
	int n;
} acked;

static int fake_ack(void *arg, const char *id, const char *user, const char *note)
{
	(void)arg;
	snprintf(acked.id, sizeof(acked.id), "%s", id);
	snprintf(acked.user, sizeof(acked.user), "%s", user);
	snprintf(acked.note, sizeof(acked.note), "%s", note);
	acked.n++;
	return 0;
}

static void test_reply_acknowledges(void)
{
	char j[512], sid[8], reply[32];
	struct channel *ch;
	struct channel_stats s;

	fresh(T_DAY);
	output_channels_set_ack(fake_ack, NULL);
	memset(&acked, 0, sizeof(acked));
	ch = open_ch("modem", "sms", 600);
	send_ev(ch, ev_json("raise", "warning", "active", j, sizeof(j)));
	message_short_id("B/temp_high", 4, sid);
	CHECK(strstr(ft.text[0], sid) != NULL);
	/* a stranger */
	ft.reply_from = "+84111111111", ft.reply_text = "OK";
	channel_tick(ch);
	CHECK_INT(acked.n, 0);
	/* lan, in capitals, with a full stop */
	snprintf(reply, sizeof(reply), "  ok %c%c%c%c.", sid[0], sid[1], sid[2], sid[3] >= 'a' ? sid[3] - 32 : sid[3]);
	ft.reply_from = "+84900000001", ft.reply_text = reply;
	fk.mono_ms += CHANNEL_REPLY_EVERY_MS;
	channel_tick(ch);
	CHECK_INT(acked.n, 1);
	CHECK_STR(acked.id, "B/temp_high");
	CHECK_STR(acked.user, "lan");
	CHECK_STR(acked.note, "by SMS reply");
	/* an id no alarm has */
	ft.reply_from = "+84900000001", ft.reply_text = "OK ffff9";
	fk.mono_ms += CHANNEL_REPLY_EVERY_MS;
	channel_tick(ch);
	CHECK_INT(acked.n, 1);
	channel_get_stats(ch, &s);
	CHECK_INT((int)s.replies, 3);
	CHECK_INT((int)s.acks_by_reply, 1);
	channel_free(ch);
	output_channels_set_ack(NULL, NULL);
}

/* A modem reports lan's +84900000001 as 0900000001 or 84900000001: still lan.
 * An "OK" with an id no active alarm has is answered once, in lan's
 * language; a second one within CHANNEL_ANSWER_EVERY_MS only counted; a
 * stranger is never answered. */
static void test_reply_from_a_number_written_differently_and_unknown_id_answered(void)
{
	char j[512], sid[8], reply[32];
	struct channel *ch;
	struct channel_stats s;
	int n0;

	fresh(T_DAY);
	output_channels_set_ack(fake_ack, NULL);
	memset(&acked, 0, sizeof(acked));
	ch = open_ch("modem", "sms", 600);
	send_ev(ch, ev_json("raise", "warning", "active", j, sizeof(j)));
	n0 = ft.n;
	message_short_id("B/temp_high", 4, sid);
	/* a stranger with a bad id: not answered */
	ft.reply_from = "0911111111", ft.reply_text = "OK ffff9";
	channel_tick(ch);
	CHECK_INT(ft.n, n0);
	/* lan in international form without +, a wrong id: answered in Vietnamese, to lan's configured number */
	ft.reply_from = "84900000001", ft.reply_text = "OK ffff9";
	fk.mono_ms += CHANNEL_REPLY_EVERY_MS;
	channel_tick(ch);
	CHECK_INT(acked.n, 0);
	CHECK_INT(ft.n, n0 + 1);
	CHECK_STR(ft.to[n0], "+84900000001");
	CHECK(strstr(ft.text[n0], "Không có báo động nào đang mở với mã ffff9") != NULL);
	/* again at once: counted, not answered */
	ft.reply_from = "+84900000001", ft.reply_text = "OK ffff9";
	fk.mono_ms += CHANNEL_REPLY_EVERY_MS;
	channel_tick(ch);
	CHECK_INT(ft.n, n0 + 1);
	/* lan in national form, the right id: acknowledged as lan */
	snprintf(reply, sizeof(reply), "OK %s", sid);
	ft.reply_from = "0900000001", ft.reply_text = reply;
	fk.mono_ms += CHANNEL_REPLY_EVERY_MS;
	channel_tick(ch);
	CHECK_INT(acked.n, 1);
	CHECK_STR(acked.user, "lan");
	/* minh (English), a wrong id, after the answer interval: answered in English */
	ft.reply_from = "0900000002", ft.reply_text = "ok 12345";
	fk.mono_ms += CHANNEL_ANSWER_EVERY_MS;
	channel_tick(ch);
	CHECK_INT(ft.n, n0 + 2);
	CHECK_STR(ft.to[n0 + 1], "+84900000002");
	CHECK(strstr(ft.text[n0 + 1], "No active alarm has the id 12345") != NULL);
	channel_get_stats(ch, &s);
	CHECK_INT((int)s.unknown_answered, 2);
	CHECK_INT((int)s.unknown_replies, 4);
	CHECK_INT((int)s.acks_by_reply, 1);
	channel_free(ch);
	output_channels_set_ack(NULL, NULL);
}

static void test_held_messages_are_bounded(void)
{
	char j[512];
	struct channel *ch;
	struct channel_stats s;

	fresh(T_NIGHT);
	ch = open_ch("modem", "sms", 600);
	send_ev(ch, ev_json("raise", "warning", "active", j, sizeof(j)));
	for (int i = 0; i < CHANNEL_MAX_HELD + 4; i++) {
		fk.wall_ns += S_NS;
		send_ev(ch, ev_json("renotify", "warning", "active", j, sizeof(j)));
	}
	channel_get_stats(ch, &s);
	CHECK_INT((int)s.held_now, CHANNEL_MAX_HELD);
	CHECK_INT((int)s.held, CHANNEL_MAX_HELD + 5);
	fk.wall_ns = (T_MIDNIGHT_UTC + 23 * 3600) * S_NS;
	ft.n = 0;
	channel_tick(ch);
	CHECK_INT(ft.n, CHANNEL_MAX_HELD);
	CHECK(strstr(ft.text[0], "(và thêm: 5)") != NULL);
	channel_free(ch);
}

static void test_notify_test(void)
{
	char out[1024] = "";
	struct channel *ch;

	fresh(T_DAY);
	ft.nscript = 2;
	ft.script[1] = TR_REFUSED;
	ch = open_ch("modem", "sms", 600);
	CHECK_INT(channel_test(ch, "ops", out, sizeof(out)), 1);
	CHECK_STR(out, "lan modem accepted\nminh modem error: scripted 3\ntech modem accepted\nowner modem accepted\n");
	CHECK(strstr(ft.text[0], "Tin nhắn thử của coldchaind từ lucngan") != NULL);
	CHECK_INT(channel_test(ch, "digest", out, sizeof(out)), -ENOENT);
	channel_free(ch);
}

/* What the daemon sees: an output around a channel (output.h). */
static void test_output_channel_api(void)
{
	struct output_limits lim = { .batch = 1 };
	struct output_channel_stats cs;
	struct output *o;
	char why[64], out[256] = "";
	char j[512];

	fresh(T_DAY);
	o = output_new("modem", "sms modem", &lim, &channel_output_ops, open_ch("modem", "sms", 600));
	CHECK_INT(output_channel_health(o, why, sizeof(why)), 1);
	ft.sick = 1;
	CHECK_INT(output_channel_health(o, why, sizeof(why)), 0);
	CHECK_STR(why, "no signal");
	CHECK_INT(output_channel_test(o, "crit", out, sizeof(out)), 0);
	CHECK_STR(out, "owner modem accepted\n");
	ev_json("raise", "warning", "active", j, sizeof(j));
	channel_send_event(output_backend(o, &channel_output_ops), j, strlen(j), &(struct send_result){ 0 });
	CHECK_INT(output_channel_stats(o, &cs), 0);
	CHECK_INT((int)cs.sent, 2);
	output_free(o); /* frees the channel and the transport */
	CHECK_INT(ft.freed, 1);
}

int main(void)
{
	tl_prog = "unit/channel";
	cfg = fixture_load();
	RUN(test_exactly_once_and_redelivery);
	RUN(test_crash_between_two_recipients);
	RUN(test_an_event_marked_delivered_by_an_earlier_build_is_not_sent_again);
	RUN(test_retry_after_and_refused);
	RUN(test_rate_limit_waits);
	RUN(test_quiet_hours_hold_until_the_end);
	RUN(test_digest_once_a_day);
	RUN(test_reply_acknowledges);
	RUN(test_reply_from_a_number_written_differently_and_unknown_id_answered);
	RUN(test_held_messages_are_bounded);
	RUN(test_notify_test);
	RUN(test_output_channel_api);
	fresh(0);
	rmdir(dir);
	config_free(cfg);
	return TL_DONE();
}
