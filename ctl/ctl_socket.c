/* ctl_socket.c - coldchainctl's operator commands: one JSON request line to
 * the daemon's control socket, one reply line back, shown as a table (or
 * as the daemon's JSON with --json).  Part of the thin coldchainctl
 * (ctl/thin.c): what it calls must not need libcurl, OpenSSL or libmodbus
 * (tests/integration/test_coldchainctl_thin_*). */
#include "ctl_socket.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "../daemon/config.h"
#include "../daemon/control.h"
#include "../daemon/util.h"
#include "../codec/payload.h"
#include "ctl_opts.h"

#include "../daemon/paths.h"
#include "../daemon/runfile.h"
#define DEFAULT_CONF CC_CONF_FILE
/* Without a readable configuration: the packaged one's socket (under
 * systemd's RuntimeDirectory=), else the built-in default beside the state
 * directory. */
#define DEFAULT_SOCKET CC_SOCKET_FILE
#define FALLBACK_SOCKET CC_STATE_DIR "/coldchaind.sock"
#define REPLY_TIMEOUT_MS 120000 /* a reload restarts buses and outputs */
#define COMPLETE_TIMEOUT_MS 1000 /* a TAB must not hang */
static int64_t reply_timeout_ms = REPLY_TIMEOUT_MS;

struct opts {
	const char *conf, *sock, *note, *at, *user;
	const char *profile, *start, *harvest, *pull, *lot, *room, *product, *weight, *tonnes, *mass, *moisture;
	const char *site;
	long count;
	int json;
	unsigned given; /* bit i: long_opts[i] seen (to refuse one the command does not take) */
};

static const struct option long_opts[] = { { "config", required_argument, NULL, 'c' },
					   { "socket", required_argument, NULL, 's' },
					   { "note", required_argument, NULL, 'N' },
					   { "at", required_argument, NULL, 'a' },
					   { "user", required_argument, NULL, 'u' },
					   { "count", required_argument, NULL, 'n' },
					   { "json", no_argument, NULL, 'j' },
					   { "profile", required_argument, NULL, 'P' },
					   { "start", required_argument, NULL, 'S' },
					   { "harvest", required_argument, NULL, 'H' },
					   { "pull", required_argument, NULL, 'L' },
					   { "lot", required_argument, NULL, 'l' },
					   { "room", required_argument, NULL, 'r' },
					   { "product", required_argument, NULL, 'p' },
					   { "weight", required_argument, NULL, 'W' },
					   { "tonnes", required_argument, NULL, 'T' },
					   { "mass", required_argument, NULL, 'M' },
					   { "moisture", required_argument, NULL, 'm' },
					   { "site", required_argument, NULL, 'G' },
					   { 0, 0, 0, 0 } };
enum { OPT_CONF = 1, OPT_SOCK = 2, OPT_NOTE = 4, OPT_AT = 8, OPT_USER = 16, OPT_COUNT = 32, OPT_JSON = 64,
       OPT_PROFILE = 128, OPT_START = 256, OPT_HARVEST = 512, OPT_PULL = 1024, OPT_LOT = 2048, OPT_ROOM = 4096,
       OPT_PRODUCT = 8192, OPT_WEIGHT = 16384, OPT_TONNES = 32768, OPT_MASS = 65536, OPT_MOISTURE = 131072, OPT_SITE = 262144 };

static int usage_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_err(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "coldchainctl: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nusage:\n");
	ctl_cmd_usage(stderr, ctl_socket_cmds, "");
	return CTL_EXIT_USAGE;
}

/* "user": 1 to max bytes, no control characters (as control.c checks it). */
static const char *printable(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n == 0 || n > max)
		return "a name of 1 to 64 bytes";
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return "a name without control characters";
	return NULL;
}

/* The batch commands' options (1: one of them): names of 1 to 128
 * printable bytes; times are checked by the command. */
static int batch_opt(struct opts *o, int c, const char **why)
{
	static const char opt_chars[] = "PSHLlrpWTMm";
	const char *at = strchr(opt_chars, c);
	const char **dst[] = { &o->profile, &o->start, &o->harvest, &o->pull, &o->lot,	   &o->room,
			       &o->product, &o->weight, &o->tonnes, &o->mass, &o->moisture };
	double v;
	char *end;

	if (!c || !at)
		return 0;
	*dst[at - opt_chars] = optarg;
	o->given |= OPT_PROFILE << (at - opt_chars);
	*why = printable(optarg, 128) ? "a name or time of 1 to 128 printable bytes" : NULL;
	if (c == 'W' && (strtod(optarg, &end) <= 0 || *end || end == optarg || strtod(optarg, NULL) > 10000))
		*why = "a carcass weight in kg, above 0 and at most 10000";
	v = strtod(optarg, &end);
	if (c == 'T' && (*end || end == optarg || !(v >= 0.001 && v <= 1000)))
		*why = "tonnes of fruit, from 0.001 to 1000";
	if (c == 'M' && (*end || end == optarg || !(v >= 0.001 && v <= 1e6)))
		*why = "a loaded net mass in kg, from 0.001 to 1000000";
	if (c == 'm' && (*end || end == optarg || !(v >= 0 && v <= 99.9)))
		*why = "a moisture content, % wet basis, from 0 to 99.9";
	return 1;
}

/* Options anywhere; the positional arguments are left in argv[0..*n).  A
 * value the daemon would refuse anyway is a usage error here, named,
 * before anything is sent; bounds as the protocol's (README, control.c). */
