"""Where the complete lines of a growing feed end: pure rules, no services."""

from __future__ import annotations

import io

from worker.pipeline.feeds import cut, fingerprint


def test_complete_lines_are_taken_and_a_partial_last_line_waits() -> None:
    data = b'{"a": 1}\n{"b": 2}\n{"c": '
    found = cut(data, open_line=False, at_eof=True)
    assert (found.skip, found.end, found.open_line) == (0, 18, False)
    assert data[: found.end].count(b"\n") == 2


def test_a_last_line_that_parses_is_taken_without_its_newline() -> None:
    data = b'{"a": 1}\n{"b": 2}'
    found = cut(data, open_line=False, at_eof=True)
    assert (found.end, found.open_line) == (len(data), True)
    # Not at the end of the file yet (a pass capped by the size limit): it waits.
    assert cut(data, open_line=False, at_eof=False).end == 9


def test_the_newline_of_a_line_taken_open_starts_no_new_item() -> None:
    found = cut(b'\n{"c": 3}\n', open_line=True, at_eof=True)
    assert (found.skip, found.end, found.open_line, found.new) == (1, 10, False, True)
    only_newline = cut(b"\n", open_line=True, at_eof=True)
    assert (only_newline.skip, only_newline.end, only_newline.new) == (1, 1, False)
    nothing = cut(b"", open_line=True, at_eof=True)
    assert (nothing.end, nothing.open_line, nothing.new) == (0, True, False)


def test_an_open_line_that_goes_on_means_the_consumed_part_changed() -> None:
    assert cut(b', "more": 1}\n', open_line=True, at_eof=True).continued
    assert not cut(b"  \n", open_line=True, at_eof=True).continued


def test_a_line_cut_inside_a_multibyte_character_waits() -> None:
    line = '{"t": "café"}'.encode()
    assert cut(line[:-3], open_line=False, at_eof=True).end == 0


def test_the_fingerprint_sees_a_change_at_either_end_and_in_the_length() -> None:
    body = b"x" * 20_000
    base = fingerprint(io.BytesIO(body), len(body))
    assert fingerprint(io.BytesIO(b"y" + body[1:]), len(body)) != base
    assert fingerprint(io.BytesIO(body[:-1] + b"y"), len(body)) != base
    assert fingerprint(io.BytesIO(body + b"more"), len(body)) == base  # an append keeps it
    assert fingerprint(io.BytesIO(body), len(body) - 1) != base
