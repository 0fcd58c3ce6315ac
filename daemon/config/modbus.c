/* modbus.c - group modbus of the configuration: buses (tcp or rtu), their
 * devices (a template's points, then their own) and the points' tables,
 * addresses and types, with the checks the driver relies on: unique names
 * and units, no register read twice unless declared, bool only from bits. */
#include "config_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../../codec/modbus_plan.h"

/* Stored as the upper-cased first letter: 'N', 'E', 'O'. */
static const char *const parities[] = { "none", "even", "odd", NULL };
static const int bauds[] = { 1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 0 };
static const int data_bits_ok[] = { 7, 8, 0 };
static const int stop_bits_ok[] = { 1, 2, 0 };

/* Enum fields are written through memcpy of an int (ES_INT below). */
_Static_assert(sizeof(enum cc_table) == sizeof(int), "enum size");
_Static_assert(sizeof(enum cc_regtype) == sizeof(int), "enum size");
_Static_assert(sizeof(enum cc_order) == sizeof(int), "enum size");

static const char *check_abs(const char *s)
{
	return s[0] == '/' ? NULL : "must be an absolute path (e.g. /dev/ttyUSB0)";
}

static const char *check_template(const char *s)
{
	return s[0] == '.' ? "must not start with '.'" : NULL;
}

/* The order's name as written for its type (8 letters for 64 bits). */
static void print_order(FILE *f, const struct key *k, const void *obj)
{
	const struct cc_point_conf *p = obj;

	(void)k;
	fprintf(f, "order = \"%s\";", order_name(p->order, p->type));
}

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
			      .help = "the longest pause within a reply once it has begun (rtu: between bytes; tcp: between parts); 0: the rest of timeout" },
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
		       .enums = modbus_order_names, .store = ES_INT, .print = print_order,
		       .help = "byte order, A = most significant (8-letter forms for 64-bit types only)" },
	[PK_BIT] = { .name = "bit", .kt = KT_INT, .flags = KF_DYN | KF_NEG_UNSET, .off = OFF(cc_point_conf, bit),
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
	[PK_OVERLAP] = { .name = "overlap", .kt = KT_BOOL, .flags = KF_FALSE_UNSET, .off = OFF(cc_point_conf, overlap), .def = "false",
			 .help = "the point shares registers with another point of the device on purpose (e.g. the "
				 "same register read as two types); otherwise an overlap is an error" },
};

const struct group g_bus = GROUP("modbus", bus_keys, "one Modbus bus (list element)");
const struct group g_tcp = GROUP("modbus.tcp", tcp_keys, "Modbus TCP connection");
const struct group g_rtu = GROUP("modbus.rtu", rtu_keys, "Modbus RTU serial line");
const struct group g_device = GROUP("modbus.devices", device_keys, "one Modbus device (list element)");
const struct group g_point = GROUP("modbus.devices.points", point_keys, "one point (list element)");

/* The index enums must match the tables (designated initialisers leave a
 * hole, never a shift, but a forgotten key would still go unnoticed). */
_Static_assert(ARRAY_SIZE(bus_keys) == BK_N, "bus_keys");
_Static_assert(ARRAY_SIZE(tcp_keys) == TK_N, "tcp_keys");
_Static_assert(ARRAY_SIZE(rtu_keys) == UK_N, "rtu_keys");
_Static_assert(ARRAY_SIZE(device_keys) == DK_N, "device_keys");
_Static_assert(ARRAY_SIZE(point_keys) == PK_N && PK_N <= MAX_KEYS, "point_keys");

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
	schema_apply(c, ps, ps, &g_point, p, path, sn);
	if (!p->quantity && p->channel)
		p->quantity = xstrdup(p->channel);
	bits = ok(&sn[PK_TABLE]) && is_bit_table(p->table);

	if (!ok(&sn[PK_TYPE])) {
		p->type = bits ? CC_T_BOOL : CC_T_UINT16;
	} else if (bits && p->type != CC_T_BOOL) {
		err_key(c, sn, PK_TYPE, point_keys, NULL, path, "%s cannot be read from the %s table (single bits): use bool",
			regtype_name(p->type), table_name(p->table));
	}
	if (ok(&sn[PK_ORDER]) && sn[PK_ORDER].idx >= 4) {
		p->order = (enum cc_order)(sn[PK_ORDER].idx - 4);
		if (ok(&sn[PK_TYPE]) && regtype_words(p->type) != 4)
			err_key(c, sn, PK_ORDER, point_keys, NULL, path, "%s is a 64-bit order but type %s is not 64-bit: use %s",
				modbus_order_names[sn[PK_ORDER].idx], regtype_name(p->type),
				modbus_order_names[sn[PK_ORDER].idx - 4]);
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
		err_key(c, sn, PK_BIT, point_keys, ps, path,
			"missing required key (type bool on the %s table reads one bit 0..15 of a register)",
			table_name(p->table));
	}
	if (ok(&sn[PK_ADDRESS]) && ok(&sn[PK_TABLE])) {
		int words = bits ? 1 : regtype_words(p->type);
		if ((long)p->address + words - 1 > 65535)
			err_key(c, sn, PK_ADDRESS, point_keys, NULL, path,
				"%s at %u needs %d registers, past the last address 65535", regtype_name(p->type),
				(unsigned)p->address, words);
	}
	if (ok(&sn[PK_MIN]) && ok(&sn[PK_MAX]) && !(p->scaling.valid_min < p->scaling.valid_max))
		err_key(c, sn, PK_MAX, point_keys, NULL, path, "%g must be greater than min %g", p->scaling.valid_max,
			p->scaling.valid_min);
	return c->nerr - before;
}