static int parse_opts(int argc, char **argv, struct opts *o, int *n)
{
	struct sockaddr_un sa;
	const char *why;
	char name[64];
	int c, idx = -1;

	memset(o, 0, sizeof(*o));
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:c:", long_opts, &idx)) != -1 || optind < argc) {
		if (c == -1) { /* a positional argument: keep it, go on */
			argv[(*n)++] = argv[optind++];
			continue;
		}
		why = NULL;
		switch (c) {
		case 'c':
			o->conf = optarg;
			o->given |= OPT_CONF;
			if (!*optarg)
				why = "a configuration file";
			break;
		case 's':
			o->sock = optarg;
			o->given |= OPT_SOCK;
			if (!*optarg || strlen(optarg) >= sizeof(sa.sun_path))
				why = "a socket path of 1 to 107 bytes";
			break;
		case 'N':
			o->note = optarg;
			o->given |= OPT_NOTE;
			if (strlen(optarg) > 1024)
				why = "a note of at most 1024 bytes";
			break;
		case 'a':
			o->at = optarg;
			o->given |= OPT_AT;
			break;
		case 'u':
			o->user = optarg;
			o->given |= OPT_USER;
			why = printable(optarg, 64);
			break;
		case 'G':
			o->site = optarg;
			o->given |= OPT_SITE;
			if (printable(optarg, 255))
				why = "a site of 1 to 255 printable bytes";
			break;
		case 'j':
			o->json = 1;
			o->given |= OPT_JSON;
			break;
		case 'n':
			o->given |= OPT_COUNT;
			if (ctl_parse_long(optarg, 1, 1000000000L, &o->count) < 0)
				why = "a number of messages from 1 to 1000000000";
			break;
		default:
			if (batch_opt(o, c, &why))
				break;
			return ctl_opt_refused("coldchainctl", long_opts, c, argv);
		}
		if (why)
			return ctl_opt_invalid("coldchainctl", ctl_opt_name(long_opts, idx, c, name, sizeof(name)), optarg,
					       why);
		idx = -1;
	}
	return 0;
}

/* Refuses an option cmd does not take: `status --count 5` would otherwise
 * be silently ignored. */
static int opts_only(const struct opts *o, unsigned allowed, const char *cmd)
{
	unsigned extra = o->given & ~allowed;

	for (int i = 0; long_opts[i].name; i++)
		if (extra & (1u << i))
			return usage_err("option --%s does not apply to %s", long_opts[i].name, cmd);
	return 0;
}

static const char *default_socket(void)
{
	struct stat st;

	if (lstat(DEFAULT_SOCKET, &st) != 0 && lstat(FALLBACK_SOCKET, &st) == 0)
		return FALLBACK_SOCKET;
	return DEFAULT_SOCKET;
}

static const char *socket_path(const struct opts *o, char **owned)
{
	const char *conf = o->conf ? o->conf : DEFAULT_CONF, *why;

	*owned = NULL;
	if (o->sock)
		return o->sock;
	/* the daemon's own word, while every file of conf is as it read them:
	 * no parse (a hub's configuration is megabytes) */
	if ((*owned = runfile_lookup(conf, &why)))
		return *owned;
	if (!o->conf && access(conf, R_OK) != 0)
		return default_socket();
	if (ctl_conf_socket(conf, o->conf != NULL, owned) == 0)
		return *owned;
	return o->conf ? NULL : default_socket();
}

/* The request and its newline (in cJSON's buffer: its NUL replaced, the
 * length is known).  0, or -1 with the error printed. */
static int send_line(int fd, char *line, const char *path)
{
	size_t n = strlen(line), off = 0;

	line[n] = '\n';
	while (off < n + 1) {
		ssize_t w = send(fd, line + off, n + 1 - off, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "coldchainctl: %s: %s\n", path, strerror(errno));
			return -1;
		}
		off += (size_t)w;
	}
	return 0;
}

/* Sends one request, returns the reply (parsed) or NULL with the exit code in *rc. */
static cJSON *call(const char *path, cJSON *req, int *rc)
{
	struct sockaddr_un sa;
	char *line = cJSON_PrintUnformatted(req), *buf = NULL;
	size_t len = 0, cap = 0;
	int fd = -1;
	cJSON *rep = NULL;
	int64_t deadline = time_mono_ms() + reply_timeout_ms;

	*rc = CTL_EXIT_UNREACHABLE;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "coldchainctl: socket path too long: %s\n", path);
		goto out;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "coldchainctl: cannot reach coldchaind at %s: %s\n"
				"  (is it running? name its config with -c FILE or the socket with --socket PATH)\n",
			path, strerror(errno));
		goto out;
	}
	if (send_line(fd, line, path) < 0)
		goto out;
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int64_t left = deadline - time_mono_ms();
		ssize_t r;
		if (left <= 0 || poll(&p, 1, (int)left) == 0) {
			fprintf(stderr, "coldchainctl: %s: no reply from coldchaind\n", path);
			goto out;
		}
		if (len > CONTROL_MAX_REPLY) {
			/* the daemon never sends more: this is not coldchaind */
			fprintf(stderr, "coldchainctl: %s: reply longer than %u bytes without a newline: refused\n",
				path, CONTROL_MAX_REPLY);
			goto out;
		}
		if (cap - len < 4096) {
			cap = cap ? cap * 2 : 65536;
			buf = xrealloc(buf, cap);
		}
		r = recv(fd, buf + len, cap - len - 1, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			fprintf(stderr, "coldchainctl: %s: connection closed before a reply\n", path);
			goto out;
		}
		len += (size_t)r;
		if (memchr(buf + len - r, '\n', (size_t)r))
			break;
	}
	buf[len] = '\0';
	rep = cJSON_Parse(buf);
	if (!rep || !cJSON_IsObject(rep)) {
		fprintf(stderr, "coldchainctl: %s: the reply is not JSON: %.200s\n", path, buf);
		cJSON_Delete(rep);
		rep = NULL;
		goto out;
	}
	*rc = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rep, "ok")) ? CTL_EXIT_OK : CTL_EXIT_REFUSED;
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	cJSON_free(line);
	return rep;
}

/* --- human output ------------------------------------------------------------ */

static const char *js(const cJSON *o, const char *k)
{
	const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, k));
	return s ? s : "";
}

