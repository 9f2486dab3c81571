export * as Config from "./config";
export * as Topology from "./topology";
