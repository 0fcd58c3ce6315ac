/* config.h - the effective configuration, as the loader hands it to the
 * daemon.  Every default is filled in; every string is owned by the struct.
 * Only the files under daemon/config/ include <libconfig.h>. */
#ifndef CC_CONFIG_H
#define CC_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../codec/modbus_types.h"
#include "../codec/regdecode.h"
#include "alerts_conf.h"
#include "channels_conf.h"
#include "engine_conf.h"
#include "process_conf.h"
#include "sample.h"

struct cc_point_conf {
	char *channel;  /* name within the device: "temperature", "air_temp" */
	char *quantity; /* measurement name */
	char *unit;     /* NULL when not set */
	enum cc_table table;
	uint16_t address; /* 0-based protocol address */
	enum cc_regtype type;
	enum cc_order order;
	int bit;          /* bool from a register: bit 0..15; -1 otherwise */
	/* value = raw * scale + offset; outside [valid_min, valid_max] (-inf /
	 * +inf when not set) -> CC_Q_OUT_OF_RANGE */
	struct regdecode_scaling scaling;
	int overlap;      /* shares registers with another point on purpose */
	int line;         /* config line, for messages */
	struct cc_channel ch; /* filled by the loader, used by the driver */
};

struct cc_device_conf {
	char *name;     /* sensor tag, unique across the config */
	int unit;       /* Modbus unit id 0..247 (0 only for TCP devices that ignore it) */
	char *room;     /* NULL when not set */
	char *template_name; /* NULL when points are inline */
	int64_t interval_ms; /* defaults to the bus interval */
	int max_gap;         /* registers/bits that may be read unused to merge requests */
	int max_registers;   /* per request, holding/input: 1..125 (default 125) */
	int max_bits;        /* per request, coil/discrete: 1..2000 (default 2000) */
	struct cc_point_conf *points;
	size_t npoints;
	int line;
};

struct cc_bus_conf {
	char *name;
	int is_rtu;
	/* TCP */
	char *host;
	int port;
	/* RTU */
	char *device;
	int baud;
	char parity; /* 'N', 'E', 'O' */
	int data_bits;
	int stop_bits;
	int rs485;   /* set RS485 mode on the serial port (adapters that need it) */
	int64_t timeout_ms;      /* response timeout */
	int64_t byte_timeout_ms; /* inter-byte timeout */
	int64_t interval_ms;     /* default device interval */
	int64_t backoff_max_ms;  /* cap on retry backoff for a silent unit / dead link */
	int64_t turnaround_ms;   /* RTU: pause between requests (default 0 for TCP) */
	struct cc_device_conf *devices;
	size_t ndevices;
	int line;
};

struct cc_influx_conf {
	char *name;      /* defaults to the URL host */
	char *url;       /* http(s)://host:port, no path */
	int v2;          /* outputs.influxdb2: /api/v2/write, org, bucket, token */
	char *database;  /* v1 */
	char *retention_policy; /* v1; NULL = server default */
	char *org, *bucket;     /* v2 */
	char *token_file;       /* v2 */
	char *token;            /* v2, read from token_file; never printed or logged */
	char *username;  /* NULL = no auth */
	char *password_file;
	char *password;  /* read from password_file; never printed or logged */
	char *ca_file;
	int insecure;    /* disable TLS verification (logged loudly) */
	int gzip;
	int create_database; /* v1: CREATE DATABASE on "database not found" (default true) */
	int batch;       /* lines per request */
	int64_t flush_ms;      /* max age of a batch */
	int64_t timeout_ms;    /* total request timeout */
	int64_t connect_timeout_ms;
	int64_t backoff_max_ms;
	uint64_t batch_bytes;  /* bytes per request (before gzip) */
	char *quarantine;      /* refused lines go here; default in the journal dir */
	int start_oldest;      /* a new output replays the journal from its oldest record */
	int line;
};

struct cc_file_out_conf {
	char *name;
	char *path;      /* line protocol appended here; "-" = stdout */
	int start_oldest;
	int line;
};

/* The durable journal (daemon/journal.c). */
struct cc_journal_conf {
	char *dir;             /* default <state_dir>/journal */
	uint64_t max_size;     /* bytes; past it the oldest segment is dropped (counted) */
	uint64_t segment_size;
	int64_t fsync_ms;      /* group commit interval */
	int line;
};

