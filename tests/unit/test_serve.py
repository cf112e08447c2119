"""booking.serve's options (its processes are tested through pserve in
tests/test_packaging.py)."""

import socket

import pytest

from booking.serve import bind, serve


def test_several_workers_cannot_share_a_unix_socket():
    with pytest.raises(ValueError, match="not unix_socket or sockets"):
        serve(None, workers="2", unix_socket="/tmp/booking.sock")


def test_bind_listens_where_listen_says_and_leaves_waitress_the_rest():
    options = {"listen": "127.0.0.1:0", "threads": "4"}
    (sock,) = bind(options)
    try:
        assert sock.getsockname()[0] == "127.0.0.1" and sock.getsockname()[1] > 0
        assert sock.type == socket.SOCK_STREAM and not sock.getblocking()
        assert options == {"threads": "4"}
    finally:
        sock.close()
