"""Real HTTP servers on free loopback ports, in threads of the test process."""

import contextlib
import threading

from waitress.server import create_server


@contextlib.contextmanager
def serve(app, threads=8):
    """Serve ``app`` with waitress on 127.0.0.1 (a free port); yield its URL."""
    server = create_server(app, host="127.0.0.1", port=0, threads=threads,
                           connection_limit=1000, channel_timeout=60)
    closing = threading.Event()

    def run():
        try:
            server.run()
        except OSError:
            # Closing the sockets under a select() in progress: the end we
            # asked for, not an error of the server.
            if not closing.is_set():
                raise

    thread = threading.Thread(target=run, name="test-waitress", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:
        closing.set()
        server.close()
        server.task_dispatcher.shutdown()
        thread.join(timeout=5)
