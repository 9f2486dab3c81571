export * as Config from "./config";
export * as Events from "./events";
export * as Topology from "./topology";
export * as Workflow from "./workflow";
