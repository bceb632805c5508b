import { PostgresStore } from '../../bridge/src/store/postgres';
import { describePostgres, freshDatabase } from '../support/postgres';
import { describeGuardContract } from './guard-contract';

describePostgres('deprovisioning guard on PostgreSQL', () => {
  describeGuardContract(async () => {
    const url = await freshDatabase();
    return { database: url, open: () => PostgresStore.connect(url, {}) };
  });
});
