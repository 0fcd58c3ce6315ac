/* config.c - loads coldchaind.conf (libconfig) against the schema tables
 * below, fills every default and reports every error of a file in one run.
 * The same tables drive config_print and the generated reference
 * (config_schema_foreach), so the docs cannot drift from the checks.
 *
 * Error format: "FILE:LINE: PATH: message", sorted by file, then line.
 * FILE is the file the setting came from (an @include or a device template
 * names its own file), as the loader opened it, so a path given relative on
 * the command line stays relative.  PATH names the setting from the top of
 * its file: groups by key ("log.level"), list elements by their name in
 * brackets when they have one (bus and device name, point channel, output
 * name), else by 0-based index:
 *     modbus[rs485-1].devices[th-a1].points[air_temp].address
 *     outputs.influxdb[0].url
 *     template.points[temperature].type          (in a template file)
 *
 * Relative paths in the file (template_dir, state_dir, password_file,
 * ca_file, file output paths, @include) are relative to the directory of the
 * configuration file; the loaded configuration holds them absolute, so the
 * daemon may chdir and config_print output loads from anywhere.
 *
 * libconfig 1.5 quirks handled here: it silently truncates integer literals
 * that do not fit 32 bits (we re-read the literal from the source line), it
 * accepts a missing ';' (nothing to do: the grammar is still unambiguous),
 * and it records an included file under the name written in @include (we
 * join it with the include directory for messages).  It also joins absolute
 * @include paths to the include directory, so @include takes relative paths
 * only. */
#include "../config.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libconfig.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../codec/modbus_plan.h"
#include "../../codec/payload.h"
#include "../../codec/topic.h"
#include "../util.h"

/* --- errors ------------------------------------------------------------ */

void errors_add(struct cc_errors *e, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	if (!s)
		s = xstrdup("out of memory formatting a configuration error");
	if (e->n == e->cap) {
		e->cap = e->cap ? e->cap * 2 : 16;
		e->msg = xrealloc(e->msg, e->cap * sizeof(*e->msg));
	}
	e->msg[e->n++] = s;
}

void errors_print(const struct cc_errors *e, FILE *f)
{
	for (size_t i = 0; i < e->n; i++)
		fprintf(f, "%s\n", e->msg[i]);
	/* The reload checker writes through a pipe and leaves with _exit(). */
	fflush(f);
}

void errors_free(struct cc_errors *e)
{
	for (size_t i = 0; i < e->n; i++)
		free(e->msg[i]);
	free(e->msg);
	e->msg = NULL;
	e->n = e->cap = 0;
}

/* --- names of enums ------------------------------------------------------ */

static const char *const log_targets[] = { "stderr", "syslog", NULL };
static const char *const log_levels[] = { "error", "warning", "info", "debug", NULL };
/* Stored as the upper-cased first letter: 'N', 'E', 'O'. */
static const char *const parities[] = { "none", "even", "odd", NULL };
static const int bauds[] = { 1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 0 };
static const int data_bits_ok[] = { 7, 8, 0 };
static const int stop_bits_ok[] = { 1, 2, 0 };

/* Enum fields are written through memcpy of an int (ES_INT below). */
_Static_assert(sizeof(enum cc_table) == sizeof(int), "enum size");
_Static_assert(sizeof(enum cc_regtype) == sizeof(int), "enum size");
_Static_assert(sizeof(enum cc_order) == sizeof(int), "enum size");

/* --- schema ------------------------------------------------------------ */

enum kt {
	KT_STR,   /* non-empty string */
	KT_NAME,  /* string of [A-Za-z0-9._-] */
	KT_PATH,  /* string; relative to the config file's directory; stored absolute */
	KT_INT,   /* integer in [min, max] (or one of ints) */
	KT_DBL,   /* finite number, integer or float literal */
	KT_BOOL,
	KT_DUR,   /* "10s": parse_duration_ms, stored as int64_t ms, range in ms */
	KT_SIZE,  /* "512M": parse_size, stored as uint64_t bytes, range in bytes */
	KT_ENUM,  /* one of enums, stored per estore */
	KT_GROUP, /* validated by the caller against its own table */
	KT_LIST,
};

enum estore { ES_STR, ES_INT, ES_CHAR };

#define KF_REQ 0x01      /* required */
#define KF_DYN 0x02      /* default depends on other settings: set by the group's code */
#define KF_RESTART 0x04  /* SIGHUP does not pick it up: restart needed */
#define KF_NONZERO 0x08  /* KT_DBL: must not be 0 */
#define KF_NOPRINT 0x10  /* config_print shows it another way */

struct key {
	const char *name;
	enum kt kt;
	unsigned flags;
	size_t off;            /* in the group's struct */
	const char *def;       /* as written in a config; for KF_DYN, prose for the docs */
	double min, max;       /* KT_INT, KT_DUR (ms) */
	const char *const *enums;
	enum estore store;
	const int *ints;       /* KT_INT: allowed values, 0-terminated */
	const char *(*check)(const char *s); /* string validator: NULL or why not */
	const char *range;     /* docs: overrides the generated range */
	const char *help;
};

struct group {
	const char *name; /* docs: "" for the top level, "modbus.devices", ... */
	const struct key *keys;
	size_t nkeys;
	const char *help;
};

static const char *check_url(const char *s)
{
	const char *host;

	if (strncmp(s, "http://", 7) == 0)
		host = s + 7;
	else if (strncmp(s, "https://", 8) == 0)
		host = s + 8;
	else
		return "must start with http:// or https://";
	if (*host == '\0' || *host == '/' || *host == ':')
		return "has no host";
	if (strpbrk(s, "?#"))
		return "must not have a query or fragment (database and credentials have their own keys)";
	for (const char *p = s; *p; p++)
		if (isspace((unsigned char)*p) || iscntrl((unsigned char)*p))
			return "must not contain spaces or control characters";
	return NULL;
}

static const char *check_abs(const char *s)
{
	return s[0] == '/' ? NULL : "must be an absolute path (e.g. /dev/ttyUSB0)";
}

static const char *check_template(const char *s)
{
	return s[0] == '.' ? "must not start with '.'" : NULL;
}

#define OFF(st, f) offsetof(struct st, f)

/* Each table's indexes, so the group code can refer to "its" keys. */
enum { RK_SITE, RK_STATE_DIR, RK_TEMPLATE_DIR, RK_STATS, RK_SHUTDOWN, RK_USER, RK_GROUP, RK_LOG, RK_MODBUS, RK_OUTPUTS, RK_MQTT, RK_JOURNAL, RK_PROFILES, RK_ROOMS, RK_ALARMS, RK_CONTROL, RK_N };
static const struct key root_keys[] = {
	[RK_SITE] = { .name = "site", .kt = KT_STR, .flags = KF_REQ, .off = OFF(cc_config, site),
		      .help = "site name: tag \"site\" on every point" },
	[RK_STATE_DIR] = { .name = "state_dir", .kt = KT_PATH, .flags = KF_RESTART, .off = OFF(cc_config, state_dir),
			   .def = "/var/lib/coldchaind", .help = "state directory (lock file: one daemon per directory)" },
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
	[RK_ROOMS] = { .name = "rooms", .kt = KT_LIST, .help = "rooms, their channels and lots: see group rooms" },
	[RK_ALARMS] = { .name = "alarms", .kt = KT_GROUP, .help = "alarm defaults and rules: see group alarms" },
	[RK_CONTROL] = { .name = "control", .kt = KT_GROUP,
			 .help = "the control socket coldchainctl talks to: see group control" },
};

