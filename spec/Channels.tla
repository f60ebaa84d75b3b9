------------------------------ MODULE Channels ------------------------------
(***************************************************************************)
(* libtask9 channels and alt: the semantic contract of docs/CONTRACT.md.   *)
(*                                                                         *)
(* WHAT IS MODELLED.  A fixed set of Tasks, each running a small program   *)
(* Prog[t] of channel operations, over a fixed set of Chans.  A channel c  *)
(* has a capacity Cap[c] (0 = rendezvous), a FIFO buffer buf[c], a closed  *)
(* flag, and two FIFO queues of waiter entries sendq[c] / recvq[c].  An    *)
(* operation is alt(cases, block) (send, recv, nbsend, nbrecv are one-case *)
(* alts: there is ONE core, as in plan9port's chanalt and libtask9's alt)  *)
(* or close(c).  A bounded set Killable of tasks may be killed by the      *)
(* environment (Task.kill), each at most once.                             *)
(*                                                                         *)
(* ONE ACTION = ONE CRITICAL SECTION of the single global channel lock     *)
(* (plan9port channel.c "chanlock"; libtask9 _sched.chanlock) = one trace  *)
(* event.  The action names are those of docs/CONTRACT.md, used verbatim   *)
(* by the oracle (libtask9/model.py) and the runtime's trace events.       *)
(* Runtime functions cited below are in libtask9/_chan.py: alt and _op1    *)
(* (readiness, uniform choice via Proc.choose_case, AltNone), _exec_locked *)
(* (the four ways to run a ready case), _block_locked, _complete_locked    *)
(* (the wake-up: withdraw every entry of the woken alt, make it ready),    *)
(* Channel.close/_close_locked, Task.kill/kill_task, killed_locked.        *)
(*                                                                         *)
(* Sources of the rules (see spec/README.md for the rule-by-rule table):   *)
(*   plan9port src/libthread/channel.c: altcanexec (readiness), chanalt    *)
(*     (uniform choice among ready ops, queue on every op, block),         *)
(*     altexec/altcopy (direct copy, buffered hand-over), altalldequeue    *)
(*     (a woken alt is withdrawn from every channel);                      *)
(*   Go runtime/chan.go + select.go: FIFO wait queues, close (a closed     *)
(*     channel is ready; buffered values drain first; close wakes every    *)
(*     waiter), "select {}" blocks forever, nil channel never ready;       *)
(*   9front libthread / trio: an interrupt (kill) never loses a committed  *)
(*     message.                                                            *)
(*                                                                         *)
(* WHAT IS VERIFIED (by the MC*.tla models, see spec/models.json):         *)
(*   TypeOK, Conservation, BufBound, AtMostOneCommit, QueueExact,          *)
(*   NoMissedRendezvous, CloseKillLoseNothing, ValueOK, DeadlockExact,     *)
(*   ChoiceExact (their conjunction is Safety); the action property        *)
(*   StepSafety; Termination and EventuallyWoken under FairSpec for        *)
(*   deadlock-free programs; "Deadlock reached" exactly where the runtime  *)
(*   raises Deadlock; and, in ChannelsMutant.tla, that wrong variants of   *)
(*   these rules are rejected by an invariant and/or by refinement of Spec.*)
(***************************************************************************)
EXTENDS Integers, Sequences, FiniteSets

CONSTANTS
    Tasks,      \* the task ids (integers, or model values for symmetry)
    Chans,      \* the channel ids
    Cap,        \* Cap[c] \in Nat: capacity of channel c (0 = unbuffered)
    Prog,       \* Prog[t]: task t's program, a sequence of operations:
                \*   [kind |-> "alt", cases |-> <<[dir |-> "send" or "recv",
                \*    ch |-> c or Nil], ...>>, block |-> BOOLEAN]
                \*   or [kind |-> "close", ch |-> c]
    Killable,   \* the tasks the environment may kill (Task.kill), once each
    Nil,        \* the nil channel (Go nil / plan9 CHANNOP): never ready
    NoVal       \* "no value" (<<>> in every model): the val of a send result

ASSUME
    /\ Chans # {} /\ Nil \notin Chans
    /\ Cap \in [Chans -> Nat]
    /\ Killable \subseteq Tasks
    /\ \A t \in Tasks : \A s \in DOMAIN Prog[t] :
          \/ /\ Prog[t][s].kind = "alt"
             /\ Prog[t][s].block \in BOOLEAN
             /\ \A i \in DOMAIN Prog[t][s].cases :
                    /\ Prog[t][s].cases[i].dir \in {"send", "recv"}
                    /\ Prog[t][s].cases[i].ch \in Chans \cup {Nil}
          \/ /\ Prog[t][s].kind = "close"
             /\ Prog[t][s].ch \in Chans       \* close(Nil) is a misuse error

VARIABLES
    buf,        \* buf[c]: the FIFO sequence of values buffered in c
    closed,     \* closed[c]: c has been closed
    sendq,      \* sendq[c]: FIFO of waiter entries <<t, i>>: task t blocked
                \*   with its send case i on c
    recvq,      \* recvq[c]: the same for recv cases
    pc,         \* pc[t]: index in Prog[t] of t's current/next operation
    st,         \* st[t] \in {"ready", "blocked", "dead"}
    killreq,    \* killreq[t]: a kill is pending, to take effect at t's
                \*   next operation (Task.kill on a running/woken task)
    res,        \* res[t]: the sequence of results of t's operations, one
                \*   record [kind, idx, val] per completed operation
    slog,       \* HISTORY: slog[c] = the values that entered c (sent), in
                \*   the order they entered it
    rlog        \* HISTORY: rlog[c] = the values taken from c (received),
                \*   in the order they were taken

vars == <<buf, closed, sendq, recvq, pc, st, killreq, res, slog, rlog>>

-----------------------------------------------------------------------------
(***************************************************************************)
(* Helpers.                                                                *)
(***************************************************************************)
(* Program and Capacity are Prog and Cap.  TLC evaluates a zero-arity      *)
(* constant definition once, but re-evaluates at every use a constant that *)
(* a model overrides with a definition (Prog <- SafetyProg): reading the   *)
(* constants through these two names made the models several times faster  *)
(* (TLC 2.15, measured; no change in meaning).                             *)
Program  == Prog
Capacity == Cap

Range(s) == {s[k] : k \in DOMAIN s}
Max(S) == CHOOSE m \in S : \A x \in S : x <= m
Min(S) == CHOOSE m \in S : \A x \in S : m <= x

MaxSteps == Max({Len(Program[t]) : t \in Tasks})
MaxCases == Max({0} \cup UNION {{IF Program[t][s].kind = "alt" THEN Len(Program[t][s].cases)
                                   ELSE 0 : s \in DOMAIN Program[t]} : t \in Tasks})

\* A value is the unique message id <<task, step, case>> (CONTRACT.md).
Values == Tasks \X (1..MaxSteps) \X (1..MaxCases)
Entries == Tasks \X (1..MaxCases)

\* Result records (what the runtime returns or raises).
Ok(i, v)   == [kind |-> "ok",     idx |-> i,  val |-> v]
ClosedR(i) == [kind |-> "closed", idx |-> i,  val |-> NoVal]
NoneR      == [kind |-> "none",   idx |-> -1, val |-> NoVal]
KilledR    == [kind |-> "killed", idx |-> -1, val |-> NoVal]
Results == [kind : {"ok", "closed", "none", "killed"},
            idx : {-1} \cup (1..MaxCases), val : Values \cup {NoVal}]

HasOp(t)    == pc[t] <= Len(Program[t])
Op(t)       == Program[t][pc[t]]
Finished(t) == st[t] = "ready" /\ ~HasOp(t)
Terminated  == \A t \in Tasks : Finished(t) \/ st[t] = "dead"

\* t may start its next operation (CONTRACT.md "Task actions").
CanStep(t) == st[t] = "ready" /\ HasOp(t) /\ ~killreq[t]
IsAlt(t, i) == CanStep(t) /\ Op(t).kind = "alt" /\ i \in DOMAIN Op(t).cases
Case(t, i)  == Op(t).cases[i]
Val(t, i)   == <<t, pc[t], i>>           \* the value case i of t would send

\* Readiness: the ready test of alt and _op1 (plan9port altcanexec + Go close rule).
SendReady(c) == closed[c] \/ recvq[c] # <<>> \/ Len(buf[c]) < Capacity[c]
RecvReady(c) == buf[c] # <<>> \/ sendq[c] # <<>> \/ closed[c]
Ready(t, i) ==
    LET k == Case(t, i) IN
    /\ k.ch # Nil
    /\ IF k.dir = "send" THEN SendReady(k.ch) ELSE RecvReady(k.ch)
NoneReady(t) == \A i \in DOMAIN Op(t).cases : ~Ready(t, i)

\* Remove every entry of the tasks in U from every queue (altalldequeue).
Withdraw(q, U) ==
    LET Keep(e) == e[1] \notin U IN [d \in Chans |-> SelectSeq(q[d], Keep)]
Queued(u) == \E c \in Chans : \E e \in Range(sendq[c]) \cup Range(recvq[c]) : e[1] = u

\* t's own step advances; its partner u (a blocked task, Head of the
\* opposite queue) is completed and withdrawn from every queue in the same
\* step (_complete_locked; plan9port altexec + altalldequeue).
CompleteBoth(t, rt, u, ru) ==
    /\ res' = [res EXCEPT ![t] = Append(@, rt), ![u] = Append(@, ru)]
    /\ pc' = [pc EXCEPT ![t] = @ + 1, ![u] = @ + 1]
    /\ st' = [st EXCEPT ![u] = "ready"]
    /\ sendq' = Withdraw(sendq, {u})
    /\ recvq' = Withdraw(recvq, {u})

