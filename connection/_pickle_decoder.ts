// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
// The safe unpickler: a stack machine over protocols 0-5 that never calls
// code it was not given (connection.md section 4). This file is the opcode
// dispatch; _pickle_build.ts holds the stack, memo and value construction,
// _pickle_text.ts the number and text payloads, _pickle_keys.ts the dict
// key equality. Every opcode costs time linear in its own bytes (plus the
// items it moves), so decoding is linear in the input.

import { OP } from "./_pickle_opcodes.ts";
import { endSharing, startSharing } from "./_pickle_keys.ts";
import {
  decodeLatin1,
  decodeLong,
  decodeRawUnicodeEscape,
  type Fail,
  parseTextFloat,
  parseTextIndex,
  parseTextInt,
} from "./_pickle_text.ts";
import {
  addMembers,
  DecoderBase,
  type DecoderSettings,
  GlobalRef,
} from "./_pickle_build.ts";
import { PyDict } from "./pickle_dict.ts";
import { ByteArray, FrozenSet, PyFloat, Tuple } from "./pickle_types.ts";

export type { DecoderSettings, GlobalFunction } from "./_pickle_build.ts";

/**
 * Decodes one pickle. Throws `UnpicklingError` for every malformed,
 * truncated, refused or over-limit input.
 */
export function decodePickle(data: Uint8Array, s: DecoderSettings): unknown {
  // The dicts of one pickle share one key interner: a key object used by
  // many dicts is interned once.
  const outer = startSharing();
  try {
    return new Decoder(data, s).run();
  } finally {
    endSharing(outer);
  }
}

class Decoder extends DecoderBase {
  readonly failText: Fail = (reason, what) => this.fail(reason, what);