static double jnumber(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static void fmt_num(char *b, size_t n, double v, int prec, const char *unit)
{
	if (isnan(v))
		snprintf(b, n, "-");
	else
		snprintf(b, n, "%.*f%s", prec, v, unit);
}

static void fmt_age(char *b, size_t n, double s)
{
	if (isnan(s))
		snprintf(b, n, "never");
	else if (s < 120)
		snprintf(b, n, "%.0fs", s);
	else if (s < 7200)
		snprintf(b, n, "%.0fm", s / 60);
	else if (s < 172800)
		snprintf(b, n, "%.1fh", s / 3600);
	else
		snprintf(b, n, "%.1fd", s / 86400);
}

/*
 * An RFC 3339 time of the reply for people: in the site's zone (the
 * daemon's `timezone`, which its replies carry: reply_zone) with the
 * offset shown, "2026-12-03 14:05 +0700"; "-" when absent; the text as it
 * came when it is not a time.
 */
static void fmt_local(char *b, size_t n, const cJSON *o, const char *k)
{
	const char *t = js(o, k);
	int64_t ns;
	time_t s;
	struct tm tm;

	if (!*t) {
		snprintf(b, n, "-");
		return;
	}
	if (payload_rfc3339_ns(t, strlen(t), &ns, NULL) < 0) {
		snprintf(b, n, "%s", t);
		return;
	}
	s = (time_t)(ns / 1000000000LL);
	if (!localtime_r(&s, &tm) || !strftime(b, n, "%Y-%m-%d %H:%M %z", &tm))
		snprintf(b, n, "%s", t);
}

/* Times are shown in the daemon's configured zone, which every successful
 * reply names ("timezone"; absent: the daemon uses the system's, as we do). */
static void reply_zone(const cJSON *rep)
{
	const char *tz = js(rep, "timezone");

	if (*tz && config_check_timezone(tz) == 0) {
		setenv("TZ", tz, 1);
		tzset();
	}
}

static void print_alarms(const cJSON *alarms)
{
	const cJSON *a;
	int n = cJSON_GetArraySize(alarms);

	if (!n) {
		printf("no active alarms\n");
		return;
	}
	printf("%-40s %-16s %-8s %9s %9s  %-24s %s\n", "ALARM", "STATE", "SEVERITY", "VALUE", "LIMIT", "SINCE",
	       "NOTE");
	cJSON_ArrayForEach(a, alarms)
	{
		char v[32], l[32], note[96] = "", since[48], until[48];
		fmt_num(v, sizeof(v), jnumber(a, "value"), 2, "");
		fmt_num(l, sizeof(l), jnumber(a, "limit"), 2, "");
		fmt_local(since, sizeof(since), a, "active_since");
		fmt_local(until, sizeof(until), a, "shelved_until");
		if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(a, "shelved")))
			snprintf(note, sizeof(note), "shelved until %s", until);
		else if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(a, "suppressed")))
			snprintf(note, sizeof(note), "suppressed");
		else if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(a, "latched")))
			snprintf(note, sizeof(note), "latched: needs reset");
		printf("%-40s %-16s %-8s %9s %9s  %-24s %s\n", js(a, "id"), js(a, "state"), js(a, "severity"), v, l,
		       since, note);
		printf("    %s\n", js(a, "message"));
	}
}

/* Past this many rooms, `status` without --site/--room lists only the rooms
 * with an alarm that needs someone (a hub's 2,000 rooms are for --json). */
#define STATUS_FULL_MAX 100
static int status_filtered; /* --site or --room given: list what came back */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* An alarm someone has to see to: active or acknowledged, not shelved. */
static int alarm_open(const cJSON *a)
{
	const char *st = js(a, "state");

	return !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(a, "shelved")) &&
	       (strcmp(st, "active") == 0 || strcmp(st, "acked") == 0);
}

/* The rooms of the open alarms, sorted (for bsearch); the caller frees it. */
static const char **open_rooms(const cJSON *alarms, size_t *n)
{
	const char **v = xcalloc((size_t)cJSON_GetArraySize(alarms) + 1, sizeof(*v));
	const cJSON *a;

	*n = 0;
	cJSON_ArrayForEach(a, alarms)
		if (alarm_open(a) && *js(a, "room"))
			v[(*n)++] = js(a, "room");
	qsort(v, *n, sizeof(*v), cmp_str);
	return v;
}

/* "2000 rooms, 10000 lots; alarms: 37 active (12 critical), 3 acknowledged, 2 shelved" */
static void print_summary(const cJSON *rep)
{
	const cJSON *r, *a;
	int rooms = 0, lots = 0, act = 0, crit = 0, acked = 0, shelved = 0;

	cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(rep, "rooms")) {
		rooms++;
		lots += cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(r, "lots"));
	}
	cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(rep, "alarms")) {
		if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(a, "shelved")))
			shelved++;
		else if (strcmp(js(a, "state"), "acked") == 0)
			acked++;
		else if (strcmp(js(a, "state"), "active") == 0) {
			act++;
			crit += strcmp(js(a, "severity"), "critical") == 0;
		}
	}
	if (cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(rep, "rooms_total"))) { /* the daemon sent the open ones */
		const cJSON *n = cJSON_GetObjectItemCaseSensitive(rep, "alarm_counts");
		rooms = (int)jnumber(rep, "rooms_total");
		lots = (int)jnumber(rep, "lots_total");
		act = (int)jnumber(n, "active");
		crit = (int)jnumber(n, "critical");
		acked = (int)jnumber(n, "acked");
		shelved = (int)jnumber(n, "shelved");
	}
	printf("%d %s, %d %s; alarms: %d active (%d critical), %d acknowledged, %d shelved\n", rooms,
	       plural((uint64_t)rooms, "room", "rooms"), lots, plural((uint64_t)lots, "lot", "lots"), act, crit, acked,
	       shelved);
}

static void print_lot_row(const cJSON *r, const cJSON *x)
{
	char c[32], rem[32], plan[32], mkt[32], loaded[48];
	double f = jnumber(x, "consumed");

	fmt_num(c, sizeof(c), isnan(f) ? NAN : f * 100, 1, " %");
	fmt_num(rem, sizeof(rem), jnumber(x, "remaining_h") / 24, 1, " d");
	fmt_num(plan, sizeof(plan), jnumber(x, "remaining_h_at_plan") / 24, 1, " d");
	fmt_num(mkt, sizeof(mkt), jnumber(x, "mkt_c"), 1, " C");
	fmt_local(loaded, sizeof(loaded), x, "loaded");
	printf("%-16s %-10s %-14s %9s %12s %12s %8s  %s%s\n", js(x, "id"), js(r, "name"), js(x, "product"), c, rem,
	       plan, mkt, loaded, cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(x, "runtime")) ? " (coldchainctl)" : "");
}

