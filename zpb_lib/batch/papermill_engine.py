"""A papermill engine that executes on a warm kernel.

papermill's default engine passes ``km=`` through to nbclient (a kernel manager passed in is not
shut down) but makes a new kernel client, with its own sockets and threads, for every notebook and
never closes it when it does not own the kernel. This engine also takes the worker's one kernel
client (``kc=``), so a worker runs hundreds of reports on one kernel and one client. It is
registered under the ``papermill.engine`` entry-point group as ``zpb_warm`` through the package
:mod:`zpb_lib.batch`, which imports nothing from papermill (importing papermill here from the entry
point would be circular).
"""
from __future__ import annotations

from typing import Any

from papermill.clientwrap import PapermillNotebookClient
from papermill.engines import NBClientEngine, papermill_engines
from papermill.log import logger
from papermill.utils import merge_kwargs, remove_args

from zpb_lib.batch import ENGINE_NAME


class WarmEngine(NBClientEngine):
    @classmethod
    def execute_managed_notebook(cls, nb_man: Any, kernel_name: str, log_output: bool = False,
                                 stdout_file: Any = None, stderr_file: Any = None, start_timeout: int = 60,
                                 execution_timeout: int | None = None, km: Any = None, kc: Any = None,
                                 nb_sink: list | None = None, **kwargs: Any) -> Any:
        if km is None or kc is None:
            raise ValueError(f"the {ENGINE_NAME} engine needs a running kernel: pass km= and kc=")
        if nb_sink is not None:
            # The notebook being executed, for the caller to save itself (papermill is given no
            # output path): a failing report's notebook, with papermill's error cells, is kept too.
            nb_sink.append(nb_man.nb)
        kwargs = remove_args(["input_path", "timeout", "startup_timeout"], **kwargs)
        final = merge_kwargs(kwargs, timeout=execution_timeout, startup_timeout=start_timeout,
                             kernel_name=kernel_name, log=logger, log_output=log_output,
                             stdout_file=stdout_file, stderr_file=stderr_file)
        client = PapermillNotebookClient(nb_man, km=km, **final)
        client.kc = kc  # reuse the worker's client: setup_kernel makes none and closes none
        return client.execute()


def register() -> None:
    """Make the engine known even when the package's entry points were not (re)installed."""
    papermill_engines.register(ENGINE_NAME, WarmEngine)
