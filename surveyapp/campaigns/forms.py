from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, Regexp, ValidationError

from surveyapp.core.fields import DayField
from surveyapp.i18n import lt
from surveyapp.models.campaigns import GROUP_LABELS
from surveyapp.responses.operations import today
from surveyapp.units.importer import clean


class CampaignForm(FlaskForm):
    code = StringField(
        "code",
        filters=[clean],
        validators=[
            DataRequired(
                lt("Nhập mã đợt khảo sát (ví dụ 2024)", "Enter a campaign code (e.g. 2024)")
            ),
            Length(max=32),
            Regexp(
                r"^[A-Za-z0-9._-]+$",
                message=lt(
                    "Mã chỉ gồm chữ không dấu, số, dấu chấm, gạch ngang",
                    "Use only letters without accents, digits, dot, dash",
                ),
            ),
        ],
    )
    name = StringField(
        "name",
        filters=[clean],
        validators=[
            DataRequired(lt("Nhập tên đợt khảo sát", "Enter the campaign name")),
            Length(max=255),
        ],
    )
    period_start = DayField("period_start", validators=[Optional()])
    period_end = DayField("period_end", validators=[Optional()])
    token_expires_on = DayField("token_expires_on", validators=[Optional()])
    entry_deadline = DayField("entry_deadline", validators=[Optional()])
    previous_campaign_id = SelectField("previous_campaign_id", coerce=int, default=0)
    registry_id = SelectField("registry_id", coerce=int, default=0)
    comparison_rule = SelectField(
        "comparison_rule",
        choices=[
            SelectChoice("responses", lt("Bình quân theo số phiếu", "Weighted by responses")),
            SelectChoice("population", lt("Bình quân theo dân số", "Weighted by population")),
            SelectChoice("not_comparable", lt("Không so sánh", "Not comparable")),
        ],
        default="responses",
    )

    def validate_period_end(self, field):
        if field.data and self.period_start.data and field.data < self.period_start.data:
            raise ValidationError(
                lt("Ngày kết thúc phải sau ngày bắt đầu", "The end date must follow the start date")
            )

    def validate_entry_deadline(self, field):
        end = self.period_end.data
        if field.data and end and field.data < end:
            raise ValidationError(ENTRY_BEFORE_END)

    def validate_token_expires_on(self, field):
        if field.data and self.period_start.data and field.data < self.period_start.data:
            raise ValidationError(
                lt(
                    "Ngày hết hạn mã phải sau ngày bắt đầu khảo sát",
                    "Links must expire after the survey starts",
                )
            )


# Respondent groups are chosen from the known ones (labelled in the visitor's language), not
# typed: the lists' group column, letters and results name them by these codes.
GROUP_CHOICES = [SelectChoice(code, lt(*labels)) for code, labels in GROUP_LABELS.items()]
UNKNOWN_GROUP = lt(
    "Chọn một nhóm đối tượng trong danh sách", "Choose a respondent group from the list"
)


def _known_group(form, field) -> None:
    if field.data not in GROUP_LABELS:
        raise ValidationError(UNKNOWN_GROUP)


def group_field() -> SelectField:
    # validate_choice off: _known_group says it in both languages.
    return SelectField(
        "respondent_group", choices=GROUP_CHOICES, validate_choice=False, validators=[_known_group]
    )


class InstrumentForm(FlaskForm):
    respondent_group = group_field()
    questionnaire = SelectField(
        "questionnaire",
        validators=[DataRequired(lt("Chọn bảng hỏi", "Choose a questionnaire"))],
    )


class RatingTargetForm(FlaskForm):
    respondent_group = group_field()
    source_unit_id = SelectField("source_unit_id", coerce=int)
    rated_unit_id = SelectField("rated_unit_id", coerce=int)

    def validate_rated_unit_id(self, field):
        if field.data == self.source_unit_id.data:
            raise ValidationError(
                lt(
                    "Đơn vị được đánh giá trùng đơn vị nguồn (mặc định đã như vậy)",
                    "The rated unit is the source unit (that is already the default)",
                )
            )


ENTRY_BEFORE_END = lt(
    "Hạn nhập phiếu không thể trước ngày kết thúc khảo sát",
    "The data-entry deadline cannot be before the survey's end",
)
ENTRY_IN_THE_PAST = lt(
    "Hạn nhập phiếu phải từ hôm nay trở đi", "The data-entry deadline must be today or later"
)


def _not_in_the_past(form, field) -> None:
    if field.data and field.data < today():
        raise ValidationError(ENTRY_IN_THE_PAST)


class StatusForm(FlaskForm):
    status = SelectField("status", choices=["fieldwork", "closed"])
    # Closing cannot be undone: the administrator ticks this first.
    confirm_close = BooleanField("confirm_close")
    # Interviews and paper forms already in hand can be entered until this day.
    entry_deadline = DayField("entry_deadline", validators=[Optional(), _not_in_the_past])


class EntryForm(FlaskForm):
    """After closing: move the data-entry deadline, or end data entry now."""

    entry_deadline = DayField("entry_deadline", validators=[Optional(), _not_in_the_past])
    action = SelectField("action", choices=["save", "end"], default="save")
