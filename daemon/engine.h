/* engine.h - evaluates the alarm rules and spoilage models on every sample
 * (locally: never dependent on the TSDB), keeps their state, and emits
 * alert events (InfluxDB measurement "alert", JSON events, log lines) and
 * shelf_life points.  State survives restarts through an atomic snapshot in
 * state_dir (engine.state).  A handle: its output goes to callbacks, so
 * it needs neither the journal nor the pipeline.  Thread-safe: sources call
 * engine_process() concurrently (the pipeline's consumer, wired in main.c), the
 * main loop calls engine_tick(). */
#ifndef CC_ENGINE_H
#define CC_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "sample.h"

struct engine;

/* Where the engine's output goes.  Called with the engine's lock held,
 * from whichever thread caused the output (a source thread for a sample,
 * the main thread for a tick or an operator action): a callback must not
 * call back into the engine.  A NULL callback discards that output. */
struct engine_callbacks {
	/* One or more complete, '\n'-terminated lines of line protocol:
	 * alert records (measurement "alert") and shelf_life points. */
	void (*lines)(void *arg, const char *lines, size_t len, size_t nlines);
	/* One alert event: a JSON object (no newline), for the outputs that
	 * notify people (webhooks, MQTT alerts). */
	void (*event)(void *arg, const char *json, size_t len);
	void *arg;
};

/* Builds the engine for cfg (which must outlive it) and restores the
 * snapshot from cfg->state_dir.  cb is copied.  Never NULL (memory
 * exhaustion aborts, as everywhere in the daemon). */
struct engine *engine_new(const struct cc_config *cfg, const struct engine_callbacks *cb);
/* Writes the snapshot and frees the engine (NULL: nothing).  No other call
 * on e may be running or follow. */
void engine_free(struct engine *e);
/* A reload's hand-over (issue 18): engine_free_saved keeps what the state
 * file would get (alarms, lots, batches, the rooms' day) in memory and
 * frees the engine; engine_new_from builds the next engine on cfg from it,
 * exactly as engine_new from the file (same matching by id), and frees
 * it.  No text is printed or parsed and nothing is written: a hub's state
 * file took a reload a third of a second each way, and its rooms' day
 * seconds.  engine_save writes the state file now (after the hand-over, so
 * a crash finds the new state; the rooms' day keeps its schedule). */
struct engine_saved;
struct engine_saved *engine_free_saved(struct engine *e);
struct engine *engine_new_from(const struct cc_config *cfg, const struct engine_callbacks *cb,
			       struct engine_saved *sv);
void engine_save(struct engine *e);

/* Every sample, from any thread.  A NULL engine ignores them. */
void engine_process(struct engine *e, const struct cc_sample *s, size_t n);
/* Timers (on/off-delays without samples, stale channels, shelve expiry,
 * re-notify, escalation, defrost schedule), shelf_life output and state
 * snapshots.  now_ns: wall clock. Call about once a second. */
void engine_tick(struct engine *e, int64_t now_ns);

/* Operator actions on an alarm by id (as in the alert events).  0, or
 * -ENOENT no such alarm, -EALREADY nothing to do, -EBUSY (reset) the
 * condition still holds, -EINVAL bad argument, -ESRCH e is NULL (the
 * engine is not running). */
int engine_ack(struct engine *e, const char *id, const char *user, const char *note);
int engine_shelve(struct engine *e, const char *id, int64_t dur_ms, const char *user, const char *note);
int engine_unshelve(struct engine *e, const char *id, const char *user, const char *note);
int engine_reset(struct engine *e, const char *id, const char *user, const char *note);

/* Lots at run time (control socket); they persist in the snapshot.  0, or
 * -ENOENT no such room / profile / lot, -EEXIST the lot id is in use,
 * -EALREADY (move) already in that room, -EINVAL, -ESRCH e is NULL,
 * -ENOSPC (load) ENGINE_MAX_LOTS lots are loaded already (each costs
 * memory, alarms and a few hundred bytes of every snapshot, and the
 * control socket is open to a whole group).
 * A moved lot keeps its accumulators; its lot alarms are rebuilt for the
 * new room (ids ROOM/LOT/rule). */
#define ENGINE_MAX_LOTS 10000
int engine_lot_load(struct engine *e, const char *room, const char *lot, const char *product, int64_t loaded_ns,
		    const char *user);
int engine_lot_unload(struct engine *e, const char *lot, const char *user);
int engine_lot_move(struct engine *e, const char *lot, const char *room, const char *user);

