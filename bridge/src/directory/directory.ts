/**
 * Users and groups as identity providers change them: SCIM semantics plus the provisioning rules, each
 * request one transaction, every change and every refusal a provisioning event. It returns records (with the
 * groups or members asked for) and their versions; the protocol edge renders, projects and pages them.
 */
import { randomUUID } from 'node:crypto';
import { SCIM_BASE_PATH } from '../../../contract';
import { type ChangeInput, type ChangeType, MEMBERS_PER_CHANGE } from '../feed/types';
import { ScimError, badRequest, conflict, forbidden, notFound, preconditionFailed } from '../scim/errors';
import { keepImmutable } from '../scim/extensions';
import { type MemberChange, applyPatch, memberIds, parsePatchRequest } from '../scim/patch';
import type { ListRequest } from '../scim/query';
import { type ScimDoc, normalizeInput, validateDoc } from '../scim/resource';
import type { ResourceKind } from '../scim/schemas';
import {
  type GroupRecord,
  type GroupRef,
  type MemberRef,
  type ProvisioningEvent,
  type Store,
  type StoreTx,
  UniqueViolation,
  type UserRecord,
} from '../store/types';
import { protectedLookalike } from './protected-groups';
import { etagOf, renderGroup, renderUser } from './render';
import { asScimError } from './store-refusal';
import { type ProvisioningRules, checkActiveKept, checkSuspendedEmail, checkUserDoc, withActiveOf } from './rules';

export interface RequestContext {
  /** Who is asking: the identity provider's User-Agent (or a connector's name). */
  readonly actor: string;
  readonly requestId: string;
}

/** A user as stored, with its groups when they were asked for. */
export interface UserView {
  readonly user: UserRecord;
  readonly groups?: readonly GroupRef[];
}

/** A group as stored, with its members when they were asked for. */
export interface GroupView {
  readonly group: GroupRecord;
  readonly members?: readonly MemberRef[];
}

/** Related resources to load with a read: `groups` of users, `members` of groups (skipped when not returned). */
export interface Include {
  readonly related?: boolean;
}

export interface ListResult<T> {
  readonly totalResults: number;
  readonly startIndex: number;
  readonly items: readonly T[];
}

/** Optimistic writes lost to a concurrent writer are retried this often before the client sees a 409. */
const WRITE_ATTEMPTS = 5;

class VersionConflict extends Error {}

