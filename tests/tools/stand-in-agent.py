#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A stand-in for the pre-copy agent's control socket (briefs' agent protocol),
for rpc.bats until the real agent is in the tree: it listens on
DIR/agent.sock (SOCK_SEQPACKET), appends every request to DIR/requests.log and
answers: status -> ok, tracker TRACKER; layer/final -> refused (the layer
itself is the real agent's job); stop -> ok, then exits.

  stand-in-agent.py DIR TRACKER
Prints READY once listening.  Exits after 60 s at the latest.
"""
import json
import os
import signal
import socket
import sys

d, tracker = sys.argv[1], sys.argv[2]
signal.alarm(60)
path = os.path.join(d, "agent.sock")
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.bind(path)
os.chmod(path, 0o600)
s.listen(4)
print("READY", flush=True)
while True:
    c, _ = s.accept()
    data = c.recv(65536)
    if not data:  # a liveness probe (connect, close)
        c.close()
        continue
    req = json.loads(data)
    with open(os.path.join(d, "requests.log"), "a") as f:
        f.write(json.dumps(req) + "\n")
    cmd = req.get("cmd")
    if cmd == "status":
        rep = {"ok": True, "state": "precopy", "tracker": tracker}
    elif cmd == "stop":
        rep = {"ok": True}
    else:
        rep = {"ok": False, "error": "the stand-in agent takes no layers"}
    c.send(json.dumps(rep).encode())
    c.close()
    if cmd == "stop":
        os.unlink(path)
        sys.exit(0)
