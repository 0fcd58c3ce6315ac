/* report.c - `coldchainctl report --lot ID`: a lot's storage history for a
 * buyer or an auditor.  Here only the command: its options, the
 * configuration file, printing and exit codes; the report itself (InfluxDB,
 * figures, CSV and HTML) is report/ (report/report.h), which the daemon's
 * web page runs too. */
#include "report.h"
#include "../report/report.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../daemon/util.h"
#include "ctl_opts.h"

static void report_usage(FILE *f)
{
	fputs("usage: coldchainctl report --lot ID [--from T] [--to T] [--format html|csv]\n"
	      "                           [--batch B]... [--influx URL] [--db NAME] [-c CONFIG] [-o FILE]\n"
	      "                           [--verbose]\n"
	      "  --batch B: a processing step of the lot (precooling, chilling, fumigation, drying\n"
	      "  batch B), from its process points and alarms; repeat it for each step, in the order\n"
	      "  they ran.  Without it: the batches released into the lot, in the order they started.\n"
	      "  T: ISO 8601 with a zone (2026-06-12T08:00:00+07:00, ...Z), epoch seconds, or now.\n"
	      "  --from defaults to the lot's loading time, --to to now; --influx and --db to the\n"
	      "  configuration's first outputs.influxdb entry.  The HTML shows times in the\n"
	      "  configuration's timezone with their UTC offset (the CSV in UTC); --verbose adds\n"
	      "  the InfluxDB URL and database to the HTML (left out for buyers by default).\n",
	      f);
}


/* What the command line gives besides what goes straight into the report. */
struct report_args {
	const char *from_s, *to_s, *url, *db;
	int explicit_conf;
};

/* Checks what the options are, not whether they lead anywhere.  -1 to go
 * on, else the exit status (0 for --help, 2 for a usage error). */
