/* engine_int.h - what the files of the alarm and model engine share (the
 * engine's public interface is daemon/engine.h): its state, built by
 * build.c, evaluated by eval.c, published by publish.c, saved by
 * snapshot.c, changed at run time by lots.c and shown by status.c.
 * One mutex (struct engine's lock): samples come from several source
 * threads; the work per sample is small (a few comparisons and
 * exponentials), and no disk sync is ever done under it (the state file is
 * written after it is released, snapshot.c). */
#ifndef CC_ENGINE_INT_H
#define CC_ENGINE_INT_H

#include <cjson/cJSON.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "../../codec/lineproto.h"
#include "../config.h"
#include "../engine.h"
#include "../models/alarm.h"
#include "../models/chill.h"
#include "../models/cooling.h"
#include "../models/drying.h"
#include "../models/fumigation.h"
#include "../models/shelflife.h"

#define STATE_FILE "engine.state"
#define STATE_VERSION 1
#define SNAPSHOT_MS 60000
/* A change (an alarm's transition, an operator's action, a lot) is in the
 * state file within a second, but a large file not more often than one
 * every SIZE / SNAPSHOT_DIRTY_BPS seconds: a hub's 1.7 MB costs ~150 ms of
 * CPU to print and sync, and its alarms may change every second (issue 18:
 * at most ~5 % of a core); below 512 KB (a packhouse's few KB) nothing
 * changes.  The minute's snapshot and a stop are never held back. */
#define SNAPSHOT_DIRTY_BPS (512 * 1024)
/* An alarm.  A hub has tens of thousands (every room, lot and channel),
 * so one allocation each: room, sensor, channel and rule point into the
 * engine's string table (build_intern: shared by every alarm naming them,
 * freed with the engine), id and message into text[] after the struct (a
 * message replaced at run time, build_alarm_message_set, is its own). */
struct ealarm {
	struct alarm a;
	int64_t last_ev_ns;
	struct echan *src; /* the channel whose readings drive it (NULL: timers only) */
	struct alarm_ratelimit *notify; /* shared by the alarms of one channel */
	const char *room; /* interned; may be NULL */
	/* The message (build_alarm_message): when msg_split, msg ": " the
	 * conf's tail: a configured alarm's two parts are interned (msg "room
	 * R" or "lot L (p) in room R", shared by that room's or lot's alarms;
	 * the tail "air temperature above 7" by every room of a profile:
	 * issue 18, 4 MB at a hub).  Else msg is the whole: in text[] (an alarm
	 * made at run time), or its own (msg_own). */
	const char *msg;
	int8_t msg_split;
	int8_t temp_kind; /* a room temperature alarm: defrost suppresses it */
	int8_t msg_own;
	/* the alarm names a channel: src's id (ealarm_channel), its sensor the
	 * id's part before '/' (ealarm_sensor; issue 18: no pointers to them,
	 * 16 bytes less in each of a hub's 62,670 alarms) */
	int8_t has_chan;
	int8_t in_arena; /* configured: in the engine's alarm arena (build.c), freed with it */
	char text[];   /* id, NUL, [message, NUL] */
};

/* An alarm's configuration with what else its alarms share, interned per
 * engine (build.c's conf_intern): its rule and its message's tail (issue
 * 18: no pointers to them in each of a hub's 62,670 alarms).  a.c of every
 * engine alarm points to the c of one. */
struct econf {
	struct alarm_conf c; /* first */
	const char *rule; /* interned */
	const char *tail; /* interned; NULL: the message is not split */
};

static inline const struct econf *ealarm_conf(const struct ealarm *a)
{
	return (const struct econf *)(const void *)a->a.c;
}

static inline const char *ealarm_rule(const struct ealarm *a)
{
	return ealarm_conf(a)->rule;
}

/* The alarm's id: first in its text (no pointer to it: 16 bytes less in
 * the allocation of each of a hub's 62,670 alarms, malloc's steps). */
static inline const char *ealarm_id(const struct ealarm *a)
{
	return a->text;
}

/* An alarm's message as people read it: a->msg, or its two parts
 * joined in buf (cut at size - 1 bytes; names are bounded far below). */
