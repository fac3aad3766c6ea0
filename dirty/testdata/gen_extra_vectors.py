# Copyright 2026 the @sidecar/ipc authors. MIT license.
"""Makes extra-vectors.json with gunicorn 26.1.0's own encoder.

Run with a local copy of gunicorn's source (never committed here):

    GUNICORN_SRC=/tmp/gunicorn-src PYTHONHASHSEED=0 python3 -S \
        dirty/testdata/gen_extra_vectors.py > dirty/testdata/extra-vectors.json

The entries use the same fields as ../shared/vectors/dirty-vectors.json and
add two kinds: utf8_decode_error / utf8_encode_error (CPython's exact
UnicodeDecodeError / UnicodeEncodeError texts, which gunicorn embeds).
"""
import json
import os
import sys

sys.path.insert(0, os.environ["GUNICORN_SRC"])

from gunicorn.dirty import protocol as P  # noqa: E402
from gunicorn.dirty.errors import (  # noqa: E402
    DirtyAppError, DirtyError, DirtyProtocolError)
from gunicorn.dirty.tlv import TLVEncoder as E  # noqa: E402

B = P.BinaryProtocol
out = []


def tagged(v):
    if v is None:
        return {"t": "none"}
    if isinstance(v, bool):
        return {"t": "bool", "v": v}
    if isinstance(v, int):
        return {"t": "int", "v": str(v)}
    if isinstance(v, float):
        return {"t": "float", "v": repr(v)}
    if isinstance(v, str):
        return {"t": "str", "v": v}
    if isinstance(v, bytes):
        return {"t": "bytes", "hex": v.hex()}
    if isinstance(v, list):
        return {"t": "list", "items": [tagged(x) for x in v]}
    if isinstance(v, dict):
        return {"t": "dict", "items": [[tagged(k), tagged(x)] for k, x in v.items()]}
    raise TypeError(type(v))


def tlv(name, expr):
    value = eval(expr)
    data = E.encode(value)
    decoded = E.decode_full(data)
    out.append({"kind": "tlv", "name": name, "python_repr": expr, "hex": data.hex(),
                "decodes_to_repr": repr(decoded), "expected": tagged(decoded)})


def message(name, expr):
    data = eval(expr)
    t, i, payload = B.decode_message(data)
    out.append({"kind": "message", "name": name, "python_repr": expr, "hex": data.hex(),
                "header_hex": data[:16].hex(), "payload_hex": data[16:].hex(),
                "decoded_type": t, "decoded_id": str(i),
                "decoded_payload_repr": repr(payload), "expected": tagged(payload)})


def decode_error(kind, name, hexstr):
    data = bytes.fromhex(hexstr)
    fn = E.decode_full if kind == "tlv_decode_error" else B.decode_message
    try:
        fn(data)
    except DirtyProtocolError as e:
        out.append({"kind": kind, "name": name, "python_repr": f"decode({hexstr!r})",
                    "hex": hexstr, "exception": type(e).__name__,
                    "error_message": e.message, "error_details": e.details})
        return
    raise AssertionError(name)


def lenient(kind, name, hexstr):
    data = bytes.fromhex(hexstr)
    if kind == "tlv_decode_lenient":
        v = E.decode_full(data)
    else:
        v = B.decode_message(data)[2]
    out.append({"kind": kind, "name": name, "python_repr": f"decode({hexstr!r})",
                "hex": hexstr, "decodes_to_repr": repr(v), "expected": tagged(v)})


for name, expr in [
    ("int_zero", "0"), ("int_42", "42"), ("int_2_pow_53", "2**53"),
    ("int_minus_2_pow_53", "-2**53"), ("int_2_pow_53_minus_1", "2**53-1"),
    ("float_2_pow_60", "float(2**60)"), ("float_tiny", "5e-324"),
    ("float_0_1", "0.1"), ("float_minus_2_0", "-2.0"),
    ("str_bom", "'\\ufeffx'"), ("str_nul", "'a\\x00b'"),
    ("bytes_all", "bytes(range(256))"),
    ("list_1000_floats", "[i / 7 for i in range(1000)]"),
    ("dict_unicode_keys", "{'\\u00e9': 1, '': 2, '__proto__': 3, '10': 4, '2': 5}"),
    ("dict_deep", "{'a': {'b': {'c': [1, {'d': None}]}}}"),
]:
    tlv(name, expr)

