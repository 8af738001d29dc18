"""Respondent groups named in a list's «Đối tượng» (group) column (the words units write;
the groups' display names are questionnaires.groups.GROUP_NAMES).

Units write the group in their own words ("Tổ chức", "Doanh nghiệp", "Cán bộ, công
chức"), rarely the campaign's code ("organisation"). This is the one table of those
words; a cell is compared case-, diacritics- and spacing-insensitively (NFC or NFD).
"""

from __future__ import annotations

from collections.abc import Iterable

from sampling.columns import fold_header

#: The group codes of the built-in questionnaires and the words units use for them.
GROUP_ALIASES: dict[str, tuple[str, ...]] = {
    "citizen": ("citizen", "Cá nhân", "Người dân", "Công dân"),
    "organisation": (
        "organisation", "organization", "Tổ chức", "Doanh nghiệp", "Cơ quan, tổ chức",
        "Tổ chức, doanh nghiệp",
    ),
    "official": (
        "official", "Cán bộ", "Công chức", "Cán bộ, công chức", "Viên chức", "Lãnh đạo",
        "Công chức, viên chức", "Cán bộ, công chức, viên chức",
    ),
}  # fmt: skip

#: The group of a row whose group cell is empty, by list kind.
DEFAULT_GROUP = {"citizens": "citizen", "officials": "official"}

_GROUP_OF_NAME = {
    fold_header(name): code for code, names in GROUP_ALIASES.items() for name in names
}


def group_code(text: object, groups: Iterable[str]) -> str | None:
    """The campaign group a group cell names, or None when it names none of ``groups``.

    A cell matches a group by its code ("organisation") or, for the built-in codes, by one
    of the words in :data:`GROUP_ALIASES` ("Doanh nghiệp").
    """
    key = fold_header(text)
    by_code = {fold_header(group): group for group in groups}
    if key in by_code:
        return by_code[key]
    return by_code.get(fold_header(_GROUP_OF_NAME.get(key, "")))
