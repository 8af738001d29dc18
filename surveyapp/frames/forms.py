from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional

from surveyapp.core.fields import DayField
from surveyapp.i18n import lt


class UploadForm(FlaskForm):
    file = FileField(
        "file", validators=[FileRequired(lt("Chọn tệp danh sách", "Choose the list file"))]
    )


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