function checkIfMatch(ifMatch: string | undefined, version: number): void {
  if (ifMatch === undefined || ifMatch.trim() === '*') return;
  const current = etagOf(version);
  const tags = ifMatch.split(',').map((t) => t.trim());
  // Weak comparison (RFC 9110 §8.8.3.2): W/"3" and "3" name the same version.
  if (!tags.some((t) => t.replace(/^W\//, '') === current.replace(/^W\//, ''))) {
    throw preconditionFailed(`The resource changed: its version is ${current}, not ${ifMatch}`);
  }
}

function userFields(doc: ScimDoc) {
  return {
    userName: doc.userName as string,
    externalId: typeof doc.externalId === 'string' ? doc.externalId : undefined,
    active: doc.active !== false,
  };
}

/** Top-level attributes whose values differ between two documents. */
function changedAttributes(before: ScimDoc, after: ScimDoc): string[] {
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...keys].filter((key) => JSON.stringify(before[key]) !== JSON.stringify(after[key])).sort();
}

/** What the feed says of a user: its SCIM rendering without groups (membership travels on group changes). */
function userChange(type: ChangeType, user: UserRecord, ctx: RequestContext, changed?: string[]): ChangeInput {
  return {
    type,
    // A delete is one version past the last state, so a consumer that keeps the newest version applies it.
    resource: { type: 'User', id: user.id, version: type === 'user.deleted' ? user.version + 1 : user.version },
    actor: ctx.actor,
    requestId: ctx.requestId,
    ...(type === 'user.deleted' ? {} : { state: renderUser(user, undefined, SCIM_BASE_PATH) }),
    ...(changed ? { changed } : {}),
  };
}

/** A group's state without its members; each membership change carries at most MEMBERS_PER_CHANGE ids. */
function groupChanges(
  group: GroupRecord,
  ctx: RequestContext,
  what: { type?: ChangeType; changed?: string[]; added?: readonly string[]; removed?: readonly string[] },
): ChangeInput[] {
  const resource = { type: 'Group' as const, id: group.id, version: group.version };
  const base = { resource, actor: ctx.actor, requestId: ctx.requestId };
  const state = what.type === 'group.deleted' ? undefined : renderGroup(group, undefined, SCIM_BASE_PATH);
  const changes: ChangeInput[] = [];
  if (what.type) changes.push({ ...base, type: what.type, ...(state ? { state } : {}), ...(what.changed ? { changed: what.changed } : {}) });
  for (const [type, ids] of [
    ['group.members.removed', what.removed],
    ['group.members.added', what.added],
  ] as const) {
    for (let i = 0; ids && i < ids.length; i += MEMBERS_PER_CHANGE) {
      changes.push({ ...base, type, state, members: ids.slice(i, i + MEMBERS_PER_CHANGE) });
    }
  }
  return changes;
}

export class Directory {
  constructor(
    private readonly store: Store,
    private readonly rules: ProvisioningRules,
    private readonly now: () => Date = () => new Date(),
  ) {}

  // ---- users ----

  async createUser(body: unknown, ctx: RequestContext): Promise<UserView> {
    return this.recorded(ctx, 'user.create', 'User', async () => {
      const doc = normalizeInput('User', body);
      if (doc.active === undefined) doc.active = true;
      validateDoc('User', doc);
      checkUserDoc(doc, this.rules);
      const at = this.now().toISOString();
      const user: UserRecord = { id: randomUUID(), ...userFields(doc), doc, version: 1, created: at, lastModified: at };
      await this.store.transaction(async (tx) => {
        // Identity providers look up by userName first and link; a POST for a taken userName is a conflict.
        if (await tx.findUserByUserName(user.userName)) throw conflict(`A user with userName "${user.userName}" already exists`);
        await this.insertOrConflict(() => tx.insertUser(user), `A user with userName "${user.userName}" already exists`);
        await tx.recordEvent(this.event(ctx, 'user.create', user.id, user.userName, 201));
        await tx.appendChanges([userChange('user.created', user, ctx)]);
      });
      return { user, groups: [] };
    });
  }

  /** One statement: the user and, when returned, its groups. */
  async getUser(id: string, include: Include = { related: true }): Promise<UserView> {
    const user = await this.store.getUser(id, { withGroups: include.related === true });
    if (!user) throw notFound(`User ${id} not found`);
    return { user, groups: include.related ? (user.groups ?? []) : undefined };
  }

  /** One statement: the page and, when returned, each user's groups. */
  async listUsers(query: ListRequest, include: Include = { related: true }): Promise<ListResult<UserView>> {
    const page = await this.store.queryUsers({ ...query, withGroups: include.related === true });
    return {
      totalResults: page.totalResults,
      startIndex: query.startIndex,
      items: page.items.map((user) => ({ user, groups: include.related ? (user.groups ?? []) : undefined })),
    };
  }

  async replaceUser(id: string, body: unknown, ifMatch: string | undefined, ctx: RequestContext): Promise<UserView> {
    return this.recorded(
      ctx,
      'user.replace',
      'User',
      async () => {
        const doc = normalizeInput('User', body);
        validateDoc('User', doc);
        checkUserDoc(doc, this.rules);
        return this.updateUser(id, ifMatch, ctx, 'user.replace', (current) => withActiveOf(keepImmutable('User', current.doc, doc, true), current.active));
      },
      id,
    );
  }

  async patchUser(id: string, body: unknown, ifMatch: string | undefined, ctx: RequestContext): Promise<UserView> {
    return this.recorded(
      ctx,
      'user.patch',
      'User',
      async () => {
        const operations = parsePatchRequest(body);
        return this.updateUser(id, ifMatch, ctx, 'user.patch', (current) => {
          const { doc } = applyPatch('User', { ...current.doc, active: current.active }, operations);
          checkActiveKept(doc);
          keepImmutable('User', current.doc, doc, false);
          validateDoc('User', doc);
          checkUserDoc(doc, this.rules);
          return doc;
        });
      },
      id,
    );
  }

  private async updateUser(
    id: string,
    ifMatch: string | undefined,
    ctx: RequestContext,
    action: string,
    change: (current: UserRecord) => ScimDoc,
  ): Promise<UserView> {
    return this.retrying(ifMatch, () =>
      this.store.transaction(async (tx) => {
        const current = await tx.getUser(id);
        if (!current) throw notFound(`User ${id} not found`);
        checkIfMatch(ifMatch, current.version);
        const doc = change(current);
        const fields = userFields(doc);
        checkSuspendedEmail(current.doc, current.active, doc, fields.active, this.rules.usernameFormat);
        if (fields.userName.toLowerCase() !== current.userName.toLowerCase()) {
          const holder = await tx.findUserByUserName(fields.userName);
          if (holder && holder.id !== id) throw conflict(`A user with userName "${fields.userName}" already exists`);
        }
        const unchanged = JSON.stringify(doc) === JSON.stringify({ ...current.doc, active: current.active });
        const updated: UserRecord = unchanged ? current : { ...current, ...fields, doc, version: current.version + 1, lastModified: this.now().toISOString() };
        if (!unchanged) {
          const written = await this.insertOrConflict(
            () => tx.updateUser(updated, current.version),
            `A user with userName "${fields.userName}" already exists`,
          );
          if (!written) throw new VersionConflict();
          const what = current.active && !fields.active ? 'user.suspend' : !current.active && fields.active ? 'user.reactivate' : action;
          await tx.recordEvent(this.event(ctx, what, id, updated.userName, 200));
          const type = what === 'user.suspend' ? 'user.suspended' : what === 'user.reactivate' ? 'user.reactivated' : 'user.updated';
          await tx.appendChanges([userChange(type, updated, ctx, changedAttributes({ ...current.doc, active: current.active }, doc))]);
        }
        const groups = (await tx.groupsOfUsers([id])).get(id) ?? [];
        return { user: updated, groups };
      }),
    );
  }

  async deleteUser(id: string, ifMatch: string | undefined, ctx: RequestContext): Promise<void> {
    return this.recorded(
      ctx,
      'user.delete',
      'User',
      async () => {
        // Retried like an update: leaving a group changed by a concurrent writer loses an optimistic race.
        await this.retrying(undefined, () =>
          this.store.transaction(async (tx) => {
            const current = await tx.getUser(id);
            if (!current) throw notFound(`User ${id} not found`);
            checkIfMatch(ifMatch, current.version);
            await this.leaveGroups(tx, current, ctx);
            await tx.deleteUser(id);
            await tx.recordEvent(this.event(ctx, 'user.delete', id, current.userName, 204));
            await tx.appendChanges([userChange('user.deleted', current, ctx)]);
          }),
        );
      },
      id,
    );
  }

  // ---- groups ----

  async createGroup(body: unknown, ctx: RequestContext): Promise<GroupView> {
    return this.recorded(ctx, 'group.create', 'Group', async () => {
      const { doc, members } = this.groupInput(body);
      const at = this.now().toISOString();
      const group: GroupRecord = {
        id: randomUUID(),
        displayName: doc.displayName as string,
        externalId: typeof doc.externalId === 'string' ? doc.externalId : undefined,
        managed: true,
        protected: false,
        doc,
        version: 1,
        created: at,
        lastModified: at,
      };
      await this.store.transaction(async (tx) => {
        const existing = await this.groupNamed(tx, group.displayName);
        if (existing) throw this.groupNameConflict(existing);
        await this.insertOrConflict(() => tx.insertGroup(group), `A group named "${group.displayName}" already exists`);
        let added: string[] = [];
        if (members?.length) {
          await this.requireUsers(tx, members);
          added = await tx.addMembers(group.id, members);
        }
        await tx.recordEvent(this.event(ctx, 'group.create', group.id, group.displayName, 201, members?.length ? `${members.length} members` : undefined));
        await tx.appendChanges(groupChanges(group, ctx, { type: 'group.created', added }));
      });
      const rendered = members?.length ? ((await this.store.membersOfGroups([group.id])).get(group.id) ?? []) : [];
      return { group, members: rendered };
    });
  }

  /** One statement: the group and, when returned, its members. */
  async getGroup(id: string, include: Include = { related: true }): Promise<GroupView> {
    const group = await this.store.getGroup(id, { withMembers: include.related === true });
    if (!group) throw notFound(`Group ${id} not found`);
    return { group, members: include.related ? (group.members ?? []) : undefined };
  }

  /** `excludedAttributes=members` (Entra, Okta) must not load members at all: pass `related: false`. */
  async listGroups(query: ListRequest, include: Include = { related: true }): Promise<ListResult<GroupView>> {
    const page = await this.store.queryGroups({ ...query, withMembers: include.related === true });
    return {
      totalResults: page.totalResults,
      startIndex: query.startIndex,
      items: page.items.map((group) => ({ group, members: include.related ? (group.members ?? []) : undefined })),
    };
  }

  async replaceGroup(id: string, body: unknown, ifMatch: string | undefined, ctx: RequestContext): Promise<GroupView> {
    return this.recorded(
      ctx,
      'group.replace',
      'Group',
      async () => {
        const { doc, members } = this.groupInput(body);
        return this.updateGroup(
          id,
          ifMatch,
          ctx,
          'group.replace',
          (current) => ({ doc: keepImmutable('Group', current.doc, doc, true), changes: [{ kind: 'replace', ids: members ?? [] }] }),
          true,
        );
      },
      id,
    );
  }

  /** Answers the new version only: echoing a 50,000-member group after each membership change would cost more than the change. */
  async patchGroup(id: string, body: unknown, ifMatch: string | undefined, ctx: RequestContext): Promise<GroupView> {
    return this.recorded(
      ctx,
      'group.patch',
      'Group',
      async () => {
        const operations = parsePatchRequest(body);
        return this.updateGroup(
          id,
          ifMatch,
          ctx,
          'group.patch',
          (current) => {
            const { doc, memberChanges } = applyPatch('Group', current.doc, operations);
            keepImmutable('Group', current.doc, doc, false);
            validateDoc('Group', doc);
            return { doc, changes: memberChanges };
          },
          false,
        );
      },
      id,
    );
  }

  private async updateGroup(
    id: string,
    ifMatch: string | undefined,
    ctx: RequestContext,
    action: string,
    change: (current: GroupRecord) => { doc: ScimDoc; changes: readonly MemberChange[] },
    withMembers: boolean,
  ): Promise<GroupView> {
    return this.retrying(ifMatch, () =>
      this.store.transaction(async (tx) => {
        const current = await tx.getGroup(id);
        if (!current) throw notFound(`Group ${id} not found`);
        this.requireManaged(current);
        checkIfMatch(ifMatch, current.version);
        const { doc, changes } = change(current);
        const displayName = doc.displayName as string;
        if (displayName.toLowerCase() !== current.displayName.toLowerCase()) {
          const holder = await this.groupNamed(tx, displayName);
          if (holder && holder.id !== id) throw this.groupNameConflict(holder);
        }
        // Net membership change: a member removed and added back in one request is no change.
        const added = new Set<string>();
        const removed = new Set<string>();
        const note = (ids: readonly string[], into: Set<string>, from: Set<string>) => {
          for (const memberId of ids) if (!from.delete(memberId)) into.add(memberId);
        };
        for (const memberChange of changes) {
          if (memberChange.kind === 'remove') {
            note(await tx.removeMembers(id, memberChange.ids), removed, added);
            continue;
          }
          await this.requireUsers(tx, memberChange.ids);
          if (memberChange.kind === 'replace') note(await tx.removeAllMembers(id), removed, added);
          note(await tx.addMembers(id, memberChange.ids), added, removed);
        }
        const docChanged = JSON.stringify(doc) !== JSON.stringify(current.doc);
        let updated = current;
        if (docChanged || added.size || removed.size) {
          updated = {
            ...current,
            displayName,
            externalId: typeof doc.externalId === 'string' ? doc.externalId : undefined,
            doc,
            version: current.version + 1,
            lastModified: this.now().toISOString(),
          };
          const written = await this.insertOrConflict(() => tx.updateGroup(updated, current.version), `A group named "${displayName}" already exists`);
          if (!written) throw new VersionConflict();
          if (docChanged) {
            const what = displayName !== current.displayName ? 'group.rename' : action;
            await tx.recordEvent(this.event(ctx, what, id, displayName, 200, what === 'group.rename' ? `was "${current.displayName}"` : undefined));
          }
          if (added.size) await tx.recordEvent(this.event(ctx, 'group.members.add', id, displayName, 200, `${added.size} added`));
          if (removed.size) await tx.recordEvent(this.event(ctx, 'group.members.remove', id, displayName, 200, `${removed.size} removed`));
          await tx.appendChanges(
            groupChanges(updated, ctx, {
              type: docChanged ? 'group.updated' : undefined,
              changed: docChanged ? changedAttributes(current.doc, doc) : undefined,
              added: [...added],
              removed: [...removed],
            }),
          );
        }
        const members = withMembers ? ((await tx.membersOfGroups([id])).get(id) ?? []) : undefined;
        return { group: updated, members };
      }),
    );
  }

  async deleteGroup(id: string, ifMatch: string | undefined, ctx: RequestContext): Promise<void> {
    return this.recorded(
      ctx,
      'group.delete',
      'Group',
      async () => {
        await this.store.transaction(async (tx) => {
          const current = await tx.getGroup(id);
          if (!current) throw notFound(`Group ${id} not found`);
          this.requireManaged(current);
          checkIfMatch(ifMatch, current.version);
          await tx.deleteGroup(id);
          await tx.recordEvent(this.event(ctx, 'group.delete', id, current.displayName, 204));
          await tx.appendChanges(groupChanges({ ...current, version: current.version + 1 }, ctx, { type: 'group.deleted' }));
        });
      },
      id,
    );
  }

  // ---- helpers ----

  /**
   * A deleted user leaves its groups as a change of each group: its version grows (a stale If-Match on the group
   * is refused), an event and a feed change record it. Protected and unmanaged groups too: the person is gone.
   */
  private async leaveGroups(tx: StoreTx, user: UserRecord, ctx: RequestContext): Promise<void> {
    const refs = (await tx.groupsOfUsers([user.id])).get(user.id) ?? [];
    for (const ref of refs) {
      const group = await tx.getGroup(ref.value);
      if (!group) continue;
      const removed = await tx.removeMembers(group.id, [user.id]);
      if (!removed.length) continue;
      const updated: GroupRecord = { ...group, version: group.version + 1, lastModified: this.now().toISOString() };
      if (!(await tx.updateGroup(updated, group.version))) throw new VersionConflict();
      await tx.recordEvent(this.event(ctx, 'group.members.remove', group.id, group.displayName, 200, `${user.userName} was deleted`));
      await tx.appendChanges(groupChanges(updated, ctx, { removed }));
    }
  }

  private groupInput(body: unknown): { doc: ScimDoc; members?: string[] } {
    const doc = normalizeInput('Group', body);
    const members = doc.members === undefined ? undefined : memberIds(doc.members);
    delete doc.members;
    validateDoc('Group', doc);
    return { doc, members };
  }

  /** The group holding `name`, or the protected group it imitates (a look-alike of a protected name is taken). */
  private async groupNamed(tx: StoreTx, name: string): Promise<GroupRecord | undefined> {
    const holder = await tx.findGroupByName(name);
    if (holder) return holder;
    const protectedId = protectedLookalike(name);
    return protectedId ? tx.getGroup(protectedId) : undefined;
  }

  private requireManaged(group: GroupRecord): void {
    if (group.protected) {
      throw forbidden(`"${group.displayName}" is a protected group (it holds account-wide powers) and cannot be changed over SCIM`);
    }
    if (!group.managed) {
      throw forbidden(`"${group.displayName}" is not managed by the bridge; an administrator can run "scim-bridge groups manage ${group.id}" to allow changes`);
    }
  }

  private groupNameConflict(existing: GroupRecord): ScimError {
    if (existing.protected) return conflict(`"${existing.displayName}" is a protected group; choose another name`);
    if (!existing.managed) {
      return conflict(
        `A group named "${existing.displayName}" exists and is not managed by the bridge; an administrator can run "scim-bridge groups manage ${existing.id}" to link it`,
      );
    }
    return conflict(`A group named "${existing.displayName}" already exists`);
  }

  private async requireUsers(tx: StoreTx, ids: readonly string[]): Promise<void> {
    if (!ids.length) return;
    const found = await tx.existingUserIds(ids);
    const missing = [...new Set(ids)].filter((id) => !found.has(id));
    if (missing.length) {
      const shown = missing.slice(0, 5).join(', ') + (missing.length > 5 ? ` and ${missing.length - 5} more` : '');
      throw badRequest('invalidValue', `Members must be provisioned users; unknown: ${shown}`);
    }
  }

  private event(
    ctx: RequestContext,
    action: string,
    resourceId: string | undefined,
    resourceName: string | undefined,
    status: number,
    detail?: string,
  ): ProvisioningEvent {
    return {
      at: this.now().toISOString(),
      actor: ctx.actor,
      action,
      resourceType: action.startsWith('user') ? 'User' : 'Group',
      resourceId,
      resourceName,
      outcome: status < 400 ? 'success' : 'refused',
      status,
      requestId: ctx.requestId,
      detail,
    };
  }

  private async insertOrConflict<T>(write: () => Promise<T>, message: string): Promise<T> {
    try {
      return await write();
    } catch (error) {
      if (error instanceof UniqueViolation) throw conflict(message);
      throw error;
    }
  }

  /** Lost optimistic races are retried; with If-Match the client asked for exactly that version, so it gets 412. */
  private async retrying<T>(ifMatch: string | undefined, attempt: () => Promise<T>): Promise<T> {
    for (let i = 1; ; i++) {
      try {
        return await attempt();
      } catch (error) {
        if (!(error instanceof VersionConflict)) throw error;
        if (ifMatch !== undefined && ifMatch.trim() !== '*') throw preconditionFailed('The resource changed while this request was applied; fetch it again');
        if (i >= WRITE_ATTEMPTS) throw conflict('The resource is being changed by other requests; retry');
      }
    }
  }

  /** Runs a write; a refusal (4xx) is recorded as a provisioning event before it reaches the client. */
  private async recorded<T>(ctx: RequestContext, action: string, kind: ResourceKind, work: () => Promise<T>, resourceId?: string): Promise<T> {
    try {
      return await work();
    } catch (thrown) {
      const error = asScimError(thrown);
      if (error instanceof ScimError && error.status < 500) {
        await this.store
          .recordEvent({
            at: this.now().toISOString(),
            actor: ctx.actor,
            action,
            resourceType: kind,
            resourceId,
            outcome: 'refused',
            status: error.status,
            requestId: ctx.requestId,
            detail: error.message,
          })
          .catch(() => undefined); // a refusal is still answered if the event cannot be written
      }
      throw error;
    }
  }
}
