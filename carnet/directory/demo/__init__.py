"""Demo data set for `manage.py seed`: data tables, a deterministic generator, a bulk loader."""
