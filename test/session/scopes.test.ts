/**
 * Token scopes in the scimsession: a verifier without a scope is a provision token (every scimsession written
 * before scopes keeps working), unknown scopes are refused, and rotation and retirement work per scope.
 */
import {
  MAX_VERIFIERS,
  SCOPED_SESSION_VERSION,
  SESSION_VERSION,
  addToken,
  createSession,
  parseSession,
  retireAllButNewest,
  serializeSession,
  tokensByScope,
  verifyToken,
} from '../../bridge/src/session/scimsession';

/** A scimsession with one token of each scope. */
function threeScopes() {
  const provision = createSession();
  const read = addToken(provision.session, { scope: 'read' });
  const operate = addToken(read.session, { scope: 'operate' });
  return { session: operate.session, provision: provision.token, read: read.token, operate: operate.token };
}

describe('scoped verifiers', () => {
  it('tells which scope a token has, and a scimsession written before scopes still provisions', () => {
    const legacy = createSession();
    const text = serializeSession(legacy.session);
    expect(text).not.toContain('scope'); // written exactly as before
    expect(JSON.parse(text).version).toBe(SESSION_VERSION);
    expect(verifyToken(parseSession(text), legacy.token)).toBe('provision');

    const { session, provision, read, operate } = threeScopes();
    const parsed = parseSession(serializeSession(session));
    expect([verifyToken(parsed, provision), verifyToken(parsed, read), verifyToken(parsed, operate)]).toEqual(['provision', 'read', 'operate']);
    expect(verifyToken(parsed, 'scimb_not-a-token')).toBeUndefined();
    expect(tokensByScope(parsed)).toEqual({ provision: 1, read: 1, operate: 1 });
  });

  it('writes a scimsession with read or operate tokens as version 2, which bridges that know no scopes refuse', () => {
    const { session } = threeScopes();
    expect(session.version).toBe(SCOPED_SESSION_VERSION);
    // Retiring the last scoped token makes it readable by every bridge again.
    const onlyProvision = { ...session, verifiers: session.verifiers.filter((v) => v.scope === undefined) };
    expect(retireAllButNewest(onlyProvision).version).toBe(SESSION_VERSION);
  });

  it('refuses unknown scopes, and scoped tokens in a version 1 document (an older bridge would let them provision)', () => {
    const { session } = threeScopes();
    const doc = JSON.parse(serializeSession(session));
    const unknown = { ...doc, verifiers: [{ ...doc.verifiers[0], scope: 'admin' }] };
    expect(() => parseSession(JSON.stringify(unknown))).toThrow(
      'verifier 1 of the scimsession has an unknown scope (expected one of provision, read, operate)',
    );
    const downgraded = { ...doc, version: 1 };
    expect(() => parseSession(JSON.stringify(downgraded))).toThrow('verifier 2 of the scimsession has scope "read", which needs scimsession version 2');
    expect(() => parseSession(JSON.stringify({ ...doc, version: 3 }))).toThrow('scimsession version 3 is not supported (expected 1 or 2)');
  });
});

describe('rotation per scope', () => {
  it('rotating read tokens past the limit never retires the identity provider token', () => {
    let { session, provision, operate } = threeScopes();
    const reads: string[] = [];
    for (let i = 0; i < MAX_VERIFIERS + 3; i++) {
      const added = addToken(session, { scope: 'read' });
      session = added.session;
      reads.push(added.token);
    }
    expect(tokensByScope(session)).toEqual({ provision: 1, read: MAX_VERIFIERS, operate: 1 });
    expect(verifyToken(session, provision)).toBe('provision');
    expect(verifyToken(session, operate)).toBe('operate');
    expect(verifyToken(session, reads[2])).toBeUndefined(); // the oldest read tokens went
    expect(verifyToken(session, reads.at(-MAX_VERIFIERS)!)).toBe('read');
  });

  it('retire and --retire-others act on one scope only', () => {
    const { session, provision, read, operate } = threeScopes();
    const second = addToken(session, { scope: 'read' });
    const retired = retireAllButNewest(second.session, 'read');
    expect([verifyToken(retired, provision), verifyToken(retired, read), verifyToken(retired, second.token), verifyToken(retired, operate)]).toEqual([
      'provision',
      undefined,
      'read',
      'operate',
    ]);

    const newProvision = addToken(session, { retireOthers: true });
    expect([verifyToken(newProvision.session, provision), verifyToken(newProvision.session, newProvision.token)]).toEqual([undefined, 'provision']);
    expect(verifyToken(newProvision.session, read)).toBe('read');
    expect(verifyToken(newProvision.session, operate)).toBe('operate');

    // Retiring a scope that has no token leaves the document as it was.
    const plain = createSession();
    expect(retireAllButNewest(plain.session, 'operate').verifiers).toEqual(plain.session.verifiers);
  });
});
