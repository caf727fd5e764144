"""Jupyter Server 1.x as the peer of bench/kernels.ts, run in a child process on 127.0.0.1.

Runs Debian's python3-jupyter-server as shipped, with two changes for a fair comparison: the iopub rate
limits are off (their defaults drop output above 1,000 messages/s), and a kernel websocket opened with
`?nodelay=1` disables Nagle's algorithm (stock Jupyter Server leaves it on, which costs ~40 ms per round trip
when a small reply meets the client's delayed ACK). Prints `listening <port>` once it serves requests and
exits when its parent is gone.

    /usr/bin/python3 bench/jupyter-server-peer.py <token> <root dir>
"""
import os
import socket
import sys

from jupyter_server.serverapp import ServerApp
from jupyter_server.services.kernels.handlers import ZMQChannelsHandler
from tornado.ioloop import IOLoop, PeriodicCallback

open_channels = ZMQChannelsHandler.open


def open_channels_with_nodelay_option(handler, kernel_id):
    """Opens a kernel websocket as Jupyter Server does, without Nagle's algorithm when the client asks."""
    if handler.get_argument("nodelay", "0") == "1":
        handler.set_nodelay(True)
    return open_channels(handler, kernel_id)


ZMQChannelsHandler.open = open_channels_with_nodelay_option


def free_port():
    """A loopback port nothing listens on at the moment."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def exit_with_parent():
    """Exits once this process has been re-parented (the benchmark is gone)."""
    parent = os.getppid()
    PeriodicCallback(lambda: os.getppid() != parent and os._exit(1), 1000).start()


token, root_dir = sys.argv[1], sys.argv[2]
app = ServerApp.instance()
app.initialize(
    [
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={free_port()}",
        "--ServerApp.port_retries=0",
        f"--ServerApp.token={token}",
        f"--ServerApp.root_dir={root_dir}",
        "--ServerApp.open_browser=False",
        "--ServerApp.allow_root=True",
        "--ServerApp.iopub_msg_rate_limit=0",
        "--ServerApp.iopub_data_rate_limit=0",
        "--ServerApp.log_level=WARN",
    ]
)
IOLoop.current().add_callback(exit_with_parent)
IOLoop.current().add_callback(lambda: print(f"listening {app.port}", flush=True))
app.start()
