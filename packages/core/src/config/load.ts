import type { z } from "zod";
import {
  type ConfigInput,
  ConfigSchema,
  type Dataset,
  type Deploy,
  type ParsedConfig,
  type Promotion,
  type SnowflakeConnection,
  StageOverride,
} from "./schema";

export interface ResolvedConfig {
  app: string;
  stage: string;
  region: string;
  /** Production stages do not match `switchyard.simulated` events. */
  production: boolean;
  github: ParsedConfig["github"];
  archive: { retentionDays: number };
  deploys: Deploy[];
  datasets: Dataset[];
  promotions: Promotion[];
  /** Required when datasets are configured. */
  snowflake: SnowflakeConnection | undefined;
}

export interface ConfigProblem {
  /** Dotted path of the field, e.g. `datasets[0].bucket`. */
  path: string;
  message: string;
}

/** A configuration mistake. The message names every bad field and how to fix it. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  constructor(
    readonly problems: ConfigProblem[],
    readonly source = "switchyard.config.ts",
  ) {
    super(
      `${source} is invalid:\n${problems.map((p) => `  - ${p.path || "(root)"}: ${p.message}`).join("\n")}`,
    );
  }
}

/** Identity function that gives `switchyard.config.ts` its types. */
export function define(config: ConfigInput): ConfigInput {
  return config;
}

const formatPath = (path: PropertyKey[]): string =>
  path.reduce<string>((acc, part) => {
    if (typeof part === "number") return `${acc}[${part}]`;
    const key = String(part);
    return acc === "" ? key : `${acc}.${key}`;
  }, "");

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0] ?? 0;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j] ?? 0;
      row[j] = Math.min(
        (row[j] ?? 0) + 1,
        (row[j - 1] ?? 0) + 1,
        prev + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
      prev = tmp;
    }
  }
  return row[b.length] ?? 0;
}

function closest(key: string, known: string[]): string | undefined {
  const ranked = known
    .map((k) => ({ k, d: distance(key.toLowerCase(), k.toLowerCase()) }))
    .sort((x, y) => x.d - y.d);
  const best = ranked[0];
  return best && best.d <= Math.max(2, Math.floor(key.length / 3)) ? best.k : undefined;
}

/** Keys an object schema at `path` accepts, used to suggest a fix for a misspelt field. */
function knownKeys(schema: z.ZodType, path: PropertyKey[]): string[] {
  // biome-ignore lint/suspicious/noExplicitAny: walking zod's internal definition tree
  let node: any = schema;
  for (const part of path) {
    while (node?._zod?.def?.innerType || node?._zod?.def?.in)
      node = node._zod.def.innerType ?? node._zod.def.in;
    const def = node?._zod?.def;
    if (!def) return [];
    if (def.type === "object") node = def.shape[part as string];
    else if (def.type === "array") node = def.element;
    else if (def.type === "record") node = def.valueType;
    else if (def.type === "union")
      node = def.options.find((o: z.ZodType) => knownKeys(o, []).length > 0);
    else return [];
  }
  while (node?._zod?.def?.innerType || node?._zod?.def?.in)
    node = node._zod.def.innerType ?? node._zod.def.in;
  const def = node?._zod?.def;
  if (def?.type === "object") return Object.keys(def.shape);
  if (def?.type === "union")
    return [...new Set(def.options.flatMap((o: z.ZodType) => knownKeys(o, [])))] as string[];
  return [];
}

function toProblems(
  error: z.ZodError,
  schema: z.ZodType,
  base: PropertyKey[] = [],
): ConfigProblem[] {
  return error.issues.flatMap((issue): ConfigProblem[] => {
    if (issue.code === "unrecognized_keys") {
      const known = knownKeys(schema, issue.path);
      return issue.keys.map((key) => {
        const guess = closest(key, known);
        const fix = guess
          ? `did you mean '${guess}'?`
          : `remove it; known fields are ${known.join(", ")}`;
        return {
          path: formatPath([...base, ...issue.path, key]),
          message: `unknown field. Fix: ${fix}`,
        };
      });
    }
    const message = issue.message.includes("Fix:")
      ? issue.message
      : issue.code === "invalid_type" && issue.message.endsWith("received undefined")
        ? `is missing. Fix: add this field (a ${issue.expected})`
        : issue.code === "invalid_type"
          ? `${issue.message}. Fix: give this field a ${issue.expected}`
          : issue.code === "invalid_value" || issue.code === "invalid_union"
            ? `${issue.message}. Fix: use one of the documented values (see README 'Configuration')`
            : `${issue.message}. Fix: see README 'Configuration'`;
    return [{ path: formatPath([...base, ...issue.path]), message }];
  });
}

