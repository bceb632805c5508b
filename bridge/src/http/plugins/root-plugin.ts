/**
 * A plugin whose hooks, decorators and handlers apply to the instance that registers it, not to a child scope:
 * what `fastify-plugin` does, by the two symbols Fastify documents for it (Plugins guide, "Handle the scope").
 */
import type { FastifyInstance, FastifyPluginCallback, FastifyPluginOptions } from 'fastify';

export function rootPlugin<Options extends FastifyPluginOptions>(
  name: string,
  register: (app: FastifyInstance, options: Options) => void,
): FastifyPluginCallback<Options> {
  const plugin: FastifyPluginCallback<Options> = (app, options, done) => {
    register(app, options);
    done();
  };
  Object.assign(plugin, { [Symbol.for('skip-override')]: true, [Symbol.for('fastify.display-name')]: name });
  return plugin;
}
