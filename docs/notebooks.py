"""The lectures as notebooks: read a ``tutorials/NN_*.py`` and execute it.

A lecture is a Jupytext ``py:percent`` script. :func:`read_lecture` turns it
into a notebook whose first cell is a ``# Title`` markdown heading, which is
what Sphinx (and Jupyter) take as the page's title. Two ways of giving the
title are accepted while the course moves from one to the other:

* a first ``# %% [markdown]`` cell that opens with ``# Title``;
* a module docstring with an underlined (reStructuredText) title, which
  becomes a markdown cell: ``# Title`` and the paragraphs under it.

:func:`execute_lecture` runs the notebook in a fresh IPython kernel, so the
page shows the prose, code, printed output and figures exactly as they come
out of the code at build time. The kernel inherits the environment of the
build (``NUMVAE_FAST``, ``NUMVAE_FIGURES_DIR``, ``PYTHONPATH``).
"""

import ast
import atexit
import os
import re
import shutil
import tempfile
import time
from pathlib import Path

LECTURE_GLOB = "[0-9][0-9]_*.py"
FIGURE_NAME = re.compile(r"""["'](\d\d_[A-Za-z0-9_-]+\.png)["']""")
ADORNMENT = re.compile(r"^([=\-~#*^+`'\"])\1{2,}\s*$")
MARKDOWN_TITLE = re.compile(r"^#\s+(.+?)\s*$")
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
# Where the kernels' sockets go: /tmp, short on every Unix, unless it cannot be written (then TMPDIR).
SOCKET_PARENT = "/tmp" if os.path.isdir("/tmp") and os.access("/tmp", os.W_OK | os.X_OK) else None


def find_lectures(tutorials_dir):
    """Every ``NN_*.py`` in ``tutorials_dir``, in course order."""
    return sorted(Path(tutorials_dir).glob(LECTURE_GLOB))


def _docstring(source):
    """The string if ``source`` is nothing but a string literal, else None."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    if len(tree.body) == 1 and isinstance(tree.body[0], ast.Expr):
        value = tree.body[0].value
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            return value.value
    return None


def split_rst_title(text):
    """``(title, body)`` of a docstring whose first line(s) are an underlined title.

    Both ``===/Title/===`` and ``Title/===`` are recognized; without an
    underlined title the result is ``(None, text)``.
    """
    lines = text.strip("\n").splitlines()
    if len(lines) >= 3 and ADORNMENT.match(lines[0]) and ADORNMENT.match(lines[2]):
        return lines[1].strip(), "\n".join(lines[3:]).strip("\n")
    if len(lines) >= 2 and lines[0].strip() and ADORNMENT.match(lines[1]):
        return lines[0].strip(), "\n".join(lines[2:]).strip("\n")
    return None, text.strip("\n")


def markdown_title(source):
    """The text of the ``# Title`` that opens a markdown cell, or None."""
    for line in source.splitlines():
        if line.strip():
            match = MARKDOWN_TITLE.match(line)
            return match.group(1) if match else None
    return None


def read_lecture(path):
    """The lecture at ``path`` as an (unexecuted) notebook with a ``# Title`` first cell.

    Raises ``ValueError`` naming the file when it has no title or cannot be read.
    """
    import jupytext
    import nbformat

    path = Path(path)
    try:
        notebook = jupytext.read(path, fmt="py:percent")
    except OSError as error:  # a broken symbolic link, a folder, a file removed while the build runs
        raise ValueError(f"{path.name}: expected a lecture file that can be read, got '{error.strerror}'") from error
    cells = notebook.cells
    if cells and cells[0].cell_type == "code":
        text = _docstring(cells[0].source)
        if text is not None:
            title, body = split_rst_title(text)
            cells.pop(0)
            if cells and cells[0].cell_type == "markdown" and markdown_title(cells[0].source):
                if body.strip():  # the heading cell is the title; the docstring's prose follows it
                    cells.insert(1, nbformat.v4.new_markdown_cell(body))
            elif title is not None:
                cells.insert(0, nbformat.v4.new_markdown_cell(f"# {title}\n\n{body}".strip("\n")))
    if not cells or cells[0].cell_type != "markdown" or not markdown_title(cells[0].source):
        raise ValueError(f"{path.name}: expected a title, a first '# %% [markdown]' cell opening with "
                         "'# Title' (or a module docstring with an underlined title), got none")
    notebook.metadata = {
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"},
    }
    return notebook


def lecture_title(notebook):
    """The title of a notebook made by :func:`read_lecture`."""
    return markdown_title(notebook.cells[0].source)


