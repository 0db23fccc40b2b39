"""parse_cron_section on crafted fragment output: runs of sized files, races, damaged lines."""

from __future__ import annotations

from runbook.cron import parse_cron_section

A, B, C, D = "/etc/cron.d/a", "/etc/cron.d/b", "/etc/cron.d/c", "/etc/cron.d/d"
BODIES = {A: b"0 1 * * * root a\n", B: b"0 2 * * * root bb\n", C: b"0 3 * * * root ccc\n", D: b"x"}


def hexdump(data: bytes) -> str:
    """``od -An -v -tx1``: 16 bytes a line."""
    return "".join(
        " " + " ".join(f"{b:02x}" for b in data[i : i + 16]) + "\n" for i in range(0, len(data), 16)
    )


def run(sizes: dict[str, int], data: bytes, after: str | None) -> str:
    """One run: sized file tags, the data, then the ``S`` line (``after``; ``None``: no line)."""
    tags = "".join(f"T file {name} {size}\n" for name, size in sizes.items())
    return tags + hexdump(data) + ("" if after is None else f"S {after}\n")


def sizes_of(*names: str) -> dict[str, int]:
    return {name: len(BODIES[name]) for name in names}


def text(*names: str) -> dict[str, str]:
    return {name: BODIES[name].decode() for name in names}


def test_a_run_is_cut_at_its_sizes() -> None:
    sizes = sizes_of(A, B, C, D)
    out = "@@runbook:cron@@\n" + run(sizes, b"".join(BODIES.values()), " ".join(map(str, sizes.values())))
    snapshot = parse_cron_section(out)
    assert snapshot.files == text(A, B, C, D)
    assert snapshot.notes == ()


def test_a_file_that_grew_before_od_leaves_the_others_exact() -> None:
    grown = BODIES[B] + b"* * * * * root evil\n"
    data = BODIES[A] + grown + BODIES[C] + BODIES[D]
    after = f"{len(BODIES[A])} {len(grown)} {len(BODIES[C])} {len(BODIES[D])}"
    snapshot = parse_cron_section(run(sizes_of(A, B, C, D), data, after))
    assert snapshot.files == text(A, C, D)
    assert snapshot.notes == (f"{B}: changed while the probe read it: not used",)


def test_a_file_that_vanished_before_od_leaves_the_others_exact() -> None:
    data = BODIES[A] + BODIES[C] + BODIES[D]
    after = f"{len(BODIES[A])} - {len(BODIES[C])} {len(BODIES[D])}"
    snapshot = parse_cron_section(run(sizes_of(A, B, C, D), data, after))
    assert snapshot.files == text(A, C, D)
    assert snapshot.notes == (f"{B}: changed while the probe read it: not used",)


def test_files_between_two_changed_files_are_not_guessed() -> None:
    data = BODIES[A] + b"shrunk" + BODIES[C] + b"longer x"
    after = f"{len(BODIES[A])} 6 {len(BODIES[C])} 8"
    snapshot = parse_cron_section(run(sizes_of(A, B, C, D), data, after))
    assert snapshot.files == text(A)
    assert [note.split(":")[0] for note in snapshot.notes] == [B, C, D]


def test_a_total_that_does_not_add_up_places_nothing() -> None:
    sizes = sizes_of(A, B, C)
    same = " ".join(map(str, sizes.values()))
    for data in (BODIES[A] + BODIES[B] + BODIES[C] + b"more", BODIES[A] + BODIES[C]):
        snapshot = parse_cron_section(run(sizes, data, same))
        assert snapshot.files == {}
        assert len(snapshot.notes) == 3


def test_a_run_cut_short_is_checked_by_its_total() -> None:
    sizes = sizes_of(A, B)
    whole = BODIES[A] + BODIES[B]
    assert parse_cron_section(run(sizes, whole, None)).files == text(A, B)
    cut = parse_cron_section(run(sizes, whole[:-3], None))
    assert cut.files == {}
    assert len(cut.notes) == 2


def test_sizes_for_another_number_of_files_place_nothing() -> None:
    snapshot = parse_cron_section(run(sizes_of(A, B), BODIES[A] + BODIES[B], "1"))
    assert snapshot.files == {}
    assert snapshot.notes[0] == "line 6: 1 sizes for 2 files"


def test_runs_follow_each_other_and_empty_files_need_no_data() -> None:
    empty = "T file /etc/cron.d/empty 0\nS 0\n"
    out = empty + run(sizes_of(A), BODIES[A], str(len(BODIES[A]))) + empty.replace("empty", "e2")
    out += "B file 2f6574632f63726f6e2e642f6e6577 1\n 0a\nS 1\n" + run(sizes_of(B), BODIES[B], None)
    snapshot = parse_cron_section(out)
    assert snapshot.files == {
        "/etc/cron.d/empty": "",
        "/etc/cron.d/e2": "",
        "/etc/cron.d/new": "\n",
        **text(A, B),
    }
    assert snapshot.notes == ()


def test_big_and_gone_files_inside_a_run_are_noted() -> None:
    out = f"T file {A} {len(BODIES[A])}\nT big /etc/crontab 300000\nT gone /etc/cron.d/x\n"
    out += hexdump(BODIES[A]) + f"S {len(BODIES[A])}\n"
    snapshot = parse_cron_section(out)
    assert snapshot.files == text(A)
    assert snapshot.notes == (
        "/etc/crontab: not read: 300000 bytes, more than max_bytes",
        "/etc/cron.d/x: vanished or became unreadable while the probe ran",
    )


def test_text_blocks_and_size_less_hex_blocks() -> None:
    out = "T out last\n| reboot   system boot\n| \n| wtmp begins\nT out btime\n| 1503345612\nT out date\n"
    out += "B file 2f6574632f74696d657a6f6e65\n 41 73 69 61\n 2f 54 6f 6b 79 6f 0a\n"
    out += "B out 6c6f63616c74696d65\n 2f\n"
    snapshot = parse_cron_section(out)
    assert snapshot.outputs == {
        "last": "reboot   system boot\n\nwtmp begins\n",
        "btime": "1503345612\n",
        "date": "",
        "localtime": "/",
    }
    assert snapshot.files == {"/etc/timezone": "Asia/Tokyo\n"}


def test_damaged_lines_are_noted_not_raised() -> None:
    out = (
        "T file /x abc\nT big /x\nT dir /x 5\nB file zz 3\nT nonsense /x\nT file  3\n"
        "| text without a block\nS 1 2\n 41 42\nplain words\n"
    )
    snapshot = parse_cron_section(out)
    assert snapshot.files == {}
    assert len(snapshot.notes) == 10


def test_a_text_file_cut_short_keeps_its_lines_and_says_so() -> None:
    out = (
        "@@runbook:cron@@\nT file /etc/crontab\n| 0 1 * * * root a\nT cut /etc/crontab 1\n"
        "T file /etc/cron.d/b\n| x\n"
    )
    snapshot = parse_cron_section(out)
    assert snapshot.files == {"/etc/crontab": "0 1 * * * root a\n", "/etc/cron.d/b": "x\n"}
    assert snapshot.notes == ("/etc/crontab: only its first 1 lines read (max_bytes / 64), not the rest",)
