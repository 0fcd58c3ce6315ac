/* coldchainctl-full - the operator's and technician's command line, every
 * command, dispatched through command tables (ctl_opts.h).  `config check`,
 * the Modbus technician tools (`modbus read`, `modbus scan`) here; `report`
 * in report*.c; `user` in user.c; `mqtt watch` in watch.c; the
 * control-socket commands (status, alarms, ack, lot, ...) in ctl_socket.c.
 * The coldchainctl people run is the thin one (thin.c): it answers the
 * control-socket commands itself and runs this binary for the rest.
 * Exit status: 0 done, 1 the thing asked for failed (no answer, invalid
 * config, refused by the daemon), 2 usage error, 3 daemon not reachable. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../daemon/config.h"
#include "../daemon/util.h"
#include "../drivers/modbus.h"
#include "../codec/regdecode.h"
#include "complete.h"
#include "ctl_opts.h"
#include "ctl_socket.h"
#include "report.h"
#include "user.h"
#include "watch.h"

#ifndef CC_VERSION
#error "CC_VERSION comes from the Makefile (VERSION): -DCC_VERSION=..."
#endif

static void usage(FILE *f);

/* argv[0] is "check". */
static int cmd_config_check(int argc, char **argv)
{
	struct cc_config *cfg = NULL;
	struct cc_errors e = { 0 };

	if (argc != 2) {
		fputs("usage: coldchainctl config check FILE\n", stderr);
		return 2;
	}
	if (config_load(argv[1], &cfg, &e) < 0) {
		errors_print(&e, stderr);
		errors_free(&e);
		return 1;
	}
	printf("configuration OK\n");
	config_free(cfg);
	return 0;
}

struct mb_opts {
	char spec[512];
	int unit, from, to;
	enum cc_table table;
	long address, count;
	double scale;
	int64_t timeout_ms;
	int have_unit, have_table, have_address, have_timeout;
};

static int parse_table(const char *s, enum cc_table *t)
{
	static const char *names[] = { "coil", "discrete", "holding", "input" };
	for (int i = 0; i < 4; i++)
		if (strcmp(s, names[i]) == 0) {
			*t = (enum cc_table)i;
			return 0;
		}
	return -1;
}

static const struct option mb_longopts[] = {
	{ "tcp", required_argument, NULL, 't' },   { "rtu", required_argument, NULL, 'r' },
	{ "unit", required_argument, NULL, 'u' },  { "table", required_argument, NULL, 'T' },
	{ "address", required_argument, NULL, 'a' }, { "count", required_argument, NULL, 'n' },
	{ "scale", required_argument, NULL, 's' }, { "timeout", required_argument, NULL, 'w' },
	{ "from", required_argument, NULL, 'f' },  { "to", required_argument, NULL, 'o' },
	{ NULL, 0, NULL, 0 },
};

/* --tcp or --rtu: the link, as mb_link_open() takes it.  As mb_opt(). */
static int mb_opt_link(struct mb_opts *o, const char *kind, const char **why, char *err, size_t errlen)
{
	struct mb_link_spec sp;

	if (o->spec[0]) {
		fprintf(stderr, "coldchainctl: give one of --tcp and --rtu, once\n");
		return 2;
	}
	if (strlen(optarg) + 4 >= sizeof(o->spec)) {
		*why = "too long";
		return -1;
	}
	snprintf(o->spec, sizeof(o->spec), "%s:%s", kind, optarg);
	if (mb_link_spec_parse(o->spec, &sp, err, errlen) < 0) {
		*why = err;
		return -1;
	}
	return 0;
}

/* The value of option opt (getopt_long()'s optarg) into o: 0; -1 with what
 * was expected in *why (err holds a longer reason); or 2 (usage) with the
 * message printed. */