/* Processing batches (issue 14) on the configured processes (lines):
 * precooling and carcass chilling (weight_kg: the heaviest carcass, whose
 * band gives the deadline; -ERANGE when no band holds it; ignored for
 * precooling).  A batch runs on one process at a time; its medium
 * and probe samples feed its cooling fit; each tick that brought samples
 * emits a "process" point; its alarms have ids PROCESS/BATCH/KIND.  A
 * stopped batch keeps its final verdict until released into a lot; a
 * released one stays (status, alarms) until its alarms are quiet.  They
 * persist in the snapshot.  Times in ns (0: not given).  0, or -ENOENT no
 * such process / profile / batch / room, -EEXIST the batch id is in use,
 * -EBUSY (start) the process has an active batch, -EMEDIUMTYPE the
 * profile's kind is not the process's, -ENOTSUP a kind without batches
 * yet, -EALREADY (stop) already stopped or (release) released, -ENOSPC
 * ENGINE_MAX_BATCHES kept, -EINVAL, -ESRCH e is NULL. */
#define ENGINE_MAX_BATCHES 1000
int engine_batch_start(struct engine *e, const char *process, const char *batch, const char *profile,
		       int64_t start_ns, int64_t harvest_ns, int64_t pull_plan_ns, double weight_kg, const char *user);
/* The options of a batch start beyond its times: NaN when not given.
 * weight_kg: a carcass batch's heaviest carcass; tonnes: a fumigation
 * batch's fruit (the nominal dose); mass_kg, moisture_pct: a drying
 * batch's loaded net mass m0 and its sampled moisture MC0, % wet basis
 * (without it only the mass-ratio endpoint is judged). */
struct engine_batch_opts {
	int64_t start_ns, harvest_ns, pull_plan_ns;
	double weight_kg, tonnes, mass_kg, moisture_pct;
};
void engine_batch_opts_init(struct engine_batch_opts *o, int64_t start_ns);
int engine_batch_start_opts(struct engine *e, const char *process, const char *batch, const char *profile,
			    const struct engine_batch_opts *o, const char *user);
int engine_batch_stop(struct engine *e, const char *batch, int64_t now_ns, const char *user);
/* A fumigation batch's phase, as the operator marks it: "burning", "hold",
 * "purge" or "done" (the CT verdict), at at_ns.  0, -ENOENT no such batch,
 * -EMEDIUMTYPE not a fumigation batch, -EINVAL unknown phase, -EALREADY
 * not running. */
int engine_batch_phase(struct engine *e, const char *batch, const char *phase, int64_t at_ns, const char *user);
/* The lot goes into room as product (NULL: the room's profile) with the
 * batch's final slowest-probe temperature as its pre-monitoring
 * temperature and the batch in its history; a running batch is stopped
 * first.  The lot errors of engine_lot_load, and -EALREADY. */
int engine_batch_release(struct engine *e, const char *batch, const char *lot, const char *room,
			 const char *product, const char *user);
/* {"batches": [...]} (batch NULL: all kept), or one batch object; NULL
 * when e is NULL or there is no such batch.  cJSON_Delete it. */
struct cJSON *engine_batch_status_json(struct engine *e, const char *batch);

/* A snapshot for the control socket: {"site", "rooms": [...] (when rooms),
 * "alarms": [every alarm not inactive, or shelved]}; NULL when e is NULL.
 * The caller frees it with cJSON_Delete. */
struct cJSON;
struct cJSON *engine_status_json(struct engine *e, int rooms);

/* Which rooms (and their alarms) a status shows: NULL members take all.
 * A room's site is its name up to a '/' ("s0012/cold-1": a hub naming its
 * members' rooms SITE/ROOM), else the root key site; an alarm of no room
 * is shown only without a room filter and when site is the root's. */
struct engine_status_filter {
	const char *site, *room;
	/* engine_status_write only, when > 0: past this many rooms (those the
	 * filter lets through) only the rooms with an open alarm (active or
	 * acknowledged, not shelved) are written, and "rooms_total" and
	 * "lots_total" count them all (coldchainctl's text at a hub) */
	int open_past;
	/* engine_status_json_filtered only, when alarms_max > 0: of the
	 * alarms the filter lets through, "alarms" has alarms_max from the
	 * alarms_skip-th on, and "alarms_total" counts them all (a hub's
	 * alarms page, a page at a time: the tree is built under the lock) */
	size_t alarms_skip, alarms_max;
};
struct jsonw;
/* engine_status_json of the rooms f lets through (f NULL: all). */
struct cJSON *engine_status_json_filtered(struct engine *e, int rooms, const struct engine_status_filter *f);
/* The same members as engine_status_json_filtered ("site", "rooms",
 * "alarms"), written into w's open object with their values (numbers by
 * jsonw_num): the control socket's reply without a tree.  0, -ESRCH when e
 * is NULL, -ENOMEM. */
