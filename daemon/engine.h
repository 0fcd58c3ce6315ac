/* engine.h - evaluates the alarm rules and spoilage models on every sample
 * (locally: never dependent on the TSDB), keeps their state, and emits
 * alert events (InfluxDB measurement "alert", JSON events, log lines) and
 * shelf_life points.  State survives restarts through an atomic snapshot in
 * state_dir (engine.state).  Thread-safe: sources call engine_process()
 * concurrently (through sink_submit), the main loop calls engine_tick(). */
#ifndef CC_ENGINE_H
#define CC_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "sample.h"

/* Builds the engine for cfg (which must outlive it until engine_stop) and
 * restores the snapshot from cfg->state_dir.  0 or -errno. */
int engine_start(const struct cc_config *cfg);
/* Writes the snapshot and frees the engine.  Samples arriving later are ignored. */
void engine_stop(void);

/* Every sample, from any thread. */
void engine_process(const struct cc_sample *s, size_t n);
/* Timers (on/off-delays without samples, stale channels, shelve expiry,
 * re-notify, escalation, defrost schedule), shelf_life output and state
 * snapshots.  now_ns: wall clock. Call about once a second. */
void engine_tick(int64_t now_ns);

/* Operator actions on an alarm by id (as in the alert events).  0, or
 * -ENOENT no such alarm, -EALREADY nothing to do, -EBUSY (reset) the
 * condition still holds, -EINVAL bad argument, -ESRCH engine not running. */
int engine_ack(const char *id, const char *user, const char *note);
int engine_shelve(const char *id, int64_t dur_ms, const char *user, const char *note);
int engine_unshelve(const char *id, const char *user, const char *note);
int engine_reset(const char *id, const char *user, const char *note);

/* Lots at run time (control socket); they persist in the snapshot.  0, or
 * -ENOENT no such room / profile / lot, -EEXIST the lot id is in use,
 * -EALREADY (move) already in that room, -EINVAL, -ESRCH not running,
 * -ENOSPC (load) ENGINE_MAX_LOTS lots are loaded already (each costs
 * memory, alarms and a few hundred bytes of every snapshot, and the
 * control socket is open to a whole group).
 * A moved lot keeps its accumulators; its lot alarms are rebuilt for the
 * new room (ids ROOM/LOT/rule). */
#define ENGINE_MAX_LOTS 10000
int engine_lot_load(const char *room, const char *lot, const char *product, int64_t loaded_ns, const char *user);
int engine_lot_unload(const char *lot, const char *user);
int engine_lot_move(const char *lot, const char *room, const char *user);

/* A snapshot for the control socket: {"site", "rooms": [...] (when rooms),
 * "alarms": [every alarm not inactive, or shelved]}; NULL when the engine
 * is not running.  The caller frees it with cJSON_Delete. */
struct cJSON;
struct cJSON *engine_status_json(int rooms);

/* Testing and the control socket: the state of an alarm ("inactive",
 * "active", "acked", "cleared_unacked") or NULL when there is none. */
const char *engine_alarm_state(const char *id);

#endif
