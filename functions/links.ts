import { Resource } from "sst";

/**
 * The linked resources handlers read, typed. Deployed and under `sst dev`, SST sets them from
 * each function's `link`; the local runtime sets the same `SST_RESOURCE_*` variables. Call
 * `links()` inside a handler, never at import time, so unit tests can import handlers freely.
 */
interface Links {
  Ledger: { name: string; arn: string };
  DeployWorkflow: { name: string; arn: string };
  /** Parsed with `Deploy.Settings` by the handler. */
  DeployConfig: unknown;
}

export const links = (): Links => Resource as unknown as Links;