enum { CTK_SOCKET, CTK_GROUP, CTK_N };
static const struct key control_keys[] = {
	[CTK_SOCKET] = { .name = "socket", .kt = KT_PATH, .flags = KF_DYN | KF_RESTART,
			.off = OFF(cc_control_conf, socket), .def = "<state_dir>/coldchaind.sock",
			.help = "UNIX socket path (mode 0660; a stale socket is replaced, any other file refused); "
				"the installed configuration sets /run/coldchaind/coldchaind.sock (the systemd unit's "
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

enum { BK_NAME, BK_TCP, BK_RTU, BK_TIMEOUT, BK_BYTE_TIMEOUT, BK_INTERVAL, BK_BACKOFF, BK_TURNAROUND, BK_DEVICES, BK_N };
static const struct key bus_keys[] = {
	[BK_NAME] = { .name = "name", .kt = KT_NAME, .flags = KF_REQ, .off = OFF(cc_bus_conf, name),
		      .help = "bus name, unique among buses (logs, self-metrics)" },
	[BK_TCP] = { .name = "tcp", .kt = KT_GROUP, .help = "Modbus TCP: see group modbus.tcp (exactly one of tcp, rtu)" },
	[BK_RTU] = { .name = "rtu", .kt = KT_GROUP, .help = "Modbus RTU: see group modbus.rtu (exactly one of tcp, rtu)" },
	[BK_TIMEOUT] = { .name = "timeout", .kt = KT_DUR, .off = OFF(cc_bus_conf, timeout_ms), .def = "500ms",
			 .min = 10, .max = 60000, .help = "response timeout" },
	[BK_BYTE_TIMEOUT] = { .name = "byte_timeout", .kt = KT_DUR, .off = OFF(cc_bus_conf, byte_timeout_ms),
			      .def = "100ms", .min = 0, .max = 60000,
			      .help = "inter-byte timeout (meaningful on rtu; 0 disables)" },
	[BK_INTERVAL] = { .name = "interval", .kt = KT_DUR, .off = OFF(cc_bus_conf, interval_ms), .def = "10s",
			  .min = 100, .max = 86400000, .help = "default poll interval of the bus's devices" },
	[BK_BACKOFF] = { .name = "backoff_max", .kt = KT_DUR, .flags = KF_DYN, .off = OFF(cc_bus_conf, backoff_max_ms),
			 .def = "max(shortest device interval, 5s)", .min = 1000, .max = 86400000,
			 .help = "cap on retry backoff for a silent unit or a dead link: a down unit is probed at least "
				 "every max(its interval, backoff_max), a dead link every backoff_max" },
	[BK_TURNAROUND] = { .name = "turnaround", .kt = KT_DUR, .flags = KF_DYN, .off = OFF(cc_bus_conf, turnaround_ms),
			    .def = "0ms on tcp, 20ms on rtu", .min = 0, .max = 5000,
			    .help = "pause between two requests on the bus" },
	[BK_DEVICES] = { .name = "devices", .kt = KT_LIST, .flags = KF_REQ,
			 .help = "the bus's devices (non-empty): see group modbus.devices" },
};

enum { TK_HOST, TK_PORT, TK_N };
static const struct key tcp_keys[] = {
	[TK_HOST] = { .name = "host", .kt = KT_STR, .flags = KF_REQ, .off = OFF(cc_bus_conf, host),
		      .help = "gateway or device host name or address" },
	[TK_PORT] = { .name = "port", .kt = KT_INT, .off = OFF(cc_bus_conf, port), .def = "502", .min = 1,
		      .max = 65535, .help = "TCP port" },
};

enum { UK_DEVICE, UK_BAUD, UK_PARITY, UK_DATA_BITS, UK_STOP_BITS, UK_RS485, UK_N };
static const struct key rtu_keys[] = {
	[UK_DEVICE] = { .name = "device", .kt = KT_STR, .flags = KF_REQ, .off = OFF(cc_bus_conf, device),
			.check = check_abs,
			.help = "serial device (need not exist at check time: adapters are retried)" },
	[UK_BAUD] = { .name = "baud", .kt = KT_INT, .off = OFF(cc_bus_conf, baud), .def = "9600", .ints = bauds,
		      .help = "line speed" },
	[UK_PARITY] = { .name = "parity", .kt = KT_ENUM, .off = OFF(cc_bus_conf, parity), .def = "none",
			.enums = parities, .store = ES_CHAR, .help = "parity" },
	[UK_DATA_BITS] = { .name = "data_bits", .kt = KT_INT, .off = OFF(cc_bus_conf, data_bits), .def = "8",
			   .ints = data_bits_ok, .help = "data bits" },
	[UK_STOP_BITS] = { .name = "stop_bits", .kt = KT_INT, .off = OFF(cc_bus_conf, stop_bits), .def = "1",
			   .ints = stop_bits_ok, .help = "stop bits" },
	[UK_RS485] = { .name = "rs485", .kt = KT_BOOL, .off = OFF(cc_bus_conf, rs485), .def = "false",
		       .help = "put the serial port in RS485 mode (adapters that need it)" },
};

enum { DK_NAME, DK_UNIT, DK_ROOM, DK_TEMPLATE, DK_INTERVAL, DK_MAX_GAP, DK_MAX_REGS, DK_MAX_BITS, DK_POINTS, DK_N };
static const struct key device_keys[] = {
	[DK_NAME] = { .name = "name", .kt = KT_NAME, .flags = KF_REQ, .off = OFF(cc_device_conf, name),
		      .help = "sensor name, unique across all buses: tag \"sensor\"" },
	[DK_UNIT] = { .name = "unit", .kt = KT_INT, .flags = KF_REQ, .off = OFF(cc_device_conf, unit), .min = 0,
		      .max = 247, .range = "1..247 (0..247 on tcp)",
		      .help = "Modbus unit (slave) id, unique on its bus" },
	[DK_ROOM] = { .name = "room", .kt = KT_STR, .off = OFF(cc_device_conf, room),
		      .help = "room (or vehicle, line): tag \"room\"; none when unset" },
	[DK_TEMPLATE] = { .name = "template", .kt = KT_NAME, .flags = KF_NOPRINT, .off = OFF(cc_device_conf, template_name),
			  .check = check_template,
			  .help = "device template: points from <template_dir>/NAME.conf" },
	[DK_INTERVAL] = { .name = "interval", .kt = KT_DUR, .flags = KF_DYN, .off = OFF(cc_device_conf, interval_ms),
			  .def = "the bus's interval", .min = 100, .max = 86400000, .help = "poll interval" },
	[DK_MAX_GAP] = { .name = "max_gap", .kt = KT_INT, .flags = KF_DYN, .off = OFF(cc_device_conf, max_gap),
			 .def = "the template's, else 8", .min = 0, .max = 125,
			 .help = "unused registers/bits that may be read to merge two requests" },
	[DK_MAX_REGS] = { .name = "max_registers", .kt = KT_INT, .flags = KF_DYN, .off = OFF(cc_device_conf, max_registers),
			  .def = "the template's, else 125", .min = 1, .max = 125,
			  .help = "registers per read request (holding, input)" },
	[DK_MAX_BITS] = { .name = "max_bits", .kt = KT_INT, .off = OFF(cc_device_conf, max_bits), .def = "2000",
			  .min = 1, .max = 2000, .help = "bits per read request (coil, discrete)" },
	[DK_POINTS] = { .name = "points", .kt = KT_LIST,
			.help = "points (added to the template's): see group modbus.devices.points; "
				"a device needs at least one point" },
};

enum { PK_CHANNEL, PK_QUANTITY, PK_UNIT, PK_TABLE, PK_ADDRESS, PK_TYPE, PK_ORDER, PK_BIT, PK_SCALE, PK_OFFSET,
       PK_MIN, PK_MAX, PK_OVERLAP, PK_N };
static const struct key point_keys[] = {
	[PK_CHANNEL] = { .name = "channel", .kt = KT_NAME, .flags = KF_REQ, .off = OFF(cc_point_conf, channel),
			 .help = "channel name within the device; channel id is DEVICE/CHANNEL" },
	[PK_QUANTITY] = { .name = "quantity", .kt = KT_NAME, .flags = KF_DYN, .off = OFF(cc_point_conf, quantity),
			  .def = "the channel name", .help = "measurement name (temperature, humidity, co2, door)" },
	[PK_UNIT] = { .name = "unit", .kt = KT_STR, .off = OFF(cc_point_conf, unit),
		      .help = "unit of the value (tag \"unit\"); none when unset" },
	[PK_TABLE] = { .name = "table", .kt = KT_ENUM, .flags = KF_REQ, .off = OFF(cc_point_conf, table),
		       .enums = modbus_table_names, .store = ES_INT, .help = "Modbus table" },
	[PK_ADDRESS] = { .name = "address", .kt = KT_INT, .flags = KF_REQ, .off = OFF(cc_point_conf, address),
			 .min = 0, .max = 65535,
			 .help = "0-based protocol address (holding register 40001 is address 0)" },
	[PK_TYPE] = { .name = "type", .kt = KT_ENUM, .flags = KF_DYN, .off = OFF(cc_point_conf, type),
		      .def = "uint16 on holding/input, bool on coil/discrete", .enums = modbus_type_names, .store = ES_INT,
		      .help = "register type (coil/discrete: bool only)" },
	[PK_ORDER] = { .name = "order", .kt = KT_ENUM, .off = OFF(cc_point_conf, order), .def = "ABCD",
		       .enums = modbus_order_names, .store = ES_INT,
		       .help = "byte order, A = most significant (8-letter forms for 64-bit types only)" },
	[PK_BIT] = { .name = "bit", .kt = KT_INT, .flags = KF_DYN, .off = OFF(cc_point_conf, bit),
		     .def = "none (required for bool on holding/input)", .min = 0, .max = 15,
		     .help = "bit of the register, for type bool on holding/input" },
	[PK_SCALE] = { .name = "scale", .kt = KT_DBL, .flags = KF_NONZERO, .off = OFF(cc_point_conf, scaling.scale),
		       .def = "1.0", .range = "finite, non-zero", .help = "value = raw * scale + offset" },
	[PK_OFFSET] = { .name = "offset", .kt = KT_DBL, .off = OFF(cc_point_conf, scaling.offset), .def = "0.0",
			.range = "finite", .help = "value = raw * scale + offset" },
	[PK_MIN] = { .name = "min", .kt = KT_DBL, .off = OFF(cc_point_conf, scaling.valid_min), .def = "-inf",
		     .range = "finite, < max", .help = "lowest physically valid value (else quality out_of_range)" },
	[PK_MAX] = { .name = "max", .kt = KT_DBL, .off = OFF(cc_point_conf, scaling.valid_max), .def = "inf",
		     .range = "finite, > min", .help = "highest physically valid value (else quality out_of_range)" },
	[PK_OVERLAP] = { .name = "overlap", .kt = KT_BOOL, .off = OFF(cc_point_conf, overlap), .def = "false",
			 .help = "the point shares registers with another point of the device on purpose (e.g. the "
				 "same register read as two types); otherwise an overlap is an error" },
};

enum { OK_INFLUX, OK_INFLUX2, OK_FILE, OK_WEBHOOK, OK_ALERTS_MQTT, OK_N };
static const struct key outputs_keys[] = {
	[OK_INFLUX] = { .name = "influxdb", .kt = KT_LIST,
			.help = "InfluxDB 1.x /write API (also VictoriaMetrics): see group outputs.influxdb" },
	[OK_INFLUX2] = { .name = "influxdb2", .kt = KT_LIST,
			 .help = "InfluxDB 2.x/3.x /api/v2/write API: see group outputs.influxdb2" },
	[OK_FILE] = { .name = "file", .kt = KT_LIST, .help = "line-protocol files: see group outputs.file" },
	[OK_WEBHOOK] = { .name = "webhook", .kt = KT_LIST,
			 .help = "alert events as JSON POSTs: see group outputs.webhook" },
	[OK_ALERTS_MQTT] = { .name = "alerts_mqtt", .kt = KT_GROUP,
			     .help = "alert events to MQTT: see group outputs.alerts_mqtt" },
};

static const char *const start_names[] = { "end", "oldest", NULL };
#define START_HELP "a new output (no position in the journal yet) starts with points journaled from now on " \
		   "(end), or replays the whole journal first (oldest)"
#define BATCH_BYTES_HELP "bytes per request (before gzip): a batch leaves at batch lines, batch_bytes or flush age"
#define QUARANTINE_HELP "file the lines the server refuses are appended to, each after a '#' line with the reason"

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

enum { IK_NAME, IK_URL, IK_DATABASE, IK_RP, IK_USERNAME, IK_PASSWORD_FILE, IK_CA_FILE, IK_INSECURE, IK_GZIP,
       IK_BATCH, IK_FLUSH, IK_TIMEOUT, IK_CONNECT_TIMEOUT, IK_BACKOFF, IK_BATCH_BYTES, IK_QUARANTINE, IK_START, IK_N };
static const struct key influx_keys[] = {
	[IK_NAME] = { .name = "name", .kt = KT_NAME, .flags = KF_DYN, .off = OFF(cc_influx_conf, name),
		      .def = "influxdb-N (N = position)", .help = "output name, unique among outputs" },
	[IK_URL] = { .name = "url", .kt = KT_STR, .flags = KF_REQ, .off = OFF(cc_influx_conf, url), .check = check_url,
		     .range = "http:// or https://, no query", .help = "server URL, e.g. http://127.0.0.1:8086" },
	[IK_DATABASE] = { .name = "database", .kt = KT_STR, .flags = KF_REQ, .off = OFF(cc_influx_conf, database),
			  .help = "database written to" },
	[IK_RP] = { .name = "retention_policy", .kt = KT_STR, .off = OFF(cc_influx_conf, retention_policy),
		    .help = "retention policy; the database's default when unset" },
	[IK_USERNAME] = { .name = "username", .kt = KT_STR, .off = OFF(cc_influx_conf, username),
			  .help = "user name (requires password_file)" },
	[IK_PASSWORD_FILE] = { .name = "password_file", .kt = KT_PATH, .off = OFF(cc_influx_conf, password_file),
			       .range = "mode 0600 or stricter",
			       .help = "file whose first line is the password, read at load (requires username)" },
	[IK_CA_FILE] = { .name = "ca_file", .kt = KT_PATH, .off = OFF(cc_influx_conf, ca_file),
			 .help = "CA bundle for https; the system's when unset" },
	[IK_INSECURE] = { .name = "insecure", .kt = KT_BOOL, .off = OFF(cc_influx_conf, insecure), .def = "false",
			  .help = "skip TLS certificate verification (logged loudly)" },
	[IK_GZIP] = { .name = "gzip", .kt = KT_BOOL, .off = OFF(cc_influx_conf, gzip), .def = "false",
		      .help = "gzip request bodies" },
	[IK_BATCH] = { .name = "batch", .kt = KT_INT, .off = OFF(cc_influx_conf, batch), .def = "5000", .min = 1,
		       .max = 100000, .help = "lines per request" },
	[IK_FLUSH] = { .name = "flush", .kt = KT_DUR, .off = OFF(cc_influx_conf, flush_ms), .def = "1s", .min = 10,
		       .max = 3600000, .help = "max age of a batch" },
	[IK_TIMEOUT] = { .name = "timeout", .kt = KT_DUR, .off = OFF(cc_influx_conf, timeout_ms), .def = "10s",
			 .min = 100, .max = 600000, .help = "total request timeout" },
	[IK_CONNECT_TIMEOUT] = { .name = "connect_timeout", .kt = KT_DUR, .off = OFF(cc_influx_conf, connect_timeout_ms),
				 .def = "5s", .min = 100, .max = 300000, .help = "connect timeout" },
	[IK_BACKOFF] = { .name = "backoff_max", .kt = KT_DUR, .off = OFF(cc_influx_conf, backoff_max_ms), .def = "60s",
			 .min = 1000, .max = 86400000, .help = "cap on retry backoff while the server fails" },
	[IK_BATCH_BYTES] = { .name = "batch_bytes", .kt = KT_SIZE, .off = OFF(cc_influx_conf, batch_bytes), .def = "4M",
			     .min = 1024.0, .max = 268435456.0, .help = BATCH_BYTES_HELP },
	[IK_QUARANTINE] = { .name = "quarantine", .kt = KT_PATH, .flags = KF_DYN, .off = OFF(cc_influx_conf, quarantine),
			    .def = "<journal dir>/quarantine-NAME.lp", .help = QUARANTINE_HELP },
	[IK_START] = { .name = "start", .kt = KT_ENUM, .off = OFF(cc_influx_conf, start_oldest), .def = "end",
		       .enums = start_names, .store = ES_INT, .help = START_HELP },
};

enum { I2_NAME, I2_URL, I2_ORG, I2_BUCKET, I2_TOKEN_FILE, I2_CA_FILE, I2_INSECURE, I2_GZIP, I2_BATCH, I2_BATCH_BYTES,
       I2_FLUSH, I2_TIMEOUT, I2_CONNECT_TIMEOUT, I2_BACKOFF, I2_QUARANTINE, I2_START, I2_N };
static const struct key influx2_keys[] = {
	[I2_NAME] = { .name = "name", .kt = KT_NAME, .flags = KF_DYN, .off = OFF(cc_influx_conf, name),
		      .def = "influxdb2-N (N = position)", .help = "output name, unique among outputs" },
	[I2_URL] = { .name = "url", .kt = KT_STR, .flags = KF_REQ, .off = OFF(cc_influx_conf, url), .check = check_url,
		     .range = "http:// or https://, no query", .help = "server URL, e.g. http://127.0.0.1:8086" },
	[I2_ORG] = { .name = "org", .kt = KT_STR, .flags = KF_REQ, .off = OFF(cc_influx_conf, org),
		     .help = "organization (name or ID)" },
	[I2_BUCKET] = { .name = "bucket", .kt = KT_STR, .flags = KF_REQ, .off = OFF(cc_influx_conf, bucket),
			.help = "bucket written to (InfluxDB 3: the database)" },
	[I2_TOKEN_FILE] = { .name = "token_file", .kt = KT_PATH, .flags = KF_REQ, .off = OFF(cc_influx_conf, token_file),
			    .range = "mode 0600 or stricter",
			    .help = "file whose first line is the API token, read at load (sent as Authorization: Token)" },
	[I2_CA_FILE] = { .name = "ca_file", .kt = KT_PATH, .off = OFF(cc_influx_conf, ca_file),
			 .help = "CA bundle for https; the system's when unset" },
	[I2_INSECURE] = { .name = "insecure", .kt = KT_BOOL, .off = OFF(cc_influx_conf, insecure), .def = "false",
			  .help = "skip TLS certificate verification (logged loudly)" },
	[I2_GZIP] = { .name = "gzip", .kt = KT_BOOL, .off = OFF(cc_influx_conf, gzip), .def = "false",
		      .help = "gzip request bodies" },
	[I2_BATCH] = { .name = "batch", .kt = KT_INT, .off = OFF(cc_influx_conf, batch), .def = "5000", .min = 1,
		       .max = 100000, .help = "lines per request" },
	[I2_BATCH_BYTES] = { .name = "batch_bytes", .kt = KT_SIZE, .off = OFF(cc_influx_conf, batch_bytes), .def = "4M",
			     .min = 1024.0, .max = 268435456.0, .help = BATCH_BYTES_HELP },
	[I2_FLUSH] = { .name = "flush", .kt = KT_DUR, .off = OFF(cc_influx_conf, flush_ms), .def = "1s", .min = 10,
		       .max = 3600000, .help = "max age of a batch" },
	[I2_TIMEOUT] = { .name = "timeout", .kt = KT_DUR, .off = OFF(cc_influx_conf, timeout_ms), .def = "10s",
			 .min = 100, .max = 600000, .help = "total request timeout" },
	[I2_CONNECT_TIMEOUT] = { .name = "connect_timeout", .kt = KT_DUR, .off = OFF(cc_influx_conf, connect_timeout_ms),
				 .def = "5s", .min = 100, .max = 300000, .help = "connect timeout" },
	[I2_BACKOFF] = { .name = "backoff_max", .kt = KT_DUR, .off = OFF(cc_influx_conf, backoff_max_ms), .def = "60s",
			 .min = 1000, .max = 86400000, .help = "cap on retry backoff while the server fails" },
	[I2_QUARANTINE] = { .name = "quarantine", .kt = KT_PATH, .flags = KF_DYN, .off = OFF(cc_influx_conf, quarantine),
			    .def = "<journal dir>/quarantine-NAME.lp", .help = QUARANTINE_HELP },
	[I2_START] = { .name = "start", .kt = KT_ENUM, .off = OFF(cc_influx_conf, start_oldest), .def = "end",
		       .enums = start_names, .store = ES_INT, .help = START_HELP },
};

enum { FK_NAME, FK_PATH, FK_START, FK_N };
static const struct key file_keys[] = {
	[FK_NAME] = { .name = "name", .kt = KT_NAME, .flags = KF_DYN, .off = OFF(cc_file_out_conf, name),
		      .def = "file-N (N = position)", .help = "output name, unique among outputs" },
	[FK_PATH] = { .name = "path", .kt = KT_PATH, .flags = KF_REQ, .off = OFF(cc_file_out_conf, path),
		      .help = "file line protocol is appended to; \"-\" = standard output" },
	[FK_START] = { .name = "start", .kt = KT_ENUM, .off = OFF(cc_file_out_conf, start_oldest), .def = "end",
		       .enums = start_names, .store = ES_INT, .help = START_HELP },
};

/* A device template file: "template = { ... };" and nothing else. */
struct tmpl {
	char *name;   /* as referenced by devices */
	char *file;   /* as opened */
	int err;      /* errno when the file could not be opened */
	int ok;       /* parsed and valid */
	char *tname, *vendor, *model, *manual;
	int max_registers; /* 0 when not set */
	int max_gap;       /* -1 when not set */
	struct cc_point_conf *points;
	size_t npoints;
};

enum { XK_TEMPLATE, XK_N };
static const struct key tfile_keys[] = {
	[XK_TEMPLATE] = { .name = "template", .kt = KT_GROUP, .flags = KF_REQ, .help = "the template" },
};

enum { MK_NAME, MK_VENDOR, MK_MODEL, MK_MANUAL, MK_MAX_REGS, MK_MAX_GAP, MK_POINTS, MK_N };
static const struct key template_keys[] = {
	[MK_NAME] = { .name = "name", .kt = KT_STR, .off = OFF(tmpl, tname),
		      .help = "the template's name: its file name without .conf (anything else is refused)" },
	[MK_VENDOR] = { .name = "vendor", .kt = KT_STR, .off = OFF(tmpl, vendor), .help = "manufacturer" },
	[MK_MODEL] = { .name = "model", .kt = KT_STR, .off = OFF(tmpl, model), .help = "model" },
	[MK_MANUAL] = { .name = "manual", .kt = KT_STR, .off = OFF(tmpl, manual),
			.help = "where the register map comes from (document, URL)" },
	[MK_MAX_REGS] = { .name = "max_registers", .kt = KT_INT, .flags = KF_DYN, .off = OFF(tmpl, max_registers),
			  .def = "none", .min = 1, .max = 125,
			  .help = "device quirk: registers per request (a device's own max_registers wins)" },
	[MK_MAX_GAP] = { .name = "max_gap", .kt = KT_INT, .flags = KF_DYN, .off = OFF(tmpl, max_gap), .def = "none",
			 .min = 0, .max = 125, .help = "device quirk: max_gap (a device's own max_gap wins)" },
	[MK_POINTS] = { .name = "points", .kt = KT_LIST,
			.help = "points, with the keys of group modbus.devices.points" },
};

#define GROUP(n, k, h) { n, k, ARRAY_SIZE(k), h }
static const struct group g_root = GROUP("", root_keys, "top level");
static const struct group g_log = GROUP("log", log_keys, "logging");
static const struct group g_bus = GROUP("modbus", bus_keys, "one Modbus bus (list element)");
static const struct group g_tcp = GROUP("modbus.tcp", tcp_keys, "Modbus TCP connection");
static const struct group g_rtu = GROUP("modbus.rtu", rtu_keys, "Modbus RTU serial line");
static const struct group g_device = GROUP("modbus.devices", device_keys, "one Modbus device (list element)");
static const struct group g_point = GROUP("modbus.devices.points", point_keys, "one point (list element)");
static const struct group g_outputs = GROUP("outputs", outputs_keys, "outputs (at least one)");
static const struct group g_influx = GROUP("outputs.influxdb", influx_keys, "one InfluxDB 1.x output (list element)");
static const struct group g_influx2 = GROUP("outputs.influxdb2", influx2_keys, "one InfluxDB v2 API output (list element)");
static const struct group g_journal = GROUP("journal", journal_keys, "the durable journal");
static const struct group g_control = GROUP("control", control_keys, "the control socket (coldchainctl)");
static const struct group g_file = GROUP("outputs.file", file_keys, "one line-protocol file output (list element)");
static const struct group g_tfile = GROUP("", tfile_keys, "template file");
static const struct group g_template = GROUP("template", template_keys, "device template file <template_dir>/NAME.conf");

/* MQTT: group mqtt (broker, subscriptions) and a subscription's fields. */
static const char *const mqtt_protocols[] = { "3.1.1", "5", NULL };
static const char *const mqtt_formats[] = { "number", "json", "influx", "bool", NULL };
static const char *const mqtt_tunits[] = { "auto", "s", "ms", "us", "ns", NULL };

enum { QK_BROKER, QK_SUBS, QK_MAX_CHANNELS, QK_MAX_FUTURE, QK_MAX_AGE, QK_N };
static const struct key mqtt_keys[] = {
	[QK_BROKER] = { .name = "broker", .kt = KT_GROUP, .flags = KF_REQ, .help = "the broker: see group mqtt.broker" },
	[QK_SUBS] = { .name = "subscriptions", .kt = KT_LIST, .flags = KF_REQ,
		      .help = "topic subscriptions (non-empty): see group mqtt.subscriptions" },
	[QK_MAX_CHANNELS] = { .name = "max_channels", .kt = KT_INT, .off = OFF(cc_mqtt_conf, max_channels),
			      .def = "10000", .min = 1, .max = 1000000,
			      .help = "channels created from topic captures (past it, messages of new channels are "
				      "refused and counted)" },
	[QK_MAX_FUTURE] = { .name = "max_future", .kt = KT_DUR, .off = OFF(cc_mqtt_conf, max_future_ms), .def = "10m",
			    .min = 0, .max = 86400000,
			    .help = "a payload timestamp further ahead of the daemon's clock is refused (time_skew)" },
	[QK_MAX_AGE] = { .name = "max_age", .kt = KT_DUR, .off = OFF(cc_mqtt_conf, max_age_ms), .def = "30d",
			 .min = 60000, .max = 3650.0 * 86400000,
			 .help = "a payload timestamp older than this is refused (time_skew)" },
};

enum { QB_HOST, QB_PORT, QB_CLIENT_ID, QB_PROTOCOL, QB_KEEPALIVE, QB_CLEAN, QB_EXPIRY, QB_USERNAME, QB_PASSWORD_FILE,
       QB_TLS, QB_CA_FILE, QB_CA_DIR, QB_CERT, QB_KEY, QB_INSECURE, QB_RECONNECT_MAX, QB_N };
static const struct key mqtt_broker_keys[] = {
	[QB_HOST] = { .name = "host", .kt = KT_STR, .off = OFF(cc_mqtt_conf, host), .def = "127.0.0.1",
		      .help = "broker host name or address" },
	[QB_PORT] = { .name = "port", .kt = KT_INT, .flags = KF_DYN, .off = OFF(cc_mqtt_conf, port),
		      .def = "1883, 8883 with TLS", .min = 1, .max = 65535, .help = "broker port" },
	[QB_CLIENT_ID] = { .name = "client_id", .kt = KT_STR, .flags = KF_DYN, .off = OFF(cc_mqtt_conf, client_id),
			   .def = "coldchaind-SITE", .check = NULL,
			   .help = "client id: the broker keeps the persistent session under it (unique per daemon)" },
	[QB_PROTOCOL] = { .name = "protocol", .kt = KT_ENUM, .off = OFF(cc_mqtt_conf, protocol), .def = "5",
			  .enums = mqtt_protocols, .store = ES_INT, .help = "MQTT protocol version" },
	[QB_KEEPALIVE] = { .name = "keepalive", .kt = KT_DUR, .off = OFF(cc_mqtt_conf, keepalive_ms), .def = "60s",
			   .min = 5000, .max = 3600000, .help = "keepalive interval (a dead link is noticed after 1.5x)" },
	[QB_CLEAN] = { .name = "clean_session", .kt = KT_BOOL, .off = OFF(cc_mqtt_conf, clean_session), .def = "false",
		       .help = "start a new session at every connect (messages sent while disconnected are lost)" },
	[QB_EXPIRY] = { .name = "session_expiry", .kt = KT_DUR, .off = OFF(cc_mqtt_conf, session_expiry_ms),
			.def = "7d", .min = 0, .max = 4294967295.0 * 1000,
			.help = "MQTT 5: how long the broker keeps the session (and queues QoS 1 messages) while "
				"the daemon is away" },
	[QB_USERNAME] = { .name = "username", .kt = KT_STR, .off = OFF(cc_mqtt_conf, username),
			  .help = "user name; none when unset" },
	[QB_PASSWORD_FILE] = { .name = "password_file", .kt = KT_PATH, .off = OFF(cc_mqtt_conf, password_file),
			       .range = "mode 0600 or stricter",
			       .help = "file whose first line is the password, read at load (requires username)" },
	[QB_TLS] = { .name = "tls", .kt = KT_BOOL, .flags = KF_DYN, .off = OFF(cc_mqtt_conf, tls),
		     .def = "true when ca_file, ca_dir or cert is set",
		     .help = "TLS; without ca_file/ca_dir the system's CAs (/etc/ssl/certs) are used" },
	[QB_CA_FILE] = { .name = "ca_file", .kt = KT_PATH, .off = OFF(cc_mqtt_conf, ca_file),
			 .help = "CA certificate(s) the broker's certificate must chain to" },
	[QB_CA_DIR] = { .name = "ca_dir", .kt = KT_PATH, .off = OFF(cc_mqtt_conf, ca_dir),
			.help = "directory of hashed CA certificates (c_rehash)" },
	[QB_CERT] = { .name = "cert", .kt = KT_PATH, .off = OFF(cc_mqtt_conf, cert),
		      .help = "client certificate (PEM; requires key)" },
	[QB_KEY] = { .name = "key", .kt = KT_PATH, .off = OFF(cc_mqtt_conf, key),
		     .help = "client private key (PEM, unencrypted; requires cert)" },
	[QB_INSECURE] = { .name = "insecure", .kt = KT_BOOL, .off = OFF(cc_mqtt_conf, insecure), .def = "false",
			  .help = "skip verification of the broker's certificate and host name (logged loudly)" },
	[QB_RECONNECT_MAX] = { .name = "reconnect_max", .kt = KT_DUR, .off = OFF(cc_mqtt_conf, reconnect_max_ms),
			       .def = "30s", .min = 1000, .max = 600000,
			       .help = "cap on the reconnect delay (1s, doubling)" },
};

enum { QS_TOPIC, QS_FORMAT, QS_QOS, QS_QUANTITY, QS_CHANNEL, QS_SENSOR, QS_ROOM, QS_UNIT, QS_SCALE, QS_OFFSET,
       QS_MIN, QS_MAX, QS_MAX_PAYLOAD, QS_FIELDS, QS_TIME, QS_TIME_UNIT, QS_N };
static const struct key mqtt_sub_keys[] = {
	[QS_TOPIC] = { .name = "topic", .kt = KT_STR, .flags = KF_REQ, .off = OFF(cc_mqtt_sub, topic),
		       .help = "topic filter: + and #, named captures {site} {room} {sensor} {channel} {quantity} "
			       "as whole levels, $share/GROUP/ prefix for a shared subscription" },
	[QS_FORMAT] = { .name = "format", .kt = KT_ENUM, .off = OFF(cc_mqtt_sub, format), .def = "number",
			.enums = mqtt_formats, .store = ES_INT, .help = "payload format" },
	[QS_QOS] = { .name = "qos", .kt = KT_INT, .off = OFF(cc_mqtt_sub, qos), .def = "1", .min = 0, .max = 2,
		     .range = "0|1", .help = "subscription QoS (1: nothing acknowledged is lost; 2 is refused)" },
	[QS_QUANTITY] = { .name = "quantity", .kt = KT_NAME, .off = OFF(cc_mqtt_sub, quantity),
			  .help = "measurement (number, bool), unless captured by {quantity}" },
	[QS_CHANNEL] = { .name = "channel", .kt = KT_NAME, .flags = KF_DYN, .off = OFF(cc_mqtt_sub, channel),
			 .def = "the quantity", .help = "channel name (number, bool), unless captured by {channel}" },
	[QS_SENSOR] = { .name = "sensor", .kt = KT_STR, .off = OFF(cc_mqtt_sub, sensor),
			.help = "sensor tag, unless captured by {sensor} (influx: or a sensor tag in the line)" },
	[QS_ROOM] = { .name = "room", .kt = KT_STR, .off = OFF(cc_mqtt_sub, room),
		      .help = "room tag, unless captured by {room}; none when unset" },
	[QS_UNIT] = { .name = "unit", .kt = KT_STR, .off = OFF(cc_mqtt_sub, unit), .help = "unit tag; none when unset" },
	[QS_SCALE] = { .name = "scale", .kt = KT_DBL, .flags = KF_NONZERO, .off = OFF(cc_mqtt_sub, scale), .def = "1.0",
		       .range = "finite, non-zero", .help = "value = payload * scale + offset (not for bool)" },
	[QS_OFFSET] = { .name = "offset", .kt = KT_DBL, .off = OFF(cc_mqtt_sub, offset), .def = "0.0",
			.range = "finite", .help = "value = payload * scale + offset (not for bool)" },
	[QS_MIN] = { .name = "min", .kt = KT_DBL, .off = OFF(cc_mqtt_sub, valid_min), .def = "-inf",
		     .range = "finite, < max", .help = "lowest physically valid value (else quality out_of_range)" },
	[QS_MAX] = { .name = "max", .kt = KT_DBL, .off = OFF(cc_mqtt_sub, valid_max), .def = "inf",
		     .range = "finite, > min", .help = "highest physically valid value (else quality out_of_range)" },
	[QS_MAX_PAYLOAD] = { .name = "max_payload", .kt = KT_INT, .off = OFF(cc_mqtt_sub, max_payload), .def = "65536",
			     .min = 16, .max = 268435455, .help = "bytes; a larger message is refused (too_large)" },
	[QS_FIELDS] = { .name = "fields", .kt = KT_GROUP, .flags = KF_NOPRINT,
			.help = "json (required): CHANNEL = \"path\" or CHANNEL = { ... }: see group "
				"mqtt.subscriptions.fields.CHANNEL" },
	[QS_TIME] = { .name = "time", .kt = KT_STR, .off = OFF(cc_mqtt_sub, time_path),
		      .help = "json: path of the timestamp (epoch number or RFC 3339); time of arrival when unset" },
	[QS_TIME_UNIT] = { .name = "time_unit", .kt = KT_ENUM, .off = OFF(cc_mqtt_sub, time_unit), .def = "auto",
			   .enums = mqtt_tunits, .store = ES_INT,
			   .help = "json: unit of an epoch timestamp (auto: by magnitude)" },
};

enum { QF_PATH, QF_QUANTITY, QF_UNIT, QF_SCALE, QF_OFFSET, QF_MIN, QF_MAX, QF_N };
static const struct key mqtt_field_keys[] = {
	[QF_PATH] = { .name = "path", .kt = KT_STR, .flags = KF_REQ, .off = OFF(cc_mqtt_field, path),
		      .help = "dotted path of the value (\"env.rh\", \"sensors.0.t\")" },
	[QF_QUANTITY] = { .name = "quantity", .kt = KT_NAME, .flags = KF_DYN, .off = OFF(cc_mqtt_field, quantity),
			  .def = "the channel name", .help = "measurement" },
	[QF_UNIT] = { .name = "unit", .kt = KT_STR, .flags = KF_DYN, .off = OFF(cc_mqtt_field, unit),
		      .def = "the subscription's", .help = "unit tag" },
	[QF_SCALE] = { .name = "scale", .kt = KT_DBL, .flags = KF_DYN | KF_NONZERO, .off = OFF(cc_mqtt_field, scale),
		       .def = "the subscription's", .range = "finite, non-zero", .help = "value = raw * scale + offset" },
	[QF_OFFSET] = { .name = "offset", .kt = KT_DBL, .flags = KF_DYN, .off = OFF(cc_mqtt_field, offset),
			.def = "the subscription's", .range = "finite", .help = "value = raw * scale + offset" },
	[QF_MIN] = { .name = "min", .kt = KT_DBL, .flags = KF_DYN, .off = OFF(cc_mqtt_field, valid_min),
		     .def = "the subscription's", .range = "finite, < max", .help = "lowest physically valid value" },
	[QF_MAX] = { .name = "max", .kt = KT_DBL, .flags = KF_DYN, .off = OFF(cc_mqtt_field, valid_max),
		     .def = "the subscription's", .range = "finite, > min", .help = "highest physically valid value" },
};

static const struct group g_mqtt = GROUP("mqtt", mqtt_keys, "MQTT ingestion (optional)");
static const struct group g_mqtt_broker = GROUP("mqtt.broker", mqtt_broker_keys, "the MQTT broker");
static const struct group g_mqtt_sub = GROUP("mqtt.subscriptions", mqtt_sub_keys, "one subscription (list element)");
static const struct group g_mqtt_field = GROUP("mqtt.subscriptions.fields.CHANNEL", mqtt_field_keys,
					       "one JSON field (or just its path as a string)");
_Static_assert(ARRAY_SIZE(mqtt_keys) == QK_N, "mqtt_keys");
_Static_assert(ARRAY_SIZE(mqtt_broker_keys) == QB_N && QB_N <= 16, "mqtt_broker_keys");
_Static_assert(ARRAY_SIZE(mqtt_sub_keys) == QS_N && QS_N <= 16, "mqtt_sub_keys");
_Static_assert(ARRAY_SIZE(mqtt_field_keys) == QF_N, "mqtt_field_keys");

#include "config_engine_keys.inc"
#include "config_alerts_keys.inc"

static const struct group *const doc_groups[] = {
	&g_root, &g_log, &g_bus, &g_tcp, &g_rtu, &g_device, &g_point, &g_outputs, &g_influx, &g_influx2, &g_file,
	ALERTS_DOC_GROUPS,
	&g_journal, &g_control, &g_template,
	&g_mqtt, &g_mqtt_broker, &g_mqtt_sub, &g_mqtt_field,
	ENGINE_DOC_GROUPS,
};

#define MAX_KEYS 20

/* The index enums must match the tables (designated initialisers leave a
 * hole, never a shift, but a forgotten key would still go unnoticed). */
_Static_assert(ARRAY_SIZE(root_keys) == RK_N, "root_keys");
_Static_assert(ARRAY_SIZE(log_keys) == LK_N, "log_keys");
_Static_assert(ARRAY_SIZE(bus_keys) == BK_N, "bus_keys");
_Static_assert(ARRAY_SIZE(tcp_keys) == TK_N, "tcp_keys");
_Static_assert(ARRAY_SIZE(rtu_keys) == UK_N, "rtu_keys");
_Static_assert(ARRAY_SIZE(device_keys) == DK_N, "device_keys");
_Static_assert(ARRAY_SIZE(point_keys) == PK_N && PK_N <= MAX_KEYS, "point_keys");
_Static_assert(ARRAY_SIZE(outputs_keys) == OK_N, "outputs_keys");
_Static_assert(ARRAY_SIZE(influx_keys) == IK_N && IK_N <= MAX_KEYS, "influx_keys");
_Static_assert(ARRAY_SIZE(influx2_keys) == I2_N && I2_N <= MAX_KEYS, "influx2_keys");
_Static_assert(ARRAY_SIZE(journal_keys) == JK_N, "journal_keys");
_Static_assert(ARRAY_SIZE(control_keys) == CTK_N, "control_keys");
_Static_assert(ARRAY_SIZE(file_keys) == FK_N, "file_keys");
_Static_assert(ARRAY_SIZE(tfile_keys) == XK_N, "tfile_keys");
_Static_assert(ARRAY_SIZE(template_keys) == MK_N, "template_keys");

/* --- loader context ---------------------------------------------------- */

struct err {
	size_t file; /* index in ctx.files: the rank when sorting */
	int line;
	size_t seq;
	char *text;
};

struct name_seen {
	const char *name;
	const config_setting_t *s;
};

struct names {
	struct name_seen *v;
	size_t n;
};

struct ctx {
	struct cc_config *cfg;
	const char *dir;    /* of the config file, as given ("." when none) */
	char *dir_buf;
	char *absdir;       /* absolute */
	const char *tdir;   /* template directory for opening and messages */
	char *tdir_buf;
	/* the file libconfig is reading: its name as passed, and include dir */
	const char *cur_file;
	const char *cur_incdir;
	char **files;
	size_t nfiles;
	struct err *errs;
	size_t nerr, caperr;
	struct tmpl **tmpls;
	size_t ntmpls;
	struct names buses, devices, outputs;
	/* source text cache for the integer-literal check */
	char *src_name;
	char *src;
	/* config_load_string: the text of cfg->file (which is not read) */
	const char *text;
	/* what includes_safe has seen, against the CONFIG_MAX_* bounds */
	uint64_t bytes;
	int includes, over;
	/* apply() on a profile's group: numbers may carry a grade, and every
	 * number set is recorded in gprof->params under ggroup */
	struct cc_profile *gprof;
	const char *ggroup;
};

struct seen {
	const config_setting_t *s; /* NULL when absent */
	int bad;                   /* present but invalid: the default was stored */
	int idx;                   /* KT_ENUM: index in enums */
};

static int ok(const struct seen *s)
{
	return s->s && !s->bad;
}

static char *path_join(const char *dir, const char *name)
{
	if (name[0] == '/' || strcmp(dir, ".") == 0)
		return xstrdup(name);
	return xasprintf("%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", name);
}

static size_t file_intern(struct ctx *c, const char *name)
{
	for (size_t i = 0; i < c->nfiles; i++)
		if (strcmp(c->files[i], name) == 0)
			return i;
	c->files = xrealloc(c->files, (c->nfiles + 1) * sizeof(*c->files));
	c->files[c->nfiles] = xstrdup(name);
	return c->nfiles++;
}

/* The file a setting came from, as it was opened. */
static size_t src_file(struct ctx *c, const config_setting_t *s)
{
	const char *f = s ? config_setting_source_file(s) : NULL;
	size_t i;
	char *j;

	if (!f || strcmp(f, c->cur_file) == 0)
		return file_intern(c, c->cur_file);
	j = path_join(c->cur_incdir, f);
	i = file_intern(c, j);
	free(j);
	return i;
}

static int src_line(const config_setting_t *s)
{
	int l = s ? config_setting_source_line(s) : 0;
	return l > 0 ? l : 1; /* the root group has line 0 */
}

static void err_add(struct ctx *c, size_t file, int line, const char *path, const char *fmt, va_list ap)
	__attribute__((format(printf, 5, 0)));
static void err_add(struct ctx *c, size_t file, int line, const char *path, const char *fmt, va_list ap)
{
	char *m;

	if (vasprintf(&m, fmt, ap) < 0)
		m = xstrdup("(out of memory)");
	if (c->nerr == c->caperr) {
		c->caperr = c->caperr ? 2 * c->caperr : 16;
		c->errs = xrealloc(c->errs, c->caperr * sizeof(*c->errs));
	}
	c->errs[c->nerr].file = file;
	c->errs[c->nerr].line = line;
	c->errs[c->nerr].seq = c->nerr;
	if (path && *path) {
		c->errs[c->nerr].text = xasprintf("%s: %s", path, m);
		free(m);
	} else {
		c->errs[c->nerr].text = m;
	}
	c->nerr++;
}

static void err_at(struct ctx *c, const config_setting_t *s, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void err_at(struct ctx *c, const config_setting_t *s, const char *path, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	err_add(c, src_file(c, s), src_line(s), path, fmt, ap);
	va_end(ap);
}

static void err_file(struct ctx *c, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void err_file(struct ctx *c, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	err_add(c, file_intern(c, file), line, NULL, fmt, ap);
	va_end(ap);
}

/* "line 12" in the same file, else "FILE:12": where the first of two was. */
static char *where(struct ctx *c, const config_setting_t *s, const config_setting_t *now)
{
	size_t f = src_file(c, s);
	if (f == src_file(c, now))
		return xasprintf("line %d", src_line(s));
	return xasprintf("%s:%d", c->files[f], src_line(s));
}

/* Registers name; returns the setting where it was first seen, or NULL. */
static const config_setting_t *names_add(struct names *n, const char *name, const config_setting_t *s)
{
	for (size_t i = 0; i < n->n; i++)
		if (strcmp(n->v[i].name, name) == 0)
			return n->v[i].s;
	n->v = xrealloc(n->v, (n->n + 1) * sizeof(*n->v));
	n->v[n->n].name = name;
	n->v[n->n].s = s;
	n->n++;
	return NULL;
}

static char *key_path(const char *base, const char *key)
{
	return *base ? xasprintf("%s.%s", base, key) : xstrdup(key);
}

/* The config's one unique-name check: registers name (of element el) in n;
 * when it is there already, reports `KIND "NAME" is already defined at
 * WHERE` at the setting s, as path.member.  A NULL name (unset or invalid,
 * reported already) is no name. */
static void name_unique(struct ctx *c, struct names *n, const char *kind, const char *name,
			const config_setting_t *el, const config_setting_t *s, const char *path, const char *member)
{
	const config_setting_t *first;
	char *w, *kp;

	if (!name || !(first = names_add(n, name, el)))
		return;
	w = where(c, first, el);
	kp = key_path(path, member);
	err_at(c, s, kp, "%s \"%s\" is already defined at %s", kind, name, w);
	free(kp);
	free(w);
}

/* base[name] when the element has a usable name, else base[index]. */
static char *elem_path(const char *base, const config_setting_t *el, const char *namekey, size_t idx)
{
	const config_setting_t *n = NULL;

	if (config_setting_type(el) == CONFIG_TYPE_GROUP)
		n = config_setting_get_member(el, namekey);
	if (n && config_setting_type(n) == CONFIG_TYPE_STRING && *config_setting_get_string(n))
		return xasprintf("%s[%s]", base, config_setting_get_string(n));
	return xasprintf("%s[%zu]", base, idx);
}

static const char *lc_type_name(int t)
{
	switch (t) {
	case CONFIG_TYPE_GROUP: return "a group { ... }";
	case CONFIG_TYPE_LIST: return "a list ( ... )";
	case CONFIG_TYPE_ARRAY: return "an array [ ... ]";
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64: return "an integer";
	case CONFIG_TYPE_FLOAT: return "a float";
	case CONFIG_TYPE_STRING: return "a string";
	case CONFIG_TYPE_BOOL: return "a boolean";
	}
	return "an unknown type";
}

static const char *kt_expect(enum kt t)
{
	switch (t) {
	case KT_STR:
	case KT_NAME:
	case KT_PATH:
	case KT_ENUM: return "a string";
	case KT_INT: return "an integer";
	case KT_DBL: return "a number";
	case KT_BOOL: return "a boolean (true or false)";
	case KT_DUR: return "a duration string such as \"10s\"";
	case KT_SIZE: return "a size string such as \"512M\"";
	case KT_GROUP: return "a group { ... }";
	case KT_LIST: return "a list ( ... )";
	}
	return "?";
}

static int name_ok(const char *s)
{
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '.' && *s != '_' && *s != '-')
			return 0;
	return 1;
}

/* Range text for docs (sep "|") and messages (sep ", "). */
static void key_range(const struct key *k, char *buf, size_t len, const char *sep)
{
	char a[32], b[32];
	size_t o = 0;

	buf[0] = '\0';
	if (k->range) {
		snprintf(buf, len, "%s", k->range);
	} else if (k->kt == KT_ENUM) {
		for (size_t i = 0; k->enums[i] && o < len; i++)
			o += (size_t)snprintf(buf + o, len - o, "%s%s", i ? sep : "", k->enums[i]);
	} else if (k->kt == KT_INT && k->ints) {
		for (size_t i = 0; k->ints[i] && o < len; i++)
			o += (size_t)snprintf(buf + o, len - o, "%s%d", i ? sep : "", k->ints[i]);
	} else if (k->kt == KT_INT) {
		snprintf(buf, len, "%.0f..%.0f", k->min, k->max);
	} else if (k->kt == KT_SIZE) {
		format_size((uint64_t)k->min, a, sizeof(a));
		format_size((uint64_t)k->max, b, sizeof(b));
		snprintf(buf, len, "%s..%s", a, b);
	} else if (k->kt == KT_DUR) {
		format_duration_ms((int64_t)k->min, a, sizeof(a));
		format_duration_ms((int64_t)k->max, b, sizeof(b));
		snprintf(buf, len, "%s..%s", a, b);
	} else if (k->kt == KT_DBL) {
		snprintf(buf, len, "finite");
	}
}

/* Edit distance, for "did you mean". */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), prev[64], cur[64];

	if (la >= 63 || lb >= 63)
		return 99;
	for (size_t j = 0; j <= lb; j++)
		prev[j] = j;
	for (size_t i = 1; i <= la; i++) {
		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t d = prev[j - 1] + (a[i - 1] != b[j - 1]);
			if (prev[j] + 1 < d)
				d = prev[j] + 1;
			if (cur[j - 1] + 1 < d)
				d = cur[j - 1] + 1;
			cur[j] = d;
		}
		memcpy(prev, cur, (lb + 1) * sizeof(size_t));
	}
	return prev[lb];
}

