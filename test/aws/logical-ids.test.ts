/**
 * Upgrades between releases of the kit: the logical ids of every stateful or named resource, against the committed
 * snapshot (logical-ids.json). CloudFormation knows a resource by its logical id: "if you change the logical ID of a
 * resource, AWS CloudFormation creates a new resource with the new logical ID, then deletes the existing one"
 * (docs.aws.amazon.com/cdk/v2/guide/identifiers.html, "Logical ID stability"; aws/aws-cdk#12564: a new id is a
 * replacement, and no UpdateReplacePolicy snapshot is taken for it). A named resource created beside its old self
 * fails with "already exists"; a kept one (the scimsession secret) is swapped for a new, empty one. A property that
 * "requires replacement" (the CloudFormation resource reference's "Update requires") does the same under a kept id.
 *
 * Each release in the snapshot lists its stateful resources; every one must still be there under the same id and
 * type with the same replacing properties, or carry a migration: a section of docs/upgrading.md that says what
 * happens and how to keep the data. `SCIM_UPDATE_LOGICAL_IDS=1 npx jest test/aws/logical-ids.test.ts` rewrites the
 * current release's list after a deliberate change.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { createScimBridgeStack } from '../../stacks/aws';
import { cdkJsonContext, REPO_ROOT } from './helpers';
import { type Entry, type Snapshot, statefulResources, upgradeFindings } from './logical-ids';

/** GitHub's anchor of a heading. */
function anchor(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} -]/gu, '')
    .replace(/ /g, '-');
}

const SNAPSHOT_FILE = path.join(__dirname, 'logical-ids.json');

describe('logical ids of stateful and named resources (upgrades between releases)', () => {
  const snapshot = JSON.parse(fs.readFileSync(SNAPSHOT_FILE, 'utf8')) as Snapshot;
  const upgrading = fs.readFileSync(path.join(REPO_ROOT, 'docs', 'upgrading.md'), 'utf8');
  const anchors = new Set([...upgrading.matchAll(/^#+ (.+)$/gm)].map((m) => anchor(m[1])));
  let now: Record<string, Entry>;

  beforeAll(() => {
    // What `cdk synth` builds from cdk.json: the stack name and construct id a deployed stack has.
    const app = new App({ context: cdkJsonContext() });
    const stack = createScimBridgeStack(app);
    now = statefulResources(app.synth().getStackByName(stack.stackName).template);
    if (process.env.SCIM_UPDATE_LOGICAL_IDS === '1') {
      fs.writeFileSync(SNAPSHOT_FILE, `${JSON.stringify({ ...snapshot, current: now }, null, 2)}\n`);
      snapshot.current = now;
    }
  });

  it('this release: every stateful or named resource keeps the id, type and name the snapshot holds', () => {
    const findings = upgradeFindings(snapshot.current, now);
    const added = Object.keys(now).filter((id) => !snapshot.current[id]);
    // A finding here is an upgrade that replaces data or a name: keep the id (constructs/aws/logical-ids.ts), or add
    // a migration to docs/upgrading.md, then rewrite the snapshot (SCIM_UPDATE_LOGICAL_IDS=1).
    expect({ findings, added }).toEqual({ findings: [], added: [] });
  });

  it.each(snapshot.releases.map((r) => [`${r.name} (${r.commit})`, r] as const))(
    'an upgrade from %s replaces nothing stateful without a documented migration',
    (_name, release) => {
      const undocumented = upgradeFindings(release.resources, now).filter((f) => !release.migrations[f.split(' ')[0]]);
      expect(undocumented).toEqual([]);
      for (const [id, link] of Object.entries(release.migrations)) {
        const [file, section] = link.split('#');
        expect([id, file]).toEqual([id, 'docs/upgrading.md']);
        expect([id, anchors.has(section)]).toEqual([id, true]);
      }
      // A migration for a resource that in fact survives would be a stale page: each one must still be needed.
      const replaced = new Set(upgradeFindings(release.resources, now).map((f) => f.split(' ')[0]));
      expect(Object.keys(release.migrations).filter((id) => !replaced.has(id))).toEqual([]);
    },
  );

  it('the earlier layout keeps the scimsession secret, the alias record, the certificate, the log groups, the bucket and the network', () => {
    const earlier = snapshot.releases[0];
    const kept = Object.keys(earlier.resources).filter((id) => !upgradeFindings({ [id]: earlier.resources[id] }, now).length);
    const types = kept.map((id) => earlier.resources[id].type).sort();
    expect(types).toEqual(
      expect.arrayContaining([
        'AWS::SecretsManager::Secret',
        'AWS::Route53::RecordSet',
        'AWS::CertificateManager::Certificate',
        'AWS::Logs::LogGroup',
        'AWS::S3::Bucket',
        'AWS::EC2::VPC',
      ]),
    );
  });
});
