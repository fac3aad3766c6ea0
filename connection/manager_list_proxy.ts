// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * Proxies to a shared `list` ({@linkcode ListProxy}), `Namespace`
 * ({@linkcode NamespaceProxy}), `Value` ({@linkcode ValueProxy}) and
 * `Array` ({@linkcode ArrayProxy}).
 *
 * @module
 */
import { ManagerProxy } from "./manager_proxy.ts";
import { PyGlobal, PyReduce } from "./pickle_reduce.ts";
import { Tuple } from "./pickle_types.ts";

const SLICE = new PyGlobal("builtins", "slice");

/**
 * A `list` (typeid `list`; CPython's `ListProxy`).
 *
 * @example Usage
 * ```ts ignore
 * await using l = await manager.list([1, 2]);
 * await l.append(3);
 * assert.deepEqual(await l.slice(1), [2, 3]);
 * ```
 */
export class ListProxy extends ManagerProxy {
  /** Pickles as CPython's `multiprocessing.managers.ListProxy`. */
  static override readonly pythonClass: string | undefined = "ListProxy";

  /**
   * `l.append(value)`.
   *
   * @param value The value.
   * @returns Resolves when appended.
   *
   * @example Usage
   * ```ts ignore
   * await l.append(1);
   * ```
   */
  async append(value: unknown): Promise<void> {
    await this.call("append", [value]);
  }

  /**
   * `l.extend(values)`.
   *
   * @param values The values.
   * @returns Resolves when extended.
   *
   * @example Usage
   * ```ts ignore
   * await l.extend([1, 2]);
   * ```
   */
  async extend(values: readonly unknown[]): Promise<void> {
    await this.call("extend", [values]);
  }

  /**
   * `l[index]` (negative counts from the end; `IndexError` when out of range).
   *
   * @param index The index.
   * @returns The item.
   *
   * @example Usage
   * ```ts ignore
   * assert.equal(await l.get(-1), 3);
   * ```
   */
  get(index: number): Promise<unknown> {
    return this.call("__getitem__", [index]);
  }

  /**
   * `l[start:stop]`.
   *
   * @param start First index (`undefined`: from the start).
   * @param stop End index, excluded (`undefined`: to the end).
   * @returns The items.
   *
   * @example Usage
   * ```ts ignore
   * assert.deepEqual(await l.slice(0, 2), [1, 2]);
   * ```
   */
  async slice(start?: number, stop?: number): Promise<unknown[]> {
    const s = new PyReduce(
      SLICE,
      new Tuple([start ?? null, stop ?? null, null]),
    );
    return await this.call("__getitem__", [s]) as unknown[];
  }

  /**
   * `l[index] = value`.
   *
   * @param index The index.
   * @param value The value.
   * @returns Resolves when set.
   *
   * @example Usage
   * ```ts ignore
   * await l.set(0, "first");
   * ```
   */
  async set(index: number, value: unknown): Promise<void> {
    await this.call("__setitem__", [index, value]);
  }

  /**
   * `del l[index]`.
   *
   * @param index The index.
   * @returns Resolves when deleted.
   *
   * @example Usage
   * ```ts ignore
   * await l.delete(0);
   * ```
   */
  async delete(index: number): Promise<void> {
    await this.call("__delitem__", [index]);
  }

  /**
   * `len(l)`.
   *
   * @returns The length.
   *
   * @example Usage
   * ```ts ignore
   * assert.equal(await l.length(), 3);
   * ```
   */
  async length(): Promise<number> {
    return Number(await this.call("__len__"));
  }

  /**
   * `value in l`.
   *
   * @param value The value.
   * @returns Whether it is there.
   *
   * @example Usage
   * ```ts ignore
   * assert.ok(await l.includes(1));
   * ```
   */
  async includes(value: unknown): Promise<boolean> {
    return (await this.call("__contains__", [value])) === true;
  }

  /**
   * `l.insert(index, value)`.
   *
   * @param index Where.
   * @param value The value.
   * @returns Resolves when inserted.
   *
   * @example Usage
   * ```ts ignore
   * await l.insert(0, "head");
   * ```
   */
  async insert(index: number, value: unknown): Promise<void> {
    await this.call("insert", [index, value]);
  }

  /**
   * `l.pop([index])`.
   *
   * @param args The index, if any (the last item by default).
   * @returns The removed item.
   *
   * @example Usage
   * ```ts ignore
   * assert.equal(await l.pop(), 3);
   * ```
   */
  pop(...args: [index?: number]): Promise<unknown> {
    return this.call("pop", args);
  }

  /**
   * `l.remove(value)` (`ValueError` when absent).
   *
   * @param value The value.
   * @returns Resolves when removed.
   *
   * @example Usage
   * ```ts ignore
   * await l.remove("head");
   * ```
   */
  async remove(value: unknown): Promise<void> {
    await this.call("remove", [value]);
  }

  /**
   * `l.index(value)` (`ValueError` when absent).
   *
   * @param value The value.
   * @returns Its first index.
   *
   * @example Usage
   * ```ts ignore
   * assert.equal(await l.index(2), 1);
   * ```
   */
  async index(value: unknown): Promise<number> {
    return Number(await this.call("index", [value]));
  }

