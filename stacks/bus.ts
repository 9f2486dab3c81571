import { topology } from "./topology";

/**
 * AWS services publish to the account's default event bus, so Switchyard's rules and its
 * archive live there. The bus is looked up, never created.
 */
export const bus = aws.cloudwatch.getEventBusOutput({ name: "default" });

/**
 * One archive keeps exactly the events some Switchyard rule would route (the topology's
 * pattern is the `$or` of the rule patterns), so `switchyard replay` has everything it needs
 * and nothing else.
 */
export const archive = new aws.cloudwatch.EventArchive(topology.archive.id, {
  name: topology.archive.name,
  description: `Events routed by ${topology.app} (${topology.stage}); replay with \`switchyard replay\``,
  eventSourceArn: bus.arn,
  retentionDays: topology.archive.retentionDays,
  eventPattern: JSON.stringify(topology.archive.pattern),
});
