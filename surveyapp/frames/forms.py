from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import RadioField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional

from surveyapp.core.fields import DayField
from surveyapp.i18n import lt


class UploadForm(FlaskForm):
    file = FileField(
        "file", validators=[FileRequired(lt("Chọn tệp danh sách", "Choose the list file"))]
    )
    # Only asked when the unit already has a list; either way the user confirms next.
    mode = RadioField(
        "mode",
        choices=[
            SelectChoice(
                "replace",
                lt(
                    "Thay toàn bộ danh sách hiện tại bằng tệp này",
                    "Replace the whole current list by this file",
                ),
            ),
            SelectChoice(
                "add",
                lt(
                    "Thêm tệp này vào danh sách hiện tại (tệp thứ hai)",
                    "Add this file to the current list (a second file)",
                ),
            ),
        ],  # fmt: skip
        default="replace",
    )


class ConfirmForm(FlaskForm):
    """Confirm or cancel a waiting file, or a restore (CSRF only)."""


class CheckForm(FlaskForm):
    """Check a file without storing it and download its full error report."""

    file = FileField(
        "file", validators=[FileRequired(lt("Chọn tệp danh sách", "Choose the list file"))]
    )
    format = SelectField(
        "format", choices=[SelectChoice("xlsx", "Excel (.xlsx)"), SelectChoice("csv", "CSV")]
    )


class DueDateForm(FlaskForm):
    lists_due_on = DayField("lists_due_on", validators=[Optional()])
