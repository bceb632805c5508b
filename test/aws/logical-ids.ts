/**
 * The stateful or named resources of a synthesized template, and what an upgrade from one list to another replaces
 * (logical-ids.test.ts holds the releases to it).
 */
/** Types that hold data, a name others point at, or an address someone allow-listed. */
const STATEFUL_TYPES = [
  'AWS::RDS::DBInstance',
  'AWS::RDS::DBCluster',
  'AWS::SecretsManager::Secret',
  'AWS::Route53::RecordSet',
  'AWS::Logs::LogGroup',
  'AWS::S3::Bucket',
  'AWS::KMS::Key',
  'AWS::CertificateManager::Certificate',
  'AWS::SNS::Topic',
  'AWS::EC2::VPC',
  'AWS::EC2::EIP',
];

/** Properties whose change CloudFormation documents as "Update requires: Replacement", per type. */
const REPLACING: Record<string, readonly string[]> = {
  'AWS::RDS::DBInstance': ['DBInstanceIdentifier', 'MasterUsername', 'DBName', 'StorageEncrypted'],
  'AWS::RDS::DBCluster': ['DBClusterIdentifier', 'MasterUsername', 'DatabaseName', 'StorageEncrypted'],
  'AWS::SecretsManager::Secret': ['Name'],
  'AWS::Route53::RecordSet': ['Name', 'HostedZoneId'],
  'AWS::Logs::LogGroup': ['LogGroupName'],
  'AWS::S3::Bucket': ['BucketName'],
  'AWS::CertificateManager::Certificate': ['DomainName', 'SubjectAlternativeNames'],
  'AWS::SNS::Topic': ['TopicName'],
  'AWS::EC2::VPC': ['CidrBlock'],
};

/** The property that names a resource of its type itself (elsewhere the same property is a reference). */
const NAME_PROPERTY: Record<string, string> = {
  'AWS::Logs::LogGroup': 'LogGroupName',
  'AWS::S3::Bucket': 'BucketName',
  'AWS::RDS::DBInstance': 'DBInstanceIdentifier',
  'AWS::RDS::DBCluster': 'DBClusterIdentifier',
  'AWS::SNS::Topic': 'TopicName',
  'AWS::Lambda::Function': 'FunctionName',
  'AWS::IAM::Role': 'RoleName',
  'AWS::KMS::Alias': 'AliasName',
  'AWS::SecretsManager::Secret': 'Name',
};

export interface Entry {
  type: string;
  /** The replacing properties' values as the template has them (JSON). */
  replaceOn: Record<string, string>;
}

export interface Release {
  name: string;
  commit: string;
  resources: Record<string, Entry>;
  /** Resources of this release that an upgrade replaces, each with the docs/upgrading.md section that says what to do. */
  migrations: Record<string, string>;
}

export interface Snapshot {
  $comment: string;
  current: Record<string, Entry>;
  releases: Release[];
}

/** The stateful or named resources of a template, with their replacing properties. */
export function statefulResources(template: { Resources: Record<string, any> }): Record<string, Entry> {
  const out: Record<string, Entry> = {};
  for (const [id, r] of Object.entries(template.Resources)) {
    const props = r.Properties ?? {};
    const nameProperty = NAME_PROPERTY[r.Type];
    const named = nameProperty !== undefined && props[nameProperty] !== undefined;
    if (!STATEFUL_TYPES.includes(r.Type) && !named) continue;
    const replaceOn: Record<string, string> = {};
    for (const p of new Set([...(REPLACING[r.Type] ?? []), ...(nameProperty ? [nameProperty] : [])]))
      if (props[p] !== undefined) replaceOn[p] = JSON.stringify(props[p]);
    out[id] = { type: r.Type, replaceOn };
  }
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)));
}

/** What an upgrade from `before` does to each of its stateful resources, given the current ones. */
export function upgradeFindings(before: Record<string, Entry>, now: Record<string, Entry>): string[] {
  const findings: string[] = [];
  for (const [id, entry] of Object.entries(before)) {
    const current = now[id];
    if (!current) findings.push(`${id} (${entry.type}) is gone or renamed: CloudFormation creates a new resource and deletes this one`);
    else if (current.type !== entry.type) findings.push(`${id} changes type ${entry.type} -> ${current.type}: a replacement`);
    else {
      for (const [prop, value] of Object.entries(entry.replaceOn)) {
        if (current.replaceOn[prop] !== value)
          findings.push(`${id} (${entry.type}) changes ${prop} ${value} -> ${current.replaceOn[prop] ?? '(unset)'}: a replacement`);
      }
    }
  }
  return findings;
}
