"""Walk-in mode: a QR poster per unit for the one-stop counter (bộ phận một cửa).

Walk-in responses are a non-probability sample (no weight), kept apart from the
weighted indices by the responses table's CHECK constraints. Views in routes.py (the
form itself is the citizen form: surveyapp/citizen/flow.py), the poster and its link in
poster.py.
"""