void point_free(struct cc_point_conf *p)
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

/* A list of points being loaded: pts[0..nprior) were there before (a
 * template's, named tmpl_name, from tmpl_file). */
struct point_list {
	struct cc_point_conf *pts;
	size_t nprior;
	const config_setting_t **psets; /* the setting of pts[nprior + i], for "already defined at" */
	char *pbad; /* points with an error of their own take no part in the overlap check */
	const char *tmpl_name, *tmpl_file;
};

/* Where pts[j] was: its line, or its template. */
static char *point_where(struct ctx *c, const struct point_list *pl, size_t j, const config_setting_t *el)
{
	if (j < pl->nprior)
		return xasprintf("template \"%s\", %s:%d", pl->tmpl_name ? pl->tmpl_name : "?",
				 pl->tmpl_file ? pl->tmpl_file : "?", pl->pts[j].line);
	return err_where(c, pl->psets[j - pl->nprior], el);
}

/* The point just loaded (pts[n - 1], setting el, path pp) against the ones
 * before it: registers read twice unless declared. */
static void check_overlap(struct ctx *c, const struct point_list *pl, size_t n, const config_setting_t *el,
			  const char *pp)
{
	const struct cc_point_conf *p = &pl->pts[n - 1];

	for (size_t j = 0; !pl->pbad[n - 1] && !p->overlap && j < n - 1; j++) {
		char sa[96], sb[96], *kp, *w;
		const config_setting_t *as;

		if (pl->pbad[j] || pl->pts[j].overlap || !points_overlap(&pl->pts[j], p))
			continue;
		point_span(p, sa, sizeof(sa));
		point_span(&pl->pts[j], sb, sizeof(sb));
		as = config_setting_get_member(el, "address");
		kp = key_path(pp, "address");
		w = point_where(c, pl, j, el);
		err_at(c, as ? as : el, kp,
		       "%s overlaps %s of point \"%s\" (%s): set overlap = true on one of them if the same "
		       "registers are read on purpose", sa, sb, pl->pts[j].channel ? pl->pts[j].channel : "?", w);
		free(kp);
		free(w);
		break;
	}
}

/* The same for its channel name: unique within the device. */
static void check_channel_unique(struct ctx *c, const struct point_list *pl, size_t n, const config_setting_t *el,
				 const char *pp)
{
	const struct cc_point_conf *p = &pl->pts[n - 1];

	for (size_t j = 0; p->channel && j < n - 1; j++) {
		const config_setting_t *cs = config_setting_get_member(el, "channel");
		char *kp, *w;

		if (!pl->pts[j].channel || strcmp(pl->pts[j].channel, p->channel) != 0)
			continue;
		kp = key_path(pp, "channel");
		if (j < pl->nprior) {
			err_at(c, cs, kp, "channel \"%s\" is already defined by template \"%s\"", p->channel,
			       pl->tmpl_name ? pl->tmpl_name : "?");
		} else {
			w = err_where(c, pl->psets[j - pl->nprior], el);
			err_at(c, cs, kp, "channel \"%s\" is already defined at %s", p->channel, w);
			free(w);
		}
		free(kp);
		break;
	}
}

/* Loads a list of points into pts[*npts...] (room allocated by the caller)
 * and checks that no channel repeats and no registers are read twice unless
 * declared (overlap = true), including the nprior points already there (a
 * template's, named tmpl_name, from tmpl_file). */
void load_points(struct ctx *c, const config_setting_t *list, const char *base, struct cc_point_conf *pts,
		 size_t *npts, const char *tmpl_name, const char *tmpl_file)
{
	int n = config_setting_length(list);
	struct point_list pl = { pts, *npts, xcalloc((size_t)n + 1, sizeof(*pl.psets)),
				 xcalloc(*npts + (size_t)n + 1, 1), tmpl_name, tmpl_file };

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
		pl.pbad[*npts] = load_point(c, el, pp, p) > 0;
		pl.psets[*npts - pl.nprior] = el;
		(*npts)++;
		check_overlap(c, &pl, *npts, el, pp);
		check_channel_unique(c, &pl, *npts, el, pp);
		free(pp);
	}
	free(pl.psets);
	free(pl.pbad);
}

static void load_device(struct ctx *c, const config_setting_t *ds, struct cc_bus_conf *b, int kind,
			struct cc_device_conf *d, const char *dpath)
{
	struct seen sn[MAX_KEYS];
	struct tmpl *t = NULL;
	int tmpl_failed = 0;
	size_t ninline = 0;
	char *kp;