/* The literal as written, when libconfig 1.5 truncated it to 32 bits: NULL
 * when it did not (or when the source line cannot be found). */
static char *int_literal_truncated(struct ctx *c, const config_setting_t *s, long long v)
{
	const char *name = config_setting_name(s), *file, *p, *end, *bad_lit = NULL, *bad_end = NULL;
	size_t nl = name ? strlen(name) : 0;
	int line = config_setting_source_line(s);
	size_t fi;

	if (!name || line <= 0)
		return NULL;
	fi = src_file(c, s); /* may grow c->files: index after */
	file = c->files[fi];
	if (!c->src_name || strcmp(c->src_name, file) != 0) {
		FILE *f = fopen(file, "r");
		size_t cap = 0, n = 0, r;

		free(c->src_name);
		free(c->src);
		c->src_name = xstrdup(file);
		c->src = NULL;
		if (!f)
			return NULL;
		do {
			if (n + 4096 + 1 > cap) {
				cap = cap ? 2 * cap : 8192;
				c->src = xrealloc(c->src, cap);
			}
			r = fread(c->src + n, 1, 4096, f);
			n += r;
		} while (r > 0);
		fclose(f);
		c->src[n] = '\0';
	}
	if (!c->src)
		return NULL;
	p = c->src;
	for (int l = 1; l < line && p; l++) {
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	if (!p)
		return NULL;
	end = strchr(p, '\n');
	if (!end)
		end = p + strlen(p);
	for (const char *q = p; q + nl <= end; q++) {
		const char *t = q + nl, *lit;
		char *e;
		long long lv;

		if (strncmp(q, name, nl) != 0)
			continue;
		if (q > p && (isalnum((unsigned char)q[-1]) || q[-1] == '_' || q[-1] == '-' || q[-1] == '*'))
			continue;
		while (t < end && (*t == ' ' || *t == '\t'))
			t++;
		if (t >= end || (*t != '=' && *t != ':'))
			continue;
		t++;
		while (t < end && (*t == ' ' || *t == '\t'))
			t++;
		lit = t;
		errno = 0;
		lv = strtoll(lit, &e, 0);
		if (e == lit)
			continue;
		/* Several settings of one name may share a line: the value is
		 * fine when one reads as it, else report one that cannot fit. */
		if (errno != ERANGE && lv == v)
			return NULL;
		if (!bad_lit && (errno == ERANGE || lv < INT32_MIN || lv > INT32_MAX)) {
			while (e < end && isalnum((unsigned char)*e))
				e++;
			bad_lit = lit;
			bad_end = e;
		}
	}
	return bad_lit ? xasprintf("%.*s", (int)(bad_end - bad_lit), bad_lit) : NULL;
}

static void set_default(const struct key *k, void *obj)
{
	char *at = (char *)obj + k->off;

	if (k->flags & KF_DYN)
		return;
	switch (k->kt) {
	case KT_STR:
	case KT_NAME:
	case KT_PATH: {
		char **sp = (char **)(void *)at;
		free(*sp);
		*sp = k->def ? xstrdup(k->def) : NULL;
		break;
	}
	case KT_INT:
		*(int *)(void *)at = k->def ? atoi(k->def) : 0;
		break;
	case KT_DBL:
		*(double *)(void *)at = k->def ? strtod(k->def, NULL) : 0.0;
		break;
	case KT_BOOL:
		*(int *)(void *)at = k->def && strcmp(k->def, "true") == 0;
		break;
	case KT_DUR: {
		int64_t ms = 0;
		if (k->def)
			parse_duration_ms(k->def, &ms);
		*(int64_t *)(void *)at = ms;
		break;
	}
	case KT_SIZE: {
		uint64_t b = 0;
		if (k->def)
			parse_size(k->def, &b);
		*(uint64_t *)(void *)at = b;
		break;
	}
	case KT_ENUM: {
		int idx = 0;
		for (int i = 0; k->def && k->enums[i]; i++)
			if (strcmp(k->enums[i], k->def) == 0)
				idx = i;
		if (k->store == ES_STR) {
			char **sp = (char **)(void *)at;
			free(*sp);
			*sp = xstrdup(k->enums[idx]);
		} else if (k->store == ES_CHAR) {
			*at = (char)toupper((unsigned char)k->enums[idx][0]);
		} else {
			memcpy(at, &idx, sizeof(int));
		}
		break;
	}
	case KT_GROUP:
	case KT_LIST:
		break;
	}
}

/* Checks one present setting against its key and stores it.  0 or -1. */
static int store(struct ctx *c, const struct key *k, const config_setting_t *s, void *obj, const char *path, int *idx)
{
	char *at = (char *)obj + k->off;
	int t = config_setting_type(s);
	char range[256];

	key_range(k, range, sizeof(range), ", ");
	switch (k->kt) {
	case KT_STR:
	case KT_NAME:
	case KT_PATH:
	case KT_DUR:
	case KT_SIZE:
	case KT_ENUM:
		if (t != CONFIG_TYPE_STRING)
			goto wrong_type;
		break;
	case KT_INT:
		if (t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64)
			goto wrong_type;
		break;
	case KT_DBL:
		if (t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64 && t != CONFIG_TYPE_FLOAT)
			goto wrong_type;
		break;
	case KT_BOOL:
		if (t != CONFIG_TYPE_BOOL)
			goto wrong_type;
		break;
	case KT_GROUP:
		if (t != CONFIG_TYPE_GROUP)
			goto wrong_type;
		return 0;
	case KT_LIST:
		if (t != CONFIG_TYPE_LIST)
			goto wrong_type;
		return 0;
	}

	switch (k->kt) {
	case KT_STR:
	case KT_NAME:
	case KT_PATH: {
		const char *v = config_setting_get_string(s), *why;
		char **sp = (char **)(void *)at;

		if (!*v) {
			err_at(c, s, path, "must not be empty");
			return -1;
		}
		if (k->kt == KT_NAME && !name_ok(v)) {
			err_at(c, s, path, "\"%s\" may only contain letters, digits, '.', '_' and '-'", v);
			return -1;
		}
		if (k->check && (why = k->check(v))) {
			err_at(c, s, path, "\"%s\" %s", v, why);
			return -1;
		}
		free(*sp);
		if (k->kt == KT_PATH && strcmp(v, "-") != 0)
			*sp = path_join(c->absdir, v);
		else
			*sp = xstrdup(v);
		return 0;
	}
	case KT_INT: {
		long long v = config_setting_get_int64(s);
		char *lit = t == CONFIG_TYPE_INT ? int_literal_truncated(c, s, v) : NULL;

		if (lit) {
			err_at(c, s, path, "%s is out of range %s", lit, range);
			free(lit);
			return -1;
		}
		if (k->ints) {
			int found = 0;
			for (size_t i = 0; k->ints[i]; i++)
				found |= k->ints[i] == v;
			if (!found) {
				err_at(c, s, path, "%lld is not one of: %s", v, range);
				return -1;
			}
		} else if (v < (long long)k->min || v > (long long)k->max) {
			err_at(c, s, path, "%lld is out of range %s", v, range);
			return -1;
		}
		*(int *)(void *)at = (int)v;
		return 0;
	}
	case KT_DBL: {
		double v = t == CONFIG_TYPE_FLOAT ? config_setting_get_float(s) : (double)config_setting_get_int64(s);
		char *lit = t == CONFIG_TYPE_INT ? int_literal_truncated(c, s, config_setting_get_int64(s)) : NULL;

		if (lit) {
			v = strtod(lit, NULL);
			free(lit);
		}
		if (!isfinite(v)) {
			err_at(c, s, path, "must be a finite number");
			return -1;
		}
		if ((k->flags & KF_NONZERO) && v == 0.0) {
			err_at(c, s, path, "must not be 0");
			return -1;
		}
		*(double *)(void *)at = v;
		return 0;
	}
	case KT_BOOL:
		*(int *)(void *)at = config_setting_get_bool(s) ? 1 : 0;
		return 0;
	case KT_DUR: {
		const char *v = config_setting_get_string(s);
		int64_t ms;
		int rc = parse_duration_ms(v, &ms);

		if (rc == -ERANGE) {
			err_at(c, s, path, "\"%s\" is out of range %s", v, range);
			return -1;
		}
		if (rc < 0) {
			err_at(c, s, path, "\"%s\" is not a duration (an integer and one unit of ms, s, m, h, d, "
					   "e.g. \"500ms\", \"10s\")", v);
			return -1;
		}
		if (ms < (int64_t)k->min || ms > (int64_t)k->max) {
			err_at(c, s, path, "\"%s\" is out of range %s", v, range);
			return -1;
		}
		*(int64_t *)(void *)at = ms;
		return 0;
	}
	case KT_SIZE: {
		const char *v = config_setting_get_string(s);
		uint64_t b;
		int rc = parse_size(v, &b);

		if (rc == -EINVAL) {
			err_at(c, s, path, "\"%s\" is not a size (an integer and an optional K, M, G or T, "
					   "e.g. \"512M\")", v);
			return -1;
		}
		if (rc < 0 || b < (uint64_t)k->min || b > (uint64_t)k->max) {
			err_at(c, s, path, "\"%s\" is out of range %s", v, range);
			return -1;
		}
		*(uint64_t *)(void *)at = b;
		return 0;
	}
	case KT_ENUM: {
		const char *v = config_setting_get_string(s);

		for (int i = 0; k->enums[i]; i++) {
			if (strcmp(k->enums[i], v) != 0)
				continue;
			*idx = i;
			if (k->store == ES_STR) {
				char **sp = (char **)(void *)at;
				free(*sp);
				*sp = xstrdup(v);
			} else if (k->store == ES_CHAR) {
				*at = (char)toupper((unsigned char)v[0]);
			} else {
				memcpy(at, &i, sizeof(int));
			}
			return 0;
		}
		err_at(c, s, path, "\"%s\" is not one of: %s", v, range);
		return -1;
	}
	case KT_GROUP:
	case KT_LIST:
		break;
	}
	return 0;

wrong_type:
	err_at(c, s, path, "expected %s, got %s", kt_expect(k->kt), lc_type_name(t));
	return -1;
}

static int print_key(FILE *f, const char *pre, const struct key *k, const void *obj);

/* A graded number is a list (VALUE, "GRADE: source"): returns VALUE's
 * setting (NULL, reported, when the list has another shape), and the grade
 * and source (NULL when none) found in it. */
static const config_setting_t *graded_value(struct ctx *c, const config_setting_t *s, const char *path, char *grade,
					    char **source)
{
	const config_setting_t *v, *g;
	const char *t, *src;

	*grade = '\0';
	*source = NULL;
	if (config_setting_length(s) != 2 ||
	    config_setting_type(g = config_setting_get_elem(s, 1)) != CONFIG_TYPE_STRING) {
		err_at(c, s, path, "a graded number is (VALUE, \"GRADE: source\"), e.g. (2.0, \"A: Paull et al. 2014 "
				   "(CTAHR F_N-29)\") or (7.0, \"D\")");
		return NULL;
	}
	v = config_setting_get_elem(s, 0);
	t = config_setting_get_string(g);
	if (!strchr("ABCD", t[0]) || !t[0] || (t[1] != '\0' && t[1] != ':')) {
		err_at(c, g, path, "grade \"%s\" is not one of \"A: source\", \"B: source\", \"C: how it is derived\", "
				   "\"D\" or \"D: note\"", t);
		return v;
	}
	for (src = t[1] ? t + 2 : t + 1; isspace((unsigned char)*src); src++)
		;
	if (!*src && t[0] != 'D') {
		err_at(c, g, path, "grade %c needs its source named after the colon (%s), e.g. \"%c: %s\"", t[0],
		       t[0] == 'A' ? "a primary source read" : t[0] == 'B' ? "the secondary source read" :
				     "the figures it is derived from and how",
		       t[0], t[0] == 'C' ? "middle of 3-5 weeks (Paull et al. 2014)" : "Paull et al. 2014 (CTAHR F_N-29)");
		return v;
	}
	*grade = t[0];
	*source = *src ? xstrdup(src) : NULL;
	return v;
}

/* Records one number of the profile being loaded (c->gprof). */
static void param_add(struct ctx *c, const struct key *k, const void *obj, const config_setting_t *s, char grade,
		      char *source)
{
	struct cc_profile *p = c->gprof;
	struct cc_param *pa;
	char *buf = NULL, *eq, *semi;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);

	if (!m) {
		free(source);
		return;
	}
	print_key(m, "", k, obj);
	fclose(m);
	eq = buf ? strstr(buf, " = ") : NULL;
	semi = buf ? strrchr(buf, ';') : NULL;
	if (!eq || !semi || semi < eq) {
		free(buf);
		free(source);
		return;
	}
	*semi = '\0';
	p->params = xrealloc(p->params, (p->nparams + 1) * sizeof(*p->params));
	pa = &p->params[p->nparams++];
	pa->group = c->ggroup;
	pa->key = k->name;
	pa->value = xstrdup(eq + 3);
	pa->grade = grade;
	pa->source = source;
	pa->line = src_line(s);
	free(buf);
}