#define ALARM_MSG_MAX 1024
const char *build_alarm_message(const struct ealarm *a, char *buf, size_t size);

/* Notification rate limit of one channel (or of a room-level alarm). */
struct enotify {
	char *key;
	struct alarm_ratelimit rl;
};

struct echan {
	const char *id; /* interned */
	int64_t interval_ms; /* poll interval when known, else 0 */
	int64_t last_good_ms;
	double value;        /* last good value, NaN */
	struct ealarm *stale, *fault;
	struct ealarm *stuck; /* air temperature only */
	double stuck_value;
	int64_t last_ms;     /* last sample of any quality (status), 0: none */
	int last_q;          /* its quality */
	/* Reading time against the wall clock: a reading older than the stale
	 * limit is late.  A run of late readings (a backlog) is "catching up"
	 * for at most one stale limit of wall time after it began; meanwhile
	 * the channel's alarms run on the readings' own times only. */
	int64_t newest_ms;       /* newest reading evaluated (older ones are not) */
	int64_t arrival_ms;      /* wall clock when it was processed */
	int64_t behind_since_ms; /* wall clock when the current run of late readings began, 0: none */
	uint64_t out_of_order;   /* readings older than newest_ms: recorded, not evaluated */
	struct eproc *proc;      /* the process (line) whose medium or probe it is, NULL: none */
	int proc_role;           /* enum eproc_role, or the probe's (outside sensor's) index */
	int line_only;           /* only process lines read it (no room, no rule): watched while a batch runs */
	struct etrend *trend;    /* a room's temperature, RH, door or CO2: its last 24 h (trend.c), else NULL */
	/* The rooms reading it (room index, role), in room then role order: a
	 * sample went through every room's every role (a hub's 16,000 per
	 * sample); and whether any rule reads it. */
	struct echan_use {
		uint32_t room;
		int role;
	} *uses;
	uint32_t nuses;
	int ruled;
};

/* The channel an alarm names (its source's id), NULL for none. */
static inline const char *ealarm_channel(const struct ealarm *a)
{
	return a->has_chan && a->src ? a->src->id : NULL;
}
/* Its sensor: the channel id's part before '/' in buf (NULL: no channel). */
const char *ealarm_sensor(const struct ealarm *a, char *buf, size_t size);

/* A channel's role on its process (negative; >= 0 is a probe or an
 * outside SO2 sensor by index). */
enum eproc_role {
	PROLE_MEDIUM = -1, PROLE_CHAMBER = -2, PROLE_DOOR = -3, PROLE_CHAMBER_T = -4, PROLE_CHAMBER_RH = -5,
	PROLE_AIR = -6, PROLE_AIR_RH = -7, PROLE_EXHAUST_T = -8, PROLE_EXHAUST_RH = -9, PROLE_AMBIENT_T = -10,
	PROLE_AMBIENT_RH = -11, PROLE_LOADCELL = -12, PROLE_PURGE_FAN = -13,
	PROLE_GIBLET = 64 /* + index: a chill line's giblet probes (above any probe index) */
};

/* A processing batch (batch.c) and the process (line) it runs on. */
enum { BA_PULLED_EARLY, BA_UNDERPERFORMING, BA_UNREACHABLE, BA_LATE_START, BA_PROBE_FAULT, BA_OVER_COOLING,
       BA_CHILL_MISSED, BA_CHILL_WARNING, BA_EXCURSION, BA_ICE, BA_NO_DATA, BA_FEW_PROBES, BA_GIBLETS_MISSED,
       BA_NOT_FRESH,
       /* fumigation (batch_fum.c) */
       BA_STEL, BA_STEL_WARN, BA_TWA_PROJECTED, BA_IDLH, BA_CT_UNDER, BA_CT_OVER, BA_CT_UNCERTAIN, BA_DOOR,
       BA_PURGE_OVERDUE, BA_FLAT,
       /* drying (batch_dry.c) */
       BA_SCORCH, BA_SCORCH_HIGH, BA_FAST_START, BA_STALL, BA_EXHAUST_SAT, BA_OPEN_AIR_WET, BA_LOADCELL,
       BA_PULLED_WET, BA_OVER_DRIED, BA_N };
#define BA_FUM_FIRST BA_STEL

