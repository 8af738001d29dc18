from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, SelectField, StringField
from wtforms.validators import DataRequired, Length, ValidationError

from surveyapp.i18n import lt
from surveyapp.units.importer import MAX_CODE_LENGTH, MAX_LEVEL_LENGTH, MAX_NAME_LENGTH, clean


class UnitForm(FlaskForm):
    code = StringField(
        "code",
        filters=[clean],
        validators=[
            DataRequired(lt("Nhập mã đơn vị", "Enter the unit code")),
            Length(max=MAX_CODE_LENGTH),
        ],
    )
    name = StringField(
        "name",
        filters=[clean],
        validators=[
            DataRequired(lt("Nhập tên đơn vị", "Enter the unit name")),
            Length(max=MAX_NAME_LENGTH),
        ],
    )
    level_label = StringField(
        "level_label", filters=[clean], validators=[Length(max=MAX_LEVEL_LENGTH)]
    )
    parent_id = SelectField("parent_id", coerce=int, validate_choice=True)
    active = BooleanField("active", default=True)

    def validate_code(self, field):
        if any(c.isspace() for c in field.data or ""):
            raise ValidationError(
                lt("Mã không được chứa dấu cách", "The code cannot contain spaces")
            )


class ImportForm(FlaskForm):
    file = FileField("file", validators=[FileRequired(lt("Chọn tệp CSV", "Choose a CSV file"))])


class OfficialImportForm(FlaskForm):
    """A province from the official list; a departments CSV for the first import."""

    province = SelectField(
        "province", validators=[DataRequired(lt("Chọn tỉnh, thành phố", "Choose a province"))]
    )
    departments = FileField("departments")