static int mb_opt(struct mb_opts *o, int opt, char **argv, const char **why, char *err, size_t errlen)
{
	long v;

	switch (opt) {
	case 't':
	case 'r':
		return mb_opt_link(o, opt == 't' ? "tcp" : "rtu", why, err, errlen);
	case 'u':
		if (ctl_parse_long(optarg, 0, 255, &v) < 0) {
			*why = "a unit id from 0 to 255";
			return -1;
		}
		o->unit = (int)v;
		o->have_unit = 1;
		break;
	case 'T':
		if (parse_table(optarg, &o->table) < 0) {
			*why = "holding, input, coil or discrete";
			return -1;
		}
		o->have_table = 1;
		break;
	case 'a':
		if (ctl_parse_long(optarg, 0, 65535, &o->address) < 0) {
			*why = "a protocol address from 0 to 65535";
			return -1;
		}
		o->have_address = 1;
		break;
	case 'n':
		if (ctl_parse_long(optarg, 1, 2000, &o->count) < 0) {
			*why = "a count from 1 to 2000, at most 125 for registers";
			return -1;
		}
		break;
	case 's': {
		char *end;
		errno = 0;
		o->scale = strtod(optarg, &end);
		if (*end || end == optarg || errno == ERANGE || !isfinite(o->scale) || o->scale == 0) {
			*why = "a finite number other than 0";
			return -1;
		}
		break;
	}
	case 'w':
		if (parse_duration_ms(optarg, &o->timeout_ms) < 0 || o->timeout_ms <= 0 ||
		    o->timeout_ms > 3600000) {
			*why = "a duration from 1ms to 1h, e.g. 500ms, 2s";
			return -1;
		}
		o->have_timeout = 1;
		break;
	case 'f':
	case 'o':
		if (ctl_parse_long(optarg, 0, 255, &v) < 0) {
			*why = "a unit id from 0 to 255";
			return -1;
		}
		*(opt == 'f' ? &o->from : &o->to) = (int)v;
		break;
	default:
		return ctl_opt_refused("coldchainctl", mb_longopts, opt, argv);
	}
	return 0;
}

/* 0, or 2 (usage) with the message printed: every bad value names its
 * option and says what was expected. */
static int mb_parse(int argc, char **argv, struct mb_opts *o)
{
	const char *why = NULL;
	char name[64], err[512];
	int opt, idx = -1, rc;

	memset(o, 0, sizeof(*o));
	o->count = 1;
	o->scale = 1.0;
	o->timeout_ms = 1000;
	o->from = 1;
	o->to = 247;
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":", mb_longopts, &idx)) != -1) {
		rc = mb_opt(o, opt, argv, &why, err, sizeof(err));
		if (rc < 0)
			return ctl_opt_invalid("coldchainctl", ctl_opt_name(mb_longopts, idx, opt, name, sizeof(name)),
					       optarg, why);
		if (rc > 0)
			return rc;
		idx = -1;
	}
	if (optind != argc) {
		fprintf(stderr, "coldchainctl: unexpected argument '%.200s'\n", argv[optind]);
		return 2;
	}
	if (!o->spec[0]) {
		fprintf(stderr, "coldchainctl: give --tcp HOST:PORT or --rtu DEVICE:BAUD[:8N1]\n");
		return 2;
	}
	return 0;
}

static const char *const order_names[] = { "ABCD", "CDAB", "BADC", "DCBA" };

static void print_decodings(const uint16_t *w, long count, long base, double scale)
{
	printf("\n32-bit values starting at each address (A = most significant byte)%s:\n",
	       scale != 1.0 ? ", scaled" : "");
	printf("  %7s  %-5s %14s %14s %16s\n", "start", "order", "int32", "uint32", "float32");
	for (long i = 0; i + 1 < count; i++) {
		for (int o = 0; o < 4; o++) {
			double i32, u32, f32;
			char fbuf[32];
			regdecode_words(&w[i], 2, CC_T_INT32, (enum cc_order)o, -1, &i32);
			regdecode_words(&w[i], 2, CC_T_UINT32, (enum cc_order)o, -1, &u32);
			if (regdecode_words(&w[i], 2, CC_T_FLOAT32, (enum cc_order)o, -1, &f32) < 0)
				snprintf(fbuf, sizeof(fbuf), "NaN/Inf");
			else
				snprintf(fbuf, sizeof(fbuf), "%.7g", f32 * scale);
			printf("  %7ld  %-5s %14.10g %14.10g %16s\n", base + i, order_names[o], i32 * scale, u32 * scale,
			       fbuf);
		}
	}
}