/* A fumigation batch: the chamber's dose and each outside sensor's
 * worker exposure (models/fumigation.h). */
struct ebatch_fum {
	struct fum_chamber_params cp;
	struct fum_chamber_state cs;
	struct fum_exposure_params xp;
	struct fum_exposure_state xs[CC_PROCESS_PROBES_MAX];
	uint32_t nout;
	double tonnes;          /* NaN: not given */
	double nominal_g_m3;    /* NaN: no tonnes, volume or sulphur dose */
	double chamber_t, chamber_rh; /* the newest readings (NaN: none) */
};

/* A drying batch (models/drying.h) and the newest reading of each channel
 * the model takes in pairs (air T with RH, exhaust T with RH, ...). */
struct ebatch_dry {
	struct drying_params p;
	struct drying_state s;
	double air_rh, exh_t, exh_rh, amb_t, amb_rh;
};
enum ebatch_state { EBATCH_RUNNING, EBATCH_STOPPED, EBATCH_RELEASED };

struct batch_kind;
struct snap_pending; /* snapshot.c */
struct ebatch {
	char *id, *profile, *user, *lot; /* lot: where it was released (NULL: not yet) */
	const struct cc_process_conf *pc;
	const struct cc_process_profile *prof;
	int kind;        /* enum cc_process_kind */
	const struct batch_kind *ops; /* what its kind does (batch_int.h) */
	int64_t start_ns;
	struct engine_batch_opts opts; /* as started (a restore starts it again so) */
	struct ebatch_fum *fum; /* a fumigation batch's, else NULL */
	struct ebatch_dry *dry; /* a drying batch's, else NULL */
	int chill;       /* a carcass-chilling batch: cp and cs; precooling: p and b */
	struct cool_params p;
	struct cool_batch b;
	struct chill_params cp;
	struct chill_state cs;
	int state;       /* enum ebatch_state */
	int64_t stop_ns; /* when stopped (pulled): the final verdict's time */
	uint32_t fed;    /* samples since the last process point */
	int64_t arrival_ms; /* wall clock of the last sample fed (or of the start): see batch_at() */
	struct ealarm *al[BA_N];
	uint32_t few_n;  /* the probe count BA_FEW_PROBES's message states */
};

struct eproc {
	const struct cc_process_conf *pc;
	struct ebatch *active; /* NULL: none running */
	/* Its line-only channels' stale and fault alarms are suppressed while
	 * no batch runs (eval_line_state); busy_since_ms: when a batch began
	 * (wall clock), the stale limit counts from there. */
	int idle;
	int64_t busy_since_ms;
};

struct elot {
	const struct cc_lot_conf *lc;
	const struct cc_profile *prof;
	/* The model's parameters, shared by the lots of one profile and
	 * reading interval (build_lot: 10,000 lots at a hub carried 2.7 MB of
	 * copies); its loaded_ns and pre_c are 0 and NaN: the lot's own are
	 * these two, which only its first reading uses (lots_observe). */
	const struct lot_params *p;
	int64_t loaded_ns;
	double pre_c;
	struct lot_state s;
	struct ealarm *chill_warn, *chill_alarm, *wl_warn, *wl_alarm, *life_low, *dispatch;
	struct cc_lot_conf *own; /* a lot loaded at run time (control socket): its conf is ours */
	cJSON *history; /* processing steps before storage (a released batch): [{process, batch, ...}] */
};

enum { R_TEMP, R_RH, R_DOOR, R_DEFROST, R_OUT_T, R_OUT_RH, R_CO2, R_O2, R_N };

struct eroom {
	const struct cc_room_conf *rc;
	const struct cc_profile *prof;
	struct cc_limits lim;
	struct echan *ch[R_N];
	double v[R_N];
	/* the rate-of-change alarm's readings (2 KB): allocated at its first
	 * reading, only when the room has that alarm (issue 18: a hub's 2,000
	 * rooms carried 4 MB of rings no alarm read) */
	struct alarm_roc *roc;
	struct ealarm *t_hi, *t_hh, *t_lo, *t_ll, *rh_lo, *rh_ll, *rh_hi, *rh_hh, *rate, *door, *condens, *co2, *o2;
	struct ealarm *group;
	/* this room's raises: a flood groups them into group; allocated at the
	 * room's first raise (544 bytes: a hub's 2,000 rooms seldom raise) */
	struct alarm_flood *flood;
	int suppressed;
	struct elot *lots;
	size_t nlots;
};

