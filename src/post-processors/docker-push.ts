/**
 * The `docker-push` post-processor (Packer's post-processor/docker-push): pushes the image named by
 * a docker-import or docker-tag artifact, and every name in its `docker_tags`, to its registry
 * through the Engine API. With `login`, the credentials (`login_username`, `login_password` —
 * sensitive, never printed — `login_server`) are checked first and sent with each push.
 * The artifact is the first name with `docker_tags` and the pushed image's digest in
 * `generated_data.Digest`; the input is kept. `ecr_login` is refused as "not supported".
 * A registry that cannot be reached fails the step with the engine's message. A registry on the
 * loopback is pushed to without TLS, as Docker Engine does by default.
 */
import type { PostProcessorDef } from '../sdk/component.js';
import { asBool, asString, ConfigReader } from '../sdk/config-reader.js';
import { checkLogin, dialStream, followProgress, splitRepoTag, type RegistryAuth } from '../builders/docker/engine.js';
import { apiMessage } from '../builders/docker/endpoint.js';
import { UserError } from '../errors.js';
import { apiError, DOCKER_IMPORT_ID, DOCKER_TAG_ID, dockerForStep, dockerTags, imageArtifact, requireArtifact } from './docker-common.js';

/** True for a registry on this machine's loopback (`127.x.x.x:PORT/…`, `localhost:PORT/…`,
 * `[::1]:PORT/…`), which Docker Engine reaches without TLS by default; Podman needs `tlsVerify=false`
 * for it (Docker ignores that parameter). */
function loopbackRegistry(repo: string): boolean {
  const slash = repo.indexOf('/');
  if (slash < 0) return false;
  const host = repo.slice(0, slash).replace(/:\d+$/, '');
  return host === 'localhost' || /^127\.\d+\.\d+\.\d+$/.test(host) || host === '[::1]';
}

export interface DockerPushConfig {
  login: boolean;
  loginUsername: string;
  /** Sensitive. */
  loginPassword: string;
  loginServer: string;
}

export const dockerPushPostProcessor = {
  type: 'docker-push',
  configSpec: {
    attributes: { login: { type: 'bool' }, login_username: { type: 'string' }, login_password: { type: 'string' }, login_server: { type: 'string' }, ecr_login: { type: 'bool' } },
  },
  prepare(raw) {
    const r = new ConfigReader(raw);
    const config: DockerPushConfig = {
      login: r.get('login', asBool) ?? false,
      loginUsername: r.get('login_username', asString) ?? '',
      loginPassword: r.get('login_password', asString) ?? '',
      loginServer: r.get('login_server', asString) ?? '',
    };
    const errors = r.errors;
    if (r.get('ecr_login', asBool) === true) errors.push("ecr_login is not supported by builder's docker-push (it has no AWS ECR client); use login with an ECR token as login_password");
    return { config: errors.length === 0 ? config : undefined, errors, warnings: [] };
  },
  async run(config, input, ctx) {
    requireArtifact(input, [DOCKER_IMPORT_ID, DOCKER_TAG_ID], 'Can only import from docker-import and docker-tag artifacts.');
    const docker = dockerForStep(ctx);
    const scrub = (m: string): string => (config.loginPassword === '' ? m : m.split(config.loginPassword).join('<sensitive>'));
    let auth: RegistryAuth | undefined;
    if (config.login) {
      ctx.ui.message('Logging in...');
      auth = { username: config.loginUsername, password: config.loginPassword, serveraddress: config.loginServer };
      try {
        await checkLogin(docker, auth);
      } catch (err) {
        throw new UserError('DOCKER_LOGIN', scrub(`Error logging in to Docker: ${apiMessage(err)}`));
      }
    }
    const tags = dockerTags(input);
    const names = [input.id, ...tags];
    for (const name of names) {
      ctx.ui.message(`Pushing: ${name}`);
      const { repo, tag } = splitRepoTag(name);
      try {
        const stream = await dialStream(docker, {
          path: `/images/${encodeURIComponent(repo)}/push?`,
          method: 'POST',
          query: { ...(tag ? { tag } : {}), ...(loopbackRegistry(repo) ? { tlsVerify: 'false' } : {}) },
          authconfig: auth ?? {},
          statusCodes: { 200: true, 404: 'no such image', 500: 'server error' },
        });
        await followProgress(docker, stream, (l) => ctx.ui.message(scrub(l)));
      } catch (err) {
        throw new UserError('DOCKER_PUSH', scrub(`Error pushing ${name}: ${apiMessage(err)}`));
      }
    }
    if (config.login) ctx.ui.message('Logging out...');
    let digest = '';
    try {
      const info = await docker.getImage(input.id).inspect();
      const { repo } = splitRepoTag(input.id);
      digest = (info.RepoDigests ?? []).find((d) => d.startsWith(`${repo}@`))?.split('@')[1] ?? '';
    } catch (err) {
      ctx.ui.message(`Unable to determine pushed Docker image digest (${apiError('inspect', err).message})`);
    }
    return { artifact: imageArtifact(docker, DOCKER_IMPORT_ID, input.id, { docker_tags: tags, generated_data: { Digest: digest } }), keep: true, forceOverride: false };
  },
} satisfies PostProcessorDef<DockerPushConfig>;
