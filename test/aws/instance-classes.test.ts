/**
 * The max_connections estimate behind the synth-time budget. RDS: max_connections = LEAST({DBInstanceClassMemory/9531392},
 * 5000) (CHAP_Limits.html#RDS_Limits.MaxConnections); DBInstanceClassMemory is unpublished, so the estimate must stay
 * at or below what instances report (`SHOW max_connections`), and close to it.
 */
import { estimatedMaxConnections, instanceMemoryGiB, rdsInstanceClass, smallestFittingSize } from '../../constructs/aws';

it.each([
  ['t4g.micro', 79], // reports of 79 to 87
  ['t3.small', 198],
  ['t3.medium', 413],
  ['m5.large', 856],
])('%s is estimated at or below the reported %i, within 12 %%', (size, reported) => {
  const estimate = estimatedMaxConnections(size)!;
  expect(estimate).toBeLessThanOrEqual(reported);
  expect(estimate).toBeGreaterThan(reported * 0.88);
});

it('knows the memory of the common families and caps at 5000', () => {
  expect(['t4g.micro', 'db.t4g.small', 'm7g.xlarge', 'r7g.2xlarge', 'x2g.large', 'm6i.24xlarge'].map(instanceMemoryGiB)).toEqual([1, 2, 16, 64, 32, 384]);
  expect(estimatedMaxConnections('m6i.24xlarge')).toBe(5000);
  expect(instanceMemoryGiB('db.serverless')).toBeUndefined();
  expect(rdsInstanceClass('t4g.micro')).toBe('db.t4g.micro');
  expect(smallestFittingSize('t4g.micro', 300)).toBe('t4g.medium');
});