struct erule {
	const struct cc_rule_conf *uc;
	struct echan *ch;
	struct ealarm *al;
	struct alarm_roc *roc; /* a rate rule's, at its first reading */
	double last;
};

struct chan_slot {
	struct echan *ch; /* NULL: empty */
	size_t hash;      /* str_hash(ch->id) */
};

struct engine {
	const struct cc_config *cfg;
	struct ealarm **alarms;
	size_t nalarms;
	struct echan **chans;
	size_t nchans;
	/* chans by id: open addressing, a power-of-two size at most half full
	 * (a sample finds its channel in O(1): a hub has thousands); each slot
	 * keeps its id's hash, so a miss (most of a hub's samples: channels no
	 * room watches) compares words, not strings behind two pointers */
	struct chan_slot *chan_index;
	size_t chan_index_size;
	struct eroom *rooms;
	size_t nrooms;
	struct erule *rules;
	size_t nrules;
	struct enotify **notify; /* per channel */
	size_t nnotify;
	uint64_t notify_dropped;
	int64_t start_ms;
	int64_t now_ms; /* wall clock: the latest engine_tick (start_ms before one) */
	int late;       /* the reading being evaluated is late and its channel is catching up */
	int64_t next_sl_ms;
	int64_t next_snap_ms;
	int64_t next_trend_ms; /* the rooms' day goes to its file then (snapshot_take) */
	size_t trend_file_max; /* past this size the day's file is not written (STATE_MAX_BYTES) */
	int64_t snap_taken_ms; /* the last snapshot's time, and how long after it */
	int64_t snap_gap_ms;   /* a change waits for the next (SNAPSHOT_DIRTY_BPS; 0: none) */
	int dirty;
	uint64_t notify_dropped_logged;
	cJSON *unloaded; /* configured lots unloaded at run time: [{id, conf_room}] */
	struct eproc *procs; /* one per configured process (line) */
	size_t nprocs;
	struct ebatch **batches; /* running, stopped and released ones still shown */
	size_t nbatches;
	struct engine_callbacks cb; /* where records and events go */
	/* Every field above is under lock: samples come from several source
	 * threads, ticks and operator actions from the main thread. */
	pthread_mutex_t lock;
	/* The newest snapshot not yet written (under lock; NULL: nothing to
	 * write) and the one writer at a time (save_lock): see snapshot.c. */
	pthread_mutex_t save_lock;
	struct snap_pending *pending; /* its alarms' and lots' state, formatted by the writer */
	char *pending_dir;
	struct trend_pending *pending_trend; /* the rings of that snapshot, formatted by the writer */
	int building; /* engine_new builds the configured rooms and rules: their names and messages are interned */
	struct intab *confs; /* interned alarm configurations (build.c): shared by the alarms */
	struct intab *strs; /* interned names (build_intern): the alarms' rooms, rules, messages */
	struct alarm_blk *ablk; /* the configured alarms, one after another (build.c's alarm_alloc) */
	size_t aused;
	struct lot_params **lparams; /* the lots' shared model parameters (build_lot), freed with the engine */
	size_t nlparams;
};

/* build.c: from the configuration.  Under the lock (lots.c) or before the
 * engine is shared (engine_new). */
void build_lot(struct engine *e, struct eroom *r, struct elot *l, const struct cc_lot_conf *lc);
void build_alarm_free(struct ealarm *a);
/* Replaces a's message by msg (which a now owns). */
void build_alarm_message_set(struct ealarm *a, char *msg);
/* s in the engine's string table (NULL: NULL): one copy per distinct
 * string, valid until engine_free. */
const char *build_intern(struct engine *e, const char *s);
/* The channel id's state, made (with its stale and fault alarms) when new. */
struct echan *build_chan_get(struct engine *e, const char *id, const char *room);
/* The channel with this id, NULL if the engine has none. */
struct echan *build_chan_find(const struct engine *e, const char *id);
struct ealarm *build_alarm_new(struct engine *e, const char *id, const char *room, const char *sensor,
			       const char *channel, const char *rule, const char *message, const struct alarm_conf *c);

