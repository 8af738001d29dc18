from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, IntegerField, SelectField
from wtforms.validators import NumberRange, Optional

from surveyapp.i18n import lt

UPLOAD = "upload"


class RunForm(FlaskForm):
    """Settings of a scoring run; the mapping and previous-year files are checked in routes."""

    mapping = SelectField("mapping", choices=[])
    mapping_file = FileField("mapping_file")
    min_n = IntegerField(
        "min_n",
        validators=[
            Optional(),
            NumberRange(min=1, message=lt("Số phiếu tối thiểu phải ≥ 1", "Minimum n must be ≥ 1")),
        ],
    )
    include_walkin = BooleanField("include_walkin")
    previous_file = FileField("previous_file")
    k = IntegerField(
        "k",
        default=5,
        validators=[
            Optional(),
            NumberRange(
                min=2, message=lt("Ngưỡng ẩn ô phải ≥ 2", "The cell threshold must be ≥ 2")
            ),
        ],
    )


class BundleForm(FlaskForm):
    bundle = FileField("bundle")
    campaign_code = SelectField("campaign_code", choices=[], validate_choice=False)