/*
 * Validates group setting grp (NULL: absent, all defaults) against g and
 * stores what it holds into obj; anchor locates "missing required key"
 * when grp is absent.  seen[] tells the caller what was set.
 */
static void apply(struct ctx *c, const config_setting_t *grp, const config_setting_t *anchor, const struct group *g,
		  void *obj, const char *path, struct seen *seen)
{
	assert(g->nkeys <= MAX_KEYS);
	if (grp) {
		int n = config_setting_length(grp);
		for (int i = 0; i < n; i++) {
			const config_setting_t *ch = config_setting_get_elem(grp, (unsigned)i);
			const char *name = config_setting_name(ch), *best = NULL;
			size_t bestd = 3;
			int known = 0;
			char *kp;

			for (size_t j = 0; j < g->nkeys && !known; j++)
				known = strcmp(g->keys[j].name, name) == 0;
			if (known)
				continue;
			for (size_t j = 0; j < g->nkeys; j++) {
				size_t d = edit_distance(name, g->keys[j].name);
				if (d < bestd) {
					bestd = d;
					best = g->keys[j].name;
				}
			}
			kp = key_path(path, name);
			if (best)
				err_at(c, ch, kp, "unknown key (did you mean \"%s\"?)", best);
			else
				err_at(c, ch, kp, "unknown key");
			free(kp);
		}
	}
	for (size_t i = 0; i < g->nkeys; i++) {
		const struct key *k = &g->keys[i];
		const config_setting_t *s = grp ? config_setting_get_member(grp, k->name) : NULL;
		char *kp;

		seen[i].s = s;
		seen[i].bad = 0;
		seen[i].idx = -1;
		if (s) {
			int gradable = c->gprof && k->kt != KT_GROUP && k->kt != KT_LIST && k->kt != KT_ENUM;
			char grade = '\0', *source = NULL;
			kp = key_path(path, k->name);
			if (gradable && config_setting_type(s) == CONFIG_TYPE_LIST)
				seen[i].s = s = graded_value(c, s, kp, &grade, &source);
			if (!s) {
				seen[i].s = config_setting_get_member(grp, k->name);
				seen[i].bad = 1; /* reported by graded_value */
				set_default(k, obj);
			} else if (store(c, k, s, obj, kp, &seen[i].idx) < 0) {
				seen[i].bad = 1;
				set_default(k, obj);
				free(source);
			} else if (gradable) {
				param_add(c, k, obj, s, grade, source);
			} else {
				free(source);
			}
			free(kp);
		} else if (k->flags & KF_REQ) {
			kp = key_path(path, k->name);
			err_at(c, grp ? grp : anchor, kp, "missing required key");
			free(kp);
		} else {
			set_default(k, obj);
		}
	}
}

/* --- points and templates ---------------------------------------------- */

static int is_bit_table(enum cc_table t)
{
	return t == CC_TABLE_COIL || t == CC_TABLE_DISCRETE;
}

/* One point; returns the number of errors found in it. */
static size_t load_point(struct ctx *c, const config_setting_t *ps, const char *path, struct cc_point_conf *p)
{
	struct seen sn[MAX_KEYS];
	size_t before = c->nerr;
	int bits;
	char *kp;

	p->bit = -1;
	p->line = src_line(ps);
	apply(c, ps, ps, &g_point, p, path, sn);
	if (!p->quantity && p->channel)
		p->quantity = xstrdup(p->channel);
	bits = ok(&sn[PK_TABLE]) && is_bit_table(p->table);

	if (!ok(&sn[PK_TYPE])) {
		p->type = bits ? CC_T_BOOL : CC_T_UINT16;
	} else if (bits && p->type != CC_T_BOOL) {
		kp = key_path(path, "type");
		err_at(c, sn[PK_TYPE].s, kp, "%s cannot be read from the %s table (single bits): use bool",
		       regtype_name(p->type), table_name(p->table));
		free(kp);
	}
	if (ok(&sn[PK_ORDER]) && sn[PK_ORDER].idx >= 4) {
		p->order = (enum cc_order)(sn[PK_ORDER].idx - 4);
		if (ok(&sn[PK_TYPE]) && regtype_words(p->type) != 4) {
			kp = key_path(path, "order");
			err_at(c, sn[PK_ORDER].s, kp, "%s is a 64-bit order but type %s is not 64-bit: use %s",
			       modbus_order_names[sn[PK_ORDER].idx], regtype_name(p->type), modbus_order_names[sn[PK_ORDER].idx - 4]);
			free(kp);
		}
	}
	if (sn[PK_BIT].s) {
		kp = key_path(path, "bit");
		if (ok(&sn[PK_TABLE]) && bits) {
			err_at(c, sn[PK_BIT].s, kp, "not valid on the %s table (it holds single bits already)",
			       table_name(p->table));
			p->bit = -1;
		} else if (p->type != CC_T_BOOL && (ok(&sn[PK_TYPE]) || ok(&sn[PK_TABLE]))) {
			err_at(c, sn[PK_BIT].s, kp, "only valid with type bool (type is %s)", regtype_name(p->type));
			p->bit = -1;
		} else if (sn[PK_BIT].bad) {
			p->bit = -1;
		}
		free(kp);
	} else if (ok(&sn[PK_TABLE]) && !bits && p->type == CC_T_BOOL) {
		kp = key_path(path, "bit");
		err_at(c, ps, kp, "missing required key (type bool on the %s table reads one bit 0..15 of a register)",
		       table_name(p->table));
		free(kp);
	}
	if (ok(&sn[PK_ADDRESS]) && ok(&sn[PK_TABLE])) {
		int words = bits ? 1 : regtype_words(p->type);
		if ((long)p->address + words - 1 > 65535) {
			kp = key_path(path, "address");
			err_at(c, sn[PK_ADDRESS].s, kp, "%s at %u needs %d registers, past the last address 65535",
			       regtype_name(p->type), (unsigned)p->address, words);
			free(kp);
		}
	}
	if (ok(&sn[PK_MIN]) && ok(&sn[PK_MAX]) && !(p->scaling.valid_min < p->scaling.valid_max)) {
		kp = key_path(path, "max");
		err_at(c, sn[PK_MAX].s, kp, "%g must be greater than min %g", p->scaling.valid_max,
		       p->scaling.valid_min);
		free(kp);
	}
	return c->nerr - before;
}

