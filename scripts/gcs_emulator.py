#!/usr/bin/env python3
"""gcp-storage-emulator (PyPI), serving requests concurrently as GCS does.

The emulator serves from a plain `http.server.HTTPServer`: one request at a time, with a
listen backlog of 5. Under a pipeline's load that is a bottleneck GCS does not have:
- connections beyond the backlog lose their SYN and wait a second to retry (11 listen
  overflows and a 1.2 s p99 in `scripts/bench/e2e` at 40 detections/s);
- every evidence download waits for the one before it (at 50/s the OCR tasks queued for
  30 s while the machine still had a fifth of its CPU free).
Here it serves each connection in a thread, with a deeper backlog. Reads run side by side;
every change (upload, delete, patch) still runs alone, because the emulator changes its
metadata without a lock of its own.

With --in-memory, the emulator still serialises the metadata of every object into a JSON
file after each change, a file it reads only when it starts, which in memory is never:
each upload cost time in proportion to the objects already stored (0.75 cores at 50
uploads/s once a few thousand were there). That write is skipped in memory. Arguments are
the emulator's own:

    python scripts/gcs_emulator.py start --host=127.0.0.1 --port=9023 --in-memory
"""

import sys
import threading
from http import server


class _ConcurrentServer(server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256


server.HTTPServer = _ConcurrentServer  # type: ignore[misc]  # this process is the emulator alone

from gcp_storage_emulator import server as emulator
from gcp_storage_emulator import storage
from gcp_storage_emulator.__main__ import main

_changes = threading.Lock()


def _one_at_a_time(handle):  # type: ignore[no-untyped-def]
    def locked(self):  # type: ignore[no-untyped-def]
        with _changes:
            return handle(self)

    return locked


for _method in ("do_POST", "do_PUT", "do_PATCH", "do_DELETE"):
    setattr(emulator.RequestHandler, _method, _one_at_a_time(getattr(emulator.RequestHandler, _method)))

_write_metadata = storage.Storage._write_config_to_file


def _write_metadata_unless_in_memory(self):  # type: ignore[no-untyped-def]
    if not self._use_memory_fs:
        _write_metadata(self)


storage.Storage._write_config_to_file = _write_metadata_unless_in_memory  # type: ignore[method-assign]

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