/* Whether room r is listed: all of them, or those in the sorted set. */
static int room_listed(const cJSON *r, const char **set, size_t n)
{
	const char *name = js(r, "name");

	return !set || bsearch(&name, set, n, sizeof(*set), cmp_str) != NULL;
}

static void print_status(const cJSON *rep)
{
	const cJSON *r, *x, *rooms = cJSON_GetObjectItemCaseSensitive(rep, "rooms");
	const char **set = NULL;
	size_t nset = 0;
	int nl = 0, nrooms = cJSON_GetArraySize(rooms), shown = 0, cut;

	printf("site %s (coldchaind pid %.0f)\n", js(rep, "site"), jnumber(rep, "pid"));
	print_summary(rep);
	/* a daemon of this version sent only the open rooms (rooms_total); an
	 * older one all of them */
	if (cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(rep, "rooms_total")))
		nrooms = (int)jnumber(rep, "rooms_total");
	cut = !status_filtered && nrooms > STATUS_FULL_MAX;
	if (cut)
		set = open_rooms(cJSON_GetObjectItemCaseSensitive(rep, "alarms"), &nset);
	printf("\n%-10s %-22s %-28s %9s %7s  %s\n", "ROOM", "READING", "CHANNEL", "VALUE", "AGE", "QUALITY");
	cJSON_ArrayForEach(r, rooms)
	{
		int any = 0;
		if (!room_listed(r, set, nset))
			continue;
		shown++;
		cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(r, "readings"))
		{
			char v[32], age[32];
			fmt_num(v, sizeof(v), jnumber(x, "value"), 2, "");
			fmt_age(age, sizeof(age), jnumber(x, "age_s"));
			printf("%-10s %-22s %-28s %9s %7s  %s\n", any ? "" : js(r, "name"), js(x, "role"), js(x, "channel"),
			       v, age, js(x, "quality"));
			any = 1;
		}
		if (!any)
			printf("%-10s (no channels)\n", js(r, "name"));
	}
	if (cut) {
		double more = jnumber(rep, "rooms_open_unlisted");
		printf("(the %d %s of %d with an active or acknowledged alarm", shown, plural((uint64_t)shown, "room", "rooms"),
		       nrooms);
		if (more > 0)
			printf(", and %.0f more with one not listed", more);
		printf(": --site SITE or --room ROOM for others, --json for all)\n");
	}
	printf("\n%-16s %-10s %-14s %9s %12s %12s %8s  %s\n", "LOT", "ROOM", "PRODUCT", "CONSUMED", "REMAINING",
	       "AT PLAN", "MKT", "LOADED");
	cJSON_ArrayForEach(r, rooms)
		if (room_listed(r, set, nset))
			cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(r, "lots")) {
				print_lot_row(r, x);
				nl++;
			}
	if (!nl)
		printf("(no lots)\n");
	printf("\n");
	print_alarms(cJSON_GetObjectItemCaseSensitive(rep, "alarms"));
	free(set);
}

static void print_error(const cJSON *rep)
{
	fprintf(stderr, "coldchainctl: %s\n", js(rep, "error"));
	if (*js(rep, "hint"))
		fprintf(stderr, "  %s\n", js(rep, "hint"));
}

/* --- commands ------------------------------------------------------------------ */

/* One request: the positional arguments after its name(s) and the request
 * fields they fill, the options it takes beyond the common ones, and how
 * its reply is shown. */
struct sock_cmd {
	const char *name;	 /* as typed: "ack"; "load" under "lot" */
	const char *cmd;	 /* the request's "cmd" */
	const char *label;	 /* the command in "option --x does not apply to ..." */
	unsigned opts;		 /* OPT_* beyond -c, --socket, --json, --user */
	int nargs;		 /* positional arguments */
	const char *fields[3];	 /* the request fields they fill, in order */
	const char *expected;	 /* the usage error when nargs is not met */
	int (*check)(char **args, const struct opts *o); /* a usage error's exit status, or 0 */
	void (*show)(const cJSON *rep, const struct sock_cmd *c);
	const char *done;	 /* lot: how the reply's room is introduced */
	int nopt;		 /* positional arguments that may follow nargs */
};

static void show_status(const cJSON *rep, const struct sock_cmd *c)
{
	(void)c;
	print_status(rep);
}

static void show_alarms(const cJSON *rep, const struct sock_cmd *c)
{
	(void)c;
	print_alarms(cJSON_GetObjectItemCaseSensitive(rep, "alarms"));
}

static void show_reload(const cJSON *rep, const struct sock_cmd *c)
{
	(void)rep;
	(void)c;
	printf("configuration reloaded\n");
}

static void show_alarm_done(const cJSON *rep, const struct sock_cmd *c)
{
	printf("%s %s: done, alarm now %s (by %s)\n", c->name, js(rep, "id"), js(rep, "state"), js(rep, "user"));
}

static void show_lot(const cJSON *rep, const struct sock_cmd *c)
{
	printf("lot %s: %s%s%s (by %s)\n", js(rep, "lot"), c->done, js(rep, "room"), "", js(rep, "user"));
}

static int check_duration(char **args, const struct opts *o)
{
	int64_t ms;

	(void)o;
	if (parse_duration_ms(args[1], &ms) < 0 || ms <= 0)
		return usage_err("bad duration %s (examples: 90s, 30m, 8h, 1d)", args[1]);
	return 0;
}

static int check_at(char **args, const struct opts *o)
{
	int64_t ns;

	(void)args;
	if (o->at && payload_rfc3339_ns(o->at, strlen(o->at), &ns, NULL) < 0)
		return ctl_opt_invalid("coldchainctl", "--at", o->at, "an RFC 3339 time, e.g. 2026-06-12T08:00:00+07:00");
	return 0;
}

