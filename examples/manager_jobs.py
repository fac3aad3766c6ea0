# Copyright 2026 the @sidecar/ipc authors. MIT license.
"""Python side of the demo's managers step (multiprocessing.managers).

  manager_jobs.py serve            a BaseManager hosting a "jobs" and a
                                   "results" queue; prints its address as
                                   one JSON line; exits when stdin closes.
  manager_jobs.py work ADDRESS     a worker: takes jobs from the manager at
                                   ADDRESS (JSON) until it gets None, puts
                                   one result per job.

The key is in SIDECAR_AUTHKEY. A worker prints {"ready": pid} once
connected.
"""
import json
import os
import queue
import sys
import threading
from multiprocessing.managers import BaseManager


class JobManager(BaseManager):
    pass


def serve(authkey):
    jobs, results = queue.Queue(), queue.Queue()
    JobManager.register("jobs", callable=lambda: jobs)
    JobManager.register("results", callable=lambda: results)
    server = JobManager(address=("127.0.0.1", 0), authkey=authkey).get_server()
    host, port = server.address
    print(json.dumps({"address": {"hostname": host, "port": port},
                      "python": sys.version.split()[0]}), flush=True)

    def stop_when_stdin_closes():
        sys.stdin.read()
        os._exit(0)

    threading.Thread(target=stop_when_stdin_closes, daemon=True).start()
    server.serve_forever()


def work(address, authkey):
    JobManager.register("jobs")
    JobManager.register("results")
    raw = json.loads(address)
    m = JobManager(address=(raw["hostname"], raw["port"]), authkey=authkey)
    m.connect()
    jobs, results = m.jobs(), m.results()
    jobs.qsize()  # opens this proxy's connection
    print(json.dumps({"ready": os.getpid()}), flush=True)
    while True:
        job = jobs.get()
        if job is None:
            break
        text = job["text"]
        results.put({"id": job["id"], "words": len(text.split()),
                     "upper": text.upper(), "worker": os.getpid()})


if __name__ == "__main__":
    key = os.environ["SIDECAR_AUTHKEY"].encode()
    if sys.argv[1] == "serve":
        serve(key)
    else:
        work(sys.argv[2], key)
