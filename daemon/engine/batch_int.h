/* batch_int.h - what the batch files share (private to daemon/engine/
 * batch*.c): batch.c runs every batch (start, samples, ticks, stop,
 * release, status, the cooling kinds); batch_fum.c and batch_dry.c hold
 * what only a fumigation or a drying batch does. */
#ifndef CC_BATCH_INT_H
#define CC_BATCH_INT_H

#include <cjson/cJSON.h>

#include "engine_int.h"

#define H_MS 3600000.0
#define H_NS 3.6e12

/* ms as hours (unset: negative). */
double batch_ms_h(int64_t ms, double unset);
/* "batch B on P (PROFILE VERSION): WHAT (D-graded, an estimate: k1, k2)"
 * for the profile keys of group (or the line's own keys) graded D; what
 * is freed. */
char *batch_alarm_msg(const struct ebatch *b, const char *group, const char *const *keys, char *what);
/* Whether the profile (group) or the line grades key D: shown as an estimate. */
int batch_param_is_d(const struct ebatch *b, const char *group, const char *key);
/* A "process" point of b at `at`, tagged sensor (NULL: none). */
void batch_emit(struct engine *e, struct lp_buf *lb, const struct ebatch *b, const char *sensor,
		const struct lp_field *fl, size_t n, int64_t at);
void batch_field_f(struct lp_field *f, size_t *n, const char *k, double v);
void batch_field_i(struct lp_field *f, size_t *n, const char *k, int64_t v);
void batch_field_b(struct lp_field *f, size_t *n, const char *k, int v);
void batch_field_s(struct lp_field *f, size_t *n, const char *k, const char *v);
void batch_json_num(cJSON *o, const char *k, double v);
void batch_json_time(cJSON *o, const char *k, int64_t ns);
/* A latched fact raised once at now_ms (a pull verdict): on, then off. */
void batch_alarm_fact(struct engine *e, struct ealarm *ea, int64_t now_ms, double v);

/*
 * What each kind of batch does, as a const table (batch_kind_cool in
 * batch_cool.c: precooling and carcass chilling; batch_kind_fum,
 * batch_kind_dry).  init maps the profile and line onto the model (0, or
 * -errno); alarm_wanted, alarm_conf (severity, latched, on-delay, limit)
 * and alarm_text build the alarms; sample takes one reading of a channel
 * in role (enum eproc_role, or a probe's or outside sensor's index);
 * newest_ns is the newest reading's time and window_ms how long readings
 * may pause before the batch is judged at the wall clock (batch_at); eval
 * runs the alarms judged at `at`; point emits the process points; stop
 * takes the final verdicts (alarms, log); json and history show the
 * figures; final_c (NULL: none) is the released lot's pre-monitoring
 * temperature.
 */
struct batch_kind {
	int (*init)(struct ebatch *b, const struct cc_process_profile *prof, const struct engine_batch_opts *o);
	int (*alarm_wanted)(const struct ebatch *b, int k);
	void (*alarm_conf)(const struct ebatch *b, int k, struct alarm_conf *c);
	char *(*alarm_text)(const struct ebatch *b, int k);
	void (*sample)(struct engine *e, struct ebatch *b, int role, int64_t ts_ns, double v);
	int64_t (*newest_ns)(const struct ebatch *b);
	int64_t (*window_ms)(const struct engine *e, const struct ebatch *b);
	void (*eval)(struct engine *e, struct ebatch *b, int64_t now_ms, int64_t at);
	void (*point)(struct engine *e, struct lp_buf *lb, const struct ebatch *b, int64_t at);
	void (*stop)(struct engine *e, struct ebatch *b, int64_t now_ns, const char *user);
	void (*json)(cJSON *x, const struct ebatch *b, int64_t at);
	void (*history)(cJSON *x, const struct ebatch *b);
	double (*final_c)(const struct ebatch *b);
};
extern const struct batch_kind batch_kind_cool, batch_kind_fum, batch_kind_dry;

/* Fumigation: the operator's phase ("burning", ...; -EINVAL otherwise). */
int fumb_phase(struct ebatch *b, const char *phase, int64_t at_ns);
/* Batches other than precooling and chilling: judged after a pause of
 * alarms.stale_after. */
int64_t batch_stale_window_ms(const struct engine *e, const struct ebatch *b);

#endif