static int parse_args(int argc, char **argv, struct report *r, struct report_args *a)
{
	static const struct option opts[] = {
		{ "lot", required_argument, NULL, 'l' },    { "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 't' },     { "format", required_argument, NULL, 'F' },
		{ "influx", required_argument, NULL, 'u' }, { "db", required_argument, NULL, 'd' },
		{ "config", required_argument, NULL, 'c' }, { "output", required_argument, NULL, 'o' },
		{ "batch", required_argument, NULL, 'b' },  { "help", no_argument, NULL, 'h' },
		{ "verbose", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":c:o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'l': r->lot = optarg; break;
		case 'f': a->from_s = optarg; break;
		case 't': a->to_s = optarg; break;
		case 'F': r->format = optarg; break;
		case 'u': a->url = optarg; break;
		case 'd': a->db = optarg; break;
		case 'c': r->conf_path = optarg; a->explicit_conf = 1; break;
		case 'o': r->out_path = optarg; break;
		case 'b':
			r->batches = xrealloc(r->batches, (r->nbatches + 1) * sizeof(*r->batches));
			r->batches[r->nbatches++] = optarg;
			break;
		case 'v': r->verbose = 1; break;
		case 'h': report_usage(stdout); return 0;
		default:
			ctl_opt_refused("coldchainctl report", opts, c, argv);
			report_usage(stderr);
			return 2;
		}
	}
	if (optind < argc || !r->lot || (strcmp(r->format, "html") != 0 && strcmp(r->format, "csv") != 0)) {
		if (optind < argc)
			fprintf(stderr, "coldchainctl report: unexpected argument '%s'\n", argv[optind]);
		else if (!r->lot)
			fprintf(stderr, "coldchainctl report: --lot ID is required\n");
		else
			fprintf(stderr, "coldchainctl report: --format must be html or csv, not '%s'\n", r->format);
		report_usage(stderr);
		return 2;
	}
	return -1;
}

/* --from and --to (and the time of the report).  -1, or 2 when one is not a
 * time. */
static int parse_period(struct report *r, const struct report_args *a)
{
	if (a->from_s && report_parse_time_ms(a->from_s, &r->from) < 0) {
		fprintf(stderr, "coldchainctl report: --from '%s' is not a time (ISO 8601 with a zone, epoch seconds, now)\n",
			a->from_s);
		return 2;
	}
	if (a->to_s && report_parse_time_ms(a->to_s, &r->to) < 0) {
		fprintf(stderr, "coldchainctl report: --to '%s' is not a time (ISO 8601 with a zone, epoch seconds, now)\n",
			a->to_s);
		return 2;
	}
	r->from_set = a->from_s != NULL;
	r->to_set = a->to_s != NULL;
	r->generated = time_now_ns() / 1000000;
	return -1;
}

/* The configuration: where InfluxDB is, the lot's room, profile and
 * channels.  The default file only when it is there; -c FILE must load. */
static int load_config(struct report *r, int explicit_conf)
{
	if (!r->conf_path)
		r->conf_path = CC_SYSCONFDIR "/coldchaind/coldchaind.conf";
	if (explicit_conf || access(r->conf_path, R_OK) == 0) {
		struct cc_errors e = { 0 };
		if (config_load(r->conf_path, &r->cfg, &e) < 0) {
			errors_print(&e, stderr);
			errors_free(&e);
			fprintf(stderr, "coldchainctl report: invalid configuration %s\n", r->conf_path);
			return -1;
		}
	}
	if (r->cfg && r->cfg->timezone) { /* the HTML's times in the site's zone, as the daemon's */
		setenv("TZ", r->cfg->timezone, 1);
		tzset();
	}
	return 0;
}

/* The InfluxDB to read: --influx and --db, else the configuration's first
 * InfluxDB 1.x output (its TLS settings and credentials with its URL).
 * 0, or -1 (printed) when there is none. */
static int write_out(const struct report *r)
{
	char *tmp_path = NULL;
	FILE *o = stdout;
	int rc = -1, bad;

	if (r->out_path && strcmp(r->out_path, "-") != 0) {
		tmp_path = xasprintf("%s.tmp", r->out_path);
		o = fopen(tmp_path, "w");
		if (!o) {
			fprintf(stderr, "coldchainctl report: %s: %s\n", tmp_path, strerror(errno));
			goto out;
		}
	}
	if (strcmp(r->format, "csv") == 0)
		report_write_csv(r, o);
	else
		report_write_html(r, o);
	if (o == stdout) {
		rc = fflush(stdout) != 0 ? -1 : 0;
		goto out;
	}
	bad = ferror(o);
	if (fclose(o) != 0 || bad) {
		fprintf(stderr, "coldchainctl report: %s: write error\n", tmp_path);
		unlink(tmp_path);
		goto out;
	}
	if (rename(tmp_path, r->out_path) < 0) {
		fprintf(stderr, "coldchainctl report: %s: %s\n", r->out_path, strerror(errno));
		unlink(tmp_path);
		goto out;
	}
	fprintf(stderr, "coldchainctl report: lot %s: %s written (%zu room stay%s, %zu alarm%s, %zu gap%s)\n", r->lot,
		r->out_path, r->nstays, r->nstays == 1 ? "" : "s", r->nalarms, r->nalarms == 1 ? "" : "s", r->ngaps,
		r->ngaps == 1 ? "" : "s");
	rc = 0;
out:
	free(tmp_path);
	return rc;
}

int report_main(int argc, char **argv)
{
	struct report r = { .format = "html", .band_low = NAN, .band_high = NAN };
	struct report_args a = { 0 };
	int st = parse_args(argc, argv, &r, &a);

	if (st < 0)
		st = parse_period(&r, &a);
	if (st >= 0)
		return st;
	st = 1;
	if (load_config(&r, a.explicit_conf) < 0)
		goto out;
	if (report_use_influx(&r, a.url, a.db) < 0) {
		st = 2;
		goto out;
	}
	st = report_set_period(&r);
	if (st != 0)
		goto out;
	st = 1;
	if (report_collect(&r) < 0 || write_out(&r) < 0)
		goto out;
	st = 0;
out:
	report_free(&r);
	return st;
}
