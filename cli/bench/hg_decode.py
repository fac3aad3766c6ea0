# Copyright 2026 the @sidecar/ipc authors. MIT license.
"""The reference for `ipc hg decode`: Mercurial's own readframe, input
streams (stream decoders) and cborutil, printing what `ipc hg decode`
prints (the human frame line and every CBOR value's repr).

Usage: hg_decode.py CAPTURE
"""
import sys

from mercurial import ui as uimod, wireprotoframing as framing
from mercurial.utils import cborutil, stringutil


def main():
    framing.populatestreamencoders()
    ui = uimod.ui()
    out = sys.stdout.buffer
    streams = {}
    decoders = {}
    with open(sys.argv[1], 'rb') as fh:
        while True:
            frame = framing.readframe(fh)
            if frame is None:
                break
            sid = frame.streamid
            if frame.streamflags & framing.STREAM_FLAG_BEGIN_STREAM:
                streams[sid] = framing.inputstream(sid)
            payload = frame.payload
            if frame.streamflags & framing.STREAM_FLAG_ENCODING_APPLIED:
                payload = streams[sid].decode(payload)
            out.write(b'%d %d %d %d %d %d\n' % (
                frame.requestid, sid, frame.streamflags, frame.typeid,
                frame.flags, len(frame.payload)))
            if frame.typeid == framing.FRAME_TYPE_STREAM_SETTINGS:
                values = cborutil.decodeall(payload)
                streams[sid].setdecoder(ui, values[0], values[1:])
                continue
            if frame.typeid == framing.FRAME_TYPE_COMMAND_DATA:
                continue
            key = (sid, frame.requestid, frame.typeid)
            d = decoders.setdefault(key, cborutil.bufferingdecoder())
            d.decode(payload)
            for value in d.getavailable():
                out.write(b'  cbor: %s\n' % stringutil.pprint(value))


if __name__ == '__main__':
    main()
