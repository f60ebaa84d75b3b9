---------------------------- MODULE TraceProcs -----------------------------
(***************************************************************************)
(* Trace validation of a runtime trace's lifecycle events against Procs,  *)
(* with hidden steps (the method of TraceChannels.tla, and of Cirstea,     *)
(* Kuppe, Loillier, Merz 2024 for specifications with unrecorded steps).  *)
(* libtask9/testing/lctlctrace.py maps one run's events to the records of *)
(* Trace (the mapping of libtask9/testing/lctracecheck.py, the Python     *)
(* checker: spec/README.md, "Trace validation of lifecycle traces") and   *)
(* writes them, with the constants derived from the same events, into a   *)
(* generated module that EXTENDS this one.                                *)
(*                                                                         *)
(*   TraceNext == \/ a step the runtime does not record (Hidden), l kept  *)
(*                \/ the action of Trace[l], doing what the event reports *)
(*                   (Observed), l' = l + 1                                *)
(*                                                                         *)
(* Hidden steps and nondeterministic actions (which task a timer channel  *)
(* readies, whether an exit is fatal) make the matched prefixes a graph,  *)
(* not a path: a dead end is not a rejection.  So TLC explores every       *)
(* reachable state (-deadlock) and the generator reads the largest l of   *)
(* TLC's state dump: l = Len(Trace) + 1 means accepted, otherwise item l  *)
(* is the first one no state explains.  Procs is used unchanged.          *)
(*                                                                         *)
(* A record: [a |-> the action, w |-> the run, p |-> a proc, t, u |-> a    *)
(*   task, x |-> a join target, b |-> a timeout flag, k |-> a timer kind,  *)
(*   fs |-> the fatal flags TaskExit may have, ps |-> the procs that may  *)
(*   do RunEnding, decl |-> 1/0 the step declares a Deadlock or not (-1:   *)
(*   not reported), haswoken/woken |-> the tasks the step readies,        *)
(*   hascauses/causes |-> the causes RunEnding may fix]                    *)
(***************************************************************************)
EXTENDS Procs, Sequences, TLC

CONSTANT Trace
VARIABLE l

\* Read through a zero-arity definition (evaluated once; see Procs' notes).
Log == Trace

traceVars == <<vars, l>>

TraceInit == Init /\ l = 1

\* The spec's steps the runtime does not record.  The scheduler's own kills
\* (RunEnding, a task born while its run ends) land unrecorded: Killed is
\* hidden while the run is ending.
Hidden ==
    \/ \E p \in Procs : TakeRemote(p) \/ Park(p) \/ Unpark(p)
    \/ \E t \in Tasks : \/ Dispatch(t)
                        \/ Yield(t)
                        \/ IoRun(t)
                        \/ TimerDrop(t)
                        \/ phase[RunOfT[t]] = "ending" /\ Killed(t)

IsEvent(e) ==
    CASE e.a = "RunStart"    -> RunStart(e.w)
      [] e.a = "RunEnd"      -> RunEnd(e.w)
      [] e.a = "Interrupt"   -> Interrupt(e.w)
      [] e.a = "RunEnding"   -> \E p \in e.ps : RunEnding(p)
      [] e.a = "ProcStart"   -> ProcStart(e.p)
      [] e.a = "ProcIdle"    -> ProcIdle(e.p)
      [] e.a = "ProcWake"    -> ProcWake(e.p)
      [] e.a = "ProcExit"    -> ProcExit(e.p)
      [] e.a = "TimerFire"   -> TimerFire(e.p, e.t, e.k)
      [] e.a = "ChanReady"   -> ChanReady(e.t, e.u)
      [] e.a = "ChanBlock"   -> ChanBlock(e.t)
      [] e.a = "TimerArm"    -> TimerArm(e.t, e.k)
      [] e.a = "TimerStop"   -> TimerStop(e.t)
      [] e.a = "JoinBlock"   -> JoinBlock(e.t, e.x, e.b)
      [] e.a = "IoStart"     -> IoStart(e.t)
      [] e.a = "IoDone"      -> IoDone(e.t)
      [] e.a = "ProcCreate"  -> ProcCreate(e.t, e.p)
      [] e.a = "TaskCreate"  -> TaskCreate(e.t, e.u)
      [] e.a = "TaskExit"    -> \E f \in e.fs : TaskExit(e.t, f)
      [] e.a = "Killed"      -> Killed(e.t)
      [] e.a = "KillBlocked" -> KillBlocked(e.t)
      [] e.a = "KillPending" -> KillPending(e.t)

\* The tasks this step readies.
Readied == {t \in Tasks : ts[t] = "blocked" /\ ts'[t] = "runnable"}

\* What the event reports is what the step does.
Observed(e) ==
    /\ e.decl # -1 => ((deadlock[e.w] = <<>> /\ deadlock'[e.w] # <<>>) <=> e.decl = 1)
    /\ e.haswoken => Readied = e.woken
    /\ e.hascauses => cause'[e.w] \in e.causes

TraceNext ==
    /\ l <= Len(Log)
    /\ \/ Hidden /\ UNCHANGED l
       \/ IsEvent(Log[l]) /\ Observed(Log[l]) /\ l' = l + 1

TraceSpec == TraceInit /\ [][TraceNext]_traceVars

=============================================================================
