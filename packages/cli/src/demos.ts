import type { Topology } from "@switchyard/core";
import type { LocalRuntime } from "@switchyard/local/runtime";
import { deployDemo } from "./demos/deploy";
import { ingestDemo } from "./demos/ingest";
import { promoteDemo } from "./demos/promote";

/** A flow's part of `npm start`'s demo: it acts on the running local control plane and narrates. */
export interface Demo {
  flow: Topology.Flow;
  title: string;
  run(rt: LocalRuntime, log: (line: string) => void): Promise<void>;
}

/** Registered by each flow as it is implemented, in the order `npm start` runs them. */
export const demos: Demo[] = [deployDemo, ingestDemo, promoteDemo];