int engine_status_write(struct engine *e, int rooms, const struct engine_status_filter *f, struct jsonw *w);
/* The hub overview's table (issue 18: the web page of a 2,000-site hub
 * built a cJSON tree of every room and open alarm, +8 MB of peak RSS for a
 * 31 KB page): one compact row per room the site filter lets through (NULL:
 * all), in configuration order, copied under the engine's lock and
 * formatted by the caller without it.  state: the worst open alarm (active
 * or acknowledged, not shelved: critical, then warning), else stale when
 * the temperature has no fresh value, else ok. */
enum engine_room_state { ENGINE_ROOM_CRITICAL, ENGINE_ROOM_WARNING, ENGINE_ROOM_STALE, ENGINE_ROOM_OK };
struct engine_room_row {
	const char *name; /* into the rows' own block */
	int state;        /* enum engine_room_state */
	double temp_c, rh; /* the last good values, NaN: none */
	double nlots, remaining_h_min; /* remaining: the lots' least, NaN: none has one */
};
struct engine_room_rows {
	struct engine_room_row *v;
	size_t n;
	char *names;
};
/* 0, -ESRCH when e is NULL, -ENOMEM; free with engine_room_rows_free. */
int engine_room_rows(struct engine *e, const char *site, struct engine_room_rows *out);
void engine_room_rows_free(struct engine_room_rows *r);
/* The room of the first lot with this id, rooms and their lots in the
 * order the status lists them, in *room (free it; a lot's page asks for
 * that room's status only, not every room's under the lock).  0, -ENOENT,
 * -ESRCH when e is NULL. */
int engine_lot_room(struct engine *e, const char *id, char **room);
/* The ids an operator may have meant, for a "not found" reply's hint: the
 * alarms the status lists (lots 0: active, acknowledged, latched or
 * shelved; in its order) or every lot (lots 1; rooms and their lots in the
 * status's order), copied under the engine's lock (a hub's whole status
 * tree, built for a typo, held it ~150 ms).  0, -ESRCH when e is NULL;
 * free with engine_ids_free. */
struct engine_ids {
	char **v;
	size_t n;
};
int engine_ids(struct engine *e, int lots, struct engine_ids *out);
void engine_ids_free(struct engine_ids *ids);
/* The site of a room by name as the filter sees it (buf holds it when
 * cut from the name); cfg's site for NULL. */
struct cc_config;
const char *engine_room_site(const struct cc_config *cfg, const char *room, char *buf, size_t n);

/* Testing and the control socket: the state of an alarm ("inactive",
 * "active", "acked", "cleared_unacked") or NULL when there is none. */
const char *engine_alarm_state(struct engine *e, const char *id);

/* The last 24 h of a room's readings for its page (issue 15): a ring per
 * channel of ENGINE_TREND_BUCKETS buckets of ENGINE_TREND_BUCKET_S seconds
 * each, by the readings' own times (so the page works while InfluxDB is
 * down).  out->s[k].b[0] is the oldest bucket (it starts at start_ns),
 * b[ENGINE_TREND_BUCKETS - 1] holds now_ns; a bucket with n == 0 had no
 * good reading (a gap: draw a break, never interpolate).  present: the
 * room has that channel.  lim: the room's effective band and limits, for
 * drawing.  Copied under the engine's lock: render without it.  0, or
 * -ENOENT no such room, -EINVAL, -ESRCH e is NULL.  out is about 18 KiB:
 * allocate it rather than put it on a small stack. */
#define ENGINE_TREND_BUCKETS 288
#define ENGINE_TREND_BUCKET_S 300
enum engine_trend_series_kind { ENGINE_TREND_TEMP, ENGINE_TREND_RH, ENGINE_TREND_DOOR, ENGINE_TREND_CO2,
				ENGINE_TREND_N };
struct engine_trend_bucket {
	float min, max, mean; /* door: mean is the fraction of readings "open" */
	uint32_t n;           /* good readings in it; 0: no data */
};
struct engine_trend_series {
	int present;
	struct engine_trend_bucket b[ENGINE_TREND_BUCKETS];
};
struct engine_trend {
	int64_t start_ns, bucket_ns;
	struct engine_trend_series s[ENGINE_TREND_N];
	struct cc_limits lim;
};
int engine_room_trend(struct engine *e, const char *room, int64_t now_ns, struct engine_trend *out);

#endif
