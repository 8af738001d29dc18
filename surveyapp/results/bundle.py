"""A contractor's results bundle: export from one instance, import into another.

Contents of ``BUNDLE.zip`` (every file but the manifest is listed in it with its size and
SHA-256):

=================================  ==========================================================
``manifest.json``                  format, campaign, counts, and ``files`` (path, size, sha256)
``campaign.json``                  code, name, status, period, instruments (group →
                                   questionnaire id and version)
``questionnaires.json``            id, version, titles and export variables of each
``units.csv``                      code, name, level_label, parent_code, rated (1/0) of
                                   the rated units and their ancestors, parents first
``responses.jsonl``                one JSON object per response: ``id`` (the response's random
                                   UUID, not linkable to a person), questionnaire id/version,
                                   unit code, group, stratum, ``weight`` (final: after the
                                   nonresponse adjustment), ``design_weight``, mode,
                                   is_probability, submitted_week (a Monday), answers
                                   (free text scrubbed of phones, e-mails, ID numbers and
                                   the campaign's names, dossier codes and addresses)
``microdata/<questionnaire>/``     ``microdata.csv``, ``.xlsx``, ``.sav`` (variable and value
                                   labels; design columns and jackknife replicate weights
                                   for the latest draw's design), ``codebook.xlsx``,
                                   ``codebook.pdf`` (:func:`scoring_bridge.write_microdata`)
=================================  ==========================================================

Import (:func:`import_bundle`) checks the archive before reading any of it (no absolute
paths, no ``..``, no links, declared sizes within limits, compression ratio), then every
file's size and SHA-256 against the manifest; any mismatch stops it before anything is
written. Missing units are created (by code) and a missing campaign is created closed,
with the bundle's instruments; an existing campaign must use the same questionnaire per
group. Responses are inserted by their UUID: a response already present is skipped, so
importing the same bundle again changes nothing. It all happens in the caller's
transaction (all or nothing).

The checksums detect damage and accidental edits, not a deliberate forgery (whoever can
change a file can rewrite the manifest); move bundles over an authenticated channel.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import stat
import tempfile
import uuid
import zipfile
import zlib
from collections import Counter
from dataclasses import dataclass
from datetime import date
from pathlib import Path, PurePosixPath
from typing import Any

import sqlalchemy as sa

from scoring_bridge import prepare_responses, spec_from_questionnaire
from scoring_bridge.microdata import write_microdata
from surveyapp.csvsafe import restore, write_csv
from surveyapp.db import utcnow
from surveyapp.extensions import db
from surveyapp.models.campaigns import Campaign, CampaignInstrument, CampaignStatus
from surveyapp.models.responses import Response, ResponseMode
from surveyapp.models.units import Unit
from surveyapp.responses.scrub import campaign_scrubber
from surveyapp.results.operations import (
    ResultsError,
    iter_chunks,
    load_questionnaire,
    population_for,
    scoring_inputs,
)
from surveyapp.units.importer import (
    MAX_CODE_LENGTH,
    MAX_LEVEL_LENGTH,
    MAX_NAME_LENGTH,
    clean,
    text_problem,
)

FORMAT = "surveyapp.results-bundle/1"
MANIFEST = "manifest.json"
MAX_MEMBERS = 200
MAX_MEMBER_BYTES = 256 * 1024 * 1024
MAX_TOTAL_BYTES = 1024 * 1024 * 1024
MAX_RATIO = 200  # uncompressed / compressed; text compresses ~5-20x, bombs ~1000x
MAX_MANIFEST_BYTES = 1024 * 1024
UNIT_COLUMNS = ("code", "name", "level_label", "parent_code", "rated")
# The registry's own limits: names and codes are checked as the units import checks them.
UNIT_LIMITS = {
    "code": MAX_CODE_LENGTH,
    "name": MAX_NAME_LENGTH,
    "level_label": MAX_LEVEL_LENGTH,
    "parent_code": MAX_CODE_LENGTH,
}
RESPONSE_KEYS = (
    "id",
    "questionnaire_id",
    "questionnaire_version",
    "unit",
    "group",
    "stratum",
    "weight",
    "design_weight",
    "mode",
    "is_probability",
    "submitted_week",
    "answers",
)


# What reading a damaged or odd archive raises: bad CRC, inflate errors, truncation,
# unsupported compression, encrypted members.
_DAMAGED = (
    zipfile.BadZipFile,
    zlib.error,
    OSError,
    EOFError,
    ValueError,
    NotImplementedError,
    RuntimeError,
)


class BundleError(ResultsError):
    """A bundle that cannot be written or read; nothing was imported."""


# --- export ----------------------------------------------------------------------------------------


def export_bundle(campaign: Campaign, out_path: str | Path) -> dict[str, Any]:
    """Write the campaign's bundle to ``out_path`` (atomically); return the manifest."""

    inputs = scoring_inputs(campaign)
    out_path = Path(out_path)
    with tempfile.TemporaryDirectory(prefix="bundle-") as tmp:
        root = Path(tmp)
        questionnaires_meta, counts = [], {}
        for questionnaire_id, frame in inputs.frames.items():
            version = inputs.versions[questionnaire_id]
            questionnaire = load_questionnaire(questionnaire_id, version)
            spec = spec_from_questionnaire(questionnaire)
            folder = root / "microdata" / questionnaire_id
            folder.mkdir(parents=True)
            design = {
                "selection": inputs.selection,
                "population": population_for(frame, inputs.stratum_population),
            }
            write_microdata(prepare_responses(frame, spec), spec, folder, design)
            questionnaires_meta.append(_questionnaire_meta(questionnaire))
            counts[questionnaire_id] = len(frame)
        final_weights = {
            rid: w
            for frame in inputs.frames.values()
            for rid, w in zip(frame["response_id"], frame["weight"], strict=True)
        }
        text_codes = {q["id"]: set(q["text_variables"]) for q in questionnaires_meta}
        scrubber = campaign_scrubber(campaign.id)
        records, unit_ids = _response_records(campaign, final_weights, text_codes, scrubber)
        with open(root / "responses.jsonl", "w", encoding="utf-8", newline="\n") as out:
            for record in records:
                out.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")
        _write_units(root / "units.csv", unit_ids)
        _write_json(root / "campaign.json", _campaign_meta(campaign))
        _write_json(root / "questionnaires.json", questionnaires_meta)
        files = sorted(p for p in root.rglob("*") if p.is_file())
        manifest = {
            "format": FORMAT,
            "created_at": utcnow().isoformat(timespec="seconds") + "Z",
            "campaign": campaign.code,
            "counts": {
                "responses": len(records),
                "walk_in": sum(1 for r in records if not r["is_probability"]),
                "units": len(unit_ids),
                "by_questionnaire": counts,
            },
            "weights": "nonresponse-adjusted within stratum x rated unit",
            "files": [
                {
                    "path": p.relative_to(root).as_posix(),
                    "size": p.stat().st_size,
                    "sha256": _sha256_file(p),
                }
                for p in files
            ],
        }
        _write_json(root / MANIFEST, manifest)
        out_path.parent.mkdir(parents=True, exist_ok=True)
        partial = out_path.with_name(f".{out_path.name}.partial")
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.write(root / MANIFEST, MANIFEST)
            for path in files:
                archive.write(path, path.relative_to(root).as_posix())
        partial.replace(out_path)
    return manifest


