--------------------------- MODULE ProcsIsolation ---------------------------
(***************************************************************************)
(* Isolation: one run's lifecycle -- in particular its Deadlock            *)
(* declaration -- is a function of its own procs, tasks, timers and        *)
(* iocalls only.                                                           *)
(*                                                                         *)
(* Stated as a refinement: for every run w, the projection of the whole    *)
(* system onto w's variables (its world, its procs, its tasks) is a        *)
(* behaviour of the ONE-RUN spec One(w) -- Procs instantiated with w alone *)
(* -- in which no other run exists.  Every step either leaves w's part     *)
(* unchanged or is a step of One(w).  Since the check is deterministic     *)
(* inside each critical section (a proc going idle with w's own condition  *)
(* true MUST declare), a detector that looks at another run's procs (a     *)
(* world shared by two runs), or a wake-up that crosses runs (a channel    *)
(* or join between runs), makes some projected step impossible for One(w). *)
(*                                                                         *)
(* (A module of its own: Procs cannot instantiate itself.)                 *)
(***************************************************************************)
EXTENDS Procs

\* The spec of run w alone: its procs, its tasks, its constants.
One(w) == INSTANCE Procs WITH
    Runs     <- {w},
    Procs    <- ProcsOf[w],
    Tasks    <- TasksOf[w],
    ProcRun  <- [p \in ProcsOf[w] |-> w],
    MainProc <- [v \in {w} |-> MainOf[w]],
    TaskProc <- [t \in TasksOf[w] |-> ProcOf[t]],
    FirstTask <- [p \in ProcsOf[w] |-> FirstOf[p]],
    Budget   <- [t \in TasksOf[w] |-> Budget[t]],
    Can      <- [t \in TasksOf[w] |-> Can[t]],
    Spinners <- Spinners \cap TasksOf[w],
    Killable <- Killable \cap TasksOf[w],
    IntrRuns <- IntrRuns \cap {w},
    After    <- {},
    phase    <- [v \in {w} |-> phase[w]],
    wprocs   <- [v \in {w} |-> wprocs[w]],
    nidle    <- [v \in {w} |-> nidle[w]],
    ntimers  <- [v \in {w} |-> ntimers[w]],
    iocalls  <- [v \in {w} |-> iocalls[w]],
    deadlock <- [v \in {w} |-> deadlock[w]],
    cause    <- [v \in {w} |-> cause[w]],
    intr     <- [v \in {w} |-> intr[w]],
    fatalp   <- [v \in {w} |-> fatalp[w]],
    kicked   <- [v \in {w} |-> kicked[w]],
    pc       <- [p \in ProcsOf[w] |-> pc[p]],
    idle     <- [p \in ProcsOf[w] |-> idle[p]],
    parker   <- [p \in ProcsOf[w] |-> parker[p]],
    tmo      <- [p \in ProcsOf[w] |-> tmo[p]],
    remote   <- [p \in ProcsOf[w] |-> remote[p]],
    ts       <- [t \in TasksOf[w] |-> ts[t]],
    why      <- [t \in TasksOf[w] |-> why[t]],
    jt       <- [t \in TasksOf[w] |-> jt[t]],
    kill     <- [t \in TasksOf[w] |-> kill[t]],
    bud      <- [t \in TasksOf[w] |-> bud[t]],
    tw       <- [t \in TasksOf[w] |-> tw[t]],
    tc       <- [t \in TasksOf[w] |-> tc[t]],
    io       <- [t \in TasksOf[w] |-> io[t]]

\* w's part of the state.
RunState(w) ==
    << phase[w], wprocs[w], nidle[w], ntimers[w], iocalls[w], deadlock[w], cause[w],
       intr[w], fatalp[w], kicked[w],
       [p \in ProcsOf[w] |-> <<pc[p], idle[p], parker[p], tmo[p], remote[p]>>],
       [t \in TasksOf[w] |-> <<ts[t], why[t], jt[t], kill[t], bud[t], tw[t], tc[t], io[t]>>] >>

(* Isolation (the action part; the initial states project trivially).      *)
Isolation == [][\A w \in Runs : UNCHANGED RunState(w) \/ One(w)!Next]_vars

=============================================================================
