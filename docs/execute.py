"""Executing the lectures: each in a kernel of its own, ``--jobs`` at a time, stopped whole by Ctrl-C.

The lectures run as coroutines in one asyncio event loop, on a thread of its
own (:func:`run_on_a_thread`), so that Ctrl-C or SIGTERM reaching the main
thread cancels them: no other lecture starts, and the running kernels are
shut down. Used by ``docs/build.py``; one lecture is run by
:func:`notebooks.execute_lecture`.
"""

import asyncio
import sys
import threading

import notebooks
from guards import BuildError, ignore_stop_signals

STOP_SECONDS = 30  # how long Ctrl-C or SIGTERM waits for the running lectures' kernels to stop (half a second)


def preamble(path, fast):
    mode = "fast mode: few epochs and small data, so the numbers are placeholders" if fast else "full mode"
    return (f"*This page is `tutorials/{path.name}`, executed when the site was built ({mode}). "
            f"Run it yourself with `python tutorials/{path.name}`, cell by cell in VS Code, Spyder or "
            f"Jupyter, or download {{download}}`the executed notebook <{path.stem}.ipynb>`.*")


def execute_all(lectures, staging, args, sockets):
    """Execute every lecture, ``args.jobs`` at a time; the notebooks go to ``staging/lectures``.

    The kernels' sockets go into folders made in ``sockets`` (a short path).

    Returns the folder the lectures wrote their figures into. Ctrl-C or
    SIGTERM stops the running lectures' kernels and starts no other lecture.
    """
    (staging / "lectures").mkdir()
    work_dir = staging / "_run"
    work_dir.mkdir()
    stopping = False

    async def run(path, slots):
        async with slots:  # the lectures beyond --jobs wait here; cancelled, they never start
            seconds, error = await notebooks.execute_lecture(path, staging / "lectures" / f"{path.stem}.ipynb",
                                                             work_dir, args.timeout, preamble(path, args.fast),
                                                             sockets_parent=sockets)
        if not stopping:  # a lecture stopped by Ctrl-C comes back as "Kernel died": not news
            print(f"  {path.name}: {'FAILED' if error else 'ok'} in {seconds:.1f} s", flush=True)
        return error

    async def run_all():
        nonlocal stopping
        slots = asyncio.Semaphore(args.jobs)
        tasks = [asyncio.ensure_future(run(path, slots)) for path in lectures]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        finally:  # cancelled (Ctrl-C), or a lecture raised: stop the others and wait until their kernels are gone
            stopping = True
            for task in tasks:
                task.cancel()
            await asyncio.wait(tasks)
        raised = [task.exception() for task in tasks if not task.cancelled() and task.exception()]
        if raised:
            raise raised[0]
        return [task.result() for task in tasks]

    errors = run_on_a_thread(run_all())
    failures = [(path.name, error) for path, error in zip(lectures, errors) if error]
    for name, error in failures:
        print(f"\n--- {name} ---\n{error}", file=sys.stderr)
    if failures:
        raise BuildError(f"{len(failures)} lecture(s) failed: {', '.join(name for name, _ in failures)}")
    return work_dir / "figures"


def run_on_a_thread(coroutine):
    """The result of ``coroutine``, run in an event loop on a thread of its own.

    Not on the main thread, because nbclient, given a loop there, replaces the
    SIGINT and SIGTERM handlers with its own (which shut down one kernel and
    let the build go on). Here Ctrl-C (KeyboardInterrupt) and SIGTERM
    (Terminated) reach the main thread, which cancels the coroutine and waits,
    at most STOP_SECONDS, for it to finish (to stop its kernels) before it
    re-raises.
    """
    loop = asyncio.new_event_loop()
    task = loop.create_task(coroutine)
    finished = threading.Event()  # not Thread.join: after a join cut by Ctrl-C, the next join may not wait

    def run():
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(asyncio.wait([task]))
        finally:  # what nbclient leaves behind when cancelled (its kernel-alive poll), as asyncio.run does
            leftovers = asyncio.all_tasks(loop)
            for leftover in leftovers:
                leftover.cancel()
            loop.run_until_complete(asyncio.gather(*leftovers, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.run_until_complete(loop.shutdown_default_executor())
            loop.close()
            finished.set()

    threading.Thread(target=run, name="lectures", daemon=True).start()
    try:
        finished.wait()
    except BaseException:
        ignore_stop_signals()
        loop.call_soon_threadsafe(task.cancel)
        finished.wait(STOP_SECONDS)
        raise
    return task.result()
