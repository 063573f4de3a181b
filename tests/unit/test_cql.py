"""The CQL splitter: cqlsh's cutting rules, line numbers, errors, and agreement with cqlsh itself."""

from __future__ import annotations

import string
import time
import warnings

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.cql import CqlSyntaxError, Statement, split_cql
from harness.errors import HarnessError

with warnings.catch_warnings():  # cqlshlib imports the deprecated sre_constants; not our concern
    warnings.simplefilter("ignore", DeprecationWarning)
    from cqlshlib import cql3handling


def texts(script: str) -> list[str]:
    return [s.text for s in split_cql(script)]


# --- plain cutting -------------------------------------------------------------------------------


def test_statements_end_at_semicolons_and_lose_the_semicolon_and_outer_whitespace() -> None:
    assert texts("CREATE TABLE a (x int);\n  DROP TABLE b ;\n") == ["CREATE TABLE a (x int)", "DROP TABLE b"]


def test_last_statement_without_semicolon_is_still_a_statement() -> None:
    assert texts("USE ks; SELECT * FROM t") == ["USE ks", "SELECT * FROM t"]


@pytest.mark.parametrize(
    "script", ["", "   \n\t\n", ";", ";;  ;", "-- only\n// comments\n/* here */", "/* a */ ; -- b\n;"]
)
def test_blank_comment_only_and_empty_pieces_produce_no_statement(script: str) -> None:
    assert split_cql(script) == []


def test_semicolon_inside_single_quoted_string_does_not_cut() -> None:
    assert texts("INSERT INTO t (a) VALUES ('x;y'); SELECT 1") == ["INSERT INTO t (a) VALUES ('x;y')", "SELECT 1"]


def test_doubled_single_quote_is_an_escaped_quote_not_the_end_of_the_string() -> None:
    assert texts("INSERT INTO t (a) VALUES ('it''s; fine');X") == ["INSERT INTO t (a) VALUES ('it''s; fine')", "X"]


def test_quoted_identifier_with_semicolon_and_doubled_double_quote() -> None:
    assert texts('CREATE TABLE "we;""ird" (a int);X') == ['CREATE TABLE "we;""ird" (a int)', "X"]


def test_dollar_string_keeps_semicolons_quotes_and_comment_markers() -> None:
    body = "$$ return a; -- not a comment ' /* nor this */ $$"
    script = f"CREATE FUNCTION f(a int) RETURNS NULL ON NULL INPUT RETURNS int LANGUAGE java AS {body};X"
    assert texts(script) == [script[: script.index(";X")], "X"]


def test_string_markers_inside_comments_are_ignored() -> None:
    script = "A -- it's; \"here\" $$\n; B // ' ; /* \n; C /* ; ' \" $$ \n */ ;"
    assert texts(script) == ["A", "B", "C"]


def test_comments_inside_a_statement_are_kept_but_leading_and_trailing_ones_are_dropped() -> None:
    script = "-- lead\n/* lead */ SELECT a, -- inner\n b /* inner */ FROM t /* trail */ -- trail\n;"
    assert texts(script) == ["SELECT a, -- inner\n b /* inner */ FROM t"]


def test_block_comment_on_the_same_line_between_two_statements() -> None:
    assert split_cql("A; /* x; */ B;") == [Statement("A", 1), Statement("B", 1)]


def test_minus_and_slash_alone_are_operators_not_comments() -> None:
    assert texts("UPDATE t SET c = c - 1 WHERE k = 4 / 2;X") == ["UPDATE t SET c = c - 1 WHERE k = 4 / 2", "X"]


# --- batches -------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["", "UNLOGGED ", "COUNTER ", "unlogged "])
def test_begin_batch_to_apply_batch_is_one_statement_despite_inner_semicolons(kind: str) -> None:
    batch = f"BEGIN {kind}BATCH\n  INSERT INTO t (a) VALUES (1);\n  UPDATE t SET b = 'x;' WHERE a = 1;\nAPPLY BATCH"
    assert split_cql(f"SELECT 1;\n{batch};\nSELECT 2;") == [
        Statement("SELECT 1", 1),
        Statement(batch, 2),
        Statement("SELECT 2", 6),
    ]


def test_batch_keywords_are_case_insensitive_and_using_timestamp_is_allowed() -> None:
    batch = "begin Batch using timestamp 42 insert into t (a) values (1); apply batch"
    assert texts(batch + "; X") == [batch, "X"]


