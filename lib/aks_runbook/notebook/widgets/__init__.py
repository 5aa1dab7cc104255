"""ipywidgets for the chapters, where exploring beats reading: an environment picker, a
reachability explorer, a who-can explorer and a live upgrade timeline.

Each module keeps its answer in pure functions (unit-tested without a browser); the widget
wires observers to them. Headless (papermill, nbval: AKS_RUNBOOK_HEADLESS=1, or no Jupyter
kernel) every widget shows the same information as text or a table instead (common.headless).
"""