/* eval.c: a condition alarm evaluated (and its transitions published),
 * and records to the lines callback.  Under the lock. */
void eval_alarm_cond(struct engine *e, struct ealarm *ea, int64_t now_ms, int cond, double v);
void eval_emit_lines(struct engine *e, const struct lp_buf *b);
/* Process line pr turned idle (no batch: its line-only channels' active
 * stale and fault alarms clear with a note naming batch, NULL: none, and
 * are suppressed) or busy (unsuppressed) at now_ms; nothing when its state
 * did not change.  Called by batch start and stop, and each tick. */
void eval_line_state(struct engine *e, struct eproc *pr, int64_t now_ms, const char *batch);

/* batch.c: under the lock.  A sample of a process's channel; each tick
 * (alarms, process points, pruning); building and freeing. */
void batch_sample(struct engine *e, struct echan *ch, const struct cc_sample *s);
void batch_tick(struct engine *e, int64_t now_ns);
void batch_build(struct engine *e);
void batch_free_all(struct engine *e);
struct eproc *batch_proc_find(struct engine *e, const char *name);
/* A batch of process pr with profile prof (restore and start), alarms
 * built; NULL when a carcass batch's weight has no deadline (errno). */
struct ebatch *batch_add(struct engine *e, struct eproc *pr, const struct cc_process_profile *prof, const char *id,
			 const char *user, const struct engine_batch_opts *o);
/* The batch's cooling state and parameters (a carcass batch's are its chill's). */
struct cool_batch *batch_cool(struct ebatch *b);

/* snapshot.c: the batches in and out of the state file. */
void snapshot_batches_save(struct engine *e, cJSON *root);
size_t snapshot_batches_restore(struct engine *e, const cJSON *root);

/* publish.c: pure.  An alarm transition as its alert record and event. */
struct publication {
	const struct ealarm *ea;
	const struct alarm_event *ev;
	const char *site;
	int64_t ts_ns;  /* the record's time (unique per alarm: the engine decides) */
	int annunciate; /* after flood grouping and the rate limit */
};
/* The state a record shows: "shelved" over the alarm's own state. */
const char *publish_state_shown(const struct ealarm *ea, const struct alarm_event *ev);
/* Appends the record (measurement "alert") to b: 0 or lp_encode's error. */
int publish_line(struct lp_buf *b, const struct publication *p);
/* The event: a JSON object, no newline; the caller frees it with
 * cJSON_free.  NULL when out of memory. */
char *publish_json(const struct publication *p);
/* ISO 8601 UTC with milliseconds, as events and the status show times. */
void publish_fmt_time(int64_t ts_ns, char *buf, size_t len);

/* snapshot.c: the state file.  snapshot_take under the lock,
 * snapshot_write without it (it fsyncs); snapshot_restore while building.
 * A reload's hand-over (engine_free_saved, engine_new_from): snapshot_keep
 * takes the same records and keeps them instead of writing them,
 * snapshot_restore_saved restores them, snapshot_saved_free frees them. */
void snapshot_take(struct engine *e, int64_t now_ms, int trend);
void snapshot_write(struct engine *e);
void snapshot_restore(struct engine *e);
struct engine_saved *snapshot_keep(struct engine *e);
void snapshot_restore_saved(struct engine *e, struct engine_saved *sv);
double snapshot_num(const cJSON *o, const char *k, double def);

/* trend.c: the 24-hour rings of the rooms' channels.  Under the lock
 * (trend_build while building).  trend_sample: a good reading, whatever
 * its order.  Their file (TREND_FILE, beside the state file): trend_take
 * copies the rings under the lock (a memcpy; none when the file would
 * pass e->trend_file_max: the last one written stays), trend_write writes
 * the copy without it (it fsyncs) and frees it, every TREND_SAVE_MS and at
 * a stop;
 * trend_load reads it while building (-ENOENT: none, then trend_restore
 * takes the state file's "trend" member, where releases before it kept
 * the day); trend_restore_pending takes a copy (a reload's hand-over: no
 * file), which it frees. */
