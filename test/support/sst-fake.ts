/**
 * A recording fake of the globals SST gives `sst.config.ts` and `stacks/*` (`$config`, `$app`,
 * `sst.*`, `aws.*`, `$util`, `$interpolate`, `$jsonStringify`, `$resolve`, `$output`...), so the
 * real stack modules can run in a unit test without Pulumi or an AWS account.
 *
 * - `new sst.aws.X(name, args)` / `new aws.ns.X(name, args)` records `{ type: "sst.aws.X", name, args }`
 *   and returns a resource whose every property is a placeholder output. A placeholder's value is
 *   its path, e.g. `sst.aws.Queue(IngestOrdersDlq).arn` or `...nodes.queue.name`, so tests can tell
 *   which resource an ARN came from.
 * - Calling a function such as `aws.cloudwatch.getEventBusOutput({ name })` records an invoke and
 *   returns a placeholder too.
 * - Outputs support `.apply` and property lifting; `resolve()` turns any value holding outputs
 *   into plain data (what Pulumi would send to AWS, with placeholders for unknowns).
 * It knows nothing about individual components; it does not re-implement SST.
 */

const OUTPUT = Symbol("fake-output");

export interface FakeOutput<T = unknown> {
  readonly [OUTPUT]: true;
  readonly value: T;
  apply<U>(fn: (value: T) => U): FakeOutput<unknown>;
}

export interface Recorded {
  /** `sst.aws.Queue`, `aws.cloudwatch.EventRule`... */
  type: string;
  /** Logical name (first constructor argument). */
  name: string;
  args: Record<string, unknown>;
  opts: unknown;
}

export interface Invoke {
  fn: string;
  args: unknown[];
}

export interface Log {
  level: "debug" | "info" | "warn" | "error";
  message: string;
}

export const isOutput = (v: unknown): v is FakeOutput =>
  (typeof v === "object" || typeof v === "function") && v !== null && OUTPUT in v;

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && Object.getPrototypeOf(v) === Object.prototype;

/** Plain data for any value that may hold outputs (deeply). */
export function resolve(value: unknown): unknown {
  if (isOutput(value)) return resolve(value.value);
  if (Array.isArray(value)) return value.map(resolve);
  if (isPlainObject(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolve(v)]));
  }
  return value;
}

/** Names that must not look like outputs, or awaiting/printing/matching them misbehaves. */
const RESERVED = new Set([
  "then",
  "toJSON",
  "asymmetricMatch",
  "$$typeof",
  "nodeType",
  "constructor",
]);

/** An output of `value`; reading an unknown property lifts it like Pulumi does. */
export function output(value: unknown): FakeOutput {
  if (isOutput(value)) return value;
  const base = {
    [OUTPUT]: true as const,
    value,
    apply: (fn: (v: unknown) => unknown) => output(resolve(fn(value))),
    toString: () => `<fake output ${String(value)}>`,
  };
  return new Proxy(base, {
    get(target, prop, receiver) {
      if (typeof prop === "symbol" || prop in target || RESERVED.has(prop)) {
        return Reflect.get(target, prop, receiver);
      }
      if (isPlainObject(value) && prop in value) return output(value[prop]);
      return undefined;
    },
  }) as FakeOutput;
}

/** A placeholder for an unknown value at `path`: its value is the path, and sub-paths are placeholders. */
function placeholder(path: string): FakeOutput {
  const base = {
    [OUTPUT]: true as const,
    value: path,
    apply: (fn: (v: unknown) => unknown) => output(resolve(fn(path))),
    toString: () => path,
  };
  return new Proxy(base, {
    get(target, prop, receiver) {
      if (typeof prop === "symbol" || prop in target || RESERVED.has(prop)) {
        return Reflect.get(target, prop, receiver);
      }
      return placeholder(`${path}.${prop}`);
    },
  }) as FakeOutput;
}

export interface FakeApp {
  name: string;
  stage: string;
  removal: "remove" | "retain" | "retain-all";
  protect: boolean;
  providers: Record<string, unknown>;
}

export class SstFake {
  readonly resources: Recorded[] = [];
  readonly invokes: Invoke[] = [];
  readonly logs: Log[] = [];

