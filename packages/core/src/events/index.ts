export * as Simulate from "./simulate";
