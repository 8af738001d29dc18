"""Form fields shared by the feature packages."""

from wtforms import DateField, DateTimeField
from wtforms.widgets import TextInput

from sampling.inputs import DAY_FORMATS
from surveyapp.i18n import lt


class DayField(DateField):
    """WTForms' ``DateField`` with the formats people type dates in Vietnam
    (:data:`sampling.inputs.DAY_FORMATS`, dd/mm/yyyy first, also d/m/yyyy, dd-mm-yyyy,
    dd.mm.yyyy and ISO; the command line accepts the same), shown as dd/mm/yyyy in a text
    box: the browser's own date box shows the format of the browser's language (mm/dd/yyyy
    in an English-US one). DateField's own message is English only and does not say what
    was typed, hence the message here; spaces around the date are ignored."""

    widget = TextInput()

    def __init__(self, label=None, validators=None, **kwargs):
        render_kw = {
            "placeholder": "dd/mm/yyyy",
            "inputmode": "numeric",
            "autocomplete": "off",
            "size": 10,
            **kwargs.pop("render_kw", {}),
        }
        super().__init__(label, validators, format=list(DAY_FORMATS), render_kw=render_kw, **kwargs)

    def process_formdata(self, valuelist):
        text = " ".join(valuelist).strip() if valuelist else ""
        if not text:
            self.data = None
            return
        try:
            super().process_formdata([text])
        except ValueError:
            raise ValueError(
                lt(
                    f"Ngày «{text}» không hợp lệ: nhập theo dạng ngày/tháng/năm, ví dụ 15/07/2024",
                    f"«{text}» is not a valid date: type day/month/year, e.g. 15/07/2024",
                )
            ) from None


#: Day and time as typed: each day format of :data:`DAY_FORMATS` followed by hours and
#: minutes (dd/mm/yyyy HH:MM first, the format shown), and the browser's own ISO form.
MOMENT_FORMATS = (*(f"{day} %H:%M" for day in DAY_FORMATS), "%Y-%m-%dT%H:%M")


class MomentField(DateTimeField):
    """WTForms' ``DateTimeField`` as :class:`DayField` is its ``DateField``: a text box
    showing dd/mm/yyyy HH:MM (the browser's ``datetime-local`` box shows the browser's
    language's format, "mm/dd/yyyy, --:-- --" in an English-US one), accepting the shared
    day formats with a time. The value is a naive wall-clock time: the view says in which
    time zone it is read (Asia/Ho_Chi_Minh for the people in the field)."""

    widget = TextInput()

    def __init__(self, label=None, validators=None, **kwargs):
        render_kw = {
            "placeholder": "dd/mm/yyyy hh:mm",
            "autocomplete": "off",
            "size": 16,
            **kwargs.pop("render_kw", {}),
        }
        super().__init__(
            label, validators, format=list(MOMENT_FORMATS), render_kw=render_kw, **kwargs
        )

    def process_formdata(self, valuelist):
        text = " ".join(" ".join(valuelist).split()) if valuelist else ""
        if not text:
            self.data = None
            return
        try:
            super().process_formdata([text])
        except ValueError:
            raise ValueError(
                lt(
                    f"Thời gian «{text}» không hợp lệ: nhập theo dạng ngày/tháng/năm giờ:phút, "
                    "ví dụ 15/07/2024 09:30",
                    f"«{text}» is not a valid time: type day/month/year hour:minute, "
                    "e.g. 15/07/2024 09:30",
                )
            ) from None