function duplicates<T>(items: T[], key: (item: T) => string): string[] {
  const seen = new Set<string>();
  const dup = new Set<string>();
  for (const item of items) {
    const k = key(item);
    if (seen.has(k)) dup.add(k);
    seen.add(k);
  }
  return [...dup];
}

const overlaps = (a: { bucket: string; prefix: string }, b: { bucket: string; prefix: string }) =>
  a.bucket === b.bucket && (a.prefix.startsWith(b.prefix) || b.prefix.startsWith(a.prefix));

/** Cross-field rules that a per-field schema cannot express. */
function consistency(c: ResolvedConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const name of duplicates(c.datasets, (d) => d.name)) {
    problems.push({
      path: "datasets",
      message: `dataset name '${name}' is used twice. Fix: give each dataset a unique name`,
    });
  }
  for (const name of duplicates(c.promotions, (p) => p.name)) {
    problems.push({
      path: "promotions",
      message: `promotion name '${name}' is used twice. Fix: give each promotion a unique name`,
    });
  }
  for (const fn of duplicates(c.promotions, (p) => `${p.function}:${p.alias}`)) {
    problems.push({
      path: "promotions",
      message: `function alias '${fn}' is promoted by two entries. Fix: keep one promotion per function alias`,
    });
  }
  if (c.datasets.length > 0 && !c.snowflake) {
    problems.push({
      path: "snowflake",
      message:
        "is required when datasets are configured. Fix: add snowflake: { account, user, privateKey: { secretArn } } (or { parameterName }) so ingest can refresh the external tables",
    });
  }
  c.deploys.forEach((d, i) => {
    for (const s of duplicates(d.services, (t) => `${t.cluster}/${t.service}/${t.container}`)) {
      problems.push({
        path: `deploys[${i}].services`,
        message: `'${s}' is listed twice. Fix: remove the duplicate`,
      });
    }
  });
  for (const repo of duplicates(c.deploys, (d) => d.repository)) {
    problems.push({
      path: "deploys",
      message: `repository '${repo}' has two entries. Fix: merge them into one entry with several tag patterns and services`,
    });
  }
  c.promotions.forEach((p, i) => {
    c.datasets.forEach((d, j) => {
      if (overlaps(p, d)) {
        problems.push({
          path: `promotions[${i}].prefix`,
          message: `overlaps datasets[${j}] (s3://${d.bucket}/${d.prefix}). Fix: artifacts and data files need separate prefixes`,
        });
      }
    });
    c.promotions.forEach((q, k) => {
      if (k > i && overlaps(p, q)) {
        problems.push({
          path: `promotions[${k}].prefix`,
          message: `overlaps promotions[${i}]. Fix: use one prefix per function`,
        });
      }
    });
  });
  return problems;
}

/**
 * Validates `input`, applies `stages[stage]` and returns the resolved config for that stage.
 * Throws `ConfigError` naming each bad field and its fix.
 */
export function load(input: unknown, stage: string, source?: string): ResolvedConfig {
  if (!/^[a-z][a-z0-9-]{0,29}$/.test(stage)) {
    throw new ConfigError(
      [
        {
          path: "stage",
          message: `'${stage}' is not a valid stage name. Fix: use lowercase letters, digits and '-', e.g. 'dev' or 'production'`,
        },
      ],
      source,
    );
  }
  const parsed = ConfigSchema.safeParse(input);
  if (!parsed.success) throw new ConfigError(toProblems(parsed.error, ConfigSchema), source);
  const base = parsed.data;
  const rawOverride = base.stages[stage] ?? {};
  const override = StageOverride.parse(rawOverride);
  const resolved: ResolvedConfig = {
    app: base.app,
    stage,
    region: override.region ?? base.region,
    production: override.production ?? stage === "production",
    github: base.github,
    archive: { ...base.archive, ...override.archive },
    deploys: override.deploys ?? base.deploys,
    datasets: override.datasets ?? base.datasets,
    promotions: override.promotions ?? base.promotions,
    snowflake: override.snowflake ?? base.snowflake,
  };
  const problems = consistency(resolved).map((p) =>
    override.deploys || override.datasets || override.promotions || override.snowflake
      ? { ...p, path: `stages.${stage} → ${p.path}` }
      : p,
  );
  if (problems.length > 0) throw new ConfigError(problems, source);
  return resolved;
}
