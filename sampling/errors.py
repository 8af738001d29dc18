"""The one base exception of the sampling library."""


class SamplingError(Exception):
    """Base class for every error raised by :mod:`sampling`.

    ``message_vi`` and ``message_en`` carry the same explanation in Vietnamese and
    English so that callers (command line, web pages) can show it without a traceback.
    """

    def __init__(self, message_vi: str, message_en: str | None = None):
        self.message_vi = message_vi
        self.message_en = message_en or message_vi
        super().__init__(f"{self.message_vi} / {self.message_en}")
