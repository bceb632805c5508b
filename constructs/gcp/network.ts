/**
 * The VPC the bridge reaches its database through: one custom-mode network and one regional subnet that the Cloud Run
 * service and its bootstrap job join with Direct VPC egress (no connector VMs to pay for). Only private ranges are
 * routed into it (`PRIVATE_RANGES_ONLY`); the bridge's other egress (Google's Directory API) leaves Cloud Run directly.
 *
 * Both are left in place by a `pulumi destroy` (`retainOnDelete`): after a Cloud Run service or job that used Direct
 * VPC egress is deleted, Google keeps its addresses in the subnet reserved for one to two hours, and the subnet (so the
 * network) cannot be deleted until then (cloud.google.com/run/docs/configuring/vpc-direct-vpc#delete-subnet; measured
 * at 77 minutes and more in DefangLabs/pulumi-defang#476). A destroy that waited would fail instead; a network and a
 * subnet cost nothing, and docs/gcp.md gives the two commands that remove them afterwards.
 */
import * as pulumi from '@pulumi/pulumi';
import * as compute from '@pulumi/gcp/compute';
import { childOptions } from '../pulumi';
import type { GcpScope } from './args';

export interface BridgeNetworkArgs extends GcpScope {
  /** The subnet's primary range. */
  readonly ipCidrRange: string;
}

export class BridgeNetwork extends pulumi.ComponentResource {
  public readonly network: compute.Network;
  public readonly subnetwork: compute.Subnetwork;

  constructor(name: string, args: BridgeNetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super('scim-bridge:gcp:Network', name, {}, opts);
    const kept: pulumi.CustomResourceOptions = { ...childOptions(this, opts), retainOnDelete: true };
    this.network = new compute.Network(
      name,
      { project: args.project, name: args.resourceName, autoCreateSubnetworks: false, description: 'SCIM bridge: Cloud Run to its Cloud SQL instance' },
      kept,
    );
    this.subnetwork = new compute.Subnetwork(
      name,
      {
        project: args.project,
        region: args.region,
        name: args.resourceName,
        network: this.network.id,
        ipCidrRange: args.ipCidrRange,
        // Google APIs over internal routes if egress is ever switched to ALL_TRAFFIC.
        privateIpGoogleAccess: true,
      },
      kept,
    );
    this.registerOutputs({ network: this.network.id, subnetwork: this.subnetwork.id });
  }
}
