"""A subprocess of the project configured like a test's `config` (every setting that
differs from its default, as a WG_* variable), its output kept in a file for the
failure messages: the servers (faults.ServerProcess) and the workers
(job_worker.WorkerProcess) of the process tests."""
import asyncio
import os
import subprocess
import sys
import time
from typing import Any

from weiguan.config import SETTINGS


class ConfiguredProcess:
    def __init__(self, module: str, args: list[str], config: dict, log_path: str,
                 env_overrides: dict[str, str], log_mode: str = 'wb', **popen: Any):
        env = {k: v for k, v in os.environ.items() if not k.startswith('WG_')}
        env.update({f'WG_{key}': str(config[key])
                    for key, (_, default, _) in SETTINGS.items()
                    if config.get(key) is not None and config[key] != default})
        env.update(env_overrides)
        self.log_path = log_path
        self._log = open(log_path, log_mode)
        self.process = subprocess.Popen([sys.executable, '-m', module, *args], env=env,
                                        stdout=self._log, stderr=subprocess.STDOUT, **popen)

    def log(self) -> str:
        with open(self.log_path, 'rb') as file:
            return file.read().decode(errors='replace')

    async def wait_exit(self, timeout: float) -> int | None:
        """The exit code, or None if still running after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while self.process.poll() is None and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        return self.process.poll()

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self._log.close()
