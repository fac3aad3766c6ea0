# Copyright 2026 the @sidecar/ipc authors. MIT license.
"""Mercurial's real serverreactor over stdin/stdout, for interop tests.

Reads frames with wireprotoframing.readframe, feeds serverreactor, answers
canned commands through the reactor and writes the frames to stdout.
Usage: hg_server.py [--defer]
"""
import hashlib
import sys

from mercurial import error, ui as uimod, wireprotoframing as framing, wireprototypes
from mercurial.utils import cborutil


def main():
    defer = '--defer' in sys.argv
    ui = uimod.ui()
    reactor = framing.serverreactor(ui, deferoutput=defer)
    fin = sys.stdin.buffer
    fout = sys.stdout.buffer
    outstream = None

    def sendframes(meta):
        for frame in meta[b'framegen']:
            fout.write(frame)
        fout.flush()

    def objects(command, args, data):
        if command == b'echo':
            yield {b'command': command, b'args': args, b'data': data}
        elif command == b'big':
            yield b'x' * args[b'size']
        elif command == b'many':
            for i in range(args[b'count']):
                yield i
        elif command == b'chunks':
            yield wireprototypes.indefinitebytestringresponse(
                [b'a' * 10, b'b' * 40000, b'c'])
        elif command == b'encoded':
            yield wireprototypes.encodedresponse(
                b''.join(cborutil.streamencode({b'pre': b'encoded'})))
        elif command == b'digest':
            yield {b'size': len(data or b''),
                   b'sha1': hashlib.sha1(data or b'').hexdigest().encode('ascii')}
        elif command == b'cmderror':
            raise error.WireprotoCommandError(b'bad thing: %s', [b'oops'])
        elif command == b'bigerror':
            # Never split: one command-error frame of 48 + size bytes.
            raise error.WireprotoCommandError(b'bad: %s', [b'z' * args[b'size']])
        elif command == b'boom':
            yield b'partial'
            raise ValueError('boom happened')
        else:
            raise error.WireprotoCommandError(b'unknown command: %s', [command])

    while True:
        frame = framing.readframe(fin)
        if frame is None:
            break
        action, meta = reactor.onframerecv(frame)
        if action == b'error':
            sys.stderr.write('reactor error: %s\n' % meta[b'message'].decode())
            sys.exit(3)
        if action == b'runcommand':
            if outstream is None:
                outstream = reactor.makeoutputstream()
            rid = meta[b'requestid']
            if meta[b'command'] == b'servererror':
                action, meta2 = reactor.onservererror(outstream, rid, b'server broke')
            else:
                action, meta2 = reactor.oncommandresponsereadyobjects(
                    outstream, rid,
                    objects(meta[b'command'], meta[b'args'], meta[b'data']))
            if action == b'sendframes':
                sendframes(meta2)
    action, meta = reactor.oninputeof()
    if action == b'sendframes':
        sendframes(meta)


if __name__ == '__main__':
    main()
