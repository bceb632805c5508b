/** The cloud contract (contract.ts) on gcp. */
import { gcpAdapter } from './adapters';
import { cloudContract } from './contract';

cloudContract(gcpAdapter());
