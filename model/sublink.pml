/*
 * sublink's license, grace, alarm and restart state machine (PROTOCOL.md
 * sections 4 and 5), checked exhaustively by spin (model/check.sh).
 *
 * One device, one unit of time per tick. Everything the agent keeps across
 * a restart is a "stored_" variable (the license record, the grace record,
 * the running mark); the rest is lost when the device stops. The
 * environment chooses freely, at every step, among: the link comes up
 * (welcome) or goes down, a grant of any serial arrives (new, repeated or
 * revoked before), a revoke, a tick of time, an unclean stop (crash, power
 * cut) or an orderly stop, each followed by a start after 0 or 1 units
 * down, with or without a trusted clock at that start. A license record
 * write may fail (a full disk): the grant is applied anyway (section 4).
 *
 * Serial numbers stand for `issued` order: a higher serial was issued
 * later. The invariants are asserted after every step (check()); a
 * counterexample is a trail spin prints with the step that broke one.
 *
 * MUTANT_* macros put back a rule the code no longer has, to show the
 * model can fail (model/check.sh expects each mutant to be caught).
 */

#define G     8   /* grace_period_s */
#define D     3   /* grace_alarm_delay_s */
#define C     2   /* grace_checkpoint_s: checkpoint interval in grace, and the charge for an unclean start */
#define WMAX 12   /* time units of one outage explored */
#define SMAX  3   /* serials */
#define RMAX  4   /* stops per run */

mtype = { UNLICENSED, LICENSED, GRACE, EXPIRED };

/* in memory */
mtype state = UNLICENSED;
bool features = false;
bool link = false;
bool alarm = false;
byte elapsed = 0;      /* grace elapsed */
byte held = 0;         /* the license in force (0: none) */
byte floor = 0;        /* the newest revoked license: grants must be newer */
/* stored */
byte stored_elapsed = 0;
byte stored_held = 0;
byte stored_floor = 0;
bool stored_clean = false; /* the running mark: true only after an orderly stop (the run begins started) */
/* ghosts (what the device cannot know; the invariants use them) */
byte wall = 0;          /* time since the outage began, running or not */
byte running = 0;       /* time the device ran since the outage began */
byte checkpoint_wall = 0;
byte stops = 0;
bool revoked[SMAX + 1];
byte prev_elapsed = 0;
mtype prev_state = UNLICENSED;
bool reconnected = false;

inline apply_features() {
  features = (state == LICENSED || state == GRACE)
}

inline counting() { (state == GRACE || state == EXPIRED) }

inline check() {
  /* features are on exactly in licensed and grace */
  assert(features == (state == LICENSED || state == GRACE));
  /* grace elapsed never decreases except at reconnection */
  assert(reconnected || !(prev_state == GRACE || prev_state == EXPIRED) ||
         !(state == GRACE || state == EXPIRED) || elapsed >= prev_elapsed);
  /* no stop/start pattern keeps grace from advancing: it trails the
     time run by at most one grace_checkpoint_s (section 5) */
  assert(!(state == GRACE || state == EXPIRED) || running <= elapsed + C);
  /* an alarm is active exactly in grace past the delay */
  assert(alarm == (state == GRACE && elapsed >= D));
  /* expiry exactly at grace_period_s */
  assert(state != GRACE || elapsed < G);
  assert(state != EXPIRED || elapsed >= G);
  assert(!(held != 0 && !link && elapsed >= G) || state == EXPIRED);
  prev_elapsed = elapsed;
  prev_state = state;
  reconnected = false
}

inline grace_state() {
  if
  :: held == 0 -> state = UNLICENSED
  :: held != 0 && link -> state = LICENSED
  :: held != 0 && !link && elapsed >= G -> state = EXPIRED
  :: held != 0 && !link && elapsed < G -> state = GRACE
  fi;
  alarm = (state == GRACE && elapsed >= D);
  apply_features()
}

/* A start: what is stored comes back; an unclean stop is charged C, or
   the gap a trusted clock measures (section 5). */
inline start(trusted) {
  held = stored_held;
  floor = stored_floor;
  elapsed = stored_elapsed;
#ifndef MUTANT_NO_CHARGE
  if
  :: !stored_clean && trusted -> elapsed = elapsed + (wall - checkpoint_wall)
  :: !stored_clean && !trusted -> elapsed = elapsed + C
  :: else -> skip
  fi;
#endif
  if
  :: stored_clean && trusted -> elapsed = elapsed + (wall - checkpoint_wall)  /* time off, measured */
  :: else -> skip
  fi;
  stored_clean = false;  /* this start is running */
  stored_elapsed = elapsed;
  checkpoint_wall = wall;
  link = false;
  grace_state()
}

active proctype device() {
  byte s;
  bool trusted;
  check();
  do
  /* welcome: grace is reset (section 5) */
  :: !link ->
     atomic {
       link = true; elapsed = 0; stored_elapsed = 0; wall = 0; running = 0; checkpoint_wall = 0;
       reconnected = true;
       grace_state(); check()
     }
  /* the link goes down */
  :: link ->
     atomic { link = false; grace_state(); check() }
  /* a grant of serial s: applied only when issued after the one held and
     after the newest revoked; stored if the disk allows */
  :: link ->
     atomic {
       if :: s = 1 :: s = 2 :: s = 3 fi;
#ifdef MUTANT_NO_REVOKED_FLOOR
       if :: s > held -> 
#else
       if :: s > held && s > floor ->
#endif
            assert(!revoked[s]);  /* no replayed license is accepted */
            held = s;
            if :: stored_held = s :: skip fi;  /* a full disk: applied anyway */
            grace_state()
       :: else -> skip
       fi;
       check()
     }
  /* a revoke: features off at once, the revoked license kept on record */
  :: link && held != 0 ->
     atomic {
       revoked[held] = true;
       if :: held > floor -> floor = held :: else -> skip fi;
       stored_floor = floor;
       stored_held = 0;
       held = 0;
       grace_state();
       assert(!features);
       check()
     }
  /* time passes with the link down */
  :: !link && state == GRACE && wall < WMAX ->
     atomic {
       wall++; running++; elapsed++;
       if :: elapsed - stored_elapsed >= C -> stored_elapsed = elapsed; checkpoint_wall = wall
          :: else -> skip
       fi;
       grace_state(); check()
     }
  /* an unclean stop (kill, power cut), then a start 0 or 1 units later */
  :: stops < RMAX && wall < WMAX ->
     atomic {
       stops++;
       if :: skip :: wall++ fi;
       if :: trusted = true :: trusted = false fi;
       start(trusted); check()
     }
  /* an orderly stop (everything stored, marked clean), then a start */
  :: stops < RMAX && wall < WMAX ->
     atomic {
       stops++;
       stored_elapsed = elapsed; checkpoint_wall = wall; stored_clean = true;
       if :: skip :: wall++ fi;
       if :: trusted = true :: trusted = false fi;
       start(trusted); check()
     }
  od
}
