----------------------------- MODULE MCChannels -----------------------------
(***************************************************************************)
(* Models of Channels for TLC.  The spec never changes for TLC's sake:     *)
(* this module only supplies the finite constants (tasks, channels,        *)
(* capacities, programs) that the MCChannels_*.cfg files select, plus the  *)
(* symmetry set.  Each program exercises a named set of rules; the         *)
(* expected result and state count of every model is in models.json.       *)
(***************************************************************************)
EXTENDS Channels, TLC

\* Operation constructors (CONTRACT.md "Vocabulary").
S(c)      == [dir |-> "send", ch |-> c]            \* a send case on c
R(c)      == [dir |-> "recv", ch |-> c]            \* a recv case on c
Alt(cs)   == [kind |-> "alt", cases |-> cs, block |-> TRUE]
NbAlt(cs) == [kind |-> "alt", cases |-> cs, block |-> FALSE]
Snd(c)    == Alt(<<S(c)>>)                         \* send(c)
Rcv(c)    == Alt(<<R(c)>>)                         \* recv(c)
NbSnd(c)  == NbAlt(<<S(c)>>)                       \* nbsend(c)
NbRcv(c)  == NbAlt(<<R(c)>>)                       \* nbrecv(c)
Cls(c)    == [kind |-> "close", ch |-> c]          \* close(c)

MCNoVal == <<>>

-----------------------------------------------------------------------------
(* Small: 3 tasks x 2 channels (a: cap 0, b: cap 1).  Rendezvous, buffer,  *)
(* mixed alt with a nil case, non-blocking ops, close with waiters, close  *)
(* of a closed channel, send on a closed channel, kill.                    *)
SmallTasks == 1..3
SmallChans == {"a", "b"}
SmallCap   == [ch \in SmallChans |-> IF ch = "a" THEN 0 ELSE 1]
SmallProg  ==
    1 :> << Snd("a"), Alt(<<S("b"), R("a"), S(Nil)>>), NbSnd("b"), Cls("b") >> @@
    2 :> << Rcv("a"), Rcv("b"), Cls("b") >> @@
    3 :> << Alt(<<R("a"), R("b")>>), NbRcv("b"), Snd("b") >>
SmallKillable == {3}

-----------------------------------------------------------------------------
(* Teeth: 4 tasks x 3 channels (a: 0, b: 2, c: 1), the program on which    *)
(* every mutant of ChannelsMutant.tla is rejected.  It reaches: a full     *)
(* cap-2 buffer with a blocked sender (hand-over), two receivers queued    *)
(* on one channel (FIFO waiter), a blocked 2-channel alt woken by a        *)
(* partner (withdraw), a self-paired alt {send a, recv a} closed while     *)
(* blocked (smallest index), a kill of a blocked and of a woken task,      *)
(* non-blocking recvs that find a value or nothing, recv on a closed       *)
(* empty channel.                                                          *)
TeethTasks == 1..4
TeethChans == {"a", "b", "c"}
TeethCap   == [ch \in TeethChans |-> CASE ch = "a" -> 0 [] ch = "b" -> 2 [] OTHER -> 1]
TeethProg  ==
    1 :> << Snd("b"), Snd("b"), Snd("b"), Cls("a") >> @@
    2 :> << Rcv("b"), Alt(<<R("a"), R("c")>>), NbRcv("c") >> @@
    3 :> << NbRcv("c"), Rcv("a") >> @@
    4 :> << Alt(<<S("a"), R("a")>>), Snd("c") >>
TeethKillable == {4}

-----------------------------------------------------------------------------
(* Safety: 4 tasks x 3 channels (a: 0, b: 1, c: 2), the CI safety model.   *)
(* Mixed send/recv alts with nil cases, a non-blocking alt, nbsend and     *)
(* nbrecv, close of a buffered channel with waiters and values in it,      *)
(* kills of two tasks.                                                     *)
SafetyTasks == 1..4
SafetyChans == {"a", "b", "c"}
SafetyCap   == [ch \in SafetyChans |-> CASE ch = "a" -> 0 [] ch = "b" -> 1 [] OTHER -> 2]
SafetyProg  ==
    1 :> << Alt(<<S("a"), R("b"), S(Nil)>>), Snd("c"), Snd("c"), Cls("c") >> @@
    2 :> << Rcv("a"), Alt(<<R("c"), S("b")>>), NbSnd("a") >> @@
    3 :> << Alt(<<R(Nil), R("a"), R("c")>>), NbRcv("b"), Snd("b") >> @@
    4 :> << Snd("c"), NbAlt(<<S("a"), R("c")>>), Rcv("c") >>
SafetyKillable == {3, 4}

-----------------------------------------------------------------------------
(* LiveSmall: 4 tasks x 3 channels (a: 0, b: 1, c: 2), the CI liveness     *)
(* model: cannot deadlock in any interleaving, with or without the kills   *)
(* of tasks 3 and 4 (whose alts may only end by the close of c).           *)
LiveSmallTasks == 1..4
LiveSmallChans == {"a", "b", "c"}
LiveSmallCap   == [ch \in LiveSmallChans |-> CASE ch = "a" -> 0 [] ch = "b" -> 1 [] OTHER -> 2]
LiveSmallProg  ==
    1 :> << Snd("a"), Alt(<<S("b"), S("c")>>), Cls("c") >> @@
    2 :> << Rcv("a"), Rcv("c"), Rcv("c") >> @@
    3 :> << Alt(<<R("b"), R("c"), S(Nil)>>), NbSnd("b") >> @@
    4 :> << NbAlt(<<R("c"), S("b")>>), Alt(<<R("c"), R(Nil)>>) >>
LiveSmallKillable == {3, 4}

-----------------------------------------------------------------------------
(* Live: 4 tasks x 3 channels (a: 0, b: 1, c: 2), a program that cannot    *)
(* deadlock in any interleaving, with or without kills: checked under      *)
(* FairSpec for Termination and EventuallyWoken (and with TLC's deadlock   *)
(* check on).  Task 2 drains c with three recvs, two of which may only     *)
(* end because task 1 closes c; task 3's alt may only end by close; 3 and  *)
(* 4 may be killed, and nobody waits for them.  b is closed while task 1   *)
(* may still send on it (a send case that meets a closed channel).         *)
LiveTasks == 1..4
LiveChans == {"a", "b", "c"}
LiveCap   == [ch \in LiveChans |-> CASE ch = "a" -> 0 [] ch = "b" -> 1 [] OTHER -> 2]
LiveProg  ==
    1 :> << Snd("a"), Alt(<<S("b"), S("c")>>), Snd("c"), Cls("c") >> @@
    2 :> << Rcv("a"), Rcv("c"), Rcv("c"), Rcv("c") >> @@
    3 :> << Alt(<<R("b"), R("c"), S(Nil)>>), NbRcv("b"), Cls("b") >> @@
    4 :> << NbSnd("b"), NbAlt(<<R("c"), S("b")>>), Rcv("c") >>
LiveKillable == {3, 4}

-----------------------------------------------------------------------------
(* Deadlock: 3 tasks x 2 channels (a, b: cap 0).  Two senders on a, one    *)
(* receiver that can serve only two of the three requests: every           *)
(* behaviour ends in a state where the runtime raises Deadlock; TLC must   *)
(* report "Deadlock reached" (no kills: Killable = {}).                    *)
DeadTasks == 1..3
DeadChans == {"a", "b"}
DeadCap   == [ch \in DeadChans |-> 0]
DeadProg  ==
    1 :> << Snd("a"), Rcv("b") >> @@
    2 :> << Alt(<<R("a"), S("b")>>), Alt(<<R("a"), S("b")>>) >> @@
    3 :> << Snd("a") >>
DeadKillable == {}

-----------------------------------------------------------------------------
(* Sym: 4 identical workers x 2 channels (a: 0, b: 1); the cfg sets        *)
(* Tasks = {w1, w2, w3, w4} (model values).  Any worker may be killed;     *)
(* safety only, under SYMMETRY.  The same model without symmetry is in     *)
(* the full suite.                                                         *)
SymChans == {"a", "b"}
SymCap   == [ch \in SymChans |-> IF ch = "a" THEN 0 ELSE 1]
Worker   == << Alt(<<S("a"), R("a"), S("b")>>), Alt(<<R("b"), S(Nil), S("a")>>) >>
SymProg  == [t \in Tasks |-> Worker]
SymKillable == Tasks
TaskSymmetry == Permutations(Tasks)   \* sound: identical programs, Killable = Tasks

-----------------------------------------------------------------------------
(* Full: 4 tasks x 3 channels (a: 0, b: 1, c: 2), 4 operations per task:   *)
(* the big safety model of `make check-full`.                              *)
FullTasks == 1..4
FullChans == {"a", "b", "c"}
FullCap   == [ch \in FullChans |-> CASE ch = "a" -> 0 [] ch = "b" -> 1 [] OTHER -> 2]
FullProg  ==
    1 :> << Alt(<<S("a"), R("b"), S(Nil)>>), Snd("c"), Alt(<<S("c"), R("a")>>), Cls("c") >> @@
    2 :> << Rcv("a"), Alt(<<R("c"), S("b")>>), NbSnd("a"), Rcv("c") >> @@
    3 :> << Alt(<<R(Nil), R("a"), R("c")>>), NbRcv("b"), Snd("b"), Alt(<<S("a"), R("c")>>) >> @@
    4 :> << Snd("c"), NbAlt(<<S("a"), R("c")>>), Rcv("c"), Cls("b") >>
FullKillable == {3, 4}

=============================================================================
