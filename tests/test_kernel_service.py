"""run.kernel_service: the training run forks its workers' kernels; a worker's kernels end
with its connection, and only a process given the key may ask. The fork is a stand-in here
(a sleeping process): the kernels themselves are tested through training runs
(test_training_run.py)."""

from __future__ import annotations

import multiprocessing
import os
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


def _lender(env: dict[str, str]) -> kernel_service.Lender:
    return kernel_service.Lender(env[kernel_service.ADDRESS_ENV],
                                 bytes.fromhex(env[kernel_service.KEY_ENV]),
                                 env[kernel_service.LOG_ENV])


def test_a_workers_kernels_end_with_its_connection(tmp_path):
    with kernel_service.KernelService(_sleeper) as service:
        env = service.environment(tmp_path / "run.log")
        folder = Path(env[kernel_service.ADDRESS_ENV]).parent
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        first, second = _lender(env), _lender(env)
        kept, gone = first.start([], {}, str(tmp_path)), second.start([], {}, str(tmp_path))
        assert kept.poll() is None and gone.poll() is None
        second.close()  # that worker ended, or was killed
        psutil.Process(gone.pid).wait(10)
        assert kept.poll() is None, "another worker's kernel runs on"
        kept.kill()
        assert kept.wait(10) == -signal.SIGKILL
        first.close()
    assert not folder.exists()


def test_only_a_process_with_the_key_may_ask(tmp_path):
    with kernel_service.KernelService(_sleeper) as service:
        env = service.environment(tmp_path / "run.log")
        with pytest.raises(AuthenticationError):
            Client(env[kernel_service.ADDRESS_ENV], "AF_UNIX", authkey=b"not the key")
        lender = _lender(env)  # the service still answers those that have it
        kernel = lender.start([], {}, str(tmp_path))
        kernel.kill()
        assert kernel.wait(10) == -signal.SIGKILL
        lender.close()


def test_a_worker_takes_the_service_out_of_its_environment(tmp_path, monkeypatch):
    # so that no kernel it starts sees the key
    with kernel_service.KernelService(_sleeper) as service:
        for name, value in service.environment(tmp_path / "run.log").items():
            monkeypatch.setenv(name, value)
        monkeypatch.setattr(kernel_service, "_lender", None)
        lender = kernel_service.client()
        assert lender is not None and kernel_service.client() is lender
        assert not set(kernel_service.ENVIRONMENT) & set(os.environ)
        lender.close()