static void point_free(struct cc_point_conf *p)
{
	free(p->channel);
	free(p->quantity);
	free(p->unit);
	/* the channel id is the one string cc_channel owns (built by the loader) */
	free((char *)(uintptr_t)p->ch.id);
}

static void point_copy(struct cc_point_conf *dst, const struct cc_point_conf *src)
{
	*dst = *src;
	dst->channel = src->channel ? xstrdup(src->channel) : NULL;
	dst->quantity = src->quantity ? xstrdup(src->quantity) : NULL;
	dst->unit = src->unit ? xstrdup(src->unit) : NULL;
	memset(&dst->ch, 0, sizeof(dst->ch));
}

/* "float32 at 100..101", "int16 at 101", "bit 3 of 101", "coil 7". */
static void point_span(const struct cc_point_conf *p, char *buf, size_t len)
{
	int words = is_bit_table(p->table) ? 1 : regtype_words(p->type);

	if (is_bit_table(p->table))
		snprintf(buf, len, "%s %u", table_name(p->table), (unsigned)p->address);
	else if (p->type == CC_T_BOOL)
		snprintf(buf, len, "bit %d of %s register %u", p->bit, table_name(p->table), (unsigned)p->address);
	else if (words == 1)
		snprintf(buf, len, "%s at %s register %u", regtype_name(p->type), table_name(p->table), (unsigned)p->address);
	else
		snprintf(buf, len, "%s at %s registers %u..%u", regtype_name(p->type), table_name(p->table),
			 (unsigned)p->address, (unsigned)p->address + (unsigned)words - 1);
}

/* 1 when a and b read some of the same registers (or bits). */
static int points_overlap(const struct cc_point_conf *a, const struct cc_point_conf *b)
{
	long a0 = a->address, b0 = b->address, a1, b1;

	if (a->table != b->table)
		return 0;
	a1 = a0 + (is_bit_table(a->table) ? 1 : regtype_words(a->type)) - 1;
	b1 = b0 + (is_bit_table(b->table) ? 1 : regtype_words(b->type)) - 1;
	if (a1 < b0 || b1 < a0)
		return 0;
	/* Flags taken out of one register: distinct bits do not overlap. */
	if (!is_bit_table(a->table) && a->type == CC_T_BOOL && b->type == CC_T_BOOL && a->bit != b->bit)
		return 0;
	return 1;
}

/* Loads a list of points into pts[*npts...] (room allocated by the caller)
 * and checks that no channel repeats and no registers are read twice unless
 * declared (overlap = true), including the nprior points already there (a
 * template's, named tmpl_name, from tmpl_file). */
static void load_points(struct ctx *c, const config_setting_t *list, const char *base, struct cc_point_conf *pts,
			size_t *npts, const char *tmpl_name, const char *tmpl_file)
{
	size_t nprior = *npts;
	int n = config_setting_length(list);
	/* the setting of pts[nprior + i], for "already defined at" */
	const config_setting_t **psets = xcalloc((size_t)n + 1, sizeof(*psets));
	/* points with an error of their own take no part in the overlap check */
	char *pbad = xcalloc(nprior + (size_t)n + 1, 1);

	for (int i = 0; i < n; i++) {
		const config_setting_t *el = config_setting_get_elem(list, (unsigned)i);
		char *pp = elem_path(base, el, "channel", (size_t)i);
		struct cc_point_conf *p = &pts[*npts];

		if (config_setting_type(el) != CONFIG_TYPE_GROUP) {
			err_at(c, el, pp, "expected a group { ... }, got %s", lc_type_name(config_setting_type(el)));
			free(pp);
			continue;
		}
		memset(p, 0, sizeof(*p));
		pbad[*npts] = load_point(c, el, pp, p) > 0;
		psets[*npts - nprior] = el;
		(*npts)++;
		for (size_t j = 0; !pbad[*npts - 1] && !p->overlap && j < *npts - 1; j++) {
			char sa[96], sb[96], *kp, *w;
			const config_setting_t *as;

			if (pbad[j] || pts[j].overlap || !points_overlap(&pts[j], p))
				continue;
			point_span(p, sa, sizeof(sa));
			point_span(&pts[j], sb, sizeof(sb));
			as = config_setting_get_member(el, "address");
			kp = key_path(pp, "address");
			if (j < nprior)
				w = xasprintf("template \"%s\", %s:%d", tmpl_name ? tmpl_name : "?", tmpl_file ? tmpl_file : "?",
					      pts[j].line);
			else
				w = where(c, psets[j - nprior], el);
			err_at(c, as ? as : el, kp,
			       "%s overlaps %s of point \"%s\" (%s): set overlap = true on one of them if the same "
			       "registers are read on purpose", sa, sb, pts[j].channel ? pts[j].channel : "?", w);
			free(kp);
			free(w);
			break;
		}
		for (size_t j = 0; p->channel && j < *npts - 1; j++) {
			const config_setting_t *cs = config_setting_get_member(el, "channel");
			char *kp, *w;

			if (!pts[j].channel || strcmp(pts[j].channel, p->channel) != 0)
				continue;
			kp = key_path(pp, "channel");
			if (j < nprior) {
				err_at(c, cs, kp, "channel \"%s\" is already defined by template \"%s\"", p->channel,
				       tmpl_name ? tmpl_name : "?");
			} else {
				w = where(c, psets[j - nprior], el);
				err_at(c, cs, kp, "channel \"%s\" is already defined at %s", p->channel, w);
				free(w);
			}
			free(kp);
			break;
		}
		free(pp);
	}
	free(psets);
	free(pbad);
}

static void tmpl_free(struct tmpl *t)
{
	if (!t)
		return;
	free(t->name);
	free(t->file);
	free(t->tname);
	free(t->vendor);
	free(t->model);
	free(t->manual);
	for (size_t i = 0; i < t->npoints; i++)
		point_free(&t->points[i]);
	free(t->points);
	free(t);
}

/* The whole text of a configuration file (config_load_string's own text
 * for the top file), or NULL. */