def test_batch_without_final_semicolon_at_end_of_file_is_one_statement() -> None:
    batch = "BEGIN BATCH INSERT INTO t (a) VALUES (1); APPLY BATCH"
    assert texts(batch) == [batch]


def test_begin_batch_never_applied_is_an_error_at_the_line_where_it_begins() -> None:
    with pytest.raises(CqlSyntaxError) as info:
        split_cql("SELECT 1;\n\nBEGIN BATCH\n INSERT INTO t (a) VALUES (1);\n", first_line=10)
    assert info.value.line == 12
    assert "APPLY BATCH" in info.value.reason


def test_quoted_or_underscored_apply_batch_does_not_end_a_batch() -> None:
    with pytest.raises(CqlSyntaxError):
        split_cql('BEGIN BATCH INSERT INTO "apply" (a) VALUES (1); "APPLY" "BATCH"; apply_batch;')


def test_only_the_two_words_apply_batch_end_a_batch() -> None:
    batch = "BEGIN BATCH INSERT INTO t (a) VALUES (1); DELETE FROM ks.batch; APPLY BATCH"
    assert texts(f"{batch}; X") == [batch, "X"]


def test_begin_that_does_not_start_a_batch_is_an_ordinary_statement() -> None:
    assert texts("BEGIN; BEGIN LOGGED; X") == ["BEGIN", "BEGIN LOGGED", "X"]


# --- errors and lines ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("script", "line", "what"),
    [
        ("A;\nB 'abc;\nC;", 2, "string literal"),
        ('A;\n\nB "abc;\nC;', 3, "quoted identifier"),
        ("A;\nB AS $$ x;\ny;", 2, "$$ string"),
        ("A;\nB /* x;\n\n;", 2, "block comment"),
        ("/* x;\n\nA;", 1, "block comment"),
        ("A 'it''s", 1, "string literal"),
    ],
)
def test_unterminated_literal_or_comment_raises_with_the_line_where_it_started(
    script: str, line: int, what: str
) -> None:
    with pytest.raises(CqlSyntaxError) as info:
        split_cql(script)
    assert info.value.line == line
    assert what in info.value.reason
    assert str(info.value).startswith(f"line {line}: unterminated {what}")
    assert isinstance(info.value, HarnessError)


def test_line_is_where_the_first_non_comment_character_is_counted_from_first_line() -> None:
    script = "\n-- c\n/* multi\nline */\n\n  CREATE TABLE a (x int);\nB;C\n;\n\n  D"
    assert split_cql(script, first_line=5) == [
        Statement("CREATE TABLE a (x int)", 10),
        Statement("B", 11),
        Statement("C", 11),
        Statement("D", 14),
    ]


def test_crlf_line_endings_count_lines_and_end_line_comments() -> None:
    assert split_cql("-- c ;\r\nA;\r\n\r\nB -- x;\r\n;") == [Statement("A", 2), Statement("B", 4)]


def test_linear_time_on_a_large_script_and_on_quote_heavy_input() -> None:
    big = "INSERT INTO ks.t (a, b) VALUES (1, 'x;''y'); -- c\n" * 10000
    quotes = "'" + "''" * 200000 + "'"
    start = time.process_time()
    assert len(split_cql(big)) == 10000
    assert len(split_cql(quotes)) == 1
    for unclosed in ("/*" + "*" * 200000, "A '" + "''" * 100000, "BEGIN BATCH " + "x; " * 50000):
        with pytest.raises(CqlSyntaxError):
            split_cql(unclosed)
    assert time.process_time() - start < 2.0  # a quadratic scan would take minutes here


# --- properties ----------------------------------------------------------------------------------

