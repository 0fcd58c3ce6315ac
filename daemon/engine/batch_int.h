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

/* Per kind (fumb_: fumigation, dryb_: drying).  init maps the profile and
 * line onto the model (0, or -errno); wanted/conf/text build the alarms;
 * sample takes one reading of a channel in role; newest is the newest
 * reading's time; eval runs the alarms judged at `at`; point emits the
 * process points; stop takes the final verdicts; json and history show
 * the figures. */
int fumb_init(struct ebatch *b, const struct cc_process_profile *prof, const struct engine_batch_opts *o);
int fumb_alarm_wanted(const struct ebatch *b, int k);
void fumb_alarm_conf(const struct ebatch *b, int k, struct alarm_conf *c);
char *fumb_alarm_text(const struct ebatch *b, int k);
void fumb_sample(struct ebatch *b, int role, int64_t ts_ns, double v);
int64_t fumb_newest_ns(const struct ebatch *b);
void fumb_eval(struct engine *e, struct ebatch *b, int64_t now_ms, int64_t at);
void fumb_eval_workers(struct engine *e, struct ebatch *b, int64_t now_ms);
void fumb_point(struct engine *e, struct lp_buf *lb, const struct ebatch *b, int64_t at);
void fumb_stop(struct engine *e, struct ebatch *b, int64_t now_ns);
void fumb_json(cJSON *x, const struct ebatch *b, int64_t at);
void fumb_history(cJSON *x, const struct ebatch *b);
int fumb_phase(struct ebatch *b, const char *phase, int64_t at_ns);
const char *fumb_phase_name(int phase);

int dryb_init(struct ebatch *b, const struct cc_process_profile *prof, const struct engine_batch_opts *o);
int dryb_alarm_wanted(const struct ebatch *b, int k);
void dryb_alarm_conf(const struct ebatch *b, int k, struct alarm_conf *c);
char *dryb_alarm_text(const struct ebatch *b, int k);
void dryb_sample(struct ebatch *b, int role, int64_t ts_ns, double v);
int64_t dryb_newest_ns(const struct ebatch *b);
void dryb_eval(struct engine *e, struct ebatch *b, int64_t now_ms, int64_t at);
void dryb_point(struct engine *e, struct lp_buf *lb, const struct ebatch *b, int64_t at);
void dryb_stop(struct engine *e, struct ebatch *b, int64_t now_ns);
void dryb_json(cJSON *x, const struct ebatch *b, int64_t at);
void dryb_history(cJSON *x, const struct ebatch *b);

#endif
