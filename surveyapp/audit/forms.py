from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import Length, Optional

from surveyapp.core.fields import DayField


class AuditFilterForm(FlaskForm):
    """The log's filters, read from the query string (a GET form: no CSRF token)."""

    class Meta:
        csrf = False

    action = SelectField("action", validate_choice=False)
    actor = StringField("actor", validators=[Optional(), Length(max=80)])
    target = StringField("target", validators=[Optional(), Length(max=64)])
    date_from = DayField("date_from", validators=[Optional()])
    date_to = DayField("date_to", validators=[Optional()])