CompleteSelf(t, r) ==
    /\ res' = [res EXCEPT ![t] = Append(@, r)]
    /\ pc' = [pc EXCEPT ![t] = @ + 1]

-----------------------------------------------------------------------------
(***************************************************************************)
(* Task actions.  Which ready case runs is a free choice of i among ALL    *)
(* ready cases (the runtime draws it uniformly: alt -> Proc.choose_case;   *)
(* plan9port chanalt "rand() % ncan"; Go selectgo's shuffled poll order).  *)
(* Exactly one of AltBuffer/AltRendezvous/AltHandover/AltClosed is enabled *)
(* for each ready case, and none for a case that is not ready.             *)
(***************************************************************************)

(* 1. Pure buffer op, no partner (_exec_locked, AltBuffer branches;        *)
(*    plan9port altexec -> altcopy(a, nil); Go chansend/chanrecv on qcount)*)
AltBuffer(t, i) ==
    /\ IsAlt(t, i)
    /\ LET k == Case(t, i)
           c == k.ch
       IN  /\ c # Nil
           /\ \/ /\ k.dir = "send"
                 /\ ~closed[c] /\ recvq[c] = <<>> /\ Len(buf[c]) < Capacity[c]
                 /\ buf'  = [buf  EXCEPT ![c] = Append(@, Val(t, i))]
                 /\ slog' = [slog EXCEPT ![c] = Append(@, Val(t, i))]
                 /\ CompleteSelf(t, Ok(i, NoVal))
                 /\ UNCHANGED rlog
              \/ /\ k.dir = "recv"
                 /\ buf[c] # <<>> /\ sendq[c] = <<>>
                 /\ buf'  = [buf  EXCEPT ![c] = Tail(@)]
                 /\ rlog' = [rlog EXCEPT ![c] = Append(@, Head(buf[c]))]
                 /\ CompleteSelf(t, Ok(i, Head(buf[c])))
                 /\ UNCHANGED slog
    /\ UNCHANGED <<closed, sendq, recvq, st, killreq>>

(* 2. Rendezvous with the FIRST waiter of the opposite queue               *)
(*    (_exec_locked, AltRendezvous branches, then _complete_locked;        *)
(*    plan9port altexec + altcopy direct copy; Go FIFO waitq and "send to  *)
(*    a waiting receiver ... bypassing the channel buffer").               *)
AltRendezvous(t, i) ==
    /\ IsAlt(t, i)
    /\ LET k == Case(t, i)
           c == k.ch
       IN  /\ c # Nil
           /\ \/ /\ k.dir = "send"
                 /\ ~closed[c] /\ recvq[c] # <<>>
                 /\ LET u == Head(recvq[c])[1]
                        j == Head(recvq[c])[2]
                        v == Val(t, i)
                    IN  /\ CompleteBoth(t, Ok(i, NoVal), u, Ok(j, v))
                        /\ slog' = [slog EXCEPT ![c] = Append(@, v)]
                        /\ rlog' = [rlog EXCEPT ![c] = Append(@, v)]
              \/ /\ k.dir = "recv"
                 /\ buf[c] = <<>> /\ sendq[c] # <<>>
                 /\ LET u == Head(sendq[c])[1]
                        j == Head(sendq[c])[2]
                        v == <<u, pc[u], j>>
                    IN  /\ CompleteBoth(t, Ok(i, v), u, Ok(j, NoVal))
                        /\ slog' = [slog EXCEPT ![c] = Append(@, v)]
                        /\ rlog' = [rlog EXCEPT ![c] = Append(@, v)]
    /\ UNCHANGED <<buf, closed, killreq>>

(* 3. Buffered hand-over: recv on a full buffer with blocked senders       *)
(*    (_exec_locked, AltHandover branch, then _complete_locked; plan9port  *)
(*    altcopy "always okay to receive and then send"; Go chanrecv recv():  *)
(*    "take the item at the head ... enqueue the sender's at the tail";    *)
(*    trio receive_nowait).  Len(buf[c]) is unchanged.                     *)
AltHandover(t, i) ==
    /\ IsAlt(t, i)
    /\ LET k == Case(t, i)
           c == k.ch
       IN  /\ c # Nil
           /\ k.dir = "recv"
           /\ buf[c] # <<>> /\ sendq[c] # <<>>
           /\ LET u  == Head(sendq[c])[1]
                  j  == Head(sendq[c])[2]
                  vu == <<u, pc[u], j>>
              IN  /\ CompleteBoth(t, Ok(i, Head(buf[c])), u, Ok(j, NoVal))
                  /\ buf'  = [buf  EXCEPT ![c] = Append(Tail(@), vu)]
                  /\ slog' = [slog EXCEPT ![c] = Append(@, vu)]
                  /\ rlog' = [rlog EXCEPT ![c] = Append(@, Head(buf[c]))]
    /\ UNCHANGED <<closed, killreq>>

(* 4. A case on a closed channel: a send, or a recv with an empty buffer   *)
(*    (_exec_locked, AltClosed branches; alt raises ChannelClosed with     *)
(*    .index = i; Go selectgo rclose/sclose: a closed case is ready and    *)
(*    competes uniformly with the other ready cases).                      *)
AltClosed(t, i) ==
    /\ IsAlt(t, i)
    /\ LET k == Case(t, i)
           c == k.ch
       IN  /\ c # Nil
           /\ closed[c]
           /\ k.dir = "send" \/ buf[c] = <<>>
    /\ CompleteSelf(t, ClosedR(i))
    /\ UNCHANGED <<buf, closed, sendq, recvq, st, killreq, slog, rlog>>

(* 5. Blocking alt, no case ready: one entry <<t, i>> per non-nil case,    *)
(*    appended in case order; t blocks (_block_locked; plan9port chanalt   *)
(*    altqueue loop + _threadswitch; Go selectgo pass 2).  With no non-nil *)
(*    case t blocks forever (Go "select {}"), until killed.                *)
AltBlock(t) ==
    /\ CanStep(t)
    /\ Op(t).kind = "alt"
    /\ Op(t).block
    /\ NoneReady(t)
    /\ LET cs      == Op(t).cases
           idx     == [k \in 1..Len(cs) |-> k]
           New(d, c) == LET On(k) == cs[k].dir = d /\ cs[k].ch = c
                            ks    == SelectSeq(idx, On)
                        IN  [n \in 1..Len(ks) |-> <<t, ks[n]>>]
       IN  /\ sendq' = [c \in Chans |-> sendq[c] \o New("send", c)]
           /\ recvq' = [c \in Chans |-> recvq[c] \o New("recv", c)]
    /\ st' = [st EXCEPT ![t] = "blocked"]
    /\ UNCHANGED <<buf, closed, pc, killreq, res, slog, rlog>>

(* 6. Non-blocking alt, no case ready: result none, nothing else changes   *)
(*    (alt/_op1 return (-1, None); plan9port chanalt "!canblock"           *)
(*    returns -1; Go select default).                                      *)
AltNone(t) ==
    /\ CanStep(t)
    /\ Op(t).kind = "alt"
    /\ ~Op(t).block
    /\ NoneReady(t)
    /\ CompleteSelf(t, NoneR)
    /\ UNCHANGED <<buf, closed, sendq, recvq, st, killreq, slog, rlog>>

(* 7. close(c) on an open channel: buffer kept; EVERY waiter on c is       *)
(*    completed with "closed" at its smallest case index on c and          *)
(*    withdrawn from every queue (Channel.close -> _close_locked ->        *)
(*    _complete_locked; Go closechan wakes all receivers and senders).     *)
Close(t) ==
    /\ CanStep(t)
    /\ Op(t).kind = "close"
    /\ LET c == Op(t).ch
           E == Range(sendq[c]) \cup Range(recvq[c])
           W == {e[1] : e \in E}
           MinIdx(u) == Min({e[2] : e \in {x \in E : x[1] = u}})
       IN  /\ ~closed[c]
           /\ closed' = [closed EXCEPT ![c] = TRUE]
           /\ res' = [u \in Tasks |->
                        IF u = t THEN Append(res[u], Ok(-1, NoVal))
                        ELSE IF u \in W THEN Append(res[u], ClosedR(MinIdx(u)))
                        ELSE res[u]]
           /\ pc' = [u \in Tasks |-> IF u = t \/ u \in W THEN pc[u] + 1 ELSE pc[u]]
           /\ st' = [u \in Tasks |-> IF u \in W THEN "ready" ELSE st[u]]
           /\ sendq' = Withdraw(sendq, W)
           /\ recvq' = Withdraw(recvq, W)
    /\ UNCHANGED <<buf, killreq, slog, rlog>>

(* 8. close(c) on a closed channel: ChannelClosed, nothing else changes    *)
(*    (Channel.close; Go closechan panics "close of closed channel").      *)
CloseClosed(t) ==
    /\ CanStep(t)
    /\ Op(t).kind = "close"
    /\ closed[Op(t).ch]
    /\ CompleteSelf(t, ClosedR(-1))
    /\ UNCHANGED <<buf, closed, sendq, recvq, st, killreq, slog, rlog>>

(* 11. A pending kill takes effect at t's next operation, which is NOT     *)
(*     performed: TaskKilled is raised at the entry of any channel         *)
(*     operation (killed_locked, called at the entry of alt, _op1 and      *)
(*     Channel.close; 9front threadkill "moribund").  pc stays on the      *)
(*     operation that was not performed.                                   *)
Killed(t) ==
    /\ killreq[t]
    /\ st[t] = "ready"
    /\ HasOp(t)
    /\ st' = [st EXCEPT ![t] = "dead"]
    /\ res' = [res EXCEPT ![t] = Append(@, KilledR)]
    /\ UNCHANGED <<buf, closed, sendq, recvq, pc, killreq, slog, rlog>>

-----------------------------------------------------------------------------
(***************************************************************************)
(* Environment actions: Task.kill on a task of Killable.                   *)
(***************************************************************************)

(* 9. Kill a blocked task: all its entries are withdrawn atomically, it    *)
(*    is dead, no value of it is delivered (Task.kill -> kill_task,        *)
(*    blocked branch -> _complete_locked(KILLED); 9front alt interrupt     *)
(*    path: dequeue everything and return -1 when nobody committed).       *)
KillBlocked(t) ==
    /\ t \in Killable
    /\ st[t] = "blocked"
    /\ st' = [st EXCEPT ![t] = "dead"]
    /\ res' = [res EXCEPT ![t] = Append(@, KilledR)]
    /\ sendq' = Withdraw(sendq, {t})
    /\ recvq' = Withdraw(recvq, {t})
    /\ UNCHANGED <<buf, closed, pc, killreq, slog, rlog>>

(* 10. Kill a task that is not blocked (running, runnable, or woken by a   *)
(*     partner that already committed its op): only a request is recorded; *)
(*     a committed op stands (kill_task, not-blocked branch; 9front "an    *)
(*     interrupt never loses a committed message"; trio atomic cancel).    *)
KillPending(t) ==
    /\ t \in Killable
    /\ st[t] = "ready"
    /\ HasOp(t)
    /\ ~killreq[t]
    /\ killreq' = [killreq EXCEPT ![t] = TRUE]
    /\ UNCHANGED <<buf, closed, sendq, recvq, pc, st, res, slog, rlog>>

(* 12. Every task finished or dead: stutter, so that normal termination    *)
(*     is not reported by TLC as a deadlock.                               *)
Done ==
    /\ Terminated
    /\ UNCHANGED vars

-----------------------------------------------------------------------------
Init ==
    /\ buf     = [c \in Chans |-> <<>>]
    /\ closed  = [c \in Chans |-> FALSE]
    /\ sendq   = [c \in Chans |-> <<>>]
    /\ recvq   = [c \in Chans |-> <<>>]
    /\ pc      = [t \in Tasks |-> 1]
    /\ st      = [t \in Tasks |-> "ready"]
    /\ killreq = [t \in Tasks |-> FALSE]
    /\ res     = [t \in Tasks |-> <<>>]
    /\ slog    = [c \in Chans |-> <<>>]
    /\ rlog    = [c \in Chans |-> <<>>]

\* A step of task t (the actions 1-8 and 11 of CONTRACT.md).
Step(t) ==
    \/ \E i \in 1..MaxCases :
          \/ AltBuffer(t, i)
          \/ AltRendezvous(t, i)
          \/ AltHandover(t, i)
          \/ AltClosed(t, i)
    \/ AltBlock(t)
    \/ AltNone(t)
    \/ Close(t)
    \/ CloseClosed(t)
    \/ Killed(t)

\* The environment's kills (actions 9, 10).
Kill(t) == KillBlocked(t) \/ KillPending(t)

Next ==
    \/ \E t \in Tasks : Step(t)
    \/ \E t \in Tasks : Kill(t)
    \/ Done

Spec == Init /\ [][Next]_vars

\* The runtime's fairness: a runnable task is eventually scheduled (each
\* proc's run queue is FIFO).  Kills are the environment's: no fairness.
FairSpec == Spec /\ \A t \in Tasks : WF_vars(Step(t))

-----------------------------------------------------------------------------
(***************************************************************************)
(* Invariants.  Safety is their conjunction.                               *)
(***************************************************************************)
TypeOK ==
    /\ buf     \in [Chans -> Seq(Values)]
    /\ closed  \in [Chans -> BOOLEAN]
    /\ sendq   \in [Chans -> Seq(Entries)]
    /\ recvq   \in [Chans -> Seq(Entries)]
    /\ pc      \in [Tasks -> 1..(MaxSteps + 1)]
    /\ st      \in [Tasks -> {"ready", "blocked", "dead"}]
    /\ killreq \in [Tasks -> BOOLEAN]
    /\ res     \in [Tasks -> Seq(Results)]
    /\ slog    \in [Chans -> Seq(Values)]
    /\ rlog    \in [Chans -> Seq(Values)]
    /\ \A t \in Tasks : pc[t] <= Len(Program[t]) + 1

\* The steps <<u, s>> that have a result, and those whose result commits a
\* case of direction d on channel c.
DoneSteps == UNION {{<<u, s>> : s \in 1..Len(res[u])} : u \in Tasks}
CaseOf(p) == Program[p[1]][p[2]].cases[res[p[1]][p[2]].idx]
Commits(c, d) ==
    {p \in DoneSteps :
        /\ res[p[1]][p[2]].kind = "ok"
        /\ Program[p[1]][p[2]].kind = "alt"
        /\ CaseOf(p).dir = d
        /\ CaseOf(p).ch = c}
\* The values whose send on c committed, and the values received from c.
SentVals(c) == {<<p[1], p[2], res[p[1]][p[2]].idx>> : p \in Commits(c, "send")}
RecvVals(c) == {res[p[1]][p[2]].val : p \in Commits(c, "recv")}

(* No loss, no duplication, FIFO per channel.  Every value whose send      *)
(* committed entered its channel exactly once and is now in exactly one    *)
(* place: still buffered, or received by exactly one receiver; and in the  *)
(* order it entered (C1).  A value whose sender is still blocked, or was   *)
(* killed or closed out, is in no buffer and no result (C2).               *)
Conservation ==
    \A c \in Chans :
        /\ slog[c] = rlog[c] \o buf[c]                                   \* C1
        /\ Range(slog[c]) = SentVals(c)                                  \* C2
        /\ Len(slog[c]) = Cardinality(SentVals(c))                       \* C3
        /\ Range(rlog[c]) = RecvVals(c)                                  \* C4
        /\ Len(rlog[c]) = Cardinality(Commits(c, "recv"))                \* C5

BufBound == \A c \in Chans : Len(buf[c]) <= Capacity[c]

(* Every received value was sent on that channel by a send case that its   *)
(* sender reports as the one case its alt committed.  (No ghost involved.) *)
ValueOK ==
    \A c \in Chans : \A p \in Commits(c, "recv") :
        LET v == res[p[1]][p[2]].val IN
        /\ v \in Values
        /\ v[2] <= Len(res[v[1]])
        /\ <<v[1], v[2]>> \in Commits(c, "send")
        /\ res[v[1]][v[2]].idx = v[3]

(* The result of step s of t names exactly one case of that very op.       *)
ResultFits(t, s) ==
    LET r  == res[t][s]
        op == Program[t][s]
    IN  CASE r.kind = "ok" ->
                IF op.kind = "alt"
                THEN /\ r.idx \in DOMAIN op.cases
                     /\ op.cases[r.idx].ch # Nil
                     /\ (r.val = NoVal) <=> (op.cases[r.idx].dir = "send")
                ELSE r.idx = -1 /\ r.val = NoVal
          [] r.kind = "closed" ->
                IF op.kind = "alt"
                THEN /\ r.idx \in DOMAIN op.cases
                     /\ op.cases[r.idx].ch # Nil
                     /\ closed[op.cases[r.idx].ch]
                ELSE r.idx = -1 /\ closed[op.ch]
          [] r.kind = "none" ->
                op.kind = "alt" /\ ~op.block /\ r.idx = -1
          [] r.kind = "killed" ->
                s = Len(res[t]) /\ st[t] = "dead" /\ r.idx = -1

(* An alt commits at most once: exactly one result per finished op (plus   *)
(* "killed" for a dead task's last op), naming one case of its own op; a   *)
(* task that is not blocked -- in particular a woken alt -- is queued on   *)
(* no channel.                                                             *)
AtMostOneCommit ==
    \A t \in Tasks :
        /\ Len(res[t]) = pc[t] - 1 + (IF st[t] = "dead" THEN 1 ELSE 0)
        /\ \A s \in 1..Len(res[t]) : ResultFits(t, s)
        /\ st[t] # "blocked" => ~Queued(t)

(* A blocked task is blocked in a blocking alt and queued exactly once for *)
(* each of its non-nil cases, on that case's (channel, direction), in case *)
(* order; a task that is not blocked is queued nowhere.                    *)
CasesOn(t, d, c) ==
    {i \in DOMAIN Op(t).cases : Op(t).cases[i].dir = d /\ Op(t).cases[i].ch = c}
QExact(q, d, c, t) ==
    LET E == {k \in DOMAIN q[c] : q[c][k][1] = t} IN
    IF st[t] = "blocked"
    THEN /\ {q[c][k][2] : k \in E} = CasesOn(t, d, c)
         /\ Cardinality(E) = Cardinality(CasesOn(t, d, c))
         /\ \A k1, k2 \in E : k1 < k2 => q[c][k1][2] < q[c][k2][2]
    ELSE E = {}
QueueExact ==
    \A t \in Tasks :
        /\ st[t] = "blocked" =>
              HasOp(t) /\ Op(t).kind = "alt" /\ Op(t).block /\ ~killreq[t]
        /\ \A c \in Chans : QExact(sendq, "send", c, t) /\ QExact(recvq, "recv", c, t)

(* No missed rendezvous / lost wake-up (Go chan.go header invariants, plus *)
(* close): a blocked sender and a blocked receiver on one channel are the  *)
(* same alt; a blocked receiver implies an empty, open buffer; a blocked   *)
(* sender implies a full, open buffer.                                     *)
NoMissedRendezvous ==
    \A c \in Chans :
        /\ \A e1 \in Range(sendq[c]), e2 \in Range(recvq[c]) : e1[1] = e2[1]
        /\ recvq[c] # <<>> => buf[c] = <<>> /\ ~closed[c]
        /\ sendq[c] # <<>> => Len(buf[c]) = Capacity[c] /\ ~closed[c]

(* Close and kill lose nothing: a closed channel has no waiter (close      *)
(* completed them all); a dead task's interrupted op delivered no value    *)
(* (its value is in no channel log, hence in no buffer and no result).     *)
(* Together with Conservation and ValueOK.                                 *)
CloseKillLoseNothing ==
    /\ \A c \in Chans : closed[c] => sendq[c] = <<>> /\ recvq[c] = <<>>
    /\ \A t \in Tasks : st[t] = "dead" =>
          \A c \in Chans : \A v \in Range(slog[c]) : ~(v[1] = t /\ v[2] = pc[t])

(* Deadlock is exactly the runtime's Deadlock: whenever no task can move   *)
(* and not every task has finished or died, some task is blocked and no    *)
(* task action is enabled -- and conversely.  (Equivalently: a runnable    *)
(* task with an operation always has an action enabled.)                   *)
TaskEnabled == \E t \in Tasks : ENABLED Step(t)
RuntimeDeadlock == (\E t \in Tasks : st[t] = "blocked") /\ ~TaskEnabled
DeadlockExact == (~TaskEnabled /\ ~Terminated) <=> RuntimeDeadlock

(* The choice is exactly "one of the ready cases": for a runnable task in  *)
(* an alt, each ready case enables exactly one of the four ways to run it, *)
(* a case that is not ready enables none, and AltBlock/AltNone are enabled *)
(* exactly when no case is ready.  (So each ready case is one transition,  *)
(* which is what the runtime's uniform draw ranges over.)                  *)
Runs(t, i) == (IF ENABLED AltBuffer(t, i)     THEN 1 ELSE 0)
            + (IF ENABLED AltRendezvous(t, i) THEN 1 ELSE 0)
            + (IF ENABLED AltHandover(t, i)   THEN 1 ELSE 0)
            + (IF ENABLED AltClosed(t, i)     THEN 1 ELSE 0)
ChoiceExact ==
    \A t \in Tasks : CanStep(t) /\ Op(t).kind = "alt" =>
        /\ \A i \in DOMAIN Op(t).cases : Runs(t, i) = IF Ready(t, i) THEN 1 ELSE 0
        /\ (ENABLED AltBlock(t) \/ ENABLED AltNone(t)) <=> NoneReady(t)

Safety ==
    /\ TypeOK
    /\ Conservation
    /\ BufBound
    /\ AtMostOneCommit
    /\ QueueExact
    /\ NoMissedRendezvous
    /\ CloseKillLoseNothing
    /\ ValueOK
    /\ DeadlockExact
    /\ ChoiceExact

-----------------------------------------------------------------------------
(***************************************************************************)
(* Action property: results are append-only (a committed op is never       *)
(* taken back, not even by a kill), and a woken alt completes exactly one  *)
(* op and leaves every queue in that very step.                            *)
(***************************************************************************)
IsPrefix(s, t) == Len(s) <= Len(t) /\ SubSeq(t, 1, Len(s)) = s
StepOK ==
    \A u \in Tasks :
        /\ IsPrefix(res[u], res'[u])
        /\ Len(res'[u]) <= Len(res[u]) + 1
        /\ (st[u] = "blocked" /\ st'[u] = "ready") =>
              /\ pc'[u] = pc[u] + 1
              /\ Len(res'[u]) = Len(res[u]) + 1
              /\ res'[u][Len(res'[u])].kind \in {"ok", "closed"}
              /\ ~Queued(u)'
StepSafety == [][StepOK]_vars

(***************************************************************************)
(* Liveness, under FairSpec, for programs that cannot deadlock.            *)
(***************************************************************************)
Termination == <>Terminated
EventuallyWoken == \A t \in Tasks : (st[t] = "blocked") ~> (st[t] # "blocked")

=============================================================================