static char *read_text(struct ctx *c, const char *file)
{
	char *buf = NULL;
	size_t n = 0, cap = 0, r;
	FILE *f;

	if (c->text && strcmp(file, c->cfg->file) == 0)
		return xstrdup(c->text);
	if (!(f = fopen(file, "r")))
		return NULL;
	do {
		if (n + 4096 + 1 > cap) {
			cap = cap ? 2 * cap : 8192;
			buf = xrealloc(buf, cap);
		}
		r = fread(buf + n, 1, 4096, f);
		n += r;
	} while (r > 0 && n < (size_t)CONFIG_MAX_BYTES);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

static char close_of(char open)
{
	return open == '{' ? '}' : open == '(' ? ')' : ']';
}

/* What libconfig's bare "syntax error" at line eline means, in words a
 * technician can act on: an unclosed string or bracket, a bracket that
 * closes the wrong one, a bare word where a value belongs, a missing '='. */
static char *syntax_hint(const char *text, int eline)
{
	struct {
		char ch;
		int line;
	} st[64];
	int depth = 0, line = 1, in_line = 0;
	char in_ch = 0;
	const char *p = text, *ls = NULL;

	while (*p) {
		char ch = *p;
		if (line == eline && !ls) {
			ls = p;
			if (depth > 0 && depth <= 64) {
				in_ch = st[depth - 1].ch;
				in_line = st[depth - 1].line;
			}
		}
		if (ch == '\n') {
			line++;
			p++;
		} else if (ch == '#' || (ch == '/' && p[1] == '/')) {
			while (*p && *p != '\n')
				p++;
		} else if (ch == '/' && p[1] == '*') {
			for (p += 2; *p && !(p[0] == '*' && p[1] == '/'); p++)
				if (*p == '\n')
					line++;
			if (*p)
				p += 2;
		} else if (ch == '"') {
			for (p++; *p && *p != '"' && *p != '\n'; p++)
				if (*p == '\\' && p[1] && p[1] != '\n')
					p++;
			if (*p != '"' && line <= eline)
				return xasprintf("the string opened on line %d is not closed (expected '\"' before the end of "
						 "the line)", line);
			if (*p == '"')
				p++;
		} else if (ch == '{' || ch == '(' || ch == '[') {
			if (depth < 64) {
				st[depth].ch = ch;
				st[depth].line = line;
			}
			depth++;
			p++;
		} else if (ch == '}' || ch == ')' || ch == ']') {
			if (depth == 0 && line <= eline)
				return xasprintf("'%c' on line %d closes nothing (expected a setting NAME = VALUE;)", ch, line);
			if (depth > 0 && --depth < 64 && close_of(st[depth].ch) != ch && line <= eline)
				return xasprintf("'%c' on line %d does not close the '%c' opened on line %d (expected '%c')", ch,
						 line, st[depth].ch, st[depth].line, close_of(st[depth].ch));
			p++;
		} else {
			p++;
		}
	}
	if (depth > 0 && depth <= 64 && eline >= line - 1)
		return xasprintf("the '%c' opened on line %d is not closed (expected '%c' before the end of the file)",
				 st[depth - 1].ch, st[depth - 1].line, close_of(st[depth - 1].ch));
	if (ls && (in_ch == '(' || in_ch == '[')) {
		const char *q = ls;
		while (*q == ' ' || *q == '\t')
			q++;
		if (*q == ';')
			return xasprintf("';' inside the %s opened on line %d (expected ',' between its elements, or '%c' "
					 "to close it)", in_ch == '(' ? "list" : "array", in_line, close_of(in_ch));
	}
	if (ls) {
		/* NAME = WORD or NAME = ; anywhere on the error line, NAME VALUE at its start */
		const char *q = ls, *e = strchr(ls, '\n');
		char name[64], word[64];
		int n = 0;

		if (!e)
			e = ls + strlen(ls);
		for (const char *v = ls; v < e && *v != '#'; v++) {
			const char *nb = v, *ne;
			if (*v == '"') {
				for (v++; v < e && *v != '"'; v++)
					if (*v == '\\' && v + 1 < e)
						v++;
				continue;
			}
			if (*v != '=' && *v != ':')
				continue;
			for (ne = v; ne > ls && (ne[-1] == ' ' || ne[-1] == '\t'); ne--)
				;
			for (nb = ne; nb > ls && (isalnum((unsigned char)nb[-1]) || nb[-1] == '_' || nb[-1] == '-' ||
						  nb[-1] == '*'); nb--)
				;
			snprintf(name, sizeof(name), "%.*s", (int)(ne - nb), nb);
			for (q = v + 1; q < e && (*q == ' ' || *q == '\t'); q++)
				;
			if (q < e && isalpha((unsigned char)*q) && sscanf(q, "%63[A-Za-z0-9_.-]", word) == 1 &&
			    strcasecmp(word, "true") != 0 && strcasecmp(word, "false") != 0)
				return xasprintf("expected a value after '%c' of %s, found the bare word %s (a string needs "
						 "double quotes: \"%s\")", *v, name, word, word);
			if (q >= e || *q == ';' || *q == ',' || *q == '#')
				return xasprintf("expected a value after '%c' of %s", *v, name);
		}
		for (q = ls; *q == ' ' || *q == '\t'; q++)
			;
		if (sscanf(q, "%63[A-Za-z0-9_*-] %n", name, &n) == 1 && n > 0) {
			const char *v = q + n;
			if (*v == '"' || *v == '{' || *v == '(' || *v == '[' || isdigit((unsigned char)*v) || *v == '-')
				return xasprintf("expected '=' (or ':') between %s and its value", name);
		}
	}
	return xstrdup("expected a setting NAME = VALUE; or the end of the enclosing group { } or list ( )");
}

static void report_parse_error(struct ctx *c, const config_t *lc)
{
	const char *f = config_error_file(lc), *t = config_error_text(lc), *file;
	int line = config_error_line(lc) > 0 ? config_error_line(lc) : 1;
	char *j = NULL, *text;

	if (f && strcmp(f, c->cur_file) != 0)
		j = path_join(c->cur_incdir, f);
	file = j ? j : c->cur_file;
	text = read_text(c, file);
	if (text && (!t || strcmp(t, "syntax error") == 0)) {
		char *hint = syntax_hint(text, line);
		err_file(c, file, line, "syntax error: %s", hint);
		free(hint);
	} else if (text && t && strcmp(t, "cannot open include file") == 0) {
		/* name the file, and where it was looked for */
		const char *q = text, *a, *b;
		for (int l = 1; l < line && q; l++)
			if ((q = strchr(q, '\n')))
				q++;
		a = q ? strstr(q, "@include") : NULL;
		a = a ? strchr(a, '"') : NULL;
		b = a ? strchr(a + 1, '"') : NULL;
		if (a && b) {
			char *name = xasprintf("%.*s", (int)(b - a - 1), a + 1), *target = path_join(c->cur_incdir, name);
			int e = access(target, R_OK) < 0 ? errno : EIO;
			if (name[0] == '/' && e == EIO)
				/* libconfig 1.5 prefixes the including file's
				 * directory even to an absolute name */
				err_file(c, file, line, "@include \"%s\": an absolute path cannot be included (libconfig "
							"reads it relative to the directory of %s): write it relative to that "
							"directory", name, c->cur_file);
			else
				err_file(c, file, line, "@include \"%s\": cannot open %s: %s (expected a readable file; "
							"@include names it relative to the directory of %s)",
					 name, target, strerror(e), c->cur_file);
			free(name);
			free(target);
		} else {
			err_file(c, file, line, "%s", t);
		}
	} else {
		err_file(c, file, line, "%s", t ? t : "syntax error");
	}
	free(text);
	free(j);
}

static int includes_safe(struct ctx *c, const char *file, const char *shown, const char *incdir, int depth);

/* Reads, validates and caches template name; reports a missing file at the
 * device's template setting ref (each time), errors inside it once. */
static struct tmpl *tmpl_get(struct ctx *c, const char *name, const config_setting_t *ref, const char *refpath)
{
	struct tmpl *t = NULL;
	struct stat st;
	config_t lc;
	char *fname;

	for (size_t i = 0; i < c->ntmpls; i++)
		if (strcmp(c->tmpls[i]->name, name) == 0)
			t = c->tmpls[i];
	if (!t) {
		t = xcalloc(1, sizeof(*t));
		t->name = xstrdup(name);
		fname = xasprintf("%s.conf", name);
		t->file = path_join(c->tdir, fname);
		free(fname);
		t->max_gap = -1;
		c->tmpls = xrealloc(c->tmpls, (c->ntmpls + 1) * sizeof(*c->tmpls));
		c->tmpls[c->ntmpls++] = t;

		if (stat(t->file, &st) < 0)
			t->err = errno;
		else if (!S_ISREG(st.st_mode))
			t->err = EISDIR;
		else if (access(t->file, R_OK) < 0)
			t->err = errno;
		if (!t->err) {
			const char *save_file = c->cur_file, *save_inc = c->cur_incdir;
			size_t before = c->nerr;

			c->cur_file = t->file;
			c->cur_incdir = c->tdir;
			config_init(&lc);
			config_set_include_dir(&lc, c->tdir);
			if (includes_safe(c, t->file, t->file, c->tdir, 0) < 0) {
				/* reported */
			} else if (!config_read_file(&lc, t->file)) {
				report_parse_error(c, &lc);
			} else {
				const config_setting_t *root = config_root_setting(&lc);
				struct seen sf[MAX_KEYS], sm[MAX_KEYS];

				apply(c, root, root, &g_tfile, t, "", sf);
				if (ok(&sf[XK_TEMPLATE])) {
					apply(c, sf[XK_TEMPLATE].s, root, &g_template, t, "template", sm);
					if (ok(&sm[MK_NAME]) && strcmp(t->tname, name) != 0)
						err_at(c, sm[MK_NAME].s, "template.name",
						       "\"%s\" differs from the file name %s.conf: a template's name is its "
						       "file name without .conf", t->tname, name);
					if (!ok(&sm[MK_MAX_REGS]))
						t->max_registers = 0;
					if (!ok(&sm[MK_MAX_GAP]))
						t->max_gap = -1;
					if (ok(&sm[MK_POINTS])) {
						size_t n = (size_t)config_setting_length(sm[MK_POINTS].s);
						t->points = xcalloc(n + 1, sizeof(*t->points));
						load_points(c, sm[MK_POINTS].s, "template.points", t->points, &t->npoints,
							    NULL, NULL);
					}
				}
			}
			config_destroy(&lc);
			c->cur_file = save_file;
			c->cur_incdir = save_inc;
			t->ok = c->nerr == before;
		}
	}
	if (t->err) {
		char *kp = xstrdup(refpath);
		err_at(c, ref, kp, "template \"%s\": cannot read %s: %s", name, t->file,
		       t->err == EISDIR ? "not a regular file" : strerror(t->err));
		free(kp);
	}
	return t;
}

/* --- buses and devices ------------------------------------------------- */

static void load_device(struct ctx *c, const config_setting_t *ds, struct cc_bus_conf *b, int kind,
			struct cc_device_conf *d, const char *dpath)
{
	struct seen sn[MAX_KEYS];
	struct tmpl *t = NULL;
	int tmpl_failed = 0;
	size_t ninline = 0;
	char *kp;

	d->line = src_line(ds);
	apply(c, ds, ds, &g_device, d, dpath, sn);

	if (ok(&sn[DK_NAME]))
		name_unique(c, &c->devices, "device", d->name, ds, sn[DK_NAME].s, dpath, "name");
	if (ok(&sn[DK_UNIT])) {
		kp = key_path(dpath, "unit");
		if (kind == 2 && d->unit == 0)
			err_at(c, sn[DK_UNIT].s, kp, "unit 0 (broadcast) is only valid on tcp buses: use 1..247");
		/* d is the last device loaded on b so far */
		for (const struct cc_device_conf *o = b->devices; o < d; o++) {
			if (o->unit == d->unit) {
				err_at(c, sn[DK_UNIT].s, kp, "unit %d is already used on this bus by device %s%s%s (line %d)",
				       d->unit, o->name ? "\"" : "", o->name ? o->name : "#", o->name ? "\"" : "", o->line);
				break;
			}
		}
		free(kp);
	} else {
		d->unit = -1; /* matches no other device */
	}
	if (!ok(&sn[DK_INTERVAL]))
		d->interval_ms = b->interval_ms;

	if (ok(&sn[DK_TEMPLATE])) {
		kp = key_path(dpath, "template");
		t = tmpl_get(c, d->template_name, sn[DK_TEMPLATE].s, kp);
		free(kp);
		tmpl_failed = !t->ok;
	} else if (sn[DK_TEMPLATE].s) {
		tmpl_failed = 1;
	}
	if (!ok(&sn[DK_MAX_REGS]))
		d->max_registers = t && t->ok && t->max_registers > 0 ? t->max_registers : 125;
	if (!ok(&sn[DK_MAX_GAP]))
		d->max_gap = t && t->ok && t->max_gap >= 0 ? t->max_gap : 8;

	if (ok(&sn[DK_POINTS]))
		ninline = (size_t)config_setting_length(sn[DK_POINTS].s);
	d->points = xcalloc((t && t->ok ? t->npoints : 0) + ninline + 1, sizeof(*d->points));
	if (t && t->ok)
		for (size_t i = 0; i < t->npoints; i++)
			point_copy(&d->points[d->npoints++], &t->points[i]);
	if (ok(&sn[DK_POINTS])) {
		kp = key_path(dpath, "points");
		load_points(c, sn[DK_POINTS].s, kp, d->points, &d->npoints, d->template_name, t ? t->file : NULL);
		free(kp);
	}
	if (d->npoints == 0 && !tmpl_failed && !sn[DK_POINTS].bad)
		err_at(c, ds, dpath, "device has no points (set template or points)");
}

static void load_bus(struct ctx *c, const config_setting_t *bs, struct cc_bus_conf *b, const char *bpath)
{
	struct seen sn[MAX_KEYS], sub[MAX_KEYS];
	int kind = 0; /* 1 tcp, 2 rtu, 0 unknown */
	char *kp;

	b->line = src_line(bs);
	apply(c, bs, bs, &g_bus, b, bpath, sn);
	if (ok(&sn[BK_NAME]))
		name_unique(c, &c->buses, "bus", b->name, bs, sn[BK_NAME].s, bpath, "name");
	if (sn[BK_TCP].s && sn[BK_RTU].s) {
		err_at(c, sn[BK_RTU].s, bpath, "set exactly one of tcp and rtu, not both");
	} else if (!sn[BK_TCP].s && !sn[BK_RTU].s) {
		err_at(c, bs, bpath, "missing tcp or rtu (one of them is required)");
	}
	if (ok(&sn[BK_RTU]) && !sn[BK_TCP].s) {
		kind = 2;
		b->is_rtu = 1;
		kp = key_path(bpath, "rtu");
		apply(c, sn[BK_RTU].s, bs, &g_rtu, b, kp, sub);
		free(kp);
	} else if (ok(&sn[BK_TCP]) && !sn[BK_RTU].s) {
		kind = 1;
		kp = key_path(bpath, "tcp");
		apply(c, sn[BK_TCP].s, bs, &g_tcp, b, kp, sub);
		free(kp);
	} else if (sn[BK_RTU].s) {
		/* both set: still check each, so one run shows every error */
		if (ok(&sn[BK_RTU])) {
			kp = key_path(bpath, "rtu");
			apply(c, sn[BK_RTU].s, bs, &g_rtu, b, kp, sub);
			free(kp);
		}
		if (ok(&sn[BK_TCP])) {
			kp = key_path(bpath, "tcp");
			apply(c, sn[BK_TCP].s, bs, &g_tcp, b, kp, sub);
			free(kp);
		}
	}
	if (!ok(&sn[BK_TURNAROUND]))
		b->turnaround_ms = b->is_rtu ? 20 : 0;

	if (ok(&sn[BK_DEVICES])) {
		const config_setting_t *list = sn[BK_DEVICES].s;
		size_t n = (size_t)config_setting_length(list);
		char *base = key_path(bpath, "devices");

		if (n == 0)
			err_at(c, list, base, "must list at least one device");
		b->devices = xcalloc(n + 1, sizeof(*b->devices));
		for (size_t i = 0; i < n; i++) {
			const config_setting_t *el = config_setting_get_elem(list, (unsigned)i);
			char *dp = elem_path(base, el, "name", i);

			if (config_setting_type(el) != CONFIG_TYPE_GROUP) {
				err_at(c, el, dp, "expected a group { ... }, got %s",
				       lc_type_name(config_setting_type(el)));
			} else {
				struct cc_device_conf *d = &b->devices[b->ndevices++];
				load_device(c, el, b, kind, d, dp);
			}
			free(dp);
		}
		free(base);
	}
	/* Default: a down unit or link is probed at least every max(interval,
	 * 5 s), so readings return within that long of the device or gateway
	 * (a fixed 5 min cap made recovery after a long outage take minutes). */
	if (!ok(&sn[BK_BACKOFF])) {
		int64_t m = b->interval_ms;
		for (size_t i = 0; i < b->ndevices; i++)
			if (i == 0 || b->devices[i].interval_ms < m)
				m = b->devices[i].interval_ms;
		b->backoff_max_ms = m > 5000 ? m : 5000;
	}
}

/* --- outputs ----------------------------------------------------------- */

/* Reads the first line of a secret file (what: "password", "token") into *dst. */
static void read_secret(struct ctx *c, const char *file, char **dst, const char *what, const config_setting_t *s,
			const char *path)
{
	const char *raw = config_setting_get_string(s);
	char *disp = path_join(c->dir, raw), buf[CONFIG_MAX_SECRET + 2];
	struct stat st;
	ssize_t n;
	int fd;

	fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		err_at(c, s, path, "cannot read %s file %s: %s", what, disp, strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		err_at(c, s, path, "%s file %s is not a regular file", what, disp);
		goto out;
	}
	if (st.st_mode & 077) {
		err_at(c, s, path, "%s file %s is readable by others (chmod 600 it)", what, disp);
		goto out;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	if (n < 0) {
		err_at(c, s, path, "cannot read %s file %s: %s", what, disp, strerror(errno));
		goto out;
	}
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	if (buf[0] && buf[strlen(buf) - 1] == '\r')
		buf[strlen(buf) - 1] = '\0';
	if (strlen(buf) > CONFIG_MAX_SECRET)
		err_at(c, s, path, "%s file %s: the first line is longer than %d bytes", what, disp, CONFIG_MAX_SECRET);
	else if (!buf[0])
		err_at(c, s, path, "%s file %s is empty", what, disp);
	else
		*dst = xstrdup(buf);
	explicit_bzero(buf, sizeof(buf));
out:
	if (fd >= 0)
		close(fd);
	free(disp);
}

static void read_password(struct ctx *c, struct cc_influx_conf *o, const config_setting_t *s, const char *path)
{
	read_secret(c, o->password_file, &o->password, "password", s, path);
}

static void load_influx2(struct ctx *c, const config_setting_t *is, struct cc_influx_conf *o, const char *path)
{
	struct seen sn[MAX_KEYS];
	char *kp;

	o->line = src_line(is);
	o->v2 = 1;
	apply(c, is, is, &g_influx2, o, path, sn);
	if (ok(&sn[I2_NAME]))
		name_unique(c, &c->outputs, "output", o->name, is, sn[I2_NAME].s, path, "name");
	if (ok(&sn[I2_TOKEN_FILE])) {
		kp = key_path(path, "token_file");
		read_secret(c, o->token_file, &o->token, "token", sn[I2_TOKEN_FILE].s, kp);
		free(kp);
	}
	if (ok(&sn[I2_CA_FILE]) && access(o->ca_file, R_OK) < 0) {
		char *disp = path_join(c->dir, config_setting_get_string(sn[I2_CA_FILE].s));
		kp = key_path(path, "ca_file");
		err_at(c, sn[I2_CA_FILE].s, kp, "cannot read %s: %s", disp, strerror(errno));
		free(kp);
		free(disp);
	}
}

static void load_journal(struct ctx *c, const config_setting_t *js, const config_setting_t *root)
{
	struct cc_journal_conf *jc = &c->cfg->journal;
	struct seen sn[MAX_KEYS];

	jc->line = js ? src_line(js) : 0;
	apply(c, js, root, &g_journal, jc, "journal", sn);
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
	apply(c, cs, root, &g_control, cc, "control", sn);
	if (!sn[CTK_SOCKET].s || sn[CTK_SOCKET].bad) {
		free(cc->socket);
		cc->socket = xasprintf("%s/coldchaind.sock", c->cfg->state_dir ? c->cfg->state_dir : ".");
	}
}

static void load_influx(struct ctx *c, const config_setting_t *is, struct cc_influx_conf *o, const char *path)
{
	struct seen sn[MAX_KEYS];
	char *kp;

	o->line = src_line(is);
	apply(c, is, is, &g_influx, o, path, sn);
	if (ok(&sn[IK_NAME]))
		name_unique(c, &c->outputs, "output", o->name, is, sn[IK_NAME].s, path, "name");
	if (sn[IK_PASSWORD_FILE].s && !sn[IK_USERNAME].s) {
		kp = key_path(path, "password_file");
		err_at(c, sn[IK_PASSWORD_FILE].s, kp, "requires username");
		free(kp);
	}
	if (sn[IK_USERNAME].s && !sn[IK_PASSWORD_FILE].s) {
		kp = key_path(path, "username");
		err_at(c, sn[IK_USERNAME].s, kp, "requires password_file");
		free(kp);
	}
	if (ok(&sn[IK_PASSWORD_FILE])) {
		kp = key_path(path, "password_file");
		read_password(c, o, sn[IK_PASSWORD_FILE].s, kp);
		free(kp);
	}
	if (ok(&sn[IK_CA_FILE]) && access(o->ca_file, R_OK) < 0) {
		char *disp = path_join(c->dir, config_setting_get_string(sn[IK_CA_FILE].s));
		kp = key_path(path, "ca_file");
		err_at(c, sn[IK_CA_FILE].s, kp, "cannot read %s: %s", disp, strerror(errno));
		free(kp);
		free(disp);
	}
}

static void load_file_out(struct ctx *c, const config_setting_t *fs, struct cc_file_out_conf *o, const char *path)
{
	struct seen sn[MAX_KEYS];

	o->line = src_line(fs);
	apply(c, fs, fs, &g_file, o, path, sn);
	if (ok(&sn[FK_NAME]))
		name_unique(c, &c->outputs, "output", o->name, fs, sn[FK_NAME].s, path, "name");
}

/* "influxdb-2": unique among the outputs' names. */
static char *derive_name(struct ctx *c, const char *prefix, size_t idx)
{
	for (size_t n = idx + 1;; n++) {
		char *s = xasprintf("%s-%zu", prefix, n);
		int taken = 0;
		for (size_t i = 0; i < c->outputs.n && !taken; i++)
			taken = strcmp(c->outputs.v[i].name, s) == 0;
		if (!taken)
			return s;
		free(s);
	}
}

static void load_outputs(struct ctx *c, const config_setting_t *os, const config_setting_t *root)
{
	struct cc_config *cfg = c->cfg;
	struct seen sn[MAX_KEYS];
	char none; /* the group stores nothing itself */

	apply(c, os, root, &g_outputs, &none, "outputs", sn);
	if (ok(&sn[OK_INFLUX])) {
		size_t n = (size_t)config_setting_length(sn[OK_INFLUX].s);
		cfg->influx = xcalloc(n + 1, sizeof(*cfg->influx));
		for (size_t i = 0; i < n; i++) {
			const config_setting_t *el = config_setting_get_elem(sn[OK_INFLUX].s, (unsigned)i);
			char *p = elem_path("outputs.influxdb", el, "name", i);
			if (config_setting_type(el) != CONFIG_TYPE_GROUP)
				err_at(c, el, p, "expected a group { ... }, got %s", lc_type_name(config_setting_type(el)));
			else
				load_influx(c, el, &cfg->influx[cfg->ninflux++], p);
			free(p);
		}
	}
	if (ok(&sn[OK_INFLUX2])) {
		size_t n = (size_t)config_setting_length(sn[OK_INFLUX2].s);
		cfg->influx = xrealloc(cfg->influx, (cfg->ninflux + n + 1) * sizeof(*cfg->influx));
		memset(cfg->influx + cfg->ninflux, 0, (n + 1) * sizeof(*cfg->influx));
		for (size_t i = 0; i < n; i++) {
			const config_setting_t *el = config_setting_get_elem(sn[OK_INFLUX2].s, (unsigned)i);
			char *p = elem_path("outputs.influxdb2", el, "name", i);
			if (config_setting_type(el) != CONFIG_TYPE_GROUP)
				err_at(c, el, p, "expected a group { ... }, got %s", lc_type_name(config_setting_type(el)));
			else
				load_influx2(c, el, &cfg->influx[cfg->ninflux++], p);
			free(p);
		}
	}
	if (ok(&sn[OK_FILE])) {
		size_t n = (size_t)config_setting_length(sn[OK_FILE].s);
		cfg->files = xcalloc(n + 1, sizeof(*cfg->files));
		for (size_t i = 0; i < n; i++) {
			const config_setting_t *el = config_setting_get_elem(sn[OK_FILE].s, (unsigned)i);
			char *p = elem_path("outputs.file", el, "name", i);
			if (config_setting_type(el) != CONFIG_TYPE_GROUP)
				err_at(c, el, p, "expected a group { ... }, got %s", lc_type_name(config_setting_type(el)));
			else
				load_file_out(c, el, &cfg->files[cfg->nfiles++], p);
			free(p);
		}
	}
	/* Derived names after every explicit one is known, so none collides. */
	for (size_t i = 0, n1 = 0, n2 = 0; i < cfg->ninflux; i++) {
		size_t idx = cfg->influx[i].v2 ? n2++ : n1++;
		if (!cfg->influx[i].name) {
			cfg->influx[i].name = derive_name(c, cfg->influx[i].v2 ? "influxdb2" : "influxdb", idx);
			names_add(&c->outputs, cfg->influx[i].name, os);
		}
	}
	for (size_t i = 0; i < cfg->nfiles; i++)
		if (!cfg->files[i].name) {
			cfg->files[i].name = derive_name(c, "file", i);
			names_add(&c->outputs, cfg->files[i].name, os);
		}
	if (cfg->ninflux + cfg->nfiles == 0 && !sn[OK_INFLUX].bad && !sn[OK_INFLUX2].bad && !sn[OK_FILE].bad)
		err_at(c, os ? os : root, "outputs", "at least one output (influxdb, influxdb2 or file) is required");
}

/* --- mqtt -------------------------------------------------------------- */

static void mqtt_field_free(struct cc_mqtt_field *f)
{
	free(f->name);
	free(f->path);
	free(f->quantity);
	free(f->unit);
}

static void mqtt_sub_free(struct cc_mqtt_sub *s)
{
	free(s->topic);
	free(s->quantity);
	free(s->channel);
	free(s->sensor);
	free(s->room);
	free(s->unit);
	free(s->time_path);
	for (size_t i = 0; i < s->nfields; i++)
		mqtt_field_free(&s->fields[i]);
	free(s->fields);
}

static void mqtt_free(struct cc_mqtt_conf *m)
{
	if (!m)
		return;
	free(m->host);
	free(m->client_id);
	free(m->username);
	free(m->password_file);
	if (m->password) {
		explicit_bzero(m->password, strlen(m->password));
		free(m->password);
	}
	free(m->ca_file);
	free(m->ca_dir);
	free(m->cert);
	free(m->key);
	for (size_t i = 0; i < m->nsubs; i++)
		mqtt_sub_free(&m->subs[i]);
	free(m->subs);
	free(m);
}

/* A key of group path set where it makes no sense: one message per key. */
static void err_key_not_for(struct ctx *c, const struct seen *sn, int k, const char *path, const char *name,
			    const char *why)
{
	char *kp;

	if (!sn[k].s)
		return;
	kp = key_path(path, name);
	err_at(c, sn[k].s, kp, "%s", why);
	free(kp);
}

static void load_mqtt_field(struct ctx *c, const config_setting_t *fs, const struct cc_mqtt_sub *s,
			    struct cc_mqtt_field *f, const char *path)
{
	struct seen sn[MAX_KEYS];

	f->name = xstrdup(config_setting_name(fs));
	f->line = src_line(fs);
	if (!name_ok(f->name))
		err_at(c, fs, path, "channel name \"%s\" may only contain letters, digits, '.', '_' and '-'", f->name);
	if (config_setting_type(fs) == CONFIG_TYPE_STRING) {
		const char *v = config_setting_get_string(fs);
		if (!*v)
			err_at(c, fs, path, "must not be empty");
		f->path = xstrdup(v);
		memset(sn, 0, sizeof(sn));
	} else if (config_setting_type(fs) == CONFIG_TYPE_GROUP) {
		apply(c, fs, fs, &g_mqtt_field, f, path, sn);
	} else {
		err_at(c, fs, path, "expected a path string or a group { path = ...; ... }, got %s",
		       lc_type_name(config_setting_type(fs)));
		memset(sn, 0, sizeof(sn));
	}
	if (!ok(&sn[QF_QUANTITY]))
		f->quantity = xstrdup(f->name);
	if (!sn[QF_UNIT].s && s->unit)
		f->unit = xstrdup(s->unit);
	if (!ok(&sn[QF_SCALE]))
		f->scale = s->scale;
	if (!ok(&sn[QF_OFFSET]))
		f->offset = s->offset;
	if (!ok(&sn[QF_MIN]))
		f->valid_min = s->valid_min;
	if (!ok(&sn[QF_MAX]))
		f->valid_max = s->valid_max;
	if (!(f->valid_min < f->valid_max) && (ok(&sn[QF_MIN]) || ok(&sn[QF_MAX]))) {
		char *kp = key_path(path, ok(&sn[QF_MAX]) ? "max" : "min");
		err_at(c, ok(&sn[QF_MAX]) ? sn[QF_MAX].s : sn[QF_MIN].s, kp, "max %g must be greater than min %g",
		       f->valid_max, f->valid_min);
		free(kp);
	}
}

/* A fixed key and a capture of the same tag: which one would win is a guess. */
static void err_key_and_capture(struct ctx *c, const struct seen *sn, int k, const char *path, const char *name,
				const struct topic_pat *tp, enum topic_cap cap)
{
	char *kp;

	if (!sn[k].s || !tp->has_cap[cap])
		return;
	kp = key_path(path, name);
	err_at(c, sn[k].s, kp, "set either %s or a {%s} capture in topic, not both", name, name);
	free(kp);
}

static void load_mqtt_sub(struct ctx *c, const config_setting_t *ss, struct cc_mqtt_sub *s, const char *path,
			  struct names *topics)
{
	struct seen sn[MAX_KEYS];
	struct topic_pat tp;
	int tp_ok = 0, json, influx, boolean;
	const char *why;
	char *kp;

	s->line = src_line(ss);
	apply(c, ss, ss, &g_mqtt_sub, s, path, sn);
	memset(&tp, 0, sizeof(tp));
	if (ok(&sn[QS_TOPIC])) {
		kp = key_path(path, "topic");
		if (topic_parse(s->topic, &tp, &why) < 0) {
			err_at(c, sn[QS_TOPIC].s, kp, "\"%s\" %s", s->topic, why);
		} else {
			const config_setting_t *first = names_add(topics, s->topic, ss);
			tp_ok = 1;
			if (first) {
				char *w = where(c, first, ss);
				err_at(c, sn[QS_TOPIC].s, kp, "topic \"%s\" is already subscribed at %s", s->topic, w);
				free(w);
			}
		}
		free(kp);
	}
	if (ok(&sn[QS_QOS]) && s->qos == 2) {
		kp = key_path(path, "qos");
		err_at(c, sn[QS_QOS].s, kp, "QoS 2 is not offered: libmosquitto 2.0 acknowledges a QoS 2 message "
					    "(PUBREC) before the daemon has it; use 1 (QoS 2 publications arrive as QoS 1)");
		free(kp);
	}
	json = s->format == CC_MQTT_JSON;
	influx = s->format == CC_MQTT_INFLUX;
	boolean = s->format == CC_MQTT_BOOL;
	if (!json) {
		err_key_not_for(c, sn, QS_FIELDS, path, "fields", "only valid with format json");
		err_key_not_for(c, sn, QS_TIME, path, "time", "only valid with format json");
		err_key_not_for(c, sn, QS_TIME_UNIT, path, "time_unit", "only valid with format json");
	} else if (sn[QS_TIME_UNIT].s && !sn[QS_TIME].s) {
		err_key_not_for(c, sn, QS_TIME_UNIT, path, "time_unit", "only valid with time");
	}
	if (json || influx) {
		const char *w = json ? "not valid with format json (each field names its quantity and channel)"
				     : "not valid with format influx (the measurement is the quantity)";
		err_key_not_for(c, sn, QS_QUANTITY, path, "quantity", w);
		err_key_not_for(c, sn, QS_CHANNEL, path, "channel", w);
	}
	if (boolean) {
		err_key_not_for(c, sn, QS_SCALE, path, "scale", "not valid with format bool");
		err_key_not_for(c, sn, QS_OFFSET, path, "offset", "not valid with format bool");
		err_key_not_for(c, sn, QS_MIN, path, "min", "not valid with format bool");
		err_key_not_for(c, sn, QS_MAX, path, "max", "not valid with format bool");
	}
	if (ok(&sn[QS_MIN]) && ok(&sn[QS_MAX]) && !(s->valid_min < s->valid_max)) {
		kp = key_path(path, "max");
		err_at(c, sn[QS_MAX].s, kp, "%g must be greater than min %g", s->valid_max, s->valid_min);
		free(kp);
	}
	if (tp_ok) {
		kp = key_path(path, "topic");
		err_key_and_capture(c, sn, QS_SENSOR, path, "sensor", &tp, TOPIC_CAP_SENSOR);
		err_key_and_capture(c, sn, QS_ROOM, path, "room", &tp, TOPIC_CAP_ROOM);
		err_key_and_capture(c, sn, QS_QUANTITY, path, "quantity", &tp, TOPIC_CAP_QUANTITY);
		err_key_and_capture(c, sn, QS_CHANNEL, path, "channel", &tp, TOPIC_CAP_CHANNEL);
		if ((json || influx) && (tp.has_cap[TOPIC_CAP_QUANTITY] || tp.has_cap[TOPIC_CAP_CHANNEL]))
			err_at(c, sn[QS_TOPIC].s, kp, "{quantity} and {channel} captures are not used by format %s "
						      "(%s)", json ? "json" : "influx",
			       json ? "each field names its channel" : "the measurement and fields do");
		if (!json && !influx && !sn[QS_QUANTITY].s && !tp.has_cap[TOPIC_CAP_QUANTITY])
			err_at(c, ss, path, "format %s needs a quantity: set quantity or capture {quantity} in topic",
			       mqtt_formats[s->format]);
		if (!influx && !sn[QS_SENSOR].s && !tp.has_cap[TOPIC_CAP_SENSOR])
			err_at(c, ss, path, "needs a sensor: set sensor or capture {sensor} in topic");
		free(kp);
	}
	if (!ok(&sn[QS_CHANNEL]) && !json && !influx && s->quantity && !tp.has_cap[TOPIC_CAP_CHANNEL])
		s->channel = xstrdup(s->quantity);
	if (json && !sn[QS_FIELDS].s)
		err_at(c, ss, path, "format json needs fields = { CHANNEL = \"path\"; ... }");
	if (json && ok(&sn[QS_FIELDS])) {
		const config_setting_t *fg = sn[QS_FIELDS].s;
		size_t n = (size_t)config_setting_length(fg);
		char *base = key_path(path, "fields");

		if (n == 0)
			err_at(c, fg, base, "must name at least one field");
		s->fields = xcalloc(n + 1, sizeof(*s->fields));
		for (size_t i = 0; i < n; i++) {
			const config_setting_t *el = config_setting_get_elem(fg, (unsigned)i);
			char *fp = key_path(base, config_setting_name(el));
			load_mqtt_field(c, el, s, &s->fields[s->nfields++], fp);
			free(fp);
		}
		free(base);
	}
	topic_free(&tp);
}

static void load_mqtt(struct ctx *c, const config_setting_t *ms, const config_setting_t *root)
{
	struct cc_mqtt_conf *m = xcalloc(1, sizeof(*m));
	struct seen sn[MAX_KEYS], sb[MAX_KEYS];
	struct names topics = { 0 };
	char *kp;

	c->cfg->mqtt = m;
	m->line = src_line(ms);
	apply(c, ms, root, &g_mqtt, m, "mqtt", sn);
	apply(c, ok(&sn[QK_BROKER]) ? sn[QK_BROKER].s : NULL, ms, &g_mqtt_broker, m, "mqtt.broker", sb);
	if (!ok(&sb[QB_TLS]))
		m->tls = sb[QB_CA_FILE].s || sb[QB_CA_DIR].s || sb[QB_CERT].s;
	if (!ok(&sb[QB_PORT]))
		m->port = m->tls ? 8883 : 1883;
	if (!ok(&sb[QB_CLIENT_ID]))
		m->client_id = xasprintf("coldchaind-%s", c->cfg->site ? c->cfg->site : "");
	else if (strlen(m->client_id) > 65535 || payload_utf8_check(m->client_id, strlen(m->client_id)) < 0)
		err_at(c, sb[QB_CLIENT_ID].s, "mqtt.broker.client_id", "must be valid UTF-8 of at most 65535 bytes");
	if (sb[QB_EXPIRY].s && m->protocol == CC_MQTT_V311)
		err_at(c, sb[QB_EXPIRY].s, "mqtt.broker.session_expiry",
		       "only with protocol \"5\" (a 3.1.1 session lasts until clean_session)");
	if (sb[QB_PASSWORD_FILE].s && !sb[QB_USERNAME].s)
		err_at(c, sb[QB_PASSWORD_FILE].s, "mqtt.broker.password_file", "requires username");
	if (ok(&sb[QB_PASSWORD_FILE])) {
		/* read_password is the outputs' reader (same checks, same
		 * messages); it fills the password of an influx conf. */
		struct cc_influx_conf tmp;
		memset(&tmp, 0, sizeof(tmp));
		tmp.password_file = m->password_file;
		read_password(c, &tmp, sb[QB_PASSWORD_FILE].s, "mqtt.broker.password_file");
		m->password = tmp.password;
	}
	if (sb[QB_CERT].s && !sb[QB_KEY].s)
		err_at(c, sb[QB_CERT].s, "mqtt.broker.cert", "requires key");
	if (sb[QB_KEY].s && !sb[QB_CERT].s)
		err_at(c, sb[QB_KEY].s, "mqtt.broker.key", "requires cert");
	if (!m->tls) {
		static const int tls_keys[] = { QB_CA_FILE, QB_CA_DIR, QB_CERT, QB_KEY, QB_INSECURE };
		for (size_t i = 0; i < ARRAY_SIZE(tls_keys); i++)
			if (sb[tls_keys[i]].s) {
				kp = key_path("mqtt.broker", mqtt_broker_keys[tls_keys[i]].name);
				err_at(c, sb[tls_keys[i]].s, kp, "only valid with tls = true");
				free(kp);
			}
	}
	{
		static const int files[] = { QB_CA_FILE, QB_CERT, QB_KEY, QB_CA_DIR };
		for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
			const struct key *k = &mqtt_broker_keys[files[i]];
			const char *v;
			struct stat st;

			if (!ok(&sb[files[i]]))
				continue;
			v = *(char **)(void *)((char *)m + k->off);
			kp = key_path("mqtt.broker", k->name);
			if (stat(v, &st) < 0 || access(v, R_OK) < 0) {
				char *disp = path_join(c->dir, config_setting_get_string(sb[files[i]].s));
				err_at(c, sb[files[i]].s, kp, "cannot read %s: %s", disp, strerror(errno));
				free(disp);
			} else if (files[i] == QB_CA_DIR && !S_ISDIR(st.st_mode)) {
				err_at(c, sb[files[i]].s, kp, "is not a directory");
			} else if (files[i] != QB_CA_DIR && !S_ISREG(st.st_mode)) {
				err_at(c, sb[files[i]].s, kp, "is not a regular file");
			}
			free(kp);
		}
	}
	if (ok(&sn[QK_SUBS])) {
		const config_setting_t *list = sn[QK_SUBS].s;
		size_t n = (size_t)config_setting_length(list);

		if (n == 0)
			err_at(c, list, "mqtt.subscriptions", "must list at least one subscription");
		m->subs = xcalloc(n + 1, sizeof(*m->subs));
		for (size_t i = 0; i < n; i++) {
			const config_setting_t *el = config_setting_get_elem(list, (unsigned)i);
			char *p = elem_path("mqtt.subscriptions", el, "topic", i);

			if (config_setting_type(el) != CONFIG_TYPE_GROUP)
				err_at(c, el, p, "expected a group { ... }, got %s", lc_type_name(config_setting_type(el)));
			else
				load_mqtt_sub(c, el, &m->subs[m->nsubs++], p, &topics);
			free(p);
		}
	}
	free(topics.v);
}

#include "config_engine_load.inc"
#include "config_alerts_load.inc"

static void load_root(struct ctx *c, const config_setting_t *root)
{
	struct cc_config *cfg = c->cfg;
	struct seen sn[MAX_KEYS], sl[MAX_KEYS];

	apply(c, root, root, &g_root, cfg, "", sn);
	if (ok(&sn[RK_TEMPLATE_DIR])) {
		c->tdir_buf = path_join(c->dir, config_setting_get_string(sn[RK_TEMPLATE_DIR].s));
	} else {
		c->tdir_buf = path_join(c->dir, "devices");
		free(cfg->template_dir);
		cfg->template_dir = path_join(c->absdir, "devices");
	}
	c->tdir = c->tdir_buf;
	apply(c, ok(&sn[RK_LOG]) ? sn[RK_LOG].s : NULL, root, &g_log, cfg, "log", sl);

	if (ok(&sn[RK_MODBUS])) {
		const config_setting_t *list = sn[RK_MODBUS].s;
		size_t n = (size_t)config_setting_length(list);

		cfg->buses = xcalloc(n + 1, sizeof(*cfg->buses));
		for (size_t i = 0; i < n; i++) {
			const config_setting_t *el = config_setting_get_elem(list, (unsigned)i);
			char *bp = elem_path("modbus", el, "name", i);

			if (config_setting_type(el) != CONFIG_TYPE_GROUP)
				err_at(c, el, bp, "expected a group { ... }, got %s", lc_type_name(config_setting_type(el)));
			else
				load_bus(c, el, &cfg->buses[cfg->nbuses++], bp);
			free(bp);
		}
	}
	load_journal(c, ok(&sn[RK_JOURNAL]) ? sn[RK_JOURNAL].s : NULL, root);
	load_control(c, ok(&sn[RK_CONTROL]) ? sn[RK_CONTROL].s : NULL, root);
	if (ok(&sn[RK_OUTPUTS]) || !sn[RK_OUTPUTS].s)
		load_outputs(c, sn[RK_OUTPUTS].s, root);
	for (size_t i = 0; i < cfg->ninflux; i++)
		if (!cfg->influx[i].quarantine && cfg->influx[i].name)
			cfg->influx[i].quarantine =
				xasprintf("%s/quarantine-%s.lp", cfg->journal.dir, cfg->influx[i].name);
	if (ok(&sn[RK_MQTT]))
		load_mqtt(c, sn[RK_MQTT].s, root);
	if (ok(&sn[RK_OUTPUTS]))
		load_alert_outputs(c, sn[RK_OUTPUTS].s);

	/* Channels: the strings belong to the configuration. */
	for (size_t i = 0; i < cfg->nbuses; i++) {
		struct cc_bus_conf *b = &cfg->buses[i];
		for (size_t j = 0; j < b->ndevices; j++) {
			struct cc_device_conf *d = &b->devices[j];
			for (size_t k = 0; k < d->npoints; k++) {
				struct cc_point_conf *p = &d->points[k];
				if (!d->name || !p->channel)
					continue;
				p->ch.id = xasprintf("%s/%s", d->name, p->channel);
				p->ch.quantity = p->quantity;
				p->ch.site = cfg->site;
				p->ch.room = d->room;
				p->ch.sensor = d->name;
				p->ch.name = p->channel;
				p->ch.unit = p->unit;
			}
		}
	}
	load_engine(c, root, ok(&sn[RK_PROFILES]) ? sn[RK_PROFILES].s : NULL, ok(&sn[RK_ROOMS]) ? sn[RK_ROOMS].s : NULL,
		    ok(&sn[RK_ALARMS]) ? sn[RK_ALARMS].s : NULL);
}

/*
 * libconfig 1.5 exit()s when an @include names a directory (flex: "input in
 * flex scanner failed").  So every @include target is checked first, the
 * way libconfig will open it: include_dir + "/" + name.  Returns 0 when
 * parsing is safe.  (A commented-out @include in a block comment is
 * checked too: harmless unless it names a directory.)
 */
static int includes_safe(struct ctx *c, const char *file, const char *shown, const char *incdir, int depth)
{
	FILE *f;
	struct stat fst;
	char *line = NULL;
	size_t cap = 0;
	int ln = 0, rc = 0;

	if (c->over)
		return -1;
	f = c->text && file == c->cfg->file ? fmemopen((void *)c->text, strlen(c->text), "r") : fopen(file, "r");
	if (!f)
		return 0; /* libconfig reports it */
	if (fstat(fileno(f), &fst) == 0 && S_ISREG(fst.st_mode) &&
	    (c->bytes += (uint64_t)fst.st_size) > CONFIG_MAX_BYTES) {
		err_file(c, shown, 1, "the configuration files add up to more than %u MiB (CONFIG_MAX_BYTES): refused",
			 CONFIG_MAX_BYTES >> 20);
		c->over = 1;
		fclose(f);
		return -1;
	}
	while (!c->over && getline(&line, &cap, f) >= 0) {
		char *p = line, *q, *target;
		struct stat st;

		ln++;
		while (*p == ' ' || *p == '\t')
			p++;
		if (strncmp(p, "@include", 8) != 0)
			continue;
		p += 8;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p++ != '"' || !(q = strchr(p, '"')))
			continue;
		*q = '\0';
		if (++c->includes > CONFIG_MAX_INCLUDES) {
			err_file(c, shown, ln, "@include \"%s\": more than %d @include in all (CONFIG_MAX_INCLUDES): refused",
				 p, CONFIG_MAX_INCLUDES);
			c->over = 1;
			rc = -1;
			break;
		}
		target = xasprintf("%s/%s", incdir, p);
		if (stat(target, &st) == 0 && !S_ISREG(st.st_mode)) {
			err_file(c, shown, ln, "@include \"%s\": not a regular file", p);
			rc = -1;
		} else if (depth < CONFIG_MAX_INCLUDE_DEPTH) { /* deeper: libconfig refuses it */
			char *name = path_join(incdir, p); /* as messages show it */
			if (includes_safe(c, target, name, incdir, depth + 1) < 0)
				rc = -1;
			free(name);
		}
		free(target);
	}
	free(line);
	fclose(f);
	return rc;
}