  constructor(readonly app: FakeApp) {}

  /** Resources of one type, e.g. `ofType("aws.cloudwatch.EventRule")`. */
  ofType(type: string): Recorded[] {
    return this.resources.filter((r) => r.type === type);
  }

  /** The one resource of `type` named `name`; throws when absent. */
  get(type: string, name: string): Recorded {
    const found = this.resources.find((r) => r.type === type && r.name === name);
    if (!found) throw new Error(`no ${type} named '${name}' was created`);
    return found;
  }

  /** The placeholder value a resource's property resolves to, e.g. `ref("sst.aws.Queue", "X", "arn")`. */
  ref(type: string, name: string, path: string): string {
    return `${type}(${name}).${path}`;
  }

  /** A namespace such as `aws` or `sst`: properties are sub-namespaces, `new` records, calls invoke. */
  namespace(path: string): unknown {
    const children = new Map<string, unknown>();
    const fake = this;
    return new Proxy(function namespace() {}, {
      get(target, prop, receiver) {
        if (typeof prop === "symbol" || RESERVED.has(prop))
          return Reflect.get(target, prop, receiver);
        if (!children.has(prop)) children.set(prop, fake.namespace(`${path}.${prop}`));
        return children.get(prop);
      },
      construct(_target, argv) {
        const [name, args, opts] = argv as [string, Record<string, unknown> | undefined, unknown];
        if (fake.resources.some((r) => r.type === path && r.name === name)) {
          throw new Error(`duplicate resource ${path} '${name}' (Pulumi would refuse it)`);
        }
        fake.resources.push({ type: path, name, args: args ?? {}, opts });
        return placeholder(`${path}(${name})`);
      },
      apply(_target, _this, argv) {
        fake.invokes.push({ fn: path, args: argv });
        const first = argv[0];
        const key =
          isPlainObject(first) && typeof first.name === "string"
            ? first.name
            : String(fake.invokes.length);
        return placeholder(`${path}(${key})`);
      },
    });
  }

  /** The globals SST defines for sst.config.ts and its imports. */
  globals(): Record<string, unknown> {
    const log =
      (level: Log["level"]) =>
      (message: string): void => {
        this.logs.push({ level, message });
      };
    const interpolate = (strings: TemplateStringsArray, ...values: unknown[]) =>
      output(
        strings.reduce(
          (acc, s, i) => acc + s + (i < values.length ? String(resolve(values[i])) : ""),
          "",
        ),
      );
    const jsonStringify = (v: unknown, replacer?: undefined, space?: number) =>
      output(JSON.stringify(resolve(v), replacer, space));
    const all = (v: unknown) => output(resolve(v));
    return {
      $config: (config: unknown) => config,
      $app: this.app,
      $dev: false,
      sst: this.namespace("sst"),
      aws: this.namespace("aws"),
      $interpolate: interpolate,
      $concat: (...parts: unknown[]) => output(parts.map((p) => String(resolve(p))).join("")),
      $jsonStringify: jsonStringify,
      $jsonParse: (v: unknown) => output(JSON.parse(String(resolve(v)))),
      $resolve: all,
      $output: all,
      $util: {
        output: all,
        all,
        interpolate,
        jsonStringify,
        secret: all,
        log: { debug: log("debug"), info: log("info"), warn: log("warn"), error: log("error") },
      },
    };
  }
}

const installed = new Set<string>();

/** Installs a fresh fake on `globalThis` for `stage` and returns it. */
export function installSstFake(stage: string, app: Partial<FakeApp> = {}): SstFake {
  const fake = new SstFake({
    name: "switchyard",
    stage,
    removal: "remove",
    protect: false,
    providers: {},
    ...app,
  });
  for (const [key, value] of Object.entries(fake.globals())) {
    (globalThis as Record<string, unknown>)[key] = value;
    installed.add(key);
  }
  return fake;
}

/** Removes the globals `installSstFake` defined. */
export function uninstallSstFake(): void {
  for (const key of installed) delete (globalThis as Record<string, unknown>)[key];
  installed.clear();
}
