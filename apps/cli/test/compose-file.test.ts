/**
 * The Compose file loader the containers test relies on: it must refuse what Compose refuses
 * (schema, references, interpolation errors) and resolve what Compose resolves, or the
 * containers test could pass on a file `docker compose` rejects.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ComposeFileError, parseComposeFile, parseGoDurationMs, type ComposeFile } from './compose/compose-file.js';
import { substitute } from './compose/interpolate.js';

const REAL_FILE = readFileSync(new URL('../../../docker-compose.yml', import.meta.url), 'utf8');

function parse(text: string, env: Record<string, string> = {}): ComposeFile {
  return parseComposeFile(text, { env });
}

/** The problems a file is refused for (fails the test when it is accepted). */
function problems(text: string, env: Record<string, string> = {}): readonly string[] {
  try {
    parse(text, env);
  } catch (error) {
    expect(error).toBeInstanceOf(ComposeFileError);
    return (error as ComposeFileError).problems;
  }
  throw new Error('the file was accepted');
}

describe('interpolation, as compose-go does it', () => {
  const env = { SET: 'value', EMPTY: '', NESTED: 'inner' };

  it.each([
    ['${SET}', 'value'],
    ['$SET', 'value'],
    ['$SET-suffix', 'value-suffix'],
    ['${UNSET:-fallback}', 'fallback'],
    ['${EMPTY:-fallback}', 'fallback'],
    ['${EMPTY-fallback}', ''],
    ['${UNSET-fallback}', 'fallback'],
    ['${SET:-fallback}', 'value'],
    ['${SET:+alt}', 'alt'],
    ['${EMPTY:+alt}', ''],
    ['${EMPTY+alt}', 'alt'],
    ['${UNSET+alt}', ''],
    ['${UNSET:-${NESTED}}', 'inner'],
    ['${UNSET:-${ALSO_UNSET:-deep}}', 'deep'],
    ['a ${SET} and ${UNSET:-b} c', 'a value and b c'],
    ['$$SET', '$SET'],
    ['$${SET}', '${SET}'],
    ['cost: 5$', 'cost: 5$'],
    ['${UNSET:-}', ''],
  ])('%s → %j', (template, expected) => {
    expect(substitute(template, env)).toBe(expected);
  });

  it('reports a variable used without a default and not set, and substitutes an empty string', () => {
    const unset: string[] = [];
    expect(substitute('x${UNSET}y$ALSO', env, (name) => unset.push(name))).toBe('xy');
    expect(unset).toEqual(['UNSET', 'ALSO']);
  });

  it('throws on a required variable that is missing, with its message, and on an invalid template', () => {
    expect(() => substitute('${UNSET:?set UNSET to the Redis URL}', env)).toThrow('required variable UNSET is missing a value: set UNSET to the Redis URL');
    expect(() => substitute('${EMPTY:?}', env)).toThrow('required variable EMPTY is missing a value');
    expect(substitute('${EMPTY?}', env)).toBe('');
    expect(() => substitute('${UNSET', env)).toThrow('invalid interpolation format');
    expect(() => substitute('${1BAD}', env)).toThrow('invalid interpolation format');
  });
});

