"""``surveyapp demo``: a demo database seeded through the real code paths, then served.

The command in cli.py, seeding in operations.py, the units' lists in generator.py and
simulated answers in answers.py.
"""
