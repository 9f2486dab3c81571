import { Resource } from "sst";

/**
 * The linked resources handlers read, typed. Deployed and under `sst dev`, SST sets them from
 * each function's `link`; the local runtime sets the same `SST_RESOURCE_*` variables. Call
 * `links()` inside a handler, never at import time, so unit tests can import handlers freely.
 */
interface Links {
  Ledger: { name: string; arn: string };
  IngestWorkflow: { name: string; arn: string };
  Manifests: { name: string };
  /** Parsed with `Ingest.Settings`. */
  IngestConfig: unknown;
  /** The Snowflake connection (plus SST's `type`), parsed with `Snowflake.SnowflakeSettings`. */
  Snowflake: unknown;
  DeployWorkflow: { name: string; arn: string };
  /** Parsed with `Deploy.Settings` by the handler. */
  DeployConfig: unknown;
  /** Parsed with `Promote.Settings`. */
  PromoteConfig: unknown;
}

export const links = (): Links => Resource as unknown as Links;

/** A linked queue by topology id (e.g. a dataset's DLQ), or undefined when it is not linked. */
export const queueLink = (id: string): { url: string } | undefined => {
  try {
    return (Resource as unknown as Record<string, { url: string }>)[id];
  } catch {
    return undefined;
  }
};
