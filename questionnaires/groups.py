"""Names of the usual respondent groups, the one table every page, letter and report uses.

Groups are codes a campaign chooses; these usual ones are shown by name (others,
campaign-specific, are shown as their code). ``+`` joins groups pooled in one figure.
"""

GROUP_NAMES = {
    "citizen": ("Người dân", "Citizens"),
    "organisation": ("Tổ chức", "Organisations"),
    "official": ("Cán bộ, công chức, viên chức", "Officials"),
}


def group_name(code: str | None, lang: str = "vi") -> str:
    """A respondent group's name (``lang`` "vi" or "en"), or its code when unusual."""
    if not code:
        return "—"
    if "+" in code:
        return " + ".join(group_name(part, lang) for part in code.split("+"))
    names = GROUP_NAMES.get(code)
    if names is None:
        return code
    return names[1] if lang == "en" else names[0]