static int check_time_opt(const char *name, const char *v)
{
	int64_t ns;

	if (v && payload_rfc3339_ns(v, strlen(v), &ns, NULL) < 0)
		return ctl_opt_invalid("coldchainctl", name, v, "an RFC 3339 time, e.g. 2026-06-12T08:00:00+07:00");
	return 0;
}

static int check_batch_start(char **args, const struct opts *o)
{
	int rc;

	(void)args;
	if (!o->profile)
		return usage_err("batch start needs --profile P (a process profile of the process's kind)");
	if ((rc = check_time_opt("--start", o->start)) || (rc = check_time_opt("--harvest", o->harvest)) ||
	    (rc = check_time_opt("--pull", o->pull)))
		return rc;
	return 0;
}

static int check_release(char **args, const struct opts *o)
{
	(void)args;
	if (!o->lot || !o->room)
		return usage_err("batch release needs --lot LOT and --room ROOM");
	return 0;
}


static void print_verdicts(const cJSON *b)
{
	static const char *const flags[] = { "pull_early", "underperforming", "medium_hot", "unreachable", "late_start",
					     "miss_dispatch", "over_cooling", "field_heat" };
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(b, "verdict");
	int any = 0;

	printf("    %s:", strcmp(js(b, "state"), "running") == 0 ? "verdicts (if pulled now)" : "final verdicts");
	for (size_t i = 0; i < ARRAY_SIZE(flags); i++)
		if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(v, flags[i]))) {
			printf(" %s", flags[i]);
			any = 1;
		}
	if (jnumber(v, "probe_faults") > 0) {
		printf(" probe_fault(mask %.0f)", jnumber(v, "probe_faults"));
		any = 1;
	}
	printf("%s\n", any ? "" : " none");
}

/* A fumigation batch: the dose, the purge, each outside sensor's exposure. */
static void print_fum(const cJSON *b)
{
	const cJSON *y;

	printf("%-12s %-14s %-20s %-9s phase %s\n", js(b, "id"), js(b, "process"), js(b, "profile"), js(b, "state"),
	       js(b, "phase"));
	printf("    CT %.1f ppm·h (%.3f g·h/m³), %s; peak %.0f ppm; unmonitored %.2f h; purge %.2f h (estimate %.2f h)%s%s\n",
	       jnumber(b, "ct_ppmh"), jnumber(b, "ct_g_h_m3"), js(b, "ct_verdict"), jnumber(b, "peak_ppm"),
	       jnumber(b, "unmonitored_h"), jnumber(b, "purge_h"), jnumber(b, "purge_estimate_h"),
	       *js(b, "lot") ? "; released as lot " : "", js(b, "lot"));
	if (!isnan(jnumber(b, "entry_limit_ppm")))
		printf("    re-entry: %s (chamber %.1f ppm, limit %g ppm%s); door %s\n",
		       cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(b, "entry_allowed")) ? "allowed" : "not yet",
		       jnumber(b, "chamber_ppm"), jnumber(b, "entry_limit_ppm"),
		       cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(b, "entry_limit_estimate")) ? ", D-graded: an estimate" : "",
		       cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(b, "door_open")) ? "open" : "closed");
	cJSON_ArrayForEach(y, cJSON_GetObjectItemCaseSensitive(b, "outside"))
		printf("    outside %s: STEL %.3f ppm (max %.3f, limit %.3f), TWA %.3f ppm, projected %.3f ppm (limit %.3f, %s)\n",
		       js(y, "sensor"), jnumber(y, "stel_ppm"), jnumber(y, "stel_max_ppm"), jnumber(b, "stel_limit_ppm"),
		       jnumber(y, "twa_ppm"), jnumber(y, "projected_twa_ppm"), jnumber(b, "twa_limit_ppm"),
		       js(b, "worker_limit"));
}

/* A drying batch: moisture, stage, rate, ETA, verdicts. */
static void print_dry(const cJSON *b)
{
	const cJSON *v;

	printf("%-12s %-14s %-20s %-9s stage %s\n", js(b, "id"), js(b, "process"), js(b, "profile"), js(b, "state"),
	       js(b, "stage"));
	printf("    MC %.2f %% wb (%.4f db, target %.1f %%); m/m0 %.4f (endpoint %.4f); mass %.2f kg; rate %.3f kg/h; "
	       "k %.4f /h; ETA %.1f h; air %.1f C%s%s\n",
	       jnumber(b, "mc_wb"), jnumber(b, "mc_db"), jnumber(b, "target_mc_wb"), jnumber(b, "mass_ratio"),
	       jnumber(b, "ratio_max"), jnumber(b, "mass_kg"), jnumber(b, "rate"), jnumber(b, "k"), jnumber(b, "eta_h"),
	       jnumber(b, "air_c"), *js(b, "lot") ? "; released as lot " : "", js(b, "lot"));
	printf("    %s:", strcmp(js(b, "state"), "running") == 0 ? "verdicts (if unloaded now)" : "final verdicts");
	cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(b, "verdicts"))
		printf(" %s", cJSON_IsString(v) ? v->valuestring : "?");
	printf("%s\n", cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(b, "verdicts")) ? "" : " none");
}

/* A chilling batch's probe count, giblets and fresh label. */
static void chill_line(const cJSON *b)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(b, "verdict");

	printf("    core probes reporting %.0f of %.0f; giblets %s; fresh %s\n", jnumber(b, "probes_reporting"),
	       jnumber(b, "min_probes"), js(v, "giblets"),
	       cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(v, "not_fresh")) ? "lost (a core below fresh_min)" : "yes");
}

