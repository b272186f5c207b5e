"""The lessons' runner as the tests use it: lessons.py's own (the client and
the kernel's environment `make progress` runs the lessons with), plus local
sockets, so that kernels started side by side never take the same port, and
a step of the test's own in the same kernel after the last cell."""

import subprocess

from lessons import CELL_SECONDS, kernel_env
from lessons import lesson_client as progress_client


def lesson_client(notebook, project, cell_seconds=CELL_SECONDS, local=False, **more):
    """lessons.lesson_client: `notebook` run as JupyterLab and `make progress`
    run it (`more` changes that, such as allow_errors=False). `local`: over
    local (ipc) sockets of its own, in `project` (not on Windows)."""
    if local:
        from jupyter_client.manager import AsyncKernelManager

        more.setdefault(
            "km",
            AsyncKernelManager(
                kernel_name="python3", transport="ipc", ip=str(project / "kernel")
            ),
        )
    return progress_client(notebook, project, cell_seconds, **more)


async def run_all(client, project, then=None, **env):
    """Restart & Run All `client`'s notebook in a new kernel, with `project`'s
    kernel_env (plus `env`); the notebook keeps what each cell printed. Then,
    in the same kernel, `await then(client)`; returns what it returned."""
    # The kernel's own log (such as its warning about TCP) would only be noise.
    async with client.async_setup_kernel(
        env=kernel_env(project, **env), stderr=subprocess.DEVNULL
    ):
        for index, cell in enumerate(client.nb.cells):
            await client.async_execute_cell(cell, index)
        return await then(client) if then else None
