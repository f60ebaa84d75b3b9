--------------------------- MODULE ChannelsMutant ---------------------------
(***************************************************************************)
(* Teeth: deliberately wrong variants of Channels, one per value of the    *)
(* constant Mutant.  Each is a bug a channel runtime can plausibly have.   *)
(* Every mutant must be rejected by TLC twice (spec/tlc.py checks both):   *)
(*   - by the invariant (or property) it was written to break, and         *)
(*   - by refinement: MSpec => OrigSpec, the correct Spec as a PROPERTY.   *)
(* Some bugs are invisible to every invariant (nb_spurious, lifo_waiter,   *)
(* wrong_close_idx): only refinement -- or trace validation -- sees them.  *)
(* Conversely a bug that only REMOVES behaviours (closed_stuck) refines    *)
(* Spec trivially: only an invariant (DeadlockExact) sees it.              *)
(* Mutant = "none" is the correct spec rebuilt from the M* operators: it   *)
(* must pass everything and have exactly the state count of Channels on    *)
(* the same model (a guard against drift between the two modules).         *)
(*                                                                         *)
(* The history variables slog/rlog are updated as in Channels: they record *)
(* what the tasks were TOLD (a sender told "ok" has its value logged), so  *)
(* a buggy data movement shows up as a mismatch with buf and res.          *)
(*                                                                         *)
(* The mutants (runtime function of libtask9/_chan.py where the bug would  *)
(* live; the target invariant; see also spec/README.md):                   *)
(*  no_withdraw      a woken alt's other entries stay queued, only the     *)
(*                   matched one goes (_complete_locked; QueueExact)       *)
(*  lifo_buffer      recv takes the newest buffered value (_exec_locked;   *)
(*                   Conservation)                                         *)
(*  peek_recv        recv leaves the value in the buffer (_exec_locked;    *)
(*                   Conservation)                                         *)
(*  overfill         capacity off by one: a send fits in a full buffer     *)
(*                   (readiness in alt/_op1; BufBound)                     *)
(*  handover_drop    the hand-over forgets the blocked sender's value      *)
(*                   (_exec_locked; Conservation)                          *)
(*  handover_front   the hand-over puts the sender's value at the head,    *)
(*                   not the tail (_exec_locked; Conservation)             *)
(*  lifo_waiter      the LAST waiter is taken, not the first               *)
(*                   (_exec_locked; no invariant: refinement only)         *)
(*  close_forgets_receivers  close wakes only the blocked senders          *)
(*                   (_close_locked; NoMissedRendezvous)                   *)
(*  wrong_close_idx  close reports the LARGEST case index of a waiter on   *)
(*                   the channel (_close_locked; refinement only)          *)
(*  kill_leaves_queued  kill of a blocked task leaves its entries queued   *)
(*                   (kill_task; QueueExact)                               *)
(*  kill_loses_committed  kill of a woken task discards the op a partner   *)
(*                   already committed (kill_task; Conservation)           *)
(*  nb_spurious      a non-blocking alt answers "none" although a case is  *)
(*                   ready (alt/_op1; refinement only)                     *)
(*  nb_offer         a non-blocking alt leaves its offers queued           *)
(*                   (goose-lang PR #105/#121) (alt/_op1; QueueExact)      *)
(*  closed_not_ready a closed channel does not make a case ready: the alt  *)
(*                   blocks on it (alt/_op1; NoMissedRendezvous)           *)
(*  closed_stuck     a ready case on a closed channel is never executed:   *)
(*                   the task hangs, neither running nor blocked, and no   *)
(*                   Deadlock is raised (_exec_locked; MDeadlockExact;     *)
(*                   refinement cannot see it)                             *)
(***************************************************************************)
EXTENDS Channels

CONSTANT Mutant     \* the name of the bug switched on, or "none"

Mutants == {"none", "no_withdraw", "lifo_buffer", "peek_recv", "overfill",
            "handover_drop", "handover_front", "lifo_waiter",
            "close_forgets_receivers", "wrong_close_idx", "kill_leaves_queued",
            "kill_loses_committed", "nb_spurious", "nb_offer", "closed_not_ready",
            "closed_stuck"}
ASSUME Mutant \in Mutants

\* The correct specification, for the refinement check MSpec => OrigSpec.
Orig == INSTANCE Channels
OrigSpec == Orig!Spec

-----------------------------------------------------------------------------
(* Readiness as the buggy runtime sees it.                                 *)
MSendReady(c) == IF Mutant = "closed_not_ready"
                 THEN ~closed[c] /\ (recvq[c] # <<>> \/ Len(buf[c]) < Capacity[c])
                 ELSE SendReady(c)
MRecvReady(c) == IF Mutant = "closed_not_ready"
                 THEN buf[c] # <<>> \/ sendq[c] # <<>>
                 ELSE RecvReady(c)
MReady(t, i) == LET k == Case(t, i) IN
                /\ k.ch # Nil
                /\ IF k.dir = "send" THEN MSendReady(k.ch) ELSE MRecvReady(k.ch)
MNoneReady(t) == \A i \in DOMAIN Op(t).cases : ~MReady(t, i)

\* The waiter a partner picks, and how the woken task u leaves the queues.
Pick(q) == IF Mutant = "lifo_waiter" THEN q[Len(q)] ELSE Head(q)
Unqueue(q, u, e) ==
    IF Mutant = "no_withdraw"
    THEN LET Other(x) == x # e IN [d \in Chans |-> SelectSeq(q[d], Other)]
    ELSE Withdraw(q, {u})

MCompleteBoth(t, rt, u, ru, e) ==
    /\ res' = [res EXCEPT ![t] = Append(@, rt), ![u] = Append(@, ru)]
    /\ pc' = [pc EXCEPT ![t] = @ + 1, ![u] = @ + 1]
    /\ st' = [st EXCEPT ![u] = "ready"]
    /\ sendq' = Unqueue(sendq, u, e)
    /\ recvq' = Unqueue(recvq, u, e)

-----------------------------------------------------------------------------
MAltBuffer(t, i) ==
    IF Mutant \notin {"lifo_buffer", "peek_recv", "overfill"}
    THEN AltBuffer(t, i)
    ELSE
    /\ IsAlt(t, i)
    /\ LET k == Case(t, i)
           c == k.ch
           room == IF Mutant = "overfill" THEN Capacity[c] + 1 ELSE Capacity[c]
           v == IF Mutant = "lifo_buffer" THEN buf[c][Len(buf[c])] ELSE Head(buf[c])
           rest == CASE Mutant = "lifo_buffer" -> SubSeq(buf[c], 1, Len(buf[c]) - 1)
                     [] Mutant = "peek_recv"   -> buf[c]
                     [] OTHER                  -> Tail(buf[c])
       IN  /\ c # Nil
           /\ \/ /\ k.dir = "send"
                 /\ ~closed[c] /\ recvq[c] = <<>> /\ Len(buf[c]) < room
                 /\ buf'  = [buf  EXCEPT ![c] = Append(@, Val(t, i))]
                 /\ slog' = [slog EXCEPT ![c] = Append(@, Val(t, i))]
                 /\ CompleteSelf(t, Ok(i, NoVal))
                 /\ UNCHANGED rlog
              \/ /\ k.dir = "recv"
                 /\ buf[c] # <<>> /\ sendq[c] = <<>>
                 /\ buf'  = [buf  EXCEPT ![c] = rest]
                 /\ rlog' = [rlog EXCEPT ![c] = Append(@, v)]
                 /\ CompleteSelf(t, Ok(i, v))
                 /\ UNCHANGED slog
    /\ UNCHANGED <<closed, sendq, recvq, st, killreq>>

MAltRendezvous(t, i) ==
    IF Mutant \notin {"no_withdraw", "lifo_waiter"}
    THEN AltRendezvous(t, i)
    ELSE
    /\ IsAlt(t, i)
    /\ LET k == Case(t, i)
           c == k.ch
       IN  /\ c # Nil
           /\ \/ /\ k.dir = "send"
                 /\ ~closed[c] /\ recvq[c] # <<>>
                 /\ LET e == Pick(recvq[c])
                        v == Val(t, i)
                    IN  /\ MCompleteBoth(t, Ok(i, NoVal), e[1], Ok(e[2], v), e)
                        /\ slog' = [slog EXCEPT ![c] = Append(@, v)]
                        /\ rlog' = [rlog EXCEPT ![c] = Append(@, v)]
              \/ /\ k.dir = "recv"
                 /\ buf[c] = <<>> /\ sendq[c] # <<>>
                 /\ LET e == Pick(sendq[c])
                        v == <<e[1], pc[e[1]], e[2]>>
                    IN  /\ MCompleteBoth(t, Ok(i, v), e[1], Ok(e[2], NoVal), e)
                        /\ slog' = [slog EXCEPT ![c] = Append(@, v)]
                        /\ rlog' = [rlog EXCEPT ![c] = Append(@, v)]
    /\ UNCHANGED <<buf, closed, killreq>>

MAltHandover(t, i) ==
    IF Mutant \notin {"no_withdraw", "lifo_waiter", "handover_drop", "handover_front"}
    THEN AltHandover(t, i)
    ELSE
    /\ IsAlt(t, i)
    /\ LET k == Case(t, i)
           c == k.ch
       IN  /\ c # Nil
           /\ k.dir = "recv"
           /\ buf[c] # <<>> /\ sendq[c] # <<>>
           /\ LET e  == Pick(sendq[c])
                  vu == <<e[1], pc[e[1]], e[2]>>
                  nb == CASE Mutant = "handover_drop"  -> Tail(buf[c])
                          [] Mutant = "handover_front" -> <<vu>> \o Tail(buf[c])
                          [] OTHER                     -> Append(Tail(buf[c]), vu)
              IN  /\ MCompleteBoth(t, Ok(i, Head(buf[c])), e[1], Ok(e[2], NoVal), e)
                  /\ buf'  = [buf  EXCEPT ![c] = nb]
                  /\ slog' = [slog EXCEPT ![c] = Append(@, vu)]
                  /\ rlog' = [rlog EXCEPT ![c] = Append(@, Head(buf[c]))]
    /\ UNCHANGED <<closed, killreq>>

MAltClosed(t, i) ==
    IF Mutant \in {"closed_not_ready", "closed_stuck"} THEN FALSE ELSE AltClosed(t, i)

MAltBlock(t) ==
    IF Mutant # "closed_not_ready"
    THEN AltBlock(t)
    ELSE
    /\ CanStep(t)
    /\ Op(t).kind = "alt"
    /\ Op(t).block
    /\ MNoneReady(t)
    /\ LET cs      == Op(t).cases
           idx     == [k \in 1..Len(cs) |-> k]
           New(d, c) == LET On(k) == cs[k].dir = d /\ cs[k].ch = c
                            ks    == SelectSeq(idx, On)
                        IN  [n \in 1..Len(ks) |-> <<t, ks[n]>>]
       IN  /\ sendq' = [c \in Chans |-> sendq[c] \o New("send", c)]
           /\ recvq' = [c \in Chans |-> recvq[c] \o New("recv", c)]
    /\ st' = [st EXCEPT ![t] = "blocked"]
    /\ UNCHANGED <<buf, closed, pc, killreq, res, slog, rlog>>

MAltNone(t) ==
    CASE Mutant = "nb_spurious" ->
            \* "none" without looking at readiness at all
            /\ CanStep(t)
            /\ Op(t).kind = "alt"
            /\ ~Op(t).block
            /\ CompleteSelf(t, NoneR)
            /\ UNCHANGED <<buf, closed, sendq, recvq, st, killreq, slog, rlog>>
      [] Mutant = "nb_offer" ->
            \* "none", but the alt's offers stay queued for a later partner
            /\ CanStep(t)
            /\ Op(t).kind = "alt"
            /\ ~Op(t).block
            /\ NoneReady(t)
            /\ CompleteSelf(t, NoneR)
            /\ LET cs  == Op(t).cases
                   idx == [k \in 1..Len(cs) |-> k]
                   New(d, c) == LET On(k) == cs[k].dir = d /\ cs[k].ch = c
                                    ks    == SelectSeq(idx, On)
                                IN  [n \in 1..Len(ks) |-> <<t, ks[n]>>]
               IN  /\ sendq' = [c \in Chans |-> sendq[c] \o New("send", c)]
                   /\ recvq' = [c \in Chans |-> recvq[c] \o New("recv", c)]
            /\ UNCHANGED <<buf, closed, st, killreq, slog, rlog>>
      [] Mutant = "closed_not_ready" ->
            /\ CanStep(t)
            /\ Op(t).kind = "alt"
            /\ ~Op(t).block
            /\ MNoneReady(t)
            /\ CompleteSelf(t, NoneR)
            /\ UNCHANGED <<buf, closed, sendq, recvq, st, killreq, slog, rlog>>
      [] OTHER -> AltNone(t)

MClose(t) ==
    IF Mutant \notin {"close_forgets_receivers", "wrong_close_idx"}
    THEN Close(t)
    ELSE
    /\ CanStep(t)
    /\ Op(t).kind = "close"
    /\ LET c == Op(t).ch
           E == IF Mutant = "close_forgets_receivers"
                THEN Range(sendq[c])
                ELSE Range(sendq[c]) \cup Range(recvq[c])
           W == {e[1] : e \in E}
           Idx(u) == IF Mutant = "wrong_close_idx"
                     THEN Max({e[2] : e \in {x \in E : x[1] = u}})
                     ELSE Min({e[2] : e \in {x \in E : x[1] = u}})
       IN  /\ ~closed[c]
           /\ closed' = [closed EXCEPT ![c] = TRUE]
           /\ res' = [u \in Tasks |->
                        IF u = t THEN Append(res[u], Ok(-1, NoVal))
                        ELSE IF u \in W THEN Append(res[u], ClosedR(Idx(u)))
                        ELSE res[u]]
           /\ pc' = [u \in Tasks |-> IF u = t \/ u \in W THEN pc[u] + 1 ELSE pc[u]]
           /\ st' = [u \in Tasks |-> IF u \in W THEN "ready" ELSE st[u]]
           /\ sendq' = Withdraw(sendq, W)
           /\ recvq' = Withdraw(recvq, W)
    /\ UNCHANGED <<buf, killreq, slog, rlog>>

MKillBlocked(t) ==
    IF Mutant # "kill_leaves_queued"
    THEN KillBlocked(t)
    ELSE
    /\ t \in Killable
    /\ st[t] = "blocked"
    /\ st' = [st EXCEPT ![t] = "dead"]
    /\ res' = [res EXCEPT ![t] = Append(@, KilledR)]
    /\ UNCHANGED <<buf, closed, sendq, recvq, pc, killreq, slog, rlog>>

MKillPending(t) ==
    IF Mutant # "kill_loses_committed"
    THEN KillPending(t)
    ELSE
    \* the kill is delivered at once and discards the op a partner has
    \* just completed for t (its last result), as if it never happened
    \/ /\ KillPending(t)
       /\ res[t] = <<>> \/ res[t][Len(res[t])].kind # "ok"
    \/ /\ t \in Killable
       /\ st[t] = "ready"
       /\ ~killreq[t]
       /\ res[t] # <<>>
       /\ res[t][Len(res[t])].kind = "ok"
       /\ st' = [st EXCEPT ![t] = "dead"]
       /\ pc' = [pc EXCEPT ![t] = @ - 1]
       /\ res' = [res EXCEPT ![t] = Append(SubSeq(@, 1, Len(@) - 1), KilledR)]
       /\ UNCHANGED <<buf, closed, sendq, recvq, killreq, slog, rlog>>

MStep(t) ==
    \/ \E i \in 1..MaxCases :
          \/ MAltBuffer(t, i)
          \/ MAltRendezvous(t, i)
          \/ MAltHandover(t, i)
          \/ MAltClosed(t, i)
    \/ MAltBlock(t)
    \/ MAltNone(t)
    \/ MClose(t)
    \/ CloseClosed(t)
    \/ Killed(t)

MNext ==
    \/ \E t \in Tasks : MStep(t)
    \/ \E t \in Tasks : MKillBlocked(t) \/ MKillPending(t)
    \/ Done

MSpec == Init /\ [][MNext]_vars

\* DeadlockExact of Channels is stated with ENABLED Step(t), the CORRECT
\* steps; for a mutant it must speak of the mutant's own steps.
MTaskEnabled == \E t \in Tasks : ENABLED MStep(t)
MDeadlockExact ==
    (~MTaskEnabled /\ ~Terminated) <=> ((\E t \in Tasks : st[t] = "blocked") /\ ~MTaskEnabled)
MSafety ==
    /\ TypeOK
    /\ Conservation
    /\ BufBound
    /\ AtMostOneCommit
    /\ QueueExact
    /\ NoMissedRendezvous
    /\ CloseKillLoseNothing
    /\ ValueOK
    /\ MDeadlockExact

=============================================================================
