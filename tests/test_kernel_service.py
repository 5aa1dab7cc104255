"""run.kernel_service: a training run's workers get their kernels from one kernel server; a
worker's kernels end with its connection, and only a process given the key may ask. In the
service's tests the fork is a stand-in (a sleeping process); real kernels are tested through
training runs (test_training_run.py)."""

from __future__ import annotations

import multiprocessing
import os
import secrets
import signal
import stat
import time
from multiprocessing import AuthenticationError
from multiprocessing.connection import Client
from pathlib import Path

import psutil
import pytest

from aks_runbook.run import kernel_service


def _sleeper(argv, env, cwd, log):
    process = multiprocessing.get_context("spawn").Process(target=time.sleep, args=(60,),
                                                           daemon=True)
    process.start()
    return process


def _ended(pid: int, seconds: float) -> bool:
    """Whether the process ends within `seconds`: gone, or a zombie. Not waited for here: the
    service reaps it (waiting in this process would take its exit status)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def service(tmp_path):
    address, key = str(tmp_path / "socket"), secrets.token_bytes(32)
    served = kernel_service.KernelService(_sleeper, address, key)
    yield lambda: kernel_service.Lender(address, key, str(tmp_path / "run.log")), address
    served.close()


def test_a_workers_kernels_end_with_its_connection(service, tmp_path):
    lender, _ = service
    first, second = lender(), lender()
    kept, gone = first.start([], {}, str(tmp_path)), second.start([], {}, str(tmp_path))
    assert kept.poll() is None and gone.poll() is None
    second.close()  # that worker ended, or was killed
    assert _ended(gone.pid, 10)
    assert kept.poll() is None, "another worker's kernel runs on"
    kept.kill()
    assert kept.wait(10) == -signal.SIGKILL
    first.close()


def test_a_kernel_that_cannot_be_forked_is_an_error_for_its_worker(tmp_path):
    def failing(argv, env, cwd, log):
        raise RuntimeError("a forked kernel did not start in 120 s")

    address, key = str(tmp_path / "socket"), secrets.token_bytes(32)
    served = kernel_service.KernelService(failing, address, key)
    lender = kernel_service.Lender(address, key, str(tmp_path / "run.log"))
    for _ in range(2):  # and the worker's connection still answers
        with pytest.raises(RuntimeError, match="could not start a kernel: RuntimeError: a "
                                               "forked kernel did not start in 120 s"):
            lender.start([], {}, str(tmp_path))
    lender.close()
    served.close()


def test_only_a_process_with_the_key_may_ask(service, tmp_path):
    lender, address = service
    with pytest.raises(AuthenticationError):
        Client(address, "AF_UNIX", authkey=b"not the key")
    asking = lender()  # the service still answers those that have it
    kernel = asking.start([], {}, str(tmp_path))
    kernel.terminate()
    assert kernel.wait(10) == -signal.SIGTERM
    asking.close()


def test_the_kernel_server_listens_in_a_private_folder_and_ends_with_the_run(tmp_path):
    server = kernel_service.KernelServer()
    env = server.environment(tmp_path / "run.log")
    folder = Path(env[kernel_service.ADDRESS_ENV]).parent
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert kernel_service.KEY_ENV in env and env[kernel_service.LOG_ENV].endswith("run.log")
    process = server._process
    server.close()
    assert process.returncode == 0 and not folder.exists()


def test_a_worker_takes_the_server_out_of_its_environment(tmp_path, monkeypatch):
    # so that no kernel it starts sees the key
    with kernel_service.KernelServer() as server:
        for name, value in server.environment(tmp_path / "run.log").items():
            monkeypatch.setenv(name, value)
        monkeypatch.setattr(kernel_service, "_lender", None)
        lender = kernel_service.client()
        assert lender is not None and kernel_service.client() is lender
        assert not set(kernel_service.ENVIRONMENT) & set(os.environ)
        lender.close()
