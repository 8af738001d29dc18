"""Form fields shared by the feature packages."""

from wtforms import DateField
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