/* The control socket (daemon/control.c). */
struct cc_control_conf {
	char *socket;          /* default <state_dir>/coldchaind.sock */
	char *group;           /* NULL: the daemon's own group */
	int line;
};

/* MQTT (drivers/mqtt.c).  Formats of a subscription's payloads: */
enum cc_mqtt_format { CC_MQTT_NUMBER, CC_MQTT_JSON, CC_MQTT_INFLUX, CC_MQTT_BOOL };
enum cc_mqtt_protocol { CC_MQTT_V311, CC_MQTT_V5 };

/* format json: one value of a message, at a dotted path ("env.rh"). */
struct cc_mqtt_field {
	char *name;     /* the key in fields: channel name */
	char *path;
	char *quantity; /* default: name */
	char *unit;     /* default: the subscription's */
	double scale, offset, valid_min, valid_max; /* default: the subscription's */
	int line;
};

struct cc_mqtt_sub {
	char *topic;    /* as written, with {captures}; the self-metrics tag */
	int format;     /* enum cc_mqtt_format */
	int qos;        /* 0 or 1 */
	char *quantity, *channel, *sensor, *room, *unit; /* fixed values; captures win */
	double scale, offset, valid_min, valid_max;
	int max_payload; /* bytes */
	char *time_path; /* json: timestamp field; NULL = time of arrival */
	int time_unit;   /* enum payload_tunit */
	struct cc_mqtt_field *fields;
	size_t nfields;
	int line;
};

struct cc_mqtt_conf {
	char *host;
	int port;
	char *client_id;
	int protocol;         /* enum cc_mqtt_protocol */
	int64_t keepalive_ms;
	int clean_session;    /* default false: a persistent session */
	int64_t session_expiry_ms; /* MQTT 5 */
	char *username;
	char *password_file;
	char *password;       /* read from password_file; never printed or logged */
	int tls;
	char *ca_file, *ca_dir, *cert, *key;
	int insecure;
	int64_t reconnect_max_ms;
	int max_channels;
	int64_t max_future_ms, max_age_ms; /* timestamp tolerance */
	struct cc_mqtt_sub *subs;
	size_t nsubs;
	int line;
};

/* The HTTP listener (daemon/web/); every key needs a restart. */
struct cc_web_conf {
	char *listen;          /* "HOST:PORT" or "[IPV6]:PORT" */
	char *cert_file, *key_file; /* both (HTTPS) or neither */
	char *users_file;      /* NULL: nobody can log in */
	int public_status;     /* read-only pages without a login */
	int max_connections, per_ip_connections;
	int64_t timeout_ms;    /* idle connection */
	uint64_t max_request;  /* header + body bytes */
	int64_t session_idle_ms, session_max_ms; /* a session ends unused this long / this long after login */
	char *public_url;      /* the page as people reach it; NULL: messages carry no link */
	int line;
};

/* A file the configuration was read from (the main file, then each
 * @include), as fstat saw it before libconfig read it: the runtime file's
 * proof that coldchainctl may skip the parse (daemon/runfile.h). */
struct cc_conf_src {
	char *path; /* absolute (realpath) */
	uint64_t dev, ino, size;
	int64_t mtime_ns, ctime_ns;
	int64_t seen_ns; /* the wall clock when it was read */
};

struct cc_config {
	char *file;      /* the path it was loaded from */
	struct cc_conf_src *srcs; /* config_load of a file: srcs[0] is file */
	size_t nsrcs;
	char *site;
	char *state_dir;
	char *template_dir; /* default: "devices" next to the config file */
	char *log_target;   /* "stderr" or "syslog" */
	char *log_level;    /* "error", "warning", "info", "debug" */
	int64_t stats_interval_ms; /* self-metrics period */
	int64_t shutdown_timeout_ms; /* flush deadline at SIGTERM */
	char *user;  /* NULL: do not switch (see main.c drop_privileges) */
	char *group; /* NULL: the user's primary group */

