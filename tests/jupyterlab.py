"""A real JupyterLab for browser tests: the .venv's `jupyter lab` on a free loopback port, started and stopped in
bounded time, with throw-away settings so nothing in ~/.jupyter is read or written.

Use the `jupyterlab` fixture (import it into a test module: `from tests.jupyterlab import jupyterlab  # noqa: F401`)
or `serve(root_dir)` directly; both yield a `Lab` whose `url(path)` opens a file of root_dir in JupyterLab and whose
`open_notebook(page, path)` waits until every cell of that notebook is rendered. The settings turn off what a test does
not want: the news prompt, and cell windowing (JupyterLab 4 otherwise renders only the cells in view).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: How long the server may take to answer, and to stop, before the test gives up on it (seconds).
START_TIMEOUT = 90
STOP_TIMEOUT = 15
#: User settings for the throw-away settings folder: plugin id -> settings.
SETTINGS = {
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
}


def jupyter_path() -> Path | None:
    """The `jupyter` next to the running Python (the .venv's), or None."""
    path = Path(sys.executable).with_name("jupyter")
    return path if path.exists() else (Path(shutil.which("jupyter")) if shutil.which("jupyter") else None)


def unavailable() -> str | None:
    """Why a JupyterLab browser test cannot run here, or None."""
    from . import browser

    reason = browser.unavailable()
    if reason:
        return reason
    if jupyter_path() is None:
        return "no jupyter in the test environment (make venv installs JupyterLab from requirements/suite.txt)"
    try:
        import jupyterlab  # noqa: F401
    except ImportError:
        return "JupyterLab is not installed (make venv installs requirements/suite.txt)"
    return None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Lab:
    """A running JupyterLab: its base URL and the folder it serves."""

    base: str
    root_dir: Path
    log: Path

    def url(self, path: str | Path) -> str:
        """The JupyterLab address that opens this file (a path inside root_dir)."""
        rel = Path(path).resolve().relative_to(self.root_dir.resolve()) if Path(path).is_absolute() else Path(path)
        return f"{self.base}lab/tree/{quote(rel.as_posix())}"

    def open_notebook(self, page, path: str | Path, timeout_ms: int = 60_000) -> None:
        """Open a notebook in the page; wait until all its markdown cells are rendered (not just the ones in view)."""
        import nbformat

        full = Path(path) if Path(path).is_absolute() else self.root_dir / path
        nb = nbformat.read(str(full), as_version=4)
        markdown = sum(1 for c in nb.cells if c.cell_type == "markdown")
        page.goto(self.url(full), wait_until="domcontentloaded")
        # Every markdown cell rendered (its content is set asynchronously, after the sanitizer), then unchanged for
        # half a second (MathJax typesets after that).
        page.wait_for_function("""(n) => {
            const cells = [...document.querySelectorAll(
                '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-MarkdownCell .jp-RenderedMarkdown')];
            if (cells.length < n || cells.some(c => !c.childElementCount)) return false;
            const size = cells.reduce((total, c) => total + c.innerHTML.length, 0), now = performance.now();
            if (window.__gpuguideSize !== size) { window.__gpuguideSize = size; window.__gpuguideSince = now; }
            return now - window.__gpuguideSince > 500;
        }""", arg=markdown, timeout=timeout_ms, polling=100)

    def tail(self, lines: int = 30) -> str:
        """The end of the server's log, for a failure message."""
        text = self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: never through a proxy


def _wait_until_up(base: str, process: subprocess.Popen, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"jupyter lab exited with {process.returncode}:\n"
                               f"{log.read_text(errors='replace')[-3000:]}")
        try:
            with _DIRECT.open(base + "api/status", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.25)
    raise TimeoutError(f"jupyter lab did not answer on {base} within {timeout:.0f} s:\n"
                       f"{log.read_text(errors='replace')[-3000:]}")


def _stop(process: subprocess.Popen) -> None:
    """SIGTERM to the server's own process group (it and its kernels), then SIGKILL after STOP_TIMEOUT."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        process.wait(STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait(STOP_TIMEOUT)


@contextmanager
def serve(root_dir: Path, start_timeout: float = START_TIMEOUT) -> Iterator[Lab]:
    """JupyterLab serving root_dir on 127.0.0.1 (a free port, no token) for as long as the block runs."""
    jupyter = jupyter_path()
    if jupyter is None:
        raise FileNotFoundError("no jupyter executable")
    with tempfile.TemporaryDirectory(prefix="gpuguide-lab-") as tmp:
        home = Path(tmp)
        settings = home / "lab-settings"
        for plugin, values in SETTINGS.items():
            target = settings / f"{plugin}.jupyterlab-settings"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(json.dumps(values), encoding="utf-8")
        env = dict(os.environ, JUPYTER_CONFIG_DIR=str(home / "config"), JUPYTER_RUNTIME_DIR=str(home / "runtime"),
                   JUPYTERLAB_SETTINGS_DIR=str(settings), JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"),
                   IPYTHONDIR=str(home / "ipython"))
        port = free_port()
        log = home / "jupyter.log"
        with open(log, "w", encoding="utf-8") as out:
            process = subprocess.Popen(
                [str(jupyter), "lab", "--no-browser", f"--port={port}", "--ip=127.0.0.1", "--port-retries=0",
                 "--IdentityProvider.token=", "--ServerApp.password=", "--ServerApp.disable_check_xsrf=True",
                 f"--ServerApp.root_dir={root_dir}", "--LabApp.news_url=None",
                 # checkpoints (JupyterLab makes one when it opens a notebook) go to the throw-away folder
                 f"--FileCheckpoints.checkpoint_dir={home / 'checkpoints'}",
                 f"--AsyncFileCheckpoints.checkpoint_dir={home / 'checkpoints'}",
                 *(["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else [])],
                cwd=str(root_dir), env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        base = f"http://127.0.0.1:{port}/"
        try:
            _wait_until_up(base, process, log, start_timeout)
            yield Lab(base, Path(root_dir), log)
        finally:
            _stop(process)


@pytest.fixture(scope="session")
def jupyterlab() -> Iterator[Lab]:
    """JupyterLab serving notebooks/ for the whole session (skips with the reason where it or Chromium is missing)."""
    reason = unavailable()
    if reason:
        pytest.skip(reason)
    with serve(ROOT / "notebooks") as lab:
        yield lab