#define TREND_FILE "trend.state"
#define TREND_SAVE_MS (5 * 60000)
struct etrend;
struct trend_pending;
void trend_build(struct engine *e);
void trend_sample(struct echan *ch, int64_t ts_ns, double v);
struct trend_pending *trend_take(const struct engine *e, size_t max);
int trend_write(const char *dir, struct trend_pending *p);
long trend_load(struct engine *e);
/* trend_load's reading of the file's bytes (its CRC already checked) into
 * the rings: the buckets restored, *bad the malformed ones skipped, or
 * -EINVAL for a file of another format or ring (tests/fuzz/fuzz_trend.c). */
long trend_read(struct engine *e, const uint8_t *buf, size_t len, size_t *bad);
void trend_pending_free(struct trend_pending *p);
size_t trend_restore(struct engine *e, const cJSON *root);
size_t trend_restore_pending(struct engine *e, struct trend_pending *p);
void trend_free(struct echan *ch);

/* lots.c: lots at run time, and lookups.  Under the lock. */
struct eroom *lots_room_find(struct engine *e, const char *name);
/* The engine's lots sorted by id, to find a lot by id in O(log n) (a restore
 * of 10,000 lots looked each one up in all of them).  Built under e->lock,
 * valid until the lots change; lots_index_find() returns the first of the
 * *count lots with that id (NULL, 0 when none). */
struct lots_index {
	struct elot **v;
	size_t n;
};
int lots_index_build(struct engine *e, struct lots_index *ix);
struct elot *const *lots_index_find(const struct lots_index *ix, const char *id, size_t *count);
void lots_index_free(struct lots_index *ix);
double lots_air_now(const struct elot *l, const struct eroom *r);
/* lot_observe with the lot's shared parameters and, at its first reading,
 * its own loaded_ns and pre_c. */
int lots_observe(struct elot *l, int64_t ts_ns, double t_air_c, double rh);
/* A lot's layout as its snapshot object keeps it: a run-time lot's
 * product, load time and pre-monitoring temperature, or the room the
 * configuration has a moved lot in, and its processing history.  Pointers
 * into the engine, valid under the lock. */
struct lot_layout {
	int runtime;
	const char *product;  /* runtime only */
	int64_t loaded_ns;    /* runtime only */
	double pre_c;         /* runtime only; NaN: none */
	const char *conf_room; /* a configured lot moved out of it; NULL: not moved */
	const cJSON *history; /* NULL: none */
};
void lots_layout_of(struct engine *e, const struct eroom *r, const struct elot *l, struct lot_layout *out);
/* The engine's layout (lots unloaded) into the snapshot's root. */
void lots_layout_save(struct engine *e, cJSON *root);
/* The state file's layout: its "unloaded" (o: the root), then each of
 * its "lots" objects (x), in that order. */
void lots_layout_restore_unloaded(struct engine *e, const cJSON *o);
void lots_layout_restore_lot(struct engine *e, const cJSON *x);
/* The same from the layout itself (a reload's hand-over). */
void lots_layout_restore(struct engine *e, const char *id, const char *room, const struct lot_layout *lay);
void lots_free(struct engine *e);
/* engine_lot_load under the lock, with a pre-monitoring temperature (NaN:
 * the profile's); *out is the new lot. */
int lots_load(struct engine *e, const char *room, const char *lot, const char *product, int64_t loaded_ns,
	      double pre_c, struct elot **out);
/* Removes alarm a from the engine and frees it (NULL: nothing). */
void lots_alarm_drop(struct engine *e, struct ealarm *a);
/* One step of a lot's history (issue 14: harvest, precool, fumigation,
 * drying, chill, room, move) as a "lot_step" point out to the lines.  Its
 * time is at_ns, a fixed instant of the step (its start, a room's load), so
 * writing it again (its end, a replay, a release after a restart) overwrites
 * the point instead of adding one.  batch, process, room: NULL when none;
 * start_ns, end_ns: 0 when not known; result: the step's figures (numbers,
 * strings and booleans of the history object; NULL: none). */
struct lot_step {
	const char *lot, *step, *batch, *process, *room;
	int64_t at_ns, start_ns, end_ns;
	const cJSON *result;
};
void lots_step_emit(struct engine *e, const struct lot_step *s);

#endif
