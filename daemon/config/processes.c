/* processes.c - the processing lines of the configuration (issue 14):
 * `processes = ( { name; kind; ...channel roles of its kind... } )`, the
 * precoolers, chillers, fumigation chambers and dryers batches run on.  Table, loader,
 * checks, printer, destructor and the lookup. */
#include "config_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum {
	LN_NAME, LN_KIND, LN_MEDIUM, LN_PROBES, LN_C_REF, LN_SET_POINT,
	LN_CHAMBER, LN_OUTSIDE, LN_DOOR, LN_CHAMBER_T, LN_CHAMBER_RH, LN_PURGE_FAN, LN_FREE_VOLUME, LN_AIR_CHANGES, LN_SULPHUR,
	LN_AIR, LN_AIR_RH, LN_EXHAUST_T, LN_EXHAUST_RH, LN_AMBIENT_T, LN_AMBIENT_RH, LN_LOADCELL, LN_AIR_FLOW,
	LN_GIBLETS, LN_N
};
#define CHAN_KEY(K, NAME, FIELD, HELP) \
	[K] = { .name = NAME, .kt = KT_STR, .off = OFF(cc_process_conf, FIELD), .help = HELP }
#define GRADED_KEY(K, NAME, FIELD, HELP) \
	[K] = { .name = NAME, .kt = KT_DBL, .flags = KF_DYN, .off = OFF(cc_process_conf, FIELD), .def = "none", .help = HELP }
static const struct key line_keys[] = {
	[LN_NAME] = { .name = "name", .kt = KT_NAME, .flags = KF_REQ, .off = OFF(cc_process_conf, name),
		      .help = "line name, unique (\"precooler-1\"): a batch names it, tag \"process\"" },
	[LN_KIND] = { .name = "kind", .kt = KT_ENUM, .flags = KF_REQ, .off = OFF(cc_process_conf, kind),
		      .enums = process_kind_names, .store = ES_INT,
		      .help = "what the line does: a batch takes a process profile of the same kind" },
	[LN_MEDIUM] = { .name = "medium", .kt = KT_STR, .off = OFF(cc_process_conf, medium),
			.help = "precool, carcass_chill (required): channel id SENSOR/CHANNEL of the cooling medium "
				"(supply air or water)" },
	[LN_PROBES] = { .name = "probes", .kt = KT_LIST, .range = "1..8 channel ids, each once",
			.help = "precool, carcass_chill (required): channel ids SENSOR/CHANNEL of the product probes "
				"(pulp or core), as an array [ \"p/1\", \"p/2\" ]; the slowest drives the verdicts" },
	[LN_C_REF] = { .name = "c_ref", .kt = KT_DBL, .flags = KF_DYN, .off = OFF(cc_process_conf, c_ref_h),
		       .def = "the profile's c_ref",
		       .help = "precool: this line's commissioned cooling coefficient (median of >= 5 good batches), 1/h; "
			       "graded; wins over the profile's" },
	[LN_SET_POINT] = { .name = "set_point", .kt = KT_DBL, .flags = KF_DYN, .off = OFF(cc_process_conf, set_point_c),
			   .def = "none (no medium-hot verdict)", .help = "precool: the medium's set-point, °C; graded" },
	CHAN_KEY(LN_CHAMBER, "chamber", chamber, "fumigation (required): channel id of the chamber SO2 sensor, ppm"),
	[LN_OUTSIDE] = { .name = "outside", .kt = KT_LIST, .range = "1..8 channel ids, each once",
			 .help = "fumigation (required): channel ids of the SO2 sensors outside the chamber (worker "
				 "exposure, ppm), as an array [ \"door/so2\" ]" },
	CHAN_KEY(LN_DOOR, "door", door,
		 "fumigation: channel id of the chamber door contact (non-zero: open, as a room's door); opened while "
		 "the chamber is above the profile's entry_limit: critical alarm"),
	CHAN_KEY(LN_CHAMBER_T, "chamber_t", chamber_t, "fumigation: channel id of the chamber air temperature, °C"),
	CHAN_KEY(LN_CHAMBER_RH, "chamber_rh", chamber_rh, "fumigation: channel id of the chamber relative humidity, %"),
	CHAN_KEY(LN_PURGE_FAN, "purge_fan", purge_fan,
		 "fumigation: channel id of the purge fan (>= 0.5: on); its switch-on enters the purge phase"),
	GRADED_KEY(LN_FREE_VOLUME, "free_volume", free_volume_m3,
		   "fumigation: the chamber's free volume, m³, for the nominal dose; graded"),
	GRADED_KEY(LN_AIR_CHANGES, "air_changes", air_changes_h,
		   "fumigation: air changes per hour while purging, for the purge estimate; graded"),
	GRADED_KEY(LN_SULPHUR, "sulphur_dose", sulphur_kg_t,
		   "fumigation: sulphur burnt per tonne of fruit, kg S/t, for the nominal dose; graded"),
	CHAN_KEY(LN_AIR, "air", air, "drying (required): channel id of the kiln air temperature, °C"),
	CHAN_KEY(LN_AIR_RH, "air_rh", air_rh, "drying: channel id of the kiln air relative humidity, %"),
	CHAN_KEY(LN_EXHAUST_T, "exhaust_t", exhaust_t, "drying: channel id of the exhaust air temperature, °C"),
	CHAN_KEY(LN_EXHAUST_RH, "exhaust_rh", exhaust_rh, "drying: channel id of the exhaust relative humidity, %"),
	CHAN_KEY(LN_AMBIENT_T, "ambient_t", ambient_t, "drying: channel id of the ambient (outdoor) temperature, °C"),
	CHAN_KEY(LN_AMBIENT_RH, "ambient_rh", ambient_rh, "drying: channel id of the ambient (outdoor) relative humidity, %"),
	CHAN_KEY(LN_LOADCELL, "loadcell", loadcell, "drying: channel id of the load cell, net kg (tare subtracted)"),
	GRADED_KEY(LN_AIR_FLOW, "air_flow", air_flow_kg_s,
		   "drying: dry-air flow through the kiln, kg/s, for the exhaust water balance; graded"),
	[LN_GIBLETS] = { .name = "giblets", .kt = KT_LIST, .range = "1..8 channel ids, each once",
			 .help = "carcass_chill: channel ids of giblet probes, as an array [ \"g/1\" ]; giblets must reach "
				 "the target within the profile's giblets_deadline of the batch start (removal)" },
};
_Static_assert(ARRAY_SIZE(line_keys) == LN_N, "line_keys");

