"""The lessons' runner as the tests use it: lessons.py's own client (as
`make progress` and the class table run the lessons), with a step of the
test's own in the same kernel after the last cell."""

import subprocess

from lessons import kernel_env


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
