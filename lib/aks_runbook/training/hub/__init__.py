"""`aks-runbook training hub`: JupyterHub for a class on this machine, and Zero to JupyterHub
values for the same class on AKS.

serve.py starts the hub (jupyterhub_config.py reads its settings) with the standard proxy;
authenticator.py lets in exactly the provisioned attendees (training/logins.json) and the
trainer; spawner.py starts each attendee's JupyterLab in a bubblewrap sandbox (sandbox.py) in
their own home (workspace.py), whose only ways out are the relays of relay.py; values.py writes
the Zero to JupyterHub values.
"""
