---------------------------- MODULE ProcsMutant -----------------------------
(***************************************************************************)
(* Teeth: deliberately wrong variants of Procs, one per value of the       *)
(* constant Mutant.  Each is a way the runtime's lifecycle can plausibly   *)
(* be (or was) wrong.  Every mutant must be rejected by TLC twice (spec/   *)
(* tlc.py checks both):                                                    *)
(*   - by the invariant or property it was written to break (a liveness    *)
(*     property under MFairSpec, the mutant's own fairness), and           *)
(*   - by refinement: MSpec => OrigSpec, the correct Spec as a PROPERTY.   *)
(* Mutant = "none" is the correct spec rebuilt from the M* operators: it   *)
(* must pass everything and have exactly the state count of the correct   *)
(* spec on the same model (a guard against drift between the modules).    *)
(*                                                                         *)
(* The mutants (the runtime function where the bug would live; the target *)
(* invariant or property; see also spec/README.md):                        *)
(*  check_before_join_wake  ProcExit checks deadlock BEFORE it readies the *)
(*        tasks joined on the exiting proc -- today's Proc.join bug: the   *)
(*        joiner's proc still counts as idle (Proc._exit_locked;           *)
(*        NoFalseDeadlock)                                                 *)
(*  shared_world  one detector for all runs: procs, nidle, iocalls,        *)
(*        ntimers and the Deadlock summed over every run (the process-wide *)
(*        World of today) (World.check_deadlock_locked; Isolation; also    *)
(*        DeadlockDeclared when the other run never idles)                 *)
(*  intr_idle_kept  a KeyboardInterrupt in the idle wait leaves the proc's *)
(*        idle flag and nidle as they were (Proc._wait_for_work; IdleExact)*)
(*  intr_unidle_twice  the same, restoring unconditionally: nidle -= 1     *)
(*        although a waker had already un-idled the proc (the design       *)
(*        note's wording) (Proc._wait_for_work; IdleExact)                 *)
(*  register_at_start  a proc is registered only when its thread starts,   *)
(*        not when it is created (new_proc / thread entry; NoFalseDeadlock)*)
(*  timer_not_counted  the check ignores ntimers: a sleeper's timer is no  *)
(*        waker (World.check_deadlock_locked; NoFalseDeadlock)             *)
(*  iocall_not_counted  the check ignores iocalls                          *)
(*        (World.check_deadlock_locked; NoFalseDeadlock)                   *)
(*  parker_loses_wake  the parker is a condition variable: a wake made     *)
(*        after the decision to sleep but before the sleep is lost         *)
(*        (_Parker.wake_locked; NoLostWakeup)                              *)
(*  run_returns_early  run() returns when the main proc is done, without   *)
(*        waiting for the run's other procs (Runner.run; RunEndsClean)     *)
(*  chan_ready_keeps_idle  the channel path readies a task of an idle proc *)
(*        (remote queue, parker woken) without un-idling it: W1 broken     *)
(*        (ready_locked inlined in a send/recv fast path; NoFalseDeadlock) *)
(*  idle_with_remote  the idle decision does not look at the remote queue  *)
(*        (e.g. trusts an unlocked peek made before the CS)                *)
(*        (Proc._wait_for_work; NoFalseDeadlock)                           *)
(*  exit_no_check  a proc exiting does not run the check: its exit may     *)
(*        have removed the last proc that was not idle (Proc._exit_locked; *)
(*        DeadlockDeclared)                                                *)
(*  iodone_no_check  an iocall finishing does not run the check: its       *)
(*        caller may have been killed meanwhile (IOProc._serve;            *)
(*        DeadlockDeclared)                                                *)
(*  handover_no_wake  the live timers of an exiting proc are handed to the *)
(*        main proc without waking it, as the design note words it: main, *)
(*        asleep without a deadline, never fires them (Proc._exit_locked;  *)
(*        RunReturns)                                                      *)
(*  declare_no_wake  the declaration does not wake the parkers: the main   *)
(*        proc sleeps on and never raises the Deadlock                     *)
(*        (World.check_deadlock_locked; RunReturns)                        *)
(*  start_unkilled  a proc whose thread starts while the run is ending     *)
(*        runs its first task unkilled: it may block forever and run()     *)
(*        never returns (thread entry; RunReturns)                         *)
(*  cross_run_channel  a task of one run readies a task of another run (a  *)
(*        channel used across runs, unchecked): a declared run is woken by *)
(*        a run its detector does not see (Channel ops; NoFalseDeadlock)   *)
(*  kill_keeps_timer  a kill withdraws a sleeper but leaves its timer      *)
(*        counted (kill_task; TimerCount; DeadlockDeclared)                *)
(*  exit_forgets_joiners  a proc exits without readying the tasks joined   *)
(*        on it (the joiner missed the exit) (Proc._exit_locked;           *)
(*        WaitExact; NoFalseDeadlock)                                      *)
(*  iodone_keeps_count  an iocall whose caller was killed returns early,   *)
(*        without iocalls -= 1 (IOProc._serve; IoCount; DeadlockDeclared)  *)
(*  intr_parker_armed  the interrupt leaves the idle wait with the parker  *)
(*        still armed (_sleeping stays set) (Proc._wait_for_work;          *)
(*        SchedExact)                                                      *)
(***************************************************************************)
EXTENDS ProcsIsolation

CONSTANT Mutant     \* the name of the bug switched on, or "none"

Mutants == {"none", "check_before_join_wake", "shared_world", "intr_idle_kept",
            "register_at_start", "timer_not_counted", "iocall_not_counted",
            "parker_loses_wake", "run_returns_early", "chan_ready_keeps_idle",
            "idle_with_remote", "exit_no_check", "iodone_no_check", "handover_no_wake",
            "declare_no_wake", "start_unkilled", "cross_run_channel", "intr_unidle_twice",
            "kill_keeps_timer", "exit_forgets_joiners", "iodone_keeps_count",
            "intr_parker_armed"}
ASSUME Mutant \in Mutants

\* The correct specification, for the refinement check MSpec => OrigSpec.
Orig == INSTANCE Procs
OrigSpec == Orig!Spec

-----------------------------------------------------------------------------
(* The helpers as the buggy runtime has them.                              *)

\* parker.wake: a condition variable notifies only a thread already waiting.
MWake(pk, S) ==
    IF Mutant = "parker_loses_wake"
    THEN [p \in Procs |-> IF p \in S /\ pk[p] = "armed" /\ pc[p] = "asleep" THEN "sig" ELSE pk[p]]
    ELSE Wake(pk, S)

RECURSIVE SumOver(_, _)
SumOver(f, S) == IF S = {} THEN 0
                 ELSE LET x == CHOOSE x \in S : TRUE IN f[x] + SumOver(f, S \ {x})

\* check deadlock.  shared_world: one World for every run (a declared
\* Deadlock stays until its run has ended).
MDeadCond(w, P, n, i, k) ==
    CASE Mutant = "timer_not_counted"  -> DeadCond(w, P, n, i, 0)
      [] Mutant = "iocall_not_counted" -> DeadCond(w, P, n, 0, k)
      [] Mutant = "shared_world" ->
            LET O  == Runs \ {w}
                PA == P \cup UNION {wprocs[v] : v \in O}
            IN  /\ phase[w] = "running"
                /\ \A v \in Runs : phase[v] \in {"running", "ending"} => deadlock[v] = <<>>
                /\ PA # {}
                /\ n + SumOver(nidle, O) = Cardinality(PA)
                /\ i + SumOver(iocalls, O) = 0
                /\ k + SumOver(ntimers, O) = 0
      [] OTHER -> DeadCond(w, P, n, i, k)

MDeclare(w, decl, ts1, pk1) ==
    CASE Mutant = "shared_world" ->
            LET R == {v \in Runs : phase[v] = "running"} IN
            /\ deadlock' = IF decl
                           THEN [v \in Runs |-> IF v \in R
                                                THEN <<{t \in TasksOf[v] : ts1[t] = "blocked"}>>
                                                ELSE deadlock[v]]
                           ELSE deadlock
            /\ phase' = IF decl THEN [v \in Runs |-> IF v \in R THEN "ending" ELSE phase[v]]
                        ELSE phase
            /\ parker' = IF decl THEN MWake(pk1, UNION {ProcsOf[v] : v \in R}) ELSE pk1
      [] Mutant = "declare_no_wake" ->
            /\ deadlock' = IF decl
                           THEN [deadlock EXCEPT ![w] = <<{t \in TasksOf[w] : ts1[t] = "blocked"}>>]
                           ELSE deadlock
            /\ phase' = IF decl THEN [phase EXCEPT ![w] = "ending"] ELSE phase
            /\ parker' = pk1
      [] OTHER ->
            /\ deadlock' = IF decl
                           THEN [deadlock EXCEPT ![w] = <<{t \in TasksOf[w] : ts1[t] = "blocked"}>>]
                           ELSE deadlock
            /\ phase' = IF decl THEN [phase EXCEPT ![w] = "ending"] ELSE phase
            /\ parker' = IF decl THEN MWake(pk1, ProcsOf[w]) ELSE pk1

-----------------------------------------------------------------------------
(* The actions, rebuilt from the M* helpers.  An action no mutant touches   *)
(* is the correct one.                                                     *)

MRunEnding(p) ==
    LET w == RunOf[p]
        c == EndDue(p)
        B == {t \in TasksOf[w] : ts[t] = "blocked"}
        L == {t \in TasksOf[w] : ts[t] \in {"runnable", "running"} /\ kill[t] = "no"}
    IN
    /\ pc[p] = "loop"
    /\ c # None
    /\ cause'   = [cause EXCEPT ![w] = c]
    /\ phase'   = [phase EXCEPT ![w] = "ending"]
    /\ ts'      = RTs(ts, B)
    /\ why'     = RWhy(B)
    /\ jt'      = RJt(B)
    /\ tw'      = RTw(B)
    /\ ntimers' = [ntimers EXCEPT ![w] = NTimersAfter(w, B)]
    /\ kill'    = [t \in Tasks |-> IF t \in B THEN "dying"
                                   ELSE IF t \in L THEN "pending" ELSE kill[t]]
    /\ remote'  = RRemote(B, p)
    /\ idle'    = RIdle(B, p)
    /\ nidle'   = [nidle EXCEPT ![w] = NIdleAfter(w, B, p)]
    /\ parker'  = MWake(parker, ProcsOf[w])
    /\ UNCHANGED <<wprocs, iocalls, deadlock, intr, fatalp, kicked, pc, tmo, bud, tc, io>>

MRunEnd(w) ==
    IF Mutant # "run_returns_early" THEN RunEnd(w)
    ELSE
    LET Q == {t \in TasksOf[w] : io[t] = "queued"} IN
    /\ phase[w] = "ending"
    /\ cause[w] # None
    /\ pc[MainOf[w]] = "exited"                     \* (does not wait for the others)
    /\ phase'   = [phase EXCEPT ![w] = "ended"]
    /\ io'      = [t \in Tasks |-> IF t \in Q THEN "none" ELSE io[t]]
    /\ iocalls' = [iocalls EXCEPT ![w] = @ - Cardinality(Q)]
    /\ UNCHANGED <<wprocs, nidle, ntimers, deadlock, cause, intr, fatalp, kicked,
                   procVars, ts, why, jt, kill, bud, tw, tc>>

MInterrupt(w) ==
    IF Mutant \notin {"intr_idle_kept", "intr_unidle_twice", "intr_parker_armed"} THEN Interrupt(w)
    ELSE
    LET m == MainOf[w]
        c == {t \in TasksOn[m] : ts[t] = "running"}
    IN
    /\ w \in IntrRuns
    /\ ~intr[w]
    /\ phase[w] \in {"running", "ending"}
    /\ intr' = [intr EXCEPT ![w] = TRUE]
    /\ IF Parked(m)
       THEN /\ pc'     = [pc     EXCEPT ![m] = "loop"]
            /\ parker' = IF Mutant = "intr_parker_armed" THEN parker   \* left armed
                         ELSE [parker EXCEPT ![m] = "off"]
            /\ tmo'    = [tmo    EXCEPT ![m] = FALSE]
            /\ CASE Mutant = "intr_idle_kept" ->
                    UNCHANGED <<idle, nidle>>                \* idle not restored
              [] Mutant = "intr_unidle_twice" ->
                    /\ idle'  = [idle  EXCEPT ![m] = FALSE]  \* restored even if
                    /\ nidle' = [nidle EXCEPT ![w] = @ - 1]  \* a waker did it
              [] OTHER ->
                    /\ idle'  = [idle  EXCEPT ![m] = FALSE]
                    /\ nidle' = [nidle EXCEPT ![w] = IF idle[m] THEN @ - 1 ELSE @]
            /\ UNCHANGED kill
       ELSE /\ \/ UNCHANGED kill
               \/ /\ c # {}
                  /\ kill' = [t \in Tasks |-> IF t \in c THEN "dying" ELSE kill[t]]
            /\ UNCHANGED <<pc, idle, nidle, parker, tmo>>
    /\ UNCHANGED <<phase, wprocs, ntimers, iocalls, deadlock, cause, fatalp, kicked,
                   remote, ts, why, jt, bud, tw, tc, io>>

MProcStart(q) ==
    IF Mutant \notin {"register_at_start", "start_unkilled"} THEN ProcStart(q)
    ELSE
    LET w == RunOf[q] IN
    /\ pc[q] = "created"
    /\ pc' = [pc EXCEPT ![q] = "loop"]
    /\ ts' = [ts EXCEPT ![FirstOf[q]] = "runnable"]
    /\ kill' = IF phase[w] = "running" \/ Mutant = "start_unkilled" THEN kill
               ELSE [kill EXCEPT ![FirstOf[q]] = "pending"]
    /\ wprocs' = IF Mutant = "register_at_start" THEN [wprocs EXCEPT ![w] = @ \cup {q}]
                 ELSE wprocs
    /\ UNCHANGED <<phase, nidle, ntimers, iocalls, deadlock, cause, intr, fatalp, kicked,
                   idle, parker, tmo, remote, why, jt, bud, tw, tc, io>>

MProcCreate(t, q) ==
    IF Mutant # "register_at_start" THEN ProcCreate(t, q)
    ELSE
    LET w == RunOfT[t] IN
    /\ Op(t, "newproc")
    /\ kill[t] # "dying"
    /\ phase[w] = "running"
    /\ q \in ProcsOf[w] \ {MainOf[w]}
    /\ pc[q] = "none"
    /\ pc' = [pc EXCEPT ![q] = "created"]
    /\ Spend(t)
    /\ UNCHANGED <<runVars, idle, parker, tmo, remote, ts, why, jt, kill, tw, tc, io>>

MTimerFire(p, t, k) ==
    LET w == RunOf[p] IN
    /\ pc[p] = "loop"
    /\ EndDue(p) = None
    /\ \/ /\ k = "wait"
          /\ ProcOf[t] = p
          /\ tw[t]
          /\ ts'      = [ts  EXCEPT ![t] = "runnable"]
          /\ why'     = [why EXCEPT ![t] = None]
          /\ jt'      = [jt  EXCEPT ![t] = None]
          /\ tw'      = [tw  EXCEPT ![t] = FALSE]
          /\ ntimers' = [ntimers EXCEPT ![w] = @ - 1]
          /\ UNCHANGED <<remote, idle, nidle, parker, tc>>
       \/ /\ k = "chan"
          /\ tc[t] = p
          /\ tc' = [tc EXCEPT ![t] = Off]
          /\ \E U \in {{}} \cup {{u} : u \in ChanBlocked(w)} :
                /\ ts'      = RTs(ts, U)
                /\ why'     = RWhy(U)
                /\ jt'      = RJt(U)
                /\ tw'      = tw
                /\ ntimers' = [ntimers EXCEPT ![w] = @ - 1]
                /\ remote'  = RRemote(U, p)
                /\ idle'    = RIdle(U, p)
                /\ nidle'   = [nidle EXCEPT ![w] = NIdleAfter(w, U, p)]
                /\ parker'  = MWake(parker, Unidle(U, p))
    /\ UNCHANGED <<phase, wprocs, iocalls, deadlock, cause, intr, fatalp, kicked,
                   pc, tmo, kill, bud, io>>

MProcIdle(p) ==
    LET w    == RunOf[p]
        n1   == nidle[w] + 1
        decl == MDeadCond(w, wprocs[w], n1, iocalls[w], ntimers[w])
    IN
    /\ pc[p] = "loop"
    /\ phase[w] = "running"
    /\ EndDue(p) = None
    /\ remote[p] = {} \/ Mutant = "idle_with_remote"
    /\ LocalRunnable(p) = {}
    /\ HasLive(p)
    /\ idle'  = [idle  EXCEPT ![p] = ~decl]
    /\ nidle' = [nidle EXCEPT ![w] = IF decl THEN nidle[w] ELSE n1]
    /\ pc'    = [pc    EXCEPT ![p] = IF decl THEN "loop" ELSE "parking"]
    /\ tmo'   = [tmo   EXCEPT ![p] = ~decl /\ HasTimers(p)]
    /\ MDeclare(w, decl, ts, IF decl THEN parker ELSE [parker EXCEPT ![p] = "armed"])
    /\ UNCHANGED <<wprocs, ntimers, iocalls, cause, intr, fatalp, kicked, remote, taskVars>>

MProcExit(p) ==
    LET w    == RunOf[p]
        run  == phase[w] = "running"
        J    == IF Mutant = "exit_forgets_joiners" THEN {}
                ELSE {u \in Tasks : ts[u] = "blocked" /\ why[u] = "joinp" /\ jt[u] = p}
        H    == {t \in Tasks : tc[t] = p}
        P1   == wprocs[w] \ {p}
        n1   == NIdleAfter(w, J, p)
        k1   == NTimersAfter(w, J) - (IF run THEN 0 ELSE Cardinality(H))
        ts1  == RTs(ts, J)
        pk0  == MWake(parker, Unidle(J, p))
        pk1  == IF run /\ H # {} /\ Mutant # "handover_no_wake"
                THEN MWake(pk0, {MainOf[w]}) ELSE pk0
        decl == CASE Mutant = "exit_no_check" -> FALSE
                  [] Mutant = "check_before_join_wake" ->
                        \* checked on the counters before the joiners were readied
                        MDeadCond(w, P1, nidle[w], iocalls[w],
                                  ntimers[w] - (IF run THEN 0 ELSE Cardinality(H)))
                  [] OTHER -> MDeadCond(w, P1, n1, iocalls[w], k1)
    IN
    /\ pc[p] = "loop"
    /\ ~HasLive(p)
    /\ EndDue(p) = None
    /\ pc'      = [pc EXCEPT ![p] = "exited"]
    /\ wprocs'  = [wprocs EXCEPT ![w] = P1]
    /\ ts'      = ts1
    /\ why'     = RWhy(J)
    /\ jt'      = RJt(J)
    /\ tw'      = RTw(J)
    /\ remote'  = RRemote(J, p)
    /\ idle'    = RIdle(J, p)
    /\ nidle'   = [nidle EXCEPT ![w] = n1]
    /\ tc'      = [t \in Tasks |-> IF t \in H THEN (IF run THEN MainOf[w] ELSE Off) ELSE tc[t]]
    /\ ntimers' = [ntimers EXCEPT ![w] = k1]
    /\ MDeclare(w, decl, IF Mutant = "check_before_join_wake" THEN ts ELSE ts1, pk1)
    /\ UNCHANGED <<iocalls, cause, intr, fatalp, kicked, tmo, kill, bud, io>>

MChanReady(t, u) ==
    LET p  == ProcOf[t]
        w  == RunOf[p]
        wu == RunOfT[u]
        keep == Mutant = "chan_ready_keeps_idle"
    IN
    /\ Op(t, "ready")
    /\ kill[t] = "no"
    /\ u \in ChanBlocked(IF Mutant = "cross_run_channel" THEN wu ELSE w)
    /\ ts'     = RTs(ts, {u})
    /\ why'    = RWhy({u})
    /\ jt'     = RJt({u})
    /\ remote' = RRemote({u}, p)
    /\ idle'   = IF keep THEN idle ELSE RIdle({u}, p)
    /\ nidle'  = IF keep THEN nidle ELSE [nidle EXCEPT ![wu] = NIdleAfter(wu, {u}, p)]
    /\ parker' = MWake(parker, Unidle({u}, p))
    /\ Spend(t)
    /\ UNCHANGED <<phase, wprocs, ntimers, iocalls, deadlock, cause, intr, fatalp, kicked,
                   pc, tmo, kill, tw, tc, io>>

MTimerStop(t) ==
    LET w    == RunOfT[t]
        decl == MDeadCond(w, wprocs[w], nidle[w], iocalls[w], ntimers[w] - 1)
    IN
    /\ Op(t, "stop")
    /\ kill[t] # "dying"
    /\ tc[t] # Off
    /\ tc'      = [tc EXCEPT ![t] = Off]
    /\ ntimers' = [ntimers EXCEPT ![w] = @ - 1]
    /\ MDeclare(w, decl, ts, parker)
    /\ Spend(t)
    /\ UNCHANGED <<wprocs, nidle, iocalls, cause, intr, fatalp, kicked,
                   pc, idle, tmo, remote, ts, why, jt, kill, tw, io>>

MTaskExit(t, fatal) ==
    LET p == ProcOf[t]
        w == RunOf[p]
        J == {u \in Tasks : ts[u] = "blocked" /\ why[u] = "joint" /\ jt[u] = t}
    IN
    /\ ts[t] = "running"
    /\ fatal => "fatal" \in CanOf[t] /\ kill[t] # "dying"
    /\ ts'     = [RTs(ts, J) EXCEPT ![t] = "done"]
    /\ why'    = RWhy(J)
    /\ jt'     = RJt(J)
    /\ remote' = RRemote(J, p)
    /\ idle'   = RIdle(J, p)
    /\ nidle'  = [nidle EXCEPT ![w] = NIdleAfter(w, J, p)]
    /\ parker' = MWake(parker, Unidle(J, p))
    /\ pc'     = [pc EXCEPT ![p] = "loop"]
    /\ kill'   = [kill EXCEPT ![t] = "no"]
    /\ bud'    = [bud EXCEPT ![t] = 0]
    /\ fatalp' = IF (fatal \/ MainKilled(t)) /\ fatalp[w] = None
                 THEN [fatalp EXCEPT ![w] = p] ELSE fatalp
    /\ UNCHANGED <<phase, wprocs, ntimers, iocalls, deadlock, cause, intr, kicked,
                   tmo, tw, tc, io>>

MIoDone(t) ==
    LET w    == RunOfT[t]
        U    == IF ts[t] = "blocked" /\ why[t] = "io" THEN {t} ELSE {}
        n1   == NIdleAfter(w, U, None)
        i1   == IF Mutant = "iodone_keeps_count" /\ U = {} THEN iocalls[w] ELSE iocalls[w] - 1
        ts1  == RTs(ts, U)
        decl == IF Mutant = "iodone_no_check" THEN FALSE
                ELSE MDeadCond(w, wprocs[w], n1, i1, ntimers[w])
    IN
    /\ io[t] = "running"
    /\ io'      = [io EXCEPT ![t] = "none"]
    /\ iocalls' = [iocalls EXCEPT ![w] = i1]
    /\ ts'      = ts1
    /\ why'     = RWhy(U)
    /\ jt'      = RJt(U)
    /\ remote'  = RRemote(U, None)
    /\ idle'    = RIdle(U, None)
    /\ nidle'   = [nidle EXCEPT ![w] = n1]
    /\ MDeclare(w, decl, ts1, MWake(parker, Unidle(U, None)))
    /\ UNCHANGED <<wprocs, ntimers, cause, intr, fatalp, kicked, pc, tmo, kill, bud, tw, tc>>

MKillBlocked(t) ==
    LET w == RunOfT[t] IN
    /\ t \in Killable
    /\ kill[t] = "no"
    /\ ts[t] = "blocked"
    /\ kill'    = [kill EXCEPT ![t] = "dying"]
    /\ ts'      = RTs(ts, {t})
    /\ why'     = RWhy({t})
    /\ jt'      = RJt({t})
    /\ tw'      = RTw({t})
    /\ ntimers' = IF Mutant = "kill_keeps_timer" THEN ntimers
                  ELSE [ntimers EXCEPT ![w] = NTimersAfter(w, {t})]
    /\ remote'  = RRemote({t}, None)
    /\ idle'    = RIdle({t}, None)
    /\ nidle'   = [nidle EXCEPT ![w] = NIdleAfter(w, {t}, None)]
    /\ parker'  = MWake(parker, Unidle({t}, None))
    /\ kicked'  = [kicked EXCEPT ![w] = @ \/ (Declared(w) /\ cause[w] = None)]
    /\ UNCHANGED <<phase, wprocs, iocalls, deadlock, cause, intr, fatalp, pc, tmo, bud, tc, io>>

MTimerDrop(t) ==
    LET w    == RunOfT[t]
        decl == MDeadCond(w, wprocs[w], nidle[w], iocalls[w], ntimers[w] - 1)
    IN
    /\ tc[t] # Off
    /\ tc'      = [tc EXCEPT ![t] = Off]
    /\ ntimers' = [ntimers EXCEPT ![w] = @ - 1]
    /\ MDeclare(w, decl, ts, parker)
    /\ UNCHANGED <<wprocs, nidle, iocalls, cause, intr, fatalp, kicked,
                   pc, idle, tmo, remote, ts, why, jt, kill, bud, tw, io>>

-----------------------------------------------------------------------------
MSchedStep(p) ==
    \/ MProcStart(p)
    \/ TakeRemote(p)
    \/ MProcIdle(p)
    \/ Park(p)
    \/ ProcWake(p)
    \/ Unpark(p)
    \/ MProcExit(p)
    \/ MRunEnding(p)

MTaskStep(t) ==
    \/ \E u \in Tasks : MChanReady(t, u)
    \/ ChanBlock(t)
    \/ \E k \in {"sleep", "after"} : TimerArm(t, k)
    \/ MTimerStop(t)
    \/ \E x \in Procs \cup Tasks, b \in BOOLEAN : JoinBlock(t, x, b)
    \/ IoStart(t)
    \/ \E q \in Procs : MProcCreate(t, q)
    \/ \E u \in Tasks : TaskCreate(t, u)
    \/ Yield(t)
    \/ Killed(t)
    \/ \E f \in BOOLEAN : MTaskExit(t, f)

MFire(t, k) == \E p \in Procs : MTimerFire(p, t, k)

MNext ==
    \/ \E w \in Runs : RunStart(w) \/ MRunEnd(w) \/ MInterrupt(w)
    \/ \E p \in Procs : MSchedStep(p)
    \/ \E t \in Tasks : \/ MTaskStep(t)
                        \/ Dispatch(t)
                        \/ MFire(t, "wait") \/ MFire(t, "chan")
                        \/ IoRun(t) \/ MIoDone(t)
                        \/ MKillBlocked(t) \/ KillPending(t)
                        \/ MTimerDrop(t)
    \/ Done

MSpec == Init /\ [][MNext]_vars

MFairSpec ==
    /\ MSpec
    /\ \A w \in Runs : WF_vars(RunStart(w)) /\ WF_vars(MRunEnd(w))
    /\ \A p \in Procs : WF_vars(MSchedStep(p))
    /\ \A t \in Tasks : /\ WF_vars(MTaskStep(t))
                        /\ SF_vars(Dispatch(t))
                        /\ WF_vars(IoRun(t) \/ MIoDone(t))
                        /\ SF_vars(MFire(t, "wait"))
                        /\ SF_vars(MFire(t, "chan"))

=============================================================================