def lecture_figures(path):
    """The figure names (``NN_name.png``) a lecture's source writes, in source order."""
    names = FIGURE_NAME.findall(Path(path).read_text(encoding="utf-8"))
    return list(dict.fromkeys(names))


def kernel_log_tail(log_path, lines=20, most=8192):
    """The last ``lines`` lines of a kernel's log, introduced by a header line.

    Only the log's last ``most`` bytes are read: a kernel may print gigabytes
    to its own stdout (a C library's messages in a loop) before it dies.
    """
    try:
        with open(log_path, "rb") as log:
            log.seek(max(0, log.seek(0, os.SEEK_END) - most))
            text = log.read().decode("utf-8", errors="replace")
    except OSError as error:
        return f"(the kernel's log could not be read: {error})"
    tail = text.splitlines()[-lines:]
    return "\n".join(["the kernel's last words:"] + tail) if tail else "the kernel printed nothing"


async def execute_lecture(path, out_path, work_dir, timeout, preamble=None, sockets_parent=None):
    """Execute the lecture at ``path`` and write the notebook to ``out_path``.

    The kernel runs in ``work_dir``. ``preamble``, a markdown string, is
    inserted as the second cell (after the title) when given. The kernel's
    sockets go into a folder made in ``sockets_parent`` (default: /tmp). Returns
    ``(seconds, None)`` on success, ``(seconds, message)`` when a cell fails,
    the lecture cannot be read or the kernel dies (or does not start); the
    message holds the failing cell's traceback, or the last lines the kernel
    process printed. The kernel process's own output goes to
    ``work_dir/.kernel-NAME.log``, not to the terminal.

    A coroutine, so that one event loop can run several lectures at once,
    each in its own kernel. Cancelling it stops the kernel: nbclient
    interrupts and shuts down a kernel that was running a cell (and the
    coroutine then returns "Kernel died", which the caller that cancelled it
    ignores); a kernel that had not yet answered is killed here.
    """
    import nbformat
    from jupyter_client import AsyncKernelManager
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    start = time.perf_counter()
    # IPC (Unix sockets) rather than TCP: the kernel is local, and ipykernel
    # warns about unencrypted TCP. cleanup_kc: stop the kernel we made. A Unix
    # socket's path holds at most 104 bytes (macOS; 108 on Linux), which a
    # TMPDIR such as macOS's /var/folders/.../T/ leaves no room for under the
    # staging folder: the sockets go into a short folder of their own.
    # The connection file goes in work_dir (not TMPDIR): one that could not be
    # written on a full disk, and so is not cleaned up, goes with the staging folder.
    name = Path(work_dir) / f".kernel-{Path(path).stem}"
    sockets = Path(tempfile.mkdtemp(prefix="numvae-", dir=sockets_parent or SOCKET_PARENT))
    kernel = AsyncKernelManager(kernel_name="python3", transport="ipc", ip=str(sockets / "k"),
                                connection_file=f"{name}.json")
    # The kernel process's own stdout and stderr (not the cells' output, which
    # comes back as messages) go to a log: ipykernel can print a traceback of
    # its own while it shuts down after Ctrl-C, and that must not reach the
    # user's terminal. The log is shown only when the kernel dies.
    log_path = Path(f"{name}.log")
    client = None
    try:
        with open(log_path, "wb") as log:
            notebook = read_lecture(path)
            client = NotebookClient(notebook, km=kernel, timeout=timeout,
                                    resources={"metadata": {"path": str(work_dir)}})
            await client.async_execute(cleanup_kc=True, stdout=log, stderr=log)
    except (DeadKernelError, RuntimeError) as error:  # died mid-cell, or before it answered (did not start)
        return time.perf_counter() - start, ANSI.sub("", f"{error}\n{kernel_log_tail(log_path)}")
    except (ValueError, CellExecutionError, CellTimeoutError) as error:
        return time.perf_counter() - start, ANSI.sub("", str(error))
    finally:
        if kernel.has_kernel:  # cancelled before the kernel answered: nbclient leaves such a kernel running
            await kernel.shutdown_kernel(now=True)
        if client is not None:  # nbclient's exit hook, which it leaves registered when the kernel did not start
            atexit.unregister(client._cleanup_kernel)
        shutil.rmtree(sockets, ignore_errors=True)
    if preamble:
        notebook.cells.insert(1, nbformat.v4.new_markdown_cell(preamble))
    nbformat.write(notebook, str(out_path))
    return time.perf_counter() - start, None
