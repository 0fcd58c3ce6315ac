/* root.c - the top level of coldchaind.conf: its own keys and the small
 * groups that belong to no subsystem (log, journal, control), the order
 * the groups load in (each may depend on the ones before: outputs on the
 * journal directory, alert outputs on mqtt.broker, the engine's channel
 * checks on the buses), the order they print in, and config_free. */
#include "config_int.h"
#include "../paths.h"

#include <stdlib.h>
#include <string.h>

static const char *const log_targets[] = { "stderr", "syslog", NULL };
static const char *const log_levels[] = { "error", "warning", "info", "debug", NULL };

/* Each table's indexes, so the group code can refer to "its" keys. */
enum { RK_SITE, RK_STATE_DIR, RK_TEMPLATE_DIR, RK_STATS, RK_SHUTDOWN, RK_USER, RK_GROUP, RK_LOG, RK_MODBUS, RK_OUTPUTS, RK_MQTT, RK_JOURNAL, RK_PROFILES, RK_PROCESSES, RK_LINES, RK_ROOMS, RK_ALARMS, RK_CONTROL, RK_WEB, RK_TZ, RK_RECIPIENTS, RK_ROUTES, RK_N };
static const struct key root_keys[] = {
	[RK_SITE] = { .name = "site", .kt = KT_STR, .flags = KF_REQ, .off = OFF(cc_config, site),
		      .help = "site name: tag \"site\" on every point" },
	[RK_STATE_DIR] = { .name = "state_dir", .kt = KT_PATH, .flags = KF_RESTART, .off = OFF(cc_config, state_dir),
			   .def = CC_STATE_DIR, .help = "state directory (lock file: one daemon per directory)" },
	[RK_TEMPLATE_DIR] = { .name = "template_dir", .kt = KT_PATH, .flags = KF_DYN, .off = OFF(cc_config, template_dir),
			      .def = "\"devices\" next to the config file",
			      .help = "directory of device templates (NAME.conf)" },
	[RK_STATS] = { .name = "stats_interval", .kt = KT_DUR, .off = OFF(cc_config, stats_interval_ms), .def = "60s",
		       .min = 1000, .max = 86400000, .help = "self-metrics period (measurement coldchaind_*)" },
	[RK_SHUTDOWN] = { .name = "shutdown_timeout", .kt = KT_DUR, .off = OFF(cc_config, shutdown_timeout_ms),
			  .def = "10s", .min = 0, .max = 300000,
			  .help = "time allowed to flush outputs at SIGTERM (and for outputs a reload removes)" },
	[RK_USER] = { .name = "user", .kt = KT_STR, .flags = KF_RESTART, .off = OFF(cc_config, user),
		      .help = "started as root: the account to switch to once the state dir is locked (its "
			      "groups apply: put it in dialout for serial adapters); unset = keep the current user" },
	[RK_GROUP] = { .name = "group", .kt = KT_STR, .flags = KF_RESTART, .off = OFF(cc_config, group),
		       .help = "with user: the primary group to switch to (default: the user's own)" },
	[RK_LOG] = { .name = "log", .kt = KT_GROUP, .help = "logging: see group log" },
	[RK_MODBUS] = { .name = "modbus", .kt = KT_LIST, .help = "Modbus buses: see group modbus" },
	[RK_OUTPUTS] = { .name = "outputs", .kt = KT_GROUP, .range = "at least one output",
			 .help = "where points go: see group outputs" },
	[RK_MQTT] = { .name = "mqtt", .kt = KT_GROUP, .help = "MQTT ingestion: see group mqtt" },
	[RK_JOURNAL] = { .name = "journal", .kt = KT_GROUP,
			 .help = "the durable journal every point and alert goes through: see group journal" },
	[RK_PROFILES] = { .name = "profiles", .kt = KT_LIST,
			  .help = "produce profiles (usually @include \"profiles.conf\"): see group profiles" },
	[RK_PROCESSES] = { .name = "process_profiles", .kt = KT_LIST,
			   .help = "processing-line profiles: precooling, carcass chilling, fumigation, drying "
				   "(usually @include \"processes.conf\"): see group process_profiles" },
	[RK_LINES] = { .name = "processes", .kt = KT_LIST,
		       .help = "processing lines (precooler, chiller, ...) that run batches: see group processes" },
	[RK_ROOMS] = { .name = "rooms", .kt = KT_LIST, .help = "rooms, their channels and lots: see group rooms" },
	[RK_ALARMS] = { .name = "alarms", .kt = KT_GROUP, .help = "alarm defaults and rules: see group alarms" },
	[RK_CONTROL] = { .name = "control", .kt = KT_GROUP,
			 .help = "the control socket coldchainctl talks to: see group control" },
	[RK_WEB] = { .name = "web", .kt = KT_GROUP, .flags = KF_RESTART,
		     .help = "the HTTP listener (status page, /healthz, /metrics): see group web; unset = none" },
	[RK_TZ] = { .name = "timezone", .kt = KT_STR, .flags = KF_DYN | KF_RESTART, .off = OFF(cc_config, timezone),
		    .def = "the system's (TZ, else /etc/localtime)", .check = check_tz,
		    .help = "the site's IANA time zone (\"Asia/Ho_Chi_Minh\") for times on pages and in messages" },
	[RK_RECIPIENTS] = { .name = "recipients", .kt = KT_LIST,
			    .help = "people alarms reach, with their addresses: see group recipients" },
	[RK_ROUTES] = { .name = "routes", .kt = KT_LIST,
			.help = "which alarms go to whom by which channels: see group routes" },
};