/* Which kinds each key belongs to (bit per enum cc_process_kind) and which
 * it is required for. */
#define K_COOL ((1u << CC_PROCESS_PRECOOL) | (1u << CC_PROCESS_CARCASS_CHILL))
#define K_FUM (1u << CC_PROCESS_FUMIGATION)
#define K_DRY (1u << CC_PROCESS_DRYING)
#define K_CHILL (1u << CC_PROCESS_CARCASS_CHILL)
static const struct {
	unsigned kinds, required;
} key_kinds[LN_N] = {
	[LN_MEDIUM] = { K_COOL, K_COOL },    [LN_PROBES] = { K_COOL, K_COOL },
	[LN_C_REF] = { K_COOL, 0 },          [LN_SET_POINT] = { K_COOL, 0 },
	[LN_CHAMBER] = { K_FUM, K_FUM },     [LN_OUTSIDE] = { K_FUM, K_FUM },
	[LN_DOOR] = { K_FUM, 0 },            [LN_CHAMBER_T] = { K_FUM, 0 },
	[LN_CHAMBER_RH] = { K_FUM, 0 },      [LN_PURGE_FAN] = { K_FUM, 0 },
	[LN_FREE_VOLUME] = { K_FUM, 0 },
	[LN_AIR_CHANGES] = { K_FUM, 0 },     [LN_SULPHUR] = { K_FUM, 0 },
	[LN_AIR] = { K_DRY, K_DRY },         [LN_AIR_RH] = { K_DRY, 0 },
	[LN_EXHAUST_T] = { K_DRY, 0 },       [LN_EXHAUST_RH] = { K_DRY, 0 },
	[LN_AMBIENT_T] = { K_DRY, 0 },       [LN_AMBIENT_RH] = { K_DRY, 0 },
	[LN_LOADCELL] = { K_DRY, 0 },        [LN_AIR_FLOW] = { K_DRY, 0 },
	[LN_GIBLETS] = { K_CHILL, 0 },
};

const struct group g_line = GROUP("processes", line_keys, "processing lines that run monitored batches");

