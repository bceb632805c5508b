/**
 * The virtual network the environment and the database share: a delegated subnet for each, the database subnet
 * admitting PostgreSQL from the apps subnet only, and the private DNS zone that resolves the server inside the VNet.
 * The server has no public endpoint (learn.microsoft.com/azure/postgresql/flexible-server/concepts-networking-private).
 */
import * as pulumi from '@pulumi/pulumi';
import * as network from '@pulumi/azure-native/network';
import * as privatedns from '@pulumi/azure-native/privatedns';
import type { AzureContext, AzureNetworkArgs } from './args';

export const POSTGRES_PORT = 5432;

export interface BridgeNetworkArgs extends AzureContext {
  readonly ranges: Required<AzureNetworkArgs>;
}

export class BridgeNetwork extends pulumi.ComponentResource {
  public readonly vnet: network.VirtualNetwork;
  public readonly appsSubnet: network.Subnet;
  public readonly databaseSubnet: network.Subnet;
  public readonly databaseDnsZone: privatedns.PrivateZone;
  /** The server must wait for it: the zone has to resolve inside the VNet when the server registers. */
  public readonly databaseDnsLink: privatedns.VirtualNetworkLink;

  constructor(name: string, args: BridgeNetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super('scim-bridge:azure:Network', name, {}, opts);
    const { resourceGroupName, location, tags, ranges } = args;
    const parent = { parent: this };
    this.vnet = new network.VirtualNetwork(
      `${name}-vnet`,
      { resourceGroupName, location, tags, addressSpace: { addressPrefixes: [ranges.addressSpace] } },
      parent,
    );
    const rule = (name: string, priority: number, access: string, source: string, port: string, protocol = '*') => ({
      name,
      priority,
      access,
      protocol,
      direction: 'Inbound',
      sourceAddressPrefix: source,
      sourcePortRange: '*',
      destinationAddressPrefix: '*',
      destinationPortRange: port,
    });
    const databaseNsg = new network.NetworkSecurityGroup(
      `${name}-db-nsg`,
      {
        resourceGroupName,
        location,
        tags,
        securityRules: [
          rule('allow-postgres-from-apps', 100, 'Allow', ranges.appsSubnet, String(POSTGRES_PORT), 'Tcp'),
          // Primary and standby talk to each other when high availability is on.
          rule('allow-within-database-subnet', 110, 'Allow', ranges.databaseSubnet, '*'),
          // The default rules admit the whole VNet (and peered ones); nothing else in it may reach the database.
          rule('deny-other-vnet-inbound', 4000, 'Deny', 'VirtualNetwork', '*'),
        ],
      },
      parent,
    );
    const subnet = (id: string, prefix: string, service: string, extra: Partial<network.SubnetArgs>, dependsOn: pulumi.Resource[] = []) =>
      new network.Subnet(
        `${name}-${id}-subnet`,
        {
          resourceGroupName,
          virtualNetworkName: this.vnet.name,
          addressPrefix: prefix,
          delegations: [{ name: service.split('/')[0], serviceName: service }],
          ...extra,
        },
        { parent: this, dependsOn },
      );
    this.appsSubnet = subnet('apps', ranges.appsSubnet, 'Microsoft.App/environments', {});
    // Two subnet writes on one VNet at once fail with AnotherOperationInProgress.
    this.databaseSubnet = subnet('db', ranges.databaseSubnet, 'Microsoft.DBforPostgreSQL/flexibleServers', { networkSecurityGroup: { id: databaseNsg.id } }, [
      this.appsSubnet,
    ]);
    // Flexible Server wants a zone ending in .postgres.database.azure.com.
    this.databaseDnsZone = new privatedns.PrivateZone(
      `${name}-pg-dns`,
      { resourceGroupName, location: 'global', privateZoneName: pulumi.interpolate`scim-bridge-${args.suffix}.private.postgres.database.azure.com`, tags },
      parent,
    );
    this.databaseDnsLink = new privatedns.VirtualNetworkLink(
      `${name}-pg-dns-link`,
      {
        resourceGroupName,
        location: 'global',
        privateZoneName: this.databaseDnsZone.name,
        virtualNetwork: { id: this.vnet.id },
        registrationEnabled: false,
        tags,
      },
      parent,
    );
    this.registerOutputs({ vnetId: this.vnet.id });
  }
}
