"""Form fields shared by the feature packages."""

import datetime as dt

from wtforms import DateField
from wtforms.widgets import TextInput

from surveyapp.i18n import DAY_FORMAT, lt


class DayField(DateField):
    """A date typed as dd/mm/yyyy, the way dates are written in Vietnam, whatever the
    browser's language. The browser's own date box shows the format of the browser's
    language (mm/dd/yyyy in an English-US one: 07/05 would be read as 5 July by some and
    7 May by others), so this is a text box. Also accepted: d/m/yyyy, dd-mm-yyyy,
    dd.mm.yyyy and ISO yyyy-mm-dd (pasted values, links, scripts)."""

    widget = TextInput()
    ACCEPTED = (DAY_FORMAT, "%d-%m-%Y", "%d.%m.%Y", "%Y-%m-%d")

    def __init__(self, label=None, validators=None, **kwargs):
        render_kw = {
            "placeholder": "dd/mm/yyyy",
            "inputmode": "numeric",
            "autocomplete": "off",
            "size": 10,
            **kwargs.pop("render_kw", {}),
        }
        super().__init__(label, validators, render_kw=render_kw, **kwargs)

    def _value(self) -> str:
        if self.raw_data:
            return " ".join(self.raw_data)
        return self.data.strftime(DAY_FORMAT) if self.data else ""

    def process_formdata(self, valuelist):
        text = " ".join(valuelist).strip() if valuelist else ""
        self.data = None
        if not text:
            return
        for accepted in self.ACCEPTED:
            try:
                self.data = dt.datetime.strptime(text, accepted).date()
                return
            except ValueError:
                continue
        raise ValueError(
            lt(
                f"Ngày «{text}» không hợp lệ: nhập theo dạng ngày/tháng/năm, ví dụ 15/07/2024",
                f"«{text}» is not a valid date: type day/month/year, e.g. 15/07/2024",
            )
        )