	struct cc_bus_conf *buses;
	size_t nbuses;
	struct cc_influx_conf *influx;
	size_t ninflux;
	struct cc_file_out_conf *files;
	size_t nfiles;
	struct cc_journal_conf journal;
	struct cc_control_conf control;
	struct cc_mqtt_conf *mqtt; /* NULL without an mqtt group */
	struct cc_webhook_conf *webhooks; /* outputs.webhook */
	size_t nwebhooks;
	struct cc_alerts_mqtt_conf *alerts_mqtt; /* outputs.alerts_mqtt; NULL when unset */
	/* the channels that reach people (channels_conf.h, daemon/config/channels.c) */
	struct cc_email_conf *emails;       /* outputs.email */
	size_t nemails;
	struct cc_telegram_conf *telegrams; /* outputs.telegram */
	size_t ntelegrams;
	struct cc_zalo_conf *zalos;         /* outputs.zalo */
	size_t nzalos;
	struct cc_sms_conf *smses;          /* outputs.sms */
	size_t nsmses;
	struct cc_recipient_conf *recipients;
	size_t nrecipients;
	struct cc_route_conf *routes;
	size_t nroutes;
	/* the alarm and model engine (engine_conf.h) */
	struct cc_profile *profiles;
	size_t nprofiles;
	struct cc_room_conf *rooms;
	size_t nrooms;
	struct cc_alarms_conf alarms;
	/* processing-line profiles (process_conf.h) */
	struct cc_process_profile *process_profiles;
	size_t nprocess_profiles;
	/* processing lines (process_conf.h) */
	struct cc_process_conf *processes;
	size_t nprocesses;
	struct cc_web_conf *web; /* NULL without a web group: no listener */
	char *timezone;          /* IANA name; NULL: the system's */
};

/* The channels to people (daemon/config/channels.c): the kind ("email",
 * "telegram", "zalo", "sms") of channel output NAME, NULL when no channel
 * output has that name; recipient NAME, or NULL; a recipient's address for
 * a kind (NULL: not reachable that way). */
const char *config_channel_kind(const struct cc_config *cfg, const char *name);
const struct cc_recipient_conf *config_recipient(const struct cc_config *cfg, const char *name);
const char *config_recipient_address(const struct cc_recipient_conf *r, const char *kind);

/* "HOST:PORT" or "[IPV6]:PORT" taken apart as web.listen checks it: 0, or
 * -EINVAL.  host gets at most hostlen - 1 bytes. */
int config_parse_listen(const char *s, char *host, size_t hostlen, int *port);
/* 0 when /usr/share/zoneinfo/NAME is a TZif file, -EINVAL for a name that
 * cannot be one, -ENOENT otherwise. */
int config_check_timezone(const char *name);
/* 1 when a and b have the same web group and timezone (a reload cannot
 * change them: main.c logs that a restart is needed). */
int config_web_same(const struct cc_config *a, const struct cc_config *b);