static int cmd_modbus_read(int argc, char **argv)
{
	struct mb_opts o;
	struct mb_link *l;
	uint16_t w[2000];
	char err[600];
	double rtt = 0;
	int rc, bits;

	if (mb_parse(argc, argv, &o))
		return 2;
	if (!o.have_unit || !o.have_table || !o.have_address) {
		fprintf(stderr, "coldchainctl modbus read: --unit, --table and --address are required\n");
		return 2;
	}
	bits = o.table == CC_TABLE_COIL || o.table == CC_TABLE_DISCRETE;
	if (!bits && o.count > 125) {
		fprintf(stderr, "coldchainctl modbus read: at most 125 registers per request\n");
		return 2;
	}
	if (o.address + o.count - 1 > 65535) {
		fprintf(stderr, "coldchainctl modbus read: %ld + %ld runs past address 65535\n", o.address, o.count);
		return 2;
	}
	l = mb_link_open(o.spec, o.timeout_ms, err, sizeof(err));
	if (!l) {
		fprintf(stderr, "coldchainctl: %s\n", err);
		return 1;
	}
	rc = mb_link_read(l, o.unit, o.table, (uint16_t)o.address, (uint16_t)o.count, w, &rtt);
	mb_link_close(l);
	if (rc < 0) {
		fprintf(stderr, "coldchainctl: %s unit %d %s %ld..%ld: %s%s\n", o.spec + 4, o.unit, table_name(o.table),
			o.address, o.address + o.count - 1, mb_link_strerror(rc),
			rc == -ETIMEDOUT ? " (wrong unit id, baud rate or wiring?)" : "");
		return 1;
	}
	printf("%s unit %d %s %ld..%ld: %ld %s in %.1f ms\n", o.spec + 4, o.unit, table_name(o.table), o.address,
	       o.address + o.count - 1, o.count, bits ? "bits" : "registers", rtt);
	if (bits) {
		for (long i = 0; i < o.count; i++)
			printf("  %7ld  %d\n", o.address + i, w[i]);
		return 0;
	}
	printf("  %7s  %-6s %8s %8s%s\n", "address", "hex", "uint16", "int16", o.scale != 1.0 ? "  (scaled)" : "");
	for (long i = 0; i < o.count; i++)
		printf("  %7ld  0x%04X %8.10g %8.10g\n", o.address + i, w[i], (double)w[i] * o.scale,
		       (double)(int16_t)w[i] * o.scale);
	if (o.count >= 2)
		print_decodings(w, o.count, o.address, o.scale);
	return 0;
}

static int cmd_modbus_scan(int argc, char **argv)
{
	struct mb_opts o;
	struct mb_link *l;
	char err[600];
	int found = 0, tty = isatty(STDERR_FILENO);

	if (mb_parse(argc, argv, &o))
		return 2;
	if (o.from > o.to) {
		fprintf(stderr, "coldchainctl modbus scan: --from %d is after --to %d\n", o.from, o.to);
		return 2;
	}
	/* Short by default: a scan of 247 units must not take minutes. */
	if (!o.have_timeout)
		o.timeout_ms = 200;
	l = mb_link_open(o.spec, o.timeout_ms, err, sizeof(err));
	if (!l) {
		fprintf(stderr, "coldchainctl: %s\n", err);
		return 1;
	}
	printf("scanning %s units %d..%d (timeout %" PRId64 " ms each)\n", o.spec + 4, o.from, o.to, o.timeout_ms);
	for (int u = o.from; u <= o.to; u++) {
		uint16_t w[1];
		double rtt;
		int rc, exc;

		if (tty)
			fprintf(stderr, "\r  unit %3d/%d ...", u, o.to);
		rc = mb_link_read(l, u, CC_TABLE_HOLDING, 0, 1, w, &rtt);
		exc = mb_exception_code(rc);
		if (rc == 0 || (exc && exc != 0x0A && exc != 0x0B)) {
			if (tty)
				fputs("\r                    \r", stderr);
			found++;
			if (rc == 0)
				printf("  unit %3d answers (holding 0 = 0x%04X, %.1f ms)\n", u, w[0], rtt);
			else
				printf("  unit %3d answers with exception %d (%s): a device is there\n", u, exc,
				       mb_link_strerror(rc));
		} else if (rc != -ETIMEDOUT && !exc) {
			if (tty)
				fputs("\n", stderr);
			fprintf(stderr, "coldchainctl: unit %d: %s; stopping the scan\n", u, mb_link_strerror(rc));
			mb_link_close(l);
			return 1;
		}
	}
	if (tty)
		fputs("\r                    \r", stderr);
	mb_link_close(l);
	printf("%d unit%s answered\n", found, found == 1 ? "" : "s");
	return found ? 0 : 1;
}

static const struct ctl_cmd config_cmds[] = {
	{ "check", NULL, cmd_config_check, "FILE", "check a configuration (same as coldchaind -n -c FILE)", "", 0 },
	{ NULL, NULL, NULL, NULL, NULL, NULL, 0 },
};

#define MB_LINK "--tcp=HOST:PORT --rtu=DEVICE:BAUD[:8N1] --timeout=DURATION"
static const struct ctl_cmd modbus_cmds[] = {
	{ "read", NULL, cmd_modbus_read,
	  "(--tcp HOST:PORT | --rtu DEVICE:BAUD[:8N1]) --unit N\n"
	  "              --table holding|input|coil|discrete --address A [--count C]\n"
	  "              [--scale S] [--timeout DURATION]",
	  "raw words, then every decoding (int16/uint16/int32/uint32/float32 in\n"
	  "      all four orders), so the right type and order are obvious",
	  MB_LINK " --unit=N --table=holding|input|coil|discrete --address=A --count=C --scale=S", 0 },
	{ "scan", NULL, cmd_modbus_scan,
	  "(--tcp HOST:PORT | --rtu DEVICE:BAUD[:8N1]) [--from N] [--to N]\n"
	  "              [--timeout DURATION]",
	  "which unit ids answer on a bus", MB_LINK " --from=N --to=N", 0 },
	{ NULL, NULL, NULL, NULL, NULL, NULL, 0 },
};
#undef MB_LINK

