"""What an export's content and name suggest for the import form: the group whose questionnaire its
questions belong to (Google Forms CSV and Microsoft Forms XLSX alike), the wave from a word in the
file's name; nothing for a file that holds no question or no table."""
from __future__ import annotations

import pytest

from support.surveys import answers, write_google_csv, write_msforms_xlsx
from zpb_lib.services.imports import guess_survey


@pytest.mark.parametrize("group", ["students", "parents", "teachers"])
def test_the_group_from_the_questions(ref, tmp_path, group):
    rows = answers(ref, group, 6, seed=2)
    assert guess_survey(write_google_csv(tmp_path / "eksport.csv", ref, group, rows)) == (group, None)
    assert guess_survey(write_msforms_xlsx(tmp_path / "eksport.xlsx", ref, group, rows)) == (group, None)


@pytest.mark.parametrize("name, wave", [("uczniowie-diagnoza.csv", "baseline"), ("Ewaluacja 2026.csv", "follow-up"),
                                        ("baseline.csv", "baseline"), ("follow-up.csv", "follow-up"),
                                        ("ankieta.csv", None)])
def test_the_wave_from_the_name(ref, tmp_path, name, wave):
    path = write_google_csv(tmp_path / name, ref, "parents", answers(ref, "parents", 3))
    assert guess_survey(path) == ("parents", wave)


def test_nothing_from_a_file_without_questions(tmp_path):
    (other := tmp_path / "lista.csv").write_text("Imię,Klasa\nAla,3b\n", encoding="utf-8")
    (binary := tmp_path / "zdjecie.csv").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))
    assert guess_survey(other) == (None, None)
    assert guess_survey(binary) == (None, None)