static int err_cmp(const void *a, const void *b)
{
	const struct err *x = a, *y = b;

	if (x->file != y->file)
		return x->file < y->file ? -1 : 1;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* text: config_load_string's, else NULL (the file path is read). */
static int load(const char *path, const char *text, struct cc_config **out, struct cc_errors *e)
{
	struct ctx c;
	struct cc_config *cfg;
	struct stat st;
	config_t lc;
	const char *slash;
	char cwd[4096];
	int rc = 0;

	memset(&c, 0, sizeof(c));
	*out = NULL;
	cfg = xcalloc(1, sizeof(*cfg));
	cfg->file = xstrdup(path);
	c.cfg = cfg;
	slash = strrchr(path, '/');
	if (!slash)
		c.dir_buf = xstrdup(".");
	else if (slash == path)
		c.dir_buf = xstrdup("/");
	else
		c.dir_buf = xasprintf("%.*s", (int)(slash - path), path);
	c.dir = c.dir_buf;
	if (c.dir[0] == '/')
		c.absdir = xstrdup(c.dir);
	else if (getcwd(cwd, sizeof(cwd)))
		c.absdir = strcmp(c.dir, ".") == 0 ? xstrdup(cwd) : path_join(cwd, c.dir);
	else
		c.absdir = xstrdup(c.dir); /* cannot do better: stays relative */
	c.cur_file = path;
	c.cur_incdir = c.dir;
	file_intern(&c, path);
	if (text) {
		c.text = text;
		c.src_name = xstrdup(path);
		c.src = xstrdup(text);
	}

	if (!text && stat(path, &st) < 0) {
		err_file(&c, path, 1, "cannot read: %s", strerror(errno));
	} else if (!text && !S_ISREG(st.st_mode)) {
		err_file(&c, path, 1, "cannot read: not a regular file");
	} else {
		config_init(&lc);
		config_set_include_dir(&lc, c.dir);
		if (includes_safe(&c, cfg->file, path, c.dir, 0) < 0) {
			/* reported */
		} else if (!(text ? config_read_string(&lc, text) : config_read_file(&lc, path))) {
			if (config_error_type(&lc) == CONFIG_ERR_FILE_IO)
				err_file(&c, path, 1, "cannot read: %s", strerror(errno ? errno : EIO));
			else
				report_parse_error(&c, &lc);
		} else {
			load_root(&c, config_root_setting(&lc));
		}
		config_destroy(&lc);
	}

	if (c.nerr)
		qsort(c.errs, c.nerr, sizeof(*c.errs), err_cmp);
	for (size_t i = 0; i < c.nerr; i++) {
		errors_add(e, "%s:%d: %s", c.files[c.errs[i].file], c.errs[i].line, c.errs[i].text);
		free(c.errs[i].text);
	}
	if (c.nerr) {
		config_free(cfg);
		rc = -EINVAL;
	} else {
		*out = cfg;
	}

	free(c.errs);
	for (size_t i = 0; i < c.nfiles; i++)
		free(c.files[i]);
	free(c.files);
	for (size_t i = 0; i < c.ntmpls; i++)
		tmpl_free(c.tmpls[i]);
	free(c.tmpls);
	free(c.buses.v);
	free(c.devices.v);
	free(c.outputs.v);
	free(c.src_name);
	free(c.src);
	free(c.dir_buf);
	free(c.absdir);
	free(c.tdir_buf);
	return rc;
}

int config_load(const char *path, struct cc_config **out, struct cc_errors *e)
{
	return load(path, NULL, out, e);
}

int config_load_string(const char *text, const char *name, struct cc_config **out, struct cc_errors *e)
{
	return load(name, text, out, e);
}

void config_free(struct cc_config *cfg)
{
	if (!cfg)
		return;
	for (size_t i = 0; i < cfg->nbuses; i++) {
		struct cc_bus_conf *b = &cfg->buses[i];
		for (size_t j = 0; j < b->ndevices; j++) {
			struct cc_device_conf *d = &b->devices[j];
			for (size_t k = 0; k < d->npoints; k++)
				point_free(&d->points[k]);
			free(d->points);
			free(d->name);
			free(d->room);
			free(d->template_name);
		}
		free(b->devices);
		free(b->name);
		free(b->host);
		free(b->device);
	}
	free(cfg->buses);
	for (size_t i = 0; i < cfg->ninflux; i++) {
		struct cc_influx_conf *o = &cfg->influx[i];
		free(o->name);
		free(o->url);
		free(o->database);
		free(o->retention_policy);
		free(o->username);
		free(o->password_file);
		if (o->password) {
			explicit_bzero(o->password, strlen(o->password));
			free(o->password);
		}
		free(o->ca_file);
		free(o->org);
		free(o->bucket);
		free(o->token_file);
		if (o->token) {
			explicit_bzero(o->token, strlen(o->token));
			free(o->token);
		}
		free(o->quarantine);
	}
	free(cfg->influx);
	free(cfg->journal.dir);
	free(cfg->control.socket);
	free(cfg->control.group);
	for (size_t i = 0; i < cfg->nfiles; i++) {
		free(cfg->files[i].name);
		free(cfg->files[i].path);
	}
	free(cfg->files);
	mqtt_free(cfg->mqtt);
	alerts_conf_free(cfg);
	engine_conf_free(cfg);
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

/* --- printing ---------------------------------------------------------- */

static void print_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"': fputs("\\\"", f); break;
		case '\\': fputs("\\\\", f); break;
		case '\n': fputs("\\n", f); break;
		case '\r': fputs("\\r", f); break;
		case '\t': fputs("\\t", f); break;
		case '\f': fputs("\\f", f); break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				fprintf(f, "\\x%02x", *p);
			else
				fputc(*p, f);
		}
	}
	fputc('"', f);
}

