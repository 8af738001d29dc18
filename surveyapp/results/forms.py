from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, IntegerField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import NumberRange, Optional

from surveyapp.i18n import lt

UPLOAD = "upload"
MAPPING_DEFAULT = ""  # the mapping's own choice
SINGLE_CHOICES = [
    SelectChoice(
        MAPPING_DEFAULT, lt("Theo ánh xạ (mặc định: gộp tầng)", "The mapping's (default: collapse)")
    ),
    SelectChoice(
        "collapse",
        lt("Gộp với tầng tương tự của cùng đơn vị", "Collapse with a similar stratum of the unit"),
    ),
    SelectChoice("adjust", lt("Điều chỉnh như R (adjust)", "R's adjust")),
    SelectChoice(
        "certainty", lt("Coi như chọn chắc chắn (không phương sai)", "Certainty (no variance)")
    ),
    SelectChoice("refuse", lt("Không chấp nhận (dừng và liệt kê)", "Refuse (stop and list them)")),
]
BASIS_CHOICES = [
    SelectChoice(
        MAPPING_DEFAULT, lt("Theo ánh xạ (mặc định: số phiếu)", "The mapping's (default: n)")
    ),
    SelectChoice("n", lt("Số phiếu hợp lệ n", "Valid answers n")),
    SelectChoice("n_eff", lt("Cỡ mẫu hiệu dụng Kish n_eff", "Kish's effective sample size n_eff")),
]


class RunForm(FlaskForm):
    """Settings of a scoring run; the mapping, previous-year and totals files are checked in
    routes."""

    mapping = SelectField("mapping", choices=[])
    mapping_file = FileField("mapping_file")
    min_n = IntegerField(
        "min_n",
        validators=[
            Optional(),
            NumberRange(min=1, message=lt("Số phiếu tối thiểu phải ≥ 1", "Minimum n must be ≥ 1")),
        ],
    )
    min_n_basis = SelectField("min_n_basis", choices=BASIS_CHOICES, default=MAPPING_DEFAULT)
    single_respondent_strata = SelectField(
        "single_respondent_strata", choices=SINGLE_CHOICES, default=MAPPING_DEFAULT
    )
    include_walkin = BooleanField("include_walkin")
    previous_file = FileField("previous_file")
    totals_file = FileField("totals_file")
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
