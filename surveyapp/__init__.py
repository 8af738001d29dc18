"""The survey service: the web application (``surveyapp.app.create_app``), its features
(one package each: routes, forms, operations, templates), the shared models
(``surveyapp.models``) and the ``surveyapp`` command (``surveyapp.cli``).

Importing this package imports nothing else, so any module can be imported on its own.
"""
