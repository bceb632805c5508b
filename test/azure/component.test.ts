/**
 * The pieces under the stack: the ACR token exchange, and ScimBridgeAzure used directly (its argument checks, and
 * that it keeps a session secret even when handed a plain string).
 */
import { exchangeAcrRefreshToken } from '../../constructs/azure';
import { isSecretInput, runPulumiProgram } from '../support/pulumi-harness';
import { AZURE_MOCKS, SESSION, T } from './mocks';

describe('exchangeAcrRefreshToken', () => {
  test('posts the Entra token to the registry exchange endpoint and returns the refresh token', async () => {
    const fake = jest.fn(async (_url: string | URL | Request, _init?: RequestInit) => Response.json({ refresh_token: 'rt-1' }));
    await expect(exchangeAcrRefreshToken('reg.azurecr.io', 'tenant-1', 'aad-token', fake as typeof fetch)).resolves.toBe('rt-1');
    const [url, init] = fake.mock.calls[0];
    expect(url).toBe('https://reg.azurecr.io/oauth2/exchange');
    expect(init?.method).toBe('POST');
    expect(Object.fromEntries(new URLSearchParams(String(init?.body)))).toEqual({
      grant_type: 'access_token',
      service: 'reg.azurecr.io',
      tenant: 'tenant-1',
      access_token: 'aad-token',
    });
  });

  test('a refused exchange fails with the status and a hint, never echoing the token', async () => {
    const fake = (async () => new Response('unauthorized', { status: 401 })) as typeof fetch;
    const failure = exchangeAcrRefreshToken('reg.azurecr.io', 't', 'secret-aad-token', fake);
    await expect(failure).rejects.toThrow(/HTTP 401.*push rights/);
    await expect(failure).rejects.not.toThrow(/secret-aad-token/);
  });

  test('an answer without a refresh token is an error', async () => {
    const fake = (async () => Response.json({})) as typeof fetch;
    await expect(exchangeAcrRefreshToken('reg.azurecr.io', 't', 'x', fake)).rejects.toThrow(/no refresh_token/);
  });
});

describe('ScimBridgeAzure used directly, not through the stack', () => {
  test('a plain session string still reaches Key Vault as a secret, and the outputs are the shared ones', async () => {
    const run = await runPulumiProgram(AZURE_MOCKS, { config: {}, secretKeys: [] }, () => {
      const azure = require('../../constructs/azure');
      const bridge = new azure.ScimBridgeAzure('b', { domain: 'scim.example.com', location: 'westeurope', scimSession: SESSION, image: 'img:1' });
      return { scimBaseUrl: bridge.scimBaseUrl, dnsRecords: bridge.dnsRecords, nextSteps: bridge.nextSteps };
    });
    expect(isSecretInput(run.one(T.secret, 'b-scimsession').raw.properties)).toBe(true);
    expect(run.outputs.scimBaseUrl).toMatch(/^https:\/\/b?scim-bridge\..+\/scim\/v2$/);
    expect(run.outputs.dnsRecords.map((r: { type: string }) => r.type)).toEqual(['CNAME', 'TXT']);
    expect(run.outputs.nextSteps).toContain('npx scim-bridge doctor');
  });

  test('a bad arg is an ArgError naming it, thrown before anything is created', async () => {
    const created: string[] = [];
    const attempt = runPulumiProgram(
      {
        ...AZURE_MOCKS,
        computed: (t, n, i) => {
          created.push(n);
          return AZURE_MOCKS.computed(t, n, i);
        },
      },
      { config: {}, secretKeys: [] },
      () => {
        const azure = require('../../constructs/azure');
        new azure.ScimBridgeAzure('b', { domain: 'scim.example.com', location: 'westeurope', scimSession: SESSION, minReplicas: 3, maxReplicas: 2 });
        return {};
      },
    );
    await expect(attempt).rejects.toThrow('ScimBridgeAzure: maxReplicas must be at least minReplicas (3), got 2');
    expect(created).toEqual([]);
  });
});