/* Shortest text that reads back as the same double, always a float literal. */
static void print_double(FILE *f, double v)
{
	char buf[64];

	for (int prec = 6; prec <= 17; prec++) {
		snprintf(buf, sizeof(buf), "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	if (!strpbrk(buf, ".eEn"))
		strcat(buf, ".0");
	fputs(buf, f);
}

/* Prints pre and one "key = value;"; returns 0 when there was nothing to print. */
static int print_key(FILE *f, const char *pre, const struct key *k, const void *obj)
{
	const char *at = (const char *)obj + k->off;
	char buf[64];

	if (k->flags & KF_NOPRINT)
		return 0;
	if (k->kt == KT_GROUP || k->kt == KT_LIST)
		return 0;
	if ((k->kt == KT_STR || k->kt == KT_NAME || k->kt == KT_PATH) && !*(char *const *)(const void *)at)
		return 0;
	if (k == &point_keys[PK_BIT] && *(const int *)(const void *)at < 0)
		return 0;
	if (k == &point_keys[PK_OVERLAP] && !*(const int *)(const void *)at)
		return 0;
	if (k->kt == KT_DBL && !isfinite(*(const double *)(const void *)at))
		return 0;
	fputs(pre, f);
	if (k == &point_keys[PK_ORDER]) {
		const struct cc_point_conf *p = obj;
		fprintf(f, "order = \"%s\";", order_name(p->order, p->type));
		return 1;
	}
	switch (k->kt) {
	case KT_STR:
	case KT_NAME:
	case KT_PATH:
		fprintf(f, "%s = ", k->name);
		print_string(f, *(char *const *)(const void *)at);
		break;
	case KT_INT:
		fprintf(f, "%s = %d", k->name, *(const int *)(const void *)at);
		break;
	case KT_DBL:
		fprintf(f, "%s = ", k->name);
		print_double(f, *(const double *)(const void *)at);
		break;
	case KT_BOOL:
		fprintf(f, "%s = %s", k->name, *(const int *)(const void *)at ? "true" : "false");
		break;
	case KT_DUR:
		format_duration_ms(*(const int64_t *)(const void *)at, buf, sizeof(buf));
		fprintf(f, "%s = \"%s\"", k->name, buf);
		break;
	case KT_SIZE:
		format_size(*(const uint64_t *)(const void *)at, buf, sizeof(buf));
		fprintf(f, "%s = \"%s\"", k->name, buf);
		break;
	case KT_ENUM: {
		const char *name = NULL;
		if (k->store == ES_STR) {
			name = *(char *const *)(const void *)at;
		} else if (k->store == ES_CHAR) {
			for (size_t i = 0; k->enums[i]; i++)
				if (toupper((unsigned char)k->enums[i][0]) == *at)
					name = k->enums[i];
		} else {
			int idx;
			memcpy(&idx, at, sizeof(int));
			if (idx >= 0)
				name = k->enums[idx];
		}
		fprintf(f, "%s = \"%s\"", k->name, name ? name : "?");
		break;
	}
	case KT_GROUP:
	case KT_LIST:
		break;
	}
	fputc(';', f);
	if (k == &influx_keys[IK_PASSWORD_FILE] || k == &influx2_keys[I2_TOKEN_FILE]) {
		/* the secret itself is never printed */
		fputs(k == &influx_keys[IK_PASSWORD_FILE] ? " # password: (from " : " # token: (from ", f);
		for (const char *p = *(char *const *)(const void *)at; *p; p++)
			fputc(iscntrl((unsigned char)*p) ? '?' : *p, f);
		fputc(')', f);
	}
	return 1;
}

/* Every printable key of g, one per line (inline 0) or on one line. */
static void print_keys(FILE *f, const char *indent, const struct group *g, const void *obj, int inline_)
{
	int first = 1;

	for (size_t i = 0; i < g->nkeys; i++) {
		if (print_key(f, inline_ ? (first ? "" : " ") : indent, &g->keys[i], obj)) {
			first = 0;
			if (!inline_)
				fputc('\n', f);
		}
	}
}

int config_plan_device(const struct cc_device_conf *d, int max_gap, int max_registers, int max_bits,
		       struct plan *out)
{
	struct plan_point *pts;
	int rc;

	pts = malloc((d->npoints ? d->npoints : 1) * sizeof(*pts));
	if (!pts) {
		memset(out, 0, sizeof(*out));
		return -ENOMEM;
	}
	for (size_t i = 0; i < d->npoints; i++)
		pts[i] = (struct plan_point){ .table = d->points[i].table, .address = d->points[i].address,
					      .type = d->points[i].type };
	rc = plan_build(pts, d->npoints, max_gap, max_registers, max_bits, out);
	free(pts);
	return rc;
}

static void print_device(FILE *f, const struct cc_device_conf *d)
{
	struct plan plan;
	int rc;

	fputs("      {\n", f);
	if (d->template_name)
		fprintf(f, "        # template \"%s\": its points are expanded below\n", d->template_name);
	print_keys(f, "        ", &g_device, d, 0);
	fprintf(f, "        # request plan (max_gap %d, max_registers %d, max_bits %d):\n", d->max_gap,
		d->max_registers, d->max_bits);
	memset(&plan, 0, sizeof(plan));
	rc = config_plan_device(d, d->max_gap, d->max_registers, d->max_bits, &plan);
	if (rc < 0)
		fprintf(f, "        #   cannot plan: %s\n", strerror(-rc));
	else
		plan_print(&plan, f, "        #   ");
	plan_free(&plan);
	fputs("        points = (\n", f);
	for (size_t i = 0; i < d->npoints; i++) {
		fputs("          { ", f);
		print_keys(f, "", &g_point, &d->points[i], 1);
		fprintf(f, " }%s\n", i + 1 < d->npoints ? "," : "");
	}
	fputs("        );\n", f);
	fputs("      }", f);
}

static void print_mqtt(const struct cc_mqtt_conf *m, FILE *f)
{
	fputs("\nmqtt = {\n", f);
	print_keys(f, "  ", &g_mqtt, m, 0);
	fputs("  broker = {\n", f);
	for (size_t i = 0; i < g_mqtt_broker.nkeys; i++) {
		const struct key *k = &mqtt_broker_keys[i];
		if (i == QB_EXPIRY && m->protocol == CC_MQTT_V311)
			continue;
		if (!m->tls && (i == QB_INSECURE))
			continue;
		if (print_key(f, "    ", k, m)) {
			if (i == QB_PASSWORD_FILE)
				fputs(" # password: (from the file)", f);
			fputc('\n', f);
		}
	}
	fputs("  };\n  subscriptions = (\n", f);
	for (size_t i = 0; i < m->nsubs; i++) {
		const struct cc_mqtt_sub *s = &m->subs[i];
		int json = s->format == CC_MQTT_JSON, boolean = s->format == CC_MQTT_BOOL;

		fputs("    {\n", f);
		for (size_t j = 0; j < g_mqtt_sub.nkeys; j++) {
			if (!json && (j == QS_TIME || j == QS_TIME_UNIT))
				continue;
			if (json && j == QS_TIME_UNIT && !s->time_path)
				continue;
			if (boolean && (j == QS_SCALE || j == QS_OFFSET || j == QS_MIN || j == QS_MAX))
				continue;
			if (print_key(f, "      ", &mqtt_sub_keys[j], s))
				fputc('\n', f);
		}
		if (json) {
			fputs("      fields = {\n", f);
			for (size_t j = 0; j < s->nfields; j++) {
				fprintf(f, "        %s = { ", s->fields[j].name);
				print_keys(f, "", &g_mqtt_field, &s->fields[j], 1);
				fputs(" };\n", f);
			}
			fputs("      };\n", f);
		}
		fprintf(f, "    }%s\n", i + 1 < m->nsubs ? "," : "");
	}
	fputs("  );\n};\n", f);
}

void config_print(const struct cc_config *cfg, FILE *f)
{
	fprintf(f, "# coldchaind effective configuration of %s: every default filled in.\n", cfg->file);
	fputs("# Relative paths are shown resolved; device templates are expanded.\n\n", f);
	print_keys(f, "", &g_root, cfg, 0);
	fputs("\nlog = {\n", f);
	print_keys(f, "  ", &g_log, cfg, 0);
	fputs("};\n\nmodbus = (\n", f);
	for (size_t i = 0; i < cfg->nbuses; i++) {
		const struct cc_bus_conf *b = &cfg->buses[i];

		fputs("  {\n", f);
		print_key(f, "    ", &bus_keys[BK_NAME], b);
		fputs("\n    ", f);
		fputs(b->is_rtu ? "rtu = { " : "tcp = { ", f);
		print_keys(f, "", b->is_rtu ? &g_rtu : &g_tcp, b, 1);
		fputs(" };\n", f);
		for (size_t k = 0; k < g_bus.nkeys; k++) {
			if (k == BK_NAME || bus_keys[k].kt == KT_GROUP || bus_keys[k].kt == KT_LIST)
				continue;
			if (print_key(f, "    ", &bus_keys[k], b))
				fputc('\n', f);
		}
		fputs("    devices = (\n", f);
		for (size_t j = 0; j < b->ndevices; j++) {
			print_device(f, &b->devices[j]);
			fputs(j + 1 < b->ndevices ? ",\n" : "\n", f);
		}
		fputs("    );\n", f);
		fprintf(f, "  }%s\n", i + 1 < cfg->nbuses ? "," : "");
	}
	fputs(");\n\noutputs = {\n", f);
	for (int v2 = 0; v2 <= 1; v2++) {
		size_t n = 0, k = 0;
		for (size_t i = 0; i < cfg->ninflux; i++)
			n += cfg->influx[i].v2 == v2;
		if (v2 && n == 0)
			continue;
		fputs(v2 ? "  );\n  influxdb2 = (\n" : "  influxdb = (\n", f);
		for (size_t i = 0; i < cfg->ninflux; i++) {
			if (cfg->influx[i].v2 != v2)
				continue;
			fputs("    {\n", f);
			print_keys(f, "      ", v2 ? &g_influx2 : &g_influx, &cfg->influx[i], 0);
			fprintf(f, "    }%s\n", ++k < n ? "," : "");
		}
	}
	fputs("  );\n  file = (\n", f);
	for (size_t i = 0; i < cfg->nfiles; i++) {
		fputs("    { ", f);
		print_keys(f, "", &g_file, &cfg->files[i], 1);
		fprintf(f, " }%s\n", i + 1 < cfg->nfiles ? "," : "");
	}
	fputs("  );\n", f);
	print_alert_outputs(cfg, f);
	fputs("};\n\njournal = {\n", f);
	print_keys(f, "  ", &g_journal, &cfg->journal, 0);
	fputs("};\n\ncontrol = {\n", f);
	print_keys(f, "  ", &g_control, &cfg->control, 0);
	fputs("};\n", f);
	if (cfg->mqtt)
		print_mqtt(cfg->mqtt, f);
	print_engine(cfg, f);
}

/* --- schema export ----------------------------------------------------- */

static const char *kt_doc(enum kt t)
{
	switch (t) {
	case KT_STR: return "string";
	case KT_NAME: return "name";
	case KT_PATH: return "path";
	case KT_INT: return "integer";
	case KT_DBL: return "number";
	case KT_BOOL: return "boolean";
	case KT_DUR: return "duration";
	case KT_SIZE: return "size";
	case KT_ENUM: return "enum";
	case KT_GROUP: return "group";
	case KT_LIST: return "list";
	}
	return "?";
}

void config_schema_foreach(void (*fn)(const struct config_key_doc *doc, void *arg), void *arg)
{
	for (size_t g = 0; g < ARRAY_SIZE(doc_groups); g++) {
		const struct group *gr = doc_groups[g];
		for (size_t i = 0; i < gr->nkeys; i++) {
			const struct key *k = &gr->keys[i];
			struct config_key_doc d;
			char range[256];

			key_range(k, range, sizeof(range), "|");
			d.group = gr->name;
			d.group_help = gr->help;
			d.key = k->name;
			d.type = kt_doc(k->kt);
			d.def = (k->flags & KF_REQ) ? NULL : k->def;
			d.range = range[0] ? range : NULL;
			d.required = !!(k->flags & KF_REQ);
			d.reloadable = !(k->flags & KF_RESTART);
			d.help = k->help;
			fn(&d, arg);
		}
	}
}

static void schema_print_one(const struct config_key_doc *d, void *arg)
{
	FILE *f = arg;

	fprintf(f, "%s%s%s (%s%s%s)\n", d->group, *d->group ? "." : "", d->key, d->type,
		d->required ? ", required" : "", d->reloadable ? "" : ", restart to change");
	if (d->def)
		fprintf(f, "    default: %s\n", d->def);
	if (d->range)
		fprintf(f, "    range:   %s\n", d->range);
	fprintf(f, "    %s\n", d->help);
}

void config_schema_print(FILE *f)
{
	config_schema_foreach(schema_print_one, f);
}

/* --- single values checked by the schema (coldchainctl's --rtu, --tcp) --- */

static const struct key *schema_key(const char *group, const char *key)
{
	for (size_t g = 0; g < ARRAY_SIZE(doc_groups); g++) {
		if (strcmp(doc_groups[g]->name, group) != 0)
			continue;
		for (size_t i = 0; i < doc_groups[g]->nkeys; i++)
			if (strcmp(doc_groups[g]->keys[i].name, key) == 0)
				return &doc_groups[g]->keys[i];
	}
	return NULL;
}

int config_key_parse_int(const char *group, const char *key, const char *text, int *out, char *msg, size_t len)
{
	const struct key *k = schema_key(group, key);
	char range[256], *end;
	long long v;
	int found = 0;

	if (!k || k->kt != KT_INT) {
		snprintf(msg, len, "%s.%s is not an integer key of the schema", group, key);
		return -ENOENT;
	}
	key_range(k, range, sizeof(range), ", ");
	errno = 0;
	v = strtoll(text, &end, 10);
	if (!*text || *end || end == text || (!isdigit((unsigned char)*text) && *text != '-')) {
		snprintf(msg, len, "\"%s\" is not an integer (%s)", text, range);
		return -EINVAL;
	}
	if (errno == ERANGE) {
		snprintf(msg, len, "%s is out of range %s", text, range);
		return -EINVAL;
	}
	if (k->ints) {
		for (size_t i = 0; k->ints[i]; i++)
			found |= k->ints[i] == v;
		if (!found) {
			snprintf(msg, len, "%lld is not one of: %s", v, range);
			return -EINVAL;
		}
	} else if (v < (long long)k->min || v > (long long)k->max) {
		snprintf(msg, len, "%lld is out of range %s", v, range);
		return -EINVAL;
	}
	*out = (int)v;
	return 0;
}

int config_key_parse_letter(const char *group, const char *key, char c, char *out, char *msg, size_t len)
{
	const struct key *k = schema_key(group, key);
	char range[256];
	size_t o = 0;

	if (!k || k->kt != KT_ENUM || k->store != ES_CHAR) {
		snprintf(msg, len, "%s.%s is not a one-letter key of the schema", group, key);
		return -ENOENT;
	}
	for (size_t i = 0; k->enums[i]; i++) {
		if (c && c == toupper((unsigned char)k->enums[i][0])) {
			*out = c;
			return 0;
		}
		o += (size_t)snprintf(range + o, sizeof(range) - o, "%s%c (%s)", i ? ", " : "",
				      toupper((unsigned char)k->enums[i][0]), k->enums[i]);
		if (o >= sizeof(range))
			break;
	}
	if (isprint((unsigned char)c))
		snprintf(msg, len, "'%c' is not one of: %s", c, range);
	else
		snprintf(msg, len, "byte 0x%02X is not one of: %s", (unsigned char)c, range);
	return -EINVAL;
}

int config_key_check_string(const char *group, const char *key, const char *text, char *msg, size_t len)
{
	const struct key *k = schema_key(group, key);
	const char *why;

	if (!k || (k->kt != KT_STR && k->kt != KT_PATH && k->kt != KT_NAME)) {
		snprintf(msg, len, "%s.%s is not a string key of the schema", group, key);
		return -ENOENT;
	}
	if (!*text) {
		snprintf(msg, len, "must not be empty");
		return -EINVAL;
	}
	if (k->kt == KT_NAME && !name_ok(text)) {
		snprintf(msg, len, "\"%s\" may only contain letters, digits, '.', '_' and '-'", text);
		return -EINVAL;
	}
	if (k->check && (why = k->check(text))) {
		snprintf(msg, len, "\"%s\" %s", text, why);
		return -EINVAL;
	}
	return 0;
}
