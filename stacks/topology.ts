import { resolve } from "./stages";

/**
 * The resolved config and the topology of the stage being deployed. Every other stack reads
 * names, patterns and settings from here and defines none of its own: the local runtime builds
 * the same topology from the same config, so the two backends cannot drift apart.
 */
export const { config, topology } = resolve($app.stage);
