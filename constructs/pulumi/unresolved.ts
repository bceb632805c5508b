/** A value not known until deploy: a Pulumi output or a promise. The shared checks pass it through unchecked. */
import * as pulumi from '@pulumi/pulumi';

export function isUnresolved(value: unknown): boolean {
  return pulumi.Output.isInstance(value) || value instanceof Promise;
}
