/** The cloud contract (contract.ts) on digitalocean. */
import { digitalOceanAdapter } from './adapters';
import { cloudContract } from './contract';

cloudContract(digitalOceanAdapter());
