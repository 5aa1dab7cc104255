# JupyterHub's configuration for `aks-runbook training hub`. Everything that varies (addresses,
# folders, the trainer's password hash) comes from the settings file serve.py writes (0600, in
# the state folder); this file stays the same for every class.
import json
import os

settings = json.loads(open(os.environ["AKS_RUNBOOK_HUB_SETTINGS"]).read())
c = get_config()  # noqa: F821 (JupyterHub's config loader defines it)

c.JupyterHub.bind_url = settings["bind_url"]
# Each attendee's server on a host of its own (<name>.<host>): what one attendee serves can
# never run as the hub's page or another attendee's (JupyterHub's own advice for users who do
# not trust each other).
c.JupyterHub.subdomain_host = settings["subdomain_host"]
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = settings["hub_port"]
if settings.get("certfile"):
    c.JupyterHub.ssl_cert = settings["certfile"]
    c.JupyterHub.ssl_key = settings["keyfile"]
c.JupyterHub.cookie_host_prefix_enabled = settings["cookie_host_prefix"]
c.JupyterHub.db_url = f"sqlite:///{settings['state']}/jupyterhub.sqlite"
c.JupyterHub.cookie_secret_file = f"{settings['state']}/cookie_secret"
c.JupyterHub.cleanup_servers = True  # stopping the hub stops every attendee's server
c.JupyterHub.template_vars = {"announcement_login": settings["login_hint"]}

c.ConfigurableHTTPProxy.command = [settings["proxy"]]
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{settings['proxy_api_port']}"

from aks_runbook.training.hub.authenticator import TRAINER_SCOPES  # noqa: E402

c.JupyterHub.authenticator_class = "aks_runbook.training.hub.authenticator.RosterAuthenticator"
c.RosterAuthenticator.logins_file = settings["logins_file"]
c.RosterAuthenticator.admin_login = settings["admin_login"]
c.Authenticator.auth_refresh_age = 30  # a revoked login is logged out within 30 s
c.Authenticator.refresh_pre_spawn = True

c.JupyterHub.spawner_class = "aks_runbook.training.hub.spawner.SandboxSpawner"
c.SandboxSpawner.training_folder = settings["training_folder"]
c.SandboxSpawner.project = settings["project"]
c.SandboxSpawner.hidden = settings["hidden"]
c.SandboxSpawner.state = settings["state"]
c.SandboxSpawner.seccomp = settings["seccomp"]
c.Spawner.cmd = settings["singleuser"]
c.Spawner.args = settings["singleuser_args"]
c.Spawner.default_url = "/lab"
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 90

c.JupyterHub.services = [{"name": "idle-culler", "command": settings["culler"]},
                         {"name": "revoker", "command": settings["revoker"]}]
c.JupyterHub.load_roles = [
    {"name": "idle-culler", "services": ["idle-culler"],
     "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"]},
    {"name": "revoker", "services": ["revoker"], "scopes": ["list:users", "delete:users"]},
    {"name": "trainer", "users": ["trainer"], "scopes": TRAINER_SCOPES},
]