	d->line = src_line(ds);
	schema_apply(c, ds, ds, &g_device, d, dpath, sn);

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

/* The bus's link: exactly one of tcp and rtu.  Returns 1 tcp, 2 rtu, 0 unknown. */
static int load_link(struct ctx *c, const config_setting_t *bs, struct cc_bus_conf *b, const char *bpath,
		     const struct seen *sn)
{
	struct seen sub[MAX_KEYS];
	int kind = 0;
	char *kp;

	if (sn[BK_TCP].s && sn[BK_RTU].s) {
		err_at(c, sn[BK_RTU].s, bpath, "set exactly one of tcp and rtu, not both");
	} else if (!sn[BK_TCP].s && !sn[BK_RTU].s) {
		err_at(c, bs, bpath, "missing tcp or rtu (one of them is required)");
	}
	if (ok(&sn[BK_RTU]) && !sn[BK_TCP].s) {
		kind = 2;
		b->is_rtu = 1;
	} else if (ok(&sn[BK_TCP]) && !sn[BK_RTU].s) {
		kind = 1;
	}
	/* both set: still check each, so one run shows every error */
	if (ok(&sn[BK_RTU]) && (kind == 2 || sn[BK_TCP].s)) {
		kp = key_path(bpath, "rtu");
		schema_apply(c, sn[BK_RTU].s, bs, &g_rtu, b, kp, sub);
		free(kp);
	}
	if (ok(&sn[BK_TCP]) && (kind == 1 || sn[BK_RTU].s)) {
		kp = key_path(bpath, "tcp");
		schema_apply(c, sn[BK_TCP].s, bs, &g_tcp, b, kp, sub);
		free(kp);
	}
	return kind;
}

struct device_list {
	struct cc_bus_conf *b;
	int kind;
};

static void device_elem(struct ctx *c, const config_setting_t *el, const char *path, void *arg)
{
	struct device_list *dl = arg;

	load_device(c, el, dl->b, dl->kind, &dl->b->devices[dl->b->ndevices++], path);
}

static void load_bus(struct ctx *c, const config_setting_t *bs, struct cc_bus_conf *b, const char *bpath)
{
	struct seen sn[MAX_KEYS];
	struct device_list dl = { b, 0 };

	b->line = src_line(bs);
	schema_apply(c, bs, bs, &g_bus, b, bpath, sn);
	if (ok(&sn[BK_NAME]))
		name_unique(c, &c->buses, "bus", b->name, bs, sn[BK_NAME].s, bpath, "name");
	dl.kind = load_link(c, bs, b, bpath, sn);
	if (!ok(&sn[BK_TURNAROUND]))
		b->turnaround_ms = b->is_rtu ? 20 : 0;

	if (ok(&sn[BK_DEVICES])) {
		const config_setting_t *list = sn[BK_DEVICES].s;
		size_t n = (size_t)config_setting_length(list);
		char *base = key_path(bpath, "devices");

		if (n == 0)
			err_at(c, list, base, "must list at least one device");
		b->devices = xcalloc(n + 1, sizeof(*b->devices));
		schema_each_group(c, list, base, "name", device_elem, &dl);
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

static void bus_elem(struct ctx *c, const config_setting_t *el, const char *path, void *arg)
{
	struct cc_config *cfg = arg;

	load_bus(c, el, &cfg->buses[cfg->nbuses++], path);
}

/* The channels the points feed: their strings belong to the configuration. */
static void fill_channels(struct cc_config *cfg)
{
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
}

void load_modbus(struct ctx *c, const config_setting_t *list)
{
	struct cc_config *cfg = c->cfg;

	cfg->buses = xcalloc((size_t)config_setting_length(list) + 1, sizeof(*cfg->buses));
	schema_each_group(c, list, "modbus", "name", bus_elem, cfg);
	fill_channels(cfg);
}

void free_modbus(struct cc_config *cfg)
{
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
	schema_print_keys(f, "        ", &g_device, d, 0);
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
		schema_print_keys(f, "", &g_point, &d->points[i], 1);
		fprintf(f, " }%s\n", i + 1 < d->npoints ? "," : "");
	}
	fputs("        );\n", f);
	fputs("      }", f);
}

/* The buses, inside "modbus = ( ... );". */
void print_modbus(const struct cc_config *cfg, FILE *f)
{
	for (size_t i = 0; i < cfg->nbuses; i++) {
		const struct cc_bus_conf *b = &cfg->buses[i];

		fputs("  {\n", f);
		schema_print_key(f, "    ", &bus_keys[BK_NAME], b);
		fputs("\n    ", f);
		fputs(b->is_rtu ? "rtu = { " : "tcp = { ", f);
		schema_print_keys(f, "", b->is_rtu ? &g_rtu : &g_tcp, b, 1);
		fputs(" };\n", f);
		for (size_t k = 0; k < g_bus.nkeys; k++) {
			if (k == BK_NAME || bus_keys[k].kt == KT_GROUP || bus_keys[k].kt == KT_LIST)
				continue;
			if (schema_print_key(f, "    ", &bus_keys[k], b))
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
}
