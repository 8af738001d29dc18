from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    FloatField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    Length,
    NumberRange,
    Optional,
    StopValidation,
    ValidationError,
)

import sampling
from sampling.inputs import DESIGN_DEFAULTS, parse_reserve, parse_sd_table
from surveyapp.core.fields import DayField
from surveyapp.draws.operations import DrawParams
from surveyapp.i18n import lt

DEFAULTS = DrawParams()  # the command line's defaults too (sampling.inputs.DESIGN_DEFAULTS)


def _required_for(modes, message):
    """Required under some size modes, optional otherwise (wtforms' Optional() would clear
    the error, so this validator stops the chain itself)."""

    def check(form, field):
        typed = field.raw_data and str(field.raw_data[0]).strip()
        if field.data is None and not typed:
            field.errors[:] = []  # an empty box is not "not a valid number"
            raise StopValidation(message if form.size_mode.data in modes else None)

    return check


class DesignForm(FlaskForm):
    subgroup = BooleanField("subgroup")
    field = BooleanField("field")
    size_mode = RadioField(
        "size_mode",
        choices=[
            SelectChoice("fixed", lt("Cỡ mẫu cố định mỗi tầng", "Fixed size per stratum")),
            SelectChoice(
                "total", lt("Tổng cỡ mẫu, phân bổ cho các tầng", "Total size, allocated to strata")
            ),
            SelectChoice("margin", lt("Theo sai số cho phép", "From a margin of error")),
        ],
        default=DEFAULTS.size_mode,
    )
    n = IntegerField(
        "n",
        validators=[
            _required_for(("fixed", "total"), lt("Nhập cỡ mẫu", "Enter the sample size")),
            NumberRange(min=1, message=lt("Cỡ mẫu ít nhất là 1", "The size must be at least 1")),
        ],
    )
    margin = FloatField(
        "margin",
        validators=[
            _required_for(("margin",), lt("Nhập sai số (%)", "Enter the margin (%)")),
            NumberRange(min=0.5, max=30, message=lt("Sai số từ 0,5 đến 30%", "Margin 0.5 to 30%")),
        ],
    )
    confidence = SelectField(
        "confidence",
        choices=[
            SelectChoice("0.9", "90%"),
            SelectChoice("0.95", "95%"),
            SelectChoice("0.99", "99%"),
        ],
        default=str(DEFAULTS.confidence),
    )
    rule = SelectField(
        "rule",
        choices=[
            SelectChoice("yamane", lt("Yamane n = N / (1 + N·e²) (hướng dẫn của Bộ)", "Yamane n = N / (1 + N·e²)")),
            SelectChoice("cochran", lt("Cochran (có hiệu chỉnh quần thể hữu hạn)", "Cochran (finite population)")),
        ],
        default=DEFAULTS.rule,
    )  # fmt: skip
    per_stratum = BooleanField("per_stratum", default=DEFAULTS.per_stratum)
    response_rate = FloatField(
        "response_rate",
        validators=[
            Optional(),
            NumberRange(min=1, max=100, message=lt("Từ 1 đến 100%", "1 to 100%")),
        ],
    )
    allocation = SelectField(
        "allocation",
        choices=[
            SelectChoice("proportional", lt("Tỷ lệ với quy mô tầng", "Proportional")),
            SelectChoice("equal", lt("Bằng nhau", "Equal")),
            SelectChoice(
                "neyman", lt("Neyman (cần độ lệch chuẩn)", "Neyman (needs standard deviations)")
            ),
        ],
        default=DEFAULTS.allocation,
    )
    sd = TextAreaField("sd")
    min_per_stratum = IntegerField(
        "min_per_stratum",
        default=DEFAULTS.min_per_stratum,
        validators=[Optional(), NumberRange(min=0)],
    )
    max_per_stratum = IntegerField("max_per_stratum", validators=[Optional(), NumberRange(min=1)])
    min_per_domain = IntegerField(
        "min_per_domain",
        default=DEFAULTS.min_per_domain,
        validators=[Optional(), NumberRange(min=0)],
    )
    reserve = StringField("reserve", default=DESIGN_DEFAULTS["reserve"])
    seed = IntegerField(
        "seed",
        validators=[
            Optional(),
            NumberRange(min=0, message=lt("Số nguyên không âm", "A non-negative integer")),
        ],
    )

    def validate_max_per_stratum(self, field):
        if field.data is not None and field.data < (self.min_per_stratum.data or 0):
            raise ValidationError(lt("Nhỏ hơn số tối thiểu", "Below the minimum"))

    def validate_reserve(self, field):
        self.reserve_value = _parsed(parse_reserve, field.data)

    def validate_sd(self, field):
        self.sd_values = _parsed(parse_sd_table, field.data)
        if self.allocation.data == "neyman" and not self.sd_values:
            raise ValidationError(
                lt("Phân bổ Neyman cần độ lệch chuẩn từng tầng", "Neyman needs each stratum's SD")
            )

    def params(self) -> DrawParams:
        extra = tuple(name for name in ("subgroup", "field") if getattr(self, name).data)
        return DrawParams(
            extra_strata=extra,
            size_mode=self.size_mode.data,
            n=self.n.data,
            margin=self.margin.data / 100 if self.margin.data else None,
            confidence=float(self.confidence.data),
            rule=self.rule.data,
            per_stratum=bool(self.per_stratum.data),
            response_rate=self.response_rate.data / 100 if self.response_rate.data else None,
            allocation=self.allocation.data,
            sd=self.sd_values or None,
            min_per_stratum=self.min_per_stratum.data or 0,
            max_per_stratum=self.max_per_stratum.data,
            min_per_domain=(
                DEFAULTS.min_per_domain
                if self.min_per_domain.data is None
                else self.min_per_domain.data
            ),
            reserve=self.reserve_value,
            seed=self.seed.data,
        )

    def fill(self, params: DrawParams) -> None:
        """Show a stored draw's parameters."""
        self.subgroup.data = "subgroup" in params.extra_strata
        self.field.data = "field" in params.extra_strata
        self.size_mode.data = params.size_mode
        self.n.data = params.n
        self.margin.data = round(params.margin * 100, 4) if params.margin else None
        self.confidence.data = str(params.confidence)
        self.rule.data = params.rule
        self.per_stratum.data = params.per_stratum
        self.response_rate.data = (
            round(params.response_rate * 100, 4) if params.response_rate else None
        )
        self.allocation.data = params.allocation
        self.sd.data = "\n".join(f"{k},{v}" for k, v in (params.sd or {}).items())
        self.min_per_stratum.data = params.min_per_stratum
        self.max_per_stratum.data = params.max_per_stratum
        self.min_per_domain.data = params.min_per_domain
        self.reserve.data = str(params.reserve)


def _parsed(parse, text):
    """A value from the parser the command line uses too; its message on the field."""
    try:
        return parse(text)
    except sampling.SamplingError as error:
        raise ValidationError(lt(error.message_vi, error.message_en)) from None


class CommitForm(FlaskForm):
    """The future public random value a commitment names (with the design form)."""

    value_source = StringField(
        "value_source",
        validators=[
            DataRequired(
                lt(
                    "Ghi nguồn giá trị ngẫu nhiên công khai (ví dụ: giải đặc biệt xổ số kiến "
                    "thiết mở thưởng ngày …)",
                    "Say which public random value (e.g. the special prize of the lottery "
                    "drawn on …)",
                )
            ),
            Length(max=300),
        ],
    )
    value_date = DayField(
        "value_date",
        validators=[
            DataRequired(lt("Nhập ngày công bố giá trị", "Enter the day the value is published"))
        ],
    )


class PublicValueForm(FlaskForm):
    value = StringField(
        "value",
        validators=[
            DataRequired(lt("Nhập giá trị đã công bố", "Enter the value as published")),
            Length(max=200),
        ],
    )


class LockForm(FlaskForm):
    # Locking cannot be undone: the administrator ticks this first.
    confirm_lock = BooleanField("confirm_lock")
