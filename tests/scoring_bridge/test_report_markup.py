"""Names that look like reportlab markup print as themselves (issue 12.7).

A unit name can carry ``<a href="javascript:...">`` or ``<link>`` (which reportlab turns
into link annotations) or an unclosed ``<b>`` (which fails the paragraph and with it the
whole run); a campaign or criteria-set name the same; a ``$`` starts matplotlib's
mathtext in the chart. Every such text is escaped: the report builds, has no link
annotation, and shows the names as typed.
"""

from __future__ import annotations

import re

from pypdf import PdfReader

from scoring_bridge.report import write_codebook_pdf, write_report_pdf
from scoring_bridge.scoring import score

HOSTILE = {
    "U1": '<a href="javascript:app.alert(1)">Bấm vào</a> UBND phường Một',
    "U2": "<b>UBND xã Hai không đóng thẻ",
    "U3": '<link href="javascript:app.alert(2)">x</link> & <font name="nope">Ba</font>',
    "U4": "Sở $\\frac{1}{0}$ và $ lẻ",
}


def _annotations(reader: PdfReader) -> list:
    found = []
    for page in reader.pages:
        for annotation in page.get("/Annots") or []:
            found.append(annotation.get_object())
    return found


def _flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_unit_and_campaign_names_are_text_not_markup(citizen_spec, citizen_responses, tmp_path):
    result = score(citizen_responses, citizen_spec, "brvt-2024", min_n=10)
    result.settings["campaign_name"] = "<i>Đợt khảo sát <b>2024"
    path = tmp_path / "report.pdf"
    write_report_pdf(result, path, unit_names=HOSTILE)
    reader = PdfReader(path)
    assert not _annotations(reader), "a name planted a link"
    text = _flat("".join(page.extract_text() for page in reader.pages))
    for name in [*HOSTILE.values(), "<i>Đợt khảo sát <b>2024"]:
        assert _flat(name) in text, name
    raw = path.read_bytes()
    assert b"/URI" not in raw and b"/JavaScript" not in raw and b"/JS" not in raw


def test_codebook_labels_are_text(citizen_spec, tmp_path):
    import pandas as pd

    codebook = pd.DataFrame(
        [
            {
                "variable": "k2<b>",
                "label_vi": '<a href="javascript:x">Ý kiến</a>',
                "type": "text",
                "element": "",
                "values": "1 = <unclosed",
                "missing_codes": "",
                "answered": 3,
            }
        ]
    )
    path = tmp_path / "codebook.pdf"
    write_codebook_pdf(codebook, citizen_spec, path)
    reader = PdfReader(path)
    assert not _annotations(reader)
    assert _flat("1 = <unclosed") in _flat(reader.pages[0].extract_text())