describe('parseComposeFile', () => {
  it('resolves the repository file and merges its `<<` anchors', () => {
    const file = parse(REAL_FILE);
    expect(file.services['monitor']?.environment['REDIS_URL']).toBe('redis://redis:6379');
    expect(file.services['monitor']?.dependsOn).toEqual({ redis: { condition: 'service_healthy', required: true, restart: false } });
  });

  it('refuses the repository file with a misspelt volume, and with a healthcheck removed from Redis', () => {
    expect(problems(REAL_FILE.replace('- redis-data:/data', '- redis-dta:/data'))).toEqual(['services.redis.volumes[0]: refers to undefined volume redis-dta']);
    const unhealthy = REAL_FILE.replace(/\n {4}healthcheck:\n {6}test: \["CMD", "redis-cli", "ping"\]\n(?: {6}\S.*\n)+/, '\n');
    expect(unhealthy).not.toBe(REAL_FILE);
    expect(problems(unhealthy)).toEqual([
      'services.worker.depends_on.redis: condition service_healthy, but "redis" has no healthcheck',
      'services.monitor.depends_on.redis: condition service_healthy, but "redis" has no healthcheck',
      'services.board.depends_on.redis: condition service_healthy, but "redis" has no healthcheck',
    ]);
  });

  it('validates against the Compose Specification schema after interpolation, naming the path', () => {
    expect(problems('services:\n  app:\n    image: x\n    imagee: y\n')).toEqual(['services.app: must NOT have additional properties ("imagee")']);
    expect(problems('services:\n  app:\n    image: x\n    container_name: 5\n    ports: 3000\n')).toEqual([
      'services.app.container_name: must be string',
      'services.app.ports: must be array',
    ]);
    expect(problems('servics:\n  app:\n    image: x\n')).toEqual(['(top level): must NOT have additional properties ("servics")']);
    expect(problems('- not a mapping\n')).toEqual(['(top level): must be a mapping']);
  });

  it('casts interpolated values where Compose wants a number or a boolean, and refuses what does not cast', () => {
    const file = parse('services:\n  app:\n    image: x\n    init: ${INIT:-true}\n    deploy:\n      replicas: ${N:-4}\n', {});
    expect(file.services['app']?.replicas).toBe(4);
    expect(file.services['app']?.init).toBe(true);
    expect(problems('services:\n  app:\n    image: x\n    deploy:\n      replicas: ${N}\n', { N: 'many' })).toEqual([
      'services.app.deploy.replicas: failed to cast to expected type: "many" is not an integer',
    ]);
    // Compose casts every string there, written or interpolated.
    expect(problems('services:\n  app:\n    image: x\n    deploy:\n      replicas: three\n')).toEqual([
      'services.app.deploy.replicas: failed to cast to expected type: "three" is not an integer',
    ]);
    expect(problems('services:\n  app:\n    image: ${IMAGE:?name the image}\n')).toEqual([
      'services.app.image: required variable IMAGE is missing a value: name the image',
    ]);
  });

  it('interpolates values only, never keys, and warns about unset variables and `version`', () => {
    const file = parse('version: "3.8"\nservices:\n  app:\n    image: x\n    environment:\n      $KEY: $VALUE\n');
    expect(file.services['app']?.environment).toEqual({ $KEY: '' });
    expect(file.warnings).toEqual([
      'variable not set, defaulting to a blank string: services.app.environment.$KEY: $VALUE',
      'the attribute `version` is obsolete, it will be ignored, please remove it to avoid potential confusion',
    ]);
  });

  it('reports every broken reference at once', () => {
    const text = [
      'services:',
      '  a:',
      '    image: x',
      '    depends_on: [missing, b]',
      '    networks: [backend]',
      '    volumes: ["nowhere:/data", "./local:/data"]',
      '    secrets: [token]',
      '    healthcheck:',
      '      test: ["RUN", "true"]',
      '  b:',
      '    build: .',
      '    depends_on:',
      '      a:',
      '        condition: service_healthy',
      '    container_name: fixed',
      '    deploy:',
      '      replicas: 2',
      '  c:',
      '    environment: [A=1]',
      '    stop_grace_period: 10 seconds',
    ].join('\n');
    expect(problems(text)).toEqual([
      'services.c.stop_grace_period: "10 seconds" is not a duration (e.g. 30s, 1m30s)',
      'services.a.networks: refers to undefined network backend',
      'services.a.healthcheck.test: must start either by "CMD", "CMD-SHELL" or "NONE", not "RUN"',
      'services.a.depends_on: depends on undefined service "missing"',
      'services.a.volumes[0]: refers to undefined volume nowhere',
      'services.a.volumes[1]: target /data already mounted as services.a.volumes[0]',
      'services.a.secrets: refers to undefined secret token',
      "services.b: can't set container_name and 2 replicas, as container names must be unique",
      'services.c: has neither an image nor a build context specified',
      'depends_on: dependency cycle a -> b -> a',
    ]);
  });

  it('refuses duplicate keys, as Compose does', () => {
    expect(problems('services:\n  app:\n    image: x\n    image: y\n')[0]).toMatch(/Map keys must be unique/);
  });

  it('reads the short and long port and volume syntaxes as Compose does', () => {
    const file = parse(
      [
        'services:',
        '  app:',
        '    image: x',
        '    ports: ["3000", "127.0.0.1:6379:6379", "[::1]:53:53/udp", "8000-8001:9000-9001", {target: 80, published: "8080", host_ip: "127.0.0.1"}]',
        '    volumes: ["data:/data:ro", "./src:/src", "/anonymous", {type: tmpfs, target: /tmp}]',
        'volumes:',
        '  data: {}',
      ].join('\n'),
    );
    expect(file.services['app']?.ports).toEqual([
      { target: 3000, published: undefined, hostIp: undefined, protocol: 'tcp' },
      { target: 6379, published: '6379', hostIp: '127.0.0.1', protocol: 'tcp' },
      { target: 53, published: '53', hostIp: '::1', protocol: 'udp' },
      { target: 9000, published: '8000', hostIp: undefined, protocol: 'tcp' },
      { target: 9001, published: '8001', hostIp: undefined, protocol: 'tcp' },
      { target: 80, published: '8080', hostIp: '127.0.0.1', protocol: 'tcp' },
    ]);
    expect(file.services['app']?.volumes).toEqual([
      { type: 'volume', source: 'data', target: '/data', readOnly: true },
      { type: 'bind', source: './src', target: '/src', readOnly: false },
      { type: 'volume', source: undefined, target: '/anonymous', readOnly: false },
      { type: 'tmpfs', source: undefined, target: '/tmp', readOnly: false },
    ]);
    expect(problems('services:\n  app:\n    image: x\n    ports: ["70000:80"]\n')).toEqual(['services.app.ports[0]: invalid port "70000" in "70000:80"']);
  });

  it('parses Go durations as Compose does', () => {
    expect(parseGoDurationMs('45s')).toBe(45_000);
    expect(parseGoDurationMs('1m30s')).toBe(90_000);
    expect(parseGoDurationMs('1.5h')).toBe(5_400_000);
    expect(parseGoDurationMs('250ms')).toBe(250);
    expect(parseGoDurationMs('0')).toBe(0);
    expect(() => parseGoDurationMs('45')).toThrow('is not a duration');
    expect(() => parseGoDurationMs('s')).toThrow('is not a duration');
  });
});