struct line_list {
	struct names names;
	struct names chans; /* every channel of every line: one role each */
};

/* A channel id of line l (key k, list element idx or -1) at setting s. */
static void line_channel(struct ctx *c, struct line_list *ll, const char *id, const config_setting_t *s,
			 const char *kp)
{
	char *why = check_channel(c->cfg, id);
	const config_setting_t *first;

	if (why) {
		err_at(c, s, kp, "%s", why);
		free(why);
		return;
	}
	if ((first = names_add(&ll->chans, id, s))) {
		char *w = err_where(c, first, s);
		err_at(c, s, kp, "channel \"%s\" already has a role on a line (%s): one role each", id, w);
		free(w);
	}
}

/* A list of 1..8 channel ids (probes, outside) into v[*n]. */
static void line_list_chans(struct ctx *c, struct line_list *ll, char **v, size_t *nv, const config_setting_t *ps,
			    const char *path, const char *key, const char *what)
{
	int n = config_setting_length(ps);
	char *kp = key_path(path, key);

	if (config_setting_type(ps) != CONFIG_TYPE_ARRAY && config_setting_type(ps) != CONFIG_TYPE_LIST)
		err_at(c, ps, kp, "must be an array of channel ids [ \"SENSOR/CHANNEL\", ... ]");
	else if (n < 1 || n > CC_PROCESS_PROBES_MAX)
		err_at(c, ps, kp, "%d %s: a line has 1 to %d", n, what, CC_PROCESS_PROBES_MAX);
	for (int i = 0; i < n && i < CC_PROCESS_PROBES_MAX; i++) {
		const config_setting_t *el = config_setting_get_elem(ps, (unsigned)i);
		const char *v_ = config_setting_get_string(el);
		char *ep = xasprintf("%s[%d]", kp, i);
		if (!v_ || !*v_)
			err_at(c, el, ep, "must be a channel id string \"SENSOR/CHANNEL\"");
		else {
			line_channel(c, ll, v_, el, ep);
			v[(*nv)++] = xstrdup(v_);
		}
		free(ep);
	}
	free(kp);
}

/* Each key of the line's kind present when required, none of another kind;
 * the channels of its roles checked. */
static void line_role(struct ctx *c, struct line_list *ll, struct cc_process_conf *l, const config_setting_t *el,
		      const char *path, const struct seen *sn, int k)
{
	char *kp = key_path(path, line_keys[k].name);
	double *d = (double *)(void *)((char *)l + line_keys[k].off);

	if (k == LN_PROBES)
		line_list_chans(c, ll, l->probes, &l->nprobes, sn[k].s, path, "probes", "probes");
	else if (k == LN_OUTSIDE)
		line_list_chans(c, ll, l->outside, &l->noutside, sn[k].s, path, "outside", "outside sensors");
	else if (k == LN_GIBLETS)
		line_list_chans(c, ll, l->giblets, &l->ngiblets, sn[k].s, path, "giblets", "giblet probes");
	else if (line_keys[k].kt == KT_STR)
		line_channel(c, ll, *(char **)(void *)((char *)l + line_keys[k].off), sn[k].s, kp);
	else if (k != LN_SET_POINT && !(*d > 0))
		err_key(c, sn, k, line_keys, el, path, "%g must be positive", *d);
	free(kp);
}

/* Each key of the line's kind present when required, none of another kind;
 * numbers first, then the channels of its roles.  An unknown kind: every
 * key present is checked, none required. */
static void line_roles(struct ctx *c, struct line_list *ll, struct cc_process_conf *l, const config_setting_t *el,
		       const char *path, const struct seen *sn)
{
	unsigned kb = l->kind >= 0 ? 1u << l->kind : ~0u;

	for (int pass = 0; pass < 2; pass++)
		for (int k = LN_MEDIUM; k < LN_N; k++) {
			int chan = line_keys[k].kt != KT_DBL;
			if (chan != pass)
				continue;
			if (!(key_kinds[k].kinds & kb)) {
				if (sn[k].s)
					err_key(c, sn, k, line_keys, el, path, "does not apply to kind %s",
						process_kind_names[l->kind]);
				continue;
			}
			if (!sn[k].s && (key_kinds[k].required & kb) && l->kind >= 0)
				err_key(c, sn, k, line_keys, el, path, "missing required key");
			if (ok(&sn[k]))
				line_role(c, ll, l, el, path, sn, k);
		}
}

