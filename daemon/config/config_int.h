/* config_int.h - private to daemon/config/ (the only directory that
 * includes <libconfig.h>): the schema's key and group types, the loader's
 * context, and what the files of the module call in one another.
 *
 *   schema.c   key types, schema_apply (check and store a group), the printer,
 *              the doc iterator, single-value checks for coldchainctl
 *   errors.c   FILE:LINE: PATH: message collection, setting paths, syntax hints
 *   load.c     files: reading, @include rules, device templates, secrets
 *   root.c     the top level (log, journal, control), the order the groups
 *              load, print and are freed in
 *   modbus.c, outputs.c, mqtt.c, engine.c, alerts.c, process.c, web.c: one group
 *              each, its schema tables, loader, checks, printer and destructor
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
#ifndef CC_CONFIG_INT_H
#define CC_CONFIG_INT_H

#include <libconfig.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../config.h"
#include "../util.h"

/* --- schema (schema.c) --------------------------------------------------- */

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
#define KF_NEG_UNSET 0x20   /* KT_INT: a negative value means "not set" and is not printed */
#define KF_FALSE_UNSET 0x40 /* KT_BOOL: printed only when true */

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
	/* config_print: the value as "name = value" when the type's own
	 * printer would not say it right (NULL: the type's) */
	void (*print)(FILE *f, const struct key *k, const void *obj);
	/* KT_PATH of a secret file: config_print adds " # SECRET: (from FILE)" */
	const char *secret;
};

struct group {
	const char *name; /* docs: "" for the top level, "modbus.devices", ... */
	const struct key *keys;
	size_t nkeys;
	const char *help;
};

#define OFF(st, f) offsetof(struct st, f)
#define GROUP(n, k, h) { n, k, ARRAY_SIZE(k), h }
#define MAX_KEYS 28

/* The groups, in the order of the generated reference (schema.c). */
extern const struct group g_root, g_log, g_journal, g_control;                 /* root.c */
extern const struct group g_bus, g_tcp, g_rtu, g_device, g_point;              /* modbus.c */
extern const struct group g_outputs, g_influx, g_influx2, g_file;              /* outputs.c */
extern const struct group g_webhook, g_alerts_mqtt;                            /* alerts.c */
extern const struct group g_template;                                         /* load.c */
extern const struct group g_mqtt, g_mqtt_broker, g_mqtt_sub, g_mqtt_field;     /* mqtt.c */
extern const struct group g_profile, g_limits, g_model, g_water, g_chill, g_room, g_lot, g_alarms, g_flood,
	g_notify, g_rule;                                                      /* engine.c */
extern const struct group g_process, g_precool, g_precool_fit, g_carcass, g_carcass_fit, g_band, g_fumigation,
	g_exposure, g_drying, g_stage;                                          /* process.c */
extern const struct group g_line;                                             /* processes.c */
extern const struct group g_web;                                              /* web.c */
extern const struct group g_email, g_telegram, g_zalo, g_sms, g_recipient, g_route; /* channels.c */

/* Enum names more than one group uses. */
extern const char *const start_names[];    /* outputs.c: "end", "oldest" */
extern const char *const severity_names[]; /* engine.c: "info", "warning", "critical" */

/* --- the loader's context ------------------------------------------------ */

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

/* Names seen so far, in order, with a hash index (open addressing; slot[]
 * holds index + 1, 0 = empty) so that 10,000 lot ids are checked in linear
 * time, not 50 million strcmp()s.  Zero-initialised = empty; names_free(). */
struct names {
	struct name_seen *v;
	size_t n, cap;
	size_t *slot;
	size_t nslot; /* a power of two, at least twice n */
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
	int record_srcs; /* includes_safe appends each file it opens to cfg->srcs */
	/* schema_apply() on a profile's group (produce or process profile):
	 * numbers may carry a grade, and every number set is appended to
	 * *gparams (*gnparams of them) under ggroup, list element gindex */
	struct cc_param **gparams;
	size_t *gnparams;
	const char *ggroup;
	int gindex;
};

