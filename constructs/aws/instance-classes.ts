/**
 * What an RDS for PostgreSQL instance class allows, for the synth-time connection budget.
 *
 * RDS derives `max_connections` from memory: `LEAST({DBInstanceClassMemory/9531392}, 5000)` (RDS User Guide,
 * "Maximum number of database connections", CHAP_Limits.html#RDS_Limits.MaxConnections). DBInstanceClassMemory is
 * the class's memory less what the OS and RDS keep for themselves; RDS does not publish it, so the estimate takes off
 * 300 MiB plus 2 %, which stays below every value RDS is reported to give
 * (1 GiB: 79-87, 2 GiB: 198, 4 GiB: 413, 8 GiB: 856, 15.25 GiB: 1660).
 * RDS also keeps slots for superusers (`superuser_reserved_connections`, 3) and for rds_superuser
 * (`rds.rds_superuser_reserved_connections`, 2): the app cannot use those.
 */

/** Connection slots the app's role cannot use. */
export const RDS_RESERVED_CONNECTIONS = 5;

/** GiB of memory per vCPU for each family letter of the general, memory and burstable classes. */
const MEMORY_PER_VCPU: Record<string, number> = { m: 4, r: 8, x: 16, z: 8 };
/** Burstable classes do not follow the vCPU ratio. */
const BURSTABLE_GIB: Record<string, number> = { micro: 1, small: 2, medium: 4, large: 8, xlarge: 16, '2xlarge': 32 };

/** `t4g.micro`, `db.t4g.micro`, `m7g.large`: the instance class RDS takes (always with `db.`). */
export function rdsInstanceClass(size: string): string {
  return size.startsWith('db.') ? size : `db.${size}`;
}

/** The class's memory in GiB, or undefined for a class this table does not know. */
export function instanceMemoryGiB(size: string): number | undefined {
  const match = /^db\.([a-z]+)(\d+)([a-z-]*)\.(\w+)$/.exec(rdsInstanceClass(size));
  if (!match) return undefined;
  const [, family, , , sizeName] = match;
  if (family === 't') return BURSTABLE_GIB[sizeName];
  const perVcpu = MEMORY_PER_VCPU[family[0]];
  const vcpus =
    sizeName === 'large' ? 2 : sizeName === 'xlarge' ? 4 : /^(\d+)xlarge$/.exec(sizeName) ? 4 * Number(/^(\d+)xlarge$/.exec(sizeName)![1]) : undefined;
  return perVcpu && vcpus ? perVcpu * vcpus : undefined;
}

/** RDS's default `max_connections` for the class (estimated from below), or undefined for an unknown class. */
export function estimatedMaxConnections(size: string): number | undefined {
  const gib = instanceMemoryGiB(size);
  if (gib === undefined) return undefined;
  const bytes = gib * 1024 ** 3;
  const classMemory = bytes - 300 * 1024 ** 2 - 0.02 * bytes;
  return Math.min(Math.floor(classMemory / 9_531_392), 5000);
}

/** The next burstable or same-family sizes, for the error message: the smallest one that fits `needed`. */
export function smallestFittingSize(size: string, needed: number): string | undefined {
  const match = /^db\.([a-z]+\d+[a-z-]*)\.(\w+)$/.exec(rdsInstanceClass(size));
  if (!match) return undefined;
  const sizes = ['micro', 'small', 'medium', 'large', 'xlarge', '2xlarge', '4xlarge', '8xlarge', '12xlarge', '16xlarge', '24xlarge'];
  for (const candidate of sizes) {
    const name = `${match[1]}.${candidate}`;
    const max = estimatedMaxConnections(name);
    if (max !== undefined && max - RDS_RESERVED_CONNECTIONS >= needed) return name;
  }
  return undefined;
}