/* The commands of this file, the report and the users; the control-socket
 * ones are ctl_socket_cmds, `mqtt watch` ctl_mqtt_cmds. */
static const struct ctl_cmd cmds[] = {
	{ "config", config_cmds, NULL, NULL, "the configuration file", NULL, 0 },
	{ "modbus", modbus_cmds, NULL, NULL,
	  "technician tools on a Modbus bus (addresses are 0-based protocol addresses:\n"
	  "      vendor register 40001 = holding 0)",
	  NULL, 0 },
	{ "user", ctl_user_cmds, NULL, NULL, "the web page's users", NULL, 0 },
	{ "report", NULL, report_main, "--lot LOT [--from T --to T] [--format html|csv] [--batch BATCH]... [-o FILE]",
	  "a lot's storage history from InfluxDB (see coldchainctl report --help)",
	  "--lot=LOT --from=T --to=T --format=html|csv --batch=BATCH --influx=URL --db=NAME -c=CONFIG "
	  "--config=CONFIG -o=FILE --output=FILE --verbose",
	  CTL_OWN_HELP },
	{ NULL, NULL, NULL, NULL, NULL, NULL, 0 },
};

static const struct ctl_cmd *const roots[] = { ctl_socket_cmds, ctl_mqtt_cmds, cmds, NULL };

static void usage(FILE *f)
{
	fputs("usage: coldchainctl COMMAND [ARGUMENTS] [OPTIONS]\n"
	      "       coldchainctl COMMAND --help | help [COMMAND] | --version\n"
	      "commands:\n",
	      f);
	for (const struct ctl_cmd *const *r = roots; *r; r++)
		ctl_cmd_usage(f, *r, "");
	fputs("The control-socket commands (status ... reload) also take -c CONFIG or --socket PATH,\n"
	      "--json and --user NAME.\n"
	      "Exit status: 0 done, 1 refused or failed, 2 usage error, 3 daemon not reachable.\n"
	      "See coldchainctl(1).\n",
	      f);
}

/* `coldchainctl __commands`: "leaf PATH OPTS" or "group PATH", a line
 * each, tab separated, for tests/config/check_help.sh. */
static void list_commands(const struct ctl_cmd *t, const char *prefix)
{
	char path[128];

	for (; t->name; t++) {
		snprintf(path, sizeof(path), "%s%s", prefix, t->name);
		if (t->sub) {
			printf("group\t%s\n", path);
			strncat(path, " ", sizeof(path) - strlen(path) - 1);
			list_commands(t->sub, path);
		} else {
			printf("leaf\t%s\t%s\n", path, t->opts ? t->opts : "");
		}
	}
}

/* `coldchainctl help [COMMAND...]` */
static int help(int argc, char **argv)
{
	const struct ctl_cmd *c;
	char path[128];
	int depth;

	if (argc < 2) {
		usage(stdout);
		return 0;
	}
	c = ctl_resolve(roots, argc - 1, argv + 1, &depth, path, sizeof(path));
	if (!c) {
		fprintf(stderr, "coldchainctl: unknown command '%.200s'\n", argv[1]);
		return 2;
	}
	if (c->flags & CTL_OWN_HELP) {
		char *av[] = { argv[depth], (char *)"--help", NULL };
		return c->run(2, av);
	}
	ctl_cmd_help(stdout, path, c);
	return 0;
}

int main(int argc, char **argv)
{
	int rc;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0)
		return help(argc - 1, argv + 1);
	if (strcmp(argv[1], "-V") == 0 || strcmp(argv[1], "--version") == 0) {
		printf("coldchainctl %s\n", CC_VERSION);
		return 0;
	}
	if (strcmp(argv[1], "__commands") == 0) {
		for (const struct ctl_cmd *const *r = roots; *r; r++)
			list_commands(*r, "");
		return 0;
	}
	if (strcmp(argv[1], "__complete") == 0)
		return ctl_complete(roots, argc - 2, argv + 2);
	rc = ctl_dispatch(roots, argc, argv);
	if (rc < 0) {
		fprintf(stderr, "coldchainctl: unknown command '%.200s'\n", argv[1]);
		usage(stderr);
		return 2;
	}
	return rc;
}
