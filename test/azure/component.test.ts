/**
 * The pieces under the stack: the ACR token exchange, the custom-domain rules, and ScimBridgeAzure used directly
 * (its own argument checks, and that it keeps a session secret even when handed a plain string).
 */
/* eslint-disable @typescript-eslint/no-require-imports */
import { exchangeAcrRefreshToken, relativeRecordName, nextPhaseHint } from '../../constructs/azure';
import { SESSION, isSecretInput } from './harness';

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

describe('custom-domain rules', () => {
  test('record names are relative to the zone; apex and foreign hosts are refused', () => {
    expect(relativeRecordName('scim.example.com', 'example.com')).toBe('scim');
    expect(relativeRecordName('scim.eu.example.com', 'example.com.')).toBe('scim.eu');
    expect(() => relativeRecordName('example.com', 'example.com')).toThrow(/apex/);
    expect(() => relativeRecordName('scim.badexample.com', 'example.com')).toThrow(/not inside DNS zone/);
  });

  test('each unfinished phase names the command for the next one', () => {
    expect(nextPhaseHint('records', 'scim.example.com', 'azure')).toContain('customDomainPhase hostname');
    expect(nextPhaseHint('hostname', 'scim.example.com', 'azure')).toContain('customDomainPhase bind');
    expect(nextPhaseHint('bind', 'scim.example.com', 'azure')).toBeUndefined();
    expect(nextPhaseHint('auto', 'scim.example.com', 'azure')).toBeUndefined();
  });
});

describe('ScimBridgeAzure used directly', () => {
  function withMocks<T>(body: (pulumi: typeof import('@pulumi/pulumi'), azure: typeof import('../../constructs/azure')) => T): {
    value: T;
    inputs: Map<string, Record<string, unknown>>;
    settled: () => Promise<void>;
  } {
    const inputs = new Map<string, Record<string, unknown>>();
    let value!: T;
    let settings!: { waitForRPCs(): Promise<void> };
    jest.isolateModules(() => {
      const pulumi = require('@pulumi/pulumi') as typeof import('@pulumi/pulumi');
      settings = require('@pulumi/pulumi/runtime/settings');
      pulumi.runtime.setMocks(
        {
          newResource: (args) => {
            inputs.set(args.name, args.inputs);
            return { id: `${args.name}-id`, state: { ...args.inputs, name: `${args.name}-physical`, result: 'abc123' } };
          },
          call: () => ({ subscriptionId: 'sub', tenantId: 'tenant', token: 't', primarySharedKey: 'k' }),
        },
        'scim-bridge',
        'test',
        false,
      );
      value = body(pulumi, require('../../constructs/azure'));
    });
    return { value, inputs, settled: () => settings.waitForRPCs() };
  }

  test('a plain session string still reaches Key Vault as a secret', async () => {
    const { inputs, settled } = withMocks((_p, azure) => new azure.ScimBridgeAzure('b', { location: 'westeurope', scimSession: SESSION, image: 'img:1' }));
    await settled();
    const secret = inputs.get('b-scimsession');
    expect(secret).toBeDefined();
    expect(isSecretInput(secret!.properties)).toBe(true);
  });

  test.each([
    [{ minReplicas: 3, maxReplicas: 2 }, /ScimBridgeAzure b: maxReplicas must be .* ≥ minReplicas \(3\)/],
    [{ maxReplicas: 0, minReplicas: 0 }, /maxReplicas must be a whole number ≥ 1/],
    [{ concurrentRequests: 0 }, /concurrentRequests must be a whole number ≥ 1/],
    [{ postgres: { backupRetentionDays: 3 } }, /postgres\.backupRetentionDays must be from 7 to 35/],
    [{ location: undefined }, /location is required when no resourceGroupName is given/],
    [{ customDomain: { hostname: 'scim.other.org', zone: { name: 'example.com', resourceGroupName: 'dns' } } }, /not inside DNS zone example.com/],
  ])('refuses %p', (bad, message) => {
    expect(() =>
      withMocks((_p, azure) => new azure.ScimBridgeAzure('b', { location: 'westeurope', scimSession: SESSION, image: 'img:1', ...bad })),
    ).toThrow(message);
  });
});