  run(): unknown {
    const data = this.data;
    const view = this.view;
    const end = this.end;
    const stack = this.stack;
    const marks = this.marks;
    const s = this.s;
    const wrapFloats = s.floats === "wrap";
    const mapDicts = s.dicts === "map";
    if (end > s.maxBytes) {
      this.opPos = 0;
      this.op = data[0] ?? 0;
      this.fail(
        "limit",
        `input of ${end} bytes exceeds the maximum of ${s.maxBytes}`,
      );
    }
    let pos = 0;
    for (;;) {
      if (pos >= end) {
        this.opPos = pos;
        this.op = OP.STOP;
        this.fail("truncated", "pickle data was truncated (no STOP)");
      }
      this.opPos = pos;
      const op = data[pos++]!;
      this.op = op;
      // Pushes are `stack[this.sp++] = v`: no push() call, no regrowth.
      // The cases are number literals (the opcode's name beside each):
      // V8 then dispatches through a jump table, where `case OP.NAME`
      // compiles to one comparison after another, in source order (that
      // cost half of the decoding time).
      switch (op) {
        case 0x95: // FRAME
          this.counted(pos, 8);
          pos += 8;
          break;
        case 0x2e: { // STOP
          const sp = this.sp;
          if (
            sp === 0 || (marks.length > 0 && sp === marks[marks.length - 1])
          ) {
            this.fail("invalid", "empty stack at STOP");
          }
          const v = stack[sp - 1];
          if (v instanceof GlobalRef) {
            this.fail("refused", "a global can only be called by REDUCE");
          }
          return this.finish(v);
        }
        case 0x4e: // NONE
          stack[this.sp++] = null;
          break;
        case 0x88: // NEWTRUE
          stack[this.sp++] = true;
          break;
        case 0x89: // NEWFALSE
          stack[this.sp++] = false;
          break;
        case 0x4b: // BININT1
          this.need(pos, 1);
          stack[this.sp++] = data[pos++]!;
          break;
        case 0x4d: // BININT2
          this.need(pos, 2);
          stack[this.sp++] = data[pos]! | (data[pos + 1]! << 8);
          pos += 2;
          break;
        case 0x4a: // BININT
          this.need(pos, 4);
          stack[this.sp++] = view.getInt32(pos, true);
          pos += 4;
          break;
        case 0x8a: { // LONG1
          const n = this.counted(pos++, 1);
          stack[this.sp++] = decodeLong(data, view, pos, n, this.failText);
          pos += n;
          break;
        }
        case 0x47: { // BINFLOAT
          this.need(pos, 8);
          const f = view.getFloat64(pos, false);
          pos += 8;
          stack[this.sp++] = wrapFloats ? new PyFloat(f) : f;
          break;
        }
        case 0x8c: { // SHORT_BINUNICODE
          const n = this.counted(pos++, 1);
          stack[this.sp++] = this.str(pos, n);
          pos += n;
          break;
        }
        case 0x58: { // BINUNICODE
          const n = this.counted(pos, 4);
          pos += 4;
          stack[this.sp++] = this.str(pos, n);
          pos += n;
          break;
        }
        case 0x43: { // SHORT_BINBYTES
          const n = this.counted(pos++, 1);
          stack[this.sp++] = this.bytes(pos, n);
          pos += n;
          break;
        }
        case 0x42: { // BINBYTES
          const n = this.counted(pos, 4);
          pos += 4;
          stack[this.sp++] = this.bytes(pos, n);
          pos += n;
          break;
        }
        case 0x5d: // EMPTY_LIST
          stack[this.sp++] = [];
          break;
        case 0x7d: // EMPTY_DICT
          stack[this.sp++] = mapDicts ? new PyDict() : {};
          break;
        case 0x29: // EMPTY_TUPLE
          stack[this.sp++] = new Tuple([]);
          break;
        case 0x28: // MARK
          if (marks.length >= s.maxDepth + 1000) {
            this.fail("limit", "too many open MARKs");
          }
          marks.push(this.sp);
          break;
        case 0x85: // TUPLE1
        case 0x86: // TUPLE2
        case 0x87: { // TUPLE3
          const n = op - OP.TUPLE1 + 1;
          const sp = this.sp - n;
          if (sp < this.base()) this.fail("invalid", "stack underflow");
          const items = n === 1
            ? [stack[sp]]
            : n === 2
            ? [stack[sp], stack[sp + 1]]
            : [stack[sp], stack[sp + 1], stack[sp + 2]];
          this.noGlobalsIn(items);
          const t = new Tuple(items);
          this.deepen(t, items, 0, n);
          stack[sp] = t;
          this.sp = sp + 1;
          break;
        }
        case 0x74: // TUPLE
        case 0x91: // FROZENSET
        case 0x6c: { // LIST
          if (this.sp > this.high) this.high = this.sp;
          const m = this.popMark();
          this.checkLength(this.sp - m);
          this.noGlobals(m);
          const items = stack.slice(m, this.sp);
          const v = op === OP.TUPLE
            ? new Tuple(items)
            : op === OP.LIST
            ? items
            : new FrozenSet(items);
          this.deepen(v, items, 0, items.length);
          stack[m] = v;
          this.sp = m + 1;
          break;
        }
        case 0x64: { // DICT
          if (this.sp > this.high) this.high = this.sp;
          const m = this.popMark();
          const d = this.setItems(mapDicts ? new PyDict() : {}, m);
          stack[m] = d;
          this.sp = m + 1;
          break;
        }
        case 0x61: { // APPEND
          const v = this.pop();
          const list = this.top();
          if (!Array.isArray(list)) {
            this.fail("invalid", "APPEND target is not a list");
          }
          if (v instanceof GlobalRef) {
            this.fail("refused", "a global can only be called by REDUCE");
          }
          this.checkLength(list.length + 1);
          list.push(v);
          if (typeof v === "object" && v !== null) {
            this.deepen(list, stack, this.sp, this.sp + 1);
          }
          break;
        }
        case 0x65: { // APPENDS
          if (this.sp > this.high) this.high = this.sp;
          const m = this.popMark();
          if (m === 0 || (marks.length > 0 && m <= marks[marks.length - 1]!)) {
            this.fail("invalid", "stack underflow");
          }
          const list = stack[m - 1];
          if (!Array.isArray(list)) {
            this.fail("invalid", "APPENDS target is not a list");
          }
          const sp = this.sp;
          this.checkLength(list.length + sp - m);
          this.noGlobals(m);
          for (let i = m; i < sp; i++) list.push(stack[i]);
          this.deepen(list, stack, m, sp);
          this.sp = m;
          break;
        }
        case 0x73: { // SETITEM
          const sp = this.sp - 3;
          if (sp < this.base()) this.fail("invalid", "stack underflow");
          stack[sp] = this.setItems(stack[sp], sp + 1);
          this.sp = sp + 1;
          break;
        }
        case 0x75: { // SETITEMS
          if (this.sp > this.high) this.high = this.sp;
          const m = this.popMark();
          if (m === 0 || (marks.length > 0 && m <= marks[marks.length - 1]!)) {
            this.fail("invalid", "stack underflow");
          }
          stack[m - 1] = this.setItems(stack[m - 1], m);
          this.sp = m;
          break;
        }
        case 0x94: // MEMOIZE
          this.put(this.memoSize);
          break;
        case 0x71: // BINPUT
          this.need(pos, 1);
          this.put(data[pos++]!);
          break;
        case 0x72: // LONG_BINPUT
          this.need(pos, 4);
          this.put(view.getUint32(pos, true));
          pos += 4;
          break;
        case 0x68: // BINGET
          this.need(pos, 1);
          this.pushFromMemo(data[pos++]!);
          break;
        case 0x6a: // LONG_BINGET
          this.need(pos, 4);
          this.pushFromMemo(view.getUint32(pos, true));
          pos += 4;
          break;
        default:
          // Every other opcode: protocol 0-3 text forms, globals, sets,
          // refused opcodes (a smaller loop compiles to better code).
          pos = this.coldOp(op, pos);
      }
    }
  }

