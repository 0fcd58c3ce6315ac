/* test_modem.c - outputs/modem.c's AT dialogue against a scripted peer on
 * a pty: echo, unsolicited result codes between reply lines, a reply split
 * across reads, +CME/+CMS errors by number, the "> " prompt without a line
 * end, a modem that does not answer, and one that hangs up. */
#include "../../outputs/modem.h"
#include "testlib.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

struct step {
	const char *expect; /* what the modem must receive (ends at '\r' or Ctrl-Z) */
	const char *reply, *reply2; /* reply2 after a pause: a reply split across reads */
};

struct peer {
	int master;
	const struct step *steps;
	int ok;
	pthread_t th;
};

static void *peer_run(void *arg)
{
	struct peer *p = arg;
	const struct step *s;
	struct timespec pause = { 0, 50 * 1000 * 1000 };
	p->ok = 1;
	for (s = p->steps; s->expect; s++) {
		char got[512];
		size_t n = 0;
		while (n < sizeof got - 1) {
			ssize_t r = read(p->master, got + n, 1);
			if (r <= 0)
				return NULL;
			n++;
			if (got[n - 1] == '\r' || got[n - 1] == 0x1A)
				break;
		}
		got[n] = 0;
		if (strcmp(got, s->expect) != 0) {
			printf("    peer expected \"%s\", got \"%s\"\n", s->expect, got);
			p->ok = 0;
		}
		if (s->reply && write(p->master, s->reply, strlen(s->reply)) < 0)
			p->ok = 0;
		if (s->reply2) {
			nanosleep(&pause, NULL);
			if (write(p->master, s->reply2, strlen(s->reply2)) < 0)
				p->ok = 0;
		}
	}
	return NULL;
}

static struct modem *start(struct peer *p, const struct step *steps)
{
	struct modem *m;
	p->master = posix_openpt(O_RDWR | O_NOCTTY);
	if (p->master < 0 || grantpt(p->master) < 0 || unlockpt(p->master) < 0)
		return NULL;
	m = modem_open(ptsname(p->master), 115200, -1);
	p->steps = steps;
	pthread_create(&p->th, NULL, peer_run, p);
	return m;
}

static void stop(struct peer *p, struct modem *m)
{
	modem_close(m);
	close(p->master);
	pthread_join(p->th, NULL);
}

static void test_echo_urcs_and_a_split_reply_are_handled(void)
{
	static const struct step s[] = {
		{ "AT+CSQ\r", "AT+CSQ\r\r\n^RSSI: 3\r\n+CS", "Q: 17,99\r\n\r\nRING\r\n+CMTI: \"SM\",2\r\n\r\nOK\r\n" },
		{ "AT+CREG?\r", "\r\n+CREG: 0,5\r\n\r\nOK\r\n", NULL },
		{ NULL, NULL, NULL },
	};
	struct peer p;
	struct modem *m = start(&p, s);
	int dbm = 0, reg = 0;
	CHECK(m != NULL);
	CHECK_INT(modem_signal(m, 2000, &dbm), 0);
	CHECK_INT(dbm, -79);
	CHECK_INT(modem_registered(m, 2000, &reg), 0);
	CHECK_INT(reg, 1); /* 5: roaming */
	CHECK_INT(modem_new_sms(m), 1); /* the +CMTI seen among the replies */
	stop(&p, m);
	CHECK(p.ok);
}

static void test_errors_by_number(void)
{
	static const struct step s[] = {
		{ "AT+CPIN?\r", "\r\n+CME ERROR: 10\r\n", NULL },
		{ "AT+X\r", "\r\nERROR\r\n", NULL },
		{ NULL, NULL, NULL },
	};
	struct peer p;
	struct modem *m = start(&p, s);
	struct modem_reply *r = malloc(sizeof *r);
	CHECK_INT(modem_cmd(m, "AT+CPIN?", 2000, r), 0);
	CHECK_INT(r->final, MODEM_CME_ERROR);
	CHECK_INT(r->code, 10);
	CHECK_INT(modem_cmd(m, "AT+X", 2000, r), 0);
	CHECK_INT(r->final, MODEM_ERROR);
	stop(&p, m);
	free(r);
	CHECK(p.ok);
}

static void test_send_waits_for_the_prompt_and_reads_the_reference(void)
{
	static const struct step s[] = {
		{ "AT+CMGS=\"+84901234567\"\r", "\r\n> ", NULL },
		{ "Kho 2: 9.5 C\x1A", "\r\n+CMGS: 42\r\n\r\nOK\r\n", NULL },
		{ "AT+CMGS=\"+84901234567\"\r", "\r\n", "> " },
		{ "x\x1A", "\r\n+CMS ERROR: 331\r\n", NULL },
		{ "AT+CMGS=\"+84901234567\"\r", "\r\n+CMS ERROR: 21\r\n", NULL },
		{ NULL, NULL, NULL },
	};
	struct peer p;
	struct modem *m = start(&p, s);
	struct modem_reply *r = malloc(sizeof *r);
	int mr = 0;
	CHECK_INT(modem_send(m, "+84901234567", "Kho 2: 9.5 C", 2000, r, &mr), 0);
	CHECK_INT(r->final, MODEM_OK);
	CHECK_INT(mr, 42);
	CHECK_INT(modem_send(m, "+84901234567", "x", 2000, r, &mr), 0);
	CHECK_INT(r->final, MODEM_CMS_ERROR);
	CHECK_INT(r->code, 331);
	CHECK_INT(modem_send(m, "+84901234567", "y", 2000, r, &mr), 0); /* refused before the prompt */
	CHECK_INT(r->final, MODEM_CMS_ERROR);
	CHECK_INT(r->code, 21);
	stop(&p, m);
	free(r);
	CHECK(p.ok);
}

static void test_silence_times_out_and_a_hangup_is_enodev(void)
{
	static const struct step s[] = { { "AT\r", NULL, NULL }, { NULL, NULL, NULL } };
	struct peer p;
	struct modem *m = start(&p, s);
	struct modem_reply *r = malloc(sizeof *r);
	CHECK_INT(modem_cmd(m, "AT", 300, r), -ETIMEDOUT);
	pthread_join(p.th, NULL);
	close(p.master);
	CHECK_INT(modem_cmd(m, "AT", 2000, r), -ENODEV);
	modem_close(m);
	free(r);
}

static void test_urc_classification(void)
{
	CHECK(modem_is_urc("+CMTI: \"SM\",3", "AT+CSQ"));
	CHECK(modem_is_urc("RING", NULL));
	CHECK(modem_is_urc("^HCSQ: \"LTE\",40", "AT"));
	CHECK(modem_is_urc("+CREG: 1", "AT+CSQ"));
	CHECK(!modem_is_urc("+CREG: 0,1", "AT+CREG?"));
	CHECK(!modem_is_urc("+CSQ: 17,99", "AT+CSQ"));
}

int main(void)
{
	tl_prog = "modem";
	RUN(test_echo_urcs_and_a_split_reply_are_handled);
	RUN(test_errors_by_number);
	RUN(test_send_waits_for_the_prompt_and_reads_the_reference);
	RUN(test_silence_times_out_and_a_hangup_is_enodev);
	RUN(test_urc_classification);
	return TL_DONE();
}