/* A list of "FILE:LINE: path: message" strings, in file order. */
struct cc_errors {
	char **msg;
	size_t n, cap;
};
void errors_add(struct cc_errors *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void errors_print(const struct cc_errors *e, FILE *f);
void errors_free(struct cc_errors *e);

/* Bounds on what config_load reads, checked before libconfig parses a byte:
 * the configuration file, every file it @includes (counted each time it is
 * included) and the device templates, CONFIG_MAX_BYTES in all; at most
 * CONFIG_MAX_INCLUDES @include directives reached in all (a file including
 * another twice, down several levels, would otherwise be read 2^depth
 * times); nesting at most CONFIG_MAX_INCLUDE_DEPTH levels (libconfig 1.5's
 * own limit: "include file nesting too deep").  Secret files: the first line,
 * at most CONFIG_MAX_SECRET bytes. */
#define CONFIG_MAX_BYTES (16u << 20)
#define CONFIG_MAX_INCLUDES 256
#define CONFIG_MAX_INCLUDE_DEPTH 10
#define CONFIG_MAX_SECRET 4096

/*
 * Loads and validates path.  On success returns 0 and *out; on any error
 * returns -EINVAL and e holds every message (all errors of the file, not
 * only the first).  Never exits, except inside libconfig itself on some
 * inputs (see the reload pre-check in main.c).
 */
int config_load(const char *path, struct cc_config **out, struct cc_errors *e);
/* The same for a file's text held in memory (the fuzz target): name is
 * not read, it stands for the file in messages and relative paths resolve
 * against its directory, as for config_load(name); an @include in text
 * reads the named file. */
int config_load_string(const char *text, const char *name, struct cc_config **out, struct cc_errors *e);
void config_free(struct cc_config *cfg);
/* The control socket's path as config_load would set it (control.socket,
 * else <state_dir>/coldchaind.sock), read without checking the rest of the
 * file: coldchainctl's lookup.  0 and *out (malloc'd); -EINVAL with every
 * error in e when the file cannot be read or parsed; -ENOENT when one of
 * the two keys has the wrong type (config_load names the error). */
int config_peek_socket(const char *path, char **out, struct cc_errors *e);

/* The profile, room, or lot (and its room, when room is not NULL) of that
 * name or id in cfg; NULL when there is none (or cfg or the name is NULL).
 * The program's one lookup of each: loader, control socket, report, engine. */
const struct cc_profile *config_find_profile(const struct cc_config *cfg, const char *name);
const struct cc_room_conf *config_find_room(const struct cc_config *cfg, const char *name);
const struct cc_lot_conf *config_find_lot(const struct cc_config *cfg, const char *id,
					  const struct cc_room_conf **room);

/* The processing-line profile of that name (NULL as above), and one of its
 * graded numbers: group as in struct cc_param ("precool.fit"), index the
 * list element (-1 outside lists); NULL when the file does not set it. */
const struct cc_process_profile *config_find_process_profile(const struct cc_config *cfg, const char *name);
const struct cc_param *config_process_param(const struct cc_process_profile *p, const char *group, const char *key,
					    int index);

/* The processing line of that name (NULL as above); a kind's name. */
const char *config_process_kind_name(int kind);
const struct cc_process_conf *config_find_process(const struct cc_config *cfg, const char *name);

/* Writes the effective configuration (every default filled in, secrets
 * shown as "(from FILE)") in libconfig syntax, with each device's request
 * plan as comments. */
void config_print(const struct cc_config *cfg, FILE *f);

/* Plans the read requests of a configured device (plan_build() on its
 * points' tables, addresses and types): 0 or -ENOMEM / -EINVAL. */
struct plan;
int config_plan_device(const struct cc_device_conf *d, int max_gap, int max_registers, int max_bits,
		       struct plan *out);

/* table_name(), regtype_name(), order_name(), regtype_words(): codec/modbus_types.h */

/*
 * The schema, for generated documentation (README reference, man page,
 * `coldchaind --schema`).  group is "" for the top level, else a dotted
 * path ("modbus.devices.points"); def is NULL for required keys and keys
 * without a default (for keys whose default depends on other settings it
 * is prose); range is NULL when any value of the type is accepted.
 * reloadable: SIGHUP picks a change up (else a restart is needed).
 */
struct config_key_doc {
	const char *group;
	const char *group_help;
	const char *key;
	const char *type; /* string, name, path, integer, number, boolean, duration, enum, group, list */
	const char *def;
	const char *range;
	int required;
	int reloadable;
	const char *help;
};
void config_schema_foreach(void (*fn)(const struct config_key_doc *doc, void *arg), void *arg);
/*
 * One value checked against one key of the schema, with the message a
 * configuration file would get (without FILE:LINE), for tools that take
 * the same settings on their command line (coldchainctl's --rtu and --tcp
 * check baud, parity, bits and port exactly as group modbus.rtu does).
 * group and key as in the docs ("modbus.rtu", "baud").  Return 0 (value
 * stored in *out), -EINVAL with a message in msg, or -ENOENT when the
 * schema has no such key of that type.
 *   _int:    an integer key, text in decimal
 *   _letter: an enum stored as its upper-case first letter (parity: 'N' for
 *            "none"), as the letter itself (the 8N1 notation)
 *   _string: a string, name or path key (non-empty, the key's own check)
 */
int config_key_parse_int(const char *group, const char *key, const char *text, int *out, char *msg, size_t len);
int config_key_parse_letter(const char *group, const char *key, char c, char *out, char *msg, size_t len);
int config_key_check_string(const char *group, const char *key, const char *text, char *msg, size_t len);
/* Every key as "group.key (type[, required][, restart to change])" and
 * indented default, range and meaning lines (for `coldchaind --schema`). */
void config_schema_print(FILE *f);

#endif
