# These notebooks are inputs of the papermill tests, not nbval subjects.
collect_ignore_glob = ["*.ipynb", "failing/*.ipynb"]
