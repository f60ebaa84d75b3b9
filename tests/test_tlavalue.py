"""The parser of TLC's value syntax (libtask9.testing.tla), pinned on hand-written dumps."""

from __future__ import annotations

from pathlib import Path

import pytest

from libtask9.testing import tla
from libtask9.testing.tla import Fn, ModelValue, fn, parse_state, parse_value, record

# A -dump file as TLC 2.15 writes it: "State n:" blocks, conjuncts in TLC's variable
# order, long values wrapped onto indented continuation lines, a blank line after each
# state.  Functions over 1..n print as sequences, functions over strings as records.
DUMP = """\
State 1:
/\\ buf = [a |-> <<>>, b |-> <<>>]
/\\ pc = <<1, 1, 1>>
/\\ st = <<"ready", "ready", "ready">>
/\\ closed = [a |-> FALSE, b |-> FALSE]

State 2:
/\\ buf = [a |-> <<>>, b |-> <<<<1, 2, 1>>>>]
/\\ pc = <<1, 3, -1>>
/\\ st = <<"blocked", "ready", "dead">>
/\\ closed = [a |-> TRUE, b |-> FALSE]

State 3:
/\\ buf = [ a |-> <<>>,
  b |->
      << <<1, 2, 1>>,
         <<3, 1, 2>> >> ]
/\\ pc = <<2, 3, 4>>
/\\ st = <<"ready",
   "blocked",
   "ready">>
/\\ closed = [a |-> TRUE, b |-> TRUE]

"""

# A -dump dot,actionlabels file: the initial node filled, each edge once per generated
# successor (duplicates included), Done self-loops, rank lines.
DOT = r"""strict digraph DiskGraph {
nodesep=0.35;
subgraph cluster_graph {
color="white";
-3297609334571814939 [label="/\\ x = <<>>\n/\\ f = (1 :> \"a\" @@ 3 :> \"b\\\\c\")",style = filled]
-3297609334571814939 -> 747956082570736528 [label="Step1",color="black",fontcolor="black"];
747956082570736528 [label="/\\ x = <<Nil>>\n/\\ f = (1 :> \"a\" @@ 3 :> \"b\\\\c\")"];
-3297609334571814939 -> 747956082570736528 [label="Step1",color="black",fontcolor="black"];
747956082570736528 -> 747956082570736528 [label="Done",color="black",fontcolor="black"];
{rank = same; -3297609334571814939;}
{rank = same; 747956082570736528;}
}
}
"""


def test_scalars() -> None:
    assert parse_value("42") == 42
    assert parse_value("-1") == -1
    assert parse_value("TRUE") is True
    assert parse_value("FALSE") is False
    assert parse_value('"ok"') == "ok"
    assert parse_value(r'"a\"b\\c\nd"') == 'a"b\\c\nd'
    assert parse_value("Nil") == ModelValue("Nil")


def test_sequences_sets_records_functions() -> None:
    assert parse_value("<<>>") == ()
    assert parse_value("<<1, <<2, 3>>, <<>>>>") == (1, (2, 3), ())
    assert parse_value("{}") == frozenset()
    assert parse_value("{3, 1, 2}") == frozenset({1, 2, 3})
    assert parse_value("1..3") == frozenset({1, 2, 3})
    assert parse_value("{<<1, 2>>, <<2, 1>>}") == frozenset({(1, 2), (2, 1)})
    r = parse_value('[kind |-> "ok", idx |-> -1, val |-> <<>>]')
    assert r == record(kind="ok", idx=-1, val=())
    assert isinstance(r, Fn) and r["idx"] == -1
    f = parse_value('(a :> 1 @@ "b" :> {1, 2} @@ 3 :> [x |-> <<>>])')
    assert isinstance(f, Fn)
    assert f[ModelValue("a")] == 1 and f["b"] == frozenset({1, 2}) and f[3] == record(x=())