_WORD = st.builds(
    str.__add__, st.sampled_from(string.ascii_letters), st.text(string.ascii_letters + string.digits + "_", max_size=8)
).filter(lambda w: w.lower() not in ("begin", "apply"))
_NUMBER = st.one_of(st.integers(0, 9999).map(str), st.floats(0, 999, allow_nan=False).map(lambda f: f"{f:.2f}"))
_NASTY = st.text(alphabet="ab ;'\"-/*$\n", max_size=12)
_SINGLE = _NASTY.map(lambda s: "'" + s.replace("'", "''") + "'")
_DOUBLE = _NASTY.map(lambda s: '"' + s.replace('"', '""') + '"')
_DOLLAR = _NASTY.filter(lambda s: "$$" not in s and not s.endswith("$")).map(lambda s: f"$${s}$$")
_PUNCT = st.sampled_from(list("(),.=<>+*-/[]{}:"))
_TOKEN = st.one_of(_WORD, _WORD, _NUMBER, _SINGLE, _DOUBLE, _DOLLAR, _PUNCT)
_LINE_COMMENT_BODY = st.text(alphabet="ab ;'\"$*/-", max_size=8)
_BLOCK_COMMENT_BODY = st.text(alphabet="ab ;'\"$-\n", max_size=8)
# Every separator starts and ends with whitespace so it never glues to a neighbouring `-` or `/`.
_SEPARATOR = st.one_of(
    st.sampled_from([" ", "\n", " \n\t "]),
    _LINE_COMMENT_BODY.map(lambda s: f" --{s}\n"),
    _LINE_COMMENT_BODY.map(lambda s: f" //{s}\n"),
    _BLOCK_COMMENT_BODY.map(lambda s: f" /*{s}*/ "),
)
_GAP = st.lists(st.one_of(_SEPARATOR, st.just(";")), max_size=3).map("".join)


@st.composite
def _plain_statement(draw: st.DrawFn) -> str:
    tokens: list[str] = draw(st.lists(_TOKEN, min_size=1, max_size=6))
    out = tokens[0]
    for token in tokens[1:]:
        out += draw(_SEPARATOR) + token
    return out


@st.composite
def _batch_statement(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["BEGIN BATCH", "begin unlogged batch", "BEGIN COUNTER BATCH"]))
    inner = draw(st.lists(_plain_statement(), min_size=1, max_size=3))
    body = "".join(f"{draw(_SEPARATOR)}{s}{draw(_SEPARATOR)};" for s in inner)
    return f"{kind}{body}{draw(_SEPARATOR)}APPLY BATCH"


_STATEMENT = st.one_of(_plain_statement(), _plain_statement(), _batch_statement())


@st.composite
def _script(draw: st.DrawFn) -> tuple[str, list[Statement], int]:
    """A script, the statements it must split into (with lines), and the first line it starts on."""
    first_line = draw(st.integers(1, 50))
    statements = draw(st.lists(_STATEMENT, max_size=5))
    script, expected = draw(_GAP), []
    for index, text in enumerate(statements):
        script += draw(_SEPARATOR) if script else ""
        expected.append(Statement(text, first_line + script.count("\n")))
        script += text
        last = index == len(statements) - 1
        if not last or draw(st.booleans()):
            script += draw(st.sampled_from(["", " ", " /* c */ ", "\n"])) + ";"
        script += draw(_GAP)
    return script, expected, first_line


@settings(max_examples=60, database=None, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_script())
def test_generated_statements_joined_with_semicolons_and_comments_split_back_identically(
    case: tuple[str, list[Statement], int],
) -> None:
    script, expected, first_line = case
    assert split_cql(script, first_line=first_line) == expected


@settings(max_examples=100, database=None, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab ;'\"$-/*\n\r()BEGINAPLYTCH")), max_size=60) | st.text(max_size=60))
def test_arbitrary_text_either_splits_into_clean_substrings_or_raises_cql_syntax_error(script: str) -> None:
    try:
        statements = split_cql(script, first_line=3)
    except CqlSyntaxError as error:
        assert 3 <= error.line <= 3 + script.count("\n")
        return
    for statement in statements:
        assert statement.text and statement.text == statement.text.strip()
        offset = script.find(statement.text)
        assert offset >= 0
        assert statement.line >= 3


@settings(max_examples=40, database=None, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_script())
def test_agrees_with_cqlsh_on_every_terminated_script(case: tuple[str, list[Statement], int]) -> None:
    script, _, _ = case
    script = script.rstrip() + "\n;"  # cqlsh leaves an unterminated last statement pending
    tokens, pending = cql3handling.CqlRuleSet.cql_split_statements(script)
    assert not pending
    cqlsh_texts = [script[stmt[0][2][0] : stmt[-2][2][1]] for stmt in tokens if len(stmt) > 1]
    assert texts(script) == cqlsh_texts