static void print_batch(const cJSON *b)
{
	char c[32], j[32], r2[32], z[32], s8[32], sl[32], md[32], eta[48], rem[32];

	if (strcmp(js(b, "kind"), "fumigation") == 0) {
		print_fum(b);
		return;
	}
	if (strcmp(js(b, "kind"), "drying") == 0) {
		print_dry(b);
		return;
	}
	fmt_num(c, sizeof(c), jnumber(b, "C"), 4, "/h");
	fmt_num(j, sizeof(j), jnumber(b, "j"), 3, "");
	fmt_num(r2, sizeof(r2), jnumber(b, "r2"), 4, "");
	fmt_num(z, sizeof(z), jnumber(b, "half_h"), 2, " h");
	fmt_num(s8, sizeof(s8), jnumber(b, "seven_eighths_h"), 2, " h");
	fmt_num(sl, sizeof(sl), jnumber(b, "slowest_c"), 1, " C");
	fmt_num(md, sizeof(md), jnumber(b, "medium_c"), 1, " C");
	fmt_num(rem, sizeof(rem), jnumber(b, "remaining_h"), 2, " h");
	fmt_local(eta, sizeof(eta), b, "eta");
	printf("%-12s %-14s %-20s %-9s %4.0f %9s %6s %7s %8s %8s %8s %8s\n", js(b, "id"), js(b, "process"),
	       js(b, "profile"), js(b, "state"), jnumber(b, "n"), c, j, r2, z, s8, sl, md);
	printf("    fit %s; target %.1f C; remaining %s; ETA %s (%s)%s%s\n", js(b, "fit"), jnumber(b, "target_c"), rem,
	       eta, js(b, "eta_status"), *js(b, "lot") ? "; released as lot " : "", js(b, "lot"));
	if (*js(b, "deadline")) {
		char dl[48];
		fmt_local(dl, sizeof(dl), b, "deadline");
		printf("    %.2f kg carcass: deadline %s (%.2f h); predicted %.2f h; compliance %s\n", jnumber(b, "weight_kg"),
		       dl, jnumber(b, "deadline_h"), jnumber(b, "pred_h"),
		       js(cJSON_GetObjectItemCaseSensitive(b, "verdict"), "compliance"));
		chill_line(b);
	}
	print_verdicts(b);
}

static void show_batch_status(const cJSON *rep, const struct sock_cmd *c)
{
	const cJSON *b;

	(void)c;
	if (!cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(rep, "batches"))) {
		printf("no batches\n");
		return;
	}
	printf("%-12s %-14s %-20s %-9s %4s %9s %6s %7s %8s %8s %8s %8s\n", "BATCH", "PROCESS", "PROFILE", "STATE", "N",
	       "C", "j", "R2", "Z", "7/8", "SLOWEST", "MEDIUM");
	cJSON_ArrayForEach(b, cJSON_GetObjectItemCaseSensitive(rep, "batches"))
		print_batch(b);
}

static void show_batch_done(const cJSON *rep, const struct sock_cmd *c)
{
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(rep, "status");

	printf("batch %s: %s (by %s)\n", js(rep, "batch"), c->done, js(rep, "user"));
	if (st)
		print_batch(st);
}

static void show_notify(const cJSON *rep, const struct sock_cmd *c)
{
	const cJSON *v;

	(void)c;
	cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(rep, "results"))
		if (cJSON_IsString(v))
			printf("%s\n", v->valuestring);
}

#define NO_ARGS "this command takes no arguments"
#define ALARM_ID "expected: ALARM-ID (see coldchainctl alarms)"
static const struct sock_cmd sock_cmds[] = {
	{ "status", "status", "status", OPT_SITE | OPT_ROOM, 0, { NULL }, NO_ARGS, NULL, show_status, NULL, 0 },
	{ "alarms", "alarms", "alarms", OPT_SITE | OPT_ROOM, 0, { NULL }, NO_ARGS, NULL, show_alarms, NULL, 0 },
	{ "reload", "reload", "reload", 0, 0, { NULL }, NO_ARGS, NULL, show_reload, NULL, 0 },
	{ "ack", "ack", "ack", OPT_NOTE, 1, { "id" }, ALARM_ID, NULL, show_alarm_done, NULL, 0 },
	{ "unshelve", "unshelve", "unshelve", OPT_NOTE, 1, { "id" }, ALARM_ID, NULL, show_alarm_done, NULL, 0 },
	{ "reset", "reset", "reset", OPT_NOTE, 1, { "id" }, ALARM_ID, NULL, show_alarm_done, NULL, 0 },
	{ "shelve", "shelve", "shelve", OPT_NOTE, 2, { "id", "duration" },
	  "expected: shelve ALARM-ID DURATION (e.g. 30m, 8h)", check_duration, show_alarm_done, NULL, 0 },
	{ NULL, NULL, NULL, 0, 0, { NULL }, NULL, NULL, NULL, NULL, 0 },
};
static const struct sock_cmd lot_cmds[] = {
	{ "load", "lot_load", "lot load", OPT_AT, 3, { "room", "lot", "product" },
	  "expected: lot load ROOM LOT PRODUCT [--at T]", check_at, show_lot, "loaded into room ", 0 },
	{ "unload", "lot_unload", "lot unload", 0, 1, { "lot" }, "expected: lot unload LOT", NULL, show_lot,
	  "unloaded", 0 },
	{ "move", "lot_move", "lot move", 0, 2, { "lot", "room" }, "expected: lot move LOT ROOM", NULL, show_lot,
	  "moved to room ", 0 },
	{ NULL, NULL, NULL, 0, 0, { NULL }, NULL, NULL, NULL, NULL, 0 },
};
static const struct sock_cmd batch_cmds[] = {
	{ "start", "batch_start", "batch start",
	  OPT_PROFILE | OPT_START | OPT_HARVEST | OPT_PULL | OPT_WEIGHT | OPT_TONNES | OPT_MASS | OPT_MOISTURE, 2,
	  { "process", "batch" }, "expected: batch start PROCESS BATCH --profile P", check_batch_start,
	  show_batch_done, "started", 0 },
	{ "phase", "batch_phase", "batch phase", OPT_AT, 2, { "batch", "phase" },
	  "expected: batch phase BATCH burning|hold|purge|done [--at T]", check_at, show_batch_done, "phase marked",
	  0 },
	{ "stop", "batch_stop", "batch stop", OPT_AT, 1, { "batch" }, "expected: batch stop BATCH [--at T]",
	  check_at, show_batch_done, "stopped", 0 },
	{ "release", "batch_release", "batch release", OPT_LOT | OPT_ROOM | OPT_PRODUCT, 1, { "batch" },
	  "expected: batch release BATCH --lot LOT --room ROOM [--product P]", check_release, show_batch_done,
	  "released", 0 },
	{ "status", "batch_status", "batch status", 0, 0, { "batch" }, "expected: batch status [BATCH]", NULL,
	  show_batch_status, NULL, 1 },
	{ NULL, NULL, NULL, 0, 0, { NULL }, NULL, NULL, NULL, NULL, 0 },
};
static const struct sock_cmd notify_cmds[] = {
	{ "test", "notify_test", "notify test", 0, 1, { "route" }, "expected: notify test ROUTE", NULL, show_notify,
	  NULL, 0 },
	{ NULL, NULL, NULL, 0, 0, { NULL }, NULL, NULL, NULL, NULL, 0 },
};
#undef NO_ARGS
#undef ALARM_ID

