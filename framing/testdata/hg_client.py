# Copyright 2026 the @sidecar/ipc authors. MIT license.
"""Mercurial's real clientreactor over stdin/stdout, for interop tests.

Usage: hg_client.py RESULTS.json ENCODERS CALLS.json [HOST:PORT]
ENCODERS is a comma list ('none' for no settings frame). CALLS.json is a
list of [name, args, datasize] (args: JSON, strings become bytes). Writes
every request, closes stdout (half-duplex), reads the response frames and
writes per-request results as JSON to RESULTS.json. With HOST:PORT it
talks over a TCP connection instead (half-closed the same way; reads time
out after 20 s).
"""
import hashlib
import json
import os
import socket
import sys

from mercurial import ui as uimod, util, wireprotoframing as framing
from mercurial.utils import cborutil


def tobytes(v):
    if isinstance(v, str):
        return v.encode('utf-8')
    if isinstance(v, list):
        return [tobytes(x) for x in v]
    if isinstance(v, dict):
        return {tobytes(k): tobytes(x) for k, x in v.items()}
    return v


def summary(v):
    if isinstance(v, bytes) and len(v) > 64:
        return '<%d bytes sha1=%s>' % (len(v), hashlib.sha1(v).hexdigest())
    return repr(bytes(v) if isinstance(v, bytes) else v)


def testdata(n):
    return bytes((i * 7 + 3) % 251 for i in range(n))


def main():
    resultspath, encoders, callspath = sys.argv[1:4]
    sock = None
    if len(sys.argv) > 4:
        host, port = sys.argv[4].rsplit(':', 1)
        sock = socket.create_connection((host, int(port)), timeout=20)
    encs = None if encoders == 'none' else [e.encode() for e in encoders.split(',')]
    calls = json.load(open(callspath))
    ui = uimod.ui()
    reactor = framing.clientreactor(ui, hasmultiplesend=False, buffersends=True,
                                    clientcontentencoders=encs)
    requests = {}
    for name, args, datasize in calls:
        datafh = util.bytesio(testdata(datasize)) if datasize is not None else None
        request, action, meta = reactor.callcommand(name.encode(), tobytes(args), datafh=datafh)
        requests[request.requestid] = {'name': name, 'objects': [], 'eos': False, 'error': None,
                                       'decoder': cborutil.bufferingdecoder()}
    action, meta = reactor.flushcommands()
    if sock is not None:
        sock.sendall(b''.join(bytes(f) for f in meta[b'framegen']))
        sock.shutdown(socket.SHUT_WR)
        fin = sock.makefile('rb')
    else:
        out = sys.stdout.buffer
        for frame in meta[b'framegen']:
            out.write(frame)
        out.flush()
        sys.stdout.close()
        os.close(1)
        fin = sys.stdin.buffer
    errors = []
    while True:
        frame = framing.readframe(fin)
        if frame is None:
            break
        action, meta = reactor.onframerecv(frame)
        if action == b'responsedata':
            r = requests[meta[b'request'].requestid]
            r['decoder'].decode(meta[b'data'])
            for o in r['decoder'].getavailable():
                r['objects'].append(summary(o))
            if meta[b'eos']:
                r['eos'] = True
        elif action == b'error':
            if b'request' in meta:
                r = requests[meta[b'request'].requestid]
                r['error'] = [meta[b'type'].decode(), repr(meta[b'message'])]
            else:
                errors.append(meta[b'message'].decode())
    result = {'requests': {str(k): {kk: vv for kk, vv in v.items() if kk != 'decoder'}
                           for k, v in requests.items()},
              'errors': errors}
    with open(resultspath, 'w') as fh:
        json.dump(result, fh, indent=1)


if __name__ == '__main__':
    main()
