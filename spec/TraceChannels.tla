--------------------------- MODULE TraceChannels ---------------------------
(***************************************************************************)
(* Trace validation of a libtask9 runtime trace against Channels (the     *)
(* method of Cirstea, Kuppe, Loillier, Merz, "Validating Traces of        *)
(* Distributed Programs Against TLA+ Specifications", 2024): the recorded *)
(* events constrain Next, event l at step l,                               *)
(*                                                                         *)
(*     TraceNext == Next /\ (the step is event Trace[l]) /\ l' = l + 1     *)
(*                                                                         *)
(* and the trace is a behaviour of Spec iff TLC reaches l = Len(Trace)+1.  *)
(* TLC 2.15 has no Json module, so libtask9/testing/tlctrace.py writes the *)
(* trace as a sequence literal into a generated module that EXTENDS this  *)
(* one, together with the constants derived from the same trace: Tasks,   *)
(* Chans and Cap (from ChanCreate), Killable, and Prog[t] = the operations *)
(* t started, in order (a placeholder where Killed interrupted one).       *)
(*                                                                         *)
(* An event is a record                                                    *)
(*   [action |-> an action name of Channels,  task |-> t,                  *)
(*    step |-> the index in Prog[t] of t's operation (0: not checked),     *)
(*    idx |-> the chosen case, 1-based (-1: none),                         *)
(*    vals |-> the spec values the runtime's observed value may stand for  *)
(*             (NoVal when it observed no value),                          *)
(*    haspartner |-> BOOLEAN, partner |-> u, pidx |-> u's case (1-based),  *)
(*    woken |-> {<<u, j>>} for Close]                                      *)
(* The runtime's values are opaque: the generator maps each one to the    *)
(* message ids <<t, s, i>> of the send cases that carried an equal value. *)
(*                                                                         *)
(* Acceptance: INVARIANT TraceNotAccepted is violated iff the whole trace *)
(* was matched.  Otherwise a second run, with deadlock checking on,       *)
(* stops at the longest matched prefix: its last state's l is the first   *)
(* rejected event.  (Every event pins one action instance, and every      *)
(* action is deterministic, so the matched prefix is a single path.)      *)
(***************************************************************************)
EXTENDS Channels, TLC

CONSTANT Trace      \* the event records, see above
VARIABLE l          \* the index of the next event to match

\* Read through a zero-arity definition: TLC evaluates it once, whereas a
\* constant overridden by a definition (Trace <- TrTrace) is re-evaluated at
\* every use (the same trick as Program/Capacity in Channels).
Log == Trace

traceVars == <<vars, l>>

TraceInit == Init /\ l = 1

\* The result appended to u's results by this step.
NewRes(u) == res'[u][Len(res'[u])]
\* The blocked tasks this step completed.
Woken == {u \in Tasks : st[u] = "blocked" /\ st'[u] = "ready"}

IsAction(e) ==
    CASE e.action = "AltBuffer"     -> AltBuffer(e.task, e.idx)
      [] e.action = "AltRendezvous" -> AltRendezvous(e.task, e.idx)
      [] e.action = "AltHandover"   -> AltHandover(e.task, e.idx)
      [] e.action = "AltClosed"     -> AltClosed(e.task, e.idx)
      [] e.action = "AltBlock"      -> AltBlock(e.task)
      [] e.action = "AltNone"       -> AltNone(e.task)
      [] e.action = "Close"         -> Close(e.task)
      [] e.action = "CloseClosed"   -> CloseClosed(e.task)
      [] e.action = "Killed"        -> Killed(e.task)
      [] e.action = "KillBlocked"   -> KillBlocked(e.task)
      [] e.action = "KillPending"   -> KillPending(e.task)

\* What the runtime observed is what the spec's step does.
Observed(e) ==
    /\ e.step # 0 => pc[e.task] = e.step
    /\ e.action \in {"AltBuffer", "AltRendezvous", "AltHandover", "AltClosed",
                     "AltBlock", "AltNone"} =>
          IF Len(res'[e.task]) > Len(res[e.task])
          THEN NewRes(e.task).val \in e.vals
          ELSE NoVal \in e.vals
    /\ e.haspartner => Woken = {e.partner} /\ NewRes(e.partner).idx = e.pidx
    /\ e.action = "Close" => {<<u, NewRes(u).idx>> : u \in Woken} = e.woken

TraceNext ==
    /\ l <= Len(Log)
    /\ IsAction(Log[l])
    /\ Observed(Log[l])
    /\ Next
    /\ l' = l + 1

TraceSpec == TraceInit /\ [][TraceNext]_traceVars

\* Violated exactly when every event has been matched: the trace is accepted.
TraceNotAccepted == l <= Len(Log)

=============================================================================