static void line_elem(struct ctx *c, const config_setting_t *el, const char *path, void *arg)
{
	static const int graded[] = { LN_C_REF, LN_SET_POINT, LN_FREE_VOLUME, LN_AIR_CHANGES, LN_SULPHUR, LN_AIR_FLOW };
	struct line_list *ll = arg;
	struct cc_process_conf *l = &c->cfg->processes[c->cfg->nprocesses++];
	struct seen sn[MAX_KEYS];

	l->line = src_line(el);
	l->kind = -1;
	l->c_ref_h = l->set_point_c = l->free_volume_m3 = l->air_changes_h = l->sulphur_kg_t = l->air_flow_kg_s = NAN;
	c->gparams = &l->params;
	c->gnparams = &l->nparams;
	c->ggroup = "processes";
	c->gindex = -1;
	schema_apply(c, el, el, &g_line, l, path, sn);
	c->gparams = NULL;
	for (size_t i = 0; i < ARRAY_SIZE(graded); i++)
		if (!sn[graded[i]].s || sn[graded[i]].bad)
			*(double *)(void *)((char *)l + line_keys[graded[i]].off) = NAN;
	name_unique(c, &ll->names, "process", l->name, el, config_setting_get_member(el, "name"), path, "name");
	if (!ok(&sn[LN_KIND]))
		l->kind = -1;
	line_roles(c, ll, l, el, path, sn);
}

void load_lines(struct ctx *c, const config_setting_t *list)
{
	struct line_list ll = { { 0 }, { 0 } };

	if (!list)
		return;
	c->cfg->processes = xcalloc((size_t)config_setting_length(list) + 1, sizeof(*c->cfg->processes));
	schema_each_group(c, list, "processes", "name", line_elem, &ll);
	names_free(&ll.names);
	names_free(&ll.chans);
}

const struct cc_process_conf *config_find_process(const struct cc_config *cfg, const char *name)
{
	for (size_t i = 0; cfg && name && i < cfg->nprocesses; i++)
		if (cfg->processes[i].name && strcmp(cfg->processes[i].name, name) == 0)
			return &cfg->processes[i];
	return NULL;
}

static void print_chan_list(FILE *f, const char *key, char *const *v, size_t n)
{
	if (!n)
		return;
	fprintf(f, "    %s = [ ", key);
	for (size_t j = 0; j < n; j++) {
		schema_print_string(f, v[j]);
		fputs(j + 1 < n ? ", " : " ", f);
	}
	fputs("];\n", f);
}

void print_lines(const struct cc_config *cfg, FILE *f)
{
	if (!cfg->nprocesses)
		return;
	fputs("\nprocesses = (\n", f);
	for (size_t i = 0; i < cfg->nprocesses; i++) {
		const struct cc_process_conf *l = &cfg->processes[i];
		fputs("  {\n", f);
		schema_print_graded_keys(f, "    ", &g_line, l, l->params, l->nparams, "processes", -1);
		print_chan_list(f, "probes", l->probes, l->nprobes);
		print_chan_list(f, "outside", l->outside, l->noutside);
		print_chan_list(f, "giblets", l->giblets, l->ngiblets);
		fprintf(f, "  }%s\n", i + 1 < cfg->nprocesses ? "," : "");
	}
	fputs(");\n", f);
}

void free_lines(struct cc_config *cfg)
{
	for (size_t i = 0; i < cfg->nprocesses; i++) {
		struct cc_process_conf *l = &cfg->processes[i];
		free(l->name);
		free(l->medium);
		for (size_t j = 0; j < l->nprobes; j++)
			free(l->probes[j]);
		for (size_t j = 0; j < l->noutside; j++)
			free(l->outside[j]);
		for (size_t j = 0; j < l->ngiblets; j++)
			free(l->giblets[j]);
		free(l->chamber);
		free(l->door);
		free(l->chamber_t);
		free(l->chamber_rh);
		free(l->purge_fan);
		free(l->air);
		free(l->air_rh);
		free(l->exhaust_t);
		free(l->exhaust_rh);
		free(l->ambient_t);
		free(l->ambient_rh);
		free(l->loadcell);
		for (size_t j = 0; j < l->nparams; j++) {
			free(l->params[j].value);
			free(l->params[j].source);
		}
		free(l->params);
	}
	free(cfg->processes);
}
