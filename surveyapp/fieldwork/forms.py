from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DecimalField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from surveyapp.core.fields import MomentField
from surveyapp.fieldwork.dispositions import RECORDABLE, info
from surveyapp.i18n import label, lt, t
from surveyapp.models.respondents import ContactMode
from surveyapp.units.importer import clean


def in_range(low, high, vi: str, en: str):
    """NumberRange with a two-language message (NumberRange %-formats its message)."""

    def check(form, field):
        if field.data is not None and not low <= field.data <= high:
            raise ValidationError(t(vi, en))

    return check


def mode_choices() -> list[SelectChoice]:
    return [SelectChoice(m.value, label(m)) for m in ContactMode]


def disposition_choices() -> list[SelectChoice]:
    # An empty first choice: a hurried "Save" must not record a refusal by default.
    return [SelectChoice("", t("— Chọn kết quả —", "— Choose the result —"))] + [
        SelectChoice(d.value, f"{t(info(d).label_vi, info(d).label_en)} ({info(d).aapor_code})")
        for d in RECORDABLE
    ]


class AssignNextForm(FlaskForm):
    unit_id = SelectField("unit_id", coerce=int)
    stratum = SelectField("stratum", validate_choice=False)
    count = IntegerField(
        "count",
        validators=[
            InputRequired(lt("Nhập số người cần giao", "Enter how many to assign")),
            in_range(1, 10000, "Từ 1 đến 10000", "Between 1 and 10000"),
        ],
    )
    enumerator_id = SelectField("enumerator_id", coerce=int)


class AssignSelectedForm(FlaskForm):
    respondent_ids = SelectMultipleField(
        "respondent_ids",
        coerce=int,
        validate_choice=False,
        validators=[DataRequired(lt("Chọn ít nhất một người", "Select at least one person"))],
    )
    # 0 = take the assignment away.
    enumerator_id = SelectField("enumerator_id", coerce=int)


class AttemptForm(FlaskForm):
    mode = SelectField("mode")
    disposition = SelectField(
        "disposition",
        validators=[DataRequired(lt("Chọn kết quả lần liên hệ", "Choose the attempt's result"))],
    )
    attempted_at = MomentField("attempted_at", validators=[Optional()])
    note = TextAreaField("note", filters=[clean], validators=[Length(max=2000)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.mode.choices = mode_choices()
        self.disposition.choices = disposition_choices()


#: How an enumerator can hold an interview (the questionnaire is keyed in as it is asked).
INTERVIEW_MODES = (ContactMode.VISIT, ContactMode.PHONE)


class InterviewModeForm(FlaskForm):
    """The mode of an interview, sent with the questionnaire (whose form carries the CSRF
    token)."""

    class Meta:
        csrf = False

    mode = SelectField("mode")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.mode.choices = [SelectChoice(m.value, label(m)) for m in INTERVIEW_MODES]


class ReplaceForm(FlaskForm):
    # Releasing a reserve cannot be undone: the supervisor confirms on a page of its own.
    confirm_replace = BooleanField("confirm_replace")


class ShortCodeForm(FlaskForm):
    code = StringField(
        "code",
        filters=[clean],
        validators=[
            DataRequired(lt("Nhập mã in trên phiếu", "Enter the code printed on the form")),
            Length(max=32),
        ],
    )


class BackcheckForm(FlaskForm):
    percent = DecimalField(
        "percent",
        places=None,
        default=10,
        validators=[
            InputRequired(lt("Nhập tỷ lệ phúc tra (%)", "Enter the back-check share (%)")),
            in_range(1, 100, "Từ 1 đến 100", "Between 1 and 100"),
        ],
    )
    seed = IntegerField(
        "seed",
        validators=[
            Optional(),
            in_range(0, 2**63 - 1, "Số nguyên không âm", "A non-negative integer"),
        ],
    )


class PurgeForm(FlaskForm):
    confirm_code = StringField(
        "confirm_code",
        filters=[clean],
        validators=[DataRequired(lt("Gõ mã đợt để xác nhận", "Type the campaign code to confirm"))],
    )
