import { Stack, TimeZone } from 'aws-cdk-lib';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { ScheduleExpression } from 'aws-cdk-lib/aws-scheduler';
import type { Construct } from 'constructs';

/**
 * The role an EventBridge Scheduler schedule assumes to reach its target: only Scheduler, only for
 * schedules of this account's default group (what CDK would create at the stack root, here so it
 * lives, and is acknowledged, with its schedule). The target's grant adds what it may do.
 */
export function schedulerRole(scope: Construct, id: string, description: string): Role {
  const stack = Stack.of(scope);
  return new Role(scope, id, {
    description,
    assumedBy: new ServicePrincipal('scheduler.amazonaws.com', {
      conditions: {
        StringEquals: {
          'aws:SourceAccount': stack.account,
          'aws:SourceArn': stack.formatArn({
            service: 'scheduler',
            resource: 'schedule-group',
            resourceName: 'default',
          }),
        },
      },
    }),
  });
}

/** A whole hour checked (0-23), then every day at that hour in the team's time zone. */
export function dailyAt(hour: number, timeZone: string): ScheduleExpression {
  if (!Number.isInteger(hour) || hour < 0 || hour > 23)
    throw new Error(`dailyHour must be a whole hour from 0 to 23, not ${hour}`);
  return ScheduleExpression.cron({ minute: '0', hour: String(hour), timeZone: TimeZone.of(timeZone) });
}