/* The commands that take a sub-command. */
static const struct {
	const char *name;
	const struct sock_cmd *cmds;
} sock_groups[] = { { "lot", lot_cmds }, { "batch", batch_cmds }, { "notify", notify_cmds } };

static const struct sock_cmd *sock_cmd_find(const struct sock_cmd *t, const char *name)
{
	for (; t->name; t++)
		if (strcmp(t->name, name) == 0)
			return t;
	return NULL;
}

/* The request the positional arguments name (after the options were taken
 * out): *depth is how many of them name it.  NULL with the exit status in
 * *rc, the usage printed. */
static const struct sock_cmd *sock_cmd_of(char **argv, int n, int *depth, int *rc)
{
	const struct sock_cmd *c, *t = NULL;
	const char *g = NULL;

	*depth = 1;
	for (size_t i = 0; i < ARRAY_SIZE(sock_groups); i++)
		if (strcmp(argv[0], sock_groups[i].name) == 0) {
			g = sock_groups[i].name;
			t = sock_groups[i].cmds;
		}
	if (!t) {
		c = sock_cmd_find(sock_cmds, argv[0]);
		if (!c)
			*rc = usage_err("unknown command: %s", argv[0]);
		return c;
	}
	*depth = 2;
	if (n < 2) {
		fprintf(stderr, "coldchainctl: %s needs a command (coldchainctl %s --help lists them)\n", g, g);
		*rc = CTL_EXIT_USAGE;
		return NULL;
	}
	c = sock_cmd_find(t, argv[1]);
	if (!c)
		*rc = usage_err("unknown command: %s", argv[1]);
	return c;
}

/* The request line: cmd, the positional arguments' fields, --at, --note,
 * --user (in the order the daemon has always been sent them). */
static cJSON *sock_request(const struct sock_cmd *c, const struct opts *o, char **args, int nargs)
{
	cJSON *req = cJSON_CreateObject();
	const char *const bkeys[] = { "profile", "start", "harvest", "pull", "lot", "room", "product" };
	const char *const bvals[] = { o->profile, o->start, o->harvest, o->pull, o->lot, o->room, o->product };

	cJSON_AddStringToObject(req, "cmd", c->cmd);
	for (int i = 0; i < nargs; i++)
		cJSON_AddStringToObject(req, c->fields[i], args[i]);
	for (size_t i = 0; i < ARRAY_SIZE(bkeys); i++)
		if (bvals[i])
			cJSON_AddStringToObject(req, bkeys[i], bvals[i]);
	if (o->weight)
		cJSON_AddNumberToObject(req, "weight", strtod(o->weight, NULL));
	if (o->tonnes)
		cJSON_AddNumberToObject(req, "tonnes", strtod(o->tonnes, NULL));
	if (o->mass)
		cJSON_AddNumberToObject(req, "mass", strtod(o->mass, NULL));
	if (o->moisture)
		cJSON_AddNumberToObject(req, "moisture", strtod(o->moisture, NULL));
	if (o->at)
		cJSON_AddStringToObject(req, "at", o->at);
	if (o->site)
		cJSON_AddStringToObject(req, "site", o->site);
	/* the table of a hub needs only the rooms with an alarm: megabytes less */
	if (strcmp(c->cmd, "status") == 0 && !o->json && !o->site && !o->room)
		cJSON_AddNumberToObject(req, "open_past", STATUS_FULL_MAX);
	if (o->note)
		cJSON_AddStringToObject(req, "note", o->note);
	if (o->user)
		cJSON_AddStringToObject(req, "user", o->user);
	return req;
}

/* Sends the request, shows the reply; the exit status. */
static int sock_send(const struct sock_cmd *c, const struct opts *o, cJSON *req)
{
	char *owned = NULL;
	const char *path = socket_path(o, &owned);
	cJSON *rep;
	int rc;

	if (!path) {
		cJSON_Delete(req);
		return CTL_EXIT_USAGE;
	}
	rep = call(path, req, &rc);
	cJSON_Delete(req);
	free(owned);
	if (!rep)
		return rc;
	if (o->json) {
		char *s = cJSON_PrintUnformatted(rep);
		printf("%s\n", s);
		cJSON_free(s);
		if (rc != CTL_EXIT_OK)
			print_error(rep);
	} else if (rc != CTL_EXIT_OK) {
		print_error(rep);
	} else {
		reply_zone(rep);
		c->show(rep, c);
	}
	cJSON_Delete(rep);
	return rc;
}

/* argv[0] is the command ("status", "lot", ...), positional 0. */
static int ctl_socket_main(int argc, char **argv)
{
	const struct sock_cmd *c;
	struct opts o;
	int n = 1, depth, rc = 0;

	if (parse_opts(argc, argv, &o, &n))
		return CTL_EXIT_USAGE;
	c = sock_cmd_of(argv, n, &depth, &rc);
	if (!c)
		return rc;
	if (opts_only(&o, OPT_CONF | OPT_SOCK | OPT_JSON | OPT_USER | c->opts, c->label))
		return CTL_EXIT_USAGE;
	if (n < depth + c->nargs || n > depth + c->nargs + c->nopt)
		return usage_err("%s", c->expected);
	if (c->check && (rc = c->check(argv + depth, &o)) != 0)
		return rc;
	status_filtered = o.site || o.room;
	return sock_send(c, &o, sock_request(c, &o, argv + depth, n - depth));
}

/* --- completion ---------------------------------------------------------------- */

