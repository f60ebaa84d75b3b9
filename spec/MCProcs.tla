------------------------------ MODULE MCProcs -------------------------------
(***************************************************************************)
(* Models of Procs for TLC.  The spec never changes for TLC's sake: this   *)
(* module only supplies the finite constants (runs, procs, tasks, what     *)
(* each task may do and how much of it) that the MCProcs_*.cfg files      *)
(* select.  Each model exercises a named part of the lifecycle; the        *)
(* expected result and state count of every model is in models.json.      *)
(*                                                                         *)
(* Ids are strings: runs "A", "B"; procs upper case (M is run A's main     *)
(* proc, N run B's); tasks lower case, named after their proc (m1 is the   *)
(* task main of run A, n1 of run B).                                       *)
(***************************************************************************)
EXTENDS ProcsIsolation, TLC

ChanOps == {"ready", "block"}

\* A witness: some run gets declared deadlocked (so NoFalseDeadlock and
\* DeadlockNames are not vacuous).  Expected to be VIOLATED.
NeverDeclared == \A w \in Runs : ~Declared(w)

-----------------------------------------------------------------------------
(* One run A: main proc M (tasks m1 = main, m2), proc Q (task q1).         *)
OneRuns     == {"A"}
OneProcs    == {"M", "Q"}
OneTasks    == {"m1", "m2", "q1"}
OneProcRun  == [p \in OneProcs |-> "A"]
OneMainProc == [w \in OneRuns |-> "M"]
OneTaskProc == [t \in OneTasks |-> IF t = "q1" THEN "Q" ELSE "M"]
OneFirst    == [p \in OneProcs |-> IF p = "M" THEN "m1" ELSE "q1"]

(* Safety: main may create Q and m2, join Q (with or without a timeout),   *)
(* sleep, block or ready on channels, do an iocall; m2 arms and stops a    *)
(* timer channel, joins a task, blocks or readies; q1 readies or blocks,   *)
(* sleeps, arms a timer channel (handed to M when Q exits), raises a fatal *)
(* exception.  q1 may be killed from outside; the run may be interrupted.  *)
SafeCan == [t \in OneTasks |->
              CASE t = "m1" -> {"newproc", "join", "jointo", "sleep", "io", "spawn"} \cup ChanOps
                [] t = "m2" -> {"after", "stop", "jointask"} \cup ChanOps
                [] OTHER    -> {"sleep", "after", "fatal"} \cup ChanOps]
SafeBudget == [t \in OneTasks |-> CASE t = "m1" -> 3 [] t = "m2" -> 1 [] OTHER -> 2]
\* the same with more budget for m2 (the full suite)
BigBudget  == [t \in OneTasks |-> CASE t = "m1" -> 3 [] OTHER -> 2]

(* Live (also the Teeth of the liveness mutants): m1 creates Q and blocks  *)
(* on a channel; q1 readies it, arms a timer channel (handed to M when Q   *)
(* exits) or blocks too.  The "nothing moves any more" endings: found by   *)
(* the last proc to go idle or by a proc exiting; a timer handed to the    *)
(* main proc; a proc that starts while the run is ending.                  *)
LiveTasks    == {"m1", "q1"}
LiveTaskProc == [t \in LiveTasks |-> IF t = "m1" THEN "M" ELSE "Q"]
LiveCan      == [t \in LiveTasks |->
                   IF t = "m1" THEN {"newproc", "block"} ELSE {"ready", "block", "after"}]
LiveBudget   == [t \in LiveTasks |-> IF t = "m1" THEN 2 ELSE 1]

(* Io (also the Teeth of the iocall and kill mutants): one proc M; m1      *)
(* spawns m2 and blocks; m2 does an iocall or sleeps, and may be killed    *)
(* from outside meanwhile: the deadlock is then found by the iocall        *)
(* finishing (or by M going idle once the killed sleeper has exited).      *)
(* m1 may be killed too (in the cfg): main's killed exit ends the run at   *)
(* once, while m2 still lives (MainKilled).                                *)
IoProcs    == {"M"}
IoTasks    == {"m1", "m2"}
IoProcRun  == [p \in IoProcs |-> "A"]
IoTaskProc == [t \in IoTasks |-> "M"]
IoFirst    == [p \in IoProcs |-> "m1"]
IoCan      == [t \in IoTasks |-> IF t = "m1" THEN {"spawn", "block"} ELSE {"io", "sleep"}]
IoBudget   == [t \in IoTasks |-> IF t = "m1" THEN 2 ELSE 1]

-----------------------------------------------------------------------------
(* Teeth (safety mutants): run A, M (m1), Q (q1); m1 creates Q, joins it,  *)
(* blocks, sleeps, does an iocall; q1 readies or blocks.  The run may be   *)
(* interrupted.                                                            *)
TeethTasks    == {"m1", "q1"}
TeethTaskProc == [t \in TeethTasks |-> IF t = "m1" THEN "M" ELSE "Q"]
TeethCan      == [t \in TeethTasks |->
                    IF t = "m1" THEN {"newproc", "join", "sleep", "io", "block"} ELSE ChanOps]
TeethBudget   == [t \in TeethTasks |-> 2]

-----------------------------------------------------------------------------
(* Two runs: A with main proc M (m1) and proc Q (q1); B with main proc N  *)
(* (n1) and proc P (p1).                                                   *)
TwoRuns     == {"A", "B"}
TwoProcs    == {"M", "Q", "N", "P"}
TwoTasks    == {"m1", "q1", "n1", "p1"}
TwoProcRun  == [p \in TwoProcs |-> IF p \in {"M", "Q"} THEN "A" ELSE "B"]
TwoMainProc == [w \in TwoRuns |-> IF w = "A" THEN "M" ELSE "N"]
TwoTaskProc == [t \in TwoTasks |-> CASE t = "m1" -> "M" [] t = "q1" -> "Q"
                                     [] t = "n1" -> "N" [] OTHER -> "P"]
TwoFirst    == [p \in TwoProcs |-> CASE p = "M" -> "m1" [] p = "Q" -> "q1"
                                     [] p = "N" -> "n1" [] OTHER -> "p1"]
\* A creates Q and joins it or blocks, q1 readies or blocks; B's main n1
\* spins, or blocks for good (B deadlocks); p1 is never created.
TwoCan == [t \in TwoTasks |->
             CASE t = "m1" -> {"newproc", "join", "block"}
               [] t = "n1" -> {"block"}
               [] OTHER    -> ChanOps]
\* TwoBig (the full suite): n1 may also create P and ready a partner.
TwoBigCan == [t \in TwoTasks |->
                CASE t = "m1" -> {"newproc", "join", "block"}
                  [] t = "n1" -> {"newproc", "ready", "block"}
                  [] OTHER    -> ChanOps]
TwoBudget   == [t \in TwoTasks |-> IF t = "m1" THEN 2 ELSE 1]
TwoSpinners == {"n1"}        \* B's main task is CPU-bound: B never idles
SeqAfter    == {<<"A", "B">>} \* B starts when A has returned (one thread)

(* Duo: the smallest two-run model (also the Teeth of the two-run          *)
(* mutants): A's main m1 blocks on a channel forever; B's main n1 spins    *)
(* and may ready a channel partner (in its own run: it has none).          *)
DuoProcs    == {"M", "N"}
DuoTasks    == {"m1", "n1"}
DuoProcRun  == [p \in DuoProcs |-> IF p = "M" THEN "A" ELSE "B"]
DuoTaskProc == [t \in DuoTasks |-> IF t = "m1" THEN "M" ELSE "N"]
DuoFirst    == [p \in DuoProcs |-> IF p = "M" THEN "m1" ELSE "n1"]
DuoCan      == [t \in DuoTasks |-> IF t = "m1" THEN {"block"} ELSE {"ready"}]
DuoBudget   == [t \in DuoTasks |-> 1]

-----------------------------------------------------------------------------
(* Full: one run, three procs M (m1, m2), Q (q1), R (r1): the big safety   *)
(* model of `make check-full`.                                             *)
FullProcs    == {"M", "Q", "R"}
FullTasks    == {"m1", "m2", "q1", "r1"}
FullProcRun  == [p \in FullProcs |-> "A"]
FullTaskProc == [t \in FullTasks |-> CASE t \in {"m1", "m2"} -> "M" [] t = "q1" -> "Q"
                                       [] OTHER -> "R"]
FullFirst    == [p \in FullProcs |-> CASE p = "M" -> "m1" [] p = "Q" -> "q1" [] OTHER -> "r1"]
FullCan == [t \in FullTasks |->
              CASE t = "m1" -> {"newproc", "join", "jointo", "sleep", "io", "spawn"} \cup ChanOps
                [] t = "m2" -> {"after", "stop", "jointask", "newproc"} \cup ChanOps
                [] t = "q1" -> {"sleep", "after", "fatal", "join"} \cup ChanOps
                [] OTHER    -> {"io", "after"} \cup ChanOps]
FullBudget == [t \in FullTasks |-> IF t = "m1" THEN 2 ELSE 1]

(* LiveBig: the Safety program (kill, interrupt, every operation) under    *)
(* FairSpec, smaller budgets.                                              *)
LiveBigBudget == [t \in OneTasks |-> IF t = "m1" THEN 2 ELSE 1]

=============================================================================
