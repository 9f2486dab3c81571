import { createHash } from "node:crypto";
import picomatch from "picomatch";
import type { Deploy } from "../config/schema";
import type { ImageActionDetail } from "./event";

/** One ECS service to redeploy for a push: the containers the pushed repository feeds. */
export interface Target {
  cluster: string;
  service: string;
  /** Container names whose image becomes the pushed digest; other containers are kept. */
  containers: string[];
  /** IAM roles the task definition may use (names), from the config. */
  roles: string[];
  rolloutTimeoutSeconds: number;
  pollSeconds: number;
}

export type Plan =
  | { action: "skip"; reason: string; repository: string }
  | {
      action: "deploy";
      repository: string;
      tag: string;
      digest: string;
      /** The tag pattern that matched, for the log. */
      pattern: string;
      targets: Target[];
    };

/** Does `tag` match the glob `pattern` (`*`, `?`, `[...]`, `[!...]`)? Tags never contain `/`. */
export const tagMatches = (pattern: string, tag: string): boolean =>
  picomatch.isMatch(tag, pattern, { dot: true, nobrace: true, noextglob: true });

/**
 * Decides what a push means: which services get a new revision, or why nothing happens.
 * Pure: the handler calls it with the parsed event's detail and the stage's config.
 */
export function plan(deploys: readonly Deploy[], detail: ImageActionDetail): Plan {
  const repository = detail["repository-name"];
  const skip = (reason: string): Plan => ({ action: "skip", reason, repository });
  if (detail["action-type"] !== "PUSH")
    return skip(`action ${detail["action-type"]} is not a push`);
  if (detail.result !== "SUCCESS") return skip(`push result is ${detail.result}, not SUCCESS`);
  const digest = detail["image-digest"];
  if (!digest) return skip("the push has no image digest");
  const tag = detail["image-tag"];
  if (!tag) return skip(`digest-only push of ${repository}@${digest}: no tag to match`);
  const entry = deploys.find((d) => d.repository === repository);
  if (!entry) return skip(`repository '${repository}' is not configured in deploys`);
  const pattern = entry.tags.find((p) => tagMatches(p, tag));
  if (!pattern)
    return skip(`tag '${tag}' matches none of ${entry.tags.map((t) => `'${t}'`).join(", ")}`);

  const byService = new Map<string, Target>();
  for (const s of entry.services) {
    const key = `${s.cluster}/${s.service}`;
    const target = byService.get(key) ?? {
      cluster: s.cluster,
      service: s.service,
      containers: [],
      roles: [],
      rolloutTimeoutSeconds: entry.rolloutTimeoutSeconds,
      pollSeconds: entry.pollSeconds,
    };
    target.containers.push(s.container);
    target.roles.push(...s.roles.map(roleName).filter((r) => !target.roles.includes(r)));
    byService.set(key, target);
  }
  return { action: "deploy", repository, tag, digest, pattern, targets: [...byService.values()] };
}

/** `arn:aws:iam::1:role/path/web-task` or `web-task` → `web-task` (role names are unique per account). */
export const roleName = (role: string): string => role.slice(role.lastIndexOf("/") + 1);

/** The image reference pinned by digest: `<registry>.dkr.ecr.<region>.amazonaws.com/<repo>@sha256:…`. */
export function imageUri(o: {
  registryId: string;
  region: string;
  repository: string;
  digest: string;
}): string {
  const domain = o.region.startsWith("cn-") ? "amazonaws.com.cn" : "amazonaws.com";
  return `${o.registryId}.dkr.ecr.${o.region}.${domain}/${o.repository}@${o.digest}`;
}

/**
 * The Step Functions execution name for one service and digest (at most 80 characters of
 * `[A-Za-z0-9_-]`). AWS refuses a second execution with the same name, so the same digest
 * cannot start two deploys of one service.
 */
export function executionName(cluster: string, service: string, digest: string): string {
  const hex = digest.replace(/^sha256:/, "");
  const readable = `${cluster}-${service}`.replace(/[^A-Za-z0-9_-]/g, "_");
  const tail = `-${hex.slice(0, 32)}`;
  const room = 80 - tail.length;
  if (readable.length <= room) return `${readable}${tail}`;
  // Long names: keep the digest part whole, shorten the readable part and keep it unique.
  const hash = createHash("sha256").update(`${cluster}/${service}`).digest("hex").slice(0, 8);
  return `${readable.slice(0, room - 9)}-${hash}${tail}`;
}

/** Polls needed to follow a rollout for `timeout` seconds at `every` seconds. */
export const maxPolls = (timeout: number, every: number): number =>
  Math.max(1, Math.ceil(timeout / every));
