from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import SelectField
from wtforms.validators import DataRequired

from surveyapp.i18n import lt


class PairForm(FlaskForm):
    """An earlier registry and the current one."""

    old = SelectField(
        "old",
        coerce=int,
        validators=[DataRequired(lt("Chọn danh mục cũ", "Choose the earlier registry"))],
    )
    new = SelectField(
        "new",
        coerce=int,
        validators=[DataRequired(lt("Chọn danh mục mới", "Choose the current registry"))],
    )


class ImportForm(PairForm):
    file = FileField("file", validators=[FileRequired(lt("Chọn tệp CSV", "Choose a CSV file"))])
