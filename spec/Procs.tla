------------------------------- MODULE Procs --------------------------------
(***************************************************************************)
(* libtask9's lifecycle: runs, procs, the scheduler's idle/wake protocol,  *)
(* timers, iocalls, joins, kills, interrupts, and the Deadlock declaration *)
(* (a termination-detection problem, cf. EWD840/EWD998 and tlaplus/       *)
(* Examples AsyncTerminationDetection: detect only what has happened,     *)
(* and eventually detect it once it has).                                  *)
(*                                                                         *)
(* WHAT IS MODELLED.  The algorithm of issue 9's lifecycle design note    *)
(* (notes/lifecycle-design.md), at the granularity of its critical         *)
(* sections (CS) of the one global chanlock and of its unlocked steps:     *)
(*   - independent runs (run()/Runner.run), each with its own world:       *)
(*     registered procs, nidle, iocalls, ntimers, deadlock, phase;         *)
(*   - procs: registered before their thread starts, started, running one  *)
(*     task at a time, idle, woken through their remote queue, parked on a *)
(*     parker (a binary semaphore: a wake made between "decide to sleep"   *)
(*     and "sleep" is kept, not lost), exiting;                            *)
(*   - tasks, abstracted to what the scheduler sees: runnable (in the run  *)
(*     queue or in the proc's remote queue), running, blocked on a channel *)
(*     (readied later by a partner task of the same run that still runs,   *)
(*     by a timer channel, or by a kill), sleeping on a timer, blocked in  *)
(*     Proc.join (blocking or with a timeout) or Task.join, waiting for an *)
(*     iocall's reply, done;                                               *)
(*   - timers armed, fired, stopped, dropped (garbage collected), handed   *)
(*     to the main proc when their proc exits; iocalls queued, running,    *)
(*     done;                                                               *)
(*   - Task.kill (from outside), the scheduler's kills when a run ends, a  *)
(*     KeyboardInterrupt in any state of the main proc, fatal exceptions;  *)
(*   - the Deadlock declaration exactly as the runtime decides it, what    *)
(*     each proc does with it, run ending and run() returning.             *)
(* Channel semantics are Channels.tla's business: here a channel           *)
(* operation is either "ready a blocked partner" (any of the channel       *)
(* actions that complete a blocked waiter: AltRendezvous, AltHandover,    *)
(* Close, ...) or "block" (AltBlock).  Which partner is readied is free    *)
(* (any chan-blocked task of the same run), which over-approximates every  *)
(* channel program.                                                        *)
(*                                                                         *)
(* ONE ACTION = ONE CRITICAL SECTION or one unlocked step.  Actions named  *)
(* like the runtime's trace events (RunStart, ProcCreate, ProcStart,       *)
(* TaskCreate, TaskExit, ProcIdle, ProcWake, TimerArm, TimerFire,          *)
(* TimerStop, IoStart, IoDone, JoinBlock, ProcExit, Interrupt, RunEnding,  *)
(* RunEnd, KillBlocked, KillPending, Killed) are those events; the others  *)
(* are untraced steps: Dispatch, TakeRemote, Park, Unpark (the scheduler), *)
(* ChanReady / ChanBlock (a channel action seen from the scheduler),       *)
(* Yield, IoRun (the helper takes a call), TimerDrop (the garbage          *)
(* collector), Done (stutter at the end).  The numbers in the comments     *)
(* below are the items of the design note.                                 *)
(*                                                                         *)
(* Runtime functions (libtask9/_sched.py, _world.py, _timer.py,            *)
(* _ioproc.py; names may shift with the redesign, roles do not):           *)
(*   Proc._wait_for_work (ProcIdle, Park, ProcWake, Unpark), the scheduler *)
(*   loop (TakeRemote, Dispatch, TimerFire, RunEnding), ready_locked       *)
(*   (the R* operators and Unidle), World.check_deadlock_locked (DeadCond, *)
(*   Declare), Proc._exit_locked (ProcExit), _ioproc.IOProc._serve (IoRun, *)
(*   IoDone),                                                              *)
(*   _timer firing (TimerFire), Runner.run (RunStart, RunEnd), new_proc    *)
(*   (ProcCreate), the proc thread's entry (ProcStart), kill_task          *)
(*   (KillBlocked, KillPending), killed_locked (Killed).                   *)
(*                                                                         *)
(* WHAT IS VERIFIED (MCProcs*.tla models, spec/models.json):               *)
(*   TypeOK and the bookkeeping invariants IdleExact, TimerCount, IoCount, *)
(*   Registered, WaitExact, SchedExact; NoFalseDeadlock (a run declared    *)
(*   deadlocked has nothing left that could ready a task); DeadlockNames;  *)
(*   RunEndsClean; Isolation (ProcsIsolation.tla: every run's projection   *)
(*   is a behaviour of the one-run spec); under FairSpec: NoLostWakeup,    *)
(*   DeadlockDeclared, RunReturns; and in ProcsMutant.tla that wrong       *)
(*   variants of the algorithm are rejected.                               *)
(***************************************************************************)
EXTENDS Integers, FiniteSets

CONSTANTS
    Runs,       \* the runs (one world each): run() calls on some threads
    Procs,      \* the procs of all runs (ids distinct from task ids)
    Tasks,      \* the tasks of all procs
    ProcRun,    \* ProcRun[p]: the run proc p belongs to
    MainProc,   \* MainProc[w]: run w's main proc (the thread that called run())
    TaskProc,   \* TaskProc[t]: the proc of task t (a task never migrates)
    FirstTask,  \* FirstTask[p]: p's first task (for MainProc[w]: "main")
    Budget,     \* Budget[t] \in Nat: how many operations t may perform
    Can,        \* Can[t] \subseteq Ops: the operations t may perform
    Spinners,   \* tasks that may yield forever (CPU-bound; no budget used)
    Killable,   \* tasks that Task.kill from outside may hit, once each
    IntrRuns,   \* runs whose run() runs on the main thread (get SIGINT)
    After       \* <<v, w>> \in After: run w starts only once run v ended
                \*   (two runs back to back on one thread)

\* The operations of a running task (Can[t] selects some of them).
Ops == {"ready",     \* complete a blocked channel partner (ChanReady)
        "block",     \* block on a channel (ChanBlock)
        "sleep",     \* sleep(ms): TimerArm + block
        "after",     \* after()/Timer(): TimerArm of a timer channel
        "stop",      \* Timer.stop(): TimerStop
        "join",      \* Proc.join() without timeout (JoinBlock)
        "jointo",    \* Proc.join(timeout) (JoinBlock + its timer)
        "jointask",  \* Task.join() (JoinBlock on a task)
        "io",        \* IOProc.iocall (IoStart)
        "spawn",     \* new_task (TaskCreate)
        "newproc",   \* new_proc (ProcCreate)
        "yield",     \* yield_()
        "fatal"}     \* raise SystemExit / main raises (TaskExit, fatal)

None == "-"    \* no value (string: TLC compares it with proc/task ids)
Off  == "off"  \* a chan timer that is not armed

ASSUME
    /\ Runs # {} /\ Procs \cap Tasks = {}
    /\ None \notin Procs \cup Tasks /\ Off \notin Procs
    /\ ProcRun \in [Procs -> Runs]
    /\ MainProc \in [Runs -> Procs] /\ \A w \in Runs : ProcRun[MainProc[w]] = w
    /\ TaskProc \in [Tasks -> Procs]
    /\ FirstTask \in [Procs -> Tasks] /\ \A p \in Procs : TaskProc[FirstTask[p]] = p
    /\ Budget \in [Tasks -> Nat]
    /\ Can \in [Tasks -> SUBSET Ops]
    /\ Spinners \subseteq Tasks /\ Killable \subseteq Tasks
    /\ IntrRuns \subseteq Runs
    /\ After \subseteq Runs \X Runs

VARIABLES
    \* --- per run: its world (guarded by chanlock) --------------------------
    phase,      \* phase[w] \in {"idle" (run() not called yet), "running",
                \*   "ending", "ended" (run() has returned or raised)}
    wprocs,     \* wprocs[w]: the registered procs (created, not yet exited)
    nidle,      \* nidle[w]: counter of the registered procs that are idle
    ntimers,    \* ntimers[w]: counter of the live timers of the run
    iocalls,    \* iocalls[w]: counter of the iocalls in flight for the run
    deadlock,   \* deadlock[w]: <<>> (None) or <<B>>: the declared Deadlock,
                \*   naming the set B of tasks that were blocked
    cause,      \* cause[w]: why the run is ending (None until RunEnding):
                \*   "main" | "deadlock" | "fatal" | "interrupt"
    intr,       \* intr[w]: a KeyboardInterrupt arrived (deferred flag)
    fatalp,     \* fatalp[w]: the proc where a fatal exception (SystemExit,
                \*   main raised or was killed) happened, which ends the
                \*   run; or None
    kicked,     \* GHOST kicked[w]: after w was declared deadlocked and
                \*   before RunEnding, Task.kill from outside readied one
                \*   of its tasks (used only by NoFalseDeadlock)
    \* --- per proc ------------------------------------------------------------
    pc,         \* pc[p]: where p's thread is: "none" (not created),
                \*   "created" (registered, thread not started), "loop"
                \*   (scheduler, no task running), "run" (a task runs),
                \*   "parking" (decided to sleep, chanlock released, not yet
                \*   in the semaphore), "asleep" (in the semaphore), "exited"
    idle,       \* idle[p]: the proc's idle flag (counted in nidle)
    parker,     \* parker[p]: "off" | "armed" (_sleeping: a wake will
                \*   release the semaphore) | "sig" (released: the current
                \*   or next sleep returns at once)
    tmo,        \* tmo[p]: the current sleep has a timeout (p's heap had a
                \*   live timer when it decided to sleep)
    remote,     \* remote[p]: tasks of p readied by other threads
    \* --- per task ------------------------------------------------------------
    ts,         \* ts[t] \in {"none" (not created), "runnable", "running",
                \*   "blocked", "done"}
    why,        \* why[t]: what a blocked task waits in: "chan", "sleep",
                \*   "joinp" (Proc.join), "joint" (Task.join), "io"; else None
    jt,         \* jt[t]: the proc or task a joiner waits for; else None
    kill,       \* kill[t] \in {"no", "pending" (lands at the next switch
                \*   point), "dying" (TaskKilled / KeyboardInterrupt raised:
                \*   the task unwinds and exits)}
    bud,        \* bud[t]: operations t may still perform
    tw,         \* tw[t]: t's wait timer (sleep or join timeout) is armed;
                \*   it lives on the heap of ProcOf[t]
    tc,         \* tc[t]: the timer channel t armed (after/Timer): Off, or
                \*   the proc on whose heap it is armed
    io          \* io[t] \in {"none", "queued", "running"}: t's iocall, queued
                \*   on the run's IOProc or running on its helper thread

runVars  == <<phase, wprocs, nidle, ntimers, iocalls, deadlock, cause, intr, fatalp, kicked>>
procVars == <<pc, idle, parker, tmo, remote>>
taskVars == <<ts, why, jt, kill, bud, tw, tc, io>>
vars == <<runVars, procVars, taskVars>>

-----------------------------------------------------------------------------
(***************************************************************************)
(* Constants read through zero-arity definitions: TLC evaluates these once *)
(* (a constant a model overrides with a definition is re-evaluated at      *)
(* every use; see spec/README.md "TLC 2.15 notes").                        *)
(***************************************************************************)
RunOf    == ProcRun
ProcOf   == TaskProc
MainOf   == MainProc
FirstOf  == FirstTask
CanOf    == Can
BudgetOf == Budget
ProcsOf  == [w \in Runs |-> {p \in Procs : RunOf[p] = w}]
TasksOn  == [p \in Procs |-> {t \in Tasks : ProcOf[t] = p}]
RunOfT   == [t \in Tasks |-> RunOf[ProcOf[t]]]
TasksOf  == [w \in Runs |-> {t \in Tasks : RunOfT[t] = w}]

-----------------------------------------------------------------------------
(***************************************************************************)
(* Helpers.                                                                *)
(***************************************************************************)
Live(t)     == ts[t] \in {"runnable", "running", "blocked"}
HasLive(p)  == \E t \in TasksOn[p] : Live(t)
Started(p)  == pc[p] \in {"loop", "run", "parking", "asleep"}
Parked(p)   == pc[p] \in {"parking", "asleep"}
Declared(w) == deadlock[w] # <<>>
\* The run queue of p (owner-only in the runtime): its runnable tasks that
\* are not in its remote queue.
LocalRunnable(p) == {t \in TasksOn[p] : ts[t] = "runnable" /\ t \notin remote[p]}
\* p's heap holds a live timer (its tasks' wait timers, timer channels).
HasTimers(p) == (\E t \in TasksOn[p] : tw[t]) \/ (\E t \in Tasks : tc[t] = p)
ChanBlocked(w) == {t \in TasksOf[w] : ts[t] = "blocked" /\ why[t] = "chan"}

(***************************************************************************)
(* ready_locked(u) for every u in U, called by the thread of proc `by`     *)
(* (None: a thread that is no proc: an IOProc helper, a plain thread       *)
(* calling Task.kill).  u becomes runnable; if u's proc is the caller's:   *)
(* its run queue; else its remote queue and, in the same CS, if that proc  *)
(* is idle: idle = false, nidle -= 1, parker.wake.  Completing the wait    *)
(* also disarms a join-timeout timer of u (ntimers -= 1).                  *)
(***************************************************************************)
Unidle(U, by) == {p \in Procs : p # by /\ idle[p] /\ \E u \in U : ProcOf[u] = p}
RTs(ts0, U)   == [t \in Tasks |-> IF t \in U THEN "runnable" ELSE ts0[t]]
RWhy(U)       == [t \in Tasks |-> IF t \in U THEN None ELSE why[t]]
RJt(U)        == [t \in Tasks |-> IF t \in U THEN None ELSE jt[t]]
RTw(U)        == [t \in Tasks |-> tw[t] /\ t \notin U]
RRemote(U, by) == [p \in Procs |-> remote[p] \cup {u \in U : ProcOf[u] = p /\ p # by}]
RIdle(U, by)  == [p \in Procs |-> idle[p] /\ p \notin Unidle(U, by)]
\* nidle and ntimers of run w after readying U
NIdleAfter(w, U, by) == nidle[w] - Cardinality({p \in Unidle(U, by) : RunOf[p] = w})
NTimersAfter(w, U)   == ntimers[w] - Cardinality({u \in U : tw[u] /\ RunOfT[u] = w})
\* parker.wake on every proc of S: an armed parker is released
Wake(pk, S) == [p \in Procs |-> IF p \in S /\ pk[p] = "armed" THEN "sig" ELSE pk[p]]

(***************************************************************************)
(* check deadlock (World.check_deadlock_locked), evaluated on the values   *)
(* the CS has just computed (P: procs, n: nidle, i: iocalls, k: ntimers):  *)
(*   phase == running and deadlock is None and procs non-empty and         *)
(*   nidle == |procs| and iocalls == 0 and ntimers == 0.                   *)
(* Declare: deadlock = Deadlock(the blocked tasks), phase = ending, wake   *)
(* every parker of the run.  ts1/pk1 are the task states and parkers the   *)
(* CS computed before the check.                                           *)
(***************************************************************************)
DeadCond(w, P, n, i, k) ==
    /\ phase[w] = "running"
    /\ deadlock[w] = <<>>
    /\ P # {}
    /\ n = Cardinality(P)
    /\ i = 0
    /\ k = 0
Declare(w, decl, ts1, pk1) ==
    /\ deadlock' = IF decl
                   THEN [deadlock EXCEPT ![w] = <<{t \in TasksOf[w] : ts1[t] = "blocked"}>>]
                   ELSE deadlock
    /\ phase' = IF decl THEN [phase EXCEPT ![w] = "ending"] ELSE phase
    /\ parker' = IF decl THEN Wake(pk1, ProcsOf[w]) ELSE pk1

(***************************************************************************)
(* The cause that proc p must act on at its next scheduler step (RunEnding *)
(* by p), or None.  The main proc acts on an interrupt, on a declared      *)
(* Deadlock, and on having no task left; the proc where a fatal exception  *)
(* happened (main's first task raising or killed included: MainKilled)    *)
(* acts on it.  The first RunEnding fixes cause[w].                        *)
(***************************************************************************)
EndDue(p) ==
    LET w == RunOf[p] IN
    CASE cause[w] # None \/ phase[w] \notin {"running", "ending"} -> None
      [] p = MainOf[w] /\ intr[w]                                  -> "interrupt"
      [] fatalp[w] = p                                             -> "fatal"
      [] p = MainOf[w] /\ Declared(w)                              -> "deadlock"
      [] p = MainOf[w] /\ ~HasLive(p)                              -> "main"
      [] OTHER                                                     -> None

-----------------------------------------------------------------------------
(***************************************************************************)
(* Runs.                                                                   *)
(***************************************************************************)

(* 1. run() creates the world and its main proc (the calling thread),      *)
(*    registers it and spawns main's first task (Runner.run).              *)
RunStart(w) ==
    LET m == MainOf[w] IN
    /\ phase[w] = "idle"
    /\ \A v \in Runs : <<v, w>> \in After => phase[v] = "ended"
    /\ phase'  = [phase  EXCEPT ![w] = "running"]
    /\ wprocs' = [wprocs EXCEPT ![w] = {m}]
    /\ pc'     = [pc     EXCEPT ![m] = "loop"]
    /\ ts'     = [ts     EXCEPT ![FirstOf[m]] = "runnable"]
    /\ UNCHANGED <<nidle, ntimers, iocalls, deadlock, cause, intr, fatalp, kicked,
                   idle, parker, tmo, remote, why, jt, kill, bud, tw, tc, io>>

(* 13. Run ending (the scheduler loop of p, one CS): phase = ending, every  *)
(*     task of every proc of the run is killed -- a blocked one is         *)
(*     withdrawn from its wait and readied (its wait timer disarmed; an    *)
(*     iocall stays in flight and its reply will be dropped), a runnable   *)
(*     or running one gets a pending kill -- and every parker is woken.    *)
RunEnding(p) ==
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
    /\ parker'  = Wake(parker, ProcsOf[w])
    /\ UNCHANGED <<wprocs, iocalls, deadlock, intr, fatalp, kicked, pc, tmo, bud, tc, io>>

(* 13. run() returns or raises (main's thread, CS): main's proc has exited *)
(*     and it has waited for every other proc of the run to exit; the run's*)
(*     IOProcs are stopped: the calls still queued are dropped (their      *)
(*     callers are gone), a call already running on a helper thread may    *)
(*     outlive the run (its IoDone will find the run ended and deliver to  *)
(*     nobody).                                                            *)
RunEnd(w) ==
    LET Q == {t \in TasksOf[w] : io[t] = "queued"} IN
    /\ phase[w] = "ending"
    /\ cause[w] # None
    /\ pc[MainOf[w]] = "exited"
    /\ \A q \in ProcsOf[w] : pc[q] \in {"none", "exited"}
    /\ phase'   = [phase EXCEPT ![w] = "ended"]
    /\ io'      = [t \in Tasks |-> IF t \in Q THEN "none" ELSE io[t]]
    /\ iocalls' = [iocalls EXCEPT ![w] = @ - Cardinality(Q)]
    /\ UNCHANGED <<wprocs, nidle, ntimers, deadlock, cause, intr, fatalp, kicked,
                   procVars, ts, why, jt, kill, bud, tw, tc>>

(* 14. KeyboardInterrupt (only in the thread that called run(): the main   *)
(*     proc).  While the main proc sleeps on its parker: CS restore idle   *)
(*     (idle = false, nidle -= 1), leave the sleep; while a task runs user *)
(*     code: that task dies with KeyboardInterrupt (it unwinds and exits); *)
(*     inside runtime code: deferred.  In every case the flag makes the    *)
(*     main proc's next scheduler step RunEnding("interrupt").  At most    *)
(*     one interrupt per run in the model.                                 *)
Interrupt(w) ==
    LET m == MainOf[w]
        c == {t \in TasksOn[m] : ts[t] = "running"}
    IN
    /\ w \in IntrRuns
    /\ ~intr[w]
    /\ phase[w] \in {"running", "ending"}
    /\ intr' = [intr EXCEPT ![w] = TRUE]
    /\ IF Parked(m)
       THEN /\ pc'     = [pc     EXCEPT ![m] = "loop"]
            /\ idle'   = [idle   EXCEPT ![m] = FALSE]
            /\ nidle'  = [nidle  EXCEPT ![w] = IF idle[m] THEN @ - 1 ELSE @]
            /\ parker' = [parker EXCEPT ![m] = "off"]
            /\ tmo'    = [tmo    EXCEPT ![m] = FALSE]
            /\ UNCHANGED kill
       ELSE /\ \/ UNCHANGED kill                                 \* deferred
               \/ /\ c # {}                                      \* user code
                  /\ kill' = [t \in Tasks |-> IF t \in c THEN "dying" ELSE kill[t]]
            /\ UNCHANGED <<pc, idle, nidle, parker, tmo>>
    /\ UNCHANGED <<phase, wprocs, ntimers, iocalls, deadlock, cause, fatalp, kicked,
                   remote, ts, why, jt, bud, tw, tc, io>>

-----------------------------------------------------------------------------
(***************************************************************************)
(* Procs: creation, start, the scheduler loop, idle/wake, exit.            *)
(***************************************************************************)

(* 3. q's thread starts, binds itself and creates its first task. If the   *)
(*    run is already ending, that task starts with a pending kill (a task  *)
(*    created during the unwinding is killed in the next round).           *)
ProcStart(q) ==
    /\ pc[q] = "created"
    /\ pc' = [pc EXCEPT ![q] = "loop"]
    /\ ts' = [ts EXCEPT ![FirstOf[q]] = "runnable"]
    /\ kill' = IF phase[RunOf[q]] = "running" THEN kill
               ELSE [kill EXCEPT ![FirstOf[q]] = "pending"]
    /\ UNCHANGED <<runVars, idle, parker, tmo, remote, why, jt, bud, tw, tc, io>>

(* 5. Scheduler loop: move the tasks other threads readied into the run    *)
(*    queue (CS; untraced).                                                *)
TakeRemote(p) ==
    /\ pc[p] = "loop"
    /\ EndDue(p) = None
    /\ remote[p] # {}
    /\ remote' = [remote EXCEPT ![p] = {}]
    /\ UNCHANGED <<runVars, pc, idle, parker, tmo, taskVars>>

(* 4. Dispatch a runnable task of the run queue (unlocked; untraced).      *)
Dispatch(t) ==
    LET p == ProcOf[t] IN
    /\ pc[p] = "loop"
    /\ EndDue(p) = None
    /\ ts[t] = "runnable"
    /\ t \notin remote[p]
    /\ ts' = [ts EXCEPT ![t] = "running"]
    /\ pc' = [pc EXCEPT ![p] = "run"]
    /\ UNCHANGED <<runVars, idle, parker, tmo, remote, why, jt, kill, bud, tw, tc, io>>

(* 5./7. TimerFire (CS, the owning proc's loop): a due timer of p's heap.  *)
(*    Time is abstract: any live timer may be due.  The wait timer of t    *)
(*    (k = "wait") readies the sleeper, or completes t's Proc.join with    *)
(*    "timed out"; a timer channel (k = "chan") is disarmed (one-shot) and *)
(*    delivers without blocking: it readies one chan-blocked task of the   *)
(*    run, or nobody (no receiver: the value is buffered or dropped).      *)
TimerFire(p, t, k) ==
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
                /\ parker'  = Wake(parker, Unidle(U, p))
    /\ UNCHANGED <<phase, wprocs, iocalls, deadlock, cause, intr, fatalp, kicked,
                   pc, tmo, kill, bud, io>>

(* 5. wait_for_work, the CS that decides to sleep: nothing in the remote   *)
(*    queue, the run is running, no task runnable: idle = true, nidle += 1,*)
(*    check deadlock (ProcIdle {declared}).  Declared: the proc un-idles   *)
(*    itself and returns (to act on it).  Else it arms its parker and      *)
(*    releases chanlock, to sleep until woken or until the earliest        *)
(*    deadline of its heap (tmo).                                          *)
ProcIdle(p) ==
    LET w    == RunOf[p]
        n1   == nidle[w] + 1
        decl == DeadCond(w, wprocs[w], n1, iocalls[w], ntimers[w])
    IN
    /\ pc[p] = "loop"
    /\ phase[w] = "running"
    /\ EndDue(p) = None
    /\ remote[p] = {}
    /\ LocalRunnable(p) = {}
    /\ HasLive(p)
    /\ idle'  = [idle  EXCEPT ![p] = ~decl]
    /\ nidle' = [nidle EXCEPT ![w] = IF decl THEN nidle[w] ELSE n1]
    /\ pc'    = [pc    EXCEPT ![p] = IF decl THEN "loop" ELSE "parking"]
    /\ tmo'   = [tmo   EXCEPT ![p] = ~decl /\ HasTimers(p)]
    /\ Declare(w, decl, ts, IF decl THEN parker ELSE [parker EXCEPT ![p] = "armed"])
    /\ UNCHANGED <<wprocs, ntimers, iocalls, cause, intr, fatalp, kicked, remote, taskVars>>

(* 5. The thread enters the semaphore's acquire (unlocked; untraced).  A   *)
(*    wake-up released before this point is kept by the semaphore.         *)
Park(p) ==
    /\ pc[p] = "parking"
    /\ pc' = [pc EXCEPT ![p] = "asleep"]
    /\ UNCHANGED <<runVars, idle, parker, tmo, remote, taskVars>>

(* 5. The sleep returns -- the parker was released, or the timeout passed  *)
(*    -- and the thread re-acquires chanlock (CS).  Still idle (nobody     *)
(*    un-idled it: a timer is due, a Deadlock was declared, the run is     *)
(*    ending): idle = false, nidle -= 1 (ProcWake).  A ready_locked that   *)
(*    handed it a task already un-idled it: Unpark (untraced).             *)
WakeUp(p) ==
    /\ Parked(p)
    /\ parker[p] = "sig" \/ tmo[p]
    /\ parker' = [parker EXCEPT ![p] = "off"]
    /\ tmo'    = [tmo    EXCEPT ![p] = FALSE]
    /\ pc'     = [pc     EXCEPT ![p] = "loop"]
ProcWake(p) ==
    /\ WakeUp(p)
    /\ idle[p]
    /\ idle'  = [idle  EXCEPT ![p] = FALSE]
    /\ nidle' = [nidle EXCEPT ![RunOf[p]] = @ - 1]
    /\ UNCHANGED <<phase, wprocs, ntimers, iocalls, deadlock, cause, intr, fatalp, kicked,
                   remote, taskVars>>
Unpark(p) ==
    /\ WakeUp(p)
    /\ ~idle[p]
    /\ UNCHANGED <<runVars, idle, remote, taskVars>>

(* 11. ProcExit(p) (CS, p's own thread; its last task is done): procs -= p;*)
(*     ready every task joined on p (their join timers disarmed); p's live *)
(*     timers go to the run's main proc if the run is running -- and main's*)
(*     parker is woken, so that main re-computes its sleep's deadline --   *)
(*     or are dropped if it is ending; p finished; THEN check deadlock.    *)
ProcExit(p) ==
    LET w    == RunOf[p]
        run  == phase[w] = "running"
        J    == {u \in Tasks : ts[u] = "blocked" /\ why[u] = "joinp" /\ jt[u] = p}
        H    == {t \in Tasks : tc[t] = p}
        P1   == wprocs[w] \ {p}
        n1   == NIdleAfter(w, J, p)
        k1   == NTimersAfter(w, J) - (IF run THEN 0 ELSE Cardinality(H))
        ts1  == RTs(ts, J)
        pk0  == Wake(parker, Unidle(J, p))
        pk1  == IF run /\ H # {} THEN Wake(pk0, {MainOf[w]}) ELSE pk0
        decl == DeadCond(w, P1, n1, iocalls[w], k1)
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
    /\ Declare(w, decl, ts1, pk1)
    /\ UNCHANGED <<iocalls, cause, intr, fatalp, kicked, tmo, kill, bud, io>>

-----------------------------------------------------------------------------
(***************************************************************************)
(* Task operations, by the running task t of proc p = ProcOf[t].  Each     *)
(* costs one unit of budget (TaskExit and Killed are free; a spinner's     *)
(* yield too).  Switch points (channel operations, sleep, join, yield) are *)
(* where a pending kill lands instead (Killed); a dying task can only      *)
(* exit.                                                                   *)
(***************************************************************************)
Op(t, o)  == ts[t] = "running" /\ o \in CanOf[t] /\ bud[t] > 0
Spend(t)  == bud' = [bud EXCEPT ![t] = @ - 1]
\* t stops running and blocks in `w0`; p's thread returns to its loop
BlockIn(t, w0, j) ==
    /\ ts'  = [ts  EXCEPT ![t] = "blocked"]
    /\ why' = [why EXCEPT ![t] = w0]
    /\ jt'  = [jt  EXCEPT ![t] = j]
    /\ pc'  = [pc  EXCEPT ![ProcOf[t]] = "loop"]

(* A channel action of t that completes the blocked partner u (any of      *)
(* AltRendezvous, AltHandover, Close, ... of Channels.tla): ready_locked.  *)
(* The partner must be in the same run (channels do not cross runs).      *)
ChanReady(t, u) ==
    LET p == ProcOf[t]
        w == RunOf[p]
    IN
    /\ Op(t, "ready")
    /\ kill[t] = "no"
    /\ u \in ChanBlocked(w)
    /\ ts'     = RTs(ts, {u})
    /\ why'    = RWhy({u})
    /\ jt'     = RJt({u})
    /\ remote' = RRemote({u}, p)
    /\ idle'   = RIdle({u}, p)
    /\ nidle'  = [nidle EXCEPT ![w] = NIdleAfter(w, {u}, p)]
    /\ parker' = Wake(parker, Unidle({u}, p))
    /\ Spend(t)
    /\ UNCHANGED <<phase, wprocs, ntimers, iocalls, deadlock, cause, intr, fatalp, kicked,
                   pc, tmo, kill, tw, tc, io>>

(* AltBlock of Channels.tla: t blocks on a channel.                        *)
ChanBlock(t) ==
    /\ Op(t, "block")
    /\ kill[t] = "no"
    /\ BlockIn(t, "chan", None)
    /\ Spend(t)
    /\ UNCHANGED <<runVars, idle, parker, tmo, remote, kill, tw, tc, io>>

(* 7. TimerArm: sleep(ms) pushes t's wait timer on p's heap (ntimers += 1) *)
(*    and blocks t in the same CS; after()/Timer() arms a timer channel    *)
(*    and t goes on.  (An infinite duration arms nothing: sleep(inf) is a  *)
(*    block forever, ChanBlock with no partner; the runtime records it as  *)
(*    an AltBlock with no case.)                                           *)
TimerArm(t, k) ==
    LET p == ProcOf[t]
        w == RunOf[p]
    IN
    /\ ts[t] = "running"
    /\ ntimers' = [ntimers EXCEPT ![w] = @ + 1]
    /\ \/ /\ k = "sleep"
          /\ Op(t, "sleep")
          /\ kill[t] = "no"
          /\ tw' = [tw EXCEPT ![t] = TRUE]
          /\ BlockIn(t, "sleep", None)
          /\ UNCHANGED tc
       \/ /\ k = "after"
          /\ Op(t, "after")
          /\ kill[t] # "dying"
          /\ tc[t] = Off
          /\ tc' = [tc EXCEPT ![t] = p]
          /\ UNCHANGED <<tw, ts, why, jt, pc>>
    /\ Spend(t)
    /\ UNCHANGED <<phase, wprocs, nidle, iocalls, deadlock, cause, intr, fatalp, kicked,
                   idle, parker, tmo, remote, kill, io>>

(* 7. TimerStop: Timer.stop() of t's timer channel (ntimers -= 1, check    *)
(*    deadlock -- never true here: t's proc runs, so it is not idle).      *)
TimerStop(t) ==
    LET w    == RunOfT[t]
        decl == DeadCond(w, wprocs[w], nidle[w], iocalls[w], ntimers[w] - 1)
    IN
    /\ Op(t, "stop")
    /\ kill[t] # "dying"
    /\ tc[t] # Off
    /\ tc'      = [tc EXCEPT ![t] = Off]
    /\ ntimers' = [ntimers EXCEPT ![w] = @ - 1]
    /\ Declare(w, decl, ts, parker)
    /\ Spend(t)
    /\ UNCHANGED <<wprocs, nidle, iocalls, cause, intr, fatalp, kicked,
                   pc, idle, tmo, remote, ts, why, jt, kill, tw, io>>

(* 9. JoinBlock: Proc.join() / Proc.join(timeout) on a proc q of the same  *)
(*    run that has not finished (a finished one returns True at once: no   *)
(*    state change but the budget, not modelled), or Task.join() on a live *)
(*    task of the same run.  With a timeout, t's wait timer is armed in    *)
(*    the same CS.                                                         *)
JoinBlock(t, x, timeout) ==
    LET p == ProcOf[t]
        w == RunOf[p]
    IN
    /\ ts[t] = "running"
    /\ kill[t] = "no"
    /\ \/ /\ x \in ProcsOf[w] \ {p}
          /\ pc[x] \notin {"none", "exited"}
          /\ Op(t, IF timeout THEN "jointo" ELSE "join")
          /\ BlockIn(t, "joinp", x)
          /\ tw'      = [tw EXCEPT ![t] = timeout]
          /\ ntimers' = [ntimers EXCEPT ![w] = IF timeout THEN @ + 1 ELSE @]
       \/ /\ x \in TasksOf[w] \ {t}
          /\ Live(x)
          /\ ~timeout
          /\ Op(t, "jointask")
          /\ BlockIn(t, "joint", x)
          /\ UNCHANGED <<tw, ntimers>>
    /\ Spend(t)
    /\ UNCHANGED <<phase, wprocs, nidle, iocalls, deadlock, cause, intr, fatalp, kicked,
                   idle, parker, tmo, remote, kill, tc, io>>

(* 8. IoStart: queue the call, iocalls += 1, t blocks on its reply.        *)
IoStart(t) ==
    LET w == RunOfT[t] IN
    /\ Op(t, "io")
    /\ kill[t] = "no"
    /\ io[t] = "none"
    /\ io'      = [io EXCEPT ![t] = "queued"]
    /\ iocalls' = [iocalls EXCEPT ![w] = @ + 1]
    /\ BlockIn(t, "io", None)
    /\ Spend(t)
    /\ UNCHANGED <<phase, wprocs, nidle, ntimers, deadlock, cause, intr, fatalp, kicked,
                   idle, parker, tmo, remote, kill, tw, tc>>

(* 2. ProcCreate(q) by t: q is registered in the run BEFORE its thread is  *)
(*    started (so that the creator going idle cannot see "everyone idle"   *)
(*    while q has not started).  (A failed thread start deregisters q in   *)
(*    the creator's next CS, while the creator runs: not modelled.)  A run *)
(*    that is ending refuses new procs.                                    *)
ProcCreate(t, q) ==
    LET w == RunOfT[t] IN
    /\ Op(t, "newproc")
    /\ kill[t] # "dying"
    /\ phase[w] = "running"
    /\ q \in ProcsOf[w] \ {MainOf[w]}
    /\ pc[q] = "none"
    /\ pc'     = [pc EXCEPT ![q] = "created"]
    /\ wprocs' = [wprocs EXCEPT ![w] = @ \cup {q}]
    /\ Spend(t)
    /\ UNCHANGED <<phase, nidle, ntimers, iocalls, deadlock, cause, intr, fatalp, kicked,
                   idle, parker, tmo, remote, ts, why, jt, kill, tw, tc, io>>

(* new_task: u (of t's proc, not yet created) becomes runnable in p's run  *)
(* queue; during the run's ending it starts with a pending kill.           *)
TaskCreate(t, u) ==
    LET p == ProcOf[t] IN
    /\ Op(t, "spawn")
    /\ kill[t] # "dying"
    /\ u \in TasksOn[p] \ {FirstOf[p]}
    /\ ts[u] = "none"
    /\ ts'   = [ts EXCEPT ![u] = "runnable"]
    /\ kill' = IF phase[RunOf[p]] = "running" THEN kill ELSE [kill EXCEPT ![u] = "pending"]
    /\ Spend(t)
    /\ UNCHANGED <<runVars, procVars, why, jt, tw, tc, io>>

(* yield_(): t goes back to p's run queue.  A spinner yields forever.      *)
Yield(t) ==
    /\ ts[t] = "running"
    /\ kill[t] = "no"
    /\ \/ t \in Spinners /\ UNCHANGED bud
       \/ Op(t, "yield") /\ Spend(t)
    /\ ts' = [ts EXCEPT ![t] = "runnable"]
    /\ pc' = [pc EXCEPT ![ProcOf[t]] = "loop"]
    /\ UNCHANGED <<runVars, idle, parker, tmo, remote, why, jt, kill, tw, tc, io>>

(* 12. Killed: the pending kill lands at t's next switch point: TaskKilled *)
(*     is raised, t unwinds.                                               *)
Killed(t) ==
    /\ ts[t] = "running"
    /\ kill[t] = "pending"
    /\ kill' = [kill EXCEPT ![t] = "dying"]
    /\ UNCHANGED <<runVars, procVars, ts, why, jt, bud, tw, tc, io>>

(* 10. TaskExit(t) (CS): t is done (returned, raised, or unwound); every   *)
(*     task joined on t is readied.  fatal: t raised SystemExit (or it is  *)
(*     main and raised): the run must end (RunEnding by p).  Main's first *)
(*     task exiting killed (Task.kill's TaskKilled, or a KeyboardInterrupt *)
(*     in user code) while the run is running is "main raised" too: the   *)
(*     run ends at once, whatever main's proc still has (MainKilled).      *)
MainKilled(t) ==
    LET w == RunOfT[t] IN
    /\ t = FirstOf[MainOf[w]]
    /\ kill[t] = "dying"
    /\ phase[w] = "running"
TaskExit(t, fatal) ==
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
    /\ parker' = Wake(parker, Unidle(J, p))
    /\ pc'     = [pc EXCEPT ![p] = "loop"]
    /\ kill'   = [kill EXCEPT ![t] = "no"]
    /\ bud'    = [bud EXCEPT ![t] = 0]
    /\ fatalp' = IF (fatal \/ MainKilled(t)) /\ fatalp[w] = None
                 THEN [fatalp EXCEPT ![w] = p] ELSE fatalp
    /\ UNCHANGED <<phase, wprocs, ntimers, iocalls, deadlock, cause, intr, kicked,
                   tmo, tw, tc, io>>

-----------------------------------------------------------------------------
(***************************************************************************)
(* Other threads: IOProc helpers, Task.kill from outside, the GC.          *)
(***************************************************************************)

(* 8. The IOProc's helper thread takes the next queued call (CS,          *)
(*    untraced) and runs it without the lock.  (Calls of several tasks are *)
(*    served in FIFO order by one helper; any order here, as if by several *)
(*    IOProcs.)                                                            *)
IoRun(t) ==
    /\ io[t] = "queued"
    /\ io' = [io EXCEPT ![t] = "running"]
    /\ UNCHANGED <<runVars, procVars, ts, why, jt, kill, bud, tw, tc>>

(* 8. IoDone (CS, the helper thread; the call itself ran unlocked):        *)
(*    iocalls -= 1, deliver the reply -- it readies the caller unless the  *)
(*    caller was killed (the reply is dropped) -- and check deadlock.      *)
IoDone(t) ==
    LET w    == RunOfT[t]
        U    == IF ts[t] = "blocked" /\ why[t] = "io" THEN {t} ELSE {}
        n1   == NIdleAfter(w, U, None)
        i1   == iocalls[w] - 1
        ts1  == RTs(ts, U)
        decl == DeadCond(w, wprocs[w], n1, i1, ntimers[w])
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
    /\ Declare(w, decl, ts1, Wake(parker, Unidle(U, None)))
    /\ UNCHANGED <<wprocs, ntimers, cause, intr, fatalp, kicked, pc, tmo, kill, bud, tw, tc>>

(* 12. KillBlocked: Task.kill (from a thread outside the run) of a blocked *)
(*     task: withdrawn from what it waits in (its wait timer disarmed; an  *)
(*     iocall stays in flight) and readied; it will raise TaskKilled.      *)
KillBlocked(t) ==
    LET w == RunOfT[t] IN
    /\ t \in Killable
    /\ kill[t] = "no"
    /\ ts[t] = "blocked"
    /\ kill'    = [kill EXCEPT ![t] = "dying"]
    /\ ts'      = RTs(ts, {t})
    /\ why'     = RWhy({t})
    /\ jt'      = RJt({t})
    /\ tw'      = RTw({t})
    /\ ntimers' = [ntimers EXCEPT ![w] = NTimersAfter(w, {t})]
    /\ remote'  = RRemote({t}, None)
    /\ idle'    = RIdle({t}, None)
    /\ nidle'   = [nidle EXCEPT ![w] = NIdleAfter(w, {t}, None)]
    /\ parker'  = Wake(parker, Unidle({t}, None))
    /\ kicked'  = [kicked EXCEPT ![w] = @ \/ (Declared(w) /\ cause[w] = None)]
    /\ UNCHANGED <<phase, wprocs, iocalls, deadlock, cause, intr, fatalp, pc, tmo, bud, tc, io>>

(* 12. KillPending: Task.kill of a runnable or running task: the kill      *)
(*     lands at its next switch point.                                     *)
KillPending(t) ==
    /\ t \in Killable
    /\ kill[t] = "no"
    /\ ts[t] \in {"runnable", "running"}
    /\ kill' = [kill EXCEPT ![t] = "pending"]
    /\ UNCHANGED <<runVars, procVars, ts, why, jt, bud, tw, tc, io>>

(* 7. TimerDrop: the timer channel of t is no longer referenced and the    *)
(*    timer is dropped (Go 1.23): ntimers -= 1, check deadlock (the GC may *)
(*    remove the last waker of a run whose procs are all idle).            *)
TimerDrop(t) ==
    LET w    == RunOfT[t]
        decl == DeadCond(w, wprocs[w], nidle[w], iocalls[w], ntimers[w] - 1)
    IN
    /\ tc[t] # Off
    /\ tc'      = [tc EXCEPT ![t] = Off]
    /\ ntimers' = [ntimers EXCEPT ![w] = @ - 1]
    /\ Declare(w, decl, ts, parker)
    /\ UNCHANGED <<wprocs, nidle, iocalls, cause, intr, fatalp, kicked,
                   pc, idle, tmo, remote, ts, why, jt, kill, bud, tw, io>>

(* Every run has returned and no iocall is in flight: stutter, so that     *)
(* normal termination is not reported by TLC as a deadlock.                *)
Done ==
    /\ \A w \in Runs : phase[w] = "ended"
    /\ \A t \in Tasks : io[t] = "none"
    /\ UNCHANGED vars

-----------------------------------------------------------------------------
Init ==
    /\ phase    = [w \in Runs |-> "idle"]
    /\ wprocs   = [w \in Runs |-> {}]
    /\ nidle    = [w \in Runs |-> 0]
    /\ ntimers  = [w \in Runs |-> 0]
    /\ iocalls  = [w \in Runs |-> 0]
    /\ deadlock = [w \in Runs |-> <<>>]
    /\ cause    = [w \in Runs |-> None]
    /\ intr     = [w \in Runs |-> FALSE]
    /\ fatalp   = [w \in Runs |-> None]
    /\ kicked   = [w \in Runs |-> FALSE]
    /\ pc       = [p \in Procs |-> "none"]
    /\ idle     = [p \in Procs |-> FALSE]
    /\ parker   = [p \in Procs |-> "off"]
    /\ tmo      = [p \in Procs |-> FALSE]
    /\ remote   = [p \in Procs |-> {}]
    /\ ts       = [t \in Tasks |-> "none"]
    /\ why      = [t \in Tasks |-> None]
    /\ jt       = [t \in Tasks |-> None]
    /\ kill     = [t \in Tasks |-> "no"]
    /\ bud      = [t \in Tasks |-> BudgetOf[t]]
    /\ tw       = [t \in Tasks |-> FALSE]
    /\ tc       = [t \in Tasks |-> Off]
    /\ io       = [t \in Tasks |-> "none"]

\* The steps of p's thread that are no task's: the scheduler.
SchedStep(p) ==
    \/ ProcStart(p)
    \/ TakeRemote(p)
    \/ ProcIdle(p)
    \/ Park(p)
    \/ ProcWake(p)
    \/ Unpark(p)
    \/ ProcExit(p)
    \/ RunEnding(p)

\* The steps of the running task t.
\* (Each of them starts with ts[t] = "running": TLC evaluates the guards
\* left to right, and labels a transition with the operator's name.)
TaskStep(t) ==
    \/ \E u \in Tasks : ChanReady(t, u)
    \/ ChanBlock(t)
    \/ \E k \in {"sleep", "after"} : TimerArm(t, k)
    \/ TimerStop(t)
    \/ \E x \in Procs \cup Tasks, b \in BOOLEAN : JoinBlock(t, x, b)
    \/ IoStart(t)
    \/ \E q \in Procs : ProcCreate(t, q)
    \/ \E u \in Tasks : TaskCreate(t, u)
    \/ Yield(t)
    \/ Killed(t)
    \/ \E f \in BOOLEAN : TaskExit(t, f)

\* A timer firing (timer k of task t, on whatever heap it is).
Fire(t, k) == \E p \in Procs : TimerFire(p, t, k)

Next ==
    \/ \E w \in Runs : RunStart(w) \/ RunEnd(w) \/ Interrupt(w)
    \/ \E p \in Procs : SchedStep(p)
    \/ \E t \in Tasks : \/ TaskStep(t)
                        \/ Dispatch(t)
                        \/ Fire(t, "wait") \/ Fire(t, "chan")
                        \/ IoRun(t) \/ IoDone(t)
                        \/ KillBlocked(t) \/ KillPending(t)
                        \/ TimerDrop(t)
    \/ Done

Spec == Init /\ [][Next]_vars

(***************************************************************************)
(* Fairness: weak fairness of every thread's steps (run() callers, procs'  *)
(* schedulers, running tasks, IOProc helpers); STRONG fairness of the      *)
(* dispatch of each runnable task (the run queue is FIFO, but the proc may *)
(* be busy with another task whenever we look) and of each timer's firing  *)
(* (time passes: a live timer is eventually due; the proc can fire it only *)
(* between two tasks).  Kills, interrupts and the GC are the environment's *)
(* and get no fairness.                                                    *)
(***************************************************************************)
Fairness ==
    /\ \A w \in Runs : WF_vars(RunStart(w)) /\ WF_vars(RunEnd(w))
    /\ \A p \in Procs : WF_vars(SchedStep(p))
    /\ \A t \in Tasks : /\ WF_vars(TaskStep(t))
                        /\ SF_vars(Dispatch(t))
                        /\ WF_vars(IoRun(t) \/ IoDone(t))
                        /\ SF_vars(Fire(t, "wait"))
                        /\ SF_vars(Fire(t, "chan"))
FairSpec == Spec /\ Fairness

-----------------------------------------------------------------------------
(***************************************************************************)
(* Invariants.                                                             *)
(***************************************************************************)
TypeOK ==
    /\ phase    \in [Runs -> {"idle", "running", "ending", "ended"}]
    /\ wprocs   \in [Runs -> SUBSET Procs]
    /\ nidle    \in [Runs -> 0..Cardinality(Procs)]
    /\ ntimers  \in [Runs -> 0..(2 * Cardinality(Tasks))]
    /\ iocalls  \in [Runs -> 0..Cardinality(Tasks)]
    /\ deadlock \in [Runs -> {<<>>} \cup {<<B>> : B \in SUBSET Tasks}]
    /\ cause    \in [Runs -> {None, "main", "deadlock", "fatal", "interrupt"}]
    /\ intr     \in [Runs -> BOOLEAN]
    /\ fatalp   \in [Runs -> Procs \cup {None}]
    /\ kicked   \in [Runs -> BOOLEAN]
    /\ pc       \in [Procs -> {"none", "created", "loop", "run", "parking", "asleep", "exited"}]
    /\ idle     \in [Procs -> BOOLEAN]
    /\ parker   \in [Procs -> {"off", "armed", "sig"}]
    /\ tmo      \in [Procs -> BOOLEAN]
    /\ remote   \in [Procs -> SUBSET Tasks]
    /\ ts       \in [Tasks -> {"none", "runnable", "running", "blocked", "done"}]
    /\ why      \in [Tasks -> {None, "chan", "sleep", "joinp", "joint", "io"}]
    /\ jt       \in [Tasks -> Procs \cup Tasks \cup {None}]
    /\ kill     \in [Tasks -> {"no", "pending", "dying"}]
    /\ bud      \in [Tasks -> Nat]
    /\ tw       \in [Tasks -> BOOLEAN]
    /\ tc       \in [Tasks -> Procs \cup {Off}]
    /\ io       \in [Tasks -> {"none", "queued", "running"}]

(* W1: the idle count is exact, and an idle proc is parked (never running  *)
(* a task, never in its loop) with nothing in its remote queue.            *)
IdleExact ==
    /\ \A w \in Runs : nidle[w] = Cardinality({p \in wprocs[w] : idle[p]})
    /\ \A p \in Procs : idle[p] => Parked(p) /\ remote[p] = {} /\ p \in wprocs[RunOf[p]]

(* ntimers counts exactly the live timers of the run: the wait timers of   *)
(* its sleepers/joiners and its armed timer channels.                      *)
NTimersOf(w) == Cardinality({t \in TasksOf[w] : tw[t]}) + Cardinality({t \in TasksOf[w] : tc[t] # Off})
TimerCount == \A w \in Runs : ntimers[w] = NTimersOf(w)

(* iocalls counts exactly the run's calls in flight.                       *)
IoCount == \A w \in Runs : iocalls[w] = Cardinality({t \in TasksOf[w] : io[t] # "none"})

(* A proc is registered exactly from its creation (before its thread       *)
(* starts) to its exit.                                                    *)
Registered ==
    \A w \in Runs : wprocs[w] = {p \in ProcsOf[w] : pc[p] \in {"created", "loop", "run", "parking", "asleep"}}

(* Wait records: what a blocked task waits in is consistent; a joiner      *)
(* waits for a proc that has not exited (else it would never be readied);  *)
(* a sleeper has its timer; a live timer channel is on the heap of a live  *)
(* proc of its run (else it would never fire).                             *)
WaitExact ==
    \A t \in Tasks :
        /\ (ts[t] = "blocked") <=> (why[t] # None)
        /\ (why[t] \in {"joinp", "joint"}) <=> (jt[t] # None)
        /\ why[t] = "joinp" => /\ jt[t] \in ProcsOf[RunOfT[t]] \ {ProcOf[t]}
                               /\ pc[jt[t]] \notin {"none", "exited"}
        /\ why[t] = "joint" => jt[t] \in TasksOf[RunOfT[t]] /\ Live(jt[t])
        /\ tw[t] => why[t] \in {"sleep", "joinp"}
        /\ why[t] = "sleep" => tw[t]
        /\ why[t] = "io" => io[t] # "none"
        /\ tc[t] # Off => tc[t] \in ProcsOf[RunOfT[t]] /\ tc[t] \in wprocs[RunOfT[t]]
        /\ kill[t] # "no" => Live(t)
        /\ ts[t] = "blocked" => kill[t] = "no"

(* The scheduler's own records: a proc runs at most one task, exactly when *)
(* its pc is "run"; a live task's proc has started and not exited; the     *)
(* remote queue holds runnable tasks of its proc; a parker is armed or     *)
(* released only while its proc is parked.                                *)
SchedExact ==
    \A p \in Procs :
        /\ Cardinality({t \in TasksOn[p] : ts[t] = "running"}) = IF pc[p] = "run" THEN 1 ELSE 0
        /\ \A t \in TasksOn[p] : Live(t) => Started(p)
        /\ remote[p] \subseteq {t \in TasksOn[p] : ts[t] = "runnable"}
        /\ parker[p] = "armed" => Parked(p)
        /\ tmo[p] => Parked(p)

(***************************************************************************)
(* Nothing that could ready a task of run w remains: no task of it is      *)
(* runnable or running (so no partner can complete a channel operation,    *)
(* create a task or a proc), no remote hand-off is in flight, no proc of   *)
(* it is about to start, no timer of it is live, no iocall of it is in     *)
(* flight, and every joiner waits for a proc that still has a (blocked)    *)
(* task, so that proc can never exit.  Then no action of the run can ever  *)
(* ready one of its tasks again -- only an outside Task.kill or interrupt  *)
(* can.  (AsyncTerminationDetection's "terminated".)                       *)
(***************************************************************************)
Quiet(w) ==
    /\ \A t \in TasksOf[w] : ts[t] \in {"none", "blocked", "done"}
    /\ \A p \in ProcsOf[w] : remote[p] = {} /\ pc[p] # "created"
    /\ \A t \in TasksOf[w] : ~tw[t] /\ tc[t] = Off /\ io[t] = "none"
    /\ \A t \in TasksOf[w] : why[t] = "joinp" => HasLive(jt[t])

(* NoFalseDeadlock: a run declared deadlocked is Quiet -- from the CS of    *)
(* the declaration until its RunEnding, unless a kill from outside readied *)
(* one of its tasks in between (ghost kicked).  (AsyncTerminationDetection *)
(* "Safe": terminationDetected => terminated.)                             *)
NoFalseDeadlock ==
    \A w \in Runs : Declared(w) /\ cause[w] = None /\ ~kicked[w] => Quiet(w)

(* The Deadlock names the blocked tasks of its own run, and only those.    *)
DeadlockNames ==
    \A w \in Runs : Declared(w) => /\ deadlock[w][1] \subseteq TasksOf[w]
                                   /\ deadlock[w][1] # {}
                                   /\ phase[w] \in {"ending", "ended"}

(* RunEndsClean: when run() has returned, every proc of the run has        *)
(* exited, nothing of it is registered or counted, every task of it is     *)
(* done, no timer of it is live, no iocall of it is queued.  (An iocall    *)
(* already running on a helper thread may outlive the run; its reply goes  *)
(* nowhere.)                                                               *)
RunEndsClean ==
    \A w \in Runs : phase[w] = "ended" =>
        /\ wprocs[w] = {}
        /\ nidle[w] = 0
        /\ ntimers[w] = 0
        /\ \A p \in ProcsOf[w] : pc[p] \in {"none", "exited"} /\ remote[p] = {} /\ ~idle[p]
        /\ \A t \in TasksOf[w] : /\ ts[t] \in {"none", "done"}
                                 /\ ~tw[t] /\ tc[t] = Off /\ io[t] # "queued"

Safety ==
    /\ TypeOK
    /\ IdleExact
    /\ TimerCount
    /\ IoCount
    /\ Registered
    /\ WaitExact
    /\ SchedExact
    /\ NoFalseDeadlock
    /\ DeadlockNames
    /\ RunEndsClean

-----------------------------------------------------------------------------
(***************************************************************************)
(* Liveness, under FairSpec.                                               *)
(***************************************************************************)

(* NoLostWakeup: a readied task eventually runs.                           *)
NoLostWakeup == \A t \in Tasks : ts[t] = "runnable" ~> ts[t] = "running"

(* Stuck(w): w is running, Quiet, its main proc has a blocked task (else   *)
(* main's end would end the run) and no interrupt or fatal exception is    *)
(* pending.  DeadlockDeclared: a stuck run eventually gets its Deadlock --  *)
(* unless the outside rescues it first (a kill readies one of its tasks,   *)
(* or an interrupt ends it).                                               *)
(* (AsyncTerminationDetection "Live": terminated ~> terminationDetected.)  *)
Stuck(w) ==
    /\ phase[w] = "running"
    /\ Quiet(w)
    /\ \E t \in TasksOn[MainOf[w]] : ts[t] = "blocked"
    /\ ~intr[w]
    /\ fatalp[w] = None
Rescued(w) == intr[w] \/ \E t \in TasksOf[w] : kill[t] = "dying"
DeadlockDeclared == \A w \in Runs : Stuck(w) ~> (Declared(w) \/ Rescued(w))

(* RunReturns: run() eventually returns or raises (every run whose tasks   *)
(* have finite work: no spinner).                                          *)
RunReturns == \A w \in Runs : (TasksOf[w] \cap Spinners = {}) => <>(phase[w] = "ended")

=============================================================================