  /**
   * `l.count(value)`.
   *
   * @param value The value.
   * @returns How many times it occurs.
   *
   * @example Usage
   * ```ts ignore
   * assert.equal(await l.count(2), 1);
   * ```
   */
  async count(value: unknown): Promise<number> {
    return Number(await this.call("count", [value]));
  }

  /**
   * `l.reverse()`.
   *
   * @returns Resolves when reversed.
   *
   * @example Usage
   * ```ts ignore
   * await l.reverse();
   * ```
   */
  async reverse(): Promise<void> {
    await this.call("reverse");
  }

  /**
   * `l.sort(reverse=...)` (Python's ordering).
   *
   * @param options `reverse`.
   * @returns Resolves when sorted.
   *
   * @example Usage
   * ```ts ignore
   * await l.sort({ reverse: true });
   * ```
   */
  async sort(options: { reverse?: boolean } = {}): Promise<void> {
    await this.call("sort", [], { reverse: options.reverse ?? false });
  }
}

/**
 * A `Namespace` (CPython's `NamespaceProxy`): attributes by name.
 *
 * @example Usage
 * ```ts ignore
 * await using ns = await manager.namespace({ x: 1 });
 * await ns.setattr("y", 2);
 * assert.equal(await ns.getattr("x"), 1);
 * ```
 */
export class NamespaceProxy extends ManagerProxy {
  /** Pickles as CPython's `multiprocessing.managers.NamespaceProxy`. */
  static override readonly pythonClass: string | undefined = "NamespaceProxy";

  /**
   * `ns.name` (`AttributeError` when missing).
   *
   * @param name The attribute.
   * @returns Its value.
   *
   * @example Usage
   * ```ts ignore
   * await ns.getattr("x");
   * ```
   */
  getattr(name: string): Promise<unknown> {
    return this.call("__getattribute__", [name]);
  }

  /**
   * `ns.name = value`.
   *
   * @param name The attribute.
   * @param value The value.
   * @returns Resolves when set.
   *
   * @example Usage
   * ```ts ignore
   * await ns.setattr("x", 2);
   * ```
   */
  async setattr(name: string, value: unknown): Promise<void> {
    await this.call("__setattr__", [name, value]);
  }

  /**
   * `del ns.name`.
   *
   * @param name The attribute.
   * @returns Resolves when deleted.
   *
   * @example Usage
   * ```ts ignore
   * await ns.delattr("x");
   * ```
   */
  async delattr(name: string): Promise<void> {
    await this.call("__delattr__", [name]);
  }
}

/**
 * A `Value` (CPython's `ValueProxy`).
 *
 * @example Usage
 * ```ts ignore
 * await using v = await manager.value("i", 1);
 * await v.set(2);
 * assert.equal(await v.get(), 2);
 * ```
 */
export class ValueProxy extends ManagerProxy {
  /** Pickles as CPython's `multiprocessing.managers.ValueProxy`. */
  static override readonly pythonClass: string | undefined = "ValueProxy";

  /**
   * `v.get()`.
   *
   * @returns The value.
   *
   * @example Usage
   * ```ts ignore
   * await v.get();
   * ```
   */
  get(): Promise<unknown> {
    return this.call("get");
  }

  /**
   * `v.set(value)`.
   *
   * @param value The value.
   * @returns Resolves when set.
   *
   * @example Usage
   * ```ts ignore
   * await v.set(3);
   * ```
   */
  async set(value: unknown): Promise<void> {
    await this.call("set", [value]);
  }
}

/**
 * An `Array` (an `array.array` in the manager; CPython's `ArrayProxy`).
 *
 * @example Usage
 * ```ts ignore
 * await using a = await manager.array("i", [1, 2, 3]);
 * await a.set(0, 10);
 * assert.deepEqual(await a.toArray(), [10, 2, 3]);
 * ```
 */
export class ArrayProxy extends ManagerProxy {
  /** Pickles as CPython's `multiprocessing.managers.ArrayProxy`. */
  static override readonly pythonClass: string | undefined = "ArrayProxy";

  /**
   * `len(a)`.
   *
   * @returns The length.
   *
   * @example Usage
   * ```ts ignore
   * assert.equal(await a.length(), 3);
   * ```
   */
  async length(): Promise<number> {
    return Number(await this.call("__len__"));
  }

  /**
   * `a[index]`.
   *
   * @param index The index.
   * @returns The item.
   *
   * @example Usage
   * ```ts ignore
   * await a.get(0);
   * ```
   */
  get(index: number): Promise<unknown> {
    return this.call("__getitem__", [index]);
  }

  /**
   * `a[index] = value`.
   *
   * @param index The index.
   * @param value The value (of the array's type).
   * @returns Resolves when set.
   *
   * @example Usage
   * ```ts ignore
   * await a.set(0, 1);
   * ```
   */
  async set(index: number, value: unknown): Promise<void> {
    await this.call("__setitem__", [index, value]);
  }

  /**
   * The whole array (`#GETVALUE`, an `array.array` decoded to numbers,
   * bigints beyond 2^53, or a string for `'u'`/`'w'`).
   *
   * @returns The items.
   *
   * @example Usage
   * ```ts ignore
   * assert.deepEqual(await a.toArray(), [1, 2, 3]);
   * ```
   */
  async toArray(): Promise<unknown[] | string> {
    return await this.getValue() as unknown[] | string;
  }
}
