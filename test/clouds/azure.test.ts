/** The cloud contract (contract.ts) on azure. */
import { azureAdapter } from './adapters';
import { cloudContract } from './contract';

cloudContract(azureAdapter());