/* What schema_apply found for each key of a group. */
struct seen {
	const config_setting_t *s; /* NULL when absent */
	int bad;                   /* present but invalid: the default was stored */
	int idx;                   /* KT_ENUM: index in enums */
};

/* Present and valid. */
static inline int ok(const struct seen *s)
{
	return s->s && !s->bad;
}

/* --- schema.c -------------------------------------------------------------- */

/*
 * Validates group setting grp (NULL: absent, all defaults) against g and
 * stores what it holds into obj; anchor locates "missing required key"
 * when grp is absent.  seen[] tells the caller what was set.
 */
void schema_apply(struct ctx *c, const config_setting_t *grp, const config_setting_t *anchor, const struct group *g,
		  void *obj, const char *path, struct seen *seen);
/* Calls fn for each element of list that is a group (path base[name] or
 * base[index], name from member namekey); reports any other element. */
void schema_each_group(struct ctx *c, const config_setting_t *list, const char *base, const char *namekey,
		       void (*fn)(struct ctx *c, const config_setting_t *el, const char *path, void *arg), void *arg);
int schema_name_ok(const char *s);
/* Prints pre and one "key = value;"; returns 0 when there was nothing to print. */
int schema_print_key(FILE *f, const char *pre, const struct key *k, const void *obj);
/* Every printable key of g, one per line (inline 0) or on one line. */
void schema_print_keys(FILE *f, const char *indent, const struct group *g, const void *obj, int inline_);
void schema_print_string(FILE *f, const char *s);
/* Every printable key of g, one per line; a number params records with a
 * grade (under group, list element index) as (VALUE, "GRADE: source"). */
void schema_print_graded_keys(FILE *f, const char *indent, const struct group *g, const void *obj,
			      const struct cc_param *params, size_t nparams, const char *group, int index);

/* --- errors.c ---------------------------------------------------------------- */

void err_add(struct ctx *c, size_t file, int line, const char *path, const char *fmt, va_list ap)
	__attribute__((format(printf, 5, 0)));