def test_functions_over_1_to_n_are_sequences() -> None:
    # TLC prints [t \in 1..2 |-> 0] as <<0, 0>>; (1 :> 0 @@ 2 :> 0) is the same value
    assert parse_value("(1 :> 0 @@ 2 :> 0)") == (0, 0)
    assert parse_value("(2 :> 5 @@ 1 :> 4)") == (4, 5)
    assert parse_value("(2 :> 5)") == Fn(((2, 5),))
    assert fn({1: "a", 2: "b"}) == ("a", "b")
    assert fn({}) == ()
    # key order does not matter
    assert parse_value("(b :> 1 @@ a :> 2)") == parse_value("(a :> 2 @@ b :> 1)")
    assert parse_value("[b |-> 1, a |-> 2]") == parse_value("[a |-> 2, b |-> 1]")


def test_whitespace_and_line_wrapping() -> None:
    wrapped = "[ a |-> <<>>,\n  b |->\n      << <<1, 2, 1>>,\n         <<3, 1, 2>> >> ]"
    assert parse_value(wrapped) == record(a=(), b=((1, 2, 1), (3, 1, 2)))


@pytest.mark.parametrize(
    "bad",
    ["<<1, 2", "[a |-> ]", "{1 2}", "(1 :> 2 @@)", "1 2", "<<1>>>>", "[1 |-> 2]", "@"],
)
def test_malformed_values_raise(bad: str) -> None:
    with pytest.raises(tla.TLAParseError):
        parse_value(bad)


def test_round_trip_through_the_printer() -> None:
    values = [
        0,
        -7,
        True,
        'a "quoted" \\ string\n',
        ModelValue("Nil"),
        (),
        (1, (2, ()), "x"),
        frozenset({(1, 2), (3, 4)}),
        record(kind="closed", idx=2, val=()),
        fn({ModelValue("a"): 1, "b": frozenset(), 7: (1,)}),
        fn({"a": record(x=frozenset({1})), "b": ()}),
    ]
    for v in values:
        assert parse_value(tla.format_value(v)) == v, v


def test_parse_state() -> None:
    s = parse_state('/\\ x = 1\n/\\ y = {"a"}\n/\\ z = <<\n  1,\n  2 >>')
    assert s == {"x": 1, "y": frozenset({"a"}), "z": (1, 2)}
    assert parse_state("x = <<>>") == {"x": ()}
    with pytest.raises(tla.TLAParseError):
        parse_state("/\\ x = 1\n/\\ x = 2")


def test_read_dump(tmp_path: Path) -> None:
    p = tmp_path / "m.dump"
    p.write_text(DUMP)
    states = tla.read_dump(p)
    assert len(states) == 3
    assert states[0] == {
        "buf": record(a=(), b=()),
        "pc": (1, 1, 1),
        "st": ("ready", "ready", "ready"),
        "closed": record(a=False, b=False),
    }
    assert states[1]["buf"] == record(a=(), b=((1, 2, 1),))
    assert states[1]["pc"] == (1, 3, -1)
    assert states[2]["buf"] == record(a=(), b=((1, 2, 1), (3, 1, 2)))
    assert states[2]["st"] == ("ready", "blocked", "ready")


def test_read_dump_names_the_bad_state(tmp_path: Path) -> None:
    p = tmp_path / "bad.dump"
    p.write_text(DUMP.replace("<<1, 3, -1>>", "<<1, 3, -1"))
    with pytest.raises(tla.TLAParseError, match="State 2"):
        tla.read_dump(p)


def test_read_dot(tmp_path: Path) -> None:
    p = tmp_path / "g.dot"
    p.write_text(DOT)
    g = tla.read_dot(p)
    a, b = "-3297609334571814939", "747956082570736528"
    f = Fn(((1, "a"), (3, "b\\c")))
    assert g.nodes == {a: {"x": (), "f": f}, b: {"x": (ModelValue("Nil"),), "f": f}}
    assert g.initial == {a}
    assert g.edges == [(a, b, "Step1"), (a, b, "Step1"), (b, b, "Done")]


def test_read_dot_rejects_unknown_lines(tmp_path: Path) -> None:
    p = tmp_path / "g.dot"
    p.write_text(DOT.replace("nodesep=0.35;", "garbage here"))
    with pytest.raises(tla.TLAParseError, match=":2:"):
        tla.read_dot(p)


def test_sort_key_is_total_across_kinds() -> None:
    vals: list[tla.Value] = [(), frozenset(), "a", 1, True, ModelValue("m"), record(a=1)]
    assert len({tla.sort_key(v) for v in vals}) == len(vals)