enum { CTK_SOCKET, CTK_GROUP, CTK_N };
static const struct key control_keys[] = {
	[CTK_SOCKET] = { .name = "socket", .kt = KT_PATH, .flags = KF_DYN | KF_RESTART,
			.off = OFF(cc_control_conf, socket), .def = "<state_dir>/coldchaind.sock",
			.help = "UNIX socket path (mode 0660; a stale socket is replaced, any other file refused); "
				"the installed configuration sets " CC_SOCKET_FILE " (the systemd unit's "
				"RuntimeDirectory), where coldchainctl looks by default" },
	[CTK_GROUP] = { .name = "group", .kt = KT_STR, .flags = KF_RESTART, .off = OFF(cc_control_conf, group),
		       .help = "group owning the socket: its members may use coldchainctl; unset = the daemon's group; "
			       "one of the daemon account's groups unless started as root" },
};

enum { LK_TARGET, LK_LEVEL, LK_N };
static const struct key log_keys[] = {
	[LK_TARGET] = { .name = "target", .kt = KT_ENUM, .flags = KF_RESTART, .off = OFF(cc_config, log_target),
			.def = "stderr", .enums = log_targets, .store = ES_STR,
			.help = "stderr (the systemd journal) or syslog" },
	[LK_LEVEL] = { .name = "level", .kt = KT_ENUM, .off = OFF(cc_config, log_level), .def = "info",
		       .enums = log_levels, .store = ES_STR, .help = "most verbose level logged" },
};

enum { JK_DIR, JK_MAX_SIZE, JK_SEGMENT_SIZE, JK_FSYNC, JK_N };
static const struct key journal_keys[] = {
	[JK_DIR] = { .name = "dir", .kt = KT_PATH, .flags = KF_DYN | KF_RESTART, .off = OFF(cc_journal_conf, dir),
		     .def = "<state_dir>/journal", .help = "journal directory (segments, output positions)" },
	[JK_MAX_SIZE] = { .name = "max_size", .kt = KT_SIZE, .off = OFF(cc_journal_conf, max_size), .def = "1G",
			  .min = 2.0 * 1024 * 1024, .max = 1099511627776.0,
			  .help = "disk the journal may use; past it the oldest segment is dropped (counted and logged), "
				  "at least twice segment_size" },
	[JK_SEGMENT_SIZE] = { .name = "segment_size", .kt = KT_SIZE, .off = OFF(cc_journal_conf, segment_size),
			      .def = "64M", .min = 1024.0 * 1024, .max = 1073741824.0,
			      .help = "a segment file is closed at this size (the unit of deletion and of dropping)" },
	[JK_FSYNC] = { .name = "fsync", .kt = KT_DUR, .off = OFF(cc_journal_conf, fsync_ms), .def = "1s", .min = 10,
		       .max = 600000,
		       .help = "group commit interval: what a power cut can cost (a crash of the daemon costs nothing)" },
};





const struct group g_root = GROUP("", root_keys, "top level");
const struct group g_log = GROUP("log", log_keys, "logging");
const struct group g_journal = GROUP("journal", journal_keys, "the durable journal");
const struct group g_control = GROUP("control", control_keys, "the control socket (coldchainctl)");

/* The index enums must match the tables (designated initialisers leave a
 * hole, never a shift, but a forgotten key would still go unnoticed). */
_Static_assert(ARRAY_SIZE(root_keys) == RK_N, "root_keys");
_Static_assert(ARRAY_SIZE(log_keys) == LK_N, "log_keys");
_Static_assert(ARRAY_SIZE(journal_keys) == JK_N, "journal_keys");
_Static_assert(ARRAY_SIZE(control_keys) == CTK_N, "control_keys");

static void load_journal(struct ctx *c, const config_setting_t *js, const config_setting_t *root)
{
	struct cc_journal_conf *jc = &c->cfg->journal;
	struct seen sn[MAX_KEYS];

	jc->line = js ? src_line(js) : 0;
	schema_apply(c, js, root, &g_journal, jc, "journal", sn);
	if (!sn[JK_DIR].s || sn[JK_DIR].bad) {
		free(jc->dir);
		jc->dir = xasprintf("%s/journal", c->cfg->state_dir ? c->cfg->state_dir : ".");
	}
	if (ok(&sn[JK_MAX_SIZE]) && !sn[JK_SEGMENT_SIZE].bad && jc->max_size < 2 * jc->segment_size) {
		char seg[32];
		format_size(jc->segment_size, seg, sizeof(seg));
		err_at(c, sn[JK_MAX_SIZE].s, "journal.max_size", "must be at least twice segment_size (%s)", seg);
	} else if (!sn[JK_MAX_SIZE].s && ok(&sn[JK_SEGMENT_SIZE]) && jc->max_size < 2 * jc->segment_size) {
		err_at(c, sn[JK_SEGMENT_SIZE].s, "journal.segment_size", "must be at most half of max_size");
	}
}