static void name_if(FILE *out, const char *name, const char *prefix)
{
	if (name && *name && strncmp(name, prefix, strlen(prefix)) == 0 && !strchr(name, '\n'))
		fprintf(out, "%s\n", name);
}

void ctl_socket_names(const char *kind, const char *conf, const char *sock, const char *prefix, FILE *out)
{
	int batch = strcmp(kind, "BATCH") == 0;
	struct opts o = { .conf = conf, .sock = sock };
	char *owned = NULL;
	const char *path;
	cJSON *req, *rep, *r, *x;
	int rc;

	if (!batch && strcmp(kind, "ID") != 0 && strcmp(kind, "LOT") != 0 && strcmp(kind, "ROOM") != 0)
		return;
	path = socket_path(&o, &owned);
	if (!path)
		return;
	req = cJSON_CreateObject();
	cJSON_AddStringToObject(req, "cmd", batch ? "batch_status" : "status");
	reply_timeout_ms = COMPLETE_TIMEOUT_MS;
	rep = call(path, req, &rc);
	cJSON_Delete(req);
	free(owned);
	if (rep && rc == CTL_EXIT_OK) {
		if (batch)
			cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(rep, "batches"))
				name_if(out, js(x, "id"), prefix);
		else if (strcmp(kind, "ID") == 0)
			cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(rep, "alarms"))
				name_if(out, js(x, "id"), prefix);
		cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(rep, "rooms"))
		{
			if (strcmp(kind, "ROOM") == 0)
				name_if(out, js(r, "name"), prefix);
			if (strcmp(kind, "LOT") == 0)
				cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(r, "lots"))
					name_if(out, js(x, "id"), prefix);
		}
	}
	cJSON_Delete(rep);
}

/* The common options of every control-socket command. */
#define COMMON "-c=CONFIG --config=CONFIG --socket=PATH --json --user=NAME"
#define AT_T "--at=T " COMMON
#define NOTE "--note=TEXT " COMMON

static const struct ctl_cmd lot_rows[] = {
	{ "load", NULL, NULL, "ROOM LOT PRODUCT [--at T]", "load a lot (T: RFC 3339, default now)", AT_T, 0 },
	{ "unload", NULL, NULL, "LOT", "unload a lot", COMMON, 0 },
	{ "move", NULL, NULL, "LOT ROOM", "move a lot to another room (it keeps its consumed life)", COMMON, 0 },
	{ NULL, NULL, NULL, NULL, NULL, NULL, 0 },
};

static const struct ctl_cmd batch_rows[] = {
	{ "start", NULL, NULL,
	  "PROCESS BATCH --profile P [--start T] [--harvest T] [--pull T] [--weight KG]\n"
	  "              [--tonnes T] [--mass KG] [--moisture PCT]",
	  "start a processing batch (T: RFC 3339, default now; --weight: the heaviest carcass,\n"
	  "      for chilling; --tonnes: fruit fumigated; --mass, --moisture: a drying batch's\n"
	  "      loaded net mass and its moisture, % wet basis)",
	  "--profile=P --start=T --harvest=T --pull=T --weight=KG --tonnes=T --mass=KG --moisture=PCT " COMMON, 0 },
	{ "phase", NULL, NULL, "BATCH burning|hold|purge|done [--at T]",
	  "a fumigation batch's phase, as the operator sees it", AT_T, 0 },
	{ "stop", NULL, NULL, "BATCH [--at T]", "the batch is pulled: its final verdict", AT_T, 0 },
	{ "release", NULL, NULL, "BATCH --lot LOT --room ROOM [--product P]",
	  "into storage as a lot (stops it if running)", "--lot=LOT --room=ROOM --product=P " COMMON, 0 },
	{ "status", NULL, NULL, "[BATCH]", "C, j, R², Z, 7/8 time, ETA, dose, exposure, moisture and verdicts",
	  COMMON, 0 },
	{ NULL, NULL, NULL, NULL, NULL, NULL, 0 },
};

static const struct ctl_cmd notify_rows[] = {
	{ "test", NULL, NULL, "ROUTE",
	  "a test message to every recipient of ROUTE on each of its channels, now\n"
	  "      (exit 0: all accepted)",
	  COMMON, 0 },
	{ NULL, NULL, NULL, NULL, NULL, NULL, 0 },
};

/* lot, batch and notify: ctl_socket_main finds the subcommand after the
 * options; the rows under them are for help and completion. */
const struct ctl_cmd ctl_socket_cmds[] = {
	{ "status", NULL, ctl_socket_main, "[--site SITE] [--room ROOM]",
	  "rooms, readings, lots and active alarms (past 100 rooms: those with an alarm)", "--site=SITE --room=ROOM " COMMON, 0 },
	{ "alarms", NULL, ctl_socket_main, "[--site SITE] [--room ROOM]", "the active alarms", "--site=SITE --room=ROOM " COMMON, 0 },
	{ "ack", NULL, ctl_socket_main, "ID [--note TEXT]", "acknowledge an alarm", NOTE, 0 },
	{ "shelve", NULL, ctl_socket_main, "ID DURATION [--note TEXT]",
	  "shelve an alarm for DURATION (e.g. 30m, 8h); it expires by itself", NOTE, 0 },
	{ "unshelve", NULL, ctl_socket_main, "ID [--note TEXT]", "end a shelve now", NOTE, 0 },
	{ "reset", NULL, ctl_socket_main, "ID [--note TEXT]", "reset a latched alarm", NOTE, 0 },
	{ "lot", lot_rows, ctl_socket_main, NULL, "the lots in the storage rooms", COMMON, 0 },
	{ "batch", batch_rows, ctl_socket_main, NULL,
	  "processing batches (precooling, carcass chilling, fumigation, drying)", COMMON, 0 },
	{ "notify", notify_rows, ctl_socket_main, NULL, "the channels to people", COMMON, 0 },
	{ "reload", NULL, ctl_socket_main, "", "reload the configuration (as SIGHUP)", COMMON, 0 },
	{ NULL, NULL, NULL, NULL, NULL, NULL, 0 },
};
#undef COMMON
#undef AT_T
#undef NOTE
