import type { Topology } from "@switchyard/core";
import type { Provisioned } from "./provision";

/**
 * The `Resource.<Id>` values handlers see, as `SST_RESOURCE_<Id>` JSON. The stacks link
 * the same ids with the same properties, so a handler reads `Resource.Ledger.name`
 * identically deployed, under `sst dev` and in the local runtime.
 */
export function resourceLinks(
  topology: Topology.Topology,
  p: Provisioned,
): Record<string, Record<string, unknown>> {
  const links: Record<string, Record<string, unknown>> = {
    App: { name: topology.app, stage: topology.stage },
  };
  for (const [id, t] of Object.entries(p.tables))
    links[id] = { type: "sst.aws.Dynamo", name: t.name, arn: t.arn };
  for (const [id, q] of Object.entries(p.queues))
    links[id] = { type: "sst.aws.Queue", url: q.url, arn: q.arn };
  for (const [id, s] of Object.entries(p.stateMachines))
    links[id] = { type: "switchyard.StateMachine", name: s.name, arn: s.arn };
  for (const b of topology.buckets)
    if (b.id) links[b.id] = { type: "sst.aws.Bucket", name: b.name, arn: `arn:aws:s3:::${b.name}` };
  for (const setting of topology.settings)
    links[setting.id] = { type: "sst.sst.Linkable", ...setting.value };
  links[topology.archive.id] = {
    type: "switchyard.Archive",
    name: p.archive.name,
    arn: p.archive.arn,
  };
  return links;
}

/** Sets `SST_RESOURCE_*` in this process, also refreshing `sst`'s cache if it was already read. */
export function applyResourceEnv(links: Record<string, Record<string, unknown>>): void {
  const raw = (globalThis as { __SST_RESOURCE_RAW__?: Record<string, unknown> })
    .__SST_RESOURCE_RAW__;
  for (const [id, value] of Object.entries(links)) {
    process.env[`SST_RESOURCE_${id}`] = JSON.stringify(value);
    if (raw) raw[id] = value;
  }
}

/**
 * What a workflow definition may reference: the linked resources plus the functions, whose
 * local ARNs name the in-process handler (`lambda:invoke` resolves them by the last segment).
 */
export function workflowResources(
  topology: Topology.Topology,
  p: Provisioned,
): Record<string, { name?: string; arn?: string; url?: string }> {
  const resources: Record<string, { name?: string; arn?: string; url?: string }> = {
    ...resourceLinks(topology, p),
  };
  for (const fn of topology.functions)
    resources[fn.id] = {
      name: fn.id,
      arn: `arn:aws:lambda:${topology.region}:${p.account}:function:${fn.id}`,
    };
  return resources;
}
