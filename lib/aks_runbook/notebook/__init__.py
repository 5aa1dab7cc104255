"""The notebook side: what a chapter calls (`begin`, `start`, the Session), the
views and widgets it shows, attendee mode, the lab and the stored outputs."""

from aks_runbook.notebook.access import agreement
from aks_runbook.notebook.parameters import begin
from aks_runbook.notebook.session import start

__all__ = ["agreement", "begin", "start"]
