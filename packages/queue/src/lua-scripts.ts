import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ChainableCommander } from 'ioredis';
import type { RedisClient } from './connection.js';

/** A Lua script loaded from `lua/<command>-<numKeys>.lua`. */
export interface LuaScript {
  /** The `<command>` part of the file name, e.g. `mark-processing`. */
  readonly name: string;
  readonly numberOfKeys: number;
  /** The script text with its includes inlined. */
  readonly lua: string;
}

const INCLUDE_LINE = /^--- @include (\S+)\s*$/m;

/** This package's Lua helpers (`now_ms`, `is_running`, `push_history`, …), includable by other packages. */
export const QUEUE_LUA_INCLUDES_URL = new URL('./lua/includes/', import.meta.url);

/**
 * Loads every `<command>-<numKeys>.lua` of a folder and inlines `--- @include name` lines
 * from its `includes/` subfolder or from `extraIncludeFolders` (BullMQ's layout, without
 * its build step).
 */
export function loadLuaScripts(folder: URL, extraIncludeFolders: readonly URL[] = []): LuaScript[] {
  const dir = fileURLToPath(folder);
  const includeDirs = [`${dir}/includes`, ...extraIncludeFolders.map((url) => fileURLToPath(url))];
  const readInclude = (name: string): string => {
    for (const includeDir of includeDirs) {
      try {
        return readFileSync(`${includeDir}/${name}.lua`, 'utf8');
      } catch {
        // try the next folder
      }
    }
    throw new Error(`Lua include ${name} not found in ${includeDirs.join(', ')}`);
  };
  const scripts: LuaScript[] = [];
  for (const file of readdirSync(dir).sort()) {
    const match = /^([a-z0-9-]+)-(\d+)\.lua$/.exec(file);
    if (match === null) continue;
    let lua = readFileSync(`${dir}/${file}`, 'utf8');
    for (let include = INCLUDE_LINE.exec(lua); include !== null; include = INCLUDE_LINE.exec(lua)) {
      const body = readInclude(include[1] as string);
      lua = lua.replace(include[0], body);
    }
    scripts.push({ name: match[1] as string, numberOfKeys: Number(match[2]), lua });
  }
  return scripts;
}

type ScriptCommand = (...args: (string | number)[]) => Promise<unknown>;

/**
 * A named set of Lua scripts registered on connections with ioredis' `defineCommand`
 * (EVALSHA with a transparent reload), usable directly and inside pipelines.
 */
export class ScriptSet {
  private readonly byName = new Map<string, LuaScript>();
  private readonly registered = new WeakSet<object>();

  /** `namespace` keeps command names of different packages apart (e.g. `kaiStatus`). */
  constructor(
    private readonly namespace: string,
    scripts: readonly LuaScript[],
  ) {
    for (const script of scripts) this.byName.set(script.name, script);
  }

  private commandName(name: string): string {
    const camel = name.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
    return `${this.namespace}${camel.charAt(0).toUpperCase()}${camel.slice(1)}`;
  }

  private ensure(client: RedisClient): void {
    if (this.registered.has(client)) return;
    for (const script of this.byName.values()) {
      client.defineCommand(this.commandName(script.name), {
        numberOfKeys: script.numberOfKeys,
        lua: script.lua,
      });
    }
    this.registered.add(client);
  }

  private script(name: string, keys: readonly string[]): LuaScript {
    const script = this.byName.get(name);
    if (script === undefined) throw new Error(`no Lua script named ${name}`);
    if (keys.length !== script.numberOfKeys) {
      throw new Error(`Lua script ${name} takes ${script.numberOfKeys} keys, got ${keys.length}`);
    }
    return script;
  }

  /** Runs script `name` on `client`. */
  run(client: RedisClient, name: string, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
    this.script(name, keys);
    this.ensure(client);
    const command = (client as unknown as Record<string, ScriptCommand>)[this.commandName(name)] as ScriptCommand;
    return command.call(client, ...keys, ...args);
  }

  /**
   * A pipeline of `client` on which this set's scripts can be queued with {@link queue}. On a
   * Redis Cluster every key of one pipeline must be in one slot (one `{hash-tag}`): for work
   * spanning queues, run one call per queue concurrently instead.
   */
  pipeline(client: RedisClient): ChainableCommander {
    // ioredis copies custom commands onto a pipeline when it is created, so register first.
    this.ensure(client);
    return client.pipeline();
  }

  /** Queues script `name` on a pipeline made by {@link pipeline}. */
  queue(pipeline: ChainableCommander, name: string, keys: readonly string[], args: readonly (string | number)[]): void {
    this.script(name, keys);
    const command = (pipeline as unknown as Record<string, (...a: (string | number)[]) => unknown>)[
      this.commandName(name)
    ] as (...a: (string | number)[]) => unknown;
    command.call(pipeline, ...keys, ...args);
  }
}
