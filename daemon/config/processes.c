/* processes.c - the processing lines of the configuration (issue 14):
 * `processes = ( { name; kind; medium; probes; c_ref; set_point; } )`, the
 * precoolers, chillers, chambers and dryers batches run on.  Table, loader,
 * checks, printer, destructor and the lookup. */
#include "config_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { LN_NAME, LN_KIND, LN_MEDIUM, LN_PROBES, LN_C_REF, LN_SET_POINT, LN_N };
static const struct key line_keys[] = {
	[LN_NAME] = { .name = "name", .kt = KT_NAME, .flags = KF_REQ, .off = OFF(cc_process_conf, name),
		      .help = "line name, unique (\"precooler-1\"): a batch names it, tag \"process\"" },
	[LN_KIND] = { .name = "kind", .kt = KT_ENUM, .flags = KF_REQ, .off = OFF(cc_process_conf, kind),
		      .enums = process_kind_names, .store = ES_INT,
		      .help = "what the line does: a batch takes a process profile of the same kind" },
	[LN_MEDIUM] = { .name = "medium", .kt = KT_STR, .flags = KF_REQ, .off = OFF(cc_process_conf, medium),
			.help = "channel id SENSOR/CHANNEL of the cooling medium (supply air or water)" },
	[LN_PROBES] = { .name = "probes", .kt = KT_LIST, .flags = KF_REQ, .range = "1..8 channel ids, each once",
			.help = "channel ids SENSOR/CHANNEL of the product probes (pulp or core), as an array "
				"[ \"p/1\", \"p/2\" ]; the slowest drives the verdicts" },
	[LN_C_REF] = { .name = "c_ref", .kt = KT_DBL, .flags = KF_DYN, .off = OFF(cc_process_conf, c_ref_h),
		       .def = "the profile's c_ref",
		       .help = "this line's commissioned cooling coefficient (median of >= 5 good batches), 1/h; "
			       "graded; wins over the profile's" },
	[LN_SET_POINT] = { .name = "set_point", .kt = KT_DBL, .flags = KF_DYN, .off = OFF(cc_process_conf, set_point_c),
			   .def = "none (no medium-hot verdict)", .help = "the medium's set-point, °C; graded" },
};
_Static_assert(ARRAY_SIZE(line_keys) == LN_N, "line_keys");

const struct group g_line = GROUP("processes", line_keys, "processing lines that run monitored batches");

struct line_list {
	struct names names;
	struct names chans; /* every medium and probe channel: one line each */
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
		err_at(c, s, kp, "channel \"%s\" is already a medium or probe (%s): one role each", id, w);
		free(w);
	}
}

static void line_probes(struct ctx *c, struct line_list *ll, struct cc_process_conf *l, const config_setting_t *ps,
			const char *path)
{
	int n = config_setting_length(ps);
	char *kp = key_path(path, "probes");

	if (config_setting_type(ps) != CONFIG_TYPE_ARRAY && config_setting_type(ps) != CONFIG_TYPE_LIST)
		err_at(c, ps, kp, "must be an array of channel ids [ \"SENSOR/CHANNEL\", ... ]");
	else if (n < 1 || n > CC_PROCESS_PROBES_MAX)
		err_at(c, ps, kp, "%d probes: a line has 1 to %d", n, CC_PROCESS_PROBES_MAX);
	for (int i = 0; i < n && i < CC_PROCESS_PROBES_MAX; i++) {
		const config_setting_t *el = config_setting_get_elem(ps, (unsigned)i);
		const char *v = config_setting_get_string(el);
		char *ep = xasprintf("%s[%d]", kp, i);
		if (!v || !*v)
			err_at(c, el, ep, "must be a channel id string \"SENSOR/CHANNEL\"");
		else {
			line_channel(c, ll, v, el, ep);
			l->probes[l->nprobes++] = xstrdup(v);
		}
		free(ep);
	}
	free(kp);
}

static void line_elem(struct ctx *c, const config_setting_t *el, const char *path, void *arg)
{
	struct line_list *ll = arg;
	struct cc_process_conf *l = &c->cfg->processes[c->cfg->nprocesses++];
	struct seen sn[MAX_KEYS];

	l->line = src_line(el);
	l->kind = -1;
	l->c_ref_h = l->set_point_c = NAN;
	c->gparams = &l->params;
	c->gnparams = &l->nparams;
	c->ggroup = "processes";
	c->gindex = -1;
	schema_apply(c, el, el, &g_line, l, path, sn);
	c->gparams = NULL;
	if (!sn[LN_C_REF].s || sn[LN_C_REF].bad)
		l->c_ref_h = NAN;
	if (!sn[LN_SET_POINT].s || sn[LN_SET_POINT].bad)
		l->set_point_c = NAN;
	if (ok(&sn[LN_C_REF]) && !(l->c_ref_h > 0))
		err_key(c, sn, LN_C_REF, line_keys, el, path, "%g must be positive", l->c_ref_h);
	name_unique(c, &ll->names, "process", l->name, el, config_setting_get_member(el, "name"), path, "name");
	if (ok(&sn[LN_MEDIUM])) {
		char *kp = key_path(path, "medium");
		line_channel(c, ll, l->medium, sn[LN_MEDIUM].s, kp);
		free(kp);
	}
	if (sn[LN_PROBES].s)
		line_probes(c, ll, l, sn[LN_PROBES].s, path);
}

void load_lines(struct ctx *c, const config_setting_t *list)
{
	struct line_list ll = { { 0 }, { 0 } };

	if (!list)
		return;
	c->cfg->processes = xcalloc((size_t)config_setting_length(list) + 1, sizeof(*c->cfg->processes));
	schema_each_group(c, list, "processes", "name", line_elem, &ll);
	free(ll.names.v);
	free(ll.chans.v);
}

const struct cc_process_conf *config_find_process(const struct cc_config *cfg, const char *name)
{
	for (size_t i = 0; cfg && name && i < cfg->nprocesses; i++)
		if (cfg->processes[i].name && strcmp(cfg->processes[i].name, name) == 0)
			return &cfg->processes[i];
	return NULL;
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
		fputs("    probes = [ ", f);
		for (size_t j = 0; j < l->nprobes; j++) {
			schema_print_string(f, l->probes[j]);
			fputs(j + 1 < l->nprobes ? ", " : " ", f);
		}
		fprintf(f, "];\n  }%s\n", i + 1 < cfg->nprocesses ? "," : "");
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
		for (size_t j = 0; j < l->nparams; j++) {
			free(l->params[j].value);
			free(l->params[j].source);
		}
		free(l->params);
	}
	free(cfg->processes);
}
