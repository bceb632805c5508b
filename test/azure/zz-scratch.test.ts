/* eslint-disable */
import { runPulumiProgram } from '../support/pulumi-harness';
test('dynamic under mocks', async () => {
  const t0 = Date.now();
  const run = await runPulumiProgram({ cloud: 'azure', computed: (_t, n, i) => ({ id: n + '-id', outputs: { ...i, out: 'x' } }), answer: () => ({}) }, { config: {}, secretKeys: [] }, () => {
    const pulumi = require('@pulumi/pulumi');
    const provider = {
      async create(inputs: any) {
        const r = await fetch('https://example.invalid/' + inputs.jobId, { method: 'POST' });
        return { id: 'run', outs: { ...inputs, status: r.status } };
      },
    };
    class JobRun extends pulumi.dynamic.Resource {
      constructor(name: string, args: any, opts?: any) { super(provider, name, { status: undefined, ...args }, opts); }
    }
    const r = new JobRun('run', { jobId: 'abc', token: pulumi.secret('t') });
    return { s: r.status };
  });
  console.log(Date.now() - t0, JSON.stringify(run.resources.map((r) => [r.type, r.name, Object.keys(r.inputs)])));
});
