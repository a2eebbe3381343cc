"""Integer tables and numbers: the export step (tables.py), metrics.json (metrics.py), the build
report (report.py) and the sweep's comparison (comparison.py). Imports `common` and `intnet` only."""