static void load_control(struct ctx *c, const config_setting_t *cs, const config_setting_t *root)
{
	struct cc_control_conf *cc = &c->cfg->control;
	struct seen sn[MAX_KEYS];

	cc->line = cs ? src_line(cs) : 0;
	schema_apply(c, cs, root, &g_control, cc, "control", sn);
	if (!sn[CTK_SOCKET].s || sn[CTK_SOCKET].bad) {
		free(cc->socket);
		cc->socket = xasprintf("%s/coldchaind.sock", c->cfg->state_dir ? c->cfg->state_dir : ".");
	}
}

/* The member key of root when it is set and of the right type, else NULL. */
static const config_setting_t *member(const struct seen *sn, int key)
{
	return ok(&sn[key]) ? sn[key].s : NULL;
}

void load_root(struct ctx *c, const config_setting_t *root)
{
	struct cc_config *cfg = c->cfg;
	struct seen sn[MAX_KEYS], sl[MAX_KEYS];

	schema_apply(c, root, root, &g_root, cfg, "", sn);
	if (ok(&sn[RK_TEMPLATE_DIR])) {
		c->tdir_buf = path_join(c->dir, config_setting_get_string(sn[RK_TEMPLATE_DIR].s));
	} else {
		c->tdir_buf = path_join(c->dir, "devices");
		free(cfg->template_dir);
		cfg->template_dir = path_join(c->absdir, "devices");
	}
	c->tdir = c->tdir_buf;
	schema_apply(c, member(sn, RK_LOG), root, &g_log, cfg, "log", sl);
	if (ok(&sn[RK_MODBUS]))
		load_modbus(c, sn[RK_MODBUS].s);
	load_journal(c, member(sn, RK_JOURNAL), root);
	load_control(c, member(sn, RK_CONTROL), root);
	if (ok(&sn[RK_OUTPUTS]) || !sn[RK_OUTPUTS].s)
		load_outputs(c, sn[RK_OUTPUTS].s, root);
	if (ok(&sn[RK_MQTT]))
		load_mqtt(c, sn[RK_MQTT].s, root);
	if (ok(&sn[RK_OUTPUTS]))
		load_alert_outputs(c, sn[RK_OUTPUTS].s);
	load_engine(c, root, member(sn, RK_PROFILES), member(sn, RK_ROOMS), member(sn, RK_ALARMS));
	load_processes(c, member(sn, RK_PROCESSES));
	load_lines(c, member(sn, RK_LINES));
	load_channels(c, member(sn, RK_OUTPUTS), member(sn, RK_RECIPIENTS), member(sn, RK_ROUTES));
	if (ok(&sn[RK_WEB]))
		load_web(c, sn[RK_WEB].s);
}

void config_free(struct cc_config *cfg)
{
	if (!cfg)
		return;
	free_modbus(cfg);
	free_outputs(cfg);
	free(cfg->journal.dir);
	free(cfg->control.socket);
	free(cfg->control.group);
	free_mqtt(cfg->mqtt);
	free_alert_outputs(cfg);
	free_channels(cfg);
	free_engine(cfg);
	free_processes(cfg);
	free_lines(cfg);
	free_web(cfg);
	free(cfg->timezone);
	for (size_t i = 0; i < cfg->nsrcs; i++)
		free(cfg->srcs[i].path);
	free(cfg->srcs);
	free(cfg->file);
	free(cfg->site);
	free(cfg->state_dir);
	free(cfg->user);
	free(cfg->group);
	free(cfg->template_dir);
	free(cfg->log_target);
	free(cfg->log_level);
	free(cfg);
}

void config_print(const struct cc_config *cfg, FILE *f)
{
	fprintf(f, "# coldchaind effective configuration of %s: every default filled in.\n", cfg->file);
	fputs("# Relative paths are shown resolved; device templates are expanded.\n\n", f);
	schema_print_keys(f, "", &g_root, cfg, 0);
	fputs("\nlog = {\n", f);
	schema_print_keys(f, "  ", &g_log, cfg, 0);
	fputs("};\n\nmodbus = (\n", f);
	print_modbus(cfg, f);
	fputs(");\n\noutputs = {\n", f);
	print_outputs(cfg, f);
	print_alert_outputs(cfg, f);
	print_chan_outputs(cfg, f);
	fputs("};\n\njournal = {\n", f);
	schema_print_keys(f, "  ", &g_journal, &cfg->journal, 0);
	fputs("};\n\ncontrol = {\n", f);
	schema_print_keys(f, "  ", &g_control, &cfg->control, 0);
	fputs("};\n", f);
	if (cfg->mqtt)
		print_mqtt(cfg->mqtt, f);
	print_engine(cfg, f);
	print_processes(cfg, f);
	print_lines(cfg, f);
	print_web(cfg, f);
	print_channels(cfg, f);
}