for name, expr in [
    ("end", "B.encode_end(12)"),
    ("status", "B.encode_status(13)"),
    ("status_max_id", "B.encode_status(2**64 - 1)"),
    ("manage_remove", "B.encode_manage(15, P.MANAGE_OP_REMOVE, 5)"),
    ("stash_clear", "B.encode_stash(25, P.STASH_OP_CLEAR, 'sessions')"),
    ("stash_info", "B.encode_stash(26, P.STASH_OP_INFO, 'sessions')"),
    ("stash_delete_table", "B.encode_stash(28, P.STASH_OP_DELETE_TABLE, 'sessions')"),
    ("stash_tables", "B.encode_stash(29, P.STASH_OP_TABLES, '')"),
    ("stash_exists_key", "B.encode_stash(31, P.STASH_OP_EXISTS, 'sessions', key='user:1')"),
    ("stash_put_int_key", "B.encode_stash(32, P.STASH_OP_PUT, 't', key=7, value=[1.5, b'x'])"),
    ("response_float_list", "B.encode_response(40, [0.5, 1.0, 2])"),
    ("response_big_int", "B.encode_response(41, 2**63 - 1)"),
    ("response_live_deadbeef", "B.encode_response(0xDEADBEEF, 3)"),
    ("error_app", "B.encode_error(42, DirtyAppError('kaput', app_path='m:C', action='fail', traceback='Traceback...'))"),
    ("error_generic", "B.encode_error(43, DirtyError('No dirty workers available'))"),
    ("chunk_none", "B.encode_chunk(44, None)"),
    ("request_kwargs_order", "B.encode_request(45, 'm:C', 'f', (1, 'x'), {'z': 1, 'a': 2.0})"),
]:
    message(name, expr)

for name, h in [
    ("bool_missing_in_list", "200000000101"),
    ("float_short", "063ff0"),
    ("dict_key_none", "21000000010000"),
    ("dict_key_float", "2100000001063ff000000000000000"),
    ("dict_key_list", "2100000001200000000000"),
    ("dict_key_bytes", "21000000011000000000" + "00"),
    ("list_too_large", "2000100001"),
    ("unknown_type_0x02", "02"),
    ("unknown_type_0x07", "0700"),
    ("trailing_one", "0000"),
    ("str_bad_continuation", "1100000003e228a1"),
    ("str_truncated_seq", "1100000002e282"),
    ("nested_truncated", "210000000111000000016120000000020500"),
]:
    decode_error("tlv_decode_error", name, h)

for name, h in [
    ("header_empty", ""),
    ("header_15", "474401020000000000000000000000"),
    ("bad_magic_xx", "58580102000000000000000000000001"),
    ("bad_magic_quote", "27440102000000000000000000000001"),
    ("bad_magic_nonprint", "00ff0102000000000000000000000001"),
    ("bad_magic_and_version", "4745ff02000000000000000000000001"),
    ("bad_version_0", "47440001000000000000000000000000"),
    ("unknown_type_0x00", "47440100000000000000000000000000"),
    ("unknown_type_0x13", "47440113000000000000000000000000"),
    ("type_checked_before_length", "474401ffffffffff0000000000000000"),
    ("too_large_max_u32", "47440102ffffffff0000000000000000"),
    ("payload_bad_tlv", "474401020000000100000000000000010f"),
    ("payload_trailing", "4744010200000002000000000000000100" + "00"),
    ("payload_truncated_dict", "47440102000000050000000000000001" + "2100000001"),
]:
    decode_error("message_decode_error", name, h)

for name, h in [
    ("bool_0x02", "0102"),
    ("dict_duplicate_keys", "21000000021100000001610500000000000000011100000001610500000000000000" + "02"),
]:
    lenient("tlv_decode_lenient", name, h)

lenient("message_decode_lenient", "status_with_payload",
        "47440111000000050000000000000001" + "2100000000")

for name, h in [
    ("invalid_start", "80"), ("invalid_start_c0", "c0af"), ("invalid_start_f5", "f5"),
    ("end_of_data_1", "c3"), ("end_of_data_2", "e282"), ("end_of_data_3", "f09f98"),
    ("cont_e2", "e228a1"), ("cont_e2_second", "e28228"), ("cont_e0", "e08080"),
    ("surrogate_ed", "eda080"), ("cont_f0", "f080"), ("over_f4", "f4908080"),
    ("mid_string", "6162f09f9828"), ("after_ascii", "61f09f"), ("lone_f0", "f0"),
    ("ascii_then_bad", "68656c6c6fff"),
]:
    try:
        bytes.fromhex(h).decode("utf-8")
    except UnicodeDecodeError as e:
        out.append({"kind": "utf8_decode_error", "name": name, "python_repr": "",
                    "hex": h, "error_message": str(e)})

for name, s in [
    ("lone_high", "\ud800"), ("lone_low_after_ascii", "ab\udc00"),
    ("two_surrogates", "\ud800\ud801x"), ("after_astral", "\U0001F600\udfff"),
]:
    try:
        s.encode("utf-8")
    except UnicodeEncodeError as e:
        out.append({"kind": "utf8_encode_error", "name": name,
                    "python_repr": json.dumps(s), "hex": "", "error_message": str(e)})

json.dump(out, sys.stdout, indent=1, ensure_ascii=True)
print()