def _response_records(campaign, final_weights, text_codes, scrub_text):
    rows = db.session.execute(
        sa.select(Response, Unit.code)
        .join(Unit, Unit.id == Response.rated_unit_id)
        .where(Response.campaign_id == campaign.id)
        .order_by(Response.id)
    ).all()
    records, unit_ids = [], set()
    for response, unit_code in rows:
        unit_ids.add(response.rated_unit_id)
        texts = text_codes.get(response.questionnaire_id, set())
        answers = {
            code: scrub_text(value) if code in texts and isinstance(value, str) else value
            for code, value in (response.answers or {}).items()
        }
        records.append(
            {
                "id": str(response.id),
                "questionnaire_id": response.questionnaire_id,
                "questionnaire_version": response.questionnaire_version,
                "unit": unit_code,
                "group": response.respondent_group,
                "stratum": response.stratum,
                "weight": final_weights.get(str(response.id)) if response.weight else None,
                "design_weight": response.weight,
                "mode": ResponseMode(response.mode).value,
                "is_probability": bool(response.is_probability),
                "submitted_week": response.submitted_week.isoformat(),
                "answers": answers,
            }
        )
    return records, unit_ids


def _questionnaire_meta(questionnaire) -> dict[str, Any]:
    variables = questionnaire.variables()
    return {
        "id": questionnaire.id,
        "version": str(questionnaire.version),
        "title_vi": questionnaire.title.get("vi"),
        "title_en": questionnaire.title.get("en"),
        "variables": [v.name for v in variables],
        "text_variables": [
            q.code for q in questionnaire.questions() if str(q.type.value) == "text"
        ],
    }


