/**
 * EventBridge event patterns: builders and a matcher that follows the documented
 * semantics (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns.html).
 * The matcher exists so unit tests can check patterns against fixture events;
 * integration tests check the same patterns through the emulator's own matcher.
 */

export type Matcher =
  | string
  | number
  | boolean
  | null
  | { prefix: string | { "equals-ignore-case": string } }
  | { suffix: string | { "equals-ignore-case": string } }
  | { wildcard: string }
  | { "equals-ignore-case": string }
  | {
      "anything-but":
        | string
        | number
        | (string | number)[]
        | { prefix: string }
        | { suffix: string };
    }
  | { exists: boolean }
  | { numeric: (string | number)[] };

export interface EventPattern {
  [field: string]: Matcher[] | EventPattern | EventPattern[];
}

/** Escapes `*` and `\` so a literal can be embedded in an EventBridge `wildcard` matcher. */
export const escapeWildcard = (literal: string): string =>
  literal.replace(/[\\*]/g, (c) => `\\${c}`);

/** The matcher for an S3 key with an optional prefix and suffix. */
export function keyMatcher(prefix: string, suffix: string): Matcher {
  if (prefix && suffix) return { wildcard: `${escapeWildcard(prefix)}*${escapeWildcard(suffix)}` };
  if (prefix) return { prefix };
  if (suffix) return { suffix };
  throw new Error("keyMatcher needs a prefix or a suffix");
}

function wildcardRegex(pattern: string): RegExp {
  let out = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    const next = pattern[i + 1];
    if (c === "\\" && (next === "*" || next === "\\")) {
      out += `\\${next}`;
      i++;
    } else if (c === "*") {
      out += "[\\s\\S]*";
    } else {
      out += c.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
    }
  }
  return new RegExp(`^${out}$`);
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

function compareNumeric(value: number, spec: (string | number)[]): boolean {
  for (let i = 0; i + 1 < spec.length; i += 2) {
    const op = spec[i];
    const bound = Number(spec[i + 1]);
    const ok =
      op === "<"
        ? value < bound
        : op === "<="
          ? value <= bound
          : op === ">"
            ? value > bound
            : op === ">="
              ? value >= bound
              : op === "="
                ? value === bound
                : false;
    if (!ok) return false;
  }
  return true;
}

function matchOne(value: unknown, m: Matcher): boolean {
  if (!isObject(m)) return value === m;
  if ("exists" in m) return m.exists === (value !== undefined);
  if (value === undefined) return false;
  if ("prefix" in m) {
    if (typeof value !== "string") return false;
    const p = m.prefix;
    return typeof p === "string"
      ? value.startsWith(p)
      : value.toLowerCase().startsWith(p["equals-ignore-case"].toLowerCase());
  }
  if ("suffix" in m) {
    if (typeof value !== "string") return false;
    const s = m.suffix;
    return typeof s === "string"
      ? value.endsWith(s)
      : value.toLowerCase().endsWith(s["equals-ignore-case"].toLowerCase());
  }
  if ("wildcard" in m) return typeof value === "string" && wildcardRegex(m.wildcard).test(value);
  if ("equals-ignore-case" in m)
    return (
      typeof value === "string" && value.toLowerCase() === m["equals-ignore-case"].toLowerCase()
    );
  if ("numeric" in m) return typeof value === "number" && compareNumeric(value, m.numeric);
  if ("anything-but" in m) {
    const ab = m["anything-but"];
    if (Array.isArray(ab)) return !ab.includes(value as string | number);
    if (isObject(ab) && "prefix" in ab)
      return typeof value === "string" && !value.startsWith(ab.prefix);
    if (isObject(ab) && "suffix" in ab)
      return typeof value === "string" && !value.endsWith(ab.suffix);
    return value !== ab;
  }
  return false;
}

function matchField(value: unknown, matchers: Matcher[]): boolean {
  const exists = matchers.find((m) => isObject(m) && "exists" in m) as
    | { exists: boolean }
    | undefined;
  if (exists && value === undefined) return !exists.exists;
  if (Array.isArray(value)) return value.some((v) => matchers.some((m) => matchOne(v, m)));
  return matchers.some((m) => matchOne(value, m));
}

/** True when `event` matches `pattern`, per EventBridge semantics. */
export function matches(pattern: EventPattern, event: unknown): boolean {
  const node = isObject(event) ? event : {};
  return Object.entries(pattern).every(([field, spec]) => {
    if (field === "$or") return (spec as EventPattern[]).some((alt) => matches(alt, node));
    if (Array.isArray(spec)) return matchField(node[field], spec as Matcher[]);
    const child = node[field];
    if (Array.isArray(child)) return child.some((c) => matches(spec as EventPattern, c));
    return matches(spec as EventPattern, child);
  });
}
