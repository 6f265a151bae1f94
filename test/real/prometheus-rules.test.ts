// The shipped Prometheus rules (monitoring/appproxy-alerts.yml) through Prometheus's own promtool
// (`bash scripts/test-env.sh install` unpacks it from Debian's prometheus package): the rules
// parse, and each alert fires on its failure state with its labels and words and stays silent on
// a healthy fleet (monitoring/appproxy-alerts.test.yml). The last test is the control: a rule
// whose expression is changed makes promtool's test fail, so these tests can fail.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { testEnv } from '../support/env.ts';

const run = promisify(execFile);
const monitoring = new URL('../../monitoring/', import.meta.url).pathname;

async function promtool(...args: string[]): Promise<{ ok: boolean; output: string }> {
  assert.ok(
    existsSync(testEnv.promtool),
    `no promtool at ${testEnv.promtool}: run \`bash scripts/test-env.sh install\` (it unpacks Debian's prometheus package)`,
  );
  try {
    const { stdout, stderr } = await run(testEnv.promtool, args, { timeout: 60_000, killSignal: 'SIGKILL' });
    return { ok: true, output: `${stdout}${stderr}` };
  } catch (error) {
    const { stdout = '', stderr = '', message } = error as { stdout?: string; stderr?: string; message: string };
    return { ok: false, output: `${message}\n${stdout}${stderr}` };
  }
}

test('prometheus rules: promtool checks the shipped rules', async () => {
  const checked = await promtool('check', 'rules', join(monitoring, 'appproxy-alerts.yml'));
  assert.ok(checked.ok, checked.output);
  assert.match(checked.output, /SUCCESS: 15 rules found/);
});

test('prometheus rules: every alert fires on its failure state and stays silent on a healthy fleet (promtool test rules)', async () => {
  const tested = await promtool('test', 'rules', join(monitoring, 'appproxy-alerts.test.yml'));
  assert.ok(tested.ok, tested.output);
  assert.match(tested.output, /SUCCESS/);
  // Every alert of the rules has a test that expects it to fire.
  const rules = readFileSync(join(monitoring, 'appproxy-alerts.yml'), 'utf8');
  const tests = readFileSync(join(monitoring, 'appproxy-alerts.test.yml'), 'utf8');
  for (const [, alert] of rules.matchAll(/- alert: (\w+)/g))
    assert.ok(
      tests.includes(`        alertname: ${alert}\n        exp_alerts:\n          - exp_labels:`),
      `${alert} is tested firing`,
    );
});

test('prometheus rules: the control: a rule that no longer fires on its state fails the test', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'appproxy-rules-'));
  try {
    const rules = readFileSync(join(monitoring, 'appproxy-alerts.yml'), 'utf8');
    const broken = rules.replace('expr: appproxy_traefik_stopped == 1', 'expr: appproxy_traefik_stopped == 2');
    assert.notEqual(broken, rules);
    writeFileSync(join(dir, 'appproxy-alerts.yml'), broken);
    copyFileSync(join(monitoring, 'appproxy-alerts.test.yml'), join(dir, 'appproxy-alerts.test.yml'));
    const tested = await promtool('test', 'rules', join(dir, 'appproxy-alerts.test.yml'));
    assert.equal(tested.ok, false, tested.output);
    assert.match(tested.output, /alertname: AppproxyTraefikStopped/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
