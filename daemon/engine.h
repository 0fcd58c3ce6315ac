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

/* A snapshot for the control socket: {"site", "rooms": [...] (when rooms),
 * "alarms": [every alarm not inactive, or shelved]}; NULL when e is NULL.
 * The caller frees it with cJSON_Delete. */
struct cJSON;
struct cJSON *engine_status_json(struct engine *e, int rooms);

/* Testing and the control socket: the state of an alarm ("inactive",
 * "active", "acked", "cleared_unacked") or NULL when there is none. */
const char *engine_alarm_state(struct engine *e, const char *id);

#endif