  /**
   * The opcodes that pickles from Python 3 rarely hold; returns the
   * position after the opcode's argument.
   */
  coldOp(op: number, pos: number): number {
    const data = this.data;
    const view = this.view;
    const stack = this.stack;
    const marks = this.marks;
    const s = this.s;
    const wrapFloats = s.floats === "wrap";
    switch (op) {
      case 0x80: { // PROTO
        this.need(pos, 1);
        const p = data[pos++]!;
        if (p > 5) this.fail("invalid", `unsupported pickle protocol: ${p}`);
        break;
      }
      case 0x8b: { // LONG4
        this.need(pos, 4);
        const n = view.getInt32(pos, true);
        pos += 4;
        if (n < 0) {
          this.fail("invalid", "LONG pickle has negative byte count");
        }
        this.need(pos, n);
        stack[this.sp++] = decodeLong(data, view, pos, n, this.failText);
        pos += n;
        break;
      }
      case 0x49: // INT
      case 0x4c: { // LONG
        const nl = this.readLine(pos);
        stack[this.sp++] = parseTextInt(
          data,
          pos,
          nl,
          op === OP.LONG,
          this.failText,
        );
        pos = nl + 1;
        break;
      }
      case 0x46: { // FLOAT
        const nl = this.readLine(pos);
        const f = parseTextFloat(data, pos, nl, this.failText);
        pos = nl + 1;
        stack[this.sp++] = wrapFloats ? new PyFloat(f) : f;
        break;
      }
      case 0x8d: { // BINUNICODE8
        const n = this.counted(pos, 8);
        pos += 8;
        stack[this.sp++] = this.str(pos, n);
        pos += n;
        break;
      }
      case 0x56: { // UNICODE
        const nl = this.readLine(pos);
        stack[this.sp++] = decodeRawUnicodeEscape(
          data,
          pos,
          nl,
          this.failText,
        );
        pos = nl + 1;
        break;
      }
      case 0x55: // SHORT_BINSTRING
      case 0x54: { // BINSTRING
        let n: number;
        if (op === OP.SHORT_BINSTRING) {
          this.need(pos, 1);
          n = data[pos++]!;
        } else {
          this.need(pos, 4);
          n = view.getInt32(pos, true);
          pos += 4;
          if (n < 0) {
            this.fail("invalid", "BINSTRING pickle has negative byte count");
          }
        }
        this.need(pos, n);
        for (let i = pos; i < pos + n; i++) {
          if (data[i]! >= 0x80) {
            this.fail("invalid", "non-ASCII byte in a Python 2 str");
          }
        }
        stack[this.sp++] = decodeLatin1(data, pos, pos + n);
        pos += n;
        break;
      }
      case 0x8e: // BINBYTES8
      case 0x96: { // BYTEARRAY8
        const n = this.counted(pos, 8);
        pos += 8;
        stack[this.sp++] = op === OP.BYTEARRAY8
          ? new ByteArray(data.slice(pos, pos + n))
          : this.bytes(pos, n);
        pos += n;
        break;
      }
      case 0x8f: // EMPTY_SET
        stack[this.sp++] = new Set();
        break;
      case 0x30: // POP
        if (marks.length > 0 && this.sp === marks[marks.length - 1]) {
          marks.pop(); // Python: POP of a MARK drops the mark
        } else {
          this.pop();
        }
        break;
      case 0x31: { // POP_MARK
        const m = this.popMark();
        if (this.globalsOnStack > 0) {
          for (let i = m; i < this.sp; i++) this.popped(stack[i]);
        }
        this.sp = m;
        break;
      }
      case 0x32: { // DUP
        const v = this.top();
        if (v instanceof GlobalRef) this.globalsOnStack++;
        stack[this.sp++] = v;
        break;
      }
      case 0x90: { // ADDITEMS
        if (this.sp > this.high) this.high = this.sp;
        const m = this.popMark();
        if (m === 0 || (marks.length > 0 && m <= marks[marks.length - 1]!)) {
          this.fail("invalid", "stack underflow");
        }
        const set = stack[m - 1];
        if (!(set instanceof Set)) {
          this.fail("invalid", "ADDITEMS target is not a set");
        }
        const sp = this.sp;
        this.checkLength(set.size + sp - m);
        this.noGlobals(m);
        addMembers(set, stack, m, sp);
        this.deepen(set, stack, m, sp);
        this.sp = m;
        break;
      }
      case 0x70: { // PUT
        const nl = this.readLine(pos);
        this.put(parseTextIndex(data, pos, nl, this.failText));
        pos = nl + 1;
        break;
      }
      case 0x67: { // GET
        const nl = this.readLine(pos);
        this.pushFromMemo(parseTextIndex(data, pos, nl, this.failText));
        pos = nl + 1;
        break;
      }
      case 0x63: { // GLOBAL
        const nl1 = this.readLine(pos);
        const nl2 = this.readLine(nl1 + 1);
        const module = this.str(pos, nl1 - pos);
        const name = this.str(nl1 + 1, nl2 - nl1 - 1);
        pos = nl2 + 1;
        this.pushGlobal(module, name);
        break;
      }
      case 0x93: { // STACK_GLOBAL
        const name = this.pop();
        const module = this.pop();
        if (typeof name !== "string" || typeof module !== "string") {
          this.fail("invalid", "STACK_GLOBAL requires str");
        }
        this.pushGlobal(module, name);
        break;
      }
      case 0x52: { // REDUCE
        const args = this.pop();
        const callable = this.pop();
        if (args instanceof GlobalRef) {
          this.fail("refused", "a global can only be called by REDUCE");
        }
        stack[this.sp++] = this.reduce(callable, args);
        break;
      }
      case 0x81: // NEWOBJ: only for classes allowed by `reconstruct`
        this.newobj();
        break;
      case 0x62: // BUILD: only on objects those classes made
        this.build();
        break;
      case 0x50: // PERSID
      case 0x51: // BINPERSID
      case 0x69: // INST
      case 0x6f: // OBJ
      case 0x92: // NEWOBJ_EX
      case 0x82: // EXT1
      case 0x83: // EXT2
      case 0x84: // EXT4
        this.fail("refused", "this opcode can execute code and is refused");
        break;
      case 0x97: // NEXT_BUFFER
      case 0x98: // READONLY_BUFFER
        this.fail("refused", "out-of-band buffers are not supported");
        break;
      default:
        this.fail("invalid", "invalid opcode");
    }
    return pos;
  }
}
