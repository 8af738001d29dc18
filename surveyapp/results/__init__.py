"""Results: the Department scores a campaign from its responses and downloads the outputs;
contractors' results bundles are exported and imported (views in routes.py, commands in
cli.py, database → scoring inputs in operations.py, runs on disk in runs.py, bundles in
bundle.py)."""
