/**
 * The shared Pulumi harness must see what mocks do not: resource options. If it did not, every lifecycle test of
 * the clouds (protect, retainOnDelete, deletedWith) would pass whatever the components set.
 */
import { type CloudMocks, isSecretInput, runPulumiProgram } from '../support/pulumi-harness';

const mocks: CloudMocks = {
  cloud: 'test',
  computed: (_type, name) => ({ id: `${name}-id`, outputs: { generated: 'x' } }),
  answer: () => ({}),
};

function program() {
  const pulumi = require('@pulumi/pulumi');
  const cfg = new pulumi.Config('scim-bridge');
  cfg.get('domain');
  cfg.getObject('database');
  class Thing extends pulumi.CustomResource {
    constructor(name: string, args: Record<string, unknown>, opts?: unknown) {
      super('test:index:Thing', name, args, opts);
    }
  }
  const component = new pulumi.ComponentResource('test:index:Component', 'parent', {}, {});
  const vault = new Thing('vault', { size: 1 }, { parent: component, protect: true });
  const secret = new Thing('secret', { value: pulumi.secret('s3cret') }, { parent: component, deletedWith: vault, retainOnDelete: false });
  const db = new Thing(
    'db',
    { vault: vault.id, nested: { plain: 'p', hidden: pulumi.secret('h') } },
    { parent: component, retainOnDelete: true, ignoreChanges: ['size'], dependsOn: [secret], aliases: [{ parent: pulumi.rootStackResource }] },
  );
  return { dbId: db.id, token: pulumi.secret('t') };
}

test('records protect, retainOnDelete, deletedWith, ignoreChanges, parents and dependencies', async () => {
  const run = await runPulumiProgram(mocks, { config: {}, secretKeys: [] }, program);
  const vault = run.one('test:index:Thing', 'vault');
  const secret = run.one('test:index:Thing', 'secret');
  const db = run.one('test:index:Thing', 'db');
  const component = run.one('test:index:Component', 'parent');
  expect(vault.options.protect).toBe(true);
  expect(secret.options.protect).toBe(false);
  expect(run.deletedWith(secret)).toBe(vault);
  expect(db.options.retainOnDelete).toBe(true);
  expect(db.options.ignoreChanges).toEqual(['size']);
  expect(run.waitsFor(db, secret)).toBe(true);
  expect(run.waitsFor(db, vault)).toBe(true); // an input dependency
  expect(run.byUrn(db.options.parent)).toBe(component);
  expect(component.custom).toBe(false);
  expect(run.protectedResources()).toEqual([vault]);
  expect(run.outputs.dbId).toBe('db-id');
  expect(run.secretOutputs).toEqual(['token']);
  // So a stack file's keys can be checked against what the program reads.
  expect(run.configRead).toEqual(['scim-bridge:domain', 'scim-bridge:database']);
});

test('records aliases and the wire form of inputs, where a nested secret stays marked as nested', async () => {
  const run = await runPulumiProgram(mocks, { config: {}, secretKeys: [] }, program);
  const db = run.one('test:index:Thing', 'db');
  expect(db.options.aliases).toHaveLength(1);
  expect(db.options.aliases[0].name).toBeUndefined();
  expect(isSecretInput(db.wire.nested.hidden)).toBe(true);
  expect(isSecretInput(db.wire.nested)).toBe(false);
  expect(db.wire.nested.plain).toBe('p');
});
