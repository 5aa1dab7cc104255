# Inputs of tests/test_training_run.py (executed by papermill), not nbval subjects.
collect_ignore_glob = ["*/*.ipynb"]
