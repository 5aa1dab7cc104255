"""The run side: headless runs of the chapters with papermill, the runner and its
transcript, masking of secrets, running a plan for real, and the run report."""