def _campaign_meta(campaign: Campaign) -> dict[str, Any]:
    return {
        "code": campaign.code,
        "name": campaign.name,
        "status": campaign.status.value,
        "period_start": campaign.period_start.isoformat() if campaign.period_start else None,
        "period_end": campaign.period_end.isoformat() if campaign.period_end else None,
        "instruments": [
            {
                "respondent_group": i.respondent_group,
                "questionnaire_id": i.questionnaire_id,
                "questionnaire_version": i.questionnaire_version,
            }
            for i in campaign.instruments
        ],
    }


def _write_units(path: Path, unit_ids: set[int]) -> None:
    """The rated units and their ancestors (``rated`` 0), every parent before its children."""
    units = {u.id: u for u in db.session.scalars(sa.select(Unit))}
    depth_of = {}
    for unit_id in unit_ids:
        chain, current = [], units.get(unit_id)
        while current is not None and current.id not in chain:
            chain.append(current.id)
            current = units.get(current.parent_id)
        for depth, ancestor in enumerate(reversed(chain)):
            depth_of[ancestor] = max(depth_of.get(ancestor, 0), depth)
    ordered = sorted(depth_of, key=lambda i: (depth_of[i], units[i].code))
    rows = []
    for unit_id in ordered:
        unit = units[unit_id]
        parent = units.get(unit.parent_id)
        code = parent.code if parent is not None else ""
        rows.append([unit.code, unit.name, unit.level_label, code, int(unit_id in unit_ids)])
    # Spreadsheet-safe (a name like =HYPERLINK(...) gets its quote); the import restores it.
    path.write_text(write_csv(rows, UNIT_COLUMNS), encoding="utf-8", newline="")


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True), "utf-8")


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as source:
        for block in iter(lambda: source.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# --- import ----------------------------------------------------------------------------------------


@dataclass
class ImportResult:
    campaign_code: str
    inserted: int
    skipped: int
    units_created: int
    campaign_created: bool


def import_bundle(source: str | Path | bytes, *, campaign_code: str | None = None) -> ImportResult:
    """Verify and load a bundle into the current session (the caller commits)."""
    data = source if isinstance(source, bytes) else _read_archive_file(Path(source))
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except _DAMAGED as exc:
        raise BundleError(
            "Tệp không phải gói kết quả .zip hợp lệ.", "The file is not a valid .zip bundle."
        ) from exc
    with archive:
        contents = _verified_contents(archive)
    campaign_meta = _json(contents, "campaign.json")
    units = _units(contents["units.csv"])
    records = _records(contents["responses.jsonl"], {u["code"] for u in units})
    return _load(campaign_meta, units, records, campaign_code)


def _read_archive_file(path: Path) -> bytes:
    if not path.is_file():
        raise BundleError(f"Không tìm thấy tệp {path}.", f"File {path} not found.")
    if path.stat().st_size > MAX_TOTAL_BYTES:
        raise BundleError(
            f"Gói {path.name} lớn quá giới hạn {MAX_TOTAL_BYTES // 2**20} MB.",
            f"Bundle {path.name} exceeds the {MAX_TOTAL_BYTES // 2**20} MB limit.",
        )
    return path.read_bytes()


def _check_member(info: zipfile.ZipInfo) -> None:
    name = info.filename
    path = PurePosixPath(name)
    bad = (
        not name
        or name.startswith(("/", "\\"))
        or "\\" in name
        or ":" in name
        or ".." in path.parts
        or path.is_absolute()
        or "\x00" in name
    )
    if bad:
        raise BundleError(
            f"Gói có đường dẫn không an toàn: {name!r} (đường dẫn tuyệt đối hoặc '..').",
            f"The bundle has an unsafe path: {name!r} (absolute path or '..').",
        )
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        raise BundleError(
            f"Gói chứa liên kết tượng trưng: {name!r}.",
            f"The bundle holds a symbolic link: {name!r}.",
        )
    if info.file_size > MAX_MEMBER_BYTES or (
        info.compress_size and info.file_size / info.compress_size > MAX_RATIO
    ):
        raise BundleError(
            f"Tệp {name!r} trong gói quá lớn hoặc nén bất thường (nghi zip bomb).",
            f"File {name!r} in the bundle is too large or abnormally compressed (zip bomb?).",
        )


def _verified_contents(archive: zipfile.ZipFile) -> dict[str, bytes]:
    infos = archive.infolist()
    if len(infos) > MAX_MEMBERS:
        raise BundleError(
            f"Gói có quá nhiều tệp ({len(infos)}).",
            f"The bundle has too many files ({len(infos)}).",
        )
    for info in infos:
        _check_member(info)
    names = [i.filename for i in infos if not i.is_dir()]
    duplicated = [n for n, c in Counter(names).items() if c > 1]
    if duplicated:
        raise BundleError(
            f"Gói có tệp trùng tên: {duplicated[0]!r}.",
            f"Duplicate file in bundle: {duplicated[0]!r}.",
        )
    if sum(i.file_size for i in infos) > MAX_TOTAL_BYTES:
        raise BundleError(
            "Tổng dung lượng giải nén của gói vượt giới hạn.",
            "The bundle's uncompressed size exceeds the limit.",
        )
    by_name = {i.filename: i for i in infos if not i.is_dir()}
    if MANIFEST not in by_name:
        raise BundleError("Gói thiếu manifest.json.", "The bundle has no manifest.json.")
    manifest = _parse_manifest(_read_member(archive, by_name[MANIFEST], MAX_MANIFEST_BYTES))
    listed = {entry["path"]: entry for entry in manifest["files"]}
    extra = sorted(set(by_name) - set(listed) - {MANIFEST})
    missing = sorted(set(listed) - set(by_name))
    if extra or missing:
        raise BundleError(
            f"Gói không khớp manifest: thừa {extra[:3]}, thiếu {missing[:3]}.",
            f"The bundle does not match its manifest: extra {extra[:3]}, missing {missing[:3]}.",
        )
    contents = {}
    for name, entry in listed.items():
        info = by_name[name]
        if info.file_size != entry["size"]:
            raise _mismatch(name, "kích thước", "size")
        content = _read_member(archive, info, entry["size"])
        if len(content) != entry["size"]:
            raise _mismatch(name, "kích thước", "size")
        if hashlib.sha256(content).hexdigest() != entry["sha256"]:
            raise _mismatch(name, "mã kiểm tra SHA-256", "SHA-256 checksum")
        contents[name] = content
    for required in ("campaign.json", "units.csv", "responses.jsonl"):
        if required not in contents:
            raise BundleError(f"Gói thiếu {required}.", f"The bundle lacks {required}.")
    return contents


def _mismatch(name: str, what_vi: str, what_en: str) -> BundleError:
    return BundleError(
        f"Tệp {name} trong gói sai {what_vi} so với manifest: gói bị hỏng hoặc bị sửa. "
        "Không nhập gì cả.",
        f"File {name} in the bundle has the wrong {what_en} for its manifest: the bundle is "
        "damaged or was altered. Nothing was imported.",
    )


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes:
    """Read at most ``limit + 1`` bytes (the declared size cannot be trusted alone)."""
    try:
        with archive.open(info) as member:
            content = member.read(limit + 1)
    except _DAMAGED as exc:
        raise BundleError(
            f"Không đọc được {info.filename} trong gói (tệp hỏng): {exc}.",
            f"Cannot read {info.filename} in the bundle (damaged): {exc}.",
        ) from exc
    if len(content) > limit:
        raise _mismatch(info.filename, "kích thước", "size")
    return content


def _parse_manifest(content: bytes) -> dict[str, Any]:
    try:
        manifest = json.loads(content.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BundleError(
            f"manifest.json không đọc được: {exc}.", f"manifest.json is unreadable: {exc}."
        ) from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BundleError(
            f"Định dạng gói không được hỗ trợ (cần {FORMAT}).",
            f"Unsupported bundle format (expected {FORMAT}).",
        )
    files = manifest.get("files")
    valid = isinstance(files, list) and all(
        isinstance(f, dict)
        and isinstance(f.get("path"), str)
        and isinstance(f.get("size"), int)
        and 0 <= f["size"] <= MAX_MEMBER_BYTES
        and isinstance(f.get("sha256"), str)
        for f in files
    )
    if not valid:
        raise BundleError(
            "manifest.json thiếu danh sách tệp hợp lệ (path, size, sha256).",
            "manifest.json lacks a valid file list (path, size, sha256).",
        )
    return manifest


def _json(contents: dict[str, bytes], name: str) -> Any:
    try:
        return json.loads(contents[name].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BundleError(
            f"{name} không đọc được: {exc}.", f"{name} is unreadable: {exc}."
        ) from exc


def _units(content: bytes) -> list[dict[str, str]]:
    reader = csv.DictReader(io.StringIO(content.decode("utf-8-sig")))
    if not reader.fieldnames or set(UNIT_COLUMNS) - set(reader.fieldnames):
        raise BundleError(
            f"units.csv cần các cột {', '.join(UNIT_COLUMNS)}.",
            f"units.csv needs the columns {', '.join(UNIT_COLUMNS)}.",
        )
    units, problems = [], []
    for number, row in enumerate(reader, start=2):
        unit = {c: clean(restore((row[c] or "").strip())) for c in UNIT_COLUMNS}
        if not unit["code"]:
            problems.append((number, "code", ("thiếu mã đơn vị", "no code")))
        if not unit["name"]:
            unit["name"] = unit["code"]
        for column, limit in UNIT_LIMITS.items():
            problem = text_problem(unit[column], limit)
            if problem:
                problems.append((number, column, problem))
        units.append(unit)
    if problems:
        raise BundleError(
            "units.csv: "
            + "; ".join(f"dòng {n}, cột {c}: {vi}" for n, c, (vi, _) in problems[:20]),
            "units.csv: "
            + "; ".join(f"row {n}, column {c}: {en}" for n, c, (_, en) in problems[:20]),
        )
    return units


def _records(content: bytes, unit_codes: set[str]) -> list[dict[str, Any]]:
    """The bundle's responses, or a BundleError naming every bad line at once."""
    records, problems = [], []
    for number, line in enumerate(content.decode("utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            _check_record(record, unit_codes)
        except (json.JSONDecodeError, ValueError, TypeError, KeyError) as exc:
            problems.append((number, exc))
            continue
        records.append(record)
    ids = Counter(r["id"] for r in records)
    repeated = [i for i, c in ids.items() if c > 1]
    if problems or repeated:
        lines_vi = [f"dòng {number}: {exc}" for number, exc in problems]
        lines_en = [f"line {number}: {exc}" for number, exc in problems]
        if repeated:
            lines_vi.append(f"mã phiếu trùng: {', '.join(repeated)}")
            lines_en.append(f"repeated response ids: {', '.join(repeated)}")
        raise BundleError(
            f"responses.jsonl có {len(lines_vi)} lỗi, không nhập gì:\n  " + "\n  ".join(lines_vi),
            f"responses.jsonl has {len(lines_en)} problem(s), nothing imported:\n  "
            + "\n  ".join(lines_en),
        )
    return records


def _check_record(record: Any, unit_codes: set[str]) -> None:
    if not isinstance(record, dict) or set(RESPONSE_KEYS) - set(record):
        raise ValueError(f"cần các khoá / needs the keys {', '.join(RESPONSE_KEYS)}")
    record["id"] = str(uuid.UUID(str(record["id"])))
    mode = ResponseMode(record["mode"])
    if record["unit"] not in unit_codes:
        raise ValueError(
            f"đơn vị không có trong units.csv / unit not in units.csv: {record['unit']}"
        )
    if not isinstance(record["is_probability"], bool) or not isinstance(record["answers"], dict):
        raise ValueError("is_probability phải đúng/sai, answers phải là đối tượng / bad types")
    weight = record["weight"]
    if weight is not None and (not isinstance(weight, (int, float)) or not weight > 0):
        raise ValueError(f"trọng số không hợp lệ / invalid weight: {weight!r}")
    if mode is ResponseMode.WALKIN and (record["is_probability"] or weight is not None):
        raise ValueError("phiếu tại quầy không có trọng số / a walk-in has no weight")
    if record["is_probability"] and weight is None:
        raise ValueError("phiếu mẫu xác suất cần trọng số / a probability response needs a weight")
    date.fromisoformat(record["submitted_week"])


def _load(campaign_meta, units, records, campaign_code) -> ImportResult:
    code = campaign_code or campaign_meta.get("code")
    if not code:
        raise BundleError("campaign.json thiếu mã đợt.", "campaign.json has no campaign code.")
    for record in records:
        load_questionnaire(record["questionnaire_id"], str(record["questionnaire_version"]))
    unit_ids, created_units = _ensure_units(units)
    campaign, created = _ensure_campaign(code, campaign_meta)
    ids = [uuid.UUID(r["id"]) for r in records]
    existing: dict[uuid.UUID, int] = {}
    for chunk in iter_chunks(ids):
        existing.update(
            db.session.execute(
                sa.select(Response.id, Response.campaign_id).where(Response.id.in_(chunk))
            ).all()
        )
    elsewhere = [str(i) for i, c in existing.items() if c != campaign.id]
    if elsewhere:
        raise BundleError(
            f"Phiếu {elsewhere[0]} đã có trong một đợt khảo sát khác; không nhập.",
            f"Response {elsewhere[0]} already belongs to another campaign; nothing imported.",
        )
    inserted = 0
    for record, response_id in zip(records, ids, strict=True):
        if response_id in existing:
            continue
        db.session.add(
            Response(
                id=response_id,
                campaign_id=campaign.id,
                questionnaire_id=record["questionnaire_id"],
                questionnaire_version=str(record["questionnaire_version"]),
                rated_unit_id=unit_ids[record["unit"]],
                respondent_group=record["group"],
                stratum=record["stratum"],
                weight=record["weight"],
                mode=ResponseMode(record["mode"]),
                is_probability=record["is_probability"],
                submitted_week=date.fromisoformat(record["submitted_week"]),
                answers=record["answers"],
            )
        )
        inserted += 1
    db.session.flush()
    return ImportResult(campaign.code, inserted, len(records) - inserted, created_units, created)


def _ensure_units(units: list[dict[str, str]]) -> tuple[dict[str, int], int]:
    codes = [u["code"] for u in units]
    parent_codes = [u["parent_code"] for u in units if u["parent_code"]]
    known = dict(
        db.session.execute(
            sa.select(Unit.code, Unit.id).where(Unit.code.in_(set(codes + parent_codes)))
        ).all()
    )
    created = 0
    for unit in units:
        if unit["code"] in known:
            continue
        row = Unit(
            code=unit["code"],
            name=unit["name"],
            level_label=unit["level_label"],
            parent_id=known.get(unit["parent_code"]),
        )
        db.session.add(row)
        db.session.flush()
        known[row.code] = row.id
        created += 1
    return {c: known[c] for c in codes}, created


def _ensure_campaign(code: str, meta: dict[str, Any]) -> tuple[Campaign, bool]:
    campaign = db.session.scalar(sa.select(Campaign).where(Campaign.code == code))
    created = campaign is None
    if created:
        campaign = Campaign(
            code=code,
            name=str(meta.get("name") or code),
            status=CampaignStatus.CLOSED,
            period_start=_date_or_none(meta.get("period_start")),
            period_end=_date_or_none(meta.get("period_end")),
        )
        db.session.add(campaign)
        db.session.flush()
    present = {
        i.respondent_group: i
        for i in db.session.scalars(
            sa.select(CampaignInstrument).where(CampaignInstrument.campaign_id == campaign.id)
        )
    }
    for item in meta.get("instruments") or []:
        group = item["respondent_group"]
        mine = present.get(group)
        if mine is None:
            db.session.add(
                CampaignInstrument(
                    campaign_id=campaign.id,
                    respondent_group=group,
                    questionnaire_id=item["questionnaire_id"],
                    questionnaire_version=str(item["questionnaire_version"]),
                )
            )
        elif (mine.questionnaire_id, mine.questionnaire_version) != (
            item["questionnaire_id"],
            str(item["questionnaire_version"]),
        ):
            raise BundleError(
                f"Đợt {code}: nhóm {group} dùng bảng hỏi {mine.questionnaire_id} "
                f"{mine.questionnaire_version}, gói dùng {item['questionnaire_id']} "
                f"{item['questionnaire_version']}.",
                f"Campaign {code}: group {group} uses {mine.questionnaire_id} "
                f"{mine.questionnaire_version}, the bundle {item['questionnaire_id']} "
                f"{item['questionnaire_version']}.",
            )
    db.session.flush()
    return campaign, created


def _date_or_none(value: Any) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except (TypeError, ValueError):
        return None
