# A JupyterHub for a class taking the lessons, on one machine: the file a
# teacher copies (teaching/README.md says how), and the very file the suite's
# hub test loads (tests/test_hub.py, which changes only the ports, the proxy's
# path, and lets the test drive each JupyterLab from the page).
#
# Install, on the hub machine, from a clone of this repository in a folder every
# user can read (/opt/first-web-server: each JupyterLab reads lab-settings/
# there), into ONE virtual environment every user can run (/opt/class, made from
# the system's Python: not a Python under /root or a teacher's home):
#
#   python3 -m venv /opt/class
#   /opt/class/bin/pip install --require-hashes \
#       -r requirements.txt -r requirements/hub.txt
#   npm ci --prefix teaching/hub         # configurable-http-proxy 5.3.0, locked
#
# requirements.txt is the learner's lock (JupyterLab, the lessons' packages,
# jupyter-server-proxy, nbgitpuller); requirements/hub.txt adds JupyterHub 6.1.1
# (the hub, and jupyterhub-singleuser, which starts each learner's JupyterLab),
# at versions that agree with requirements.txt. Then, as root, from a folder of
# the hub's own (its database and cookie secret go there; no learner may read it):
#
#   mkdir -m 700 /srv/jupyterhub && cd /srv/jupyterhub
#   /opt/class/bin/jupyterhub \
#       --config /opt/first-web-server/teaching/jupyterhub_config.py
#
# Each learner's JupyterLab, kernels and terminals run from that same
# environment, as the learner's own system user.

import sys
from pathlib import Path

c = get_config()  # noqa: F821 (JupyterHub defines it)

HERE = Path(__file__).resolve().parent  # teaching/ of the clone
ENVIRONMENT = Path(sys.prefix)  # the environment the hub runs from: /opt/class
BIN = ENVIRONMENT / "bin"

# Where the hub listens, and under which path: the class's address is
# https://hub.example.org/class/, so the link's `https://HUB` is
# `https://hub.example.org/class` (teaching/README.md). Put HTTPS in front of
# it (a reverse proxy, or c.JupyterHub.ssl_cert and ssl_key).
c.JupyterHub.port = 8000  # JupyterHub's default, on every address
c.JupyterHub.base_url = "/class/"
# The class's address as learners' browsers see it: set it, and `python -m
# server` prints its page's full address (JupyterHub tells each learner's
# server, as JUPYTERHUB_PUBLIC_URL); unset, it prints the part after the site.
# c.JupyterHub.public_url = "https://hub.example.org/class/"

# The proxy, from teaching/hub/ (npm ci); or one on PATH (npm install -g).
PROXY = HERE / "hub" / "node_modules" / ".bin" / "configurable-http-proxy"
if PROXY.exists():
    c.ConfigurableHTTPProxy.command = [str(PROXY)]

# Who logs in: PAM, the machine's own users and passwords (JupyterHub's
# default). Each learner is a user of the machine (`adduser`), with a home
# folder of their own that others cannot read. For a class with accounts
# elsewhere: oauthenticator's GitHubOAuthenticator, GoogleOAuthenticator or
# GenericOAuthenticator (your school's login), with
# c.LocalAuthenticator.create_system_users = True.
c.JupyterHub.authenticator_class = "pam"
# Everyone with an account on this machine may log in; to admit only the
# class, put its users in a group: c.PAMAuthenticator.allowed_groups = {"class"}.
c.Authenticator.allow_all = True

# How each learner's JupyterLab runs: LocalProcessSpawner (JupyterHub's
# default) starts it as the learner's own user, in their home folder. The
# Littlest JupyterHub's SystemdSpawner does the same in a systemd unit, with
# memory and CPU limits. Both share this machine's network: every learner can
# reach every port any other learner opens (teaching/README.md, "Isolation").
# DockerSpawner (a container each) and KubeSpawner (Zero to JupyterHub: a pod
# each, teaching/kubernetes.md) give each learner a network of their own.
c.JupyterHub.spawner_class = "localprocess"
c.Spawner.cmd = [str(BIN / "jupyterhub-singleuser")]
c.Spawner.default_url = "/lab"
# The environment's programs first on PATH, so that the terminal's `python` is
# the lessons' Python.
c.Spawner.environment = {"PATH": f"{BIN}:/usr/local/bin:/usr/bin:/bin"}
c.Spawner.args = [
    # Terminals run bash, not a login shell: a login shell reads /etc/profile,
    # which on Debian and Ubuntu sets PATH anew, and `python` is then
    # "command not found".
    '--ServerApp.terminado_settings={"shell_command": ["/bin/bash"]}',
    # The lessons' JupyterLab settings, the same file `make lab` uses:
    # Markdown opens formatted (lesson 1's link to the README), no news pop-up.
    f"--LabApp.app_settings_dir={HERE / 'lab-settings'}",
]
# A class logs in at once: give a busy machine time to start each JupyterLab.
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 120