/* At setting s (its file and line), as path: message. */
void err_at(struct ctx *c, const config_setting_t *s, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void err_file(struct ctx *c, const char *file, int line, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* At key k of a group (its table keys, what schema_apply found: sg), as
 * gp.NAME: at its setting, or at anchor when it is not set. */
void err_key(struct ctx *c, const struct seen *sg, int k, const struct key *keys, const config_setting_t *anchor,
	     const char *gp, const char *fmt, ...) __attribute__((format(printf, 7, 8)));
/* libconfig's parse error, with a hint a technician can act on. */
void err_parse(struct ctx *c, const config_t *lc);
/* Moves the messages, sorted by file and line, into e. */
void err_flush(struct ctx *c, struct cc_errors *e);
/* "line 12" in the same file as now, else "FILE:12": where s was. */
char *err_where(struct ctx *c, const config_setting_t *s, const config_setting_t *now);
size_t file_intern(struct ctx *c, const char *name);
size_t src_file(struct ctx *c, const config_setting_t *s);
int src_line(const config_setting_t *s);
const char *lc_type_name(int t);
/* "base.key" ("key" at the top) and base[name] or base[index]. */
char *key_path(const char *base, const char *key);
char *elem_path(const char *base, const config_setting_t *el, const char *namekey, size_t idx);
/* Registers name; returns the setting where it was first seen, or NULL. */
const config_setting_t *names_add(struct names *n, const char *name, const config_setting_t *s);
void names_free(struct names *n);
void name_unique(struct ctx *c, struct names *n, const char *kind, const char *name, const config_setting_t *el,
		 const config_setting_t *s, const char *path, const char *member);

/* --- load.c ------------------------------------------------------------------ */

char *path_join(const char *dir, const char *name);
/* The whole text of a configuration file (config_load_string's own text
 * for the top file), or NULL; the start of one of its lines (1-based). */
char *read_text(struct ctx *c, const char *file);
const char *text_line(const char *text, int line);
/* Reads the first line of a secret file (what: "password", "token") into
 * *dst; free_secret wipes it before freeing it. */
void read_secret(struct ctx *c, const char *file, char **dst, const char *what, const config_setting_t *s,
		 const char *path);
void free_secret(char *s);
void read_password(struct ctx *c, const struct seen *pw, const struct seen *user, const char *file, char **dst,
		   const char *path);
void check_readable(struct ctx *c, const char *file, const config_setting_t *s, const char *path, const char *key);
/* Template name, read and checked the first time a device names it. */
struct tmpl *tmpl_get(struct ctx *c, const char *name, const config_setting_t *ref, const char *refpath);

/* --- the groups: load, print, free ----------------------------------------- */

void load_root(struct ctx *c, const config_setting_t *root);                            /* root.c */

void load_modbus(struct ctx *c, const config_setting_t *list);                          /* modbus.c */
void load_points(struct ctx *c, const config_setting_t *list, const char *base, struct cc_point_conf *pts,
		 size_t *npts, const char *tmpl_name, const char *tmpl_file);
void point_free(struct cc_point_conf *p);
void print_modbus(const struct cc_config *cfg, FILE *f);
void free_modbus(struct cc_config *cfg);

void load_outputs(struct ctx *c, const config_setting_t *os, const config_setting_t *root); /* outputs.c */
char *derive_name(struct ctx *c, const char *prefix, size_t idx);
const char *check_http_url(const char *s, int query_ok);
void print_outputs(const struct cc_config *cfg, FILE *f);
void free_outputs(struct cc_config *cfg);

void load_mqtt(struct ctx *c, const config_setting_t *ms, const config_setting_t *root);  /* mqtt.c */
void load_alerts_broker(struct ctx *c, const config_setting_t *bs, struct cc_mqtt_conf *m, const char *path);
void print_mqtt(const struct cc_mqtt_conf *m, FILE *f);
void print_alerts_broker(const struct cc_mqtt_conf *b, FILE *f);
void free_mqtt(struct cc_mqtt_conf *m);

void load_alert_outputs(struct ctx *c, const config_setting_t *os);                     /* alerts.c */
void print_alert_outputs(const struct cc_config *cfg, FILE *f);
void free_alert_outputs(struct cc_config *cfg);

void load_engine(struct ctx *c, const config_setting_t *root, const config_setting_t *profs,  /* engine.c */
		 const config_setting_t *rooms, const config_setting_t *alarms);
void print_engine(const struct cc_config *cfg, FILE *f);
void free_engine(struct cc_config *cfg);

void load_processes(struct ctx *c, const config_setting_t *list);                       /* process.c */
void print_processes(const struct cc_config *cfg, FILE *f);
void free_processes(struct cc_config *cfg);
extern const char *const process_kind_names[];

void load_lines(struct ctx *c, const config_setting_t *list);                           /* processes.c */
void print_lines(const struct cc_config *cfg, FILE *f);
void free_lines(struct cc_config *cfg);
/* engine.c: NULL when ch is a usable channel id (SENSOR/CHANNEL, of a
 * device's points when SENSOR is a device), else why not (free it). */
char *check_channel(const struct cc_config *cfg, const char *ch);

void load_web(struct ctx *c, const config_setting_t *ws);                              /* web.c */
void print_web(const struct cc_config *cfg, FILE *f);
void free_web(struct cc_config *cfg);
const char *check_tz(const char *s); /* root key timezone */

/* channels.c: after load_alert_outputs (every other output name known) */
void load_channels(struct ctx *c, const config_setting_t *os, const config_setting_t *recipients,
		   const config_setting_t *routes);
void print_chan_outputs(const struct cc_config *cfg, FILE *f); /* inside outputs = { } */
void print_channels(const struct cc_config *cfg, FILE *f);     /* recipients, routes */
void free_channels(struct cc_config *cfg);
const char *check_e164(const char *s);

#endif
